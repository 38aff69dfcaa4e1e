/*
 * HTTP front on libmicrohttpd.  Per-request state lives in *con_cls
 * from the first call of the access handler to the completion
 * callback; the body is collected by us, with a cap.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
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

#define HTTP_ADDR_MAX	64

struct http_server {
	struct MHD_Daemon	*daemon;
	struct service		*svc;
	size_t			 max_body;
	atomic_int		 in_flight;
};

struct http_request {
	unsigned char	*body;
	size_t		 len;
	int		 too_big;
	int		 answered;	/* a response was queued early */
	char		 client[HTTP_ADDR_MAX];
};

static void
http_client_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo	*ci;
	socklen_t			 slen;

	snprintf(buf, len, "unknown");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	slen = ci->client_addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, slen, buf, (socklen_t)len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(buf, len, "unknown");
}

static enum MHD_Result
http_queue(struct MHD_Connection *c, struct service_response *r)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(r->body_len, r->body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		service_response_clear(r);
		return MHD_NO;
	}
	r->body = NULL;		/* now owned by the response */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->content_type);
	ret = MHD_queue_response(c, r->http_status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_queue_text(struct MHD_Connection *c, unsigned int status,
    const char *text)
{
	struct service_response	r;

	memset(&r, 0, sizeof(r));
	service_text(&r, status, text);
	return http_queue(c, &r);
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
		if (hr->too_big)
			service_text(r, 413, "body too large");
		else if (hr->len == 0)
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

/* The first call for a request: set up its state, refuse early. */
static enum MHD_Result
http_request_start(struct http_server *hs, struct MHD_Connection *c,
    const char *method, void **con_cls)
{
	struct http_request	*hr;
	const char		*cl;
	char			*end;
	unsigned long long	 n;

	if ((hr = calloc(1, sizeof(*hr))) == NULL)
		return MHD_NO;
	*con_cls = hr;
	atomic_fetch_add(&hs->in_flight, 1);
	http_client_addr(c, hr->client, sizeof(hr->client));
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
		hr->answered = 1;
		return http_queue_text(c, 405, "only GET and POST");
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		n = strtoull(cl, &end, 10);
		if (*end == '\0' && n > hs->max_body) {
			hr->answered = 1;
			log_info("client=%s status=413 content-length=%llu",
			    hr->client, n);
			return http_queue_text(c, 413, "body too large");
		}
	}
	return MHD_YES;
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server	*hs = cls;
	struct http_request	*hr = *con_cls;
	struct service_response	 r;
	unsigned char		*grown;

	(void)url;
	(void)version;
	if (hr == NULL)
		return http_request_start(hs, c, method, con_cls);
	if (hr->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!hr->too_big && hr->len + *upload_data_size <=
		    hs->max_body) {
			if ((grown = realloc(hr->body, hr->len +
			    *upload_data_size)) == NULL)
				return MHD_NO;
			hr->body = grown;
			memcpy(hr->body + hr->len, upload_data,
			    *upload_data_size);
			hr->len += *upload_data_size;
		} else
			hr->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&r, 0, sizeof(r));
	http_route(hs, c, method, hr, &r);
	hr->answered = 1;
	return http_queue(c, &r);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server	*hs = cls;
	struct http_request	*hr = *con_cls;

	(void)c;
	(void)toe;
	if (hr == NULL)
		return;
	free(hr->body);
	free(hr);
	*con_cls = NULL;
	atomic_fetch_sub(&hs->in_flight, 1);
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warnx("http: %s", buf);
}

struct http_server *
http_start(struct service *svc, const char *listen, int workers,
    size_t max_body)
{
	struct http_server	*hs;
	struct addrinfo		 hints, *ai = NULL;
	char			 host[HTTP_ADDR_MAX], port[8];
	uint16_t		 p;
	int			 r;

	if (config_split_listen(listen, host, sizeof(host), &p) == -1) {
		log_error("listen address \"%s\" is not ADDR:PORT", listen);
		return NULL;
	}
	snprintf(port, sizeof(port), "%u", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		log_error("listen address \"%s\": %s", listen,
		    gai_strerror(r));
		return NULL;
	}
	if ((hs = calloc(1, sizeof(*hs))) == NULL) {
		freeaddrinfo(ai);
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	hs->svc = svc;
	hs->max_body = max_body;
	atomic_init(&hs->in_flight, 0);
	hs->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG |
	    (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0), p, NULL, NULL,
	    http_handler, hs,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)workers,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNECTION_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)HTTP_CONNECTION_TIMEOUT,
	    /* Room for a PKIOperation by GET: base64 of max_body. */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(max_body * 2 + 16384),
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, hs,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (hs->daemon == NULL) {
		log_error("cannot listen on %s", listen);
		free(hs);
		return NULL;
	}
	log_info("listening on %s port %u with %d worker thread(s)", host,
	    http_bound_port(hs), workers);
	return hs;
}

unsigned int
http_bound_port(struct http_server *hs)
{
	const union MHD_DaemonInfo	*di;

	di = MHD_get_daemon_info(hs->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

void
http_stop(struct http_server *hs)
{
	struct timespec	pause = { 0, 20 * 1000 * 1000 };
	MHD_socket	fd;
	time_t		deadline;
	int		n;

	if (hs == NULL)
		return;
	fd = MHD_quiesce_daemon(hs->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	deadline = time(NULL) + HTTP_DRAIN_SECONDS;
	while ((n = atomic_load(&hs->in_flight)) > 0 &&
	    time(NULL) < deadline)
		nanosleep(&pause, NULL);
	if (n > 0)
		log_warnx("stopping with %d request(s) unfinished", n);
	MHD_stop_daemon(hs->daemon);
	free(hs);
}
