/*
 * What a worker process adds to signer.h when its signer is the key
 * process (src/signer_ipc.c): the channel to talk over.
 */
#ifndef SCEPD_SIGNER_IPC_H
#define SCEPD_SIGNER_IPC_H

struct signer;

/* The channel that signer_new() will use; call before it. */
void	signer_ipc_init(int fd);
/*
 * A new key process: fd replaces the channel (closing the old one) as
 * soon as no session uses it.  Safe from any thread.
 */
void	signer_ipc_set_channel(struct signer *sg, int fd);

#endif
