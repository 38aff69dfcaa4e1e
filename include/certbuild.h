/*
 * Small pieces for building X.509 certificates, shared by issuance and
 * by CA provisioning.
 */
#ifndef SCEPD_CERTBUILD_H
#define SCEPD_CERTBUILD_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERTBUILD_SERIAL_LEN	16	/* RFC 5280: at most 20 octets */

/*
 * Starts a v3 certificate: subject, issuer name, public key, serial
 * and validity.  The caller adds extensions and signs.
 */
X509		*certbuild_new(const X509_NAME *subject,
		    const X509_NAME *issuer, EVP_PKEY *pub,
		    const ASN1_INTEGER *serial, time_t not_before,
		    time_t not_after);
/*
 * Adds an extension written in OpenSSL's config syntax ("critical,
 * CA:FALSE").  issuer may be x itself (self-signed).
 */
int		 certbuild_add_ext(X509 *x, X509 *issuer, int nid,
		    const char *value);
/*
 * The whole name as an RFC 2253 string ("CN=x,O=y"), as policies see
 * it, never shortened; free() it.  NULL on failure (logged).
 */
char		*certbuild_name_text_new(const X509_NAME *name);
/* A fresh positive random serial of CERTBUILD_SERIAL_LEN bytes. */
ASN1_INTEGER	*certbuild_serial_new(void);
/* Lower-case hex of a serial number, as stored; free() it. */
char		*certbuild_serial_hex_new(const ASN1_INTEGER *serial);
/* An ASN1_TIME as seconds since the epoch (0 if unreadable). */
time_t		 certbuild_time(const ASN1_TIME *t);
/* The digest to sign with for an issuer key: SHA-384 for P-384. */
const EVP_MD	*certbuild_digest_for(EVP_PKEY *issuer_pub);
/*
 * Parses "/O=y/CN=x" (openssl req -subj: most significant first) or
 * "CN=x,O=y" (RFC 4514: most specific first); both give the same name.
 * NULL on a
 * malformed name (logged).
 */
X509_NAME	*certbuild_name_parse(const char *dn);

#endif
