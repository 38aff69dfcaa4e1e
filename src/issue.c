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

/* Returns the CSR's subjectAltName names we copy; NULL if none. */
static GENERAL_NAMES *
issue_csr_sans(const X509_REQ *csr)
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
		if (gn->type != GEN_DNS && gn->type != GEN_IPADD &&
		    gn->type != GEN_EMAIL && gn->type != GEN_URI)
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
	if (issue_key_ok(pub, why, whylen) == -1)
		return -1;
	empty = X509_NAME_entry_count(X509_REQ_get_subject_name(csr)) == 0;
	sans = issue_csr_sans(csr);
	GENERAL_NAMES_free(sans);
	if (empty && sans == NULL) {
		snprintf(why, whylen, "the request has neither a subject nor "
		    "a subjectAltName");
		return -1;
	}
	return 0;
}

static int
issue_add_sans(X509 *x, const X509_REQ *csr)
{
	GENERAL_NAMES	*sans;
	int		 critical, rc = 0;

	if ((sans = issue_csr_sans(csr)) == NULL)
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

X509 *
issue_cert_new(const X509_REQ *csr, X509 *ca_cert,
    const ASN1_INTEGER *serial, const struct issue_profile *pf, time_t now)
{
	X509		*x = NULL;
	EVP_PKEY	*pub;
	time_t		 not_before, not_after;
	struct tm	 ca_end;
	const char	*usage;

	pub = X509_REQ_get0_pubkey((X509_REQ *)csr);
	not_before = now - ISSUE_BACKDATE_SECONDS;
	not_after = now + (time_t)pf->validity_days * 86400;
	/* Never outlive the CA: the chain would be invalid before we are. */
	if (ASN1_TIME_to_tm(X509_get0_notAfter(ca_cert), &ca_end) == 1 &&
	    timegm(&ca_end) < not_after)
		not_after = timegm(&ca_end);
	if ((x = certbuild_new(X509_REQ_get_subject_name(csr),
	    X509_get_subject_name(ca_cert), pub, serial, not_before,
	    not_after)) == NULL)
		goto fail;
	usage = EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ?
	    "critical, digitalSignature, keyEncipherment" :
	    "critical, digitalSignature";
	if (certbuild_add_ext(x, ca_cert, NID_basic_constraints,
	    "critical, CA:FALSE") == -1 ||
	    certbuild_add_ext(x, ca_cert, NID_key_usage, usage) == -1 ||
	    certbuild_add_ext(x, ca_cert, NID_ext_key_usage,
	    "clientAuth") == -1 ||
	    certbuild_add_ext(x, ca_cert, NID_subject_key_identifier,
	    "hash") == -1 ||
	    certbuild_add_ext(x, ca_cert, NID_authority_key_identifier,
	    "keyid:always") == -1 ||
	    issue_add_sans(x, csr) == -1)
		goto fail;
	return x;
 fail:
	X509_free(x);
	return NULL;
}
