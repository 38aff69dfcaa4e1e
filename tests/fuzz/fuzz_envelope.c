/*
 * Structure-aware: the input is the signed content of a pkiMessage,
 * what should be the pkcsPKIEnvelope (an EnvelopedData).  It is signed
 * correctly (transactionID, messageType 19, a 16-byte senderNonce, a
 * self-signed requester certificate), so that the outer checks pass
 * and the whole request path below the HSM runs on it:
 * service_pkioperation() reads the envelope, decrypts it with the RA
 * key, reads the CSR, asks the policy, issues, stores and answers.
 * Seeds are EnvelopedData to the fixture's RA certificate
 * (tests/fuzz/make-seeds.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "fuzz.h"
#include "service.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_util_init();
	(void)fuzz_fixture_get();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char nonce[16] = "fuzz-env-nonce!";
	struct fuzz_fixture	*fx = fuzz_fixture_get();
	struct fuzz_msg		 m;
	struct service_response	 r;
	unsigned char		*der;
	size_t			 len;
	char			 hex[65], txid[40];

	fuzz_fixture_tick(fx);
	/* One transaction per distinct input: a repeat is a retransmission. */
	fuzz_util_sha256_hex(data, size, hex);
	snprintf(txid, sizeof(txid), "env-%.32s", hex);
	memset(&m, 0, sizeof(m));
	m.txid = txid;
	m.msgtype = "19";
	m.nonce = nonce;
	m.nonce_len = sizeof(nonce);
	m.md = EVP_sha256();
	m.signer_cert = fx->client_cert;
	m.signer_key = fuzz_keys_get0(FUZZ_KEY_CLIENT);
	m.content = data;
	m.content_len = size;
	if ((der = fuzz_msg_sign(&m, &len)) == NULL)
		fuzz_util_die("cannot sign the pkiMessage");
	memset(&r, 0, sizeof(r));
	ERR_clear_error();
	service_pkioperation(fx->svc, der, len, "192.0.2.7", &r);
	fuzz_util_err_check("service_pkioperation");
	service_response_clear(&r);
	OPENSSL_free(der);
	return 0;
}
