/* gw_recorder.c - requests to the recorder's control socket (gw_recorder.h).
 *
 * NOTES: each request opens an nng context, sets its send and receive
 * timeouts, sends, waits for the reply and checks that it answers this
 * request (type, reply flag, seq) before the payload is decoded. Reconnect
 * intervals are short so a restarted recorder is found within a second.
 * The notice queue is bounded; a full queue drops a notice with a warning
 * (the recorder's retention sweep is the backstop).
 */
#include "gw_recorder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "pyc_id.h"
#include "pyc_log.h"
#include "pyc_sock.h"
#include "pyc_wire.h"

#define NOTICE_MAX 4096
#define DRAIN_MS 2000 /* notices still queued at shutdown get this long in all */

struct gw_recorder {
	nng_socket sock;
	pyc_redial dial;    /* the notice thread ticks it */
	atomic_int pipes;   /* ADD_PRE minus REM_POST */
	int timeout_ms;
	atomic_ullong seq;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thr;
	bool thr_started;
	bool stopping;
	bool done;             /* the notice thread has finished */
	bool closed;           /* sock closed by destroy */
	int64_t drain_until;   /* monotonic ms, set with stopping */
	char (*q)[PYC_SESSION_ID_MAX + 1];
	int q_head, q_len;
	int in_flight;
};

/* Sends a request and waits for its reply. On PYC_OK *rep is the reply
 * (caller frees with nng_msg_free) and m is decoded from it. */
static pyc_err request(gw_recorder *r, unsigned type, const char *sid,
    const pyc_wbuf *w, int timeout_ms, nng_msg **rep, pyc_wire_msg *m)
{
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg = NULL;
	uint64_t seq = atomic_fetch_add(&r->seq, 1) + 1;
	int rv;
	pyc_err e;

	*rep = NULL;
	if ((e = pyc_wire_msg_from_wbuf(&msg, type, 0, sid, seq, w)) != PYC_OK)
		return e;
	if ((rv = nng_ctx_open(&ctx, r->sock)) != 0) {
		nng_msg_free(msg);
		pyc_log(PYC_LOG_WARN, "recorder: ctx open: %s", nng_strerror(rv));
		return pyc_err_from_nng(rv);
	}
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_msg_free(msg);
		nng_ctx_close(ctx);
		return PYC_ENOMEM;
	}
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
		nng_aio_free(aio);
		nng_ctx_close(ctx);
		pyc_log(PYC_LOG_DEBUG, "recorder: send %s: %s", pyc_msg_type_name(type),
		    nng_strerror(rv));
		return rv == NNG_ETIMEDOUT ? PYC_ETIMEDOUT : PYC_ECLOSED;
	}
	nng_aio_set_timeout(aio, timeout_ms);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	msg = rv == 0 ? nng_aio_get_msg(aio) : NULL;
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	if (rv != 0) {
		pyc_log(PYC_LOG_DEBUG, "recorder: reply to %s: %s", pyc_msg_type_name(type),
		    nng_strerror(rv));
		return rv == NNG_ETIMEDOUT ? PYC_ETIMEDOUT : PYC_ECLOSED;
	}
	if (pyc_wire_msg_decode(msg, m) != PYC_OK || m->type != type ||
	    (m->flags & PYC_WIRE_F_REPLY) == 0 || m->seq != seq) {
		pyc_log(PYC_LOG_WARN, "recorder: malformed reply to %s", pyc_msg_type_name(type));
		nng_msg_free(msg);
		return PYC_EPROTO;
	}
	*rep = msg;
	return PYC_OK;
}

/* A request whose reply is a status_rep. */
static pyc_err status_request(gw_recorder *r, unsigned type, const char *sid,
    const pyc_wbuf *w, int timeout_ms, pyc_status_rep *st, nng_msg **rep)
{
	pyc_wire_msg m;
	pyc_err e = request(r, type, sid, w, timeout_ms, rep, &m);
	if (e != PYC_OK)
		return e;
	if (pyc_status_rep_get(m.payload, m.payload_len, st) != PYC_OK) {
		pyc_log(PYC_LOG_WARN, "recorder: bad status reply to %s", pyc_msg_type_name(type));
		nng_msg_free(*rep);
		*rep = NULL;
		return PYC_EPROTO;
	}
	return PYC_OK;
}

pyc_err gw_recorder_list(gw_recorder *r, const char *sid, uint32_t skip,
    uint32_t limit, char **json, size_t *len)
{
	uint8_t buf[16];
	pyc_wbuf w;
	pyc_rec_list_req q = {skip, limit};
	pyc_status_rep st;
	nng_msg *rep;
	pyc_err e;

	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_list_req_put(&w, &q);
	if ((e = status_request(r, PYC_MSG_REC_LIST, sid, &w, r->timeout_ms, &st, &rep)) != PYC_OK)
		return e;
	if (st.status != PYC_OK) {
		nng_msg_free(rep);
		return (pyc_err) st.status;
	}
	*json = malloc(st.json_len + 1);
	if (*json == NULL) {
		nng_msg_free(rep);
		return PYC_ENOMEM;
	}
	memcpy(*json, st.json, st.json_len);
	(*json)[st.json_len] = '\0';
	*len = st.json_len;
	nng_msg_free(rep);
	return PYC_OK;
}

static pyc_err name_request(gw_recorder *r, unsigned type, const char *filename,
    uint64_t *value)
{
	uint8_t buf[PYC_FILENAME_MAX + 8];
	pyc_wbuf w;
	pyc_rec_name_req q;
	pyc_status_rep st;
	nng_msg *rep;
	pyc_err e;

	if (strlen(filename) > PYC_FILENAME_MAX)
		return PYC_ENOENT;
	snprintf(q.filename, sizeof(q.filename), "%s", filename);
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_name_req_put(&w, &q);
	if ((e = status_request(r, type, "", &w, r->timeout_ms, &st, &rep)) != PYC_OK)
		return e;
	e = (pyc_err) st.status;
	if (value != NULL)
		*value = st.value;
	nng_msg_free(rep);
	return e;
}

pyc_err gw_recorder_meta(gw_recorder *r, const char *filename, uint64_t *size)
{
	return name_request(r, PYC_MSG_REC_META, filename, size);
}

pyc_err gw_recorder_delete(gw_recorder *r, const char *filename)
{
	return name_request(r, PYC_MSG_REC_DELETE, filename, NULL);
}

pyc_err gw_recorder_read(gw_recorder *r, const char *filename, uint64_t off,
    uint32_t len, void *dst, size_t *got, uint64_t *total)
{
	uint8_t buf[PYC_FILENAME_MAX + 32];
	pyc_wbuf w;
	pyc_rec_read_req q;
	pyc_rec_read_rep rr;
	pyc_wire_msg m;
	nng_msg *rep;
	pyc_err e;

	if (strlen(filename) > PYC_FILENAME_MAX)
		return PYC_ENOENT;
	if (len > PYC_READ_MAX)
		len = PYC_READ_MAX;
	snprintf(q.filename, sizeof(q.filename), "%s", filename);
	q.offset = off;
	q.length = len;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_read_req_put(&w, &q);
	if ((e = request(r, PYC_MSG_REC_READ, "", &w, r->timeout_ms, &rep, &m)) != PYC_OK)
		return e;
	if (pyc_rec_read_rep_get(m.payload, m.payload_len, &rr) != PYC_OK) {
		nng_msg_free(rep);
		return PYC_EPROTO;
	}
	if (rr.status != PYC_OK) {
		nng_msg_free(rep);
		return (pyc_err) rr.status;
	}
	if (rr.data_len > len || rr.offset != off) {
		nng_msg_free(rep);
		return PYC_EPROTO;
	}
	memcpy(dst, rr.data, rr.data_len);
	if (got != NULL)
		*got = rr.data_len;
	if (total != NULL)
		*total = rr.total_size;
	nng_msg_free(rep);
	return PYC_OK;
}

pyc_err gw_recorder_health(gw_recorder *r, int timeout_ms)
{
	pyc_status_rep st;
	nng_msg *rep;
	pyc_wbuf w;
	pyc_err e;

	pyc_wbuf_init(&w, NULL, 0);
	if ((e = status_request(r, PYC_MSG_HEALTH, "", &w, timeout_ms, &st, &rep)) != PYC_OK)
		return e;
	e = (pyc_err) st.status;
	nng_msg_free(rep);
	return e;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nng 1.5.2 sends REM_POST for every pipe that had ADD_PRE. */
static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	gw_recorder *r = arg;
	(void) p;
	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_fetch_add(&r->pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&r->pipes, 1);
}

static void *notice_main(void *arg)
{
	gw_recorder *r = arg;
	char sid[PYC_SESSION_ID_MAX + 1];

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->q_len == 0 && !r->stopping) {
			/* between notices: dial afresh if no pipe came up (pyc_sock.h) */
			pthread_mutex_unlock(&r->mu);
			int ms = pyc_redial_tick(&r->dial, atomic_load(&r->pipes) > 0, mono_ms());
			pthread_mutex_lock(&r->mu);
			if (r->q_len != 0 || r->stopping)
				break;
			struct timespec until;
			pyc_deadline(&until, CLOCK_REALTIME, ms < 0 ? PYC_REDIAL_MS : ms); /* r->cv's clock */
			pthread_cond_timedwait(&r->cv, &r->mu, &until);
		}
		if (r->q_len == 0 && r->stopping)
			break;
		int timeout = r->timeout_ms;
		if (r->stopping) {
			int64_t now = mono_ms();
			if (now >= r->drain_until) {
				pyc_log(PYC_LOG_WARN, "recorder: %d session_ended notice(s) not sent "
				    "at shutdown", r->q_len);
				r->q_len = 0;
				break;
			}
			if ((int64_t) timeout > r->drain_until - now)
				timeout = (int) (r->drain_until - now);
		}
		memcpy(sid, r->q[r->q_head], sizeof(sid));
		r->q_head = (r->q_head + 1) % NOTICE_MAX;
		r->q_len--;
		r->in_flight = 1;
		pthread_mutex_unlock(&r->mu);

		pyc_status_rep st;
		nng_msg *rep;
		pyc_wbuf w;
		pyc_wbuf_init(&w, NULL, 0);
		pyc_err e = status_request(r, PYC_MSG_SESSION_ENDED, sid, &w, timeout, &st, &rep);
		if (e != PYC_OK) {
			pyc_log(PYC_LOG_WARN, "session %s: session_ended not delivered: %s", sid,
			    pyc_strerror(e));
		} else {
			pyc_log(PYC_LOG_INFO, "session %s: ended, recorder deleted %llu file(s)%s%s",
			    sid, (unsigned long long) st.value, st.status != PYC_OK ? ": " : "",
			    st.status != PYC_OK ? pyc_strerror(st.status) : "");
			nng_msg_free(rep);
		}
		pyc_redial_tick(&r->dial, atomic_load(&r->pipes) > 0, mono_ms());
		pthread_mutex_lock(&r->mu);
		r->in_flight = 0;
	}
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

void gw_recorder_session_ended(gw_recorder *r, const char *sid)
{
	pthread_mutex_lock(&r->mu);
	if (r->q_len >= NOTICE_MAX || r->stopping) {
		pthread_mutex_unlock(&r->mu);
		pyc_log(PYC_LOG_WARN, "session %s: session_ended queue full, notice dropped", sid);
		return;
	}
	snprintf(r->q[(r->q_head + r->q_len) % NOTICE_MAX], PYC_SESSION_ID_MAX + 1, "%s", sid);
	r->q_len++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int gw_recorder_pending(gw_recorder *r)
{
	pthread_mutex_lock(&r->mu);
	int n = r->q_len + r->in_flight;
	pthread_mutex_unlock(&r->mu);
	return n;
}

pyc_err gw_recorder_create(gw_recorder **out, const char *url, int timeout_ms)
{
	gw_recorder *r = calloc(1, sizeof(*r));
	int rv;

	if (r == NULL)
		return PYC_ENOMEM;
	r->timeout_ms = timeout_ms;
	r->q = calloc(NOTICE_MAX, sizeof(*r->q));
	if (r->q == NULL) {
		free(r);
		return PYC_ENOMEM;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if ((rv = nng_req0_open(&r->sock)) != 0) {
		pyc_log(PYC_LOG_ERROR, "recorder: req socket: %s", nng_strerror(rv));
		goto fail;
	}
	nng_socket_set_ms(r->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(r->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_size(r->sock, NNG_OPT_RECVMAXSZ, PYC_READ_MAX + 64 * 1024);
	if ((rv = nng_pipe_notify(r->sock, NNG_PIPE_EV_ADD_PRE, pipe_cb, r)) != 0 ||
	    (rv = nng_pipe_notify(r->sock, NNG_PIPE_EV_REM_POST, pipe_cb, r)) != 0 ||
	    (rv = pyc_redial_dial(&r->dial, r->sock, url, PYC_REDIAL_MS)) != 0) {
		pyc_log(PYC_LOG_ERROR, "recorder: dial %s: %s", url, nng_strerror(rv));
		nng_close(r->sock);
		goto fail;
	}
	if (pthread_create(&r->thr, NULL, notice_main, r) != 0) {
		nng_close(r->sock);
		rv = NNG_ENOMEM;
		goto fail;
	}
	r->thr_started = true;
	*out = r;
	return PYC_OK;
fail:
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->q);
	free(r);
	return pyc_err_from_nng(rv);
}

/* Leaves r and its queue to a close that hung; the process is exiting. */
static void abandon(gw_recorder *r)
{
	pyc_sock_abandon(r->q);
	pyc_sock_abandon(r);
}

void gw_recorder_destroy(gw_recorder *r)
{
	if (r == NULL)
		return;
	if (r->thr_started) {
		/* bounded: a recorder that is gone must not hold up shutdown for
		 * a request timeout per queued notice */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += DRAIN_MS / 1000 + 1;
		pthread_mutex_lock(&r->mu);
		r->stopping = true;
		r->drain_until = mono_ms() + DRAIN_MS;
		pthread_cond_broadcast(&r->cv);
		while (!r->done && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
			;
		bool done = r->done;
		pthread_mutex_unlock(&r->mu);
		if (!done) {
			/* a request started before the stop is still waiting:
			 * closing the socket ends it */
			if (!pyc_sock_close_bounded(r->sock, 2000)) {
				abandon(r); /* nng's close hung (pyc_sock.h) */
				return;
			}
			r->closed = true;
		}
		pthread_join(r->thr, NULL);
	}
	if (!r->closed && !pyc_sock_close_bounded(r->sock, 2000)) {
		abandon(r);
		return;
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->q);
	free(r);
}
