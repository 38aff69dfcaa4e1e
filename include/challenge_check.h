/*
 * Checking the challenge a policy rule requires, whatever its kind:
 * a static secret, a one-time password (used up here), an HMAC of the
 * subject, or a webhook's answer.
 */
#ifndef SCEPD_CHALLENGE_CHECK_H
#define SCEPD_CHALLENGE_CHECK_H

#include <stddef.h>

struct challenge_gate;
struct policy_challenge;
struct policy_request;
struct store;

struct challenge_check {
	const struct policy_challenge	*c;
	const char			*challenge;	/* from the CSR */
	size_t				 len;
	const char			*txid;
	const char			*client;
	const char			*rule;
	const struct policy_request	*req;
	struct store			*store;
	struct challenge_gate		*gate;		/* scrypt bound, or NULL */
	int				 dry_run;	/* explain: use nothing up,
							   call no webhook */
};

enum challenge_result {
	CHALLENGE_OK,
	CHALLENGE_REFUSED,	/* why says; never the challenge itself */
	CHALLENGE_ERROR,	/* could not be checked (store failure) */
	CHALLENGE_BUSY,		/* not checked: no room to hash it now */
};

enum challenge_result challenge_check(const struct challenge_check *cc,
		    char *why, size_t whylen);

#endif
