/* gw_ws.h - the public WebSocket endpoint (libwebsockets): /ws/audio.
 *
 * NOTES: one lws context, served by the main thread. The upgrade is
 * filtered in LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION (path, Origin,
 * connection limits; not LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, see
 * CVE-2025-11677), messages are reassembled under a byte and a fragment
 * cap, and everything going out is written in LWS_CALLBACK_SERVER_WRITEABLE
 * from per-connection queues: events (never dropped, bounded), the newest
 * meter and the newest monitor frame (older ones are dropped and counted).
 * lws is included by gw_ws.c only.
 */
#ifndef GW_WS_H
#define GW_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "gw_sessions.h"
#include "pyc_config.h"
#include "pyc_err.h"

#define GW_WS_EVENT_QUEUE 256  /* events queued per connection before 1008 */
#define GW_WS_MAX_FRAGMENTS 256 /* WebSocket frames in one message at most */
#define GW_WS_PING_MAX_US 20000000 /* idle clients are pinged at least this often */
#define GW_HTTP_TOO_MANY_REQUESTS 429 /* upgrade refused: MAX_SESSIONS_PER_IP */
#define GW_WS_ADOPT_QUEUE 256  /* sockets from the shared port waiting for the loop */

typedef struct gw_ws gw_ws;
typedef struct gw_conn gw_conn;

/* Creates the lws context: without a listening socket (gw_ws_adopt gives
 * it connections), or listening on cfg->ws_port too when that is set (not
 * 0). cfg and reg must outlive it. On success *out belongs to the caller
 * (gw_ws_destroy). */
pyc_err gw_ws_create(gw_ws **out, const pyc_config *cfg, gw_sessions *reg);

/* Destroys the context (closing every connection). Accepts NULL. */
void gw_ws_destroy(gw_ws *ws);

/* One pass of the event loop; returns when something was handled or a
 * timer fired (at least every GW_TICK_US). */
void gw_ws_service(gw_ws *ws);

/* Live connections. */
int gw_ws_connections(gw_ws *ws);

/* Any thread: lws takes fd, an accepted socket whose request head (a
 * WebSocket upgrade) is still unread, on its thread soon (the connection
 * limits are applied in the upgrade, as for any). Takes fd in every case
 * (closed if GW_WS_ADOPT_QUEUE sockets are already waiting). */
void gw_ws_adopt(gw_ws *ws, int fd);

/* ---- waking the loop from another thread (the worker socket) ---- */

/* fn(arg) runs on the lws thread after gw_ws_wake (in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED); NULL stops it. Call on the lws
 * thread or before the loop runs. */
void gw_ws_set_wake(gw_ws *ws, void (*fn)(void *arg), void *arg);

/* Any thread: makes the loop call the wake function soon
 * (lws_cancel_service). */
void gw_ws_wake(gw_ws *ws);

/* ---- used by the registry, on the lws thread ---- */

/* Queues a text event (copied). If the connection's event queue is full
 * the connection is closed with 1008 and PYC_EAGAIN returned. */
pyc_err gw_conn_send_event(gw_conn *c, const char *json, size_t len);

/* Queues a worker event held in msg (data/len point into it); takes msg
 * in every case. */
pyc_err gw_conn_send_event_msg(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len);

/* Replaces the pending meter (the older one is dropped and counted);
 * takes msg. */
void gw_conn_send_meter(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len);

/* Replaces the pending monitor frame (binary); takes msg. */
void gw_conn_send_monitor(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len);

/* Closes the connection with code and reason once pending writes allow. */
void gw_conn_close(gw_conn *c, int code, const char *reason);

/* Pauses (true) or resumes reading from the client. */
void gw_conn_rx_pause(gw_conn *c, bool pause);

/* The registry forgot the connection's session (taken over or ended). */
void gw_conn_session_lost(gw_conn *c);

#endif /* GW_WS_H */
