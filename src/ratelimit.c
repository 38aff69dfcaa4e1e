/*
 * Per-address event counts in fixed windows, in a fixed-size hash
 * table with bounded linear probing.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"

#define RATELIMIT_ADDR_MAX	64

struct ratelimit_slot {
	char	addr[RATELIMIT_ADDR_MAX];	/* "" when free */
	time_t	start;				/* of its window */
	int	count;
};

struct ratelimit {
	pthread_mutex_t		 mutex;
	int			 max;
	int			 window;
	struct ratelimit_slot	*slots;
};

struct ratelimit *
ratelimit_new(int max, int window)
{
	struct ratelimit	*rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL ||
	    (rl->slots = calloc(RATELIMIT_SLOTS, sizeof(*rl->slots))) ==
	    NULL) {
		free(rl);
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	pthread_mutex_init(&rl->mutex, NULL);
	rl->max = max;
	rl->window = window > 0 ? window : 1;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mutex);
	free(rl->slots);
	free(rl);
}

/* FNV-1a: no need for more, the table forgets under pressure anyway. */
static size_t
ratelimit_hash(const char *addr)
{
	uint32_t	h = 2166136261u;

	for (; *addr != '\0'; addr++)
		h = (h ^ (unsigned char)*addr) * 16777619u;
	return h % RATELIMIT_SLOTS;
}

/* The slot of addr, or NULL; *victim gets the slot to take over. */
static struct ratelimit_slot *
ratelimit_find(struct ratelimit *rl, const char *addr,
    struct ratelimit_slot **victim)
{
	struct ratelimit_slot	*s, *v = NULL;
	size_t			 h = ratelimit_hash(addr), i;

	for (i = 0; i < RATELIMIT_PROBE; i++) {
		s = &rl->slots[(h + i) % RATELIMIT_SLOTS];
		if (strcmp(s->addr, addr) == 0)
			return s;
		/* A free slot first, else the oldest window. */
		if (v == NULL || (v->addr[0] != '\0' &&
		    (s->addr[0] == '\0' || s->start < v->start)))
			v = s;
	}
	if (victim != NULL)
		*victim = v;
	return NULL;
}

/* A window that has passed counts from zero again. */
static void
ratelimit_roll(struct ratelimit *rl, struct ratelimit_slot *s, time_t now)
{
	if (now - s->start >= rl->window || now < s->start) {
		s->start = now;
		s->count = 0;
	}
}

int
ratelimit_add(struct ratelimit *rl, const char *addr, time_t now)
{
	struct ratelimit_slot	*s, *victim = NULL;
	int			 n;

	pthread_mutex_lock(&rl->mutex);
	if ((s = ratelimit_find(rl, addr, &victim)) == NULL) {
		s = victim;
		memset(s, 0, sizeof(*s));
		strncpy(s->addr, addr, sizeof(s->addr) - 1);
		s->start = now;
	}
	ratelimit_roll(rl, s, now);
	if (s->count < INT32_MAX)
		s->count++;
	n = s->count;
	pthread_mutex_unlock(&rl->mutex);
	return n;
}

int
ratelimit_wait(struct ratelimit *rl, const char *addr, time_t now)
{
	struct ratelimit_slot	*s;
	int			 wait = 0;

	pthread_mutex_lock(&rl->mutex);
	if ((s = ratelimit_find(rl, addr, NULL)) != NULL) {
		ratelimit_roll(rl, s, now);
		if (s->count >= rl->max)
			wait = (int)(s->start + rl->window - now);
	}
	pthread_mutex_unlock(&rl->mutex);
	return wait > 0 ? wait : 0;
}
