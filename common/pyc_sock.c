/* pyc_sock.c - bounded nng_close (pyc_sock.h).
 *
 * NOTES: the closer's state is heap-allocated and shared with the thread;
 * whoever finishes last frees it, so a close that never returns leaks one
 * small block on a process that is exiting anyway, and nothing is freed
 * under a running thread.
 */
#include "pyc_sock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "pyc_log.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

typedef struct closer {
	nng_socket s;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool done;
	int refs; /* the thread and the waiter */
} closer;

static void closer_release(closer *c)
{
	pthread_mutex_lock(&c->mtx);
	int left = --c->refs;
	pthread_mutex_unlock(&c->mtx);
	if (left == 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mtx);
		free(c);
	}
}

static void *close_main(void *arg)
{
	closer *c = arg;
	nng_close(c->s);
	pthread_mutex_lock(&c->mtx);
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mtx);
	closer_release(c);
	return NULL;
}

bool pyc_sock_close_bounded(nng_socket s, int timeout_ms)
{
	closer *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	pthread_t t;
	struct timespec until;
	bool done;

	if (c == NULL) {
		nng_close(s); /* no memory for a thread: close inline */
		return true;
	}
	c->s = s;
	c->refs = 2;
	pthread_mutex_init(&c->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t, NULL, close_main, c) != 0) {
		c->refs = 1;
		closer_release(c);
		nng_close(s);
		return true;
	}
	pthread_detach(t);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mtx);
	while (!c->done)
		if (pthread_cond_timedwait(&c->cv, &c->mtx, &until) == ETIMEDOUT)
			break;
	done = c->done;
	pthread_mutex_unlock(&c->mtx);
	if (!done)
		pyc_log(PYC_LOG_WARN, "nng_close did not return in %d ms; going on without it",
		    timeout_ms);
	closer_release(c);
	return done;
}

void pyc_sock_abandon(const void *p)
{
#if defined(__SANITIZE_ADDRESS__)
	if (p != NULL)
		__lsan_ignore_object(p);
#else
	(void) p;
#endif
}
