/*
 * signer.h in software, for the fuzz targets only.
 *
 * Linked instead of hsm/signer_p11.c and hsm/hsm_lock.c, so that the
 * whole request path above the HSM runs as it does in scepd.  The CA
 * and RA keys are the fixed keys of fuzz_keys.c.  As with the token,
 * a key is borrowed from its session and gone when the session
 * closes: each session holds its own copy, freed by
 * signer_session_close(), so that a use after close is a
 * use-after-free AddressSanitizer can see.  fuzz_signer_fail_session()
 * makes a session fail as an HSM outage would.
 */
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "log.h"
#include "signer.h"

struct signer {
	X509		*certs[SIGNER_ROLE__MAX];	/* borrowed */
	EVP_PKEY	*keys[SIGNER_ROLE__MAX];	/* borrowed */
};

struct signer_session {
	struct signer	*sg;
	EVP_PKEY	*pkeys[SIGNER_ROLE__MAX];	/* copies, owned */
};

static int	fuzz_signer_countdown;

void
fuzz_signer_fail_session(int n)
{
	fuzz_signer_countdown = n;
}

struct signer *
signer_new(const struct hsm_config *cfg, X509 *ca_cert, X509 *ra_cert)
{
	struct signer	*sg;

	(void)cfg;
	if ((sg = calloc(1, sizeof(*sg))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	sg->certs[SIGNER_ROLE_CA] = ca_cert;
	sg->certs[SIGNER_ROLE_RA] = ra_cert;
	sg->keys[SIGNER_ROLE_CA] = fuzz_keys_get0(FUZZ_KEY_CA);
	sg->keys[SIGNER_ROLE_RA] = fuzz_keys_get0(FUZZ_KEY_RA);
	return sg;
}

void
signer_free(struct signer *sg)
{
	free(sg);
}

X509 *
signer_get0_cert(const struct signer *sg, enum signer_role role)
{
	return sg->certs[role];
}

int
signer_check_keys(struct signer *sg)
{
	int	i;

	for (i = 0; i < SIGNER_ROLE__MAX; i++)
		if (X509_check_private_key(sg->certs[i], sg->keys[i]) != 1) {
			log_ssl("fuzz signer: key %d does not match its "
			    "certificate", i);
			return -1;
		}
	return 0;
}

struct signer_session *
signer_session_open(struct signer *sg, const char **why)
{
	struct signer_session	*ss;

	if (fuzz_signer_countdown > 0 && --fuzz_signer_countdown == 0) {
		*why = SIGNER_WHY_DOWN;
		log_error("fuzz signer: session refused (simulated outage)");
		return NULL;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL) {
		log_error("%s: out of memory", __func__);
		*why = SIGNER_WHY_DOWN;
		return NULL;
	}
	ss->sg = sg;
	return ss;
}

EVP_PKEY *
signer_session_get0_key(struct signer_session *ss, enum signer_role role)
{
	if ((unsigned)role >= SIGNER_ROLE__MAX)
		return NULL;
	if (ss->pkeys[role] == NULL &&
	    (ss->pkeys[role] = EVP_PKEY_dup(ss->sg->keys[role])) == NULL)
		log_ssl("fuzz signer: EVP_PKEY_dup");
	return ss->pkeys[role];
}

void
signer_session_close(struct signer_session *ss)
{
	int	i;

	if (ss == NULL)
		return;
	for (i = 0; i < SIGNER_ROLE__MAX; i++)
		EVP_PKEY_free(ss->pkeys[i]);
	free(ss);
}

int
signer_session_sign_cert(struct signer_session *ss, X509 **cert,
    const EVP_MD *md)
{
	EVP_PKEY	*key;

	if ((key = signer_session_get0_key(ss, SIGNER_ROLE_CA)) == NULL)
		return -1;
	if (X509_sign(*cert, key, md) <= 0) {
		log_ssl("fuzz signer: signing the certificate");
		return -1;
	}
	return 0;
}

/* Software keys never fail as a token does. */
int
signer_log_key_failure(const char *what)
{
	log_ssl("%s", what);
	return 0;
}

void
signer_retry_pin(struct signer *sg)
{
	(void)sg;
}
