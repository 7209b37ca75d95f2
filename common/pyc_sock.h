/* pyc_sock.h - nng socket helpers shared by the services.
 *
 * NOTES: nng 1.5.2 (Debian 12) can hang in nng_close when a socket is
 * closed while pipes are going away (nanomsg/nng#1543, fixed after 1.5.2).
 * A service that closes its sockets on the way out must not hang there:
 * pyc_sock_close_bounded closes on a helper thread and waits at most the
 * given time.
 */
#ifndef PYC_SOCK_H
#define PYC_SOCK_H

#include <stdbool.h>

#include <nng/nng.h>

/* Closes s, waiting at most timeout_ms. Returns true if the close
 * finished; false if it is still running on its thread (then the caller
 * must not free anything nng's callbacks of s may still use, and should
 * just exit). */
bool pyc_sock_close_bounded(nng_socket s, int timeout_ms);

/* Marks p (heap memory deliberately left to a hung close's threads) as
 * not a leak for LeakSanitizer; does nothing in other builds. */
void pyc_sock_abandon(const void *p);

#endif /* PYC_SOCK_H */
