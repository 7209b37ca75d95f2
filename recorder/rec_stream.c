/* rec_stream.c - decoding and dispatch of the workers' recording messages.
 *
 * NOTES: every message is untrusted: a bad envelope, a type that does not
 * belong on this socket, a truncated payload or an append without an open
 * recording each get a rec_error (or an error reply) on the sender's pipe
 * and a log line, rate-limited so a misbehaving worker cannot flood the
 * log. Append latency (receive -> queued) goes into a log-linear histogram
 * of atomics that the control thread reads for health. The pipe callback
 * runs on an nng thread and only notes the pipe; the loop finalises its
 * recordings after REC_PIPE_GRACE_MS, so the appends already received
 * from it are queued first.
 */
#include "rec_stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/pair1/pair.h>

#include "pyc_log.h"
#include "pyc_sock.h"
#include "pyc_wire.h"

#define HIST_SUB 8    /* sub-buckets per power of two */
#define HIST_BUCKETS (64 + HIST_SUB * 40)
#define DEAD_MAX 4096
#define LOG_PER_SEC 10
#define NOTREC_SLOTS 256
#define NOTREC_GAP_US 100000 /* one not_recording rec_error per pipe per 100 ms */

typedef struct dead_pipe {
	uint32_t id;
	int64_t at_us;
} dead_pipe;

typedef struct limiter {
	int64_t window_us;
	int count;
	uint64_t dropped;
} limiter;

struct rec_stream {
	nng_socket sock;
	int open;
	rec_table *table;
	rec_writer *writer;
	rec_db *db;
	pthread_mutex_t dead_mtx;
	dead_pipe dead[DEAD_MAX];
	size_t ndead;
	limiter lim;
	struct {
		uint32_t pipe;
		int64_t last_us;
	} notrec[NOTREC_SLOTS];
	atomic_uint_least64_t appends;
	atomic_uint_least64_t lat_max;
	atomic_uint_least64_t hist[HIST_BUCKETS];
};

/* ---- latency histogram ---- */

static size_t bucket_of(uint64_t v)
{
	if (v < 64)
		return (size_t) v;
	int lg = 63 - __builtin_clzll(v); /* >= 6 */
	size_t sub = (size_t) (v >> (lg - 3)) & (HIST_SUB - 1);
	size_t b = 64 + (size_t) (lg - 6) * HIST_SUB + sub;
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static uint64_t bucket_value(size_t b)
{
	if (b < 64)
		return b;
	size_t lg = (b - 64) / HIST_SUB + 6, sub = (b - 64) % HIST_SUB;
	return ((uint64_t) (HIST_SUB + sub)) << (lg - 3);
}

static void hist_add(rec_stream *s, uint64_t us)
{
	uint64_t m = atomic_load_explicit(&s->lat_max, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->hist[bucket_of(us)], 1, memory_order_relaxed);
	while (us > m && !atomic_compare_exchange_weak(&s->lat_max, &m, us))
		;
}

void rec_stream_stats_get(rec_stream *s, rec_stream_stats *out)
{
	uint64_t counts[HIST_BUCKETS], total = 0, acc = 0;
	int have50 = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		counts[i] = atomic_load_explicit(&s->hist[i], memory_order_relaxed);
		total += counts[i];
	}
	out->appends = atomic_load(&s->appends);
	out->lat_max_us = atomic_load(&s->lat_max);
	for (size_t i = 0; i < HIST_BUCKETS && total > 0; i++) {
		acc += counts[i];
		if (!have50 && acc * 2 >= total) {
			out->lat_p50_us = bucket_value(i);
			have50 = 1;
		}
		if (acc * 100 >= total * 99) {
			out->lat_p99_us = bucket_value(i);
			break;
		}
	}
}

/* ---- logging and error replies ---- */

static int may_log(rec_stream *s)
{
	int64_t now = rec_mono_us();
	if (now - s->lim.window_us >= 1000000) {
		if (s->lim.dropped > 0)
			pyc_log(PYC_LOG_WARN, "%llu more bad stream messages not logged",
			    (unsigned long long) s->lim.dropped);
		s->lim.window_us = now;
		s->lim.count = 0;
		s->lim.dropped = 0;
	}
	if (s->lim.count++ < LOG_PER_SEC)
		return 1;
	s->lim.dropped++;
	return 0;
}

static void reply_result(rec_stream *s, uint32_t pipe, unsigned type, unsigned flags,
    const char *sid, uint64_t seq, pyc_err status, const char *code, const char *msg)
{
	pyc_rec_result res;
	memset(&res, 0, sizeof(res));
	res.status = status;
	snprintf(res.code, sizeof(res.code), "%s", code);
	snprintf(res.message, sizeof(res.message), "%s", msg);
	rec_result_send(s->sock, pipe, type, flags, sid, seq, &res);
}

/* rec_error to the sender of a message that could not be carried out. */
static void bad(rec_stream *s, uint32_t pipe, const pyc_wire_msg *m, pyc_err status,
    const char *code, const char *why)
{
	if (may_log(s))
		pyc_log(PYC_LOG_WARN, "stream pipe %u: %s%s%s: %s", pipe,
		    m != NULL ? pyc_msg_type_name(m->type) : "message",
		    m != NULL && m->sid[0] ? " of session " : "", m != NULL ? m->sid : "", why);
	reply_result(s, pipe, PYC_MSG_REC_ERROR, 0, m != NULL ? m->sid : "",
	    m != NULL ? m->seq : 0, status, code, why);
}

/* ---- dead pipes ---- */

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	rec_stream *s = arg;
	if (ev != NNG_PIPE_EV_REM_POST)
		return;
	pthread_mutex_lock(&s->dead_mtx);
	if (s->ndead < DEAD_MAX) {
		s->dead[s->ndead].id = nng_pipe_id(p);
		s->dead[s->ndead].at_us = rec_mono_us();
		s->ndead++;
	}
	pthread_mutex_unlock(&s->dead_mtx);
}

static void reap_dead(rec_stream *s)
{
	rec_recording *recs[64];
	uint32_t ids[DEAD_MAX];
	size_t n = 0, k;
	int64_t now = rec_mono_us();

	pthread_mutex_lock(&s->dead_mtx);
	for (size_t i = 0; i < s->ndead;) {
		if (now - s->dead[i].at_us >= REC_PIPE_GRACE_MS * 1000) {
			ids[n++] = s->dead[i].id;
			s->dead[i] = s->dead[--s->ndead];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&s->dead_mtx);
	for (size_t i = 0; i < n; i++) {
		do {
			rec_table_lock(s->table);
			k = rec_table_take(s->table, ids[i], recs, 64);
			for (size_t j = 0; j < k; j++) {
				pyc_log(PYC_LOG_WARN, "worker pipe %u went away: finalising %s of"
				    " session %s", ids[i], recs[j]->filename, recs[j]->sid);
				rec_writer_stop(s->writer, recs[j], REC_STATE_RECOVERED, 0, 0, NULL);
			}
			rec_table_unlock(s->table);
		} while (k == 64);
	}
}

/* ---- messages ---- */

static void on_start(rec_stream *s, uint32_t pipe, const pyc_wire_msg *m)
{
	pyc_rec_start req;
	pyc_rec_result res;
	rec_recording *r, *old;

	if (pyc_rec_start_get(m->payload, m->payload_len, &req) != PYC_OK) {
		if (may_log(s))
			pyc_log(PYC_LOG_WARN, "rec_start of session %s: bad payload", m->sid);
		reply_result(s, pipe, PYC_MSG_REC_START, PYC_WIRE_F_REPLY, m->sid, m->seq,
		    PYC_EPROTO, "bad_request", "malformed rec_start payload");
		return;
	}
	if (m->sid[0] != '\0') {
		rec_table_lock(s->table);
		old = rec_table_find(s->table, m->sid);
		if (old != NULL && old->pipe_id == pipe) {
			rec_table_unlock(s->table);
			reply_result(s, pipe, PYC_MSG_REC_START, PYC_WIRE_F_REPLY, m->sid, m->seq,
			    PYC_EBUSY, "already_recording", "this session is already recording");
			return;
		}
		if (old != NULL) {
			/* A fresh worker took the session over before the old pipe's
			 * death was handled: finalise the old recording first. */
			rec_table_remove(s->table, old);
			pyc_log(PYC_LOG_WARN, "session %s moved to pipe %u: finalising %s",
			    m->sid, pipe, old->filename);
			rec_writer_stop(s->writer, old, REC_STATE_RECOVERED, 0, 0, NULL);
		}
		rec_table_unlock(s->table);
	}
	if (rec_writer_start(s->writer, s->db, m->sid, pipe, &req, &r, &res) != PYC_OK) {
		pyc_log(PYC_LOG_WARN, "rec_start of session %s refused: %s", m->sid, res.message);
	} else {
		rec_table_lock(s->table);
		rec_table_add(s->table, r);
		rec_table_unlock(s->table);
	}
	rec_result_send(s->sock, pipe, PYC_MSG_REC_START, PYC_WIRE_F_REPLY, m->sid, m->seq, &res);
}

/* Returns 1 if msg was handed to a writer. */
static int on_append(rec_stream *s, uint32_t pipe, const pyc_wire_msg *m, nng_msg *msg,
    int64_t t0)
{
	rec_recording *r;
	size_t len = m->payload_len, fb;
	pyc_err rv;

	rec_table_lock(s->table);
	r = m->sid[0] != '\0' ? rec_table_find(s->table, m->sid) : NULL;
	if (r == NULL || r->pipe_id != pipe) {
		int64_t now = rec_mono_us();
		size_t slot = pipe % NOTREC_SLOTS;
		rec_table_unlock(s->table);
		/* nng's polyamorous pair1 keeps two messages per pipe and drops
		 * the rest when a peer is not reading: a worker that keeps
		 * appending must not flood its pipe and push out a real reply. */
		if (s->notrec[slot].pipe == pipe && now - s->notrec[slot].last_us < NOTREC_GAP_US)
			return 0;
		s->notrec[slot].pipe = pipe;
		s->notrec[slot].last_us = now;
		bad(s, pipe, m, PYC_ENOENT, "not_recording", "append without an open recording");
		return 0;
	}
	fb = 2u * r->channels;
	if (len % fb != 0) {
		if (may_log(s))
			pyc_log(PYC_LOG_WARN, "rec_append of session %s: %zu bytes, trailing"
			    " partial frame dropped", m->sid, len);
		len -= len % fb;
	}
	if (len == 0) {
		rec_table_unlock(s->table);
		return 0;
	}
	rv = rec_writer_append(s->writer, r, msg, m->payload, len);
	if (rv == PYC_EAGAIN || rv == PYC_ENOMEM)
		rec_writer_fail(s->writer, r, PYC_EAGAIN,
		    "disk too slow: recording queue overflow");
	rec_table_unlock(s->table);
	if (rv != PYC_OK)
		return 0;
	atomic_fetch_add(&s->appends, 1);
	hist_add(s, (uint64_t) (rec_mono_us() - t0));
	return 1;
}

static void on_stop(rec_stream *s, uint32_t pipe, const pyc_wire_msg *m)
{
	rec_recording *r;

	if (m->payload_len != 0) {
		reply_result(s, pipe, PYC_MSG_REC_STOP, PYC_WIRE_F_REPLY, m->sid, m->seq,
		    PYC_EPROTO, "bad_request", "rec_stop carries no payload");
		return;
	}
	rec_table_lock(s->table);
	r = m->sid[0] != '\0' ? rec_table_find(s->table, m->sid) : NULL;
	if (r == NULL || r->pipe_id != pipe) {
		rec_table_unlock(s->table);
		if (may_log(s))
			pyc_log(PYC_LOG_WARN, "rec_stop of session %s: not recording", m->sid);
		reply_result(s, pipe, PYC_MSG_REC_STOP, PYC_WIRE_F_REPLY, m->sid, m->seq,
		    PYC_ENOENT, "not_recording", "no open recording for this session");
		return;
	}
	rec_table_remove(s->table, r);
	rec_writer_stop(s->writer, r, REC_STATE_COMPLETE, pipe, m->seq, NULL);
	rec_table_unlock(s->table);
}

static void handle(rec_stream *s, nng_msg *msg, int64_t t0)
{
	uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(msg));
	pyc_wire_msg m;
	pyc_err rv;

	if ((rv = pyc_wire_msg_decode(msg, &m)) != PYC_OK) {
		bad(s, pipe, NULL, rv, "bad_message",
		    rv == PYC_EVERSION ? "unsupported message version" : "malformed message");
		nng_msg_free(msg);
		return;
	}
	if (m.flags & PYC_WIRE_F_REPLY) {
		bad(s, pipe, &m, PYC_EPROTO, "bad_message", "unexpected reply");
		nng_msg_free(msg);
		return;
	}
	switch (m.type) {
	case PYC_MSG_REC_APPEND:
		if (on_append(s, pipe, &m, msg, t0))
			return; /* msg belongs to the writer */
		break;
	case PYC_MSG_REC_START:
		on_start(s, pipe, &m);
		break;
	case PYC_MSG_REC_STOP:
		on_stop(s, pipe, &m);
		break;
	default:
		bad(s, pipe, &m, PYC_EPROTO, "bad_message",
		    "message type not accepted on the recorder's stream socket");
		break;
	}
	nng_msg_free(msg);
}

void rec_stream_poll(rec_stream *s, int timeout_ms)
{
	int64_t end = rec_mono_us() + (int64_t) timeout_ms * 1000;
	int64_t last_reap = 0;
	nng_msg *msg;
	int rv;

	nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, timeout_ms);
	for (;;) {
		int64_t now = rec_mono_us();
		if (now - last_reap >= 20000) {
			reap_dead(s);
			last_reap = now;
		}
		if (now >= end)
			return;
		rv = nng_recvmsg(s->sock, &msg, 0);
		if (rv == NNG_ETIMEDOUT || rv == NNG_ECLOSED) {
			reap_dead(s);
			return;
		}
		if (rv != 0) {
			pyc_log(PYC_LOG_WARN, "stream receive: %s", nng_strerror(rv));
			return;
		}
		handle(s, msg, rec_mono_us());
	}
}

/* ---- lifetime ---- */

pyc_err rec_stream_create(rec_stream **out)
{
	rec_stream *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL)
		return PYC_ENOMEM;
	pthread_mutex_init(&s->dead_mtx, NULL);
	if ((rv = nng_pair1_open_poly(&s->sock)) != 0) {
		pyc_log(PYC_LOG_ERROR, "stream socket: %s", nng_strerror(rv));
		pthread_mutex_destroy(&s->dead_mtx);
		free(s);
		return pyc_err_from_nng(rv);
	}
	s->open = 1;
	/* Appends are up to 4 MiB envelopes; allow the envelope's maximum. */
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	    PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX + PYC_WIRE_MAX_PAYLOAD);
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 1024);
	nng_socket_set_int(s->sock, NNG_OPT_SENDBUF, 1024);
	*out = s;
	return PYC_OK;
}

nng_socket rec_stream_socket(rec_stream *s)
{
	return s->sock;
}

pyc_err rec_stream_start(rec_stream *s, const char *url, rec_table *table,
    rec_writer *writer, rec_db *db)
{
	int rv;

	s->table = table;
	s->writer = writer;
	s->db = db;
	if ((rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, on_pipe, s)) != 0 ||
	    (rv = nng_listen(s->sock, url, NULL, 0)) != 0) {
		pyc_log(PYC_LOG_ERROR, "stream socket: listen %s: %s", url, nng_strerror(rv));
		return pyc_err_from_nng(rv);
	}
	pyc_log(PYC_LOG_INFO, "stream socket listening on %s", url);
	return PYC_OK;
}

void rec_stream_destroy(rec_stream *s)
{
	if (s == NULL)
		return;
	/* a close that hangs (pyc_sock.h) leaves s to nng's threads */
	if (s->open && !pyc_sock_close_bounded(s->sock, 2000)) {
		pyc_sock_abandon(s);
		return;
	}
	pthread_mutex_destroy(&s->dead_mtx);
	free(s);
}
