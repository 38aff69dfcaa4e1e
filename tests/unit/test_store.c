/*
 * The SQLite store: schema and durability, transactions and their
 * states, serial reservation, issued certificates, events, recovery
 * of interrupted transactions, held requests, one-time passwords,
 * schema migration.  Each test has a fresh database in a temporary
 * directory; what the API does not show is read with SQLite directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "testutil.h"

struct fixture {
	char		*dir;
	char		*path;
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	log_init("test_store", LOG_LEVEL_ERROR);
	f->dir = tu_temp_dir();
	if (asprintf(&f->path, "%s/scepd.db", f->dir) == -1)
		return -1;
	if ((f->st = store_open(f->path)) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	store_close(f->st);
	tu_remove_tree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static const unsigned char der_a[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
static const unsigned char der_b[] = { 0x30, 0x04, 0x02, 0x02, 0x01, 0x02 };

static struct store_txn
txn(const char *txid, const char *pubkey)
{
	struct store_txn	t = { txid, "enroll", pubkey, "signer",
				    "CN=x", "127.0.0.1", NULL };

	return t;
}

static struct store_cert
cert(const char *serial, const char *subject, time_t not_after)
{
	struct store_cert	c = { serial, subject, 1000, not_after,
				    der_a, sizeof(der_a) };

	return c;
}

static struct store_event
event(const char *txid, const char *outcome)
{
	struct store_event	e;

	memset(&e, 0, sizeof(e));
	e.txid = txid;
	e.msgtype = "PKCSReq";
	e.client = "127.0.0.1";
	e.outcome = outcome;
	return e;
}

/* Begins t and returns what was found; the row goes to *row if set. */
static enum store_begin
begin_row(struct store *st, const struct store_txn *t,
    struct store_row *out)
{
	enum store_begin	found = (enum store_begin)-1;
	struct store_row	row;

	assert_int_equal(store_txn_begin(st, t, &found, &row), 0);
	if (out != NULL)
		*out = row;
	else
		store_row_clear(&row);
	return found;
}

static enum store_begin
begin(struct store *st, const struct store_txn *t)
{
	return begin_row(st, t, NULL);
}

static int
reserve(struct store *st, const char *serial, const char *txid)
{
	return store_serial_reserve(st, serial, txid, NULL, NULL);
}

/* Issues txid with serial for subject in one go. */
static void
issue(struct store *st, const char *txid, const char *pubkey,
    const char *serial, const char *subject, time_t not_after)
{
	struct store_txn	t = txn(txid, pubkey);
	struct store_cert	c = cert(serial, subject, not_after);
	struct store_event	e = event(txid, "issued");

	e.serial = serial;
	assert_int_equal(begin(st, &t), STORE_BEGIN_NEW);
	assert_int_equal(reserve(st, serial, txid), 0);
	assert_int_equal(store_txn_finish(st, txid, "enroll", NULL,
	    STORE_TXN_ISSUED, &c, &e), 0);
}

/* The first column of the first row of sql, as an integer (-1: none). */
static long long
query_int(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	long long	 n = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void
exec_sql(const char *path, const char *sql)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static enum store_txn_state
state_of(struct store *st, const char *txid)
{
	struct store_row	row;
	enum store_txn_state	s;

	assert_int_equal(store_txn_lookup(st, txid, &row), 0);
	s = row.state;
	store_row_clear(&row);
	return s;
}

static void
test_store_open_creates_the_versioned_schema(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(query_int(f->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE type = 'table' AND name IN ('certificates', "
	    "'transactions', 'events', 'otps')"), 4);
}

static void
test_store_open_uses_a_wal_journal(void **state)
{
	struct fixture	*f = *state;

	/* WAL persists in the file; a fresh connection sees it. */
	assert_int_equal(query_int(f->path, "SELECT journal_mode = 'wal' "
	    "FROM pragma_journal_mode"), 1);
}

static void
test_store_reopening_keeps_transactions_and_certificates(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-durable", "ff");
	struct store_row	 row;
	unsigned char		*der;
	size_t			 len;

	issue(f->st, "t-durable", "ff", "0d01", "CN=x", 2000);
	store_close(f->st);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	assert_int_equal(query_int(f->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(begin_row(f->st, &t, &row), STORE_BEGIN_EXISTS);
	assert_int_equal(row.state, STORE_TXN_ISSUED);
	assert_string_equal(row.serial, "0d01");
	store_row_clear(&row);
	der = store_cert_get_der(f->st, "0d01", &len);
	assert_non_null(der);
	assert_int_equal(len, sizeof(der_a));
	assert_memory_equal(der, der_a, sizeof(der_a));
	free(der);
	assert_int_equal(reserve(f->st, "0d01", "again"), 1);
}

static void
test_store_reopening_keeps_reservations_and_processing(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-open", "fe");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(reserve(f->st, "0d10", "t-open"), 0);
	store_close(f->st);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
	assert_int_equal(reserve(f->st, "0d10", "other"), 1);
}

static void
test_store_begin_of_a_new_txid_is_new(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-new", "aa");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(state_of(f->st, "t-new"), STORE_TXN_PROCESSING);
}

static void
test_store_begin_while_processing_is_busy(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-busy", "aa");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
}

/* Makes txid's lease run out, as if its process had died long ago. */
static void
age(struct fixture *f, const char *txid)
{
	char	sql[256];

	snprintf(sql, sizeof(sql), "UPDATE transactions SET updated_at = %lld "
	    "WHERE txid = '%s'", (long long)time(NULL) -
	    STORE_STALE_SECONDS - 5, txid);
	exec_sql(f->path, sql);
}

/* A transaction left processing too long was abandoned: start again. */
static void
test_store_begin_takes_over_a_stale_transaction(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-stale", "aa");
	char			 sql[256];

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	snprintf(sql, sizeof(sql), "UPDATE transactions SET updated_at = %lld "
	    "WHERE txid = 't-stale'", (long long)time(NULL) -
	    STORE_STALE_SECONDS - 5);
	exec_sql(f->path, sql);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
}

/*
 * A request that outlived its lease lost the transaction to a
 * retransmission: it can no longer finish (or hold) it, so one
 * transactionID never gets two certificates.
 */
static void
test_store_taken_over_transaction_cannot_be_finished_by_the_loser(
    void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-lease", "ab");
	struct store_row	 first, second;
	struct store_cert	 c1 = cert("1b01", "CN=x", 9000);
	struct store_cert	 c2 = cert("1b02", "CN=x", 9000);
	struct store_event	 e = event("t-lease", "issued");

	assert_int_equal(begin_row(f->st, &t, &first), STORE_BEGIN_NEW);
	assert_non_null(first.claim);
	assert_int_equal(reserve(f->st, "1b01", "t-lease"), 0);
	age(f, "t-lease");
	assert_int_equal(begin_row(f->st, &t, &second), STORE_BEGIN_NEW);
	assert_non_null(second.claim);
	assert_string_not_equal(first.claim, second.claim);
	assert_int_equal(reserve(f->st, "1b02", "t-lease"), 0);
	/* The loser, waking up late, is refused and records nothing. */
	assert_int_equal(store_txn_finish(f->st, "t-lease", "enroll",
	    first.claim, STORE_TXN_ISSUED, &c1, &e), -1);
	assert_int_equal(store_txn_finish(f->st, "t-lease", "enroll",
	    second.claim, STORE_TXN_ISSUED, &c2, &e), 0);
	assert_int_equal(store_cert_issued(f->st, "1b01"), 1);
	assert_int_equal(store_cert_issued(f->st, "1b02"), 0);
	/* Finished: the claim is spent. */
	assert_int_equal(store_txn_finish(f->st, "t-lease", "enroll",
	    second.claim, STORE_TXN_FAILED, NULL, &e), -1);
	store_row_clear(&first);
	store_row_clear(&second);
}

static void
test_store_begin_after_issuance_returns_the_same_certificate(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-resend", "bb");
	struct store_row	 row;

	issue(f->st, "t-resend", "bb", "0a01", "CN=x", 2000);
	assert_int_equal(begin_row(f->st, &t, &row), STORE_BEGIN_EXISTS);
	assert_int_equal(row.state, STORE_TXN_ISSUED);
	assert_string_equal(row.txid, "t-resend");
	assert_string_equal(row.pubkey_sha256, "bb");
	assert_string_equal(row.serial, "0a01");
	assert_int_equal(row.cert_len, sizeof(der_a));
	assert_memory_equal(row.cert, der_a, sizeof(der_a));
	store_row_clear(&row);
}

/*
 * The same txid with another key finds the issued transaction with
 * its original key, so that the caller can tell the keys apart; the
 * stored transaction is not overwritten.
 */
static void
test_store_begin_with_another_key_keeps_the_issued_key(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 other = txn("t-key", "cc-other");
	struct store_row	 row;

	issue(f->st, "t-key", "cc", "0a02", "CN=x", 2000);
	assert_int_equal(begin_row(f->st, &other, &row), STORE_BEGIN_EXISTS);
	assert_int_equal(row.state, STORE_TXN_ISSUED);
	assert_string_equal(row.pubkey_sha256, "cc");
	assert_string_not_equal(row.pubkey_sha256, other.pubkey_sha256);
	store_row_clear(&row);
	assert_int_equal(store_txn_lookup(f->st, "t-key", &row), 0);
	assert_string_equal(row.pubkey_sha256, "cc");
	assert_int_equal(row.cert_len, sizeof(der_a));
	store_row_clear(&row);
}

static void
test_store_begin_after_rejection_is_new(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-rej", "dd");
	struct store_event	 e = event("t-rej", "rejected");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-rej", "enroll", NULL,
	    STORE_TXN_REJECTED, NULL, &e), 0);
	assert_int_equal(state_of(f->st, "t-rej"), STORE_TXN_REJECTED);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(state_of(f->st, "t-rej"), STORE_TXN_PROCESSING);
}

static void
test_store_begin_after_failure_is_new(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-fail", "dd");
	struct store_event	 e = event("t-fail", "failed");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-fail", "enroll", NULL,
	    STORE_TXN_FAILED, NULL, &e), 0);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
}

/* A retry after a refusal may come with a new key: that one counts. */
static void
test_store_begin_after_rejection_takes_the_new_key(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-rekey", "d1"), t2 = txn("t-rekey",
				    "d2");
	struct store_event	 e = event("t-rekey", "rejected");
	struct store_row	 row;

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-rekey", "enroll", NULL,
	    STORE_TXN_REJECTED, NULL, &e), 0);
	assert_int_equal(begin(f->st, &t2), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_lookup(f->st, "t-rekey", &row), 0);
	assert_string_equal(row.pubkey_sha256, "d2");
	store_row_clear(&row);
}

static void
test_store_same_txid_of_another_kind_is_another_transaction(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 enroll = txn("t-kind", "ee");
	struct store_txn	 renew = txn("t-kind", "ee");

	renew.kind = "renew";
	assert_int_equal(begin(f->st, &enroll), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &renew), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &renew), STORE_BEGIN_BUSY);
}

static void
test_store_serial_reserve_refuses_a_duplicate(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(reserve(f->st, "0b01", "t1"), 0);
	assert_int_equal(reserve(f->st, "0b01", "t2"), 1);
	assert_int_equal(reserve(f->st, "0b01", "t1"), 1);
	assert_int_equal(reserve(f->st, "0b02", "t2"), 0);
}

static void
test_store_serial_reserve_refuses_an_issued_serial(void **state)
{
	struct fixture	*f = *state;

	issue(f->st, "t-iss", "ab", "0b10", "CN=x", 2000);
	assert_int_equal(reserve(f->st, "0b10", "t-later"), 1);
}

static void
test_store_finish_refuses_an_unreserved_serial(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-unres", "ee");
	struct store_cert	 c = cert("0c01", "CN=x", 2000);
	struct store_event	 e = event("t-unres", "issued");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-unres", "enroll", NULL,
	    STORE_TXN_ISSUED, &c, &e), -1);
	/* Nothing half-written: still processing, no event, no cert. */
	assert_int_equal(state_of(f->st, "t-unres"), STORE_TXN_PROCESSING);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-unres'"), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
	    "certificates WHERE serial = '0c01'"), 0);
	assert_int_equal(store_cert_issued(f->st, "0c01"), 1);
}

static void
test_store_finish_refuses_a_serial_reserved_for_another_txid(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-steal", "ef");
	struct store_cert	 c = cert("0c02", "CN=x", 2000);
	struct store_event	 e = event("t-steal", "issued");
	size_t			 len;

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(reserve(f->st, "0c02", "someone-else"),
	    0);
	assert_int_equal(store_txn_finish(f->st, "t-steal", "enroll", NULL,
	    STORE_TXN_ISSUED, &c, &e), -1);
	assert_int_equal(state_of(f->st, "t-steal"), STORE_TXN_PROCESSING);
	assert_int_equal(store_cert_issued(f->st, "0c02"), 1);
	assert_null(store_cert_get_der(f->st, "0c02", &len));
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
	    "certificates WHERE serial = '0c02' AND state = 'reserved' AND "
	    "txid = 'someone-else'"), 1);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-steal'"), 0);
}

/* The certificate update is rolled back with the failed transaction. */
static void
test_store_finish_of_an_unknown_transaction_writes_nothing(void **state)
{
	struct fixture		*f = *state;
	struct store_cert	 c = cert("0c03", "CN=x", 2000);
	struct store_event	 e = event("t-ghost", "issued");

	assert_int_equal(reserve(f->st, "0c03", "t-ghost"), 0);
	assert_int_equal(store_txn_finish(f->st, "t-ghost", "enroll", NULL,
	    STORE_TXN_ISSUED, &c, &e), -1);
	assert_int_equal(store_cert_issued(f->st, "0c03"), 1);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
	    "certificates WHERE serial = '0c03' AND state = 'reserved'"), 1);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-ghost'"), 0);
}

static void
test_store_finish_records_its_event(void **state)
{
	struct fixture	*f = *state;

	issue(f->st, "t-ev", "a1", "0c04", "CN=x", 2000);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-ev' AND outcome = 'issued' AND serial = '0c04' "
	    "AND msgtype = 'PKCSReq' AND client = '127.0.0.1'"), 1);
}

static void
test_store_recover_fails_only_stale_processing_ones(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 a = txn("t-int-a", "01"), b = txn("t-int-b",
				    "02");

	struct store_txn	 c = txn("t-int-c", "04");
	char			 sql[256];

	issue(f->st, "t-done", "03", "0e10", "CN=x", 2000);
	assert_int_equal(begin(f->st, &a), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &b), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &c), STORE_BEGIN_NEW);
	snprintf(sql, sizeof(sql), "UPDATE transactions SET updated_at = %lld "
	    "WHERE txid IN ('t-int-a', 't-int-b')", (long long)time(NULL) -
	    STORE_STALE_SECONDS - 5);
	exec_sql(f->path, sql);
	assert_int_equal(store_recover(f->st), 2);
	assert_int_equal(state_of(f->st, "t-int-a"), STORE_TXN_FAILED);
	assert_int_equal(state_of(f->st, "t-int-b"), STORE_TXN_FAILED);
	/* Fresh: maybe another process's, at work right now. */
	assert_int_equal(state_of(f->st, "t-int-c"), STORE_TXN_PROCESSING);
	assert_int_equal(state_of(f->st, "t-done"), STORE_TXN_ISSUED);
}

static void
test_store_recover_with_nothing_to_do_returns_0(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 a = txn("t-once", "01");

	assert_int_equal(store_recover(f->st), 0);
	assert_int_equal(begin(f->st, &a), STORE_BEGIN_NEW);
	age(f, "t-once");
	assert_int_equal(store_recover(f->st), 1);
	assert_int_equal(store_recover(f->st), 0);
}

static void
test_store_recovered_transaction_can_start_again(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 a = txn("t-again", "01");

	assert_int_equal(begin(f->st, &a), STORE_BEGIN_NEW);
	age(f, "t-again");
	assert_int_equal(store_recover(f->st), 1);
	assert_int_equal(begin(f->st, &a), STORE_BEGIN_NEW);
}

static void
test_store_event_add_stores_every_field(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 e;
	time_t			 before = time(NULL);

	memset(&e, 0, sizeof(e));
	e.txid = "t-event";
	e.msgtype = "PKCSReq";
	e.client = "192.0.2.7";
	e.outcome = "rejected";
	e.failinfo = "badRequest";
	e.reason = "not a DER PKCS#7 message";
	e.serial = "0f0f";
	e.rule = "r1";
	assert_int_equal(store_event_add(f->st, &e), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-event' AND msgtype = 'PKCSReq' AND "
	    "client = '192.0.2.7' AND outcome = 'rejected' AND "
	    "failinfo = 'badRequest' AND reason = 'not a DER PKCS#7 message' "
	    "AND serial = '0f0f' AND rule = 'r1'"), 1);
	assert_true(query_int(f->path, "SELECT at FROM events WHERE "
	    "txid = 't-event'") >= (long long)before);
}

static void
test_store_event_add_keeps_absent_fields_null(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 e;

	memset(&e, 0, sizeof(e));
	e.outcome = "malformed";
	assert_int_equal(store_event_add(f->st, &e), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE outcome = 'malformed' AND txid IS NULL AND msgtype IS NULL "
	    "AND failinfo IS NULL AND serial IS NULL AND rule IS NULL"), 1);
}

static void
test_store_event_add_appends_one_row_per_call(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 e = event("t-many", "pending");
	int			 i;

	for (i = 0; i < 3; i++)
		assert_int_equal(store_event_add(f->st, &e), 0);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-many'"), 3);
}

static void
test_store_event_add_survives_reopening(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 e = event("t-kept", "resent");

	assert_int_equal(store_event_add(f->st, &e), 0);
	store_close(f->st);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM events "
	    "WHERE txid = 't-kept' AND outcome = 'resent'"), 1);
}

struct seen {
	char	text[512];
	int	der_ok;
};

static int
collect(const struct store_cert *c, const char *txid, void *arg)
{
	struct seen	*s = arg;
	char		 one[128];

	snprintf(one, sizeof(one), "%s/%s/%s/%lld-%lld;", c->serial, txid,
	    c->subject, (long long)c->not_before, (long long)c->not_after);
	strncat(s->text, one, sizeof(s->text) - strlen(s->text) - 1);
	if (c->der_len != sizeof(der_a) ||
	    memcmp(c->der, der_a, sizeof(der_a)) != 0)
		s->der_ok = 0;
	return 0;
}

static void
test_store_cert_foreach_lists_issued_oldest_first(void **state)
{
	struct fixture	*f = *state;
	struct seen	 seen = { "", 1 };

	issue(f->st, "t-l1", "11", "0e01", "CN=one", 2000);
	issue(f->st, "t-l2", "12", "0e02", "CN=two", 3000);
	issue(f->st, "t-l3", "13", "0e00", "CN=three", 4000);
	assert_int_equal(store_cert_foreach(f->st, collect, &seen), 0);
	assert_string_equal(seen.text, "0e01/t-l1/CN=one/1000-2000;"
	    "0e02/t-l2/CN=two/1000-3000;0e00/t-l3/CN=three/1000-4000;");
	assert_true(seen.der_ok);
}

/* Issued in other seconds than they were reserved: issue time counts. */
static void
test_store_cert_foreach_orders_by_issue_time(void **state)
{
	struct fixture	*f = *state;
	struct seen	 seen = { "", 1 };

	issue(f->st, "t-o1", "11", "0e11", "CN=one", 2000);
	issue(f->st, "t-o2", "12", "0e12", "CN=two", 2000);
	issue(f->st, "t-o3", "13", "0e13", "CN=three", 2000);
	exec_sql(f->path, "UPDATE certificates SET issued_at = issued_at + 20 "
	    "WHERE serial = '0e11';"
	    "UPDATE certificates SET issued_at = issued_at + 10 "
	    "WHERE serial = '0e12';");
	assert_int_equal(store_cert_foreach(f->st, collect, &seen), 0);
	assert_string_equal(seen.text, "0e13/t-o3/CN=three/1000-2000;"
	    "0e12/t-o2/CN=two/1000-2000;0e11/t-o1/CN=one/1000-2000;");
}

static void
test_store_cert_foreach_leaves_out_reserved_serials(void **state)
{
	struct fixture	*f = *state;
	struct seen	 seen = { "", 1 };

	issue(f->st, "t-r1", "11", "0e21", "CN=one", 2000);
	assert_int_equal(reserve(f->st, "0e22", "t-r2"), 0);
	assert_int_equal(store_cert_foreach(f->st, collect, &seen), 0);
	assert_string_equal(seen.text, "0e21/t-r1/CN=one/1000-2000;");
}

static void
test_store_cert_foreach_of_an_empty_store_calls_nothing(void **state)
{
	struct fixture	*f = *state;
	struct seen	 seen = { "", 1 };

	assert_int_equal(store_cert_foreach(f->st, collect, &seen), 0);
	assert_string_equal(seen.text, "");
}

static void
test_store_cert_get_der_of_an_issued_serial(void **state)
{
	struct fixture	*f = *state;
	unsigned char	*der;
	size_t		 len = 0;

	issue(f->st, "t-der", "11", "0e30", "CN=x", 2000);
	der = store_cert_get_der(f->st, "0e30", &len);
	assert_non_null(der);
	assert_int_equal(len, sizeof(der_a));
	assert_memory_equal(der, der_a, sizeof(der_a));
	free(der);
}

static void
test_store_cert_get_der_of_an_unknown_serial_is_null(void **state)
{
	struct fixture	*f = *state;
	size_t		 len = 99;

	assert_null(store_cert_get_der(f->st, "ffff", &len));
	assert_int_equal(len, 0);
}

static void
test_store_cert_get_der_of_a_reserved_serial_is_null(void **state)
{
	struct fixture	*f = *state;
	size_t		 len;

	assert_int_equal(reserve(f->st, "0e31", "t-res"), 0);
	assert_null(store_cert_get_der(f->st, "0e31", &len));
}

static void
test_store_cert_issued_knows_our_serials(void **state)
{
	struct fixture	*f = *state;

	issue(f->st, "t-ours", "11", "0e40", "CN=x", 2000);
	assert_int_equal(reserve(f->st, "0e41", "t-res"), 0);
	assert_int_equal(store_cert_issued(f->st, "0e40"), 0);
	assert_int_equal(store_cert_issued(f->st, "0e41"), 1);
	assert_int_equal(store_cert_issued(f->st, "0e42"), 1);
}

static void
test_store_counts_valid_certificates_by_subject(void **state)
{
	struct fixture	*f = *state;
	time_t		 now = 5000;

	issue(f->st, "t-c1", "21", "0f01", "CN=dev", 9000);
	issue(f->st, "t-c2", "22", "0f02", "CN=dev", 9000);
	issue(f->st, "t-c3", "23", "0f03", "CN=dev", 4000);	/* expired */
	issue(f->st, "t-c4", "24", "0f04", "CN=other", 9000);
	assert_int_equal(store_active_count(f->st, "CN=dev", NULL, NULL, now),
	    2);
	assert_int_equal(store_active_count(f->st, "CN=dev", "0f01", NULL,
	    now), 1);
	assert_int_equal(store_active_count(f->st, "CN=none", NULL, NULL,
	    now), 0);
}

/*
 * A limit is checked with the reservation, and a serial being issued
 * counts: two concurrent requests cannot both pass a count of zero.
 */
static void
test_store_limit_counts_reservations_in_flight(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t1 = txn("t-l1", "41"), t2 = txn("t-l2", "42");
	struct store_limit	 lim = { "CN=limited", 1, NULL, 5000 };
	struct store_event	 e = event("t-l1", "failed");
	int			 active = -1;

	assert_int_equal(begin(f->st, &t1), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &t2), STORE_BEGIN_NEW);
	assert_int_equal(store_serial_reserve(f->st, "1a01", "t-l1", &lim,
	    &active), 0);
	assert_int_equal(active, 0);
	assert_int_equal(store_serial_reserve(f->st, "1a02", "t-l2", &lim,
	    &active), STORE_RESERVE_LIMIT);
	assert_int_equal(active, 1);
	assert_int_equal(store_active_count(f->st, "CN=limited", NULL, "t-l2",
	    5000), 1);
	/* The asking transaction's own reservation does not count. */
	assert_int_equal(store_active_count(f->st, "CN=limited", NULL, "t-l1",
	    5000), 0);
	/* A transaction that failed frees its place (not its serial). */
	assert_int_equal(store_txn_finish(f->st, "t-l1", "enroll", NULL,
	    STORE_TXN_FAILED, NULL, &e), 0);
	assert_int_equal(store_serial_reserve(f->st, "1a01", "t-l2", &lim,
	    &active), 1);
	assert_int_equal(store_serial_reserve(f->st, "1a02", "t-l2", &lim,
	    &active), 0);
	assert_int_equal(active, 0);
}

static long long
hold(struct store *st, const char *txid, time_t expires)
{
	struct store_txn	 t = txn(txid, "31");
	struct store_hold	 h = { der_b, sizeof(der_b), "rule-h",
				    "default", "held", expires };
	struct store_event	 e = event(txid, "pending");
	struct store_row	 row;
	long long		 id;

	assert_int_equal(begin(st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_hold(st, &t, &h, &e), 0);
	assert_int_equal(store_txn_lookup(st, txid, &row), 0);
	id = row.id;
	store_row_clear(&row);
	return id;
}

static void
test_store_hold_keeps_the_request_for_an_operator(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;
	time_t			 expires = time(NULL) + 3600;

	hold(f->st, "t-held", expires);
	assert_int_equal(store_txn_lookup(f->st, "t-held", &row), 0);
	assert_int_equal(row.state, STORE_TXN_PENDING);
	assert_int_equal(row.csr_len, sizeof(der_b));
	assert_memory_equal(row.csr, der_b, sizeof(der_b));
	assert_string_equal(row.profile, "default");
	assert_string_equal(row.rule, "rule-h");
	assert_string_equal(row.reason, "held");
	assert_int_equal(row.expires_at, expires);
	store_row_clear(&row);
}

static int
count_rows(const struct store_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void
test_store_held_request_is_found_again_and_listed(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-hold", "31");
	struct store_row	 row;
	int			 n = 0;

	hold(f->st, "t-hold", time(NULL) + 3600);
	assert_int_equal(begin_row(f->st, &t, &row), STORE_BEGIN_EXISTS);
	assert_int_equal(row.state, STORE_TXN_PENDING);
	store_row_clear(&row);
	assert_int_equal(store_pending_foreach(f->st, 0, count_rows, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_store_hold_needs_a_processing_transaction(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-nohold", "31");
	struct store_hold	 h = { der_b, sizeof(der_b), "r", "default",
				    "held", time(NULL) + 60 };

	struct store_row	 row;

	assert_int_equal(store_txn_hold(f->st, &t, &h, NULL), -1);
	assert_int_equal(store_txn_lookup(f->st, "t-nohold", &row), 1);
}

static void
test_store_operator_approves_once(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;
	long long		 a;

	a = hold(f->st, "t-approve", time(NULL) + 3600);
	assert_int_equal(store_pending_decide(f->st, a, 1, NULL, "alice",
	    time(NULL)), 0);
	assert_int_equal(store_pending_decide(f->st, a, 0, "no", "bob",
	    time(NULL)), 1);
	assert_int_equal(store_pending_get(f->st, a, &row), 0);
	assert_int_equal(row.state, STORE_TXN_APPROVED);
	assert_string_equal(row.decided_by, "alice");
	store_row_clear(&row);
}

static void
test_store_operator_denies_with_a_reason(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;
	long long		 d;

	d = hold(f->st, "t-deny", time(NULL) + 3600);
	assert_int_equal(store_pending_decide(f->st, d, 0, "not ours", "bob",
	    time(NULL)), 0);
	assert_int_equal(store_pending_get(f->st, d, &row), 0);
	assert_int_equal(row.state, STORE_TXN_DENIED);
	assert_string_equal(row.reason, "not ours");
	assert_string_equal(row.decided_by, "bob");
	store_row_clear(&row);
}

static void
test_store_unknown_pending_request_cannot_be_decided(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;

	assert_int_equal(store_pending_get(f->st, 9999, &row), 1);
	assert_int_equal(store_pending_decide(f->st, 9999, 1, NULL, "x",
	    time(NULL)), 1);
}

static void
test_store_expired_requests_cannot_be_decided(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;
	long long		 id;

	id = hold(f->st, "t-old", 1000);
	assert_int_equal(store_pending_decide(f->st, id, 1, NULL, "alice",
	    2000), 1);
	assert_int_equal(store_pending_get(f->st, id, &row), 0);
	assert_int_equal(row.state, STORE_TXN_EXPIRED);
	store_row_clear(&row);
}

static void
test_store_transitions_only_from_the_given_state(void **state)
{
	struct fixture		*f = *state;
	long long		 id;

	id = hold(f->st, "t-move", time(NULL) + 3600);
	assert_int_equal(store_pending_decide(f->st, id, 1, NULL, "a",
	    time(NULL)), 0);
	/* The first poll takes an approved request; a second one cannot. */
	assert_int_equal(store_txn_transition(f->st, "t-move", "enroll",
	    STORE_TXN_APPROVED, STORE_TXN_PROCESSING, NULL), 0);
	assert_int_equal(store_txn_transition(f->st, "t-move", "enroll",
	    STORE_TXN_APPROVED, STORE_TXN_PROCESSING, NULL), 1);
	assert_int_equal(state_of(f->st, "t-move"), STORE_TXN_PROCESSING);
}

static void
test_store_lookup_of_an_unknown_transaction(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;

	assert_int_equal(store_txn_lookup(f->st, "nope", &row), 1);
}

static void
test_store_names_every_state(void **state)
{
	int	i;

	(void)state;
	for (i = 0; i < STORE_TXN__MAX; i++)
		assert_string_not_equal(store_txn_state_name(
		    (enum store_txn_state)i), "unknown");
	assert_string_equal(store_txn_state_name(STORE_TXN_ISSUED), "issued");
	assert_string_equal(store_txn_state_name(STORE_TXN__MAX), "unknown");
}

static void
test_store_otp_is_used_once(void **state)
{
	struct fixture		*f = *state;
	struct store_otp	 otp;
	long long		 id;
	time_t			 now = time(NULL);

	assert_int_equal(store_otp_add(f->st, "hash-1", "^CN=a", now + 60,
	    &id), 0);
	assert_int_equal(store_otp_find(f->st, "hash-1", &otp), 0);
	assert_int_equal(otp.id, id);
	assert_string_equal(otp.subject_pattern, "^CN=a");
	assert_int_equal(otp.used_at, 0);
	store_otp_clear(&otp);
	assert_int_equal(store_otp_consume(f->st, id, "tx-a", now), 0);
	/* The same transaction may present it again; nobody else. */
	assert_int_equal(store_otp_consume(f->st, id, "tx-a", now), 0);
	assert_int_equal(store_otp_consume(f->st, id, "tx-b", now), 1);
	assert_int_equal(store_otp_find(f->st, "hash-1", &otp), 0);
	assert_string_equal(otp.used_txid, "tx-a");
	store_otp_clear(&otp);
	assert_int_equal(store_otp_find(f->st, "hash-2", &otp), 1);
}

static int
count_otps(const struct store_otp *o, void *arg)
{
	(void)o;
	(*(int *)arg)++;
	return 0;
}

static void
test_store_otp_expired_or_revoked_is_refused(void **state)
{
	struct fixture	*f = *state;
	long long	 old, rev;
	time_t		 now = time(NULL);
	int		 n = 0;

	assert_int_equal(store_otp_add(f->st, "old", NULL, now - 1, &old), 0);
	assert_int_equal(store_otp_add(f->st, "rev", NULL, now + 60, &rev), 0);
	assert_int_equal(store_otp_consume(f->st, old, "tx", now), 1);
	assert_int_equal(store_otp_revoke(f->st, rev, now), 0);
	assert_int_equal(store_otp_revoke(f->st, rev, now), 1);
	assert_int_equal(store_otp_consume(f->st, rev, "tx", now), 1);
	assert_int_equal(store_otp_foreach(f->st, count_otps, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_store_otp_hashes_are_unique(void **state)
{
	struct fixture	*f = *state;
	long long	 id;
	time_t		 now = time(NULL);

	assert_int_equal(store_otp_add(f->st, "dup", NULL, now + 60, &id), 0);
	assert_int_equal(store_otp_add(f->st, "dup", NULL, now + 60, &id),
	    -1);
}

static void
test_store_open_refuses_a_newer_schema(void **state)
{
	struct fixture	*f = *state;

	store_close(f->st);
	f->st = NULL;
	exec_sql(f->path, "PRAGMA user_version = 999");
	assert_null(store_open(f->path));
	/* And leaves the database as it was. */
	assert_int_equal(query_int(f->path, "PRAGMA user_version"), 999);
}

static void
test_store_open_refuses_the_next_schema_version(void **state)
{
	struct fixture	*f = *state;
	char		 sql[64];

	store_close(f->st);
	f->st = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION + 1);
	exec_sql(f->path, sql);
	assert_null(store_open(f->path));
}

/* A version-1 database (the foundation release) is migrated. */
static void
test_store_migrates_version_1(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-v1", "aa");
	struct store_row	 row;
	char			*path;

	assert_true(asprintf(&path, "%s/v1.db", f->dir) > 0);
	exec_sql(path,
	    "CREATE TABLE certificates (serial TEXT PRIMARY KEY, state TEXT "
	    "NOT NULL, txid TEXT, subject TEXT, not_before INTEGER, "
	    "not_after INTEGER, der BLOB, reserved_at INTEGER NOT NULL, "
	    "issued_at INTEGER);"
	    "CREATE TABLE transactions (txid TEXT NOT NULL, kind TEXT NOT "
	    "NULL, state TEXT NOT NULL, pubkey_sha256 TEXT NOT NULL, subject "
	    "TEXT, client TEXT, serial TEXT, created_at INTEGER NOT NULL, "
	    "updated_at INTEGER NOT NULL, PRIMARY KEY (txid, kind));"
	    "CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	    " txid TEXT, msgtype TEXT, client TEXT, outcome TEXT NOT NULL, "
	    "failinfo TEXT, reason TEXT, serial TEXT);"
	    "INSERT INTO certificates VALUES ('0a', 'issued', 't-v1', 'CN=x', "
	    "1, 2, x'3003020107', 1, 1);"
	    "INSERT INTO transactions VALUES ('t-v1', 'enroll', 'issued', "
	    "'aa', 'CN=x', '127.0.0.1', '0a', 1, 1);"
	    "PRAGMA user_version = 1;");
	store_close(f->st);
	assert_non_null(f->st = store_open(path));
	assert_int_equal(query_int(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(begin_row(f->st, &t, &row), STORE_BEGIN_EXISTS);
	assert_int_equal(row.state, STORE_TXN_ISSUED);
	assert_int_equal(row.cert_len, sizeof(der_a));
	assert_memory_equal(row.cert, der_a, sizeof(der_a));
	store_row_clear(&row);
	free(path);
}

static void
test_store_open_fails_cleanly_in_a_missing_directory(void **state)
{
	struct fixture	*f = *state;
	char		*path;

	assert_true(asprintf(&path, "%s/no-such-dir/scepd.db", f->dir) > 0);
	assert_null(store_open(path));
	*strrchr(path, '/') = '\0';
	assert_int_equal(access(path, F_OK), -1);
	free(path);
}

static void
test_store_close_of_null_is_a_no_op(void **state)
{
	(void)state;
	store_close(NULL);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_store_open_creates_the_versioned_schema),
		T(test_store_open_uses_a_wal_journal),
		T(test_store_reopening_keeps_transactions_and_certificates),
		T(test_store_reopening_keeps_reservations_and_processing),
		T(test_store_begin_of_a_new_txid_is_new),
		T(test_store_begin_while_processing_is_busy),
		T(test_store_begin_takes_over_a_stale_transaction),
		T(
		    test_store_taken_over_transaction_cannot_be_finished_by_the_loser),
		T(test_store_begin_after_issuance_returns_the_same_certificate),
		T(test_store_begin_with_another_key_keeps_the_issued_key),
		T(test_store_begin_after_rejection_is_new),
		T(test_store_begin_after_failure_is_new),
		T(test_store_begin_after_rejection_takes_the_new_key),
		T(test_store_same_txid_of_another_kind_is_another_transaction),
		T(test_store_serial_reserve_refuses_a_duplicate),
		T(test_store_serial_reserve_refuses_an_issued_serial),
		T(test_store_finish_refuses_an_unreserved_serial),
		T(test_store_finish_refuses_a_serial_reserved_for_another_txid),
		T(test_store_finish_of_an_unknown_transaction_writes_nothing),
		T(test_store_finish_records_its_event),
		T(test_store_recover_fails_only_stale_processing_ones),
		T(test_store_recover_with_nothing_to_do_returns_0),
		T(test_store_recovered_transaction_can_start_again),
		T(test_store_event_add_stores_every_field),
		T(test_store_event_add_keeps_absent_fields_null),
		T(test_store_event_add_appends_one_row_per_call),
		T(test_store_event_add_survives_reopening),
		T(test_store_cert_foreach_lists_issued_oldest_first),
		T(test_store_cert_foreach_orders_by_issue_time),
		T(test_store_cert_foreach_leaves_out_reserved_serials),
		T(test_store_cert_foreach_of_an_empty_store_calls_nothing),
		T(test_store_cert_get_der_of_an_issued_serial),
		T(test_store_cert_get_der_of_an_unknown_serial_is_null),
		T(test_store_cert_get_der_of_a_reserved_serial_is_null),
		T(test_store_cert_issued_knows_our_serials),
		T(test_store_counts_valid_certificates_by_subject),
		T(test_store_limit_counts_reservations_in_flight),
		T(test_store_hold_keeps_the_request_for_an_operator),
		T(test_store_held_request_is_found_again_and_listed),
		T(test_store_hold_needs_a_processing_transaction),
		T(test_store_operator_approves_once),
		T(test_store_operator_denies_with_a_reason),
		T(test_store_unknown_pending_request_cannot_be_decided),
		T(test_store_expired_requests_cannot_be_decided),
		T(test_store_transitions_only_from_the_given_state),
		T(test_store_lookup_of_an_unknown_transaction),
		T(test_store_names_every_state),
		T(test_store_otp_is_used_once),
		T(test_store_otp_expired_or_revoked_is_refused),
		T(test_store_otp_hashes_are_unique),
		T(test_store_open_refuses_a_newer_schema),
		T(test_store_open_refuses_the_next_schema_version),
		T(test_store_migrates_version_1),
		T(test_store_open_fails_cleanly_in_a_missing_directory),
		T(test_store_close_of_null_is_a_no_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
