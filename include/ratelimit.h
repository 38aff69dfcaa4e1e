/*
 * Counting events per client address in fixed time windows, to bound
 * what unauthenticated clients can cost: wrong challenges, bad
 * signatures, malformed requests written to the database.
 *
 * The table has a fixed size: when it is full, the address whose
 * window is oldest is forgotten, so a flood of addresses costs no
 * memory and at worst forgets an old count.  Thread-safe.
 */
#ifndef SCEPD_RATELIMIT_H
#define SCEPD_RATELIMIT_H

#include <time.h>

#define RATELIMIT_SLOTS		4096
#define RATELIMIT_PROBE		16

struct ratelimit;

/* At most max events per address in each window of window seconds. */
struct ratelimit *ratelimit_new(int max, int window);
void		 ratelimit_free(struct ratelimit *rl);
/* Counts an event of addr at now; returns the count in its window. */
int		 ratelimit_add(struct ratelimit *rl, const char *addr,
		    time_t now);
/*
 * Seconds until addr is below its limit again: 0 if it is below now
 * (max events not reached in the current window).
 */
int		 ratelimit_wait(struct ratelimit *rl, const char *addr,
		    time_t now);

#endif
