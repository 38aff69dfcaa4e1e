/*
 * The pkiMessage (RFC 8894, 3.2): a SignedData over the DER of an
 * EnvelopedData, built with OpenSSL's PKCS7 API.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/objects.h>

#include "sceptest.h"

static const struct {
	const char	*oid;
	const char	*name;
} st_pkimsg_attrs[ST_ATTR__MAX] = {
	[ST_ATTR_MSGTYPE] =	   { "2.16.840.1.113733.1.9.2", "messageType" },
	[ST_ATTR_PKISTATUS] =	   { "2.16.840.1.113733.1.9.3", "pkiStatus" },
	[ST_ATTR_FAILINFO] =	   { "2.16.840.1.113733.1.9.4", "failInfo" },
	[ST_ATTR_SENDERNONCE] =	   { "2.16.840.1.113733.1.9.5", "senderNonce" },
	[ST_ATTR_RECIPIENTNONCE] = { "2.16.840.1.113733.1.9.6",
				     "recipientNonce" },
	[ST_ATTR_TXID] =	   { "2.16.840.1.113733.1.9.7",
				     "transactionID" },
	[ST_ATTR_FAILINFOTEXT] =   { "1.3.6.1.5.5.7.24.1", "failInfoText" },
};

/* IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name } */
typedef struct {
	X509_NAME	*issuer;
	X509_NAME	*subject;
} ST_ISSUER_AND_SUBJECT;

ASN1_SEQUENCE(ST_ISSUER_AND_SUBJECT) = {
	ASN1_SIMPLE(ST_ISSUER_AND_SUBJECT, issuer, X509_NAME),
	ASN1_SIMPLE(ST_ISSUER_AND_SUBJECT, subject, X509_NAME),
} static_ASN1_SEQUENCE_END(ST_ISSUER_AND_SUBJECT)

/* Registers the SCEP attribute OIDs with OpenSSL; once, at start. */
int
st_pkimsg_init(void)
{
	int	i;

	for (i = 0; i < ST_ATTR__MAX; i++) {
		if (OBJ_txt2nid(st_pkimsg_attrs[i].oid) != NID_undef)
			continue;
		if (OBJ_create(st_pkimsg_attrs[i].oid, st_pkimsg_attrs[i].name,
		    st_pkimsg_attrs[i].name) == NID_undef) {
			st_warn_ssl("OBJ_create %s", st_pkimsg_attrs[i].oid);
			return -1;
		}
	}
	return 0;
}

int
st_pkimsg_nid(enum st_attr a)
{
	return OBJ_txt2nid(st_pkimsg_attrs[a].oid);
}

/* DER of an OpenSSL-allocated encoding, moved into a malloc'd buffer. */
static int
st_pkimsg_take(unsigned char *der, int len, unsigned char **out,
    size_t *outlen)
{
	if (len <= 0 || (*out = malloc((size_t)len)) == NULL) {
		OPENSSL_free(der);
		return -1;
	}
	memcpy(*out, der, (size_t)len);
	*outlen = (size_t)len;
	OPENSSL_free(der);
	return 0;
}

static int
st_pkimsg_issuer_and_subject(X509 *ca, X509_REQ *csr, unsigned char **out,
    size_t *outlen)
{
	ST_ISSUER_AND_SUBJECT	 ias;
	unsigned char		*der = NULL;
	int			 len;

	/* Both names are borrowed, only encoded. */
	ias.issuer = X509_get_subject_name(ca);
	ias.subject = X509_REQ_get_subject_name(csr);
	len = ASN1_item_i2d((const ASN1_VALUE *)&ias, &der,
	    ASN1_ITEM_rptr(ST_ISSUER_AND_SUBJECT));
	if (st_pkimsg_take(der, len, out, outlen) == -1) {
		st_warn_ssl("%s: encoding IssuerAndSubject", __func__);
		return -1;
	}
	return 0;
}

static int
st_pkimsg_issuer_and_serial(X509 *ca, const char *hex, unsigned char **out,
    size_t *outlen)
{
	PKCS7_ISSUER_AND_SERIAL	*ias = NULL;
	BIGNUM			*bn = NULL;
	ASN1_INTEGER		*serial = NULL;
	unsigned char		*der = NULL;
	int			 len, rc = -1;

	if (hex == NULL) {
		st_warnx("GetCert and GetCRL need --serial");
		goto out;
	}
	if (BN_hex2bn(&bn, hex) != (int)strlen(hex)) {
		st_warnx("--serial %s: not a hex number", hex);
		goto out;
	}
	if ((ias = PKCS7_ISSUER_AND_SERIAL_new()) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_NAME_set(&ias->issuer, X509_get_subject_name(ca)) != 1) {
		st_warn_ssl("%s: IssuerAndSerialNumber", __func__);
		goto out;
	}
	ASN1_INTEGER_free(ias->serial);
	ias->serial = serial;
	serial = NULL;
	len = i2d_PKCS7_ISSUER_AND_SERIAL(ias, &der);
	if (st_pkimsg_take(der, len, out, outlen) == -1) {
		st_warn_ssl("%s: encoding IssuerAndSerialNumber", __func__);
		goto out;
	}
	rc = 0;
 out:
	ASN1_INTEGER_free(serial);
	PKCS7_ISSUER_AND_SERIAL_free(ias);
	BN_free(bn);
	return rc;
}

/*
 * What goes in the envelope for a message type: the CSR (PKCSReq,
 * RenewalReq and unknown types), IssuerAndSubject (CertPoll),
 * IssuerAndSerialNumber (GetCert, GetCRL).  *out is malloc'd.
 */
int
st_pkimsg_content(int msgtype, X509_REQ *csr, X509 *ca, const char *serial,
    unsigned char **out, size_t *outlen)
{
	unsigned char	*der = NULL;
	int		 len;

	*out = NULL;
	*outlen = 0;
	switch (msgtype) {
	case ST_MSG_CERTPOLL:
		return st_pkimsg_issuer_and_subject(ca, csr, out, outlen);
	case ST_MSG_GETCERT:
	case ST_MSG_GETCRL:
		return st_pkimsg_issuer_and_serial(ca, serial, out, outlen);
	default:
		len = i2d_X509_REQ(csr, &der);
		if (st_pkimsg_take(der, len, out, outlen) == -1) {
			st_warn_ssl("%s: encoding the request", __func__);
			return -1;
		}
		return 0;
	}
}

/*
 * Adds one signed attribute.  The value belongs to the SignerInfo once
 * added.
 */
static int
st_pkimsg_add_attr(PKCS7_SIGNER_INFO *si, enum st_attr a, int type,
    const void *value, size_t len)
{
	ASN1_STRING	*s = NULL;

	if ((s = ASN1_STRING_type_new(type)) == NULL ||
	    ASN1_STRING_set(s, value, (int)len) != 1) {
		st_warn_ssl("%s: %s", __func__, st_pkimsg_attrs[a].name);
		ASN1_STRING_free(s);
		return -1;
	}
	/*
	 * XXX On failure OpenSSL may or may not have freed s already
	 * (it depends on where it failed), so it is left alone: a leak
	 * only when out of memory.
	 */
	if (PKCS7_add_signed_attribute(si, st_pkimsg_nid(a), type, s) != 1) {
		st_warn_ssl("%s: %s", __func__, st_pkimsg_attrs[a].name);
		return -1;
	}
	return 0;
}

/*
 * Builds the pkiMessage: the content enveloped to the recipients with
 * the cipher, the envelope's DER signed (id-data) by the signer with
 * the SCEP attributes.  *out is OpenSSL-allocated DER.
 */
int
st_pkimsg_build(const struct st_pkimsg *m, unsigned char **out,
    size_t *outlen)
{
	BIO			*in = NULL, *envbio = NULL;
	PKCS7			*env = NULL, *p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	unsigned char		*envder = NULL, *der = NULL, *sig = NULL;
	int			 envlen, len, siglen, rc = -1;

	*out = NULL;
	*outlen = 0;
	if ((in = BIO_new_mem_buf(m->content, (int)m->content_len)) == NULL) {
		st_warn_ssl("%s: BIO_new_mem_buf", __func__);
		goto out;
	}
	if ((env = PKCS7_encrypt(m->recipients, in, m->cipher,
	    PKCS7_BINARY)) == NULL ||
	    (envlen = i2d_PKCS7(env, &envder)) <= 0) {
		st_warn_ssl("PKCS7_encrypt with %s",
		    EVP_CIPHER_get0_name(m->cipher));
		goto out;
	}
	if (m->signed_content != NULL)
		envbio = BIO_new_mem_buf(m->signed_content,
		    (int)m->signed_content_len);
	else
		envbio = BIO_new_mem_buf(envder, envlen);
	if (envbio == NULL) {
		st_warn_ssl("%s: BIO_new_mem_buf", __func__);
		goto out;
	}
	/* id-data, not detached; no S/MIME capabilities attribute. */
	if ((p7 = PKCS7_sign(NULL, NULL, NULL, NULL,
	    PKCS7_PARTIAL | PKCS7_BINARY)) == NULL ||
	    (si = PKCS7_sign_add_signer(p7, m->signer_cert, m->signer_key,
	    m->md, PKCS7_NOSMIMECAP)) == NULL) {
		st_warn_ssl("PKCS7_sign with %s", EVP_MD_get0_name(m->md));
		goto out;
	}
	if (m->txid != NULL && st_pkimsg_add_attr(si, ST_ATTR_TXID,
	    V_ASN1_PRINTABLESTRING, m->txid, strlen(m->txid)) == -1)
		goto out;
	if (m->msgtype != NULL && st_pkimsg_add_attr(si, ST_ATTR_MSGTYPE,
	    V_ASN1_PRINTABLESTRING, m->msgtype, strlen(m->msgtype)) == -1)
		goto out;
	if (m->nonce != NULL && st_pkimsg_add_attr(si, ST_ATTR_SENDERNONCE,
	    V_ASN1_OCTET_STRING, m->nonce, m->nonce_len) == -1)
		goto out;
	if (PKCS7_final(p7, envbio, PKCS7_BINARY) != 1) {
		st_warn_ssl("PKCS7_final with %s", EVP_MD_get0_name(m->md));
		goto out;
	}
	if (m->corrupt) {
		/* The signature stays well-formed, just wrong. */
		siglen = ASN1_STRING_length(si->enc_digest);
		if (siglen <= 0 || (sig = malloc((size_t)siglen)) == NULL) {
			st_warnx("%s: cannot corrupt the signature", __func__);
			goto out;
		}
		memcpy(sig, ASN1_STRING_get0_data(si->enc_digest),
		    (size_t)siglen);
		sig[siglen / 2] ^= 0x5a;
		if (ASN1_STRING_set(si->enc_digest, sig, siglen) != 1) {
			st_warn_ssl("%s: ASN1_STRING_set", __func__);
			goto out;
		}
	}
	if ((len = i2d_PKCS7(p7, &der)) <= 0) {
		st_warn_ssl("%s: encoding the pkiMessage", __func__);
		goto out;
	}
	*out = der;
	*outlen = (size_t)len;
	der = NULL;
	rc = 0;
 out:
	free(sig);
	OPENSSL_free(der);
	PKCS7_free(p7);
	BIO_free(envbio);
	OPENSSL_free(envder);
	PKCS7_free(env);
	BIO_free(in);
	return rc;
}
