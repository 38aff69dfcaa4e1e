/*
 * Issuance profile for SCEP clients.  Nothing the client asked for
 * reaches the certificate except its subject, its key and the kinds of
 * subjectAltName we allow.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "issue.h"
#include "log.h"

static const struct {
	unsigned	 bit;
	const char	*name;
} issue_key_usages[] = {
	{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
	{ KU_NON_REPUDIATION, "nonRepudiation" },
	{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
	{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
	{ KU_KEY_AGREEMENT, "keyAgreement" },
};

#define ISSUE_N_KEY_USAGES \
	(sizeof(issue_key_usages) / sizeof(issue_key_usages[0]))

void
issue_profile_default(struct issue_profile *pf, int validity_days)
{
	memset(pf, 0, sizeof(*pf));
	pf->validity_days = validity_days;
	pf->key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	snprintf(pf->ext_key_usage, sizeof(pf->ext_key_usage), "clientAuth");
	pf->san_types = ISSUE_SAN_ALL;
}

void
issue_profile_clear(struct issue_profile *pf)
{
	X509_NAME_free(pf->subject_suffix);
	pf->subject_suffix = NULL;
}

unsigned
issue_key_usage_bit(const char *name)
{
	size_t	i;

	for (i = 0; i < ISSUE_N_KEY_USAGES; i++)
		if (strcmp(issue_key_usages[i].name, name) == 0)
			return issue_key_usages[i].bit;
	return 0;
}

static int
issue_san_allowed(int type, unsigned types)
{
	switch (type) {
	case GEN_DNS:
		return (types & ISSUE_SAN_DNS) != 0;
	case GEN_IPADD:
		return (types & ISSUE_SAN_IP) != 0;
	case GEN_EMAIL:
		return (types & ISSUE_SAN_EMAIL) != 0;
	case GEN_URI:
		return (types & ISSUE_SAN_URI) != 0;
	default:
		return 0;
	}
}

/* Returns the CSR's subjectAltName names of the given kinds, or NULL. */
static GENERAL_NAMES *
issue_csr_sans(const X509_REQ *csr, unsigned types)
{
	STACK_OF(X509_EXTENSION)	*exts;
	GENERAL_NAMES			*all, *kept = NULL;
	GENERAL_NAME			*gn;
	int				 i;

	if ((exts = X509_REQ_get_extensions((X509_REQ *)csr)) == NULL)
		return NULL;
	all = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (all == NULL)
		return NULL;
	for (i = 0; i < sk_GENERAL_NAME_num(all); i++) {
		gn = sk_GENERAL_NAME_value(all, i);
		if (!issue_san_allowed(gn->type, types))
			continue;
		if (kept == NULL && (kept = GENERAL_NAMES_new()) == NULL)
			break;
		if (sk_GENERAL_NAME_push(kept, gn) <= 0)
			break;
		sk_GENERAL_NAME_set(all, i, NULL);	/* moved to kept */
	}
	sk_GENERAL_NAME_pop_free(all, GENERAL_NAME_free);
	return kept;
}

static int
issue_key_ok(EVP_PKEY *pub, char *why, size_t whylen)
{
	char	curve[64];
	size_t	len;

	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pub) >= ISSUE_RSA_MIN_BITS)
			return 0;
		snprintf(why, whylen, "RSA keys must have at least %d bits, "
		    "not %d", ISSUE_RSA_MIN_BITS, EVP_PKEY_get_bits(pub));
		return -1;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pub, "group", curve,
		    sizeof(curve), &len) == 1 &&
		    (strcmp(curve, "prime256v1") == 0 ||
		    strcmp(curve, "secp384r1") == 0 ||
		    strcmp(curve, "secp521r1") == 0))
			return 0;
		snprintf(why, whylen, "EC keys must be on P-256, P-384 or "
		    "P-521");
		return -1;
	default:
		snprintf(why, whylen, "unsupported public key type %s",
		    OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
		return -1;
	}
}

/*
 * The names a certificate would carry must read the same to everyone:
 * an IA5 name with a NUL or a control character, or an IP address
 * that is neither 4 nor 16 bytes, is refused, not passed on.
 */
static int
issue_sans_ok(const X509_REQ *csr, char *why, size_t whylen)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	const ASN1_STRING	*v;
	const unsigned char	*p;
	int			 i, j, len, ok = 1;

	if ((sans = issue_csr_sans(csr, ISSUE_SAN_ALL)) == NULL)
		return 0;
	for (i = 0; ok && i < sk_GENERAL_NAME_num(sans); i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		v = gn->type == GEN_IPADD ? gn->d.iPAddress : gn->d.ia5;
		len = ASN1_STRING_length(v);
		p = ASN1_STRING_get0_data(v);
		if (gn->type == GEN_IPADD) {
			ok = len == 4 || len == 16;
			continue;
		}
		for (j = 0; j < len; j++)
			if (p[j] < 0x20 || p[j] > 0x7e)
				ok = 0;
	}
	GENERAL_NAMES_free(sans);
	if (!ok)
		snprintf(why, whylen, "a subjectAltName is malformed (a control "
		    "character in a name, or an IP address of neither 4 nor "
		    "16 bytes)");
	return ok ? 0 : -1;
}

int
issue_check_request(const X509_REQ *csr, char *why, size_t whylen)
{
	EVP_PKEY	*pub;
	GENERAL_NAMES	*sans;
	int		 empty;

	if ((pub = X509_REQ_get0_pubkey((X509_REQ *)csr)) == NULL) {
		snprintf(why, whylen, "unreadable public key");
		return -1;
	}
	if (issue_key_ok(pub, why, whylen) == -1 ||
	    issue_sans_ok(csr, why, whylen) == -1)
		return -1;
	empty = X509_NAME_entry_count(X509_REQ_get_subject_name(csr)) == 0;
	sans = issue_csr_sans(csr, ISSUE_SAN_ALL);
	GENERAL_NAMES_free(sans);
	if (empty && sans == NULL) {
		snprintf(why, whylen, "the request has neither a subject nor "
		    "a subjectAltName");
		return -1;
	}
	return 0;
}

static int
issue_add_sans(X509 *x, const X509_REQ *csr, unsigned types)
{
	GENERAL_NAMES	*sans;
	int		 critical, rc = 0;

	if ((sans = issue_csr_sans(csr, types)) == NULL)
		return 0;
	/* RFC 5280 4.2.1.6: critical when the subject is empty. */
	critical = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, sans, critical,
	    X509V3_ADD_DEFAULT) != 1) {
		log_ssl("%s", __func__);
		rc = -1;
	}
	GENERAL_NAMES_free(sans);
	return rc;
}

X509_NAME *
issue_subject_new(const X509_REQ *csr, const struct issue_profile *pf)
{
	const X509_NAME	*req = X509_REQ_get_subject_name(csr);
	X509_NAME	*name;
	X509_NAME_ENTRY	*e;
	int		 i = -1;

	if (pf->subject_suffix == NULL)
		return X509_NAME_dup(req);
	if ((name = X509_NAME_dup(pf->subject_suffix)) == NULL)
		return NULL;
	/* The suffix is fixed; only the CSR's common names are kept. */
	while ((i = X509_NAME_get_index_by_NID(req, NID_commonName, i)) >= 0) {
		e = X509_NAME_get_entry(req, i);
		if (X509_NAME_add_entry(name, e, -1, 0) != 1) {
			X509_NAME_free(name);
			return NULL;
		}
	}
	return name;
}

/* "critical, digitalSignature, ..." for the key, or NULL if empty. */
static int
issue_key_usage_text(const struct issue_profile *pf, EVP_PKEY *pub,
    char *buf, size_t len)
{
	unsigned	bits = pf->key_usage;
	size_t		i;

	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
		bits &= ~(unsigned)(KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT);
	if (bits == 0)
		return 0;
	snprintf(buf, len, "critical");
	for (i = 0; i < ISSUE_N_KEY_USAGES; i++)
		if (bits & issue_key_usages[i].bit) {
			strncat(buf, ", ", len - strlen(buf) - 1);
			strncat(buf, issue_key_usages[i].name,
			    len - strlen(buf) - 1);
		}
	return 1;
}

X509 *
issue_cert_new(const X509_REQ *csr, X509 *ca_cert,
    const ASN1_INTEGER *serial, const struct issue_profile *pf, time_t now)
{
	X509		*x = NULL;
	X509_NAME	*subject = NULL;
	EVP_PKEY	*pub;
	time_t		 not_before, not_after;
	struct tm	 ca_end;
	char		 usage[256];

	pub = X509_REQ_get0_pubkey((X509_REQ *)csr);
	not_before = now - ISSUE_BACKDATE_SECONDS;
	not_after = now + (time_t)pf->validity_days * 86400;
	/* Never outlive the CA: the chain would be invalid before we are. */
	if (ASN1_TIME_to_tm(X509_get0_notAfter(ca_cert), &ca_end) == 1 &&
	    timegm(&ca_end) < not_after)
		not_after = timegm(&ca_end);
	if ((subject = issue_subject_new(csr, pf)) == NULL ||
	    (x = certbuild_new(subject, X509_get_subject_name(ca_cert), pub,
	    serial, not_before, not_after)) == NULL)
		goto fail;
	if (certbuild_add_ext(x, ca_cert, NID_basic_constraints,
	    "critical, CA:FALSE") == -1 ||
	    (issue_key_usage_text(pf, pub, usage, sizeof(usage)) &&
	    certbuild_add_ext(x, ca_cert, NID_key_usage, usage) == -1) ||
	    (pf->ext_key_usage[0] != '\0' &&
	    certbuild_add_ext(x, ca_cert, NID_ext_key_usage,
	    pf->ext_key_usage) == -1) ||
	    certbuild_add_ext(x, ca_cert, NID_subject_key_identifier,
	    "hash") == -1 ||
	    certbuild_add_ext(x, ca_cert, NID_authority_key_identifier,
	    "keyid:always") == -1 ||
	    issue_add_sans(x, csr, pf->san_types) == -1)
		goto fail;
	X509_NAME_free(subject);
	return x;
 fail:
	X509_NAME_free(subject);
	X509_free(x);
	return NULL;
}
