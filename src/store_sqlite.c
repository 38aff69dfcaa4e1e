/*
 * store.h on SQLite: WAL journal with synchronous=FULL, so a commit
 * is on disk when sqlite3_step() returns.  One connection, used by one
 * thread at a time; every public function is one database transaction.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

struct store {
	sqlite3		*db;
	pthread_mutex_t	 mutex;
};

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
};

#define STORE_N_MIGRATIONS \
	(int)(sizeof(store_migrations) / sizeof(store_migrations[0]))

static const char *const store_state_names[] = {
	[STORE_TXN_PROCESSING] = "processing",
	[STORE_TXN_ISSUED] = "issued",
	[STORE_TXN_REJECTED] = "rejected",
	[STORE_TXN_FAILED] = "failed",
};

static int
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

static sqlite3_stmt *
store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt	*stmt = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		log_error("sqlite: %s: %s", sqlite3_errmsg(st->db), sql);
		return NULL;
	}
	return stmt;
}

/* Binds text or NULL. */
static int
store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(stmt, i);
	return sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
}

/* Runs a statement that returns no row, then finalizes it. */
static int
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

/* Locks the connection and opens a write transaction. */
static int
store_begin(struct store *st)
{
	pthread_mutex_lock(&st->mutex);
	if (store_exec(st, "BEGIN IMMEDIATE") == -1) {
		pthread_mutex_unlock(&st->mutex);
		return -1;
	}
	return 0;
}

/* Commits if ok, else rolls back; unlocks.  Returns 0 if committed. */
static int
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
	stmt = store_prepare(st, "UPDATE transactions SET state = 'failed', "
	    "updated_at = ? WHERE state = 'processing'");
	if (stmt != NULL) {
		sqlite3_bind_int64(stmt, 1, (sqlite3_int64)time(NULL));
		if (store_step_done(st, stmt) == 0)
			n = sqlite3_changes(st->db);
	}
	if (store_end(st, n >= 0) == -1)
		return -1;
	return n;
}

static int
store_insert_event(struct store *st, const struct store_event *ev)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO events (at, txid, msgtype, "
	    "client, outcome, failinfo, reason, serial) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
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

/* Copies the DER of certificate serial; NULL if absent. */
static unsigned char *
store_select_der(struct store *st, const char *serial, size_t *len)
{
	sqlite3_stmt	*stmt;
	unsigned char	*der = NULL;
	const void	*blob;
	int		 n;

	*len = 0;
	stmt = store_prepare(st, "SELECT der FROM certificates "
	    "WHERE serial = ? AND state = 'issued'");
	if (stmt == NULL)
		return NULL;
	store_bind_text(stmt, 1, serial);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    (blob = sqlite3_column_blob(stmt, 0)) != NULL &&
	    (n = sqlite3_column_bytes(stmt, 0)) > 0 &&
	    (der = malloc((size_t)n)) != NULL) {
		memcpy(der, blob, (size_t)n);
		*len = (size_t)n;
	}
	sqlite3_finalize(stmt);
	return der;
}

/* Inserts or resets the transaction row as processing. */
static int
store_txn_claim(struct store *st, const struct store_txn *t, int exists)
{
	sqlite3_stmt	*stmt;
	time_t		 now = time(NULL);

	if (exists)
		stmt = store_prepare(st, "UPDATE transactions SET "
		    "state = 'processing', pubkey_sha256 = ?3, subject = ?4, "
		    "client = ?5, serial = NULL, updated_at = ?6 "
		    "WHERE txid = ?1 AND kind = ?2");
	else
		stmt = store_prepare(st, "INSERT INTO transactions (txid, "
		    "kind, state, pubkey_sha256, subject, client, created_at, "
		    "updated_at) VALUES (?1, ?2, 'processing', ?3, ?4, ?5, "
		    "?6, ?6)");
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, t->txid);
	store_bind_text(stmt, 2, t->kind);
	store_bind_text(stmt, 3, t->pubkey_sha256);
	store_bind_text(stmt, 4, t->subject);
	store_bind_text(stmt, 5, t->client);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)now);
	return store_step_done(st, stmt);
}

int
store_txn_begin(struct store *st, const struct store_txn *t,
    enum store_begin *found, unsigned char **der, size_t *der_len)
{
	sqlite3_stmt	*stmt;
	char		*state = NULL, *pubkey = NULL, *serial = NULL;
	time_t		 updated = 0;
	int		 exists = 0, ok = 0;

	*der = NULL;
	*der_len = 0;
	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "SELECT state, pubkey_sha256, serial, "
	    "updated_at FROM transactions WHERE txid = ? AND kind = ?");
	if (stmt == NULL)
		goto out;
	store_bind_text(stmt, 1, t->txid);
	store_bind_text(stmt, 2, t->kind);
	switch (sqlite3_step(stmt)) {
	case SQLITE_ROW:
		exists = 1;
		state = strdup((const char *)sqlite3_column_text(stmt, 0));
		pubkey = strdup((const char *)sqlite3_column_text(stmt, 1));
		if (sqlite3_column_type(stmt, 2) != SQLITE_NULL)
			serial = strdup((const char *)
			    sqlite3_column_text(stmt, 2));
		updated = (time_t)sqlite3_column_int64(stmt, 3);
		break;
	case SQLITE_DONE:
		break;
	default:
		log_error("sqlite: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(stmt);
		goto out;
	}
	sqlite3_finalize(stmt);
	if (exists && (state == NULL || pubkey == NULL)) {
		log_error("%s: out of memory", __func__);
		goto out;
	}
	if (exists && strcmp(state, "issued") == 0) {
		if (strcmp(pubkey, t->pubkey_sha256) != 0) {
			*found = STORE_BEGIN_KEY_MISMATCH;
			ok = 1;
		} else if (serial != NULL &&
		    (*der = store_select_der(st, serial, der_len)) != NULL) {
			*found = STORE_BEGIN_ISSUED;
			ok = 1;
		} else
			log_error("transaction %s is issued but its "
			    "certificate is missing", t->txid);
		goto out;
	}
	if (exists && strcmp(state, "processing") == 0 &&
	    time(NULL) - updated < STORE_STALE_SECONDS) {
		*found = STORE_BEGIN_BUSY;
		ok = 1;
		goto out;
	}
	/* New, or an earlier attempt that was refused or failed. */
	if (store_txn_claim(st, t, exists) == 0) {
		*found = STORE_BEGIN_NEW;
		ok = 1;
	}
 out:
	free(state);
	free(pubkey);
	free(serial);
	if (store_end(st, ok) == -1) {
		free(*der);
		*der = NULL;
		return -1;
	}
	return 0;
}

int
store_serial_reserve(struct store *st, const char *serial, const char *txid)
{
	sqlite3_stmt	*stmt;
	int		 r, rc = -1;

	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "INSERT INTO certificates (serial, state, "
	    "txid, reserved_at) VALUES (?, 'reserved', ?, ?)");
	if (stmt != NULL) {
		store_bind_text(stmt, 1, serial);
		store_bind_text(stmt, 2, txid);
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
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
	if (store_end(st, rc == 0) == -1)
		return rc == 1 ? 1 : -1;
	return rc;
}

static int
store_update_cert(struct store *st, const struct store_txn *t,
    const struct store_cert *c)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE certificates SET state = 'issued', "
	    "subject = ?, not_before = ?, not_after = ?, der = ?, "
	    "issued_at = ? WHERE serial = ? AND state = 'reserved' "
	    "AND txid = ?");
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, c->subject);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)c->not_before);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)c->not_after);
	sqlite3_bind_blob(stmt, 4, c->der, (int)c->der_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 6, c->serial);
	store_bind_text(stmt, 7, t->txid);
	if (store_step_done(st, stmt) == -1)
		return -1;
	if (sqlite3_changes(st->db) != 1) {
		log_error("serial %s was not reserved for transaction %s",
		    c->serial, t->txid);
		return -1;
	}
	return 0;
}

int
store_txn_finish(struct store *st, const struct store_txn *t,
    enum store_txn_state state, const struct store_cert *cert,
    const struct store_event *ev)
{
	sqlite3_stmt	*stmt;
	int		 ok = 0;

	if (store_begin(st) == -1)
		return -1;
	if (cert != NULL && store_update_cert(st, t, cert) == -1)
		goto out;
	stmt = store_prepare(st, "UPDATE transactions SET state = ?, "
	    "serial = ?, updated_at = ? WHERE txid = ? AND kind = ?");
	if (stmt == NULL)
		goto out;
	store_bind_text(stmt, 1, store_state_names[state]);
	store_bind_text(stmt, 2, cert ? cert->serial : NULL);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 4, t->txid);
	store_bind_text(stmt, 5, t->kind);
	if (store_step_done(st, stmt) == -1)
		goto out;
	if (ev != NULL && store_insert_event(st, ev) == -1)
		goto out;
	ok = 1;
 out:
	return store_end(st, ok);
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
