/* fuzz_gw_fakes.h - the gateway's session registry (gw_sessions.c, the real
 * one) driven without lws or nng sockets: fake connections, a fake worker
 * pool and a fake recorder, with the checks of the contract between them.
 *
 * NOTES: gw_sessions.c talks to the rest of the gateway only through
 * gw_workers.h (lease, release, drop, send), gw_ws.h (gw_conn_*) and
 * gw_recorder_session_ended. fuzz_gw_fakes.c defines those functions, so a
 * fuzz target links gw_sessions.c, gw_proto.c and gw_metrics.c unchanged
 * and plays the client and the worker itself (the fz_gw_* calls below,
 * mirroring what gw_ws.c and gw_workers.c would do). The fakes check, at
 * every call, what docs/wire.md promises a worker: every message decodes,
 * carries the session's id, starts with session_open on a fresh worker,
 * has a batch that pyc_batch_check accepts and parameters the worker's
 * pyc_params_get accepts, nothing follows session_close, and no more than
 * GW_PIPE_WINDOW messages are ever unanswered on one worker (nng would drop
 * the next one). A connection the registry dropped is freed at once, so
 * any later use of it is a use-after-free under ASan. fz_gw_end shuts the
 * registry down, lets the worker answer everything and checks that every
 * session ended.
 */
#ifndef FUZZ_GW_FAKES_H
#define FUZZ_GW_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyc_config.h"
#include "pyc_wire.h"

#define FZ_SID "fuzz-session_0001"

/* One item a worker received (a message, or one item of a batch). */
typedef struct fz_item {
	uint32_t pipe;
	uint8_t type;
	uint64_t seq;
	const uint8_t *payload; /* valid during the call */
	size_t len;
} fz_item;

/* Optional hooks of a target (NULL: none). on_item sees every item the
 * worker gets, in order; meter writes the JSON of the meter completing
 * audio item seq into buf (cap bytes) and returns its length (0: answer
 * with an ack instead). */
typedef struct fz_gw_hooks {
	void (*on_item)(const fz_item *it, void *arg);
	size_t (*meter)(uint32_t pipe, uint64_t seq, char *buf, size_t cap, void *arg);
	void *arg;
} fz_gw_hooks;

/* Starts a registry with the default configuration (session_grace_s as
 * given), idle workers in the pool, and one connection for FZ_SID. */
void fz_gw_begin(int grace_s, int idle, const fz_gw_hooks *hooks);

/* The client: a text or a binary message (ignored, as gw_ws.c does, while
 * no session is attached or the connection is closing). */
void fz_gw_text(const char *text, size_t len);
void fz_gw_audio(const uint8_t *data, size_t len);

/* The client's connection drops (detach), or a new one arrives for FZ_SID
 * (taking the session over from a live one). */
void fz_gw_detach(void);
void fz_gw_attach(void);

/* The pool: n more idle workers may be leased. */
void fz_gw_offer(int n);

/* The current worker: answers the oldest unanswered message, a batch once
 * (false if none); sends an event or a monitor frame (payload as given),
 * session_closed unasked, or dies. */
bool fz_gw_complete(void);
void fz_gw_event(const uint8_t *p, size_t n);
void fz_gw_monitor(const uint8_t *p, size_t n);
void fz_gw_closed(void);
void fz_gw_gone(void);

/* nng's send buffer is full (sends fail with PYC_EAGAIN) or not. */
void fz_gw_eagain(bool on);

/* The registry's timer. */
void fz_gw_tick(void);

/* Ends every session, lets the workers answer, checks that every session
 * is gone and that nothing leaked, and frees the registry. */
void fz_gw_end(void);

#endif /* FUZZ_GW_FAKES_H */
