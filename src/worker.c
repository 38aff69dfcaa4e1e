/*
 * The worker process: serves HTTP on the socket the parent bound, and
 * does everything about a request but its private-key operations,
 * which go to the key process through src/signer_ipc.c.  Started by
 * the parent (procs.h); stops cleanly on SIGTERM (see http_stop()).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "http.h"
#include "ipc.h"
#include "log.h"
#include "privdrop.h"
#include "procs.h"
#include "service.h"
#include "signer_ipc.h"
#include "store.h"

static void
worker_limits(const struct scepd_config *cfg, struct http_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->workers = cfg->workers;
	lim->queue_length = cfg->queue_length;
	lim->max_body = cfg->max_body;
	lim->max_header = cfg->max_header;
	lim->max_connections = cfg->max_connections;
	lim->max_connections_per_client = cfg->max_connections_per_client;
	lim->request_timeout = cfg->request_timeout;
	lim->idle_timeout = cfg->idle_timeout;
}

/*
 * New channels from the parent: to the other key processes at start,
 * then to each restarted one.  When the parent goes, the worker stops
 * as on SIGTERM.
 */
static void *
worker_control(void *arg)
{
	struct service	*svc = arg;
	uint8_t		 tag;
	int		 fd;

	/* The tag is the key process's index. */
	while (ipc_fd_recv(PROCS_WORKER_CONTROL_FD, &fd, &tag) == 0)
		if (fd != -1 && signer_ipc_set_channel(svc->signer, tag,
		    fd) == 0)
			log_info("connected to key process %d", tag + 1);
	kill(getpid(), SIGTERM);
	return NULL;
}

/* SIGHUP reloads the policy until SIGTERM or SIGINT. */
static int
worker_wait_for_stop(struct service *svc)
{
	sigset_t	set;
	int		sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			return -1;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading the policy");
			service_policy_reload(svc);
			continue;
		}
		log_info("%s: stopping after in-flight requests",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return 0;
	}
}

int
worker_main(const struct procs_args *args)
{
	struct scepd_config	*cfg = NULL;
	struct service		*svc = NULL;
	struct http_server	*hs = NULL;
	struct http_limits	 lim;
	char			 err[1024], ready = PROCS_READY;
	sigset_t		 set;
	pthread_t		 t;
	int			 rc = 1, control = 0, n = 0;

	log_init("scepd", args->level);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "scepd-worker");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		goto out;
	}
	if ((cfg = config_load(args->config, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	if (privdrop_to(cfg->user) == -1)
		goto out;
	/* A change of user clears it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signer_ipc_init(PROCS_WORKER_CHANNEL_FD);
	if ((svc = service_new(cfg)) == NULL)
		goto out;
	if (args->instance != NULL &&
	    (n = store_recover_owner(svc->store, args->instance)) == -1)
		goto out;
	if (n > 0)
		log_warnx("%d transaction(s) of the worker that died marked "
		    "failed; clients will retry", n);
	if (args->check) {
		rc = 0;
		goto out;
	}
	if (pthread_create(&t, NULL, worker_control, svc) != 0) {
		log_error("cannot start the control thread");
		goto out;
	}
	control = 1;
	worker_limits(cfg, &lim);
	if ((hs = http_start_fd(svc, PROCS_WORKER_LISTEN_FD, &lim)) == NULL)
		goto out;
	if (write(PROCS_WORKER_CONTROL_FD, &ready, 1) != 1) {
		log_error("cannot tell the parent the worker is ready");
		http_stop(hs);
		goto out;
	}
	if (worker_wait_for_stop(svc) == 0)
		rc = 0;
	http_stop(hs);
 out:
	if (control) {
		/* Its read ends; then nothing uses svc any more. */
		shutdown(PROCS_WORKER_CONTROL_FD, SHUT_RDWR);
		pthread_join(t, NULL);
	}
	service_free(svc);
	config_free(cfg);
	curl_global_cleanup();
	return rc;
}
