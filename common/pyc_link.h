/* pyc_link.h - ordered message links over nng's byte-stream API: the
 * channels of the audio path (docs/wire.md, "Links").
 *
 * NOTES: a link is one nng_stream (ipc:// or tcp://) carrying messages,
 * each a 4-byte little-endian length and that many bytes (a pyc_wire
 * envelope). The length is checked against the link's maximum before
 * anything is allocated; a length of 0 or over the maximum is a protocol
 * error that closes the link. This is the only module that holds nng
 * stream and aio code; nng_msg stays the buffer type.
 *
 * Receiving: one read fills a buffer of PYC_LINK_RBUF bytes; every whole
 * message in it is handed to ops->msg in order, then ops->flush is called
 * once (so an owner that hands messages to another thread wakes it once
 * per read, not once per message). A message larger than the buffer is
 * read straight into its own nng_msg. pyc_link_pause stops reading after
 * the current read (back-pressure through the kernel to the peer);
 * pyc_link_resume starts again.
 *
 * Sending: a bounded queue per link (PYC_LINK_SENDQ_MSGS messages,
 * PYC_LINK_SENDQ_BYTES bytes); pyc_link_send says PYC_EAGAIN when it is
 * full and never drops anything. Queued messages go out several per write
 * (scatter/gather).
 *
 * Ends: ops->down is called exactly once per link, after its last
 * ops->msg, whatever ended it (the peer, an error, a bad length,
 * pyc_link_close). Callbacks run on nng's threads, never two at once for
 * one link's receive side; none of them may call pyc_link_destroy on
 * their own link. pyc_link_destroy is bounded: it closes the stream
 * (which aborts pending I/O) and waits for running callbacks.
 */
#ifndef PYC_LINK_H
#define PYC_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"

#define PYC_LINK_RBUF 65536u               /* read buffer per link */
#define PYC_LINK_SENDQ_MSGS 4096u          /* messages queued per link at most */
#define PYC_LINK_SENDQ_BYTES (16u << 20)   /* bytes queued per link at most */
#define PYC_LINK_REDIAL_MIN_MS 10          /* first redial delay */
#define PYC_LINK_REDIAL_MAX_MS 1000        /* longest redial delay */

typedef struct pyc_link pyc_link;
typedef struct pyc_link_listener pyc_link_listener;
typedef struct pyc_link_dialer pyc_link_dialer;
typedef struct pyc_link_inbox pyc_link_inbox;

typedef struct pyc_link_ops {
	/* The link is up (accepted, or dialled); called before its first
	 * message. May be NULL. */
	void (*up)(void *arg, pyc_link *l);
	/* One whole message; the callee owns m. */
	void (*msg)(void *arg, pyc_link *l, nng_msg *m);
	/* After the messages of one read. May be NULL. */
	void (*flush)(void *arg, pyc_link *l);
	/* The link ended (once, after its last message): PYC_ECLOSED when
	 * the peer or pyc_link_close closed it, PYC_EPROTO for a bad length,
	 * PYC_ENOMEM, PYC_EIO. */
	void (*down)(void *arg, pyc_link *l, pyc_err why);
} pyc_link_ops;

/* ---- a link ---- */

/* A number unique among this process's links (never 0). */
uint32_t pyc_link_id(const pyc_link *l);

/* The owner's pointer, NULL until set. */
void pyc_link_set_user(pyc_link *l, void *user);
void *pyc_link_user(const pyc_link *l);

/* Queues m. On PYC_OK the link owns m; on error it stays with the caller:
 * PYC_EAGAIN when the send queue is full, PYC_ECLOSED once the link is
 * closing. Any thread. */
pyc_err pyc_link_send(pyc_link *l, nng_msg *m);

/* As pyc_link_send, waiting up to timeout_ms for room (PYC_ETIMEDOUT). */
pyc_err pyc_link_send_wait(pyc_link *l, nng_msg *m, int timeout_ms);

/* Messages waiting to be written (queued and being written). */
size_t pyc_link_queued(pyc_link *l);

/* Stops reading after the current read / reads again. Any thread. */
void pyc_link_pause(pyc_link *l);
void pyc_link_resume(pyc_link *l);

/* Starts closing: pending I/O is aborted, ops->down follows. Any thread,
 * callbacks included. */
void pyc_link_close(pyc_link *l);

/* Closes, waits for running callbacks, frees everything (unsent messages
 * too). No callback of l runs after it returns. Accepts NULL. Not from a
 * callback of l. Links of a dialer are freed by the dialer. */
void pyc_link_destroy(pyc_link *l);

/* ---- accepting links ---- */

/* Listens at url (ipc://PATH or tcp://HOST:PORT). Each accepted link gets
 * ops with arg (ops->up first) and belongs to the owner, who frees it with
 * pyc_link_destroy after its ops->down. max_msg bounds one message. */
pyc_err pyc_link_listen(pyc_link_listener **out, const char *url, size_t max_msg,
    const pyc_link_ops *ops, void *arg);

/* Stops accepting (links already accepted are not touched). Accepts NULL. */
void pyc_link_listener_destroy(pyc_link_listener *ls);

/* ---- dialling a link, again after each end ---- */

/* Dials url without blocking; when a link ends (ops->down) or a dial
 * fails, dials again after PYC_LINK_REDIAL_MIN_MS, doubling up to
 * PYC_LINK_REDIAL_MAX_MS while dials fail. The dialer owns its links. */
pyc_err pyc_link_dial(pyc_link_dialer **out, const char *url, size_t max_msg,
    const pyc_link_ops *ops, void *arg);

/* As pyc_link_send on the dialer's current link; PYC_ECLOSED if none is
 * up. */
pyc_err pyc_link_dialer_send(pyc_link_dialer *d, nng_msg *m);

/* As pyc_link_dialer_send, waiting up to timeout_ms for room and for a
 * link that is up (PYC_ETIMEDOUT). */
pyc_err pyc_link_dialer_send_wait(pyc_link_dialer *d, nng_msg *m, int timeout_ms);

/* Whether a link is up now, and how many links it has had. */
bool pyc_link_dialer_up(pyc_link_dialer *d);
unsigned long pyc_link_dialer_links(pyc_link_dialer *d);

/* Closes the current link (ops->down follows) and dials again. */
void pyc_link_dialer_reset(pyc_link_dialer *d);

/* Stops dialling and frees the dialer and its link. Not from a callback
 * of its links. Accepts NULL. */
void pyc_link_dialer_destroy(pyc_link_dialer *d);

/* One dial to url, closed at once: PYC_OK if something listens there
 * (for health checks), PYC_ETIMEDOUT after timeout_ms, or the error. */
pyc_err pyc_link_probe(const char *url, int timeout_ms);

/* ---- an inbox: links' events as a queue with a pollable descriptor ---- */

typedef enum pyc_link_ev_kind {
	PYC_LINK_EV_UP = 1,
	PYC_LINK_EV_MSG,
	PYC_LINK_EV_DOWN,
} pyc_link_ev_kind;

typedef struct pyc_link_event {
	pyc_link_ev_kind kind;
	pyc_link *link; /* valid until the owner frees it after EV_DOWN */
	uint32_t id;    /* pyc_link_id */
	nng_msg *msg;   /* EV_MSG: belongs to whoever popped it */
	pyc_err why;    /* EV_DOWN */
} pyc_link_event;

/* An inbox for owners that run their own poll loop. Give it as ops and
 * arg (pyc_link_inbox_ops(), the inbox) to listeners and dialers. While
 * more than max_msgs messages wait, the links that deliver are paused;
 * they read again when half is taken. */
pyc_err pyc_link_inbox_create(pyc_link_inbox **out, size_t max_msgs);
const pyc_link_ops *pyc_link_inbox_ops(void);

/* Readable while events wait. */
int pyc_link_inbox_fd(pyc_link_inbox *ib);

/* Takes the oldest event: true, or false when none waits (pop) or none
 * came within timeout_ms (wait). */
bool pyc_link_inbox_pop(pyc_link_inbox *ib, pyc_link_event *ev);
bool pyc_link_inbox_wait(pyc_link_inbox *ib, pyc_link_event *ev, int timeout_ms);

/* Frees the inbox and the messages still in it. Its links must be gone
 * (destroyed) first. Accepts NULL. */
void pyc_link_inbox_destroy(pyc_link_inbox *ib);

/* ---- framing: what a link's read side does, for the fuzz target ---- */

typedef struct pyc_link_reader pyc_link_reader;

/* A reader of messages of at most max_msg bytes with a read buffer of cap
 * bytes (a link's is PYC_LINK_RBUF; larger messages are read into their
 * own buffer). Freed with _destroy (accepts NULL). */
pyc_err pyc_link_reader_create(pyc_link_reader **out, size_t max_msg, size_t cap);
void pyc_link_reader_destroy(pyc_link_reader *r);

/* Where the next read goes (never empty while the reader is usable). */
void pyc_link_reader_space(pyc_link_reader *r, void **buf, size_t *len);

/* n bytes were read into that space: each whole message goes to fn
 * (which owns it), in order; *delivered is non-zero if any did. PYC_OK,
 * or PYC_EPROTO at a length of 0 or over max_msg, PYC_ENOMEM: the reader
 * is then done. */
pyc_err pyc_link_reader_got(pyc_link_reader *r, size_t n,
    void (*fn)(void *arg, nng_msg *m), void *arg, size_t *delivered);


/* Splits buf[0..len) as a link reads it: calls fn for each whole message
 * (data, size) and returns PYC_OK with *used the bytes consumed (a
 * trailing partial message is left), or PYC_EPROTO at the first length
 * of 0 or over max_msg. */
pyc_err pyc_link_frames(const uint8_t *buf, size_t len, size_t max_msg, size_t *used,
    void (*fn)(void *arg, const uint8_t *data, size_t size), void *arg);

#endif /* PYC_LINK_H */
