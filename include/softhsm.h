/*
 * The embedded default HSM: a SoftHSM2 token in a directory of its
 * own, and a verified copy of its files to restore from when a crash
 * damaged it.
 */
#ifndef SCEPD_SOFTHSM_H
#define SCEPD_SOFTHSM_H

#define SOFTHSM_MODULE		"/usr/lib/softhsm/libsofthsm2.so"
#define SOFTHSM_CONF_NAME	"softhsm2.conf"
#define SOFTHSM_TOKENS_NAME	"tokens"
#define SOFTHSM_BACKUP_NAME	"tokens.backup"

/*
 * Creates dir/tokens and dir/softhsm2.conf (dir absolute) and points
 * SOFTHSM2_CONF at it for this process.  -1 (logged).
 */
int	softhsm_prepare(const char *dir);
/*
 * Copies dir/tokens to dir/tokens.backup and checks that every byte
 * arrived.  Run with no session open.  -1 (logged).
 */
int	softhsm_backup(const char *dir);

/*
 * Copies the directory tree from to to (which must not exist), every
 * file read back and compared.  -1 (logged).
 */
int	softhsm_copy(const char *from, const char *to);
/*
 * Whether the SoftHSM token directory tokens is damaged the way a
 * process killed during a SoftHSM login leaves it: an object file
 * (token.object above all) that is empty, or missing from a token
 * directory that backup has.  A tokens directory that is not there at
 * all is not damaged (it may be away on purpose).  1 if damaged, 0 if
 * not, -1 (logged) if it cannot be told.
 */
int	softhsm_tokens_damaged(const char *tokens, const char *backup);
/*
 * Replaces tokens by a byte-verified copy of backup; the damaged
 * directory is kept beside it as tokens.damaged-TIME.  Run with the
 * module finalized and the token lock held.  -1 (logged).
 */
int	softhsm_restore(const char *tokens, const char *backup);

#endif
