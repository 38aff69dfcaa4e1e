/*
 * The end-entity certificate profile: what scepd puts into a
 * certificate it issues, from a CSR it has decided to honour.
 */
#ifndef SCEPD_ISSUE_H
#define SCEPD_ISSUE_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define ISSUE_BACKDATE_SECONDS	300	/* tolerate clients' clock skew */
#define ISSUE_RSA_MIN_BITS	2048

struct issue_profile {
	int	validity_days;
};

/*
 * Checks that the CSR's key and names can be certified at all.  -1,
 * with a reason in why, if not.
 */
int	 issue_check_request(const X509_REQ *csr, char *why, size_t whylen);
/*
 * Builds the unsigned certificate for csr: subject and public key from
 * the CSR, subjectAltName entries of the allowed kinds copied from its
 * extensionRequest, everything else from the profile.  Validity ends
 * no later than the CA certificate's.  The caller signs it and owns it.
 */
X509	*issue_cert_new(const X509_REQ *csr, X509 *ca_cert,
	    const ASN1_INTEGER *serial, const struct issue_profile *pf,
	    time_t now);

#endif
