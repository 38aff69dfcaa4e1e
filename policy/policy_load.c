/*
 * Reading a policy file (libconfig): challenges, profiles and rules,
 * each checked as it is read, every mistake reported as
 * "file:line: reason".  A policy that loads is complete: every name a
 * rule uses exists, every pattern compiles.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "cfgutil.h"
#include "challenge.h"
#include "files.h"
#include "issue.h"
#include "log.h"
#include "policy.h"

#define POLICY_MAX_VALIDITY	(100 * 366)
#define POLICY_HMAC_KEY_MIN	16
#define POLICY_HMAC_KEY_MAX	1024
#define POLICY_WEBHOOK_TIMEOUT	5
#define POLICY_WEBHOOK_MAX	60
#define POLICY_MAX_ARGS		32

/* The length of a config list or array; -1 (reported) otherwise. */
static int
policy_list_len(struct cfgutil *cx, const config_setting_t *m,
    const char *what)
{
	if (!config_setting_is_array(m) && !config_setting_is_list(m))
		return cfgutil_fail(cx, m, "%s must be a list [ ... ]", what);
	return config_setting_length(m);
}

/*
 * The strings of list member name of g (absent: *n = 0 and *out NULL;
 * empty, if allowed: *n = 0 and *out an empty array).
 */
static int
policy_strings(struct cfgutil *cx, const config_setting_t *g,
    const char *name, const char *what, int allow_empty, char ***out,
    size_t *n)
{
	config_setting_t	*m, *e;
	const char		*v;
	int			 len, i;

	*out = NULL;
	*n = 0;
	if ((m = config_setting_get_member(g, name)) == NULL)
		return 0;
	if ((len = policy_list_len(cx, m, what)) == -1)
		return -1;
	if (len == 0 && !allow_empty)
		return cfgutil_fail(cx, m, "%s must not be empty", what);
	if ((*out = calloc((size_t)len + 1, sizeof(char *))) == NULL)
		return cfgutil_fail(cx, m, "out of memory");
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(m, (unsigned)i);
		if ((v = config_setting_get_string(e)) == NULL || *v == '\0')
			return cfgutil_fail(cx, e, "%s must hold non-empty "
			    "strings", what);
		if (((*out)[i] = strdup(v)) == NULL)
			return cfgutil_fail(cx, e, "out of memory");
		(*n)++;
	}
	return 0;
}

static void
policy_strings_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static int
policy_name(struct cfgutil *cx, const config_setting_t *s, const char *name,
    char *out)
{
	size_t	i, len = strlen(name);

	if (len == 0 || len >= POLICY_NAME_MAX)
		return cfgutil_fail(cx, s, "name \"%s\" must be 1 to %d "
		    "characters", name, POLICY_NAME_MAX - 1);
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '-' || name[i] == '_' || name[i] == '.'))
			return cfgutil_fail(cx, s, "name \"%s\" may only hold "
			    "letters, digits, '-', '_' and '.'", name);
	memcpy(out, name, len + 1);
	return 0;
}

/* --- challenges ------------------------------------------------------ */

static int
policy_load_webhook(struct cfgutil *cx, const config_setting_t *g,
    struct policy_challenge *c, const char *where)
{
	char	*url = NULL, *on_error = NULL;
	size_t	 nargs = 0;
	int	 rc = -1;

	c->timeout = POLICY_WEBHOOK_TIMEOUT;
	if (cfgutil_string(cx, g, where, "url", 0, &url) == -1 ||
	    policy_strings(cx, g, "command", "command", 0, &c->command,
	    &nargs) == -1 ||
	    cfgutil_int(cx, g, where, "timeout", 1, POLICY_WEBHOOK_MAX,
	    &c->timeout) == -1 ||
	    cfgutil_string(cx, g, where, "on_error", 0, &on_error) == -1)
		goto out;
	if ((url == NULL) == (c->command == NULL)) {
		cfgutil_fail(cx, g, "%s needs exactly one of url and command",
		    where);
		goto out;
	}
	if (url != NULL && strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		cfgutil_fail(cx, config_setting_get_member(g, "url"),
		    "%s.url must be an http:// or https:// URL", where);
		goto out;
	}
	if (nargs > POLICY_MAX_ARGS || (c->command != NULL &&
	    c->command[0][0] != '/')) {
		cfgutil_fail(cx, config_setting_get_member(g, "command"),
		    "%s.command must start with an absolute path and have at "
		    "most %d words", where, POLICY_MAX_ARGS);
		goto out;
	}
	if (on_error != NULL && strcmp(on_error, "allow") == 0)
		c->allow_on_error = 1;
	else if (on_error != NULL && strcmp(on_error, "deny") != 0) {
		cfgutil_fail(cx, config_setting_get_member(g, "on_error"),
		    "%s.on_error must be \"deny\" or \"allow\"", where);
		goto out;
	}
	c->url = url;
	url = NULL;
	rc = 0;
 out:
	free(url);
	free(on_error);
	return rc;
}

static int
policy_load_hmac(struct cfgutil *cx, const config_setting_t *g,
    struct policy_challenge *c, const char *where)
{
	char	*path = NULL, *secret = NULL;
	int	 rc = -1;

	if (cfgutil_path(cx, g, where, "secret_file", 1, &path) == -1)
		return -1;
	if ((secret = files_read_secret_new(path, POLICY_HMAC_KEY_MAX)) ==
	    NULL) {
		cfgutil_fail(cx, config_setting_get_member(g, "secret_file"),
		    "%s.secret_file %s cannot be read (see the log)", where,
		    path);
		goto out;
	}
	if (strlen(secret) < POLICY_HMAC_KEY_MIN) {
		cfgutil_fail(cx, config_setting_get_member(g, "secret_file"),
		    "%s: the secret must have at least %d characters", where,
		    POLICY_HMAC_KEY_MIN);
		goto out;
	}
	c->hmac_key_len = strlen(secret);
	c->hmac_key = (unsigned char *)secret;
	secret = NULL;
	rc = 0;
 out:
	free(path);
	if (secret != NULL) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	return rc;
}

static int
policy_load_challenge(struct cfgutil *cx, config_setting_t *g,
    struct policy_challenge *c)
{
	static const char *const names[] = { "kind", "hash", "secret_file",
	    "url", "command", "timeout", "on_error", NULL };
	char	 where[POLICY_NAME_MAX + 16];
	char	*kind = NULL, *hash = NULL;
	int	 rc = -1;

	if (!config_setting_is_group(g))
		return cfgutil_fail(cx, g, "challenge %s must be a group "
		    "{ kind = ...; }", config_setting_name(g));
	if (policy_name(cx, g, config_setting_name(g), c->name) == -1)
		return -1;
	snprintf(where, sizeof(where), "challenges.%s", c->name);
	if (cfgutil_check_names(cx, g, where, names) == -1 ||
	    cfgutil_string(cx, g, where, "kind", 1, &kind) == -1)
		goto out;
	if (strcmp(kind, "static") == 0) {
		c->kind = POLICY_CHALLENGE_STATIC;
		if (cfgutil_string(cx, g, where, "hash", 1, &hash) == -1)
			goto out;
		if ((c->verifier = challenge_verifier_new(hash)) == NULL) {
			cfgutil_fail(cx, config_setting_get_member(g, "hash"),
			    "%s.hash must be a \"$scrypt$...\" hash (make one "
			    "with: scepctl challenge hash)", where);
			goto out;
		}
	} else if (strcmp(kind, "otp") == 0)
		c->kind = POLICY_CHALLENGE_OTP;
	else if (strcmp(kind, "hmac") == 0) {
		c->kind = POLICY_CHALLENGE_HMAC;
		if (policy_load_hmac(cx, g, c, where) == -1)
			goto out;
	} else if (strcmp(kind, "webhook") == 0) {
		c->kind = POLICY_CHALLENGE_WEBHOOK;
		if (policy_load_webhook(cx, g, c, where) == -1)
			goto out;
	} else {
		cfgutil_fail(cx, config_setting_get_member(g, "kind"),
		    "%s.kind must be static, otp, hmac or webhook", where);
		goto out;
	}
	rc = 0;
 out:
	free(kind);
	free(hash);
	return rc;
}

static int
policy_load_challenges(struct cfgutil *cx, const config_setting_t *root,
    struct policy *pol)
{
	config_setting_t	*g;
	int			 n, i;

	if (cfgutil_group(cx, root, "challenges", 0, &g) == -1)
		return -1;
	if (g == NULL)
		return 0;
	n = config_setting_length(g);
	if ((pol->challenges = calloc((size_t)n + 1,
	    sizeof(*pol->challenges))) == NULL)
		return cfgutil_fail(cx, g, "out of memory");
	for (i = 0; i < n; i++) {
		pol->n_challenges++;	/* freed by policy_free() on failure */
		if (policy_load_challenge(cx, config_setting_get_elem(g,
		    (unsigned)i), &pol->challenges[i]) == -1)
			return -1;
	}
	return 0;
}

/* --- profiles -------------------------------------------------------- */

static int
policy_load_key_usage(struct cfgutil *cx, const config_setting_t *g,
    struct issue_profile *pf)
{
	char		**v = NULL;
	size_t		 n = 0, i;
	unsigned	 bit;
	int		 rc = -1;

	if (policy_strings(cx, g, "key_usage", "key_usage", 1, &v, &n) == -1)
		goto out;
	if (v != NULL)
		pf->key_usage = 0;
	for (i = 0; i < n; i++) {
		if ((bit = issue_key_usage_bit(v[i])) == 0) {
			cfgutil_fail(cx, config_setting_get_member(g,
			    "key_usage"), "unknown key_usage \"%s\" "
			    "(digitalSignature, nonRepudiation, "
			    "keyEncipherment, dataEncipherment, keyAgreement)",
			    v[i]);
			goto out;
		}
		pf->key_usage |= bit;
	}
	rc = 0;
 out:
	policy_strings_free(v, n);
	return rc;
}

static int
policy_load_eku(struct cfgutil *cx, const config_setting_t *g,
    struct issue_profile *pf)
{
	char		**v = NULL;
	size_t		 n = 0, i;
	ASN1_OBJECT	*obj;
	int		 rc = -1;

	if (policy_strings(cx, g, "extended_key_usage", "extended_key_usage",
	    1, &v, &n) == -1)
		goto out;
	if (v != NULL)
		pf->ext_key_usage[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((obj = OBJ_txt2obj(v[i], 0)) == NULL ||
		    strchr(v[i], ',') != NULL) {
			log_ssl_clear();
			cfgutil_fail(cx, config_setting_get_member(g,
			    "extended_key_usage"), "unknown extended key "
			    "usage \"%s\"", v[i]);
			goto out;
		}
		ASN1_OBJECT_free(obj);
		if (i > 0)
			strncat(pf->ext_key_usage, ",", sizeof(
			    pf->ext_key_usage) - strlen(pf->ext_key_usage) - 1);
		strncat(pf->ext_key_usage, v[i], sizeof(pf->ext_key_usage) -
		    strlen(pf->ext_key_usage) - 1);
	}
	rc = 0;
 out:
	policy_strings_free(v, n);
	return rc;
}

static int
policy_load_san_types(struct cfgutil *cx, const config_setting_t *g,
    struct issue_profile *pf)
{
	char	**v = NULL;
	size_t	  n = 0, i;
	int	  rc = -1;

	if (policy_strings(cx, g, "san_types", "san_types", 1, &v, &n) == -1)
		goto out;
	if (v != NULL)
		pf->san_types = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i], "dns") == 0)
			pf->san_types |= ISSUE_SAN_DNS;
		else if (strcmp(v[i], "ip") == 0)
			pf->san_types |= ISSUE_SAN_IP;
		else if (strcmp(v[i], "email") == 0)
			pf->san_types |= ISSUE_SAN_EMAIL;
		else if (strcmp(v[i], "uri") == 0)
			pf->san_types |= ISSUE_SAN_URI;
		else {
			cfgutil_fail(cx, config_setting_get_member(g,
			    "san_types"), "unknown san_types \"%s\" (dns, ip, "
			    "email, uri)", v[i]);
			goto out;
		}
	}
	rc = 0;
 out:
	policy_strings_free(v, n);
	return rc;
}

static int
policy_load_profile(struct cfgutil *cx, config_setting_t *g,
    struct policy_profile *p)
{
	static const char *const names[] = { "validity_days", "key_usage",
	    "extended_key_usage", "san_types", "subject_suffix", NULL };
	char	 where[POLICY_NAME_MAX + 16];
	char	*suffix = NULL;
	int	 days = 365, rc = -1;

	if (!config_setting_is_group(g))
		return cfgutil_fail(cx, g, "profile %s must be a group",
		    config_setting_name(g));
	if (policy_name(cx, g, config_setting_name(g), p->name) == -1)
		return -1;
	snprintf(where, sizeof(where), "profiles.%s", p->name);
	if (cfgutil_check_names(cx, g, where, names) == -1 ||
	    cfgutil_int(cx, g, where, "validity_days", 1, POLICY_MAX_VALIDITY,
	    &days) == -1)
		goto out;
	issue_profile_default(&p->issue, days);
	if (policy_load_key_usage(cx, g, &p->issue) == -1 ||
	    policy_load_eku(cx, g, &p->issue) == -1 ||
	    policy_load_san_types(cx, g, &p->issue) == -1 ||
	    cfgutil_string(cx, g, where, "subject_suffix", 0, &suffix) == -1)
		goto out;
	if (suffix != NULL && (p->issue.subject_suffix =
	    certbuild_name_parse(suffix)) == NULL) {
		cfgutil_fail(cx, config_setting_get_member(g,
		    "subject_suffix"), "%s.subject_suffix is not a "
		    "distinguished name", where);
		goto out;
	}
	rc = 0;
 out:
	free(suffix);
	return rc;
}

static int
policy_load_profiles(struct cfgutil *cx, const config_setting_t *root,
    struct policy *pol)
{
	config_setting_t	*g;
	int			 n, i;

	if (cfgutil_group(cx, root, "profiles", 0, &g) == -1)
		return -1;
	if (g == NULL)
		return 0;
	n = config_setting_length(g);
	if ((pol->profiles = calloc((size_t)n + 1,
	    sizeof(*pol->profiles))) == NULL)
		return cfgutil_fail(cx, g, "out of memory");
	for (i = 0; i < n; i++) {
		pol->n_profiles++;	/* freed by policy_free() on failure */
		if (policy_load_profile(cx, config_setting_get_elem(g,
		    (unsigned)i), &pol->profiles[i]) == -1)
			return -1;
	}
	return 0;
}

/* --- rules ----------------------------------------------------------- */

static int
policy_load_cidrs(struct cfgutil *cx, const config_setting_t *g,
    const char *name, struct policy_cidr **out, size_t *n)
{
	char	**v = NULL;
	size_t	  nv = 0, i;
	int	  rc = -1;

	*out = NULL;
	*n = 0;
	if (policy_strings(cx, g, name, name, 0, &v, &nv) == -1)
		goto out;
	if (nv == 0) {
		rc = 0;
		goto out;
	}
	if ((*out = calloc(nv, sizeof(**out))) == NULL)
		goto out;
	for (i = 0; i < nv; i++) {
		if (policy_cidr_parse(v[i], &(*out)[i]) == -1) {
			cfgutil_fail(cx, config_setting_get_member(g, name),
			    "%s: \"%s\" is not an address or CIDR block",
			    name, v[i]);
			goto out;
		}
		(*n)++;
	}
	rc = 0;
 out:
	policy_strings_free(v, nv);
	return rc;
}

static int
policy_load_key_types(struct cfgutil *cx, const config_setting_t *g,
    struct policy_rule *r)
{
	char	**v = NULL;
	size_t	  n = 0, i;
	int	  rc = -1;

	if (policy_strings(cx, g, "key_types", "key_types", 0, &v, &n) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i], "rsa") == 0)
			r->key_types |= POLICY_KEY_RSA;
		else if (strcmp(v[i], "ec") == 0)
			r->key_types |= POLICY_KEY_EC;
		else {
			cfgutil_fail(cx, config_setting_get_member(g,
			    "key_types"), "key_types: \"%s\" is not rsa or ec",
			    v[i]);
			goto out;
		}
	}
	rc = 0;
 out:
	policy_strings_free(v, n);
	return rc;
}

/* The match conditions of a rule. */
static int
policy_load_match(struct cfgutil *cx, config_setting_t *g,
    struct policy_rule *r, const char *where)
{
	char	*request = NULL, errbuf[128];
	int	 e, rc = -1;

	if (cfgutil_string(cx, g, where, "subject", 0,
	    &r->subject_text) == -1)
		goto out;
	if (r->subject_text != NULL) {
		if ((e = regcomp(&r->subject, r->subject_text,
		    REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(e, &r->subject, errbuf, sizeof(errbuf));
			cfgutil_fail(cx, config_setting_get_member(g,
			    "subject"), "%s.subject: %s", where, errbuf);
			goto out;
		}
		r->has_subject = 1;
	}
	if (policy_strings(cx, g, "san_dns", "san_dns", 0, &r->san_dns,
	    &r->n_san_dns) == -1 ||
	    policy_strings(cx, g, "san_email", "san_email", 0, &r->san_email,
	    &r->n_san_email) == -1 ||
	    policy_strings(cx, g, "san_uri", "san_uri", 0, &r->san_uri,
	    &r->n_san_uri) == -1 ||
	    policy_load_cidrs(cx, g, "san_ip", &r->san_ip, &r->n_san_ip) == -1 ||
	    policy_load_cidrs(cx, g, "client", &r->clients,
	    &r->n_clients) == -1 ||
	    policy_load_key_types(cx, g, r) == -1 ||
	    cfgutil_int(cx, g, where, "min_rsa_bits", 1024, 16384,
	    &r->min_rsa_bits) == -1 ||
	    cfgutil_int(cx, g, where, "min_ec_bits", 256, 521,
	    &r->min_ec_bits) == -1 ||
	    cfgutil_string(cx, g, where, "request", 0, &request) == -1)
		goto out;
	if (request == NULL || strcmp(request, "any") == 0)
		r->request = POLICY_REQUEST_ANY;
	else if (strcmp(request, "initial") == 0)
		r->request = POLICY_REQUEST_INITIAL;
	else if (strcmp(request, "renewal") == 0)
		r->request = POLICY_REQUEST_RENEWAL;
	else {
		cfgutil_fail(cx, config_setting_get_member(g, "request"),
		    "%s.request must be initial, renewal or any", where);
		goto out;
	}
	rc = 0;
 out:
	free(request);
	return rc;
}

/* What a rule requires and does. */
static int
policy_load_then(struct cfgutil *cx, config_setting_t *g,
    struct policy_rule *r, const struct policy *pol, const char *where)
{
	char	*challenge = NULL, *action = NULL, *profile = NULL;
	int	 rc = -1;

	if (cfgutil_string(cx, g, where, "challenge", 1, &challenge) == -1 ||
	    cfgutil_string(cx, g, where, "action", 1, &action) == -1 ||
	    cfgutil_string(cx, g, where, "profile", 0, &profile) == -1 ||
	    cfgutil_string(cx, g, where, "reason", 0,
	    &r->reject_reason) == -1 ||
	    cfgutil_int(cx, g, where, "max_active", 1, 1000000,
	    &r->max_active) == -1 ||
	    cfgutil_bool(cx, g, where, "fall_through", &r->fall_through) == -1)
		goto out;
	if (strcmp(challenge, "none") != 0 &&
	    (r->challenge = policy_challenge_find(pol, challenge)) == NULL) {
		cfgutil_fail(cx, config_setting_get_member(g, "challenge"),
		    "%s: no challenge named \"%s\" (or \"none\")", where,
		    challenge);
		goto out;
	}
	if (strcmp(action, "issue") == 0)
		r->action = POLICY_ISSUE;
	else if (strcmp(action, "pending") == 0)
		r->action = POLICY_PENDING;
	else if (strcmp(action, "reject") == 0)
		r->action = POLICY_REJECT;
	else {
		cfgutil_fail(cx, config_setting_get_member(g, "action"),
		    "%s.action must be issue, pending or reject", where);
		goto out;
	}
	if (r->action != POLICY_REJECT) {
		if ((r->profile = policy_profile_find(pol, profile ? profile :
		    "default")) == NULL) {
			cfgutil_fail(cx, profile ? config_setting_get_member(g,
			    "profile") : g, "%s: no profile named \"%s\"",
			    where, profile ? profile : "default");
			goto out;
		}
	} else if (profile != NULL || r->max_active != 0) {
		cfgutil_fail(cx, g, "%s: a reject rule takes no profile or "
		    "max_active", where);
		goto out;
	}
	if (r->fall_through && r->challenge == NULL) {
		cfgutil_fail(cx, config_setting_get_member(g, "fall_through"),
		    "%s: fall_through needs a challenge to fall through on",
		    where);
		goto out;
	}
	rc = 0;
 out:
	free(challenge);
	free(action);
	free(profile);
	return rc;
}

static int
policy_load_rule(struct cfgutil *cx, config_setting_t *g,
    struct policy_rule *r, const struct policy *pol, size_t index)
{
	static const char *const names[] = { "name", "subject", "san_dns",
	    "san_email", "san_uri", "san_ip", "key_types", "min_rsa_bits", "min_ec_bits", "request",
	    "client", "challenge", "action", "profile", "reason",
	    "max_active", "fall_through", NULL };
	char	 where[POLICY_NAME_MAX + 16];
	char	*name = NULL;
	size_t	 i;
	int	 rc = -1;

	r->line = config_setting_source_line(g);
	if (!config_setting_is_group(g))
		return cfgutil_fail(cx, g, "rules must hold groups { ... }");
	if (cfgutil_string(cx, g, "rule", "name", 1, &name) == -1 ||
	    policy_name(cx, config_setting_get_member(g, "name"), name,
	    r->name) == -1)
		goto out;
	for (i = 0; i < index; i++)
		if (strcmp(pol->rules[i].name, r->name) == 0) {
			cfgutil_fail(cx, g, "a second rule named \"%s\"",
			    r->name);
			goto out;
		}
	snprintf(where, sizeof(where), "rule %s", r->name);
	if (cfgutil_check_names(cx, g, where, names) == -1 ||
	    policy_load_match(cx, g, r, where) == -1 ||
	    policy_load_then(cx, g, r, pol, where) == -1)
		goto out;
	rc = 0;
 out:
	free(name);
	return rc;
}

static int
policy_load_rules(struct cfgutil *cx, const config_setting_t *root,
    struct policy *pol)
{
	config_setting_t	*g;
	int			 n, i;

	if ((g = config_setting_get_member(root, "rules")) == NULL)
		return cfgutil_fail(cx, NULL, "missing rules = ( ... )");
	if (!config_setting_is_list(g))
		return cfgutil_fail(cx, g, "rules must be a list ( {...}, "
		    "{...} )");
	if ((n = config_setting_length(g)) == 0)
		return cfgutil_fail(cx, g, "rules must not be empty");
	if ((pol->rules = calloc((size_t)n, sizeof(*pol->rules))) == NULL)
		return cfgutil_fail(cx, g, "out of memory");
	for (i = 0; i < n; i++) {
		pol->n_rules++;		/* freed by policy_free() on failure */
		if (policy_load_rule(cx, config_setting_get_elem(g,
		    (unsigned)i), &pol->rules[i], pol, (size_t)i) == -1)
			return -1;
	}
	return 0;
}

/* Reads the whole file into arg, a struct policy. */
static int
policy_load_root(struct cfgutil *cx, const config_setting_t *root, void *arg)
{
	struct policy	*pol = arg;
	static const char *const names[] = { "pending_expiry", "challenges",
	    "profiles", "rules", NULL };
	char	*expiry = NULL;
	int	 rc = -1;

	pol->pending_expiry = POLICY_DEFAULT_PENDING_EXPIRY;
	if (cfgutil_check_names(cx, root, "", names) == -1 ||
	    cfgutil_string(cx, root, "policy", "pending_expiry", 0,
	    &expiry) == -1)
		goto out;
	if (expiry != NULL &&
	    (pol->pending_expiry = policy_duration_parse(expiry)) <= 0) {
		cfgutil_fail(cx, config_setting_get_member(root,
		    "pending_expiry"), "pending_expiry must be a duration "
		    "like \"12h\" or \"7d\"");
		goto out;
	}
	if (policy_load_challenges(cx, root, pol) == -1 ||
	    policy_load_profiles(cx, root, pol) == -1 ||
	    policy_load_rules(cx, root, pol) == -1)
		goto out;
	rc = 0;
 out:
	free(expiry);
	return rc;
}

struct policy *
policy_load(const char *path, char *err, size_t errlen)
{
	struct policy	*pol;

	if ((pol = calloc(1, sizeof(*pol))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (cfgutil_load(path, err, errlen, policy_load_root, pol,
	    &pol->path) == -1) {
		policy_free(pol);
		return NULL;
	}
	return pol;
}

void
policy_free(struct policy *pol)
{
	struct policy_challenge	*c;
	struct policy_rule	*r;
	size_t			 i;

	if (pol == NULL)
		return;
	for (i = 0; i < pol->n_challenges; i++) {
		c = &pol->challenges[i];
		challenge_verifier_free(c->verifier);
		if (c->hmac_key != NULL) {
			OPENSSL_cleanse(c->hmac_key, c->hmac_key_len);
			free(c->hmac_key);
		}
		free(c->url);
		for (size_t j = 0; c->command != NULL && c->command[j]; j++)
			free(c->command[j]);
		free(c->command);
	}
	for (i = 0; i < pol->n_profiles; i++)
		issue_profile_clear(&pol->profiles[i].issue);
	for (i = 0; i < pol->n_rules; i++) {
		r = &pol->rules[i];
		if (r->has_subject)
			regfree(&r->subject);
		free(r->subject_text);
		policy_strings_free(r->san_dns, r->n_san_dns);
		policy_strings_free(r->san_email, r->n_san_email);
		policy_strings_free(r->san_uri, r->n_san_uri);
		free(r->san_ip);
		free(r->clients);
		free(r->reject_reason);
	}
	free(pol->challenges);
	free(pol->profiles);
	free(pol->rules);
	free(pol->path);
	free(pol);
}

const struct policy_challenge *
policy_challenge_find(const struct policy *pol, const char *name)
{
	size_t	i;

	for (i = 0; i < pol->n_challenges; i++)
		if (strcmp(pol->challenges[i].name, name) == 0)
			return &pol->challenges[i];
	return NULL;
}

const struct policy_profile *
policy_profile_find(const struct policy *pol, const char *name)
{
	size_t	i;

	for (i = 0; i < pol->n_profiles; i++)
		if (strcmp(pol->profiles[i].name, name) == 0)
			return &pol->profiles[i];
	return NULL;
}
