/*
 * policy_load() on a fuzzed policy file, written to this process's
 * working directory (which also holds hmac.key, so that hmac
 * challenges can load).  A policy that loads is then asked to decide
 * a few fixed requests: what loads must also evaluate.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certbuild.h"
#include "fuzz.h"
#include "policy.h"

static char	*fuzz_policy_path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*hmac;

	(void)argc;
	(void)argv;
	fuzz_util_init();
	fuzz_policy_path = fuzz_util_path_new("policy.conf");
	hmac = fuzz_util_path_new("hmac.key");
	if (fuzz_util_write(hmac, FUZZ_HMAC_SECRET "\n",
	    strlen(FUZZ_HMAC_SECRET) + 1) == -1)
		fuzz_util_die("hmac.key");
	free(hmac);
	return 0;
}

/* The store's answer: the profile's subject suffix is read as well. */
static int
fuzz_policy_active(void *arg, const struct issue_profile *pf)
{
	if (pf->subject_suffix != NULL)
		free(certbuild_name_text_new(pf->subject_suffix));
	return *(const int *)arg;
}

static void
fuzz_policy_decide(const struct policy *pol)
{
	static char *dns[] = { "rtr-1.net.example.com", "x.example.org" };
	static struct policy_addr ips[] = {
		{ AF_INET, { 10, 1, 2, 3 } },
		{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	};
	struct policy_request	 req;
	struct policy_decision	 d;
	struct policy_view	 view;
	char			 trace[2048];
	int			 active, i;

	for (i = 0; i < 3; i++) {
		memset(&req, 0, sizeof(req));
		req.subject = i == 0 ? "CN=rtr-1,O=Example" : i == 1 ?
		    "CN=otp-7,OU=refused" : "";
		req.san_dns = i == 2 ? NULL : dns;
		req.n_san_dns = i == 2 ? 0 : i + 1;
		req.san_ip = ips;
		req.n_san_ip = (size_t)(2 - i);
		req.key_type = i == 1 ? POLICY_KEY_EC : POLICY_KEY_RSA;
		req.key_bits = i == 1 ? 384 : 2048 + 1024 * i;
		req.renewal = i == 1;
		req.has_client = i != 2;
		req.client = ips[i & 1];
		active = i;
		view.active_count = fuzz_policy_active;
		view.arg = &active;
		(void)policy_evaluate(pol, &req, &view, &d, i == 0 ? trace :
		    NULL, sizeof(trace));
	}
	(void)policy_profile_find(pol, "default");
	(void)policy_challenge_find(pol, "tokens");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy	*pol;
	char		 err[1024];

	if (fuzz_util_write(fuzz_policy_path, data, size) == -1)
		fuzz_util_die("cannot write %s", fuzz_policy_path);
	if ((pol = policy_load(fuzz_policy_path, err, sizeof(err))) == NULL)
		return 0;
	fuzz_policy_decide(pol);
	policy_free(pol);
	return 0;
}
