/*
 * Shared by the fuzz targets (see tests/fuzz/README.md): fixed
 * software keys, the SCEP service below the HSM with a software
 * signer, builders of signed and enveloped pkiMessages, and small
 * utilities.  Nothing here is linked into scepd.
 */
#ifndef SCEPD_FUZZ_H
#define SCEPD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "config.h"

/* libFuzzer's entry points (also called by replay_main.c). */
int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_keys.c: fixed keys, parsed on first use, borrowed. */
enum fuzz_key {
	FUZZ_KEY_CA,
	FUZZ_KEY_RA,
	FUZZ_KEY_CLIENT,	/* signs the structure-aware pkiMessages */
	FUZZ_KEY__MAX
};
EVP_PKEY	*fuzz_keys_get0(enum fuzz_key which);
void		 fuzz_keys_free(void);

/* fuzz_util.c */
/*
 * Once per process: scepd's log level (SCEPD_FUZZ_LOG=debug|info,
 * default error only), standard input from /dev/null.
 */
void		 fuzz_util_init(void);
/*
 * A directory of this process only, under $SCEPD_FUZZ_SHM, else
 * /dev/shm (cheap fsync), else $TMPDIR or /tmp; removed at exit.
 */
const char	*fuzz_util_workdir(void);
/* workdir/name (free()). */
char		*fuzz_util_path_new(const char *name);
/* Replaces path with len bytes; -1 (logged) on failure. */
int		 fuzz_util_write(const char *path, const void *buf,
		    size_t len);
/* Hex SHA-256 of buf into out (65 bytes). */
void		 fuzz_util_sha256_hex(const void *buf, size_t len, char *out);
/*
 * Dies if the OpenSSL error queue is not empty after what: scepd logs
 * every failure once with the queue drained into the line (STYLE.md),
 * and errors left behind end up in the next request's log line.
 */
void		 fuzz_util_err_check(const char *what);
void		 fuzz_util_die(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2), noreturn));

/* fuzz_signer.c: what signer.h has not. */
/*
 * The n-th signer_session_open() from now fails as an HSM outage
 * would (0: none).
 */
void		 fuzz_signer_fail_session(int n);

/* fuzz_fixture.c: a real struct service on a software signer. */
#define FUZZ_HMAC_SECRET	"scepd-fuzz-hmac-secret-0123456789"
#define FUZZ_RENEW_SUBJECT	"CN=renew-me,O=scepd fuzz"

struct fuzz_fixture {
	struct scepd_config	*cfg;
	struct service		*svc;
	X509			*client_cert;	/* self-signed, client key */
	X509			*renew_cert;	/* by the CA, recorded issued */
	unsigned long		 runs;
};

/* Made on first call (service_new() with the policy below). */
struct fuzz_fixture *fuzz_fixture_get(void);
/* Before each input: a fresh database every FUZZ_FIXTURE_RESET. */
void		 fuzz_fixture_tick(struct fuzz_fixture *fx);
/* The policy the service runs (also a seed of the policy target). */
extern const char fuzz_fixture_policy[];

/* fuzz_msg.c */
struct fuzz_msg {
	const char		*txid;		/* NULL: omitted */
	const char		*msgtype;	/* NULL: omitted */
	const unsigned char	*nonce;		/* senderNonce */
	size_t			 nonce_len;	/* 0: omitted */
	const EVP_MD		*md;
	X509			*signer_cert;
	EVP_PKEY		*signer_key;
	const unsigned char	*content;	/* signed as it is */
	size_t			 content_len;
};
/* A SignedData pkiMessage in DER (OPENSSL_free); NULL (logged). */
unsigned char	*fuzz_msg_sign(const struct fuzz_msg *m, size_t *len);
/* An EnvelopedData of buf to recipient in DER (OPENSSL_free). */
unsigned char	*fuzz_msg_envelope(const unsigned char *buf, size_t len,
		    X509 *recipient, const EVP_CIPHER *cipher,
		    size_t *outlen);

#endif
