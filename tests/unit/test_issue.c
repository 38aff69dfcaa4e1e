/*
 * The end-entity profile: what reaches an issued certificate from the
 * CSR (subject, key, allowed SANs), what comes from the profile, and
 * which requests can be certified at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "issue.h"
#include "log.h"
#include "testutil.h"

#define CA_DAYS		(20 * 365)	/* longer than any profile here */

struct fixture {
	EVP_PKEY	*ca_key;
	X509		*ca;
	ASN1_INTEGER	*serial;
};

static int
group_setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	log_init("test_issue", LOG_LEVEL_ERROR);
	f->ca_key = tu_rsa_key(0, 2048);
	f->ca = tu_cert(f->ca_key, "Test CA", NULL, NULL,
	    "critical,keyCertSign,cRLSign", 1, CA_DAYS);
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

/*
 * Issues csr under ca with the default profile of days, signs it
 * (so that OpenSSL's extension cache is computed) and returns it.
 */
static X509 *
issue_csr(X509_REQ *csr, X509 *ca, EVP_PKEY *ca_key,
    const ASN1_INTEGER *serial, int days, time_t now)
{
	struct issue_profile	 pf;
	X509			*x;

	issue_profile_default(&pf, days);
	x = issue_cert_new(csr, ca, serial, &pf, now);
	assert_non_null(x);
	assert_true(X509_sign(x, ca_key, certbuild_digest_for(
	    X509_get0_pubkey(ca))) > 0);
	issue_profile_clear(&pf);
	return x;
}

static X509 *
issue_for(struct fixture *f, EVP_PKEY *key, const struct tu_csr_opts *co,
    int days, time_t now)
{
	X509_REQ	*csr = tu_csr(key, co);
	X509		*x;

	x = issue_csr(csr, f->ca, f->ca_key, f->serial, days, now);
	X509_REQ_free(csr);
	return x;
}

/* A leaf for CN=cn with an RSA key, 30 days. */
static X509 *
issue_simple(struct fixture *f, const char *cn)
{
	struct tu_csr_opts	co = { cn, NULL, 0, NULL };

	return issue_for(f, tu_rsa_key(1, 2048), &co, 30, time(NULL));
}

static X509 *
issue_with(struct fixture *f, const struct tu_csr_opts *co,
    const struct issue_profile *pf)
{
	X509_REQ	*csr = tu_csr(tu_rsa_key(1, 2048), co);
	X509		*x;

	x = issue_cert_new(csr, f->ca, f->serial, pf, time(NULL));
	assert_non_null(x);
	assert_true(X509_sign(x, f->ca_key, EVP_sha256()) > 0);
	X509_REQ_free(csr);
	return x;
}

/* A CSR for cn (NULL: empty subject) asking for exts, signed by key. */
static X509_REQ *
csr_with_exts(EVP_PKEY *key, const char *cn, STACK_OF(X509_EXTENSION) *exts)
{
	X509_REQ	*req = X509_REQ_new();
	X509_NAME	*name = X509_NAME_new();

	assert_non_null(req);
	assert_non_null(name);
	if (cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN",
		    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	X509_NAME_free(name);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	return req;
}

static void
push_ext(STACK_OF(X509_EXTENSION) *exts, int nid, const char *value)
{
	X509_EXTENSION	*ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	assert_non_null(ext);
	assert_true(sk_X509_EXTENSION_push(exts, ext) > 0);
}

/* A subjectAltName of a DNS name and a directoryName. */
static void
push_san_with_dirname(STACK_OF(X509_EXTENSION) *exts)
{
	GENERAL_NAMES	*gens = GENERAL_NAMES_new();
	GENERAL_NAME	*gn;
	ASN1_IA5STRING	*dns = ASN1_IA5STRING_new();
	X509_NAME	*dir = X509_NAME_new();

	assert_int_equal(ASN1_STRING_set(dns, "d.example", -1), 1);
	gn = GENERAL_NAME_new();
	GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
	assert_true(sk_GENERAL_NAME_push(gens, gn) > 0);
	assert_int_equal(X509_NAME_add_entry_by_txt(dir, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"dir", -1, -1, 0), 1);
	gn = GENERAL_NAME_new();
	GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dir);
	assert_true(sk_GENERAL_NAME_push(gens, gn) > 0);
	assert_int_equal(X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT), 1);
	GENERAL_NAMES_free(gens);
}

static int
ext_critical(X509 *x, int nid)
{
	int	idx = X509_get_ext_by_NID(x, nid, -1);

	if (idx < 0)
		fail_msg("no %s extension", OBJ_nid2sn(nid));
	return X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

/* The certificate's SANs as "DNS:a;IP:1.2.3.4;..." (printable kinds). */
static void
san_text(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*gn;
	const unsigned char *ip;
	char		 one[128];
	int		 i, type;

	buf[0] = '\0';
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gn = sk_GENERAL_NAME_value(gens, i);
		type = gn->type;
		switch (type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			snprintf(one, sizeof(one), "%s:%.*s",
			    type == GEN_DNS ? "DNS" : type == GEN_EMAIL ?
			    "email" : "URI", ASN1_STRING_length(gn->d.ia5),
			    (const char *)ASN1_STRING_get0_data(gn->d.ia5));
			break;
		case GEN_IPADD:
			ip = ASN1_STRING_get0_data(gn->d.ip);
			assert_int_equal(ASN1_STRING_length(gn->d.ip), 4);
			snprintf(one, sizeof(one), "IP:%d.%d.%d.%d", ip[0],
			    ip[1], ip[2], ip[3]);
			break;
		default:
			snprintf(one, sizeof(one), "type%d", type);
			break;
		}
		if (buf[0] != '\0')
			strncat(buf, ";", len - strlen(buf) - 1);
		strncat(buf, one, len - strlen(buf) - 1);
	}
	GENERAL_NAMES_free(gens);
}

static int
verify_chain(X509 *ca, X509 *leaf)
{
	X509_STORE	*store = X509_STORE_new();
	X509_STORE_CTX	*ctx = X509_STORE_CTX_new();
	int		 r;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx,
	    X509_PURPOSE_SSL_CLIENT), 1);
	r = X509_verify_cert(ctx);
	if (r != 1)
		print_error("chain: %s\n", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

static void
test_issue_subject_comes_from_the_csr(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "device-1");
	X509_NAME	*want = X509_NAME_new();

	X509_NAME_add_entry_by_txt(want, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"device-1", -1, -1, 0);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), want), 0);
	X509_NAME_free(want);
	X509_free(x);
}

static void
test_issue_public_key_comes_from_the_csr(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "ec", NULL, 0, NULL };
	X509			*x = issue_for(f, tu_ec_key(0, "P-256"), &co,
				    30, time(NULL));

	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x),
	    tu_ec_key(0, "P-256")), 1);
	X509_free(x);
}

static void
test_issue_issuer_is_the_ca_subject(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "issuer");

	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(f->ca)), 0);
	X509_free(x);
}

static void
test_issue_uses_the_given_serial_and_version_3(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "serial");

	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    f->serial), 0);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	X509_free(x);
}

static void
test_issue_basic_constraints_are_critical_ca_false(void **state)
{
	struct fixture		*f = *state;
	X509			*x = issue_simple(f, "bc");
	BASIC_CONSTRAINTS	*bc;

	assert_true(ext_critical(x, NID_basic_constraints));
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(x), 0);
	X509_free(x);
}

static void
test_issue_key_usage_for_rsa_adds_key_encipherment(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "rsa");

	assert_true(ext_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	X509_free(x);
}

static void
test_issue_key_usage_for_p256_is_signature_only(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "ec", NULL, 0, NULL };
	X509			*x = issue_for(f, tu_ec_key(0, "P-256"), &co,
				    30, time(NULL));

	assert_true(ext_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	X509_free(x);
}

static void
test_issue_extended_key_usage_is_client_auth_only(void **state)
{
	struct fixture		*f = *state;
	X509			*x = issue_simple(f, "eku");
	EXTENDED_KEY_USAGE	*eku;

	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	X509_free(x);
}

static void
test_issue_subject_key_identifier_is_the_key_hash(void **state)
{
	struct fixture			*f = *state;
	X509				*x = issue_simple(f, "ski");
	const ASN1_OCTET_STRING		*ski;
	unsigned char			 md[EVP_MAX_MD_SIZE];
	unsigned int			 mdlen;

	ski = X509_get0_subject_key_id(x);
	assert_non_null(ski);
	assert_false(ext_critical(x, NID_subject_key_identifier));
	assert_int_equal(X509_pubkey_digest(x, EVP_sha1(), md, &mdlen), 1);
	assert_int_equal(ASN1_STRING_length(ski), (int)mdlen);
	assert_memory_equal(ASN1_STRING_get0_data(ski), md, mdlen);
	X509_free(x);
}

static void
test_issue_authority_key_identifier_is_the_ca_ski(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "aki");

	assert_non_null(X509_get0_authority_key_id(x));
	assert_non_null(X509_get0_subject_key_id(f->ca));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(f->ca)), 0);
	X509_free(x);
}

/* Without SANs: exactly the five extensions of the profile. */
static void
test_issue_adds_only_the_profile_extensions(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "exts");
	static const int want[] = { NID_basic_constraints, NID_key_usage,
	    NID_ext_key_usage, NID_subject_key_identifier,
	    NID_authority_key_identifier };
	size_t		 i;

	assert_int_equal(X509_get_ext_count(x), 5);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_true(X509_get_ext_by_NID(x, want[i], -1) >= 0);
	X509_free(x);
}

static void
test_issue_ignores_extensions_the_csr_asks_for(void **state)
{
	struct fixture			*f = *state;
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	X509_REQ			*csr;
	X509				*x;

	push_ext(exts, NID_basic_constraints, "critical,CA:TRUE");
	push_ext(exts, NID_key_usage, "critical,keyCertSign,cRLSign");
	push_ext(exts, NID_ext_key_usage, "serverAuth,codeSigning");
	push_ext(exts, NID_netscape_comment, "from the client");
	csr = csr_with_exts(tu_rsa_key(1, 2048), "greedy", exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	x = issue_csr(csr, f->ca, f->ca_key, f->serial, 30, time(NULL));
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	assert_int_equal(X509_get_ext_by_NID(x, NID_netscape_comment, -1),
	    -1);
	assert_int_equal(X509_get_ext_count(x), 5);
	X509_free(x);
	X509_REQ_free(csr);
}

static void
test_issue_copies_dns_ip_email_and_uri_sans(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "san", NULL, 0,
	    "DNS:a.example,IP:192.0.2.1,email:x@example.org,"
	    "URI:https://example.org/" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));
	char			 sans[512];

	san_text(x, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:a.example;IP:192.0.2.1;"
	    "email:x@example.org;URI:https://example.org/");
	assert_false(ext_critical(x, NID_subject_alt_name));
	X509_free(x);
}

static void
test_issue_drops_other_name_san(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "on", NULL, 0,
	    "DNS:a.example,otherName:1.2.3.4;UTF8:x,"
	    "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@example" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));
	char			 sans[512];

	san_text(x, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:a.example");
	X509_free(x);
}

static void
test_issue_drops_registered_id_san(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "rid", NULL, 0,
	    "RID:1.2.3.4,email:r@example.org" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));
	char			 sans[512];

	san_text(x, sans, sizeof(sans));
	assert_string_equal(sans, "email:r@example.org");
	X509_free(x);
}

static void
test_issue_drops_directory_name_san(void **state)
{
	struct fixture			*f = *state;
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();
	X509_REQ			*csr;
	X509				*x;
	char				 sans[512];

	push_san_with_dirname(exts);
	csr = csr_with_exts(tu_rsa_key(1, 2048), "dir", exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	x = issue_csr(csr, f->ca, f->ca_key, f->serial, 30, time(NULL));
	san_text(x, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:d.example");
	X509_free(x);
	X509_REQ_free(csr);
}

static void
test_issue_has_no_san_when_only_dropped_kinds_were_asked(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "none-left", NULL, 0,
	    "RID:1.2.3.4,otherName:1.2.3.4;UTF8:x" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));

	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
}

static void
test_issue_has_no_san_when_the_csr_has_none(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "no-san");

	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
}

static void
test_issue_empty_subject_gets_a_critical_san(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { NULL, NULL, 0, "DNS:only.example" };
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 30,
				    time(NULL));
	char			 sans[128];

	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	assert_true(ext_critical(x, NID_subject_alt_name));
	san_text(x, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:only.example");
	X509_free(x);
}

static void
test_issue_not_before_is_backdated(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "nb", NULL, 0, NULL };
	time_t			 now = time(NULL);
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 90,
				    now);

	assert_int_equal(certbuild_time(X509_get0_notBefore(x)),
	    now - ISSUE_BACKDATE_SECONDS);
	X509_free(x);
}

static void
test_issue_not_after_is_now_plus_validity_days(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "na", NULL, 0, NULL };
	time_t			 now = time(NULL);
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co, 365,
				    now);

	assert_int_equal(certbuild_time(X509_get0_notAfter(x)),
	    now + 365 * 86400);
	X509_free(x);
}

/* A CA that expires in 10 days caps a 365-day profile. */
static void
test_issue_validity_is_clamped_to_the_ca_expiry(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "clamped", NULL, 0, NULL };
	X509			*ca, *x;
	X509_REQ		*csr;
	time_t			 now = time(NULL);

	ca = tu_cert(f->ca_key, "Short CA", NULL, NULL,
	    "critical,keyCertSign,cRLSign", 1, 10);
	csr = tu_csr(tu_rsa_key(1, 2048), &co);
	x = issue_csr(csr, ca, f->ca_key, f->serial, 365, now);
	assert_int_equal(certbuild_time(X509_get0_notAfter(x)),
	    certbuild_time(X509_get0_notAfter(ca)));
	assert_true(certbuild_time(X509_get0_notAfter(x)) < now + 11 * 86400);
	assert_int_equal(certbuild_time(X509_get0_notBefore(x)),
	    now - ISSUE_BACKDATE_SECONDS);
	assert_int_equal(verify_chain(ca, x), 1);
	X509_free(x);
	X509_REQ_free(csr);
	X509_free(ca);
}

static void
test_issue_validity_shorter_than_the_ca_is_kept(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "kept", NULL, 0, NULL };
	time_t			 now = time(NULL);
	X509			*x = issue_for(f, tu_rsa_key(1, 2048), &co,
				    CA_DAYS - 2, now);

	assert_int_equal(certbuild_time(X509_get0_notAfter(x)),
	    now + (time_t)(CA_DAYS - 2) * 86400);
	X509_free(x);
}

static void
test_issue_signed_certificate_verifies_with_the_ca_key(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "sig");

	assert_int_equal(X509_verify(x, X509_get0_pubkey(f->ca)), 1);
	/* And not with another key. */
	assert_int_not_equal(X509_verify(x, tu_rsa_key(1, 2048)), 1);
	X509_free(x);
}

static void
test_issue_chain_verifies_for_client_auth(void **state)
{
	struct fixture	*f = *state;
	X509		*x = issue_simple(f, "chain");

	assert_int_equal(verify_chain(f->ca, x), 1);
	X509_free(x);
}

/* An EC P-384 CA signs with SHA-384; an EC leaf verifies under it. */
static void
test_issue_chain_verifies_under_an_ec_ca(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "ec-leaf", NULL, 0, "DNS:e.example" };
	EVP_PKEY		*ca_key = tu_ec_key(1, "P-384");
	X509			*ca, *x;
	X509_REQ		*csr;

	ca = tu_cert(ca_key, "EC CA", NULL, NULL,
	    "critical,keyCertSign,cRLSign", 1, 3650);
	csr = tu_csr(tu_ec_key(0, "P-256"), &co);
	x = issue_csr(csr, ca, ca_key, f->serial, 30, time(NULL));
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA384);
	assert_int_equal(X509_verify(x, ca_key), 1);
	assert_int_equal(verify_chain(ca, x), 1);
	X509_free(x);
	X509_REQ_free(csr);
	X509_free(ca);
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
}

static void
test_issue_profile_without_eku_adds_none(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "no-eku", NULL, 0, NULL };
	struct issue_profile	 pf;
	X509			*x;

	issue_profile_default(&pf, 30);
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
	X509			*x;
	char			 sans[256];

	issue_profile_default(&pf, 30);
	pf.san_types = ISSUE_SAN_DNS;
	x = issue_with(f, &co, &pf);
	san_text(x, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:a.example");
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
	char			*text;

	issue_profile_default(&pf, 30);
	pf.subject_suffix = certbuild_name_parse("O=Example,C=DE");
	assert_non_null(pf.subject_suffix);
	x = issue_with(f, &co, &pf);
	text = certbuild_name_text_new(X509_get_subject_name(x));
	assert_non_null(text);
	assert_string_equal(text, "CN=host-7,O=Example,C=DE");
	free(text);
	X509_free(x);
	issue_profile_clear(&pf);
	assert_null(pf.subject_suffix);
}

static void
test_issue_names_key_usage_bits(void **state)
{
	(void)state;
	assert_int_equal(issue_key_usage_bit("digitalSignature"),
	    KU_DIGITAL_SIGNATURE);
	assert_int_equal(issue_key_usage_bit("keyEncipherment"),
	    KU_KEY_ENCIPHERMENT);
	assert_int_equal(issue_key_usage_bit("keyCertSign"), 0);
	assert_int_equal(issue_key_usage_bit("nonsense"), 0);
}

/* issue_check_request() on a CSR; 0 or -1, and a reason on -1. */
static int
check_request(EVP_PKEY *key, const char *cn, const char *san)
{
	struct tu_csr_opts	 co = { cn, NULL, 0, san };
	X509_REQ		*csr = tu_csr(key, &co);
	char			 why[256] = "";
	int			 r;

	r = issue_check_request(csr, why, sizeof(why));
	if (r == -1)
		assert_string_not_equal(why, "");
	X509_REQ_free(csr);
	return r;
}

/* A CSR whose only subjectAltName is gn (taken). */
static X509_REQ *
csr_with_san(EVP_PKEY *key, GENERAL_NAME *gn)
{
	struct tu_csr_opts		 co = { "host", NULL, 0, NULL };
	X509_REQ			*csr = tu_csr(key, &co);
	GENERAL_NAMES			*gens = GENERAL_NAMES_new();
	STACK_OF(X509_EXTENSION)	*exts = sk_X509_EXTENSION_new_null();

	sk_GENERAL_NAME_push(gens, gn);
	X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, 0);
	X509_REQ_add_extensions(csr, exts);
	X509_REQ_sign(csr, key, EVP_sha256());
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return csr;
}

/*
 * What the policy judges must be what the certificate carries: a DNS
 * name with a NUL in it, or an 8-byte "IP address", is refused.
 */
static void
test_issue_check_refuses_malformed_alt_names(void **state)
{
	GENERAL_NAME	*gn;
	X509_REQ	*csr;
	char		 why[256];

	(void)state;
	gn = GENERAL_NAME_new();
	gn->type = GEN_DNS;
	gn->d.dNSName = ASN1_IA5STRING_new();
	ASN1_STRING_set(gn->d.dNSName, "ok.example\0.evil.example", 24);
	csr = csr_with_san(tu_rsa_key(1, 2048), gn);
	assert_int_equal(issue_check_request(csr, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "subjectAltName is malformed"));
	X509_REQ_free(csr);
	gn = GENERAL_NAME_new();
	gn->type = GEN_IPADD;
	gn->d.iPAddress = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(gn->d.iPAddress,
	    (const unsigned char *)"\x0a\0\0\0\xff\0\0\0", 8);
	csr = csr_with_san(tu_rsa_key(1, 2048), gn);
	assert_int_equal(issue_check_request(csr, why, sizeof(why)), -1);
	X509_REQ_free(csr);
	assert_int_equal(check_request(tu_rsa_key(1, 2048), "fine",
	    "DNS:ok.example,email:a@example.com,URI:https://x.example/"), 0);
}

static void
test_issue_check_refuses_rsa_1024(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_rsa_key(2, 1024), "weak", NULL), -1);
}

static void
test_issue_check_accepts_rsa_2048(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_rsa_key(1, 2048), "ok", NULL), 0);
}

static void
test_issue_check_accepts_ec_p256(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_ec_key(0, "P-256"), "ok", NULL), 0);
}

static void
test_issue_check_accepts_ec_p384(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_ec_key(1, "P-384"), "ok", NULL), 0);
}

static void
test_issue_check_refuses_ec_secp256k1(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_ec_key(2, "secp256k1"), "k1", NULL),
	    -1);
}

static void
test_issue_check_refuses_ed25519(void **state)
{
	EVP_PKEY	*key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509_REQ	*req = X509_REQ_new();
	X509_NAME	*name = X509_NAME_new();
	char		 why[256] = "";

	(void)state;
	assert_non_null(key);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"ed", -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	assert_true(X509_REQ_sign(req, key, NULL) > 0);
	assert_int_equal(issue_check_request(req, why, sizeof(why)), -1);
	assert_string_not_equal(why, "");
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

static void
test_issue_check_refuses_an_empty_subject_without_san(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_rsa_key(1, 2048), NULL, NULL), -1);
}

static void
test_issue_check_accepts_an_empty_subject_with_dns_san(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_rsa_key(1, 2048), NULL,
	    "DNS:x.example"), 0);
}

/* A SAN of a kind we do not copy does not count as a name. */
static void
test_issue_check_refuses_empty_subject_with_dropped_sans(void **state)
{
	(void)state;
	assert_int_equal(check_request(tu_rsa_key(1, 2048), NULL,
	    "RID:1.2.3"), -1);
}

#define T(name)	cmocka_unit_test(name)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_issue_subject_comes_from_the_csr),
		T(test_issue_public_key_comes_from_the_csr),
		T(test_issue_issuer_is_the_ca_subject),
		T(test_issue_uses_the_given_serial_and_version_3),
		T(test_issue_basic_constraints_are_critical_ca_false),
		T(test_issue_key_usage_for_rsa_adds_key_encipherment),
		T(test_issue_key_usage_for_p256_is_signature_only),
		T(test_issue_extended_key_usage_is_client_auth_only),
		T(test_issue_subject_key_identifier_is_the_key_hash),
		T(test_issue_authority_key_identifier_is_the_ca_ski),
		T(test_issue_adds_only_the_profile_extensions),
		T(test_issue_ignores_extensions_the_csr_asks_for),
		T(test_issue_copies_dns_ip_email_and_uri_sans),
		T(test_issue_drops_other_name_san),
		T(test_issue_drops_registered_id_san),
		T(test_issue_drops_directory_name_san),
		T(test_issue_has_no_san_when_only_dropped_kinds_were_asked),
		T(test_issue_has_no_san_when_the_csr_has_none),
		T(test_issue_empty_subject_gets_a_critical_san),
		T(test_issue_not_before_is_backdated),
		T(test_issue_not_after_is_now_plus_validity_days),
		T(test_issue_validity_is_clamped_to_the_ca_expiry),
		T(test_issue_validity_shorter_than_the_ca_is_kept),
		T(test_issue_signed_certificate_verifies_with_the_ca_key),
		T(test_issue_chain_verifies_for_client_auth),
		T(test_issue_chain_verifies_under_an_ec_ca),
		T(test_issue_profile_chooses_usages),
		T(test_issue_profile_without_eku_adds_none),
		T(test_issue_profile_limits_san_kinds),
		T(test_issue_profile_rewrites_the_subject_to_a_suffix),
		T(test_issue_names_key_usage_bits),
		T(test_issue_check_refuses_malformed_alt_names),
		T(test_issue_check_refuses_rsa_1024),
		T(test_issue_check_accepts_rsa_2048),
		T(test_issue_check_accepts_ec_p256),
		T(test_issue_check_accepts_ec_p384),
		T(test_issue_check_refuses_ec_secp256k1),
		T(test_issue_check_refuses_ed25519),
		T(test_issue_check_refuses_an_empty_subject_without_san),
		T(test_issue_check_accepts_an_empty_subject_with_dns_san),
		T(test_issue_check_refuses_empty_subject_with_dropped_sans),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
