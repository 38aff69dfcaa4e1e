/*
 * Challenge passwords are kept only as salted scrypt hashes in the
 * form "$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>".
 */
#ifndef SCEPD_CHALLENGE_H
#define SCEPD_CHALLENGE_H

#include <stddef.h>

#define CHALLENGE_MAX_LEN	255	/* PKCS#9 challengePassword bound */

/* Hashes secret with a fresh salt; the caller frees the result. */
char	*challenge_hash_new(const char *secret, size_t len);
/* Checks that hash is well formed, with parameters we accept. */
int	 challenge_hash_check(const char *hash);
/*
 * Returns 0 if candidate matches hash, -1 if not or on error.  The
 * comparison takes the same time wherever the first difference is.
 */
int	 challenge_verify(const char *hash, const char *candidate,
	    size_t len);

/*
 * Checks candidates against one hash.  scrypt costs ~0.2 s of CPU by
 * design, so once a candidate has matched, an HMAC of it under a
 * random per-process key is kept and later candidates are compared
 * with that first (in constant time); a non-matching candidate always
 * pays the full scrypt.  The clear challenge is never kept.
 */
struct challenge_verifier;

/*
 * A bound on the scrypt computations running at once, across every
 * verifier of a process, and one at a time per client address: wrong challenges cost a full scrypt each (about
 * 0.1 s of CPU and 32 MiB at ln=15, r=8), so a flood of them must not
 * take every core and all memory from the clients who know theirs.
 */
struct challenge_gate;
struct timespec;

#define CHALLENGE_VERIFY_BUSY	1
#define CHALLENGE_GATE_AGAIN	(-2)
#define CHALLENGE_GATE_WAIT	5	/* seconds a check waits for a place */

/* max places; a check waits up to wait seconds for one. */
struct challenge_gate *challenge_gate_new(int max, int wait);
void	 challenge_gate_free(struct challenge_gate *g);
/*
 * Takes a place for one scrypt on behalf of who: the place's index.
 * A place is free unless every one is taken or who already holds one
 * (a flood from one address must leave places for the others).  With
 * none free: -1 at once when deadline is NULL, else waits until one
 * is given back (CHALLENGE_GATE_AGAIN: try again) or the deadline
 * (CLOCK_REALTIME) passes (-1).
 */
int	 challenge_gate_enter(struct challenge_gate *g, const char *who,
	    const struct timespec *deadline);
void	 challenge_gate_leave(struct challenge_gate *g, int place);

struct challenge_verifier *challenge_verifier_new(const char *hash);
void	 challenge_verifier_free(struct challenge_verifier *cv);
/*
 * 0 if candidate matches, -1 if not or on error, CHALLENGE_VERIFY_BUSY
 * if it needs a scrypt and gate (NULL: no bound) had no place for who
 * (the client's address) within the gate's wait.
 */
int	 challenge_verifier_check(struct challenge_verifier *cv,
	    const char *candidate, size_t len, struct challenge_gate *gate,
	    const char *who);

/* HMAC challenges: hex of the first 16 bytes of HMAC-SHA256. */
#define CHALLENGE_HMAC_HEX	32
/*
 * Derives the challenge of subject (an RFC 2253 string) under key into
 * out (CHALLENGE_HMAC_HEX + 1 bytes).  -1 (logged) on error.
 */
int	 challenge_hmac_derive(const unsigned char *key, size_t keylen,
	    const char *subject, char *out);

/* One-time passwords: 128 random bits as 32 hex digits. */
#define CHALLENGE_OTP_HEX	32
int	 challenge_otp_new(char *out);
/* The stored form of an OTP: hex SHA-256 (65 bytes with the NUL). */
int	 challenge_otp_hash(const char *otp, size_t len, char *out);

#endif
