/* load_churn.c - churn: thousands of connect-stream-disconnect cycles, some
 * recording; afterwards every resource is back where it started.
 *
 * Settings (environment): PYC_CHURN_CYCLES (500; 150 in a sanitizer
 * build), PYC_CHURN_PARALLEL (8 cycles in flight).
 *
 * NOTES: cycle k opens a new session, sends init and five 20 ms chunks of
 * 44.1 kHz stereo and waits for the meter of the last one. Every third
 * cycle records those chunks (start_record before, stop_record after) and
 * reads the recording back over HTTP, sample by sample; every sixth then
 * deletes it over HTTP (200, and the session's list is empty), the others
 * leave it to the session's end (RECORDING_RETENTION_SECONDS=0: the
 * recorder deletes a session's recordings when its grace period, here
 * 2 s, is over). Every tenth cycle drops its connection and reconnects
 * with the same id within the grace period: the meters' seq carries on
 * from the first connection, so the session (and its worker) was resumed,
 * not made anew. Half the cycles close with a close frame, half drop the
 * TCP connection without one. Before the cycles (after a warm-up of two
 * rounds, so lazily opened descriptors exist) and after them, once the
 * system is idle again (no session, no connection, no busy worker, the
 * spare pool full), the test counts the gateway's, the recorder's and the
 * host's open descriptors, the host's worker processes, zombies among the
 * services' children, the files in the recordings folder and the rows in
 * SQLite: all must be back at the baseline (descriptors exactly, after
 * waiting up to 15 s for them to settle), half way as well as at the end.
 * RSS is judged on the second half: from half way to the end each
 * service may grow by 2 MiB at most (not judged under the sanitizers; the
 * first half grows the heaps to their working size). A worker must be idle before a
 * cycle opens its session (spare pool of 12 for 8 cycles in flight), so
 * no session is told no_worker: any error event fails the cycle.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_system_util.h"
#include "load_client.h"
#include "load_util.h"

#define RATE 44100
#define CH 2
#define FRAMES 882
#define CHUNKS 5
#define RESUME_CHUNKS 2
#define GRACE_S 2
#define SPARE 12
#define RSS_LIMIT_KB 2048

#ifdef PYC_LOAD_SANITIZED
#define DEF_CYCLES 150
#else
#define DEF_CYCLES 500
#endif

static sys S;

typedef enum { SLOT_IDLE, SLOT_RUN, SLOT_RESUME, SLOT_CLOSING } slot_phase;

typedef struct slot {
	slot_phase phase;
	load_sess *ls;
	int cycle;
	char sid[64];
	bool record, del, resume, clean;
	int64_t deadline;
} slot;

static struct {
	int done, failed, recorded, deleted_http, resumed, clean, abrupt;
	char first_err[512];
} R;

static void fail_cycle(slot *sl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_cycle(slot *sl, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cycle %d (%s): %s [state %d close %d ready %d seq %llu saved %d: %s]\n",
	    sl->cycle, sl->sid, msg, sl->ls ? (int) sl->ls->state : -1,
	    sl->ls ? sl->ls->close_code : 0, sl->ls ? sl->ls->ready : 0,
	    sl->ls ? (unsigned long long) sl->ls->last_seq : 0ULL, sl->ls ? sl->ls->saved : 0,
	    sl->ls ? sl->ls->last_error : "");
	if (R.failed++ == 0)
		snprintf(R.first_err, sizeof(R.first_err), "cycle %d: %s", sl->cycle, msg);
	load_sess_free(sl->ls);
	sl->ls = NULL;
	sl->phase = SLOT_IDLE;
}

static void start_cycle(load_client *cl, slot *sl, int k, int parallel)
{
	memset(sl, 0, sizeof(*sl));
	sl->cycle = k;
	sl->record = k % 3 == 0;
	sl->del = k % 6 == 0;
	sl->resume = k % 10 == 5;
	sl->clean = k % 2 == 0;
	sys_mksid(sl->sid, sizeof(sl->sid), "churn");
	/* as many idle workers as cycles that may be opening */
	char *m = NULL;
	int64_t end = load_now_us() + 20000000;
	for (;;) {
		m = load_metrics(S.http_port);
		double idle = m ? load_metric(m, "pyc_workers_idle") : -1;
		free(m);
		if (idle >= parallel || load_now_us() > end)
			break;
		load_client_service(cl, 5000);
	}
	sl->ls = load_sess_open(cl, sl->sid, k, 0);
	ck_assert_ptr_nonnull(sl->ls);
	load_sess_text(sl->ls, "{\"action\":\"init\",\"sample_rate\":44100,\"channels\":2,"
			       "\"gain\":0,\"filter_enabled\":false}");
	if (sl->record)
		load_sess_text(sl->ls, "{\"action\":\"start_record\"}");
	for (int i = 0; i < CHUNKS; i++)
		load_sess_signal(sl->ls, (uint32_t) k, (uint64_t) i * FRAMES, FRAMES, CH);
	if (sl->record)
		load_sess_text(sl->ls, "{\"action\":\"stop_record\"}");
	sl->phase = SLOT_RUN;
	sl->deadline = load_now_us() + 20000000;
}

static void close_cycle(slot *sl)
{
	load_sess_close(sl->ls, sl->clean);
	if (sl->clean)
		R.clean++;
	else
		R.abrupt++;
	sl->phase = SLOT_CLOSING;
	sl->deadline = load_now_us() + 10000000;
}

/* Advances one slot; returns true when its cycle is over. */
static bool step(load_client *cl, slot *sl)
{
	load_sess *ls = sl->ls;
	if (sl->phase != SLOT_CLOSING && ls->errors > 0) {
		fail_cycle(sl, "error event");
		return true;
	}
	if (sl->phase != SLOT_CLOSING && ls->state == LOAD_CLOSED) {
		fail_cycle(sl, "connection closed");
		return true;
	}
	if (load_now_us() > sl->deadline) {
		fail_cycle(sl, "timed out in phase %d", sl->phase);
		return true;
	}
	switch (sl->phase) {
	case SLOT_RUN:
		if (ls->ready < 1 || ls->last_seq < CHUNKS || (sl->record && ls->saved < 1))
			return false;
		if (ls->last_seq != CHUNKS) {
			fail_cycle(sl, "meter seq %llu after %d chunks",
			    (unsigned long long) ls->last_seq, CHUNKS);
			return true;
		}
		if (sl->record) {
			char err[512];
			const char *f = load_sess_saved(ls, 0);
			if (!load_check_recording(S.http_port, sl->sid, f, (uint32_t) sl->cycle, 0,
				(uint64_t) CHUNKS * FRAMES, RATE, CH, err, sizeof(err))) {
				fail_cycle(sl, "%s", err);
				return true;
			}
			R.recorded++;
			if (sl->del) {
				int st = load_delete_recording(S.http_port, f);
				int left = load_list_count(S.http_port, sl->sid);
				if (st != 200 || left != 0) {
					fail_cycle(sl, "DELETE %s: %d, %d left in the list", f, st, left);
					return true;
				}
				R.deleted_http++;
			}
		}
		if (sl->resume) {
			/* drop the connection, come back with the same id */
			load_sess_free(ls);
			sl->ls = ls = load_sess_open(cl, sl->sid, sl->cycle, CHUNKS);
			ck_assert_ptr_nonnull(ls);
			for (int i = 0; i < RESUME_CHUNKS; i++)
				load_sess_signal(ls, (uint32_t) sl->cycle, (uint64_t) (CHUNKS + i) * FRAMES,
				    FRAMES, CH);
			sl->phase = SLOT_RESUME;
			sl->deadline = load_now_us() + 20000000;
			return false;
		}
		close_cycle(sl);
		return false;
	case SLOT_RESUME:
		if (ls->last_seq < CHUNKS + RESUME_CHUNKS)
			return false;
		if (ls->last_seq != CHUNKS + RESUME_CHUNKS) {
			fail_cycle(sl, "resumed session at seq %llu", (unsigned long long) ls->last_seq);
			return true;
		}
		R.resumed++;
		close_cycle(sl);
		return false;
	case SLOT_CLOSING:
		if (ls->state != LOAD_CLOSED)
			return false;
		load_sess_free(ls);
		sl->ls = NULL;
		sl->phase = SLOT_IDLE;
		R.done++;
		return true;
	case SLOT_IDLE:
		break;
	}
	return true;
}

/* Runs cycles first..first+count-1 with parallel in flight. */
static void run_cycles(load_client *cl, int first, int count, int parallel)
{
	slot *sl = calloc((size_t) parallel, sizeof(*sl));
	ck_assert_ptr_nonnull(sl);
	int next = first, active = 0;
	while (next < first + count || active > 0) {
		for (int i = 0; i < parallel; i++) {
			if (sl[i].phase == SLOT_IDLE && next < first + count) {
				start_cycle(cl, &sl[i], next++, parallel);
				active++;
			}
			if (sl[i].phase != SLOT_IDLE && step(cl, &sl[i]))
				active--;
		}
		load_client_service(cl, 2000);
	}
	free(sl);
}

typedef struct snapshot {
	int fd_gw, fd_rec, fd_host;
	long rss_gw, rss_rec, rss_host;
	int workers, zombies;
	int files;
	long rows;
} snapshot;

static void take(snapshot *s)
{
	char dir[600], db[600];
	int z1 = 0, z2 = 0, z3 = 0;
	snprintf(dir, sizeof(dir), "%s/recordings", S.dir);
	snprintf(db, sizeof(db), "%s/pycoustics.db", S.dir);
	s->fd_gw = load_fd_count(S.gw.pid);
	s->fd_rec = load_fd_count(S.rec.pid);
	s->fd_host = load_fd_count(S.host.pid);
	s->rss_gw = load_rss_kb(S.gw.pid);
	s->rss_rec = load_rss_kb(S.rec.pid);
	s->rss_host = load_rss_kb(S.host.pid);
	s->workers = load_children(S.host.pid, NULL, 0, &z1);
	load_children(S.gw.pid, NULL, 0, &z2);
	load_children(S.rec.pid, NULL, 0, &z3);
	s->zombies = z1 + z2 + z3;
	s->files = load_count_files(dir);
	s->rows = load_db_rows(db);
}

static void print_snapshot(const char *what, const snapshot *s)
{
	printf("churn: %s: descriptors gateway %d, recorder %d, host %d; worker processes %d "
	       "(zombies %d); files %d; rows %ld; RSS KiB gateway %ld, recorder %ld, host %ld\n",
	    what, s->fd_gw, s->fd_rec, s->fd_host, s->workers, s->zombies, s->files, s->rows,
	    s->rss_gw, s->rss_rec, s->rss_host);
}

/* Waits (bounded) until the system is idle: no session, no connection,
 * no busy worker, the spare pool full, the host's children the spare
 * pool, no file and no row. */
static bool wait_idle(int timeout_ms)
{
	int64_t end = load_now_us() + (int64_t) timeout_ms * 1000;
	for (;;) {
		char *m = load_metrics(S.http_port);
		snapshot s;
		take(&s);
		bool idle = m != NULL && load_metric(m, "pyc_gateway_sessions") == 0 &&
			    load_metric(m, "pyc_gateway_connections") == 0 &&
			    load_metric(m, "pyc_workers_busy") == 0 &&
			    load_metric(m, "pyc_workers_idle") == SPARE && s.workers == SPARE &&
			    s.zombies == 0 && s.files == 0 && s.rows == 0;
		if (!idle && load_now_us() > end && m != NULL)
			printf("churn: not idle: sessions %.0f connections %.0f busy %.0f idle %.0f\n",
			    load_metric(m, "pyc_gateway_sessions"),
			    load_metric(m, "pyc_gateway_connections"),
			    load_metric(m, "pyc_workers_busy"), load_metric(m, "pyc_workers_idle"));
		free(m);
		if (idle)
			return true;
		if (load_now_us() > end) {
			print_snapshot("not idle", &s);
			return false;
		}
		usleep(100000);
	}
}

START_TEST(test_load_churn)
{
	const int cycles = (int) load_env_long("PYC_CHURN_CYCLES", DEF_CYCLES);
	const int parallel = (int) load_env_long("PYC_CHURN_PARALLEL", 8);
	ck_assert(cycles > 0 && parallel > 0 && parallel < SPARE + 1);
	load_client *cl = load_client_create(S.ws_port, parallel * 2);
	ck_assert_ptr_nonnull(cl);

	/* warm-up: every kind of cycle once, so what opens lazily is open */
	run_cycles(cl, 1000000, 2 * parallel < 10 ? 10 : 2 * parallel, parallel);
	ck_assert_msg(R.failed == 0, "warm-up: %s", R.first_err);
	ck_assert_msg(wait_idle(GRACE_S * 1000 + 30000), "not idle after the warm-up");
	snapshot before, after;
	take(&before);
	print_snapshot("baseline", &before);
	memset(&R, 0, sizeof(R));

	/* two halves; memory is judged on the second (the first grows the
	 * heap to its working size) */
	int64_t t0 = load_now_us();
	snapshot mid;
	run_cycles(cl, 0, cycles / 2, parallel);
	double took = (double) (load_now_us() - t0) / 1e6;
	ck_assert_msg(R.failed == 0, "%d cycles failed; first: %s", R.failed, R.first_err);
	ck_assert_msg(wait_idle(GRACE_S * 1000 + 60000), "not idle after the first half");
	take(&mid);
	print_snapshot("half way", &mid);
	t0 = load_now_us();
	run_cycles(cl, cycles / 2, cycles - cycles / 2, parallel);
	took += (double) (load_now_us() - t0) / 1e6;
	printf("churn: %d cycles in %.1f s (%.1f/s), %d in flight: %d done, %d failed; %d recorded "
	       "and read back, %d deleted over HTTP, %d left to the session's end; %d resumed; "
	       "%d clean closes, %d dropped connections\n",
	    cycles, took, cycles / took, parallel, R.done, R.failed, R.recorded, R.deleted_http,
	    R.recorded - R.deleted_http, R.resumed, R.clean, R.abrupt);
	ck_assert_msg(R.failed == 0, "%d cycles failed; first: %s", R.failed, R.first_err);
	ck_assert_int_eq(R.done, cycles);

	int64_t t1 = load_now_us();
	bool idle = wait_idle(GRACE_S * 1000 + 60000);
	printf("churn: idle again %.1f s after the last cycle\n", (double) (load_now_us() - t1) / 1e6);
	take(&after);
	/* descriptors may take a moment to settle (a pipe closing in nng) */
	int64_t end = load_now_us() + 15000000;
	while ((after.fd_gw != before.fd_gw || after.fd_rec != before.fd_rec ||
		   after.fd_host != before.fd_host) &&
	       load_now_us() < end) {
		usleep(200000);
		take(&after);
	}
	print_snapshot("after", &after);
	if (after.fd_gw != before.fd_gw)
		load_fd_print(S.gw.pid, stdout);
	if (after.fd_rec != before.fd_rec)
		load_fd_print(S.rec.pid, stdout);
	if (after.fd_host != before.fd_host)
		load_fd_print(S.host.pid, stdout);
	ck_assert_msg(idle, "the system did not become idle");
	ck_assert_int_eq(after.fd_gw, before.fd_gw);
	ck_assert_int_eq(after.fd_rec, before.fd_rec);
	ck_assert_int_eq(after.fd_host, before.fd_host);
	ck_assert_int_eq(after.workers, before.workers);
	ck_assert_int_eq(after.zombies, 0);
	ck_assert_int_eq(after.files, 0);
	ck_assert_int_eq(after.rows, 0);
#ifndef PYC_LOAD_SANITIZED
	/* memory per session that is never given back would show here */
	ck_assert_int_le(after.rss_gw - mid.rss_gw, RSS_LIMIT_KB);
	ck_assert_int_le(after.rss_rec - mid.rss_rec, RSS_LIMIT_KB);
	ck_assert_int_le(after.rss_host - mid.rss_host, RSS_LIMIT_KB);
#endif
	load_client_destroy(cl);
}
END_TEST

int main(void)
{
	const int cycles = (int) load_env_long("PYC_CHURN_CYCLES", DEF_CYCLES);
	char grace[64], spare[64];
	snprintf(grace, sizeof(grace), "SESSION_GRACE_SECONDS=%d", GRACE_S);
	snprintf(spare, sizeof(spare), "DSP_POOL_SPARE=%d", SPARE);
	const char *extra[] = {grace, spare, "DSP_POOL_MAX=256", "RECORDING_RETENTION_SECONDS=0",
	    NULL};
	signal(SIGPIPE, SIG_IGN);
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("load_churn");
	TCase *tc = sys_tcase(s, "churn", 120.0 + cycles * 0.5);
	tcase_add_test(tc, test_load_churn);
	return sys_run(&S, s);
}
