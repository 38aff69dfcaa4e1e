/*
 * scepctl: the administration tool.  Every subcommand but init works
 * on the token and database named by the same --config as scepd.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "challenge.h"
#include "config.h"
#include "log.h"
#include "scepctl.h"
#include "store.h"
#include "version.h"

static void
scepctl_usage(FILE *f)
{
	fprintf(f,
"usage: scepctl COMMAND [options]\n"
"\n"
"commands:\n"
"  init --dir DIR [...]             provision a new CA (scepctl init --help)\n"
"  cert list --config FILE          list issued certificates\n"
"  cert show --config FILE SERIAL   print an issued certificate (PEM)\n"
"  challenge hash                   read a challenge password on standard\n"
"                                   input, print its hash for scepd.conf\n"
"  help, --help                     this text\n"
"  --version                        print the version\n"
"\n"
"Exit status: 0 on success, 1 on failure, 2 on a usage error.\n");
}

/* Parses "--config FILE" for the subcommands that take it. */
static struct scepd_config *
scepctl_config(int argc, char *argv[], int *next)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct scepd_config	*cfg;
	const char		*path = NULL;
	char			 err[512];
	int			 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch != 'c')
			return NULL;
		path = optarg;
	}
	*next = optind;
	if (path == NULL) {
		fprintf(stderr, "scepctl: --config FILE is required\n");
		return NULL;
	}
	if ((cfg = config_load(path, err, sizeof(err))) == NULL)
		fprintf(stderr, "scepctl: %s\n", err);
	return cfg;
}

static int
scepctl_print_cert(const struct store_cert *c, const char *txid, void *arg)
{
	char	nb[32], na[32];
	struct tm tm;

	(void)arg;
	gmtime_r(&c->not_before, &tm);
	strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&c->not_after, &tm);
	strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\t%s\t%s\t%s\t%s\n", c->serial, nb, na, txid ? txid : "-",
	    c->subject ? c->subject : "");
	return 0;
}

static int
scepctl_cert(int argc, char *argv[])
{
	struct scepd_config	*cfg;
	struct store		*st = NULL;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	X509			*x = NULL;
	size_t			 len;
	int			 next, rc = SCEPCTL_EXIT_FAIL;
	const char		*sub = argc > 1 ? argv[1] : "";

	if ((cfg = scepctl_config(argc - 1, argv + 1, &next)) == NULL)
		return SCEPCTL_EXIT_USAGE;
	next++;
	if ((st = store_open(cfg->db_path)) == NULL)
		goto out;
	if (strcmp(sub, "list") == 0 && next == argc) {
		printf("serial\tnot_before\tnot_after\ttransaction\tsubject\n");
		if (store_cert_foreach(st, scepctl_print_cert, NULL) == 0)
			rc = SCEPCTL_EXIT_OK;
	} else if (strcmp(sub, "show") == 0 && next + 1 == argc) {
		for (char *c = argv[next]; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' :
			    *c);
		if ((der = store_cert_get_der(st, argv[next], &len)) == NULL) {
			fprintf(stderr, "scepctl: no certificate with serial "
			    "%s\n", argv[next]);
			goto out;
		}
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)len)) != NULL &&
		    PEM_write_X509(stdout, x) == 1)
			rc = SCEPCTL_EXIT_OK;
	} else {
		scepctl_usage(stderr);
		rc = SCEPCTL_EXIT_USAGE;
	}
 out:
	X509_free(x);
	free(der);
	store_close(st);
	config_free(cfg);
	return rc;
}

static int
scepctl_challenge(int argc, char *argv[])
{
	char	 buf[CHALLENGE_MAX_LEN + 2];
	char	*hash;
	size_t	 len;

	if (argc != 2 || strcmp(argv[1], "hash") != 0) {
		scepctl_usage(stderr);
		return SCEPCTL_EXIT_USAGE;
	}
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "challenge password: ");
	if (fgets(buf, sizeof(buf), stdin) == NULL) {
		fprintf(stderr, "scepctl: no challenge on standard input\n");
		return SCEPCTL_EXIT_FAIL;
	}
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0 || len > CHALLENGE_MAX_LEN) {
		OPENSSL_cleanse(buf, sizeof(buf));
		fprintf(stderr, "scepctl: the challenge must be 1 to %d "
		    "characters\n", CHALLENGE_MAX_LEN);
		return SCEPCTL_EXIT_FAIL;
	}
	hash = challenge_hash_new(buf, len);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (hash == NULL)
		return SCEPCTL_EXIT_FAIL;
	printf("%s\n", hash);
	free(hash);
	return SCEPCTL_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	const char	*cmd;

	log_init("scepctl", LOG_LEVEL_INFO);
	if (argc < 2) {
		scepctl_usage(stderr);
		return SCEPCTL_EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "init") == 0)
		return scepctl_init(argc - 1, argv + 1);
	if (strcmp(cmd, "cert") == 0)
		return scepctl_cert(argc - 1, argv + 1);
	if (strcmp(cmd, "challenge") == 0)
		return scepctl_challenge(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		scepctl_usage(stdout);
		return SCEPCTL_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("scepctl %s\n", SCEPD_VERSION);
		return SCEPCTL_EXIT_OK;
	}
	fprintf(stderr, "scepctl: unknown command \"%s\"\n", cmd);
	scepctl_usage(stderr);
	return SCEPCTL_EXIT_USAGE;
}
