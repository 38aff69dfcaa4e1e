/*
 * scepd's processes and what they are handed.
 *
 *   parent (src/parent.c)   binds the socket, starts and restarts the
 *                           others, passes signals on
 *   worker (src/worker.c)   HTTP, SCEP, policy, store; no key, no PIN,
 *                           no PKCS#11 module
 *   key process             bin/scepd-keyproc (src/keyproc.c): the
 *                           module, the PIN, every private-key use
 *
 * Each child is started by fork and exec (so that it shares no memory
 * with the parent) with its descriptors at fixed numbers, and says
 * PROCS_READY on its control socket once it serves.
 */
#ifndef SCEPD_PROCS_H
#define SCEPD_PROCS_H

#include "log.h"

#define PROCS_KEYPROC_CONTROL_FD	3
#define PROCS_WORKER_LISTEN_FD		3
#define PROCS_WORKER_CHANNEL_FD		4
#define PROCS_WORKER_CONTROL_FD		5
#define PROCS_READY			'R'

struct procs_args {
	const char	*config;
	const char	*listen;	/* NULL: server.listen */
	int		 check;		/* --check */
	const char	*instance;	/* worker: --instance, this run's id */
	enum log_level	 level;
};

int	parent_main(const struct procs_args *args);
int	worker_main(const struct procs_args *args);

#endif
