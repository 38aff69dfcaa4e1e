/*
 * The CA key's line: only end-entity certificates of this CA.  A
 * worker taken over through its parser can then at worst issue
 * end-entity certificates; it cannot mint a sub-CA, sign a CRL or
 * obtain a signature on anything else.
 */
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "certline.h"

const char *
certline_refusal(X509 *x, X509 *ca)
{
	const ASN1_INTEGER	*serial;
	const ASN1_OCTET_STRING	*akid, *skid;
	BIGNUM			*bn;
	int			 bytes, negative;

	if (X509_get_version(x) != X509_VERSION_3)
		return "not a version 3 certificate";
	if (X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(ca)) != 0)
		return "its issuer is not this CA";
	if ((serial = X509_get0_serialNumber(x)) == NULL ||
	    (bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		return "no serial number";
	bytes = BN_num_bytes(bn);
	negative = BN_is_negative(bn);
	BN_free(bn);
	if (negative || bytes < CERTLINE_MIN_SERIAL_BYTES)
		return "its serial number is not positive with 64 bits";
	if (X509_check_ca(x) != 0)
		return "it would be a CA certificate";
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
	    (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
		return "it would sign certificates or CRLs";
	if (ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(ca)) > 0)
		return "it would outlive the CA certificate";
	if ((skid = X509_get0_subject_key_id(ca)) != NULL &&
	    ((akid = X509_get0_authority_key_id(x)) == NULL ||
	    ASN1_OCTET_STRING_cmp(akid, skid) != 0))
		return "its authority key identifier is not the CA's";
	return NULL;
}

int
certline_digest_allowed(int nid)
{
	return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512;
}
