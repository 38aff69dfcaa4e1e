/*
 * The end-entity profile: what reaches an issued certificate from the
 * CSR (subject, key, allowed SANs) and what comes from the profile.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "issue.h"
#include "log.h"
#include "testutil.h"

struct fixture {
	EVP_PKEY	*ca_key;
	X509		*ca;
	ASN1_INTEGER	*serial;
};

static int
group_setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	log_init("test_issue", LOG_LEVEL_ERROR);
	f->ca_key = tu_rsa_key(0, 2048);
	/* Valid for 20 years from now: long enough for any profile here. */
	f->ca = tu_cert(f->ca_key, "Test CA", NULL, NULL,
	    "critical,keyCertSign,cRLSign", 1, 20 * 365);
	f->serial = certbuild_serial_new();
	*state = f;
	return f->serial ? 0 : -1;
}

static int
group_teardown(void **state)
{
	struct fixture	*f = *state;

	X509_free(f->ca);
	ASN1_INTEGER_free(f->serial);
	free(f);
	return 0;
}

static X509 *
issue_for(struct fixture *f, EVP_PKEY *key, const struct tu_csr_opts *co,
    int days, time_t now)
{
	struct issue_profile	 pf;
	X509_REQ		*csr = tu_csr(key, co);
	X509			*x;

	issue_profile_default(&pf, days);
	x = issue_cert_new(csr, f->ca, f->serial, &pf, now);
	assert_non_null(x);
	assert_true(X509_sign(x, f->ca_key, EVP_sha256()) > 0);
	X509_REQ_free(csr);
	return x;
}

static int
ext_critical(X509 *x, int nid)
{
	int	idx = X509_get_ext_by_NID(x, nid, -1);

	assert_true(idx >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

static void
test_issue_takes_subject_and_key_from_the_csr(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "device-1", NULL, 0, NULL };
	EVP_PKEY		*key = tu_rsa_key(1, 2048);
	X509			*x = issue_for(f, key, &co, 30, time(NULL));
	X509_NAME		*want = X509_NAME_new();

	X509_NAME_add_entry_by_txt(want, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"device-1", -1, -1, 0);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), want), 0);
	X509_NAME_free(want);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(f->ca)), 0);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    f->serial), 0);
	assert_int_equal(X509_verify(x, f->ca_key), 1);
	X509_free(x);
}

static void
test_issue_profile_for_rsa_keys(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "rsa", NULL, 0, NULL };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));

	assert_int_equal(X509_check_ca(x), 0);
	assert_true(ext_critical(x, NID_basic_constraints));
	assert_true(ext_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(f->ca)), 0);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
}

static void
test_issue_profile_for_ec_keys_has_no_key_encipherment(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "ec", NULL, 0, NULL };
	X509			*x = issue_for(f, tu_ec_key(0, "P-256"), &co, 30,
				    time(NULL));

	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	X509_free(x);
}

static void
test_issue_copies_only_allowed_san_kinds(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "san", NULL, 0,
	    "DNS:a.example,IP:192.0.2.1,email:x@example.org,"
	    "URI:https://example.org/,RID:1.2.3.4,"
	    "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@example" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));
	GENERAL_NAMES		*gens;
	int			 kinds = 0, i;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 4);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		kinds |= 1 << sk_GENERAL_NAME_value(gens, i)->type;
	assert_int_equal(kinds, 1 << GEN_DNS | 1 << GEN_IPADD |
	    1 << GEN_EMAIL | 1 << GEN_URI);
	assert_false(ext_critical(x, NID_subject_alt_name));
	GENERAL_NAMES_free(gens);
	X509_free(x);
}

static void
test_issue_empty_subject_gets_critical_san(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { NULL, NULL, 0, "DNS:only.example" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));

	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	assert_true(ext_critical(x, NID_subject_alt_name));
	X509_free(x);
}

static void
test_issue_validity_is_backdated_and_sized_by_profile(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "v", NULL, 0, NULL };
	time_t			 now = time(NULL);
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 90,
				    now);

	assert_int_equal(certbuild_time(X509_get0_notBefore(x)),
	    now - ISSUE_BACKDATE_SECONDS);
	assert_int_equal(certbuild_time(X509_get0_notAfter(x)),
	    now + 90 * 86400);
	X509_free(x);
}

static void
test_issue_never_outlives_the_ca(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "long", NULL, 0, NULL };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co,
				    100 * 365, time(NULL));

	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(f->ca)), 0);
	X509_free(x);
}

static void
test_issue_chain_verifies_for_client_auth(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "chain", NULL, 0, NULL };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));
	X509_STORE		*store = X509_STORE_new();
	X509_STORE_CTX		*ctx = X509_STORE_CTX_new();

	X509_STORE_add_cert(store, f->ca);
	X509_STORE_CTX_init(ctx, store, x, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
}

static X509 *
issue_with(struct fixture *f, const struct tu_csr_opts *co,
    const struct issue_profile *pf)
{
	X509_REQ	*csr = tu_csr(tu_rsa_key(1, 2048), co);
	X509		*x;

	x = issue_cert_new(csr, f->ca, f->serial, pf, time(NULL));
	assert_non_null(x);
	/* Signed, so that OpenSSL's extension cache can be computed. */
	assert_true(X509_sign(x, f->ca_key, EVP_sha256()) > 0);
	X509_REQ_free(csr);
	return x;
}

static void
test_issue_profile_chooses_usages(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "srv", NULL, 0, NULL };
	struct issue_profile	 pf;
	X509			*x;

	issue_profile_default(&pf, 30);
	pf.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT;
	snprintf(pf.ext_key_usage, sizeof(pf.ext_key_usage),
	    "serverAuth,clientAuth");
	x = issue_with(f, &co, &pf);
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
	assert_int_equal(X509_get_extended_key_usage(x),
	    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	X509_free(x);
	pf.ext_key_usage[0] = '\0';
	x = issue_with(f, &co, &pf);
	assert_int_equal(X509_get_ext_by_NID(x, NID_ext_key_usage, -1), -1);
	X509_free(x);
}

static void
test_issue_profile_limits_san_kinds(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "s", NULL, 0,
				    "DNS:a.example,IP:10.0.0.1,email:x@example" };
	struct issue_profile	 pf;
	GENERAL_NAMES		*gens;
	X509			*x;

	issue_profile_default(&pf, 30);
	pf.san_types = ISSUE_SAN_DNS;
	x = issue_with(f, &co, &pf);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	assert_int_equal(sk_GENERAL_NAME_value(gens, 0)->type, GEN_DNS);
	GENERAL_NAMES_free(gens);
	X509_free(x);
	pf.san_types = 0;
	x = issue_with(f, &co, &pf);
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
}

static void
test_issue_profile_rewrites_the_subject_to_a_suffix(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "host-7", NULL, 0, NULL };
	struct issue_profile	 pf;
	X509			*x;
	char			 text[256];

	issue_profile_default(&pf, 30);
	pf.subject_suffix = certbuild_name_parse("O=Example,C=DE");
	assert_non_null(pf.subject_suffix);
	x = issue_with(f, &co, &pf);
	assert_int_equal(certbuild_name_text(X509_get_subject_name(x), text,
	    sizeof(text)), 0);
	assert_string_equal(text, "CN=host-7,O=Example,C=DE");
	X509_free(x);
	issue_profile_clear(&pf);
	assert_null(pf.subject_suffix);
}

static void
check_request(EVP_PKEY *key, const char *cn, const char *san, int ok)
{
	struct tu_csr_opts	 co = { cn, NULL, 0, san };
	X509_REQ		*csr = tu_csr(key, &co);
	char			 why[256] = "";

	assert_int_equal(issue_check_request(csr, why, sizeof(why)),
	    ok ? 0 : -1);
	if (!ok)
		assert_string_not_equal(why, "");
	X509_REQ_free(csr);
}

static void
test_issue_refuses_weak_or_unknown_keys(void **state)
{
	EVP_PKEY	*rsa1024 = EVP_RSA_gen(1024);

	(void)state;
	check_request(rsa1024, "weak", NULL, 0);
	check_request(tu_rsa_key(1, 2048), "ok", NULL, 1);
	check_request(tu_ec_key(0, "P-256"), "ok", NULL, 1);
	check_request(tu_ec_key(1, "P-384"), "ok", NULL, 1);
	check_request(tu_ec_key(2, "secp256k1"), "k1", NULL, 0);
	EVP_PKEY_free(rsa1024);
}

static void
test_issue_refuses_a_request_naming_nobody(void **state)
{
	(void)state;
	check_request(tu_rsa_key(1, 2048), NULL, NULL, 0);
	check_request(tu_rsa_key(1, 2048), NULL, "DNS:x.example", 1);
	/* A SAN of a kind we do not copy does not count as a name. */
	check_request(tu_rsa_key(1, 2048), NULL, "RID:1.2.3", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_takes_subject_and_key_from_the_csr),
		cmocka_unit_test(test_issue_profile_for_rsa_keys),
		cmocka_unit_test(
		    test_issue_profile_for_ec_keys_has_no_key_encipherment),
		cmocka_unit_test(test_issue_copies_only_allowed_san_kinds),
		cmocka_unit_test(test_issue_empty_subject_gets_critical_san),
		cmocka_unit_test(
		    test_issue_validity_is_backdated_and_sized_by_profile),
		cmocka_unit_test(test_issue_never_outlives_the_ca),
		cmocka_unit_test(test_issue_chain_verifies_for_client_auth),
		cmocka_unit_test(test_issue_refuses_weak_or_unknown_keys),
		cmocka_unit_test(test_issue_refuses_a_request_naming_nobody),
		cmocka_unit_test(test_issue_profile_chooses_usages),
		cmocka_unit_test(test_issue_profile_limits_san_kinds),
		cmocka_unit_test(
		    test_issue_profile_rewrites_the_subject_to_a_suffix),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
