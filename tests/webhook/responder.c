/*
 * A small webhook service for the integration tests: it answers each
 * POST from the subject in the JSON document it receives.  A subject
 * containing "allow" is allowed, "deny" denied, "slow" answered after
 * five seconds, "broken" with HTTP 500, "garbage" with a non-JSON
 * body.  Every document is appended to the log file, one per line.
 *
 *   webhook-responder PORT_FILE LOG_FILE
 *
 * Listens on 127.0.0.1, on a free port written to PORT_FILE; stops on
 * SIGTERM.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#define RESPONDER_BODY_MAX	65536

struct request {
	char	body[RESPONDER_BODY_MAX];
	size_t	len;
};

static FILE	*responder_log;

static enum MHD_Result
responder_reply(struct MHD_Connection *c, unsigned int status,
    const char *body)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
responder_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **state)
{
	struct request	*rq = *state;
	const char	*subject;

	(void)cls;
	(void)url;
	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*state = rq;
		return MHD_YES;
	}
	if (*size > 0) {
		if (rq->len + *size < sizeof(rq->body)) {
			memcpy(rq->body + rq->len, data, *size);
			rq->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") != 0)
		return responder_reply(c, 405, "{}");
	fprintf(responder_log, "%s\n", rq->body);
	fflush(responder_log);
	if ((subject = strstr(rq->body, "\"subject\":")) == NULL)
		return responder_reply(c, 400, "{}");
	if (strstr(subject, "slow") != NULL) {
		sleep(5);
		return responder_reply(c, 200, "{\"allow\": true}");
	}
	if (strstr(subject, "broken") != NULL)
		return responder_reply(c, 500, "{\"allow\": true}");
	if (strstr(subject, "garbage") != NULL)
		return responder_reply(c, 200, "allow");
	if (strstr(subject, "allow") != NULL)
		return responder_reply(c, 200, "{\"allow\": true, \"reason\": "
		    "\"known to the inventory\"}");
	return responder_reply(c, 200, "{\"allow\": false, \"reason\": "
	    "\"not in the inventory\"}");
}

static void
responder_done(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*state);
	*state = NULL;
}

int
main(int argc, char *argv[])
{
	struct MHD_Daemon		*d;
	const union MHD_DaemonInfo	*di;
	struct sockaddr_in		 sin;
	sigset_t			 set;
	FILE				*pf;
	int				 sig;

	if (argc != 3) {
		fprintf(stderr, "usage: webhook-responder PORT_FILE LOG_FILE\n");
		return 2;
	}
	if ((responder_log = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, responder_handler,
	    NULL, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_NOTIFY_COMPLETED,
	    responder_done, NULL, MHD_OPTION_END);
	if (d == NULL ||
	    (di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) == NULL) {
		fprintf(stderr, "webhook-responder: cannot listen\n");
		return 1;
	}
	if ((pf = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	fprintf(pf, "%u\n", di->port);
	fclose(pf);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	fclose(responder_log);
	return 0;
}
