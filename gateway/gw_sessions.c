/* gw_sessions.c - session registry, worker leases, grace timers, flow
 * control and the routing of client commands and worker messages
 * (gw_sessions.h).
 *
 * NOTES: sessions live in a hash table by id (FNV-1a, chained) and in a
 * list for the timer pass. Messages to a worker go out on its pipe in the
 * client's order through the session's own queue: at most GW_PIPE_WINDOW
 * of them are on their way to the worker at once (nng's polyamorous socket
 * drops beyond two per pipe, gw_workers.h), and the worker completes each
 * one, in order, with exactly one meter or ack (session_close with
 * session_closed); each completion lets the next one go (docs/wire.md,
 * "Flow control"). When a place in the window frees and more than one
 * message waits, the leading run of batchable ones (session_init,
 * session_params, audio, record; up to PYC_BATCH_MAX_ITEMS) goes out as
 * one PYC_MSG_BATCH: one nng message, so one of the two places; the worker
 * handles each item as if it had come alone but answers the batch once
 * (with the meter after its last chunk), so one answer frees one place
 * whatever the message was.
 * The queue keeps the plain messages and a batch is built from them at
 * send time, so a single one, session_open and session_close still go as
 * themselves. A session ends in two steps:
 * session_close to its worker, then (on session_closed, the pipe going
 * away, or REQUEST_TIMEOUT_MS) session_ended to the recorder, sent by
 * gw_recorder's own thread. A connection that arrives for a session that is
 * closing waits for the close and then gets a fresh session under the same
 * id, so the recorder's clean-up of the old one cannot race the new one's
 * recordings... as far as the recorder handles session_ended before the new
 * worker's first rec_start. A session without a worker (none idle yet,
 * or its worker died) queues what its client sends, within the same
 * bounds, and replays it after session_open once one is leased. A worker
 * that leaves a message unanswered for REQUEST_TIMEOUT_MS is given up on
 * (its pipe is closed) as if it had died. The ids of the registered
 * sessions are kept in a file (gw_sessions_keep_list) so that the
 * sessions of a gateway that was killed still end, and their recordings
 * are cleaned up, under the next one; such a session has no client and
 * takes no worker until its client comes back ("orphan").
 */
#include "gw_sessions.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_metrics.h"
#include "gw_proto.h"
#include "gw_recorder.h"
#include "gw_workers.h"
#include "gw_ws.h"
#include "pyc_id.h"
#include "pyc_log.h"
#include "pyc_wire.h"

#define BUCKETS 4096
#define RING 256
#define NO_WORKER_NOTE_US 5000000
#define GW_QUEUE_RESERVE 3 /* session_open, session_init, session_close */

typedef struct sent {
	uint64_t seq;
	int64_t t;
} sent;

typedef struct pending_ev {
	char *json;
	size_t len;
} pending_ev;

struct gw_session {
	char sid[PYC_SESSION_ID_MAX + 1];
	gw_session *hnext;
	gw_session *next, *prev;
	struct gw_conn *conn;

	pyc_params params; /* all values; mask = fields the client set */
	bool init_sent;
	bool recording;
	uint32_t pipe; /* 0: no worker */
	/* Waiting for a worker: the settings as they were when the wait
	 * began (the next worker is opened with them; what the client sent
	 * since is in the queue, in order). */
	bool waiting;
	pyc_params wait_params;
	bool wait_init;

	bool closing, reopen;
	bool orphan; /* from the list of a gateway that did not stop: no client yet */
	int64_t grace_deadline; /* 0: connected */
	int64_t close_deadline;
	int64_t lease_deadline, next_lease_try;
	int64_t last_no_worker_note;

	uint64_t seq_sent; /* audio chunks numbered so far */
	nng_msg *outq[GW_OUT_QUEUE]; /* waiting for the window, in order */
	int oq_head, oq_len;
	size_t oq_bytes;
	int fl_n; /* messages sent to the worker and not answered yet */
	/* Of each of those, oldest first: how many audio chunks it carries
	 * (a batch's meter answers them all: the others count as merged). */
	int fl_audio[GW_PIPE_WINDOW];
	int fl_head;
	int64_t fl_since; /* last progress while something is in flight */
	bool paused, dropping;
	int64_t paused_since;
	sent ring[RING];

	pending_ev pending[GW_PENDING_EVENTS];
	int n_pending;
};

struct gw_sessions {
	const pyc_config *cfg;
	struct gw_recorder *rec;
	struct gw_workers *workers;
	struct gw_ws *ws;
	gw_session *table[BUCKETS];
	gw_session *all;
	int count;
	char list_path[PYC_CFG_STR_MAX + 32]; /* "": the live ids are kept nowhere */
	bool list_dirty, list_warned;
	int64_t list_written;
};

int64_t gw_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t) *s++) * 16777619u;
	return h % BUCKETS;
}

static gw_session *lookup(gw_sessions *r, const char *sid)
{
	for (gw_session *s = r->table[hash(sid)]; s != NULL; s = s->hnext)
		if (strcmp(s->sid, sid) == 0)
			return s;
	return NULL;
}

pyc_err gw_sessions_create(gw_sessions **out, const pyc_config *cfg,
    struct gw_recorder *rec)
{
	gw_sessions *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return PYC_ENOMEM;
	r->cfg = cfg;
	r->rec = rec;
	*out = r;
	return PYC_OK;
}

void gw_sessions_set_io(gw_sessions *r, struct gw_workers *w, struct gw_ws *ws)
{
	r->workers = w;
	r->ws = ws;
}

static void outq_clear(gw_session *s)
{
	while (s->oq_len > 0) {
		nng_msg_free(s->outq[s->oq_head]);
		s->oq_head = (s->oq_head + 1) % GW_OUT_QUEUE;
		s->oq_len--;
	}
	s->oq_head = 0;
	s->oq_bytes = 0;
	s->fl_n = s->fl_head = 0;
}

static void pending_clear(gw_session *s)
{
	for (int i = 0; i < s->n_pending; i++)
		free(s->pending[i].json);
	s->n_pending = 0;
}

static void session_free(gw_sessions *r, gw_session *s)
{
	gw_session **pp = &r->table[hash(s->sid)];
	while (*pp != NULL && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp == s)
		*pp = s->hnext;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		r->all = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	pending_clear(s);
	outq_clear(s);
	r->count--;
	atomic_store_explicit(&gw_stats.sessions, r->count, memory_order_relaxed);
	free(s);
}

/* Writes the ids of the registered sessions to list_path (a temporary
 * file renamed over it), one per line. A failure is logged once until a
 * write succeeds again; the sessions go on either way. */
static void list_write(gw_sessions *r)
{
	char tmp[sizeof(r->list_path) + 8];
	if (r->list_path[0] == '\0')
		return;
	r->list_dirty = false;
	r->list_written = gw_now_us();
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->list_path);
	FILE *f = fopen(tmp, "w");
	bool ok = f != NULL;
	for (gw_session *s = r->all; ok && s != NULL; s = s->next)
		ok = fprintf(f, "%s\n", s->sid) > 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, r->list_path) != 0)
		ok = false;
	if (!ok) {
		if (!r->list_warned)
			pyc_log(PYC_LOG_WARN, "cannot write the session list %s: %s", r->list_path,
			    strerror(errno));
		r->list_warned = true;
		unlink(tmp);
	} else {
		r->list_warned = false;
	}
}

static void session_gone(gw_sessions *r, gw_session *s)
{
	session_free(r, s);
	r->list_dirty = true;
}

void gw_sessions_destroy(gw_sessions *r)
{
	if (r == NULL)
		return;
	/* A clean stop leaves no list; sessions still registered here (their
	 * workers did not confirm the end) stay listed for the next gateway. */
	if (r->list_path[0] != '\0' && r->all == NULL)
		unlink(r->list_path);
	else if (r->list_dirty)
		list_write(r);
	while (r->all != NULL) {
		if (r->all->conn != NULL)
			gw_conn_session_lost(r->all->conn);
		session_free(r, r->all);
	}
	free(r);
}

int gw_sessions_count(gw_sessions *r)
{
	return r->count;
}

/* ---- to the client ---- */

static void deliver_event(gw_session *s, const char *json, size_t len)
{
	if (s->conn != NULL) {
		gw_conn_send_event(s->conn, json, len);
		return;
	}
	if (s->n_pending == GW_PENDING_EVENTS) {
		pyc_log(PYC_LOG_WARN, "session %s: event dropped while disconnected", s->sid);
		free(s->pending[0].json);
		memmove(&s->pending[0], &s->pending[1],
		    (GW_PENDING_EVENTS - 1) * sizeof(pending_ev));
		s->n_pending--;
	}
	char *copy = malloc(len);
	if (copy == NULL)
		return;
	memcpy(copy, json, len);
	s->pending[s->n_pending++] = (pending_ev){copy, len};
}

static void send_error(gw_session *s, const char *code, const char *message)
{
	char buf[512];
	size_t n = gw_proto_error_json(buf, sizeof(buf), code, message);
	gw_metrics_error(code);
	if (n > 0)
		deliver_event(s, buf, n);
}

/* ---- to the worker ---- */

/* How many messages from the head of the queue go out as one batch: the
 * leading run of batchable ones, at most PYC_BATCH_MAX_ITEMS and
 * PYC_WIRE_MAX_PAYLOAD bytes of items (*plen), of which *audio are audio
 * chunks. 0 or 1: send the head alone. */
static int batch_span(const gw_session *s, int max, size_t *plen, int *audio)
{
	int k = 0;
	size_t bytes = 0;
	*audio = 0;
	while (k < s->oq_len && k < max) {
		pyc_wire_msg m;
		if (pyc_wire_msg_decode(s->outq[(s->oq_head + k) % GW_OUT_QUEUE], &m) != PYC_OK ||
		    !pyc_batch_type_ok(m.type))
			break;
		size_t add = pyc_batch_item_size(m.payload_len);
		if (add > PYC_WIRE_MAX_PAYLOAD - bytes)
			break;
		bytes += add;
		*audio += m.type == PYC_MSG_AUDIO;
		k++;
	}
	*plen = bytes;
	return k;
}

/* Builds the batch of the first k queued messages (payload plen bytes).
 * NULL if memory ran out (the caller sends the head alone). */
static nng_msg *batch_build(const gw_session *s, int k, size_t plen)
{
	uint8_t hdr[PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX];
	size_t hlen;
	nng_msg *b;
	pyc_wbuf w;

	if (pyc_wire_encode_hdr(hdr, sizeof(hdr), PYC_MSG_BATCH, 0, s->sid, (uint64_t) k, plen,
	        &hlen) != PYC_OK ||
	    nng_msg_alloc(&b, hlen + plen) != 0)
		return NULL;
	memcpy(nng_msg_body(b), hdr, hlen);
	pyc_wbuf_init(&w, (uint8_t *) nng_msg_body(b) + hlen, plen);
	for (int i = 0; i < k; i++) {
		pyc_wire_msg m;
		(void) pyc_wire_msg_decode(s->outq[(s->oq_head + i) % GW_OUT_QUEUE], &m);
		pyc_batch_put(&w, m.type, m.seq, m.payload, m.payload_len);
	}
	if (w.err != PYC_OK || w.len != plen) {
		nng_msg_free(b);
		return NULL;
	}
	return b;
}

/* Sends what the window allows from the session's queue: when more than
 * one message waits, a leading run of batchable ones goes as one batch.
 * A full nng send buffer (PYC_EAGAIN) leaves the rest for the next
 * completion or tick; a pipe that is gone is reported by gw_workers
 * soon. */
static void pump(gw_sessions *r, gw_session *s)
{
	while (s->pipe != 0 && s->fl_n < GW_PIPE_WINDOW && s->oq_len > 0) {
		size_t plen = 0;
		int audio;
		int k = batch_span(s, s->oq_len > 1 ? PYC_BATCH_MAX_ITEMS : 1, &plen, &audio);
		nng_msg *b = k > 1 ? batch_build(s, k, plen) : NULL;
		if (b == NULL && k > 1) /* out of memory: the head alone */
			k = batch_span(s, 1, &plen, &audio);
		if (k == 0) /* not batchable (so not audio): alone */
			k = 1;
		/* the lengths before sending: a sent message belongs to nng */
		size_t bytes = 0;
		for (int i = 0; i < k; i++)
			bytes += nng_msg_len(s->outq[(s->oq_head + i) % GW_OUT_QUEUE]);
		if (gw_workers_send(r->workers, s->pipe, b != NULL ? b : s->outq[s->oq_head]) !=
		    PYC_OK) {
			if (b != NULL)
				nng_msg_free(b);
			return;
		}
		for (int i = 0; i < k; i++) {
			if (b != NULL)
				nng_msg_free(s->outq[s->oq_head]);
			s->oq_head = (s->oq_head + 1) % GW_OUT_QUEUE;
			s->oq_len--;
		}
		s->oq_bytes -= bytes;
		if (b != NULL)
			atomic_fetch_add_explicit(&gw_stats.worker_batches, 1, memory_order_relaxed);
		if (s->fl_n == 0)
			s->fl_since = gw_now_us();
		s->fl_audio[(s->fl_head + s->fl_n) % GW_PIPE_WINDOW] = audio;
		s->fl_n++;
	}
}

/* Queues msg for the session's worker, in order; takes msg. While the
 * session waits for a worker the message waits with the others and goes
 * out once one is leased. false if it was dropped (the queue is full:
 * the last GW_QUEUE_RESERVE places are kept for the opening messages a
 * new worker gets first and for session_close, which may take them). */
static bool to_worker(gw_sessions *r, gw_session *s, nng_msg *msg, unsigned type)
{
	int cap = type == PYC_MSG_SESSION_CLOSE ? GW_OUT_QUEUE : GW_OUT_QUEUE - GW_QUEUE_RESERVE;
	if (s->pipe == 0 && !s->waiting) {
		nng_msg_free(msg);
		return false;
	}
	if (s->oq_len >= cap) {
		pyc_log(PYC_LOG_WARN, "session %s: %d messages wait for the worker, one dropped",
		    s->sid, s->oq_len);
		nng_msg_free(msg);
		return false;
	}
	s->outq[(s->oq_head + s->oq_len) % GW_OUT_QUEUE] = msg;
	s->oq_len++;
	s->oq_bytes += nng_msg_len(msg);
	pump(r, s);
	return true;
}

static nng_msg *params_msg(gw_session *s, unsigned type, const pyc_params *p);

/* The senders: false if the message was not queued. */
static bool send_params(gw_sessions *r, gw_session *s, unsigned type, const pyc_params *p)
{
	nng_msg *msg = params_msg(s, type, p);
	return msg != NULL && to_worker(r, s, msg, type);
}

static bool send_simple(gw_sessions *r, gw_session *s, unsigned type, const void *payload,
    size_t len, uint64_t seq)
{
	nng_msg *msg;
	if (pyc_wire_msg_new(&msg, type, 0, s->sid, seq, payload, len) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "session %s: cannot build %s", s->sid, pyc_msg_type_name(type));
		return false;
	}
	return to_worker(r, s, msg, type);
}

static bool send_record(gw_sessions *r, gw_session *s, int start)
{
	uint8_t b = (uint8_t) start;
	return send_simple(r, s, PYC_MSG_RECORD, &b, 1, s->seq_sent);
}

/* Back-pressure: a long queue pauses the client's reads (commands and
 * audio alike) until it is half empty. */
static void maybe_pause(gw_session *s, int64_t now)
{
	if (!s->paused && s->conn != NULL &&
	    (s->oq_len >= GW_WINDOW_CHUNKS || s->oq_bytes >= GW_WINDOW_BYTES)) {
		s->paused = true;
		s->paused_since = now;
		gw_conn_rx_pause(s->conn, true);
	}
}

/* The worker changed: what waited for the old one is dropped. */
static void flow_reset(gw_session *s)
{
	outq_clear(s);
	s->dropping = false;
	if (s->paused) {
		s->paused = false;
		if (s->conn != NULL)
			gw_conn_rx_pause(s->conn, false);
	}
}

/* Builds a session_open or session_init message with params p; NULL if
 * memory ran out. */
static nng_msg *params_msg(gw_session *s, unsigned type, const pyc_params *p)
{
	uint8_t buf[128];
	pyc_wbuf w;
	nng_msg *msg;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_params_put(&w, p);
	if (pyc_wire_msg_from_wbuf(&msg, type, 0, s->sid, s->seq_sent, &w) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "session %s: cannot build %s", s->sid, pyc_msg_type_name(type));
		return NULL;
	}
	return msg;
}

/* Puts msg in front of the queue (a place is always kept for it). */
static void outq_push_front(gw_session *s, nng_msg *msg)
{
	if (msg == NULL)
		return;
	s->oq_head = (s->oq_head + GW_OUT_QUEUE - 1) % GW_OUT_QUEUE;
	s->outq[s->oq_head] = msg;
	s->oq_len++;
	s->oq_bytes += nng_msg_len(msg);
}

/* Leases a worker and opens the session on it. Until one is leased the
 * session waits: what the client sends is queued (bounded, with the
 * usual back-pressure) and replayed, in order, after session_open (and
 * session_init if the client had sent init before the wait began). */
static void lease(gw_sessions *r, gw_session *s, int64_t now)
{
	uint32_t pipe;
	if (s->pipe != 0 || s->closing)
		return;
	if (!s->waiting) {
		/* what was queued was for the previous worker */
		flow_reset(s);
		s->waiting = true;
		s->wait_params = s->params;
		s->wait_init = s->init_sent;
	}
	if (gw_workers_lease(r->workers, &pipe) != PYC_OK) {
		if (s->lease_deadline == 0)
			s->lease_deadline = now + GW_LEASE_WAIT_US;
		s->next_lease_try = now + 100000;
		if (s->last_no_worker_note == 0 || now - s->last_no_worker_note >= NO_WORKER_NOTE_US) {
			s->last_no_worker_note = now;
			pyc_log(PYC_LOG_WARN, "session %s: no idle worker, waiting", s->sid);
			send_error(s, GW_E_NO_WORKER,
			    "no DSP worker is free at the moment; commands and audio wait for one");
		}
		return;
	}
	s->pipe = pipe;
	s->waiting = false;
	s->lease_deadline = 0;
	s->last_no_worker_note = 0;
	s->fl_n = s->fl_head = 0;
	if (s->wait_init)
		outq_push_front(s, params_msg(s, PYC_MSG_SESSION_INIT, &s->wait_params));
	outq_push_front(s, params_msg(s, PYC_MSG_SESSION_OPEN, &s->wait_params));
	pyc_log(PYC_LOG_INFO, "session %s: worker on pipe %u, %d messages waiting", s->sid, pipe,
	    s->oq_len);
	pump(r, s);
}

static void session_reset(gw_session *s)
{
	pyc_params_defaults(&s->params);
	s->params.mask = 0;
	s->init_sent = false;
	s->recording = false;
	s->closing = false;
	s->reopen = false;
	s->grace_deadline = 0;
	s->close_deadline = 0;
	s->lease_deadline = 0;
	s->next_lease_try = 0;
	s->last_no_worker_note = 0;
	s->seq_sent = 0;
	s->waiting = false;
	outq_clear(s);
	s->paused = s->dropping = false;
}

/* The worker is done (or gone, or timed out): tell the recorder, then
 * free the session or, if a client came back meanwhile, start afresh. */
static void finish_close(gw_sessions *r, gw_session *s)
{
	if (s->pipe != 0) {
		gw_workers_release(r->workers, s->pipe);
		s->pipe = 0;
	}
	gw_recorder_session_ended(r->rec, s->sid);
	if (s->reopen && s->conn != NULL) {
		pyc_log(PYC_LOG_INFO, "session %s: ended and reopened for a new connection", s->sid);
		session_reset(s);
		lease(r, s, gw_now_us());
		return;
	}
	pyc_log(PYC_LOG_INFO, "session %s: ended", s->sid);
	if (s->conn != NULL) {
		gw_conn_session_lost(s->conn);
		gw_conn_close(s->conn, 1001, "session ended");
		s->conn = NULL;
	}
	session_gone(r, s);
}

static void end_session(gw_sessions *r, gw_session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	s->reopen = false;
	s->grace_deadline = 0;
	if (s->pipe == 0) {
		finish_close(r, s);
		return;
	}
	send_simple(r, s, PYC_MSG_SESSION_CLOSE, NULL, 0, s->seq_sent);
	s->close_deadline = gw_now_us() + (int64_t) r->cfg->request_timeout_ms * 1000;
}

/* Registers a session without connection or worker; NULL if memory ran
 * out. */
static gw_session *session_add(gw_sessions *r, const char *sid)
{
	gw_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	session_reset(s);
	uint32_t h = hash(sid);
	s->hnext = r->table[h];
	r->table[h] = s;
	s->next = r->all;
	if (r->all != NULL)
		r->all->prev = s;
	r->all = s;
	r->count++;
	atomic_store_explicit(&gw_stats.sessions, r->count, memory_order_relaxed);
	atomic_fetch_add_explicit(&gw_stats.sessions_total, 1, memory_order_relaxed);
	return s;
}

pyc_err gw_sessions_keep_list(gw_sessions *r, const char *path)
{
	if (strlen(path) >= sizeof(r->list_path))
		return PYC_EINVAL;
	snprintf(r->list_path, sizeof(r->list_path), "%s", path);
	FILE *f = fopen(path, "r");
	int n = 0;
	if (f != NULL) {
		char line[PYC_SESSION_ID_MAX + 2];
		int64_t deadline = gw_now_us() + (int64_t) r->cfg->session_grace_s * 1000000;
		while (fgets(line, sizeof(line), f) != NULL) {
			size_t len = strcspn(line, "\n");
			if (line[len] != '\n') { /* over-long or unterminated: skip it */
				int ch;
				while ((ch = fgetc(f)) != EOF && ch != '\n')
					;
				continue;
			}
			line[len] = '\0';
			if (!pyc_session_id_valid(line, len) || lookup(r, line) != NULL)
				continue;
			if (r->count >= r->cfg->max_sessions)
				break;
			gw_session *s = session_add(r, line);
			if (s == NULL)
				break;
			s->orphan = true;
			s->grace_deadline = deadline;
			n++;
		}
		fclose(f);
	}
	if (n > 0)
		pyc_log(PYC_LOG_INFO,
		    "%d session(s) of a gateway that did not stop cleanly: each ends after %d s "
		    "(and the recorder is told) unless its client comes back",
		    n, r->cfg->session_grace_s);
	list_write(r);
	return PYC_OK;
}

/* ---- from the client ---- */

gw_session *gw_sessions_attach(gw_sessions *r, const char *sid, struct gw_conn *c)
{
	gw_session *s = lookup(r, sid);
	int64_t now = gw_now_us();

	if (s != NULL) {
		if (s->conn != NULL) {
			pyc_log(PYC_LOG_INFO, "session %s: taken over by a new connection", sid);
			gw_conn_session_lost(s->conn);
			gw_conn_close(s->conn, 4001, "session taken over by another connection");
		} else {
			pyc_log(PYC_LOG_INFO, "session %s: resumed", sid);
		}
		s->conn = c;
		s->grace_deadline = 0;
		if (s->closing)
			s->reopen = true;
		for (int i = 0; i < s->n_pending; i++)
			gw_conn_send_event(c, s->pending[i].json, s->pending[i].len);
		pending_clear(s);
		if (s->paused)
			gw_conn_rx_pause(c, true);
		if (s->orphan) {
			s->orphan = false;
			if (!s->closing)
				lease(r, s, now);
		}
		return s;
	}
	if (r->count >= r->cfg->max_sessions) {
		pyc_log(PYC_LOG_WARN, "session %s refused: %d sessions (MAX_SESSIONS)", sid, r->count);
		return NULL;
	}
	if ((s = session_add(r, sid)) == NULL)
		return NULL;
	s->conn = c;
	r->list_dirty = true;
	pyc_log(PYC_LOG_INFO, "session %s: new", sid);
	lease(r, s, now);
	return s;
}

void gw_sessions_detach(gw_sessions *r, gw_session *s, struct gw_conn *c)
{
	if (s == NULL || s->conn != c)
		return;
	s->conn = NULL;
	s->reopen = false;
	if (s->closing)
		return;
	if (r->cfg->session_grace_s == 0) {
		end_session(r, s);
		return;
	}
	s->grace_deadline = gw_now_us() + (int64_t) r->cfg->session_grace_s * 1000000;
	pyc_log(PYC_LOG_INFO, "session %s: disconnected, grace %ds", s->sid,
	    r->cfg->session_grace_s);
}

void gw_sessions_text(gw_sessions *r, gw_session *s, const char *text, size_t len)
{
	gw_cmd cmd;
	gw_proto_err err;

	if (gw_proto_parse(text, len, &cmd, &err) != PYC_OK) {
		send_error(s, err.code, err.message);
		return;
	}
	if (s->closing)
		return;
	bool ok = true;
	switch (cmd.action) {
	case GW_ACT_INIT:
		pyc_params_merge(&s->params, &cmd.params);
		s->init_sent = true;
		ok = send_params(r, s, PYC_MSG_SESSION_INIT, &cmd.params);
		break;
	case GW_ACT_SET_PARAMS:
		pyc_params_merge(&s->params, &cmd.params);
		if (cmd.params.mask != 0)
			ok = send_params(r, s, PYC_MSG_SESSION_PARAMS, &cmd.params);
		break;
	case GW_ACT_START_RECORD:
		if (((cmd.params.mask & PYC_P_RATE) && cmd.params.sample_rate != s->params.sample_rate) ||
		    ((cmd.params.mask & PYC_P_CHANNELS) && cmd.params.channels != s->params.channels)) {
			pyc_params_merge(&s->params, &cmd.params);
			s->init_sent = true;
			ok = send_params(r, s, PYC_MSG_SESSION_INIT, &cmd.params);
		}
		if (ok && (ok = send_record(r, s, 1)))
			s->recording = true;
		break;
	case GW_ACT_STOP_RECORD:
		if ((ok = send_record(r, s, 0)))
			s->recording = false;
		break;
	}
	if (!ok)
		send_error(s, GW_E_TOO_FAST,
		    "commands arrive faster than the worker takes them; this one was dropped");
	maybe_pause(s, gw_now_us());
}

void gw_sessions_audio(gw_sessions *r, gw_session *s, const uint8_t *data, size_t len)
{
	int64_t now;
	if (len == 0 || s->closing)
		return;
	if ((s->pipe == 0 && !s->waiting) || s->dropping || s->oq_len >= GW_OUT_QUEUE_AUDIO) {
		atomic_fetch_add_explicit(&gw_stats.chunks_dropped, 1, memory_order_relaxed);
		return;
	}
	now = gw_now_us();
	nng_msg *msg;
	if (pyc_wire_msg_new(&msg, PYC_MSG_AUDIO, 0, s->sid, s->seq_sent + 1, data, len) !=
	    PYC_OK) {
		atomic_fetch_add_explicit(&gw_stats.chunks_dropped, 1, memory_order_relaxed);
		return;
	}
	uint64_t seq = ++s->seq_sent;
	sent *e = &s->ring[seq % RING];
	e->seq = seq;
	e->t = now;
	to_worker(r, s, msg, PYC_MSG_AUDIO);
	atomic_fetch_add_explicit(&gw_stats.chunks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&gw_stats.audio_bytes, len, memory_order_relaxed);
	maybe_pause(s, now);
}

/* ---- from the worker ---- */

/* A meter or an ack: the worker answered the oldest message in flight
 * (a batch as a whole), so its place in the window is free. For a meter,
 * seq is the chunk it was computed after (latency); a meter that answers
 * a batch of several chunks stands for all of them, and the others are
 * counted as merged. */
static void completed(gw_sessions *r, gw_session *s, uint64_t seq, bool meter, int64_t now)
{
	if (meter && seq > 0 && s->ring[seq % RING].seq == seq) {
		gw_metrics_latency((uint64_t) (now - s->ring[seq % RING].t));
		s->ring[seq % RING].seq = 0;
	}
	if (s->fl_n > 0) {
		int audio = s->fl_audio[s->fl_head];
		if (meter && audio > 1)
			atomic_fetch_add_explicit(&gw_stats.meters_merged, (unsigned long) (audio - 1),
			    memory_order_relaxed);
		s->fl_since = now != 0 ? now : gw_now_us();
		s->fl_head = (s->fl_head + 1) % GW_PIPE_WINDOW;
		s->fl_n--;
	} else
		pyc_log(PYC_LOG_DEBUG, "session %s: completion with nothing in flight", s->sid);
	pump(r, s);
	bool low = s->oq_len <= GW_WINDOW_CHUNKS / 2 && s->oq_bytes <= GW_WINDOW_BYTES / 2;
	if (s->paused && low) {
		s->paused = false;
		if (s->conn != NULL)
			gw_conn_rx_pause(s->conn, false);
	}
	if (s->dropping && low)
		s->dropping = false;
}

static void note_event(gw_session *s, const char *json, size_t len)
{
	/* The events are small JSON objects written by the worker; a scan
	 * for the few words the gateway tracks is enough. */
	if (memmem(json, len, "\"recording_saved\"", 17) != NULL ||
	    memmem(json, len, "\"recording_failed\"", 18) != NULL)
		s->recording = false;
	const char *t = memmem(json, len, "\"type\":\"error\"", 14);
	if (t != NULL) {
		const char *c = memmem(json, len, "\"code\":\"", 8);
		char code[32] = "other";
		if (c != NULL) {
			c += 8;
			size_t k = 0;
			while (k < sizeof(code) - 1 && c + k < json + len && c[k] != '"') {
				code[k] = c[k];
				k++;
			}
			code[k] = '\0';
		}
		gw_metrics_error(code);
	}
}

static void on_worker_msg(void *arg, uint32_t pipe, nng_msg *msg, const pyc_wire_msg *m)
{
	gw_sessions *r = arg;
	gw_session *s = lookup(r, m->sid);
	int64_t now;

	if (s == NULL || s->pipe != pipe) {
		nng_msg_free(msg);
		return;
	}
	switch (m->type) {
	case PYC_MSG_METER:
		now = gw_now_us();
		completed(r, s, m->seq, true, now);
		if (s->conn != NULL)
			gw_conn_send_meter(s->conn, msg, m->payload, m->payload_len);
		else
			nng_msg_free(msg);
		return;
	case PYC_MSG_ACK:
		completed(r, s, m->seq, false, 0);
		break;
	case PYC_MSG_EVENT:
		atomic_fetch_add_explicit(&gw_stats.events, 1, memory_order_relaxed);
		note_event(s, (const char *) m->payload, m->payload_len);
		if (s->conn != NULL) {
			gw_conn_send_event_msg(s->conn, msg, m->payload, m->payload_len);
			return;
		}
		deliver_event(s, (const char *) m->payload, m->payload_len);
		break;
	case PYC_MSG_MONITOR:
		if (s->conn != NULL) {
			gw_conn_send_monitor(s->conn, msg, m->payload, m->payload_len);
			return;
		}
		break;
	case PYC_MSG_SESSION_CLOSED:
		nng_msg_free(msg);
		if (s->closing) {
			finish_close(r, s);
		} else {
			pyc_log(PYC_LOG_WARN, "session %s: worker closed the session unasked", s->sid);
			gw_workers_release(r->workers, s->pipe);
			s->pipe = 0;
			lease(r, s, gw_now_us());
		}
		return;
	default:
		pyc_log(PYC_LOG_DEBUG, "session %s: unexpected %s from worker", s->sid,
		    pyc_msg_type_name(m->type));
		break;
	}
	nng_msg_free(msg);
}

/* The session's worker is gone (or given up on): the client is told, and
 * the session moves to a fresh worker with the same settings. */
static void worker_lost(gw_sessions *r, gw_session *s)
{
	s->pipe = 0;
	if (s->closing) {
		finish_close(r, s);
		return;
	}
	atomic_fetch_add_explicit(&gw_stats.worker_restarts, 1, memory_order_relaxed);
	send_error(s, GW_E_WORKER_RESTARTED,
	    "the DSP worker of this session stopped; a fresh one takes over with the same settings");
	if (s->recording) {
		send_error(s, GW_E_RECORDING_FAILED,
		    "the recording was interrupted by the worker restart; what was written is kept");
		s->recording = false;
	}
	flow_reset(s);
	lease(r, s, gw_now_us());
}

static void on_worker_gone(void *arg, uint32_t pipe)
{
	gw_sessions *r = arg;
	gw_session *s;
	for (s = r->all; s != NULL; s = s->next)
		if (s->pipe == pipe)
			break;
	if (s == NULL)
		return;
	if (!s->closing)
		pyc_log(PYC_LOG_WARN, "session %s: worker died, moving to a fresh worker", s->sid);
	worker_lost(r, s);
}

static const gw_workers_ops worker_ops = {on_worker_msg, on_worker_gone};

const gw_workers_ops *gw_sessions_worker_ops(void)
{
	return &worker_ops;
}

/* ---- timers ---- */

void gw_sessions_tick(gw_sessions *r)
{
	int64_t now = gw_now_us();
	if (r->list_dirty && now - r->list_written >= GW_LIST_PERIOD_US)
		list_write(r);
	gw_session *s = r->all;
	while (s != NULL) {
		gw_session *next = s->next;
		if (s->pipe != 0 && s->oq_len > 0)
			pump(r, s); /* after nng's send buffer was full */
		if (s->pipe != 0 && !s->closing && s->fl_n > 0 &&
		    now - s->fl_since >= (int64_t) r->cfg->request_timeout_ms * 1000) {
			pyc_log(PYC_LOG_WARN,
			    "session %s: worker on pipe %u left a message unanswered for %d ms, "
			    "moving to a fresh worker",
			    s->sid, s->pipe, r->cfg->request_timeout_ms);
			gw_workers_drop(r->workers, s->pipe);
			worker_lost(r, s);
			s = next;
			continue;
		}
		if (s->closing) {
			if (s->close_deadline != 0 && now >= s->close_deadline) {
				pyc_log(PYC_LOG_WARN, "session %s: worker did not confirm the close in time",
				    s->sid);
				finish_close(r, s);
			}
		} else if (s->conn == NULL && s->grace_deadline != 0 && now >= s->grace_deadline) {
			pyc_log(PYC_LOG_INFO, "session %s: grace period over", s->sid);
			end_session(r, s);
		} else if (s->pipe == 0 && !s->orphan) {
			if (s->lease_deadline != 0 && now >= s->lease_deadline && s->conn != NULL) {
				pyc_log(PYC_LOG_WARN, "session %s: no worker within %d s, closing",
				    s->sid, (int) (GW_LEASE_WAIT_US / 1000000));
				gw_conn_close(s->conn, 1013, "no DSP worker available");
				s->lease_deadline = 0;
			} else if (now >= s->next_lease_try) {
				lease(r, s, now);
			}
		} else if (s->paused && now - s->paused_since >= GW_PAUSE_MAX_US) {
			pyc_log(PYC_LOG_INFO, "session %s: worker behind for %d s, dropping audio",
			    s->sid, (int) (GW_PAUSE_MAX_US / 1000000));
			s->paused = false;
			s->dropping = true;
			if (s->conn != NULL)
				gw_conn_rx_pause(s->conn, false);
			send_error(s, GW_E_TOO_FAST,
			    "audio arrives faster than it can be processed; some was dropped");
		}
		s = next;
	}
}

void gw_sessions_end_all(gw_sessions *r)
{
	gw_session *s = r->all;
	while (s != NULL) {
		gw_session *next = s->next;
		if (s->conn != NULL) {
			gw_conn_session_lost(s->conn);
			gw_conn_close(s->conn, 1001, "server shutting down");
			s->conn = NULL;
		}
		end_session(r, s);
		s = next;
	}
}
