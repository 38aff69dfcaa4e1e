/*
 * Frames between scepd's processes over a socketpair: a fixed header
 * and a bounded payload, each frame one request or one answer.  The
 * cookie ties an answer to its request, so that an answer that comes
 * after its request gave up is recognised and dropped.
 *
 * Also: passing a descriptor to a sibling (SCM_RIGHTS).
 */
#ifndef SCEPD_IPC_H
#define SCEPD_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAX_PAYLOAD	16384	/* the largest certificate we sign */

struct ipc_frame {
	uint32_t	cookie;
	uint8_t		op;		/* request: operation; answer: status */
	uint8_t		role;
	uint16_t	arg;		/* padding, digest, ... */
	uint32_t	len;		/* of data */
	unsigned char	data[IPC_MAX_PAYLOAD];
};

/*
 * Writes one frame (all of it, or -1).  Never raises SIGPIPE.
 */
int	ipc_frame_send(int fd, const struct ipc_frame *f);
/*
 * Reads one frame, waiting at most timeout_ms (-1: no limit).  Returns
 * 0, or -1 with errno: ETIMEDOUT, EPIPE at end of file, EPROTO for a
 * frame over the limit (the channel is then unusable).
 */
int	ipc_frame_recv(int fd, struct ipc_frame *f, int timeout_ms);

/* Sends fd over sock with a one-byte message tag. */
int	ipc_fd_send(int sock, int fd, uint8_t tag);
/* Receives a descriptor (close-on-exec) and its tag; -1 at EOF. */
int	ipc_fd_recv(int sock, int *fd, uint8_t *tag);

#endif
