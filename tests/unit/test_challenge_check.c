/*
 * Checking challenges of every kind: static, one-time passwords (with
 * a real store), HMAC of the subject, and webhooks both as a command
 * and over HTTP (against a small server in this test).
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "challenge.h"
#include "challenge_check.h"
#include "log.h"
#include "policy.h"
#include "store.h"
#include "testutil.h"

struct fixture {
	char		*dir;
	struct store	*st;
	struct policy_request q;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		*path;

	log_init("test_challenge_check", LOG_LEVEL_ERROR);
	f->dir = tu_temp_dir();
	if (asprintf(&path, "%s/db", f->dir) == -1 ||
	    (f->st = store_open(path)) == NULL)
		return -1;
	free(path);
	f->q.subject = "CN=dev-1,O=Example";
	f->q.key_type = POLICY_KEY_RSA;
	f->q.key_bits = 2048;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	store_close(f->st);
	tu_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static enum challenge_result
check(struct fixture *f, const struct policy_challenge *c,
    const char *challenge, const char *txid, char *why, size_t whylen)
{
	struct challenge_check	cc;

	memset(&cc, 0, sizeof(cc));
	cc.c = c;
	cc.challenge = challenge;
	cc.len = challenge ? strlen(challenge) : 0;
	cc.txid = txid;
	cc.client = "192.0.2.1";
	cc.rule = "r";
	cc.req = &f->q;
	cc.store = f->st;
	return challenge_check(&cc, why, whylen);
}

static void
test_static_challenge_needs_the_secret(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c;
	char			*hash = challenge_hash_new("s3cret", 6), why[256];

	memset(&c, 0, sizeof(c));
	c.kind = POLICY_CHALLENGE_STATIC;
	c.verifier = challenge_verifier_new(hash);
	assert_int_equal(check(f, &c, "s3cret", "t", why, sizeof(why)),
	    CHALLENGE_OK);
	assert_int_equal(check(f, &c, "s3creT", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_string_equal(why, "wrong challenge password");
	assert_int_equal(check(f, &c, NULL, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_string_equal(why, "the request has no challenge password");
	challenge_verifier_free(c.verifier);
	free(hash);
}

/* Adds an OTP with the given life and pattern; returns its id. */
static long long
add_otp(struct fixture *f, char *otp, long ttl, const char *pattern)
{
	char		hash[65];
	long long	id;

	assert_int_equal(challenge_otp_new(otp), 0);
	assert_int_equal(strlen(otp), CHALLENGE_OTP_HEX);
	assert_int_equal(challenge_otp_hash(otp, strlen(otp), hash), 0);
	assert_int_equal(store_otp_add(f->st, hash, pattern, time(NULL) + ttl,
	    &id), 0);
	return id;
}

static void
test_otp_is_good_for_one_transaction(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c = { .kind = POLICY_CHALLENGE_OTP };
	char			 otp[CHALLENGE_OTP_HEX + 1], why[256];

	add_otp(f, otp, 3600, NULL);
	assert_int_equal(check(f, &c, otp, "tx-1", why, sizeof(why)),
	    CHALLENGE_OK);
	/* The same client retrying the same transaction may reuse it. */
	assert_int_equal(check(f, &c, otp, "tx-1", why, sizeof(why)),
	    CHALLENGE_OK);
	assert_int_equal(check(f, &c, otp, "tx-2", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "already used"));
	assert_null(strstr(why, otp));
}

static void
test_otp_unknown_expired_revoked_or_bound_is_refused(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c = { .kind = POLICY_CHALLENGE_OTP };
	char			 otp[CHALLENGE_OTP_HEX + 1], why[256];
	long long		 id;

	assert_int_equal(check(f, &c, "0123456789abcdef0123456789abcdef",
	    "t", why, sizeof(why)), CHALLENGE_REFUSED);
	assert_string_equal(why, "unknown one-time password");
	add_otp(f, otp, -1, NULL);
	assert_int_equal(check(f, &c, otp, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "expired"));
	id = add_otp(f, otp, 3600, NULL);
	assert_int_equal(store_otp_revoke(f->st, id, time(NULL)), 0);
	assert_int_equal(check(f, &c, otp, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "revoked"));
	add_otp(f, otp, 3600, "^CN=rtr-");
	assert_int_equal(check(f, &c, otp, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "bound to other subjects"));
	add_otp(f, otp, 3600, "^CN=dev-[0-9]+,O=Example$");
	assert_int_equal(check(f, &c, otp, "t", why, sizeof(why)),
	    CHALLENGE_OK);
}

static void
test_otp_explain_uses_nothing_up(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c = { .kind = POLICY_CHALLENGE_OTP };
	struct challenge_check	 cc;
	char			 otp[CHALLENGE_OTP_HEX + 1], why[256];

	add_otp(f, otp, 3600, NULL);
	memset(&cc, 0, sizeof(cc));
	cc.c = &c;
	cc.challenge = otp;
	cc.len = strlen(otp);
	cc.txid = "explain";
	cc.req = &f->q;
	cc.store = f->st;
	cc.dry_run = 1;
	assert_int_equal(challenge_check(&cc, why, sizeof(why)), CHALLENGE_OK);
	assert_int_equal(check(f, &c, otp, "real", why, sizeof(why)),
	    CHALLENGE_OK);
}

static void
test_hmac_challenge_is_bound_to_the_subject(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c;
	char			 good[CHALLENGE_HMAC_HEX + 1], other[CHALLENGE_HMAC_HEX + 1];
	char			 why[256];

	memset(&c, 0, sizeof(c));
	c.kind = POLICY_CHALLENGE_HMAC;
	c.hmac_key = (unsigned char *)"0123456789abcdef-secret";
	c.hmac_key_len = strlen((char *)c.hmac_key);
	assert_int_equal(challenge_hmac_derive(c.hmac_key, c.hmac_key_len,
	    "CN=dev-1,O=Example", good), 0);
	assert_int_equal(challenge_hmac_derive(c.hmac_key, c.hmac_key_len,
	    "CN=dev-2,O=Example", other), 0);
	assert_string_not_equal(good, other);
	assert_int_equal(check(f, &c, good, "t", why, sizeof(why)),
	    CHALLENGE_OK);
	assert_int_equal(check(f, &c, other, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	good[31] = good[31] == '0' ? '1' : '0';
	assert_int_equal(check(f, &c, good, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	good[20] = '\0';
	assert_int_equal(check(f, &c, good, "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
}

/* A webhook command: a shell script written for the test. */
static char *
script(struct fixture *f, const char *name, const char *body)
{
	char	*path, *text;
	FILE	*fp;

	assert_true(asprintf(&path, "%s/%s", f->dir, name) > 0);
	assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, 0700);
	free(text);
	return path;
}

/*
 * A generous timeout: a busy machine must not turn an answer into a
 * timeout.  Only the test of the timeout itself uses a short one.
 */
#define COMMAND_TIMEOUT	60

static void
command_challenge(struct policy_challenge *c, char *path, int allow_on_error)
{
	static char	*argv[2];

	memset(c, 0, sizeof(*c));
	argv[0] = path;
	argv[1] = NULL;
	c->kind = POLICY_CHALLENGE_WEBHOOK;
	c->command = argv;
	c->timeout = COMMAND_TIMEOUT;
	c->allow_on_error = allow_on_error;
}

static void
test_webhook_command_allows_denies_and_sees_the_request(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c;
	char			*allow, *deny, *seen, doc[2048], why[256];
	FILE			*fp;
	size_t			 n;

	assert_true(asprintf(&seen, "%s/seen.json", f->dir) > 0);
	allow = script(f, "allow.sh", "cat > \"$(dirname \"$0\")/seen.json\"; "
	    "env > \"$(dirname \"$0\")/seen.env\"; echo 'device known'; "
	    "exit 0");
	setenv("SCEPD_TEST_PIN", "123456", 1);
	deny = script(f, "deny.sh", "cat >/dev/null; echo 'not in inventory';"
	    " exit 1");
	command_challenge(&c, allow, 0);
	assert_int_equal(check(f, &c, "pw-123", "tx-9", why, sizeof(why)),
	    CHALLENGE_OK);
	assert_string_equal(why, "device known");
	fp = fopen(seen, "r");
	assert_non_null(fp);
	n = fread(doc, 1, sizeof(doc) - 1, fp);
	doc[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(doc, "\"transactionID\":\"tx-9\""));
	assert_non_null(strstr(doc, "\"subject\":\"CN=dev-1,O=Example\""));
	assert_non_null(strstr(doc, "\"challenge\":\"pw-123\""));
	assert_non_null(strstr(doc, "\"client_address\":\"192.0.2.1\""));
	assert_non_null(strstr(doc, "\"key_bits\":2048"));
	/* The command inherits nothing of scepd's environment. */
	strcpy(seen + strlen(seen) - strlen("json"), "env");
	fp = fopen(seen, "r");
	assert_non_null(fp);
	n = fread(doc, 1, sizeof(doc) - 1, fp);
	doc[n] = '\0';
	fclose(fp);
	assert_null(strstr(doc, "SCEPD_TEST_PIN"));
	assert_non_null(strstr(doc, "PATH=/usr/local/bin:/usr/bin:/bin"));
	unsetenv("SCEPD_TEST_PIN");
	command_challenge(&c, deny, 1);
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_string_equal(why, "not in inventory");
	free(allow);
	free(deny);
	free(seen);
}

static void
test_webhook_command_errors_follow_on_error(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c;
	char			*broken, *slow, why[256];

	broken = script(f, "broken.sh", "exit 3");
	slow = script(f, "slow.sh", "exec sleep 120");
	command_challenge(&c, broken, 0);
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "exit status 3"));
	command_challenge(&c, broken, 1);
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_OK);
	command_challenge(&c, slow, 0);
	c.timeout = 1;
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "no answer within 1 s"));
	free(broken);
	free(slow);
}

/*
 * A command that exits without reading its input: the document (with
 * a subject larger than any pipe or socket buffer) cannot be written
 * whole.  With SIGPIPE at its default, as in a program that never set
 * it, the check must still return the command's answer.
 */
static void
test_webhook_command_that_does_not_read_raises_no_sigpipe(void **state)
{
	struct fixture		*f = *state;
	struct policy_challenge	 c;
	char			*quick, *big, why[256];
	const char		*subject;
	size_t			 len = 1024 * 1024;
	void			(*was)(int);

	quick = script(f, "quick.sh", "echo 'no need to read'; exit 0");
	big = malloc(len + 1);
	assert_non_null(big);
	memset(big, 'a', len);
	big[len] = '\0';
	was = signal(SIGPIPE, SIG_DFL);
	command_challenge(&c, quick, 0);
	subject = f->q.subject;
	f->q.subject = big;
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_OK);
	f->q.subject = subject;
	assert_string_equal(why, "no need to read");
	signal(SIGPIPE, was);
	free(big);
	free(quick);
}

/* --- a webhook server for the HTTP form ------------------------------ */

struct hook {
	unsigned int	 status;
	const char	*body;
	int		 delay;
	char		 seen[2048];
};

static enum MHD_Result
hook_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct hook		*h = cls;
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	(void)url;
	(void)method;
	(void)version;
	if (*con_cls == NULL) {
		*con_cls = h;
		h->seen[0] = '\0';
		return MHD_YES;
	}
	if (*upload_size > 0) {
		strncat(h->seen, upload, *upload_size < sizeof(h->seen) -
		    strlen(h->seen) - 1 ? *upload_size : sizeof(h->seen) -
		    strlen(h->seen) - 1);
		*upload_size = 0;
		return MHD_YES;
	}
	if (h->delay > 0)
		sleep((unsigned)h->delay);
	resp = MHD_create_response_from_buffer(strlen(h->body),
	    (void *)h->body, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, h->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
test_webhook_http_decides_by_the_answer(void **state)
{
	struct fixture		*f = *state;
	struct hook		 h = { 200, "{\"allow\": true, \"reason\": "
				    "\"ok by inventory\"}", 0, "" };
	struct MHD_Daemon	*d;
	struct policy_challenge	 c;
	const union MHD_DaemonInfo *di;
	char			 url[128], why[256];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, hook_handler, &h,
	    MHD_OPTION_END);
	assert_non_null(d);
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/check", di->port);
	memset(&c, 0, sizeof(c));
	c.kind = POLICY_CHALLENGE_WEBHOOK;
	c.url = url;
	c.timeout = 1;

	assert_int_equal(check(f, &c, "pw-7", "tx-7", why, sizeof(why)),
	    CHALLENGE_OK);
	assert_string_equal(why, "ok by inventory");
	assert_non_null(strstr(h.seen, "\"challenge\":\"pw-7\""));
	h.body = "{\"allow\": false, \"reason\": \"unknown device\"}";
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_string_equal(why, "unknown device");
	h.body = "{\"permit\": true}";
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);			/* fail closed */
	h.status = 500;
	h.body = "{\"allow\": true}";
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);
	assert_non_null(strstr(why, "HTTP 500"));
	c.allow_on_error = 1;
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_OK);			/* fail open, if asked */
	c.allow_on_error = 0;
	h.status = 200;
	h.delay = 3;
	assert_int_equal(check(f, &c, "pw", "t", why, sizeof(why)),
	    CHALLENGE_REFUSED);			/* timeout */
	MHD_stop_daemon(d);
	curl_global_cleanup();
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_static_challenge_needs_the_secret),
		T(test_otp_is_good_for_one_transaction),
		T(test_otp_unknown_expired_revoked_or_bound_is_refused),
		T(test_otp_explain_uses_nothing_up),
		T(test_hmac_challenge_is_bound_to_the_subject),
		T(test_webhook_command_allows_denies_and_sees_the_request),
		T(test_webhook_command_errors_follow_on_error),
		T(test_webhook_command_that_does_not_read_raises_no_sigpipe),
		T(test_webhook_http_decides_by_the_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
