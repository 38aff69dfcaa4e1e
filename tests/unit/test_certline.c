/*
 * The CA key's line (src/certline.c): an end-entity certificate of
 * this CA passes; each way a worker could try to get something else
 * signed is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "certline.h"
#include "testutil.h"

struct fixture {
	EVP_PKEY	*ca_key;
	X509		*ca;
	X509		*other_ca;	/* same name, another key */
	EVP_PKEY	*leaf_key;
};

static int
setup(void **state)
{
	static struct fixture	f;

	f.ca_key = tu_rsa_key(0, 2048);
	f.ca = tu_cert(f.ca_key, "Line CA", NULL, NULL,
	    "critical,keyCertSign,cRLSign", 1, 3650);
	f.other_ca = tu_cert(tu_rsa_key(1, 2048), "Line CA", NULL, NULL,
	    "critical,keyCertSign,cRLSign", 1, 3650);
	f.leaf_key = tu_rsa_key(2, 2048);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	X509_free(f->ca);
	X509_free(f->other_ca);
	return 0;
}

/*
 * x as the key process gets it: signed by any key (the worker lays it
 * out so), then from DER (no cached extension flags).
 */
static X509 *
reparsed(X509 *x)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	X509			*y;
	int			 n;

	assert_true(X509_sign(x, tu_rsa_key(2, 2048), EVP_sha256()) > 0);
	assert_true((n = i2d_X509(x, &der)) > 0);
	p = der;
	assert_non_null(y = d2i_X509(NULL, &p, n));
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

/* A certificate as scepd issues it; aki_from: whose key id, or NULL. */
static X509 *
leaf(struct fixture *f, const ASN1_INTEGER *serial, long days,
    const char *bc, const char *ku, X509 *aki_from)
{
	X509_NAME	*subject = certbuild_name_parse("CN=leaf");
	ASN1_INTEGER	*fresh = NULL;
	X509		*x;
	time_t		 now = time(NULL);

	assert_non_null(subject);
	if (serial == NULL)
		serial = fresh = certbuild_serial_new();
	x = certbuild_new(subject, X509_get_subject_name(f->ca), f->leaf_key,
	    serial, now - 60, now + days * 86400);
	assert_non_null(x);
	if (bc != NULL)
		assert_int_equal(certbuild_add_ext(x, f->ca,
		    NID_basic_constraints, bc), 0);
	if (ku != NULL)
		assert_int_equal(certbuild_add_ext(x, f->ca, NID_key_usage,
		    ku), 0);
	if (aki_from != NULL)
		assert_int_equal(certbuild_add_ext(x, aki_from,
		    NID_authority_key_identifier, "keyid:always"), 0);
	X509_NAME_free(subject);
	ASN1_INTEGER_free(fresh);
	return reparsed(x);
}

static void
test_certline_passes_an_end_entity_certificate(void **state)
{
	struct fixture	*f = *state;
	X509		*x = leaf(f, NULL, 365, "critical,CA:FALSE",
			    "critical,digitalSignature,keyEncipherment", f->ca);

	assert_null(certline_refusal(x, f->ca));
	X509_free(x);
}

static void
test_certline_refuses_a_ca_certificate(void **state)
{
	struct fixture	*f = *state;
	X509		*x = leaf(f, NULL, 365, "critical,CA:TRUE", NULL, f->ca);

	assert_non_null(certline_refusal(x, f->ca));
	X509_free(x);
}

static void
test_certline_refuses_certificate_and_crl_signing(void **state)
{
	struct fixture	*f = *state;
	X509		*a = leaf(f, NULL, 365, "critical,CA:FALSE",
			    "critical,digitalSignature,keyCertSign", f->ca);
	X509		*b = leaf(f, NULL, 365, "critical,CA:FALSE",
			    "critical,cRLSign", f->ca);

	assert_non_null(certline_refusal(a, f->ca));
	assert_non_null(certline_refusal(b, f->ca));
	X509_free(a);
	X509_free(b);
}

static void
test_certline_refuses_another_issuer(void **state)
{
	struct fixture	*f = *state;
	X509		*x = leaf(f, NULL, 365, "critical,CA:FALSE", NULL, f->ca);
	X509_NAME	*other = certbuild_name_parse("CN=Someone Else");

	assert_int_equal(X509_set_issuer_name(x, other), 1);
	x = reparsed(x);
	assert_non_null(certline_refusal(x, f->ca));
	X509_NAME_free(other);
	X509_free(x);
}

static void
test_certline_refuses_another_keys_identifier(void **state)
{
	struct fixture	*f = *state;
	X509		*other = leaf(f, NULL, 365, "critical,CA:FALSE", NULL,
			    f->other_ca);
	X509		*none = leaf(f, NULL, 365, "critical,CA:FALSE", NULL,
			    NULL);

	assert_non_null(certline_refusal(other, f->ca));
	assert_non_null(certline_refusal(none, f->ca));
	X509_free(other);
	X509_free(none);
}

static void
test_certline_refuses_short_or_negative_serials(void **state)
{
	struct fixture	*f = *state;
	ASN1_INTEGER	*small = ASN1_INTEGER_new();
	BIGNUM		*bn = NULL;
	ASN1_INTEGER	*neg;
	X509		*a, *b;

	assert_int_equal(ASN1_INTEGER_set(small, 4711), 1);
	assert_int_not_equal(BN_hex2bn(&bn,
	    "-7F0102030405060708090A0B0C0D0E0F"), 0);
	assert_non_null(neg = BN_to_ASN1_INTEGER(bn, NULL));
	a = leaf(f, small, 365, "critical,CA:FALSE", NULL, f->ca);
	b = leaf(f, neg, 365, "critical,CA:FALSE", NULL, f->ca);
	assert_non_null(certline_refusal(a, f->ca));
	assert_non_null(certline_refusal(b, f->ca));
	X509_free(a);
	X509_free(b);
	ASN1_INTEGER_free(small);
	ASN1_INTEGER_free(neg);
	BN_free(bn);
}

static void
test_certline_refuses_outliving_the_ca(void **state)
{
	struct fixture	*f = *state;
	X509		*x = leaf(f, NULL, 4000, "critical,CA:FALSE", NULL,
			    f->ca);

	assert_non_null(certline_refusal(x, f->ca));
	X509_free(x);
}

static void
test_certline_refuses_version_1(void **state)
{
	struct fixture	*f = *state;
	X509		*x = leaf(f, NULL, 365, NULL, NULL, NULL);

	assert_int_equal(X509_set_version(x, X509_VERSION_1), 1);
	x = reparsed(x);
	assert_non_null(certline_refusal(x, f->ca));
	X509_free(x);
}

static void
test_certline_allows_only_sha2_digests(void **state)
{
	(void)state;
	assert_true(certline_digest_allowed(NID_sha256));
	assert_true(certline_digest_allowed(NID_sha384));
	assert_true(certline_digest_allowed(NID_sha512));
	assert_false(certline_digest_allowed(NID_sha1));
	assert_false(certline_digest_allowed(NID_md5));
	assert_false(certline_digest_allowed(NID_undef));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certline_passes_an_end_entity_certificate),
		cmocka_unit_test(test_certline_refuses_a_ca_certificate),
		cmocka_unit_test(test_certline_refuses_certificate_and_crl_signing),
		cmocka_unit_test(test_certline_refuses_another_issuer),
		cmocka_unit_test(test_certline_refuses_another_keys_identifier),
		cmocka_unit_test(test_certline_refuses_short_or_negative_serials),
		cmocka_unit_test(test_certline_refuses_outliving_the_ca),
		cmocka_unit_test(test_certline_refuses_version_1),
		cmocka_unit_test(test_certline_allows_only_sha2_digests),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
