/*
 * The webhook's answer: what src/webhook.c makes of the HTTP reply
 * body ({"allow": true|false, "reason": "..."}).  The reader,
 * webhook_parse(), is static; the narrowest public entry is
 * webhook_ask() with a URL challenge, so the input goes in there and
 * libcurl's easy interface is replaced, in this program only, by a
 * transport that answers from the input: no socket, no thread.  The
 * real body collection (webhook_collect(), its size cap, chunking) and
 * the status check run as with a real server.
 *
 *   h[0] bits 0-1  transport: 200, 200, another status, a curl error
 *        bits 2-3  that status: 500, 404, 204, 302
 *   h[1]           bytes per write callback (0: the whole body at once)
 *   the rest       the reply body
 */
#define CURL_DISABLE_TYPECHECK 1

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fuzz.h"
#include "policy.h"
#include "webhook.h"

#undef curl_easy_setopt
#undef curl_easy_getinfo

#define FUZZ_WEBHOOK_HEADER	2

struct fuzz_curl {
	curl_write_callback	 write;
	void			*write_data;
};

/* The reply the next curl_easy_perform() receives. */
static struct {
	const uint8_t	*body;
	size_t		 len;
	size_t		 chunk;
	CURLcode	 result;
	long		 status;
} fuzz_reply;

CURL *
curl_easy_init(void)
{
	return calloc(1, sizeof(struct fuzz_curl));
}

void
curl_easy_cleanup(CURL *curl)
{
	free(curl);
}

CURLcode
curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	struct fuzz_curl	*fc = curl;
	va_list			 ap;

	va_start(ap, option);
	if (option == CURLOPT_WRITEFUNCTION)
		fc->write = va_arg(ap, curl_write_callback);
	else if (option == CURLOPT_WRITEDATA)
		fc->write_data = va_arg(ap, void *);
	va_end(ap);
	return CURLE_OK;
}

CURLcode
curl_easy_perform(CURL *curl)
{
	struct fuzz_curl	*fc = curl;
	size_t			 off, n;

	if (fuzz_reply.result != CURLE_OK)
		return fuzz_reply.result;
	for (off = 0; off < fuzz_reply.len; off += n) {
		n = fuzz_reply.len - off;
		if (fuzz_reply.chunk > 0 && n > fuzz_reply.chunk)
			n = fuzz_reply.chunk;
		/* libcurl's buffer is writable; the callback may not care. */
		if (fc->write((char *)(uintptr_t)(fuzz_reply.body +
		    off), 1, n, fc->write_data) != n)
			return CURLE_WRITE_ERROR;
	}
	return CURLE_OK;
}

CURLcode
curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list	 ap;
	long	*status;

	(void)curl;
	va_start(ap, info);
	if (info == CURLINFO_RESPONSE_CODE) {
		status = va_arg(ap, long *);
		*status = fuzz_reply.status;
	}
	va_end(ap);
	return CURLE_OK;
}

const char *
curl_easy_strerror(CURLcode code)
{
	return code == CURLE_OK ? "no error" : "simulated transport error";
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *data)
{
	struct curl_slist	*item, *last;

	if ((item = calloc(1, sizeof(*item))) == NULL)
		return NULL;
	if ((item->data = strdup(data)) == NULL) {
		free(item);
		return NULL;
	}
	if (list == NULL)
		return item;
	for (last = list; last->next != NULL; last = last->next)
		;
	last->next = item;
	return list;
}

void
curl_slist_free_all(struct curl_slist *list)
{
	struct curl_slist	*next;

	for (; list != NULL; list = next) {
		next = list->next;
		free(list->data);
		free(list);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_util_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[4] = { 500, 404, 204, 302 };
	static char url[] = "http://webhook.invalid/check";
	static char *dns[] = { "rtr-1.net.example.com" };
	struct policy_challenge	 c;
	struct policy_request	 req;
	struct webhook_query	 q;
	char			 why[POLICY_REASON_MAX];

	if (size < FUZZ_WEBHOOK_HEADER)
		return 0;
	fuzz_reply.body = data + FUZZ_WEBHOOK_HEADER;
	fuzz_reply.len = size - FUZZ_WEBHOOK_HEADER;
	fuzz_reply.chunk = data[1];
	fuzz_reply.result = (data[0] & 3) == 3 ?
	    CURLE_OPERATION_TIMEDOUT : CURLE_OK;
	fuzz_reply.status = (data[0] & 3) == 2 ?
	    statuses[(data[0] >> 2) & 3] : 200;
	memset(&c, 0, sizeof(c));
	c.kind = POLICY_CHALLENGE_WEBHOOK;
	c.url = url;
	c.timeout = 5;
	memset(&req, 0, sizeof(req));
	req.subject = "CN=rtr-1,O=Example";
	req.san_dns = dns;
	req.n_san_dns = 1;
	req.key_type = POLICY_KEY_RSA;
	req.key_bits = 2048;
	memset(&q, 0, sizeof(q));
	q.txid = "fuzz-webhook";
	q.challenge = "secret";
	q.client = "192.0.2.7";
	q.rule = "inventory";
	q.req = &req;
	(void)webhook_ask(&c, &q, why, sizeof(why));
	return 0;
}
