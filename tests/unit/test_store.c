/*
 * The SQLite store: transactions and their states, held requests,
 * serial reservation, one-time passwords, durability across reopening,
 * recovery of interrupted transactions, schema migration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const unsigned char fake_der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };

static struct store_txn
txn(const char *txid, const char *pubkey)
{
	struct store_txn	t = { txid, "enroll", pubkey, "signer", "CN=x",
				    "127.0.0.1" };

	return t;
}

static struct store_cert
cert(const char *serial, const char *subject, time_t not_after)
{
	struct store_cert	c = { serial, subject, 1000, not_after,
				    fake_der, sizeof(fake_der) };

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

/* Begins t; on EXISTS returns the row's state in *state. */
static enum store_begin
begin(struct store *st, const struct store_txn *t,
    enum store_txn_state *state)
{
	enum store_begin	found;
	struct store_row	row;

	assert_int_equal(store_txn_begin(st, t, &found, &row), 0);
	if (found == STORE_BEGIN_EXISTS) {
		assert_string_equal(row.txid, t->txid);
		if (row.state == STORE_TXN_ISSUED) {
			assert_int_equal(row.cert_len, sizeof(fake_der));
			assert_memory_equal(row.cert, fake_der,
			    sizeof(fake_der));
		}
		if (state != NULL)
			*state = row.state;
	}
	store_row_clear(&row);
	return found;
}

/* Issues txid with serial for subject in one go. */
static void
issue(struct store *st, const char *txid, const char *pubkey,
    const char *serial, const char *subject, time_t not_after)
{
	struct store_txn	t = txn(txid, pubkey);
	struct store_cert	c = cert(serial, subject, not_after);
	struct store_event	e = event(txid, "issued");

	assert_int_equal(begin(st, &t, NULL), STORE_BEGIN_NEW);
	assert_int_equal(store_serial_reserve(st, serial, txid), 0);
	assert_int_equal(store_txn_finish(st, txid, "enroll",
	    STORE_TXN_ISSUED, &c, &e), 0);
}

static int
count(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	int		 n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
	    SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void
test_store_creates_versioned_schema(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(count(f->path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	/* WAL persists in the file; a fresh connection sees it. */
	assert_int_equal(count(f->path, "SELECT journal_mode = 'wal' FROM "
	    "pragma_journal_mode"), 1);
}

static void
test_store_new_transaction_is_processing_then_busy(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-busy", "aa");

	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_BUSY);
}

static void
test_store_finds_issued_transaction_with_its_certificate(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-resend", "bb");
	enum store_txn_state	 s;

	issue(f->st, "t-resend", "bb", "0a01", "CN=x", 2000);
	assert_int_equal(begin(f->st, &t, &s), STORE_BEGIN_EXISTS);
	assert_int_equal(s, STORE_TXN_ISSUED);
}

static void
test_store_restarts_after_rejection_or_failure(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-retry", "dd");
	struct store_event	 e = event("t-retry", "rejected");

	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-retry", "enroll",
	    STORE_TXN_REJECTED, NULL, &e), 0);
	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-retry", "enroll",
	    STORE_TXN_FAILED, NULL, &e), 0);
	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_NEW);
}

static void
test_store_never_reserves_a_serial_twice(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(store_serial_reserve(f->st, "0b01", "t1"), 0);
	assert_int_equal(store_serial_reserve(f->st, "0b01", "t2"), 1);
	assert_int_equal(store_serial_reserve(f->st, "0b02", "t2"), 0);
}

static void
test_store_refuses_certificate_without_reservation(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-unreserved", "ee");
	struct store_cert	 c = cert("0c01", "CN=x", 2000);
	struct store_event	 e = event("t-unreserved", "issued");

	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, "t-unreserved", "enroll",
	    STORE_TXN_ISSUED, &c, &e), -1);
	/* Nothing half-written: still processing, no event. */
	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_BUSY);
	assert_int_equal(count(f->path, "SELECT count(*) FROM events WHERE "
	    "txid = 't-unreserved'"), 0);
	/* A serial reserved for another transaction does not do either. */
	assert_int_equal(store_serial_reserve(f->st, "0c01", "someone-else"),
	    0);
	assert_int_equal(store_txn_finish(f->st, "t-unreserved", "enroll",
	    STORE_TXN_ISSUED, &c, &e), -1);
}

static void
test_store_keeps_everything_across_reopening(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-durable", "ff");
	unsigned char		*der;
	size_t			 len;

	issue(f->st, "t-durable", "ff", "0d01", "CN=x", 2000);
	store_close(f->st);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	assert_int_equal(begin(f->st, &t, NULL), STORE_BEGIN_EXISTS);
	der = store_cert_get_der(f->st, "0d01", &len);
	assert_non_null(der);
	assert_int_equal(len, sizeof(fake_der));
	free(der);
	assert_int_equal(store_serial_reserve(f->st, "0d01", "again"), 1);
	assert_int_equal(store_cert_issued(f->st, "0d01"), 0);
	assert_int_equal(store_cert_issued(f->st, "0d02"), 1);
}

static void
test_store_recover_fails_interrupted_transactions(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 a = txn("t-int-a", "01"), b = txn("t-int-b", "02");

	assert_int_equal(begin(f->st, &a, NULL), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &b, NULL), STORE_BEGIN_NEW);
	assert_int_equal(store_recover(f->st), 2);
	assert_int_equal(store_recover(f->st), 0);
	assert_int_equal(begin(f->st, &a, NULL), STORE_BEGIN_NEW);
}

static int
collect(const struct store_cert *c, const char *txid, void *arg)
{
	char	*seen = arg;

	strcat(seen, c->serial);
	strcat(seen, "/");
	strcat(seen, txid);
	strcat(seen, ";");
	return 0;
}

static void
test_store_lists_issued_certificates_in_order(void **state)
{
	struct fixture	*f = *state;
	char		 seen[256] = "";
	size_t		 len;

	issue(f->st, "t-l1", "11", "0e01", "CN=x", 2000);
	issue(f->st, "t-l2", "12", "0e02", "CN=x", 2000);
	assert_int_equal(store_serial_reserve(f->st, "0e03", "t-l3"), 0);
	assert_int_equal(store_cert_foreach(f->st, collect, seen), 0);
	assert_string_equal(seen, "0e01/t-l1;0e02/t-l2;");
	assert_null(store_cert_get_der(f->st, "0e03", &len));
	assert_null(store_cert_get_der(f->st, "ffff", &len));
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
	assert_int_equal(store_active_count(f->st, "CN=dev", NULL, now), 2);
	assert_int_equal(store_active_count(f->st, "CN=dev", "0f01", now), 1);
	assert_int_equal(store_active_count(f->st, "CN=none", NULL, now), 0);
}

static void
test_store_records_events(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 e = event(NULL, "malformed");

	e.reason = "not a DER PKCS#7 message";
	e.rule = "r1";
	assert_int_equal(store_event_add(f->st, &e), 0);
	assert_int_equal(count(f->path, "SELECT count(*) FROM events WHERE "
	    "outcome = 'malformed' AND reason LIKE 'not a DER%' AND "
	    "rule = 'r1'"), 1);
}

static long long
hold(struct store *st, const char *txid, time_t expires)
{
	struct store_txn	 t = txn(txid, "31");
	struct store_hold	 h = { fake_der, sizeof(fake_der), "rule-h",
				    "default", "held", expires };
	struct store_event	 e = event(txid, "held");
	struct store_row	 row;
	long long		 id;

	assert_int_equal(begin(st, &t, NULL), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_hold(st, &t, &h, &e), 0);
	assert_int_equal(store_txn_lookup(st, txid, &row), 0);
	assert_int_equal(row.state, STORE_TXN_PENDING);
	assert_int_equal(row.csr_len, sizeof(fake_der));
	assert_string_equal(row.profile, "default");
	assert_string_equal(row.rule, "rule-h");
	assert_int_equal(row.expires_at, expires);
	id = row.id;
	store_row_clear(&row);
	return id;
}

static int
count_rows(const struct store_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void
test_store_holds_and_lists_pending_requests(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-hold", "31");
	enum store_txn_state	 s;
	int			 n = 0;

	hold(f->st, "t-hold", time(NULL) + 3600);
	/* A repeated request finds it held. */
	assert_int_equal(begin(f->st, &t, &s), STORE_BEGIN_EXISTS);
	assert_int_equal(s, STORE_TXN_PENDING);
	assert_int_equal(store_pending_foreach(f->st, 0, count_rows, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_store_operator_decides_once(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;
	long long		 a, d;

	a = hold(f->st, "t-approve", time(NULL) + 3600);
	d = hold(f->st, "t-deny", time(NULL) + 3600);
	assert_int_equal(store_pending_decide(f->st, a, 1, NULL, "alice",
	    time(NULL)), 0);
	assert_int_equal(store_pending_decide(f->st, a, 0, "no", "bob",
	    time(NULL)), 1);
	assert_int_equal(store_pending_decide(f->st, d, 0, "not ours", "bob",
	    time(NULL)), 0);
	assert_int_equal(store_pending_get(f->st, a, &row), 0);
	assert_int_equal(row.state, STORE_TXN_APPROVED);
	assert_string_equal(row.decided_by, "alice");
	store_row_clear(&row);
	assert_int_equal(store_pending_get(f->st, d, &row), 0);
	assert_int_equal(row.state, STORE_TXN_DENIED);
	assert_string_equal(row.reason, "not ours");
	store_row_clear(&row);
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
}

static void
test_store_lookup_of_an_unknown_transaction(void **state)
{
	struct fixture		*f = *state;
	struct store_row	 row;

	assert_int_equal(store_txn_lookup(f->st, "nope", &row), 1);
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
	assert_int_equal(store_otp_add(f->st, "old", NULL, now + 60, &old),
	    -1);		/* hashes are unique */
	assert_int_equal(store_otp_foreach(f->st, count_otps, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_store_refuses_a_newer_schema(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path));
}

/* A version-1 database (the foundation release) is migrated. */
static void
test_store_migrates_version_1(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-v1", "aa");
	enum store_txn_state	 s;
	char			*path;
	sqlite3			*db;

	assert_true(asprintf(&path, "%s/v1.db", f->dir) > 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
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
	    "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	store_close(f->st);
	assert_non_null(f->st = store_open(path));
	assert_int_equal(count(path, "PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(begin(f->st, &t, &s), STORE_BEGIN_EXISTS);
	assert_int_equal(s, STORE_TXN_ISSUED);
	free(path);
}

static void
test_store_open_fails_cleanly_in_missing_directory(void **state)
{
	(void)state;
	assert_null(store_open("/nonexistent-dir-for-scepd/x.db"));
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_store_creates_versioned_schema),
		T(test_store_new_transaction_is_processing_then_busy),
		T(test_store_finds_issued_transaction_with_its_certificate),
		T(test_store_restarts_after_rejection_or_failure),
		T(test_store_never_reserves_a_serial_twice),
		T(test_store_refuses_certificate_without_reservation),
		T(test_store_keeps_everything_across_reopening),
		T(test_store_recover_fails_interrupted_transactions),
		T(test_store_lists_issued_certificates_in_order),
		T(test_store_counts_valid_certificates_by_subject),
		T(test_store_records_events),
		T(test_store_holds_and_lists_pending_requests),
		T(test_store_operator_decides_once),
		T(test_store_expired_requests_cannot_be_decided),
		T(test_store_transitions_only_from_the_given_state),
		T(test_store_lookup_of_an_unknown_transaction),
		T(test_store_otp_is_used_once),
		T(test_store_otp_expired_or_revoked_is_refused),
		T(test_store_refuses_a_newer_schema),
		T(test_store_migrates_version_1),
		cmocka_unit_test(
		    test_store_open_fails_cleanly_in_missing_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
