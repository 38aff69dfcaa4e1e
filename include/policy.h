/*
 * The policy engine: for every enrollment, before anything is signed,
 * decide to issue (with which profile), hold for an operator, or
 * reject, and say which rule decided and why.
 *
 * A policy is read from a libconfig file (policy_load) and is then
 * immutable; scepd swaps in a new one on SIGHUP.  Evaluation is pure:
 * a request and a read-only view of the store in, a decision out.
 * Checking the challenge the matching rule requires (consuming an OTP,
 * calling a webhook) is the caller's job: see challenge_check.h.
 */
#ifndef SCEPD_POLICY_H
#define SCEPD_POLICY_H

#include <regex.h>
#include <stddef.h>
#include <time.h>

#include "issue.h"

#define POLICY_NAME_MAX		64
#define POLICY_REASON_MAX	256
#define POLICY_DEFAULT_PENDING_EXPIRY	(7 * 86400)

enum policy_action {
	POLICY_ISSUE,
	POLICY_PENDING,
	POLICY_REJECT,
};

enum policy_challenge_kind {
	POLICY_CHALLENGE_STATIC,	/* a shared secret, scrypt-hashed */
	POLICY_CHALLENGE_OTP,		/* one-time passwords (scepctl otp) */
	POLICY_CHALLENGE_HMAC,		/* HMAC(secret, subject) */
	POLICY_CHALLENGE_WEBHOOK,	/* an external service decides */
};

enum policy_request_kind {
	POLICY_REQUEST_ANY,
	POLICY_REQUEST_INITIAL,
	POLICY_REQUEST_RENEWAL,
};

#define POLICY_KEY_RSA	(1 << 0)
#define POLICY_KEY_EC	(1 << 1)

struct challenge_verifier;

/* An IPv4 or IPv6 address (family AF_INET or AF_INET6). */
struct policy_addr {
	int		family;
	unsigned char	addr[16];
};

struct policy_cidr {
	struct policy_addr	net;
	int			prefix;
};

struct policy_challenge {
	char				 name[POLICY_NAME_MAX];
	enum policy_challenge_kind	 kind;
	struct challenge_verifier	*verifier;	/* static */
	unsigned char			*hmac_key;	/* hmac */
	size_t				 hmac_key_len;
	char				*url;		/* webhook by HTTP */
	char				**command;	/* or argv to run */
	int				 timeout;	/* webhook, seconds */
	int				 allow_on_error; /* fail open */
};

struct policy_profile {
	char			name[POLICY_NAME_MAX];
	struct issue_profile	issue;
};

struct policy_rule {
	char				 name[POLICY_NAME_MAX];
	int				 line;
	/* Match: every condition given must hold. */
	int				 has_subject;
	regex_t				 subject;
	char				*subject_text;
	char				**san_dns;	/* fnmatch patterns */
	size_t				 n_san_dns;
	char				**san_email;	/* fnmatch patterns */
	size_t				 n_san_email;
	char				**san_uri;	/* fnmatch patterns */
	size_t				 n_san_uri;
	struct policy_cidr		*san_ip;
	size_t				 n_san_ip;
	unsigned			 key_types;	/* 0: any */
	int				 min_rsa_bits;
	int				 min_ec_bits;
	enum policy_request_kind	 request;
	struct policy_cidr		*clients;
	size_t				 n_clients;
	/* Then: the challenge required (NULL: none) and the action. */
	const struct policy_challenge	*challenge;
	enum policy_action		 action;
	const struct policy_profile	*profile;	/* issue and pending */
	char				*reject_reason;
	int				 max_active;	/* 0: no limit */
	/* A missing or wrong challenge goes on to the next rule. */
	int				 fall_through;
};

struct policy {
	char			*path;
	struct policy_challenge	*challenges;
	size_t			 n_challenges;
	struct policy_profile	*profiles;
	size_t			 n_profiles;
	struct policy_rule	*rules;
	size_t			 n_rules;
	long			 pending_expiry;	/* seconds */
};

/* What the engine is told about a request. */
struct policy_request {
	const char			*subject;	/* RFC 2253 */
	char				**san_dns;
	size_t				 n_san_dns;
	char				**san_email;
	size_t				 n_san_email;
	char				**san_uri;
	size_t				 n_san_uri;
	struct policy_addr		*san_ip;
	size_t				 n_san_ip;
	unsigned			 key_type;	/* POLICY_KEY_* */
	int				 key_bits;
	int				 renewal;
	int				 has_client;
	struct policy_addr		 client;
};

/*
 * The read-only view of the store the engine may consult.  arg knows
 * the request; active_count returns how many valid certificates the
 * subject the profile would give it already has (leaving out the one
 * being renewed), or -1 on error.
 */
struct policy_view {
	int	(*active_count)(void *arg, const struct issue_profile *pf);
	void	*arg;
};

struct policy_decision {
	enum policy_action		 action;
	const struct policy_rule	*rule;		/* NULL: none matched */
	char				 reason[POLICY_REASON_MAX];
};

/*
 * Reads and checks a policy file.  On failure returns NULL with
 * "file:line: reason" in err.
 */
struct policy	*policy_load(const char *path, char *err, size_t errlen);
void		 policy_free(struct policy *pol);
const struct policy_challenge *policy_challenge_find(const struct policy *pol,
		    const char *name);
const struct policy_profile *policy_profile_find(const struct policy *pol,
		    const char *name);

/*
 * Deciding is two steps, so that the caller can check the challenge
 * the matching rule requires between them: before the rule's action
 * or limit says anything, a client without the challenge learns
 * nothing about the subject.
 *
 * policy_match() finds the first rule from rules[from] on whose
 * conditions hold (d->rule, NULL if none, the decision a rejection).
 * When trace is not NULL, one line per rule considered is appended to
 * it (for `scepctl policy explain`).
 */
void		 policy_match(const struct policy *pol,
		    const struct policy_request *req, size_t from,
		    struct policy_decision *d, char *trace, size_t tracelen);
/*
 * policy_decide() completes the decision of the rule policy_match()
 * found: its action, unless its limit is reached.  Returns -1 only if
 * the view failed; the decision is then a rejection.
 */
int		 policy_decide(const struct policy_view *view,
		    struct policy_decision *d);
/* Both steps, for a request whose challenge is not in question. */
int		 policy_evaluate(const struct policy *pol,
		    const struct policy_request *req,
		    const struct policy_view *view, struct policy_decision *d,
		    char *trace, size_t tracelen);
const char	*policy_action_name(enum policy_action action);
const char	*policy_challenge_kind_name(enum policy_challenge_kind kind);

/*
 * Fills req from a CSR and its RFC 2253 subject (borrowed): every
 * subjectAltName of a kind a certificate can carry (DNS, IP, email,
 * URI), so that the policy judges what issuance copies.  The names are
 * owned by req.  -1 (logged) if out of memory or key unsupported.
 */
int		 policy_request_from_csr(struct policy_request *req,
		    const X509_REQ *csr, const char *subject);
void		 policy_request_clear(struct policy_request *req);
/* Parses "10.0.0.0/8", "2001:db8::/32" or an address; -1 if bad. */
int		 policy_cidr_parse(const char *text, struct policy_cidr *c);
int		 policy_cidr_contains(const struct policy_cidr *c,
		    const struct policy_addr *a);
/* Parses "90s", "30m", "12h", "7d" or plain seconds; -1 if bad. */
long		 policy_duration_parse(const char *text);

#endif
