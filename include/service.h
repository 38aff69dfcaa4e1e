/*
 * The SCEP operations, independent of HTTP: what GetCACaps,
 * GetCACert and PKIOperation answer.  A service is set up once at
 * start-up; each call below handles one request and keeps no state
 * about it once it returns.
 */
#ifndef SCEPD_SERVICE_H
#define SCEPD_SERVICE_H

#include <stddef.h>

#include <openssl/types.h>
#include <openssl/x509.h>

struct challenge_verifier;
struct scepd_config;
struct signer;
struct store;

struct service {
	const struct scepd_config	*cfg;
	struct signer			*signer;
	struct store			*store;
	X509				*ca_cert;
	X509				*ra_cert;
	struct challenge_verifier	*challenge;
	char				*caps;		/* GetCACaps body */
	unsigned char			*cacert_der;	/* GetCACert body */
	size_t				 cacert_len;
	OSSL_PROVIDER			*legacy;	/* single DES, if enabled */
	OSSL_PROVIDER			*deflt;
};

struct service_response {
	unsigned int	 http_status;
	const char	*content_type;
	unsigned char	*body;		/* malloc'd, freed by the caller */
	size_t		 body_len;
};

/*
 * Loads the certificates, the PKCS#11 module and the database, checks
 * the keys in the token against the certificates.  NULL on failure
 * (logged).
 */
struct service	*service_new(const struct scepd_config *cfg);
void		 service_free(struct service *svc);

void	service_getcacaps(struct service *svc, struct service_response *r);
void	service_getcacert(struct service *svc, struct service_response *r);
/* der is the pkiMessage; client the peer address, for the record. */
void	service_pkioperation(struct service *svc, const unsigned char *der,
	    size_t len, const char *client, struct service_response *r);
/* A short text answer: 4xx/5xx errors. */
void	service_text(struct service_response *r, unsigned int status,
	    const char *text);
void	service_response_clear(struct service_response *r);

#endif
