/*
 * netload: hostile and crowded HTTP clients for the integration tests
 * of scepd's connection limits.  Loopback only; every loop is bounded
 * by a count and by SECONDS.
 *
 *   netload [--bind ADDR] --port PORT idle N SECONDS
 *   netload [--bind ADDR] --port PORT trickle N SECONDS
 *   netload [--bind ADDR] --port PORT chunked BYTES SECONDS
 *   netload [--bind ADDR] --port PORT post N SECONDS FILE...
 *
 * idle opens N connections and sends nothing; trickle opens N and
 * sends, on each, one byte a second of a request whose header never
 * ends.  Both print "opened=N failed=N" once connected, then run until
 * SECONDS pass or SIGTERM, and print "closed_by_server=N open=N".
 * chunked POSTs a PKIOperation with a chunked body of BYTES (0: no
 * end) until the server answers or closes, and prints "sent=BYTES
 * status=NNN closed=0|1 complete=0|1" (status 0: no answer).  post
 * sends N PKIOperation POSTs at once, the Ith with the body of the
 * (I mod the number of FILEs)th FILE, prints "sent=N", then one line
 * "conn=I status=NNN retry_after=0|1" per connection and
 * "answered=N unanswered=N".
 *
 * The server is 127.0.0.1; --bind picks the client address (e.g.
 * 127.0.0.2, a second client on the same machine).  Exit status 0, 1
 * on a local failure, 2 on a usage error.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define NETLOAD_MAX_CONNS	5000
#define NETLOAD_CONNECT_SECONDS	20	/* for all connections to open */
#define NETLOAD_TICK_MS		100
#define NETLOAD_TRICKLE_MS	1000	/* one byte per connection */
#define NETLOAD_CHUNK		16384
#define NETLOAD_MAX_ANSWER	4096	/* kept of each answer */
#define NETLOAD_MAX_FILE	(1024 * 1024)
#define NETLOAD_MAX_FILES	64
#define NETLOAD_SERVER		"127.0.0.1"

static const char netload_trickle_head[] =
    "GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: netload\r\n"
    "X-Trickle: ";
static const char netload_chunked_head[] =
    "POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: netload\r\n"
    "Content-Type: application/x-pki-message\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

struct netload_conn {
	int	fd;		/* -1: closed */
	size_t	trickled;	/* bytes of the trickle request sent */
	char	answer[NETLOAD_MAX_ANSWER + 1];
	size_t	answer_len;
};

struct netload {
	const char		*bind_addr;
	unsigned int		 port;
	struct netload_conn	*conns;
	int			 n;
};

static volatile sig_atomic_t	netload_stop;

static void
netload_on_signal(int sig)
{
	(void)sig;
	netload_stop = 1;
}

static long long
netload_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A non-blocking socket with a connect to the server under way. */
static int
netload_connect_start(const struct netload *nl)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1) {
		perror("netload: socket");
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (nl->bind_addr != NULL) {
		if (inet_pton(AF_INET, nl->bind_addr, &sin.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			perror("netload: bind");
			close(fd);
			return -1;
		}
	}
	sin.sin_port = htons((uint16_t)nl->port);
	inet_pton(AF_INET, NETLOAD_SERVER, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -2;	/* refused: counted, not fatal */
	}
	return fd;
}

/*
 * Opens nl->n connections at once; those that fail get fd -1.  Prints
 * and returns how many are open, or -1 on a local failure.
 */
static int
netload_open_all(struct netload *nl)
{
	struct pollfd	*pfd = NULL;
	char		*connecting = NULL;
	long long	 deadline;
	int		 i, pending = 0, opened = 0, err, rc = -1;
	socklen_t	 len;

	if ((pfd = calloc((size_t)nl->n, sizeof(*pfd))) == NULL ||
	    (connecting = calloc((size_t)nl->n, 1)) == NULL)
		goto out;
	for (i = 0; i < nl->n; i++) {
		if ((nl->conns[i].fd = netload_connect_start(nl)) == -1)
			goto out;
		if (nl->conns[i].fd >= 0) {
			connecting[i] = 1;
			pending++;
		} else
			nl->conns[i].fd = -1;
	}
	deadline = netload_now_ms() + NETLOAD_CONNECT_SECONDS * 1000;
	while (pending > 0 && netload_now_ms() < deadline && !netload_stop) {
		for (i = 0; i < nl->n; i++) {
			pfd[i].fd = connecting[i] ? nl->conns[i].fd : -1;
			pfd[i].events = POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)nl->n, NETLOAD_TICK_MS) == -1 &&
		    errno != EINTR)
			goto out;
		for (i = 0; i < nl->n; i++) {
			if (!connecting[i] || pfd[i].revents == 0)
				continue;
			connecting[i] = 0;
			pending--;
			len = sizeof(err);
			if (getsockopt(nl->conns[i].fd, SOL_SOCKET, SO_ERROR,
			    &err, &len) == -1 || err != 0) {
				close(nl->conns[i].fd);
				nl->conns[i].fd = -1;
			}
		}
	}
	/* Whatever is still connecting counts as failed. */
	for (i = 0; i < nl->n; i++) {
		if (connecting[i]) {
			close(nl->conns[i].fd);
			nl->conns[i].fd = -1;
		}
		opened += nl->conns[i].fd >= 0;
	}
	printf("opened=%d failed=%d\n", opened, nl->n - opened);
	fflush(stdout);
	rc = opened;
 out:
	free(connecting);
	free(pfd);
	return rc;
}

/* Reads what is there; 1 if the server has closed (EOF or reset). */
static int
netload_read(struct netload_conn *cn)
{
	char	buf[NETLOAD_CHUNK];
	ssize_t	r;
	size_t	room;

	for (;;) {
		r = recv(cn->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0)
			return 1;
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		room = NETLOAD_MAX_ANSWER - cn->answer_len;
		if ((size_t)r < room)
			room = (size_t)r;
		memcpy(cn->answer + cn->answer_len, buf, room);
		cn->answer_len += room;
		cn->answer[cn->answer_len] = '\0';
	}
}

/* The status code of an answer, 0 if there is none yet. */
static int
netload_status(const struct netload_conn *cn)
{
	int	code;

	if (sscanf(cn->answer, "HTTP/1.%*1d %3d", &code) != 1)
		return 0;
	return code;
}

static int
netload_has_retry_after(const struct netload_conn *cn)
{
	const char	*p;

	for (p = cn->answer; (p = strchr(p, '\n')) != NULL; p++)
		if (strncasecmp(p + 1, "Retry-After:", 12) == 0)
			return 1;
	return 0;
}

/* One byte of the never-ending trickle request. */
static void
netload_trickle_byte(struct netload_conn *cn)
{
	size_t	hl = sizeof(netload_trickle_head) - 1;
	char	c;

	c = cn->trickled < hl ? netload_trickle_head[cn->trickled] : 'a';
	if (send(cn->fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
		cn->trickled++;
}

/* idle and trickle: hold the connections until SECONDS or SIGTERM. */
static int
netload_hold(struct netload *nl, int trickle, int seconds)
{
	struct pollfd	*pfd;
	long long	 end, next_byte;
	int		 i, closed = 0, open = 0;

	if (netload_open_all(nl) == -1)
		return 1;
	if ((pfd = calloc((size_t)nl->n, sizeof(*pfd))) == NULL)
		return 1;
	end = netload_now_ms() + (long long)seconds * 1000;
	next_byte = netload_now_ms();
	while (!netload_stop && netload_now_ms() < end) {
		if (trickle && netload_now_ms() >= next_byte) {
			for (i = 0; i < nl->n; i++)
				if (nl->conns[i].fd >= 0)
					netload_trickle_byte(&nl->conns[i]);
			next_byte += NETLOAD_TRICKLE_MS;
		}
		for (i = 0; i < nl->n; i++) {
			pfd[i].fd = nl->conns[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)nl->n, NETLOAD_TICK_MS) == -1 &&
		    errno != EINTR)
			break;
		for (i = 0; i < nl->n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (netload_read(&nl->conns[i])) {
				close(nl->conns[i].fd);
				nl->conns[i].fd = -1;
				closed++;
			}
		}
	}
	for (i = 0; i < nl->n; i++)
		if (nl->conns[i].fd >= 0) {
			open++;
			close(nl->conns[i].fd);
		}
	printf("closed_by_server=%d open=%d\n", closed, open);
	free(pfd);
	return 0;
}

/*
 * Sends the chunked body until the server answers or closes: what
 * matters is how much of it the socket took (sent) before it did.
 */
static int
netload_chunked(struct netload *nl, unsigned long long bytes, int seconds)
{
	struct netload_conn	*cn = &nl->conns[0];
	static char		 frame[NETLOAD_CHUNK + 16];
	struct pollfd		 pfd;
	unsigned long long	 framed = 0, sent = 0;
	size_t			 flen, foff = 0;
	long long		 end;
	int			 closed = 0, complete = 0, last = 0;
	ssize_t			 w;

	if (netload_open_all(nl) != 1)
		return 1;
	flen = sizeof(netload_chunked_head) - 1;
	memcpy(frame, netload_chunked_head, flen);
	end = netload_now_ms() + (long long)seconds * 1000;
	while (!netload_stop && !closed && netload_now_ms() < end) {
		if (foff == flen && !complete) {
			/* The next frame: a chunk, or the last one. */
			if (last)
				complete = 1;
			else if (bytes != 0 && framed >= bytes) {
				memcpy(frame, "0\r\n\r\n", 5);
				flen = 5;
				last = 1;
			} else {
				flen = (size_t)snprintf(frame, 16, "%x\r\n",
				    NETLOAD_CHUNK);
				memset(frame + flen, 'x', NETLOAD_CHUNK);
				flen += NETLOAD_CHUNK;
				memcpy(frame + flen, "\r\n", 2);
				flen += 2;
				framed += NETLOAD_CHUNK;
			}
			foff = 0;
		}
		pfd.fd = cn->fd;
		pfd.events = POLLIN | (complete ? 0 : POLLOUT);
		pfd.revents = 0;
		if (poll(&pfd, 1, NETLOAD_TICK_MS) == -1 && errno != EINTR)
			break;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			closed = netload_read(cn);
			if (complete && netload_status(cn) != 0)
				break;
		}
		if (!closed && (pfd.revents & POLLOUT) && foff < flen) {
			w = send(cn->fd, frame + foff, flen - foff,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				foff += (size_t)w;
				sent += (unsigned long long)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				/* Reset: an answer may still be queued. */
				closed = 1;
				(void)netload_read(cn);
			}
		}
	}
	printf("sent=%llu status=%d closed=%d complete=%d\n", sent,
	    netload_status(cn), closed, complete);
	close(cn->fd);
	return 0;
}

static int
netload_read_file(const char *path, char **out, size_t *len)
{
	struct stat	st;
	ssize_t		r;
	int		fd, rc = -1;

	*out = NULL;
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    st.st_size <= 0 || st.st_size > NETLOAD_MAX_FILE) {
		fprintf(stderr, "netload: %s: unreadable or too large\n",
		    path);
		goto out;
	}
	if ((*out = malloc((size_t)st.st_size)) == NULL)
		goto out;
	if ((r = read(fd, *out, (size_t)st.st_size)) != st.st_size) {
		fprintf(stderr, "netload: %s: short read\n", path);
		goto out;
	}
	*len = (size_t)r;
	rc = 0;
 out:
	if (fd != -1)
		close(fd);
	if (rc == -1) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Writes all of buf to a connected non-blocking socket, or fails. */
static int
netload_send_all(int fd, const char *buf, size_t len)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLOUT };
	ssize_t		w;
	int		tries = 0;

	while (len > 0 && tries++ < 1000) {
		w = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			buf += w;
			len -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		else
			(void)poll(&pfd, 1, NETLOAD_TICK_MS);
	}
	return len == 0 ? 0 : -1;
}

/* One PKIOperation POST of the file's body on a connected socket. */
static int
netload_post_one(int fd, const char *file)
{
	char	*body = NULL, head[256];
	size_t	 blen;
	int	 hl, rc = -1;

	if (netload_read_file(file, &body, &blen) == -1)
		return -1;
	hl = snprintf(head, sizeof(head), "POST /scep?operation=PKIOperation "
	    "HTTP/1.1\r\nHost: netload\r\nContent-Type: "
	    "application/x-pki-message\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", blen);
	if (netload_send_all(fd, head, (size_t)hl) == 0 &&
	    netload_send_all(fd, body, blen) == 0)
		rc = 0;
	free(body);
	return rc;
}

/* post: N complete requests at once, then every answer. */
static int
netload_post(struct netload *nl, char **files, int nfiles, int seconds)
{
	struct pollfd	*pfd = NULL;
	long long	 end;
	int		 i, open = 0, answered = 0, rc = 1;

	if (netload_open_all(nl) == -1)
		goto out;
	for (i = 0; i < nl->n; i++) {
		if (nl->conns[i].fd < 0)
			continue;
		if (netload_post_one(nl->conns[i].fd, files[i % nfiles]) ==
		    -1) {
			close(nl->conns[i].fd);
			nl->conns[i].fd = -1;
		} else
			open++;
	}
	printf("sent=%d\n", open);
	fflush(stdout);
	if ((pfd = calloc((size_t)nl->n, sizeof(*pfd))) == NULL)
		goto out;
	end = netload_now_ms() + (long long)seconds * 1000;
	while (open > 0 && !netload_stop && netload_now_ms() < end) {
		for (i = 0; i < nl->n; i++) {
			pfd[i].fd = nl->conns[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)nl->n, NETLOAD_TICK_MS) == -1 &&
		    errno != EINTR)
			goto out;
		for (i = 0; i < nl->n; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents != 0 &&
			    netload_read(&nl->conns[i])) {
				close(nl->conns[i].fd);
				nl->conns[i].fd = -1;
				open--;
			}
	}
	for (i = 0; i < nl->n; i++) {
		printf("conn=%d status=%d retry_after=%d\n", i,
		    netload_status(&nl->conns[i]),
		    netload_has_retry_after(&nl->conns[i]));
		answered += netload_status(&nl->conns[i]) != 0;
		if (nl->conns[i].fd >= 0)
			close(nl->conns[i].fd);
	}
	printf("answered=%d unanswered=%d\n", answered, nl->n - answered);
	rc = 0;
 out:
	free(pfd);
	return rc;
}

static void
netload_usage(void)
{
	fputs("usage: netload [--bind ADDR] --port PORT idle|trickle N SECONDS\n"
	    "       netload [--bind ADDR] --port PORT chunked BYTES SECONDS\n"
	    "       netload [--bind ADDR] --port PORT post N SECONDS FILE...\n",
	    stderr);
}

/* A count or a duration from argv, within 0..max. */
static int
netload_number(const char *s, long long max, long long *out)
{
	char	*end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' || *out < 0 || *out > max ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	struct netload		 nl;
	struct sigaction	 sa;
	long long		 n = 1, secs, port = 0, bytes = 0;
	const char		*cmd;
	int			 i = 1, nfiles, rc;

	memset(&nl, 0, sizeof(nl));
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--bind") == 0)
			nl.bind_addr = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0 &&
		    netload_number(argv[i + 1], 65535, &port) == 0)
			;
		else {
			netload_usage();
			return 2;
		}
	}
	if (port == 0 || i + 3 > argc) {
		netload_usage();
		return 2;
	}
	nl.port = (unsigned int)port;
	cmd = argv[i];
	nfiles = argc - (i + 3);
	if (strcmp(cmd, "post") == 0 ? nfiles < 1 ||
	    nfiles > NETLOAD_MAX_FILES : nfiles != 0) {
		netload_usage();
		return 2;
	}
	if (strcmp(cmd, "chunked") == 0) {
		if (netload_number(argv[i + 1], 1LL << 40, &bytes) == -1) {
			netload_usage();
			return 2;
		}
	} else if (netload_number(argv[i + 1], NETLOAD_MAX_CONNS, &n) == -1 ||
	    n == 0) {
		netload_usage();
		return 2;
	}
	if (netload_number(argv[i + 2], 600, &secs) == -1) {
		netload_usage();
		return 2;
	}
	nl.n = (int)n;
	if ((nl.conns = calloc((size_t)nl.n, sizeof(*nl.conns))) == NULL)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = netload_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "idle") == 0)
		rc = netload_hold(&nl, 0, (int)secs);
	else if (strcmp(cmd, "trickle") == 0)
		rc = netload_hold(&nl, 1, (int)secs);
	else if (strcmp(cmd, "chunked") == 0)
		rc = netload_chunked(&nl, (unsigned long long)bytes,
		    (int)secs);
	else if (strcmp(cmd, "post") == 0)
		rc = netload_post(&nl, argv + i + 3, nfiles, (int)secs);
	else {
		netload_usage();
		rc = 2;
	}
	free(nl.conns);
	return rc;
}
