/*
 * scepd: the SCEP server.  Runs in the foreground, logs to stderr,
 * stops cleanly on SIGTERM or SIGINT: in-flight requests finish, every
 * other accepted one is answered (see http_stop()).
 */
#include <sys/stat.h>

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "service.h"
#include "signer.h"
#include "version.h"

#define SCEPD_EXIT_OK		0
#define SCEPD_EXIT_FAIL		1
#define SCEPD_EXIT_USAGE	2

static void
scepd_usage(FILE *f)
{
	fprintf(f,
"usage: scepd --config FILE [--listen ADDR:PORT] [--check] [--verbose]\n"
"\n"
"A SCEP (RFC 8894) certificate authority whose CA and RA keys stay in a\n"
"PKCS#11 token.  Serves in the foreground and logs to standard error.\n"
"\n"
"  -c, --config FILE       scepd.conf (libconfig syntax; see README)\n"
"  -l, --listen ADDR:PORT  overrides server.listen, e.g. 127.0.0.1:8080\n"
"                          or [::1]:8080\n"
"      --check             load the configuration, open the database and\n"
"                          prove the token's keys, then exit\n"
"  -v, --verbose           debug logging\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n"
"\n"
"Signals: SIGTERM and SIGINT stop accepting, let the PKIOperations under\n"
"way finish, answer every other request already accepted with 503 and\n"
"Retry-After, and exit;\n"
"SIGHUP reloads the policy file (an invalid one is refused, and the\n"
"policy in force stays) and, if the token refused the PIN, reads the PIN\n"
"file and tries it again at once.\n"
"Exit status: 0 after a clean stop, 1 on a start-up or runtime failure,\n"
"2 on a usage error.\n");
}

/* The server group of the configuration, as the HTTP front takes it. */
static void
scepd_limits(const struct scepd_config *cfg, struct http_limits *lim)
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

/* Waits for SIGTERM or SIGINT; SIGHUP reloads the policy meanwhile. */
static int
scepd_wait_for_stop(struct service *svc)
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
			signer_retry_pin(svc->signer);
			continue;
		}
		log_info("%s: stopping after in-flight requests",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return 0;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "check", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct scepd_config	*cfg = NULL;
	struct service		*svc = NULL;
	struct http_server	*hs = NULL;
	struct http_limits	 lim;
	const char		*config = NULL, *listen = NULL;
	char			 err[1024];
	sigset_t		 set;
	int			 ch, check = 0, rc = SCEPD_EXIT_FAIL;
	enum log_level		 level = LOG_LEVEL_INFO;

	while ((ch = getopt_long(argc, argv, "c:l:vhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'l': listen = optarg; break;
		case 'C': check = 1; break;
		case 'v': level = LOG_LEVEL_DEBUG; break;
		case 'h':
			scepd_usage(stdout);
			return SCEPD_EXIT_OK;
		case 'V':
			printf("scepd %s\n", SCEPD_VERSION);
			return SCEPD_EXIT_OK;
		default:
			scepd_usage(stderr);
			return SCEPD_EXIT_USAGE;
		}
	}
	if (optind != argc || config == NULL) {
		scepd_usage(stderr);
		return SCEPD_EXIT_USAGE;
	}
	log_init("scepd", level);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* Block the stop signals in every thread; main waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* Before any thread: libcurl's global state (webhooks). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		goto out;
	}
	if ((cfg = config_load(config, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	if ((svc = service_new(cfg)) == NULL)
		goto out;
	if (check) {
		log_info("configuration, database and token keys are usable");
		rc = SCEPD_EXIT_OK;
		goto out;
	}
	scepd_limits(cfg, &lim);
	if ((hs = http_start(svc, listen ? listen : cfg->listen, &lim)) ==
	    NULL)
		goto out;
	log_info("scepd %s ready", SCEPD_VERSION);
	if (scepd_wait_for_stop(svc) == 0)
		rc = SCEPD_EXIT_OK;
	http_stop(hs);
	log_info("stopped");
 out:
	service_free(svc);
	config_free(cfg);
	curl_global_cleanup();
	return rc;
}
