/*
 * One-time passwords in SQLite.  Only a SHA-256 of each OTP is kept;
 * using one is a single conditional UPDATE, so of many requests
 * presenting it, in any number of processes, exactly one wins.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_sqlite.h"

void
store_otp_clear(struct store_otp *otp)
{
	free(otp->subject_pattern);
	free(otp->used_txid);
	memset(otp, 0, sizeof(*otp));
}

/* Columns: id, subject_pattern, created_at, expires_at, used_at,
 * used_txid, revoked_at. */
static int
store_otp_read(sqlite3_stmt *stmt, struct store_otp *otp)
{
	int	err = 0;

	memset(otp, 0, sizeof(*otp));
	otp->id = sqlite3_column_int64(stmt, 0);
	otp->subject_pattern = store_column_text(stmt, 1, &err);
	otp->created_at = (time_t)sqlite3_column_int64(stmt, 2);
	otp->expires_at = (time_t)sqlite3_column_int64(stmt, 3);
	otp->used_at = (time_t)sqlite3_column_int64(stmt, 4);
	otp->used_txid = store_column_text(stmt, 5, &err);
	otp->revoked_at = (time_t)sqlite3_column_int64(stmt, 6);
	if (err) {
		log_error("%s: out of memory", __func__);
		store_otp_clear(otp);
		return -1;
	}
	return 0;
}

#define STORE_OTP_COLUMNS \
	"SELECT id, subject_pattern, created_at, expires_at, used_at, " \
	"used_txid, revoked_at FROM otps "

int
store_otp_add(struct store *st, const char *hash, const char *subject_pattern,
    time_t expires_at, long long *id)
{
	sqlite3_stmt	*stmt;
	int		 ok = 0;

	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "INSERT INTO otps (hash, subject_pattern, "
	    "created_at, expires_at) VALUES (?, ?, ?, ?)");
	if (stmt != NULL) {
		store_bind_text(stmt, 1, hash);
		store_bind_text(stmt, 2, subject_pattern);
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
		sqlite3_bind_int64(stmt, 4, (sqlite3_int64)expires_at);
		if (store_step_done(st, stmt) == 0) {
			*id = sqlite3_last_insert_rowid(st->db);
			ok = 1;
		}
	}
	return store_end(st, ok);
}

int
store_otp_find(struct store *st, const char *hash, struct store_otp *otp)
{
	sqlite3_stmt	*stmt;
	int		 r, rc = -1;

	memset(otp, 0, sizeof(*otp));
	pthread_mutex_lock(&st->mutex);
	if ((stmt = store_prepare(st, STORE_OTP_COLUMNS
	    "WHERE hash = ?")) != NULL) {
		store_bind_text(stmt, 1, hash);
		r = sqlite3_step(stmt);
		if (r == SQLITE_ROW)
			rc = store_otp_read(stmt, otp);
		else if (r == SQLITE_DONE)
			rc = 1;
		else
			log_error("sqlite: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(stmt);
	}
	pthread_mutex_unlock(&st->mutex);
	return rc;
}

int
store_otp_consume(struct store *st, long long id, const char *txid,
    time_t now)
{
	sqlite3_stmt	*stmt;
	int		 rc = -1, ok = 0;

	if (store_begin(st) == -1)
		return -1;
	/* A client retrying the same transaction may present it again. */
	stmt = store_prepare(st, "UPDATE otps SET used_at = ?1, "
	    "used_txid = ?2 WHERE id = ?3 AND revoked_at IS NULL "
	    "AND expires_at > ?1 AND (used_at IS NULL OR used_txid = ?2)");
	if (stmt != NULL) {
		sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
		store_bind_text(stmt, 2, txid);
		sqlite3_bind_int64(stmt, 3, id);
		if (store_step_done(st, stmt) == 0) {
			rc = sqlite3_changes(st->db) == 1 ? 0 : 1;
			ok = 1;
		}
	}
	if (store_end(st, ok) == -1)
		return -1;
	return rc;
}

int
store_otp_revoke(struct store *st, long long id, time_t now)
{
	sqlite3_stmt	*stmt;
	int		 rc = -1, ok = 0;

	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE otps SET revoked_at = ? "
	    "WHERE id = ? AND revoked_at IS NULL");
	if (stmt != NULL) {
		sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
		sqlite3_bind_int64(stmt, 2, id);
		if (store_step_done(st, stmt) == 0) {
			rc = sqlite3_changes(st->db) == 1 ? 0 : 1;
			ok = 1;
		}
	}
	if (store_end(st, ok) == -1)
		return -1;
	return rc;
}

int
store_otp_foreach(struct store *st,
    int (*fn)(const struct store_otp *, void *), void *arg)
{
	sqlite3_stmt		*stmt;
	struct store_otp	 otp;
	int			 r, rc = -1;

	pthread_mutex_lock(&st->mutex);
	if ((stmt = store_prepare(st, STORE_OTP_COLUMNS "ORDER BY id")) ==
	    NULL)
		goto out;
	while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (store_otp_read(stmt, &otp) == -1)
			break;
		r = fn(&otp, arg);
		store_otp_clear(&otp);
		if (r == -1)
			break;
	}
	if (r == SQLITE_DONE)
		rc = 0;
	sqlite3_finalize(stmt);
 out:
	pthread_mutex_unlock(&st->mutex);
	return rc;
}
