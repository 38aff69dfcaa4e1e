/*
 * One entry point for every challenge kind.  Refusals say why in words
 * safe for a log line and a failInfoText: which check failed, never
 * what was presented.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "challenge.h"
#include "challenge_check.h"
#include "log.h"
#include "policy.h"
#include "store.h"
#include "webhook.h"

/* Whether subject matches an OTP's pattern (a bad pattern matches none). */
static int
challenge_otp_subject_ok(const char *pattern, const char *subject)
{
	regex_t	re;
	int	r;

	if (pattern == NULL)
		return 1;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	r = regexec(&re, subject, 0, NULL, 0);
	regfree(&re);
	return r == 0;
}

static enum challenge_result
challenge_check_otp(const struct challenge_check *cc, char *why,
    size_t whylen)
{
	struct store_otp	 otp;
	char			 hash[65];
	time_t			 now = time(NULL);
	int			 r;
	enum challenge_result	 res = CHALLENGE_REFUSED;

	if (challenge_otp_hash(cc->challenge, cc->len, hash) == -1)
		return CHALLENGE_ERROR;
	if ((r = store_otp_find(cc->store, hash, &otp)) == -1)
		return CHALLENGE_ERROR;
	if (r == 1) {
		snprintf(why, whylen, "unknown one-time password");
		return CHALLENGE_REFUSED;
	}
	if (otp.revoked_at != 0)
		snprintf(why, whylen, "one-time password %lld was revoked",
		    otp.id);
	else if (otp.expires_at <= now)
		snprintf(why, whylen, "one-time password %lld has expired",
		    otp.id);
	else if (otp.used_at != 0 && (otp.used_txid == NULL ||
	    strcmp(otp.used_txid, cc->txid) != 0))
		snprintf(why, whylen, "one-time password %lld was already "
		    "used", otp.id);
	else if (!challenge_otp_subject_ok(otp.subject_pattern,
	    cc->req->subject))
		snprintf(why, whylen, "one-time password %lld is bound to "
		    "other subjects", otp.id);
	else if (cc->dry_run) {
		snprintf(why, whylen, "one-time password %lld is valid",
		    otp.id);
		res = CHALLENGE_OK;
	} else if ((r = store_otp_consume(cc->store, otp.id, cc->txid,
	    now)) == 0) {
		snprintf(why, whylen, "one-time password %lld used", otp.id);
		res = CHALLENGE_OK;
	} else if (r == 1)
		/* Another request used it between our read and now. */
		snprintf(why, whylen, "one-time password %lld was already "
		    "used", otp.id);
	else
		res = CHALLENGE_ERROR;
	store_otp_clear(&otp);
	return res;
}

static enum challenge_result
challenge_check_hmac(const struct challenge_check *cc, char *why,
    size_t whylen)
{
	char	want[CHALLENGE_HMAC_HEX + 1];
	int	same;

	if (challenge_hmac_derive(cc->c->hmac_key, cc->c->hmac_key_len,
	    cc->req->subject, want) == -1)
		return CHALLENGE_ERROR;
	same = cc->len == CHALLENGE_HMAC_HEX &&
	    CRYPTO_memcmp(want, cc->challenge, CHALLENGE_HMAC_HEX) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (!same) {
		snprintf(why, whylen, "wrong challenge password for this "
		    "subject");
		return CHALLENGE_REFUSED;
	}
	return CHALLENGE_OK;
}

static enum challenge_result
challenge_check_webhook(const struct challenge_check *cc, char *why,
    size_t whylen)
{
	struct webhook_query	q = { cc->txid, cc->challenge, cc->client,
				    cc->rule, cc->req };

	if (cc->dry_run) {
		snprintf(why, whylen, "webhook %s is not called by explain",
		    cc->c->url ? cc->c->url : cc->c->command[0]);
		return CHALLENGE_OK;
	}
	switch (webhook_ask(cc->c, &q, why, whylen)) {
	case WEBHOOK_ALLOW:
		return CHALLENGE_OK;
	case WEBHOOK_DENY:
		return CHALLENGE_REFUSED;
	case WEBHOOK_ERROR:
	default:
		log_warnx("txid=%s %s: %s", cc->txid, cc->c->allow_on_error ?
		    "allowing (on_error = allow)" : "refusing (on_error = "
		    "deny)", why);
		return cc->c->allow_on_error ? CHALLENGE_OK :
		    CHALLENGE_REFUSED;
	}
}

enum challenge_result
challenge_check(const struct challenge_check *cc, char *why, size_t whylen)
{
	*why = '\0';
	if (cc->challenge == NULL &&
	    cc->c->kind != POLICY_CHALLENGE_WEBHOOK) {
		snprintf(why, whylen, "the request has no challenge password");
		return CHALLENGE_REFUSED;
	}
	if (cc->challenge != NULL && cc->len > CHALLENGE_MAX_LEN) {
		snprintf(why, whylen, "the challenge password is too long");
		return CHALLENGE_REFUSED;
	}
	switch (cc->c->kind) {
	case POLICY_CHALLENGE_STATIC:
		switch (challenge_verifier_check(cc->c->verifier,
		    cc->challenge, cc->len, cc->gate,
		    cc->client != NULL ? cc->client : "")) {
		case 0:
			return CHALLENGE_OK;
		case CHALLENGE_VERIFY_BUSY:
			snprintf(why, whylen, "too many challenge checks at "
			    "once");
			return CHALLENGE_BUSY;
		default:
			snprintf(why, whylen, "wrong challenge password");
			return CHALLENGE_REFUSED;
		}
	case POLICY_CHALLENGE_OTP:
		return challenge_check_otp(cc, why, whylen);
	case POLICY_CHALLENGE_HMAC:
		return challenge_check_hmac(cc, why, whylen);
	case POLICY_CHALLENGE_WEBHOOK:
	default:
		return challenge_check_webhook(cc, why, whylen);
	}
}
