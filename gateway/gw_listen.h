/* gw_listen.h - the one public port (BACKEND_PORT): accepts, waits for
 * each connection's request head, and hands the connection whole to
 * libwebsockets (a WebSocket upgrade on /ws/audio) or to libmicrohttpd
 * (everything else).
 *
 * NOTES: its own thread accepts and waits; the head is only peeked at
 * (MSG_PEEK), so the library that gets the socket reads it from the
 * kernel as if it had accepted it. The wait is bounded: a head not
 * complete within HTTP_TIMEOUT_SECONDS is closed without an answer, and
 * one over GW_LISTEN_HEAD_MAX bytes is never handed to lws (MHD answers
 * it 414 or 431 and closes). Connection limits of this module (see gw_listen.c): HTTP_MAX_PER_IP
 * and HTTP_MAX_CONNECTIONS over connections waiting for their head and
 * HTTP connections, each counted once from accept to close; WebSocket
 * upgrades leave that count when handed to lws, which counts them against
 * MAX_SESSIONS and MAX_SESSIONS_PER_IP (gw_ws.c).
 */
#ifndef GW_LISTEN_H
#define GW_LISTEN_H

#include "gw_http.h"
#include "gw_ws.h"
#include "pyc_config.h"
#include "pyc_err.h"

#define GW_LISTEN_HEAD_MAX 8192 /* request head bytes at most */

typedef struct gw_listen gw_listen;

/* Listens on BIND_ADDRESS:BACKEND_PORT and starts the accepting thread.
 * cfg, ws and http must outlive it. On success *out belongs to the caller
 * (gw_listen_stop, then gw_http_destroy, then gw_listen_destroy). */
pyc_err gw_listen_create(gw_listen **out, const pyc_config *cfg, gw_ws *ws, gw_http *http);

/* Closes the listening socket and every connection still waiting for its
 * head, and joins the thread; connections already handed over stay with
 * their library. Accepts NULL; idempotent. */
void gw_listen_stop(gw_listen *l);

/* Stops (if not yet) and frees. Every connection handed to MHD must be
 * closed first (gw_http_destroy): their release would use l. Accepts NULL. */
void gw_listen_destroy(gw_listen *l);

/* Connections counted now (waiting for their head, and HTTP); for tests
 * and metrics. */
int gw_listen_count(gw_listen *l);

#endif /* GW_LISTEN_H */
