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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void pyc_deadline(struct timespec *ts, clockid_t clock, int ms)
{
	clock_gettime(clock, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

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
	pyc_deadline(&until, CLOCK_MONOTONIC, timeout_ms);
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

int pyc_redial_dial(pyc_redial *r, nng_socket s, const char *url, int after_ms)
{
	memset(r, 0, sizeof(*r));
	r->sock = s;
	r->after_ms = after_ms;
	if (snprintf(r->url, sizeof(r->url), "%s", url) >= (int) sizeof(r->url))
		return NNG_EINVAL;
	return nng_dial(s, r->url, &r->dialer, NNG_FLAG_NONBLOCK);
}

int pyc_redial_tick(pyc_redial *r, bool up, long long now_ms)
{
	if (up) {
		r->down_since_ms = 0;
		return -1;
	}
	if (r->down_since_ms == 0)
		r->down_since_ms = now_ms;
	long long left = r->down_since_ms + r->after_ms - now_ms;
	if (left > 0)
		return (int) left;
	/* A dialer that is still trying loses one attempt in progress; one
	 * that gave up (see NOTES) is replaced. */
	nng_dialer_close(r->dialer);
	int rv = nng_dial(r->sock, r->url, &r->dialer, NNG_FLAG_NONBLOCK);
	r->restarts++;
	r->down_since_ms = now_ms;
	if (rv != 0)
		pyc_log(PYC_LOG_WARN, "dial %s afresh: %s", r->url, nng_strerror(rv));
	else
		pyc_log(PYC_LOG_DEBUG, "no pipe to %s for %d ms: dialling afresh", r->url,
		    r->after_ms);
	return r->after_ms;
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
