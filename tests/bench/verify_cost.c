/*
 * What verify after sign costs per enrollment: one verification of the
 * issued certificate with the CA certificate's key and one of the
 * CertRep with the RA certificate's key, as src/pkiop.c does them,
 * with software keys of the sizes scepctl init makes by default (CA
 * RSA-3072, RA RSA-2048).  Prints figures; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "alg.h"
#include "certbuild.h"
#include "log.h"
#include "scep.h"

#define VERIFY_ROUNDS	2000

static EVP_PKEY *
rsa_key(int bits)
{
	EVP_PKEY	*k = EVP_RSA_gen((unsigned int)bits);

	if (k == NULL) {
		fprintf(stderr, "RSA key generation failed\n");
		exit(1);
	}
	return k;
}

static X509 *
signed_cert(const char *cn, EVP_PKEY *pub, EVP_PKEY *issuer_key)
{
	X509_NAME	*name = X509_NAME_new();
	ASN1_INTEGER	*serial = certbuild_serial_new();
	X509		*x;
	time_t		 now = time(NULL);

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	x = certbuild_new(name, name, pub, serial, now, now + 86400);
	if (x == NULL || X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
		fprintf(stderr, "cannot make a certificate\n");
		exit(1);
	}
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	return x;
}

static double
seconds(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(void)
{
	EVP_PKEY		*ca_key, *ra_key, *client_key;
	X509			*ca, *ra, *issued;
	struct scep_reply	 rep;
	unsigned char		 nonce[SCEP_NONCE_LEN] = { 0 }, *der;
	size_t			 len;
	double			 t0, t_cert, t_rep;
	int			 i;

	log_init("verify-cost", LOG_LEVEL_ERROR);
	if (scep_init() == -1)
		return 1;
	ca_key = rsa_key(3072);
	ra_key = rsa_key(2048);
	client_key = rsa_key(2048);
	ca = signed_cert("CA", ca_key, ca_key);
	ra = signed_cert("RA", ra_key, ca_key);
	issued = signed_cert("host", client_key, ca_key);
	memset(&rep, 0, sizeof(rep));
	rep.status = SCEP_STATUS_SUCCESS;
	rep.txid = "bench";
	rep.recipient_nonce = nonce;
	rep.recipient_nonce_len = sizeof(nonce);
	rep.issued = issued;
	rep.recipient = issued;
	rep.cipher = ALG_CIPHER_AES128;
	rep.digest = ALG_DIGEST_SHA256;
	if (scep_certrep_build(&rep, ra, ra_key, &der, &len) == -1)
		return 1;

	t0 = seconds();
	for (i = 0; i < VERIFY_ROUNDS; i++)
		if (X509_verify(issued, X509_get0_pubkey(ca)) != 1)
			return 1;
	t_cert = (seconds() - t0) / VERIFY_ROUNDS;
	t0 = seconds();
	for (i = 0; i < VERIFY_ROUNDS; i++)
		if (scep_certrep_verify(der, len, ra) == -1)
			return 1;
	t_rep = (seconds() - t0) / VERIFY_ROUNDS;
	printf("verify after sign, %d rounds each:\n", VERIFY_ROUNDS);
	printf("  certificate (CA RSA-3072): %.1f us\n", t_cert * 1e6);
	printf("  CertRep (RA RSA-2048, %zu bytes, parsed again): %.1f us\n",
	    len, t_rep * 1e6);
	printf("  per enrollment: %.1f us of CPU\n", (t_cert + t_rep) * 1e6);
	OPENSSL_free(der);
	X509_free(ca);
	X509_free(ra);
	X509_free(issued);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ra_key);
	EVP_PKEY_free(client_key);
	return 0;
}
