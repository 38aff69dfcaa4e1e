/*
 * The CertRep (RFC 8894, 3.3.2): checked before anything of it is
 * believed, then printed as one "key=value" line each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>

#include "sceptest.h"

#define ST_CERTREP_MAX_TEXT	1024	/* failInfoText shown */

static const char *const st_certrep_failinfo_names[] = {
	"badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId",
};
#define ST_CERTREP_NFAILINFO \
	(int)(sizeof(st_certrep_failinfo_names) / \
	sizeof(st_certrep_failinfo_names[0]))

/* The attribute's value if it is there with the ASN.1 type given. */
static const ASN1_STRING *
st_certrep_attr(PKCS7_SIGNER_INFO *si, enum st_attr a, int type,
    const char *name)
{
	ASN1_TYPE	*t;

	if ((t = PKCS7_get_signed_attribute(si, st_pkimsg_nid(a))) == NULL)
		return NULL;
	if (t->type != type) {
		st_warnx("CertRep: %s has ASN.1 type %d, not %d", name,
		    t->type, type);
		return NULL;
	}
	return t->value.asn1_string;
}

static int
st_certrep_attr_is(const ASN1_STRING *s, const char *v)
{
	return s != NULL && ASN1_STRING_length(s) == (int)strlen(v) &&
	    memcmp(ASN1_STRING_get0_data(s), v, strlen(v)) == 0;
}

/* A printable copy: control characters become '?', one line. */
static char *
st_certrep_strdup(const ASN1_STRING *s)
{
	const unsigned char	*p = ASN1_STRING_get0_data(s);
	char			*out;
	int			 i, len = ASN1_STRING_length(s);

	if (len > ST_CERTREP_MAX_TEXT)
		len = ST_CERTREP_MAX_TEXT;
	if ((out = malloc((size_t)len + 1)) == NULL) {
		st_warnx("%s: out of memory", __func__);
		return NULL;
	}
	for (i = 0; i < len; i++)
		out[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	out[len] = '\0';
	return out;
}

/*
 * The certificate (or CRL) of a SUCCESS: the content is an
 * EnvelopedData for our signer certificate around a degenerate
 * certs-only SignedData.
 */
static int
st_certrep_success(BIO *content, const struct st_certrep_expect *ex,
    struct st_certrep *cr)
{
	const unsigned char	*p;
	char			*data;
	long			 len;
	PKCS7			*env = NULL, *deg = NULL;
	BIO			*plain = NULL;
	STACK_OF(X509)		*certs;
	STACK_OF(X509_CRL)	*crls;
	X509			*x;
	int			 i, nid, rc = -1;

	len = BIO_get_mem_data(content, &data);
	p = (const unsigned char *)data;
	if (len <= 0 || (env = d2i_PKCS7(NULL, &p, len)) == NULL ||
	    p != (const unsigned char *)data + len ||
	    !PKCS7_type_is_enveloped(env)) {
		st_warn_ssl("CertRep: SUCCESS without an EnvelopedData");
		goto out;
	}
	nid = OBJ_obj2nid(env->d.enveloped->enc_data->algorithm->algorithm);
	cr->cipher = OBJ_nid2sn(nid);
	st_debug("CertRep: envelope cipher %s", cr->cipher);
	if (ex->decrypt_key == NULL) {
		rc = 0;		/* --send-file without our key */
		goto out;
	}
	if (nid == NID_des_cbc && st_legacy_load() == -1)
		goto out;
	if ((plain = BIO_new(BIO_s_mem())) == NULL ||
	    PKCS7_decrypt(env, ex->decrypt_key, ex->decrypt_cert, plain,
	    0) != 1) {
		st_warn_ssl("CertRep: cannot decrypt the envelope with our "
		    "signer key");
		goto out;
	}
	len = BIO_get_mem_data(plain, &data);
	p = (const unsigned char *)data;
	if (len <= 0 || (deg = d2i_PKCS7(NULL, &p, len)) == NULL ||
	    p != (const unsigned char *)data + len ||
	    !PKCS7_type_is_signed(deg)) {
		st_warn_ssl("CertRep: the envelope holds no SignedData");
		goto out;
	}
	certs = deg->d.sign->cert;
	crls = deg->d.sign->crl;
	if (ex->msgtype == ST_MSG_GETCRL) {
		if (sk_X509_CRL_num(crls) < 1) {
			st_warnx("CertRep: SUCCESS for GetCRL without a CRL");
			goto out;
		}
		cr->crl = sk_X509_CRL_value(crls, 0);
		X509_CRL_up_ref(cr->crl);
		rc = 0;
		goto out;
	}
	/* Ours is the one for the request key, wherever it is. */
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (ex->request_key == NULL ||
		    EVP_PKEY_eq(X509_get0_pubkey(x), ex->request_key) == 1) {
			X509_up_ref(x);
			cr->cert = x;
			break;
		}
	}
	if (cr->cert == NULL) {
		st_warnx("CertRep: %s", sk_X509_num(certs) < 1 ?
		    "SUCCESS without a certificate" :
		    "no certificate in the answer is for our request key");
		goto out;
	}
	rc = 0;
 out:
	PKCS7_free(deg);
	BIO_free(plain);
	PKCS7_free(env);
	return rc;
}

/*
 * Checks a CertRep against what we sent and fills cr.  Every check
 * that fails is an error: signature by a GetCACert certificate,
 * messageType 3, our transactionID, our nonce back as recipientNonce,
 * a 16-byte senderNonce, a known pkiStatus, failInfo on FAILURE, and
 * a certificate for our key on SUCCESS.
 */
int
st_certrep_parse(const unsigned char *der, size_t len,
    const struct st_certrep_expect *ex, struct st_certrep *cr)
{
	const unsigned char	*p = der;
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	BIO			*content = NULL, *empty = NULL;
	const ASN1_STRING	*s;
	int			 v, rc = -1;

	memset(cr, 0, sizeof(*cr));
	cr->failinfo = -1;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    p != der + len || !PKCS7_type_is_signed(p7)) {
		st_warn_ssl("CertRep: not a DER PKCS#7 SignedData");
		goto out;
	}
	if (sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)) != 1) {
		st_warnx("CertRep: not exactly one SignerInfo");
		goto out;
	}
	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	if ((content = BIO_new(BIO_s_mem())) == NULL) {
		st_warn_ssl("%s: BIO_new", __func__);
		goto out;
	}
	/* A FAILURE or PENDING may leave the content out: sign nothing. */
	if (PKCS7_get_detached(p7) &&
	    (empty = BIO_new_mem_buf("", 0)) == NULL) {
		st_warn_ssl("%s: BIO_new_mem_buf", __func__);
		goto out;
	}
	/* Only a GetCACert certificate may have signed it, no chain. */
	if (PKCS7_verify(p7, ex->signers, NULL, empty, content,
	    PKCS7_NOVERIFY | PKCS7_NOINTERN | PKCS7_BINARY) != 1) {
		st_warn_ssl("CertRep: the signature does not verify against "
		    "the GetCACert certificates");
		goto out;
	}

	s = st_certrep_attr(si, ST_ATTR_MSGTYPE, V_ASN1_PRINTABLESTRING,
	    "messageType");
	if (!st_certrep_attr_is(s, "3")) {
		st_warnx("CertRep: messageType is not CertRep (3)");
		goto out;
	}
	if ((s = st_certrep_attr(si, ST_ATTR_TXID, V_ASN1_PRINTABLESTRING,
	    "transactionID")) == NULL) {
		st_warnx("CertRep: no transactionID");
		goto out;
	}
	if ((cr->txid = st_certrep_strdup(s)) == NULL)
		goto out;
	if (ex->txid != NULL && !st_certrep_attr_is(s, ex->txid)) {
		st_warnx("CertRep: transactionID \"%s\" is not ours (\"%s\")",
		    cr->txid, ex->txid);
		goto out;
	}
	s = st_certrep_attr(si, ST_ATTR_SENDERNONCE, V_ASN1_OCTET_STRING,
	    "senderNonce");
	if (s == NULL || ASN1_STRING_length(s) != ST_NONCE_LEN) {
		st_warnx("CertRep: no %d-byte senderNonce", ST_NONCE_LEN);
		goto out;
	}
	if (ex->nonce != NULL && ex->nonce_len == ST_NONCE_LEN &&
	    memcmp(ASN1_STRING_get0_data(s), ex->nonce, ST_NONCE_LEN) == 0)
		st_debug("CertRep: the server's senderNonce is our own");
	s = st_certrep_attr(si, ST_ATTR_RECIPIENTNONCE, V_ASN1_OCTET_STRING,
	    "recipientNonce");
	if (ex->nonce != NULL && (s == NULL ||
	    ASN1_STRING_length(s) != (int)ex->nonce_len ||
	    memcmp(ASN1_STRING_get0_data(s), ex->nonce, ex->nonce_len) != 0)) {
		st_warnx("CertRep: recipientNonce is not our senderNonce");
		goto out;
	}

	s = st_certrep_attr(si, ST_ATTR_PKISTATUS, V_ASN1_PRINTABLESTRING,
	    "pkiStatus");
	if (st_certrep_attr_is(s, "0"))
		cr->status = ST_STATUS_SUCCESS;
	else if (st_certrep_attr_is(s, "2"))
		cr->status = ST_STATUS_FAILURE;
	else if (st_certrep_attr_is(s, "3"))
		cr->status = ST_STATUS_PENDING;
	else {
		st_warnx("CertRep: pkiStatus missing or unknown");
		goto out;
	}
	if (cr->status == ST_STATUS_FAILURE) {
		s = st_certrep_attr(si, ST_ATTR_FAILINFO,
		    V_ASN1_PRINTABLESTRING, "failInfo");
		if (s == NULL || ASN1_STRING_length(s) != 1 ||
		    (v = ASN1_STRING_get0_data(s)[0] - '0') < 0 ||
		    v >= ST_CERTREP_NFAILINFO) {
			st_warnx("CertRep: FAILURE without a known failInfo");
			goto out;
		}
		cr->failinfo = v;
		if ((s = st_certrep_attr(si, ST_ATTR_FAILINFOTEXT,
		    V_ASN1_UTF8STRING, "failInfoText")) != NULL &&
		    (cr->failinfo_text = st_certrep_strdup(s)) == NULL)
			goto out;
	}
	if (cr->status == ST_STATUS_SUCCESS &&
	    st_certrep_success(content, ex, cr) == -1)
		goto out;
	rc = 0;
 out:
	if (rc == -1)
		st_certrep_clear(cr);
	BIO_free(empty);
	BIO_free(content);
	PKCS7_free(p7);
	return rc;
}

/* The result lines on standard output. */
void
st_certrep_print(const struct st_certrep *cr)
{
	BIGNUM	*bn = NULL;
	char	*hex = NULL;

	printf("status=%s\n", cr->status == ST_STATUS_SUCCESS ? "SUCCESS" :
	    cr->status == ST_STATUS_FAILURE ? "FAILURE" : "PENDING");
	if (cr->failinfo >= 0)
		printf("failInfo=%s\n",
		    st_certrep_failinfo_names[cr->failinfo]);
	if (cr->failinfo_text != NULL)
		printf("failInfoText=%s\n", cr->failinfo_text);
	printf("txid=%s\n", cr->txid);
	if (cr->cipher != NULL)
		printf("cipher=%s\n", cr->cipher);
	if (cr->cert != NULL) {
		if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cr->cert),
		    NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL)
			st_warn_ssl("%s: serial number", __func__);
		else
			printf("serial=%s\n", hex);
	}
	fflush(stdout);
	OPENSSL_free(hex);
	BN_free(bn);
}

void
st_certrep_clear(struct st_certrep *cr)
{
	free(cr->failinfo_text);
	free(cr->txid);
	X509_free(cr->cert);
	X509_CRL_free(cr->crl);
	memset(cr, 0, sizeof(*cr));
	cr->failinfo = -1;
}
