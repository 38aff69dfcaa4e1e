/*
 * Start-up of the SCEP service and the two read-only operations,
 * GetCACaps and GetCACert, whose answers are computed once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "alg.h"
#include "audit.h"
#include "challenge.h"
#include "config.h"
#include "files.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "scep.h"
#include "service.h"
#include "signer.h"
#include "store.h"

#define SERVICE_CAPS_MAX	256

/* A policy and the requests still using it. */
struct service_policy {
	struct policy	*pol;
	int		 refs;
	int		 retired;	/* replaced: freed at refs == 0 */
};

static struct service_policy *
service_policy_load(const char *path)
{
	struct service_policy	*sp;
	char			 err[1024];

	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	if ((sp->pol = policy_load(path, err, sizeof(err))) == NULL) {
		log_error("policy refused: %s", err);
		free(sp);
		return NULL;
	}
	log_info("policy %s: %zu rule(s), %zu challenge(s), %zu profile(s)",
	    sp->pol->path, sp->pol->n_rules, sp->pol->n_challenges,
	    sp->pol->n_profiles);
	return sp;
}

static void
service_policy_free(struct service_policy *sp)
{
	if (sp == NULL)
		return;
	policy_free(sp->pol);
	free(sp);
}

const struct policy *
service_policy_get(struct service *svc, struct service_policy **ref)
{
	pthread_mutex_lock(&svc->policy_mutex);
	*ref = svc->policy;
	svc->policy->refs++;
	pthread_mutex_unlock(&svc->policy_mutex);
	return (*ref)->pol;
}

void
service_policy_put(struct service *svc, struct service_policy *ref)
{
	int	last;

	if (ref == NULL)
		return;
	pthread_mutex_lock(&svc->policy_mutex);
	last = --ref->refs == 0 && ref->retired;
	pthread_mutex_unlock(&svc->policy_mutex);
	if (last)
		service_policy_free(ref);
}

int
service_policy_reload(struct service *svc)
{
	struct service_policy	*sp, *old;
	int			 last;

	if ((sp = service_policy_load(svc->cfg->policy_file)) == NULL) {
		log_warnx("keeping the policy in force");
		return -1;
	}
	pthread_mutex_lock(&svc->policy_mutex);
	old = svc->policy;
	svc->policy = sp;
	old->retired = 1;
	last = old->refs == 0;
	pthread_mutex_unlock(&svc->policy_mutex);
	if (last)
		service_policy_free(old);
	log_info("policy reloaded");
	return 0;
}

/* RFC 8894 3.5.2: one capability per line, only what we support. */
static char *
service_caps_new(const struct scepd_config *cfg)
{
	char	buf[SERVICE_CAPS_MAX];
	size_t	n = 0;
	int	aes;

	aes = (cfg->ciphers & (ALG_CIPHER_AES128 | ALG_CIPHER_AES192 |
	    ALG_CIPHER_AES256)) != 0;
	buf[0] = '\0';
#define CAP(name)	n += (size_t)snprintf(buf + n, sizeof(buf) - n, \
			    "%s\n", name)
	if (aes)
		CAP("AES");
	if (cfg->ciphers & ALG_CIPHER_DES3)
		CAP("DES3");
	CAP("POSTPKIOperation");
	CAP("Renewal");
	if (cfg->digests & ALG_DIGEST_SHA1)
		CAP("SHA-1");
	if (cfg->digests & ALG_DIGEST_SHA256)
		CAP("SHA-256");
	if (cfg->digests & ALG_DIGEST_SHA512)
		CAP("SHA-512");
	/* SCEPStandard promises AES, POSTPKIOperation and SHA-256. */
	if (aes && (cfg->digests & ALG_DIGEST_SHA256))
		CAP("SCEPStandard");
#undef CAP
	return strdup(buf);
}

static int
service_cacert_init(struct service *svc)
{
	STACK_OF(X509)	*certs;
	int		 rc = -1;

	if ((certs = sk_X509_new_null()) == NULL ||
	    sk_X509_push(certs, svc->ca_cert) <= 0 ||
	    sk_X509_push(certs, svc->ra_cert) <= 0) {
		log_ssl("%s", __func__);
		goto out;
	}
	rc = scep_certs_only_der(certs, &svc->cacert_der, &svc->cacert_len);
 out:
	sk_X509_free(certs);
	return rc;
}

/* Single DES lives in OpenSSL 3's legacy provider: load it only then. */
static int
service_providers_init(struct service *svc)
{
	if ((svc->cfg->ciphers & ALG_CIPHER_DES) == 0)
		return 0;
	if ((svc->legacy = OSSL_PROVIDER_load(NULL, "legacy")) == NULL ||
	    (svc->deflt = OSSL_PROVIDER_load(NULL, "default")) == NULL) {
		log_ssl("algorithms.legacy_des needs OpenSSL's legacy "
		    "provider");
		return -1;
	}
	log_warnx("single DES requests are accepted "
	    "(algorithms.legacy_des); responses use 3DES or AES");
	return 0;
}

struct service *
service_new(const struct scepd_config *cfg)
{
	struct service	*svc;
	int		 n;

	if ((svc = calloc(1, sizeof(*svc))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	svc->cfg = cfg;
	pthread_mutex_init(&svc->policy_mutex, NULL);
	if (scep_init() == -1 || service_providers_init(svc) == -1)
		goto fail;
	if ((svc->policy = service_policy_load(cfg->policy_file)) == NULL ||
	    (svc->audit = audit_open(cfg->audit_log)) == NULL)
		goto fail;
	if ((svc->ca_cert = files_read_cert(cfg->ca_cert_file)) == NULL ||
	    (svc->ra_cert = files_read_cert(cfg->ra_cert_file)) == NULL)
		goto fail;
	if (X509_check_issued(svc->ca_cert, svc->ra_cert) != X509_V_OK) {
		log_error("%s was not issued by %s", cfg->ra_cert_file,
		    cfg->ca_cert_file);
		goto fail;
	}
	if ((svc->caps = service_caps_new(cfg)) == NULL ||
	    service_cacert_init(svc) == -1)
		goto fail;
	if ((svc->challenge_gate = challenge_gate_new(
	    cfg->limits.challenge_hashes, CHALLENGE_GATE_WAIT)) == NULL ||
	    (svc->client_failures = ratelimit_new(cfg->limits.client_failures,
	    cfg->limits.failure_window)) == NULL ||
	    (svc->malformed = ratelimit_new(cfg->limits.malformed_events,
	    cfg->limits.failure_window)) == NULL)
		goto fail;
	if ((svc->signer = signer_new(&cfg->hsm, svc->ca_cert,
	    svc->ra_cert)) == NULL || signer_check_keys(svc->signer) == -1)
		goto fail;
	if ((svc->store = store_open(cfg->db_path)) == NULL)
		goto fail;
	if ((n = store_recover(svc->store)) == -1)
		goto fail;
	if (n > 0)
		log_warnx("%d transaction(s) interrupted by the last shutdown "
		    "marked failed; clients will retry", n);
	return svc;
 fail:
	service_free(svc);
	return NULL;
}

void
service_free(struct service *svc)
{
	if (svc == NULL)
		return;
	store_close(svc->store);
	signer_free(svc->signer);
	X509_free(svc->ca_cert);
	X509_free(svc->ra_cert);
	service_policy_free(svc->policy);
	audit_close(svc->audit);
	pthread_mutex_destroy(&svc->policy_mutex);
	free(svc->caps);
	OPENSSL_free(svc->cacert_der);
	challenge_gate_free(svc->challenge_gate);
	ratelimit_free(svc->client_failures);
	ratelimit_free(svc->malformed);
	if (svc->legacy != NULL)
		OSSL_PROVIDER_unload(svc->legacy);
	if (svc->deflt != NULL)
		OSSL_PROVIDER_unload(svc->deflt);
	free(svc);
}

static void
service_body(struct service_response *r, unsigned int status,
    const char *type, const void *body, size_t len)
{
	r->http_status = status;
	r->content_type = type;
	r->body_len = 0;
	if ((r->body = malloc(len > 0 ? len : 1)) == NULL) {
		r->http_status = 500;
		r->content_type = "text/plain";
		return;
	}
	memcpy(r->body, body, len);
	r->body_len = len;
}

void
service_text(struct service_response *r, unsigned int status,
    const char *text)
{
	char	buf[512];
	int	n;

	n = snprintf(buf, sizeof(buf), "%s\n", text);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	service_body(r, status, "text/plain; charset=utf-8", buf, (size_t)n);
}

void
service_response_clear(struct service_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void
service_getcacaps(struct service *svc, struct service_response *r)
{
	service_body(r, 200, "text/plain", svc->caps, strlen(svc->caps));
}

void
service_getcacert(struct service *svc, struct service_response *r)
{
	service_body(r, 200, "application/x-x509-ca-ra-cert",
	    svc->cacert_der, svc->cacert_len);
}
