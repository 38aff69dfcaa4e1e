/*
 * HTTP front on libmicrohttpd.
 *
 * One event thread (libmicrohttpd's internal thread, epoll on Linux)
 * reads every connection and answers GetCACaps and GetCACert itself;
 * it never waits for the token.  A PKIOperation, once its whole
 * request is in, suspends its connection and waits in a bounded queue
 * for one of lim.workers threads, which runs it and resumes the
 * connection.  A slow enrollment (the token lock, a webhook) therefore
 * delays no other connection.
 *
 * Each bound, and where it is enforced:
 *  - connections in all and per client address: the accept policy
 *    callback, which refuses (and logs, with the address) before the
 *    connection exists; libmicrohttpd's own limits would refuse
 *    silently, so its connection limit is only a backstop;
 *  - a whole request within request_timeout of its connection being
 *    ready for it: the watcher thread shuts down sockets past their
 *    deadline (libmicrohttpd's timeout restarts at every byte);
 *  - idle_timeout: libmicrohttpd's connection timeout;
 *  - max_header: checked in the handler's first call; libmicrohttpd's
 *    memory pool (431/414) stops anything much larger before that;
 *  - max_body: Content-Length up front, and while a chunked body is
 *    read.
 *
 * Per-connection state (struct http_conn) lives in the socket context
 * from libmicrohttpd's "started" to its "closed" notification;
 * per-request state (struct http_request) in *con_cls from the URI
 * callback (the request line is in) to the completion callback.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "config.h"
#include "encode.h"
#include "http.h"
#include "log.h"
#include "service.h"

#define HTTP_ADDR_MAX		64
/* Taken and answered 503 at shutdown: also counted in the fd budget. */
#define HTTP_LISTEN_BACKLOG	256
/* Descriptors besides connections: listen, epoll, database, token, logs. */
#define HTTP_FD_RESERVE		64
#define HTTP_MIN_CONNECTIONS	8
/* libmicrohttpd's pool beyond max_header: body reads, answer headers. */
#define HTTP_POOL_SLACK		16384
#define HTTP_RETRY_AFTER	"10"	/* seconds, on every 503 */
#define HTTP_WATCH_MS		250	/* how often deadlines are checked */
#define HTTP_DRAIN_TICK_MS	20
#define HTTP_LOG_BURST		20	/* refusal lines a second, per limit */

enum http_conn_state {
	HTTP_CONN_WAITING,	/* for a request: new, or after an answer */
	HTTP_CONN_RECEIVING,	/* the request line is in, the rest coming */
	HTTP_CONN_ANSWERING,	/* whole request in, or refused: no deadline */
	HTTP_CONN_CUT,		/* shut down by us; libmicrohttpd closes it */
};

struct http_conn {
	struct http_conn	*prev, *next;	/* hs->conns */
	MHD_socket		 fd;
	struct sockaddr_storage	 addr;
	char			 client[HTTP_ADDR_MAX];
	enum http_conn_state	 state;
	long long		 deadline;	/* monotonic ms */
	int			 quiet;		/* drain ticks idle, unread 0 */
};

enum http_limit {
	HTTP_LIMIT_CONNECTIONS,
	HTTP_LIMIT_PER_CLIENT,
	HTTP_LIMIT_REQUEST_TIMEOUT,
	HTTP_LIMIT_HEADER,
	HTTP_LIMIT_BODY,
	HTTP_LIMIT_QUEUE,
	HTTP_LIMIT__MAX
};

static const char *const http_limit_names[HTTP_LIMIT__MAX] = {
	"max_connections", "max_connections_per_client", "request_timeout",
	"max_header", "max_body", "queue_length",
};

/* Refusal lines logged this second; the rest are counted. */
struct http_loglimit {
	time_t	second;
	int	lines;
	long	dropped;
};

struct http_server {
	struct MHD_Daemon	*daemon;
	struct service		*svc;
	size_t			 max_body;	/* = lim.max_body */
	struct http_limits	 lim;
	atomic_int		 draining;	/* new requests get 503 */
	atomic_int		 admit_all;	/* taking the listen queue */
	atomic_int		 refused_stopping;
	pthread_mutex_t		 mutex;		/* all below */
	pthread_cond_t		 wake;		/* workers: a job, or stopping */
	pthread_cond_t		 tick;		/* the watcher: unwatched */
	struct http_conn	*conns;		/* open connections */
	int			 n_conns;
	struct http_request	*queue_head, *queue_tail;
	int			 n_queued;
	int			 stopping;	/* workers exit */
	int			 unwatched;	/* the watcher exits */
	int			 taken[HTTP_LISTEN_BACKLOG];	/* fds, see */
	int			 n_taken;	/* http_take_backlog() */
	pthread_t		*workers;
	int			 n_workers;	/* started */
	pthread_t		 watcher;
	int			 watching;	/* started */
	pthread_mutex_t		 log_mutex;	/* loglim */
	struct http_loglimit	 loglim[HTTP_LIMIT__MAX];
	int			 init;		/* the mutexes exist */
};

struct http_request {
	struct http_request	*next;		/* in the queue */
	struct MHD_Connection	*c;
	struct http_conn	*conn;		/* NULL if untracked */
	const char		*method;
	unsigned char		*body;
	size_t			 len;
	int			 started;	/* the handler has seen it */
	int			 answered;	/* an answer was queued */
	int			 done;		/* resp is ready (worker) */
	time_t			 queued_at;
	struct service_response	 resp;
	char			 client[HTTP_ADDR_MAX];
};

/* Set when the handler closes a connection on purpose (see the logger). */
static _Thread_local int	 http_closing;

static time_t
http_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Deadlines in milliseconds: a 2 s deadline must not be 1 s. */
static long long
http_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
http_addr_string(const struct sockaddr *sa, char *buf, size_t len)
{
	socklen_t	slen;

	snprintf(buf, len, "unknown");
	if (sa == NULL)
		return;
	slen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	if (getnameinfo(sa, slen, buf, (socklen_t)len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(buf, len, "unknown");
}

static void
http_client_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	http_addr_string(ci != NULL ? ci->client_addr : NULL, buf, len);
}

/* The same client address (the port aside). */
static int
http_same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->
		    sin_addr, &((const struct sockaddr_in *)(const void *)b)->
		    sin_addr, sizeof(struct in_addr)) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->
		    sin6_addr, &((const struct sockaddr_in6 *)(const void *)b)->
		    sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/*
 * One line per refusal: the client, the limit, what happened.  A flood
 * must not flood the log too: past HTTP_LOG_BURST lines a second per
 * limit, refusals are counted and the count logged later.
 */
static void __attribute__((format(printf, 4, 5)))
http_log_limit(struct http_server *hs, enum http_limit lim,
    const char *client, const char *fmt, ...)
{
	struct http_loglimit	*ll = &hs->loglim[lim];
	char			 what[256];
	va_list			 ap;
	time_t			 now = http_now();
	long			 dropped = 0;

	pthread_mutex_lock(&hs->log_mutex);
	if (ll->second != now) {
		dropped = ll->dropped;
		ll->second = now;
		ll->lines = 0;
		ll->dropped = 0;
	}
	if (ll->lines >= HTTP_LOG_BURST) {
		ll->dropped++;
		pthread_mutex_unlock(&hs->log_mutex);
		return;
	}
	ll->lines++;
	pthread_mutex_unlock(&hs->log_mutex);
	if (dropped > 0)
		log_warnx("limit=%s: %ld more refusal(s) not logged",
		    http_limit_names[lim], dropped);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_warnx("client=%s limit=%s: %s", client, http_limit_names[lim],
	    what);
}

/* Logs the refusals counted but not logged in seconds gone by. */
static void
http_log_flush(struct http_server *hs, int all)
{
	long	dropped[HTTP_LIMIT__MAX];
	time_t	now = http_now();
	int	i;

	pthread_mutex_lock(&hs->log_mutex);
	for (i = 0; i < HTTP_LIMIT__MAX; i++) {
		dropped[i] = 0;
		if (hs->loglim[i].dropped > 0 &&
		    (all || hs->loglim[i].second != now)) {
			dropped[i] = hs->loglim[i].dropped;
			hs->loglim[i].dropped = 0;
		}
	}
	pthread_mutex_unlock(&hs->log_mutex);
	for (i = 0; i < HTTP_LIMIT__MAX; i++)
		if (dropped[i] > 0)
			log_warnx("limit=%s: %ld more refusal(s) not logged",
			    http_limit_names[i], dropped[i]);
}

/* The request has been read (or refused): its deadline no longer runs. */
static void
http_conn_answering(struct http_server *hs, struct http_request *hr)
{
	if (hr->conn == NULL)
		return;
	pthread_mutex_lock(&hs->mutex);
	if (hr->conn->state != HTTP_CONN_CUT)
		hr->conn->state = HTTP_CONN_ANSWERING;
	pthread_mutex_unlock(&hs->mutex);
}

/* Queues r (its body moves to libmicrohttpd); every 503 says when. */
static enum MHD_Result
http_answer(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr, struct service_response *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	char			 retry[16];

	hr->answered = 1;
	http_conn_answering(hs, hr);
	resp = MHD_create_response_from_buffer(r->body_len, r->body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		service_response_clear(r);
		return MHD_NO;
	}
	r->body = NULL;		/* now owned by the response */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->content_type);
	/* The service's own figure (429, a busy 503), else ours on 503. */
	if (r->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    retry);
	} else if (r->http_status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    HTTP_RETRY_AFTER);
	/* Stopping: no further request on this connection. */
	if (atomic_load(&hs->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, r->http_status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_answer_text(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr, unsigned int status, const char *text)
{
	struct service_response	r;

	memset(&r, 0, sizeof(r));
	service_text(&r, status, text);
	return http_answer(hs, c, hr, &r);
}

static enum MHD_Result
http_refuse_stopping(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr)
{
	atomic_fetch_add(&hs->refused_stopping, 1);
	return http_answer_text(hs, c, hr, MHD_HTTP_SERVICE_UNAVAILABLE,
	    "the server is stopping; try again later");
}

/*
 * A chunked body has passed max_body.  libmicrohttpd 0.9 cannot queue
 * an answer while a body is being read, so the 413 is written to the
 * socket here (nothing else writes to it now: this is its thread) and
 * the connection closed: the rest of the body is never read.
 */
static enum MHD_Result
http_refuse_body(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr)
{
	static const char		 answer[] =
	    "HTTP/1.1 413 Content Too Large\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 15\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "body too large\n";
	const union MHD_ConnectionInfo	*ci;

	hr->answered = 1;
	http_conn_answering(hs, hr);
	http_log_limit(hs, HTTP_LIMIT_BODY, hr->client,
	    "status=413: chunked body over %zu bytes, not read further",
	    hs->lim.max_body);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		(void)send(ci->connect_fd, answer, sizeof(answer) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	http_closing = 1;
	return MHD_NO;
}

/* PKIOperation by GET: message= is base64, already URL-decoded. */
static void
http_pkiop_get(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr, struct service_response *r)
{
	const char	*msg;
	char		*fixed;
	unsigned char	*der;
	size_t		 len, i;

	msg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "message");
	if (msg == NULL || *msg == '\0') {
		service_text(r, 400, "PKIOperation by GET needs message=");
		return;
	}
	len = strlen(msg);
	if (len / 4 * 3 > hs->max_body) {
		service_text(r, 413, "message too large");
		return;
	}
	/* A '+' not escaped by the client arrives as a blank. */
	if ((fixed = strdup(msg)) == NULL) {
		service_text(r, 500, "out of memory");
		return;
	}
	for (i = 0; i < len; i++)
		if (fixed[i] == ' ')
			fixed[i] = '+';
	der = encode_base64_decode_new(fixed, len, &len);
	free(fixed);
	if (der == NULL) {
		service_text(r, 400, "message= is not base64");
		return;
	}
	service_pkioperation(hs->svc, der, len, hr->client, r);
	free(der);
}

/*
 * The answer to a whole request, computed synchronously: in the event
 * thread for the quick operations, in a worker for PKIOperation.
 */
static void
http_route(struct http_server *hs, struct MHD_Connection *c,
    const char *method, struct http_request *hr, struct service_response *r)
{
	const char	*op;
	int		 post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	op = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "operation");
	if (op == NULL)
		service_text(r, 400, "missing operation=");
	else if (strcmp(op, "GetCACaps") == 0)
		service_getcacaps(hs->svc, r);
	else if (strcmp(op, "GetCACert") == 0)
		service_getcacert(hs->svc, r);
	else if (strcmp(op, "GetNextCACert") == 0)
		service_text(r, 404, "no next CA certificate is configured");
	else if (strcmp(op, "PKIOperation") == 0 && post) {
		if (hr->len == 0)
			service_text(r, 400, "empty body");
		else
			service_pkioperation(hs->svc, hr->body, hr->len,
			    hr->client, r);
	} else if (strcmp(op, "PKIOperation") == 0)
		http_pkiop_get(hs, c, hr, r);
	else
		service_text(r, 400, "unknown operation");
	if (op == NULL || strcmp(op, "PKIOperation") != 0)
		log_info("client=%s operation=%s status=%u", hr->client,
		    op ? op : "(none)", r->http_status);
}

/* Runs one queued PKIOperation and hands the connection back. */
static void
http_work(struct http_server *hs, struct http_request *hr)
{
	time_t	waited = http_now() - hr->queued_at;

	memset(&hr->resp, 0, sizeof(hr->resp));
	/* The client has waited long enough; do not start it late. */
	if (waited > hs->lim.request_timeout) {
		http_log_limit(hs, HTTP_LIMIT_REQUEST_TIMEOUT, hr->client,
		    "status=503: waited %lld s for a worker",
		    (long long)waited);
		service_text(&hr->resp, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "busy; try again later");
	} else
		http_route(hs, hr->c, hr->method, hr, &hr->resp);
	hr->done = 1;
	MHD_resume_connection(hr->c);
}

static void *
http_worker(void *arg)
{
	struct http_server	*hs = arg;
	struct http_request	*hr;

	pthread_mutex_lock(&hs->mutex);
	for (;;) {
		while (!hs->stopping && hs->queue_head == NULL)
			pthread_cond_wait(&hs->wake, &hs->mutex);
		if (hs->stopping)
			break;
		hr = hs->queue_head;
		if ((hs->queue_head = hr->next) == NULL)
			hs->queue_tail = NULL;
		hs->n_queued--;
		pthread_mutex_unlock(&hs->mutex);
		http_work(hs, hr);
		pthread_mutex_lock(&hs->mutex);
	}
	pthread_mutex_unlock(&hs->mutex);
	return NULL;
}

/*
 * Hands a whole PKIOperation to the workers.  The connection is
 * suspended first, so that a worker can always resume it; a refusal
 * takes the same way back (done, resumed at once).
 */
static enum MHD_Result
http_enqueue(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr)
{
	int	stopping, full;

	hr->queued_at = http_now();
	http_conn_answering(hs, hr);
	MHD_suspend_connection(c);
	pthread_mutex_lock(&hs->mutex);
	stopping = hs->stopping;
	full = hs->n_queued >= hs->lim.queue_length;
	if (!stopping && !full) {
		if (hs->queue_tail != NULL)
			hs->queue_tail->next = hr;
		else
			hs->queue_head = hr;
		hs->queue_tail = hr;
		hs->n_queued++;
		pthread_cond_signal(&hs->wake);
	}
	pthread_mutex_unlock(&hs->mutex);
	if (!stopping && !full)
		return MHD_YES;
	memset(&hr->resp, 0, sizeof(hr->resp));
	if (stopping) {
		atomic_fetch_add(&hs->refused_stopping, 1);
		service_text(&hr->resp, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "the server is stopping; try again later");
	} else {
		http_log_limit(hs, HTTP_LIMIT_QUEUE, hr->client,
		    "status=503: %d PKIOperation(s) already waiting",
		    hs->lim.queue_length);
		service_text(&hr->resp, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "busy; try again later");
	}
	hr->done = 1;
	MHD_resume_connection(c);
	return MHD_YES;
}

/* The headers are in (the handler's first call): refuse early. */
static enum MHD_Result
http_request_start(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr)
{
	const union MHD_ConnectionInfo	*ci;
	const char			*cl;
	char				*end;
	unsigned long long		 n;

	if (atomic_load(&hs->draining))
		return http_refuse_stopping(hs, c, hr);
	if (strcmp(hr->method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(hr->method, MHD_HTTP_METHOD_POST) != 0)
		return http_answer_text(hs, c, hr, 405, "only GET and POST");
	ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci != NULL && ci->header_size > hs->lim.max_header) {
		http_log_limit(hs, HTTP_LIMIT_HEADER, hr->client,
		    "status=431: %zu bytes of request line and headers",
		    ci->header_size);
		return http_answer_text(hs, c, hr,
		    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
		    "request header too large");
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		n = strtoull(cl, &end, 10);
		if (*end == '\0' && n > hs->lim.max_body) {
			http_log_limit(hs, HTTP_LIMIT_BODY, hr->client,
			    "status=413: content-length %llu", n);
			return http_answer_text(hs, c, hr,
			    MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
		}
	}
	return MHD_YES;
}

static enum MHD_Result
http_request_body(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr, const char *data, size_t *size)
{
	unsigned char	*grown;

	if (*size > hs->lim.max_body - hr->len)
		return http_refuse_body(hs, c, hr);
	if ((grown = realloc(hr->body, hr->len + *size)) == NULL)
		return MHD_NO;
	hr->body = grown;
	memcpy(hr->body + hr->len, data, *size);
	hr->len += *size;
	*size = 0;
	return MHD_YES;
}

/* The whole request is in. */
static enum MHD_Result
http_request_end(struct http_server *hs, struct MHD_Connection *c,
    struct http_request *hr)
{
	struct service_response	 r;
	const char		*op;

	if (hr->conn != NULL) {
		pthread_mutex_lock(&hs->mutex);
		if (hr->conn->state == HTTP_CONN_CUT) {
			/* Past its deadline: the socket is shut already. */
			pthread_mutex_unlock(&hs->mutex);
			http_closing = 1;
			return MHD_NO;
		}
		pthread_mutex_unlock(&hs->mutex);
	}
	if (atomic_load(&hs->draining))
		return http_refuse_stopping(hs, c, hr);
	op = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "operation");
	if (op != NULL && strcmp(op, "PKIOperation") == 0)
		return http_enqueue(hs, c, hr);
	memset(&r, 0, sizeof(r));
	http_route(hs, c, hr->method, hr, &r);
	return http_answer(hs, c, hr, &r);
}

static struct http_conn *
http_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static struct http_request *
http_request_new(struct http_server *hs, struct MHD_Connection *c)
{
	struct http_request	*hr;

	if ((hr = calloc(1, sizeof(*hr))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	hr->c = c;
	if ((hr->conn = http_conn_of(c)) != NULL) {
		snprintf(hr->client, sizeof(hr->client), "%s",
		    hr->conn->client);
		pthread_mutex_lock(&hs->mutex);
		if (hr->conn->state == HTTP_CONN_WAITING)
			hr->conn->state = HTTP_CONN_RECEIVING;
		pthread_mutex_unlock(&hs->mutex);
	} else
		http_client_addr(c, hr->client, sizeof(hr->client));
	return hr;
}

/* The request line is in: a request begins (becomes *con_cls). */
static void *
http_uri_started(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)uri;
	return http_request_new(cls, c);
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server	*hs = cls;
	struct http_request	*hr = *con_cls;

	(void)url;
	(void)version;
	if (hr == NULL) {
		if ((hr = http_request_new(hs, c)) == NULL)
			return MHD_NO;
		*con_cls = hr;
	}
	if (!hr->started) {
		hr->started = 1;
		hr->method = method;
		return http_request_start(hs, c, hr);
	}
	if (hr->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
		return http_request_body(hs, c, hr, upload_data,
		    upload_data_size);
	if (hr->done)		/* back from a worker */
		return http_answer(hs, c, hr, &hr->resp);
	return http_request_end(hs, c, hr);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server		*hs = cls;
	struct http_request		*hr = *con_cls;
	const union MHD_ConnectionInfo	*ci;

	(void)toe;
	if (hr == NULL)
		return;
	/* libmicrohttpd refused it by itself: headers over its pool. */
	if (!hr->started && (ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_HTTP_STATUS)) != NULL &&
	    (ci->http_status == MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE ||
	    ci->http_status == MHD_HTTP_URI_TOO_LONG))
		http_log_limit(hs, HTTP_LIMIT_HEADER, hr->client,
		    "status=%u: request line or headers too large",
		    ci->http_status);
	if (hr->conn != NULL) {
		/* The next request's deadline runs from now. */
		pthread_mutex_lock(&hs->mutex);
		if (hr->conn->state != HTTP_CONN_CUT) {
			hr->conn->state = HTTP_CONN_WAITING;
			hr->conn->quiet = 0;
			hr->conn->deadline = http_now_ms() +
			    hs->lim.request_timeout * 1000LL;
		}
		pthread_mutex_unlock(&hs->mutex);
	}
	free(hr->body);
	service_response_clear(&hr->resp);
	free(hr);
	*con_cls = NULL;
}

/*
 * Connections in all and per address, before one is set up.  At
 * shutdown everything is let in: that is the listen queue, whose
 * requests get a 503 rather than a reset.
 */
static enum MHD_Result
http_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server	*hs = cls;
	struct http_conn	*conn;
	char			 client[HTTP_ADDR_MAX];
	int			 total, same = 0;

	(void)addrlen;
	if (atomic_load(&hs->admit_all))
		return MHD_YES;
	pthread_mutex_lock(&hs->mutex);
	total = hs->n_conns;
	for (conn = hs->conns; conn != NULL; conn = conn->next)
		same += http_same_addr(addr, &conn->addr);
	pthread_mutex_unlock(&hs->mutex);
	if (total < hs->lim.max_connections &&
	    same < hs->lim.max_connections_per_client)
		return MHD_YES;
	http_addr_string(addr, client, sizeof(client));
	if (same >= hs->lim.max_connections_per_client)
		http_log_limit(hs, HTTP_LIMIT_PER_CLIENT, client,
		    "connection refused (%d open from this address)", same);
	else
		http_log_limit(hs, HTTP_LIMIT_CONNECTIONS, client,
		    "connection refused (%d open)", total);
	return MHD_NO;
}

/*
 * A connection taken from the listen queue at shutdown is in
 * libmicrohttpd's hands, but not yet in hs->conns, until its "started"
 * notification: until then http_drain() must wait for it.  Under
 * hs->mutex.
 */
static void
http_taken_remove(struct http_server *hs, MHD_socket fd)
{
	int	i;

	for (i = 0; i < hs->n_taken; i++)
		if (hs->taken[i] == fd) {
			hs->taken[i] = hs->taken[--hs->n_taken];
			return;
		}
}

/* Keeps hs->conns: what the limits, the watcher and stopping look at. */
static void
http_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server		*hs = cls;
	struct http_conn		*conn = *socket_context;
	const union MHD_ConnectionInfo	*ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (conn == NULL)
			return;
		pthread_mutex_lock(&hs->mutex);
		if (conn->prev != NULL)
			conn->prev->next = conn->next;
		else
			hs->conns = conn->next;
		if (conn->next != NULL)
			conn->next->prev = conn->prev;
		hs->n_conns--;
		pthread_mutex_unlock(&hs->mutex);
		free(conn);
		*socket_context = NULL;
		return;
	}
	/* Untracked if this fails: still served, not counted. */
	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		log_error("%s: out of memory", __func__);
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	conn->fd = ci != NULL ? ci->connect_fd : MHD_INVALID_SOCKET;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL)
		memcpy(&conn->addr, ci->client_addr,
		    ci->client_addr->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	http_addr_string(ci != NULL ? ci->client_addr : NULL, conn->client,
	    sizeof(conn->client));
	conn->state = HTTP_CONN_WAITING;
	conn->deadline = http_now_ms() + hs->lim.request_timeout * 1000LL;
	pthread_mutex_lock(&hs->mutex);
	http_taken_remove(hs, conn->fd);
	if ((conn->next = hs->conns) != NULL)
		conn->next->prev = conn;
	hs->conns = conn;
	hs->n_conns++;
	pthread_mutex_unlock(&hs->mutex);
	*socket_context = conn;
}

/*
 * Cuts off connections whose request is not in by its deadline.  A
 * tracked socket is open until its "closed" notification, which takes
 * hs->mutex: shutting it down under the mutex is safe, and makes
 * libmicrohttpd read EOF and close it in its own thread.
 */
static void *
http_watch(void *arg)
{
	struct http_server	*hs = arg;
	struct http_conn	*conn;
	struct timespec		 until;
	long long		 now;

	pthread_mutex_lock(&hs->mutex);
	while (!hs->unwatched) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += HTTP_WATCH_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		(void)pthread_cond_timedwait(&hs->tick, &hs->mutex, &until);
		now = http_now_ms();
		for (conn = hs->conns; conn != NULL; conn = conn->next) {
			if ((conn->state != HTTP_CONN_WAITING &&
			    conn->state != HTTP_CONN_RECEIVING) ||
			    now < conn->deadline ||
			    conn->fd == MHD_INVALID_SOCKET)
				continue;
			(void)shutdown(conn->fd, SHUT_RDWR);
			http_log_limit(hs, HTTP_LIMIT_REQUEST_TIMEOUT,
			    conn->client, "cut off: no whole request within "
			    "%d s", hs->lim.request_timeout);
			conn->state = HTTP_CONN_CUT;
		}
		pthread_mutex_unlock(&hs->mutex);
		http_log_flush(hs, 0);
		pthread_mutex_lock(&hs->mutex);
	}
	pthread_mutex_unlock(&hs->mutex);
	return NULL;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	buf[512], *html;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	/* Its error pages quoted in full say nothing more. */
	if ((html = strstr(buf, " ('<html>")) != NULL)
		snprintf(html, sizeof(buf) - (size_t)(html - buf), ")");
	/* Our own closing (a 413 already written): not an error. */
	if (http_closing && strstr(buf, "internal error") != NULL) {
		http_closing = 0;
		return;
	}
	log_warnx("http: %s", buf);
}

/*
 * Makes room for lim->max_connections descriptors (raising the soft
 * limit up to the hard one), or lowers it to what there is.
 */
static int
http_fd_budget(struct http_limits *lim)
{
	struct rlimit	rl;
	rlim_t		need, have;
	long long	fit;

	need = (rlim_t)lim->max_connections + HTTP_LISTEN_BACKLOG +
	    HTTP_FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_error("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max >= need ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    getrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_error("setrlimit(RLIMIT_NOFILE): %s",
			    strerror(errno));
			return -1;
		}
	}
	have = rl.rlim_cur;
	if (have == RLIM_INFINITY || have >= need)
		return 0;
	fit = (long long)have - HTTP_LISTEN_BACKLOG - HTTP_FD_RESERVE;
	if (fit < HTTP_MIN_CONNECTIONS) {
		log_error("only %llu file descriptors may be open (ulimit -n): "
		    "too few to serve", (unsigned long long)have);
		return -1;
	}
	log_warnx("server.max_connections %d needs %llu file descriptors but "
	    "only %llu may be open (ulimit -n): serving at most %lld "
	    "connections", lim->max_connections, (unsigned long long)need,
	    (unsigned long long)have, fit);
	lim->max_connections = (int)fit;
	return 0;
}

/* Stops the threads and frees what http_start() made, in any state. */
static void
http_free(struct http_server *hs)
{
	int	i;

	if (hs == NULL)
		return;
	if (hs->init) {
		pthread_mutex_lock(&hs->mutex);
		hs->stopping = 1;
		hs->unwatched = 1;
		pthread_cond_broadcast(&hs->wake);
		pthread_cond_broadcast(&hs->tick);
		pthread_mutex_unlock(&hs->mutex);
	}
	for (i = 0; i < hs->n_workers; i++)
		pthread_join(hs->workers[i], NULL);
	if (hs->watching)
		pthread_join(hs->watcher, NULL);
	if (hs->daemon != NULL)
		MHD_stop_daemon(hs->daemon);
	if (hs->init) {
		pthread_cond_destroy(&hs->wake);
		pthread_cond_destroy(&hs->tick);
		pthread_mutex_destroy(&hs->mutex);
		pthread_mutex_destroy(&hs->log_mutex);
	}
	free(hs->workers);
	free(hs);
}

static int
http_threads_start(struct http_server *hs)
{
	int	i;

	if ((hs->workers = calloc((size_t)hs->lim.workers,
	    sizeof(*hs->workers))) == NULL) {
		log_error("%s: out of memory", __func__);
		return -1;
	}
	for (i = 0; i < hs->lim.workers; i++) {
		if (pthread_create(&hs->workers[i], NULL, http_worker,
		    hs) != 0) {
			log_error("cannot start a worker thread");
			return -1;
		}
		hs->n_workers++;
	}
	if (pthread_create(&hs->watcher, NULL, http_watch, hs) != 0) {
		log_error("cannot start the deadline thread");
		return -1;
	}
	hs->watching = 1;
	return 0;
}

int
http_listen_socket(const char *addr)
{
	struct addrinfo	 hints, *ai = NULL;
	char		 host[HTTP_ADDR_MAX], port[8];
	uint16_t	 p;
	int		 r, fd = -1, on = 1;

	if (config_split_listen(addr, host, sizeof(host), &p) == -1) {
		log_error("listen address \"%s\" is not ADDR:PORT", addr);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		log_error("listen address \"%s\": %s", addr,
		    gai_strerror(r));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, HTTP_LISTEN_BACKLOG) == -1) {
		log_error("cannot listen on %s: %s", addr, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The address fd listens on, for the log. */
static void
http_fd_address(int fd, char *host, size_t len, unsigned *port,
    int *family)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	*port = 0;
	*family = AF_INET;
	snprintf(host, len, "?");
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	*family = ss.ss_family;
	if (getnameinfo((struct sockaddr *)&ss, sl, host, (socklen_t)len,
	    NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, len, "?");
	if (ss.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else if (ss.ss_family == AF_INET)
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

struct http_server *
http_start(struct service *svc, const char *listen,
    const struct http_limits *lim)
{
	int	fd;

	if ((fd = http_listen_socket(listen)) == -1)
		return NULL;
	return http_start_fd(svc, fd, lim);
}

struct http_server *
http_start_fd(struct service *svc, int fd, const struct http_limits *lim)
{
	struct http_server	*hs;
	char			 host[HTTP_ADDR_MAX];
	unsigned		 port;
	int			 family;

	http_fd_address(fd, host, sizeof(host), &port, &family);
	if ((hs = calloc(1, sizeof(*hs))) == NULL) {
		log_error("%s: out of memory", __func__);
		close(fd);
		return NULL;
	}
	hs->svc = svc;
	hs->lim = *lim;
	hs->max_body = lim->max_body;
	atomic_init(&hs->draining, 0);
	atomic_init(&hs->admit_all, 0);
	atomic_init(&hs->refused_stopping, 0);
	if (pthread_mutex_init(&hs->mutex, NULL) != 0 ||
	    pthread_mutex_init(&hs->log_mutex, NULL) != 0 ||
	    pthread_cond_init(&hs->wake, NULL) != 0 ||
	    pthread_cond_init(&hs->tick, NULL) != 0) {
		log_error("%s: cannot make a mutex", __func__);
		free(hs);
		close(fd);
		return NULL;
	}
	hs->init = 1;
	if (http_fd_budget(&hs->lim) == -1 || http_threads_start(hs) == -1)
		goto fail_fd;
	if (hs->lim.max_connections_per_client > hs->lim.max_connections)
		hs->lim.max_connections_per_client = hs->lim.max_connections;
	hs->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG |
	    (family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
	    http_accept, hs, http_handler, hs,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    /* A backstop: http_accept() refuses first, and says why. */
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)(hs->lim.max_connections + HTTP_LISTEN_BACKLOG),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)hs->lim.idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(hs->lim.max_header + HTTP_POOL_SLACK),
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify_conn, hs,
	    MHD_OPTION_URI_LOG_CALLBACK, http_uri_started, hs,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, hs,
	    MHD_OPTION_END);
	if (hs->daemon == NULL) {
		log_error("cannot serve on %s port %u", host, port);
		goto fail_fd;
	}
	log_info("listening on %s port %u with %d worker thread(s), up to %d "
	    "connection(s) (%d per client)", host, port,
	    hs->lim.workers, hs->lim.max_connections,
	    hs->lim.max_connections_per_client);
	return hs;
 fail_fd:
	close(fd);
	http_free(hs);
	return NULL;
}

unsigned int
http_bound_port(struct http_server *hs)
{
	const union MHD_DaemonInfo	*di;

	di = MHD_get_daemon_info(hs->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

/*
 * Connections the kernel has already accepted for us: taken and
 * handed to libmicrohttpd, so that their requests are answered (503)
 * instead of reset when the socket closes.
 */
static int
http_take_backlog(struct http_server *hs, MHD_socket fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			s, n = 0, flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return 0;
	while (n < HTTP_LISTEN_BACKLOG) {
		len = sizeof(ss);
		if ((s = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		n++;
		pthread_mutex_lock(&hs->mutex);
		hs->taken[hs->n_taken++] = s;
		pthread_mutex_unlock(&hs->mutex);
		/* It closes s if it cannot take it. */
		if (MHD_add_connection(hs->daemon, s, (struct sockaddr *)&ss,
		    len) != MHD_YES) {
			pthread_mutex_lock(&hs->mutex);
			http_taken_remove(hs, s);
			pthread_mutex_unlock(&hs->mutex);
		}
	}
	return n;
}

/*
 * Workers finish what they run; what is queued is answered 503.  Read
 * hr->next before resuming: the event thread may free hr at once.
 */
static void
http_pool_stop(struct http_server *hs)
{
	struct http_request	*hr, *next;
	int			 i, n;

	pthread_mutex_lock(&hs->mutex);
	hs->stopping = 1;
	hr = hs->queue_head;
	hs->queue_head = hs->queue_tail = NULL;
	n = hs->n_queued;
	hs->n_queued = 0;
	pthread_cond_broadcast(&hs->wake);
	pthread_mutex_unlock(&hs->mutex);
	for (; hr != NULL; hr = next) {
		next = hr->next;
		memset(&hr->resp, 0, sizeof(hr->resp));
		service_text(&hr->resp, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "the server is stopping; try again later");
		hr->done = 1;
		MHD_resume_connection(hr->c);
	}
	atomic_fetch_add(&hs->refused_stopping, n);
	for (i = 0; i < hs->n_workers; i++)
		pthread_join(hs->workers[i], NULL);
	hs->n_workers = 0;
}

/*
 * Waits until no request is under way (bounded): connections between
 * requests with nothing unread, two ticks in a row (a request read but
 * not yet parsed is not mistaken for none), are shut down; the rest
 * are waited for (a trickling one is cut off at its deadline).
 */
static int
http_drain(struct http_server *hs, time_t deadline)
{
	struct timespec		 pause = { 0, HTTP_DRAIN_TICK_MS * 1000000L };
	struct http_conn	*conn;
	int			 busy, unread;

	for (;;) {
		pthread_mutex_lock(&hs->mutex);
		busy = hs->n_taken;
		for (conn = hs->conns; conn != NULL; conn = conn->next) {
			if (conn->state == HTTP_CONN_RECEIVING ||
			    conn->state == HTTP_CONN_ANSWERING) {
				busy++;
				continue;
			}
			if (conn->state != HTTP_CONN_WAITING ||
			    conn->fd == MHD_INVALID_SOCKET)
				continue;
			busy++;
			if (ioctl(conn->fd, FIONREAD, &unread) == 0 &&
			    unread > 0)
				conn->quiet = 0;
			else if (++conn->quiet >= 2) {
				(void)shutdown(conn->fd, SHUT_RDWR);
				conn->state = HTTP_CONN_CUT;
				busy--;
			}
		}
		pthread_mutex_unlock(&hs->mutex);
		if (busy == 0 || http_now() >= deadline)
			return busy;
		nanosleep(&pause, NULL);
	}
}

void
http_stop(struct http_server *hs)
{
	MHD_socket	fd;
	time_t		deadline;
	int		taken = 0, busy;

	if (hs == NULL)
		return;
	deadline = http_now() + HTTP_DRAIN_SECONDS;
	/* Closed before the first 503: whoever got one cannot reconnect. */
	if ((fd = MHD_quiesce_daemon(hs->daemon)) != MHD_INVALID_SOCKET) {
		atomic_store(&hs->admit_all, 1);
		taken = http_take_backlog(hs, fd);
		close(fd);
	}
	atomic_store(&hs->draining, 1);
	http_pool_stop(hs);
	if ((busy = http_drain(hs, deadline)) > 0)
		log_warnx("stopping with %d request(s) unfinished", busy);
	MHD_stop_daemon(hs->daemon);
	hs->daemon = NULL;
	http_log_flush(hs, 1);
	if (taken > 0 || atomic_load(&hs->refused_stopping) > 0)
		log_info("stopping: %d waiting connection(s) taken, %d "
		    "request(s) answered 503", taken,
		    atomic_load(&hs->refused_stopping));
	http_free(hs);
}
