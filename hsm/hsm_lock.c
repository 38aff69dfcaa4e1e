/*
 * A timed, process- and machine-wide lock: pthread mutex, then flock.
 * Waiting is bounded so that a stuck peer turns into an error for one
 * request instead of wedging every worker thread.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hsm_lock.h"
#include "log.h"

#define HSM_LOCK_POLL_NS	2000000L	/* 2 ms between flock tries */

struct hsm_lock {
	pthread_mutex_t	 mutex;
	int		 fd;
	int		 shared;	/* flock LOCK_SH, else LOCK_EX */
	char		*path;
};

struct hsm_lock *
hsm_lock_new(const char *path, enum hsm_lock_mode mode)
{
	struct hsm_lock	*lk;

	if ((lk = calloc(1, sizeof(*lk))) == NULL) {
		log_error("%s: out of memory", __func__);
		return NULL;
	}
	lk->fd = -1;
	lk->shared = mode == HSM_LOCK_SHARED;
	if ((lk->path = strdup(path)) == NULL) {
		log_error("%s: out of memory", __func__);
		goto fail;
	}
	if ((lk->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_error("%s: %s: %s", __func__, path, strerror(errno));
		goto fail;
	}
	if (pthread_mutex_init(&lk->mutex, NULL) != 0) {
		log_error("%s: pthread_mutex_init failed", __func__);
		goto fail;
	}
	return lk;
 fail:
	if (lk->fd != -1)
		close(lk->fd);
	free(lk->path);
	free(lk);
	return NULL;
}

void
hsm_lock_free(struct hsm_lock *lk)
{
	if (lk == NULL)
		return;
	pthread_mutex_destroy(&lk->mutex);
	close(lk->fd);
	free(lk->path);
	free(lk);
}

static int
hsm_lock_expired(const struct timespec *deadline)
{
	struct timespec	now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > deadline->tv_sec ||
	    (now.tv_sec == deadline->tv_sec &&
	    now.tv_nsec >= deadline->tv_nsec);
}

/* flock(2) has no timeout: polls without blocking until deadline. */
static int
hsm_lock_flock(struct hsm_lock *lk, int how, int timeout,
    const struct timespec *deadline)
{
	struct timespec	pause = { 0, HSM_LOCK_POLL_NS };

	for (;;) {
		if (flock(lk->fd, how | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_error("%s: flock %s: %s", __func__, lk->path,
			    strerror(errno));
			return -1;
		}
		if (hsm_lock_expired(deadline)) {
			log_error("%s: token locked by another process for "
			    "%d s (%s)", __func__, timeout, lk->path);
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

int
hsm_lock_acquire(struct hsm_lock *lk, int timeout)
{
	struct timespec	deadline;
	int		r;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout;
	if ((r = pthread_mutex_timedlock(&lk->mutex, &deadline)) != 0) {
		log_error("%s: token busy in this process for %d s (%s)",
		    __func__, timeout, strerror(r));
		return -1;
	}
	if (hsm_lock_flock(lk, lk->shared ? LOCK_SH : LOCK_EX, timeout,
	    &deadline) == 0)
		return 0;
	pthread_mutex_unlock(&lk->mutex);
	return -1;
}

int
hsm_lock_exclusive(struct hsm_lock *lk, int timeout)
{
	struct timespec	deadline;

	if (!lk->shared)
		return 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout;
	/* A failed conversion drops the shared lock; release unlocks. */
	return hsm_lock_flock(lk, LOCK_EX, timeout, &deadline);
}

void
hsm_lock_release(struct hsm_lock *lk)
{
	flock(lk->fd, LOCK_UN);
	pthread_mutex_unlock(&lk->mutex);
}
