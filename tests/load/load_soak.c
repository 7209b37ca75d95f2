/* load_soak.c - soak: many sessions stream real-time audio and record for
 * a long time; memory stays flat, every recording holds exactly the frames
 * sent, every chunk gets its meter.
 *
 * Settings (environment): PYC_SOAK_SESSIONS (50; 10 in a sanitizer build),
 * PYC_SOAK_SECONDS (60), PYC_SOAK_RECORD_SECONDS (10), PYC_SOAK_SAMPLE_SECONDS
 * (3), PYC_SOAK_WARMUP_SECONDS (a quarter of the run, at least 15),
 * PYC_SOAK_RSS_LIMIT_KB (2048, for a service), PYC_SOAK_WORKER_RSS_LIMIT_KB
 * (256, for each worker).
 *
 * NOTES: each session streams 44.1 kHz stereo in 20 ms chunks (882
 * frames) paced by the wall clock, each session offset by a fraction of a
 * period so the load is spread, and records in back-to-back stretches of
 * PYC_SOAK_RECORD_SECONDS with a short gap, staggered across sessions, so
 * stops and file finalisations happen all along the run and the disk holds
 * only a few stretches at a time. A helper thread takes each
 * recording_saved: it checks the list entry (complete, frame count), the
 * WAV over HTTP sample by sample against the signal sent between
 * start_record and stop_record (gain 0 dB, filter off: the processed audio
 * is the input), and deletes it. RSS of the gateway, the recorder, the
 * worker host and every worker is sampled every PYC_SOAK_SAMPLE_SECONDS;
 * after the warm-up, the highest sample of the second half of the window
 * may exceed the highest of the first half by the limit at most. The
 * limit leaves room for what a service legitimately buffers when the
 * machine stalls (the gateway queues up to 128 KiB per session); a leak
 * of 100 KiB/s (40 bytes a chunk in the gateway) fails the one-minute
 * run, a leak of 15 KiB/s the ten-minute one. Under the
 * sanitizers RSS is dominated by ASan's quarantine and is only printed
 * (LeakSanitizer checks each service at exit instead). Latency: send ->
 * meter on the client (p50/p99/max) and the gateway's own histogram
 * (worker round trip), both printed; a p99 over 1 s fails (the system is
 * then not keeping up with real time).
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_system_util.h"
#include "load_client.h"
#include "load_util.h"

#define RATE 44100
#define CH 2
#define FRAMES 882 /* 20 ms */
#define PERIOD_US 20000
#define GAP_CHUNKS 5
#define MAX_PENDING 8
#define MAX_SERIES 512

#ifdef PYC_LOAD_SANITIZED
#define DEF_SESSIONS 10
#else
#define DEF_SESSIONS 50
#endif

static sys S;

typedef struct job {
	struct job *next;
	char sid[130], fname[160];
	uint32_t key;
	uint64_t first, frames;
} job;

/* The verifier thread's queue and results. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job *head, *tail;
	bool done;
	int queued, checked, failed, deleted;
	uint64_t frames;
	char first_err[512];
} V = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, false, 0, 0, 0, 0, 0,
    ""};

static void *verifier(void *arg)
{
	(void) arg;
	for (;;) {
		pthread_mutex_lock(&V.mu);
		while (V.head == NULL && !V.done)
			pthread_cond_wait(&V.cv, &V.mu);
		job *j = V.head;
		if (j == NULL) {
			pthread_mutex_unlock(&V.mu);
			return NULL;
		}
		V.head = j->next;
		if (V.head == NULL)
			V.tail = NULL;
		pthread_mutex_unlock(&V.mu);

		char err[512];
		bool ok = load_check_recording(S.http_port, j->sid, j->fname, j->key, j->first,
		    j->frames, RATE, CH, err, sizeof(err));
		int del = load_delete_recording(S.http_port, j->fname);
		pthread_mutex_lock(&V.mu);
		V.checked++;
		if (ok) {
			V.frames += j->frames;
		} else {
			if (V.failed++ == 0)
				snprintf(V.first_err, sizeof(V.first_err), "%s", err);
			fprintf(stderr, "recording check: %s\n", err);
		}
		if (del == 200)
			V.deleted++;
		else
			fprintf(stderr, "DELETE %s: %d\n", j->fname, del);
		pthread_mutex_unlock(&V.mu);
		free(j);
	}
}

static void verify_later(const char *sid, const char *fname, uint32_t key, uint64_t first,
    uint64_t frames)
{
	job *j = calloc(1, sizeof(*j));
	ck_assert_ptr_nonnull(j);
	snprintf(j->sid, sizeof(j->sid), "%s", sid);
	snprintf(j->fname, sizeof(j->fname), "%s", fname);
	j->key = key;
	j->first = first;
	j->frames = frames;
	pthread_mutex_lock(&V.mu);
	if (V.tail != NULL)
		V.tail->next = j;
	else
		V.head = j;
	V.tail = j;
	V.queued++;
	pthread_cond_signal(&V.cv);
	pthread_mutex_unlock(&V.mu);
}

typedef struct ssess {
	load_sess *ls;
	uint32_t key;
	uint64_t queued;   /* chunks queued */
	int64_t next_us;
	bool recording;
	uint64_t rec_first;  /* frame */
	uint64_t rec_start;  /* chunk at which the stretch started */
	uint64_t next_rec;   /* chunk at which the next stretch starts */
	struct {
		uint64_t first, frames;
	} pend[MAX_PENDING]; /* stopped, waiting for recording_saved */
	int npend_in, npend_out;
	uint64_t rec_frames_sent;
} ssess;

static load_series series[MAX_SERIES];
static int nseries;

static load_series *series_for(const char *name, int pid)
{
	for (int i = 0; i < nseries; i++)
		if (series[i].pid == pid)
			return &series[i];
	if (nseries == MAX_SERIES)
		return NULL;
	load_series *s = &series[nseries++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->pid = pid;
	return s;
}

static void sample(double t)
{
	struct {
		const char *name;
		int pid;
	} svc[] = {{"gateway", S.gw.pid}, {"recorder", S.rec.pid}, {"dsp-worker host", S.host.pid}};
	for (size_t i = 0; i < 3; i++) {
		load_series *s = series_for(svc[i].name, svc[i].pid);
		long kb = load_rss_kb(svc[i].pid);
		if (s != NULL && kb >= 0)
			load_series_add(s, t, kb);
	}
	int pids[MAX_SERIES];
	int n = load_children(S.host.pid, pids, MAX_SERIES, NULL);
	for (int i = 0; i < n && i < MAX_SERIES; i++) {
		load_series *s = series_for("worker", pids[i]);
		long kb = load_rss_kb(pids[i]);
		if (s != NULL && kb >= 0)
			load_series_add(s, t, kb);
	}
}

/* Takes the recording_saved events that arrived. */
static void take_saved(ssess *x, int *seen)
{
	while (x->ls->saved > *seen) {
		const char *f = load_sess_saved(x->ls, *seen);
		ck_assert_msg(x->npend_out < x->npend_in, "%s: recording_saved without a stop",
		    x->ls->sid);
		ck_assert_ptr_nonnull(f);
		int k = x->npend_out % MAX_PENDING;
		verify_later(x->ls->sid, f, x->key, x->pend[k].first, x->pend[k].frames);
		x->npend_out++;
		(*seen)++;
	}
}

static void stop_stretch(ssess *x)
{
	ck_assert_int_eq(load_sess_text(x->ls, "{\"action\":\"stop_record\"}"), 0);
	ck_assert_msg(x->npend_in - x->npend_out < MAX_PENDING, "%s: %d recordings unsaved",
	    x->ls->sid, x->npend_in - x->npend_out);
	int k = x->npend_in % MAX_PENDING;
	x->pend[k].first = x->rec_first;
	x->pend[k].frames = (x->queued - x->rec_start) * FRAMES;
	x->rec_frames_sent += x->pend[k].frames;
	x->npend_in++;
	x->recording = false;
}

START_TEST(test_load_soak)
{
	const int n = (int) load_env_long("PYC_SOAK_SESSIONS", DEF_SESSIONS);
	const int secs = (int) load_env_long("PYC_SOAK_SECONDS", 60);
	const int rec_s = (int) load_env_long("PYC_SOAK_RECORD_SECONDS", 10);
	const int sample_s = (int) load_env_long("PYC_SOAK_SAMPLE_SECONDS", 3);
	const int warm_s =
	    (int) load_env_long("PYC_SOAK_WARMUP_SECONDS", secs / 4 > 15 ? secs / 4 : 15);
	const long limit = load_env_long("PYC_SOAK_RSS_LIMIT_KB", 2048);
	const long wlimit = load_env_long("PYC_SOAK_WORKER_RSS_LIMIT_KB", 256);
	const uint64_t rec_chunks = (uint64_t) rec_s * 1000000 / PERIOD_US;
	ck_assert(n > 0 && secs > 0 && rec_chunks > 0);

	ssess *ss = calloc((size_t) n, sizeof(*ss));
	int *seen = calloc((size_t) n, sizeof(*seen));
	ck_assert(ss != NULL && seen != NULL);
	load_client *cl = load_client_create(S.ws_port, n);
	ck_assert_ptr_nonnull(cl);
	pthread_t vt;
	ck_assert_int_eq(pthread_create(&vt, NULL, verifier, NULL), 0);

	/* open the sessions one after another, each waiting for its worker */
	int64_t t_open = load_now_us();
	for (int i = 0; i < n; i++) {
		ss[i].key = (uint32_t) i * 7919u + 17u;
		ss[i].ls = load_open_ready(cl, S.http_port, "soak", i);
	}
	printf("soak: %d sessions ready in %.1f s\n", n, (double) (load_now_us() - t_open) / 1e6);

	char *m0 = load_metrics(S.http_port);
	ck_assert_ptr_nonnull(m0);
	load_hist *hist = calloc(1, sizeof(*hist));
	ck_assert_ptr_nonnull(hist);
	load_client_measure(cl, hist);

	int64_t t0 = load_now_us() + 50000;
	int64_t end = t0 + (int64_t) secs * 1000000;
	int64_t next_sample = t0;
	uint64_t late = 0;
	for (int i = 0; i < n; i++) {
		ss[i].next_us = t0 + (int64_t) PERIOD_US * i / n;
		ss[i].next_rec = 5 + rec_chunks * (uint64_t) i / (uint64_t) n;
	}
	while (load_now_us() < end) {
		int64_t now = load_now_us(), next = end;
		for (int i = 0; i < n; i++) {
			ssess *x = &ss[i];
			ck_assert_msg(x->ls->state == LOAD_OPEN && x->ls->errors == 0,
			    "session %d: state %d close %d errors %d: %s", i, x->ls->state,
			    x->ls->close_code, x->ls->errors, x->ls->last_error);
			if (x->next_us <= now - PERIOD_US)
				late++;
			while (x->next_us <= now) {
				if (!x->recording && x->queued == x->next_rec) {
					ck_assert_int_eq(load_sess_text(x->ls, "{\"action\":\"start_record\"}"),
					    0);
					x->recording = true;
					x->rec_first = x->queued * FRAMES;
					x->rec_start = x->queued;
				}
				ck_assert_int_eq(
				    load_sess_signal(x->ls, x->key, x->queued * FRAMES, FRAMES, CH), 0);
				x->queued++;
				x->next_us += PERIOD_US;
				if (x->recording && x->queued - x->rec_start == rec_chunks) {
					stop_stretch(x);
					x->next_rec = x->queued + GAP_CHUNKS;
				}
			}
			take_saved(x, &seen[i]);
			if (x->next_us < next)
				next = x->next_us;
		}
		if (now >= next_sample) {
			sample((double) (now - t0) / 1e6);
			next_sample += (int64_t) sample_s * 1000000;
		}
		load_client_service(cl, next - load_now_us());
	}
	double elapsed = (double) (load_now_us() - t0) / 1e6;
	char *m1 = load_metrics(S.http_port);
	ck_assert_ptr_nonnull(m1);

	/* stop the stretches still running, then wait for the last meters and
	 * recording_saved events */
	for (int i = 0; i < n; i++)
		if (ss[i].recording)
			stop_stretch(&ss[i]);
	int64_t drain = load_now_us() + 30000000;
	for (;;) {
		bool all = true;
		for (int i = 0; i < n; i++) {
			take_saved(&ss[i], &seen[i]);
			all = all && ss[i].ls->queued == 0 && ss[i].ls->last_seq == ss[i].queued &&
			      ss[i].npend_out == ss[i].npend_in;
		}
		if (all || load_now_us() > drain)
			break;
		load_client_service(cl, 10000);
	}
	load_client_measure(cl, NULL);
	char *m2 = load_metrics(S.http_port);
	ck_assert_ptr_nonnull(m2);
	pthread_mutex_lock(&V.mu);
	V.done = true;
	pthread_cond_signal(&V.cv);
	pthread_mutex_unlock(&V.mu);
	pthread_join(vt, NULL);

	/* figures */
	uint64_t chunks = 0, meters = 0, rec_sent = 0, unsaved = 0, missing_meters = 0;
	int bad = 0;
	for (int i = 0; i < n; i++) {
		load_sess *ls = ss[i].ls;
		chunks += ls->chunks;
		meters += ls->meters;
		rec_sent += ss[i].rec_frames_sent;
		unsaved += (uint64_t) (ss[i].npend_in - ss[i].npend_out);
		if (ls->meters < ls->chunks)
			missing_meters += ls->chunks - ls->meters;
		if (ls->last_seq != ss[i].queued || ls->chunks != ss[i].queued || ls->errors != 0 ||
		    ls->state != LOAD_OPEN) {
			if (bad++ < 5)
				fprintf(stderr,
				    "session %d: queued %llu written %llu last meter seq %llu errors %d "
				    "state %d: %s\n",
				    i, (unsigned long long) ss[i].queued, (unsigned long long) ls->chunks,
				    (unsigned long long) ls->last_seq, ls->errors, ls->state, ls->last_error);
		}
	}
	double gw_p99 = load_metric_lat_q(m0, m1, 0.99), gw_p50 = load_metric_lat_q(m0, m1, 0.5);
	double dropped_meters = load_metric(m2, "pyc_meters_dropped_total") -
				load_metric(m0, "pyc_meters_dropped_total");
	double merged_meters = load_metric(m2, "pyc_meters_merged_total") -
			       load_metric(m0, "pyc_meters_merged_total");
	double dropped_chunks = load_metric(m2, "pyc_audio_chunks_dropped_total") -
				load_metric(m0, "pyc_audio_chunks_dropped_total");
	printf("soak: %d sessions x %.0f s of 44.1 kHz stereo in 20 ms chunks, recording in %d s "
	       "stretches\n", n, elapsed, rec_s);
	printf("soak: chunks sent %llu, meters received %llu (missing %llu), gateway replaced "
	       "meters %.0f, merged meters %.0f, dropped chunks %.0f; the generator was over 20 ms "
	       "behind %llu times\n",
	    (unsigned long long) chunks, (unsigned long long) meters,
	    (unsigned long long) missing_meters, dropped_meters, merged_meters, dropped_chunks,
	    (unsigned long long) late);
	printf("soak: recordings %d stopped, %d checked, %d failed, %d deleted; frames sent while "
	       "recording %llu, frames found in the files %llu\n",
	    V.queued + (int) unsaved, V.checked, V.failed, V.deleted, (unsigned long long) rec_sent,
	    (unsigned long long) V.frames);
	printf("soak: latency send->meter (client) p50 %.1f ms, p99 %.1f ms, max %.1f ms over "
	       "%llu meters; gateway worker round trip p50 <= %.1f ms, p99 <= %.1f ms\n",
	    load_hist_q_us(hist, 0.5) / 1000, load_hist_q_us(hist, 0.99) / 1000,
	    (double) hist->max_us / 1000, (unsigned long long) hist->n, gw_p50 * 1000,
	    gw_p99 * 1000);

	printf("soak: ");
	load_metric_lat_print(m0, m1, stdout);

	int rss_bad = 0;
	for (int i = 0; i < nseries; i++) {
		char line[400];
		bool ok;
		bool worker = strcmp(series[i].name, "worker") == 0;
		/* a worker that came or went during the run (a spare) has a
		 * short series: only those present throughout are judged */
		bool whole = series[i].n >= series[0].n - 1;
		load_series_growth(&series[i], warm_s, worker ? wlimit : limit, &ok, line,
		    sizeof(line));
		if (!worker || !ok || i < 6)
			printf("soak: %s%s\n", line, whole ? "" : " (not present throughout)");
		if (!worker) {
			printf("soak: %s RSS series (KiB, every %d s):", series[i].name, sample_s);
			for (int k = 0; k < series[i].n; k++)
				printf(" %ld", series[i].kb[k]);
			printf("\n");
		}
#ifndef PYC_LOAD_SANITIZED
		if (whole && !ok)
			rss_bad++;
#endif
	}
	int nworkers = 0;
	long wmin = -1, wmax = -1;
	for (int i = 0; i < nseries; i++)
		if (strcmp(series[i].name, "worker") == 0 && series[i].n > 0) {
			long last = series[i].kb[series[i].n - 1];
			nworkers++;
			if (wmin < 0 || last < wmin)
				wmin = last;
			if (last > wmax)
				wmax = last;
		}
	printf("soak: %d worker processes sampled, last RSS %ld..%ld KiB\n", nworkers, wmin, wmax);

	char dir[600], db[600];
	snprintf(dir, sizeof(dir), "%s/recordings", S.dir);
	snprintf(db, sizeof(db), "%s/pycoustics.db", S.dir);
	int files = load_count_files(dir);
	long rows = load_db_rows(db);
	printf("soak: after deleting every checked recording: %d files, %ld rows\n", files, rows);

	ck_assert_msg(bad == 0, "%d sessions lost chunks, meters or their connection", bad);
	/* A client that reads slowly gets the newest meter, older unsent ones
	 * are dropped; chunks that queued for a worker that was behind are
	 * answered by one meter after the last of them; both are counted
	 * (docs/protocol.md): every chunk's meter was received, replaced or
	 * merged, and the newest always came. */
	ck_assert_msg((double) meters + dropped_meters + merged_meters == (double) chunks,
	    "meters received %llu + replaced %.0f + merged %.0f != chunks %llu",
	    (unsigned long long) meters, dropped_meters, merged_meters, (unsigned long long) chunks);
	ck_assert_msg(dropped_meters + merged_meters <= 0.25 * (double) chunks,
	    "%.0f replaced and %.0f merged of %llu meters", dropped_meters, merged_meters,
	    (unsigned long long) chunks);
	ck_assert_msg(unsaved == 0, "%llu recordings without recording_saved",
	    (unsigned long long) unsaved);
	ck_assert_msg(V.failed == 0, "%d recordings wrong; first: %s", V.failed, V.first_err);
	ck_assert_msg(dropped_chunks == 0, "%.0f chunks dropped", dropped_chunks);
	ck_assert_int_eq(V.checked, V.queued);
	ck_assert_msg(V.frames == rec_sent, "frames recorded %llu, sent %llu",
	    (unsigned long long) V.frames, (unsigned long long) rec_sent);
	ck_assert_int_eq(V.deleted, V.checked);
	ck_assert_int_eq(files, 0);
	ck_assert_int_eq(rows, 0);
	ck_assert_msg(rss_bad == 0, "%d processes' RSS grew past the limit", rss_bad);
	ck_assert_msg(hist->n > 0 && load_hist_q_us(hist, 0.99) < 1e6, "p99 latency %.0f us",
	    load_hist_q_us(hist, 0.99));

	for (int i = 0; i < n; i++)
		load_sess_close(ss[i].ls, true);
	load_client_run(cl, 500);
	load_client_destroy(cl);
	for (int i = 0; i < nseries; i++)
		load_series_free(&series[i]);
	free(hist);
	free(m0);
	free(m1);
	free(m2);
	free(ss);
	free(seen);
}
END_TEST

int main(void)
{
	const int n = (int) load_env_long("PYC_SOAK_SESSIONS", DEF_SESSIONS);
	const int secs = (int) load_env_long("PYC_SOAK_SECONDS", 60);
	char e_sess[64], e_ip[64], e_spare[64], e_max[64];
	snprintf(e_sess, sizeof(e_sess), "MAX_SESSIONS=%d", n + 16);
	snprintf(e_ip, sizeof(e_ip), "MAX_SESSIONS_PER_IP=%d", n + 16);
	snprintf(e_spare, sizeof(e_spare), "DSP_POOL_SPARE=%d", n < 8 ? n : 8);
	snprintf(e_max, sizeof(e_max), "DSP_POOL_MAX=%d", n + 32);
	const char *extra[] = {e_sess, e_ip, e_spare, e_max, NULL};
	signal(SIGPIPE, SIG_IGN);
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("load_soak");
	/* opening, the run, the drain and the checks */
	TCase *tc = sys_tcase(s, "soak", 120.0 + secs * 1.5 + n * 2.0);
	tcase_add_test(tc, test_load_soak);
	return sys_run(&S, s);
}
