/*
 * The HTTP front (libmicrohttpd): routes SCEP operations to the
 * service, with limits on body size, connections and time.
 */
#ifndef SCEPD_HTTP_H
#define SCEPD_HTTP_H

#include <stddef.h>

#define HTTP_CONNECTION_LIMIT	256
#define HTTP_CONNECTION_TIMEOUT	30	/* seconds idle */
#define HTTP_DRAIN_SECONDS	60	/* in-flight requests at shutdown */

struct service;
struct http_server;

/* Starts serving on listen ("ADDR:PORT"); NULL on failure (logged). */
struct http_server	*http_start(struct service *svc, const char *listen,
			    int workers, size_t max_body);
/* The port actually bound (useful with port 0). */
unsigned int		 http_bound_port(struct http_server *hs);
/*
 * Stops accepting, lets in-flight requests finish (bounded), then
 * stops.
 */
void			 http_stop(struct http_server *hs);

#endif
