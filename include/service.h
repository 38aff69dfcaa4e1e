/*
 * The SCEP operations, independent of HTTP: what GetCACaps,
 * GetCACert and PKIOperation answer.  A service is set up once at
 * start-up; each call below handles one request and keeps no state
 * about it once it returns.
 */
#ifndef SCEPD_SERVICE_H
#define SCEPD_SERVICE_H

#include <pthread.h>
#include <stddef.h>

#include <openssl/types.h>
#include <openssl/x509.h>

struct audit;
struct challenge_gate;
struct policy;
struct ratelimit;
struct scepd_config;
struct service_policy;
struct signer;
struct store;

struct service {
	const struct scepd_config	*cfg;
	struct signer			*signer;
	struct store			*store;
	X509				*ca_cert;
	X509				*ra_cert;
	struct audit			*audit;
	pthread_mutex_t			 policy_mutex;
	struct service_policy		*policy;	/* the one in force */
	char				*caps;		/* GetCACaps body */
	unsigned char			*cacert_der;	/* GetCACert body */
	size_t				 cacert_len;
	OSSL_PROVIDER			*legacy;	/* single DES, if enabled */
	OSSL_PROVIDER			*deflt;
	/* What unauthenticated clients may cost (cfg->limits). */
	struct challenge_gate		*challenge_gate;
	struct ratelimit		*client_failures;
	struct ratelimit		*malformed;
};

struct service_response {
	unsigned int	 http_status;
	int		 retry_after;	/* seconds, for 429 and 503; 0: none */
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

/*
 * The policy in force, held until service_policy_put() so that a
 * reload cannot free it under a request.
 */
const struct policy *service_policy_get(struct service *svc,
		    struct service_policy **ref);
void		 service_policy_put(struct service *svc,
		    struct service_policy *ref);
/*
 * Reads the policy file again and puts it in force; an invalid file is
 * refused (logged) and the old policy stays.  -1 if refused.
 */
int		 service_policy_reload(struct service *svc);

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
