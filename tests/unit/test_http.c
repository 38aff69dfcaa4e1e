/*
 * The HTTP front, driven by libcurl against a stand-in for the SCEP
 * service: routing, body limits, PKIOperation by GET decoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "service.h"
#include "testutil.h"

#define MAX_BODY	4096

/* What the stand-in service last received. */
static unsigned char	 got[MAX_BODY * 2];
static size_t		 got_len;
static int		 got_calls;
static char		 got_client[64];

static void
fake_body(struct service_response *r, unsigned int status,
    const char *type, const void *body, size_t len)
{
	r->http_status = status;
	r->content_type = type;
	r->body = malloc(len + 1);
	memcpy(r->body, body, len);
	r->body_len = len;
}

void
service_getcacaps(struct service *svc, struct service_response *r)
{
	(void)svc;
	fake_body(r, 200, "text/plain", "AES\nSHA-256\n", 12);
}

void
service_getcacert(struct service *svc, struct service_response *r)
{
	(void)svc;
	fake_body(r, 200, "application/x-x509-ca-ra-cert", "\x30\x00", 2);
}

void
service_pkioperation(struct service *svc, const unsigned char *der,
    size_t len, const char *client, struct service_response *r)
{
	(void)svc;
	got_calls++;
	got_len = len < sizeof(got) ? len : sizeof(got);
	memcpy(got, der, got_len);
	snprintf(got_client, sizeof(got_client), "%s", client);
	fake_body(r, 200, "application/x-pki-message", der, len);
}

void
service_text(struct service_response *r, unsigned int status,
    const char *text)
{
	fake_body(r, status, "text/plain", text, strlen(text));
}

void
service_response_clear(struct service_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

struct reply {
	long	status;
	char	body[MAX_BODY * 3];
	size_t	len;
	char	type[128];
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct reply	*rp = arg;
	size_t		 len = size * n;

	if (rp->len + len < sizeof(rp->body)) {
		memcpy(rp->body + rp->len, data, len);
		rp->len += len;
		rp->body[rp->len] = '\0';
	}
	return len;
}

struct server {
	struct http_server	*hs;
	unsigned int		 port;
};

static int
setup(void **state)
{
	static struct server	srv;

	log_init("test_http", LOG_LEVEL_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv.hs = http_start(NULL, "127.0.0.1:0", 2, MAX_BODY);
	if (srv.hs == NULL)
		return -1;
	srv.port = http_bound_port(srv.hs);
	*state = &srv;
	return 0;
}

static int
teardown(void **state)
{
	struct server	*srv = *state;

	http_stop(srv->hs);
	curl_global_cleanup();
	return 0;
}

/* Sends one request; body NULL means GET. chunked: no Content-Length. */
static void
request(struct server *srv, const char *method, const char *query,
    const void *body, size_t len, int chunked, struct reply *rp)
{
	CURL			*c = curl_easy_init();
	struct curl_slist	*hdrs = NULL;
	char			 url[8192];
	char			*ct = NULL;

	memset(rp, 0, sizeof(*rp));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/scep%s", srv->port,
	    query);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rp);
	if (method != NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		if (chunked)
			hdrs = curl_slist_append(hdrs,
			    "Transfer-Encoding: chunked");
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/x-pki-message");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rp->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct != NULL)
		snprintf(rp->type, sizeof(rp->type), "%s", ct);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

static void
test_http_routes_get_ca_caps(void **state)
{
	struct reply	rp;

	request(*state, NULL, "?operation=GetCACaps", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 200);
	assert_string_equal(rp.body, "AES\nSHA-256\n");
	assert_string_equal(rp.type, "text/plain");
}

static void
test_http_routes_get_ca_cert_on_any_path(void **state)
{
	struct server	*srv = *state;
	struct reply	 rp;
	CURL		*c = curl_easy_init();
	char		 url[128];

	memset(&rp, 0, sizeof(rp));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/cgi-bin/pkiclient.exe"
	    "?operation=GetCACert&message=anything", srv->port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rp);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rp.status);
	curl_easy_cleanup(c);
	assert_int_equal(rp.status, 200);
	assert_int_equal(rp.len, 2);
}

static void
test_http_refuses_missing_and_unknown_operations(void **state)
{
	struct reply	rp;

	request(*state, NULL, "", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 400);
	request(*state, NULL, "?operation=GetCRLPlease", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 400);
	request(*state, NULL, "?operation=GetNextCACert", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 404);
}

static void
test_http_refuses_other_methods(void **state)
{
	struct reply	rp;

	request(*state, "PUT", "?operation=PKIOperation", "x", 1, 0, &rp);
	assert_int_equal(rp.status, 405);
	request(*state, "DELETE", "?operation=GetCACaps", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 405);
}

static void
test_http_delivers_post_body_intact(void **state)
{
	struct reply	rp;
	unsigned char	body[MAX_BODY];
	size_t		i;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(i * 7);
	got_calls = 0;
	request(*state, NULL, "?operation=PKIOperation", body, sizeof(body), 0,
	    &rp);
	assert_int_equal(rp.status, 200);
	assert_int_equal(got_calls, 1);
	assert_int_equal(got_len, sizeof(body));
	assert_memory_equal(got, body, sizeof(body));
	assert_string_equal(got_client, "127.0.0.1");
	assert_string_equal(rp.type, "application/x-pki-message");
}

static void
test_http_refuses_oversized_post_by_content_length(void **state)
{
	struct reply	 rp;
	unsigned char	*body = calloc(1, MAX_BODY + 1);

	got_calls = 0;
	request(*state, NULL, "?operation=PKIOperation", body, MAX_BODY + 1, 0,
	    &rp);
	assert_int_equal(rp.status, 413);
	assert_int_equal(got_calls, 0);
	free(body);
}

static void
test_http_refuses_oversized_chunked_post(void **state)
{
	struct reply	 rp;
	unsigned char	*body = calloc(1, MAX_BODY * 2);

	got_calls = 0;
	request(*state, NULL, "?operation=PKIOperation", body, MAX_BODY * 2, 1,
	    &rp);
	assert_int_equal(rp.status, 413);
	assert_int_equal(got_calls, 0);
	free(body);
}

static void
test_http_refuses_empty_post(void **state)
{
	struct reply	rp;

	got_calls = 0;
	request(*state, NULL, "?operation=PKIOperation", "", 0, 0, &rp);
	assert_int_equal(rp.status, 400);
	assert_int_equal(got_calls, 0);
}

static void
test_http_decodes_get_message_leniently(void **state)
{
	struct reply	rp;

	/* "+/+/vwEC" three ways: escaped, raw '+', wrapped with %0A. */
	request(*state, NULL, "?operation=PKIOperation&message=%2B%2F%2B%2FvwEC",
	    NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 200);
	assert_int_equal(got_len, 6);
	assert_memory_equal(got, "\xfb\xff\xbf\xbf\x01\x02", 6);
	memset(got, 0, sizeof(got));
	request(*state, NULL, "?operation=PKIOperation&message=+/+/vwEC",
	    NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 200);
	assert_int_equal(got_len, 6);
	assert_memory_equal(got, "\xfb\xff\xbf\xbf\x01\x02", 6);
	request(*state, NULL, "?operation=PKIOperation&message=%2B%2F%2B%2F"
	    "%0D%0AvwEC%0A", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 200);
	assert_memory_equal(got, "\xfb\xff\xbf\xbf\x01\x02", 6);
}

static void
test_http_refuses_bad_get_messages(void **state)
{
	struct reply	 rp;
	char		*q;
	size_t		 n = MAX_BODY * 2;

	got_calls = 0;
	request(*state, NULL, "?operation=PKIOperation", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 400);
	request(*state, NULL, "?operation=PKIOperation&message=%21%21%21%21",
	    NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 400);
	q = malloc(n + 64);
	strcpy(q, "?operation=PKIOperation&message=");
	memset(q + strlen(q), 'A', n);
	q[32 + n] = '\0';
	request(*state, NULL, q, NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 413);
	free(q);
	assert_int_equal(got_calls, 0);
}

static void
test_http_keeps_serving_after_bad_requests(void **state)
{
	struct reply	rp;

	request(*state, NULL, "?operation=PKIOperation", "", 0, 0, &rp);
	request(*state, "PATCH", "?operation=x", "y", 1, 0, &rp);
	request(*state, NULL, "?operation=GetCACaps", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_routes_get_ca_caps),
		cmocka_unit_test(test_http_routes_get_ca_cert_on_any_path),
		cmocka_unit_test(
		    test_http_refuses_missing_and_unknown_operations),
		cmocka_unit_test(test_http_refuses_other_methods),
		cmocka_unit_test(test_http_delivers_post_body_intact),
		cmocka_unit_test(
		    test_http_refuses_oversized_post_by_content_length),
		cmocka_unit_test(test_http_refuses_oversized_chunked_post),
		cmocka_unit_test(test_http_refuses_empty_post),
		cmocka_unit_test(test_http_decodes_get_message_leniently),
		cmocka_unit_test(test_http_refuses_bad_get_messages),
		cmocka_unit_test(test_http_keeps_serving_after_bad_requests),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
