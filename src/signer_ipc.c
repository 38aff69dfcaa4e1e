/*
 * signer.h over a channel to the key process (src/keyproc.c): the
 * implementation a worker links instead of hsm/signer_p11.c.  The
 * worker never loads the PKCS#11 module and never sees the PIN.
 *
 * There is one channel per key process (hsm.key_processes).  A session
 * holds one channel from signer_session_open() to
 * signer_session_close(), as an in-process session holds the token
 * lock, so requests and answers alternate on it; sessions take the
 * first free channel to a live key process, so a hung key process
 * holds up only the sessions that are on it.  Keys are stand-ins: RSA
 * and EC keys built from the token key's public part whose private
 * operations become requests (as OpenSSH's ssh-pkcs11-client.c
 * does).  Every request carries a new cookie; an answer with another
 * one belongs to a request that timed out, and is dropped.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* RSA_METHOD, EC_KEY_METHOD */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "config.h"
#include "ipc.h"
#include "keyop.h"
#include "log.h"
#include "signer.h"
#include "signer_ipc.h"

/* After the key process's own limit: it answers or is gone first. */
#define SIGNER_IPC_MARGIN	5
/*
 * How long a session waits for the channel to a new key process (the
 * parent starts one at once when the last died); longer, the request
 * gets 503.
 */
#define SIGNER_IPC_CHANNEL_WAIT	5

static const char *const signer_ipc_status_text[KEYOP__STATUS_MAX] = {
	[KEYOP_OK] = "done",
	[KEYOP_DOWN] = SIGNER_WHY_DOWN,
	[KEYOP_PIN] = SIGNER_WHY_PIN,
	[KEYOP_BUSY] = SIGNER_WHY_BUSY,
	[KEYOP_RESTORED] = SIGNER_WHY_RESTORED,
	[KEYOP_TOKEN_FAILED] = "the token failed",
	[KEYOP_REFUSED] = "the token refused the data",
	[KEYOP_MISMATCH] = "the key does not match its certificate",
	[KEYOP_NOT_ALLOWED] = "the key process does not allow it",
};

/* The way to one key process. */
struct signer_channel {
	pthread_mutex_t		 mutex;		/* held by a session */
	int			 fd;		/* -1: no key process */
	uint32_t		 cookie;
	struct ipc_frame	 req, ans;	/* under mutex */
};

struct signer {
	const struct hsm_config	*cfg;
	X509			*certs[SIGNER_ROLE__MAX];
	pthread_mutex_t		 pick_mutex;	/* choosing a channel */
	pthread_cond_t		 changed;	/* one was freed or set */
	int			 n_channels;
	struct signer_channel	*channels;
};

/* What a stand-in key stands for. */
struct signer_key_ref {
	struct signer_session	*ss;
	enum signer_role	 role;
};

struct signer_session {
	struct signer		*sg;
	struct signer_channel	*ch;		/* held */
	EVP_PKEY		*keys[SIGNER_ROLE__MAX];
	struct signer_key_ref	 refs[SIGNER_ROLE__MAX];
};

static int		 signer_ipc_initial_fd = -1;
static pthread_once_t	 signer_ipc_once = PTHREAD_ONCE_INIT;
static RSA_METHOD	*signer_ipc_rsa_method;
static EC_KEY_METHOD	*signer_ipc_ec_method;
static int		 signer_ipc_rsa_index = -1, signer_ipc_ec_index = -1;
/* The outcome of this thread's last key operation. */
static _Thread_local enum keyop_status signer_ipc_last;
/* Set while X509_sign() only lays out a certificate for the CA key. */
static _Thread_local int signer_ipc_layout;

void
signer_ipc_init(int fd)
{
	signer_ipc_initial_fd = fd;
}

static int
signer_ipc_status_ok(enum keyop_status st)
{
	return st < KEYOP__STATUS_MAX;
}

static void
signer_ipc_drop_channel(struct signer_channel *ch)
{
	if (ch->fd != -1)
		close(ch->fd);
	ch->fd = -1;
}

/*
 * One request and its answer (in ch->ans), with ch held.  Returns the
 * key process's status; KEYOP_DOWN when it is not there, has gone or
 * did not answer in time (logged).
 */
static enum keyop_status
signer_ipc_call(struct signer_channel *ch, enum keyop op,
    enum signer_role role, unsigned arg, const unsigned char *data,
    size_t len, int timeout_s)
{
	struct timespec	t0, t1;
	int		left_ms;

	if (ch->fd == -1)
		return KEYOP_DOWN;
	if (len > IPC_MAX_PAYLOAD) {
		log_error("%s: %zu bytes is too large a request", __func__,
		    len);
		return KEYOP_NOT_ALLOWED;
	}
	ch->req.cookie = ++ch->cookie;
	ch->req.op = (uint8_t)op;
	ch->req.role = (uint8_t)role;
	ch->req.arg = (uint16_t)arg;
	ch->req.len = (uint32_t)len;
	if (len > 0)
		memcpy(ch->req.data, data, len);
	if (ipc_frame_send(ch->fd, &ch->req) == -1) {
		log_error("the key process has gone (%s)", strerror(errno));
		signer_ipc_drop_channel(ch);
		return KEYOP_DOWN;
	}
	OPENSSL_cleanse(ch->req.data, len);
	if (op == KEYOP_CLOSE)
		return KEYOP_OK;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left_ms = timeout_s * 1000 - (int)((t1.tv_sec - t0.tv_sec) *
		    1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left_ms < 0)
			left_ms = 0;
		if (ipc_frame_recv(ch->fd, &ch->ans, left_ms) == -1) {
			if (errno == ETIMEDOUT) {
				/* Its late answer will be dropped. */
				log_error("the key process did not answer "
				    "within %d s", timeout_s);
				return KEYOP_DOWN;
			}
			log_error("the key process has gone (%s)",
			    errno == EPIPE ? "end of file" : strerror(errno));
			signer_ipc_drop_channel(ch);
			return KEYOP_DOWN;
		}
		if (ch->ans.cookie == ch->cookie)
			break;
		OPENSSL_cleanse(ch->ans.data, ch->ans.len);
	}
	if (!signer_ipc_status_ok(ch->ans.op)) {
		log_error("the key process answered status %u", ch->ans.op);
		return KEYOP_DOWN;
	}
	return ch->ans.op;
}

static int
signer_ipc_timeout(const struct signer *sg, int with_lock)
{
	return sg->cfg->call_timeout + SIGNER_IPC_MARGIN +
	    (with_lock ? sg->cfg->lock_timeout : 0);
}

static struct signer_key_ref *
signer_ipc_rsa_ref(const RSA *rsa)
{
	return RSA_get_ex_data(rsa, signer_ipc_rsa_index);
}

/* A private-key operation of an RSA stand-in, sent as op. */
static int
signer_ipc_rsa_op(enum keyop op, int flen, const unsigned char *from,
    unsigned char *to, RSA *rsa, int padding)
{
	struct signer_key_ref	*ref = signer_ipc_rsa_ref(rsa);
	struct signer_channel	*ch;
	enum keyop_status	 st;
	int			 n;

	if (ref == NULL || flen < 0) {
		ERR_raise(ERR_LIB_RSA, ERR_R_PASSED_INVALID_ARGUMENT);
		return -1;
	}
	ch = ref->ss->ch;
	st = signer_ipc_call(ch, op, ref->role, (unsigned)padding, from,
	    (size_t)flen, signer_ipc_timeout(ref->ss->sg, 0));
	signer_ipc_last = st;
	if (st != KEYOP_OK || ch->ans.len > (uint32_t)RSA_size(rsa)) {
		ERR_raise_data(ERR_LIB_RSA, ERR_R_OPERATION_FAIL,
		    "key process: %s", signer_ipc_status_text[st]);
		return -1;
	}
	n = (int)ch->ans.len;
	memcpy(to, ch->ans.data, ch->ans.len);
	OPENSSL_cleanse(ch->ans.data, ch->ans.len);
	return n;
}

static int
signer_ipc_rsa_priv_enc(int flen, const unsigned char *from,
    unsigned char *to, RSA *rsa, int padding)
{
	if (signer_ipc_layout) {
		memset(to, 0, (size_t)RSA_size(rsa));
		return RSA_size(rsa);
	}
	return signer_ipc_rsa_op(KEYOP_RSA_SIGN, flen, from, to, rsa,
	    padding);
}

static int
signer_ipc_rsa_priv_dec(int flen, const unsigned char *from,
    unsigned char *to, RSA *rsa, int padding)
{
	return signer_ipc_rsa_op(KEYOP_RSA_DECRYPT, flen, from, to, rsa,
	    padding);
}

/* EC keys sign only certificates, through KEYOP_SIGN_CERT. */
static ECDSA_SIG *
signer_ipc_ec_sign_sig(const unsigned char *dgst, int dlen,
    const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	ECDSA_SIG	*sig;
	BIGNUM		*one_r = NULL, *one_s = NULL;

	(void)dgst; (void)dlen; (void)kinv; (void)r; (void)ec;
	if (!signer_ipc_layout) {
		ERR_raise_data(ERR_LIB_EC, ERR_R_OPERATION_FAIL,
		    "key process: the CA key signs only certificates");
		signer_ipc_last = KEYOP_NOT_ALLOWED;
		return NULL;
	}
	if ((sig = ECDSA_SIG_new()) == NULL || (one_r = BN_new()) == NULL ||
	    (one_s = BN_new()) == NULL || !BN_one(one_r) || !BN_one(one_s) ||
	    !ECDSA_SIG_set0(sig, one_r, one_s)) {
		BN_free(one_r);
		BN_free(one_s);
		ECDSA_SIG_free(sig);
		return NULL;
	}
	return sig;
}

static void
signer_ipc_methods_init(void)
{
	int (*sign)(int, const unsigned char *, int, unsigned char *,
	    unsigned int *, const BIGNUM *, const BIGNUM *, EC_KEY *);
	int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);

	if ((signer_ipc_rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL())) ==
	    NULL || RSA_meth_set1_name(signer_ipc_rsa_method,
	    "scepd key process") != 1 ||
	    RSA_meth_set_priv_enc(signer_ipc_rsa_method,
	    signer_ipc_rsa_priv_enc) != 1 ||
	    RSA_meth_set_priv_dec(signer_ipc_rsa_method,
	    signer_ipc_rsa_priv_dec) != 1) {
		RSA_meth_free(signer_ipc_rsa_method);
		signer_ipc_rsa_method = NULL;
	}
	if ((signer_ipc_ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) !=
	    NULL) {
		EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), &sign, &setup, NULL);
		EC_KEY_METHOD_set_sign(signer_ipc_ec_method, sign, setup,
		    signer_ipc_ec_sign_sig);
	}
	signer_ipc_rsa_index = RSA_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL);
	signer_ipc_ec_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL);
}

/* A key whose private operations go to the key process. */
static EVP_PKEY *
signer_ipc_standin_new(EVP_PKEY *pub, struct signer_key_ref *ref)
{
	EVP_PKEY	*pk = NULL;
	RSA		*rsa = NULL;
	EC_KEY		*ec = NULL;
	BIGNUM		*n = NULL, *e = NULL;

	if (signer_ipc_rsa_method == NULL || signer_ipc_ec_method == NULL ||
	    (pk = EVP_PKEY_new()) == NULL)
		goto fail;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
		    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
		    (rsa = RSA_new()) == NULL ||
		    RSA_set_method(rsa, signer_ipc_rsa_method) != 1 ||
		    RSA_set0_key(rsa, n, e, NULL) != 1)
			goto fail;
		n = e = NULL;
		if (RSA_set_ex_data(rsa, signer_ipc_rsa_index, ref) != 1 ||
		    EVP_PKEY_assign_RSA(pk, rsa) != 1)
			goto fail;
		return pk;
	case EVP_PKEY_EC:
		if ((ec = EVP_PKEY_get1_EC_KEY(pub)) == NULL ||
		    EC_KEY_set_method(ec, signer_ipc_ec_method) != 1 ||
		    EC_KEY_set_ex_data(ec, signer_ipc_ec_index, ref) != 1 ||
		    EVP_PKEY_assign_EC_KEY(pk, ec) != 1)
			goto fail;
		return pk;
	}
 fail:
	log_ssl("%s: cannot make a key for the key process", __func__);
	BN_free(n);
	BN_free(e);
	RSA_free(rsa);
	EC_KEY_free(ec);
	EVP_PKEY_free(pk);
	return NULL;
}

struct signer *
signer_new(const struct hsm_config *cfg, X509 *ca_cert, X509 *ra_cert)
{
	struct signer	*sg;
	int		 i;

	pthread_once(&signer_ipc_once, signer_ipc_methods_init);
	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    (sg->channels = calloc((size_t)cfg->key_processes,
	    sizeof(*sg->channels))) == NULL) {
		log_error("%s: out of memory", __func__);
		free(sg);
		return NULL;
	}
	if (pthread_mutex_init(&sg->pick_mutex, NULL) != 0 ||
	    pthread_cond_init(&sg->changed, NULL) != 0) {
		log_error("%s: cannot make a mutex", __func__);
		free(sg->channels);
		free(sg);
		return NULL;
	}
	sg->cfg = cfg;
	sg->certs[SIGNER_ROLE_CA] = ca_cert;
	sg->certs[SIGNER_ROLE_RA] = ra_cert;
	for (i = 0; i < cfg->key_processes; i++) {
		pthread_mutex_init(&sg->channels[i].mutex, NULL);
		sg->channels[i].fd = -1;
		sg->n_channels++;
	}
	sg->channels[0].fd = signer_ipc_initial_fd;
	signer_ipc_initial_fd = -1;
	return sg;
}

void
signer_free(struct signer *sg)
{
	int	i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->n_channels; i++) {
		signer_ipc_drop_channel(&sg->channels[i]);
		pthread_mutex_destroy(&sg->channels[i].mutex);
	}
	pthread_cond_destroy(&sg->changed);
	pthread_mutex_destroy(&sg->pick_mutex);
	free(sg->channels);
	free(sg);
}

X509 *
signer_get0_cert(const struct signer *sg, enum signer_role role)
{
	return sg->certs[role];
}

/* Wakes sessions waiting for a channel. */
static void
signer_ipc_changed(struct signer *sg)
{
	pthread_mutex_lock(&sg->pick_mutex);
	pthread_cond_broadcast(&sg->changed);
	pthread_mutex_unlock(&sg->pick_mutex);
}

int
signer_ipc_set_channel(struct signer *sg, int index, int fd)
{
	struct signer_channel	*ch;

	if (index < 0 || index >= sg->n_channels) {
		log_error("a channel to key process %d of %d", index + 1,
		    sg->n_channels);
		close(fd);
		return -1;
	}
	ch = &sg->channels[index];
	pthread_mutex_lock(&ch->mutex);
	signer_ipc_drop_channel(ch);
	ch->fd = fd;
	pthread_mutex_unlock(&ch->mutex);
	signer_ipc_changed(sg);
	return 0;
}

static int
signer_ipc_passed(const struct timespec *deadline)
{
	struct timespec	now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec ==
	    deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/*
 * A free channel to a live key process, waited for as long as the
 * token lock would be.  If only channels whose key process has just
 * died are free, one of them after a little wait for a successor (its
 * calls then fail at once).  NULL: all busy.
 */
static struct signer_channel *
signer_ipc_acquire(struct signer *sg)
{
	struct signer_channel	*ch, *dead;
	struct timespec		 deadline, dead_wait, *until;
	int			 i;

	clock_gettime(CLOCK_REALTIME, &deadline);
	dead_wait = deadline;
	deadline.tv_sec += sg->cfg->lock_timeout;
	dead_wait.tv_sec += SIGNER_IPC_CHANNEL_WAIT;
	pthread_mutex_lock(&sg->pick_mutex);
	for (;;) {
		dead = NULL;
		for (i = 0; i < sg->n_channels; i++) {
			ch = &sg->channels[i];
			if (pthread_mutex_trylock(&ch->mutex) != 0)
				continue;
			if (ch->fd != -1) {
				if (dead != NULL)
					pthread_mutex_unlock(&dead->mutex);
				pthread_mutex_unlock(&sg->pick_mutex);
				return ch;
			}
			if (dead == NULL)
				dead = ch;
			else
				pthread_mutex_unlock(&ch->mutex);
		}
		if (signer_ipc_passed(&deadline) ||
		    (dead != NULL && signer_ipc_passed(&dead_wait)))
			break;
		if (dead != NULL)
			pthread_mutex_unlock(&dead->mutex);
		until = dead != NULL && dead_wait.tv_sec < deadline.tv_sec ?
		    &dead_wait : &deadline;
		pthread_cond_timedwait(&sg->changed, &sg->pick_mutex, until);
	}
	pthread_mutex_unlock(&sg->pick_mutex);
	return dead;
}

static void
signer_ipc_release(struct signer *sg, struct signer_channel *ch)
{
	pthread_mutex_unlock(&ch->mutex);
	signer_ipc_changed(sg);
}

int
signer_check_keys(struct signer *sg)
{
	struct signer_channel	*ch;
	enum keyop_status	 st;

	if ((ch = signer_ipc_acquire(sg)) == NULL) {
		log_error("the key process is busy");
		return -1;
	}
	st = signer_ipc_call(ch, KEYOP_CHECK_KEYS, SIGNER_ROLE_CA, 0, NULL, 0,
	    signer_ipc_timeout(sg, 1));
	signer_ipc_release(sg, ch);
	if (st != KEYOP_OK) {
		log_error("the key process could not prove the keys: %s",
		    signer_ipc_status_text[st]);
		return -1;
	}
	return 0;
}

struct signer_session *
signer_session_open(struct signer *sg, const char **why)
{
	struct signer_session	*ss;
	struct signer_channel	*ch;
	enum keyop_status	 st;

	if ((ch = signer_ipc_acquire(sg)) == NULL) {
		log_warnx("no key operation within %d s: %s",
		    sg->cfg->lock_timeout, SIGNER_WHY_BUSY);
		*why = SIGNER_WHY_BUSY;
		return NULL;
	}
	if ((st = signer_ipc_call(ch, KEYOP_OPEN, SIGNER_ROLE_CA, 0, NULL, 0,
	    signer_ipc_timeout(sg, 1))) != KEYOP_OK) {
		signer_ipc_release(sg, ch);
		*why = st == KEYOP_PIN ? SIGNER_WHY_PIN : st == KEYOP_BUSY ?
		    SIGNER_WHY_BUSY : st == KEYOP_RESTORED ?
		    SIGNER_WHY_RESTORED : SIGNER_WHY_DOWN;
		return NULL;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL) {
		log_error("%s: out of memory", __func__);
		signer_ipc_call(ch, KEYOP_CLOSE, SIGNER_ROLE_CA, 0, NULL, 0, 0);
		signer_ipc_release(sg, ch);
		*why = SIGNER_WHY_DOWN;
		return NULL;
	}
	ss->sg = sg;
	ss->ch = ch;
	return ss;
}

void
signer_retry_pin(struct signer *sg)
{
	/* The parent passes SIGHUP on to the key process. */
	(void)sg;
}

EVP_PKEY *
signer_session_get0_key(struct signer_session *ss, enum signer_role role)
{
	struct signer_channel	*ch = ss->ch;
	const unsigned char	*p;
	EVP_PKEY		*pub;
	enum keyop_status	 st;

	if (ss->keys[role] != NULL)
		return ss->keys[role];
	if ((st = signer_ipc_call(ch, KEYOP_GET_KEY, role, 0, NULL, 0,
	    signer_ipc_timeout(ss->sg, 0))) != KEYOP_OK) {
		log_error("no %s key from the key process: %s",
		    role == SIGNER_ROLE_CA ? "CA" : "RA",
		    signer_ipc_status_text[st]);
		return NULL;
	}
	p = ch->ans.data;
	if ((pub = d2i_PUBKEY(NULL, &p, ch->ans.len)) == NULL) {
		log_ssl("%s: the key process sent no public key", __func__);
		return NULL;
	}
	ss->refs[role].ss = ss;
	ss->refs[role].role = role;
	ss->keys[role] = signer_ipc_standin_new(pub, &ss->refs[role]);
	EVP_PKEY_free(pub);
	return ss->keys[role];
}

void
signer_session_close(struct signer_session *ss)
{
	int	role;

	if (ss == NULL)
		return;
	for (role = 0; role < SIGNER_ROLE__MAX; role++)
		EVP_PKEY_free(ss->keys[role]);
	signer_ipc_call(ss->ch, KEYOP_CLOSE, SIGNER_ROLE_CA, 0, NULL, 0, 0);
	signer_ipc_release(ss->sg, ss->ch);
	free(ss);
}

/* The TBSCertificates of a and b are the same bytes. */
static int
signer_ipc_same_tbs(X509 *a, X509 *b)
{
	unsigned char	*da = NULL, *db = NULL;
	int		 na, nb, same;

	na = i2d_re_X509_tbs(a, &da);
	nb = i2d_re_X509_tbs(b, &db);
	same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

int
signer_session_sign_cert(struct signer_session *ss, X509 **cert,
    const EVP_MD *md)
{
	struct signer		*sg = ss->sg;
	struct signer_channel	*ch = ss->ch;
	const unsigned char	*p;
	unsigned char		*der = NULL;
	EVP_PKEY		*key;
	X509			*signed_cert = NULL;
	enum keyop_status	 st;
	int			 n, r, rc = -1;

	if ((key = signer_session_get0_key(ss, SIGNER_ROLE_CA)) == NULL)
		return -1;
	/* Sets both signature algorithms; the signature is a dummy. */
	signer_ipc_layout = 1;
	r = X509_sign(*cert, key, md);
	signer_ipc_layout = 0;
	if (r <= 0 || (n = i2d_X509(*cert, &der)) <= 0) {
		log_ssl("%s: laying out the certificate", __func__);
		goto out;
	}
	st = signer_ipc_call(ch, KEYOP_SIGN_CERT, SIGNER_ROLE_CA,
	    (unsigned)EVP_MD_get_type(md), der, (size_t)n,
	    signer_ipc_timeout(sg, 0));
	signer_ipc_last = st;
	if (st == KEYOP_MISMATCH) {
		rc = SIGNER_MISMATCH;
		goto out;
	}
	if (st != KEYOP_OK) {
		log_error("the key process did not sign the certificate: %s",
		    signer_ipc_status_text[st]);
		goto out;
	}
	p = ch->ans.data;
	if ((signed_cert = d2i_X509(NULL, &p, ch->ans.len)) == NULL ||
	    !signer_ipc_same_tbs(*cert, signed_cert)) {
		log_ssl("the key process signed another certificate");
		goto out;
	}
	if (X509_verify(signed_cert, X509_get0_pubkey(
	    sg->certs[SIGNER_ROLE_CA])) != 1) {
		log_ssl_clear();
		rc = SIGNER_MISMATCH;
		goto out;
	}
	X509_free(*cert);
	*cert = signed_cert;
	signed_cert = NULL;
	rc = 0;
 out:
	OPENSSL_free(der);
	X509_free(signed_cert);
	return rc;
}

int
signer_log_key_failure(const char *what)
{
	enum keyop_status	st = signer_ipc_last;

	signer_ipc_last = KEYOP_OK;
	log_ssl_clear();
	if (st == KEYOP_REFUSED || st == KEYOP_OK) {
		log_error("%s: %s", what, signer_ipc_status_text[
		    KEYOP_REFUSED]);
		return 0;
	}
	log_error("%s: %s", what, signer_ipc_status_text[st]);
	return 1;
}
