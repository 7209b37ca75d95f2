/* gw_workers.h - the gateway's side of the workers socket: hosts, idle
 * workers, leases, and the ordered channel to each session's worker.
 *
 * NOTES: docs/wire.md has the gateway listen at WORKER_LISTEN_URL for
 * pair1 peers (every dsp-worker host and worker process dials it). The
 * gateway speaks that wire itself instead of through an nng pair1
 * polyamorous socket: nng's polyamorous mode keeps two messages queued per
 * pipe and silently drops the rest, which loses audio chunks whenever a
 * worker's pipe is a little slow (seen in the whole-system tests). Here
 * each peer connection has its own unbounded, ordered send queue written
 * as the socket accepts it, so nothing is dropped; a connection whose
 * queue grows past GW_WORKERS_MAX_QUEUED bytes is closed as broken. The
 * bytes on the wire are those of nng's pair1 over ipc:// or tcp:// (SP
 * header exchange, length-prefixed frames, the pair1 hop-count header),
 * so the peers keep using nng unchanged.
 *
 * Everything runs on the lws thread: the listening socket and every peer
 * connection are descriptors served by the lws loop (gw_ws_adopt), and
 * messages are handed to the registry as they are read: no thread, no
 * queue, no wake-up between receiving and forwarding.
 */
#ifndef GW_WORKERS_H
#define GW_WORKERS_H

#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "pyc_wire.h"

#define GW_WORKERS_MAX_QUEUED (64u * 1024u * 1024u)

typedef struct gw_workers gw_workers;
struct gw_ws;

typedef struct gw_workers_ops {
	/* A message from pipe (not a hello). The callee owns msg; m is
	 * decoded from it. */
	void (*msg)(void *arg, uint32_t pipe, nng_msg *msg, const pyc_wire_msg *m);
	/* pipe went away (a host, an idle worker, or a leased worker). */
	void (*gone)(void *arg, uint32_t pipe);
} gw_workers_ops;

/* Listens at url (ipc://PATH, tcp://HOST:PORT, tcp4://, tcp6://) in ws's
 * loop; messages and removals go to ops with arg. On success *out belongs
 * to the caller (gw_workers_destroy). */
pyc_err gw_workers_create(gw_workers **out, const char *url, struct gw_ws *ws,
    const gw_workers_ops *ops, void *arg);

/* Shutdown, step 1: from now on nothing is reported to ops (the lws
 * context is about to close every descriptor). */
void gw_workers_stop(gw_workers *w);

/* Shutdown, step 2, after the lws context is gone: frees what is left
 * and removes the ipc socket file. Accepts NULL. */
void gw_workers_destroy(gw_workers *w);

/* Takes an idle worker of the host with the most free capacity.
 * PYC_EAGAIN if there is none. The pipe stays leased until
 * gw_workers_release or until it goes away. */
pyc_err gw_workers_lease(gw_workers *w, uint32_t *pipe);

/* The session is done with a leased pipe. */
void gw_workers_release(gw_workers *w, uint32_t pipe);

/* Queues msg for pipe, in order. The message is freed in every case
 * (PYC_ECLOSED if the pipe is gone). */
pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg);

#endif /* GW_WORKERS_H */
