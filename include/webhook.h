/*
 * The webhook challenge: ask an external service (an HTTP POST of a
 * JSON document, or a command reading it on standard input) whether a
 * request may go on.
 */
#ifndef SCEPD_WEBHOOK_H
#define SCEPD_WEBHOOK_H

#include <stddef.h>

struct policy_challenge;
struct policy_request;

#define WEBHOOK_RESPONSE_MAX	65536

enum webhook_answer {
	WEBHOOK_ALLOW,
	WEBHOOK_DENY,
	WEBHOOK_ERROR,		/* no usable answer: on_error decides */
};

struct webhook_query {
	const char			*txid;
	const char			*challenge;	/* may be NULL */
	const char			*client;
	const char			*rule;
	const struct policy_request	*req;
};

/*
 * Asks.  why gets the service's reason, or what went wrong.  Call
 * curl_global_init() once at start-up before using the URL form.
 */
enum webhook_answer webhook_ask(const struct policy_challenge *c,
		    const struct webhook_query *q, char *why, size_t whylen);
/* The JSON document sent, for tests and `policy explain` (free()). */
char		*webhook_document_new(const struct webhook_query *q);

#endif
