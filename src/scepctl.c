/*
 * scepctl: the administration tool.  Every subcommand but init works
 * on the token and database named by the same --config as scepd, and
 * can run while scepd does.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

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
"  init --dir DIR [...]                  provision a new CA\n"
"  cert list --config FILE               list issued certificates\n"
"  cert show --config FILE SERIAL        print an issued certificate (PEM)\n"
"  otp issue|list|revoke --config FILE   one-time passwords\n"
"  pending list|show|approve|reject --config FILE   held requests\n"
"  policy check FILE                     validate a policy file\n"
"  policy explain --config FILE --csr F  which rule decides, and why\n"
"  challenge hash                        hash a challenge for a policy\n"
"  challenge derive --config FILE --subject DN   an hmac challenge\n"
"  hsm verify|backup|restore --config FILE   the SoftHSM token's copy\n"
"  help, --help                          this text; COMMAND --help: more\n"
"  --version                             print the version\n"
"\n"
"Exit status: 0 on success, 1 on failure, 2 on a usage error.\n");
}

int
scepctl_open(const char *config, struct scepd_config **cfg, struct store **st)
{
	char	err[1024];

	*st = NULL;
	if ((*cfg = config_load(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "scepctl: %s\n", err);
		return -1;
	}
	if ((*st = store_open((*cfg)->db_path)) == NULL) {
		config_free(*cfg);
		*cfg = NULL;
		return -1;
	}
	return 0;
}

void
scepctl_close(struct scepd_config *cfg, struct store *st)
{
	store_close(st);
	config_free(cfg);
}

const char *
scepctl_time(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (t == 0)
		return "-";
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *
scepctl_operator(void)
{
	static char	 name[64];
	struct passwd	*pw;
	const char	*sudo = getenv("SUDO_USER");

	if (sudo != NULL && *sudo != '\0')
		snprintf(name, sizeof(name), "%s", sudo);
	else if ((pw = getpwuid(getuid())) != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid %u", (unsigned)getuid());
	return name;
}

static int
scepctl_print_cert(const struct store_cert *c, const char *txid, void *arg)
{
	char	nb[32], na[32];

	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\n", c->serial,
	    scepctl_time(c->not_before, nb, sizeof(nb)),
	    scepctl_time(c->not_after, na, sizeof(na)), txid ? txid : "-",
	    c->subject ? c->subject : "");
	return 0;
}

static int
scepctl_cert_show(struct store *st, char *serial)
{
	unsigned char		*der;
	const unsigned char	*p;
	X509			*x = NULL;
	size_t			 len;
	int			 rc = SCEPCTL_EXIT_FAIL;

	for (char *c = serial; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	if ((der = store_cert_get_der(st, serial, &len)) == NULL) {
		fprintf(stderr, "scepctl: no certificate with serial %s\n",
		    serial);
		return SCEPCTL_EXIT_FAIL;
	}
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL &&
	    PEM_write_X509(stdout, x) == 1)
		rc = SCEPCTL_EXIT_OK;
	X509_free(x);
	free(der);
	return rc;
}

static int
scepctl_cert(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct scepd_config	*cfg;
	struct store		*st;
	const char		*config = NULL, *sub = argc > 1 ? argv[1] : "";
	int			 ch, rc = SCEPCTL_EXIT_USAGE;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'c') {
			scepctl_usage(stderr);
			return SCEPCTL_EXIT_USAGE;
		}
		config = optarg;
	}
	if (config == NULL) {
		fprintf(stderr, "scepctl cert: --config FILE is required\n");
		return SCEPCTL_EXIT_USAGE;
	}
	if (scepctl_open(config, &cfg, &st) == -1)
		return SCEPCTL_EXIT_FAIL;
	if (strcmp(sub, "list") == 0 && optind == argc) {
		printf("serial\tnot_before\tnot_after\ttransaction\tsubject\n");
		rc = store_cert_foreach(st, scepctl_print_cert, NULL) == 0 ?
		    SCEPCTL_EXIT_OK : SCEPCTL_EXIT_FAIL;
	} else if (strcmp(sub, "show") == 0 && optind + 1 == argc)
		rc = scepctl_cert_show(st, argv[optind]);
	else
		scepctl_usage(stderr);
	scepctl_close(cfg, st);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char *[]);
	} commands[] = {
		{ "init", scepctl_init },
		{ "cert", scepctl_cert },
		{ "otp", scepctl_otp },
		{ "pending", scepctl_pending },
		{ "policy", scepctl_policy },
		{ "challenge", scepctl_challenge },
		{ "hsm", scepctl_hsm },
	};
	const char	*cmd;
	size_t		 i;

	log_init("scepctl", LOG_LEVEL_INFO);
	if (argc < 2) {
		scepctl_usage(stderr);
		return SCEPCTL_EXIT_USAGE;
	}
	cmd = argv[1];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
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
