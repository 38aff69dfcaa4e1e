/*
 * Helpers for unit tests: software keys and certificates, CSRs and
 * SCEP pkiMessages built directly with OpenSSL's PKCS7 API (not with
 * the code under test).
 */
#ifndef SCEPD_TESTUTIL_H
#define SCEPD_TESTUTIL_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

/* Keys are cached per process: RSA generation is slow. */
EVP_PKEY	*tu_rsa_key(int slot, int bits);	/* borrowed */
EVP_PKEY	*tu_ec_key(int slot, const char *curve);	/* borrowed */

/* Self-signed when issuer is NULL. ku: keyUsage value or NULL. */
X509		*tu_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
		    EVP_PKEY *issuer_key, const char *ku, int ca, long days);

struct tu_csr_opts {
	const char	*cn;		/* NULL: empty subject */
	const char	*challenge;	/* NULL: none */
	int		 challenge_type; /* V_ASN1_PRINTABLESTRING default */
	const char	*san;		/* e.g. "DNS:a.example,IP:10.0.0.1" */
};
X509_REQ	*tu_csr(EVP_PKEY *key, const struct tu_csr_opts *o);
unsigned char	*tu_csr_der(X509_REQ *csr, size_t *len);

struct tu_msg_opts {
	const char		*txid;		/* NULL: omit */
	const char		*msgtype;	/* NULL: omit */
	size_t			 nonce_len;	/* 0: omit */
	const EVP_MD		*md;
	const EVP_CIPHER	*cipher;
	X509			*recipient;
	X509			*signer_cert;
	EVP_PKEY		*signer_key;
	const unsigned char	*content;	/* to envelope */
	size_t			 content_len;
	int			 corrupt_signature;
	int			 corrupt_wrapped_key;	/* the RSA-encrypted CEK */
	int			 corrupt_content;	/* the last cipher block */
	/* Signed as is instead of an envelope of content (hostile input). */
	const unsigned char	*inner;
	size_t			 inner_len;
};
/* A pkiMessage in DER (OPENSSL_free). */
unsigned char	*tu_pkimessage(const struct tu_msg_opts *o, size_t *len);

/* Writes text to a new temporary file; returns its path (free()). */
char		*tu_write_temp(const char *text);
/* A fresh temporary directory (free()). */
char		*tu_temp_dir(void);
/* Removes a directory tree made by a test. */
void		 tu_remove_tree(const char *dir);

#endif
