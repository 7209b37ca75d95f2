/* pyc_sock.h - nng socket helpers shared by the services, and the
 * deadline of their bounded waits.
 *
 * NOTES: nng 1.5.2 (Debian 12) can hang in nng_close when a socket is
 * closed while pipes are going away (nanomsg/nng#1543, fixed after 1.5.2).
 * A service that closes its sockets on the way out must not hang there:
 * pyc_sock_close_bounded closes on a helper thread and waits at most the
 * given time.
 *
 * nng 1.5.2's dialer also gives up for good when a connection attempt
 * ends in NNG_ECLOSED, and that is what a peer closing the connection
 * during the SP handshake gives (the header write fails with EPIPE, which
 * nng maps to NNG_ECLOSED): a gateway or recorder that stops or is killed
 * just as a dialer reaches it leaves that dialer silent for ever.
 * pyc_redial dials and, when its owner has seen no pipe for after_ms,
 * closes the dialer and dials afresh. The owner counts its pipes (pipe
 * callbacks) and calls pyc_redial_tick from its own loop.
 */
#ifndef PYC_SOCK_H
#define PYC_SOCK_H

#include <stdbool.h>
#include <time.h>

#include <nng/nng.h>

/* *ts = now on clock plus ms, for pthread_cond_timedwait on a condition
 * variable that uses that clock. */
void pyc_deadline(struct timespec *ts, clockid_t clock, int ms);

/* Closes s, waiting at most timeout_ms. Returns true if the close
 * finished; false if it is still running on its thread (then the caller
 * must not free anything nng's callbacks of s may still use, and should
 * just exit). */
bool pyc_sock_close_bounded(nng_socket s, int timeout_ms);

/* Marks p (heap memory deliberately left to a hung close's threads) as
 * not a leak for LeakSanitizer; does nothing in other builds. */
void pyc_sock_abandon(const void *p);

#define PYC_REDIAL_MS 2000 /* no pipe for this long: dial afresh */
/* nng 1.5.2 also leaks a pipe still being set up when its socket closes
 * (with its dialer): a service about to close gives a dial that is
 * reaching its peer this long to finish. */
#define PYC_SETTLE_MS 200

typedef struct pyc_redial {
	nng_socket sock;
	nng_dialer dialer;
	char url[512];
	int after_ms;
	long long down_since_ms; /* 0 while a pipe is up */
	unsigned long restarts;  /* dialers started afresh */
} pyc_redial;

/* Dials url from s without blocking (as nng_dial with NNG_FLAG_NONBLOCK).
 * Returns 0 or nng's error. */
int pyc_redial_dial(pyc_redial *r, nng_socket s, const char *url, int after_ms);

/* From the owner's thread, with whether a pipe is up now and the
 * monotonic time: starts the dialer again if none has been up for
 * after_ms. Returns the milliseconds until it wants to be called again,
 * or -1 while a pipe is up. */
int pyc_redial_tick(pyc_redial *r, bool up, long long now_ms);

#endif /* PYC_SOCK_H */
