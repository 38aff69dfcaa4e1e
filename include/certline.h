/*
 * The line the key process draws for the CA key (see include/keyop.h):
 * it signs only end-entity certificates of this CA, with a digest of
 * the SHA-2 family.
 */
#ifndef SCEPD_CERTLINE_H
#define SCEPD_CERTLINE_H

#include <openssl/x509.h>

#define CERTLINE_MIN_SERIAL_BYTES	8	/* 64 bits, RFC 5280 */

/*
 * NULL if the CA key may sign x, else why not: x must be a v3
 * certificate issued by ca (issuer name, and an authority key
 * identifier equal to ca's subject key identifier when ca has one),
 * with a positive serial of at least CERTLINE_MIN_SERIAL_BYTES, not a
 * CA, without keyCertSign or cRLSign, expiring no later than ca.
 */
const char	*certline_refusal(X509 *x, X509 *ca);
/* 1 if the CA key may sign with this digest. */
int		 certline_digest_allowed(int nid);

#endif
