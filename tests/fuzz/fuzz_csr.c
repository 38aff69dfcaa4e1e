/*
 * Structure-aware: the input is the decrypted content of a pkiMessage
 * (a PKCS#10 request, or the IssuerAndSubject of a CertPoll), which
 * is enveloped to the RA certificate and signed correctly, then run
 * through service_pkioperation(): policy request extraction, the
 * policy, challenges, issuance, certificate building and the store.
 *
 * Four leading bytes choose how the message is made (the rest is the
 * content):
 *
 *   h[0] bits 0-1  messageType: PKCSReq, RenewalReq, CertPoll, or h[3]
 *        bit  2    signed with a certificate the CA issued (renewals)
 *        bits 3-4  cipher: AES-128, AES-256, 3DES, DES
 *        bits 5-6  digest: SHA-256, SHA-1, SHA-512, MD5
 *        bit  7    approve every held request first (as an operator)
 *   h[1] bit  0    re-sign the CSR with a key of ours (if it parses),
 *                  so that its own signature verifies
 *        bit  1    that key: EC P-256 or RSA-2048
 *        bits 2-3  challengePassword: as is, the right HMAC, a fresh
 *                  OTP, none (re-signed CSRs only)
 *        bit  4    the subject of the renewal certificate (re-signed)
 *        bits 5-7  the client address
 *   h[2] bits 0-2  one of 8 transactionIDs (7: the fixture's own)
 *        bit  3    or one made from the content's hash
 *        bits 4-5  senderNonce length: 16, 16, 8, omitted
 *        bits 6-7  HSM outage: none, at decryption, at signing, none
 *   h[3]           messageType number (h[0] bits 0-1 = 3); nonce byte
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certbuild.h"
#include "challenge.h"
#include "fuzz.h"
#include "service.h"
#include "store.h"

#define FUZZ_CSR_HEADER		4
#define FUZZ_CSR_APPROVE_MAX	16

static EVP_PKEY	*fuzz_csr_ec;
static EVP_PKEY	*fuzz_csr_rsa;

static const char *const fuzz_csr_clients[8] = {
	"192.0.2.7", "127.0.0.1", "::1", "10.1.2.3", "2001:db8::7",
	"198.51.100.1", "unknown", "192.0.2.200",
};

static void
fuzz_csr_free_keys(void)
{
	EVP_PKEY_free(fuzz_csr_ec);
	EVP_PKEY_free(fuzz_csr_rsa);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_util_init();
	(void)fuzz_fixture_get();
	/* Random, once: only the CSR's own signature needs them. */
	if ((fuzz_csr_ec = EVP_EC_gen("P-256")) == NULL ||
	    (fuzz_csr_rsa = EVP_RSA_gen(2048)) == NULL)
		fuzz_util_die("CSR keys");
	atexit(fuzz_csr_free_keys);
	return 0;
}

static int
fuzz_csr_collect(const struct store_row *row, void *arg)
{
	long long	*ids = arg;

	if (ids[0] < FUZZ_CSR_APPROVE_MAX)
		ids[++ids[0]] = row->id;
	return 0;
}

/* What an operator does with scepctl pending approve. */
static void
fuzz_csr_approve_all(struct store *st)
{
	long long	ids[FUZZ_CSR_APPROVE_MAX + 1] = { 0 };
	long long	i;

	if (store_pending_foreach(st, 0, fuzz_csr_collect, ids) == -1)
		return;
	for (i = 1; i <= ids[0]; i++)
		(void)store_pending_decide(st, ids[i], 1, NULL, "fuzz",
		    time(NULL));
}

/* The challengePassword h[1] bits 2-3 ask for, into out (or ""). */
static int
fuzz_csr_challenge(X509_REQ *req, unsigned how, struct store *st,
    char *out)
{
	char		*subject;
	char		 hash[65];
	long long	 id;
	int		 rc;

	out[0] = '\0';
	if (how == 1) {
		if ((subject = certbuild_name_text_new(
		    X509_REQ_get_subject_name(req))) == NULL)
			return -1;
		rc = challenge_hmac_derive((const unsigned char *)
		    FUZZ_HMAC_SECRET, strlen(FUZZ_HMAC_SECRET), subject, out);
		free(subject);
		return rc;
	} else if (how == 2) {
		if (challenge_otp_new(out) == -1 ||
		    challenge_otp_hash(out, strlen(out), hash) == -1 ||
		    store_otp_add(st, hash, NULL, time(NULL) + 3600,
		    &id) == -1)
			return -1;
	}
	return 0;
}

/* A CSR with its own signature made valid; NULL if it does not parse. */
static unsigned char *
fuzz_csr_resign(struct fuzz_fixture *fx, const unsigned char *buf,
    size_t len, unsigned h1, size_t *outlen)
{
	X509_REQ		*req;
	EVP_PKEY		*key = h1 & 2 ? fuzz_csr_rsa : fuzz_csr_ec;
	const unsigned char	*p = buf;
	unsigned char		*der = NULL;
	unsigned		 how = (h1 >> 2) & 3;
	char			 pw[CHALLENGE_OTP_HEX + CHALLENGE_HMAC_HEX + 1];
	int			 i, n;

	*outlen = 0;
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		return NULL;
	if ((h1 & 16) && X509_REQ_set_subject_name(req,
	    X509_get_subject_name(fx->renew_cert)) != 1)
		goto out;
	if (how != 0) {
		while ((i = X509_REQ_get_attr_by_NID(req,
		    NID_pkcs9_challengePassword, -1)) >= 0)
			X509_ATTRIBUTE_free(X509_REQ_delete_attr(req, i));
		if (fuzz_csr_challenge(req, how, fx->svc->store, pw) == -1 ||
		    (pw[0] != '\0' && X509_REQ_add1_attr_by_NID(req,
		    NID_pkcs9_challengePassword, V_ASN1_PRINTABLESTRING,
		    (unsigned char *)pw, (int)strlen(pw)) != 1))
			goto out;
	}
	if (X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	*outlen = (size_t)n;
 out:
	X509_REQ_free(req);
	return der;
}

static const EVP_CIPHER *
fuzz_csr_cipher(unsigned i)
{
	switch (i & 3) {
	case 0:
		return EVP_aes_128_cbc();
	case 1:
		return EVP_aes_256_cbc();
	case 2:
		return EVP_des_ede3_cbc();
	default:
		return EVP_des_cbc();
	}
}

static const EVP_MD *
fuzz_csr_digest(unsigned i)
{
	switch (i & 3) {
	case 0:
		return EVP_sha256();
	case 1:
		return EVP_sha1();
	case 2:
		return EVP_sha512();
	default:
		return EVP_md5();
	}
}

/* The pkiMessage around content, as h[] says. */
static unsigned char *
fuzz_csr_message(struct fuzz_fixture *fx, const uint8_t *h,
    const unsigned char *content, size_t clen, size_t *len)
{
	static const char *const types[3] = { "19", "17", "20" };
	static const size_t nonce_lens[4] = { 16, 16, 8, 0 };
	struct fuzz_msg	 m;
	unsigned char	*env, *der;
	unsigned char	 nonce[16];
	size_t		 envlen;
	char		 msgtype[8], txid[40], hex[65];

	if ((env = fuzz_msg_envelope(content, clen, fx->svc->ra_cert,
	    fuzz_csr_cipher(h[0] >> 3), &envlen)) == NULL)
		fuzz_util_die("cannot envelope the content");
	if ((h[0] & 3) == 3)
		snprintf(msgtype, sizeof(msgtype), "%u", h[3]);
	else
		snprintf(msgtype, sizeof(msgtype), "%s", types[h[0] & 3]);
	if (h[2] & 8) {
		fuzz_util_sha256_hex(content, clen, hex);
		snprintf(txid, sizeof(txid), "csr-%.32s", hex);
	} else if ((h[2] & 7) == 7)
		snprintf(txid, sizeof(txid), "fuzz-fixture-renewed");
	else
		snprintf(txid, sizeof(txid), "fuzz-txid-%u", h[2] & 7);
	memset(nonce, 0x5a, sizeof(nonce));
	nonce[0] = h[3];
	memset(&m, 0, sizeof(m));
	m.txid = txid;
	m.msgtype = msgtype;
	m.nonce = nonce;
	m.nonce_len = nonce_lens[(h[2] >> 4) & 3];
	m.md = fuzz_csr_digest(h[0] >> 5);
	m.signer_cert = h[0] & 4 ? fx->renew_cert : fx->client_cert;
	m.signer_key = fuzz_keys_get0(FUZZ_KEY_CLIENT);
	m.content = env;
	m.content_len = envlen;
	if ((der = fuzz_msg_sign(&m, len)) == NULL)
		fuzz_util_die("cannot sign the pkiMessage");
	OPENSSL_free(env);
	return der;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fixture	*fx = fuzz_fixture_get();
	struct service_response	 r;
	const unsigned char	*content = data + FUZZ_CSR_HEADER;
	unsigned char		*csr = NULL, *der;
	size_t			 clen = size - FUZZ_CSR_HEADER, len;
	unsigned		 outage;

	if (size < FUZZ_CSR_HEADER)
		return 0;
	fuzz_fixture_tick(fx);
	if (data[0] & 128)
		fuzz_csr_approve_all(fx->svc->store);
	if ((data[1] & 1) && (data[0] & 3) != 2 &&
	    (csr = fuzz_csr_resign(fx, content, clen, data[1], &len)) != NULL) {
		content = csr;
		clen = len;
	}
	der = fuzz_csr_message(fx, data, content, clen, &len);
	/* What this file's own parsing left must not be blamed on scepd. */
	ERR_clear_error();
	outage = (data[2] >> 6) & 3;
	fuzz_signer_fail_session(outage == 1 || outage == 2 ? (int)outage : 0);
	memset(&r, 0, sizeof(r));
	service_pkioperation(fx->svc, der, len,
	    fuzz_csr_clients[(data[1] >> 5) & 7], &r);
	fuzz_util_err_check("service_pkioperation");
	service_response_clear(&r);
	fuzz_signer_fail_session(0);
	OPENSSL_free(der);
	OPENSSL_free(csr);
	return 0;
}
