/* load_rest.c - REST load: wrk on GET /recordings?session_id=... and on
 * downloads of real recordings while sessions stream in real time; no 5xx
 * (nor any other non-2xx), and the streaming does not notice.
 *
 * Settings (environment): PYC_REST_SECONDS (10: each of the two phases),
 * PYC_REST_SESSIONS (20; 6 in a sanitizer build), PYC_REST_CONNECTIONS
 * (8), PYC_REST_THREADS (1).
 *
 * NOTES: the sessions stream 44.1 kHz stereo in 20 ms chunks at wall-clock
 * pace throughout. First four of them record 2 s each (checked sample by
 * sample over HTTP), so there is something real to list and download.
 * Then two phases of PYC_REST_SECONDS: without REST load, then with wrk
 * (tests/load/wrk_rest.lua) cycling over the four sessions' lists, the
 * four WAVs whole (353 KB each) and the four with a Range header (206).
 * For each phase: send -> meter latency on the client (p50/p99) and in
 * the gateway's histogram, the lowest meter rate of any session, and
 * error events. wrk's results: requests/s, each status seen (only 200 and
 * 206 pass), socket errors (none may be a connect error or a timeout).
 * The streaming passes when, in the loaded phase, every session got
 * every chunk analysed (the newest meter's seq is the last chunk), no
 * error event came (no too_fast), every session received at least 90 %
 * of the meters of a real-time stream (the others replaced for a slow
 * reader and counted in /metrics), and the p99 latency stayed under 1 s.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "it_system_util.h"
#include "load_client.h"
#include "load_util.h"

#define RATE 44100
#define CH 2
#define FRAMES 882
#define PERIOD_US 20000
#define N_REC 4
#define REC_CHUNKS 100 /* 2 s */

#ifdef PYC_LOAD_SANITIZED
#define DEF_SESSIONS 6
#else
#define DEF_SESSIONS 20
#endif

extern char **environ;

static sys S;

typedef struct rsess {
	load_sess *ls;
	uint32_t key;
	uint64_t queued;
	int64_t next_us;
} rsess;

static rsess *ss;
static int n;
static load_client *cl;

/* Streams every session in real time until end_us, or until pid (if > 0)
 * has exited; returns the seconds streamed. *status gets pid's status. */
static double stream(int64_t end_us, pid_t pid, int *status)
{
	int64_t t0 = load_now_us();
	int64_t next_poll = t0;
	for (;;) {
		int64_t now = load_now_us(), next = end_us;
		if (now >= end_us)
			break;
		if (pid > 0 && now >= next_poll) {
			if (waitpid(pid, status, WNOHANG) == pid)
				break;
			next_poll = now + 50000;
		}
		for (int i = 0; i < n; i++) {
			rsess *x = &ss[i];
			ck_assert_msg(x->ls->state == LOAD_OPEN, "session %d closed (%d)", i,
			    x->ls->close_code);
			while (x->next_us <= now) {
				if (x->queued == 0 && i < N_REC)
					load_sess_text(x->ls, "{\"action\":\"start_record\"}");
				load_sess_signal(x->ls, x->key, x->queued * FRAMES, FRAMES, CH);
				x->queued++;
				x->next_us += PERIOD_US;
				if (x->queued == REC_CHUNKS && i < N_REC)
					load_sess_text(x->ls, "{\"action\":\"stop_record\"}");
			}
			if (x->next_us < next)
				next = x->next_us;
		}
		load_client_service(cl, next - load_now_us());
	}
	return (double) (load_now_us() - t0) / 1e6;
}

typedef struct phase {
	const char *name;
	load_hist *hist;
	double secs;
	double min_rate;   /* lowest meters/s of a session */
	uint64_t chunks, meters;
	int errors;
	double gw_p50, gw_p99, replaced;
} phase;

static void run_phase(phase *p, pid_t pid, int *status, int max_s)
{
	uint64_t *m0 = calloc((size_t) n, sizeof(*m0)), *c0 = calloc((size_t) n, sizeof(*c0));
	int e0 = 0;
	ck_assert(m0 != NULL && c0 != NULL);
	for (int i = 0; i < n; i++) {
		m0[i] = ss[i].ls->meters;
		c0[i] = ss[i].ls->chunks;
		e0 += ss[i].ls->errors;
	}
	char *before = load_metrics(S.http_port);
	ck_assert_ptr_nonnull(before);
	p->hist = calloc(1, sizeof(*p->hist));
	ck_assert_ptr_nonnull(p->hist);
	load_client_measure(cl, p->hist);
	p->secs = stream(load_now_us() + (int64_t) max_s * 1000000, pid, status);
	load_client_measure(cl, NULL);
	char *after = load_metrics(S.http_port);
	ck_assert_ptr_nonnull(after);
	p->min_rate = 1e9;
	p->errors = -e0;
	for (int i = 0; i < n; i++) {
		double rate = (double) (ss[i].ls->meters - m0[i]) / p->secs;
		if (rate < p->min_rate)
			p->min_rate = rate;
		p->meters += ss[i].ls->meters - m0[i];
		p->chunks += ss[i].ls->chunks - c0[i];
		p->errors += ss[i].ls->errors;
	}
	p->gw_p50 = load_metric_lat_q(before, after, 0.5);
	p->gw_p99 = load_metric_lat_q(before, after, 0.99);
	p->replaced = load_metric(after, "pyc_meters_dropped_total") -
		      load_metric(before, "pyc_meters_dropped_total");
	printf("rest: %-12s %.1f s: chunks %llu, meters %llu (replaced %.0f), lowest session rate "
	       "%.1f meters/s, errors %d; latency send->meter p50 %.1f ms, p99 %.1f ms, max %.1f "
	       "ms; gateway p50 <= %.1f ms, p99 <= %.1f ms\n",
	    p->name, p->secs, (unsigned long long) p->chunks, (unsigned long long) p->meters,
	    p->replaced, p->min_rate, p->errors, load_hist_q_us(p->hist, 0.5) / 1000,
	    load_hist_q_us(p->hist, 0.99) / 1000, (double) p->hist->max_us / 1000,
	    p->gw_p50 * 1000, p->gw_p99 * 1000);
	free(before);
	free(after);
	free(m0);
	free(c0);
}

/* A number after key in text ("Requests/sec:" -> 1234.5); -1 if absent. */
static double after_key(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p != NULL ? strtod(p + strlen(key), NULL) : -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *buf = calloc(1, 65536);
	if (buf != NULL) {
		size_t k = fread(buf, 1, 65535, f);
		buf[k] = '\0';
	}
	fclose(f);
	return buf;
}

START_TEST(test_load_rest)
{
	const int secs = (int) load_env_long("PYC_REST_SECONDS", 10);
	const int conns = (int) load_env_long("PYC_REST_CONNECTIONS", 8);
	const int threads = (int) load_env_long("PYC_REST_THREADS", 1);
	n = (int) load_env_long("PYC_REST_SESSIONS", DEF_SESSIONS);
	ck_assert(secs > 0 && conns > 0 && threads > 0 && n >= N_REC);
	ss = calloc((size_t) n, sizeof(*ss));
	ck_assert_ptr_nonnull(ss);
	cl = load_client_create(S.ws_port, n);
	ck_assert_ptr_nonnull(cl);
	for (int i = 0; i < n; i++) {
		ss[i].key = (uint32_t) i * 104729u + 3u;
		ss[i].ls = load_open_ready(cl, S.http_port, "rest", i);
	}
	int64_t t0 = load_now_us() + 20000;
	for (int i = 0; i < n; i++)
		ss[i].next_us = t0 + (int64_t) PERIOD_US * i / n;

	/* the recordings to serve: 2 s from each of the first sessions */
	int64_t rec_end = load_now_us() + 20000000;
	for (;;) {
		bool all = true;
		for (int i = 0; i < N_REC; i++)
			all = all && ss[i].ls->saved == 1;
		if (all || load_now_us() > rec_end)
			break;
		stream(load_now_us() + 200000, 0, NULL);
	}
	char wrk_args[4 * N_REC][300];
	int nargs = 0;
	for (int i = 0; i < N_REC; i++) {
		char err[512];
		const char *f = load_sess_saved(ss[i].ls, 0);
		ck_assert_msg(f != NULL, "session %d: no recording_saved (%s)", i,
		    ss[i].ls->last_error);
		ck_assert_msg(load_check_recording(S.http_port, ss[i].ls->sid, f, ss[i].key, 0,
				  (uint64_t) REC_CHUNKS * FRAMES, RATE, CH, err, sizeof(err)),
		    "%s", err);
		snprintf(wrk_args[nargs++], sizeof(wrk_args[0]), "/recordings?session_id=%s",
		    ss[i].ls->sid);
		snprintf(wrk_args[nargs++], sizeof(wrk_args[0]), "/recordings/%s", f);
		snprintf(wrk_args[nargs++], sizeof(wrk_args[0]), "R /recordings/%s", f);
	}

	phase quiet = {.name = "no REST load"}, loaded = {.name = "wrk running"};
	run_phase(&quiet, 0, NULL, secs);

	/* wrk, its output in a file */
	char url[64], dur[32], cs[16], ts[16], script[600], out[600];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", S.http_port);
	snprintf(dur, sizeof(dur), "%ds", secs);
	snprintf(cs, sizeof(cs), "%d", conns);
	snprintf(ts, sizeof(ts), "%d", threads);
	snprintf(script, sizeof(script), "%s/tests/load/wrk_rest.lua", PYC_SOURCE_DIR);
	snprintf(out, sizeof(out), "%s/wrk.out", S.dir);
	char *argv[12 + 4 * N_REC];
	int a = 0;
	argv[a++] = "wrk";
	argv[a++] = "-t";
	argv[a++] = ts;
	argv[a++] = "-c";
	argv[a++] = cs;
	argv[a++] = "-d";
	argv[a++] = dur;
	argv[a++] = "--timeout";
	argv[a++] = "5s";
	argv[a++] = "-s";
	argv[a++] = script;
	argv[a++] = url;
	argv[a++] = "--";
	for (int i = 0; i < nargs; i++)
		argv[a++] = wrk_args[i];
	argv[a] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	int rv = posix_spawnp(&pid, "wrk", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(rv == 0, "wrk: %s (scripts/install-deps.sh installs it)", strerror(rv));
	int status = -1;
	run_phase(&loaded, pid, &status, secs + 20);
	if (status == -1) {
		/* still running after the bound: stop it */
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("wrk did not finish within %d s", secs + 20);
	}
	/* the last meters */
	int64_t drain = load_now_us() + 10000000;
	for (;;) {
		bool all = true;
		for (int i = 0; i < n; i++)
			all = all && ss[i].ls->queued == 0 && ss[i].ls->last_seq == ss[i].queued;
		if (all || load_now_us() > drain)
			break;
		load_client_service(cl, 10000);
	}

	char *w = slurp(out);
	ck_assert_ptr_nonnull(w);
	printf("rest: wrk -t%d -c%d -d%ds over %d paths:\n%s", threads, conns, secs, nargs, w);
	double rps = after_key(w, "Requests/sec:");
	int ok200 = (int) after_key(w, "status 200 "), ok206 = (int) after_key(w, "status 206 ");
	int other = 0;
	for (const char *p = strstr(w, "status "); p != NULL; p = strstr(p + 1, "status ")) {
		int code = atoi(p + 7);
		if (p > w && p[-1] != '\n')
			continue;
		if (code != 200 && code != 206)
			other++;
	}
	printf("rest: wrk %.0f requests/s; status 200: %d, 206: %d, other codes: %d\n", rps, ok200,
	    ok206, other);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wrk status %d", status);
	ck_assert_msg(strstr(w, "Non-2xx or 3xx responses") == NULL, "non-2xx answers");
	ck_assert_msg(other == 0, "statuses other than 200 and 206");
	ck_assert_int_gt(ok200, 0);
	ck_assert_int_gt(ok206, 0);
	ck_assert_msg(after_key(w, "errors connect ") == 0 && after_key(w, " timeout ") == 0 &&
			  after_key(w, " status ") == 0,
	    "wrk socket errors");

	for (int i = 0; i < n; i++)
		ck_assert_msg(ss[i].ls->last_seq == ss[i].queued && ss[i].ls->errors == 0,
		    "session %d: %llu chunks, last meter %llu, errors %d: %s", i,
		    (unsigned long long) ss[i].queued, (unsigned long long) ss[i].ls->last_seq,
		    ss[i].ls->errors, ss[i].ls->last_error);
	ck_assert_int_eq(loaded.errors, 0);
	ck_assert_msg(loaded.min_rate >= 0.9 * 1e6 / PERIOD_US, "a session got %.1f meters/s",
	    loaded.min_rate);
	ck_assert_msg(load_hist_q_us(loaded.hist, 0.99) < 1e6, "p99 %.0f us under REST load",
	    load_hist_q_us(loaded.hist, 0.99));

	for (int i = 0; i < n; i++)
		load_sess_close(ss[i].ls, true);
	load_client_run(cl, 300);
	load_client_destroy(cl);
	free(w);
	free(quiet.hist);
	free(loaded.hist);
	free(ss);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!sys_start(&S, NULL))
		return EXIT_FAILURE;
	Suite *s = suite_create("load_rest");
	int secs = (int) load_env_long("PYC_REST_SECONDS", 10);
	TCase *tc = sys_tcase(s, "rest", 90.0 + secs * 3.0);
	tcase_add_test(tc, test_load_rest);
	return sys_run(&S, s);
}
