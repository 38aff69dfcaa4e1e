/*
 * The SCEP (RFC 8894) message codec: reading a pkiMessage, decrypting
 * its pkcsPKIEnvelope, and building CertRep and GetCACert responses.
 * Pure OpenSSL: keys are passed in by the caller, which gets them from
 * a signer session.
 */
#ifndef SCEPD_SCEP_H
#define SCEPD_SCEP_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#define SCEP_NONCE_LEN		16
#define SCEP_TXID_MAX		128
#define SCEP_FAIL_TEXT_MAX	256

enum scep_msgtype {
	SCEP_MSG_CERTREP = 3,
	SCEP_MSG_RENEWALREQ = 17,
	SCEP_MSG_PKCSREQ = 19,
	SCEP_MSG_CERTPOLL = 20,
	SCEP_MSG_GETCERT = 21,
	SCEP_MSG_GETCRL = 22,
};

enum scep_status {
	SCEP_STATUS_SUCCESS = 0,
	SCEP_STATUS_FAILURE = 2,
	SCEP_STATUS_PENDING = 3,
};

enum scep_failinfo {
	SCEP_FAIL_NONE = -1,
	SCEP_FAIL_BAD_ALG = 0,
	SCEP_FAIL_BAD_MESSAGE_CHECK = 1,
	SCEP_FAIL_BAD_REQUEST = 2,
	SCEP_FAIL_BAD_TIME = 3,
	SCEP_FAIL_BAD_CERT_ID = 4,
};

/*
 * A pkiMessage whose outer signature has been checked.  When fail is
 * not SCEP_FAIL_NONE the message was readable enough to be answered
 * by a CertRep FAILURE, but not to be processed; fail_text says why.
 */
struct scep_request {
	int			 msgtype;
	char			 txid[SCEP_TXID_MAX + 1];
	unsigned char		 sender_nonce[SCEP_NONCE_LEN];
	size_t			 sender_nonce_len;
	X509			*signer_cert;	/* may be NULL if fail is set */
	unsigned		 digest;	/* enum alg_digest bit, or 0 */
	unsigned		 cipher;	/* enum alg_cipher bit, or 0 */
	PKCS7			*envelope;	/* the pkcsPKIEnvelope */
	/*
	 * Set by scep_request_decrypt() when the RA key did not unwrap
	 * the content-encryption key; the OpenSSL error queue still
	 * says why (the token failed, or the ciphertext was bad).
	 */
	int			 unwrap_failed;
	enum scep_failinfo	 fail;
	char			 fail_text[SCEP_FAIL_TEXT_MAX];
};

/* What a CertRep says.  Pointers are borrowed. */
struct scep_reply {
	enum scep_status	 status;
	enum scep_failinfo	 fail;		/* FAILURE only */
	const char		*fail_text;	/* FAILURE, optional */
	const char		*txid;
	const unsigned char	*recipient_nonce;
	size_t			 recipient_nonce_len;
	X509			*issued;	/* SUCCESS only */
	X509			*recipient;	/* SUCCESS: envelope recipient */
	unsigned		 cipher;	/* SUCCESS: envelope cipher bit */
	unsigned		 digest;	/* signature digest bit */
};

/* Registers the SCEP attribute OIDs; call once before any thread. */
int		 scep_init(void);
const char	*scep_msgtype_name(int msgtype);
const char	*scep_failinfo_name(enum scep_failinfo fail);

/*
 * Reads a DER pkiMessage and verifies its signature with the signer
 * certificate it carries.  digests is the allow-list of signature
 * digests.  Returns NULL, with a reason in why, only when the message
 * cannot be answered at all (not a SignedData, no transactionID or no
 * senderNonce): the caller answers HTTP 400.
 */
struct scep_request *scep_request_parse(const unsigned char *der,
		    size_t len, unsigned digests, char *why, size_t whylen);
void		 scep_request_free(struct scep_request *req);

/*
 * Decrypts the envelope: the content-encryption key with the RA key,
 * then the content.  A key the RA key does not unwrap is replaced by a
 * random one, so that the answer does not tell a bad ciphertext from
 * bad content; req->unwrap_failed is then set and the OpenSSL error
 * queue is left for the caller to judge (the token may have failed).
 * On failure returns -1 and sets req->fail and req->fail_text.  *out
 * is allocated with malloc.
 */
int		 scep_request_decrypt(struct scep_request *req,
		    X509 *ra_cert, EVP_PKEY *ra_key, unsigned ciphers,
		    unsigned char **out, size_t *outlen);

/*
 * Reads a PKCS#10 request from decrypted content and checks its own
 * signature.  NULL (with why set) if unreadable or not self-consistent.
 */
X509_REQ	*scep_csr_parse(const unsigned char *der, size_t len,
		    char *why, size_t whylen);
/*
 * Returns the CSR's challengePassword as a NUL-terminated UTF-8 string
 * the caller must OPENSSL_clear_free(), or NULL if there is none.
 */
char		*scep_csr_get_challenge(const X509_REQ *csr, size_t *len);

/*
 * Checks that content is an IssuerAndSubject (the body of a CertPoll):
 * SEQUENCE { issuer Name, subject Name }.  -1 if not.
 */
int		 scep_issuer_and_subject_check(const unsigned char *der,
		    size_t len);

/*
 * Builds and signs a CertRep with the RA key.  *der is allocated with
 * OPENSSL_malloc.
 */
int		 scep_certrep_build(const struct scep_reply *rep,
		    X509 *ra_cert, EVP_PKEY *ra_key, unsigned char **der,
		    size_t *len);
/*
 * Checks that a CertRep's signature verifies with ra_cert's public key
 * (proof that the key in the token still matches the certificate).
 */
int		 scep_certrep_verify(const unsigned char *der, size_t len,
		    X509 *ra_cert);
/* A degenerate certs-only SignedData holding certs, in DER. */
int		 scep_certs_only_der(STACK_OF(X509) *certs,
		    unsigned char **der, size_t *len);

#endif
