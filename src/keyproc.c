/*
 * scepd-keyproc: the key process.  The only scepd process that loads
 * the PKCS#11 module and knows the PIN.  The parent starts it with a
 * control socket on descriptor 3, over which it sends one channel
 * (socketpair end) per worker process; each channel is served by a
 * thread of its own, one request at a time, through the signer of
 * hsm/signer_p11.c exactly as an in-process signer would be used: a
 * fresh session per KEYOP_OPEN, nothing kept after KEYOP_CLOSE.
 *
 * Every request is checked against keyproc_rules (operation, role,
 * session state) and, for the CA key, against certline_refusal()
 * (see keyop.h for where the line is and why).  A watchdog ends the
 * process when a PKCS#11 call does not return in time, so that the
 * parent starts a fresh one: a hung module cannot wedge scepd.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* RSA_private_*: raw RSA ops */

#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "certline.h"
#include "config.h"
#include "files.h"
#include "ipc.h"
#include "keyop.h"
#include "log.h"
#include "privdrop.h"
#include "signer.h"
#include "version.h"

#define KEYPROC_CONTROL_FD	3
#define KEYPROC_MAX_CHANNELS	64
/* One watchdog slot more, for the key check at start-up. */
#define KEYPROC_STARTUP_SLOT	KEYPROC_MAX_CHANNELS
#define KEYPROC_SLOTS		(KEYPROC_MAX_CHANNELS + 1)
#define KEYPROC_EXIT_HUNG	3
#define KEYPROC_READY		'R'

/* Which roles an operation may name, and whether it needs a session. */
struct keyproc_rule {
	unsigned	roles;		/* bits of 1 << signer_role */
	int		session;
};

#define KEYPROC_CA	(1u << SIGNER_ROLE_CA)
#define KEYPROC_RA	(1u << SIGNER_ROLE_RA)

static const struct keyproc_rule keyproc_rules[KEYOP__MAX] = {
	[KEYOP_OPEN]		= { KEYPROC_CA | KEYPROC_RA, 0 },
	[KEYOP_GET_KEY]		= { KEYPROC_CA | KEYPROC_RA, 1 },
	[KEYOP_RSA_SIGN]	= { KEYPROC_RA, 1 },
	[KEYOP_RSA_DECRYPT]	= { KEYPROC_RA, 1 },
	[KEYOP_SIGN_CERT]	= { KEYPROC_CA, 1 },
	[KEYOP_CLOSE]		= { KEYPROC_CA | KEYPROC_RA, 0 },
	[KEYOP_CHECK_KEYS]	= { KEYPROC_CA | KEYPROC_RA, 0 },
};

static const char *const keyproc_op_names[KEYOP__MAX] = {
	[KEYOP_OPEN] = "open", [KEYOP_GET_KEY] = "get-key",
	[KEYOP_RSA_SIGN] = "rsa-sign", [KEYOP_RSA_DECRYPT] = "rsa-decrypt",
	[KEYOP_SIGN_CERT] = "sign-cert", [KEYOP_CLOSE] = "close",
	[KEYOP_CHECK_KEYS] = "check-keys",
};

struct keyproc {
	struct scepd_config	*cfg;
	struct signer		*signer;
	X509			*certs[SIGNER_ROLE__MAX];
	/*
	 * When each channel's operation under way must have returned
	 * (0: none), in CLOCK_MONOTONIC seconds; read by the watchdog.
	 */
	atomic_llong		 deadline[KEYPROC_SLOTS];
	atomic_int		 slot_used[KEYPROC_SLOTS];
	const char *_Atomic	 busy_op[KEYPROC_SLOTS];
};

struct keyproc_channel {
	struct keyproc		*kp;
	int			 fd;
	int			 slot;
	struct signer_session	*ss;
	struct ipc_frame	 req;
	struct ipc_frame	 ans;
};

static long long
keyproc_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

/* Ends the process if an operation has not returned in time. */
static void *
keyproc_watchdog(void *arg)
{
	struct keyproc	*kp = arg;
	struct timespec	 tick = { .tv_sec = 0, .tv_nsec = 250000000 };
	long long	 d;
	int		 i;

	for (;;) {
		nanosleep(&tick, NULL);
		for (i = 0; i < KEYPROC_SLOTS; i++) {
			d = atomic_load(&kp->deadline[i]);
			if (d == 0 || keyproc_now() <= d)
				continue;
			log_error("the token did not finish %s within %d s: "
			    "the key process restarts",
			    atomic_load(&kp->busy_op[i]),
			    kp->cfg->hsm.call_timeout);
			_exit(KEYPROC_EXIT_HUNG);
		}
	}
	return NULL;
}

static enum keyop_status
keyproc_why_status(const char *why)
{
	if (why != NULL && strcmp(why, SIGNER_WHY_PIN) == 0)
		return KEYOP_PIN;
	if (why != NULL && strcmp(why, SIGNER_WHY_BUSY) == 0)
		return KEYOP_BUSY;
	if (why != NULL && strcmp(why, SIGNER_WHY_RESTORED) == 0)
		return KEYOP_RESTORED;
	return KEYOP_DOWN;
}

/* KEYOP_GET_KEY: the public part of the token's key. */
static enum keyop_status
keyproc_get_key(struct keyproc_channel *ch, enum signer_role role)
{
	EVP_PKEY	*key;
	unsigned char	*p = ch->ans.data;
	int		 n;

	if ((key = signer_session_get0_key(ch->ss, role)) == NULL)
		return KEYOP_DOWN;
	/* Some modules' EC private keys carry no public point. */
	if ((n = i2d_PUBKEY(key, NULL)) <= 0) {
		log_ssl_clear();
		key = X509_get0_pubkey(ch->kp->certs[role]);
		n = i2d_PUBKEY(key, NULL);
	}
	if (n <= 0 || n > IPC_MAX_PAYLOAD || i2d_PUBKEY(key, &p) != n) {
		log_ssl("%s: encoding a public key", __func__);
		return KEYOP_DOWN;
	}
	ch->ans.len = (uint32_t)n;
	return KEYOP_OK;
}

/* KEYOP_RSA_SIGN: a PKCS#1 v1.5 signature, proved before release. */
static enum keyop_status
keyproc_rsa_sign(struct keyproc_channel *ch)
{
	EVP_PKEY	*key;
	const RSA	*pub;
	RSA		*rsa;
	unsigned char	 check[IPC_MAX_PAYLOAD];
	int		 n, m;

	if (ch->req.arg != RSA_PKCS1_PADDING)
		return KEYOP_NOT_ALLOWED;
	if ((key = signer_session_get0_key(ch->ss, SIGNER_ROLE_RA)) == NULL)
		return KEYOP_DOWN;
	pub = EVP_PKEY_get0_RSA(X509_get0_pubkey(
	    ch->kp->certs[SIGNER_ROLE_RA]));
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || pub == NULL ||
	    RSA_size(pub) > IPC_MAX_PAYLOAD ||
	    (int)ch->req.len > RSA_size(pub) - 11)
		return KEYOP_NOT_ALLOWED;
	if ((rsa = EVP_PKEY_get1_RSA(key)) == NULL)
		return KEYOP_NOT_ALLOWED;
	n = RSA_private_encrypt((int)ch->req.len, ch->req.data, ch->ans.data,
	    rsa, RSA_PKCS1_PADDING);
	RSA_free(rsa);
	if (n <= 0)
		return signer_log_key_failure("RA key signature") ?
		    KEYOP_TOKEN_FAILED : KEYOP_REFUSED;
	m = RSA_public_decrypt(n, ch->ans.data, check, (RSA *)pub,
	    RSA_PKCS1_PADDING);
	if (m != (int)ch->req.len ||
	    CRYPTO_memcmp(check, ch->req.data, ch->req.len) != 0) {
		log_ssl_clear();
		OPENSSL_cleanse(ch->ans.data, (size_t)n);
		log_error("the RA key's signature does not verify against "
		    "%s: withheld", ch->kp->cfg->ra_cert_file);
		return KEYOP_MISMATCH;
	}
	ch->ans.len = (uint32_t)n;
	return KEYOP_OK;
}

/* KEYOP_RSA_DECRYPT: the RA key unwraps a request's content key. */
static enum keyop_status
keyproc_rsa_decrypt(struct keyproc_channel *ch)
{
	EVP_PKEY	*key;
	RSA		*rsa;
	int		 n, pad = ch->req.arg;

	if (pad != RSA_PKCS1_PADDING && pad != RSA_PKCS1_OAEP_PADDING &&
	    pad != RSA_NO_PADDING)
		return KEYOP_NOT_ALLOWED;
	if ((key = signer_session_get0_key(ch->ss, SIGNER_ROLE_RA)) == NULL)
		return KEYOP_DOWN;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_size(key) > IPC_MAX_PAYLOAD)
		return KEYOP_NOT_ALLOWED;
	if ((rsa = EVP_PKEY_get1_RSA(key)) == NULL)
		return KEYOP_NOT_ALLOWED;
	n = RSA_private_decrypt((int)ch->req.len, ch->req.data, ch->ans.data,
	    rsa, pad);
	RSA_free(rsa);
	if (n < 0)
		return signer_log_key_failure("RA key decryption") ?
		    KEYOP_TOKEN_FAILED : KEYOP_REFUSED;
	ch->ans.len = (uint32_t)n;
	return KEYOP_OK;
}

/* KEYOP_SIGN_CERT: an end-entity certificate of this CA, proved. */
static enum keyop_status
keyproc_sign_cert(struct keyproc_channel *ch)
{
	const unsigned char	*p = ch->req.data;
	unsigned char		*q = ch->ans.data;
	const EVP_MD		*md;
	const char		*refused;
	X509			*x = NULL;
	enum keyop_status	 st = KEYOP_NOT_ALLOWED;
	int			 r, n;

	if (!certline_digest_allowed(ch->req.arg) ||
	    (md = EVP_get_digestbynid(ch->req.arg)) == NULL) {
		log_error("refused to sign a certificate with digest %u",
		    ch->req.arg);
		goto out;
	}
	if ((x = d2i_X509(NULL, &p, ch->req.len)) == NULL ||
	    p != ch->req.data + ch->req.len) {
		log_ssl("refused to sign a certificate: not one DER "
		    "certificate");
		goto out;
	}
	if ((refused = certline_refusal(x,
	    ch->kp->certs[SIGNER_ROLE_CA])) != NULL) {
		log_ssl_clear();
		log_error("refused to sign a certificate: %s", refused);
		goto out;
	}
	if ((r = signer_session_sign_cert(ch->ss, &x, md)) == SIGNER_MISMATCH) {
		log_error("the CA key's signature does not verify against "
		    "%s: withheld", ch->kp->cfg->ca_cert_file);
		st = KEYOP_MISMATCH;
		goto out;
	}
	if (r == -1) {
		st = KEYOP_TOKEN_FAILED;
		goto out;
	}
	if ((n = i2d_X509(x, NULL)) <= 0 || n > IPC_MAX_PAYLOAD ||
	    i2d_X509(x, &q) != n) {
		log_ssl("%s: encoding the certificate", __func__);
		st = KEYOP_TOKEN_FAILED;
		goto out;
	}
	ch->ans.len = (uint32_t)n;
	st = KEYOP_OK;
 out:
	X509_free(x);
	return st;
}

static void
keyproc_session_end(struct keyproc_channel *ch)
{
	signer_session_close(ch->ss);
	ch->ss = NULL;
}

static enum keyop_status
keyproc_perform(struct keyproc_channel *ch)
{
	const char	*why = NULL;

	switch (ch->req.op) {
	case KEYOP_OPEN:
		keyproc_session_end(ch);
		if ((ch->ss = signer_session_open(ch->kp->signer, &why)) ==
		    NULL)
			return keyproc_why_status(why);
		return KEYOP_OK;
	case KEYOP_GET_KEY:
		return keyproc_get_key(ch, ch->req.role);
	case KEYOP_RSA_SIGN:
		return keyproc_rsa_sign(ch);
	case KEYOP_RSA_DECRYPT:
		return keyproc_rsa_decrypt(ch);
	case KEYOP_SIGN_CERT:
		return keyproc_sign_cert(ch);
	case KEYOP_CLOSE:
		keyproc_session_end(ch);
		return KEYOP_OK;
	case KEYOP_CHECK_KEYS:
		keyproc_session_end(ch);
		return signer_check_keys(ch->kp->signer) == 0 ? KEYOP_OK :
		    KEYOP_DOWN;
	}
	return KEYOP_NOT_ALLOWED;
}

/* The allow-list: what a worker may ask, whatever it sends. */
static int
keyproc_allowed(const struct keyproc_channel *ch)
{
	const struct keyproc_rule	*rule;

	if (ch->req.op >= KEYOP__MAX || ch->req.role >= SIGNER_ROLE__MAX)
		return 0;
	rule = &keyproc_rules[ch->req.op];
	if ((rule->roles & (1u << ch->req.role)) == 0)
		return 0;
	return !rule->session || ch->ss != NULL;
}

static void *
keyproc_channel_serve(void *arg)
{
	struct keyproc_channel	*ch = arg;
	struct keyproc		*kp = ch->kp;
	enum keyop_status	 st;
	long long		 limit;

	while (ipc_frame_recv(ch->fd, &ch->req, -1) == 0) {
		memset(&ch->ans, 0, offsetof(struct ipc_frame, data));
		ch->ans.cookie = ch->req.cookie;
		if (!keyproc_allowed(ch)) {
			log_error("refused a request from a worker: operation "
			    "%u, role %u%s", ch->req.op, ch->req.role,
			    ch->ss == NULL ? " (no session)" : "");
			st = KEYOP_NOT_ALLOWED;
		} else {
			limit = kp->cfg->hsm.call_timeout;
			if (ch->req.op == KEYOP_OPEN ||
			    ch->req.op == KEYOP_CHECK_KEYS)
				limit += kp->cfg->hsm.lock_timeout;
			atomic_store(&kp->busy_op[ch->slot],
			    keyproc_op_names[ch->req.op]);
			atomic_store(&kp->deadline[ch->slot],
			    keyproc_now() + limit);
			st = keyproc_perform(ch);
			atomic_store(&kp->deadline[ch->slot], 0);
		}
		OPENSSL_cleanse(ch->req.data, ch->req.len);
		if (ch->req.op == KEYOP_CLOSE && st == KEYOP_OK)
			continue;
		ch->ans.op = (uint8_t)st;
		if (st != KEYOP_OK)
			ch->ans.len = 0;
		if (ipc_frame_send(ch->fd, &ch->ans) == -1)
			break;
		OPENSSL_cleanse(ch->ans.data, ch->ans.len);
	}
	keyproc_session_end(ch);
	close(ch->fd);
	atomic_store(&kp->slot_used[ch->slot], 0);
	free(ch);
	return NULL;
}

static int
keyproc_channel_start(struct keyproc *kp, int fd)
{
	struct keyproc_channel	*ch;
	pthread_attr_t		 attr;
	pthread_t		 t;
	int			 i, expected;

	for (i = 0; i < KEYPROC_MAX_CHANNELS; i++) {
		expected = 0;
		if (atomic_compare_exchange_strong(&kp->slot_used[i],
		    &expected, 1))
			break;
	}
	if (i == KEYPROC_MAX_CHANNELS || (ch = calloc(1, sizeof(*ch))) ==
	    NULL) {
		if (i < KEYPROC_MAX_CHANNELS)
			atomic_store(&kp->slot_used[i], 0);
		log_error("cannot serve another worker channel");
		close(fd);
		return -1;
	}
	ch->kp = kp;
	ch->fd = fd;
	ch->slot = i;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, keyproc_channel_serve, ch) != 0) {
		pthread_attr_destroy(&attr);
		log_error("cannot start a channel thread");
		atomic_store(&kp->slot_used[i], 0);
		close(fd);
		free(ch);
		return -1;
	}
	pthread_attr_destroy(&attr);
	return 0;
}

/* Channels from the parent, until it goes away. */
static void *
keyproc_control(void *arg)
{
	struct keyproc	*kp = arg;
	uint8_t		 tag;
	int		 fd;

	while (ipc_fd_recv(KEYPROC_CONTROL_FD, &fd, &tag) == 0)
		if (fd != -1)
			keyproc_channel_start(kp, fd);
	/* The parent is gone: nobody will restart or stop us. */
	log_info("the parent has gone: the key process stops");
	_exit(0);
	return NULL;
}

/*
 * On SIGTERM: lets the operations under way end (bounded by the
 * watchdog), so that a stop never cuts a SoftHSM login short.
 */
static void
keyproc_wait_idle(struct keyproc *kp)
{
	struct timespec	tick = { .tv_sec = 0, .tv_nsec = 10000000 };
	int		i, busy;

	do {
		busy = 0;
		for (i = 0; i < KEYPROC_SLOTS; i++)
			if (atomic_load(&kp->deadline[i]) != 0)
				busy = 1;
		if (busy)
			nanosleep(&tick, NULL);
	} while (busy);
}

static void
keyproc_usage(FILE *f)
{
	fprintf(f,
"usage: scepd-keyproc --config FILE [--verbose]\n"
"\n"
"The key process of scepd, started by scepd itself: it alone loads the\n"
"PKCS#11 module and reads the PIN.  Not meant to be run by hand.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct keyproc	 kp;
	const char	*config = NULL;
	char		 err[1024], ready = KEYPROC_READY;
	enum log_level	 level = LOG_LEVEL_INFO;
	pthread_t	 t;
	sigset_t	 set;
	int		 ch, sig, i, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'v': level = LOG_LEVEL_DEBUG; break;
		case 'h':
			keyproc_usage(stdout);
			return 0;
		default:
			keyproc_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || config == NULL) {
		keyproc_usage(stderr);
		return 2;
	}
	log_init("scepd-keyproc", level);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* Nothing of this process may end up in a core file. */
	prctl(PR_SET_DUMPABLE, 0);

	memset(&kp, 0, sizeof(kp));
	for (i = 0; i < KEYPROC_SLOTS; i++) {
		atomic_init(&kp.deadline[i], 0);
		atomic_init(&kp.slot_used[i], 0);
		atomic_init(&kp.busy_op[i], "");
	}
	if ((kp.cfg = config_load(config, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	if ((kp.certs[SIGNER_ROLE_CA] = files_read_cert(
	    kp.cfg->ca_cert_file)) == NULL ||
	    (kp.certs[SIGNER_ROLE_RA] = files_read_cert(
	    kp.cfg->ra_cert_file)) == NULL)
		goto out;
	/* The start-up check is bounded like every other operation. */
	if (pthread_create(&t, NULL, keyproc_watchdog, &kp) != 0) {
		log_error("cannot start the watchdog");
		goto out;
	}
	atomic_store(&kp.busy_op[KEYPROC_STARTUP_SLOT], "the start-up key check");
	atomic_store(&kp.deadline[KEYPROC_STARTUP_SLOT], keyproc_now() +
	    kp.cfg->hsm.lock_timeout + 2 * kp.cfg->hsm.call_timeout);
	if ((kp.signer = signer_new(&kp.cfg->hsm, kp.certs[SIGNER_ROLE_CA],
	    kp.certs[SIGNER_ROLE_RA])) == NULL ||
	    signer_check_keys(kp.signer) == -1)
		goto out;
	atomic_store(&kp.deadline[KEYPROC_STARTUP_SLOT], 0);
	if (privdrop_to(kp.cfg->user) == -1)
		goto out;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (pthread_create(&t, NULL, keyproc_control, &kp) != 0) {
		log_error("cannot start the key process threads");
		goto out;
	}
	if (write(KEYPROC_CONTROL_FD, &ready, 1) != 1) {
		log_error("cannot tell the parent the key process is ready");
		goto out;
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			goto out;
		if (sig == SIGHUP) {
			signer_retry_pin(kp.signer);
			continue;
		}
		break;
	}
	keyproc_wait_idle(&kp);
	rc = 0;
 out:
	/* Channel threads may still use the signer: no cleanup race. */
	fflush(NULL);
	_exit(rc);
}
