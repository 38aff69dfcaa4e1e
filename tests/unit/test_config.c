/*
 * scepd.conf: a complete file loads with every setting, defaults and
 * resolved paths; every mistake is refused with "file:line: reason".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alg.h"
#include "config.h"
#include "log.h"
#include "testutil.h"

#define DEFAULT_CIPHERS	(ALG_CIPHER_AES128 | ALG_CIPHER_AES192 | \
			 ALG_CIPHER_AES256 | ALG_CIPHER_DES3)
#define DEFAULT_DIGESTS	(ALG_DIGEST_SHA1 | ALG_DIGEST_SHA256 | \
			 ALG_DIGEST_SHA512)

/* A minimal valid file, one setting per line; tests refer to lines. */
static const char *const base[] = {
	"database = { path = \"db/scepd.db\"; };",		/* 1 */
	"hsm = {",						/* 2 */
	"  module = \"/usr/lib/softhsm/libsofthsm2.so\";",	/* 3 */
	"  token = \"scepd\";",					/* 4 */
	"  pin_file = \"pin\";",				/* 5 */
	"  ca_key = \"pkcs11:object=ca;id=%01%02\";",		/* 6 */
	"  ra_key = \"pkcs11:object=ra\";",			/* 7 */
	"  lock_file = \"/run/hsm.lock\";",			/* 8 */
	"};",							/* 9 */
	"ca = { certificate = \"ca.pem\"; ra_certificate = \"ra.pem\"; };",
	"policy = { file = \"policy.conf\"; };",		/* 11 */
	NULL,
};
#define BASE_LINES	11

static int
group_setup(void **state)
{
	(void)state;
	log_init("test_config", LOG_LEVEL_ERROR);
	return 0;
}

/*
 * The base file edited by edits, a NULL-ended list of "N=text"
 * (line N becomes text; "" blanks it, so that numbers stay) and
 * "N+text" (text goes after line N, which shifts later lines).
 */
static char *
conf(const char *const *edits)
{
	char		*out = NULL, *p;
	size_t		 len = 0;
	FILE		*fp = open_memstream(&out, &len);
	const char	*const *e;
	const char	*line;
	int		 n, at;

	assert_non_null(fp);
	for (n = 0; n <= BASE_LINES; n++) {
		line = n > 0 ? base[n - 1] : NULL;
		for (e = edits; e != NULL && *e != NULL; e++) {
			at = (int)strtol(*e, &p, 10);
			if (at == n && *p == '=')
				line = p + 1;
		}
		if (line != NULL)
			fprintf(fp, "%s\n", line);
		for (e = edits; e != NULL && *e != NULL; e++) {
			at = (int)strtol(*e, &p, 10);
			if (at == n && *p == '+')
				fprintf(fp, "%s\n", p + 1);
		}
	}
	fclose(fp);
	return out;
}

/* Writes text to a temporary file; its real path goes to *path. */
static char *
write_conf(const char *text)
{
	char	*tmp = tu_write_temp(text), *real;

	real = realpath(tmp, NULL);
	assert_non_null(real);
	free(tmp);
	return real;
}

static struct scepd_config *
load_edits(const char *const *edits, char **path)
{
	char			*text = conf(edits), err[1024];
	struct scepd_config	*cfg;

	*path = write_conf(text);
	free(text);
	if ((cfg = config_load(*path, err, sizeof(err))) == NULL)
		fail_msg("refused: %s", err);
	return cfg;
}

static void
drop(struct scepd_config *cfg, char *path)
{
	config_free(cfg);
	unlink(path);
	free(path);
}

/* The file made of edits is refused with "file:line: ...reason...". */
static void
expect_error(const char *const *edits, int line, const char *reason)
{
	char			*text = conf(edits), *path, err[1024];
	char			 want[PATH_MAX + 32];
	struct scepd_config	*cfg;

	path = write_conf(text);
	free(text);
	memset(err, 0, sizeof(err));
	cfg = config_load(path, err, sizeof(err));
	if (cfg != NULL) {
		drop(cfg, path);
		fail_msg("accepted, but want an error at line %d: %s", line,
		    reason);
	}
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
	else
		snprintf(want, sizeof(want), "%s: ", path);
	unlink(path);
	free(path);
	if (strncmp(err, want, strlen(want)) != 0 ||
	    strstr(err + strlen(want), reason) == NULL)
		fail_msg("got \"%s\", want \"%s...%s...\"", err, want, reason);
}

static void
test_config_loads_every_setting_of_a_complete_file(void **state)
{
	static const char *const edits[] = {
		"5=  pin_env = \"SCEPD_PIN\";",
		"8+  lock_timeout = 90;",
		"8+  pin_retry_interval = 0;",
		"8+  environment = { SOFTHSM2_CONF = \"/etc/softhsm2.conf\"; "
		    "A = \"b\"; };",
		"11=policy = { file = \"/etc/scepd/policy.conf\"; "
		    "audit_log = \"/var/log/scepd-audit.log\"; };",
		"11+server = { listen = \"[::1]:8443\"; workers = 8; "
		    "max_body = 131072; };",
		"11+algorithms = { ciphers = [ \"aes-256-cbc\", "
		    "\"des-ede3-cbc\" ]; digests = [ \"sha256\", \"sha512\" ]; "
		    "};",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(edits, &path);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->listen, "[::1]:8443");
	assert_int_equal(cfg->workers, 8);
	assert_int_equal(cfg->max_body, 131072);
	assert_string_equal(cfg->hsm.module,
	    "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(cfg->hsm.token_label, "scepd");
	assert_null(cfg->hsm.pin_file);
	assert_string_equal(cfg->hsm.pin_env, "SCEPD_PIN");
	assert_string_equal(cfg->hsm.ca_key.label, "ca");
	assert_int_equal(cfg->hsm.ca_key.id_len, 2);
	assert_memory_equal(cfg->hsm.ca_key.id, "\x01\x02", 2);
	assert_string_equal(cfg->hsm.ra_key.label, "ra");
	assert_int_equal(cfg->hsm.ra_key.id_len, 0);
	assert_string_equal(cfg->hsm.lock_file, "/run/hsm.lock");
	assert_int_equal(cfg->hsm.lock_timeout, 90);
	assert_int_equal(cfg->hsm.pin_retry_interval, 0);
	assert_int_equal(cfg->hsm.n_env, 2);
	assert_string_equal(cfg->hsm.env[0].name, "SOFTHSM2_CONF");
	assert_string_equal(cfg->hsm.env[0].value, "/etc/softhsm2.conf");
	assert_string_equal(cfg->hsm.env[1].name, "A");
	assert_string_equal(cfg->hsm.env[1].value, "b");
	assert_string_equal(cfg->policy_file, "/etc/scepd/policy.conf");
	assert_string_equal(cfg->audit_log, "/var/log/scepd-audit.log");
	assert_int_equal(cfg->ciphers, ALG_CIPHER_AES256 | ALG_CIPHER_DES3);
	assert_int_equal(cfg->digests, ALG_DIGEST_SHA256 | ALG_DIGEST_SHA512);
	drop(cfg, path);
}

/* The file in a directory of its own, read from elsewhere. */
static void
test_config_resolves_relative_paths_against_its_directory(void **state)
{
	static const char *const edits[] = {
		"3=  module = \"lib/p11.so\";",
		"8=  lock_file = \"run/hsm.lock\";",
		"11=policy = { file = \"policy.conf\"; audit_log = "
		    "\"log/audit.log\"; };",
		NULL,
	};
	char			*tmp = tu_temp_dir(), *dir, *text, *path;
	char			 err[1024], want[PATH_MAX + 64];
	struct scepd_config	*cfg;
	FILE			*fp;

	(void)state;
	dir = realpath(tmp, NULL);
	assert_non_null(dir);
	assert_true(asprintf(&path, "%s/scepd.conf", dir) > 0);
	text = conf(edits);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	free(text);
	cfg = config_load(path, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("refused: %s", err);
#define EXPECT_PATH(got, rel) do {					\
	snprintf(want, sizeof(want), "%s/%s", dir, rel);		\
	assert_string_equal(got, want);					\
} while (0)
	EXPECT_PATH(cfg->db_path, "db/scepd.db");
	EXPECT_PATH(cfg->hsm.module, "lib/p11.so");
	EXPECT_PATH(cfg->hsm.pin_file, "pin");
	EXPECT_PATH(cfg->hsm.lock_file, "run/hsm.lock");
	EXPECT_PATH(cfg->ca_cert_file, "ca.pem");
	EXPECT_PATH(cfg->ra_cert_file, "ra.pem");
	EXPECT_PATH(cfg->policy_file, "policy.conf");
	EXPECT_PATH(cfg->audit_log, "log/audit.log");
#undef EXPECT_PATH
	config_free(cfg);
	tu_remove_tree(tmp);
	free(tmp);
	free(dir);
	free(path);
}

static void
test_config_keeps_absolute_paths(void **state)
{
	static const char *const edits[] = {
		"1=database = { path = \"/var/lib/scepd/scepd.db\"; };",
		"5=  pin_file = \"/etc/scepd/pin\";",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(edits, &path);
	assert_string_equal(cfg->db_path, "/var/lib/scepd/scepd.db");
	assert_string_equal(cfg->hsm.pin_file, "/etc/scepd/pin");
	assert_string_equal(cfg->hsm.module,
	    "/usr/lib/softhsm/libsofthsm2.so");
	drop(cfg, path);
}

static void
test_config_defaults_omitted_settings(void **state)
{
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(NULL, &path);
	assert_string_equal(cfg->listen, "127.0.0.1:8080");
	assert_int_equal(cfg->workers, 4);
	assert_int_equal(cfg->max_body, 65536);
	assert_int_equal(cfg->hsm.lock_timeout, CONFIG_DEFAULT_LOCK_TIMEOUT);
	assert_int_equal(cfg->hsm.pin_retry_interval, CONFIG_DEFAULT_PIN_RETRY);
	assert_null(cfg->hsm.pin_env);
	assert_int_equal(cfg->hsm.n_env, 0);
	assert_null(cfg->audit_log);
	assert_int_equal(cfg->ciphers, DEFAULT_CIPHERS);
	assert_false(cfg->ciphers & ALG_CIPHER_DES);
	assert_int_equal(cfg->digests, DEFAULT_DIGESTS);
	drop(cfg, path);
}

static void
test_config_defaults_settings_omitted_from_present_groups(void **state)
{
	static const char *const edits[] = {
		"11+server = { workers = 2; };",
		"11+algorithms = { digests = [ \"sha512\" ]; };",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(edits, &path);
	assert_string_equal(cfg->listen, "127.0.0.1:8080");
	assert_int_equal(cfg->workers, 2);
	assert_int_equal(cfg->max_body, 65536);
	assert_int_equal(cfg->ciphers, DEFAULT_CIPHERS);
	assert_int_equal(cfg->digests, ALG_DIGEST_SHA512);
	drop(cfg, path);
}

static void
test_config_legacy_des_adds_single_des(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { legacy_des = true; };",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(edits, &path);
	assert_int_equal(cfg->ciphers, DEFAULT_CIPHERS | ALG_CIPHER_DES);
	drop(cfg, path);
}

static void
test_config_legacy_des_adds_to_a_cipher_list(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { ciphers = [ \"aes-128-cbc\" ]; "
		    "legacy_des = true; };",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(edits, &path);
	assert_int_equal(cfg->ciphers, ALG_CIPHER_AES128 | ALG_CIPHER_DES);
	drop(cfg, path);
}

static void
test_config_legacy_des_false_keeps_des_out(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { legacy_des = false; };",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(edits, &path);
	assert_int_equal(cfg->ciphers, DEFAULT_CIPHERS);
	drop(cfg, path);
}

static void
test_config_refuses_a_syntax_error_with_its_line(void **state)
{
	static const char *const edits[] = { "8+  lock_timeout = ;", NULL };

	(void)state;
	expect_error(edits, 9, "syntax error");
}

static void
test_config_refuses_an_unknown_top_level_setting(void **state)
{
	static const char *const edits[] = { "11+serverr = { };", NULL };

	(void)state;
	expect_error(edits, 12, "unknown setting serverr");
}

static void
test_config_refuses_an_unknown_setting_in_a_group(void **state)
{
	static const char *const edits[] = { "3+  modul = \"x\";", NULL };

	(void)state;
	expect_error(edits, 4, "unknown setting hsm.modul");
}

static void
test_config_refuses_an_unknown_setting_in_an_optional_group(void **state)
{
	static const char *const edits[] = {
		"11+server = {",
		"11+  port = 8080;",
		"11+};",
		NULL,
	};

	(void)state;
	expect_error(edits, 13, "unknown setting server.port");
}

static void
test_config_refuses_a_missing_required_group(void **state)
{
	static const char *const edits[] = { "10=", NULL };

	(void)state;
	expect_error(edits, 0, "missing group ca");
}

static void
test_config_refuses_a_missing_required_setting_at_its_group(void **state)
{
	static const char *const edits[] = { "3=", NULL };

	(void)state;
	expect_error(edits, 2, "missing setting hsm.module");
}

static void
test_config_refuses_a_missing_database_path(void **state)
{
	static const char *const edits[] = {
		"1=database = { };",
		NULL,
	};

	(void)state;
	expect_error(edits, 1, "missing setting database.path");
}

static void
test_config_refuses_a_string_where_an_integer_belongs(void **state)
{
	static const char *const edits[] = {
		"8+  lock_timeout = \"30\";",
		NULL,
	};

	(void)state;
	expect_error(edits, 9, "hsm.lock_timeout must be an integer");
}

static void
test_config_refuses_an_integer_where_a_string_belongs(void **state)
{
	static const char *const edits[] = { "3=  module = 7;", NULL };

	(void)state;
	expect_error(edits, 3, "hsm.module must be a string");
}

static void
test_config_refuses_a_non_boolean_legacy_des(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { legacy_des = 1; };",
		NULL,
	};

	(void)state;
	expect_error(edits, 12, "algorithms.legacy_des must be true or false");
}

static void
test_config_refuses_a_cipher_list_that_is_a_string(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { ciphers = \"aes-128-cbc\"; };",
		NULL,
	};

	(void)state;
	expect_error(edits, 12, "algorithms.ciphers must be a list");
}

static void
test_config_refuses_a_required_group_of_wrong_type(void **state)
{
	static const char *const edits[] = {
		"1=database = \"db/scepd.db\";",
		NULL,
	};

	(void)state;
	expect_error(edits, 1, "database must be a group");
}

/*
 * An optional group (server, algorithms) that is not a group must be
 * refused like a required one, not silently ignored.
 */
static void
test_config_refuses_an_optional_group_of_wrong_type(void **state)
{
	static const char *const server[] = { "11+server = 5;", NULL };
	static const char *const algs[] = {
		"11+algorithms = \"aes-128-cbc\";",
		NULL,
	};

	(void)state;
	expect_error(server, 12, "server must be a group");
	expect_error(algs, 12, "algorithms must be a group");
}

static void
test_config_refuses_a_listen_address_that_is_not_addr_port(void **state)
{
	static const char *const host[] = {
		"11+server = { listen = \"nohost\"; };",
		NULL,
	};
	static const char *const sign[] = {
		"11+server = { listen = \"1.2.3.4:+80\"; };",
		NULL,
	};

	(void)state;
	expect_error(host, 12, "server.listen \"nohost\" is not ADDR:PORT");
	expect_error(sign, 12, "server.listen \"1.2.3.4:+80\" is not");
}

static void
test_config_refuses_an_empty_string(void **state)
{
	static const char *const edits[] = { "4=  token = \"\";", NULL };

	(void)state;
	expect_error(edits, 4, "hsm.token must not be empty");
}

static void
test_config_reads_limits_and_defaults_them(void **state)
{
	static const char *const edits[] = {
		"11+limits = { challenge_hashes = 3; client_failures = 7; "
		    "failure_window = 120; malformed_events = 0; };",
		NULL,
	};
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	cfg = load_edits(NULL, &path);
	assert_int_equal(cfg->limits.challenge_hashes,
	    CONFIG_DEFAULT_CHALLENGE_HASHES);
	assert_int_equal(cfg->limits.client_failures,
	    CONFIG_DEFAULT_CLIENT_FAILURES);
	assert_int_equal(cfg->limits.failure_window,
	    CONFIG_DEFAULT_FAILURE_WINDOW);
	assert_int_equal(cfg->limits.malformed_events,
	    CONFIG_DEFAULT_MALFORMED_EVENTS);
	drop(cfg, path);
	cfg = load_edits(edits, &path);
	assert_int_equal(cfg->limits.challenge_hashes, 3);
	assert_int_equal(cfg->limits.client_failures, 7);
	assert_int_equal(cfg->limits.failure_window, 120);
	assert_int_equal(cfg->limits.malformed_events, 0);
	drop(cfg, path);
}

static void
test_config_refuses_limits_out_of_range(void **state)
{
	static const char *const zero[] = {
		"11+limits = { challenge_hashes = 0; };",
		NULL,
	};
	static const char *const unknown[] = {
		"11+limits = { scrypt_threads = 2; };",
		NULL,
	};

	(void)state;
	expect_error(zero, 12, "limits.challenge_hashes must be between 1 "
	    "and 64");
	expect_error(unknown, 12, "scrypt_threads");
}

static void
test_config_refuses_workers_out_of_range(void **state)
{
	static const char *const zero[] = {
		"11+server = { workers = 0; };",
		NULL,
	};
	static const char *const many[] = {
		"11+server = { workers = 65; };",
		NULL,
	};

	(void)state;
	expect_error(zero, 12, "server.workers must be between 1 and 64");
	expect_error(many, 12, "server.workers must be between 1 and 64");
}

static void
test_config_refuses_max_body_out_of_range(void **state)
{
	static const char *const small[] = {
		"11+server = { max_body = 1023; };",
		NULL,
	};
	static const char *const big[] = {
		"11+server = { max_body = 1048577; };",
		NULL,
	};

	(void)state;
	expect_error(small, 12, "server.max_body must be between 1024 and");
	expect_error(big, 12, "server.max_body must be between 1024 and");
}

static void
test_config_refuses_lock_timeout_out_of_range(void **state)
{
	static const char *const zero[] = { "8+  lock_timeout = 0;", NULL };
	static const char *const big[] = { "8+  lock_timeout = 3601;", NULL };

	(void)state;
	expect_error(zero, 9, "between 1 and 3600");
	expect_error(big, 9, "between 1 and 3600");
}

static void
test_config_refuses_pin_retry_interval_out_of_range(void **state)
{
	static const char *const neg[] = { "8+  pin_retry_interval = -1;",
	    NULL };
	static const char *const big[] = {
	    "8+  pin_retry_interval = 86401;", NULL };

	(void)state;
	expect_error(neg, 9, "between 0 and 86400");
	expect_error(big, 9, "between 0 and 86400");
}

static void
test_config_refuses_key_processes_out_of_range(void **state)
{
	static const char *const zero[] = { "8+  key_processes = 0;", NULL };
	static const char *const big[] = { "8+  key_processes = 17;", NULL };

	(void)state;
	expect_error(zero, 9, "between 1 and 16");
	expect_error(big, 9, "between 1 and 16");
}

/* SoftHSM2 loses logins made by two processes at once. */
static void
test_config_keeps_softhsm_to_one_key_process(void **state)
{
	static const char *const softhsm[] = { "8+  key_processes = 2;",
	    NULL };
	static const char *const other[] = {
	    "3=  module = \"/usr/lib/vendor/libvendor-pkcs11.so\";",
	    "8+  key_processes = 4;", NULL };
	struct scepd_config	*cfg;
	char			*path;

	(void)state;
	expect_error(softhsm, 2, "hsm.key_processes must be 1 for SoftHSM2");
	cfg = load_edits(other, &path);
	assert_int_equal(cfg->hsm.key_processes, 4);
	drop(cfg, path);
	cfg = load_edits(NULL, &path);
	assert_int_equal(cfg->hsm.key_processes, 1);
	drop(cfg, path);
}

static void
test_config_refuses_a_key_that_is_not_a_pkcs11_uri(void **state)
{
	static const char *const edits[] = {
		"6=  ca_key = \"file:/etc/ca.key\";",
		NULL,
	};

	(void)state;
	expect_error(edits, 6, "hsm.ca_key: not a PKCS#11 URI");
}

static void
test_config_refuses_a_key_uri_naming_no_object(void **state)
{
	static const char *const edits[] = {
		"7=  ra_key = \"pkcs11:token=scepd\";",
		NULL,
	};

	(void)state;
	expect_error(edits, 7, "hsm.ra_key: the URI names neither");
}

static void
test_config_refuses_an_unknown_cipher(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = {",
		"11+  ciphers = [ \"aes-128-cbc\", \"rc4\" ];",
		"11+};",
		NULL,
	};

	(void)state;
	expect_error(edits, 13, "unknown or unsupported algorithm \"rc4\"");
}

static void
test_config_refuses_an_unknown_digest(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { digests = [ \"md5\" ]; };",
		NULL,
	};

	(void)state;
	expect_error(edits, 12, "algorithms.digests: unknown or unsupported "
	    "algorithm \"md5\"");
}

static void
test_config_refuses_des_in_ciphers_pointing_to_legacy_des(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { ciphers = [ \"des-cbc\" ]; };",
		NULL,
	};

	(void)state;
	expect_error(edits, 12, "algorithms.legacy_des");
}

static void
test_config_refuses_an_empty_cipher_list(void **state)
{
	static const char *const edits[] = {
		"11+algorithms = { ciphers = [ ]; };",
		NULL,
	};

	(void)state;
	expect_error(edits, 12, "algorithms.ciphers must not be empty");
}

static void
test_config_refuses_both_pin_file_and_pin_env(void **state)
{
	static const char *const edits[] = { "5+  pin_env = \"P\";", NULL };

	(void)state;
	expect_error(edits, 2, "exactly one of pin_file and pin_env");
}

static void
test_config_refuses_neither_pin_file_nor_pin_env(void **state)
{
	static const char *const edits[] = { "5=", NULL };

	(void)state;
	expect_error(edits, 2, "exactly one of pin_file and pin_env");
}

static void
test_config_refuses_an_environment_that_is_not_a_group(void **state)
{
	static const char *const edits[] = {
		"8+  environment = [ \"A=b\" ];",
		NULL,
	};

	(void)state;
	expect_error(edits, 9, "hsm.environment must be a group");
}

static void
test_config_refuses_a_non_string_environment_value(void **state)
{
	static const char *const edits[] = {
		"8+  environment = {",
		"8+    A = 1;",
		"8+  };",
		NULL,
	};

	(void)state;
	expect_error(edits, 10, "hsm.environment.A must be a string");
}

static void
test_config_names_a_missing_file(void **state)
{
	char			*dir = tu_temp_dir(), *path, err[1024];
	struct scepd_config	*cfg;

	(void)state;
	assert_true(asprintf(&path, "%s/absent.conf", dir) > 0);
	memset(err, 0, sizeof(err));
	cfg = config_load(path, err, sizeof(err));
	assert_null(cfg);
	if (strncmp(err, path, strlen(path)) != 0)
		fail_msg("\"%s\" does not name %s", err, path);
	tu_remove_tree(dir);
	free(dir);
	free(path);
}

static void
expect_split(const char *listen, const char *host, uint16_t port)
{
	char		got[64];
	uint16_t	p = 0;

	if (config_split_listen(listen, got, sizeof(got), &p) != 0)
		fail_msg("\"%s\" was refused", listen);
	assert_string_equal(got, host);
	assert_int_equal(p, port);
}

static void
expect_split_refused(const char *listen)
{
	char		host[64];
	uint16_t	port;

	if (config_split_listen(listen, host, sizeof(host), &port) != -1)
		fail_msg("\"%s\" was accepted", listen);
}

static void
test_config_splits_an_ipv4_listen_address(void **state)
{
	(void)state;
	expect_split("127.0.0.1:8080", "127.0.0.1", 8080);
	expect_split("0.0.0.0:65535", "0.0.0.0", 65535);
}

static void
test_config_splits_a_bracketed_ipv6_listen_address(void **state)
{
	(void)state;
	expect_split("[::1]:443", "::1", 443);
	expect_split("[2001:db8::1]:8080", "2001:db8::1", 8080);
}

static void
test_config_split_refuses_a_value_without_port(void **state)
{
	(void)state;
	expect_split_refused("nohost");
	expect_split_refused("1.2.3.4:");
	expect_split_refused("[::1]");
	expect_split_refused("[::1]:");
}

static void
test_config_split_refuses_a_value_without_host(void **state)
{
	(void)state;
	expect_split_refused(":80");
	expect_split_refused("[]:80");
}

static void
test_config_split_refuses_a_port_out_of_range(void **state)
{
	(void)state;
	expect_split_refused("1.2.3.4:70000");
	expect_split_refused("1.2.3.4:65536");
	expect_split_refused("1.2.3.4:-1");
	expect_split_refused("1.2.3.4:99999999999999999999");
	expect_split_refused("1.2.3.4: 80");
	expect_split_refused("1.2.3.4:+80");
}

static void
test_config_split_refuses_a_port_with_trailing_garbage(void **state)
{
	(void)state;
	expect_split_refused("1.2.3.4:8x");
	expect_split_refused("1.2.3.4:80 ");
	expect_split_refused("[::1]:443x");
}

static void
test_config_split_refuses_a_host_longer_than_the_buffer(void **state)
{
	char		host[8];
	uint16_t	port;

	(void)state;
	assert_int_equal(config_split_listen("123.123.123.123:80", host,
	    sizeof(host), &port), -1);
	assert_int_equal(config_split_listen("1.2.3.4:80", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "1.2.3.4");
}

#define T(name)	cmocka_unit_test(name)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_loads_every_setting_of_a_complete_file),
		T(test_config_resolves_relative_paths_against_its_directory),
		T(test_config_keeps_absolute_paths),
		T(test_config_defaults_omitted_settings),
		T(test_config_defaults_settings_omitted_from_present_groups),
		T(test_config_legacy_des_adds_single_des),
		T(test_config_legacy_des_adds_to_a_cipher_list),
		T(test_config_legacy_des_false_keeps_des_out),
		T(test_config_refuses_a_syntax_error_with_its_line),
		T(test_config_refuses_an_unknown_top_level_setting),
		T(test_config_refuses_an_unknown_setting_in_a_group),
		T(test_config_refuses_an_unknown_setting_in_an_optional_group),
		T(test_config_refuses_a_missing_required_group),
		T(test_config_refuses_a_missing_required_setting_at_its_group),
		T(test_config_refuses_a_missing_database_path),
		T(test_config_refuses_a_string_where_an_integer_belongs),
		T(test_config_refuses_an_integer_where_a_string_belongs),
		T(test_config_refuses_a_non_boolean_legacy_des),
		T(test_config_refuses_a_cipher_list_that_is_a_string),
		T(test_config_refuses_a_required_group_of_wrong_type),
		T(test_config_refuses_an_optional_group_of_wrong_type),
		T(test_config_refuses_a_listen_address_that_is_not_addr_port),
		T(test_config_refuses_an_empty_string),
		T(test_config_reads_limits_and_defaults_them),
		T(test_config_refuses_limits_out_of_range),
		T(test_config_refuses_workers_out_of_range),
		T(test_config_refuses_max_body_out_of_range),
		T(test_config_refuses_lock_timeout_out_of_range),
		T(test_config_refuses_pin_retry_interval_out_of_range),
		T(test_config_refuses_key_processes_out_of_range),
		T(test_config_keeps_softhsm_to_one_key_process),
		T(test_config_refuses_a_key_that_is_not_a_pkcs11_uri),
		T(test_config_refuses_a_key_uri_naming_no_object),
		T(test_config_refuses_an_unknown_cipher),
		T(test_config_refuses_an_unknown_digest),
		T(test_config_refuses_des_in_ciphers_pointing_to_legacy_des),
		T(test_config_refuses_an_empty_cipher_list),
		T(test_config_refuses_both_pin_file_and_pin_env),
		T(test_config_refuses_neither_pin_file_nor_pin_env),
		T(test_config_refuses_an_environment_that_is_not_a_group),
		T(test_config_refuses_a_non_string_environment_value),
		T(test_config_names_a_missing_file),
		T(test_config_splits_an_ipv4_listen_address),
		T(test_config_splits_a_bracketed_ipv6_listen_address),
		T(test_config_split_refuses_a_value_without_port),
		T(test_config_split_refuses_a_value_without_host),
		T(test_config_split_refuses_a_port_out_of_range),
		T(test_config_split_refuses_a_port_with_trailing_garbage),
		T(test_config_split_refuses_a_host_longer_than_the_buffer),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
