/* gw_workers.h - the gateway's side of the workers socket: hosts, idle
 * workers, leases, and sending to a session's worker.
 *
 * NOTES: docs/wire.md has the gateway listen at WORKER_LISTEN_URL on an
 * nng pair1 polyamorous socket (every dsp-worker host and worker process
 * dials it). Messages arrive on nng's threads; they are handed to the lws
 * thread through a mutex-protected bounded queue and lws_cancel_service,
 * and everything reported to ops runs on the lws thread. nng's
 * polyamorous mode keeps two messages queued per pipe and drops what does
 * not fit, so callers must keep at most GW_PIPE_WINDOW messages
 * unacknowledged per pipe (gw_sessions.c does, docs/wire.md "Flow
 * control"); to move more than two messages per round trip it sends
 * batches (PYC_MSG_BATCH), each one nng message.
 */
#ifndef GW_WORKERS_H
#define GW_WORKERS_H

#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "pyc_wire.h"

/* nng 1.5.2's pair1 polyamorous socket gives each pipe a send queue of 2
 * messages (pair1_poly.c: nni_msgq_init(&p->send_queue, 2)) and drops a
 * message that does not fit (nni_msgq_tryput). At most this many
 * messages to one worker may be unacknowledged at any time. */
#define GW_PIPE_WINDOW 2

/* Worker messages waiting for the lws thread; when full, nng is not asked
 * for more until the lws thread has drained half (back-pressure through
 * nng to the workers; nothing is dropped). */
#define GW_WORKERS_RECV_QUEUE 4096

/* nng's send buffer of the socket (its maximum): sends from the lws
 * thread are non-blocking and must not find it full. */
#define GW_WORKERS_SENDBUF 8192

typedef struct gw_workers gw_workers;
struct gw_ws;

typedef struct gw_workers_ops {
	/* A message from pipe (not a hello). The callee owns msg; m is
	 * decoded from it. */
	void (*msg)(void *arg, uint32_t pipe, nng_msg *msg, const pyc_wire_msg *m);
	/* pipe went away (a host, an idle worker, or a leased worker). */
	void (*gone)(void *arg, uint32_t pipe);
} gw_workers_ops;

/* Listens at url (ipc://PATH, tcp://HOST:PORT, ...) with nng; messages
 * and removals are reported to ops with arg on ws's lws thread. On
 * success *out belongs to the caller (gw_workers_destroy). */
pyc_err gw_workers_create(gw_workers **out, const char *url, struct gw_ws *ws,
    const gw_workers_ops *ops, void *arg);

/* Shutdown, step 1: closes the socket (every worker sees the gateway go)
 * and from now on nothing is reported to ops. */
void gw_workers_stop(gw_workers *w);

/* Shutdown, step 2, after the lws context is gone: frees what is left.
 * Accepts NULL. */
void gw_workers_destroy(gw_workers *w);

/* Takes an idle worker of the host with the most free capacity.
 * PYC_EAGAIN if there is none. The pipe stays leased until
 * gw_workers_release or until it goes away. */
pyc_err gw_workers_lease(gw_workers *w, uint32_t *pipe);

/* The session is done with a leased pipe. */
void gw_workers_release(gw_workers *w, uint32_t pipe);

/* The session gives up on a leased pipe whose worker stopped answering:
 * releases it and closes it, so that worker ends its session (or, stopped
 * for good, is left to its host). Its removal, reported later, finds no
 * session. */
void gw_workers_drop(gw_workers *w, uint32_t pipe);

/* Sends msg to pipe without blocking. On PYC_OK nng owns msg; on error
 * it stays with the caller: PYC_EAGAIN if nng's send buffer is full (try
 * again later), PYC_ECLOSED if the pipe is gone. The caller keeps to
 * GW_PIPE_WINDOW. */
pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg);

/* Tells every connected host that the gateway is stopping (gateway_bye),
 * so no host hands nng a hello while the gateway closes the pipe (nng
 * 1.5.2 would never free it). Called once, before the sessions end. */
void gw_workers_bye(gw_workers *w);

#endif /* GW_WORKERS_H */
