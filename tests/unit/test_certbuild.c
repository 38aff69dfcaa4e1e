/*
 * Certificate-building pieces: serial numbers, names, digests, times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>

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
test_certbuild_serials_are_positive_16_bytes_and_distinct(void **state)
{
	char		*hex[DRAWS];
	ASN1_INTEGER	*s;
	BIGNUM		*bn;
	int		 i;

	(void)state;
	for (i = 0; i < DRAWS; i++) {
		s = certbuild_serial_new();
		assert_non_null(s);
		bn = ASN1_INTEGER_to_BN(s, NULL);
		assert_false(BN_is_negative(bn));
		assert_int_equal(BN_num_bytes(bn), CERTBUILD_SERIAL_LEN);
		hex[i] = certbuild_serial_hex_new(s);
		assert_int_equal(strlen(hex[i]), 2 * CERTBUILD_SERIAL_LEN);
		assert_int_equal(strspn(hex[i], "0123456789abcdef"),
		    strlen(hex[i]));
		BN_free(bn);
		ASN1_INTEGER_free(s);
	}
	qsort(hex, DRAWS, sizeof(hex[0]), cmp_str);
	for (i = 1; i < DRAWS; i++)
		assert_string_not_equal(hex[i - 1], hex[i]);
	for (i = 0; i < DRAWS; i++)
		free(hex[i]);
}

static void
check_name(const char *dn, const char *want)
{
	X509_NAME	*n = certbuild_name_parse(dn);
	char		 buf[256];

	if (want == NULL) {
		assert_null(n);
		return;
	}
	assert_non_null(n);
	X509_NAME_oneline(n, buf, sizeof(buf));
	assert_string_equal(buf, want);
	X509_NAME_free(n);
}

static void
check_cn(const char *dn, const char *want)
{
	X509_NAME	*n = certbuild_name_parse(dn);
	char		 buf[256];

	assert_non_null(n);
	assert_true(X509_NAME_get_text_by_NID(n, NID_commonName, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, want);
	X509_NAME_free(n);
}

static void
test_certbuild_parses_both_name_forms(void **state)
{
	(void)state;
	check_name("/O=b/CN=a", "/O=b/CN=a");
	check_name("CN=a,O=b", "/O=b/CN=a");	/* RFC 4514 order */
	check_name("CN=a, O=b c", "/O=b c/CN=a");
	check_name("/CN=a\\/b", "/CN=a\\/b");	/* oneline escapes '/' */
	check_name("CN=a\\,b", "/CN=a,b");
	check_cn("/CN=a\\/b", "a/b");
}

static void
test_certbuild_refuses_malformed_names(void **state)
{
	(void)state;
	check_name("", NULL);
	check_name("/", NULL);
	check_name("CN", NULL);
	check_name("/CN=a//O=b", NULL);
	check_name("CN=a,", NULL);
	check_name("/NOSUCHTYPE=x", NULL);
	check_name("/CN=", NULL);
}

static void
test_certbuild_digest_follows_the_issuer_key(void **state)
{
	(void)state;
	assert_ptr_equal(certbuild_digest_for(tu_ec_key(0, "P-384")),
	    EVP_sha384());
	assert_ptr_equal(certbuild_digest_for(tu_ec_key(1, "P-256")),
	    EVP_sha256());
	assert_ptr_equal(certbuild_digest_for(tu_rsa_key(0, 2048)),
	    EVP_sha256());
}

static void
test_certbuild_time_round_trips(void **state)
{
	ASN1_TIME	*t;
	time_t		 when = 1893456000;	/* 2030: UTCTime */

	(void)state;
	t = ASN1_TIME_set(NULL, when);
	assert_int_equal(certbuild_time(t), when);
	ASN1_TIME_free(t);
	/* 2051: GeneralizedTime */
	t = ASN1_TIME_set(NULL, (time_t)2556144000LL);
	assert_int_equal(certbuild_time(t), (time_t)2556144000LL);
	ASN1_TIME_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_certbuild_serials_are_positive_16_bytes_and_distinct),
		cmocka_unit_test(test_certbuild_parses_both_name_forms),
		cmocka_unit_test(test_certbuild_refuses_malformed_names),
		cmocka_unit_test(test_certbuild_digest_follows_the_issuer_key),
		cmocka_unit_test(test_certbuild_time_round_trips),
	};

	log_init("test_certbuild", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
