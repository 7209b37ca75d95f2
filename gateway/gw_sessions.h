/* gw_sessions.h - the session registry: which session is connected, which
 * worker serves it, its parameters, its grace timer, its flow control.
 *
 * NOTES: a session is named by its id and outlives its connection: when
 * the connection drops the session keeps its worker, parameters and any
 * recording for SESSION_GRACE_SECONDS, so a reconnect resumes it; a
 * second connection takes it over. The registry runs on the lws thread
 * only (gw_ws.c calls in; gw_workers_drain calls back here), so nothing
 * here takes a lock. Worker messages are routed by session id and checked
 * against the session's current pipe, so a dead worker's late messages
 * are ignored.
 *
 * Flow control: every message for the worker (commands and audio, in the
 * client's order) goes through the session's queue; at most
 * GW_PIPE_WINDOW nng messages are sent and not yet answered by the
 * worker (a meter or an ack, docs/wire.md); each may be a batch of up to
 * PYC_BATCH_MAX_ITEMS queued messages, answered once. When the queue holds GW_WINDOW_CHUNKS
 * messages or GW_WINDOW_BYTES bytes the client's reads are paused; paused
 * longer than a bound, the client gets too_fast and its audio is dropped
 * until the queue is half empty.
 */
#ifndef GW_SESSIONS_H
#define GW_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_config.h"
#include "pyc_err.h"

#define GW_WINDOW_CHUNKS 64           /* messages queued before reads pause */
#define GW_WINDOW_BYTES (128 * 1024)  /* bytes queued before reads pause */
#define GW_OUT_QUEUE 256              /* messages queued for the worker at most */
#define GW_OUT_QUEUE_AUDIO 192        /* audio is dropped beyond (room for commands) */
#define GW_PAUSE_MAX_US 2000000       /* paused longer than this: too_fast */
#define GW_LEASE_WAIT_US 10000000     /* how long a session waits for a worker */
#define GW_PENDING_EVENTS 64          /* events kept for a session in grace */
#define GW_TICK_US 50000              /* registry timer period */
#define GW_LIST_PERIOD_US 1000000     /* the session list is rewritten at most this often */

typedef struct gw_sessions gw_sessions;
typedef struct gw_session gw_session;
struct gw_conn;
struct gw_ws;
struct gw_workers;
struct gw_recorder;
struct gw_workers_ops;

/* Monotonic clock in microseconds. */
int64_t gw_now_us(void);

/* Creates an empty registry. cfg and rec must outlive it. */
pyc_err gw_sessions_create(gw_sessions **out, const pyc_config *cfg,
    struct gw_recorder *rec);

/* Connects the registry to the worker pool and the WebSocket side. */
void gw_sessions_set_io(gw_sessions *r, struct gw_workers *w, struct gw_ws *ws);

/* Keeps the ids of the registered sessions in the file at path, one per
 * line, rewritten when sessions came or went, at most once per
 * GW_LIST_PERIOD_US (a churn of sessions costs one write a second; a
 * session younger than that may be missing after a kill). A gateway that
 * is killed leaves its sessions there: the next one, started with the same
 * path, registers each id found (valid, at most MAX_SESSIONS) as a session
 * whose client is away, without a worker: it ends after
 * SESSION_GRACE_SECONDS, and the recorder is told (session_ended), unless
 * a client connects for it first and gets a fresh worker. Without this
 * their recordings would never be cleaned up. */
pyc_err gw_sessions_keep_list(gw_sessions *r, const char *path);

/* Frees every session (without telling anyone) and the registry; removes
 * the session list if no session is left. */
void gw_sessions_destroy(gw_sessions *r);

/* A connection for sid was established: resumes the session (taking it
 * over from another connection, which is closed with 4001) or creates it
 * and leases a worker. NULL if the session limit is reached or memory ran
 * out (the caller closes the connection). */
gw_session *gw_sessions_attach(gw_sessions *r, const char *sid, struct gw_conn *c);

/* Connection c of s closed: start the grace period (or end at once). */
void gw_sessions_detach(gw_sessions *r, gw_session *s, struct gw_conn *c);

/* A complete text message from the client. */
void gw_sessions_text(gw_sessions *r, gw_session *s, const char *text, size_t len);

/* A complete binary message from the client. */
void gw_sessions_audio(gw_sessions *r, gw_session *s, const uint8_t *data, size_t len);

/* What gw_workers reports to: worker messages and pipes gone, with the
 * registry as the argument. */
const struct gw_workers_ops *gw_sessions_worker_ops(void);

/* Timers: grace ends, close timeouts, lease retries, pause bounds. */
void gw_sessions_tick(gw_sessions *r);

/* Shutdown: closes every connection (1001) and ends every session. */
void gw_sessions_end_all(gw_sessions *r);

/* Sessions in the registry (connected, in grace or closing). */
int gw_sessions_count(gw_sessions *r);

#endif /* GW_SESSIONS_H */
