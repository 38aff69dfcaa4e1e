/*
 * signer.h over libp11: a fresh PKCS#11 session for every use.
 *
 * The module is loaded once per process.  Everything else (slot list,
 * session, login, key objects, EVP_PKEYs) lives in a signer_session
 * and is gone when it closes.  All sessions are serialised by the
 * token lock (see hsm_lock.h for why).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "config.h"
#include "files.h"
#include "hsm_lock.h"
#include "log.h"
#include "signer.h"
#include "softhsm.h"

#define SIGNER_PIN_MAX		256
#define SIGNER_PROBE_LEN	32
#define SIGNER_OPEN_ATTEMPTS	2	/* the second after a module reload */

/* PKCS#11 return values that libp11 leaves as OpenSSL reason codes. */
#define SIGNER_CKR_PIN_INCORRECT	0xa0UL
#define SIGNER_CKR_PIN_INVALID		0xa1UL
#define SIGNER_CKR_PIN_LEN_RANGE	0xa2UL
#define SIGNER_CKR_PIN_EXPIRED		0xa3UL
#define SIGNER_CKR_PIN_LOCKED		0xa4UL

/* libp11 puts a PKCS#11 return value in the reason of this library. */
#define SIGNER_P11_LIB_NAME		"PKCS#11 module"
#define SIGNER_ERRORS_MAX		512

/* Return values that say the token, not the data, failed. */
static const unsigned long signer_token_failures[] = {
	0x02UL,		/* CKR_HOST_MEMORY */
	0x30UL,		/* CKR_DEVICE_ERROR */
	0x31UL,		/* CKR_DEVICE_MEMORY */
	0x32UL,		/* CKR_DEVICE_REMOVED */
	0x50UL,		/* CKR_FUNCTION_CANCELED */
	0x60UL,		/* CKR_KEY_HANDLE_INVALID */
	0x82UL,		/* CKR_OBJECT_HANDLE_INVALID */
	0x90UL,		/* CKR_OPERATION_ACTIVE */
	0xb0UL,		/* CKR_SESSION_CLOSED */
	0xb1UL,		/* CKR_SESSION_COUNT */
	0xb3UL,		/* CKR_SESSION_HANDLE_INVALID */
	0xe0UL,		/* CKR_TOKEN_NOT_PRESENT */
	0xe1UL,		/* CKR_TOKEN_NOT_RECOGNIZED */
	0x101UL,	/* CKR_USER_NOT_LOGGED_IN */
	0x190UL,	/* CKR_CRYPTOKI_NOT_INITIALIZED */
};

static const char *const signer_role_names[SIGNER_ROLE__MAX] = {
	[SIGNER_ROLE_CA] = "CA",
	[SIGNER_ROLE_RA] = "RA",
};

struct signer {
	const struct hsm_config	*cfg;
	PKCS11_CTX		*ctx;
	struct hsm_lock		*lock;
	char			*pin;
	X509			*certs[SIGNER_ROLE__MAX];
	struct stat		 pin_stat;	/* the PIN file as read */
	/*
	 * When the token refused the PIN (0: it did not), under the
	 * lock.  Retrying on every request would lock a real HSM's user
	 * PIN; see signer_pin_retry_due() for when it is tried again.
	 */
	time_t			 pin_refused_at;
	atomic_int		 pin_retry_asked;	/* SIGHUP */
	/* The token files were restored: prove the keys before use. */
	int			 restored;
};

struct signer_session {
	struct signer	*sg;
	const char	*why;		/* why it could not be opened */
	PKCS11_SLOT	*slots;
	unsigned int	 nslots;
	PKCS11_SLOT	*slot;
	PKCS11_KEY	*keys;		/* owned by the slot's token */
	unsigned int	 nkeys;
	EVP_PKEY	*pkeys[SIGNER_ROLE__MAX];
};

/* Reads the PIN from the configured file or environment variable. */
static char *
signer_pin_read(const struct hsm_config *cfg)
{
	const char	*v;
	char		*pin;

	if (cfg->pin_file != NULL)
		return files_read_secret_new(cfg->pin_file, SIGNER_PIN_MAX);

	if ((v = getenv(cfg->pin_env)) == NULL || *v == '\0' ||
	    strlen(v) > SIGNER_PIN_MAX) {
		log_error("PIN environment variable %s is not set or too "
		    "long", cfg->pin_env);
		return NULL;
	}
	if ((pin = strdup(v)) == NULL)
		log_error("%s: out of memory", __func__);
	/* Nothing started later (a webhook command) inherits it. */
	unsetenv(cfg->pin_env);
	return pin;
}

/* Creates the libp11 context and loads the module; -1 (logged). */
static int
signer_module_load(struct signer *sg)
{
	if ((sg->ctx = PKCS11_CTX_new()) == NULL) {
		log_ssl("PKCS11_CTX_new");
		return -1;
	}
	if (PKCS11_CTX_load(sg->ctx, sg->cfg->module) != 0) {
		log_ssl("cannot load PKCS#11 module %s", sg->cfg->module);
		PKCS11_CTX_free(sg->ctx);
		sg->ctx = NULL;
		return -1;
	}
	return 0;
}

/* C_Finalize and unload; only with no session open. */
static void
signer_module_unload(struct signer *sg)
{
	if (sg->ctx == NULL)
		return;
	PKCS11_CTX_unload(sg->ctx);
	PKCS11_CTX_free(sg->ctx);
	sg->ctx = NULL;
}

struct signer *
signer_new(const struct hsm_config *cfg, X509 *ca_cert, X509 *ra_cert)
{
	struct signer	*sg;
	size_t		 i;

	if ((sg = calloc(1, sizeof(*sg))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	sg->cfg = cfg;
	sg->certs[SIGNER_ROLE_CA] = ca_cert;
	sg->certs[SIGNER_ROLE_RA] = ra_cert;
	if ((cfg->ca_key.token_label != NULL &&
	    strcmp(cfg->ca_key.token_label, cfg->token_label) != 0) ||
	    (cfg->ra_key.token_label != NULL &&
	    strcmp(cfg->ra_key.token_label, cfg->token_label) != 0)) {
		log_error("a key URI names a token other than hsm.token "
		    "\"%s\"", cfg->token_label);
		goto fail;
	}
	if ((sg->pin = signer_pin_read(cfg)) == NULL)
		goto fail;
	if (cfg->pin_file != NULL && stat(cfg->pin_file, &sg->pin_stat) == -1)
		memset(&sg->pin_stat, 0, sizeof(sg->pin_stat));
	if ((sg->lock = hsm_lock_new(cfg->lock_file, cfg->key_processes > 1 ?
	    HSM_LOCK_SHARED : HSM_LOCK_EXCLUSIVE)) == NULL)
		goto fail;
	/* Modules such as SoftHSM read their settings at C_Initialize. */
	for (i = 0; i < cfg->n_env; i++)
		if (setenv(cfg->env[i].name, cfg->env[i].value, 1) == -1) {
			log_error("setenv %s: %s", cfg->env[i].name,
			    strerror(errno));
			goto fail;
		}
	if (hsm_lock_acquire(sg->lock, cfg->lock_timeout) == -1)
		goto fail;
	if (signer_module_load(sg) == -1) {
		hsm_lock_release(sg->lock);
		goto fail;
	}
	hsm_lock_release(sg->lock);
	return sg;
 fail:
	signer_free(sg);
	return NULL;
}

void
signer_free(struct signer *sg)
{
	if (sg == NULL)
		return;
	signer_module_unload(sg);
	hsm_lock_free(sg->lock);
	if (sg->pin != NULL) {
		OPENSSL_cleanse(sg->pin, strlen(sg->pin));
		free(sg->pin);
	}
	free(sg);
}

X509 *
signer_get0_cert(const struct signer *sg, enum signer_role role)
{
	return sg->certs[role];
}

/* Tells whether the last failure was the token refusing our PIN. */
static int
signer_pin_refused(void)
{
	unsigned long	e, r;

	while ((e = ERR_peek_error()) != 0) {
		r = (unsigned long)ERR_GET_REASON(e);
		if (r == SIGNER_CKR_PIN_INCORRECT ||
		    r == SIGNER_CKR_PIN_INVALID ||
		    r == SIGNER_CKR_PIN_LEN_RANGE ||
		    r == SIGNER_CKR_PIN_EXPIRED ||
		    r == SIGNER_CKR_PIN_LOCKED)
			return 1;
		ERR_get_error();
	}
	return 0;
}

static PKCS11_SLOT *
signer_find_token(struct signer_session *ss)
{
	const char	*want = ss->sg->cfg->token_label;
	PKCS11_SLOT	*slot;
	unsigned int	 i;

	for (i = 0; i < ss->nslots; i++) {
		slot = &ss->slots[i];
		if (slot->token != NULL && slot->token->initialized &&
		    slot->token->label != NULL &&
		    strcmp(slot->token->label, want) == 0)
			return slot;
	}
	log_error("no initialized token labelled \"%s\" in %u slot(s)",
	    want, ss->nslots);
	return NULL;
}

static int
signer_pin_file_changed(const struct signer *sg)
{
	struct stat	st;

	if (sg->cfg->pin_file == NULL || stat(sg->cfg->pin_file, &st) == -1)
		return 0;
	return st.st_ino != sg->pin_stat.st_ino ||
	    st.st_dev != sg->pin_stat.st_dev ||
	    st.st_size != sg->pin_stat.st_size ||
	    st.st_mtim.tv_sec != sg->pin_stat.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != sg->pin_stat.st_mtim.tv_nsec;
}

/* Reads the PIN file again; -1 (logged) keeps the old PIN. */
static int
signer_pin_reread(struct signer *sg)
{
	char	*pin;

	if (sg->cfg->pin_file == NULL)
		return 0;
	if ((pin = signer_pin_read(sg->cfg)) == NULL)
		return -1;
	if (stat(sg->cfg->pin_file, &sg->pin_stat) == -1)
		memset(&sg->pin_stat, 0, sizeof(sg->pin_stat));
	OPENSSL_cleanse(sg->pin, strlen(sg->pin));
	free(sg->pin);
	sg->pin = pin;
	return 0;
}

/*
 * After the token refused the PIN, whether to try a login now: when
 * the PIN file changed, when an operator asked (SIGHUP), or when
 * hsm.pin_retry_interval has passed since the last refusal and the
 * token does not say its PIN is close to being locked.  Each try with
 * a wrong PIN counts against a real token's lock-out, so there is
 * never more than one per interval.  Under the lock.
 */
static int
signer_pin_retry_due(struct signer *sg, const PKCS11_TOKEN *tok)
{
	time_t	now = time(NULL);
	int	interval = sg->cfg->pin_retry_interval;

	if (atomic_exchange(&sg->pin_retry_asked, 0)) {
		log_info("trying the PIN again, as asked");
		return signer_pin_reread(sg) == 0;
	}
	if (signer_pin_file_changed(sg)) {
		log_info("the PIN file %s changed: trying it",
		    sg->cfg->pin_file);
		return signer_pin_reread(sg) == 0;
	}
	if (interval == 0 || now - sg->pin_refused_at < interval)
		return 0;
	if (tok->userPinLocked || tok->userPinFinalTry ||
	    tok->userPinCountLow) {
		/* Once per interval, not on every request. */
		sg->pin_refused_at = now;
		log_error("token \"%s\" says its user PIN is %s: not trying "
		    "it again until the PIN file changes or on SIGHUP",
		    sg->cfg->token_label, tok->userPinLocked ? "locked" :
		    tok->userPinFinalTry ? "at its final try" :
		    "close to being locked");
		return 0;
	}
	log_info("trying the PIN again after %d s", interval);
	return 1;
}

/* Finds the token, opens a session and logs in; -1 (logged). */
static int
signer_session_start(struct signer_session *ss)
{
	struct signer	*sg = ss->sg;

	/*
	 * XXX libp11 0.4.12 leaks a few hundred bytes when a slot fails
	 * half-way through enumeration (only while the token is away);
	 * tests/valgrind.supp names it.
	 */
	if (PKCS11_enumerate_slots(sg->ctx, &ss->slots, &ss->nslots) != 0) {
		log_ssl("PKCS11_enumerate_slots");
		ss->slots = NULL;
		ss->nslots = 0;
		return -1;
	}
	if ((ss->slot = signer_find_token(ss)) == NULL)
		return -1;
	if (sg->pin_refused_at != 0 &&
	    !signer_pin_retry_due(sg, ss->slot->token)) {
		ss->why = SIGNER_WHY_PIN;
		return -1;
	}
	if (PKCS11_open_session(ss->slot, 0) != 0) {
		log_ssl("PKCS11_open_session on token \"%s\"",
		    sg->cfg->token_label);
		return -1;
	}
	if (PKCS11_login(ss->slot, 0, sg->pin) != 0) {
		if (signer_pin_refused()) {
			sg->pin_refused_at = time(NULL);
			ss->why = SIGNER_WHY_PIN;
			log_ssl("token \"%s\" refused the PIN; trying again "
			    "when the PIN file changes, on SIGHUP, or in %d s",
			    sg->cfg->token_label,
			    sg->cfg->pin_retry_interval);
		} else
			log_ssl("login to token \"%s\"",
			    sg->cfg->token_label);
		return -1;
	}
	sg->pin_refused_at = 0;
	return 0;
}

/* Closes every session of the module and frees the slot list. */
static void
signer_session_release(struct signer_session *ss)
{
	int	i;

	/* EVP_PKEYs refer to the slots: free them first. */
	for (i = 0; i < SIGNER_ROLE__MAX; i++) {
		EVP_PKEY_free(ss->pkeys[i]);
		ss->pkeys[i] = NULL;
	}
	if (ss->slots != NULL)
		PKCS11_release_all_slots(ss->sg->ctx, ss->slots, ss->nslots);
	/* libp11 reads these back as the previous list: reset both. */
	ss->slots = NULL;
	ss->nslots = 0;
	ss->slot = NULL;
	ss->keys = NULL;
	ss->nkeys = 0;
}

static int	signer_session_prove(struct signer_session *);

/*
 * Whether the SoftHSM token files are damaged: with the lock held
 * alone, so that no other key process is writing them just then.
 * 1 damaged, 0 not, -1 the lock could not be had alone.
 */
static int
signer_tokens_damaged(struct signer *sg)
{
	const struct hsm_config	*cfg = sg->cfg;

	if (cfg->softhsm_tokens == NULL || softhsm_tokens_damaged(
	    cfg->softhsm_tokens, cfg->softhsm_backup) != 1)
		return 0;
	if (hsm_lock_exclusive(sg->lock, cfg->lock_timeout) == -1)
		return -1;
	return softhsm_tokens_damaged(cfg->softhsm_tokens,
	    cfg->softhsm_backup) == 1;
}

struct signer_session *
signer_session_open(struct signer *sg, const char **why)
{
	struct signer_session	*ss;
	int			 attempt, damaged;

	/* Set only on failure: callers keep it as their answer. */
	if ((ss = calloc(1, sizeof(*ss))) == NULL) {
		log_error("%s: out of memory", __func__);
		*why = SIGNER_WHY_DOWN;
		return NULL;
	}
	ss->sg = sg;
	if (hsm_lock_acquire(sg->lock, sg->cfg->lock_timeout) == -1) {
		*why = SIGNER_WHY_BUSY;
		free(ss);
		return NULL;
	}
	*why = SIGNER_WHY_DOWN;
	for (attempt = 0; attempt < SIGNER_OPEN_ATTEMPTS; attempt++) {
		if (sg->ctx == NULL && signer_module_load(sg) == -1)
			break;
		ss->why = NULL;
		if (signer_session_start(ss) == 0) {
			if (sg->restored && signer_session_prove(ss) == -1) {
				signer_session_release(ss);
				*why = SIGNER_WHY_RESTORED;
				break;
			}
			*why = NULL;
			return ss;
		}
		signer_session_release(ss);
		if (ss->why != NULL) {
			*why = ss->why;
			break;
		}
		/* A crash during a SoftHSM login empties token.object. */
		if ((damaged = signer_tokens_damaged(sg)) == -1)
			break;
		if (damaged) {
			/* Nothing of the module may hold the old files. */
			signer_module_unload(sg);
			if (softhsm_restore(sg->cfg->softhsm_tokens,
			    sg->cfg->softhsm_backup) == -1)
				break;
			sg->restored = 1;
			continue;
		}
		/*
		 * The token or the HSM behind the module may have gone
		 * away and come back: modules recover only through
		 * C_Finalize and C_Initialize, as after a restart.
		 */
		log_warnx("reloading PKCS#11 module %s", sg->cfg->module);
		signer_module_unload(sg);
	}
	hsm_lock_release(sg->lock);
	free(ss);
	return NULL;
}

void
signer_retry_pin(struct signer *sg)
{
	atomic_store(&sg->pin_retry_asked, 1);
}

int
signer_log_key_failure(const char *what)
{
	char		 buf[SIGNER_ERRORS_MAX], one[256];
	const char	*lib;
	unsigned long	 e, r;
	size_t		 i, len = 0;
	int		 token = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		lib = ERR_lib_error_string(e);
		r = (unsigned long)ERR_GET_REASON(e);
		for (i = 0; lib != NULL &&
		    strcmp(lib, SIGNER_P11_LIB_NAME) == 0 &&
		    i < sizeof(signer_token_failures) /
		    sizeof(signer_token_failures[0]); i++)
			if (r == signer_token_failures[i])
				token = 1;
		ERR_error_string_n(e, one, sizeof(one));
		if (len < sizeof(buf))
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    ": %s", one);
	}
	log_error("%s%s", what, buf);
	return token;
}

static int
signer_key_matches(const PKCS11_KEY *key, const struct keyref *ref)
{
	if (ref->label != NULL &&
	    (key->label == NULL || strcmp(key->label, ref->label) != 0))
		return 0;
	if (ref->id_len > 0 && (key->id_len != ref->id_len ||
	    memcmp(key->id, ref->id, ref->id_len) != 0))
		return 0;
	return 1;
}

/* Names the key that is not there as its URI does: object=, id=%xx. */
static void
signer_log_missing_key(const struct signer_session *ss,
    enum signer_role role, const struct keyref *ref)
{
	char	id[KEYREF_ID_MAX * 3 + 1] = "";
	size_t	i;

	for (i = 0; i < ref->id_len; i++)
		snprintf(id + 3 * i, sizeof(id) - 3 * i, "%%%02x", ref->id[i]);
	log_error("%s private key (%s%s%s%s%s) not found on token \"%s\"",
	    signer_role_names[role], ref->label ? "object=" : "",
	    ref->label ? ref->label : "", ref->label && *id ? ";" : "",
	    *id ? "id=" : "", id, ss->sg->cfg->token_label);
}

EVP_PKEY *
signer_session_get0_key(struct signer_session *ss, enum signer_role role)
{
	const struct keyref	*ref;
	PKCS11_KEY		*found = NULL;
	unsigned int		 i;

	if (ss->pkeys[role] != NULL)
		return ss->pkeys[role];
	ref = role == SIGNER_ROLE_CA ? &ss->sg->cfg->ca_key :
	    &ss->sg->cfg->ra_key;
	if (ss->keys == NULL && PKCS11_enumerate_keys(ss->slot->token,
	    &ss->keys, &ss->nkeys) != 0) {
		log_ssl("PKCS11_enumerate_keys");
		ss->keys = NULL;
		return NULL;
	}
	for (i = 0; i < ss->nkeys; i++) {
		if (!ss->keys[i].isPrivate ||
		    !signer_key_matches(&ss->keys[i], ref))
			continue;
		if (found != NULL) {
			log_error("%s key reference matches more than one "
			    "private key; add id= to the URI",
			    signer_role_names[role]);
			return NULL;
		}
		found = &ss->keys[i];
	}
	if (found == NULL) {
		signer_log_missing_key(ss, role, ref);
		return NULL;
	}
	if ((ss->pkeys[role] = PKCS11_get_private_key(found)) == NULL)
		log_ssl("PKCS11_get_private_key (%s)",
		    signer_role_names[role]);
	return ss->pkeys[role];
}

void
signer_session_close(struct signer_session *ss)
{
	if (ss == NULL)
		return;
	signer_session_release(ss);
	hsm_lock_release(ss->sg->lock);
	free(ss);
}

int
signer_session_sign_cert(struct signer_session *ss, X509 **cert,
    const EVP_MD *md)
{
	EVP_PKEY	*key;
	X509		*ca = ss->sg->certs[SIGNER_ROLE_CA];

	if ((key = signer_session_get0_key(ss, SIGNER_ROLE_CA)) == NULL)
		return -1;
	if (X509_sign(*cert, key, md) <= 0) {
		log_ssl("signing the certificate");
		return -1;
	}
	if (X509_verify(*cert, X509_get0_pubkey(ca)) != 1) {
		log_ssl_clear();
		return SIGNER_MISMATCH;
	}
	return 0;
}

/* Signs random bytes with key and checks them against the certificate. */
static int
signer_probe_sign(EVP_PKEY *key, X509 *cert, const char *role)
{
	EVP_MD_CTX	*mctx = NULL;
	unsigned char	 data[SIGNER_PROBE_LEN], *sig = NULL;
	size_t		 siglen = 0;
	int		 rc = -1;

	if (RAND_bytes(data, sizeof(data)) != 1 ||
	    (mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(mctx, NULL, &siglen, data, sizeof(data)) != 1 ||
	    (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_DigestSign(mctx, sig, &siglen, data, sizeof(data)) != 1) {
		log_ssl("%s key cannot sign", role);
		goto out;
	}
	EVP_MD_CTX_free(mctx);
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL,
	    X509_get0_pubkey(cert)) != 1 ||
	    EVP_DigestVerify(mctx, sig, siglen, data, sizeof(data)) != 1) {
		log_ssl("%s key in the token does not match the %s "
		    "certificate", role, role);
		goto out;
	}
	rc = 0;
 out:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(sig);
	return rc;
}

/* Encrypts to the certificate and decrypts with key, as requests do. */
static int
signer_probe_decrypt(EVP_PKEY *key, X509 *cert, const char *role)
{
	EVP_PKEY_CTX	*pctx = NULL;
	unsigned char	 data[SIGNER_PROBE_LEN], *enc = NULL, *dec = NULL;
	size_t		 enclen = 0, declen = 0;
	int		 rc = -1;

	if (RAND_bytes(data, sizeof(data)) != 1 ||
	    (pctx = EVP_PKEY_CTX_new(X509_get0_pubkey(cert), NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(pctx, NULL, &enclen, data, sizeof(data)) != 1 ||
	    (enc = OPENSSL_malloc(enclen)) == NULL ||
	    EVP_PKEY_encrypt(pctx, enc, &enclen, data, sizeof(data)) != 1) {
		log_ssl("%s certificate cannot encrypt", role);
		goto out;
	}
	EVP_PKEY_CTX_free(pctx);
	if ((pctx = EVP_PKEY_CTX_new(key, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_decrypt(pctx, NULL, &declen, enc, enclen) != 1 ||
	    (dec = OPENSSL_malloc(declen)) == NULL ||
	    EVP_PKEY_decrypt(pctx, dec, &declen, enc, enclen) != 1) {
		log_ssl("%s key cannot decrypt", role);
		goto out;
	}
	if (declen != sizeof(data) || CRYPTO_memcmp(dec, data, declen) != 0) {
		log_error("%s key decrypts to the wrong plaintext", role);
		goto out;
	}
	rc = 0;
 out:
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_free(enc);
	OPENSSL_free(dec);
	return rc;
}

/*
 * Proves that each role's key in the session belongs to its
 * certificate (and that the RA key decrypts).  -1 (logged).
 */
static int
signer_session_prove(struct signer_session *ss)
{
	struct signer	*sg = ss->sg;
	EVP_PKEY	*key;
	int		 role;

	for (role = 0; role < SIGNER_ROLE__MAX; role++) {
		if ((key = signer_session_get0_key(ss, role)) == NULL ||
		    signer_probe_sign(key, sg->certs[role],
		    signer_role_names[role]) == -1)
			return -1;
	}
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(
	    sg->certs[SIGNER_ROLE_RA])) != EVP_PKEY_RSA) {
		log_error("the RA certificate must hold an RSA key: "
		    "requests are encrypted to it");
		return -1;
	}
	if (signer_probe_decrypt(signer_session_get0_key(ss,
	    SIGNER_ROLE_RA), sg->certs[SIGNER_ROLE_RA], "RA") == -1)
		return -1;
	if (sg->restored) {
		log_warnx("the restored token holds the keys of the CA and "
		    "RA certificates");
		sg->restored = 0;
	}
	return 0;
}

int
signer_check_keys(struct signer *sg)
{
	struct signer_session	*ss;
	const char		*why;
	int			 rc;

	if ((ss = signer_session_open(sg, &why)) == NULL)
		return -1;
	rc = signer_session_prove(ss);
	signer_session_close(ss);
	return rc;
}
