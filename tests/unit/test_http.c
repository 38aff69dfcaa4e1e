/*
 * The HTTP front, driven by libcurl and by raw sockets against a
 * stand-in for the SCEP service: routing, PKIOperation by GET
 * decoding, and every bound (body and header size, request deadline,
 * idle timeout, connections in all and per client address, the
 * PKIOperation queue, stopping).  A second client address is a socket
 * bound to 127.0.0.2.  Every wait is for a condition, bounded by
 * T_WAIT_SECONDS; no test asserts a timing.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "service.h"
#include "testutil.h"

#define MAX_BODY	4096
#define T_WAIT_SECONDS	20	/* the longest any condition is awaited */
#define T_TICK_MS	200
#define T_OTHER_CLIENT	"127.0.0.2"
#define T_HOLD		"HOLD"	/* a body the stand-in sits on ... */
#define T_HOLD_SECONDS	60	/* ... until released, or this long */

/* Bodies starting with T_HOLD wait in the stand-in until released. */
static pthread_mutex_t	 hold_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 hold_cond = PTHREAD_COND_INITIALIZER;
static int		 hold_entered;
static int		 hold_released;

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
	struct timespec	until;

	(void)svc;
	if (len >= strlen(T_HOLD) && memcmp(der, T_HOLD, strlen(T_HOLD)) ==
	    0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += T_HOLD_SECONDS;
		pthread_mutex_lock(&hold_mutex);
		hold_entered++;
		pthread_cond_broadcast(&hold_cond);
		while (!hold_released && pthread_cond_timedwait(&hold_cond,
		    &hold_mutex, &until) == 0)
			;
		pthread_mutex_unlock(&hold_mutex);
	}
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

/* Generous bounds, as scepd.conf's defaults are, for the tests below. */
static struct http_limits
test_limits(void)
{
	struct http_limits	lim;

	memset(&lim, 0, sizeof(lim));
	lim.workers = 2;
	lim.queue_length = 8;
	lim.max_body = MAX_BODY;
	lim.max_header = 32768;
	lim.max_connections = 64;
	lim.max_connections_per_client = 16;
	lim.request_timeout = 30;
	lim.idle_timeout = 30;
	return lim;
}

static struct server *
server_start(const struct http_limits *lim)
{
	struct server	*srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	if ((srv->hs = http_start(NULL, "127.0.0.1:0", lim)) == NULL) {
		free(srv);
		return NULL;
	}
	srv->port = http_bound_port(srv->hs);
	pthread_mutex_lock(&hold_mutex);
	hold_entered = 0;
	hold_released = 0;
	pthread_mutex_unlock(&hold_mutex);
	return srv;
}

static void
server_stop(struct server *srv)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&hold_mutex);
	hold_released = 1;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_mutex);
	http_stop(srv->hs);	/* NULL if the test stopped it */
	free(srv);
}

static int
setup(void **state)
{
	struct http_limits	lim = test_limits();

	log_init("test_http", LOG_LEVEL_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return (*state = server_start(&lim)) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	server_stop(*state);
	curl_global_cleanup();
	return 0;
}

/* Per-test servers with one bound made small. */
static int
setup_with(void **state, struct http_limits lim)
{
	return (*state = server_start(&lim)) == NULL ? -1 : 0;
}

static int
teardown_own(void **state)
{
	server_stop(*state);
	return 0;
}

static int
setup_short_deadline(void **state)
{
	struct http_limits	lim = test_limits();

	lim.request_timeout = 2;
	return setup_with(state, lim);
}

static int
setup_short_idle(void **state)
{
	struct http_limits	lim = test_limits();

	lim.idle_timeout = 1;
	lim.request_timeout = 60;
	return setup_with(state, lim);
}

static int
setup_two_per_client(void **state)
{
	struct http_limits	lim = test_limits();

	lim.max_connections_per_client = 2;
	return setup_with(state, lim);
}

static int
setup_three_in_all(void **state)
{
	struct http_limits	lim = test_limits();

	lim.max_connections = 3;
	return setup_with(state, lim);
}

static int
setup_small_header(void **state)
{
	struct http_limits	lim = test_limits();

	lim.max_header = 4096;
	return setup_with(state, lim);
}

static int
setup_one_worker(void **state)
{
	struct http_limits	lim = test_limits();

	lim.workers = 1;
	lim.queue_length = 1;
	return setup_with(state, lim);
}

static int
setup_two_workers(void **state)
{
	struct http_limits	lim = test_limits();

	lim.workers = 2;
	return setup_with(state, lim);
}

static int
setup_one_worker_long_queue(void **state)
{
	struct http_limits	lim = test_limits();

	lim.workers = 1;
	lim.queue_length = 4;
	return setup_with(state, lim);
}

/* Waits (bounded) until n requests sit in the stand-in. */
static void
hold_wait_entered(int n)
{
	struct timespec	until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += T_WAIT_SECONDS;
	pthread_mutex_lock(&hold_mutex);
	while (hold_entered < n && pthread_cond_timedwait(&hold_cond,
	    &hold_mutex, &until) == 0)
		;
	assert_int_equal(hold_entered, n);
	pthread_mutex_unlock(&hold_mutex);
}

static void
hold_release(void)
{
	pthread_mutex_lock(&hold_mutex);
	hold_released = 1;
	pthread_cond_broadcast(&hold_cond);
	pthread_mutex_unlock(&hold_mutex);
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connected socket to the server, from the address from (or any). */
static int
raw_connect(struct server *srv, const char *from)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (from != NULL) {
		assert_int_equal(inet_pton(AF_INET, from, &sin.sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	}
	sin.sin_port = htons((uint16_t)srv->port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return fd;
}

/* Sends what it can; a peer that has closed is not an error here. */
static void
raw_send(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 w;

	while (len > 0) {
		if ((w = send(fd, p, len, MSG_NOSIGNAL)) <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static void
raw_send_str(int fd, const char *s)
{
	raw_send(fd, s, strlen(s));
}

/*
 * Reads into answer (NUL-terminated) until the server closes, or
 * T_WAIT_SECONDS pass.  Returns 1 if it closed (EOF or reset).
 */
static int
raw_wait_closed(int fd, char *answer, size_t alen)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	long long	end = now_ms() + T_WAIT_SECONDS * 1000LL;
	size_t		have = 0;
	char		buf[4096];
	ssize_t		r;

	if (answer != NULL)
		answer[0] = '\0';
	while (now_ms() < end) {
		if (poll(&pfd, 1, T_TICK_MS) <= 0)
			continue;
		if ((r = recv(fd, buf, sizeof(buf), 0)) <= 0)
			return 1;
		if (answer != NULL && have + 1 < alen) {
			if ((size_t)r > alen - 1 - have)
				r = (ssize_t)(alen - 1 - have);
			memcpy(answer + have, buf, (size_t)r);
			have += (size_t)r;
			answer[have] = '\0';
		}
	}
	return 0;
}

/* The status code of a raw answer; 0 if there is none. */
static int
raw_status(const char *answer)
{
	int	code;

	return sscanf(answer, "HTTP/1.%*1d %3d", &code) == 1 ? code : 0;
}

/* A raw answer's status, read until the server closes (bounded). */
static int
raw_answer(int fd, char *answer, size_t alen)
{
	(void)raw_wait_closed(fd, answer, alen);
	return raw_status(answer);
}

/* A complete GetCACaps request that asks to close afterwards. */
#define RAW_CACAPS	"GET /scep?operation=GetCACaps HTTP/1.1\r\n" \
			"Host: t\r\nConnection: close\r\n\r\n"

/* A PKIOperation POST of body, with Content-Length. */
static void
raw_post(int fd, const char *body)
{
	char	head[256];

	snprintf(head, sizeof(head), "POST /scep?operation=PKIOperation "
	    "HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-pki-message"
	    "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    strlen(body));
	raw_send_str(fd, head);
	raw_send_str(fd, body);
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

static void
test_http_refuses_chunked_body_over_the_cap_without_reading_the_rest(
    void **state)
{
	static char	 frame[16384 + 16];
	const size_t	 total = 64 * 1024 * 1024, chunk = 16384;
	struct server	*srv = *state;
	struct pollfd	 pfd;
	char		 answer[1024] = "";
	size_t		 sent = 0, flen, foff = 0, have = 0;
	long long	 end = now_ms() + T_WAIT_SECONDS * 1000LL;
	int		 fd, closed = 0, reset = 0;
	ssize_t		 r;

	got_calls = 0;
	fd = raw_connect(srv, NULL);
	raw_send_str(fd, "POST /scep?operation=PKIOperation HTTP/1.1\r\n"
	    "Host: t\r\nTransfer-Encoding: chunked\r\n\r\n");
	flen = (size_t)snprintf(frame, 16, "%zx\r\n", chunk);
	memset(frame + flen, 'x', chunk);
	memcpy(frame + flen + chunk, "\r\n", 2);
	flen += chunk + 2;
	/* Send until the server answers or closes, or all of it is sent. */
	while (!closed && !reset && sent < total && now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		if (poll(&pfd, 1, T_TICK_MS) <= 0)
			continue;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(fd, answer + have, sizeof(answer) - 1 - have,
			    MSG_DONTWAIT);
			if (r <= 0 && !(r < 0 && errno == EAGAIN))
				closed = 1;
			else if (r > 0) {
				have += (size_t)r;
				answer[have] = '\0';
			}
			continue;
		}
		r = send(fd, frame + foff, flen - foff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && errno != EAGAIN)
			reset = 1;	/* the answer may still be queued */
		else if (r > 0) {
			sent += (size_t)r;
			foff = (foff + (size_t)r) % flen;
		}
	}
	if (!closed)
		closed = raw_wait_closed(fd, answer + have,
		    sizeof(answer) - have);
	close(fd);
	assert_int_equal(raw_status(answer), 413);
	assert_true(closed);
	/* The server stopped reading: most of the body was never sent. */
	assert_true(sent < total / 2);
	assert_int_equal(got_calls, 0);
}

static void
test_http_cuts_off_a_request_trickled_past_the_deadline(void **state)
{
	const char	*head = "GET /scep?operation=GetCACaps HTTP/1.1\r\n"
			    "Host: t\r\nX-Slow: ";
	struct server	*srv = *state;
	struct pollfd	 pfd;
	long long	 end = now_ms() + T_WAIT_SECONDS * 1000LL;
	size_t		 i = 0;
	int		 fd, closed = 0;
	char		 c;

	/* One byte a tick, never idle: only the deadline ends it. */
	fd = raw_connect(srv, NULL);
	while (!closed && now_ms() < end) {
		c = head[i] != '\0' ? head[i++] : 'a';
		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
			closed = 1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, T_TICK_MS) > 0 && recv(fd, &c, 1, 0) <= 0)
			closed = 1;
	}
	close(fd);
	assert_true(closed);
}

static void
test_http_cuts_off_a_body_trickled_past_the_deadline(void **state)
{
	struct server	*srv = *state;
	struct pollfd	 pfd;
	long long	 end = now_ms() + T_WAIT_SECONDS * 1000LL;
	int		 fd, closed = 0;
	char		 c = 'x';

	got_calls = 0;
	fd = raw_connect(srv, NULL);
	raw_send_str(fd, "POST /scep?operation=PKIOperation HTTP/1.1\r\n"
	    "Host: t\r\nContent-Length: 4000\r\n\r\n");
	while (!closed && now_ms() < end) {
		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
			closed = 1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, T_TICK_MS) > 0 && recv(fd, &c, 1, 0) <= 0)
			closed = 1;
		c = 'x';
	}
	close(fd);
	assert_true(closed);
	assert_int_equal(got_calls, 0);
}

static void
test_http_closes_an_idle_connection(void **state)
{
	int	fd;

	fd = raw_connect(*state, NULL);
	assert_true(raw_wait_closed(fd, NULL, 0));
	close(fd);
}

static void
test_http_refuses_a_client_over_its_connection_limit_and_serves_others(
    void **state)
{
	struct server	*srv = *state;
	struct reply	 rp;
	char		 answer[1024];
	int		 a, b, c;

	a = raw_connect(srv, T_OTHER_CLIENT);
	b = raw_connect(srv, T_OTHER_CLIENT);
	/* The third from the same address is closed unanswered. */
	c = raw_connect(srv, T_OTHER_CLIENT);
	raw_send_str(c, RAW_CACAPS);
	assert_true(raw_wait_closed(c, answer, sizeof(answer)));
	assert_int_equal(raw_status(answer), 0);
	close(c);
	/* Another address is served meanwhile, and so are the first two. */
	request(srv, NULL, "?operation=GetCACaps", NULL, 0, 0, &rp);
	assert_int_equal(rp.status, 200);
	raw_send_str(a, RAW_CACAPS);
	assert_int_equal(raw_answer(a, answer, sizeof(answer)), 200);
	raw_send_str(b, RAW_CACAPS);
	assert_int_equal(raw_answer(b, answer, sizeof(answer)), 200);
	close(a);
	close(b);
}

static void
test_http_refuses_connections_over_the_total_limit(void **state)
{
	struct server	*srv = *state;
	char		 answer[1024];
	long long	 end;
	int		 held[3], fd, i, status = 0;

	for (i = 0; i < 3; i++)
		held[i] = raw_connect(srv, T_OTHER_CLIENT);
	fd = raw_connect(srv, NULL);
	raw_send_str(fd, RAW_CACAPS);
	assert_true(raw_wait_closed(fd, answer, sizeof(answer)));
	assert_int_equal(raw_status(answer), 0);
	close(fd);
	/* Once one closes, there is room again. */
	close(held[0]);
	end = now_ms() + T_WAIT_SECONDS * 1000LL;
	while (status == 0 && now_ms() < end) {
		fd = raw_connect(srv, NULL);
		raw_send_str(fd, RAW_CACAPS);
		status = raw_answer(fd, answer, sizeof(answer));
		close(fd);
	}
	assert_int_equal(status, 200);
	close(held[1]);
	close(held[2]);
}

/* A GetCACaps with one header of n bytes: its status. */
static int
big_header_status(struct server *srv, size_t n)
{
	static const char	 head[] = "GET /scep?operation=GetCACaps "
				    "HTTP/1.1\r\nHost: t\r\nX-Big: ";
	static const char	 tail[] = "\r\nConnection: close\r\n\r\n";
	char			*req, answer[1024];
	size_t			 hl = sizeof(head) - 1;
	int			 fd, status;

	req = malloc(hl + n + sizeof(tail));
	assert_non_null(req);
	memcpy(req, head, hl);
	memset(req + hl, 'a', n);
	memcpy(req + hl + n, tail, sizeof(tail));
	fd = raw_connect(srv, NULL);
	raw_send_str(fd, req);
	status = raw_answer(fd, answer, sizeof(answer));
	close(fd);
	free(req);
	return status;
}

static void
test_http_refuses_oversized_headers(void **state)
{
	struct server	*srv = *state;

	assert_int_equal(big_header_status(srv, 1000), 200);
	assert_int_equal(big_header_status(srv, 8192), 431);
	assert_int_equal(big_header_status(srv, 65536), 431);
	assert_int_equal(big_header_status(srv, 1000), 200);
}

static void
test_http_answers_503_when_the_queue_is_full(void **state)
{
	struct server	*srv = *state;
	struct pollfd	 pfd[2];
	char		 answer[2][1024];
	long long	 end = now_ms() + T_WAIT_SECONDS * 1000LL;
	int		 a, b[2], i, first = -1;

	a = raw_connect(srv, NULL);
	raw_post(a, T_HOLD "-a");
	hold_wait_entered(1);
	/* One worker busy, room for one more: one of these two is refused. */
	for (i = 0; i < 2; i++) {
		b[i] = raw_connect(srv, NULL);
		raw_post(b[i], T_HOLD "-b");
	}
	while (first == -1 && now_ms() < end) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = b[i];
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, 2, T_TICK_MS) <= 0)
			continue;
		first = (pfd[0].revents != 0) ? 0 : 1;
	}
	assert_true(first != -1);
	assert_int_equal(raw_answer(b[first], answer[0], sizeof(answer[0])),
	    503);
	assert_non_null(strstr(answer[0], "Retry-After:"));
	hold_release();
	assert_int_equal(raw_answer(b[1 - first], answer[1],
	    sizeof(answer[1])), 200);
	assert_int_equal(raw_answer(a, answer[0], sizeof(answer[0])), 200);
	for (i = 0; i < 2; i++)
		close(b[i]);
	close(a);
}

static void
test_http_slow_pkioperations_do_not_delay_get_ca_caps(void **state)
{
	struct server	*srv = *state;
	char		 answer[1024];
	int		 a, b, fd;

	/* As many slow PKIOperations as there are workers. */
	a = raw_connect(srv, NULL);
	raw_post(a, T_HOLD "-a");
	b = raw_connect(srv, NULL);
	raw_post(b, T_HOLD "-b");
	hold_wait_entered(2);
	fd = raw_connect(srv, NULL);
	raw_send_str(fd, RAW_CACAPS);
	assert_int_equal(raw_answer(fd, answer, sizeof(answer)), 200);
	close(fd);
	hold_release();
	assert_int_equal(raw_answer(a, answer, sizeof(answer)), 200);
	assert_int_equal(raw_answer(b, answer, sizeof(answer)), 200);
	close(a);
	close(b);
}

static void *
stop_thread(void *arg)
{
	http_stop(arg);
	return NULL;
}

static void
test_http_stop_finishes_in_flight_and_refuses_queued_with_503(void **state)
{
	struct server		*srv = *state;
	struct sockaddr_in	 sin;
	pthread_t		 t;
	char			 answer[1024];
	int			 a, q[2], i, fd;

	a = raw_connect(srv, NULL);
	raw_post(a, T_HOLD "-a");
	hold_wait_entered(1);
	for (i = 0; i < 2; i++) {
		q[i] = raw_connect(srv, NULL);
		raw_post(q[i], T_HOLD "-q");
	}
	assert_int_equal(pthread_create(&t, NULL, stop_thread, srv->hs), 0);
	srv->hs = NULL;
	/* Queued: refused with a hint to come back, while a still runs. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(raw_answer(q[i], answer, sizeof(answer)), 503);
		assert_non_null(strstr(answer, "Retry-After:"));
		close(q[i]);
	}
	/* No longer accepting. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)srv->port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    -1);
	close(fd);
	/* In flight: finished. */
	hold_release();
	assert_int_equal(raw_answer(a, answer, sizeof(answer)), 200);
	close(a);
	assert_int_equal(pthread_join(t, NULL), 0);
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
		cmocka_unit_test(
		    test_http_refuses_chunked_body_over_the_cap_without_reading_the_rest),
		cmocka_unit_test_setup_teardown(
		    test_http_cuts_off_a_request_trickled_past_the_deadline,
		    setup_short_deadline, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_cuts_off_a_body_trickled_past_the_deadline,
		    setup_short_deadline, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_closes_an_idle_connection,
		    setup_short_idle, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_refuses_a_client_over_its_connection_limit_and_serves_others,
		    setup_two_per_client, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_refuses_connections_over_the_total_limit,
		    setup_three_in_all, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_refuses_oversized_headers,
		    setup_small_header, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_answers_503_when_the_queue_is_full,
		    setup_one_worker, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_slow_pkioperations_do_not_delay_get_ca_caps,
		    setup_two_workers, teardown_own),
		cmocka_unit_test_setup_teardown(
		    test_http_stop_finishes_in_flight_and_refuses_queued_with_503,
		    setup_one_worker_long_queue, teardown_own),
	};

	/* TEST_HTTP_FILTER=pattern runs only the matching tests. */
	if (getenv("TEST_HTTP_FILTER") != NULL)
		cmocka_set_test_filter(getenv("TEST_HTTP_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
