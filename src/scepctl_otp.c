/*
 * scepctl otp: one-time passwords for the "otp" challenge kind.  An
 * OTP is printed once, when it is made; only its hash is stored.
 */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "challenge.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "scepctl.h"
#include "store.h"

#define OTP_MAX_COUNT		1000
#define OTP_DEFAULT_TTL		"24h"

static void
otp_usage(FILE *f)
{
	fprintf(f,
"usage: scepctl otp issue --config FILE [--subject-pattern RE] [--ttl 1h]\n"
"                         [--count N]\n"
"       scepctl otp list --config FILE\n"
"       scepctl otp revoke --config FILE ID\n"
"\n"
"issue prints ID, the one-time password and its expiry, one per line;\n"
"the password is shown only then.  --subject-pattern binds it to\n"
"subjects matching a POSIX extended regular expression (on the RFC 2253\n"
"form, e.g. \"^CN=rtr-[0-9]+,\"); --ttl defaults to %s.\n",
	    OTP_DEFAULT_TTL);
}

static int
otp_issue(struct store *st, const char *pattern, long ttl, int count)
{
	char		 otp[CHALLENGE_OTP_HEX + 1], hash[65], when[32];
	time_t		 expires = time(NULL) + ttl;
	long long	 id;
	int		 i;

	for (i = 0; i < count; i++) {
		if (challenge_otp_new(otp) == -1 ||
		    challenge_otp_hash(otp, strlen(otp), hash) == -1 ||
		    store_otp_add(st, hash, pattern, expires, &id) == -1) {
			OPENSSL_cleanse(otp, sizeof(otp));
			return -1;
		}
		printf("%lld\t%s\t%s\n", id, otp,
		    scepctl_time(expires, when, sizeof(when)));
		OPENSSL_cleanse(otp, sizeof(otp));
	}
	return 0;
}

static int
otp_print(const struct store_otp *o, void *arg)
{
	char		 created[32], expires[32], state[128];
	time_t		*now = arg;

	if (o->revoked_at != 0)
		snprintf(state, sizeof(state), "revoked");
	else if (o->used_at != 0)
		snprintf(state, sizeof(state), "used:%s", o->used_txid ?
		    o->used_txid : "?");
	else if (o->expires_at <= *now)
		snprintf(state, sizeof(state), "expired");
	else
		snprintf(state, sizeof(state), "unused");
	printf("%lld\t%s\t%s\t%s\t%s\n", o->id,
	    scepctl_time(o->created_at, created, sizeof(created)),
	    scepctl_time(o->expires_at, expires, sizeof(expires)), state,
	    o->subject_pattern ? o->subject_pattern : "*");
	return 0;
}

int
scepctl_otp(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "subject-pattern", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scepd_config	*cfg = NULL;
	struct store		*st = NULL;
	const char		*config = NULL, *pattern = NULL;
	const char		*ttl_text = OTP_DEFAULT_TTL, *sub;
	char			*end;
	regex_t			 re;
	long			 ttl, id;
	time_t			 now = time(NULL);
	int			 ch, count = 1, r, rc = SCEPCTL_EXIT_FAIL;

	sub = argc > 1 ? argv[1] : "";
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 's': pattern = optarg; break;
		case 't': ttl_text = optarg; break;
		case 'n':
			count = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || count < 1 || count > OTP_MAX_COUNT)
				count = -1;
			break;
		case 'h':
			otp_usage(stdout);
			return SCEPCTL_EXIT_OK;
		default:
			otp_usage(stderr);
			return SCEPCTL_EXIT_USAGE;
		}
	}
	if (config == NULL || count == -1 ||
	    (ttl = policy_duration_parse(ttl_text)) <= 0) {
		fprintf(stderr, "scepctl otp: --config is required; --count is "
		    "1 to %d; --ttl is like 30m, 12h, 7d\n", OTP_MAX_COUNT);
		return SCEPCTL_EXIT_USAGE;
	}
	if (pattern != NULL) {
		if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
			fprintf(stderr, "scepctl otp: --subject-pattern is not "
			    "a valid regular expression\n");
			return SCEPCTL_EXIT_USAGE;
		}
		regfree(&re);
	}
	if (scepctl_open(config, &cfg, &st) == -1)
		return SCEPCTL_EXIT_FAIL;
	if (strcmp(sub, "issue") == 0 && optind == argc)
		rc = otp_issue(st, pattern, ttl, count) == 0 ?
		    SCEPCTL_EXIT_OK : SCEPCTL_EXIT_FAIL;
	else if (strcmp(sub, "list") == 0 && optind == argc) {
		printf("id\tcreated\texpires\tstate\tsubject_pattern\n");
		rc = store_otp_foreach(st, otp_print, &now) == 0 ?
		    SCEPCTL_EXIT_OK : SCEPCTL_EXIT_FAIL;
	} else if (strcmp(sub, "revoke") == 0 && optind + 1 == argc &&
	    (id = strtol(argv[optind], &end, 10)) > 0 && *end == '\0') {
		if ((r = store_otp_revoke(st, id, now)) == 0) {
			printf("one-time password %ld revoked\n", id);
			rc = SCEPCTL_EXIT_OK;
		} else if (r == 1)
			fprintf(stderr, "scepctl otp: no unrevoked one-time "
			    "password %ld\n", id);
	} else {
		otp_usage(stderr);
		rc = SCEPCTL_EXIT_USAGE;
	}
	scepctl_close(cfg, st);
	return rc;
}
