/* rec_writer.c - writer threads: queued appends, periodic headers, stops.
 *
 * NOTES: each writer thread has one FIFO of jobs (open, append, fail,
 * stop) guarded by a mutex and a condition variable, and a list of the
 * recordings it has open, which only it touches. A recording is pinned to
 * one writer for its whole life, so its jobs keep their order. The stream
 * thread hands over the nng message of an append as is (no copy); the
 * writer frees it once written. The open and stop jobs of a recording are
 * allocated when it starts, so stopping never fails for want of memory.
 * The writer wakes at least every TICK_MS to rewrite headers and fdatasync
 * files whose audio stopped arriving. A stop reply is sent by the writer
 * itself after fsync + rename + folder fsync + the row update, which is
 * what "the reply comes once every appended frame is on disk" means.
 */
#include "rec_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pyc_log.h"
#include "pyc_sock.h"
#include "rec_json.h"
#include "rec_wav.h"

#define TICK_MS 50
#define MAX_THREADS 16

enum job_kind { JOB_OPEN, JOB_APPEND, JOB_FAIL, JOB_STOP };

typedef struct job {
	struct job *next;
	enum job_kind kind;
	rec_recording *rec;
	nng_msg *msg;
	const void *pcm;
	size_t len;
	pyc_err status;
	char why[64];
	rec_state state;
	uint32_t reply_pipe;
	uint64_t seq;
	rec_waiter *waiter;
} job;

typedef struct wthread {
	rec_writer *w;
	int idx;
	pthread_t th;
	int started;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	job *head, *tail;
	int stopping;
	rec_db *db;
	rec_recording *open;
	int64_t last_tick_us;
} wthread;

struct rec_writer {
	rec_writer_cfg cfg;
	wthread t[MAX_THREADS];
	int n;
	atomic_uint next;
	atomic_uint_least64_t bytes_written;
	atomic_uint_least64_t queued_blocks;
	atomic_uint_least64_t failed;
};

/* The open and stop jobs of a recording, allocated with it. */
typedef struct rec_jobs {
	job open;
	job stop;
} rec_jobs;

struct rec_waiter {
	pthread_mutex_t m;
	pthread_cond_t c;
	int done;
	atomic_int refs;
};

/* ---- waiters ---- */

rec_waiter *rec_waiter_new(void)
{
	pthread_condattr_t ca;
	rec_waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->refs, 1);
	return w;
}

bool rec_waiter_wait(rec_waiter *w, int timeout_ms)
{
	struct timespec ts;
	int done;

	pyc_deadline(&ts, CLOCK_MONOTONIC, timeout_ms);
	pthread_mutex_lock(&w->m);
	while (!w->done && pthread_cond_timedwait(&w->c, &w->m, &ts) != ETIMEDOUT)
		;
	done = w->done;
	pthread_mutex_unlock(&w->m);
	return done != 0;
}

void rec_waiter_release(rec_waiter *w)
{
	if (w == NULL || atomic_fetch_sub(&w->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&w->m);
	pthread_cond_destroy(&w->c);
	free(w);
}

static void waiter_signal(rec_waiter *w)
{
	pthread_mutex_lock(&w->m);
	w->done = 1;
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
	rec_waiter_release(w);
}

/* ---- replies ---- */

pyc_err rec_result_send(nng_socket sock, uint32_t pipe_id, unsigned type,
    unsigned flags, const char *sid, uint64_t seq, const pyc_rec_result *r)
{
	uint8_t buf[1024];
	pyc_wbuf wb;
	nng_msg *msg;
	nng_pipe p = NNG_PIPE_INITIALIZER;
	pyc_err rv;
	int nrv;

	pyc_wbuf_init(&wb, buf, sizeof(buf));
	pyc_rec_result_put(&wb, r);
	if ((rv = pyc_wire_msg_from_wbuf(&msg, type, flags, sid, seq, &wb)) != PYC_OK)
		return rv;
	p.id = pipe_id;
	nng_msg_set_pipe(msg, p);
	if ((nrv = nng_sendmsg(sock, msg, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(msg);
		pyc_log(PYC_LOG_WARN, "send %s to pipe %u: %s", pyc_msg_type_name(type),
		    pipe_id, nng_strerror(nrv));
		return pyc_err_from_nng(nrv);
	}
	return PYC_OK;
}

static void fill_result(const rec_recording *r, pyc_rec_result *res, int failed,
    pyc_err status, const char *why, uint64_t frames, uint64_t size)
{
	memset(res, 0, sizeof(*res));
	res->status = failed ? (int32_t) (status != PYC_OK ? status : PYC_EIO) : PYC_OK;
	if (failed) {
		snprintf(res->code, sizeof(res->code), "recording_failed");
		snprintf(res->message, sizeof(res->message), "%s", why);
	}
	res->id = r->id;
	snprintf(res->filename, sizeof(res->filename), "%s", r->filename);
	res->frames = frames;
	res->duration_s = r->sample_rate > 0 ? (double) frames / r->sample_rate : 0;
	res->size_bytes = size;
}

static void send_error_once(rec_writer *w, rec_recording *r, pyc_err status, const char *why)
{
	pyc_rec_result res;
	uint64_t frames = atomic_load(&r->frames);

	if (atomic_exchange(&r->error_sent, 1))
		return;
	fill_result(r, &res, 1, status, why, frames, 44 + frames * 2 * r->channels);
	rec_result_send(w->cfg.sock, r->pipe_id, PYC_MSG_REC_ERROR, 0, r->sid, 0, &res);
}

/* ---- the writer thread ---- */

static void open_list_add(wthread *t, rec_recording *r)
{
	r->wprev = NULL;
	r->wnext = t->open;
	if (t->open != NULL)
		t->open->wprev = r;
	t->open = r;
}

static void open_list_remove(wthread *t, rec_recording *r)
{
	if (r->wprev != NULL)
		r->wprev->wnext = r->wnext;
	else if (t->open == r)
		t->open = r->wnext;
	if (r->wnext != NULL)
		r->wnext->wprev = r->wprev;
	r->wprev = r->wnext = NULL;
}

/* Finalises r's file: header, cut, fsync, rename, folder fsync, row. */
static void close_rec(wthread *t, rec_recording *r, rec_state state)
{
	rec_wav_info info;
	pyc_err rv;
	int dirfd = t->w->cfg.dirfd;

	memset(&info, 0, sizeof(info));
	open_list_remove(t, r);
	rv = rec_wav_close(r->wav, &info);
	r->wav = NULL;
	if (rv != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "recording %s: finalise: %s", r->filename, pyc_strerror(rv));
		/* The row must say what a reader of the file gets: its header
		 * may not have been rewritten. */
		if (rec_wav_probe(dirfd, r->part, &info) != PYC_OK) {
			info.frames = atomic_load(&r->frames);
			info.size_bytes = 44 + info.frames * 2 * r->channels;
		}
		if (!atomic_exchange(&r->failed, 1)) {
			r->fail_status = rv;
			snprintf(r->fail_msg, sizeof(r->fail_msg), "%s",
			    rv == PYC_ENOSPC ? "disk full" : "could not finalise the file");
		}
		state = REC_STATE_FAILED;
	}
	if (renameat(dirfd, r->part, dirfd, r->filename) != 0) {
		pyc_log(PYC_LOG_ERROR, "recording %s: rename: %s", r->filename, strerror(errno));
		state = REC_STATE_FAILED;
	} else if (fsync(dirfd) != 0) {
		pyc_log(PYC_LOG_WARN, "recordings folder fsync: %s", strerror(errno));
	}
	if (atomic_load(&r->failed))
		state = REC_STATE_FAILED;
	atomic_store(&r->frames, info.frames);
	r->final_state = state;
	r->final_frames = info.frames;
	r->final_size = info.size_bytes;
	rv = rec_db_finish(t->db, r->filename, state, info.frames,
	    (double) info.frames / r->sample_rate, info.size_bytes);
	if (rv != PYC_OK)
		pyc_log(PYC_LOG_ERROR, "recording %s: row update: %s", r->filename, pyc_strerror(rv));
	pyc_log(PYC_LOG_INFO, "recording %s closed: %s, %llu frames, %llu bytes", r->filename,
	    rec_state_name(state), (unsigned long long) info.frames,
	    (unsigned long long) info.size_bytes);
}

/* A write, sync or overflow failure: close r cleanly, tell its worker. */
static void fail_rec(wthread *t, rec_recording *r, pyc_err status, const char *why)
{
	if (!atomic_exchange(&r->failed, 1))
		atomic_fetch_add(&t->w->failed, 1);
	if (r->fail_status == PYC_OK) {
		r->fail_status = status;
		snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", why);
	}
	pyc_log(PYC_LOG_ERROR, "recording %s of session %s failed: %s", r->filename, r->sid,
	    r->fail_msg);
	if (r->wav != NULL)
		close_rec(t, r, REC_STATE_FAILED);
	send_error_once(t->w, r, r->fail_status, r->fail_msg);
}

static const char *why_of(pyc_err rv)
{
	switch (rv) {
	case PYC_ENOSPC:
		return "disk full";
	case PYC_EPERM:
		return "recordings folder not writable";
	default:
		return "write error";
	}
}

static void checkpoint(wthread *t, rec_recording *r, int64_t now, int sync)
{
	uint64_t frames = atomic_load(&r->frames);
	pyc_err rv = rec_wav_checkpoint(r->wav, sync);

	if (rv != PYC_OK) {
		fail_rec(t, r, rv, why_of(rv));
		return;
	}
	r->frames_hdr = frames;
	r->last_hdr_us = now;
	/* The data is durable only if the .part's name is: once per file. */
	if (sync && !r->name_synced) {
		if (fsync(t->w->cfg.dirfd) != 0)
			pyc_log(PYC_LOG_WARN, "recordings folder fsync: %s", strerror(errno));
		r->name_synced = 1;
	}
	if (sync) {
		r->frames_sync = frames;
		r->last_sync_us = now;
	}
}

static void run_job(wthread *t, job *j)
{
	rec_recording *r = j->rec;
	rec_writer *w = t->w;
	pyc_rec_result res;
	pyc_err rv;

	switch (j->kind) {
	case JOB_OPEN:
		r->last_hdr_us = r->last_sync_us = rec_mono_us();
		open_list_add(t, r);
		return;
	case JOB_APPEND:
		if (!atomic_load(&r->failed) && r->wav != NULL) {
			rv = rec_wav_append(r->wav, j->pcm, j->len);
			atomic_store(&r->frames, rec_wav_frames(r->wav));
			if (rv != PYC_OK) {
				fail_rec(t, r, rv, rv == PYC_ENOSPC &&
				    rec_wav_frames(r->wav) * 2 * r->channels + j->len >
				    REC_WAV_MAX_DATA ? "WAV size limit reached" : why_of(rv));
			} else {
				atomic_fetch_add(&w->bytes_written, j->len);
				if (atomic_load(&r->frames) - r->frames_hdr >=
				    (uint64_t) r->sample_rate * REC_HDR_MS / 1000)
					checkpoint(t, r, rec_mono_us(), 0);
			}
		}
		atomic_fetch_sub(&r->queued, 1);
		atomic_fetch_sub(&r->queued_bytes, j->len);
		atomic_fetch_sub(&w->queued_blocks, 1);
		nng_msg_free(j->msg);
		free(j);
		return;
	case JOB_FAIL:
		fail_rec(t, r, j->status, j->why);
		free(j);
		return;
	case JOB_STOP:
		if (r->wav != NULL)
			close_rec(t, r, j->state);
		fill_result(r, &res, atomic_load(&r->failed), r->fail_status, r->fail_msg,
		    r->final_frames, r->final_size);
		if (j->reply_pipe != 0)
			rec_result_send(w->cfg.sock, j->reply_pipe, PYC_MSG_REC_STOP,
			    PYC_WIRE_F_REPLY, r->sid, j->seq, &res);
		if (j->waiter != NULL)
			waiter_signal(j->waiter);
		free(r->jobs); /* holds j */
		free(r);
		return;
	}
}

static void tick(wthread *t, int64_t now)
{
	rec_recording *r, *next;

	if (now - t->last_tick_us < TICK_MS * 1000)
		return;
	t->last_tick_us = now;
	for (r = t->open; r != NULL; r = next) {
		uint64_t frames = atomic_load(&r->frames);
		next = r->wnext;
		if (frames != r->frames_sync && now - r->last_sync_us >= REC_SYNC_MS * 1000)
			checkpoint(t, r, now, 1);
		else if (frames != r->frames_hdr && now - r->last_hdr_us >= REC_HDR_MS * 1000)
			checkpoint(t, r, now, 0);
	}
}

static void *writer_main(void *arg)
{
	wthread *t = arg;
	struct timespec ts;
	job *j, *next;
	int stopping;

	for (;;) {
		pthread_mutex_lock(&t->mtx);
		if (t->head == NULL && !t->stopping) {
			pyc_deadline(&ts, CLOCK_MONOTONIC, TICK_MS);
			pthread_cond_timedwait(&t->cv, &t->mtx, &ts);
		}
		j = t->head;
		t->head = t->tail = NULL;
		stopping = t->stopping;
		pthread_mutex_unlock(&t->mtx);
		for (; j != NULL; j = next) {
			next = j->next;
			run_job(t, j);
		}
		tick(t, rec_mono_us());
		if (stopping) {
			pthread_mutex_lock(&t->mtx);
			int empty = t->head == NULL;
			pthread_mutex_unlock(&t->mtx);
			if (empty)
				break;
		}
	}
	if (t->open != NULL)
		pyc_log(PYC_LOG_ERROR, "writer %d stopped with recordings open", t->idx);
	return NULL;
}

static void push(wthread *t, job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&t->mtx);
	if (t->tail != NULL)
		t->tail->next = j;
	else
		t->head = j;
	t->tail = j;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mtx);
}

/* ---- the API ---- */

pyc_err rec_writer_create(const rec_writer_cfg *cfg, rec_writer **out)
{
	pthread_condattr_t ca;
	rec_writer *w;
	pyc_err rv;
	int n = cfg->threads < 1 ? 1 : cfg->threads > MAX_THREADS ? MAX_THREADS : cfg->threads;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PYC_ENOMEM;
	w->cfg = *cfg;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++) {
		wthread *t = &w->t[i];
		t->w = w;
		t->idx = i;
		pthread_mutex_init(&t->mtx, NULL);
		pthread_cond_init(&t->cv, &ca);
		w->n = i + 1;
		if ((rv = rec_db_open(cfg->db_path, &t->db)) != PYC_OK)
			goto fail;
		if (pthread_create(&t->th, NULL, writer_main, t) != 0) {
			rv = PYC_ENOMEM;
			goto fail;
		}
		t->started = 1;
	}
	pthread_condattr_destroy(&ca);
	*out = w;
	return PYC_OK;
fail:
	pthread_condattr_destroy(&ca);
	rec_writer_destroy(w, 5000);
	return rv;
}

pyc_err rec_writer_destroy(rec_writer *w, int timeout_ms)
{
	struct timespec ts;
	pyc_err rv = PYC_OK;

	if (w == NULL)
		return PYC_OK;
	for (int i = 0; i < w->n; i++) {
		pthread_mutex_lock(&w->t[i].mtx);
		w->t[i].stopping = 1;
		pthread_cond_signal(&w->t[i].cv);
		pthread_mutex_unlock(&w->t[i].mtx);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	for (int i = 0; i < w->n; i++) {
		if (w->t[i].started && pthread_timedjoin_np(w->t[i].th, NULL, &ts) != 0) {
			pyc_log(PYC_LOG_ERROR, "writer %d did not stop in time", i);
			rv = PYC_ETIMEDOUT;
		}
	}
	if (rv != PYC_OK)
		return rv;
	for (int i = 0; i < w->n; i++) {
		rec_db_close(w->t[i].db);
		pthread_mutex_destroy(&w->t[i].mtx);
		pthread_cond_destroy(&w->t[i].cv);
	}
	free(w);
	return PYC_OK;
}

static void start_error(pyc_rec_result *res, pyc_err rv, const char *code, const char *msg)
{
	res->status = rv;
	snprintf(res->code, sizeof(res->code), "%s", code);
	snprintf(res->message, sizeof(res->message), "%s", msg);
}

pyc_err rec_writer_start(rec_writer *w, rec_db *db, const char *sid,
    uint32_t pipe_id, const pyc_rec_start *req, rec_recording **out,
    pyc_rec_result *res)
{
	rec_row row;
	rec_recording *r = NULL;
	rec_jobs *jobs = NULL;
	rec_wav *wav = NULL;
	int64_t now = rec_now_us();
	pyc_err rv;

	memset(res, 0, sizeof(*res));
	if (sid == NULL || sid[0] == '\0') {
		start_error(res, PYC_EINVAL, "bad_request", "rec_start without a session id");
		return PYC_EINVAL;
	}
	if (rec_json_settings_check(req->settings_json) != PYC_OK) {
		start_error(res, PYC_EINVAL, "bad_request", "settings_json is not a JSON object");
		return PYC_EINVAL;
	}
	memset(&row, 0, sizeof(row));
	if ((rv = rec_name_new((time_t) (now / 1000000), row.filename)) != PYC_OK) {
		start_error(res, rv, "recording_failed", "no randomness for a file name");
		return rv;
	}
	snprintf(row.session_id, sizeof(row.session_id), "%s", sid);
	rec_time_iso((time_t) (now / 1000000), row.created);
	row.created_us = now;
	row.sample_rate = req->sample_rate;
	row.channels = req->channels;
	row.size_bytes = 44;
	snprintf(row.settings, sizeof(row.settings), "%s", req->settings_json);
	row.state = REC_STATE_RECORDING;

	r = calloc(1, sizeof(*r));
	jobs = calloc(1, sizeof(*jobs));
	if (r == NULL || jobs == NULL) {
		rv = PYC_ENOMEM;
		start_error(res, rv, "recording_failed", "out of memory");
		goto fail;
	}
	if ((rv = rec_db_insert(db, &row)) != PYC_OK) {
		start_error(res, rv, "recording_failed",
		    rv == PYC_ENOSPC ? "disk full" : "database error");
		goto fail;
	}
	rec_name_part(row.filename, r->part);
	if ((rv = rec_wav_create(w->cfg.dirfd, r->part, req->sample_rate, req->channels,
	    &wav)) != PYC_OK) {
		start_error(res, rv, "recording_failed", why_of(rv));
		rec_db_delete(db, row.filename);
		goto fail;
	}
	r->id = row.id;
	snprintf(r->filename, sizeof(r->filename), "%s", row.filename);
	snprintf(r->sid, sizeof(r->sid), "%s", sid);
	r->pipe_id = pipe_id;
	r->sample_rate = req->sample_rate;
	r->channels = req->channels;
	r->writer = (int) (atomic_fetch_add(&w->next, 1) % (unsigned) w->n);
	r->wav = wav;
	r->final_size = 44;
	r->jobs = jobs;
	jobs->open.kind = JOB_OPEN;
	jobs->open.rec = r;
	jobs->stop.kind = JOB_STOP;
	jobs->stop.rec = r;
	push(&w->t[r->writer], &jobs->open);
	res->id = r->id;
	snprintf(res->filename, sizeof(res->filename), "%s", r->filename);
	pyc_log(PYC_LOG_INFO, "recording %s started for session %s (%u Hz, %u ch)",
	    r->filename, sid, r->sample_rate, r->channels);
	*out = r;
	return PYC_OK;
fail:
	free(jobs);
	free(r);
	return rv;
}

pyc_err rec_writer_append(rec_writer *w, rec_recording *r, nng_msg *msg,
    const void *pcm, size_t len)
{
	job *j;

	if (atomic_load(&r->failed))
		return PYC_ECLOSED;
	if ((size_t) atomic_load(&r->queued) >= w->cfg.queue_max ||
	    atomic_load(&r->queued_bytes) + len > w->cfg.queue_bytes_max)
		return PYC_EAGAIN;
	if ((j = malloc(sizeof(*j))) == NULL)
		return PYC_ENOMEM;
	j->kind = JOB_APPEND;
	j->rec = r;
	j->msg = msg;
	j->pcm = pcm;
	j->len = len;
	atomic_fetch_add(&r->queued, 1);
	atomic_fetch_add(&r->queued_bytes, len);
	atomic_fetch_add(&w->queued_blocks, 1);
	push(&w->t[r->writer], j);
	return PYC_OK;
}

void rec_writer_fail(rec_writer *w, rec_recording *r, pyc_err status, const char *why)
{
	job *j;

	if (atomic_exchange(&r->failed, 1))
		return;
	atomic_fetch_add(&w->failed, 1);
	pyc_log(PYC_LOG_ERROR, "recording %s of session %s failed: %s", r->filename, r->sid, why);
	send_error_once(w, r, status, why);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return; /* the stop closes it */
	j->kind = JOB_FAIL;
	j->rec = r;
	j->status = status;
	snprintf(j->why, sizeof(j->why), "%s", why);
	push(&w->t[r->writer], j);
}

void rec_writer_stop(rec_writer *w, rec_recording *r, rec_state state,
    uint32_t reply_pipe, uint64_t seq, rec_waiter *waiter)
{
	job *j = &((rec_jobs *) r->jobs)->stop;

	j->state = state;
	j->reply_pipe = reply_pipe;
	j->seq = seq;
	if (waiter != NULL)
		atomic_fetch_add(&waiter->refs, 1);
	j->waiter = waiter;
	push(&w->t[r->writer], j);
}

void rec_writer_counters(rec_writer *w, uint64_t *bytes_written,
    uint64_t *queued_blocks, uint64_t *failed)
{
	*bytes_written = atomic_load(&w->bytes_written);
	*queued_blocks = atomic_load(&w->queued_blocks);
	*failed = atomic_load(&w->failed);
}
