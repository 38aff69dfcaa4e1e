/*
 * Certificate-building pieces: serial numbers, names, digests, times,
 * and the skeleton certificate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "log.h"
#include "testutil.h"

#define DRAWS	2000

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_certbuild_serial_is_positive_and_exactly_16_bytes(void **state)
{
	ASN1_INTEGER	*s;
	BIGNUM		*bn;
	int		 i;

	(void)state;
	for (i = 0; i < DRAWS; i++) {
		s = certbuild_serial_new();
		assert_non_null(s);
		assert_int_equal(ASN1_STRING_type(s), V_ASN1_INTEGER);
		bn = ASN1_INTEGER_to_BN(s, NULL);
		assert_non_null(bn);
		assert_false(BN_is_negative(bn));
		assert_false(BN_is_zero(bn));
		assert_int_equal(BN_num_bytes(bn), CERTBUILD_SERIAL_LEN);
		/* In DER: 16 content octets, no 0x00 sign octet needed. */
		assert_int_equal(ASN1_STRING_length(s), CERTBUILD_SERIAL_LEN);
		BN_free(bn);
		ASN1_INTEGER_free(s);
	}
}

static void
test_certbuild_serials_of_2000_draws_are_distinct(void **state)
{
	char		*hex[DRAWS];
	ASN1_INTEGER	*s;
	int		 i;

	(void)state;
	for (i = 0; i < DRAWS; i++) {
		s = certbuild_serial_new();
		assert_non_null(s);
		hex[i] = certbuild_serial_hex_new(s);
		assert_non_null(hex[i]);
		ASN1_INTEGER_free(s);
	}
	qsort(hex, DRAWS, sizeof(hex[0]), cmp_str);
	for (i = 1; i < DRAWS; i++)
		assert_string_not_equal(hex[i - 1], hex[i]);
	for (i = 0; i < DRAWS; i++)
		free(hex[i]);
}

static void
test_certbuild_serial_hex_is_32_lower_case_digits(void **state)
{
	ASN1_INTEGER	*s;
	char		*hex;
	int		 i;

	(void)state;
	for (i = 0; i < 100; i++) {
		s = certbuild_serial_new();
		assert_non_null(s);
		hex = certbuild_serial_hex_new(s);
		assert_non_null(hex);
		assert_int_equal(strlen(hex), 2 * CERTBUILD_SERIAL_LEN);
		assert_int_equal(strspn(hex, "0123456789abcdef"),
		    strlen(hex));
		free(hex);
		ASN1_INTEGER_free(s);
	}
}

static void
test_certbuild_serial_hex_is_the_value_in_hex(void **state)
{
	ASN1_INTEGER	*s;
	BIGNUM		*bn = NULL;
	char		*hex;

	(void)state;
	assert_true(BN_hex2bn(&bn, "7F00A1B2C3D4E5F60718293A4B5C6D7E") > 0);
	s = BN_to_ASN1_INTEGER(bn, NULL);
	assert_non_null(s);
	hex = certbuild_serial_hex_new(s);
	assert_string_equal(hex, "7f00a1b2c3d4e5f60718293a4b5c6d7e");
	free(hex);
	ASN1_INTEGER_free(s);
	BN_free(bn);
}

/* The name's text in OpenSSL's one-line form ("/O=b/CN=a"), or NULL. */
static char *
parsed(const char *dn)
{
	X509_NAME	*n = certbuild_name_parse(dn);
	char		 buf[256];

	if (n == NULL)
		return NULL;
	X509_NAME_oneline(n, buf, sizeof(buf));
	X509_NAME_free(n);
	return strdup(buf);
}

static void
expect_name(const char *dn, const char *want)
{
	char	*got = parsed(dn);

	if (got == NULL)
		fail_msg("\"%s\" was refused", dn);
	assert_string_equal(got, want);
	free(got);
}

static void
expect_refused(const char *dn)
{
	char	*got = parsed(dn);

	if (got != NULL) {
		free(got);
		fail_msg("\"%s\" was accepted", dn);
	}
}

static void
test_certbuild_name_parses_slash_form_most_significant_first(void **state)
{
	(void)state;
	expect_name("/CN=a/O=b", "/CN=a/O=b");
	expect_name("/O=b/CN=a", "/O=b/CN=a");
	expect_name("/C=DE/O=Example/OU=IT/CN=host1",
	    "/C=DE/O=Example/OU=IT/CN=host1");
}

static void
test_certbuild_name_parses_rfc4514_form_most_specific_first(void **state)
{
	(void)state;
	expect_name("CN=a,O=b", "/O=b/CN=a");
	expect_name("CN=a, O=b c", "/O=b c/CN=a");
	expect_name("CN=host1", "/CN=host1");
}

static void
test_certbuild_name_forms_give_the_same_name(void **state)
{
	X509_NAME	*a = certbuild_name_parse("/C=DE/O=Example/CN=x");
	X509_NAME	*b = certbuild_name_parse("CN=x,O=Example,C=DE");

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(X509_NAME_cmp(a, b), 0);
	X509_NAME_free(a);
	X509_NAME_free(b);
}

static void
expect_cn(const char *dn, const char *want)
{
	X509_NAME	*n = certbuild_name_parse(dn);
	char		 buf[256];

	if (n == NULL)
		fail_msg("\"%s\" was refused", dn);
	assert_int_equal(X509_NAME_entry_count(n), 1);
	assert_true(X509_NAME_get_text_by_NID(n, NID_commonName, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, want);
	X509_NAME_free(n);
}

static void
test_certbuild_name_unescapes_separators(void **state)
{
	(void)state;
	expect_cn("/CN=a\\/b", "a/b");
	expect_cn("CN=a\\,b", "a,b");
	expect_cn("/CN=a,b", "a,b");		/* ',' is plain in '/' form */
	expect_cn("CN=a/b", "a/b");		/* and '/' in ',' form */
	expect_cn("/CN=a\\\\b", "a\\b");
}

static void
test_certbuild_name_keeps_utf8(void **state)
{
	X509_NAME	*n = certbuild_name_parse("/CN=M\xc3\xbcller");
	X509_NAME_ENTRY	*e;
	ASN1_STRING	*v;

	(void)state;
	assert_non_null(n);
	e = X509_NAME_get_entry(n, 0);
	v = X509_NAME_ENTRY_get_data(e);
	assert_int_equal(ASN1_STRING_type(v), V_ASN1_UTF8STRING);
	assert_int_equal(ASN1_STRING_length(v), 7);
	assert_memory_equal(ASN1_STRING_get0_data(v), "M\xc3\xbcller", 7);
	X509_NAME_free(n);
}

static void
test_certbuild_name_refuses_empty_input(void **state)
{
	(void)state;
	expect_refused("");
	expect_refused("/");
}

static void
test_certbuild_name_refuses_a_component_without_value(void **state)
{
	(void)state;
	expect_refused("CN");
	expect_refused("/CN");
	expect_refused("/CN=");
	expect_refused("/=a");
	expect_refused("CN=a,O");
}

static void
test_certbuild_name_refuses_empty_components(void **state)
{
	(void)state;
	expect_refused("/CN=a//O=b");
	expect_refused("CN=a,");
	expect_refused("CN=a,,O=b");
	expect_refused("/CN=a/");
	expect_refused(",CN=a");
}

static void
test_certbuild_name_refuses_unknown_attribute_types(void **state)
{
	(void)state;
	expect_refused("/NOSUCHTYPE=x");
	expect_refused("CN=a,BOGUS=b");
}

/* 2 KiB of short, valid components: refused whole, not overflowed. */
static void
test_certbuild_name_refuses_overlong_input(void **state)
{
	char	buf[2048];
	size_t	i;

	(void)state;
	for (i = 0; i + 4 < sizeof(buf); i += 4)
		memcpy(buf + i, "/O=a", 4);
	buf[i] = '\0';
	expect_refused(buf);
}

static void
test_certbuild_name_text_is_rfc2253(void **state)
{
	X509_NAME	*n = certbuild_name_parse("/C=DE/O=Example/CN=x");
	char		*text;

	(void)state;
	assert_non_null(n);
	text = certbuild_name_text_new(n);
	assert_string_equal(text, "CN=x,O=Example,C=DE");
	free(text);
	X509_NAME_free(n);
}

/* An empty subject (SAN-only requests) is the empty string. */
static void
test_certbuild_name_text_of_an_empty_name_is_empty(void **state)
{
	X509_NAME	*n = X509_NAME_new();
	char		*text;

	(void)state;
	text = certbuild_name_text_new(n);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
	X509_NAME_free(n);
}

/* A policy must judge the whole subject, however long it is. */
static void
test_certbuild_name_text_is_never_shortened(void **state)
{
	X509_NAME	*n = X509_NAME_new();
	char		 cn[4001], *text;

	(void)state;
	memset(cn, 'a', sizeof(cn) - 1);
	cn[sizeof(cn) - 1] = '\0';
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
	    (const unsigned char *)"Admins", -1, -1, 0), 1);
	/* A client encodes what it likes: no upper bound on the CN here. */
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN",
	    V_ASN1_UTF8STRING, (const unsigned char *)cn, -1, -1, 0), 1);
	text = certbuild_name_text_new(n);
	assert_non_null(text);
	assert_int_equal(strlen(text), strlen("CN=,OU=Admins") + 4000);
	assert_non_null(strstr(text, ",OU=Admins"));
	free(text);
	X509_NAME_free(n);
}

static void
test_certbuild_digest_is_sha384_for_p384(void **state)
{
	(void)state;
	assert_ptr_equal(certbuild_digest_for(tu_ec_key(0, "P-384")),
	    EVP_sha384());
}

static void
test_certbuild_digest_is_sha256_for_p256(void **state)
{
	(void)state;
	assert_ptr_equal(certbuild_digest_for(tu_ec_key(1, "P-256")),
	    EVP_sha256());
}

static void
test_certbuild_digest_is_sha256_for_rsa(void **state)
{
	(void)state;
	assert_ptr_equal(certbuild_digest_for(tu_rsa_key(0, 2048)),
	    EVP_sha256());
}

static void
test_certbuild_time_round_trips_utctime(void **state)
{
	ASN1_TIME	*t;
	time_t		 when = 1893456000;	/* 2030-01-01 */

	(void)state;
	t = ASN1_TIME_set(NULL, when);
	assert_non_null(t);
	assert_int_equal(ASN1_STRING_type(t), V_ASN1_UTCTIME);
	assert_int_equal(certbuild_time(t), when);
	ASN1_TIME_free(t);
	t = ASN1_TIME_set(NULL, when + 86399);
	assert_int_equal(certbuild_time(t), when + 86399);
	ASN1_TIME_free(t);
}

static void
test_certbuild_time_round_trips_generalizedtime(void **state)
{
	ASN1_TIME	*t;
	time_t		 when = (time_t)2556144000LL;	/* 2051-01-01 */

	(void)state;
	t = ASN1_TIME_set(NULL, when);
	assert_non_null(t);
	assert_int_equal(ASN1_STRING_type(t), V_ASN1_GENERALIZEDTIME);
	assert_int_equal(certbuild_time(t), when);
	ASN1_TIME_free(t);
}

static void
test_certbuild_time_of_garbage_is_zero(void **state)
{
	ASN1_TIME	*t = ASN1_TIME_new();

	(void)state;
	assert_int_equal(ASN1_STRING_set(t, "not a time", -1), 1);
	assert_int_equal(certbuild_time(t), 0);
	ASN1_TIME_free(t);
}

static void
test_certbuild_new_sets_the_skeleton(void **state)
{
	X509_NAME	*subject = certbuild_name_parse("/CN=leaf");
	X509_NAME	*issuer = certbuild_name_parse("/CN=ca");
	ASN1_INTEGER	*serial = certbuild_serial_new();
	EVP_PKEY	*key = tu_ec_key(1, "P-256");
	X509		*x;

	(void)state;
	x = certbuild_new(subject, issuer, key, serial, 1893456000,
	    1893456000 + 86400);
	assert_non_null(x);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), subject), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), issuer), 0);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), serial),
	    0);
	assert_int_equal(certbuild_time(X509_get0_notBefore(x)), 1893456000);
	assert_int_equal(certbuild_time(X509_get0_notAfter(x)),
	    1893456000 + 86400);
	assert_int_equal(X509_get_ext_count(x), 0);
	X509_free(x);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subject);
	X509_NAME_free(issuer);
}

static void
test_certbuild_add_ext_adds_a_critical_extension(void **state)
{
	X509_NAME	*name = certbuild_name_parse("/CN=self");
	ASN1_INTEGER	*serial = certbuild_serial_new();
	EVP_PKEY	*key = tu_ec_key(1, "P-256");
	X509		*x;
	int		 idx;

	(void)state;
	x = certbuild_new(name, name, key, serial, 1893456000,
	    1893456000 + 86400);
	assert_non_null(x);
	assert_int_equal(certbuild_add_ext(x, x, NID_basic_constraints,
	    "critical, CA:FALSE"), 0);
	idx = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
	assert_true(idx >= 0);
	assert_true(X509_EXTENSION_get_critical(X509_get_ext(x, idx)));
	assert_int_equal(certbuild_add_ext(x, x, NID_key_usage,
	    "noSuchUsage"), -1);
	assert_int_equal(X509_get_ext_count(x), 1);
	X509_free(x);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
}

#define T(name)	cmocka_unit_test(name)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_certbuild_serial_is_positive_and_exactly_16_bytes),
		T(test_certbuild_serials_of_2000_draws_are_distinct),
		T(test_certbuild_serial_hex_is_32_lower_case_digits),
		T(test_certbuild_serial_hex_is_the_value_in_hex),
		T(test_certbuild_name_parses_slash_form_most_significant_first),
		T(test_certbuild_name_parses_rfc4514_form_most_specific_first),
		T(test_certbuild_name_forms_give_the_same_name),
		T(test_certbuild_name_unescapes_separators),
		T(test_certbuild_name_keeps_utf8),
		T(test_certbuild_name_refuses_empty_input),
		T(test_certbuild_name_refuses_a_component_without_value),
		T(test_certbuild_name_refuses_empty_components),
		T(test_certbuild_name_refuses_unknown_attribute_types),
		T(test_certbuild_name_refuses_overlong_input),
		T(test_certbuild_name_text_is_rfc2253),
		T(test_certbuild_name_text_is_never_shortened),
		T(test_certbuild_name_text_of_an_empty_name_is_empty),
		T(test_certbuild_digest_is_sha384_for_p384),
		T(test_certbuild_digest_is_sha256_for_p256),
		T(test_certbuild_digest_is_sha256_for_rsa),
		T(test_certbuild_time_round_trips_utctime),
		T(test_certbuild_time_round_trips_generalizedtime),
		T(test_certbuild_time_of_garbage_is_zero),
		T(test_certbuild_new_sets_the_skeleton),
		T(test_certbuild_add_ext_adds_a_critical_extension),
	};

	log_init("test_certbuild", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
