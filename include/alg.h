/*
 * The content-encryption and digest algorithms scepd knows, as bits of
 * an allow-list, with their OpenSSL and GetCACaps names.
 */
#ifndef SCEPD_ALG_H
#define SCEPD_ALG_H

#include <openssl/evp.h>

enum alg_cipher {
	ALG_CIPHER_AES128 = 1 << 0,
	ALG_CIPHER_AES192 = 1 << 1,
	ALG_CIPHER_AES256 = 1 << 2,
	ALG_CIPHER_DES3 = 1 << 3,
	ALG_CIPHER_DES = 1 << 4,	/* legacy, needs the legacy provider */
};

enum alg_digest {
	ALG_DIGEST_SHA1 = 1 << 0,
	ALG_DIGEST_SHA256 = 1 << 1,
	ALG_DIGEST_SHA512 = 1 << 2,
};

/* Returns the bit for a configuration name ("aes-256-cbc"), or 0. */
unsigned	 alg_cipher_from_name(const char *name);
unsigned	 alg_digest_from_name(const char *name);
/* Returns the bit for an OpenSSL NID, or 0 for anything unknown. */
unsigned	 alg_cipher_from_nid(int nid);
unsigned	 alg_digest_from_nid(int nid);
const char	*alg_cipher_name(unsigned cipher);
const char	*alg_digest_name(unsigned digest);
/* Fetches the implementation; NULL (logged) if the provider lacks it. */
const EVP_CIPHER *alg_cipher_get(unsigned cipher);
const EVP_MD	*alg_digest_get(unsigned digest);

#endif
