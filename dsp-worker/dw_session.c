/* dw_session.c - one worker process serving one session's audio in order.
 *
 * NOTES: a single thread of our own runs everything: one ppoll() over the
 * gateway socket's and the recorder socket's receive descriptors
 * (NNG_OPT_RECVFD), the host socket and a wake pipe that nng's pipe
 * callbacks write to, with SIGTERM unblocked only inside ppoll (so no nng
 * thread ever takes it). Messages of the session are applied strictly in
 * arrival order; waiting for the recorder's answer to rec_stop never blocks
 * audio: the answer is matched when it arrives, or timed out.
 *
 * Sends: monitor audio is droppable (non-blocking; a full queue drops it
 * and counts); meters, acks, events (ready, recording_saved, error) and
 * session_closed are sent blocking with a bounded send timeout. Recording
 * appends are non-blocking into a deep send buffer; a full one fails the
 * recording (it is reported, never silent).
 *
 * Completions (docs/wire.md, "Flow control"): every message from the
 * gateway is completed by exactly one answer, in arrival order: an audio
 * chunk by its meter or an ack with its seq, session_open, session_init,
 * session_params and record by an ack with the reply flag and the
 * message's seq, session_close by session_closed. A batch is one message:
 * its items are handled in order as if each had arrived alone (events and
 * errors go out as they happen), but the batch gets one answer, after its
 * last item: the meter computed after its last analysed chunk (seq = that
 * chunk), or, when no chunk of it was analysed or the meter rate cap
 * holds the meter back, an ack (with the reply flag and the batch's seq
 * when it held no analysed chunk). The gateway batches only when a
 * session's queue has grown (the worker is behind), so the meters of the
 * earlier chunks of a batch would be replaced before the client could read
 * them; not building them is most of what a batch saves on the way back.
 * The gateway keeps at most two messages unanswered per worker, so these
 * answers, with the events, stay below DW_GW_SENDBUF and are never
 * dropped.
 *
 * Flow control: the backlog is a leaky bucket of audio seconds that drains
 * at wall-clock speed and never goes below zero: a chunk that would bring
 * it over DSP_MAX_BACKLOG_SECONDS is dropped, counted, acked, and reported
 * with a too_fast error at most once a second. A capped meter rate is
 * measured in wall time; a chunk without a meter is acked at once.
 */
#include "dw_session.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "dw_host.h"
#include "dw_meter_json.h"
#include "dw_pipeline.h"
#include "dw_proctitle.h"
#include "pyc_log.h"
#include "pyc_sock.h"
#include "pyc_wire.h"

#define DW_TOO_FAST_INTERVAL_MS 1000
#define DW_GW_SENDBUF 256
#define DW_REC_SENDBUF 4096
#define DW_MAX_PENDING 16
#define DW_DRAIN_BATCH 64
#define DW_LINGER_MS 50
#define DW_REC_WAIT_MS 1000 /* after start, how long the hello waits for the recorder */

typedef enum dw_wstate {
	DW_W_IDLE = 0, /* waiting for session_open */
	DW_W_BUSY,     /* bound to a session */
	DW_W_CLOSING,  /* finishing: recordings being stopped, then exit */
} dw_wstate;

static const char *const wstate_names[] = {"idle", "busy", "closing"};

/* A recording whose rec_stop was sent. The recorder finishes recordings
 * on several threads, so the answers for two recordings may come in
 * either order; an answer is kept here until every earlier recording's is
 * out, so the client gets them in the order of its stop_record commands. */
typedef struct pending_stop {
	uint64_t gen;
	int64_t deadline_ns;
	bool answered;
	pyc_rec_result res;
} pending_stop;

typedef struct worker {
	const pyc_config *cfg;
	int host_fd;
	nng_socket gw;
	nng_socket rec;
	int gw_fd;
	int rec_fd;
	int wake_rd, wake_wr;
	atomic_int gw_adds, gw_rems, rec_adds, rec_rems;
	pyc_redial gw_dial, rec_dial;
	int seen_gw_adds, seen_gw_rems, seen_rec_rems;
	bool gw_up;
	bool hello_due;      /* the gateway is (re)connected, no hello sent yet */
	int64_t started_ns;

	dw_wstate state;
	char sid[PYC_SESSION_ID_MAX + 1];
	pyc_params params; /* in force (cutoff as asked; the engine clamps) */
	dw_pipeline *pl;
	int16_t *out;
	size_t out_cap; /* samples */
	char *jbuf;
	size_t jcap;

	/* flow control */
	double backlog_s;
	int64_t backlog_t_ns;
	uint64_t dropped_chunks;
	int64_t last_too_fast_ns;
	int64_t last_meter_ns;
	bool in_batch;          /* handling a batch's items: no answer per item */
	uint64_t batch_analysed; /* seq of its last analysed chunk, 0 if none */
	uint64_t chunks;
	uint64_t last_audio_seq;
	uint64_t lost_chunks; /* gaps in the gateway's audio numbering */
	uint64_t send_drops;

	/* recording */
	bool recording;
	uint64_t rec_gen;
	uint64_t failed_gen;
	uint64_t rec_frames;
	pending_stop pend[DW_MAX_PENDING];
	int npend;
	uint64_t bad_msgs;
} worker;

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void) sig;
	got_term = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void set_state(worker *w, dw_wstate s)
{
	if (w->state == s)
		return;
	pyc_log(PYC_LOG_DEBUG, "worker state %s -> %s", wstate_names[w->state],
	    wstate_names[s]);
	w->state = s;
}

static void wake(worker *w)
{
	char c = 1;
	ssize_t r = write(w->wake_wr, &c, 1);
	(void) r;
}

/* nng pipe callbacks run on nng threads: count and wake the main loop.
 * A pipe is counted on ADD_PRE, not ADD_POST: nng 1.5.2 runs REM_POST for
 * every pipe that had ADD_PRE, also one closed before ADD_POST (a peer
 * killed while the connection was being set up), so counting ADD_POST
 * would leave one removal too many and the pipe seen as down for good. */
static void gw_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	worker *w = arg;
	(void) p;
	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_fetch_add(&w->gw_adds, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_add(&w->gw_rems, 1);
	wake(w);
}

static void rec_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	worker *w = arg;
	(void) p;
	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_fetch_add(&w->rec_adds, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_add(&w->rec_rems, 1);
	wake(w);
}

static void host_note(worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void host_note(worker *w, const char *fmt, ...)
{
	char buf[DW_NOTE_MAX];
	va_list ap;
	if (w->host_fd < 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= sizeof(buf))
		n = (int) sizeof(buf) - 1;
	if (send(w->host_fd, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pyc_log(PYC_LOG_DEBUG, "note to host: %s", strerror(errno));
}

/* ---- sending ---- */

static int gw_send(worker *w, unsigned type, uint64_t seq, const void *p,
    size_t n, bool droppable)
{
	nng_msg *m;
	int rv;
	if (pyc_wire_msg_new(&m, type, 0, w->sid, seq, p, n) != PYC_OK)
		return -1;
	if ((rv = nng_sendmsg(w->gw, m, droppable ? NNG_FLAG_NONBLOCK : 0)) != 0) {
		nng_msg_free(m);
		w->send_drops++;
		if (!droppable)
			pyc_log(PYC_LOG_WARN, "session %.8s: %s not sent: %s", w->sid,
			    pyc_msg_type_name(type), nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void send_event(worker *w, char *json)
{
	if (json == NULL) {
		pyc_log(PYC_LOG_ERROR, "session %.8s: event not built: out of memory", w->sid);
		return;
	}
	gw_send(w, PYC_MSG_EVENT, 0, json, strlen(json), false);
	dw_json_free(json);
}

static void send_error(worker *w, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void send_error(worker *w, const char *code, const char *fmt, ...)
{
	char msg[PYC_MESSAGE_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pyc_log(PYC_LOG_INFO, "session %.8s: error %s: %s", w->sid, code, msg);
	send_event(w, dw_error_json(code, msg));
}

/* Completes an audio chunk that gets no meter (inside a batch the batch
 * is completed once, at its end). */
static void send_ack(worker *w, uint64_t seq)
{
	if (w->in_batch)
		return;
	gw_send(w, PYC_MSG_ACK, seq, NULL, 0, false);
}

/* Completes a message that was not handled as the session's audio (a
 * command, or anything dropped as not for this session): an ack with the
 * reply flag and the message's sid and seq. */
static void send_done(worker *w, const pyc_wire_msg *m)
{
	nng_msg *a;
	int rv;
	if (pyc_wire_msg_new(&a, PYC_MSG_ACK, PYC_WIRE_F_REPLY, m->sid, m->seq, NULL, 0) !=
	    PYC_OK)
		return;
	if ((rv = nng_sendmsg(w->gw, a, 0)) != 0) {
		nng_msg_free(a);
		w->send_drops++;
		pyc_log(PYC_LOG_WARN, "session %.8s: ack of %s not sent: %s", m->sid,
		    pyc_msg_type_name(m->type), nng_strerror(rv));
	}
}

static void send_hello(worker *w)
{
	pyc_worker_hello h;
	uint8_t buf[128];
	pyc_wbuf wb;
	nng_msg *m;
	memset(&h, 0, sizeof(h));
	snprintf(h.host_id, sizeof(h.host_id), "%s", w->cfg->host_id);
	h.pid = (uint32_t) getpid();
	pyc_wbuf_init(&wb, buf, sizeof(buf));
	pyc_worker_hello_put(&wb, &h);
	if (pyc_wire_msg_from_wbuf(&m, PYC_MSG_WORKER_HELLO, 0, "", 0, &wb) != PYC_OK)
		return;
	if (nng_sendmsg(w->gw, m, NNG_FLAG_NONBLOCK) != 0) {
		nng_msg_free(m);
		pyc_log(PYC_LOG_WARN, "worker_hello not sent");
		return;
	}
	pyc_log(PYC_LOG_DEBUG, "worker_hello sent");
}

/* ---- titles ---- */

static void title_idle(void)
{
	dw_proctitle_set("pyc-dsp idle", "pycoustics-dsp: idle");
}

static void title_session(worker *w)
{
	char comm[16];
	snprintf(comm, sizeof(comm), "pyc-dsp %.7s", w->sid);
	dw_proctitle_set(comm, "pycoustics-dsp: session %.8s%s (%d Hz, %d ch)", w->sid,
	    strlen(w->sid) > 8 ? "\xe2\x80\xa6" : "", (int) w->params.sample_rate,
	    (int) w->params.channels);
	host_note(w, "busy %.8s %d %d", w->sid, (int) w->params.sample_rate,
	    (int) w->params.channels);
}

/* ---- recording ---- */

static int rec_send(worker *w, unsigned type, uint64_t seq, const void *p, size_t n)
{
	nng_msg *m;
	int rv;
	if (pyc_wire_msg_new(&m, type, 0, w->sid, seq, p, n) != PYC_OK)
		return PYC_ENOMEM;
	if ((rv = nng_sendmsg(w->rec, m, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(m);
		pyc_log(PYC_LOG_WARN, "session %.8s: %s to recorder: %s", w->sid,
		    pyc_msg_type_name(type), nng_strerror(rv));
		return pyc_err_from_nng(rv);
	}
	return PYC_OK;
}

static char *settings_json(const pyc_params *p)
{
	char tmp[32];
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	if (o == NULL)
		return NULL;
	dw_fmt_fixed(tmp, p->gain_db, 2);
	if (cJSON_AddRawToObject(o, "gain", tmp) == NULL ||
	    cJSON_AddBoolToObject(o, "filter_enabled", p->filter_enabled != 0) == NULL)
		goto out;
	dw_fmt_fixed(tmp, p->cutoff_hz, 2);
	if (cJSON_AddRawToObject(o, "cutoff_freq", tmp) == NULL)
		goto out;
	dw_fmt_fixed(tmp, p->integration_s, 4);
	if (cJSON_AddRawToObject(o, "integration_time", tmp) == NULL)
		goto out;
	s = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return s;
}

static void record_start(worker *w)
{
	pyc_rec_start rs;
	pyc_params eff;
	uint8_t buf[PYC_SETTINGS_MAX + 32];
	pyc_wbuf wb;

	if (w->recording) {
		send_error(w, "already_recording", "a recording is already running");
		return;
	}
	if (atomic_load(&w->rec_adds) - atomic_load(&w->rec_rems) <= 0) {
		/* pair1 would queue for a recorder that may never come. */
		send_error(w, "recording_failed", "the recorder is not reachable");
		return;
	}
	if (w->npend >= DW_MAX_PENDING) {
		send_error(w, "recording_failed", "too many recordings still being saved");
		return;
	}
	memset(&rs, 0, sizeof(rs));
	dw_pipeline_params(w->pl, &eff);
	rs.sample_rate = (uint32_t) eff.sample_rate;
	rs.channels = (uint32_t) eff.channels;
	char *sj = settings_json(&eff);
	if (sj == NULL || strlen(sj) > PYC_SETTINGS_MAX) {
		dw_json_free(sj);
		send_error(w, "recording_failed", "out of memory");
		return;
	}
	snprintf(rs.settings_json, sizeof(rs.settings_json), "%s", sj);
	dw_json_free(sj);
	pyc_wbuf_init(&wb, buf, sizeof(buf));
	pyc_rec_start_put(&wb, &rs);
	w->rec_gen++;
	if (wb.err != PYC_OK ||
	    rec_send(w, PYC_MSG_REC_START, w->rec_gen, wb.buf, wb.len) != PYC_OK) {
		send_error(w, "recording_failed", "the recorder is not reachable");
		return;
	}
	w->recording = true;
	w->rec_frames = 0;
	pyc_log(PYC_LOG_INFO, "session %.8s: recording %llu started (%d Hz, %d ch)",
	    w->sid, (unsigned long long) w->rec_gen, (int) rs.sample_rate,
	    (int) rs.channels);
}

/* Sends rec_stop for the running recording and waits for the answer
 * asynchronously. quiet: a failure of this recording was already reported. */
static void record_stop(worker *w, bool quiet)
{
	if (!w->recording)
		return;
	w->recording = false;
	if (quiet)
		w->failed_gen = w->rec_gen;
	if (rec_send(w, PYC_MSG_REC_STOP, w->rec_gen, NULL, 0) != PYC_OK) {
		if (!quiet)
			send_error(w, "recording_failed",
			    "the recorder is not reachable to finish the recording");
		return;
	}
	pending_stop *p = &w->pend[w->npend++];
	memset(p, 0, sizeof(*p));
	p->gen = w->rec_gen;
	p->deadline_ns = now_ns() + (int64_t) w->cfg->request_timeout_ms * 1000000LL;
	pyc_log(PYC_LOG_INFO, "session %.8s: recording %llu stopping after %llu frames",
	    w->sid, (unsigned long long) w->rec_gen, (unsigned long long) w->rec_frames);
}

static void record_fail(worker *w, const char *msg)
{
	if (!w->recording)
		return;
	send_error(w, "recording_failed", "%s", msg);
	record_stop(w, true);
}

/* Tells the client how recording gen ended: recording_saved, or an error
 * unless its failure was already reported. */
static void pend_report(worker *w, uint64_t gen, const pyc_rec_result *r)
{
	if (r->status == PYC_OK) {
		pyc_log(PYC_LOG_INFO, "session %.8s: recording saved: %s (%.3f s)", w->sid,
		    r->filename, r->duration_s);
		send_event(w, dw_saved_json(r->id, r->filename, r->duration_s));
	} else if (w->failed_gen != gen) {
		send_error(w, "recording_failed", "%s",
		    r->message[0] ? r->message : pyc_strerror(r->status));
	}
}

static void pend_pop(worker *w)
{
	memmove(&w->pend[0], &w->pend[1], sizeof(w->pend[0]) * (size_t) (w->npend - 1));
	w->npend--;
}

/* Reports, oldest first, the stops that are answered or past their
 * deadline, up to the first one still waiting. */
static void pend_release(worker *w, int64_t now)
{
	while (w->npend > 0) {
		pending_stop *p = &w->pend[0];
		if (p->answered) {
			pend_report(w, p->gen, &p->res);
		} else if (now >= p->deadline_ns) {
			if (w->failed_gen != p->gen)
				send_error(w, "recording_failed",
				    "the recorder did not confirm the recording within %d ms",
				    w->cfg->request_timeout_ms);
		} else {
			return;
		}
		pend_pop(w);
	}
}

/* Keeps the recorder's answer to the rec_stop of recording gen (one not
 * found by its number goes to the oldest unanswered stop) and reports
 * what is now in order. */
static void pend_answer(worker *w, uint64_t gen, const pyc_rec_result *r)
{
	int i, first = -1;
	for (i = 0; i < w->npend; i++) {
		if (w->pend[i].answered)
			continue;
		if (first < 0)
			first = i;
		if (w->pend[i].gen == gen)
			break;
	}
	if (i == w->npend)
		i = first;
	if (i < 0)
		return;
	w->pend[i].answered = true;
	w->pend[i].res = *r;
	pend_release(w, now_ns());
}

static void on_rec_msg(worker *w, const pyc_wire_msg *m)
{
	pyc_rec_result r;
	if (pyc_rec_result_get(m->payload, m->payload_len, &r) != PYC_OK) {
		pyc_log(PYC_LOG_WARN, "session %.8s: malformed %s from the recorder",
		    w->sid, pyc_msg_type_name(m->type));
		return;
	}
	if (m->type == PYC_MSG_REC_START && (m->flags & PYC_WIRE_F_REPLY)) {
		if (r.status != PYC_OK && w->recording && m->seq == w->rec_gen) {
			w->recording = false;
			w->failed_gen = m->seq;
			send_error(w, "recording_failed", "%s",
			    r.message[0] ? r.message : pyc_strerror(r.status));
		}
		return;
	}
	if (m->type == PYC_MSG_REC_STOP && (m->flags & PYC_WIRE_F_REPLY)) {
		pend_answer(w, m->seq, &r);
		return;
	}
	if (m->type == PYC_MSG_REC_ERROR) {
		if (w->recording) {
			record_fail(w, r.message[0] ? r.message : pyc_strerror(r.status));
		} else if (w->npend > 0 && w->failed_gen != w->pend[w->npend - 1].gen) {
			w->failed_gen = w->pend[w->npend - 1].gen;
			send_error(w, "recording_failed", "%s",
			    r.message[0] ? r.message : pyc_strerror(r.status));
		}
		return;
	}
	pyc_log(PYC_LOG_WARN, "session %.8s: unexpected %s from the recorder", w->sid,
	    pyc_msg_type_name(m->type));
}

/* ---- the session's messages ---- */

static size_t out_bytes_le(int16_t *s, size_t n)
{
	(void) s;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (size_t i = 0; i < n; i++)
		s[i] = (int16_t) __builtin_bswap16((uint16_t) s[i]);
#endif
	return n * sizeof(int16_t);
}

static void send_ready(worker *w)
{
	pyc_params eff;
	float hz[PYC_BANDS_MAX > PYC_METER_BANDS ? PYC_BANDS_MAX : PYC_METER_BANDS];
	dw_pipeline_params(w->pl, &eff);
	int n = eff.bands > 0 ? eff.bands : PYC_METER_BANDS;
	if (eff.bands == PYC_BANDS_THIRD_OCTAVE) {
		const float *t = dw_pipeline_band_hz(w->pl, &n);
		send_event(w, dw_ready_json(&eff, t, n));
		return;
	}
	dw_band_centres(eff.sample_rate, n, hz);
	send_event(w, dw_ready_json(&eff, hz, n));
}

/* Applies p (fields in p->mask) to the session. */
static int apply_params(worker *w, const pyc_params *p)
{
	pyc_params next = w->params;
	pyc_err rv;
	pyc_params_merge(&next, p);
	bool fmt_change = next.sample_rate != w->params.sample_rate ||
	    next.channels != w->params.channels;
	if (fmt_change && w->recording) {
		/* A WAV has one rate and channel count: finish it first. */
		pyc_log(PYC_LOG_INFO, "session %.8s: format change ends the recording", w->sid);
		record_stop(w, false);
	}
	next.mask = PYC_P_ALL | (p->mask & PYC_P_LOUDNESS_RESET);
	if ((rv = dw_pipeline_set_params(w->pl, &next)) != PYC_OK) {
		send_error(w, "out_of_range", "parameters refused by the engine: %s",
		    pyc_strerror(rv));
		return -1;
	}
	next.mask = PYC_P_ALL;
	w->params = next;
	if (fmt_change) {
		w->backlog_s = 0;
		title_session(w);
	}
	return 0;
}

static int get_params(worker *w, const pyc_wire_msg *m, pyc_params *p, const char *what);

static void on_open(worker *w, const pyc_wire_msg *m)
{
	pyc_params p;

	if (w->state != DW_W_IDLE) {
		pyc_log(PYC_LOG_WARN, "session_open for %.8s while serving %.8s: ignored",
		    m->sid, w->sid);
		return;
	}
	if (m->sid[0] == '\0') {
		pyc_log(PYC_LOG_WARN, "session_open without a session id: ignored");
		w->bad_msgs++;
		return;
	}
	snprintf(w->sid, sizeof(w->sid), "%s", m->sid);
	set_state(w, DW_W_BUSY);
	if (get_params(w, m, &p, "session_open") != 0)
		p.mask = 0; /* serve the session with the defaults */
	pyc_params_defaults(&w->params);
	title_session(w);
	apply_params(w, &p);
	pyc_log(PYC_LOG_INFO, "session %.8s: opened (%d Hz, %d ch)", w->sid,
	    (int) w->params.sample_rate, (int) w->params.channels);
	if (p.mask & PYC_P_RATE)
		send_ready(w);
}

/* Decodes a params payload; on failure sends the error (out_of_range when
 * the payload is well formed but a value is out of range, else
 * bad_message) and returns -1. */
static int get_params(worker *w, const pyc_wire_msg *m, pyc_params *p, const char *what)
{
	static size_t wire_len;
	const char *bad = NULL;
	if (wire_len == 0) {
		uint8_t buf[256];
		pyc_wbuf wb;
		pyc_params d;
		pyc_params_defaults(&d);
		pyc_wbuf_init(&wb, buf, sizeof(buf));
		pyc_params_put(&wb, &d);
		wire_len = wb.len;
	}
	pyc_params_defaults(p);
	if (pyc_params_get(m->payload, m->payload_len, p) == PYC_OK)
		return 0;
	if (m->payload_len == wire_len && pyc_params_check(p, &bad) != PYC_OK && bad != NULL)
		send_error(w, "out_of_range", "%s refused: %s out of range", what, bad);
	else
		send_error(w, "bad_message", "%s refused: malformed parameters", what);
	return -1;
}

static void on_params(worker *w, const pyc_wire_msg *m, bool init)
{
	pyc_params p;
	if (get_params(w, m, &p, init ? "init" : "set_params") != 0)
		return;
	if (apply_params(w, &p) == 0 && init)
		send_ready(w);
}

static void maybe_meter(worker *w, uint64_t seq, int64_t now)
{
	double rate = w->params.max_meter_rate;
	if (rate > 0 && w->last_meter_ns != 0 &&
	    (double) (now - w->last_meter_ns) < 1e9 / rate) {
		send_ack(w, seq);
		return;
	}
	dw_meter mt;
	dw_pipeline_meter(w->pl, &mt);
	size_t need = dw_meter_json_bound(&mt);
	if (need > w->jcap) {
		char *nb = realloc(w->jbuf, need);
		if (nb == NULL) {
			send_ack(w, seq);
			return;
		}
		w->jbuf = nb;
		w->jcap = need;
	}
	size_t n = dw_meter_json(w->jbuf, w->jcap, seq, &mt);
	if (n == 0) {
		send_ack(w, seq);
		return;
	}
	gw_send(w, PYC_MSG_METER, seq, w->jbuf, n, false);
	w->last_meter_ns = now;
}

static void on_audio(worker *w, const pyc_wire_msg *m)
{
	int64_t now = now_ns();
	int ch = w->params.channels;
	size_t frames = m->payload_len / (size_t) (2 * ch);
	pyc_err rv;

	w->chunks++;
	if (w->last_audio_seq != 0 && m->seq > w->last_audio_seq + 1) {
		/* Lost between the gateway and here: the gateway's problem, but
		 * it must show in the logs. */
		w->lost_chunks += m->seq - w->last_audio_seq - 1;
		pyc_log(PYC_LOG_WARN, "session %.8s: audio %llu..%llu never arrived", w->sid,
		    (unsigned long long) w->last_audio_seq + 1, (unsigned long long) m->seq - 1);
	}
	if (m->seq > w->last_audio_seq)
		w->last_audio_seq = m->seq;
	if (frames > (size_t) w->cfg->max_chunk_frames) {
		send_error(w, "out_of_range",
		    "audio chunk of %zu frames exceeds the limit of %d frames", frames,
		    w->cfg->max_chunk_frames);
		send_ack(w, m->seq);
		return;
	}
	/* Backlog: audio seconds ahead of the wall clock. */
	double chunk_s = (double) frames / (double) w->params.sample_rate;
	if (w->backlog_t_ns != 0) {
		w->backlog_s -= (double) (now - w->backlog_t_ns) / 1e9;
		if (w->backlog_s < 0)
			w->backlog_s = 0;
	}
	w->backlog_t_ns = now;
	if (w->backlog_s > 0 && w->backlog_s + chunk_s > w->cfg->max_backlog_s) {
		w->dropped_chunks++;
		if (w->last_too_fast_ns == 0 ||
		    now - w->last_too_fast_ns >= DW_TOO_FAST_INTERVAL_MS * 1000000LL) {
			w->last_too_fast_ns = now;
			send_error(w, "too_fast",
			    "audio arrives faster than real time: %.2f s ahead, limit %.2f s; "
			    "%llu chunks dropped so far",
			    w->backlog_s, w->cfg->max_backlog_s,
			    (unsigned long long) w->dropped_chunks);
		}
		send_ack(w, m->seq);
		return;
	}
	w->backlog_s += chunk_s;

	size_t fo = 0;
	rv = dw_pipeline_process(w->pl, m->payload, m->payload_len, w->out, &fo);
	if (rv != PYC_OK) {
		send_error(w, "bad_message", "audio chunk refused: %s", pyc_strerror(rv));
		send_ack(w, m->seq);
		return;
	}
	size_t nbytes = out_bytes_le(w->out, fo * (size_t) ch);
	if (w->recording && fo > 0) {
		if (rec_send(w, PYC_MSG_REC_APPEND, m->seq, w->out, nbytes) != PYC_OK)
			record_fail(w, "the recorder does not keep up; recording stopped");
		else
			w->rec_frames += fo;
	}
	if (w->params.monitor && fo > 0)
		gw_send(w, PYC_MSG_MONITOR, m->seq, w->out, nbytes, true);
	if (w->in_batch)
		w->batch_analysed = m->seq;
	else
		maybe_meter(w, m->seq, now);
}

static void on_record(worker *w, const pyc_wire_msg *m)
{
	pyc_record_cmd c;
	if (pyc_record_cmd_get(m->payload, m->payload_len, &c) != PYC_OK) {
		send_error(w, "bad_message", "malformed record command");
		return;
	}
	if (c.start)
		record_start(w);
	else if (w->recording)
		record_stop(w, false);
	else
		send_error(w, "not_recording", "no recording is running");
}

/* The session is over (close, gateway gone, SIGTERM, host gone): finish
 * any recording, wait (bounded) for the recorder, then return. */
static void finish(worker *w, const char *why, bool send_closed);

/* Applies one message of the gateway; false if it is not completed here
 * (audio completes itself with a meter or an ack, session_close with
 * session_closed). */
static bool apply_gw_msg(worker *w, const pyc_wire_msg *m)
{
	if (m->flags != 0) {
		w->bad_msgs++;
		pyc_log(PYC_LOG_WARN, "unexpected reply %s from the gateway, dropped",
		    pyc_msg_type_name(m->type));
		return true;
	}
	if (m->type == PYC_MSG_SESSION_OPEN) {
		on_open(w, m);
		return true;
	}
	if (w->state != DW_W_BUSY) {
		pyc_log(PYC_LOG_WARN, "%s while %s, dropped", pyc_msg_type_name(m->type),
		    wstate_names[w->state]);
		return true;
	}
	if (strcmp(m->sid, w->sid) != 0) {
		w->bad_msgs++;
		pyc_log(PYC_LOG_WARN, "%s for session %.8s on %.8s's worker, dropped",
		    pyc_msg_type_name(m->type), m->sid, w->sid);
		return true;
	}
	switch (m->type) {
	case PYC_MSG_AUDIO:
		on_audio(w, m);
		return false;
	case PYC_MSG_SESSION_INIT:
		on_params(w, m, true);
		return true;
	case PYC_MSG_SESSION_PARAMS:
		on_params(w, m, false);
		return true;
	case PYC_MSG_RECORD:
		on_record(w, m);
		return true;
	case PYC_MSG_SESSION_CLOSE:
		finish(w, "session closed", true);
		return false;
	default:
		w->bad_msgs++;
		pyc_log(PYC_LOG_WARN, "session %.8s: unexpected %s from the gateway, dropped",
		    w->sid, pyc_msg_type_name(m->type));
		return true;
	}
}

/* A batch: each item is handled exactly as the message it stands for
 * (same sid, its type, seq and payload), in order; then the batch gets its
 * one answer (module NOTES). The whole batch is checked first, so either
 * every item is handled or (malformed: it cannot come from the gateway)
 * none. */
static void on_batch(worker *w, const pyc_wire_msg *b)
{
	pyc_wire_msg m;
	pyc_batch_item it;
	pyc_rbuf r;

	if (b->flags != 0 || pyc_batch_check(b->payload, b->payload_len, b->seq) != PYC_OK) {
		w->bad_msgs++;
		pyc_log(PYC_LOG_WARN, "malformed batch from the gateway, dropped");
		return;
	}
	m = *b;
	w->in_batch = true;
	w->batch_analysed = 0;
	pyc_rbuf_init(&r, b->payload, b->payload_len);
	while (pyc_batch_next(&r, &it) == PYC_OK) {
		m.type = it.type;
		m.seq = it.seq;
		m.payload = it.payload;
		m.payload_len = it.len;
		(void) apply_gw_msg(w, &m);
	}
	w->in_batch = false;
	if (w->batch_analysed != 0)
		maybe_meter(w, w->batch_analysed, now_ns());
	else
		send_done(w, b);
}

/* Every message that decodes gets exactly one completion (module NOTES),
 * a batch one for all its items; one that does not decode cannot come
 * from the gateway and gets none. */
static void on_gw_msg(worker *w, nng_msg *msg)
{
	pyc_wire_msg m;
	pyc_err rv;

	if ((rv = pyc_wire_msg_decode(msg, &m)) != PYC_OK) {
		w->bad_msgs++;
		pyc_log(PYC_LOG_WARN, "malformed message from the gateway (%s), dropped",
		    pyc_err_name(rv));
		return;
	}
	if (m.type == PYC_MSG_BATCH) {
		on_batch(w, &m);
		return;
	}
	if (apply_gw_msg(w, &m))
		send_done(w, &m);
}

static void drain_rec(worker *w)
{
	for (int i = 0; i < DW_DRAIN_BATCH; i++) {
		nng_msg *msg;
		pyc_wire_msg m;
		if (nng_recvmsg(w->rec, &msg, NNG_FLAG_NONBLOCK) != 0)
			return;
		if (pyc_wire_msg_decode(msg, &m) != PYC_OK)
			pyc_log(PYC_LOG_WARN, "malformed message from the recorder, dropped");
		else
			on_rec_msg(w, &m);
		nng_msg_free(msg);
	}
}

static void check_rec_pipe(worker *w)
{
	int r = atomic_load(&w->rec_rems);
	if (r == w->seen_rec_rems)
		return;
	w->seen_rec_rems = r;
	pyc_log(PYC_LOG_WARN, "the recorder's pipe went away");
	if (w->recording) {
		w->recording = false;
		w->failed_gen = w->rec_gen;
		send_error(w, "recording_failed",
		    "the recorder went away; what was written is kept");
	}
	/* No answer will come for stops not answered yet: in order, the
	 * answered ones are reported and the others failed. */
	while (w->npend > 0) {
		pending_stop *p = &w->pend[0];
		if (p->answered) {
			pend_report(w, p->gen, &p->res);
		} else if (w->failed_gen != p->gen) {
			w->failed_gen = p->gen;
			send_error(w, "recording_failed",
			    "the recorder went away before confirming the recording");
		}
		pend_pop(w);
	}
}

static void linger(void)
{
	struct timespec ts = {0, DW_LINGER_MS * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void finish(worker *w, const char *why, bool send_closed)
{
	set_state(w, DW_W_CLOSING);
	pyc_log(PYC_LOG_INFO, "session %.8s: ending (%s): %llu chunks, %llu dropped",
	    w->sid, why, (unsigned long long) w->chunks,
	    (unsigned long long) w->dropped_chunks);
	host_note(w, "done");
	record_stop(w, false);
	while (w->npend > 0) {
		int64_t now = now_ns();
		pend_release(w, now);
		if (w->npend == 0)
			break;
		int64_t wait_ms = (w->pend[0].deadline_ns - now) / 1000000 + 1;
		struct pollfd pf[2] = {{w->rec_fd, POLLIN, 0}, {w->wake_rd, POLLIN, 0}};
		int r = poll(pf, 2, (int) (wait_ms > 1000 ? 1000 : wait_ms));
		if (r > 0 && (pf[1].revents & POLLIN)) {
			char b[64];
			while (read(w->wake_rd, b, sizeof(b)) > 0)
				;
		}
		drain_rec(w);
		check_rec_pipe(w);
	}
	if (send_closed)
		gw_send(w, PYC_MSG_SESSION_CLOSED, 0, NULL, 0, false);
	linger();
}

/* ---- setup and loop ---- */

static int open_sockets(worker *w)
{
	int rv;
	const pyc_config *c = w->cfg;

	if ((rv = nng_pair1_open(&w->gw)) != 0 || (rv = nng_pair1_open(&w->rec)) != 0) {
		pyc_log(PYC_LOG_ERROR, "pair1 socket: %s", nng_strerror(rv));
		return -1;
	}
	nng_socket_set_int(w->gw, NNG_OPT_SENDBUF, DW_GW_SENDBUF);
	nng_socket_set_int(w->gw, NNG_OPT_RECVBUF, DW_GW_SENDBUF);
	nng_socket_set_int(w->rec, NNG_OPT_SENDBUF, DW_REC_SENDBUF);
	nng_socket_set_ms(w->gw, NNG_OPT_SENDTIMEO, c->request_timeout_ms);
	nng_socket_set_ms(w->gw, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(w->gw, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_ms(w->rec, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(w->rec, NNG_OPT_RECONNMAXT, 1000);
	/* Messages are bounded by the envelope; allow the largest. */
	nng_socket_set_size(w->gw, NNG_OPT_RECVMAXSZ, PYC_WIRE_MAX_PAYLOAD + 256);
	nng_socket_set_size(w->rec, NNG_OPT_RECVMAXSZ, 64 * 1024);
	if ((rv = nng_pipe_notify(w->gw, NNG_PIPE_EV_ADD_PRE, gw_pipe_cb, w)) != 0 ||
	    (rv = nng_pipe_notify(w->gw, NNG_PIPE_EV_REM_POST, gw_pipe_cb, w)) != 0 ||
	    (rv = nng_pipe_notify(w->rec, NNG_PIPE_EV_ADD_PRE, rec_pipe_cb, w)) != 0 ||
	    (rv = nng_pipe_notify(w->rec, NNG_PIPE_EV_REM_POST, rec_pipe_cb, w)) != 0) {
		pyc_log(PYC_LOG_ERROR, "pipe notify: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_socket_get_int(w->gw, NNG_OPT_RECVFD, &w->gw_fd)) != 0 ||
	    (rv = nng_socket_get_int(w->rec, NNG_OPT_RECVFD, &w->rec_fd)) != 0) {
		pyc_log(PYC_LOG_ERROR, "receive descriptor: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = pyc_redial_dial(&w->gw_dial, w->gw, c->gateway_url, PYC_REDIAL_MS)) != 0) {
		pyc_log(PYC_LOG_ERROR, "dial %s: %s", c->gateway_url, nng_strerror(rv));
		return -1;
	}
	if ((rv = pyc_redial_dial(&w->rec_dial, w->rec, c->recorder_url, PYC_REDIAL_MS)) != 0) {
		pyc_log(PYC_LOG_ERROR, "dial %s: %s", c->recorder_url, nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* Keeps all of this worker's threads (its own and nng's) on one CPU,
 * chosen by pid: a message then wakes nng's threads and ours on the same
 * CPU instead of through cross-CPU wake-ups, which cost the most on a
 * virtual machine (measured: about a third less CPU in nng's threads per
 * chunk on the 2-core test machine); sessions spread over the CPUs by
 * their workers' pids. Only within the CPUs the process may use. */
static void pin_cpu(void)
{
	cpu_set_t allowed, one;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		return;
	int n = CPU_COUNT(&allowed);
	if (n <= 1)
		return;
	int k = (int) (getpid() % n);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed))
			continue;
		if (k-- == 0) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

int dw_session_main(const pyc_config *cfg, int host_fd, pid_t host_pid)
{
	static worker wk;
	worker *w = &wk;
	sigset_t block, orig;
	struct sigaction sa;
	int code = 1;
	pyc_err rv;

	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->host_fd = host_fd;
	w->gw_fd = w->rec_fd = w->wake_rd = w->wake_wr = -1;

	/* Die with the host (the exec kept PDEATHSIG; set it again for a
	 * worker started by hand) and stop if it is already gone. */
	if (host_pid > 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != host_pid) {
			pyc_log(PYC_LOG_WARN, "host %d is gone before start", (int) host_pid);
			return 0;
		}
	}
	pin_cpu();
	/* One malloc arena: nng's threads would otherwise each get one, and
	 * every arena's touched pages are private memory of this worker. */
	mallopt(M_ARENA_MAX, 1);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig); /* nng threads inherit this */
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);

	title_idle();
	{
		pyc_params d;
		pyc_params_defaults(&d);
		w->params = d;
		if ((rv = dw_pipeline_create(&d, &w->pl)) != PYC_OK) {
			pyc_log(PYC_LOG_ERROR, "pipeline: %s", pyc_strerror(rv));
			goto out;
		}
	}
	w->out_cap = (size_t) cfg->max_chunk_frames * DW_MAX_CHANNELS;
	if ((w->out = malloc(w->out_cap * sizeof(int16_t))) == NULL) {
		pyc_log(PYC_LOG_ERROR, "out of memory");
		goto out;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0) {
		pyc_log(PYC_LOG_ERROR, "pipe: %s", strerror(errno));
		goto out;
	}
	w->wake_rd = pfd[0];
	w->wake_wr = pfd[1];
	if (open_sockets(w) != 0)
		goto out;
	host_note(w, "idle");
	w->started_ns = now_ns();

	code = 0;
	for (;;) {
		if (got_term) {
			if (w->state == DW_W_BUSY)
				finish(w, "SIGTERM", false);
			break;
		}
		int adds = atomic_load(&w->gw_adds), rems = atomic_load(&w->gw_rems);
		if (rems != w->seen_gw_rems) {
			w->seen_gw_rems = rems;
			w->gw_up = false;
			if (w->state == DW_W_BUSY) {
				pyc_log(PYC_LOG_WARN, "session %.8s: the gateway's pipe went away",
				    w->sid);
				finish(w, "gateway gone", false);
				break;
			}
			pyc_log(PYC_LOG_INFO, "gateway gone; redialling");
		}
		if (adds != w->seen_gw_adds) {
			w->seen_gw_adds = adds;
			w->gw_up = true;
			w->hello_due = true;
		}
		check_rec_pipe(w);
		/* A fresh worker offers itself once it can also reach the
		 * recorder (or after DW_REC_WAIT_MS without it), so a session's
		 * first start_record does not find the recorder pipe still
		 * being dialled. */
		int64_t now0 = now_ns();
		bool rec_up = atomic_load(&w->rec_adds) - atomic_load(&w->rec_rems) > 0;
		bool hello_waits = false;
		if (w->hello_due && w->state == DW_W_IDLE) {
			if (rec_up || now0 - w->started_ns >= DW_REC_WAIT_MS * 1000000LL) {
				send_hello(w);
				w->hello_due = false;
			} else {
				hello_waits = true;
			}
		}

		for (int i = 0; i < DW_DRAIN_BATCH && w->state != DW_W_CLOSING; i++) {
			nng_msg *msg;
			if (nng_recvmsg(w->gw, &msg, NNG_FLAG_NONBLOCK) != 0)
				break;
			on_gw_msg(w, msg);
			nng_msg_free(msg);
		}
		if (w->state == DW_W_CLOSING)
			break;
		drain_rec(w);

		int64_t now = now_ns();
		pend_release(w, now);
		int timeout_ms = 1000;
		if (hello_waits) {
			int t = (int) ((w->started_ns + DW_REC_WAIT_MS * 1000000LL - now) / 1000000) + 1;
			if (t < timeout_ms)
				timeout_ms = t < 1 ? 1 : t;
		}
		if (w->npend > 0) {
			int64_t t = (w->pend[0].deadline_ns - now) / 1000000 + 1;
			if (t < timeout_ms)
				timeout_ms = (int) (t < 0 ? 0 : t);
		}
		int gw_ms = pyc_redial_tick(&w->gw_dial,
		    atomic_load(&w->gw_adds) - atomic_load(&w->gw_rems) > 0, now / 1000000);
		int rec_ms = pyc_redial_tick(&w->rec_dial,
		    atomic_load(&w->rec_adds) - atomic_load(&w->rec_rems) > 0, now / 1000000);
		if (gw_ms >= 0 && gw_ms < timeout_ms)
			timeout_ms = gw_ms;
		if (rec_ms >= 0 && rec_ms < timeout_ms)
			timeout_ms = rec_ms;

		struct pollfd pf[4] = {
		    {w->gw_fd, POLLIN, 0},
		    {w->rec_fd, POLLIN, 0},
		    {w->wake_rd, POLLIN, 0},
		    {w->host_fd, POLLIN, 0},
		};
		struct timespec ts = {timeout_ms / 1000, (long) (timeout_ms % 1000) * 1000000L};
		int n = ppoll(pf, w->host_fd >= 0 ? 4 : 3, &ts, &orig);
		if (n < 0 && errno != EINTR) {
			pyc_log(PYC_LOG_ERROR, "poll: %s", strerror(errno));
			code = 1;
			break;
		}
		if (n > 0 && (pf[2].revents & POLLIN)) {
			char b[64];
			while (read(w->wake_rd, b, sizeof(b)) > 0)
				;
		}
		if (n > 0 && w->host_fd >= 0 && (pf[3].revents & (POLLIN | POLLHUP | POLLERR))) {
			char b[DW_NOTE_MAX];
			ssize_t r = recv(w->host_fd, b, sizeof(b), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				pyc_log(PYC_LOG_WARN, "the host is gone; stopping");
				if (w->state == DW_W_BUSY)
					finish(w, "host gone", false);
				break;
			}
		}
	}
	if (w->dropped_chunks > 0 || w->send_drops > 0 || w->bad_msgs > 0 || w->lost_chunks > 0)
		pyc_log(PYC_LOG_INFO,
		    "worker done: %llu chunks dropped (too fast), %llu lost before arrival, "
		    "%llu sends dropped, %llu malformed messages",
		    (unsigned long long) w->dropped_chunks, (unsigned long long) w->lost_chunks,
		    (unsigned long long) w->send_drops, (unsigned long long) w->bad_msgs);
out:
	/* PYC_SETTLE_MS (pyc_sock.h): a worker told to stop as it starts */
	for (int i = 0; w->gw_dial.url[0] != '\0' && i < PYC_SETTLE_MS / 10; i++) {
		if (atomic_load(&w->gw_adds) - atomic_load(&w->gw_rems) > 0 &&
		    atomic_load(&w->rec_adds) - atomic_load(&w->rec_rems) > 0)
			break;
		usleep(10000);
	}
	/* the process exits next: a close that hangs (pyc_sock.h) is left */
	pyc_sock_close_bounded(w->gw, 1000);
	pyc_sock_close_bounded(w->rec, 1000);
	dw_pipeline_destroy(w->pl);
	free(w->out);
	free(w->jbuf);
	if (w->wake_rd >= 0)
		close(w->wake_rd);
	if (w->wake_wr >= 0)
		close(w->wake_wr);
	return code;
}
