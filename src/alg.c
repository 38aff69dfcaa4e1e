/*
 * Algorithm names and identifiers in one table, so that the config
 * parser, the codec and GetCACaps agree on what each name means.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "alg.h"
#include "log.h"

struct alg_entry {
	unsigned	 bit;
	const char	*name;		/* configuration and log name */
	int		 nid;
};

static const struct alg_entry alg_ciphers[] = {
	{ ALG_CIPHER_AES128, "aes-128-cbc", NID_aes_128_cbc },
	{ ALG_CIPHER_AES192, "aes-192-cbc", NID_aes_192_cbc },
	{ ALG_CIPHER_AES256, "aes-256-cbc", NID_aes_256_cbc },
	{ ALG_CIPHER_DES3, "des-ede3-cbc", NID_des_ede3_cbc },
	{ ALG_CIPHER_DES, "des-cbc", NID_des_cbc },
};

static const struct alg_entry alg_digests[] = {
	{ ALG_DIGEST_SHA1, "sha1", NID_sha1 },
	{ ALG_DIGEST_SHA256, "sha256", NID_sha256 },
	{ ALG_DIGEST_SHA512, "sha512", NID_sha512 },
};

#define ALG_COUNT(t)	(sizeof(t) / sizeof((t)[0]))

static const struct alg_entry *
alg_find_name(const struct alg_entry *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static const struct alg_entry *
alg_find_nid(const struct alg_entry *t, size_t n, int nid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].nid == nid)
			return &t[i];
	return NULL;
}

static const struct alg_entry *
alg_find_bit(const struct alg_entry *t, size_t n, unsigned bit)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].bit == bit)
			return &t[i];
	return NULL;
}

unsigned
alg_cipher_from_name(const char *name)
{
	const struct alg_entry *e;

	e = alg_find_name(alg_ciphers, ALG_COUNT(alg_ciphers), name);
	return e ? e->bit : 0;
}

unsigned
alg_digest_from_name(const char *name)
{
	const struct alg_entry *e;

	e = alg_find_name(alg_digests, ALG_COUNT(alg_digests), name);
	return e ? e->bit : 0;
}

unsigned
alg_cipher_from_nid(int nid)
{
	const struct alg_entry *e;

	e = alg_find_nid(alg_ciphers, ALG_COUNT(alg_ciphers), nid);
	return e ? e->bit : 0;
}

unsigned
alg_digest_from_nid(int nid)
{
	const struct alg_entry *e;

	e = alg_find_nid(alg_digests, ALG_COUNT(alg_digests), nid);
	return e ? e->bit : 0;
}

const char *
alg_cipher_name(unsigned cipher)
{
	const struct alg_entry *e;

	e = alg_find_bit(alg_ciphers, ALG_COUNT(alg_ciphers), cipher);
	return e ? e->name : "unknown";
}

const char *
alg_digest_name(unsigned digest)
{
	const struct alg_entry *e;

	e = alg_find_bit(alg_digests, ALG_COUNT(alg_digests), digest);
	return e ? e->name : "unknown";
}

const EVP_CIPHER *
alg_cipher_get(unsigned cipher)
{
	const struct alg_entry	*e;
	const EVP_CIPHER	*c;

	if ((e = alg_find_bit(alg_ciphers, ALG_COUNT(alg_ciphers),
	    cipher)) == NULL)
		return NULL;
	if ((c = EVP_get_cipherbynid(e->nid)) == NULL)
		log_ssl("%s: %s unavailable", __func__, e->name);
	return c;
}

const EVP_MD *
alg_digest_get(unsigned digest)
{
	const struct alg_entry	*e;
	const EVP_MD		*md;

	if ((e = alg_find_bit(alg_digests, ALG_COUNT(alg_digests),
	    digest)) == NULL)
		return NULL;
	if ((md = EVP_get_digestbynid(e->nid)) == NULL)
		log_ssl("%s: %s unavailable", __func__, e->name);
	return md;
}
