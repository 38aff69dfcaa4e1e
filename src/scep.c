/*
 * SCEP message codec (RFC 8894) on OpenSSL's PKCS7 API.
 *
 * Input is checked in the order size, structure, meaning: the outer
 * SignedData first, then its attributes, then its signature, then the
 * envelope inside.  The first problem found decides the failInfo.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "alg.h"
#include "log.h"
#include "scep.h"

static int scep_nid_msgtype;
static int scep_nid_pkistatus;
static int scep_nid_failinfo;
static int scep_nid_sender_nonce;
static int scep_nid_recipient_nonce;
static int scep_nid_txid;
static int scep_nid_failinfo_text;

static const struct {
	int		*nid;
	const char	*oid;
	const char	*sn;
} scep_oids[] = {
	{ &scep_nid_msgtype, "2.16.840.1.113733.1.9.2", "messageType" },
	{ &scep_nid_pkistatus, "2.16.840.1.113733.1.9.3", "pkiStatus" },
	{ &scep_nid_failinfo, "2.16.840.1.113733.1.9.4", "failInfo" },
	{ &scep_nid_sender_nonce, "2.16.840.1.113733.1.9.5", "senderNonce" },
	{ &scep_nid_recipient_nonce, "2.16.840.1.113733.1.9.6",
	    "recipientNonce" },
	{ &scep_nid_txid, "2.16.840.1.113733.1.9.7", "transactionID" },
	{ &scep_nid_failinfo_text, "1.3.6.1.5.5.7.24.1", "failInfoText" },
};

int
scep_init(void)
{
	size_t	i;
	int	nid;

	for (i = 0; i < sizeof(scep_oids) / sizeof(scep_oids[0]); i++) {
		if ((nid = OBJ_txt2nid(scep_oids[i].oid)) == NID_undef &&
		    (nid = OBJ_create(scep_oids[i].oid, scep_oids[i].sn,
		    scep_oids[i].sn)) == NID_undef) {
			log_ssl("%s: OBJ_create %s", __func__,
			    scep_oids[i].oid);
			return -1;
		}
		*scep_oids[i].nid = nid;
	}
	return 0;
}

const char *
scep_msgtype_name(int msgtype)
{
	switch (msgtype) {
	case SCEP_MSG_CERTREP:
		return "CertRep";
	case SCEP_MSG_RENEWALREQ:
		return "RenewalReq";
	case SCEP_MSG_PKCSREQ:
		return "PKCSReq";
	case SCEP_MSG_CERTPOLL:
		return "CertPoll";
	case SCEP_MSG_GETCERT:
		return "GetCert";
	case SCEP_MSG_GETCRL:
		return "GetCRL";
	default:
		return "unknown";
	}
}

const char *
scep_failinfo_name(enum scep_failinfo fail)
{
	switch (fail) {
	case SCEP_FAIL_BAD_ALG:
		return "badAlg";
	case SCEP_FAIL_BAD_MESSAGE_CHECK:
		return "badMessageCheck";
	case SCEP_FAIL_BAD_REQUEST:
		return "badRequest";
	case SCEP_FAIL_BAD_TIME:
		return "badTime";
	case SCEP_FAIL_BAD_CERT_ID:
		return "badCertId";
	default:
		return "none";
	}
}

static void
scep_fail(struct scep_request *req, enum scep_failinfo fail,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
scep_fail(struct scep_request *req, enum scep_failinfo fail,
    const char *fmt, ...)
{
	va_list	ap;

	req->fail = fail;
	va_start(ap, fmt);
	vsnprintf(req->fail_text, sizeof(req->fail_text), fmt, ap);
	va_end(ap);
}

/* Returns the single value of a signed attribute, or NULL. */
static ASN1_TYPE *
scep_attr_get(PKCS7_SIGNER_INFO *si, int nid)
{
	return PKCS7_get_signed_attribute(si, nid);
}

/* A transactionID or messageType: printable ASCII in a string type. */
static int
scep_attr_printable(const ASN1_TYPE *t, char *out, size_t outlen)
{
	const ASN1_STRING	*s;
	const unsigned char	*p;
	int			 i, len;

	if (t == NULL || (t->type != V_ASN1_PRINTABLESTRING &&
	    t->type != V_ASN1_IA5STRING && t->type != V_ASN1_UTF8STRING))
		return -1;
	s = t->value.asn1_string;
	len = ASN1_STRING_length(s);
	p = ASN1_STRING_get0_data(s);
	if (len <= 0 || (size_t)len >= outlen)
		return -1;
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return -1;
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
	return 0;
}

static int
scep_attr_msgtype(const ASN1_TYPE *t)
{
	char	 buf[8];
	char	*end;
	long	 v;

	if (scep_attr_printable(t, buf, sizeof(buf)) == -1)
		return -1;
	v = strtol(buf, &end, 10);
	if (*end != '\0' || buf[0] < '0' || buf[0] > '9' || v > 255)
		return -1;
	return (int)v;
}

/*
 * Reads the attributes a CertRep must echo: without transactionID and
 * senderNonce there is nothing to answer to.
 */
static int
scep_request_read_attrs(struct scep_request *req, PKCS7_SIGNER_INFO *si,
    char *why, size_t whylen)
{
	ASN1_TYPE		*t;
	const ASN1_STRING	*s;
	size_t			 len;

	if (scep_attr_printable(scep_attr_get(si, scep_nid_txid), req->txid,
	    sizeof(req->txid)) == -1) {
		snprintf(why, whylen, "transactionID missing or not a "
		    "printable string of at most %d characters",
		    SCEP_TXID_MAX);
		return -1;
	}
	t = scep_attr_get(si, scep_nid_sender_nonce);
	if (t == NULL || t->type != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length(t->value.octet_string) <= 0) {
		snprintf(why, whylen, "senderNonce missing");
		return -1;
	}
	s = t->value.octet_string;
	len = (size_t)ASN1_STRING_length(s);
	/* Keep what fits so that a wrong length can still be echoed. */
	req->sender_nonce_len = len < SCEP_NONCE_LEN ? len : SCEP_NONCE_LEN;
	memcpy(req->sender_nonce, ASN1_STRING_get0_data(s),
	    req->sender_nonce_len);
	if (len != SCEP_NONCE_LEN)
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "senderNonce must be "
		    "%d bytes, not %zu", SCEP_NONCE_LEN, len);
	req->msgtype = scep_attr_msgtype(scep_attr_get(si, scep_nid_msgtype));
	if (req->msgtype == -1 && req->fail == SCEP_FAIL_NONE)
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "messageType missing "
		    "or malformed");
	return 0;
}

/* Verifies the outer signature and returns the signed content. */
static BIO *
scep_request_verify(struct scep_request *req, PKCS7 *p7,
    PKCS7_SIGNER_INFO *si, unsigned digests)
{
	STACK_OF(X509)	*signers = NULL;
	BIO		*content = NULL;
	X509_ALGOR	*dalg;
	int		 nid;

	PKCS7_SIGNER_INFO_get0_algs(si, NULL, &dalg, NULL);
	nid = OBJ_obj2nid(dalg->algorithm);
	if ((req->digest = alg_digest_from_nid(nid)) == 0 ||
	    (req->digest & digests) == 0) {
		scep_fail(req, SCEP_FAIL_BAD_ALG, "signature digest %s is "
		    "not accepted", nid == NID_undef ? "(unknown)" :
		    OBJ_nid2sn(nid));
		goto fail;
	}
	if ((content = BIO_new(BIO_s_mem())) == NULL) {
		log_ssl("%s: BIO_new", __func__);
		goto fail;
	}
	/* The signer is the requester's own, often self-signed. */
	if (PKCS7_verify(p7, NULL, NULL, NULL, content,
	    PKCS7_NOVERIFY | PKCS7_BINARY) != 1) {
		log_ssl_clear();
		scep_fail(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
		    "the message signature does not verify");
		goto fail;
	}
	if ((signers = PKCS7_get0_signers(p7, NULL, 0)) == NULL ||
	    sk_X509_num(signers) != 1) {
		log_ssl_clear();
		scep_fail(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
		    "no signer certificate");
		goto fail;
	}
	req->signer_cert = sk_X509_value(signers, 0);
	X509_up_ref(req->signer_cert);
	sk_X509_free(signers);
	return content;
 fail:
	sk_X509_free(signers);
	BIO_free(content);
	return NULL;
}

/* Reads the pkcsPKIEnvelope from the signed content. */
static void
scep_request_read_envelope(struct scep_request *req, BIO *content)
{
	const unsigned char	*p;
	char			*data;
	long			 len;
	PKCS7_ENVELOPE		*env;
	X509_ALGOR		*calg;
	int			 nid;

	len = BIO_get_mem_data(content, &data);
	p = (const unsigned char *)data;
	if (len <= 0 || (req->envelope = d2i_PKCS7(NULL, &p, len)) == NULL ||
	    p != (const unsigned char *)data + len ||
	    !PKCS7_type_is_enveloped(req->envelope) ||
	    (env = req->envelope->d.enveloped) == NULL) {
		/* A ContentInfo may name envelopedData and omit it. */
		log_ssl_clear();
		PKCS7_free(req->envelope);
		req->envelope = NULL;
		scep_fail(req, SCEP_FAIL_BAD_REQUEST,
		    "the signed content is not an EnvelopedData");
		return;
	}
	if (env->enc_data == NULL || env->enc_data->algorithm == NULL ||
	    env->enc_data->enc_data == NULL || env->recipientinfo == NULL) {
		PKCS7_free(req->envelope);
		req->envelope = NULL;
		scep_fail(req, SCEP_FAIL_BAD_REQUEST,
		    "the EnvelopedData holds no encrypted content");
		return;
	}
	calg = env->enc_data->algorithm;
	nid = OBJ_obj2nid(calg->algorithm);
	if ((req->cipher = alg_cipher_from_nid(nid)) == 0)
		scep_fail(req, SCEP_FAIL_BAD_ALG, "content encryption %s is "
		    "not supported", nid == NID_undef ? "(unknown)" :
		    OBJ_nid2sn(nid));
}

struct scep_request *
scep_request_parse(const unsigned char *der, size_t len, unsigned digests,
    char *why, size_t whylen)
{
	struct scep_request		*req = NULL;
	PKCS7				*p7 = NULL;
	STACK_OF(PKCS7_SIGNER_INFO)	*sis;
	PKCS7_SIGNER_INFO		*si;
	BIO				*content = NULL;
	const unsigned char		*p = der;

	if (len == 0 || len > LONG_MAX ||
	    (p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		log_ssl_clear();
		snprintf(why, whylen, "not a DER PKCS#7 message");
		goto fail;
	}
	if (!PKCS7_type_is_signed(p7) || PKCS7_get_detached(p7) ||
	    (sis = PKCS7_get_signer_info(p7)) == NULL ||
	    sk_PKCS7_SIGNER_INFO_num(sis) != 1) {
		snprintf(why, whylen, "not a SignedData with one signer");
		goto fail;
	}
	si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	req->fail = SCEP_FAIL_NONE;
	if (scep_request_read_attrs(req, si, why, whylen) == -1)
		goto fail;
	if (req->fail == SCEP_FAIL_NONE &&
	    (content = scep_request_verify(req, p7, si, digests)) != NULL)
		scep_request_read_envelope(req, content);
	else if (req->fail == SCEP_FAIL_NONE) {
		snprintf(why, whylen, "internal error");
		goto fail;
	}
	BIO_free(content);
	PKCS7_free(p7);
	return req;
 fail:
	BIO_free(content);
	PKCS7_free(p7);
	scep_request_free(req);
	return NULL;
}

void
scep_request_free(struct scep_request *req)
{
	if (req == NULL)
		return;
	X509_free(req->signer_cert);
	PKCS7_free(req->envelope);
	free(req);
}

/* The RecipientInfo for cert, or NULL. */
static PKCS7_RECIP_INFO *
scep_recipient_find(PKCS7 *env, X509 *cert)
{
	STACK_OF(PKCS7_RECIP_INFO)	*ris;
	PKCS7_RECIP_INFO		*ri;
	int				 i;

	ris = env->d.enveloped->recipientinfo;
	for (i = 0; i < sk_PKCS7_RECIP_INFO_num(ris); i++) {
		ri = sk_PKCS7_RECIP_INFO_value(ris, i);
		if (X509_NAME_cmp(ri->issuer_and_serial->issuer,
		    X509_get_issuer_name(cert)) == 0 &&
		    ASN1_INTEGER_cmp(ri->issuer_and_serial->serial,
		    X509_get0_serialNumber(cert)) == 0)
			return ri;
	}
	return NULL;
}

/*
 * Unwraps the content-encryption key with the RA key (an RSA
 * decryption in the token).  Returns it (OPENSSL_clear_free()) or
 * NULL, leaving the reason in the OpenSSL error queue.
 */
static unsigned char *
scep_unwrap_key(EVP_PKEY *ra_key, const ASN1_OCTET_STRING *wrapped,
    size_t *len)
{
	EVP_PKEY_CTX	*ctx;
	unsigned char	*key = NULL;
	size_t		 size = 0, n;

	*len = 0;
	if ((ctx = EVP_PKEY_CTX_new(ra_key, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_decrypt(ctx, NULL, &size, wrapped->data,
	    (size_t)wrapped->length) <= 0 ||
	    (key = OPENSSL_malloc(size)) == NULL)
		goto out;
	n = size;
	if (EVP_PKEY_decrypt(ctx, key, &n, wrapped->data,
	    (size_t)wrapped->length) <= 0) {
		OPENSSL_clear_free(key, size);
		key = NULL;
		goto out;
	}
	*len = n;
 out:
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/*
 * Decrypts the encrypted content with key, or with a random key when
 * key is NULL or not of the cipher's length (as PKCS7_decrypt() does).
 * -1 with req->fail set.
 */
static int
scep_decrypt_content(struct scep_request *req, const unsigned char *key,
    size_t keylen, unsigned char **out, size_t *outlen)
{
	PKCS7_ENC_CONTENT	*ec = req->envelope->d.enveloped->enc_data;
	const EVP_CIPHER	*cipher;
	EVP_CIPHER_CTX		*ctx = NULL;
	unsigned char		 k[EVP_MAX_KEY_LENGTH];
	unsigned char		*buf = NULL;
	int			 want, n, m, rc = -1;

	if ((cipher = alg_cipher_get(req->cipher)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) != 1) {
		log_ssl("txid=%s: %s", req->txid, __func__);
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "internal error");
		goto out;
	}
	if (EVP_CIPHER_asn1_to_param(ctx, ec->algorithm->parameter) <= 0) {
		log_ssl_clear();
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "the content encryption "
		    "parameters are malformed");
		goto out;
	}
	want = EVP_CIPHER_CTX_get_key_length(ctx);
	if (want <= 0 || (size_t)want > sizeof(k)) {
		scep_fail(req, SCEP_FAIL_BAD_ALG, "unusable content cipher");
		goto out;
	}
	if (key != NULL && keylen == (size_t)want)
		memcpy(k, key, keylen);
	else if (RAND_bytes(k, want) != 1) {
		log_ssl("txid=%s: RAND_bytes", req->txid);
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "internal error");
		goto out;
	}
	if ((buf = malloc((size_t)ec->enc_data->length +
	    EVP_MAX_BLOCK_LENGTH)) == NULL) {
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "out of memory");
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, k, NULL) != 1 ||
	    EVP_DecryptUpdate(ctx, buf, &n, ec->enc_data->data,
	    ec->enc_data->length) != 1 ||
	    EVP_DecryptFinal_ex(ctx, buf + n, &m) != 1) {
		if (!req->unwrap_failed)
			log_ssl("txid=%s: cannot decrypt the envelope",
			    req->txid);
		scep_fail(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
		    "the envelope cannot be decrypted");
		goto out;
	}
	if (n + m == 0) {
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "the envelope is empty");
		goto out;
	}
	*out = buf;
	*outlen = (size_t)(n + m);
	buf = NULL;
	rc = 0;
 out:
	OPENSSL_cleanse(k, sizeof(k));
	free(buf);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
scep_request_decrypt(struct scep_request *req, X509 *ra_cert,
    EVP_PKEY *ra_key, unsigned ciphers, unsigned char **out, size_t *outlen)
{
	PKCS7_RECIP_INFO	*ri;
	unsigned char		*key = NULL;
	size_t			 keylen = 0;
	int			 rc = -1;

	*out = NULL;
	*outlen = 0;
	req->unwrap_failed = 0;
	if (req->envelope == NULL) {
		scep_fail(req, SCEP_FAIL_BAD_REQUEST, "no envelope to decrypt");
		goto out;
	}
	if ((req->cipher & ciphers) == 0) {
		scep_fail(req, SCEP_FAIL_BAD_ALG, "content encryption %s is "
		    "not accepted here", alg_cipher_name(req->cipher));
		goto out;
	}
	if ((ri = scep_recipient_find(req->envelope, ra_cert)) == NULL) {
		scep_fail(req, SCEP_FAIL_BAD_MESSAGE_CHECK, "the envelope is "
		    "not encrypted to the RA certificate");
		goto out;
	}
	if (OBJ_obj2nid(ri->key_enc_algor->algorithm) != NID_rsaEncryption) {
		scep_fail(req, SCEP_FAIL_BAD_ALG, "the content key is not "
		    "wrapped with rsaEncryption");
		goto out;
	}
	/* Only this step's errors may be judged by the caller. */
	log_ssl_clear();
	if ((key = scep_unwrap_key(ra_key, ri->enc_key, &keylen)) == NULL)
		req->unwrap_failed = 1;
	/* Even without a key: the same work, and the same answer. */
	if (scep_decrypt_content(req, key, keylen, out, outlen) == -1)
		goto out;
	if (req->unwrap_failed) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		scep_fail(req, SCEP_FAIL_BAD_MESSAGE_CHECK,
		    "the envelope cannot be decrypted");
		goto out;
	}
	rc = 0;
 out:
	OPENSSL_clear_free(key, keylen);
	return rc;
}

X509_REQ *
scep_csr_parse(const unsigned char *der, size_t len, char *why,
    size_t whylen)
{
	X509_REQ		*csr = NULL;
	EVP_PKEY		*pub;
	const unsigned char	*p = der;

	if (len > LONG_MAX || (csr = d2i_X509_REQ(NULL, &p, (long)len)) ==
	    NULL || p != der + len) {
		log_ssl_clear();
		snprintf(why, whylen, "the envelope does not hold a PKCS#10 "
		    "request");
		goto fail;
	}
	if ((pub = X509_REQ_get0_pubkey(csr)) == NULL) {
		log_ssl_clear();
		snprintf(why, whylen, "the request's public key is unreadable");
		goto fail;
	}
	if (X509_REQ_verify(csr, pub) != 1) {
		log_ssl_clear();
		snprintf(why, whylen, "the request's own signature does not "
		    "verify");
		goto fail;
	}
	return csr;
 fail:
	X509_REQ_free(csr);
	return NULL;
}

char *
scep_csr_get_challenge(const X509_REQ *csr, size_t *len)
{
	X509_ATTRIBUTE	*attr;
	ASN1_TYPE	*t;
	unsigned char	*utf8 = NULL;
	char		*out;
	int		 idx, n;

	*len = 0;
	idx = X509_REQ_get_attr_by_NID(csr, NID_pkcs9_challengePassword, -1);
	if (idx < 0 || (attr = X509_REQ_get_attr(csr, idx)) == NULL ||
	    X509_ATTRIBUTE_count(attr) != 1 ||
	    (t = X509_ATTRIBUTE_get0_type(attr, 0)) == NULL)
		return NULL;
	switch (t->type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_T61STRING:
	case V_ASN1_BMPSTRING:
	case V_ASN1_UNIVERSALSTRING:
		break;
	default:
		return NULL;
	}
	if ((n = ASN1_STRING_to_UTF8(&utf8, t->value.asn1_string)) < 0) {
		log_ssl_clear();
		return NULL;
	}
	/* Re-allocate so that the caller can clear and free one way. */
	if ((out = OPENSSL_malloc((size_t)n + 1)) != NULL) {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	OPENSSL_clear_free(utf8, (size_t)n);
	return out;
}

int
scep_issuer_and_subject_check(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der, *end;
	X509_NAME		*name;
	long			 inner;
	int			 tag, xclass, i;

	if (len > LONG_MAX || (ASN1_get_object(&p, &inner, &tag, &xclass,
	    (long)len) & 0x80) != 0 || tag != V_ASN1_SEQUENCE ||
	    xclass != V_ASN1_UNIVERSAL || p + inner != der + len) {
		log_ssl_clear();
		return -1;
	}
	end = p + inner;
	for (i = 0; i < 2; i++) {
		if ((name = d2i_X509_NAME(NULL, &p, end - p)) == NULL) {
			log_ssl_clear();
			return -1;
		}
		X509_NAME_free(name);
	}
	return p == end ? 0 : -1;
}

/* Wraps certs in a degenerate SignedData (no signers, no content). */
static PKCS7 *
scep_certs_only_new(STACK_OF(X509) *certs)
{
	PKCS7	*p7;
	int	 i;

	if ((p7 = PKCS7_new()) == NULL ||
	    PKCS7_set_type(p7, NID_pkcs7_signed) != 1)
		goto fail;
	/* id-data with the content itself absent. */
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (i = 0; i < sk_X509_num(certs); i++)
		if (PKCS7_add_certificate(p7, sk_X509_value(certs, i)) != 1)
			goto fail;
	return p7;
 fail:
	log_ssl("%s", __func__);
	PKCS7_free(p7);
	return NULL;
}

static int
scep_p7_der(PKCS7 *p7, unsigned char **der, size_t *len)
{
	int	n;

	*der = NULL;
	if ((n = i2d_PKCS7(p7, der)) <= 0) {
		log_ssl("i2d_PKCS7");
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

int
scep_certs_only_der(STACK_OF(X509) *certs, unsigned char **der,
    size_t *len)
{
	PKCS7	*p7;
	int	 rc;

	if ((p7 = scep_certs_only_new(certs)) == NULL)
		return -1;
	rc = scep_p7_der(p7, der, len);
	PKCS7_free(p7);
	return rc;
}

/* Encrypts the degenerate certs-only DER of the issued certificate. */
static BIO *
scep_certrep_envelope(const struct scep_reply *rep)
{
	STACK_OF(X509)		*certs = NULL, *recips = NULL;
	PKCS7			*env = NULL;
	const EVP_CIPHER	*cipher;
	unsigned char		*deg = NULL, *envder = NULL;
	size_t			 deglen, envlen;
	BIO			*in = NULL, *out = NULL;

	if ((cipher = alg_cipher_get(rep->cipher)) == NULL)
		goto out;
	if ((certs = sk_X509_new_null()) == NULL ||
	    sk_X509_push(certs, rep->issued) <= 0 ||
	    scep_certs_only_der(certs, &deg, &deglen) == -1)
		goto out;
	if ((recips = sk_X509_new_null()) == NULL ||
	    sk_X509_push(recips, rep->recipient) <= 0 ||
	    (in = BIO_new_mem_buf(deg, (int)deglen)) == NULL ||
	    (env = PKCS7_encrypt(recips, in, cipher, PKCS7_BINARY)) == NULL) {
		log_ssl("%s: PKCS7_encrypt", __func__);
		goto out;
	}
	if (scep_p7_der(env, &envder, &envlen) == -1)
		goto out;
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    BIO_write(out, envder, (int)envlen) != (int)envlen) {
		log_ssl("%s: BIO_write", __func__);
		BIO_free(out);
		out = NULL;
	}
 out:
	sk_X509_free(certs);
	sk_X509_free(recips);
	PKCS7_free(env);
	OPENSSL_free(deg);
	OPENSSL_free(envder);
	BIO_free(in);
	return out;
}

static int
scep_add_printable(PKCS7_SIGNER_INFO *si, int nid, const char *value)
{
	ASN1_STRING	*s;

	if ((s = ASN1_STRING_type_new(V_ASN1_PRINTABLESTRING)) == NULL ||
	    ASN1_STRING_set(s, value, -1) != 1 ||
	    PKCS7_add_signed_attribute(si, nid, V_ASN1_PRINTABLESTRING,
	    s) != 1) {
		ASN1_STRING_free(s);
		return -1;
	}
	return 0;
}

static int
scep_add_octets(PKCS7_SIGNER_INFO *si, int nid, const unsigned char *buf,
    size_t len)
{
	ASN1_OCTET_STRING	*s;

	if ((s = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(s, buf, (int)len) != 1 ||
	    PKCS7_add_signed_attribute(si, nid, V_ASN1_OCTET_STRING,
	    s) != 1) {
		ASN1_OCTET_STRING_free(s);
		return -1;
	}
	return 0;
}

static int
scep_add_utf8(PKCS7_SIGNER_INFO *si, int nid, const char *value)
{
	ASN1_UTF8STRING	*s;

	if ((s = ASN1_UTF8STRING_new()) == NULL ||
	    ASN1_STRING_set(s, value, -1) != 1 ||
	    PKCS7_add_signed_attribute(si, nid, V_ASN1_UTF8STRING, s) != 1) {
		ASN1_UTF8STRING_free(s);
		return -1;
	}
	return 0;
}

static int
scep_certrep_attrs(PKCS7_SIGNER_INFO *si, const struct scep_reply *rep)
{
	unsigned char	nonce[SCEP_NONCE_LEN];
	char		num[8];

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -1;
	snprintf(num, sizeof(num), "%d", SCEP_MSG_CERTREP);
	if (scep_add_printable(si, scep_nid_txid, rep->txid) == -1 ||
	    scep_add_printable(si, scep_nid_msgtype, num) == -1 ||
	    scep_add_octets(si, scep_nid_sender_nonce, nonce,
	    sizeof(nonce)) == -1)
		return -1;
	if (rep->recipient_nonce_len > 0 &&
	    scep_add_octets(si, scep_nid_recipient_nonce,
	    rep->recipient_nonce, rep->recipient_nonce_len) == -1)
		return -1;
	snprintf(num, sizeof(num), "%d", rep->status);
	if (scep_add_printable(si, scep_nid_pkistatus, num) == -1)
		return -1;
	if (rep->status != SCEP_STATUS_FAILURE)
		return 0;
	snprintf(num, sizeof(num), "%d", rep->fail);
	if (scep_add_printable(si, scep_nid_failinfo, num) == -1)
		return -1;
	if (rep->fail_text != NULL && *rep->fail_text != '\0' &&
	    scep_add_utf8(si, scep_nid_failinfo_text, rep->fail_text) == -1)
		return -1;
	return 0;
}

int
scep_certrep_build(const struct scep_reply *rep, X509 *ra_cert,
    EVP_PKEY *ra_key, unsigned char **der, size_t *len)
{
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	const EVP_MD		*md;
	BIO			*content = NULL;
	int			 rc = -1;

	*der = NULL;
	*len = 0;
	if ((md = alg_digest_get(rep->digest)) == NULL)
		goto out;
	if (rep->status == SCEP_STATUS_SUCCESS) {
		if ((content = scep_certrep_envelope(rep)) == NULL)
			goto out;
	} else if ((content = BIO_new(BIO_s_mem())) == NULL) {
		log_ssl("%s: BIO_new", __func__);
		goto out;
	}
	if ((p7 = PKCS7_sign(NULL, NULL, NULL, NULL, PKCS7_PARTIAL |
	    PKCS7_BINARY)) == NULL ||
	    (si = PKCS7_sign_add_signer(p7, ra_cert, ra_key, md,
	    PKCS7_NOSMIMECAP)) == NULL) {
		log_ssl("%s: PKCS7_sign", __func__);
		goto out;
	}
	if (scep_certrep_attrs(si, rep) == -1) {
		log_ssl("%s: adding SCEP attributes", __func__);
		goto out;
	}
	if (PKCS7_final(p7, content, PKCS7_BINARY) != 1) {
		log_ssl("%s: PKCS7_final", __func__);
		goto out;
	}
	rc = scep_p7_der(p7, der, len);
 out:
	PKCS7_free(p7);
	BIO_free(content);
	return rc;
}

int
scep_certrep_verify(const unsigned char *der, size_t len, X509 *ra_cert)
{
	STACK_OF(X509)		*signer = NULL;
	PKCS7			*p7 = NULL;
	const unsigned char	*p = der;
	int			 rc = -1;

	if (len > LONG_MAX || (p7 = d2i_PKCS7(NULL, &p, (long)len)) == NULL ||
	    (signer = sk_X509_new_null()) == NULL ||
	    sk_X509_push(signer, ra_cert) <= 0)
		goto out;
	/* Only ra_cert's public key may have made the signature. */
	if (PKCS7_verify(p7, signer, NULL, NULL, NULL, PKCS7_NOVERIFY |
	    PKCS7_NOINTERN | PKCS7_NOCHAIN | PKCS7_BINARY) == 1)
		rc = 0;
 out:
	log_ssl_clear();
	sk_X509_free(signer);
	PKCS7_free(p7);
	return rc;
}
