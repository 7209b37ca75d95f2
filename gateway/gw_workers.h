/* gw_workers.h - the gateway's side of the workers socket: hosts, idle
 * workers, leases, and the hand-over of worker messages to the lws thread.
 *
 * NOTES: one pair1 polyamorous socket listens at WORKER_LISTEN_URL; every
 * dsp-worker host and every worker process dials it (docs/wire.md). A
 * receive thread takes messages off the socket and a pipe-notify callback
 * sees pipes go; both put what they got in a bounded, mutex-protected
 * queue and wake the lws thread (the wake function, lws_cancel_service).
 * The lws thread calls gw_workers_drain: host_hello and worker_hello keep
 * the pool here; every other message, and every pipe that went away, is
 * passed to the caller's functions. The pool itself (hosts, idle workers,
 * leases) is touched only by the lws thread; the counters it publishes
 * for /health and /metrics are atomics (gw_metrics.h).
 *
 * pair1 polyamorous keeps only two messages queued per pipe inside nng
 * and drops the rest, so the gateway sends at most GW_WORKERS_BURST
 * messages to one pipe at a time and paces the rest (gw_sessions.c).
 */
#ifndef GW_WORKERS_H
#define GW_WORKERS_H

#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "pyc_wire.h"

#define GW_WORKERS_BURST 2

typedef struct gw_workers gw_workers;

typedef struct gw_workers_ops {
	/* A message from pipe (not a hello). The callee owns msg; m is
	 * decoded from it. */
	void (*msg)(void *arg, uint32_t pipe, nng_msg *msg, const pyc_wire_msg *m);
	/* pipe went away (a host, an idle worker, or a leased worker). */
	void (*gone)(void *arg, uint32_t pipe);
} gw_workers_ops;

/* Listens at url and starts the receive thread. wake(wake_arg) is called
 * from nng threads when the queue becomes non-empty. On success *out
 * belongs to the caller (gw_workers_destroy). */
pyc_err gw_workers_create(gw_workers **out, const char *url,
    void (*wake)(void *), void *wake_arg);

/* Closes the socket, joins the thread, frees queued messages. Accepts NULL. */
void gw_workers_destroy(gw_workers *w);

/* lws thread: handles everything queued so far. */
void gw_workers_drain(gw_workers *w, const gw_workers_ops *ops, void *arg);

/* lws thread: takes an idle worker of the host with the most free capacity.
 * PYC_EAGAIN if there is none. The pipe stays leased until
 * gw_workers_release or until it goes away. */
pyc_err gw_workers_lease(gw_workers *w, uint32_t *pipe);

/* lws thread: the session is done with a leased pipe. */
void gw_workers_release(gw_workers *w, uint32_t pipe);

/* Sends msg to pipe. On PYC_OK nng owns msg; on error the caller does. */
pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg);

/* Messages nng dropped on the way to a worker (pair1 tx_drop statistic);
 * 0 if statistics are not available. Any thread. */
uint64_t gw_workers_tx_drops(gw_workers *w);

#endif /* GW_WORKERS_H */
