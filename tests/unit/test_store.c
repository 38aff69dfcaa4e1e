/*
 * The SQLite store: transactions, serial reservation, durability
 * across reopening, recovery of interrupted transactions.
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
	struct store_txn	t = { txid, "enroll", pubkey, "CN=x", "127.0.0.1" };

	return t;
}

static struct store_cert
cert(const char *serial)
{
	struct store_cert	c = { serial, "CN=x", 1000, 2000, fake_der,
				    sizeof(fake_der) };

	return c;
}

static struct store_event
event(const char *txid, const char *outcome)
{
	struct store_event	e = { txid, "PKCSReq", "127.0.0.1", outcome,
				    NULL, NULL, NULL };

	return e;
}

static enum store_begin
begin(struct store *st, const struct store_txn *t)
{
	enum store_begin	 found;
	unsigned char		*der = NULL;
	size_t			 len;

	assert_int_equal(store_txn_begin(st, t, &found, &der, &len), 0);
	if (found == STORE_BEGIN_ISSUED) {
		assert_int_equal(len, sizeof(fake_der));
		assert_memory_equal(der, fake_der, len);
	} else
		assert_null(der);
	free(der);
	return found;
}

/* Issues txid with serial in one go. */
static void
issue(struct store *st, const char *txid, const char *pubkey,
    const char *serial)
{
	struct store_txn	t = txn(txid, pubkey);
	struct store_cert	c = cert(serial);
	struct store_event	e = event(txid, "issued");

	assert_int_equal(begin(st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_serial_reserve(st, serial, txid), 0);
	assert_int_equal(store_txn_finish(st, &t, STORE_TXN_ISSUED, &c, &e),
	    0);
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

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
}

static void
test_store_resends_certificate_for_same_key(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-resend", "bb");

	issue(f->st, "t-resend", "bb", "0a01");
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_ISSUED);
}

static void
test_store_refuses_same_txid_for_another_key(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-other", "other-key");

	issue(f->st, "t-other", "cc", "0a02");
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_KEY_MISMATCH);
}

static void
test_store_retries_after_rejection_or_failure(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-retry", "dd");
	struct store_event	 e = event("t-retry", "rejected");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, &t, STORE_TXN_REJECTED, NULL,
	    &e), 0);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, &t, STORE_TXN_FAILED, NULL,
	    &e), 0);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
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
	struct store_cert	 c = cert("0c01");
	struct store_event	 e = event("t-unreserved", "issued");

	assert_int_equal(begin(f->st, &t), STORE_BEGIN_NEW);
	assert_int_equal(store_txn_finish(f->st, &t, STORE_TXN_ISSUED, &c,
	    &e), -1);
	/* Nothing half-written: still processing, no event. */
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_BUSY);
	assert_int_equal(count(f->path, "SELECT count(*) FROM events WHERE "
	    "txid = 't-unreserved'"), 0);
	/* A serial reserved for another transaction does not do either. */
	assert_int_equal(store_serial_reserve(f->st, "0c01", "someone-else"),
	    0);
	assert_int_equal(store_txn_finish(f->st, &t, STORE_TXN_ISSUED, &c,
	    &e), -1);
}

static void
test_store_keeps_everything_across_reopening(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 t = txn("t-durable", "ff");
	unsigned char		*der;
	size_t			 len;

	issue(f->st, "t-durable", "ff", "0d01");
	store_close(f->st);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	assert_int_equal(begin(f->st, &t), STORE_BEGIN_ISSUED);
	der = store_cert_get_der(f->st, "0d01", &len);
	assert_non_null(der);
	assert_int_equal(len, sizeof(fake_der));
	free(der);
	assert_int_equal(store_serial_reserve(f->st, "0d01", "again"), 1);
}

static void
test_store_recover_fails_interrupted_transactions(void **state)
{
	struct fixture		*f = *state;
	struct store_txn	 a = txn("t-int-a", "01"), b = txn("t-int-b", "02");

	assert_int_equal(begin(f->st, &a), STORE_BEGIN_NEW);
	assert_int_equal(begin(f->st, &b), STORE_BEGIN_NEW);
	assert_int_equal(store_recover(f->st), 2);
	assert_int_equal(store_recover(f->st), 0);
	assert_int_equal(begin(f->st, &a), STORE_BEGIN_NEW);
}

static int
collect(const struct store_cert *c, const char *txid, void *arg)
{
	char	*seen = arg;

	strcat(seen, c->serial);
	strcat(seen, "/");
	strcat(seen, txid);
	strcat(seen, ";");
	assert_int_equal(c->not_before, 1000);
	assert_int_equal(c->not_after, 2000);
	return 0;
}

static void
test_store_lists_issued_certificates_in_order(void **state)
{
	struct fixture	*f = *state;
	char		 seen[256] = "";

	issue(f->st, "t-l1", "11", "0e01");
	issue(f->st, "t-l2", "12", "0e02");
	assert_int_equal(store_serial_reserve(f->st, "0e03", "t-l3"), 0);
	assert_int_equal(store_cert_foreach(f->st, collect, seen), 0);
	assert_string_equal(seen, "0e01/t-l1;0e02/t-l2;");
	assert_null(store_cert_get_der(f->st, "0e03", &(size_t){ 0 }));
	assert_null(store_cert_get_der(f->st, "ffff", &(size_t){ 0 }));
}

static void
test_store_records_events(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 e = event(NULL, "malformed");

	e.reason = "not a DER PKCS#7 message";
	assert_int_equal(store_event_add(f->st, &e), 0);
	assert_int_equal(count(f->path, "SELECT count(*) FROM events WHERE "
	    "outcome = 'malformed' AND reason LIKE 'not a DER%'"), 1);
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

static void
test_store_open_fails_cleanly_in_missing_directory(void **state)
{
	(void)state;
	assert_null(store_open("/nonexistent-dir-for-scepd/x.db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_store_creates_versioned_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_new_transaction_is_processing_then_busy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_resends_certificate_for_same_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_refuses_same_txid_for_another_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_retries_after_rejection_or_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_never_reserves_a_serial_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_refuses_certificate_without_reservation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_keeps_everything_across_reopening, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_recover_fails_interrupted_transactions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_lists_issued_certificates_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_records_events,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_refuses_a_newer_schema, setup, teardown),
		cmocka_unit_test(
		    test_store_open_fails_cleanly_in_missing_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
