/*
 * Token provisioning: keys by raw PKCS#11 (p11_admin.c), certificates
 * signed and stored through libp11, as the server itself signs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libp11.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certbuild.h"
#include "hsm_lock.h"
#include "log.h"
#include "p11_admin.h"
#include "provision.h"

#define PROVISION_BACKDATE	300

int
provision_check_keyspec(const char *spec, int ra)
{
	static const char *const rsa[] = { "rsa:2048", "rsa:3072",
	    "rsa:4096", NULL };
	static const char *const ec[] = { "ec:p256", "ec:p384", NULL };
	int	i;

	for (i = 0; rsa[i] != NULL; i++)
		if (strcmp(spec, rsa[i]) == 0)
			return 0;
	for (i = 0; !ra && ec[i] != NULL; i++)
		if (strcmp(spec, ec[i]) == 0)
			return 0;
	return -1;
}

/* Finds the object with CKA_ID id in keys[0..n). */
static PKCS11_KEY *
provision_find_key(PKCS11_KEY *keys, unsigned int n, const unsigned char *id)
{
	unsigned int	i;

	for (i = 0; i < n; i++)
		if (keys[i].id_len == PROVISION_ID_LEN &&
		    memcmp(keys[i].id, id, PROVISION_ID_LEN) == 0)
			return &keys[i];
	return NULL;
}

struct provision_keys {
	EVP_PKEY	*ca_priv, *ca_pub, *ra_pub;
};

static int
provision_load_keys(PKCS11_TOKEN *tok, const struct provision_result *res,
    struct provision_keys *pk)
{
	PKCS11_KEY	*keys, *k;
	unsigned int	 n;

	if (PKCS11_enumerate_keys(tok, &keys, &n) != 0 ||
	    (k = provision_find_key(keys, n, res->ca_id)) == NULL ||
	    (pk->ca_priv = PKCS11_get_private_key(k)) == NULL) {
		log_ssl("the new CA private key cannot be found");
		return -1;
	}
	if (PKCS11_enumerate_public_keys(tok, &keys, &n) != 0 ||
	    (k = provision_find_key(keys, n, res->ca_id)) == NULL ||
	    (pk->ca_pub = PKCS11_get_public_key(k)) == NULL ||
	    (k = provision_find_key(keys, n, res->ra_id)) == NULL ||
	    (pk->ra_pub = PKCS11_get_public_key(k)) == NULL) {
		log_ssl("the new public keys cannot be read");
		return -1;
	}
	return 0;
}

static X509 *
provision_cert(const char *subject_dn, X509 *issuer, EVP_PKEY *pub,
    EVP_PKEY *sign_key, EVP_PKEY *sign_pub, int days, const char *usage,
    const char *basic)
{
	X509_NAME	*subject = NULL;
	ASN1_INTEGER	*serial = NULL;
	X509		*x = NULL;
	time_t		 now = time(NULL);

	if ((subject = certbuild_name_parse(subject_dn)) == NULL ||
	    (serial = certbuild_serial_new()) == NULL)
		goto fail;
	x = certbuild_new(subject, issuer ? X509_get_subject_name(issuer) :
	    subject, pub, serial, now - PROVISION_BACKDATE,
	    now + (time_t)days * 86400);
	if (x == NULL)
		goto fail;
	if (issuer == NULL)
		issuer = x;
	if (certbuild_add_ext(x, issuer, NID_basic_constraints, basic) == -1 ||
	    certbuild_add_ext(x, issuer, NID_key_usage, usage) == -1 ||
	    certbuild_add_ext(x, issuer, NID_subject_key_identifier,
	    "hash") == -1 ||
	    certbuild_add_ext(x, issuer, NID_authority_key_identifier,
	    "keyid:always") == -1)
		goto fail;
	if (X509_sign(x, sign_key, certbuild_digest_for(sign_pub)) <= 0 ||
	    X509_verify(x, sign_pub) != 1) {
		log_ssl("signing %s through PKCS#11", subject_dn);
		goto fail;
	}
	X509_NAME_free(subject);
	ASN1_INTEGER_free(serial);
	return x;
 fail:
	X509_NAME_free(subject);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return NULL;
}

static PKCS11_SLOT *
provision_find_slot(PKCS11_SLOT *slots, unsigned int n, const char *label)
{
	unsigned int	i;

	for (i = 0; i < n; i++)
		if (slots[i].token != NULL && slots[i].token->initialized &&
		    strcmp(slots[i].token->label, label) == 0)
			return &slots[i];
	log_error("token \"%s\" not found after key generation", label);
	return NULL;
}

/* Signs the CA and RA certificates and stores them in the token. */
static int
provision_certs(const struct provision_params *p,
    struct provision_result *res)
{
	PKCS11_CTX		*ctx = NULL;
	PKCS11_SLOT		*slots = NULL, *slot;
	unsigned int		 nslots = 0;
	struct provision_keys	 pk = { NULL, NULL, NULL };
	int			 rc = -1;

	if ((ctx = PKCS11_CTX_new()) == NULL ||
	    PKCS11_CTX_load(ctx, p->module) != 0) {
		log_ssl("cannot load PKCS#11 module %s", p->module);
		PKCS11_CTX_free(ctx);
		return -1;
	}
	if (PKCS11_enumerate_slots(ctx, &slots, &nslots) != 0) {
		log_ssl("PKCS11_enumerate_slots");
		slots = NULL;
		goto out;
	}
	if ((slot = provision_find_slot(slots, nslots, p->token_label)) ==
	    NULL)
		goto out;
	if (PKCS11_open_session(slot, 1) != 0 ||
	    PKCS11_login(slot, 0, p->user_pin) != 0) {
		log_ssl("login to token \"%s\"", p->token_label);
		goto out;
	}
	if (provision_load_keys(slot->token, res, &pk) == -1)
		goto out;
	if ((res->ca_cert = provision_cert(p->ca_subject, NULL, pk.ca_pub,
	    pk.ca_priv, pk.ca_pub, p->ca_days,
	    "critical, keyCertSign, cRLSign, digitalSignature",
	    "critical, CA:TRUE")) == NULL ||
	    (res->ra_cert = provision_cert(p->ra_subject, res->ca_cert,
	    pk.ra_pub, pk.ca_priv, pk.ca_pub, p->ra_days,
	    "critical, digitalSignature, keyEncipherment",
	    "critical, CA:FALSE")) == NULL)
		goto out;
	if (PKCS11_store_certificate(slot->token, res->ca_cert,
	    PROVISION_CA_LABEL, res->ca_id, PROVISION_ID_LEN, NULL) != 0 ||
	    PKCS11_store_certificate(slot->token, res->ra_cert,
	    PROVISION_RA_LABEL, res->ra_id, PROVISION_ID_LEN, NULL) != 0) {
		log_ssl("storing the certificates in the token");
		goto out;
	}
	rc = 0;
 out:
	EVP_PKEY_free(pk.ca_priv);
	EVP_PKEY_free(pk.ca_pub);
	EVP_PKEY_free(pk.ra_pub);
	if (slots != NULL)
		PKCS11_release_all_slots(ctx, slots, nslots);
	PKCS11_CTX_unload(ctx);
	PKCS11_CTX_free(ctx);
	return rc;
}

int
provision_token(const struct provision_params *p,
    struct provision_result *res)
{
	struct p11_admin_key	 keys[2];
	struct hsm_lock		*lock;
	int			 rc;

	memset(res, 0, sizeof(*res));
	if (provision_check_keyspec(p->ca_key, 0) == -1 ||
	    provision_check_keyspec(p->ra_key, 1) == -1) {
		log_error("unsupported key specification");
		return -1;
	}
	if (RAND_bytes(res->ca_id, sizeof(res->ca_id)) != 1 ||
	    RAND_bytes(res->ra_id, sizeof(res->ra_id)) != 1) {
		log_ssl("RAND_bytes");
		return -1;
	}
	keys[0] = (struct p11_admin_key){ p->ca_key, PROVISION_CA_LABEL,
	    res->ca_id, sizeof(res->ca_id), 0 };
	keys[1] = (struct p11_admin_key){ p->ra_key, PROVISION_RA_LABEL,
	    res->ra_id, sizeof(res->ra_id), 1 };
	/* Every login to the token holds the lock scepd holds (hsm_lock.h). */
	if ((lock = hsm_lock_new(p->lock_file, HSM_LOCK_EXCLUSIVE)) == NULL)
		return -1;
	log_info("taking the token lock %s", p->lock_file);
	if (hsm_lock_acquire(lock, PROVISION_LOCK_TIMEOUT) == -1) {
		hsm_lock_free(lock);
		return -1;
	}
	rc = p11_admin_setup(p->module, p->token_label, p->so_pin,
	    p->user_pin, keys, 2);
	if (rc == 0)
		rc = provision_certs(p, res);
	hsm_lock_release(lock);
	hsm_lock_free(lock);
	if (rc == -1) {
		provision_result_clear(res);
		return -1;
	}
	return 0;
}

void
provision_result_clear(struct provision_result *res)
{
	X509_free(res->ca_cert);
	X509_free(res->ra_cert);
	memset(res, 0, sizeof(*res));
}
