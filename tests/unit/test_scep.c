/*
 * The SCEP codec: reading pkiMessages (malformed, wrongly signed,
 * wrongly addressed, every cipher and digest) and building CertReps
 * that a standard PKCS7 reader accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "alg.h"
#include "log.h"
#include "scep.h"
#include "testutil.h"

#define ALL_CIPHERS	(ALG_CIPHER_AES128 | ALG_CIPHER_AES192 | \
			 ALG_CIPHER_AES256 | ALG_CIPHER_DES3 | ALG_CIPHER_DES)
#define ALL_DIGESTS	(ALG_DIGEST_SHA1 | ALG_DIGEST_SHA256 | \
			 ALG_DIGEST_SHA512)

struct fixture {
	EVP_PKEY	*ra_key, *client_key, *other_key;
	X509		*ra_cert, *client_cert, *other_cert;
	X509_REQ	*csr;
	unsigned char	*csr_der;
	size_t		 csr_len;
};

static OSSL_PROVIDER	*legacy, *deflt;

static int
group_setup(void **state)
{
	struct fixture		*f = calloc(1, sizeof(*f));
	struct tu_csr_opts	 co = { "host1", "s3cret", 0, NULL };

	log_init("test_scep", LOG_LEVEL_ERROR);
	if (f == NULL || scep_init() == -1)
		return -1;
	legacy = OSSL_PROVIDER_load(NULL, "legacy");
	deflt = OSSL_PROVIDER_load(NULL, "default");
	f->ra_key = tu_rsa_key(0, 2048);
	f->client_key = tu_rsa_key(1, 2048);
	f->other_key = tu_rsa_key(2, 2048);
	f->ra_cert = tu_cert(f->ra_key, "RA", NULL, NULL,
	    "digitalSignature,keyEncipherment", 0, 30);
	f->client_cert = tu_cert(f->client_key, "host1", NULL, NULL, NULL, 0,
	    1);
	f->other_cert = tu_cert(f->other_key, "other", NULL, NULL,
	    "keyEncipherment", 0, 30);
	f->csr = tu_csr(f->client_key, &co);
	f->csr_der = tu_csr_der(f->csr, &f->csr_len);
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture	*f = *state;

	X509_free(f->ra_cert);
	X509_free(f->client_cert);
	X509_free(f->other_cert);
	X509_REQ_free(f->csr);
	OPENSSL_free(f->csr_der);
	free(f);
	OSSL_PROVIDER_unload(legacy);
	OSSL_PROVIDER_unload(deflt);
	return 0;
}

static struct tu_msg_opts
default_msg(const struct fixture *f)
{
	struct tu_msg_opts	o;

	memset(&o, 0, sizeof(o));
	o.txid = "txid-1";
	o.msgtype = "19";
	o.nonce_len = SCEP_NONCE_LEN;
	o.md = EVP_sha256();
	o.cipher = EVP_aes_256_cbc();
	o.recipient = f->ra_cert;
	o.signer_cert = f->client_cert;
	o.signer_key = f->client_key;
	o.content = f->csr_der;
	o.content_len = f->csr_len;
	return o;
}

static struct scep_request *
parse(const struct tu_msg_opts *o, unsigned digests, char *why)
{
	struct scep_request	*req;
	unsigned char		*der;
	size_t			 len;

	der = tu_pkimessage(o, &len);
	req = scep_request_parse(der, len, digests, why, 256);
	OPENSSL_free(der);
	return req;
}

/* The message parses, but is to be answered with FAILURE fail. */
static void
expect_parse_failinfo(const struct tu_msg_opts *o, unsigned digests,
    enum scep_failinfo fail)
{
	struct scep_request	*req;
	char			 why[256];

	req = parse(o, digests, why);
	assert_non_null(req);
	assert_int_equal(req->fail, fail);
	assert_string_not_equal(req->fail_text, "");
	scep_request_free(req);
}

/* The message parses, but its envelope must not open with key. */
static void
expect_decrypt_failinfo(struct fixture *f, const struct tu_msg_opts *o,
    EVP_PKEY *key, unsigned ciphers, enum scep_failinfo fail)
{
	struct scep_request	*req;
	unsigned char		*out = NULL;
	size_t			 len;
	char			 why[256];

	req = parse(o, ALL_DIGESTS, why);
	assert_non_null(req);
	assert_int_equal(req->fail, SCEP_FAIL_NONE);
	assert_int_equal(scep_request_decrypt(req, f->ra_cert, key, ciphers,
	    &out, &len), -1);
	assert_null(out);
	assert_int_equal(req->fail, fail);
	scep_request_free(req);
	ERR_clear_error();
}

static void
test_scep_parse_refuses_empty_input(void **state)
{
	char	why[256];

	(void)state;
	assert_null(scep_request_parse((const unsigned char *)"", 0,
	    ALL_DIGESTS, why, sizeof(why)));
	assert_non_null(strstr(why, "PKCS#7"));
}

static void
test_scep_parse_refuses_random_bytes(void **state)
{
	unsigned char	buf[1024];
	char		why[256];
	int		i;

	(void)state;
	for (i = 0; i < 50; i++) {
		RAND_bytes(buf, sizeof(buf));
		assert_null(scep_request_parse(buf, sizeof(buf), ALL_DIGESTS,
		    why, sizeof(why)));
	}
}

static void
test_scep_parse_refuses_every_truncation(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	unsigned char		*der;
	size_t			 len, cut;
	char			 why[256];

	der = tu_pkimessage(&o, &len);
	for (cut = 0; cut < len; cut += 7)
		assert_null(scep_request_parse(der, cut, ALL_DIGESTS, why,
		    sizeof(why)));
	OPENSSL_free(der);
}

static void
test_scep_parse_refuses_trailing_garbage(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	unsigned char		*der, *longer;
	size_t			 len;
	char			 why[256];

	der = tu_pkimessage(&o, &len);
	longer = malloc(len + 4);
	memcpy(longer, der, len);
	memcpy(longer + len, "junk", 4);
	assert_null(scep_request_parse(longer, len + 4, ALL_DIGESTS, why,
	    sizeof(why)));
	free(longer);
	OPENSSL_free(der);
}

static void
test_scep_parse_survives_bit_flips(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	struct scep_request	*req;
	unsigned char		*der;
	size_t			 len, i;
	char			 why[256];

	der = tu_pkimessage(&o, &len);
	/* Whatever a flipped bit does, the result is defined and freed. */
	for (i = 0; i < len; i += 3) {
		der[i] ^= 0x10;
		req = scep_request_parse(der, len, ALL_DIGESTS, why,
		    sizeof(why));
		if (req != NULL)
			assert_true(req->fail != SCEP_FAIL_NONE ||
			    req->envelope != NULL);
		scep_request_free(req);
		der[i] ^= 0x10;
	}
	OPENSSL_free(der);
}

static void
test_scep_parse_reads_a_good_request(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	struct scep_request	*req;
	char			 why[256];

	req = parse(&o, ALL_DIGESTS, why);
	assert_non_null(req);
	assert_int_equal(req->fail, SCEP_FAIL_NONE);
	assert_int_equal(req->msgtype, SCEP_MSG_PKCSREQ);
	assert_string_equal(req->txid, "txid-1");
	assert_int_equal(req->sender_nonce_len, SCEP_NONCE_LEN);
	assert_int_equal(req->digest, ALG_DIGEST_SHA256);
	assert_int_equal(req->cipher, ALG_CIPHER_AES256);
	assert_int_equal(X509_cmp(req->signer_cert, f->client_cert), 0);
	scep_request_free(req);
}

static void
test_scep_parse_needs_a_transaction_id(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	char			 why[256];

	o.txid = NULL;
	assert_null(parse(&o, ALL_DIGESTS, why));
	assert_non_null(strstr(why, "transactionID"));
}

static void
test_scep_parse_needs_a_sender_nonce(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	char			 why[256];

	o.nonce_len = 0;
	assert_null(parse(&o, ALL_DIGESTS, why));
	assert_non_null(strstr(why, "senderNonce"));
}

static void
test_scep_parse_fails_short_nonce_with_bad_request(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	struct scep_request	*req;
	char			 why[256];

	o.nonce_len = 8;
	expect_parse_failinfo(&o, ALL_DIGESTS, SCEP_FAIL_BAD_REQUEST);
	req = parse(&o, ALL_DIGESTS, why);
	assert_int_equal(req->sender_nonce_len, 8);	/* kept for the echo */
	scep_request_free(req);
}

static void
test_scep_parse_fails_missing_message_type_with_bad_request(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	o.msgtype = NULL;
	expect_parse_failinfo(&o, ALL_DIGESTS, SCEP_FAIL_BAD_REQUEST);
	o.msgtype = "nineteen";
	expect_parse_failinfo(&o, ALL_DIGESTS, SCEP_FAIL_BAD_REQUEST);
}

static void
test_scep_parse_fails_wrong_signature_with_bad_message_check(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	o.corrupt_signature = 1;
	expect_parse_failinfo(&o, ALL_DIGESTS, SCEP_FAIL_BAD_MESSAGE_CHECK);
}

static void
test_scep_parse_fails_md5_with_bad_alg(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	o.md = EVP_md5();
	expect_parse_failinfo(&o, ALL_DIGESTS, SCEP_FAIL_BAD_ALG);
}

static void
test_scep_parse_fails_digest_outside_allow_list(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	o.md = EVP_sha1();
	expect_parse_failinfo(&o, ALG_DIGEST_SHA256, SCEP_FAIL_BAD_ALG);
}

static void
check_decrypts_with(struct fixture *f, const EVP_CIPHER *cipher,
    const EVP_MD *md, unsigned expect)
{
	struct tu_msg_opts	 o = default_msg(f);
	struct scep_request	*req;
	unsigned char		*out;
	size_t			 len;
	char			 why[256];

	o.cipher = cipher;
	o.md = md;
	req = parse(&o, ALL_DIGESTS, why);
	assert_non_null(req);
	assert_int_equal(req->fail, SCEP_FAIL_NONE);
	assert_int_equal(req->cipher, expect);
	assert_int_equal(scep_request_decrypt(req, f->ra_cert, f->ra_key,
	    ALL_CIPHERS, &out, &len), 0);
	assert_int_equal(len, f->csr_len);
	assert_memory_equal(out, f->csr_der, len);
	free(out);
	scep_request_free(req);
}

static void
test_scep_decrypts_every_accepted_cipher(void **state)
{
	struct fixture	*f = *state;

	check_decrypts_with(f, EVP_aes_128_cbc(), EVP_sha256(),
	    ALG_CIPHER_AES128);
	check_decrypts_with(f, EVP_aes_192_cbc(), EVP_sha512(),
	    ALG_CIPHER_AES192);
	check_decrypts_with(f, EVP_aes_256_cbc(), EVP_sha1(),
	    ALG_CIPHER_AES256);
	check_decrypts_with(f, EVP_des_ede3_cbc(), EVP_sha256(),
	    ALG_CIPHER_DES3);
	check_decrypts_with(f, EVP_des_cbc(), EVP_sha1(), ALG_CIPHER_DES);
}

static void
test_scep_refuses_cipher_outside_allow_list_with_bad_alg(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	o.cipher = EVP_des_cbc();
	expect_decrypt_failinfo(f, &o, f->ra_key, ALL_CIPHERS & ~ALG_CIPHER_DES,
	    SCEP_FAIL_BAD_ALG);
}

static void
test_scep_refuses_wrong_recipient_with_bad_message_check(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	o.recipient = f->other_cert;
	expect_decrypt_failinfo(f, &o, f->ra_key, ALL_CIPHERS,
	    SCEP_FAIL_BAD_MESSAGE_CHECK);
}

static void
test_scep_refuses_envelope_the_key_cannot_open(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);

	/* Addressed to the RA certificate, but we hold another key. */
	expect_decrypt_failinfo(f, &o, f->other_key, ALL_CIPHERS,
	    SCEP_FAIL_BAD_MESSAGE_CHECK);
}

/*
 * Decrypts o's envelope with the RA key; expects badMessageCheck with
 * the one text every undecryptable envelope gets, and returns whether
 * the key failed to unwrap.
 */
static int
decrypt_fails_alike(struct fixture *f, const struct tu_msg_opts *o)
{
	struct scep_request	*req;
	unsigned char		*out = NULL;
	size_t			 len;
	char			 why[256];
	int			 unwrap_failed;

	req = parse(o, ALL_DIGESTS, why);
	assert_non_null(req);
	assert_int_equal(scep_request_decrypt(req, f->ra_cert, f->ra_key,
	    ALL_CIPHERS, &out, &len), -1);
	assert_null(out);
	assert_int_equal(req->fail, SCEP_FAIL_BAD_MESSAGE_CHECK);
	assert_string_equal(req->fail_text, "the envelope cannot be decrypted");
	unwrap_failed = req->unwrap_failed;
	scep_request_free(req);
	ERR_clear_error();
	return unwrap_failed;
}

static void
test_scep_bad_wrapped_key_and_bad_content_are_answered_alike(void **state)
{
	struct fixture		*f = *state;
	struct tu_msg_opts	 o = default_msg(f);
	int			 i;

	/*
	 * A content key that does not unwrap is replaced by a random
	 * one, so the answer is that of content that does not decrypt:
	 * the client learns nothing about the RSA padding.
	 */
	o.corrupt_wrapped_key = 1;
	for (i = 0; i < 8; i++)
		assert_true(decrypt_fails_alike(f, &o));
	o.corrupt_wrapped_key = 0;
	o.corrupt_content = 1;
	assert_false(decrypt_fails_alike(f, &o));
}

/*
 * Validly signed messages around hostile inner content: the outer
 * signature holds, so the codec must check every field it touches.
 */
static struct scep_request *
parse_inner(struct fixture *f, const unsigned char *inner, size_t len)
{
	struct tu_msg_opts	 o = default_msg(f);
	char			 why[256];

	o.inner = inner;
	o.inner_len = len;
	return parse(&o, ALL_DIGESTS, why);
}

/* DER of an envelope PKCS7_encrypt made, then altered by spoil. */
static unsigned char *
spoiled_envelope(struct fixture *f, void (*spoil)(PKCS7 *), size_t *len)
{
	STACK_OF(X509)	*recips = sk_X509_new_null();
	PKCS7		*env;
	BIO		*in;
	unsigned char	*der = NULL;
	int		 n;

	sk_X509_push(recips, f->ra_cert);
	in = BIO_new_mem_buf(f->csr_der, (int)f->csr_len);
	env = PKCS7_encrypt(recips, in, EVP_aes_128_cbc(), PKCS7_BINARY);
	assert_non_null(env);
	spoil(env);
	n = i2d_PKCS7(env, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	PKCS7_free(env);
	BIO_free(in);
	sk_X509_free(recips);
	return der;
}

static void
spoil_drop_encrypted_content(PKCS7 *env)
{
	ASN1_OCTET_STRING_free(env->d.enveloped->enc_data->enc_data);
	env->d.enveloped->enc_data->enc_data = NULL;
}

static void
spoil_drop_recipients(PKCS7 *env)
{
	sk_PKCS7_RECIP_INFO_pop_free(env->d.enveloped->recipientinfo,
	    PKCS7_RECIP_INFO_free);
	env->d.enveloped->recipientinfo = sk_PKCS7_RECIP_INFO_new_null();
}

static void
spoil_empty_encrypted_content(PKCS7 *env)
{
	ASN1_OCTET_STRING_set(env->d.enveloped->enc_data->enc_data,
	    (const unsigned char *)"", 0);
}

static void
test_scep_enveloped_content_info_without_content_is_bad_request(
    void **state)
{
	/* ContentInfo { envelopedData } with the [0] content absent. */
	static const unsigned char	 bare[] = { 0x30, 0x0b, 0x06, 0x09,
	    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03 };
	struct scep_request		*req;

	req = parse_inner(*state, bare, sizeof(bare));
	assert_non_null(req);
	assert_int_equal(req->fail, SCEP_FAIL_BAD_REQUEST);
	assert_null(req->envelope);
	scep_request_free(req);
}

static void
test_scep_signed_content_of_other_types_is_bad_request(void **state)
{
	static const unsigned char	 signed_bare[] = { 0x30, 0x0b, 0x06,
	    0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
	static const unsigned char	 null_der[] = { 0x05, 0x00 };
	struct fixture			*f = *state;
	struct scep_request		*req;

	req = parse_inner(f, signed_bare, sizeof(signed_bare));
	assert_non_null(req);
	assert_int_equal(req->fail, SCEP_FAIL_BAD_REQUEST);
	scep_request_free(req);
	req = parse_inner(f, null_der, sizeof(null_der));
	assert_non_null(req);
	assert_int_equal(req->fail, SCEP_FAIL_BAD_REQUEST);
	scep_request_free(req);
}

/* The envelope reads, but decrypting it must fail with fail. */
static void
expect_spoiled_envelope_fails(struct fixture *f, void (*spoil)(PKCS7 *),
    enum scep_failinfo fail)
{
	struct scep_request	*req;
	unsigned char		*inner, *out = NULL;
	size_t			 len, outlen;

	inner = spoiled_envelope(f, spoil, &len);
	req = parse_inner(f, inner, len);
	assert_non_null(req);
	if (req->fail == SCEP_FAIL_NONE) {
		assert_int_equal(scep_request_decrypt(req, f->ra_cert,
		    f->ra_key, ALL_CIPHERS, &out, &outlen), -1);
		assert_null(out);
	}
	assert_int_equal(req->fail, fail);
	scep_request_free(req);
	OPENSSL_free(inner);
	ERR_clear_error();
}

static void
test_scep_envelope_without_encrypted_content_is_refused(void **state)
{
	expect_spoiled_envelope_fails(*state, spoil_drop_encrypted_content,
	    SCEP_FAIL_BAD_REQUEST);
	expect_spoiled_envelope_fails(*state, spoil_empty_encrypted_content,
	    SCEP_FAIL_BAD_MESSAGE_CHECK);
}

static void
test_scep_envelope_without_recipients_is_bad_message_check(void **state)
{
	expect_spoiled_envelope_fails(*state, spoil_drop_recipients,
	    SCEP_FAIL_BAD_MESSAGE_CHECK);
}

static void
test_scep_envelope_must_hold_a_csr(void **state)
{
	char	why[256];

	(void)state;
	assert_null(scep_csr_parse((const unsigned char *)"\x30\x03\x02\x01"
	    "\x01", 5, why, sizeof(why)));
	assert_non_null(strstr(why, "PKCS#10"));
}

static void
test_scep_csr_with_bad_signature_is_refused(void **state)
{
	struct fixture	*f = *state;
	unsigned char	*der;
	char		 why[256];

	der = malloc(f->csr_len);
	memcpy(der, f->csr_der, f->csr_len);
	der[f->csr_len - 10] ^= 0x01;	/* inside the signature */
	assert_null(scep_csr_parse(der, f->csr_len, why, sizeof(why)));
	assert_non_null(strstr(why, "signature"));
	free(der);
}

static void
test_scep_csr_challenge_is_read_in_any_string_type(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "h", "pässword", V_ASN1_UTF8STRING,
				    NULL };
	X509_REQ		*csr;
	char			*c;
	size_t			 len;

	c = scep_csr_get_challenge(f->csr, &len);
	assert_non_null(c);
	assert_string_equal(c, "s3cret");
	assert_int_equal(len, 6);
	OPENSSL_clear_free(c, len);

	csr = tu_csr(f->client_key, &co);
	c = scep_csr_get_challenge(csr, &len);
	assert_non_null(c);
	assert_string_equal(c, "pässword");
	OPENSSL_clear_free(c, len);
	X509_REQ_free(csr);
}

static void
test_scep_csr_without_challenge_gives_null(void **state)
{
	struct fixture		*f = *state;
	struct tu_csr_opts	 co = { "h", NULL, 0, NULL };
	X509_REQ		*csr;
	size_t			 len;

	csr = tu_csr(f->client_key, &co);
	assert_null(scep_csr_get_challenge(csr, &len));
	X509_REQ_free(csr);
}

/* Reads a signed attribute of a CertRep as a string, or NULL. */
static const ASN1_STRING *
certrep_attr(PKCS7 *p7, const char *oid)
{
	PKCS7_SIGNER_INFO	*si;
	ASN1_TYPE		*t;

	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	t = PKCS7_get_signed_attribute(si, OBJ_txt2nid(oid));
	return t ? t->value.asn1_string : NULL;
}

static int
attr_equals(PKCS7 *p7, const char *oid, const char *value)
{
	const ASN1_STRING	*s = certrep_attr(p7, oid);

	return s != NULL && ASN1_STRING_length(s) == (int)strlen(value) &&
	    memcmp(ASN1_STRING_get0_data(s), value, strlen(value)) == 0;
}

/* Parses and verifies a CertRep as a client would. */
static PKCS7 *
certrep_verify(struct fixture *f, const unsigned char *der, size_t len,
    BIO *content)
{
	const unsigned char	*p = der;
	PKCS7			*p7;
	STACK_OF(X509)		*trusted = sk_X509_new_null();

	p7 = d2i_PKCS7(NULL, &p, (long)len);
	assert_non_null(p7);
	sk_X509_push(trusted, f->ra_cert);
	assert_int_equal(PKCS7_verify(p7, trusted, NULL, NULL, content,
	    PKCS7_NOVERIFY | PKCS7_NOINTERN | PKCS7_BINARY), 1);
	sk_X509_free(trusted);
	return p7;
}

static void
test_scep_certrep_success_carries_the_certificate(void **state)
{
	struct fixture		*f = *state;
	struct scep_reply	 rep;
	unsigned char		 nonce[SCEP_NONCE_LEN] = "0123456789abcdef";
	unsigned char		*der;
	size_t			 len;
	BIO			*content = BIO_new(BIO_s_mem());
	BIO			*plain = BIO_new(BIO_s_mem());
	PKCS7			*p7, *env, *deg;
	X509			*issued = tu_cert(f->client_key, "host1",
				    f->ra_cert, f->ra_key, NULL, 0, 30);
	const unsigned char	*p;
	char			*data;
	long			 n;

	memset(&rep, 0, sizeof(rep));
	rep.status = SCEP_STATUS_SUCCESS;
	rep.txid = "txid-1";
	rep.recipient_nonce = nonce;
	rep.recipient_nonce_len = sizeof(nonce);
	rep.issued = issued;
	rep.recipient = f->client_cert;
	rep.cipher = ALG_CIPHER_AES128;
	rep.digest = ALG_DIGEST_SHA256;
	assert_int_equal(scep_certrep_build(&rep, f->ra_cert, f->ra_key, &der,
	    &len), 0);
	p7 = certrep_verify(f, der, len, content);
	assert_true(attr_equals(p7, "2.16.840.1.113733.1.9.7", "txid-1"));
	assert_true(attr_equals(p7, "2.16.840.1.113733.1.9.2", "3"));
	assert_true(attr_equals(p7, "2.16.840.1.113733.1.9.3", "0"));
	assert_int_equal(ASN1_STRING_length(certrep_attr(p7,
	    "2.16.840.1.113733.1.9.5")), SCEP_NONCE_LEN);
	assert_memory_equal(ASN1_STRING_get0_data(certrep_attr(p7,
	    "2.16.840.1.113733.1.9.6")), nonce, sizeof(nonce));
	assert_null(certrep_attr(p7, "2.16.840.1.113733.1.9.4"));

	n = BIO_get_mem_data(content, &data);
	p = (const unsigned char *)data;
	env = d2i_PKCS7(NULL, &p, n);
	assert_non_null(env);
	assert_int_equal(OBJ_obj2nid(env->d.enveloped->enc_data->algorithm->
	    algorithm), NID_aes_128_cbc);
	assert_int_equal(PKCS7_decrypt(env, f->client_key, f->client_cert,
	    plain, 0), 1);
	n = BIO_get_mem_data(plain, &data);
	p = (const unsigned char *)data;
	deg = d2i_PKCS7(NULL, &p, n);
	assert_non_null(deg);
	assert_int_equal(sk_X509_num(deg->d.sign->cert), 1);
	assert_int_equal(X509_cmp(sk_X509_value(deg->d.sign->cert, 0),
	    issued), 0);

	PKCS7_free(deg);
	PKCS7_free(env);
	PKCS7_free(p7);
	BIO_free(plain);
	BIO_free(content);
	X509_free(issued);
	OPENSSL_free(der);
}

static void
test_scep_certrep_failure_carries_fail_info_and_text(void **state)
{
	struct fixture		*f = *state;
	struct scep_reply	 rep;
	unsigned char		 nonce[SCEP_NONCE_LEN] = "fedcba9876543210";
	unsigned char		*der;
	size_t			 len;
	BIO			*content = BIO_new(BIO_s_mem());
	PKCS7			*p7;

	memset(&rep, 0, sizeof(rep));
	rep.status = SCEP_STATUS_FAILURE;
	rep.fail = SCEP_FAIL_BAD_REQUEST;
	rep.fail_text = "wrong challenge password";
	rep.txid = "t2";
	rep.recipient_nonce = nonce;
	rep.recipient_nonce_len = sizeof(nonce);
	rep.digest = ALG_DIGEST_SHA1;
	assert_int_equal(scep_certrep_build(&rep, f->ra_cert, f->ra_key, &der,
	    &len), 0);
	p7 = certrep_verify(f, der, len, content);
	assert_true(attr_equals(p7, "2.16.840.1.113733.1.9.3", "2"));
	assert_true(attr_equals(p7, "2.16.840.1.113733.1.9.4", "2"));
	assert_true(attr_equals(p7, "1.3.6.1.5.5.7.24.1",
	    "wrong challenge password"));
	assert_int_equal(BIO_pending(content), 0);
	PKCS7_free(p7);
	BIO_free(content);
	OPENSSL_free(der);
}

static void
test_scep_certrep_pending_has_no_fail_info(void **state)
{
	struct fixture		*f = *state;
	struct scep_reply	 rep;
	unsigned char		 nonce[SCEP_NONCE_LEN] = { 0 };
	unsigned char		*der;
	size_t			 len;
	BIO			*content = BIO_new(BIO_s_mem());
	PKCS7			*p7;

	memset(&rep, 0, sizeof(rep));
	rep.status = SCEP_STATUS_PENDING;
	rep.txid = "t3";
	rep.recipient_nonce = nonce;
	rep.recipient_nonce_len = sizeof(nonce);
	rep.digest = ALG_DIGEST_SHA512;
	assert_int_equal(scep_certrep_build(&rep, f->ra_cert, f->ra_key, &der,
	    &len), 0);
	p7 = certrep_verify(f, der, len, content);
	assert_true(attr_equals(p7, "2.16.840.1.113733.1.9.3", "3"));
	assert_null(certrep_attr(p7, "2.16.840.1.113733.1.9.4"));
	PKCS7_free(p7);
	BIO_free(content);
	OPENSSL_free(der);
}

/*
 * Verify after sign: a CertRep signed by a key other than the RA
 * certificate's (a key replaced in the token) is caught before it is
 * sent, and so is any change to a signed one.
 */
static void
test_scep_certrep_verify_catches_a_key_that_does_not_match(void **state)
{
	struct fixture		*f = *state;
	struct scep_reply	 rep;
	unsigned char		 nonce[SCEP_NONCE_LEN] = { 0 };
	unsigned char		*der;
	size_t			 len;

	memset(&rep, 0, sizeof(rep));
	rep.status = SCEP_STATUS_PENDING;
	rep.txid = "t4";
	rep.recipient_nonce = nonce;
	rep.recipient_nonce_len = sizeof(nonce);
	rep.digest = ALG_DIGEST_SHA256;
	assert_int_equal(scep_certrep_build(&rep, f->ra_cert, f->ra_key, &der,
	    &len), 0);
	assert_int_equal(scep_certrep_verify(der, len, f->ra_cert), 0);
	assert_int_equal(scep_certrep_verify(der, len, f->other_cert), -1);
	der[len - 10] ^= 0x01;		/* inside the signature */
	assert_int_equal(scep_certrep_verify(der, len, f->ra_cert), -1);
	assert_int_equal(scep_certrep_verify(der, 5, f->ra_cert), -1);
	OPENSSL_free(der);
	/* Signed with the other key under the RA certificate's name. */
	assert_int_equal(scep_certrep_build(&rep, f->other_cert, f->other_key,
	    &der, &len), 0);
	assert_int_equal(scep_certrep_verify(der, len, f->ra_cert), -1);
	OPENSSL_free(der);
}

static void
test_scep_certs_only_holds_certs_in_order(void **state)
{
	struct fixture		*f = *state;
	STACK_OF(X509)		*certs = sk_X509_new_null();
	unsigned char		*der;
	const unsigned char	*p;
	size_t			 len;
	PKCS7			*p7;

	sk_X509_push(certs, f->ra_cert);
	sk_X509_push(certs, f->other_cert);
	assert_int_equal(scep_certs_only_der(certs, &der, &len), 0);
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	assert_non_null(p7);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)),
	    0);
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 2);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 0),
	    f->ra_cert), 0);
	PKCS7_free(p7);
	OPENSSL_free(der);
	sk_X509_free(certs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scep_parse_refuses_empty_input),
		cmocka_unit_test(
		    test_scep_enveloped_content_info_without_content_is_bad_request),
		cmocka_unit_test(
		    test_scep_signed_content_of_other_types_is_bad_request),
		cmocka_unit_test(
		    test_scep_envelope_without_encrypted_content_is_refused),
		cmocka_unit_test(
		    test_scep_envelope_without_recipients_is_bad_message_check),
		cmocka_unit_test(test_scep_parse_refuses_random_bytes),
		cmocka_unit_test(test_scep_parse_refuses_every_truncation),
		cmocka_unit_test(test_scep_parse_refuses_trailing_garbage),
		cmocka_unit_test(test_scep_bad_wrapped_key_and_bad_content_are_answered_alike),
		cmocka_unit_test(test_scep_parse_survives_bit_flips),
		cmocka_unit_test(test_scep_parse_reads_a_good_request),
		cmocka_unit_test(test_scep_parse_needs_a_transaction_id),
		cmocka_unit_test(test_scep_parse_needs_a_sender_nonce),
		cmocka_unit_test(
		    test_scep_parse_fails_short_nonce_with_bad_request),
		cmocka_unit_test(
		    test_scep_parse_fails_missing_message_type_with_bad_request),
		cmocka_unit_test(
		    test_scep_parse_fails_wrong_signature_with_bad_message_check),
		cmocka_unit_test(test_scep_parse_fails_md5_with_bad_alg),
		cmocka_unit_test(
		    test_scep_parse_fails_digest_outside_allow_list),
		cmocka_unit_test(test_scep_decrypts_every_accepted_cipher),
		cmocka_unit_test(
		    test_scep_refuses_cipher_outside_allow_list_with_bad_alg),
		cmocka_unit_test(
		    test_scep_refuses_wrong_recipient_with_bad_message_check),
		cmocka_unit_test(
		    test_scep_refuses_envelope_the_key_cannot_open),
		cmocka_unit_test(test_scep_envelope_must_hold_a_csr),
		cmocka_unit_test(test_scep_csr_with_bad_signature_is_refused),
		cmocka_unit_test(
		    test_scep_csr_challenge_is_read_in_any_string_type),
		cmocka_unit_test(test_scep_csr_without_challenge_gives_null),
		cmocka_unit_test(
		    test_scep_certrep_success_carries_the_certificate),
		cmocka_unit_test(
		    test_scep_certrep_failure_carries_fail_info_and_text),
		cmocka_unit_test(test_scep_certrep_pending_has_no_fail_info),
		cmocka_unit_test(
		    test_scep_certrep_verify_catches_a_key_that_does_not_match),
		cmocka_unit_test(test_scep_certs_only_holds_certs_in_order),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
