/*
 * Enrollment transactions in SQLite: started, decided, held for an
 * operator, approved or denied, issued.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "encode.h"
#include "log.h"
#include "store_sqlite.h"

static const char *const store_state_names[STORE_TXN__MAX] = {
	[STORE_TXN_PROCESSING] = "processing",
	[STORE_TXN_ISSUED] = "issued",
	[STORE_TXN_REJECTED] = "rejected",
	[STORE_TXN_FAILED] = "failed",
	[STORE_TXN_PENDING] = "pending",
	[STORE_TXN_APPROVED] = "approved",
	[STORE_TXN_DENIED] = "denied",
	[STORE_TXN_EXPIRED] = "expired",
};

/* The columns store_row_read() expects, in order. */
#define STORE_ROW_COLUMNS						\
	"t.id, t.state, t.txid, t.kind, t.pubkey_sha256, t.signer_sha256, " \
	"t.subject, t.client, t.rule, t.profile, t.reason, t.serial, "	\
	"t.decided_by, t.csr, c.der, t.created_at, t.expires_at, "	\
	"t.updated_at "							\
	"FROM transactions t LEFT JOIN certificates c "			\
	"ON c.serial = t.serial AND c.state = 'issued' "

const char *
store_txn_state_name(enum store_txn_state state)
{
	return state < STORE_TXN__MAX ? store_state_names[state] : "unknown";
}

static enum store_txn_state
store_state_parse(const char *name)
{
	int	i;

	for (i = 0; i < STORE_TXN__MAX; i++)
		if (name != NULL && strcmp(store_state_names[i], name) == 0)
			return (enum store_txn_state)i;
	return STORE_TXN_FAILED;
}

void
store_row_clear(struct store_row *row)
{
	free(row->txid);
	free(row->kind);
	free(row->pubkey_sha256);
	free(row->signer_sha256);
	free(row->subject);
	free(row->client);
	free(row->rule);
	free(row->profile);
	free(row->reason);
	free(row->serial);
	free(row->decided_by);
	free(row->csr);
	free(row->cert);
	free(row->claim);
	memset(row, 0, sizeof(*row));
}

/* Reads a row selected with STORE_ROW_COLUMNS; -1 if out of memory. */
static int
store_row_read(sqlite3_stmt *stmt, struct store_row *row, time_t *updated)
{
	int	err = 0;

	memset(row, 0, sizeof(*row));
	row->id = sqlite3_column_int64(stmt, 0);
	row->state = store_state_parse((const char *)
	    sqlite3_column_text(stmt, 1));
	row->txid = store_column_text(stmt, 2, &err);
	row->kind = store_column_text(stmt, 3, &err);
	row->pubkey_sha256 = store_column_text(stmt, 4, &err);
	row->signer_sha256 = store_column_text(stmt, 5, &err);
	row->subject = store_column_text(stmt, 6, &err);
	row->client = store_column_text(stmt, 7, &err);
	row->rule = store_column_text(stmt, 8, &err);
	row->profile = store_column_text(stmt, 9, &err);
	row->reason = store_column_text(stmt, 10, &err);
	row->serial = store_column_text(stmt, 11, &err);
	row->decided_by = store_column_text(stmt, 12, &err);
	row->csr = store_column_blob(stmt, 13, &row->csr_len, &err);
	row->cert = store_column_blob(stmt, 14, &row->cert_len, &err);
	row->created_at = (time_t)sqlite3_column_int64(stmt, 15);
	row->expires_at = (time_t)sqlite3_column_int64(stmt, 16);
	if (updated != NULL)
		*updated = (time_t)sqlite3_column_int64(stmt, 17);
	if (err) {
		log_error("%s: out of memory", __func__);
		store_row_clear(row);
		return -1;
	}
	return 0;
}

/* Selects one row by a query ending in the STORE_ROW_COLUMNS form. */
static int
store_row_select(struct store *st, sqlite3_stmt *stmt, struct store_row *row,
    time_t *updated)
{
	int	r, rc = -1;

	if (stmt == NULL)
		return -1;
	r = sqlite3_step(stmt);
	if (r == SQLITE_ROW)
		rc = store_row_read(stmt, row, updated);
	else if (r == SQLITE_DONE)
		rc = 1;
	else
		log_error("sqlite: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return rc;
}

/* Inserts or resets the transaction row as processing, as ours. */
static int
store_txn_claim(struct store *st, const struct store_txn *t, int exists,
    const char *claim)
{
	sqlite3_stmt	*stmt;

	if (exists)
		stmt = store_prepare(st, "UPDATE transactions SET "
		    "state = 'processing', pubkey_sha256 = ?3, "
		    "signer_sha256 = ?4, subject = ?5, client = ?6, "
		    "serial = NULL, csr = NULL, rule = NULL, profile = NULL, "
		    "reason = NULL, expires_at = NULL, decided_by = NULL, "
		    "updated_at = ?7, claim = ?8 WHERE txid = ?1 AND kind = ?2");
	else
		stmt = store_prepare(st, "INSERT INTO transactions (txid, "
		    "kind, state, pubkey_sha256, signer_sha256, subject, "
		    "client, created_at, updated_at, claim) VALUES (?1, ?2, "
		    "'processing', ?3, ?4, ?5, ?6, ?7, ?7, ?8)");
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, t->txid);
	store_bind_text(stmt, 2, t->kind);
	store_bind_text(stmt, 3, t->pubkey_sha256);
	store_bind_text(stmt, 4, t->signer_sha256);
	store_bind_text(stmt, 5, t->subject);
	store_bind_text(stmt, 6, t->client);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 8, claim);
	return store_step_done(st, stmt);
}

/* "OWNER:HEX" (see store_recover_owner()), or "HEX". */
static char *
store_txn_claim_new(const struct store *st, const unsigned char *token,
    size_t len)
{
	char	*hex, *claim;
	size_t	 n;

	if ((hex = encode_hex_new(token, len)) == NULL || st->owner[0] == '\0')
		return hex;
	n = strlen(st->owner) + 1 + strlen(hex) + 1;
	if ((claim = malloc(n)) != NULL)
		snprintf(claim, n, "%s:%s", st->owner, hex);
	free(hex);
	return claim;
}

int
store_txn_begin(struct store *st, const struct store_txn *t,
    enum store_begin *found, struct store_row *row)
{
	sqlite3_stmt	*stmt;
	unsigned char	 token[STORE_CLAIM_BYTES];
	time_t		 updated = 0;
	int		 r, ok = 0;

	memset(row, 0, sizeof(*row));
	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "SELECT " STORE_ROW_COLUMNS
	    "WHERE t.txid = ? AND t.kind = ?");
	if (stmt != NULL) {
		store_bind_text(stmt, 1, t->txid);
		store_bind_text(stmt, 2, t->kind);
	}
	if ((r = store_row_select(st, stmt, row, &updated)) == -1)
		goto out;
	if (r == 0 && row->state == STORE_TXN_PROCESSING &&
	    time(NULL) - updated < STORE_STALE_SECONDS) {
		*found = STORE_BEGIN_BUSY;
		ok = 1;
		goto out;
	}
	/* Decided for good, or held: the caller answers from the row. */
	if (r == 0 && row->state != STORE_TXN_PROCESSING &&
	    row->state != STORE_TXN_REJECTED &&
	    row->state != STORE_TXN_FAILED) {
		*found = STORE_BEGIN_EXISTS;
		ok = 1;
		goto out;
	}
	/* New, abandoned, or an earlier attempt that was refused. */
	store_row_clear(row);
	if (RAND_bytes(token, sizeof(token)) != 1) {
		log_ssl("%s: RAND_bytes", __func__);
		goto out;
	}
	if ((row->claim = store_txn_claim_new(st, token, sizeof(token))) !=
	    NULL && store_txn_claim(st, t, r == 0, row->claim) == 0) {
		*found = STORE_BEGIN_NEW;
		ok = 1;
	}
 out:
	if (store_end(st, ok) == -1) {
		store_row_clear(row);
		return -1;
	}
	return 0;
}

int
store_txn_lookup(struct store *st, const char *txid, struct store_row *row)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(row, 0, sizeof(*row));
	pthread_mutex_lock(&st->mutex);
	stmt = store_prepare(st, "SELECT " STORE_ROW_COLUMNS
	    "WHERE t.txid = ? ORDER BY t.updated_at DESC, t.id DESC LIMIT 1");
	if (stmt != NULL)
		store_bind_text(stmt, 1, txid);
	rc = store_row_select(st, stmt, row, NULL);
	pthread_mutex_unlock(&st->mutex);
	return rc;
}

static int
store_update_cert(struct store *st, const char *txid,
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
	store_bind_text(stmt, 7, txid);
	if (store_step_done(st, stmt) == -1)
		return -1;
	if (sqlite3_changes(st->db) != 1) {
		log_error("serial %s was not reserved for transaction %s",
		    c->serial, txid);
		return -1;
	}
	return 0;
}

int
store_txn_finish(struct store *st, const char *txid, const char *kind,
    const char *claim, enum store_txn_state state,
    const struct store_cert *cert, const struct store_event *ev)
{
	sqlite3_stmt	*stmt;
	int		 ok = 0;

	if (store_begin(st) == -1)
		return -1;
	if (cert != NULL && store_update_cert(st, txid, cert) == -1)
		goto out;
	stmt = store_prepare(st, "UPDATE transactions SET state = ?, "
	    "serial = coalesce(?, serial), reason = ?, "
	    "rule = coalesce(?, rule), updated_at = ? "
	    "WHERE txid = ? AND kind = ? AND (?8 IS NULL OR "
	    "(state = 'processing' AND claim = ?8))");
	if (stmt == NULL)
		goto out;
	store_bind_text(stmt, 1, store_txn_state_name(state));
	store_bind_text(stmt, 2, cert ? cert->serial : NULL);
	store_bind_text(stmt, 3, ev ? ev->reason : NULL);
	store_bind_text(stmt, 4, ev ? ev->rule : NULL);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 6, txid);
	store_bind_text(stmt, 7, kind);
	store_bind_text(stmt, 8, claim);
	if (store_step_done(st, stmt) == -1)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		log_error("no transaction %s (%s) to finish%s", txid, kind,
		    claim ? ": taken over by a retransmission after its "
		    "lease ran out" : "");
		goto out;
	}
	if (ev != NULL && store_insert_event(st, ev) == -1)
		goto out;
	ok = 1;
 out:
	return store_end(st, ok);
}

int
store_txn_transition(struct store *st, const char *txid, const char *kind,
    enum store_txn_state from, enum store_txn_state to,
    const struct store_event *ev)
{
	sqlite3_stmt	*stmt;
	int		 rc = -1, ok = 0;

	if (store_begin(st) == -1)
		return -1;
	/* Moving into processing (an approved request) claims it anew. */
	stmt = store_prepare(st, "UPDATE transactions SET state = ?, "
	    "updated_at = ?, claim = NULL WHERE txid = ? AND kind = ? "
	    "AND state = ?");
	if (stmt == NULL)
		goto out;
	store_bind_text(stmt, 1, store_txn_state_name(to));
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 3, txid);
	store_bind_text(stmt, 4, kind);
	store_bind_text(stmt, 5, store_txn_state_name(from));
	if (store_step_done(st, stmt) == -1)
		goto out;
	rc = sqlite3_changes(st->db) == 1 ? 0 : 1;
	if (rc == 0 && ev != NULL && store_insert_event(st, ev) == -1)
		goto out;
	ok = 1;
 out:
	if (store_end(st, ok) == -1)
		return -1;
	return rc;
}

int
store_txn_hold(struct store *st, const struct store_txn *t,
    const struct store_hold *h, const struct store_event *ev)
{
	sqlite3_stmt	*stmt;
	int		 ok = 0;

	if (store_begin(st) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE transactions SET state = 'pending', "
	    "csr = ?, rule = ?, profile = ?, reason = ?, expires_at = ?, "
	    "updated_at = ? WHERE txid = ? AND kind = ? "
	    "AND state = 'processing' AND (?9 IS NULL OR claim = ?9)");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_blob(stmt, 1, h->csr, (int)h->csr_len, SQLITE_TRANSIENT);
	store_bind_text(stmt, 2, h->rule);
	store_bind_text(stmt, 3, h->profile);
	store_bind_text(stmt, 4, h->reason);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)h->expires_at);
	sqlite3_bind_int64(stmt, 6, (sqlite3_int64)time(NULL));
	store_bind_text(stmt, 7, t->txid);
	store_bind_text(stmt, 8, t->kind);
	store_bind_text(stmt, 9, t->claim);
	if (store_step_done(st, stmt) == -1 || sqlite3_changes(st->db) != 1)
		goto out;
	if (ev != NULL && store_insert_event(st, ev) == -1)
		goto out;
	ok = 1;
 out:
	return store_end(st, ok);
}

int
store_pending_foreach(struct store *st, int all,
    int (*fn)(const struct store_row *, void *), void *arg)
{
	sqlite3_stmt		*stmt;
	struct store_row	 row;
	int			 r, rc = -1;

	pthread_mutex_lock(&st->mutex);
	stmt = store_prepare(st, all ? "SELECT " STORE_ROW_COLUMNS
	    "WHERE t.state IN ('pending', 'approved', 'denied', 'expired') "
	    "ORDER BY t.id" : "SELECT " STORE_ROW_COLUMNS
	    "WHERE t.state = 'pending' ORDER BY t.id");
	if (stmt == NULL)
		goto out;
	while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (store_row_read(stmt, &row, NULL) == -1)
			break;
		r = fn(&row, arg);
		store_row_clear(&row);
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

int
store_pending_get(struct store *st, long long id, struct store_row *row)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(row, 0, sizeof(*row));
	pthread_mutex_lock(&st->mutex);
	stmt = store_prepare(st, "SELECT " STORE_ROW_COLUMNS
	    "WHERE t.id = ?");
	if (stmt != NULL)
		sqlite3_bind_int64(stmt, 1, id);
	rc = store_row_select(st, stmt, row, NULL);
	pthread_mutex_unlock(&st->mutex);
	return rc;
}

int
store_pending_decide(struct store *st, long long id, int approve,
    const char *reason, const char *by, time_t now)
{
	sqlite3_stmt	*stmt;
	int		 rc = -1, ok = 0;

	if (store_begin(st) == -1)
		return -1;
	/* Expired requests are marked so, and cannot be decided. */
	stmt = store_prepare(st, "UPDATE transactions SET state = 'expired', "
	    "updated_at = ?1 WHERE state = 'pending' AND expires_at <= ?1");
	if (stmt == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
	if (store_step_done(st, stmt) == -1)
		goto out;
	stmt = store_prepare(st, "UPDATE transactions SET state = ?, "
	    "reason = coalesce(?, reason), decided_by = ?, updated_at = ? "
	    "WHERE id = ? AND state = 'pending'");
	if (stmt == NULL)
		goto out;
	store_bind_text(stmt, 1, approve ? "approved" : "denied");
	store_bind_text(stmt, 2, reason);
	store_bind_text(stmt, 3, by);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)now);
	sqlite3_bind_int64(stmt, 5, id);
	if (store_step_done(st, stmt) == -1)
		goto out;
	rc = sqlite3_changes(st->db) == 1 ? 0 : 1;
	ok = 1;
 out:
	if (store_end(st, ok) == -1)
		return -1;
	return rc;
}
