/*
 * scepd: the SCEP server.  Runs in the foreground, logs to stderr,
 * stops cleanly on SIGTERM or SIGINT: in-flight requests finish, every
 * other accepted one is answered (see http_stop()).  The process
 * started by hand is the parent; it starts the worker and the key
 * process (procs.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "procs.h"
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
"Processes: this one supervises; a worker (scepd-worker) serves HTTP and\n"
"never sees the PIN or the PKCS#11 module; the key process\n"
"(scepd-keyproc) alone uses the token; hsm.key_processes starts several\n"
"for an HSM that allows concurrent logins.  Each is restarted when it\n"
"dies.  Started as root, they run as server.user.\n"
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
		/* Started by scepd itself, see procs.h. */
		{ "worker", no_argument, NULL, 'W' },
		{ "instance", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	struct procs_args	 args;
	int			 ch, worker = 0;

	memset(&args, 0, sizeof(args));
	args.level = LOG_LEVEL_INFO;
	while ((ch = getopt_long(argc, argv, "c:l:vhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': args.config = optarg; break;
		case 'l': args.listen = optarg; break;
		case 'C': args.check = 1; break;
		case 'v': args.level = LOG_LEVEL_DEBUG; break;
		case 'W': worker = 1; break;
		case 'I': args.instance = optarg; break;
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
	if (optind != argc || args.config == NULL) {
		scepd_usage(stderr);
		return SCEPD_EXIT_USAGE;
	}
	if (worker)
		return worker_main(&args) == 0 ? SCEPD_EXIT_OK :
		    SCEPD_EXIT_FAIL;
	return parent_main(&args) == 0 ? SCEPD_EXIT_OK : SCEPD_EXIT_FAIL;
}
