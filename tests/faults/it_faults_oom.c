/* it_faults_oom.c - allocation failure at the N-th allocation, during the
 * start-up of each service and during a session open, with failmalloc.so.
 *
 * NOTES: only the main thread's allocations are counted
 * (PYC_FAILMALLOC_MAIN=1): library threads race with it, so only that count
 * names the same call from one run to the next. A counting run (N = 0) of
 * each service gives the number of allocations from exec to the end of a
 * clean SIGTERM exit; then each service is started with PYC_FAILMALLOC_N = N
 * for N over that range: all of them with PYC_FAULTS_LONG=1, otherwise 5
 * per service (the first two, then evenly spread); PYC_FAULTS_OOM_N runs one
 * N only. A run passes if the process either exits by itself with status 1
 * or 2 (a clean, logged failure), or works (recorder: health answers on its
 * control socket; gateway: /health answers, with retries; dsp-worker host:
 * alive) and exits 0 or 1 on SIGTERM within 10 s (the host: 16 s, as it
 * gives its workers 10 s). A signal (the sanitizer
 * build aborts on a leak report or a memory error, so LeakSanitizer checks
 * each failing start-up), any other status, or a hang fails, with one
 * exception: nng 1.5.2 does not survive a failed allocation inside its own
 * lazy initialisation and dialing (the first nng_*_open() or nng_dial()):
 * it panics ("panic: ... This message is indicative of a BUG"), aborts in
 * free() ("free(): invalid pointer"), takes SIGSEGV or deadlocks (in the
 * sanitizer build: "AddressSanitizer: SEGV", "bad-free", or a
 * heap-use-after-free whose access is in libnng.so.1, then SIGABRT). That is
 * accepted only when the shim's hit file has libnng.so.1 on the stack of
 * the failed allocation (nng's own call, or pthread_create() for one of its
 * threads), and for SIGABRT only with one of those messages on
 * stderr (captured per run). The dsp-worker host's forked workers inherit
 * the setting; a worker that dies on a signal must also have its failure in
 * libnng.so.1. The session-open phase starts the whole system with one
 * service under the shim, arms the count (PYC_FAILMALLOC_ARM) once the system
 * is up (N = 7 in the short form, 1, 6, 11 ... 296 in the long one), and opens
 * a session (init, audio, start/stop record); the service under test must
 * then keep serving or exit 1, and the session must either work or get an
 * error / a close, never a hang of the other services.
 */
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_recorder_util.h"
#include "it_system_util.h"

#define SHIM PYC_BINARY_DIR "/tests/faults/failmalloc.so"

enum svc { SVC_REC, SVC_GW, SVC_HOST };
static const char *const svc_name[] = {"recorder", "gateway", "dsp-worker host"};
static const char *const svc_path[] = {"recorder/pyc-recorder", "gateway/pyc-gateway",
    "dsp-worker/pyc-dsp-worker"};

typedef struct run_env {
	char buf[16][700];
	char *envp[17];
	int n;
} run_env;

static void env_add(run_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void env_add(run_env *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->buf[e->n], sizeof(e->buf[0]), fmt, ap);
	va_end(ap);
	e->envp[e->n] = e->buf[e->n];
	e->n++;
	e->envp[e->n] = NULL;
}

static long long report_count(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "r");
	int p;
	long long c, found = -1;
	while (f != NULL && fscanf(f, "%d %lld", &p, &c) == 2)
		if (p == (int) pid)
			found = c;
	if (f != NULL)
		fclose(f);
	return found;
}

/* From the hit file: 1 if the failure in pid (0: in any process other
 * than not_pid) was inside libnng.so.1 (it is on the failed call's stack)
 * for all such lines, 0 if one was not, -1 if there is none. */
static int hit_in_nng(const char *path, pid_t pid, pid_t not_pid)
{
	FILE *f = fopen(path, "r");
	int p, r = -1;
	long long c;
	char obj[1024];
	while (f != NULL && fscanf(f, "%d %lld %1023s", &p, &c, obj) == 3) {
		if (pid != 0 ? p != (int) pid : p == (int) not_pid)
			continue;
		if (strstr(obj, "libnng.so.1") == NULL)
			r = 0;
		else if (r < 0)
			r = 1;
	}
	if (f != NULL)
		fclose(f);
	return r;
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool found = false;
	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

/* AddressSanitizer's heap-use-after-free whose access is in libnng.so.1:
 * the first frame of the report that is not one of the sanitizer's own
 * interceptors. */
static bool uaf_in_nng(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool in_report = false, found = false;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "ERROR: AddressSanitizer: heap-use-after-free") != NULL) {
			in_report = true;
			continue;
		}
		if (!in_report || strstr(line, "    #") == NULL || strstr(line, "libsanitizer") != NULL)
			continue;
		found = strstr(line, "libnng.so.1") != NULL;
		break;
	}
	if (f != NULL)
		fclose(f);
	return found;
}

static void dump_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	while (f != NULL && n++ < 40 && fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	if (f != NULL)
		fclose(f);
}

static bool recorder_answers(const char *dir)
{
	rf_recorder r;
	memset(&r, 0, sizeof(r));
	snprintf(r.ctl_url, sizeof(r.ctl_url), "ipc://%s/run/recorder-ctl.ipc", dir);
	/* one request may be lost to the failed allocation; a working
	 * recorder answers one of the next (each a fresh connection) */
	for (int i = 0; i < 3; i++) {
		nng_socket g = rf_gateway(&r);
		char *json = NULL;
		bool ok = rf_health(g, &json) == 0;
		free(json);
		nng_close(g);
		if (ok)
			return true;
	}
	return false;
}

static bool gateway_answers(int port)
{
	/* the port may come late on a loaded machine; a request may be lost
	 * to the failed allocation: a working gateway answers one of three */
	if (!pyc_wait_for_port(port, 8000))
		return false;
	for (int i = 0; i < 3; i++) {
		gw_http_resp r;
		if (gw_http(port, "GET", "/health", NULL, &r) == 0) {
			bool ok = r.status == 200 || r.status == 503;
			gw_http_free(&r);
			if (ok)
				return true;
		}
		pyc_sleep_ms(200);
	}
	return false;
}

/* In the sanitizer build, LeakSanitizer's check at a worker's exit stops
 * every thread with ptrace; on a loaded machine it can stall past the
 * host's grace, which then SIGKILLs the worker. It says so on stderr. */
static bool lsan_stalled(const char *err)
{
	return PYC_FAULTS_SANITIZE && (file_has(err, "was not suspended. False leaks") ||
	    file_has(err, "Unable to get registers from thread"));
}

/* The same stall, SIGKILLed before LeakSanitizer could say anything: only
 * in the sanitizer build and only in the baseline run (no allocation
 * fails, so nothing injected can be the cause), and the host ended no
 * worker otherwise. */
static bool lsan_slow_exit(long long n, const char *err)
{
	return PYC_FAULTS_SANITIZE && n == 0 && file_has(err, "still running after") &&
	    !file_has(err, "exited on signal");
}

/* The run ended with a signal or a hang: accepted only as the documented
 * nng case (see NOTES). */
static bool nng_fault(int st, bool hang, const char *hit, const char *err, pid_t pid)
{
	if (hit_in_nng(hit, pid, 0) != 1)
		return false;
	if (hang)
		return true;
	if (!WIFSIGNALED(st))
		return false;
	if (file_has(err, "LeakSanitizer"))
		return false;
	/* the sanitizer's names for the same two faults */
	bool asan_known = file_has(err, "ERROR: AddressSanitizer: SEGV") ||
	    file_has(err, "SUMMARY: AddressSanitizer: bad-free") || uaf_in_nng(err);
	if (file_has(err, "ERROR: AddressSanitizer") && !asan_known)
		return false;
	if (WTERMSIG(st) == SIGSEGV)
		return true;
	return WTERMSIG(st) == SIGABRT && (asan_known || file_has(err, "indicative of a BUG") ||
	    file_has(err, "free(): invalid pointer"));
}

/* One start-up with the N-th allocation failing (N = 0: none). Returns
 * the count reported at exit (N = 0); *outcome: 0 worked, 1/2 exit code,
 * 3 the nng case. */
static long long one_start(enum svc s, long long n, int *outcome)
{
	char *dir = pyc_tmpdir_new(), report[600], hit[600], err[600], bin[600];
	run_env e = {.n = 0};
	int http = pyc_free_port();
	snprintf(report, sizeof(report), "%s/report", dir);
	snprintf(hit, sizeof(hit), "%s/hit", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);
	snprintf(bin, sizeof(bin), "%s/%s", PYC_BINARY_DIR, svc_path[s]);
	env_add(&e, "DATA_DIR=%s", dir);
	env_add(&e, "RUN_DIR=%s/run", dir);
	env_add(&e, "BACKEND_PORT=%d", http);
	env_add(&e, "BIND_ADDRESS=127.0.0.1");
	/* warn: the host logs a worker's death by a signal */
	env_add(&e, "LOG_LEVEL=%s", getenv("PYC_TEST_LOG_LEVEL") ? getenv("PYC_TEST_LOG_LEVEL") : "warn");
	env_add(&e, "DSP_POOL_SPARE=1");
	env_add(&e, "REQUEST_TIMEOUT_MS=2000");
	env_add(&e, "PYC_FAILMALLOC_N=%lld", n);
	env_add(&e, "PYC_FAILMALLOC_MAIN=1");
	env_add(&e, "PYC_FAILMALLOC_REPORT=%s", report);
	env_add(&e, "PYC_FAILMALLOC_HIT=%s", hit);
	env_add(&e, "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1");
	/* the shell only redirects stderr and execs (same pid); the shim is
	 * set for the service alone */
	char *const argv[] = {(char *) "sh", (char *) "-c",
	    (char *) "LD_PRELOAD=\"$2\" exec \"$0\" 2>\"$1\"", bin, err, (char *) SHIM, NULL};
	pyc_proc p;
	ck_assert_int_eq(pyc_proc_start(&p, "/bin/sh", argv, e.envp), 0);
	bool exited = pyc_proc_wait(&p, n == 0 ? 1500 : 700);
	bool works = false, hang = false;
	int st = 0;
	if (!exited) {
		works = s == SVC_REC ? recorder_answers(dir) : s == SVC_GW ? gateway_answers(http)
		    : (pyc_sleep_ms(300), pyc_proc_alive(&p));
		if (!works) /* failing late: it must end by itself */
			exited = pyc_proc_wait(&p, 5000);
	}
	if (!exited) {
		/* the host may wait DW_HOST_GRACE_MS (10 s) for its workers */
		st = pyc_proc_stop(&p, SIGTERM, s == SVC_HOST ? 16000 : 10000);
		hang = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	} else {
		st = p.status;
	}
	bool ok;
	if (!exited)
		ok = works && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1) &&
		    (n != 0 || WEXITSTATUS(st) == 0);
	else
		ok = WIFEXITED(st) && (WEXITSTATUS(st) == 1 || WEXITSTATUS(st) == 2) && n != 0;
	*outcome = !exited ? 0 : WIFEXITED(st) ? WEXITSTATUS(st) : 3;
	/* the host's workers: one dying on a signal, or not ending on SIGTERM
	 * within the grace, must have had its failure in nng */
	bool slow_exit = lsan_slow_exit(n, err);
	if (slow_exit)
		printf("%s, no allocation failing: a worker was still exiting after the host's "
		       "grace under the sanitizers (SIGKILLed)\n", svc_name[s]);
	if (ok && s == SVC_HOST &&
	    (file_has(err, "exited on signal") || file_has(err, "still running after")) &&
	    hit_in_nng(hit, 0, p.pid) != 1 && !lsan_stalled(err) && !slow_exit)
		ok = false;
	if (!ok && n != 0 && nng_fault(st, hang, hit, err, p.pid)) {
		ok = true;
		*outcome = 3;
		printf("%s, allocation %lld failing in libnng.so.1: %s %d (nng 1.5.2's own "
		       "error path)\n", svc_name[s], n, hang ? "hang, then" : "signal",
		    WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	}
	if (!ok) {
		fprintf(stderr, "--- stderr of the %s (allocation %lld failing); hits:\n", svc_name[s], n);
		dump_file(err);
		dump_file(hit);
	}
	ck_assert_msg(ok, "%s with allocation %lld failing: %s%s %d (%s)", svc_name[s], n,
	    hang ? "hang; " : "", WIFSIGNALED(st) ? "signal" : "status",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
	    exited ? "exited by itself" : works ? "was working" : "running but not working");
	long long c = report_count(report, p.pid);
	pyc_tmpdir_remove(dir);
	free(dir);
	return c;
}

static void startup_sweep(enum svc s)
{
	int o, clean = 0, worked = 0, nng = 0;
	long long total = one_start(s, 0, &o);
	ck_assert_msg(total > 0, "no allocation count from the %s", svc_name[s]);
	bool all = getenv("PYC_FAULTS_LONG") != NULL;
	const char *only = getenv("PYC_FAULTS_OOM_N"); /* one N, to look at a failure */
	long long runs = only != NULL ? 1 : all ? total : 5;
	for (long long i = 1; i <= runs; i++) {
		long long n = only != NULL ? atoll(only)
		    : all || i <= 2 ? i : 2 + (i - 2) * (total - 2) / (runs - 2);
		one_start(s, n, &o);
		if (o == 0)
			worked++;
		else if (o == 3)
			nng++;
		else
			clean++;
	}
	printf("%s start-up: %lld allocations (main thread) to a clean exit; %lld runs: %d clean "
	       "failures (exit 1/2), %d kept working, %d in nng\n", svc_name[s], total, runs, clean,
	    worked, nng);
}

START_TEST(test_faults_oom_startup_recorder)
{
	startup_sweep(SVC_REC);
}
END_TEST

START_TEST(test_faults_oom_startup_gateway)
{
	startup_sweep(SVC_GW);
}
END_TEST

START_TEST(test_faults_oom_startup_host)
{
	startup_sweep(SVC_HOST);
}
END_TEST

/* The whole system, one service under the shim (armed later), and a
 * session open. */
static void session_open_run(enum svc s, long long n)
{
	sys S;
	char arm[128], hit[128], sid[96], extra_n[64], extra_arm[160], extra_hit[160];
	snprintf(arm, sizeof(arm), "/tmp/pyc-oom-arm-%d-%lld", (int) getpid(), n);
	snprintf(hit, sizeof(hit), "/tmp/pyc-oom-hit-%d-%lld", (int) getpid(), n);
	unlink(arm);
	unlink(hit);
	snprintf(extra_n, sizeof(extra_n), "PYC_FAILMALLOC_N=%lld", n);
	snprintf(extra_arm, sizeof(extra_arm), "PYC_FAILMALLOC_ARM=%s", arm);
	snprintf(extra_hit, sizeof(extra_hit), "PYC_FAILMALLOC_HIT=%s", hit);
	const char *const extra[] = {extra_n, extra_arm, extra_hit, "PYC_FAILMALLOC_MAIN=1",
	    "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1", NULL};
	ck_assert(sys_start(&S, extra));
	/* restart the service under test with the shim */
	pyc_proc *p = s == SVC_REC ? &S.rec : s == SVC_GW ? &S.gw : &S.host;
	ck_assert(sys_stop_one(p, 10000));
	snprintf(S.env[S.nenv], sizeof(S.env[0]), "LD_PRELOAD=" SHIM);
	S.envp[S.nenv] = S.env[S.nenv];
	S.envp[S.nenv + 1] = NULL;
	ck_assert(s == SVC_REC ? sys_start_recorder(&S) : s == SVC_GW ? sys_start_gateway(&S)
		: sys_start_host(&S));
	S.envp[S.nenv] = NULL;
	long long end = pyc_now_ms() + 20000;
	for (;;) { /* up again: a worker idle and the recorder answering */
		gw_http_resp r;
		bool ok = false;
		if (sys_http(&S, "GET", "/health", NULL, &r) == 0) {
			ok = r.status == 200 && strstr(r.body, "\"idle\":0") == NULL;
			gw_http_free(&r);
		}
		if (ok)
			break;
		ck_assert_msg(pyc_now_ms() < end, "system not up again with the shim");
		pyc_sleep_ms(100);
	}
	FILE *f = fopen(arm, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	pyc_sleep_ms(100); /* the shim looks for the file every 32 calls */
	sys_mksid(sid, sizeof(sid), "oom");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	int got_meter = 0;
	if (c != NULL) {
		int16_t pcm[960 * 2];
		uint32_t seed = 7;
		gw_tc_send_text(c, "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":2}");
		gw_tc_send_text(c, "{\"action\":\"start_record\"}");
		for (int i = 0; i < 10; i++) {
			sig_noise(pcm, 960 * 2, &seed, 3000);
			gw_tc_send_binary(c, pcm, sizeof(pcm));
		}
		gw_tc_send_text(c, "{\"action\":\"stop_record\"}");
		char *m;
		while ((m = gw_tc_recv_text(c, 3000)) != NULL) {
			got_meter += strstr(m, "\"meter\"") != NULL;
			bool done = strstr(m, "recording_saved") != NULL || strstr(m, "recording_failed") != NULL;
			free(m);
			if (done)
				break;
		}
		gw_tc_destroy(c);
	}
	struct stat sb;
	bool hit_happened = stat(hit, &sb) == 0;
	/* the service under test: running (then it must stop with 0 or 1) or
	 * gone with status 1; the others must stop with 0 */
	bool under_alive = pyc_proc_alive(p);
	int st = pyc_proc_stop(p, SIGTERM, 15000);
	ck_assert_msg(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1),
	    "%s with allocation %lld after arming failing (%s): %s %d", svc_name[s], n,
	    under_alive ? "was running" : "had exited", WIFSIGNALED(st) ? "signal" : "status",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	printf("%s, session open, allocation %lld failing: %s; %d meters; %s\n", svc_name[s], n,
	    hit_happened ? "failure injected" : "not reached", got_meter,
	    under_alive ? "kept running" : "exited 1");
	ck_assert_msg(sys_stop(&S), "another service did not exit 0");
	unlink(arm);
	unlink(hit);
}

static void session_sweep(enum svc s)
{
	bool all = getenv("PYC_FAULTS_LONG") != NULL;
	static const long long few[] = {7};
	int runs = all ? 60 : 1;
	for (int i = 0; i < runs; i++)
		session_open_run(s, all ? 1 + i * 5 : few[i]);
}

START_TEST(test_faults_oom_session_recorder)
{
	session_sweep(SVC_REC);
}
END_TEST

START_TEST(test_faults_oom_session_gateway)
{
	session_sweep(SVC_GW);
}
END_TEST

START_TEST(test_faults_oom_session_host)
{
	session_sweep(SVC_HOST);
}
END_TEST

int main(void)
{
	bool all = getenv("PYC_FAULTS_LONG") != NULL;
	Suite *s = suite_create("faults_oom");
	TCase *tc = tcase_create("startup");
	tcase_set_timeout(tc, all ? 7200 : 90);
	tcase_add_test(tc, test_faults_oom_startup_recorder);
	tcase_add_test(tc, test_faults_oom_startup_gateway);
	tcase_add_test(tc, test_faults_oom_startup_host);
	suite_add_tcase(s, tc);
	TCase *so = tcase_create("session_open");
	tcase_set_timeout(so, all ? 7200 : 90);
	tcase_add_test(so, test_faults_oom_session_recorder);
	tcase_add_test(so, test_faults_oom_session_gateway);
	tcase_add_test(so, test_faults_oom_session_host);
	suite_add_tcase(s, so);
	return pyc_check_run(s);
}
