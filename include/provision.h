/*
 * Provisioning a token for scepd: CA and RA key pairs generated inside
 * the token (sensitive, never extractable), a self-signed CA
 * certificate and an RA certificate signed through PKCS#11, both also
 * stored in the token.
 */
#ifndef SCEPD_PROVISION_H
#define SCEPD_PROVISION_H

#include <stddef.h>

#include <openssl/x509.h>

#define PROVISION_ID_LEN	8
#define PROVISION_CA_LABEL	"scepd-ca"
#define PROVISION_RA_LABEL	"scepd-ra"

struct provision_params {
	const char	*module;
	const char	*token_label;
	const char	*so_pin;	/* non-NULL: initialise a free token */
	const char	*user_pin;
	const char	*ca_subject;	/* "/CN=..." or "CN=...,O=..." */
	const char	*ra_subject;
	const char	*ca_key;	/* rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384 */
	const char	*ra_key;	/* rsa:2048|rsa:3072|rsa:4096 */
	int		 ca_days;
	int		 ra_days;
	const char	*lock_file;	/* the token lock scepd uses */
};

/* How long provisioning waits for a running scepd to free the token. */
#define PROVISION_LOCK_TIMEOUT	120

struct provision_result {
	X509		*ca_cert;
	X509		*ra_cert;
	unsigned char	 ca_id[PROVISION_ID_LEN];
	unsigned char	 ra_id[PROVISION_ID_LEN];
};

/* Checks a key specification; -1 if unknown. ra: RSA only. */
int	provision_check_keyspec(const char *spec, int ra);
/*
 * Does the whole provisioning.  On success the result's certificates
 * are owned by the caller (provision_result_clear()).  -1 (logged).
 */
int	provision_token(const struct provision_params *p,
	    struct provision_result *res);
void	provision_result_clear(struct provision_result *res);

#endif
