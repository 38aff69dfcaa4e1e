/*
 * pkiMessages for the structure-aware targets, built with OpenSSL's
 * PKCS7 API the way clients build them (not with the code under test):
 * a SignedData with the SCEP signed attributes around any content,
 * and an EnvelopedData of any content.
 */
#include <limits.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#include "fuzz.h"
#include "log.h"

#define FUZZ_MSG_OID_MSGTYPE	"2.16.840.1.113733.1.9.2"
#define FUZZ_MSG_OID_NONCE	"2.16.840.1.113733.1.9.5"
#define FUZZ_MSG_OID_TXID	"2.16.840.1.113733.1.9.7"

static int
fuzz_msg_attr(PKCS7_SIGNER_INFO *si, const char *oid, int type,
    const void *value, size_t len)
{
	ASN1_STRING	*s;
	int		 nid;

	if ((nid = OBJ_txt2nid(oid)) == NID_undef ||
	    (s = ASN1_STRING_type_new(type)) == NULL)
		return -1;
	if (ASN1_STRING_set(s, value, (int)len) != 1 ||
	    PKCS7_add_signed_attribute(si, nid, type, s) != 1) {
		ASN1_STRING_free(s);
		return -1;
	}
	return 0;
}

unsigned char *
fuzz_msg_sign(const struct fuzz_msg *m, size_t *len)
{
	PKCS7			*p7 = NULL;
	PKCS7_SIGNER_INFO	*si;
	BIO			*in = NULL;
	unsigned char		*der = NULL;
	int			 n;

	*len = 0;
	if (m->content_len > INT_MAX ||
	    (in = BIO_new_mem_buf(m->content_len ? m->content : (const
	    unsigned char *)"", (int)m->content_len)) == NULL)
		goto out;
	if ((p7 = PKCS7_sign(NULL, NULL, NULL, NULL, PKCS7_PARTIAL |
	    PKCS7_BINARY)) == NULL ||
	    (si = PKCS7_sign_add_signer(p7, m->signer_cert, m->signer_key,
	    m->md, PKCS7_NOSMIMECAP)) == NULL)
		goto out;
	if ((m->txid != NULL && fuzz_msg_attr(si, FUZZ_MSG_OID_TXID,
	    V_ASN1_PRINTABLESTRING, m->txid, strlen(m->txid)) == -1) ||
	    (m->msgtype != NULL && fuzz_msg_attr(si, FUZZ_MSG_OID_MSGTYPE,
	    V_ASN1_PRINTABLESTRING, m->msgtype, strlen(m->msgtype)) == -1) ||
	    (m->nonce_len > 0 && fuzz_msg_attr(si, FUZZ_MSG_OID_NONCE,
	    V_ASN1_OCTET_STRING, m->nonce, m->nonce_len) == -1))
		goto out;
	if (PKCS7_final(p7, in, PKCS7_BINARY) != 1 ||
	    (n = i2d_PKCS7(p7, &der)) <= 0)
		goto out;
	*len = (size_t)n;
 out:
	if (der == NULL)
		log_ssl("%s", __func__);
	PKCS7_free(p7);
	BIO_free(in);
	return der;
}

unsigned char *
fuzz_msg_envelope(const unsigned char *buf, size_t len, X509 *recipient,
    const EVP_CIPHER *cipher, size_t *outlen)
{
	STACK_OF(X509)	*recips = NULL;
	PKCS7		*env = NULL;
	BIO		*in = NULL;
	unsigned char	*der = NULL;
	int		 n;

	*outlen = 0;
	if (len > INT_MAX ||
	    (in = BIO_new_mem_buf(len ? buf : (const unsigned char *)"",
	    (int)len)) == NULL ||
	    (recips = sk_X509_new_null()) == NULL ||
	    sk_X509_push(recips, recipient) <= 0)
		goto out;
	if ((env = PKCS7_encrypt(recips, in, cipher, PKCS7_BINARY)) == NULL ||
	    (n = i2d_PKCS7(env, &der)) <= 0)
		goto out;
	*outlen = (size_t)n;
 out:
	if (der == NULL)
		log_ssl("%s", __func__);
	PKCS7_free(env);
	BIO_free(in);
	sk_X509_free(recips);
	return der;
}
