/*
 * Frames and descriptors between scepd's processes (see ipc.h).
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define IPC_HEADER	12	/* cookie, op, role, arg, len */

static int64_t
ipc_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ipc_write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes before the deadline (-1: none). */
static int
ipc_read_all(int fd, unsigned char *p, size_t len, int64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;
	int		wait_ms, r;

	while (len > 0) {
		wait_ms = -1;
		if (deadline >= 0 &&
		    (wait_ms = (int)(deadline - ipc_now_ms())) < 0)
			wait_ms = 0;
		if ((r = poll(&pfd, 1, wait_ms)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = recv(fd, p, len, 0)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ipc_frame_send(int fd, const struct ipc_frame *f)
{
	unsigned char	hdr[IPC_HEADER];

	if (f->len > IPC_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(hdr, &f->cookie, 4);
	hdr[4] = f->op;
	hdr[5] = f->role;
	memcpy(hdr + 6, &f->arg, 2);
	memcpy(hdr + 8, &f->len, 4);
	if (ipc_write_all(fd, hdr, sizeof(hdr)) == -1 ||
	    ipc_write_all(fd, f->data, f->len) == -1)
		return -1;
	return 0;
}

int
ipc_frame_recv(int fd, struct ipc_frame *f, int timeout_ms)
{
	unsigned char	hdr[IPC_HEADER];
	int64_t		deadline = -1;

	if (timeout_ms >= 0)
		deadline = ipc_now_ms() + timeout_ms;
	if (ipc_read_all(fd, hdr, sizeof(hdr), deadline) == -1)
		return -1;
	memcpy(&f->cookie, hdr, 4);
	f->op = hdr[4];
	f->role = hdr[5];
	memcpy(&f->arg, hdr + 6, 2);
	memcpy(&f->len, hdr + 8, 4);
	if (f->len > IPC_MAX_PAYLOAD) {
		errno = EPROTO;
		return -1;
	}
	return ipc_read_all(fd, f->data, f->len, deadline);
}

int
ipc_fd_send(int sock, int fd, uint8_t tag)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct cmsghdr	*c;
	struct iovec	 iov = { .iov_base = &tag, .iov_len = 1 };

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
ipc_fd_recv(int sock, int *fd, uint8_t *tag)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct cmsghdr	*c;
	struct iovec	 iov = { .iov_base = tag, .iov_len = 1 };
	ssize_t		 n;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) == -1)
		if (errno != EINTR)
			return -1;
	if (n == 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}
