/*
 * The lock that serialises all work on a token, machine-wide.
 *
 * Two PKCS#11 session cycles in one process close each other's
 * sessions (libp11 calls C_CloseAllSessions), and SoftHSM rewrites its
 * token file on every login, so concurrent logins from two processes
 * corrupt it.  Every user of the token therefore holds this lock: a
 * process mutex for threads, and flock(2) on a file for processes.
 * Several key processes of a module that allows concurrent logins
 * (hsm.key_processes) hold it shared among themselves; everything
 * else, scepctl included, holds it exclusive.
 */
#ifndef SCEPD_HSM_LOCK_H
#define SCEPD_HSM_LOCK_H

struct hsm_lock;

enum hsm_lock_mode {
	HSM_LOCK_EXCLUSIVE,
	HSM_LOCK_SHARED,	/* with other holders in shared mode */
};

/* Opens (creating if needed) the lock file; NULL on failure (logged). */
struct hsm_lock	*hsm_lock_new(const char *path, enum hsm_lock_mode mode);
void		 hsm_lock_free(struct hsm_lock *lk);
/* Waits at most timeout seconds; -1 (logged) on timeout or error. */
int		 hsm_lock_acquire(struct hsm_lock *lk, int timeout);
/*
 * Held shared: waits at most timeout seconds until it is held alone
 * (at once when held exclusive).  -1 (logged): not held at all any
 * more, but still to be released.
 */
int		 hsm_lock_exclusive(struct hsm_lock *lk, int timeout);
void		 hsm_lock_release(struct hsm_lock *lk);

#endif
