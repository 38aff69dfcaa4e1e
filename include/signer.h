/*
 * The only way to a private key.
 *
 * Keys are named by role.  Every use happens inside a signer session:
 * signer_session_open() takes the token lock, enumerates the slots,
 * finds the token, opens a PKCS#11 session and logs in;
 * signer_session_close() frees every key object, closes every session
 * and releases the lock.  Nothing of a session survives it, so the
 * next request starts from scratch even if the HSM restarted.
 *
 * Code above this header sees OpenSSL objects and roles, never
 * PKCS#11.
 */
#ifndef SCEPD_SIGNER_H
#define SCEPD_SIGNER_H

#include <openssl/evp.h>
#include <openssl/x509.h>

struct hsm_config;

enum signer_role {
	SIGNER_ROLE_CA,		/* signs certificates */
	SIGNER_ROLE_RA,		/* decrypts requests, signs CertReps */
	SIGNER_ROLE__MAX
};

struct signer;
struct signer_session;

/*
 * Loads the PKCS#11 module (once per process) and reads the PIN.  The
 * certificates are borrowed for the lifetime of the signer.  Opens no
 * session.  NULL on failure (logged).
 */
struct signer	*signer_new(const struct hsm_config *cfg, X509 *ca_cert,
		    X509 *ra_cert);
void		 signer_free(struct signer *sg);
X509		*signer_get0_cert(const struct signer *sg, enum signer_role role);
/*
 * Opens a fresh session and proves that each role's key is present
 * and matches its certificate, then closes it.  For start-up.
 */
int		 signer_check_keys(struct signer *sg);

/* Why a session could not be opened: for the answer and the log. */
#define SIGNER_WHY_DOWN	"HSM unavailable"
#define SIGNER_WHY_PIN	"HSM unavailable: the token refused the PIN"
#define SIGNER_WHY_BUSY	"HSM busy"
#define SIGNER_WHY_RESTORED \
	"HSM unavailable: the restored token does not hold the keys"

/*
 * NULL (logged) if the token cannot be used right now; *why is then
 * one of the SIGNER_WHY_ texts.
 */
struct signer_session *signer_session_open(struct signer *sg,
		    const char **why);
/*
 * After the token refused the PIN, the next session reads the PIN
 * file again and tries it at once (SIGHUP), instead of waiting for
 * hsm.pin_retry_interval.  Safe from any thread.
 */
void		 signer_retry_pin(struct signer *sg);
/*
 * Returns the role's private key, found on first use by label/CKA_ID.
 * The key is borrowed: it is freed by signer_session_close().  The RA
 * key decrypts and signs CertReps; the CA key signs only through
 * signer_session_sign_cert() (an implementation may refuse anything
 * else done with it).
 */
EVP_PKEY	*signer_session_get0_key(struct signer_session *ss,
		    enum signer_role role);
void		 signer_session_close(struct signer_session *ss);

#define SIGNER_MISMATCH	(-2)
/*
 * Signs the certificate *cert with the CA key and digest md, and
 * proves the signature against the CA certificate.  On success *cert
 * may have been replaced by the signed certificate (the one passed in
 * is then freed).  -1 (logged) if the token failed or the signature
 * was refused; SIGNER_MISMATCH if the signature does not verify
 * (the caller must not use *cert then: a faulty RSA signature can
 * give the key away, and the key process does not release one).
 */
int		 signer_session_sign_cert(struct signer_session *ss,
		    X509 **cert, const EVP_MD *md);

/*
 * After an operation with a session's key failed: drains the OpenSSL
 * error queue into one error line that begins with what, and returns
 * 1 if the token itself failed (a session, device or module error: the
 * client should try again later), 0 if it refused the data.  Codes an
 * input could provoke on some modules (CKR_GENERAL_ERROR,
 * CKR_FUNCTION_FAILED) count as refusals, so that a client never
 * learns from the answer whether its ciphertext had valid padding.
 */
int		 signer_log_key_failure(const char *what);

#endif
