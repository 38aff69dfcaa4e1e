/*
 * The HTTP front (libmicrohttpd): routes SCEP operations to the
 * service, with bounds on connections, time, header and body size.
 *
 * One event thread reads and answers every connection and never waits
 * for the token: PKIOperations go to a bounded queue served by a pool
 * of worker threads (their connections are suspended meanwhile), so a
 * slow enrollment delays nothing but itself.
 */
#ifndef SCEPD_HTTP_H
#define SCEPD_HTTP_H

#include <stddef.h>

#define HTTP_DRAIN_SECONDS	60	/* in-flight requests at shutdown */

struct service;
struct http_server;

/* The server group of scepd.conf; see the README for each. */
struct http_limits {
	int	workers;		/* PKIOperation threads */
	int	queue_length;		/* PKIOperations waiting for one */
	size_t	max_body;		/* bytes of a PKIOperation */
	size_t	max_header;		/* bytes of request line and headers */
	int	max_connections;	/* open at once, in all */
	int	max_connections_per_client;	/* ... from one address */
	int	request_timeout;	/* seconds to receive a whole request */
	int	idle_timeout;		/* seconds without a byte */
};

/*
 * Starts serving on listen ("ADDR:PORT"); NULL on failure (logged).
 * May raise the process's open-file limit to fit max_connections, or
 * serve fewer connections (with a warning) if it cannot.
 */
struct http_server	*http_start(struct service *svc, const char *listen,
			    const struct http_limits *lim);
/* A bound, listening socket for "ADDR:PORT"; -1 (logged). */
int			 http_listen_socket(const char *listen);
/*
 * Starts serving on the listening socket fd, which it takes (it is
 * closed by http_stop(), or on failure here).
 */
struct http_server	*http_start_fd(struct service *svc, int fd,
			    const struct http_limits *lim);
/* The port actually bound (useful with port 0). */
unsigned int		 http_bound_port(struct http_server *hs);
/*
 * Stops accepting, answers every request already accepted (the
 * PKIOperations under way finish, queued ones and new requests on open
 * connections get 503 with Retry-After), bounded by HTTP_DRAIN_SECONDS,
 * then stops and frees hs.
 */
void			 http_stop(struct http_server *hs);

#endif
