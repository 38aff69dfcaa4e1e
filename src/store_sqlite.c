/*
 * store.h on SQLite: WAL journal with synchronous=FULL, so a commit
 * is on disk when sqlite3_step() returns.  One connection, used by one
 * thread at a time; every public function is one database transaction.
 * This file: the connection, the schema, events and certificates;
 * store_txn.c: transactions; store_otp.c: one-time passwords.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_sqlite.h"

/* Schema migrations: entry i brings user_version i to i + 1. */
static const char *const store_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE certificates ("
	"  serial TEXT PRIMARY KEY,"
	"  state TEXT NOT NULL CHECK (state IN ('reserved', 'issued')),"
	"  txid TEXT,"
	"  subject TEXT,"
	"  not_before INTEGER,"
	"  not_after INTEGER,"
	"  der BLOB,"
	"  reserved_at INTEGER NOT NULL,"
	"  issued_at INTEGER);"
	"CREATE TABLE transactions ("
	"  txid TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('processing', 'issued', 'rejected', 'failed')),"
	"  pubkey_sha256 TEXT NOT NULL,"
	"  subject TEXT,"
	"  client TEXT,"
	"  serial TEXT REFERENCES certificates (serial),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (txid, kind));"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  txid TEXT,"
	"  msgtype TEXT,"
	"  client TEXT,"
	"  outcome TEXT NOT NULL,"
	"  failinfo TEXT,"
	"  reason TEXT,"
	"  serial TEXT);",
	/* 1 -> 2: held requests, renewals, one-time passwords */
	"CREATE TABLE transactions2 ("
	"  id INTEGER PRIMARY KEY,"
	"  txid TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('processing', 'issued',"
	"    'rejected', 'failed', 'pending', 'approved', 'denied',"
	"    'expired')),"
	"  pubkey_sha256 TEXT NOT NULL,"
	"  signer_sha256 TEXT,"
	"  subject TEXT,"
	"  client TEXT,"
	"  serial TEXT REFERENCES certificates (serial),"
	"  csr BLOB,"
	"  rule TEXT,"
	"  profile TEXT,"
	"  reason TEXT,"
	"  expires_at INTEGER,"
	"  decided_by TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (txid, kind));"
	"INSERT INTO transactions2 (txid, kind, state, pubkey_sha256, subject,"
	"  client, serial, created_at, updated_at)"
	"  SELECT txid, kind, state, pubkey_sha256, subject, client, serial,"
	"  created_at, updated_at FROM transactions;"
	"DROP TABLE transactions;"
	"ALTER TABLE transactions2 RENAME TO transactions;"
	"CREATE INDEX transactions_state ON transactions (state);"
	"CREATE INDEX certificates_subject ON certificates (subject,"
	"  not_after);"
	"ALTER TABLE events ADD COLUMN rule TEXT;"
	"CREATE TABLE otps ("
	"  id INTEGER PRIMARY KEY,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  subject_pattern TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER,"
	"  used_txid TEXT,"
	"  revoked_at INTEGER);",
	/*
	 * 2 -> 3: who processes a transaction.  A request that outlives
	 * its lease loses it to a retransmission, and must then no longer
	 * be able to finish it (two certificates for one transactionID).
	 */
	"ALTER TABLE transactions ADD COLUMN claim TEXT;",
};

#define STORE_N_MIGRATIONS \
	(int)(sizeof(store_migrations) / sizeof(store_migrations[0]))

int
store_exec(struct store *st, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sqlite: %s: %s", msg ? msg : "error", sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt	*stmt = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		log_error("sqlite: %s: %s", sqlite3_errmsg(st->db), sql);
		return NULL;
	}
	return stmt;
}

int
store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(stmt, i);
	return sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
}

int
store_step_done(struct store *st, sqlite3_stmt *stmt)
{
	int	r;

	if (stmt == NULL)
		return -1;
	r = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (r != SQLITE_DONE) {
		log_error("sqlite: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int
store_migrate(struct store *st)
{
	sqlite3_stmt	*stmt;
	int		 version, v;
	char		 sql[64];

	if ((stmt = store_prepare(st, "PRAGMA user_version")) == NULL)
		return -1;
	version = sqlite3_step(stmt) == SQLITE_ROW ?
	    sqlite3_column_int(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	if (version < 0 || version > STORE_N_MIGRATIONS) {
		log_error("database schema version %d is not one this scepd "
		    "knows (at most %d)", version, STORE_N_MIGRATIONS);
		return -1;
	}
	for (v = version; v < STORE_N_MIGRATIONS; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (store_exec(st, "BEGIN IMMEDIATE") == -1)
			return -1;
		if (store_exec(st, store_migrations[v]) == -1 ||
		    store_exec(st, sql) == -1) {
			store_exec(st, "ROLLBACK");
			return -1;
		}
		if (store_exec(st, "COMMIT") == -1)
			return -1;
		log_info("database schema migrated to version %d", v + 1);
	}
	return 0;
}

struct store *
store_open(const char *path)
{
	struct store	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		log_error("database %s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : "out of memory");
		sqlite3_close(st->db);
		free(st);
		return NULL;
	}
	pthread_mutex_init(&st->mutex, NULL);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (store_exec(st, "PRAGMA journal_mode = WAL") == -1 ||
	    store_exec(st, "PRAGMA synchronous = FULL") == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON") == -1 ||
	    store_migrate(st) == -1) {
		log_error("database %s cannot be used", path);
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mutex);
	free(st);
}

int
store_begin(struct store *st)
{
	pthread_mutex_lock(&st->mutex);
	if (store_exec(st, "BEGIN IMMEDIATE") == -1) {
		pthread_mutex_unlock(&st->mutex);
		return -1;
	}
	return 0;
}

int
store_end(struct store *st, int ok)
{
	int	rc = -1;

	if (ok && store_exec(st, "COMMIT") == 0)
		rc = 0;
	else
		store_exec(st, "ROLLBACK");
	pthread_mutex_unlock(&st->mutex);
	return rc;
}

int
store_recover(struct store *st)
{
	sqlite3_stmt	*stmt;
	int		 n = -1;

	if (store_begin(st) == -1)
		return -1;
	/*
	 * Only transactions whose lease has run out: a fresh one may
	 * belong to another scepd sharing the database, still at work.
	 */
	stmt = store_prepare(st, "UPDATE transactions SET state = 'failed', "
	    "updated_at = ?1 WHERE state = 'processing' AND updated_at <= ?2");
	if (stmt != NULL) {
		sqlite3_bind_int64(stmt, 1, (sqlite3_int64)time(NULL));
		sqlite3_bind_int64(stmt, 2, (sqlite3_int64)(time(NULL) -
		    STORE_STALE_SECONDS));
		if (store_step_done(st, stmt) == 0)
			n = sqlite3_changes(st->db);
	}
	if (store_end(st, n >= 0) == -1)
		return -1;
	return n;
}

int
store_recover_owner(struct store *st, const char *owner)
{
	sqlite3_stmt	*stmt;
	char		 pattern[STORE_OWNER_MAX + 3];
	size_t		 len = strlen(owner);
	int		 n = -1;

	if (len == 0 || len > STORE_OWNER_MAX ||
	    strspn(owner, "0123456789abcdef") != len) {
		log_error("%s: the owner must be hex", __func__);
		return -1;
	}
	memcpy(st->owner, owner, len + 1);
	snprintf(pattern, sizeof(pattern), "%s:%%", owner);
	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE transactions SET state = 'failed', "
	    "updated_at = ?1 WHERE state = 'processing' AND claim LIKE ?2");
	if (stmt != NULL) {
		sqlite3_bind_int64(stmt, 1, (sqlite3_int64)time(NULL));
		store_bind_text(stmt, 2, pattern);
		if (store_step_done(st, stmt) == 0)
			n = sqlite3_changes(st->db);
	}
	if (store_end(st, n >= 0) == -1)
		return -1;
	return n;
}

int
store_insert_event(struct store *st, const struct store_event *ev)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO events (at, txid, msgtype, "
	    "client, outcome, failinfo, reason, serial, rule) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 2, ev->txid);
	store_bind_text(stmt, 3, ev->msgtype);
	store_bind_text(stmt, 4, ev->client);
	store_bind_text(stmt, 5, ev->outcome);
	store_bind_text(stmt, 6, ev->failinfo);
	store_bind_text(stmt, 7, ev->reason);
	store_bind_text(stmt, 8, ev->serial);
	store_bind_text(stmt, 9, ev->rule);
	return store_step_done(st, stmt);
}

int
store_event_add(struct store *st, const struct store_event *ev)
{
	int	ok;

	if (store_begin(st) == -1)
		return -1;
	ok = store_insert_event(st, ev) == 0;
	return store_end(st, ok);
}

char *
store_column_text(sqlite3_stmt *stmt, int col, int *err)
{
	const unsigned char	*t;
	char			*copy;

	if ((t = sqlite3_column_text(stmt, col)) == NULL)
		return NULL;
	if ((copy = strdup((const char *)t)) == NULL)
		*err = 1;
	return copy;
}

unsigned char *
store_column_blob(sqlite3_stmt *stmt, int col, size_t *len, int *err)
{
	const void	*blob;
	unsigned char	*copy;
	int		 n;

	*len = 0;
	if ((blob = sqlite3_column_blob(stmt, col)) == NULL ||
	    (n = sqlite3_column_bytes(stmt, col)) <= 0)
		return NULL;
	if ((copy = malloc((size_t)n)) == NULL) {
		*err = 1;
		return NULL;
	}
	memcpy(copy, blob, (size_t)n);
	*len = (size_t)n;
	return copy;
}

/* Copies the DER of certificate serial; NULL if absent. */
static unsigned char *
store_select_der(struct store *st, const char *serial, size_t *len)
{
	sqlite3_stmt	*stmt;
	unsigned char	*der = NULL;
	int		 err = 0;

	*len = 0;
	stmt = store_prepare(st, "SELECT der FROM certificates "
	    "WHERE serial = ? AND state = 'issued'");
	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, serial);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		der = store_column_blob(stmt, 0, len, &err);
	sqlite3_finalize(stmt);
	return der;
}

/*
 * How many certificates count against a subject's limit: those issued
 * and still valid, and those being issued right now (a serial reserved
 * by a transaction still processing), so that concurrent requests
 * cannot all pass the same count.  ?1 subject, ?2 serial left out (a
 * renewal's), ?3 transaction left out (the asking one), ?4 now.
 */
#define STORE_ACTIVE_COUNT_SQL \
	"SELECT count(*) FROM certificates c WHERE c.subject = ?1 " \
	"AND c.serial IS NOT ?2 AND ((c.state = 'issued' AND " \
	"c.not_after > ?4) OR (c.state = 'reserved' AND c.txid IS NOT ?3 " \
	"AND EXISTS (SELECT 1 FROM transactions t WHERE t.txid = c.txid " \
	"AND t.state = 'processing')))"

static int
store_count_active(struct store *st, const char *subject,
    const char *exclude_serial, const char *txid, time_t now)
{
	sqlite3_stmt	*stmt;
	int		 n = -1;

	if ((stmt = store_prepare(st, STORE_ACTIVE_COUNT_SQL)) == NULL)
		return -1;
	store_bind_text(stmt, 1, subject);
	store_bind_text(stmt, 2, exclude_serial);
	store_bind_text(stmt, 3, txid);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)now);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
	else
		log_error("sqlite: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return n;
}

int
store_serial_reserve(struct store *st, const char *serial, const char *txid,
    const struct store_limit *lim, int *active)
{
	sqlite3_stmt	*stmt;
	int		 r, rc = -1;

	if (active != NULL)
		*active = 0;
	if (store_begin(st) == -1)
		return -1;
	/* Counted and reserved in one IMMEDIATE transaction: atomic. */
	if (lim != NULL && lim->max > 0) {
		if ((r = store_count_active(st, lim->subject,
		    lim->exclude_serial, txid, lim->now)) < 0)
			goto out;
		if (active != NULL)
			*active = r;
		if (r >= lim->max) {
			rc = STORE_RESERVE_LIMIT;
			goto out;
		}
	}
	stmt = store_prepare(st, "INSERT INTO certificates (serial, state, "
	    "txid, subject, reserved_at) VALUES (?, 'reserved', ?, ?, ?)");
	if (stmt != NULL) {
		store_bind_text(stmt, 1, serial);
		store_bind_text(stmt, 2, txid);
		store_bind_text(stmt, 3, lim != NULL ? lim->subject : NULL);
		sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
		r = sqlite3_step(stmt);
		if (r == SQLITE_DONE)
			rc = 0;
		else if (sqlite3_extended_errcode(st->db) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY)
			rc = 1;
		else
			log_error("sqlite: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(stmt);
	}
 out:
	if (store_end(st, rc == 0) == -1)
		return rc == 1 || rc == STORE_RESERVE_LIMIT ? rc : -1;
	return rc;
}

int
store_cert_foreach(struct store *st,
    int (*fn)(const struct store_cert *, const char *, void *), void *arg)
{
	sqlite3_stmt		*stmt;
	struct store_cert	 c;
	int			 r, rc = -1;

	pthread_mutex_lock(&st->mutex);
	stmt = store_prepare(st, "SELECT serial, subject, not_before, "
	    "not_after, der, txid FROM certificates WHERE state = 'issued' "
	    "ORDER BY issued_at, rowid");
	if (stmt == NULL)
		goto out;
	while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
		c.serial = (const char *)sqlite3_column_text(stmt, 0);
		c.subject = (const char *)sqlite3_column_text(stmt, 1);
		c.not_before = (time_t)sqlite3_column_int64(stmt, 2);
		c.not_after = (time_t)sqlite3_column_int64(stmt, 3);
		c.der = sqlite3_column_blob(stmt, 4);
		c.der_len = (size_t)sqlite3_column_bytes(stmt, 4);
		if (fn(&c, (const char *)sqlite3_column_text(stmt, 5),
		    arg) == -1)
			break;
	}
	if (r == SQLITE_DONE)
		rc = 0;
	else if (r != SQLITE_ROW)
		log_error("sqlite: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
 out:
	pthread_mutex_unlock(&st->mutex);
	return rc;
}

unsigned char *
store_cert_get_der(struct store *st, const char *serial, size_t *der_len)
{
	unsigned char	*der;

	pthread_mutex_lock(&st->mutex);
	der = store_select_der(st, serial, der_len);
	pthread_mutex_unlock(&st->mutex);
	return der;
}

int
store_cert_issued(struct store *st, const char *serial)
{
	sqlite3_stmt	*stmt;
	int		 r, rc = -1;

	pthread_mutex_lock(&st->mutex);
	if ((stmt = store_prepare(st, "SELECT 1 FROM certificates "
	    "WHERE serial = ? AND state = 'issued'")) != NULL) {
		store_bind_text(stmt, 1, serial);
		r = sqlite3_step(stmt);
		rc = r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? 1 : -1;
		sqlite3_finalize(stmt);
	}
	pthread_mutex_unlock(&st->mutex);
	return rc;
}

int
store_active_count(struct store *st, const char *subject,
    const char *exclude_serial, const char *txid, time_t now)
{
	int	n;

	pthread_mutex_lock(&st->mutex);
	n = store_count_active(st, subject, exclude_serial, txid, now);
	pthread_mutex_unlock(&st->mutex);
	return n;
}
