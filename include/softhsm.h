/*
 * The embedded default HSM: a SoftHSM2 token in a directory of its
 * own, and a verified copy of its files to restore from.
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

#endif
