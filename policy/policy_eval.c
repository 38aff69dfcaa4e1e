/*
 * Policy evaluation: rules in order, the first whose conditions all
 * hold decides.  Pure: no I/O but the view's read-only count, so every
 * path can be covered by unit tests.
 */
#include <sys/socket.h>

#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

const char *
policy_action_name(enum policy_action action)
{
	switch (action) {
	case POLICY_ISSUE:
		return "issue";
	case POLICY_PENDING:
		return "pending";
	case POLICY_REJECT:
	default:
		return "reject";
	}
}

const char *
policy_challenge_kind_name(enum policy_challenge_kind kind)
{
	switch (kind) {
	case POLICY_CHALLENGE_STATIC:
		return "static";
	case POLICY_CHALLENGE_OTP:
		return "otp";
	case POLICY_CHALLENGE_HMAC:
		return "hmac";
	case POLICY_CHALLENGE_WEBHOOK:
	default:
		return "webhook";
	}
}

static void
policy_trace(char *trace, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
policy_trace(char *trace, size_t len, const char *fmt, ...)
{
	va_list	ap;
	size_t	used;

	if (trace == NULL || (used = strlen(trace)) + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(trace + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Every name of a kind (DNS, email, URI) must match one of the rule's
 * patterns, and there must be one.
 */
static int
policy_names_ok(char *const *patterns, size_t n_patterns,
    char *const *names, size_t n_names, const char *kind, char *why,
    size_t whylen)
{
	size_t	i, j;

	if (n_names == 0) {
		snprintf(why, whylen, "no %s subjectAltName", kind);
		return 0;
	}
	for (i = 0; i < n_names; i++) {
		for (j = 0; j < n_patterns; j++)
			if (fnmatch(patterns[j], names[i], FNM_CASEFOLD) == 0)
				break;
		if (j == n_patterns) {
			snprintf(why, whylen, "%s name %s is not allowed", kind,
			    names[i]);
			return 0;
		}
	}
	return 1;
}

static int
policy_addr_in(const struct policy_cidr *c, size_t n,
    const struct policy_addr *a)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (policy_cidr_contains(&c[i], a))
			return 1;
	return 0;
}

static int
policy_ip_ok(const struct policy_rule *r, const struct policy_request *q,
    char *why, size_t whylen)
{
	size_t	i;

	if (q->n_san_ip == 0) {
		snprintf(why, whylen, "no IP subjectAltName");
		return 0;
	}
	for (i = 0; i < q->n_san_ip; i++)
		if (!policy_addr_in(r->san_ip, r->n_san_ip, &q->san_ip[i])) {
			snprintf(why, whylen, "an IP subjectAltName is not "
			    "allowed");
			return 0;
		}
	return 1;
}

static int
policy_key_ok(const struct policy_rule *r, const struct policy_request *q,
    char *why, size_t whylen)
{
	const char	*type = q->key_type == POLICY_KEY_RSA ? "RSA" : "EC";

	if (r->key_types != 0 && (r->key_types & q->key_type) == 0) {
		snprintf(why, whylen, "%s keys are not allowed", type);
		return 0;
	}
	if (q->key_type == POLICY_KEY_RSA && q->key_bits < r->min_rsa_bits) {
		snprintf(why, whylen, "RSA key of %d bits, %d needed",
		    q->key_bits, r->min_rsa_bits);
		return 0;
	}
	if (q->key_type == POLICY_KEY_EC && q->key_bits < r->min_ec_bits) {
		snprintf(why, whylen, "EC key of %d bits, %d needed",
		    q->key_bits, r->min_ec_bits);
		return 0;
	}
	return 1;
}

/* Whether r's conditions hold for q; why says the first that fails. */
static int
policy_rule_matches(const struct policy_rule *r,
    const struct policy_request *q, char *why, size_t whylen)
{
	if (r->has_subject && regexec(&r->subject, q->subject, 0, NULL,
	    0) != 0) {
		snprintf(why, whylen, "subject \"%s\" does not match %s",
		    q->subject, r->subject_text);
		return 0;
	}
	if (r->n_san_dns > 0 && !policy_names_ok(r->san_dns, r->n_san_dns,
	    q->san_dns, q->n_san_dns, "DNS", why, whylen))
		return 0;
	if (r->n_san_email > 0 && !policy_names_ok(r->san_email,
	    r->n_san_email, q->san_email, q->n_san_email, "email", why,
	    whylen))
		return 0;
	if (r->n_san_uri > 0 && !policy_names_ok(r->san_uri, r->n_san_uri,
	    q->san_uri, q->n_san_uri, "URI", why, whylen))
		return 0;
	if (r->n_san_ip > 0 && !policy_ip_ok(r, q, why, whylen))
		return 0;
	if (!policy_key_ok(r, q, why, whylen))
		return 0;
	if (r->request == POLICY_REQUEST_INITIAL && q->renewal) {
		snprintf(why, whylen, "a renewal, the rule is for initial "
		    "enrollments");
		return 0;
	}
	if (r->request == POLICY_REQUEST_RENEWAL && !q->renewal) {
		snprintf(why, whylen, "an initial enrollment, the rule is "
		    "for renewals");
		return 0;
	}
	if (r->n_clients > 0 && (!q->has_client ||
	    !policy_addr_in(r->clients, r->n_clients, &q->client))) {
		snprintf(why, whylen, "client address not allowed");
		return 0;
	}
	return 1;
}

void
policy_match(const struct policy *pol, const struct policy_request *q,
    size_t from, struct policy_decision *d, char *trace, size_t tracelen)
{
	const struct policy_rule	*r;
	char				 why[POLICY_REASON_MAX];
	size_t				 i;

	memset(d, 0, sizeof(*d));
	d->action = POLICY_REJECT;
	for (i = from; i < pol->n_rules; i++) {
		r = &pol->rules[i];
		if (!policy_rule_matches(r, q, why, sizeof(why))) {
			policy_trace(trace, tracelen, "rule %s (line %d): no: "
			    "%s\n", r->name, r->line, why);
			continue;
		}
		d->rule = r;
		policy_trace(trace, tracelen, "rule %s (line %d): matches\n",
		    r->name, r->line);
		return;
	}
	snprintf(d->reason, sizeof(d->reason), "no rule matches");
}

int
policy_decide(const struct policy_view *view, struct policy_decision *d)
{
	const struct policy_rule	*r = d->rule;
	int				 n;

	d->action = POLICY_REJECT;
	if (r == NULL)
		return 0;
	if (r->action == POLICY_REJECT) {
		snprintf(d->reason, sizeof(d->reason), "%s",
		    r->reject_reason ? r->reject_reason : "rejected by policy");
		return 0;
	}
	if (r->max_active > 0) {
		if ((n = view->active_count(view->arg,
		    &r->profile->issue)) < 0) {
			snprintf(d->reason, sizeof(d->reason), "the store "
			    "could not be consulted");
			return -1;
		}
		if (n >= r->max_active) {
			snprintf(d->reason, sizeof(d->reason), "the subject "
			    "has %d valid certificate(s), the limit is %d", n,
			    r->max_active);
			return 0;
		}
	}
	d->action = r->action;
	snprintf(d->reason, sizeof(d->reason), "%s by rule %s",
	    r->action == POLICY_ISSUE ? "issued" : "held for an operator",
	    r->name);
	return 0;
}

int
policy_evaluate(const struct policy *pol, const struct policy_request *q,
    const struct policy_view *view, struct policy_decision *d,
    char *trace, size_t tracelen)
{
	policy_match(pol, q, 0, d, trace, tracelen);
	return policy_decide(view, d);
}
