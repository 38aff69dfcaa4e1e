/*
 * Certificate profiles: what scepd puts into a certificate it issues,
 * from a CSR it has decided to honour.
 */
#ifndef SCEPD_ISSUE_H
#define SCEPD_ISSUE_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#define ISSUE_BACKDATE_SECONDS	300	/* tolerate clients' clock skew */
#define ISSUE_RSA_MIN_BITS	2048
#define ISSUE_EKU_MAX		256

/* Kinds of subjectAltName a profile lets through from the CSR. */
#define ISSUE_SAN_DNS		(1 << 0)
#define ISSUE_SAN_IP		(1 << 1)
#define ISSUE_SAN_EMAIL		(1 << 2)
#define ISSUE_SAN_URI		(1 << 3)
#define ISSUE_SAN_ALL		(ISSUE_SAN_DNS | ISSUE_SAN_IP | \
				 ISSUE_SAN_EMAIL | ISSUE_SAN_URI)

struct issue_profile {
	int		 validity_days;
	unsigned	 key_usage;	/* KU_* bits of <openssl/x509v3.h> */
	char		 ext_key_usage[ISSUE_EKU_MAX];	/* "clientAuth,..." */
	unsigned	 san_types;	/* ISSUE_SAN_* */
	X509_NAME	*subject_suffix; /* set: suffix + the CSR's CN */
};

/*
 * The default profile: validity_days, digitalSignature and
 * keyEncipherment, clientAuth, every SAN kind, the CSR's subject.
 */
void	 issue_profile_default(struct issue_profile *pf, int validity_days);
void	 issue_profile_clear(struct issue_profile *pf);
/* Names a keyUsage bit ("digitalSignature"), or 0 if unknown. */
unsigned issue_key_usage_bit(const char *name);

/*
 * Checks that the CSR's key and names can be certified at all.  -1,
 * with a reason in why, if not.
 */
int	 issue_check_request(const X509_REQ *csr, char *why, size_t whylen);
/* The subject the profile gives a certificate for csr (caller frees). */
X509_NAME *issue_subject_new(const X509_REQ *csr,
	    const struct issue_profile *pf);
/*
 * Builds the unsigned certificate for csr: the subject (see
 * issue_subject_new) and public key from the CSR, subjectAltName
 * entries of the profile's kinds copied from its extensionRequest,
 * everything else from the profile.  keyEncipherment and
 * dataEncipherment are left out for keys that cannot encrypt.
 * Validity ends no later than the CA certificate's.  The caller signs
 * it and owns it.
 */
X509	*issue_cert_new(const X509_REQ *csr, X509 *ca_cert,
	    const ASN1_INTEGER *serial, const struct issue_profile *pf,
	    time_t now);

#endif
