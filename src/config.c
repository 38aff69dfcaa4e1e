/*
 * Loading and validating scepd.conf with libconfig.  Every problem is
 * reported as "file:line: reason" so that an operator can fix it
 * before the server starts; unknown settings are errors, since a
 * misspelt name would otherwise be silently ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "alg.h"
#include "cfgutil.h"
#include "config.h"

#define CONFIG_MAX_WORKERS	64
#define CONFIG_MAX_BODY_LIMIT	(1024 * 1024)
#define CONFIG_MAX_QUEUE	4096
#define CONFIG_MIN_HEADER	4096
#define CONFIG_MAX_HEADER_LIMIT	(1024 * 1024)
#define CONFIG_MAX_CONNECTIONS	65536
#define CONFIG_MAX_TIMEOUT	3600	/* seconds */

/* Reads a list of algorithm names into a bit set. */
static int
config_alg_list(struct cfgutil *cx, const config_setting_t *g,
    const char *name, unsigned (*lookup)(const char *), unsigned *out)
{
	config_setting_t	*m, *e;
	const char		*v;
	unsigned		 bit, bits = 0;
	int			 i;

	if (g == NULL || (m = config_setting_get_member(g, name)) == NULL)
		return 0;
	if (!config_setting_is_array(m) && !config_setting_is_list(m))
		return cfgutil_fail(cx, m, "algorithms.%s must be a list of "
		    "strings", name);
	for (i = 0; (e = config_setting_get_elem(m, (unsigned)i)) != NULL;
	    i++) {
		if ((v = config_setting_get_string(e)) == NULL)
			return cfgutil_fail(cx, e, "algorithms.%s must be a "
			    "list of strings", name);
		if ((bit = lookup(v)) == 0 || bit == ALG_CIPHER_DES)
			return cfgutil_fail(cx, e, "algorithms.%s: unknown or "
			    "unsupported algorithm \"%s\"%s", name, v,
			    bit == ALG_CIPHER_DES ? " (single DES is enabled "
			    "by algorithms.legacy_des)" : "");
		bits |= bit;
	}
	if (bits == 0)
		return cfgutil_fail(cx, m, "algorithms.%s must not be empty",
		    name);
	*out = bits;
	return 0;
}

static int
config_load_keyref(struct cfgutil *cx, const config_setting_t *g,
    const char *name, struct keyref *ref)
{
	config_setting_t	*m;
	char			*uri = NULL;
	char			 why[256];
	int			 rc;

	if (cfgutil_string(cx, g, "hsm", name, 1, &uri) == -1)
		return -1;
	m = config_setting_get_member(g, name);
	rc = keyref_parse(uri, ref, why, sizeof(why));
	free(uri);
	if (rc == -1)
		return cfgutil_fail(cx, m, "hsm.%s: %s", name, why);
	return 0;
}

static int
config_load_env(struct cfgutil *cx, const config_setting_t *g,
    struct hsm_config *hsm)
{
	config_setting_t	*m, *e;
	const char		*v;
	int			 i, n;

	if ((m = config_setting_get_member(g, "environment")) == NULL)
		return 0;
	if (!config_setting_is_group(m))
		return cfgutil_fail(cx, m, "hsm.environment must be a group "
		    "{ NAME = \"value\"; }");
	n = config_setting_length(m);
	if ((hsm->env = calloc((size_t)n + 1, sizeof(*hsm->env))) == NULL)
		return cfgutil_fail(cx, m, "out of memory");
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(m, (unsigned)i);
		if ((v = config_setting_get_string(e)) == NULL)
			return cfgutil_fail(cx, e, "hsm.environment.%s must be "
			    "a string", config_setting_name(e));
		hsm->env[i].name = strdup(config_setting_name(e));
		hsm->env[i].value = strdup(v);
		hsm->n_env++;
		if (hsm->env[i].name == NULL || hsm->env[i].value == NULL)
			return cfgutil_fail(cx, e, "out of memory");
	}
	return 0;
}

static int
config_load_hsm(struct cfgutil *cx, const config_setting_t *root,
    struct hsm_config *hsm)
{
	static const char *const names[] = { "module", "token", "pin_file",
	    "pin_env", "ca_key", "ra_key", "lock_file", "lock_timeout",
	    "pin_retry_interval", "softhsm_tokens", "softhsm_backup",
	    "environment", "call_timeout", "key_processes", NULL };
	config_setting_t *g;
	const char	*base;

	if (cfgutil_group(cx, root, "hsm", 1, &g) == -1)
		return -1;
	if (cfgutil_check_names(cx, g, "hsm", names) == -1 ||
	    cfgutil_path(cx, g, "hsm", "module", 1, &hsm->module) == -1 ||
	    cfgutil_string(cx, g, "hsm", "token", 1, &hsm->token_label) == -1 ||
	    cfgutil_path(cx, g, "hsm", "pin_file", 0, &hsm->pin_file) == -1 ||
	    cfgutil_string(cx, g, "hsm", "pin_env", 0, &hsm->pin_env) == -1 ||
	    config_load_keyref(cx, g, "ca_key", &hsm->ca_key) == -1 ||
	    config_load_keyref(cx, g, "ra_key", &hsm->ra_key) == -1 ||
	    cfgutil_path(cx, g, "hsm", "lock_file", 1, &hsm->lock_file) == -1 ||
	    cfgutil_int(cx, g, "hsm", "lock_timeout", 1, 3600,
	    &hsm->lock_timeout) == -1 ||
	    cfgutil_int(cx, g, "hsm", "pin_retry_interval", 0, 86400,
	    &hsm->pin_retry_interval) == -1 ||
	    cfgutil_int(cx, g, "hsm", "call_timeout", 1, 3600,
	    &hsm->call_timeout) == -1 ||
	    cfgutil_int(cx, g, "hsm", "key_processes", 1,
	    HSM_MAX_KEY_PROCESSES, &hsm->key_processes) == -1 ||
	    cfgutil_path(cx, g, "hsm", "softhsm_tokens", 0,
	    &hsm->softhsm_tokens) == -1 ||
	    cfgutil_path(cx, g, "hsm", "softhsm_backup", 0,
	    &hsm->softhsm_backup) == -1 ||
	    config_load_env(cx, g, hsm) == -1)
		return -1;
	if ((hsm->pin_file == NULL) == (hsm->pin_env == NULL))
		return cfgutil_fail(cx, g, "hsm needs exactly one of pin_file "
		    "and pin_env");
	if ((hsm->softhsm_tokens == NULL) != (hsm->softhsm_backup == NULL))
		return cfgutil_fail(cx, g, "hsm.softhsm_tokens and "
		    "hsm.softhsm_backup go together");
	/* Measured: 3 processes logging in and signing at once on one
	 * token failed 31 of 450 rounds. */
	base = strrchr(hsm->module, '/');
	base = base != NULL ? base + 1 : hsm->module;
	if (hsm->key_processes > 1 && strstr(base, "softhsm") != NULL)
		return cfgutil_fail(cx, g, "hsm.key_processes must be 1 for "
		    "SoftHSM2, which rewrites its token file at every login "
		    "and cannot be logged in to by two processes at once");
	return 0;
}

/* Reads the whole file into arg, a struct scepd_config. */
static int
config_load_limits(struct cfgutil *cx, const config_setting_t *root,
    struct limits_config *lim)
{
	static const char *const names[] = { "challenge_hashes",
	    "client_failures", "failure_window", "malformed_events", NULL };
	config_setting_t	*g;

	if (cfgutil_group(cx, root, "limits", 0, &g) == -1)
		return -1;
	if (g == NULL)
		return 0;
	if (cfgutil_check_names(cx, g, "limits", names) == -1 ||
	    cfgutil_int(cx, g, "limits", "challenge_hashes", 1, 64,
	    &lim->challenge_hashes) == -1 ||
	    cfgutil_int(cx, g, "limits", "client_failures", 1, 1000000,
	    &lim->client_failures) == -1 ||
	    cfgutil_int(cx, g, "limits", "failure_window", 1, 86400,
	    &lim->failure_window) == -1 ||
	    cfgutil_int(cx, g, "limits", "malformed_events", 0, 1000000,
	    &lim->malformed_events) == -1)
		return -1;
	return 0;
}

static int
config_load_root(struct cfgutil *cx, const config_setting_t *root, void *arg)
{
	struct scepd_config	*cfg = arg;
	static const char *const top[] = { "server", "database", "hsm",
	    "ca", "policy", "algorithms", "limits", NULL };
	static const char *const server[] = { "listen", "workers",
	    "queue_length", "max_body", "max_header", "max_connections",
	    "max_connections_per_client", "request_timeout", "idle_timeout",
	    "user", NULL };
	static const char *const database[] = { "path", NULL };
	static const char *const ca[] = { "certificate", "ra_certificate",
	    NULL };
	static const char *const policy[] = { "file", "audit_log", NULL };
	static const char *const algs[] = { "ciphers", "digests",
	    "legacy_des", NULL };
	config_setting_t	*g;
	char			 host[64];
	uint16_t		 port;
	int			 max_body = CONFIG_DEFAULT_MAX_BODY;
	int			 max_header = CONFIG_DEFAULT_MAX_HEADER;
	int			 legacy_des = 0;

	if (cfgutil_check_names(cx, root, "", top) == -1)
		return -1;

	if (cfgutil_group(cx, root, "server", 0, &g) == -1)
		return -1;
	if (g != NULL && (cfgutil_check_names(cx, g, "server", server) == -1 ||
	    cfgutil_string(cx, g, "server", "listen", 0, &cfg->listen) == -1 ||
	    cfgutil_int(cx, g, "server", "workers", 1, CONFIG_MAX_WORKERS,
	    &cfg->workers) == -1 ||
	    cfgutil_int(cx, g, "server", "queue_length", 1, CONFIG_MAX_QUEUE,
	    &cfg->queue_length) == -1 ||
	    cfgutil_int(cx, g, "server", "max_body", 1024,
	    CONFIG_MAX_BODY_LIMIT, &max_body) == -1 ||
	    cfgutil_int(cx, g, "server", "max_header", CONFIG_MIN_HEADER,
	    CONFIG_MAX_HEADER_LIMIT, &max_header) == -1 ||
	    cfgutil_int(cx, g, "server", "max_connections", 1,
	    CONFIG_MAX_CONNECTIONS, &cfg->max_connections) == -1 ||
	    cfgutil_int(cx, g, "server", "max_connections_per_client", 1,
	    CONFIG_MAX_CONNECTIONS, &cfg->max_connections_per_client) == -1 ||
	    cfgutil_int(cx, g, "server", "request_timeout", 1,
	    CONFIG_MAX_TIMEOUT, &cfg->request_timeout) == -1 ||
	    cfgutil_int(cx, g, "server", "idle_timeout", 1,
	    CONFIG_MAX_TIMEOUT, &cfg->idle_timeout) == -1 ||
	    cfgutil_string(cx, g, "server", "user", 0, &cfg->user) == -1))
		return -1;
	cfg->max_body = (size_t)max_body;
	cfg->max_header = (size_t)max_header;

	if (cfgutil_group(cx, root, "database", 1, &g) == -1 ||
	    cfgutil_check_names(cx, g, "database", database) == -1 ||
	    cfgutil_path(cx, g, "database", "path", 1, &cfg->db_path) == -1)
		return -1;

	if (config_load_hsm(cx, root, &cfg->hsm) == -1 ||
	    config_load_limits(cx, root, &cfg->limits) == -1)
		return -1;

	if (cfgutil_group(cx, root, "ca", 1, &g) == -1 ||
	    cfgutil_check_names(cx, g, "ca", ca) == -1 ||
	    cfgutil_path(cx, g, "ca", "certificate", 1,
	    &cfg->ca_cert_file) == -1 ||
	    cfgutil_path(cx, g, "ca", "ra_certificate", 1,
	    &cfg->ra_cert_file) == -1)
		return -1;

	if (cfgutil_group(cx, root, "policy", 1, &g) == -1 ||
	    cfgutil_check_names(cx, g, "policy", policy) == -1 ||
	    cfgutil_path(cx, g, "policy", "file", 1, &cfg->policy_file) == -1 ||
	    cfgutil_path(cx, g, "policy", "audit_log", 0,
	    &cfg->audit_log) == -1)
		return -1;

	if (cfgutil_group(cx, root, "algorithms", 0, &g) == -1)
		return -1;
	if (g != NULL && (cfgutil_check_names(cx, g, "algorithms",
	    algs) == -1 ||
	    config_alg_list(cx, g, "ciphers", alg_cipher_from_name,
	    &cfg->ciphers) == -1 ||
	    config_alg_list(cx, g, "digests", alg_digest_from_name,
	    &cfg->digests) == -1 ||
	    cfgutil_bool(cx, g, "algorithms", "legacy_des", &legacy_des) == -1))
		return -1;
	if (legacy_des)
		cfg->ciphers |= ALG_CIPHER_DES;
	if (cfg->listen == NULL && (cfg->listen = strdup(
	    CONFIG_DEFAULT_LISTEN)) == NULL)
		return cfgutil_fail(cx, NULL, "out of memory");
	if (config_split_listen(cfg->listen, host, sizeof(host), &port) == -1)
		return cfgutil_fail(cx, config_setting_lookup((config_setting_t *)root,
		    "server.listen"), "server.listen \"%s\" is not ADDR:PORT "
		    "(numeric, e.g. 127.0.0.1:8080 or [::1]:8080)",
		    cfg->listen);
	return 0;
}

static void
config_defaults(struct scepd_config *cfg)
{
	cfg->workers = CONFIG_DEFAULT_WORKERS;
	cfg->queue_length = CONFIG_DEFAULT_QUEUE_LENGTH;
	cfg->max_body = CONFIG_DEFAULT_MAX_BODY;
	cfg->max_header = CONFIG_DEFAULT_MAX_HEADER;
	cfg->max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS;
	cfg->max_connections_per_client = CONFIG_DEFAULT_MAX_PER_CLIENT;
	cfg->request_timeout = CONFIG_DEFAULT_REQUEST_TIMEOUT;
	cfg->idle_timeout = CONFIG_DEFAULT_IDLE_TIMEOUT;
	cfg->hsm.lock_timeout = CONFIG_DEFAULT_LOCK_TIMEOUT;
	cfg->hsm.pin_retry_interval = CONFIG_DEFAULT_PIN_RETRY;
	cfg->hsm.call_timeout = CONFIG_DEFAULT_CALL_TIMEOUT;
	cfg->hsm.key_processes = 1;
	cfg->limits.challenge_hashes = CONFIG_DEFAULT_CHALLENGE_HASHES;
	cfg->limits.client_failures = CONFIG_DEFAULT_CLIENT_FAILURES;
	cfg->limits.failure_window = CONFIG_DEFAULT_FAILURE_WINDOW;
	cfg->limits.malformed_events = CONFIG_DEFAULT_MALFORMED_EVENTS;
	cfg->ciphers = ALG_CIPHER_AES128 | ALG_CIPHER_AES192 |
	    ALG_CIPHER_AES256 | ALG_CIPHER_DES3;
	cfg->digests = ALG_DIGEST_SHA1 | ALG_DIGEST_SHA256 |
	    ALG_DIGEST_SHA512;
}

struct scepd_config *
config_load(const char *path, char *err, size_t errlen)
{
	struct scepd_config	*cfg;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	config_defaults(cfg);
	if (cfgutil_load(path, err, errlen, config_load_root, cfg,
	    &cfg->path) == -1) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct scepd_config *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->listen);
	free(cfg->user);
	free(cfg->db_path);
	free(cfg->hsm.module);
	free(cfg->hsm.token_label);
	free(cfg->hsm.pin_file);
	free(cfg->hsm.pin_env);
	free(cfg->hsm.softhsm_tokens);
	free(cfg->hsm.softhsm_backup);
	keyref_clear(&cfg->hsm.ca_key);
	keyref_clear(&cfg->hsm.ra_key);
	free(cfg->hsm.lock_file);
	for (i = 0; i < cfg->hsm.n_env; i++) {
		free(cfg->hsm.env[i].name);
		free(cfg->hsm.env[i].value);
	}
	free(cfg->hsm.env);
	free(cfg->ca_cert_file);
	free(cfg->ra_cert_file);
	free(cfg->policy_file);
	free(cfg->audit_log);
	free(cfg);
}

int
config_split_listen(const char *listen, char *host, size_t hostlen,
    uint16_t *port)
{
	const char	*colon, *h;
	size_t		 hlen;
	char		*end;
	long		 p;

	if (listen[0] == '[') {
		if ((colon = strstr(listen, "]:")) == NULL)
			return -1;
		h = listen + 1;
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL)
			return -1;
		h = listen;
		hlen = (size_t)(colon - h);
	}
	if (hlen == 0 || hlen >= hostlen)
		return -1;
	/* Digits only: strtol would also take blanks and a sign. */
	if (colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1))
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || p > 65535)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}
