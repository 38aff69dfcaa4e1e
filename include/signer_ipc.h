/*
 * What a worker process adds to signer.h when its signer is the key
 * process (src/signer_ipc.c): the channels to talk over, one per key
 * process (hsm.key_processes).
 */
#ifndef SCEPD_SIGNER_IPC_H
#define SCEPD_SIGNER_IPC_H

struct signer;

/* The channel to the first key process that signer_new() will use. */
void	signer_ipc_init(int fd);
/*
 * A new channel to key process index (0-based): fd replaces the old
 * one (closing it) as soon as no session uses it.  Safe from any
 * thread.  -1 (logged, fd closed) if there is no such key process.
 */
int	signer_ipc_set_channel(struct signer *sg, int index, int fd);

#endif
