/*
 * Durable records: issued certificates, the state of every enrollment
 * transaction, and an event for every request outcome.  Every write
 * is committed (fsync'd) before the function returns, so that nothing
 * is sent to a client that is not on disk.
 *
 * One implementation today (SQLite, src/store_sqlite.c); the header is
 * the interface a PostgreSQL backend will implement too.
 */
#ifndef SCEPD_STORE_H
#define SCEPD_STORE_H

#include <stddef.h>
#include <time.h>

#define STORE_SCHEMA_VERSION	1
#define STORE_BUSY_TIMEOUT_MS	5000
/* A transaction still "processing" after this long was abandoned. */
#define STORE_STALE_SECONDS	600

struct store;

enum store_txn_state {
	STORE_TXN_PROCESSING,
	STORE_TXN_ISSUED,
	STORE_TXN_REJECTED,	/* refused by a decision (challenge, policy) */
	STORE_TXN_FAILED,	/* could not be completed (error) */
};

/* What store_txn_begin() found. */
enum store_begin {
	STORE_BEGIN_NEW,	/* ours to process; marked processing */
	STORE_BEGIN_ISSUED,	/* a retransmission: the cert is returned */
	STORE_BEGIN_BUSY,	/* the same transaction is in flight */
	STORE_BEGIN_KEY_MISMATCH, /* issued before, for another key */
};

/* Identifies an enrollment transaction.  Strings are borrowed. */
struct store_txn {
	const char	*txid;
	const char	*kind;		/* "enroll" */
	const char	*pubkey_sha256;	/* hex of the SubjectPublicKeyInfo */
	const char	*subject;
	const char	*client;
};

struct store_cert {
	const char		*serial;	/* lower-case hex */
	const char		*subject;
	time_t			 not_before;
	time_t			 not_after;
	const unsigned char	*der;
	size_t			 der_len;
};

/* One line of the request history. */
struct store_event {
	const char	*txid;
	const char	*msgtype;
	const char	*client;
	const char	*outcome;	/* issued, resent, rejected, failed */
	const char	*failinfo;	/* NULL unless FAILURE */
	const char	*reason;
	const char	*serial;
};

/* Opens or creates the database and brings its schema up to date. */
struct store	*store_open(const char *path);
void		 store_close(struct store *st);
/*
 * Marks transactions left "processing" by a previous run as failed.
 * Returns how many, or -1.
 */
int		 store_recover(struct store *st);

/*
 * Starts (or finds) the transaction.  On STORE_BEGIN_ISSUED, *der is
 * the certificate issued earlier (free()).
 */
int		 store_txn_begin(struct store *st, const struct store_txn *t,
		    enum store_begin *found, unsigned char **der,
		    size_t *der_len);
/*
 * Records a serial number before anything is signed with it, so that
 * no serial is ever used twice.  Returns 0, 1 if already taken, -1.
 */
int		 store_serial_reserve(struct store *st, const char *serial,
		    const char *txid);
/*
 * Ends the transaction in state, with the certificate when issued, and
 * adds ev, all in one database transaction.
 */
int		 store_txn_finish(struct store *st, const struct store_txn *t,
		    enum store_txn_state state, const struct store_cert *cert,
		    const struct store_event *ev);
/* Records an outcome of a request that had no transaction. */
int		 store_event_add(struct store *st,
		    const struct store_event *ev);

/* Calls fn for every issued certificate, oldest first. */
int		 store_cert_foreach(struct store *st,
		    int (*fn)(const struct store_cert *, const char *txid,
		    void *), void *arg);
/* The DER of an issued certificate by serial (free()), or NULL. */
unsigned char	*store_cert_get_der(struct store *st, const char *serial,
		    size_t *der_len);

#endif
