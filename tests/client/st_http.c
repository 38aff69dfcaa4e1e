/*
 * HTTP with libcurl: GET and POST, the body collected with a cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "sceptest.h"

#define ST_HTTP_MAX_BODY	(1024 * 1024)	/* any SCEP answer fits */
#define ST_HTTP_TIMEOUT		120L		/* seconds, a slow HSM */

struct st_http_body {
	unsigned char	*data;
	size_t		 len;
	int		 toolarge;
};

/*
 * URL of an operation: base?operation=OP, and &message=BASE64 (the
 * message percent-encoded) for PKIOperation by GET.  Returns a new
 * string.
 */
char *
st_http_url(const char *base, const char *op, const unsigned char *msg,
    size_t msglen)
{
	static const char	 hexd[] = "0123456789ABCDEF";
	unsigned char		*b64 = NULL;
	char			*url = NULL, *p;
	const char		*sep;
	size_t			 b64len = 0, size, i;

	if (msg != NULL) {
		if (msglen > ST_HTTP_MAX_BODY) {
			st_warnx("%s: message too large for GET", __func__);
			goto out;
		}
		if ((b64 = malloc(4 * ((msglen + 2) / 3) + 1)) == NULL) {
			st_warnx("%s: out of memory", __func__);
			goto out;
		}
		b64len = (size_t)EVP_EncodeBlock(b64, msg, (int)msglen);
	}
	sep = strchr(base, '?') != NULL ? "&" : "?";
	/* Worst case: every base64 character percent-encoded. */
	size = strlen(base) + strlen(op) + 3 * b64len + 32;
	if ((url = malloc(size)) == NULL) {
		st_warnx("%s: out of memory", __func__);
		goto out;
	}
	p = url + snprintf(url, size, "%s%soperation=%s%s", base, sep, op,
	    msg != NULL ? "&message=" : "");
	for (i = 0; i < b64len; i++) {
		if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=') {
			*p++ = '%';
			*p++ = hexd[b64[i] >> 4];
			*p++ = hexd[b64[i] & 0xf];
		} else
			*p++ = (char)b64[i];
	}
	*p = '\0';
 out:
	free(b64);
	return url;
}

const char	*st_http_source;

static size_t
st_http_collect(char *data, size_t size, size_t n, void *arg)
{
	struct st_http_body	*b = arg;
	unsigned char		*grown;
	size_t			 len = size * n;

	if (len > ST_HTTP_MAX_BODY - b->len) {
		b->toolarge = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	if ((grown = realloc(b->data, b->len + len + 1)) == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* One request; body NULL means GET.  -1 on a transport error. */
static int
st_http_request(const char *url, const char *ctype, const unsigned char *body,
    size_t len, struct st_http_resp *r)
{
	CURL			*c = NULL;
	struct curl_slist	*hdrs = NULL;
	struct st_http_body	 b = { NULL, 0, 0 };
	struct curl_header	*h;
	char			*ct = NULL, hdr[256];
	CURLcode		 cc;
	int			 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((c = curl_easy_init()) == NULL) {
		st_warnx("%s: curl_easy_init failed", __func__);
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
	    st_http_collect) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, ST_HTTP_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    (st_http_source != NULL && curl_easy_setopt(c, CURLOPT_INTERFACE,
	    st_http_source) != CURLE_OK)) {
		st_warnx("%s: cannot set up libcurl", __func__);
		goto out;
	}
	if (body != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		if ((hdrs = curl_slist_append(NULL, hdr)) == NULL) {
			st_warnx("%s: out of memory", __func__);
			goto out;
		}
		/* No "Expect: 100-continue" round trip for a small body. */
		if ((hdrs = curl_slist_append(hdrs, "Expect:")) == NULL) {
			st_warnx("%s: out of memory", __func__);
			goto out;
		}
		if (curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
		    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len) != CURLE_OK ||
		    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK) {
			st_warnx("%s: cannot set up the POST", __func__);
			goto out;
		}
	}
	st_debug("%s %.200s%s", body != NULL ? "POST" : "GET", url,
	    strlen(url) > 200 ? "..." : "");
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		if (b.toolarge)
			st_warnx("%s: answer larger than %d bytes", url,
			    ST_HTTP_MAX_BODY);
		else
			st_warnx("%.200s: %s", url, curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status) !=
	    CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK) {
		st_warnx("%s: curl_easy_getinfo failed", __func__);
		goto out;
	}
	if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1,
	    &h) == CURLHE_OK)
		r->retry_after = strtol(h->value, NULL, 10);
	if ((r->ctype = strdup(ct != NULL ? ct : "")) == NULL) {
		st_warnx("%s: out of memory", __func__);
		goto out;
	}
	if (b.data == NULL && (b.data = calloc(1, 1)) == NULL) {
		st_warnx("%s: out of memory", __func__);
		goto out;
	}
	st_debug("HTTP %ld, %s, %zu bytes", r->status, r->ctype, b.len);
	r->body = b.data;
	r->len = b.len;
	b.data = NULL;
	rc = 0;
 out:
	if (rc == -1)
		st_http_resp_clear(r);
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

int
st_http_get(const char *url, struct st_http_resp *r)
{
	return st_http_request(url, NULL, NULL, 0, r);
}

int
st_http_post(const char *url, const char *ctype, const unsigned char *body,
    size_t len, struct st_http_resp *r)
{
	return st_http_request(url, ctype, body, len, r);
}

void
st_http_resp_clear(struct st_http_resp *r)
{
	free(r->ctype);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Whether the media type (parameters ignored) is the one given. */
int
st_http_ctype_is(const struct st_http_resp *r, const char *type)
{
	size_t	n;

	if (r->ctype == NULL)
		return 0;
	n = strcspn(r->ctype, "; \t");
	return n == strlen(type) && strncasecmp(r->ctype, type, n) == 0;
}
