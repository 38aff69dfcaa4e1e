/*
 * Durable records: issued certificates, the state of every enrollment
 * transaction (with held requests awaiting an operator), one-time
 * passwords, and an event for every request outcome.  Every write is
 * committed (fsync'd) before the function returns, so that nothing is
 * sent to a client that is not on disk.
 *
 * One implementation today (SQLite, src/store_*.c); the header is the
 * interface a PostgreSQL backend will implement too.
 */
#ifndef SCEPD_STORE_H
#define SCEPD_STORE_H

#include <stddef.h>
#include <time.h>

#define STORE_SCHEMA_VERSION	3
#define STORE_BUSY_TIMEOUT_MS	5000
/* A transaction still "processing" after this long was abandoned. */
#define STORE_STALE_SECONDS	600
/* Random bytes of a transaction's claim (its lease holder). */
#define STORE_CLAIM_BYTES	16

struct store;

enum store_txn_state {
	STORE_TXN_PROCESSING,
	STORE_TXN_ISSUED,
	STORE_TXN_REJECTED,	/* refused by policy or challenge */
	STORE_TXN_FAILED,	/* could not be completed (error) */
	STORE_TXN_PENDING,	/* held for an operator */
	STORE_TXN_APPROVED,	/* approved, issued at the next poll */
	STORE_TXN_DENIED,	/* refused by an operator */
	STORE_TXN_EXPIRED,	/* held too long */
	STORE_TXN__MAX
};

/* What store_txn_begin() did. */
enum store_begin {
	STORE_BEGIN_NEW,	/* ours to process; marked processing */
	STORE_BEGIN_BUSY,	/* the same transaction is in flight */
	STORE_BEGIN_EXISTS,	/* decided before: see the row */
};

/* Identifies an enrollment transaction.  Strings are borrowed. */
struct store_txn {
	const char	*txid;
	const char	*kind;		/* "enroll" or "renew" */
	const char	*pubkey_sha256;	/* hex, the CSR's public key */
	const char	*signer_sha256;	/* hex, the pkiMessage signer's key */
	const char	*subject;
	const char	*client;
	const char	*claim;		/* store_txn_hold(): row->claim */
};

/* A transaction as stored; owned, released by store_row_clear(). */
struct store_row {
	long long		 id;
	enum store_txn_state	 state;
	char			*txid;
	char			*kind;
	char			*pubkey_sha256;
	char			*signer_sha256;
	char			*subject;
	char			*client;
	char			*rule;
	char			*profile;
	char			*reason;
	char			*serial;
	char			*decided_by;
	unsigned char		*csr;		/* held requests */
	size_t			 csr_len;
	unsigned char		*cert;		/* issued ones */
	size_t			 cert_len;
	time_t			 created_at;
	time_t			 expires_at;	/* held requests, else 0 */
	char			*claim;		/* STORE_BEGIN_NEW: ours */
};

struct store_cert {
	const char		*serial;	/* lower-case hex */
	const char		*subject;
	time_t			 not_before;
	time_t			 not_after;
	const unsigned char	*der;
	size_t			 der_len;
};

/* One line of the request history.  Strings are borrowed. */
struct store_event {
	const char	*txid;
	const char	*msgtype;
	const char	*client;
	const char	*outcome;	/* issued, resent, pending, rejected... */
	const char	*failinfo;	/* NULL unless FAILURE */
	const char	*reason;
	const char	*serial;
	const char	*rule;
};

/* Held request data for store_txn_hold(). */
struct store_hold {
	const unsigned char	*csr;
	size_t			 csr_len;
	const char		*rule;
	const char		*profile;
	const char		*reason;
	time_t			 expires_at;
};

struct store_otp {
	long long	 id;
	char		*subject_pattern;	/* NULL: any subject */
	time_t		 created_at;
	time_t		 expires_at;
	time_t		 used_at;		/* 0: unused */
	char		*used_txid;
	time_t		 revoked_at;		/* 0: not revoked */
};

const char	*store_txn_state_name(enum store_txn_state state);

/* Opens or creates the database and brings its schema up to date. */
struct store	*store_open(const char *path);
void		 store_close(struct store *st);
/*
 * Marks transactions left "processing" longer than STORE_STALE_SECONDS
 * (a crashed run's) as failed; younger ones may be another process's
 * work in progress and are left alone.  Returns how many, or -1.
 */
int		 store_recover(struct store *st);
/*
 * This process's claims carry owner (a hex id the parent gives each
 * run of scepd).  Transactions still "processing" under owner were
 * left by a worker of the same run that died (the parent starts the
 * next one only after the last is gone): they are marked failed at
 * once, so that their clients' retransmissions are served instead of
 * waiting out the lease.  Returns how many, or -1.
 */
int		 store_recover_owner(struct store *st, const char *owner);

/*
 * Starts the transaction (txid, kind), or finds it.  A transaction
 * that was rejected or failed before is started again.  On
 * STORE_BEGIN_EXISTS, row describes it; on STORE_BEGIN_NEW, row->claim
 * is the claim that finishing or holding it needs.
 */
int		 store_txn_begin(struct store *st, const struct store_txn *t,
		    enum store_begin *found, struct store_row *row);
/* The newest transaction with txid, of any kind: 0, 1 if none, -1. */
int		 store_txn_lookup(struct store *st, const char *txid,
		    struct store_row *row);
void		 store_row_clear(struct store_row *row);
/* A per-subject limit, checked atomically with a serial reservation. */
struct store_limit {
	const char	*subject;	/* the certificate's, RFC 2253 */
	int		 max;		/* 0: no limit */
	const char	*exclude_serial; /* the one being renewed, or NULL */
	time_t		 now;
};

#define STORE_RESERVE_LIMIT	2

/*
 * Records a serial number for txid before anything is signed with it,
 * so that no serial is ever used twice.  With lim, the serial is for
 * lim->subject and is reserved only while the subject has fewer than
 * lim->max certificates (see store_active_count), counted in the same
 * database transaction; *active (may be NULL) gets the count.  Returns
 * 0, 1 if the serial is taken, STORE_RESERVE_LIMIT, or -1.
 */
int		 store_serial_reserve(struct store *st, const char *serial,
		    const char *txid, const struct store_limit *lim,
		    int *active);
/*
 * Ends the transaction (txid, kind) in state, with the certificate
 * when issued, and adds ev, all in one database transaction.  With a
 * claim, only if the transaction is still processing under it (not
 * taken over since); -1 otherwise, and nothing is recorded.
 */
int		 store_txn_finish(struct store *st, const char *txid,
		    const char *kind, const char *claim,
		    enum store_txn_state state, const struct store_cert *cert,
		    const struct store_event *ev);
/*
 * Moves the transaction from one state to another, if it is in the
 * first (adding ev, if any): 0 if moved, 1 if it was not, -1.
 */
int		 store_txn_transition(struct store *st, const char *txid,
		    const char *kind, enum store_txn_state from,
		    enum store_txn_state to, const struct store_event *ev);
/* Holds the processing transaction for an operator, and adds ev. */
int		 store_txn_hold(struct store *st, const struct store_txn *t,
		    const struct store_hold *h, const struct store_event *ev);
/* Records an outcome of a request that had no transaction. */
int		 store_event_add(struct store *st,
		    const struct store_event *ev);

/* Held requests, oldest first; also approved ones with all != 0. */
int		 store_pending_foreach(struct store *st, int all,
		    int (*fn)(const struct store_row *, void *), void *arg);
/* 0 and the row, 1 if no transaction has that id, -1. */
int		 store_pending_get(struct store *st, long long id,
		    struct store_row *row);
/*
 * Approves or denies a held request that has not expired at now.
 * Returns 0, 1 if it is not (or no longer) pending, -1.
 */
int		 store_pending_decide(struct store *st, long long id,
		    int approve, const char *reason, const char *by,
		    time_t now);

/*
 * Counts certificates for subject that are issued and still valid at
 * now, or being issued (a serial reserved by another transaction still
 * processing), leaving out exclude_serial (the one being renewed) and
 * the reservations of txid (the asking transaction); both may be NULL.
 */
int		 store_active_count(struct store *st, const char *subject,
		    const char *exclude_serial, const char *txid, time_t now);
/* Whether serial is a certificate we issued: 0 yes, 1 no, -1. */
int		 store_cert_issued(struct store *st, const char *serial);
/* Calls fn for every issued certificate, oldest first. */
int		 store_cert_foreach(struct store *st,
		    int (*fn)(const struct store_cert *, const char *txid,
		    void *), void *arg);
/* The DER of an issued certificate by serial (free()), or NULL. */
unsigned char	*store_cert_get_der(struct store *st, const char *serial,
		    size_t *der_len);

/* One-time passwords, kept as SHA-256 hashes (hex). */
int		 store_otp_add(struct store *st, const char *hash,
		    const char *subject_pattern, time_t expires_at,
		    long long *id);
/* 0 and the OTP, 1 if no OTP has that hash, -1. */
int		 store_otp_find(struct store *st, const char *hash,
		    struct store_otp *otp);
/*
 * Uses the OTP for txid, atomically across processes: 0 if it was
 * unused (or already used by this very txid), not revoked and not
 * expired at now; 1 otherwise; -1 on error.
 */
int		 store_otp_consume(struct store *st, long long id,
		    const char *txid, time_t now);
int		 store_otp_revoke(struct store *st, long long id, time_t now);
int		 store_otp_foreach(struct store *st,
		    int (*fn)(const struct store_otp *, void *), void *arg);
void		 store_otp_clear(struct store_otp *otp);

#endif
