/*
 * scepctl policy and scepctl challenge: checking a policy file,
 * explaining what it would decide for a CSR, and making challenges
 * (scrypt hashes for static ones, derived ones for the hmac kind).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certbuild.h"
#include "challenge.h"
#include "challenge_check.h"
#include "config.h"
#include "issue.h"
#include "log.h"
#include "policy.h"
#include "scepctl.h"
#include "store.h"

#define EXPLAIN_TRACE_MAX	8192

static void
policy_usage(FILE *f)
{
	fprintf(f,
"usage: scepctl policy check FILE\n"
"       scepctl policy explain --config FILE --csr CSR.pem [--renewal]\n"
"                              [--client ADDR] [--challenge X]\n"
"       scepctl challenge hash\n"
"       scepctl challenge derive --config FILE --subject DN [--name NAME]\n"
"\n"
"check validates a policy file and prints its errors with line numbers.\n"
"explain shows which rule would decide for the CSR and why, and whether\n"
"the challenge would pass, without issuing or using up anything (the\n"
"challenge may also come from the environment variable\n"
"SCEPCTL_CHALLENGE, which keeps it out of the process list).\n"
"challenge hash reads a challenge on standard input and prints the\n"
"scrypt hash for a static challenge; challenge derive prints the\n"
"challenge of an hmac challenge for a subject.\n");
}

static int
policy_check(const char *path)
{
	struct policy	*pol;
	char		 err[1024];

	if ((pol = policy_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return SCEPCTL_EXIT_FAIL;
	}
	printf("%s: OK: %zu rule(s), %zu challenge(s), %zu profile(s)\n",
	    pol->path, pol->n_rules, pol->n_challenges, pol->n_profiles);
	policy_free(pol);
	return SCEPCTL_EXIT_OK;
}

struct explain_view {
	struct store	*st;
	X509_REQ	*csr;
};

static int
explain_active_count(void *arg, const struct issue_profile *pf)
{
	struct explain_view	*v = arg;
	X509_NAME		*name;
	char			*text = NULL;
	int			 rc = -1;

	if ((name = issue_subject_new(v->csr, pf)) != NULL &&
	    (text = certbuild_name_text_new(name)) != NULL)
		rc = store_active_count(v->st, text, NULL, NULL,
		    time(NULL));
	X509_NAME_free(name);
	free(text);
	return rc;
}

static X509_REQ *
explain_read_csr(const char *path)
{
	FILE		*f;
	X509_REQ	*csr;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return NULL;
	}
	csr = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	if (csr == NULL)
		fprintf(stderr, "%s: no PEM certificate request\n", path);
	return csr;
}

static void
explain_challenge(const struct policy_rule *r, struct store *st,
    const struct policy_request *q, const char *challenge)
{
	struct challenge_check	cc;
	char			why[256];

	if (r->challenge == NULL) {
		printf("challenge: none required\n");
		return;
	}
	printf("challenge: %s (%s)\n", r->challenge->name,
	    policy_challenge_kind_name(r->challenge->kind));
	if (challenge == NULL) {
		printf("  not checked: give --challenge or SCEPCTL_CHALLENGE\n");
		return;
	}
	memset(&cc, 0, sizeof(cc));
	cc.c = r->challenge;
	cc.challenge = challenge;
	cc.len = strlen(challenge);
	cc.txid = "explain";
	cc.rule = r->name;
	cc.req = q;
	cc.store = st;
	cc.dry_run = 1;
	switch (challenge_check(&cc, why, sizeof(why))) {
	case CHALLENGE_OK:
		printf("  would pass%s%s\n", *why ? ": " : "", why);
		break;
	case CHALLENGE_REFUSED:
		printf("  would be refused: %s\n", why);
		break;
	default:
		printf("  could not be checked\n");
		break;
	}
}

static int
policy_explain(const char *config, const char *csr_path, int renewal,
    const char *client, const char *challenge)
{
	struct scepd_config	*cfg = NULL;
	struct store		*st = NULL;
	struct policy		*pol = NULL;
	struct policy_request	 q;
	struct policy_decision	 d;
	struct explain_view	 ev = { NULL, NULL };
	struct policy_view	 view = { explain_active_count, &ev };
	struct policy_cidr	 addr;
	char			*subject = NULL, err[1024];
	char			*trace = NULL;
	int			 rc = SCEPCTL_EXIT_FAIL;

	memset(&q, 0, sizeof(q));
	if ((ev.csr = explain_read_csr(csr_path)) == NULL ||
	    scepctl_open(config, &cfg, &st) == -1)
		goto out;
	ev.st = st;
	if ((pol = policy_load(cfg->policy_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if ((subject = certbuild_name_text_new(
	    X509_REQ_get_subject_name(ev.csr))) == NULL ||
	    policy_request_from_csr(&q, ev.csr, subject) == -1 ||
	    (trace = calloc(1, EXPLAIN_TRACE_MAX)) == NULL) {
		fprintf(stderr, "scepctl: the CSR's key is not RSA or EC\n");
		goto out;
	}
	q.renewal = renewal;
	if (client != NULL) {
		if (policy_cidr_parse(client, &addr) == -1 ||
		    strchr(client, '/') != NULL) {
			fprintf(stderr, "scepctl: --client is an address\n");
			goto out;
		}
		q.client = addr.net;
		q.has_client = 1;
	}
	printf("request: subject \"%s\", %s %d-bit key, %zu DNS and %zu IP "
	    "name(s), %s\n", subject, q.key_type == POLICY_KEY_RSA ? "RSA" :
	    "EC", q.key_bits, q.n_san_dns, q.n_san_ip, renewal ? "renewal" :
	    "initial enrollment");
	if (policy_evaluate(pol, &q, &view, &d, trace, EXPLAIN_TRACE_MAX) == -1)
		goto out;
	fputs(trace, stdout);
	printf("decision: %s: %s\n", policy_action_name(d.action), d.reason);
	if (d.rule != NULL && d.action != POLICY_REJECT) {
		printf("profile: %s\n", d.rule->profile->name);
		explain_challenge(d.rule, st, &q, challenge);
	}
	rc = SCEPCTL_EXIT_OK;
 out:
	free(trace);
	policy_request_clear(&q);
	free(subject);
	policy_free(pol);
	X509_REQ_free(ev.csr);
	scepctl_close(cfg, st);
	return rc;
}

int
scepctl_policy(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "csr", required_argument, NULL, 'r' },
		{ "renewal", no_argument, NULL, 'R' },
		{ "client", required_argument, NULL, 'a' },
		{ "challenge", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*sub = argc > 1 ? argv[1] : "";
	const char	*config = NULL, *csr = NULL, *client = NULL;
	const char	*challenge = getenv("SCEPCTL_CHALLENGE");
	int		 ch, renewal = 0;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'r': csr = optarg; break;
		case 'R': renewal = 1; break;
		case 'a': client = optarg; break;
		case 'x': challenge = optarg; break;
		case 'h':
			policy_usage(stdout);
			return SCEPCTL_EXIT_OK;
		default:
			policy_usage(stderr);
			return SCEPCTL_EXIT_USAGE;
		}
	}
	if (strcmp(sub, "check") == 0 && optind + 1 == argc)
		return policy_check(argv[optind]);
	if (strcmp(sub, "explain") == 0 && optind == argc && config != NULL &&
	    csr != NULL)
		return policy_explain(config, csr, renewal, client,
		    challenge && *challenge ? challenge : NULL);
	policy_usage(stderr);
	return SCEPCTL_EXIT_USAGE;
}

static int
challenge_hash_stdin(void)
{
	char	 buf[CHALLENGE_MAX_LEN + 2];
	char	*hash;
	size_t	 len;

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

static int
challenge_derive(const char *config, const char *dn, const char *name)
{
	struct scepd_config		*cfg = NULL;
	struct policy			*pol = NULL;
	const struct policy_challenge	*c = NULL;
	X509_NAME			*subject = NULL;
	char				*text = NULL, err[1024];
	char				 out[CHALLENGE_HMAC_HEX + 1];
	size_t				 i;
	int				 rc = SCEPCTL_EXIT_FAIL;

	if ((cfg = config_load(config, err, sizeof(err))) == NULL ||
	    (pol = policy_load(cfg->policy_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	for (i = 0; i < pol->n_challenges; i++) {
		if (pol->challenges[i].kind != POLICY_CHALLENGE_HMAC ||
		    (name != NULL && strcmp(name, pol->challenges[i].name)))
			continue;
		if (c != NULL) {
			fprintf(stderr, "scepctl: several hmac challenges: "
			    "choose one with --name\n");
			goto out;
		}
		c = &pol->challenges[i];
	}
	if (c == NULL) {
		fprintf(stderr, "scepctl: the policy has no hmac challenge%s%s\n",
		    name ? " named " : "", name ? name : "");
		goto out;
	}
	if ((subject = certbuild_name_parse(dn)) == NULL ||
	    (text = certbuild_name_text_new(subject)) == NULL ||
	    challenge_hmac_derive(c->hmac_key, c->hmac_key_len, text,
	    out) == -1)
		goto out;
	printf("%s\n", out);
	OPENSSL_cleanse(out, sizeof(out));
	rc = SCEPCTL_EXIT_OK;
 out:
	X509_NAME_free(subject);
	free(text);
	policy_free(pol);
	config_free(cfg);
	return rc;
}

int
scepctl_challenge(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "subject", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*sub = argc > 1 ? argv[1] : "";
	const char	*config = NULL, *subject = NULL, *name = NULL;
	int		 ch;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 's': subject = optarg; break;
		case 'n': name = optarg; break;
		default:
			policy_usage(stderr);
			return SCEPCTL_EXIT_USAGE;
		}
	}
	if (strcmp(sub, "hash") == 0 && optind == argc)
		return challenge_hash_stdin();
	if (strcmp(sub, "derive") == 0 && optind == argc && config != NULL &&
	    subject != NULL)
		return challenge_derive(config, subject, name);
	policy_usage(stderr);
	return SCEPCTL_EXIT_USAGE;
}
