/*
 * The SCEP codec's readers on raw bytes, as they arrive in a POST
 * body or a decrypted envelope: scep_request_parse() (the outer
 * SignedData, its attributes and signature, the envelope inside),
 * scep_csr_parse() with scep_csr_get_challenge(), and
 * scep_issuer_and_subject_check().  Random bytes rarely carry a valid
 * signature; fuzz_envelope and fuzz_csr go past it.
 */
#include <stdint.h>

#include <openssl/crypto.h>

#include "alg.h"
#include "fuzz.h"
#include "scep.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_util_init();
	if (scep_init() == -1)
		fuzz_util_die("scep_init");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scep_request	*req;
	X509_REQ		*csr;
	char			 why[SCEP_FAIL_TEXT_MAX];
	char			*challenge;
	size_t			 len;

	req = scep_request_parse(data, size, ALG_DIGEST_SHA1 |
	    ALG_DIGEST_SHA256 | ALG_DIGEST_SHA512, why, sizeof(why));
	scep_request_free(req);
	fuzz_util_err_check("scep_request_parse");
	if ((csr = scep_csr_parse(data, size, why, sizeof(why))) != NULL) {
		if ((challenge = scep_csr_get_challenge(csr, &len)) != NULL)
			OPENSSL_clear_free(challenge, len);
		X509_REQ_free(csr);
	}
	fuzz_util_err_check("scep_csr_parse");
	(void)scep_issuer_and_subject_check(data, size);
	fuzz_util_err_check("scep_issuer_and_subject_check");
	return 0;
}
