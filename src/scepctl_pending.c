/*
 * scepctl pending: the operator's queue of held requests.  Approving
 * marks the request; scepd issues the certificate when the client
 * polls next, so the CA key is only ever used by the server.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "scepctl.h"
#include "store.h"

#define PENDING_REASON_MAX	256

static void
pending_usage(FILE *f)
{
	fprintf(f,
"usage: scepctl pending list --config FILE [--all]\n"
"       scepctl pending show --config FILE ID\n"
"       scepctl pending approve --config FILE ID\n"
"       scepctl pending reject --config FILE ID --reason TEXT\n"
"\n"
"list shows requests held for an operator (--all: also decided and\n"
"expired ones).  An approved request is issued when its client polls\n"
"again; a rejected one gets FAILURE.  Works while scepd runs.\n");
}

static int
pending_print(const struct store_row *r, void *arg)
{
	char	created[32], expires[32];
	time_t	now = *(time_t *)arg;
	const char *state = store_txn_state_name(r->state);

	if (r->state == STORE_TXN_PENDING && r->expires_at <= now)
		state = "expired";
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\n", r->id, state,
	    scepctl_time(r->created_at, created, sizeof(created)),
	    scepctl_time(r->expires_at, expires, sizeof(expires)),
	    r->client ? r->client : "-", r->rule ? r->rule : "-",
	    r->subject ? r->subject : "");
	return 0;
}

static int
pending_show(struct store *st, long long id)
{
	struct store_row	 r;
	const unsigned char	*p;
	X509_REQ		*csr = NULL;
	BIO			*out;
	char			 a[32], b[32];
	int			 rc;

	if ((rc = store_pending_get(st, id, &r)) != 0) {
		if (rc == 1)
			fprintf(stderr, "scepctl pending: no request %lld\n",
			    id);
		return SCEPCTL_EXIT_FAIL;
	}
	printf("id: %lld\nstate: %s\ntransactionID: %s\nkind: %s\n"
	    "subject: %s\nclient: %s\nrule: %s\nprofile: %s\nreason: %s\n"
	    "created: %s\nexpires: %s\ndecided by: %s\n", r.id,
	    store_txn_state_name(r.state), r.txid, r.kind,
	    r.subject ? r.subject : "", r.client ? r.client : "-",
	    r.rule ? r.rule : "-", r.profile ? r.profile : "-",
	    r.reason ? r.reason : "-",
	    scepctl_time(r.created_at, a, sizeof(a)),
	    scepctl_time(r.expires_at, b, sizeof(b)),
	    r.decided_by ? r.decided_by : "-");
	p = r.csr;
	if (p != NULL && (csr = d2i_X509_REQ(NULL, &p, (long)r.csr_len)) !=
	    NULL && (out = BIO_new_fp(stdout, BIO_NOCLOSE)) != NULL) {
		/* The request as the operator must judge it. */
		X509_REQ_print_ex(out, csr, XN_FLAG_RFC2253,
		    X509_FLAG_NO_SIGDUMP | X509_FLAG_NO_ATTRIBUTES);
		BIO_free(out);
	}
	X509_REQ_free(csr);
	store_row_clear(&r);
	return SCEPCTL_EXIT_OK;
}

static int
pending_decide(struct scepd_config *cfg, struct store *st, long long id,
    int approve, const char *reason)
{
	struct store_row	 r;
	struct audit		*au;
	struct audit_entry	 e;
	int			 rc;

	if ((rc = store_pending_decide(st, id, approve, reason,
	    scepctl_operator(), time(NULL))) == -1)
		return SCEPCTL_EXIT_FAIL;
	if (rc == 1) {
		fprintf(stderr, "scepctl pending: request %lld is not pending "
		    "(unknown, decided or expired): see pending show\n", id);
		return SCEPCTL_EXIT_FAIL;
	}
	if (store_pending_get(st, id, &r) != 0)
		return SCEPCTL_EXIT_FAIL;
	if ((au = audit_open(cfg->audit_log)) != NULL) {
		memset(&e, 0, sizeof(e));
		e.txid = r.txid;
		e.subject = r.subject;
		e.client = r.client;
		e.rule = r.rule;
		e.decision = approve ? "approved" : "denied";
		e.reason = reason;
		e.operator_name = scepctl_operator();
		audit_log(au, &e);
		audit_close(au);
	}
	printf("request %lld %s\n", id, approve ? "approved: issued when "
	    "the client polls" : "rejected");
	store_row_clear(&r);
	return SCEPCTL_EXIT_OK;
}

int
scepctl_pending(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scepd_config	*cfg = NULL;
	struct store		*st = NULL;
	const char		*config = NULL, *reason = NULL, *sub;
	char			*end;
	long long		 id = 0;
	time_t			 now = time(NULL);
	int			 ch, all = 0, rc = SCEPCTL_EXIT_USAGE;

	sub = argc > 1 ? argv[1] : "";
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'r': reason = optarg; break;
		case 'a': all = 1; break;
		case 'h':
			pending_usage(stdout);
			return SCEPCTL_EXIT_OK;
		default:
			pending_usage(stderr);
			return SCEPCTL_EXIT_USAGE;
		}
	}
	if (optind + 1 == argc &&
	    ((id = strtoll(argv[optind], &end, 10)) <= 0 || *end != '\0'))
		id = -1;
	if (config == NULL || id == -1 || (reason != NULL &&
	    (strcmp(sub, "reject") != 0 || *reason == '\0' ||
	    strlen(reason) > PENDING_REASON_MAX)) ||
	    (strcmp(sub, "reject") == 0 && reason == NULL)) {
		fprintf(stderr, "scepctl pending: --config is required, ID is "
		    "a number, reject needs --reason TEXT (at most %d "
		    "characters)\n", PENDING_REASON_MAX);
		pending_usage(stderr);
		return SCEPCTL_EXIT_USAGE;
	}
	if (scepctl_open(config, &cfg, &st) == -1)
		return SCEPCTL_EXIT_FAIL;
	if (strcmp(sub, "list") == 0 && optind == argc) {
		printf("id\tstate\tcreated\texpires\tclient\trule\tsubject\n");
		rc = store_pending_foreach(st, all, pending_print, &now) == 0 ?
		    SCEPCTL_EXIT_OK : SCEPCTL_EXIT_FAIL;
	} else if (strcmp(sub, "show") == 0 && id > 0)
		rc = pending_show(st, id);
	else if (strcmp(sub, "approve") == 0 && id > 0)
		rc = pending_decide(cfg, st, id, 1, NULL);
	else if (strcmp(sub, "reject") == 0 && id > 0)
		rc = pending_decide(cfg, st, id, 0, reason);
	else
		pending_usage(stderr);
	scepctl_close(cfg, st);
	return rc;
}
