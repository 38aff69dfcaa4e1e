/*
 * scepd.conf: a complete file loads with defaults and resolved paths;
 * every mistake is refused with "file:line: reason".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alg.h"
#include "config.h"
#include "log.h"
#include "testutil.h"

static int
setup(void **state)
{
	(void)state;
	log_init("test_config", LOG_LEVEL_ERROR);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return 0;
}

/* A valid file; extra replaces the line "#EXTRA". */
static char *
conf_text(const char *extra, const char *drop)
{
	char	*text, *out;
	char	*at;

	if (asprintf(&text,
	    "database = { path = \"db/scepd.db\"; };\n"		/* 1 */
	    "hsm = {\n"							/* 2 */
	    "  module = \"/usr/lib/softhsm/libsofthsm2.so\";\n"	/* 3 */
	    "  token = \"scepd\";\n"					/* 4 */
	    "  pin_file = \"pin\";\n"					/* 5 */
	    "  ca_key = \"pkcs11:object=ca;id=%%01%%02\";\n"		/* 6 */
	    "  ra_key = \"pkcs11:object=ra\";\n"			/* 7 */
	    "  lock_file = \"/run/hsm.lock\";\n"			/* 8 */
	    "#EXTRA\n"							/* 9 */
	    "};\n"							/* 10 */
	    "ca = { certificate = \"ca.pem\"; ra_certificate = \"ra.pem\"; };\n"
	    "policy = { file = \"policy.conf\"; audit_log = \"/var/log/a\"; };\n")
	    == -1)
		return NULL;
	if (drop != NULL && (at = strstr(text, drop)) != NULL)
		memset(at, ' ', strcspn(at, "\n"));
	at = strstr(text, "#EXTRA");
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text,
	    extra ? extra : "", at + strlen("#EXTRA")) == -1)
		out = NULL;
	free(text);
	return out;
}

/* Loads text; returns the config or NULL with the error in err. */
static struct scepd_config *
load(const char *text, char *err, size_t errlen, char **path)
{
	struct scepd_config	*cfg;

	*path = tu_write_temp(text);
	cfg = config_load(*path, err, errlen);
	return cfg;
}

static void
expect_error(const char *text, int line, const char *reason)
{
	char			 err[512], want[512];
	char			*path;
	struct scepd_config	*cfg;

	cfg = load(text, err, sizeof(err), &path);
	assert_null(cfg);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
	else
		snprintf(want, sizeof(want), "%s", path);
	if (strncmp(err, want, strlen(want)) != 0 ||
	    strstr(err, reason) == NULL)
		fail_msg("got \"%s\", want \"%s...%s\"", err, want, reason);
	unlink(path);
	free(path);
}

static void
test_config_loads_a_complete_file_with_defaults(void **state)
{
	char			*text = conf_text(NULL, NULL), *path, *dir;
	char			 err[512], want[1024];
	struct scepd_config	*cfg;

	(void)state;
	cfg = load(text, err, sizeof(err), &path);
	if (cfg == NULL)
		fail_msg("%s", err);
	dir = strdup(path);
	*strrchr(dir, '/') = '\0';
	snprintf(want, sizeof(want), "%s/db/scepd.db", dir);
	assert_string_equal(cfg->db_path, want);
	snprintf(want, sizeof(want), "%s/pin", dir);
	assert_string_equal(cfg->hsm.pin_file, want);
	assert_string_equal(cfg->hsm.lock_file, "/run/hsm.lock");
	assert_string_equal(cfg->listen, CONFIG_DEFAULT_LISTEN);
	assert_int_equal(cfg->workers, CONFIG_DEFAULT_WORKERS);
	assert_int_equal(cfg->max_body, CONFIG_DEFAULT_MAX_BODY);
	snprintf(want, sizeof(want), "%s/policy.conf", dir);
	assert_string_equal(cfg->policy_file, want);
	assert_string_equal(cfg->audit_log, "/var/log/a");
	assert_int_equal(cfg->hsm.lock_timeout, CONFIG_DEFAULT_LOCK_TIMEOUT);
	assert_int_equal(cfg->ciphers, ALG_CIPHER_AES128 | ALG_CIPHER_AES192 |
	    ALG_CIPHER_AES256 | ALG_CIPHER_DES3);
	assert_int_equal(cfg->digests, ALG_DIGEST_SHA1 | ALG_DIGEST_SHA256 |
	    ALG_DIGEST_SHA512);
	assert_string_equal(cfg->hsm.ca_key.label, "ca");
	assert_int_equal(cfg->hsm.ca_key.id_len, 2);
	assert_memory_equal(cfg->hsm.ca_key.id, "\x01\x02", 2);
	assert_int_equal(cfg->hsm.ra_key.id_len, 0);
	config_free(cfg);
	unlink(path);
	free(path);
	free(dir);
	free(text);
}

static void
test_config_reads_algorithms_and_legacy_des(void **state)
{
	char			*text, *path, err[512];
	struct scepd_config	*cfg;

	(void)state;
	text = conf_text(NULL, NULL);
	text = realloc(text, strlen(text) + 200);
	strcat(text, "algorithms = { ciphers = [ \"aes-128-cbc\" ]; "
	    "digests = [ \"sha256\" ]; legacy_des = true; };\n");
	cfg = load(text, err, sizeof(err), &path);
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_int_equal(cfg->ciphers, ALG_CIPHER_AES128 | ALG_CIPHER_DES);
	assert_int_equal(cfg->digests, ALG_DIGEST_SHA256);
	config_free(cfg);
	unlink(path);
	free(path);
	free(text);
}

static void
test_config_reads_environment_and_pin_env(void **state)
{
	char			*text, *path, err[512];
	struct scepd_config	*cfg;

	(void)state;
	text = conf_text("  pin_env = \"MY_PIN\";\n  environment = { "
	    "SOFTHSM2_CONF = \"/x.conf\"; };\n", "pin_file");
	cfg = load(text, err, sizeof(err), &path);
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_null(cfg->hsm.pin_file);
	assert_string_equal(cfg->hsm.pin_env, "MY_PIN");
	assert_int_equal(cfg->hsm.n_env, 1);
	assert_string_equal(cfg->hsm.env[0].name, "SOFTHSM2_CONF");
	assert_string_equal(cfg->hsm.env[0].value, "/x.conf");
	config_free(cfg);
	unlink(path);
	free(path);
	free(text);
}

static void
test_config_reports_syntax_errors_with_line(void **state)
{
	char	*text = conf_text("  lock_timeout = ;\n", NULL);

	(void)state;
	expect_error(text, 9, "syntax error");
	free(text);
}

static void
test_config_refuses_unknown_settings(void **state)
{
	char	*text = conf_text("  modul = \"x\";\n", NULL);

	(void)state;
	expect_error(text, 9, "unknown setting hsm.modul");
	free(text);
	text = conf_text(NULL, NULL);
	text = realloc(text, strlen(text) + 64);
	strcat(text, "serverr = { };\n");
	expect_error(text, 13, "unknown setting serverr");
	free(text);
}

static void
test_config_refuses_missing_settings(void **state)
{
	char	*text = conf_text(NULL, "module");

	(void)state;
	expect_error(text, 2, "missing setting hsm.module");
	free(text);
	text = conf_text(NULL, "policy =");
	expect_error(text, 0, "missing group policy");
	free(text);
}

static void
test_config_refuses_wrong_types_and_ranges(void **state)
{
	char	*text = conf_text("  lock_timeout = \"30\";\n", NULL);

	(void)state;
	expect_error(text, 9, "hsm.lock_timeout must be an integer");
	free(text);
	text = conf_text("  lock_timeout = 0;\n", NULL);
	expect_error(text, 9, "between 1 and 3600");
	free(text);
	text = conf_text("  module = 7;\n", "module");
	expect_error(text, 9, "hsm.module must be a string");
	free(text);
}

static void
test_config_refuses_bad_key_uris(void **state)
{
	char	*text = conf_text("  ca_key = \"nope\";\n", "ca_key");

	(void)state;
	expect_error(text, 9, "hsm.ca_key: not a PKCS#11 URI");
	free(text);
	text = conf_text("  ca_key = \"pkcs11:token=scepd\";\n", "ca_key");
	expect_error(text, 9, "neither object= nor id=");
	free(text);
}

static void
test_config_refuses_pin_from_both_or_neither(void **state)
{
	char	*text = conf_text("  pin_env = \"P\";\n", NULL);

	(void)state;
	expect_error(text, 2, "exactly one of pin_file and pin_env");
	free(text);
	text = conf_text(NULL, "pin_file");
	expect_error(text, 2, "exactly one of pin_file and pin_env");
	free(text);
}

static void
test_config_refuses_unknown_algorithms(void **state)
{
	char	*text = conf_text(NULL, NULL);
	char	*more = NULL;

	(void)state;
	assert_true(asprintf(&more, "%salgorithms = { ciphers = [ "
	    "\"rc4\" ]; };\n", text) > 0);
	expect_error(more, 13, "unknown or unsupported algorithm \"rc4\"");
	free(more);
	assert_true(asprintf(&more, "%salgorithms = { ciphers = [ "
	    "\"des-cbc\" ]; };\n", text) > 0);
	expect_error(more, 13, "legacy_des");
	free(more);
	assert_true(asprintf(&more, "%salgorithms = { digests = [ "
	    "\"md5\" ]; };\n", text) > 0);
	expect_error(more, 13, "\"md5\"");
	free(more);
	free(text);
}

static void
test_config_refuses_a_policy_group_without_file(void **state)
{
	char	*text = conf_text(NULL, NULL), *at;

	(void)state;
	at = strstr(text, "{ file = ") + 2;
	memcpy(at, "fyle", 4);
	expect_error(text, 12, "unknown setting policy.fyle");
	free(text);
}

static void
test_config_names_a_missing_file(void **state)
{
	char	err[512];

	(void)state;
	assert_null(config_load("/nonexistent/scepd.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/scepd.conf"));
}

static void
test_config_splits_listen_addresses(void **state)
{
	char		host[64];
	uint16_t	port;

	(void)state;
	assert_int_equal(config_split_listen("127.0.0.1:8080", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(config_split_listen("[::1]:443", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 443);
	assert_int_equal(config_split_listen("nohost", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen(":80", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen("1.2.3.4:", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen("1.2.3.4:70000", host,
	    sizeof(host), &port), -1);
	assert_int_equal(config_split_listen("1.2.3.4:8x", host, sizeof(host),
	    &port), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_config_loads_a_complete_file_with_defaults),
		cmocka_unit_test(test_config_reads_algorithms_and_legacy_des),
		cmocka_unit_test(test_config_reads_environment_and_pin_env),
		cmocka_unit_test(test_config_reports_syntax_errors_with_line),
		cmocka_unit_test(test_config_refuses_unknown_settings),
		cmocka_unit_test(test_config_refuses_missing_settings),
		cmocka_unit_test(test_config_refuses_wrong_types_and_ranges),
		cmocka_unit_test(test_config_refuses_bad_key_uris),
		cmocka_unit_test(test_config_refuses_pin_from_both_or_neither),
		cmocka_unit_test(test_config_refuses_unknown_algorithms),
		cmocka_unit_test(
		    test_config_refuses_a_policy_group_without_file),
		cmocka_unit_test(test_config_names_a_missing_file),
		cmocka_unit_test(test_config_splits_listen_addresses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
