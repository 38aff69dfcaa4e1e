/*
 * Unit-test helpers built on OpenSSL alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "testutil.h"

#define TU_SLOTS	4

static EVP_PKEY	*tu_rsa_cache[TU_SLOTS];
static EVP_PKEY	*tu_ec_cache[TU_SLOTS];

/* Frees the cached keys at exit so that leak checkers stay quiet. */
static void
tu_free_keys(void)
{
	int	i;

	for (i = 0; i < TU_SLOTS; i++) {
		EVP_PKEY_free(tu_rsa_cache[i]);
		EVP_PKEY_free(tu_ec_cache[i]);
	}
}

static void
tu_register_cleanup(void)
{
	static int	done;

	if (!done) {
		atexit(tu_free_keys);
		done = 1;
	}
}

EVP_PKEY *
tu_rsa_key(int slot, int bits)
{
	tu_register_cleanup();
	if (tu_rsa_cache[slot] == NULL)
		tu_rsa_cache[slot] = EVP_RSA_gen((unsigned)bits);
	assert_non_null(tu_rsa_cache[slot]);
	return tu_rsa_cache[slot];
}

EVP_PKEY *
tu_ec_key(int slot, const char *curve)
{
	tu_register_cleanup();
	if (tu_ec_cache[slot] == NULL)
		tu_ec_cache[slot] = EVP_EC_gen(curve);
	assert_non_null(tu_ec_cache[slot]);
	return tu_ec_cache[slot];
}

static void
tu_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

X509 *
tu_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    const char *ku, int ca, long days)
{
	X509		*x = X509_new();
	X509_NAME	*name = X509_NAME_new();
	unsigned char	 serial[8];
	BIGNUM		*bn;

	assert_non_null(x);
	assert_int_equal(RAND_bytes(serial, sizeof(serial)), 1);
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, X509_VERSION_3);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
	X509_set_pubkey(x, key);
	tu_add_ext(x, issuer, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ku != NULL)
		tu_add_ext(x, issuer, NID_key_usage, ku);
	tu_add_ext(x, issuer, NID_subject_key_identifier, "hash");
	assert_true(X509_sign(x, issuer_key ? issuer_key : key,
	    EVP_sha256()) > 0);
	return x;
}

X509_REQ *
tu_csr(EVP_PKEY *key, const struct tu_csr_opts *o)
{
	X509_REQ			*req = X509_REQ_new();
	X509_NAME			*name = X509_NAME_new();
	STACK_OF(X509_EXTENSION)	*exts;
	X509_EXTENSION			*ext;

	assert_non_null(req);
	if (o->cn != NULL)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		    (const unsigned char *)o->cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	if (o->challenge != NULL)
		assert_int_equal(X509_REQ_add1_attr_by_NID(req,
		    NID_pkcs9_challengePassword, o->challenge_type ?
		    o->challenge_type : V_ASN1_PRINTABLESTRING,
		    (const unsigned char *)o->challenge,
		    (int)strlen(o->challenge)), 1);
	if (o->san != NULL) {
		exts = sk_X509_EXTENSION_new_null();
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
		    o->san);
		assert_non_null(ext);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	return req;
}

unsigned char *
tu_csr_der(X509_REQ *csr, size_t *len)
{
	unsigned char	*der = NULL;
	int		 n;

	n = i2d_X509_REQ(csr, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

static void
tu_add_attr(PKCS7_SIGNER_INFO *si, const char *oid, int type,
    const void *value, int len)
{
	ASN1_STRING	*s = ASN1_STRING_type_new(type);
	int		 nid = OBJ_txt2nid(oid);

	if (nid == NID_undef)
		nid = OBJ_create(oid, NULL, NULL);
	assert_int_not_equal(nid, NID_undef);
	assert_int_equal(ASN1_STRING_set(s, value, len), 1);
	assert_int_equal(PKCS7_add_signed_attribute(si, nid, type, s), 1);
}

/* Flips a byte of the (only) SignerInfo's signature. */
static void
tu_corrupt(PKCS7 *p7)
{
	PKCS7_SIGNER_INFO	*si;
	unsigned char		*d;

	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	d = (unsigned char *)ASN1_STRING_get0_data(si->enc_digest);
	d[ASN1_STRING_length(si->enc_digest) / 2] ^= 0x5a;
}

static void
tu_flip_middle(ASN1_OCTET_STRING *s)
{
	unsigned char	*d = (unsigned char *)ASN1_STRING_get0_data(s);

	d[ASN1_STRING_length(s) / 2] ^= 0x5a;
}

static void
tu_flip_last(ASN1_OCTET_STRING *s)
{
	unsigned char	*d = (unsigned char *)ASN1_STRING_get0_data(s);

	d[ASN1_STRING_length(s) - 1] ^= 0x5a;
}

unsigned char *
tu_pkimessage(const struct tu_msg_opts *o, size_t *len)
{
	STACK_OF(X509)		*recips = sk_X509_new_null();
	PKCS7			*env, *p7;
	PKCS7_SIGNER_INFO	*si;
	BIO			*in, *envbio;
	unsigned char		*envder = NULL, *out = NULL;
	unsigned char		 nonce[64];
	int			 n;

	sk_X509_push(recips, o->recipient);
	in = BIO_new_mem_buf(o->content, (int)o->content_len);
	env = PKCS7_encrypt(recips, in, o->cipher, PKCS7_BINARY);
	assert_non_null(env);
	if (o->corrupt_wrapped_key)
		tu_flip_middle(sk_PKCS7_RECIP_INFO_value(
		    env->d.enveloped->recipientinfo, 0)->enc_key);
	if (o->corrupt_content)
		tu_flip_last(env->d.enveloped->enc_data->enc_data);
	n = i2d_PKCS7(env, &envder);
	assert_true(n > 0);
	if (o->inner != NULL)
		envbio = BIO_new_mem_buf(o->inner, (int)o->inner_len);
	else
		envbio = BIO_new_mem_buf(envder, n);

	p7 = PKCS7_sign(NULL, NULL, NULL, NULL, PKCS7_PARTIAL | PKCS7_BINARY);
	assert_non_null(p7);
	si = PKCS7_sign_add_signer(p7, o->signer_cert, o->signer_key, o->md,
	    PKCS7_NOSMIMECAP);
	assert_non_null(si);
	if (o->txid != NULL)
		tu_add_attr(si, "2.16.840.1.113733.1.9.7",
		    V_ASN1_PRINTABLESTRING, o->txid, -1);
	if (o->msgtype != NULL)
		tu_add_attr(si, "2.16.840.1.113733.1.9.2",
		    V_ASN1_PRINTABLESTRING, o->msgtype, -1);
	if (o->nonce_len > 0) {
		assert_true(o->nonce_len <= sizeof(nonce));
		RAND_bytes(nonce, (int)o->nonce_len);
		tu_add_attr(si, "2.16.840.1.113733.1.9.5",
		    V_ASN1_OCTET_STRING, nonce, (int)o->nonce_len);
	}
	assert_int_equal(PKCS7_final(p7, envbio, PKCS7_BINARY), 1);
	if (o->corrupt_signature)
		tu_corrupt(p7);
	n = i2d_PKCS7(p7, &out);
	assert_true(n > 0);
	*len = (size_t)n;
	PKCS7_free(p7);
	PKCS7_free(env);
	BIO_free(in);
	BIO_free(envbio);
	OPENSSL_free(envder);
	sk_X509_free(recips);
	return out;
}

char *
tu_write_temp(const char *text)
{
	char	*path = strdup("/tmp/scepd-test-XXXXXX");
	int	 fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

char *
tu_temp_dir(void)
{
	char	*path = strdup("/tmp/scepd-test-XXXXXX");

	assert_non_null(path);
	assert_non_null(mkdtemp(path));
	return path;
}

void
tu_remove_tree(const char *dir)
{
	char	*cmd;

	/* Only ever our own mkdtemp() directories. */
	if (strncmp(dir, "/tmp/scepd-test-", 16) != 0)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", dir) != -1) {
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		free(cmd);
	}
}
