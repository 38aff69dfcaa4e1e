/*
 * The policy engine: every match condition, rule order, no match,
 * actions, the per-subject limit, and every way a policy file can be
 * wrong (each reported with its line).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "challenge.h"
#include "issue.h"
#include "log.h"
#include "policy.h"
#include "testutil.h"

static char	*hash;		/* a valid static challenge hash */

static int
group_setup(void **state)
{
	(void)state;
	log_init("test_policy", LOG_LEVEL_ERROR);
	hash = challenge_hash_new("s3cret", 6);
	return hash ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(hash);
	return 0;
}

/* Writes text (with "HASH" replaced) and loads it; err on failure. */
static struct policy *
load(const char *text, char *err, size_t errlen, char **pathp)
{
	struct policy	*pol;
	char		*full, *at, *path;

	full = malloc(strlen(text) + strlen(hash) + 1);
	assert_non_null(full);
	if ((at = strstr(text, "HASH")) != NULL)
		sprintf(full, "%.*s%s%s", (int)(at - text), text, hash,
		    at + 4);
	else
		strcpy(full, text);
	path = tu_write_temp(full);
	free(full);
	pol = policy_load(path, err, errlen);
	if (pathp != NULL)
		*pathp = path;
	else {
		unlink(path);
		free(path);
	}
	return pol;
}

static struct policy *
load_ok(const char *text)
{
	struct policy	*pol;
	char		 err[512];

	if ((pol = load(text, err, sizeof(err), NULL)) == NULL)
		fail_msg("policy refused: %s", err);
	return pol;
}

/* The file must be refused at line with reason in the message. */
static void
expect_refused(const char *text, int line, const char *reason)
{
	char	 err[512], want[512];
	char	*path;

	assert_null(load(text, err, sizeof(err), &path));
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
	else
		snprintf(want, sizeof(want), "%s: ", path);
	if (strncmp(err, want, strlen(want)) != 0 ||
	    strstr(err, reason) == NULL)
		fail_msg("got \"%s\", want \"%s...%s\"", err, want, reason);
	unlink(path);
	free(path);
}

/* A request, built by hand. */
struct req {
	struct policy_request	q;
	char			*dns[4];
	struct policy_addr	 ip[4];
};

static void
req_init(struct req *r, const char *subject, unsigned key, int bits)
{
	memset(r, 0, sizeof(*r));
	r->q.subject = subject;
	r->q.key_type = key;
	r->q.key_bits = bits;
	r->q.san_dns = r->dns;
	r->q.san_ip = r->ip;
}

static void
req_dns(struct req *r, const char *name)
{
	r->dns[r->q.n_san_dns++] = (char *)name;
}

static void
req_ip(struct req *r, const char *addr)
{
	struct policy_cidr	c;

	assert_int_equal(policy_cidr_parse(addr, &c), 0);
	r->ip[r->q.n_san_ip++] = c.net;
}

static void
req_client(struct req *r, const char *addr)
{
	struct policy_cidr	c;

	assert_int_equal(policy_cidr_parse(addr, &c), 0);
	r->q.client = c.net;
	r->q.has_client = 1;
}

/* The fake view: a fixed count, and what it was asked. */
struct fake_view {
	int				 count;
	int				 calls;
	const struct issue_profile	*asked;
};

static int
fake_active_count(void *arg, const struct issue_profile *pf)
{
	struct fake_view	*v = arg;

	v->calls++;
	v->asked = pf;
	return v->count;
}

/* Evaluates and returns the deciding rule's name ("-" for none). */
static const char *
decide(const struct policy *pol, struct req *r, struct policy_decision *d)
{
	struct fake_view	fv = { 0, 0, NULL };
	struct policy_view	view = { fake_active_count, &fv };

	assert_int_equal(policy_evaluate(pol, &r->q, &view, d, NULL, 0), 0);
	return d->rule ? d->rule->name : "-";
}

#define PROFILES \
	"profiles = { default = { validity_days = 30; }; };\n"
#define CHALLENGES \
	"challenges = { shared = { kind = \"static\"; hash = \"HASH\"; }; " \
	"otp = { kind = \"otp\"; }; };\n"

static void
test_policy_loads_every_setting(void **state)
{
	struct policy			*pol;
	const struct policy_rule	*r;
	const struct policy_profile	*p;

	(void)state;
	pol = load_ok(
	    "pending_expiry = \"12h\";\n"
	    CHALLENGES
	    "profiles = { srv = { validity_days = 90; key_usage = "
	    "[ \"digitalSignature\" ]; extended_key_usage = [ \"serverAuth\", "
	    "\"clientAuth\" ]; san_types = [ \"dns\" ]; subject_suffix = "
	    "\"O=Example,C=DE\"; }; default = { }; };\n"
	    "rules = ( { name = \"all\"; subject = \"^CN=\"; san_dns = "
	    "[ \"*.example.net\" ]; san_ip = [ \"10.0.0.0/8\" ]; key_types = "
	    "[ \"rsa\" ]; min_rsa_bits = 3072; min_ec_bits = 384; request = "
	    "\"initial\"; client = [ \"192.0.2.0/24\", \"::1\" ]; challenge = "
	    "\"otp\"; action = \"issue\"; profile = \"srv\"; max_active = 2; "
	    "} );\n");
	assert_int_equal(pol->pending_expiry, 12 * 3600);
	assert_int_equal(pol->n_challenges, 2);
	assert_int_equal(pol->challenges[0].kind, POLICY_CHALLENGE_STATIC);
	assert_non_null(pol->challenges[0].verifier);
	assert_int_equal(pol->challenges[1].kind, POLICY_CHALLENGE_OTP);
	p = policy_profile_find(pol, "srv");
	assert_non_null(p);
	assert_int_equal(p->issue.validity_days, 90);
	assert_int_equal(p->issue.key_usage, KU_DIGITAL_SIGNATURE);
	assert_string_equal(p->issue.ext_key_usage, "serverAuth,clientAuth");
	assert_int_equal(p->issue.san_types, ISSUE_SAN_DNS);
	assert_non_null(p->issue.subject_suffix);
	p = policy_profile_find(pol, "default");
	assert_int_equal(p->issue.validity_days, 365);
	assert_int_equal(p->issue.san_types, ISSUE_SAN_ALL);
	r = &pol->rules[0];
	assert_string_equal(r->name, "all");
	assert_int_equal(r->line, 4);
	assert_int_equal(r->key_types, POLICY_KEY_RSA);
	assert_int_equal(r->min_rsa_bits, 3072);
	assert_int_equal(r->request, POLICY_REQUEST_INITIAL);
	assert_int_equal(r->n_clients, 2);
	assert_ptr_equal(r->challenge, &pol->challenges[1]);
	assert_ptr_equal(r->profile, policy_profile_find(pol, "srv"));
	assert_int_equal(r->max_active, 2);
	policy_free(pol);
}

static void
test_policy_empty_lists_leave_extensions_out(void **state)
{
	struct policy			*pol;
	const struct policy_profile	*p;

	(void)state;
	pol = load_ok("profiles = { default = { key_usage = []; "
	    "extended_key_usage = []; san_types = []; }; };\n"
	    "rules = ( { name = \"x\"; challenge = \"none\"; action = "
	    "\"issue\"; } );\n");
	p = policy_profile_find(pol, "default");
	assert_int_equal(p->issue.key_usage, 0);
	assert_string_equal(p->issue.ext_key_usage, "");
	assert_int_equal(p->issue.san_types, 0);
	policy_free(pol);
}

static void
test_policy_matches_subject_by_regular_expression(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"routers\"; subject = "
	    "\"^CN=rtr-[0-9]+,O=Example$\"; challenge = \"none\"; action = "
	    "\"issue\"; } );\n");
	req_init(&r, "CN=rtr-12,O=Example", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "routers");
	assert_int_equal(d.action, POLICY_ISSUE);
	req_init(&r, "CN=rtr-x,O=Example", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "-");
	assert_int_equal(d.action, POLICY_REJECT);
	assert_string_equal(d.reason, "no rule matches");
	req_init(&r, "CN=rtr-1,O=Example,C=DE", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "-");
	policy_free(pol);
}

static void
test_policy_requires_every_dns_name_to_match(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"dns\"; san_dns = "
	    "[ \"*.example.net\", \"www.example.org\" ]; challenge = \"none\"; "
	    "action = \"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "-");	/* no DNS name */
	req_dns(&r, "a.EXAMPLE.net");
	req_dns(&r, "www.example.org");
	assert_string_equal(decide(pol, &r, &d), "dns");
	req_dns(&r, "evil.example.com");
	assert_string_equal(decide(pol, &r, &d), "-");
	policy_free(pol);
}

static void
test_policy_requires_every_ip_in_the_blocks(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"ip\"; san_ip = "
	    "[ \"10.1.0.0/16\", \"2001:db8::/32\" ]; challenge = \"none\"; "
	    "action = \"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "-");
	req_ip(&r, "10.1.2.3");
	req_ip(&r, "2001:db8::7");
	assert_string_equal(decide(pol, &r, &d), "ip");
	req_ip(&r, "10.2.0.1");
	assert_string_equal(decide(pol, &r, &d), "-");
	policy_free(pol);
}

static void
test_policy_checks_key_type_and_size(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"strong\"; key_types = "
	    "[ \"rsa\", \"ec\" ]; min_rsa_bits = 3072; min_ec_bits = 256; "
	    "challenge = \"none\"; action = \"issue\"; }, { name = \"ec-only\";"
	    " key_types = [ \"ec\" ]; challenge = \"none\"; action = "
	    "\"reject\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "-");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 3072);
	assert_string_equal(decide(pol, &r, &d), "strong");
	req_init(&r, "CN=x", POLICY_KEY_EC, 256);
	assert_string_equal(decide(pol, &r, &d), "strong");
	policy_free(pol);
	pol = load_ok(PROFILES "rules = ( { name = \"ec384\"; key_types = "
	    "[ \"ec\" ]; min_ec_bits = 384; challenge = \"none\"; action = "
	    "\"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_EC, 256);
	assert_string_equal(decide(pol, &r, &d), "-");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 4096);
	assert_string_equal(decide(pol, &r, &d), "-");
	policy_free(pol);
}

static void
test_policy_tells_initial_from_renewal(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"renew\"; request = "
	    "\"renewal\"; challenge = \"none\"; action = \"issue\"; }, "
	    "{ name = \"new\"; request = \"initial\"; challenge = \"none\"; "
	    "action = \"pending\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "new");
	assert_int_equal(d.action, POLICY_PENDING);
	r.q.renewal = 1;
	assert_string_equal(decide(pol, &r, &d), "renew");
	assert_int_equal(d.action, POLICY_ISSUE);
	policy_free(pol);
}

static void
test_policy_checks_the_client_address(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"lan\"; client = "
	    "[ \"192.0.2.0/25\", \"::1\" ]; challenge = \"none\"; action = "
	    "\"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "-");	/* unknown client */
	req_client(&r, "192.0.2.100");
	assert_string_equal(decide(pol, &r, &d), "lan");
	req_client(&r, "192.0.2.200");
	assert_string_equal(decide(pol, &r, &d), "-");
	req_client(&r, "::1");
	assert_string_equal(decide(pol, &r, &d), "lan");
	policy_free(pol);
}

static void
test_policy_first_matching_rule_wins(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"a\"; subject = "
	    "\"^CN=a\"; challenge = \"none\"; action = \"reject\"; reason = "
	    "\"a is banned\"; }, { name = \"b\"; challenge = \"none\"; action "
	    "= \"issue\"; }, { name = \"c\"; challenge = \"none\"; action = "
	    "\"pending\"; } );\n");
	req_init(&r, "CN=abc", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "a");
	assert_int_equal(d.action, POLICY_REJECT);
	assert_string_equal(d.reason, "a is banned");
	req_init(&r, "CN=xyz", POLICY_KEY_RSA, 2048);
	assert_string_equal(decide(pol, &r, &d), "b");
	assert_int_equal(d.action, POLICY_ISSUE);
	policy_free(pol);
}

static void
test_policy_reports_the_challenge_a_rule_requires(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;

	(void)state;
	pol = load_ok(CHALLENGES PROFILES "rules = ( { name = \"x\"; "
	    "challenge = \"otp\"; action = \"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	decide(pol, &r, &d);
	assert_non_null(d.rule->challenge);
	assert_int_equal(d.rule->challenge->kind, POLICY_CHALLENGE_OTP);
	assert_string_equal(d.rule->profile->name, "default");
	policy_free(pol);
}

/*
 * Matching and deciding are two steps: the caller checks the matched
 * rule's challenge between them, and a rule with fall_through lets a
 * request whose challenge failed be matched again from the next rule.
 */
static void
test_policy_match_resumes_after_a_fall_through_rule(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;
	struct fake_view	 fv = { 0, 0, NULL };
	struct policy_view	 view = { fake_active_count, &fv };

	(void)state;
	pol = load_ok(CHALLENGES PROFILES "rules = ( { name = \"otp\"; "
	    "challenge = \"otp\"; fall_through = true; action = \"issue\"; "
	    "max_active = 1; }, { name = \"rest\"; challenge = \"none\"; "
	    "action = \"pending\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	policy_match(pol, &r.q, 0, &d, NULL, 0);
	assert_string_equal(d.rule->name, "otp");
	assert_true(d.rule->fall_through);
	/* Matching alone says nothing about the limit. */
	assert_int_equal(fv.calls, 0);
	policy_match(pol, &r.q, 1, &d, NULL, 0);
	assert_string_equal(d.rule->name, "rest");
	assert_false(d.rule->fall_through);
	assert_int_equal(policy_decide(&view, &d), 0);
	assert_int_equal(d.action, POLICY_PENDING);
	policy_match(pol, &r.q, 2, &d, NULL, 0);
	assert_null(d.rule);
	assert_int_equal(policy_decide(&view, &d), 0);
	assert_int_equal(d.action, POLICY_REJECT);
	assert_string_equal(d.reason, "no rule matches");
	policy_free(pol);
}

/* Email and URI names are judged like DNS names: every one of them. */
static void
test_policy_judges_email_and_uri_names(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;
	char			*emails[2] = { "dev@corp.example",
				    "evil@other.example" };
	char			*uris[1] = { "https://corp.example/dev" };

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"mail\"; san_email = "
	    "[ \"*@corp.example\" ]; san_uri = [ \"https://corp.example/*\" "
	    "]; challenge = \"none\"; action = \"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	r.q.san_email = emails;
	r.q.n_san_email = 1;
	r.q.san_uri = uris;
	r.q.n_san_uri = 1;
	assert_string_equal(decide(pol, &r, &d), "mail");
	r.q.n_san_email = 2;
	assert_string_equal(decide(pol, &r, &d), "-");
	r.q.n_san_email = 1;
	r.q.n_san_uri = 0;
	assert_string_equal(decide(pol, &r, &d), "-");
	policy_free(pol);
}

static void
test_policy_limits_active_certificates_per_subject(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;
	struct fake_view	 fv = { 1, 0, NULL };
	struct policy_view	 view = { fake_active_count, &fv };

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"one\"; challenge = "
	    "\"none\"; action = \"issue\"; max_active = 2; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_int_equal(policy_evaluate(pol, &r.q, &view, &d, NULL, 0), 0);
	assert_int_equal(d.action, POLICY_ISSUE);
	assert_int_equal(fv.calls, 1);
	assert_ptr_equal(fv.asked, &pol->profiles[0].issue);
	fv.count = 2;
	assert_int_equal(policy_evaluate(pol, &r.q, &view, &d, NULL, 0), 0);
	assert_int_equal(d.action, POLICY_REJECT);
	assert_non_null(strstr(d.reason, "the limit is 2"));
	fv.count = -1;
	assert_int_equal(policy_evaluate(pol, &r.q, &view, &d, NULL, 0), -1);
	assert_int_equal(d.action, POLICY_REJECT);
	policy_free(pol);
}

static void
test_policy_without_limit_does_not_consult_the_store(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;
	struct fake_view	 fv = { 99, 0, NULL };
	struct policy_view	 view = { fake_active_count, &fv };

	(void)state;
	pol = load_ok(PROFILES "rules = ( { name = \"any\"; challenge = "
	    "\"none\"; action = \"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_int_equal(policy_evaluate(pol, &r.q, &view, &d, NULL, 0), 0);
	assert_int_equal(d.action, POLICY_ISSUE);
	assert_int_equal(fv.calls, 0);
	policy_free(pol);
}

static void
test_policy_traces_why_each_rule_did_not_match(void **state)
{
	struct policy		*pol;
	struct policy_decision	 d;
	struct req		 r;
	struct fake_view	 fv = { 0, 0, NULL };
	struct policy_view	 view = { fake_active_count, &fv };
	char			 trace[1024] = "";

	(void)state;
	pol = load_ok(PROFILES "rules = (\n{ name = \"big\"; min_rsa_bits = "
	    "4096; challenge = \"none\"; action = \"issue\"; },\n{ name = "
	    "\"ok\"; challenge = \"none\"; action = \"issue\"; } );\n");
	req_init(&r, "CN=x", POLICY_KEY_RSA, 2048);
	assert_int_equal(policy_evaluate(pol, &r.q, &view, &d, trace,
	    sizeof(trace)), 0);
	assert_non_null(strstr(trace, "rule big (line 3): no: RSA key of "
	    "2048 bits, 4096 needed"));
	assert_non_null(strstr(trace, "rule ok (line 4): matches"));
	policy_free(pol);
}

static void
test_policy_refuses_malformed_files(void **state)
{
	(void)state;
	expect_refused("rules = ( { name = \"x\" ", 1, "syntax error");
	expect_refused(PROFILES "rulez = ();\n", 2, "unknown setting rulez");
	expect_refused(PROFILES "\n", 0, "missing rules");
	expect_refused(PROFILES "rules = ();\n", 2, "must not be empty");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"none\"; action = \"issue\"; colour = \"red\"; } );\n", 3,
	    "unknown setting rule x.colour");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; subject = "
	    "\"([\"; challenge = \"none\"; action = \"issue\"; } );\n", 3,
	    "rule x.subject");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"nope\"; action = \"issue\"; } );\n", 3,
	    "no challenge named \"nope\"");
	expect_refused("profiles = { other = { }; };\nrules = (\n{ name = "
	    "\"x\"; challenge = \"none\"; action = \"issue\"; } );\n", 3,
	    "no profile named \"default\"");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"none\"; action = \"grant\"; } );\n", 3,
	    "action must be issue, pending or reject");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"none\"; action = \"issue\"; },\n{ name = \"x\"; challenge = "
	    "\"none\"; action = \"issue\"; } );\n", 4,
	    "a second rule named \"x\"");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; san_ip = "
	    "[ \"10.0.0.0/33\" ]; challenge = \"none\"; action = \"issue\"; "
	    "} );\n", 3, "not an address or CIDR block");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"none\"; action = \"reject\"; profile = \"default\"; } );\n", 3,
	    "a reject rule takes no profile");
	expect_refused(PROFILES "rules = (\n{ name = \"bad name\"; challenge "
	    "= \"none\"; action = \"issue\"; } );\n", 3, "may only hold");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"none\";\nfall_through = true; action = \"issue\"; } );\n", 4,
	    "fall_through needs a challenge");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; challenge = "
	    "\"none\";\nfall_through = 1; action = \"issue\"; } );\n", 4,
	    "must be true or false");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; min_rsa_bits = "
	    "512; challenge = \"none\"; action = \"issue\"; } );\n", 3,
	    "between 1024 and 16384");
	expect_refused(PROFILES "rules = (\n{ name = \"x\"; request = "
	    "\"sometimes\"; challenge = \"none\"; action = \"issue\"; } );\n",
	    3, "initial, renewal or any");
	expect_refused("pending_expiry = \"soon\";\n" PROFILES
	    "rules = ( { name = \"x\"; challenge = \"none\"; action = "
	    "\"issue\"; } );\n", 1, "pending_expiry must be a duration");
}

static void
test_policy_refuses_malformed_challenges_and_profiles(void **state)
{
	(void)state;
	expect_refused("challenges = {\n c = { kind = \"static\"; hash = "
	    "\"plain\"; }; };\n" PROFILES "rules = ( { name = \"x\"; "
	    "challenge = \"c\"; action = \"issue\"; } );\n", 2,
	    "challenges.c.hash must be a \"$scrypt$...\" hash");
	expect_refused("challenges = {\n c = { kind = \"magic\"; }; };\n"
	    PROFILES "rules = ( { name = \"x\"; challenge = \"c\"; action = "
	    "\"issue\"; } );\n", 2, "kind must be static, otp, hmac or webhook");
	expect_refused("challenges = {\n c = { kind = \"webhook\"; };\n};\n"
	    PROFILES "rules = ( { name = \"x\"; challenge = \"c\"; action = "
	    "\"issue\"; } );\n", 2, "exactly one of url and command");
	expect_refused("challenges = {\n c = { kind = \"webhook\"; url = "
	    "\"ftp://x\"; }; };\n" PROFILES "rules = ( { name = \"x\"; "
	    "challenge = \"c\"; action = \"issue\"; } );\n", 2,
	    "http:// or https://");
	expect_refused("challenges = {\n c = { kind = \"webhook\"; command = "
	    "[ \"relative\" ]; }; };\n" PROFILES "rules = ( { name = \"x\"; "
	    "challenge = \"c\"; action = \"issue\"; } );\n", 2,
	    "absolute path");
	expect_refused("challenges = {\n c = { kind = \"webhook\"; url = "
	    "\"http://x\";\n on_error = \"maybe\"; }; };\n" PROFILES "rules = "
	    "( { name = \"x\"; challenge = \"c\"; action = \"issue\"; } );\n",
	    3, "on_error must be");
	expect_refused("challenges = {\n c = { kind = \"hmac\"; secret_file = "
	    "\"/nonexistent/key\"; }; };\n" PROFILES "rules = ( { name = "
	    "\"x\"; challenge = \"c\"; action = \"issue\"; } );\n", 2,
	    "cannot be read");
	expect_refused("profiles = {\n default = { key_usage = "
	    "[ \"keyCertSign\" ]; }; };\nrules = ( { name = \"x\"; challenge "
	    "= \"none\"; action = \"issue\"; } );\n", 2,
	    "unknown key_usage \"keyCertSign\"");
	expect_refused("profiles = {\n default = { extended_key_usage = "
	    "[ \"flyingAuth\" ]; }; };\nrules = ( { name = \"x\"; challenge "
	    "= \"none\"; action = \"issue\"; } );\n", 2,
	    "unknown extended key usage");
	expect_refused("profiles = {\n default = { san_types = [ \"rid\" ]; "
	    "}; };\nrules = ( { name = \"x\"; challenge = \"none\"; action = "
	    "\"issue\"; } );\n", 2, "unknown san_types \"rid\"");
	expect_refused("profiles = {\n default = { subject_suffix = \"x\"; "
	    "}; };\nrules = ( { name = \"x\"; challenge = \"none\"; action = "
	    "\"issue\"; } );\n", 2, "subject_suffix is not a distinguished");
	expect_refused("profiles = {\n default = { validity_days = 0; }; "
	    "};\nrules = ( { name = \"x\"; challenge = \"none\"; action = "
	    "\"issue\"; } );\n", 2, "validity_days must be between");
}

static void
test_policy_reads_an_hmac_secret_file(void **state)
{
	struct policy	*pol;
	char		*key, *text;

	(void)state;
	key = tu_write_temp("0123456789abcdef0123\n");
	assert_true(asprintf(&text, "challenges = { h = { kind = \"hmac\"; "
	    "secret_file = \"%s\"; }; };\n" PROFILES "rules = ( { name = "
	    "\"x\"; challenge = \"h\"; action = \"issue\"; } );\n", key) > 0);
	pol = load_ok(text);
	assert_int_equal(pol->challenges[0].hmac_key_len, 20);
	assert_memory_equal(pol->challenges[0].hmac_key,
	    "0123456789abcdef0123", 20);
	policy_free(pol);
	free(text);
	unlink(key);
	free(key);
	key = tu_write_temp("short\n");
	assert_true(asprintf(&text, "challenges = {\n h = { kind = \"hmac\"; "
	    "secret_file = \"%s\"; }; };\n" PROFILES "rules = ( { name = "
	    "\"x\"; challenge = \"h\"; action = \"issue\"; } );\n", key) > 0);
	expect_refused(text, 2, "at least 16 characters");
	free(text);
	unlink(key);
	free(key);
}

static void
test_policy_parses_addresses_and_durations(void **state)
{
	struct policy_cidr	c;
	struct policy_cidr	a;

	(void)state;
	assert_int_equal(policy_cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(policy_cidr_parse("10.255.1.1", &a), 0);
	assert_true(policy_cidr_contains(&c, &a.net));
	assert_int_equal(policy_cidr_parse("11.0.0.1", &a), 0);
	assert_false(policy_cidr_contains(&c, &a.net));
	assert_int_equal(policy_cidr_parse("192.168.1.0/23", &c), 0);
	assert_int_equal(policy_cidr_parse("192.168.0.255", &a), 0);
	assert_true(policy_cidr_contains(&c, &a.net));
	assert_int_equal(policy_cidr_parse("192.168.2.0", &a), 0);
	assert_false(policy_cidr_contains(&c, &a.net));
	assert_int_equal(policy_cidr_parse("::/0", &c), 0);
	assert_true(policy_cidr_contains(&c, &a.net) == 0);	/* family */
	assert_int_equal(policy_cidr_parse("0.0.0.0/0", &c), 0);
	assert_true(policy_cidr_contains(&c, &a.net));
	assert_int_equal(policy_cidr_parse("1.2.3.4/", &c), -1);
	assert_int_equal(policy_cidr_parse("1.2.3/8", &c), -1);
	assert_int_equal(policy_cidr_parse("::1/129", &c), -1);
	assert_int_equal(policy_cidr_parse("host.example", &c), -1);
	assert_int_equal(policy_duration_parse("90"), 90);
	assert_int_equal(policy_duration_parse("90s"), 90);
	assert_int_equal(policy_duration_parse("30m"), 1800);
	assert_int_equal(policy_duration_parse("2h"), 7200);
	assert_int_equal(policy_duration_parse("7d"), 7 * 86400);
	assert_int_equal(policy_duration_parse("0h"), -1);
	assert_int_equal(policy_duration_parse("-1d"), -1);
	assert_int_equal(policy_duration_parse("1w"), -1);
	assert_int_equal(policy_duration_parse("1dd"), -1);
	assert_int_equal(policy_duration_parse("h"), -1);
}

static void
test_policy_reads_the_request_from_a_csr(void **state)
{
	struct tu_csr_opts	 co = { "dev", NULL, 0,
	    "DNS:a.example,DNS:b.example,IP:10.0.0.1,IP:2001:db8::1,"
	    "email:x@example" };
	struct policy_request	 q;
	X509_REQ		*csr;
	char			 addr[64];

	(void)state;
	csr = tu_csr(tu_ec_key(0, "P-384"), &co);
	assert_int_equal(policy_request_from_csr(&q, csr, "CN=dev"), 0);
	assert_string_equal(q.subject, "CN=dev");
	assert_int_equal(q.key_type, POLICY_KEY_EC);
	assert_int_equal(q.key_bits, 384);
	assert_int_equal(q.n_san_dns, 2);
	assert_string_equal(q.san_dns[1], "b.example");
	assert_int_equal(q.n_san_ip, 2);
	inet_ntop(AF_INET6, q.san_ip[1].addr, addr, sizeof(addr));
	assert_string_equal(addr, "2001:db8::1");
	policy_request_clear(&q);
	X509_REQ_free(csr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_loads_every_setting),
		cmocka_unit_test(test_policy_empty_lists_leave_extensions_out),
		cmocka_unit_test(
		    test_policy_matches_subject_by_regular_expression),
		cmocka_unit_test(test_policy_requires_every_dns_name_to_match),
		cmocka_unit_test(test_policy_requires_every_ip_in_the_blocks),
		cmocka_unit_test(test_policy_checks_key_type_and_size),
		cmocka_unit_test(test_policy_tells_initial_from_renewal),
		cmocka_unit_test(test_policy_checks_the_client_address),
		cmocka_unit_test(test_policy_first_matching_rule_wins),
		cmocka_unit_test(
		    test_policy_reports_the_challenge_a_rule_requires),
		cmocka_unit_test(
		    test_policy_match_resumes_after_a_fall_through_rule),
		cmocka_unit_test(test_policy_judges_email_and_uri_names),
		cmocka_unit_test(
		    test_policy_limits_active_certificates_per_subject),
		cmocka_unit_test(
		    test_policy_without_limit_does_not_consult_the_store),
		cmocka_unit_test(
		    test_policy_traces_why_each_rule_did_not_match),
		cmocka_unit_test(test_policy_refuses_malformed_files),
		cmocka_unit_test(
		    test_policy_refuses_malformed_challenges_and_profiles),
		cmocka_unit_test(test_policy_reads_an_hmac_secret_file),
		cmocka_unit_test(test_policy_parses_addresses_and_durations),
		cmocka_unit_test(test_policy_reads_the_request_from_a_csr),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
