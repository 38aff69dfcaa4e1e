/*
 * The HTTP front's reading of a query string: operation routing and
 * PKIOperation by GET (message= in base64, a blank read as the '+' a
 * client forgot to escape, the size cap), in process, without a
 * socket.  The input is the query string after '?'.
 *
 * http_route() and http_pkiop_get() are static, so src/http.c is
 * compiled into this file.  The query is split and URL-decoded as
 * libmicrohttpd 0.9 does it ('&', '=', '+' to blank, then its own
 * MHD_http_unescape()), and MHD_lookup_connection_value() is replaced
 * by a lookup in that table (first match, keys compared ignoring case,
 * as libmicrohttpd does).  What http.c passes on goes to the real
 * service below the HSM (fuzz_fixture.c), so that a decoded message
 * also runs service_pkioperation().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "../../src/http.c"

#include "fuzz.h"

#define FUZZ_HTTP_ARGS_MAX	32

struct fuzz_http_arg {
	const char	*key;
	const char	*value;		/* NULL: a key without '=' */
};

/* What stands in for a struct MHD_Connection. */
struct fuzz_http_conn {
	struct fuzz_http_arg	args[FUZZ_HTTP_ARGS_MAX];
	size_t			n_args;
};

const char *
MHD_lookup_connection_value(struct MHD_Connection *connection,
    enum MHD_ValueKind kind, const char *key)
{
	struct fuzz_http_conn	*fc = (struct fuzz_http_conn *)(void *)
				    connection;
	size_t			 i;

	if (kind != MHD_GET_ARGUMENT_KIND || key == NULL)
		return NULL;
	for (i = 0; i < fc->n_args; i++)
		if (strcasecmp(fc->args[i].key, key) == 0)
			return fc->args[i].value;
	return NULL;
}

static void
fuzz_http_unescape(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '+')
			*p = ' ';
	MHD_http_unescape(s);
}

/* Splits q in place as libmicrohttpd's argument parser does. */
static void
fuzz_http_parse(char *q, struct fuzz_http_conn *fc)
{
	char	*amp, *eq;

	while (q != NULL && *q != '\0' && fc->n_args < FUZZ_HTTP_ARGS_MAX) {
		if ((amp = strchr(q, '&')) != NULL)
			*amp++ = '\0';
		if ((eq = strchr(q, '=')) != NULL)
			*eq++ = '\0';
		fuzz_http_unescape(q);
		if (eq != NULL)
			fuzz_http_unescape(eq);
		fc->args[fc->n_args].key = q;
		fc->args[fc->n_args].value = eq;
		fc->n_args++;
		q = amp;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_util_init();
	(void)fuzz_fixture_get();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fixture	*fx = fuzz_fixture_get();
	struct fuzz_http_conn	 fc;
	struct http_server	 hs;
	struct http_request	 hr;
	struct service_response	 r;
	char			*q;

	fuzz_fixture_tick(fx);
	if ((q = malloc(size + 1)) == NULL)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	memset(&fc, 0, sizeof(fc));
	fuzz_http_parse(q, &fc);
	memset(&hs, 0, sizeof(hs));
	hs.svc = fx->svc;
	hs.max_body = fx->cfg->max_body;
	memset(&hr, 0, sizeof(hr));
	snprintf(hr.client, sizeof(hr.client), "192.0.2.7");
	memset(&r, 0, sizeof(r));
	ERR_clear_error();
	http_route(&hs, (struct MHD_Connection *)(void *)&fc,
	    MHD_HTTP_METHOD_GET, &hr, &r);
	fuzz_util_err_check("http_route");
	service_response_clear(&r);
	free(q);
	return 0;
}
