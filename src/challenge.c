/*
 * Salted scrypt hashes for challenge passwords (OpenSSL's KDF).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "challenge.h"
#include "encode.h"
#include "log.h"

#define CHALLENGE_LOG_N		15	/* N = 2^15: 32 MiB, tens of ms */
#define CHALLENGE_R		8
#define CHALLENGE_P		1
#define CHALLENGE_SALT_LEN	16
#define CHALLENGE_HASH_LEN	32
#define CHALLENGE_MAXMEM	(256UL * 1024 * 1024)
#define CHALLENGE_PREFIX	"$scrypt$"

struct challenge_params {
	int		ln, r, p;
	unsigned char	salt[CHALLENGE_SALT_LEN];
	unsigned char	hash[CHALLENGE_HASH_LEN];
};

static int
challenge_derive(const struct challenge_params *cp, const char *secret,
    size_t len, unsigned char *out)
{
	if (EVP_PBE_scrypt(secret, len, cp->salt, sizeof(cp->salt),
	    (uint64_t)1 << cp->ln, (uint64_t)cp->r, (uint64_t)cp->p,
	    CHALLENGE_MAXMEM, out, CHALLENGE_HASH_LEN) != 1) {
		log_ssl("%s: EVP_PBE_scrypt", __func__);
		return -1;
	}
	return 0;
}

/* Decodes a base64 field that must be exactly want bytes long. */
static int
challenge_field(const char *b64, size_t b64len, unsigned char *out,
    size_t want)
{
	unsigned char	*raw;
	size_t		 len;
	int		 rc = -1;

	if ((raw = encode_base64_decode_new(b64, b64len, &len)) == NULL)
		return -1;
	if (len == want) {
		memcpy(out, raw, want);
		rc = 0;
	}
	free(raw);
	return rc;
}

static int
challenge_parse(const char *hash, struct challenge_params *cp)
{
	const char	*p, *salt, *sep;
	int		 n = 0;

	if (strncmp(hash, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) != 0)
		return -1;
	p = hash + strlen(CHALLENGE_PREFIX);
	if (sscanf(p, "ln=%d,r=%d,p=%d$%n", &cp->ln, &cp->r, &cp->p,
	    &n) != 3 || n == 0)
		return -1;
	if (cp->ln < 10 || cp->ln > 20 || cp->r < 1 || cp->r > 32 ||
	    cp->p < 1 || cp->p > 16)
		return -1;
	/* What EVP_PBE_scrypt() will need: refuse what it cannot do. */
	if (128ULL * (uint64_t)cp->r * (((uint64_t)1 << cp->ln) + 2 +
	    (uint64_t)cp->p) > CHALLENGE_MAXMEM)
		return -1;
	salt = p + n;
	if ((sep = strchr(salt, '$')) == NULL)
		return -1;
	if (challenge_field(salt, (size_t)(sep - salt), cp->salt,
	    sizeof(cp->salt)) == -1 ||
	    challenge_field(sep + 1, strlen(sep + 1), cp->hash,
	    sizeof(cp->hash)) == -1)
		return -1;
	return 0;
}

char *
challenge_hash_new(const char *secret, size_t len)
{
	struct challenge_params	 cp = { CHALLENGE_LOG_N, CHALLENGE_R,
				    CHALLENGE_P, { 0 }, { 0 } };
	char			*salt64 = NULL, *hash64 = NULL, *out = NULL;

	if (RAND_bytes(cp.salt, sizeof(cp.salt)) != 1) {
		log_ssl("%s: RAND_bytes", __func__);
		goto out;
	}
	if (challenge_derive(&cp, secret, len, cp.hash) == -1)
		goto out;
	if ((salt64 = encode_base64_new(cp.salt, sizeof(cp.salt))) == NULL ||
	    (hash64 = encode_base64_new(cp.hash, sizeof(cp.hash))) == NULL)
		goto out;
	if (asprintf(&out, CHALLENGE_PREFIX "ln=%d,r=%d,p=%d$%s$%s", cp.ln,
	    cp.r, cp.p, salt64, hash64) == -1)
		out = NULL;
 out:
	OPENSSL_cleanse(&cp, sizeof(cp));
	free(salt64);
	free(hash64);
	return out;
}

int
challenge_hash_check(const char *hash)
{
	struct challenge_params	cp;

	return challenge_parse(hash, &cp);
}

int
challenge_verify(const char *hash, const char *candidate, size_t len)
{
	struct challenge_params	cp;
	unsigned char		got[CHALLENGE_HASH_LEN];
	int			rc = -1;

	if (challenge_parse(hash, &cp) == -1) {
		log_error("%s: malformed challenge hash", __func__);
		return -1;
	}
	if (challenge_derive(&cp, candidate, len, got) == -1)
		goto out;
	if (CRYPTO_memcmp(got, cp.hash, sizeof(got)) == 0)
		rc = 0;
 out:
	OPENSSL_cleanse(got, sizeof(got));
	return rc;
}

#define CHALLENGE_MAC_LEN	32

struct challenge_verifier {
	char		*hash;
	unsigned char	 key[32];		/* random, this process only */
	unsigned char	 known[CHALLENGE_MAC_LEN];	/* HMAC of a match */
	int		 have_known;
	pthread_mutex_t	 mutex;
};

struct challenge_verifier *
challenge_verifier_new(const char *hash)
{
	struct challenge_verifier	*cv;

	if (challenge_hash_check(hash) == -1) {
		log_error("%s: malformed challenge hash", __func__);
		return NULL;
	}
	if ((cv = calloc(1, sizeof(*cv))) == NULL ||
	    (cv->hash = strdup(hash)) == NULL ||
	    RAND_bytes(cv->key, sizeof(cv->key)) != 1) {
		log_ssl("%s", __func__);
		if (cv != NULL)
			free(cv->hash);
		free(cv);
		return NULL;
	}
	pthread_mutex_init(&cv->mutex, NULL);
	return cv;
}

void
challenge_verifier_free(struct challenge_verifier *cv)
{
	if (cv == NULL)
		return;
	pthread_mutex_destroy(&cv->mutex);
	free(cv->hash);
	OPENSSL_cleanse(cv, sizeof(*cv));
	free(cv);
}

/* Who holds each place: one scrypt at a time per client address. */
#define CHALLENGE_GATE_WHO	64

struct challenge_gate {
	pthread_mutex_t	  mutex;
	pthread_cond_t	  freed;	/* a place was given back */
	int		  max;
	int		  wait;		/* seconds to wait for a place */
	char		(*who)[CHALLENGE_GATE_WHO];	/* max places, "" free */
};

struct challenge_gate *
challenge_gate_new(int max, int wait)
{
	struct challenge_gate	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (max > 0 && (g->who = calloc((size_t)max,
	    sizeof(*g->who))) == NULL)) {
		free(g);
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	pthread_mutex_init(&g->mutex, NULL);
	pthread_cond_init(&g->freed, NULL);
	g->max = max;
	g->wait = wait;
	return g;
}

void
challenge_gate_free(struct challenge_gate *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->mutex);
	pthread_cond_destroy(&g->freed);
	free(g->who);
	free(g);
}

int
challenge_gate_enter(struct challenge_gate *g, const char *who,
    const struct timespec *deadline)
{
	int	i, place = -1;

	pthread_mutex_lock(&g->mutex);
	for (i = 0; i < g->max; i++) {
		if (g->who[i][0] == '\0') {
			if (place == -1)
				place = i;
		} else if (strncmp(g->who[i], who,
		    CHALLENGE_GATE_WHO - 1) == 0) {
			place = -1;
			break;
		}
	}
	if (place != -1)
		snprintf(g->who[place], CHALLENGE_GATE_WHO, "%s",
		    *who != '\0' ? who : "?");
	else if (deadline != NULL)
		/* Found full and waited on under one lock: no lost wakeup. */
		place = pthread_cond_timedwait(&g->freed, &g->mutex,
		    deadline) == 0 ? CHALLENGE_GATE_AGAIN : -1;
	pthread_mutex_unlock(&g->mutex);
	return place;
}

void
challenge_gate_leave(struct challenge_gate *g, int place)
{
	pthread_mutex_lock(&g->mutex);
	g->who[place][0] = '\0';
	pthread_cond_broadcast(&g->freed);
	pthread_mutex_unlock(&g->mutex);
}

int
challenge_verifier_check(struct challenge_verifier *cv,
    const char *candidate, size_t len, struct challenge_gate *gate,
    const char *who)
{
	unsigned char	mac[CHALLENGE_MAC_LEN];
	unsigned int	maclen = sizeof(mac);
	struct timespec	deadline;
	int		hit, r, place = -1;

	if (HMAC(EVP_sha256(), cv->key, sizeof(cv->key),
	    (const unsigned char *)candidate, len, mac, &maclen) == NULL) {
		log_ssl("%s: HMAC", __func__);
		return -1;
	}
	if (gate != NULL) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += gate->wait;
	}
	/*
	 * While waiting for a place, another request may prove the same
	 * candidate (clients behind one address enrolling at once): look
	 * at the remembered match again each time a place comes free.
	 */
	for (;;) {
		pthread_mutex_lock(&cv->mutex);
		hit = cv->have_known && CRYPTO_memcmp(mac, cv->known,
		    sizeof(mac)) == 0;
		pthread_mutex_unlock(&cv->mutex);
		if (hit)
			return 0;
		if (gate == NULL || (place = challenge_gate_enter(gate, who,
		    &deadline)) >= 0)
			break;
		if (place == -1)
			return CHALLENGE_VERIFY_BUSY;
	}
	r = challenge_verify(cv->hash, candidate, len);
	if (gate != NULL)
		challenge_gate_leave(gate, place);
	if (r == -1)
		return -1;
	pthread_mutex_lock(&cv->mutex);
	memcpy(cv->known, mac, sizeof(mac));
	cv->have_known = 1;
	pthread_mutex_unlock(&cv->mutex);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
challenge_hmac_derive(const unsigned char *key, size_t keylen,
    const char *subject, char *out)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	len = sizeof(mac);

	if (HMAC(EVP_sha256(), key, (int)keylen,
	    (const unsigned char *)subject, strlen(subject), mac,
	    &len) == NULL) {
		log_ssl("%s", __func__);
		return -1;
	}
	encode_hex(mac, CHALLENGE_HMAC_HEX / 2, out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
challenge_otp_new(char *out)
{
	unsigned char	raw[CHALLENGE_OTP_HEX / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		log_ssl("%s", __func__);
		return -1;
	}
	encode_hex(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/*
 * A plain SHA-256 suffices: an OTP has 128 random bits, so there is
 * nothing for a slow hash to protect against.
 */
int
challenge_otp_hash(const char *otp, size_t len, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;

	if (EVP_Digest(otp, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		log_ssl("%s", __func__);
		return -1;
	}
	encode_hex(md, mdlen, out);
	return 0;
}
