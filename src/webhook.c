/*
 * Webhook challenges with libcurl and jansson.  The document carries
 * the challenge, so it goes only to the configured service (use
 * https:// in production) or on a command's standard input, never in
 * an argument or a log line.
 *
 * HTTP: 200 with {"allow": true|false, "reason": "..."} decides;
 * anything else is an error.  Command: exit 0 allows, exit 1 denies,
 * the first line of standard output is the reason; anything else,
 * including the timeout, is an error.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "log.h"
#include "policy.h"
#include "webhook.h"

/*
 * A command gets only this environment: nothing of scepd's own (which
 * may hold a PIN in hsm.pin_env, or a module's settings).
 */
static char *webhook_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"LC_ALL=C",
	NULL
};

char *
webhook_document_new(const struct webhook_query *q)
{
	const struct policy_request	*r = q->req;
	json_t				*doc, *dns, *ips, *emails, *uris;
	char				 addr[INET6_ADDRSTRLEN];
	char				*text = NULL;
	size_t				 i;

	dns = json_array();
	ips = json_array();
	emails = json_array();
	uris = json_array();
	for (i = 0; i < r->n_san_dns; i++)
		json_array_append_new(dns, json_string(r->san_dns[i]));
	for (i = 0; i < r->n_san_email; i++)
		json_array_append_new(emails, json_string(r->san_email[i]));
	for (i = 0; i < r->n_san_uri; i++)
		json_array_append_new(uris, json_string(r->san_uri[i]));
	for (i = 0; i < r->n_san_ip; i++)
		if (inet_ntop(r->san_ip[i].family, r->san_ip[i].addr, addr,
		    sizeof(addr)) != NULL)
			json_array_append_new(ips, json_string(addr));
	doc = json_pack("{s:s*, s:s*, s:o, s:o, s:o, s:o, s:s, s:i, s:s*, "
	    "s:s*, s:b, s:s*}",
	    "transactionID", q->txid,
	    "subject", r->subject,
	    "san_dns", dns,
	    "san_ip", ips,
	    "san_email", emails,
	    "san_uri", uris,
	    "key_type", r->key_type == POLICY_KEY_RSA ? "rsa" : "ec",
	    "key_bits", r->key_bits,
	    "challenge", q->challenge,
	    "client_address", q->client,
	    "renewal", r->renewal,
	    "rule", q->rule);
	if (doc != NULL) {
		text = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
	}
	return text;
}

struct webhook_body {
	char	*data;
	size_t	 len;
};

static size_t
webhook_collect(char *data, size_t size, size_t n, void *arg)
{
	struct webhook_body	*b = arg;
	size_t			 len = size * n;
	char			*grown;

	if (b->len + len > WEBHOOK_RESPONSE_MAX)
		return 0;
	if ((grown = realloc(b->data, b->len + len + 1)) == NULL)
		return 0;
	b->data = grown;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static enum webhook_answer
webhook_parse(const char *body, char *why, size_t whylen)
{
	json_t		*doc, *allow, *reason;
	json_error_t	 err;
	enum webhook_answer a = WEBHOOK_ERROR;

	if ((doc = json_loads(body, 0, &err)) == NULL ||
	    !json_is_object(doc) ||
	    !json_is_boolean(allow = json_object_get(doc, "allow"))) {
		snprintf(why, whylen, "webhook answer is not {\"allow\": "
		    "true|false}");
		goto out;
	}
	reason = json_object_get(doc, "reason");
	snprintf(why, whylen, "%s", json_is_string(reason) ?
	    json_string_value(reason) : json_is_true(allow) ?
	    "allowed by webhook" : "denied by webhook");
	a = json_is_true(allow) ? WEBHOOK_ALLOW : WEBHOOK_DENY;
 out:
	json_decref(doc);
	return a;
}

static enum webhook_answer
webhook_http(const struct policy_challenge *c, const char *doc, char *why,
    size_t whylen)
{
	CURL			*curl;
	struct curl_slist	*hdrs = NULL;
	struct webhook_body	 b = { NULL, 0 };
	long			 status = 0;
	CURLcode		 rc;
	enum webhook_answer	 a = WEBHOOK_ERROR;

	if ((curl = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "webhook: curl_easy_init failed");
		return WEBHOOK_ERROR;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, c->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, doc);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)c->timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)c->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);	/* threads */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, webhook_collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	if ((rc = curl_easy_perform(curl)) != CURLE_OK)
		snprintf(why, whylen, "webhook %s: %s", c->url,
		    curl_easy_strerror(rc));
	else if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status),
	    status != 200)
		snprintf(why, whylen, "webhook %s: HTTP %ld", c->url, status);
	else
		a = webhook_parse(b.data ? b.data : "", why, whylen);
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return a;
}

/* Milliseconds left until deadline (0 if past). */
static int
webhook_left(const struct timespec *deadline)
{
	struct timespec	now;
	long		ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/*
 * Writes doc to fd_in (a socket: a command that exits without reading
 * must not raise SIGPIPE in a library) and reads fd_out until EOF or
 * the deadline.  fd_in is closed on return.
 */
static int
webhook_exchange(int fd_in, int fd_out, const char *doc, char *out,
    size_t outlen, const struct timespec *deadline)
{
	struct pollfd	pfd[2];
	size_t		wrote = 0, len = strlen(doc), got = 0;
	ssize_t		n;
	int		r;

	pfd[0].fd = fd_in;
	pfd[0].events = POLLOUT;
	pfd[1].fd = fd_out;
	pfd[1].events = POLLIN;
	for (;;) {
		if (wrote == len && pfd[0].fd != -1) {
			close(fd_in);
			pfd[0].fd = -1;
		}
		if ((r = poll(pfd, 2, webhook_left(deadline))) == 0)
			goto fail;		/* timeout */
		if (r < 0 && errno != EINTR)
			goto fail;
		if (pfd[0].fd != -1 && (pfd[0].revents & (POLLOUT | POLLERR |
		    POLLHUP))) {
			if ((n = send(fd_in, doc + wrote, len - wrote,
			    MSG_NOSIGNAL)) < 0) {
				close(fd_in);	/* it stopped reading: fine */
				pfd[0].fd = -1;
			} else
				wrote += (size_t)n;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd_out, out + got, outlen - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (got == outlen - 1)
				break;
		}
	}
	if (pfd[0].fd != -1)
		close(fd_in);
	out[got] = '\0';
	return 0;
 fail:
	if (pfd[0].fd != -1)
		close(fd_in);
	return -1;
}

static enum webhook_answer
webhook_command(const struct policy_challenge *c, const char *doc,
    char *why, size_t whylen)
{
	posix_spawn_file_actions_t	 fa;
	int				 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t				 pid = -1;
	char				 buf[1024];
	struct timespec			 deadline;
	int				 status, st = -1;
	enum webhook_answer		 a = WEBHOOK_ERROR;

	/* stdin is a socket so that writing to it can be MSG_NOSIGNAL. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == -1 ||
	    pipe2(out, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "webhook: pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	st = posix_spawn(&pid, c->command[0], &fa, NULL, c->command,
	    webhook_env);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (st != 0) {
		snprintf(why, whylen, "webhook: cannot run %s: %s",
		    c->command[0], strerror(st));
		pid = -1;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += c->timeout;
	if (webhook_exchange(in[1], out[0], doc, buf, sizeof(buf),
	    &deadline) == -1) {
		in[1] = -1;
		snprintf(why, whylen, "webhook %s: no answer within %d s",
		    c->command[0], c->timeout);
		goto out;
	}
	in[1] = -1;
	/* The answer is in; give it until the deadline to exit. */
	while ((st = waitpid(pid, &status, WNOHANG)) == 0 &&
	    webhook_left(&deadline) > 0)
		usleep(2000);
	if (st != pid) {
		snprintf(why, whylen, "webhook %s: did not exit within %d s",
		    c->command[0], c->timeout);
		goto out;
	}
	pid = -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1) {
		a = WEXITSTATUS(status) == 0 ? WEBHOOK_ALLOW : WEBHOOK_DENY;
		snprintf(why, whylen, "%s", *buf ? buf : a == WEBHOOK_ALLOW ?
		    "allowed by webhook" : "denied by webhook");
	} else
		snprintf(why, whylen, "webhook %s: exit status %d",
		    c->command[0], WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status));
 out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (in[1] != -1)
		close(in[1]);
	if (out[0] != -1)
		close(out[0]);
	if (in[0] != -1)
		close(in[0]);
	if (out[1] != -1)
		close(out[1]);
	return a;
}

enum webhook_answer
webhook_ask(const struct policy_challenge *c, const struct webhook_query *q,
    char *why, size_t whylen)
{
	char			*doc;
	enum webhook_answer	 a;

	if ((doc = webhook_document_new(q)) == NULL) {
		snprintf(why, whylen, "webhook: cannot build the document");
		return WEBHOOK_ERROR;
	}
	a = c->url != NULL ? webhook_http(c, doc, why, whylen) :
	    webhook_command(c, doc, why, whylen);
	/* The document holds the challenge. */
	memset(doc, 0, strlen(doc));
	free(doc);
	return a;
}
