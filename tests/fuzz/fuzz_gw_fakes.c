/* fuzz_gw_fakes.c - fake connections, worker pool and recorder around the
 * real session registry, with the contract checks (fuzz_gw_fakes.h).
 *
 * NOTES: the state is one static struct, reset by fz_gw_begin and freed
 * by fz_gw_end, because gw_sessions.c calls the fakes as plain functions.
 * The fake pool numbers its pipes from 1 and keeps, per pipe, the
 * messages sent and not yet answered (at most GW_PIPE_WINDOW, checked) and
 * the items of each, so fz_gw_complete can answer the oldest message the
 * way a worker does (docs/wire.md, "Flow control"), a batch once: with a
 * meter (or an ack) after its last audio chunk if it holds audio,
 * session_close with session_closed, anything else with an ack with the
 * reply flag. A connection is freed as soon as the registry or the
 * client closed it, as gw_ws.c frees it on LWS_CALLBACK_WSI_DESTROY.
 */
#include "fuzz_gw_fakes.h"

#include <stdatomic.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "gw_metrics.h"
#include "gw_recorder.h"
#include "gw_sessions.h"
#include "gw_workers.h"
#include "gw_ws.h"

#define FZ_PIPES 64
#define FZ_DRAIN_MAX 100000

typedef struct fz_sent {
	uint8_t type;
	uint64_t seq;
} fz_sent;

typedef struct fz_msg {
	int n, done;
	fz_sent it[PYC_BATCH_MAX_ITEMS];
} fz_msg;

typedef struct fz_pipe {
	uint32_t id;
	bool live, released, opened, close_sent;
	fz_msg fl[GW_PIPE_WINDOW];
	int fl_head, fl_n;
} fz_pipe;

struct gw_conn {
	gw_session *s;
	int close_code;
	bool paused;
};

static struct {
	bool on;
	pyc_config cfg;
	gw_sessions *r;
	fz_gw_hooks hooks;
	int idle;
	fz_pipe pipes[FZ_PIPES];
	int npipes;
	uint32_t cur;
	bool eagain;
	gw_conn *conn;
	int ended;
	bool raw_events;
	unsigned long created0;
} G;

static fz_pipe *pipe_get(uint32_t id)
{
	return id >= 1 && id <= (uint32_t) G.npipes ? &G.pipes[id - 1] : NULL;
}

static void check_json_event(const char *json, size_t len)
{
	if (G.raw_events)
		return; /* the worker sent something that is not JSON: passed on as is */
	cJSON *o = cJSON_ParseWithLength(json, len);
	FZ_ASSERT(o != NULL && cJSON_IsObject(o), "event is not a JSON object: %.*s",
	    (int) (len > 200 ? 200 : len), json);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
	FZ_ASSERT(cJSON_IsString(t), "event without a type: %.*s", (int) (len > 200 ? 200 : len),
	    json);
	cJSON_Delete(o);
}

/* ---- gw_ws.h: the connection side ---- */

pyc_err gw_conn_send_event(gw_conn *c, const char *json, size_t len)
{
	FZ_ASSERT(c != NULL, "event for no connection");
	check_json_event(json, len);
	return PYC_OK;
}

static void check_in_msg(nng_msg *msg, const uint8_t *data, size_t len)
{
	const uint8_t *body = nng_msg_body(msg);
	FZ_ASSERT(data >= body && len <= nng_msg_len(msg) &&
	        (size_t) (data - body) <= nng_msg_len(msg) - len,
	    "data handed to the connection is not inside its message");
}

pyc_err gw_conn_send_event_msg(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len)
{
	FZ_ASSERT(c != NULL, "event for no connection");
	check_in_msg(msg, data, len);
	check_json_event((const char *) data, len);
	nng_msg_free(msg);
	return PYC_OK;
}

void gw_conn_send_meter(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len)
{
	FZ_ASSERT(c != NULL, "meter for no connection");
	check_in_msg(msg, data, len);
	nng_msg_free(msg);
}

void gw_conn_send_monitor(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len)
{
	FZ_ASSERT(c != NULL, "monitor frame for no connection");
	check_in_msg(msg, data, len);
	nng_msg_free(msg);
}

void gw_conn_close(gw_conn *c, int code, const char *reason)
{
	FZ_ASSERT((code >= 1000 && code <= 1014 && code != 1004 && code != 1005 &&
	              code != 1006) || (code >= 3000 && code <= 4999),
	    "close code %d may not be sent (RFC 6455 7.4)", code);
	FZ_ASSERT(reason != NULL && strlen(reason) <= 123, "close reason over 123 bytes");
	if (c->close_code == 0)
		c->close_code = code;
}

void gw_conn_rx_pause(gw_conn *c, bool pause)
{
	if (c->close_code == 0)
		c->paused = pause;
}

void gw_conn_session_lost(gw_conn *c)
{
	c->s = NULL;
}

/* ---- gw_recorder.h ---- */

void gw_recorder_session_ended(gw_recorder *r, const char *sid)
{
	(void) r;
	FZ_ASSERT(sid != NULL && strcmp(sid, FZ_SID) == 0, "session_ended for %s",
	    sid ? sid : "(null)");
	G.ended++;
}

/* ---- gw_workers.h: the pool ---- */

pyc_err gw_workers_lease(gw_workers *w, uint32_t *pipe)
{
	(void) w;
	if (G.idle == 0 || G.npipes == FZ_PIPES)
		return PYC_EAGAIN;
	G.idle--;
	fz_pipe *p = &G.pipes[G.npipes++];
	memset(p, 0, sizeof(*p));
	p->id = (uint32_t) G.npipes;
	p->live = true;
	G.cur = p->id;
	*pipe = p->id;
	return PYC_OK;
}

void gw_workers_release(gw_workers *w, uint32_t pipe)
{
	(void) w;
	fz_pipe *p = pipe_get(pipe);
	FZ_ASSERT(p != NULL, "release of pipe %u that was never leased", pipe);
	p->released = true;
}

void gw_workers_drop(gw_workers *w, uint32_t pipe)
{
	(void) w;
	fz_pipe *p = pipe_get(pipe);
	FZ_ASSERT(p != NULL, "drop of pipe %u that was never leased", pipe);
	/* released and closed: its removal, later, finds no session */
	p->released = true;
	p->live = false;
	p->fl_n = 0;
	if (G.cur == pipe)
		G.cur = 0;
}

/* One item reaches the worker: checked as the worker would decode it. */
static void worker_item(fz_pipe *p, fz_msg *fm, uint8_t type, uint64_t seq,
    const uint8_t *payload, size_t len)
{
	pyc_params prm;
	pyc_record_cmd rc;

	FZ_ASSERT(!p->close_sent, "%s after session_close on pipe %u", pyc_msg_type_name(type),
	    p->id);
	if (type == PYC_MSG_SESSION_OPEN) {
		FZ_ASSERT(!p->opened, "second session_open on pipe %u", p->id);
		p->opened = true;
	} else {
		FZ_ASSERT(p->opened, "%s before session_open on pipe %u", pyc_msg_type_name(type),
		    p->id);
	}
	switch (type) {
	case PYC_MSG_SESSION_OPEN:
	case PYC_MSG_SESSION_INIT:
	case PYC_MSG_SESSION_PARAMS:
		FZ_ASSERT(pyc_params_get(payload, len, &prm) == PYC_OK,
		    "%s with parameters the worker refuses", pyc_msg_type_name(type));
		break;
	case PYC_MSG_AUDIO:
		FZ_ASSERT(len > 0, "empty audio message");
		break;
	case PYC_MSG_RECORD:
		FZ_ASSERT(pyc_record_cmd_get(payload, len, &rc) == PYC_OK, "malformed record");
		break;
	case PYC_MSG_SESSION_CLOSE:
		FZ_ASSERT(len == 0, "session_close with a payload");
		p->close_sent = true;
		break;
	default:
		FZ_ASSERT(false, "%s is not for a worker", pyc_msg_type_name(type));
	}
	FZ_ASSERT(fm->n < PYC_BATCH_MAX_ITEMS, "too many items");
	fm->it[fm->n].type = type;
	fm->it[fm->n].seq = seq;
	fm->n++;
	if (G.hooks.on_item != NULL) {
		fz_item it = {p->id, type, seq, payload, len};
		G.hooks.on_item(&it, G.hooks.arg);
	}
}

pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg)
{
	pyc_wire_msg m;
	(void) w;
	fz_pipe *p = pipe_get(pipe);

	FZ_ASSERT(p != NULL, "send to pipe %u that was never leased", pipe);
	FZ_ASSERT(!p->released, "send to pipe %u after its release", pipe);
	if (!p->live)
		return PYC_ECLOSED;
	if (G.eagain)
		return PYC_EAGAIN;
	FZ_ASSERT(p->fl_n < GW_PIPE_WINDOW,
	    "message %d unanswered on pipe %u: nng drops beyond %d", p->fl_n + 1, pipe,
	    GW_PIPE_WINDOW);
	FZ_ASSERT(pyc_wire_msg_decode(msg, &m) == PYC_OK, "message to the worker does not decode");
	FZ_ASSERT(m.flags == 0, "flags %u from the gateway", m.flags);
	FZ_ASSERT(strcmp(m.sid, FZ_SID) == 0, "message for session %s", m.sid);
	fz_msg *fm = &p->fl[(p->fl_head + p->fl_n) % GW_PIPE_WINDOW];
	fm->n = fm->done = 0;
	if (m.type == PYC_MSG_BATCH) {
		pyc_rbuf rb;
		pyc_batch_item it;
		FZ_ASSERT(pyc_batch_check(m.payload, m.payload_len, m.seq) == PYC_OK,
		    "batch of %llu items refused by pyc_batch_check", (unsigned long long) m.seq);
		pyc_rbuf_init(&rb, m.payload, m.payload_len);
		while (pyc_batch_next(&rb, &it) == PYC_OK)
			worker_item(p, fm, it.type, it.seq, it.payload, it.len);
		FZ_ASSERT(fm->n >= 2, "a batch of %d item", fm->n);
	} else {
		worker_item(p, fm, m.type, m.seq, m.payload, m.payload_len);
	}
	p->fl_n++;
	nng_msg_free(msg);
	return PYC_OK;
}

/* A message from pipe p to the registry, as gw_workers.c dispatches it. */
static void from_worker(fz_pipe *p, unsigned type, unsigned flags, uint64_t seq,
    const void *payload, size_t len)
{
	nng_msg *msg;
	pyc_wire_msg m;
	FZ_ASSERT(pyc_wire_msg_new(&msg, type, flags, FZ_SID, seq, payload, len) == PYC_OK,
	    "cannot build %s", pyc_msg_type_name(type));
	FZ_ASSERT(pyc_wire_msg_decode(msg, &m) == PYC_OK, "own message does not decode");
	gw_sessions_worker_ops()->msg(G.r, p->id, msg, &m);
}

/* ---- the harness ---- */

/* gw_ws.c's side of a connection that closed: the registry is told, the
 * connection freed. */
static void conn_drop(void)
{
	gw_conn *c = G.conn;
	if (c == NULL)
		return;
	G.conn = NULL;
	if (c->s != NULL)
		gw_sessions_detach(G.r, c->s, c);
	free(c);
}

static void settle(void)
{
	if (G.conn != NULL && G.conn->close_code != 0)
		conn_drop();
}

void fz_gw_attach(void)
{
	settle();
	gw_conn *c = calloc(1, sizeof(*c));
	FZ_ASSERT(c != NULL, "out of memory");
	c->s = gw_sessions_attach(G.r, FZ_SID, c);
	if (c->s == NULL) {
		free(c); /* closed with 1013 by gw_ws.c */
		return;
	}
	gw_conn *old = G.conn;
	G.conn = c;
	if (old != NULL) {
		FZ_ASSERT(old->s == NULL && old->close_code == 4001,
		    "a connection taken over was not closed with 4001 (%d)", old->close_code);
		free(old);
	}
}

void fz_gw_begin(int grace_s, int idle, const fz_gw_hooks *hooks)
{
	static pyc_config base;
	static bool loaded;
	char err[256];

	fz_quiet();
	if (!loaded) {
		FZ_ASSERT(pyc_config_load(&base, err, sizeof(err)) == PYC_OK, "config: %s", err);
		loaded = true;
	}
	FZ_ASSERT(!G.on, "fz_gw_begin twice");
	memset(&G, 0, sizeof(G));
	G.on = true;
	G.cfg = base;
	G.cfg.session_grace_s = grace_s;
	G.idle = idle;
	if (hooks != NULL)
		G.hooks = *hooks;
	G.created0 = atomic_load(&gw_stats.sessions_total);
	FZ_ASSERT(gw_sessions_create(&G.r, &G.cfg, NULL) == PYC_OK, "gw_sessions_create");
	fz_gw_attach();
	FZ_ASSERT(G.conn != NULL, "first attach refused");
}

void fz_gw_text(const char *text, size_t len)
{
	settle();
	if (G.conn != NULL && G.conn->s != NULL && !G.conn->paused)
		gw_sessions_text(G.r, G.conn->s, text, len);
}

void fz_gw_audio(const uint8_t *data, size_t len)
{
	settle();
	if (G.conn != NULL && G.conn->s != NULL && !G.conn->paused)
		gw_sessions_audio(G.r, G.conn->s, data, len);
}

void fz_gw_detach(void)
{
	settle();
	conn_drop();
}

void fz_gw_offer(int n)
{
	G.idle += n;
}

bool fz_gw_complete(void)
{
	static char buf[1 << 18]; /* a meter with 256 bands and 4096 waveform points fits */
	fz_pipe *p = pipe_get(G.cur);

	settle();
	if (p == NULL || !p->live || p->fl_n == 0)
		return false;
	fz_msg *fm = &p->fl[p->fl_head];
	p->fl_head = (p->fl_head + 1) % GW_PIPE_WINDOW;
	p->fl_n--;
	/* the chunk a meter would follow: a single chunk, or a batch's last */
	fz_sent last = fm->it[fm->n - 1];
	uint64_t audio = 0;
	for (int i = 0; i < fm->n; i++)
		if (fm->it[i].type == PYC_MSG_AUDIO)
			audio = fm->it[i].seq;
	if (audio != 0) {
		size_t n = G.hooks.meter != NULL ?
		    G.hooks.meter(p->id, audio, buf, sizeof(buf), G.hooks.arg) : 0;
		if (n > 0)
			from_worker(p, PYC_MSG_METER, 0, audio, buf, n);
		else
			from_worker(p, PYC_MSG_ACK, 0, audio, NULL, 0);
	} else if (fm->n == 1 && last.type == PYC_MSG_SESSION_CLOSE) {
		from_worker(p, PYC_MSG_SESSION_CLOSED, 0, last.seq, NULL, 0);
	} else {
		from_worker(p, PYC_MSG_ACK, PYC_WIRE_F_REPLY, fm->n > 1 ? (uint64_t) fm->n : last.seq,
		    NULL, 0);
	}
	return true;
}

void fz_gw_event(const uint8_t *data, size_t n)
{
	fz_pipe *p = pipe_get(G.cur);
	settle();
	if (p == NULL || !p->live)
		return;
	cJSON *o = cJSON_ParseWithLength((const char *) data, n);
	if (o == NULL || !cJSON_IsObject(o) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "type")))
		G.raw_events = true;
	cJSON_Delete(o);
	from_worker(p, PYC_MSG_EVENT, 0, 0, data, n);
}

void fz_gw_monitor(const uint8_t *data, size_t n)
{
	fz_pipe *p = pipe_get(G.cur);
	settle();
	if (p != NULL && p->live)
		from_worker(p, PYC_MSG_MONITOR, 0, 0, data, n);
}

void fz_gw_closed(void)
{
	fz_pipe *p = pipe_get(G.cur);
	settle();
	if (p != NULL && p->live)
		from_worker(p, PYC_MSG_SESSION_CLOSED, 0, 0, NULL, 0);
}

void fz_gw_gone(void)
{
	fz_pipe *p = pipe_get(G.cur);
	settle();
	if (p == NULL || !p->live)
		return;
	p->live = false;
	p->fl_n = 0;
	G.cur = 0;
	/* gw_workers.c forgets the lease of a pipe that went away */
	p->released = true;
	gw_sessions_worker_ops()->gone(G.r, p->id);
}

void fz_gw_eagain(bool on)
{
	G.eagain = on;
}

void fz_gw_tick(void)
{
	settle();
	gw_sessions_tick(G.r);
}

void fz_gw_end(void)
{
	int i;

	settle();
	gw_sessions_end_all(G.r);
	if (G.conn != NULL) {
		FZ_ASSERT(G.conn->s == NULL, "a connection kept its session after end_all");
		FZ_ASSERT(G.conn->close_code != 0, "a connection left open after end_all");
		free(G.conn);
		G.conn = NULL;
	}
	G.eagain = false;
	for (i = 0; i < FZ_DRAIN_MAX; i++) {
		gw_sessions_tick(G.r);
		if (!fz_gw_complete())
			break;
	}
	FZ_ASSERT(i < FZ_DRAIN_MAX, "the worker kept getting messages after end_all");
	FZ_ASSERT(gw_sessions_count(G.r) == 0,
	    "%d sessions left after end_all and every answer of the worker",
	    gw_sessions_count(G.r));
	unsigned long created = atomic_load(&gw_stats.sessions_total) - G.created0;
	FZ_ASSERT((unsigned long) G.ended >= created,
	    "%lu sessions created, %d session_ended notices", created, G.ended);
	gw_sessions_destroy(G.r);
	G.r = NULL;
	G.on = false;
}
