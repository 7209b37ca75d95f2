/* gw_http.h - the public HTTP API (libmicrohttpd): health, recordings,
 * OpenAPI, docs, metrics, CORS, and the dashboard's files in local mode.
 *
 * NOTES: MHD runs its own threads (one per connection, under an explicit
 * connection limit, timeout and memory limit; MHD's defaults are "no
 * limit"; the per-address limit is counted by gw_listen.c). Handlers
 * never touch lws state: they ask the recorder over its control socket
 * (gw_recorder, bounded by REQUEST_TIMEOUT_MS) and read the shared counters (gw_metrics). Every
 * error is JSON {"detail": ...} with the status the earlier FastAPI
 * version gave. MHD is included by gw_http.c only.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <sys/socket.h>

#include "gw_recorder.h"
#include "pyc_config.h"
#include "pyc_err.h"

typedef struct gw_http gw_http;

/* Starts the HTTP daemon, without a listening socket of its own
 * (gw_http_adopt gives it connections). cfg and rec must outlive it. On
 * success *out belongs to the caller (gw_http_destroy). */
pyc_err gw_http_create(gw_http **out, const pyc_config *cfg, gw_recorder *rec);

/* Any thread: hands MHD an accepted socket (its request head unread),
 * peer address sa. Takes fd in every case; closed(arg) is called exactly
 * once, when the connection is closed (before returning if MHD refused
 * it: PYC_EBUSY over HTTP_MAX_CONNECTIONS, or out of memory). */
pyc_err gw_http_adopt(gw_http *h, int fd, const struct sockaddr *sa, socklen_t len,
    void (*closed)(void *arg), void *arg);

/* Stops the daemon (waits for its threads) and frees. Accepts NULL. */
void gw_http_destroy(gw_http *h);

#endif /* GW_HTTP_H */
