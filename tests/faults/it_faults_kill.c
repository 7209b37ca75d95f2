/* it_faults_kill.c - processes of the running system killed or stopped:
 * a worker, a worker host, the recorder and the gateway, with SIGKILL,
 * SIGSTOP/SIGCONT and SIGTERM.
 *
 * NOTES: each test starts its own system (sys_start) because it kills and
 * restarts parts of it, and a service restarted inside a forked test
 * belongs to that test. REQUEST_TIMEOUT_MS is 2000 where a stopped worker
 * is to be given up on quickly, and the test default (10 s) elsewhere, so a
 * busy machine is not mistaken for a stopped worker; RECORDING_RETENTION_
 * SECONDS keeps recordings
 * after their session ends, so a recording finalised at shutdown can be
 * read back afterwards. A canary session streams next to the victims and
 * must get meters and no error throughout (except where the fault is the
 * gateway itself, which every session goes through). Audio is pseudo-random
 * noise at real-time pace in 20 ms chunks; with the default settings the
 * worker's output equals its input, so every recording is compared sample
 * for sample with what was sent. A worker is found by its process title
 * ("session <first 8 characters of the id>"), so every session id here
 * starts with 8 characters of its own.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sndfile.h>
#include <sqlite3.h>

#include "it_system_util.h"

#define RATE 48000
#define CHUNK 960
#define TIMEOUT_MS 2000

static sys S;

/* ---- sessions ---- */

typedef struct tsess {
	gw_tc *c;
	char sid[96];
	uint32_t seed;
	bool mute;	    /* do not send audio (its session waits for a worker) */
	bool recording;	    /* chunks sent are kept in rec */
	int16_t *rec;	    /* audio sent since the last start_record */
	size_t rec_frames, rec_cap;
	long chunks;	    /* chunks sent */
	long last_seq;	    /* seq of the newest meter */
	int meters, meters_since_restart, readies;
	int restarted, rec_failed, saved, no_worker, other_errors;
	char saved_name[160];
	double saved_dur;
} tsess;

static void sess_open(tsess *t, const char *tag8, uint32_t seed)
{
	memset(t, 0, sizeof(*t));
	ck_assert_int_eq((int) strlen(tag8), 8);
	sys_mksid(t->sid, sizeof(t->sid), tag8);
	t->seed = seed;
	t->c = sys_open_init(&S, t->sid, RATE, 2);
}

static void sess_close(tsess *t)
{
	gw_tc_destroy(t->c);
	free(t->rec);
	t->c = NULL;
	t->rec = NULL;
}

static void on_text(tsess *t, char *m)
{
	char type[32] = "", code[48] = "";
	double seq;
	json_str(m, "type", type, sizeof(type));
	if (strcmp(type, "meter") == 0) {
		t->meters++;
		t->meters_since_restart++;
		if (json_num(m, "seq", &seq))
			t->last_seq = (long) seq;
	} else if (strcmp(type, "ready") == 0) {
		t->readies++;
	} else if (strcmp(type, "recording_saved") == 0) {
		t->saved++;
		t->recording = false;
		printf("%.8s: %s\n", t->sid, m);
		json_str(m, "filename", t->saved_name, sizeof(t->saved_name));
		json_num(m, "duration_seconds", &t->saved_dur);
	} else if (strcmp(type, "error") == 0) {
		json_str(m, "code", code, sizeof(code));
		printf("%.8s: %s\n", t->sid, m);
		if (strcmp(code, "worker_restarted") == 0) {
			t->restarted++;
			t->meters_since_restart = 0;
		} else if (strcmp(code, "recording_failed") == 0) {
			t->rec_failed++;
			t->recording = false;
		} else if (strcmp(code, "no_worker") == 0) {
			t->no_worker++;
		} else {
			t->other_errors++;
		}
	}
	free(m);
}

static void sess_drain(tsess *t)
{
	char *m;
	while ((m = gw_tc_recv_text(t->c, 1)) != NULL)
		on_text(t, m);
}

static void sess_chunk(tsess *t)
{
	int16_t pcm[CHUNK * 2];
	sig_noise(pcm, CHUNK * 2, &t->seed, 12000);
	ck_assert_msg(gw_tc_send_binary(t->c, pcm, sizeof(pcm)) == 0, "%.8s: audio not sent",
	    t->sid);
	t->chunks++;
	if (!t->recording)
		return;
	if (t->rec_frames + CHUNK > t->rec_cap) {
		t->rec_cap = t->rec_cap * 2 + 16 * CHUNK;
		t->rec = realloc(t->rec, t->rec_cap * 2 * sizeof(int16_t));
		ck_assert_ptr_nonnull(t->rec);
	}
	memcpy(t->rec + t->rec_frames * 2, pcm, sizeof(pcm));
	t->rec_frames += CHUNK;
}

static void sess_cmd(tsess *t, const char *action)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "{\"action\":\"%s\"}", action);
	ck_assert_int_eq(gw_tc_send_text(t->c, cmd), 0);
	if (strcmp(action, "start_record") == 0) {
		t->recording = true;
		t->rec_frames = 0;
		t->saved = 0;
		t->rec_failed = 0;
	} else if (strcmp(action, "stop_record") == 0) {
		t->recording = false;
	}
}

/* Real-time pacing: one chunk to every session that is not muted each
 * 20 ms, and whatever they received is read. */
static void pump_ms(tsess **ts, int n, int ms)
{
	long long t0 = pyc_now_ms();
	for (int k = 0; pyc_now_ms() - t0 < ms; k++) {
		for (int i = 0; i < n; i++)
			if (ts[i] != NULL && !ts[i]->mute)
				sess_chunk(ts[i]);
		for (int i = 0; i < n; i++)
			if (ts[i] != NULL)
				sess_drain(ts[i]);
		long long due = t0 + (long long) (k + 1) * 20;
		while (pyc_now_ms() < due)
			pyc_sleep_ms(1);
	}
}

/* Pumps until cond(t) holds or ms pass; true if it holds. */
static bool pump_until(tsess **ts, int n, int ms, bool (*cond)(tsess *), tsess *t)
{
	long long end = pyc_now_ms() + ms;
	while (!cond(t) && pyc_now_ms() < end)
		pump_ms(ts, n, 20);
	return cond(t);
}

static bool got_restart_and_meters(tsess *t)
{
	return t->restarted > 0 && t->meters_since_restart >= 3;
}

static bool got_saved(tsess *t)
{
	return t->saved > 0 || t->rec_failed > 0;
}

static bool all_answered(tsess *t)
{
	return t->last_seq >= t->chunks;
}

static bool got_rec_failed(tsess *t)
{
	return t->rec_failed > 0;
}

/* ---- processes ---- */

static bool proc_line(pid_t pid, const char *file, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return n > 0;
}

/* Gone: no such process, or a zombie nobody has reaped yet (when pid 1 of
 * this machine does not reap; it no longer runs either way). */
static bool proc_gone(pid_t pid, bool *zombie)
{
	char st;
	pid_t pp;
	if (!pyc_proc_stat(pid, &st, &pp))
		return true;
	if (zombie != NULL)
		*zombie = st == 'Z';
	return st == 'Z';
}

static pid_t other_host; /* a second dsp-worker host of this test */

/* The pid of the worker serving the session: a child of one of this
 * test's hosts whose title names the session. */
static pid_t worker_of(const char *sid)
{
	char want[64], buf[512];
	snprintf(want, sizeof(want), "session %.8s", sid);
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		pid_t pid = (pid_t) atoi(e->d_name), pp;
		char st;
		if (pyc_proc_stat(pid, &st, &pp) && (pp == S.host.pid || pp == other_host) &&
		    proc_line(pid, "cmdline", buf, sizeof(buf)) && strstr(buf, want) != NULL) {
			found = pid;
			break;
		}
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static pid_t worker_wait(const char *sid)
{
	pid_t pid = 0;
	for (int i = 0; i < 100 && pid == 0; i++) {
		pid = worker_of(sid);
		if (pid == 0)
			pyc_sleep_ms(50);
	}
	ck_assert_msg(pid > 0, "no worker process for %.8s", sid);
	return pid;
}

/* The live children of ppid (at most cap). */
static int children_of(pid_t ppid, pid_t *out, int cap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d != NULL && (e = readdir(d)) != NULL && n < cap) {
		char st;
		pid_t pp, pid = (pid_t) atoi(e->d_name);
		if (pid > 0 && pyc_proc_stat(pid, &st, &pp) && pp == ppid && st != 'Z')
			out[n++] = pid;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* Processes handed to this test (a child subreaper) when their parent
 * died, other than the services it started: those still running are
 * counted, those that exited are reaped, and an exit other than status 0
 * is counted in *bad. */
static int orphans(int *bad)
{
	pid_t mine[] = {S.rec.pid, S.host.pid, S.gw.pid};
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char st;
		pid_t pp, pid = (pid_t) atoi(e->d_name);
		bool known = false;
		for (int i = 0; i < 3; i++)
			known = known || pid == mine[i];
		if (pid <= 0 || known || !pyc_proc_stat(pid, &st, &pp) || pp != getpid())
			continue;
		int status = 0;
		if (st == 'Z' && waitpid(pid, &status, WNOHANG) == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				printf("process %d of the killed host: status %d\n", (int) pid, status);
				(*bad)++;
			}
			continue;
		}
		n++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* ---- the system ---- */

static void up(const char *more, const char *more2)
{
	const char *const extra[] = {"RECORDING_RETENTION_SECONDS=600", more, more2, NULL};
	ck_assert_msg(sys_start(&S, extra), "the system did not start");
}

static void down(void)
{
	ck_assert_msg(sys_stop(&S), "a service did not exit with status 0 on SIGTERM");
}

static cJSON *health(void)
{
	gw_http_resp r;
	if (sys_http(&S, "GET", "/health", NULL, &r) != 0)
		return NULL;
	cJSON *j = cJSON_Parse(r.body);
	gw_http_free(&r);
	return j;
}

/* Waits until /health says at least hosts hosts, idle idle workers and a
 * reachable recorder. */
static bool health_wait(int hosts, int idle, int ms)
{
	long long end = pyc_now_ms() + ms;
	char last[512] = "no answer";
	do {
		cJSON *j = health();
		char *txt = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
		snprintf(last, sizeof(last), "%s", txt != NULL ? txt : "no answer");
		free(txt);
		cJSON *w = cJSON_GetObjectItem(j, "workers");
		cJSON *h = cJSON_GetObjectItem(w, "hosts"), *i = cJSON_GetObjectItem(w, "idle");
		cJSON *rec = cJSON_GetObjectItem(j, "recorder");
		bool ok = cJSON_IsNumber(h) && h->valuedouble >= hosts && cJSON_IsNumber(i) &&
		    i->valuedouble >= idle && cJSON_IsString(rec) && strcmp(rec->valuestring, "ok") == 0;
		cJSON_Delete(j);
		if (ok)
			return true;
		pyc_sleep_ms(100);
	} while (pyc_now_ms() < end);
	printf("health after %d ms, wanted %d hosts and %d idle: %s\n", ms, hosts, idle, last);
	return false;
}

/* A dsp-worker host of our own, with the system's settings and more. */
static void host_start(pyc_proc *p, const char *id, int max, int spare)
{
	static char e[3][64];
	char *env[32];
	int n = 0;
	for (int i = 0; i < S.nenv && n < 28; i++)
		env[n++] = S.envp[i];
	snprintf(e[0], sizeof(e[0]), "DSP_HOST_ID=%s", id);
	snprintf(e[1], sizeof(e[1]), "DSP_POOL_MAX=%d", max);
	snprintf(e[2], sizeof(e[2]), "DSP_POOL_SPARE=%d", spare);
	env[n++] = e[0];
	env[n++] = e[1];
	env[n++] = e[2];
	env[n] = NULL;
	ck_assert_int_eq(pyc_proc_start(p, "dsp-worker/pyc-dsp-worker", NULL, env), 0);
	other_host = p->pid;
}

/* ---- recordings ---- */

/* The session's recordings (newest first). */
static cJSON *rows(const char *sid)
{
	gw_http_resp r;
	char path[200];
	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_msg(r.status == 200, "list: %d %s", r.status, r.body);
	cJSON *a = cJSON_Parse(r.body);
	gw_http_free(&r);
	ck_assert(cJSON_IsArray(a));
	return a;
}

static const char *row_str(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(cJSON_IsString(v), "no %s in a row", k);
	return v->valuestring;
}

static long row_frames(cJSON *o)
{
	cJSON *v = cJSON_GetObjectItem(o, "frames");
	ck_assert(cJSON_IsNumber(v));
	return (long) v->valuedouble;
}

/* Waits until the session's newest recording is no longer being written;
 * returns its row (a copy; caller deletes). */
static cJSON *final_row(const char *sid, int ms)
{
	long long end = pyc_now_ms() + ms;
	for (;;) {
		cJSON *a = rows(sid);
		cJSON *o = cJSON_GetArrayItem(a, 0);
		if (o != NULL && strcmp(row_str(o, "state"), "recording") != 0) {
			cJSON *c = cJSON_Duplicate(o, 1);
			cJSON_Delete(a);
			return c;
		}
		cJSON_Delete(a);
		ck_assert_msg(pyc_now_ms() < end, "%.8s: no finished recording listed", sid);
		pyc_sleep_ms(100);
	}
}

/* Reads the recording's file with libsndfile: it must be 48 kHz stereo
 * with as many frames as its row says, and equal to the first frames of
 * what was sent since start_record. Returns its frames. */
static long check_file(tsess *t, cJSON *row)
{
	char path[512];
	SF_INFO info;
	snprintf(path, sizeof(path), "%s/recordings/%s", S.dir, row_str(row, "filename"));
	memset(&info, 0, sizeof(info));
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	ck_assert_msg(f != NULL, "%s: %s", path, sf_strerror(NULL));
	ck_assert_int_eq(info.samplerate, RATE);
	ck_assert_int_eq(info.channels, 2);
	long frames = (long) info.frames;
	int16_t *pcm = malloc((size_t) (frames + 1) * 4);
	ck_assert_ptr_nonnull(pcm);
	ck_assert_int_eq(sf_readf_short(f, pcm, frames), frames);
	sf_close(f);
	printf("%.8s: %s, state %s, %ld frames in the row, %ld in the file, %zu sent\n", t->sid,
	    row_str(row, "filename"), row_str(row, "state"), row_frames(row), frames,
	    t->rec_frames);
	ck_assert_int_eq(frames, row_frames(row));
	ck_assert_msg((size_t) frames <= t->rec_frames, "more frames in the file than sent");
	ck_assert_msg(memcmp(pcm, t->rec, (size_t) frames * 4) == 0,
	    "%.8s: the recording is not the audio sent", t->sid);
	free(pcm);
	return frames;
}

static void db_integrity(void)
{
	char path[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof(path), "%s/pycoustics.db", S.dir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *) sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* How many of the session's rows have an expiry set (session_ended
 * reached the recorder, RECORDING_RETENTION_SECONDS > 0). */
static int db_expiring(const char *sid)
{
	char path[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof(path), "%s/pycoustics.db", S.dir);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
			     "SELECT count(*) FROM recordings WHERE session_id = ?1 AND "
			     "expires_at IS NOT NULL",
			     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A recording of n chunks on t from start to recording_saved, checked
 * frame for frame. */
static void record_ok(tsess **ts, int nts, tsess *t, int n)
{
	sess_cmd(t, "start_record");
	pump_ms(ts, nts, n * 20);
	sess_cmd(t, "stop_record");
	ck_assert_msg(pump_until(ts, nts, 10000, got_saved, t), "%.8s: no recording_saved", t->sid);
	ck_assert_int_eq(t->rec_failed, 0);
	ck_assert_double_eq_tol(t->saved_dur, (double) t->rec_frames / RATE, 1e-9);
	cJSON *a = rows(t->sid), *o;
	bool seen = false;
	cJSON_ArrayForEach(o, a)
	{
		if (strcmp(row_str(o, "filename"), t->saved_name) != 0)
			continue;
		seen = true;
		ck_assert_str_eq(row_str(o, "state"), "complete");
		ck_assert_int_eq(check_file(t, o), (long) t->rec_frames);
	}
	cJSON_Delete(a);
	ck_assert_msg(seen, "%s not listed", t->saved_name);
}

/* The canary saw meters and nothing else. */
static void canary_ok(tsess *c, int meters_before)
{
	ck_assert_msg(c->restarted + c->rec_failed + c->no_worker + c->other_errors == 0,
	    "the canary session got an error");
	ck_assert_msg(c->meters > meters_before, "the canary session got no meter");
}

/* ---- 1: a worker SIGKILLed while recording ---- */

START_TEST(test_faults_kill_worker_recording)
{
	tsess can, v;
	tsess *all[] = {&can, &v};
	up(NULL, NULL);
	sess_open(&can, "canaryK1", 11);
	sess_open(&v, "victimK1", 12);
	sess_cmd(&v, "start_record");
	pump_ms(all, 2, 1000);
	pid_t pid = worker_wait(v.sid);
	ck_assert_int_ne(pid, worker_wait(can.sid));
	size_t before = v.rec_frames;
	int cm = can.meters;
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	long long t0 = pyc_now_ms();
	ck_assert_msg(pump_until(all, 2, 5000, got_restart_and_meters, &v),
	    "no worker_restarted and meters after it");
	printf("worker SIGKILL: meters again %lld ms after the kill\n", pyc_now_ms() - t0);
	ck_assert_msg(pump_until(all, 2, 3000, got_rec_failed, &v), "no recording_failed");
	ck_assert_int_eq(v.restarted, 1);
	ck_assert_int_eq(v.rec_failed, 1);
	ck_assert_int_eq(v.other_errors, 0);
	canary_ok(&can, cm);
	pid_t fresh = worker_wait(v.sid);
	ck_assert_int_ne(fresh, pid);

	/* the cut recording is kept: readable, its row's frames, at most about
	 * a second short of what was sent before the kill */
	cJSON *row = final_row(v.sid, 5000);
	ck_assert_str_eq(row_str(row, "state"), "recovered");
	long frames = check_file(&v, row);
	printf("worker SIGKILL: %ld of %zu frames sent before the kill kept\n", frames, before);
	ck_assert_int_ge(frames, (long) before - RATE);
	cJSON_Delete(row);

	/* a new recording on the fresh worker */
	cm = can.meters;
	record_ok(all, 2, &v, 30);
	canary_ok(&can, cm);
	ck_assert_int_eq(v.restarted, 1);
	sess_close(&v);
	sess_close(&can);
	down();
}
END_TEST

/* ---- 2: a worker stopped ---- */

START_TEST(test_faults_stop_worker)
{
	tsess can, v, w;
	tsess *all[] = {&can, &v, NULL};
	up("REQUEST_TIMEOUT_MS=2000", NULL);
	sess_open(&can, "canaryS2", 21);
	sess_open(&v, "victimS2", 22);

	/* stopped for 500 ms, less than REQUEST_TIMEOUT_MS: nothing happens,
	 * nothing of the recording is lost */
	sess_cmd(&v, "start_record");
	pump_ms(all, 2, 500);
	pid_t pid = worker_wait(v.sid);
	int cm = can.meters;
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	pump_ms(all, 2, 500);
	ck_assert_int_eq(kill(pid, SIGCONT), 0);
	pump_ms(all, 2, 500);
	sess_cmd(&v, "stop_record");
	ck_assert_msg(pump_until(all, 2, 10000, got_saved, &v), "no recording_saved");
	ck_assert_int_eq(v.rec_failed + v.restarted + v.other_errors, 0);
	ck_assert_double_eq_tol(v.saved_dur, (double) v.rec_frames / RATE, 1e-9);
	cJSON *row = final_row(v.sid, 5000);
	ck_assert_str_eq(row_str(row, "state"), "complete");
	ck_assert_int_eq(check_file(&v, row), (long) v.rec_frames);
	cJSON_Delete(row);
	ck_assert_int_eq(worker_of(v.sid), pid);
	canary_ok(&can, cm);

	/* stopped for good: given up on after REQUEST_TIMEOUT_MS, the session
	 * moves to a fresh worker, and the host kills and reaps the stopped one */
	sess_open(&w, "victimS3", 23);
	all[2] = &w;
	sess_cmd(&w, "start_record");
	pump_ms(all, 3, 500);
	pid = worker_wait(w.sid);
	cm = can.meters;
	size_t before = w.rec_frames;
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	long long t0 = pyc_now_ms();
	bool ok = pump_until(all, 3, 8000, got_restart_and_meters, &w);
	long long took = pyc_now_ms() - t0;
	bool gone = false, zombie = false;
	long long gone_at = 0;
	while (ok && !gone && pyc_now_ms() - t0 < 12000) {
		pump_ms(all, 3, 100);
		gone = proc_gone(pid, &zombie);
	}
	gone_at = pyc_now_ms() - t0;
	if (!gone)
		kill(pid, SIGKILL); /* leave nothing stopped behind */
	ck_assert_msg(ok, "no worker_restarted and meters within 8 s of SIGSTOP");
	printf("worker SIGSTOP: meters again %lld ms after the stop, stopped pid %s after %lld ms\n",
	    took, gone ? (zombie ? "a zombie" : "gone") : "still there", gone_at);
	ck_assert_int_ge(took, TIMEOUT_MS - 100);
	ck_assert_int_le(took, 5000);
	ck_assert_msg(gone, "the stopped worker %d is still there %lld ms after SIGSTOP", (int) pid,
	    gone_at);
	ck_assert_msg(!zombie, "the stopped worker was killed but not reaped by its host");
	ck_assert_int_eq(w.restarted, 1);
	ck_assert_msg(pump_until(all, 3, 3000, got_rec_failed, &w), "no recording_failed");
	ck_assert_int_eq(w.other_errors, 0);
	ck_assert_int_ne(worker_wait(w.sid), pid);
	/* the cut recording is whole once its worker is gone */
	row = final_row(w.sid, 5000);
	ck_assert_str_eq(row_str(row, "state"), "recovered");
	long frames = check_file(&w, row);
	printf("worker SIGSTOP: %ld of %zu frames sent before the stop kept\n", frames, before);
	ck_assert_int_ge(frames, (long) before - RATE);
	cJSON_Delete(row);
	canary_ok(&can, cm);
	ck_assert_int_eq(v.restarted + v.other_errors, 0);
	sess_close(&w);
	sess_close(&v);
	sess_close(&can);
	down();
}
END_TEST

/* ---- 3: a worker host SIGKILLed, and stopped ---- */

START_TEST(test_faults_kill_host)
{
	tsess can, v1, v2;
	tsess *all[] = {&can, &v1, &v2};
	pyc_proc vh;
	pid_t kids[64];
	/* the system's host has room for one worker: the canary's. The victims
	 * go to a second host, the one that is killed. */
	/* the killed host's workers are handed to this process, so none can
	 * slip away unseen */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	up("DSP_POOL_MAX=1", "DSP_POOL_SPARE=1");
	sess_open(&can, "canaryH3", 31);
	pid_t cpid = worker_wait(can.sid);
	host_start(&vh, "victimhost", 16, 3);
	ck_assert_msg(health_wait(2, 2, 10000), "the second host did not register");
	sess_open(&v1, "victimH1", 32);
	sess_open(&v2, "victimH2", 33);
	sess_cmd(&v1, "start_record");
	pump_ms(all, 3, 600);
	char st;
	pid_t pp;
	ck_assert(pyc_proc_stat(cpid, &st, &pp));
	ck_assert_int_eq(pp, S.host.pid);
	ck_assert(pyc_proc_stat(worker_wait(v1.sid), &st, &pp));
	ck_assert_int_eq(pp, vh.pid);
	int nk = children_of(vh.pid, kids, 64);
	ck_assert_int_ge(nk, 2);

	int cm = can.meters;
	ck_assert_int_eq(kill(vh.pid, SIGKILL), 0);
	ck_assert(pyc_proc_wait(&vh, 5000));
	long long t0 = pyc_now_ms();
	v1.mute = v2.mute = true; /* no worker to take their audio for now */
	int left = nk, bad = 0;
	while (left > 0 && pyc_now_ms() - t0 < 5000) {
		pump_ms(all, 3, 100);
		left = orphans(&bad);
	}
	printf("host SIGKILL: %d of its %d workers left after %lld ms\n", left, nk,
	    pyc_now_ms() - t0);
	ck_assert_msg(left == 0, "%d processes of the killed host still run", left);
	ck_assert_msg(bad == 0, "%d workers of the killed host did not exit with status 0", bad);
	for (int i = 0; i < nk; i++)
		ck_assert(proc_gone(kids[i], NULL));
	pump_ms(all, 3, 300);
	/* at least one worker_restarted each: a session can be moved first to
	 * an idle worker of the dying host, still connected, and then again */
	ck_assert_int_ge(v1.restarted, 1);
	ck_assert_int_ge(v2.restarted, 1);
	int r1 = v1.restarted, r2 = v2.restarted;
	/* the worker finished v1's recording on its way out (SIGTERM from
	 * PDEATHSIG): saved, or failed if the recorder's answer came too late */
	ck_assert_int_eq(v1.saved + v1.rec_failed, 1);
	/* a new host: the sessions are served again */
	host_start(&vh, "victimhost", 16, 3);
	long long t1 = pyc_now_ms();
	v1.mute = v2.mute = false;
	ck_assert_msg(pump_until(all, 3, 8000, got_restart_and_meters, &v1), "v1 not served");
	ck_assert_msg(pump_until(all, 3, 3000, got_restart_and_meters, &v2), "v2 not served");
	printf("host SIGKILL: served again %lld ms after the new host started\n", pyc_now_ms() - t1);
	printf("host SIGKILL: %d and %d worker_restarted\n", v1.restarted, v2.restarted);
	ck_assert_int_eq(v1.restarted, r1);
	ck_assert_int_eq(v2.restarted, r2);
	ck_assert_int_eq(v1.other_errors + v2.other_errors, 0);
	ck_assert(pyc_proc_stat(worker_wait(v1.sid), &st, &pp));
	ck_assert_int_eq(pp, vh.pid);
	canary_ok(&can, cm);
	/* v1's recording was finished by its worker on the way out */
	cJSON *row = final_row(v1.sid, 5000);
	if (v1.saved > 0) {
		ck_assert_str_eq(row_str(row, "state"), "complete");
		ck_assert_str_eq(row_str(row, "filename"), v1.saved_name);
	}
	check_file(&v1, row);
	cJSON_Delete(row);

	/* the host stopped for 3 s: its workers talk to the gateway directly */
	cm = can.meters;
	int m1 = v1.meters, m2 = v2.meters;
	ck_assert_int_eq(kill(vh.pid, SIGSTOP), 0);
	pump_ms(all, 3, 1500);
	tsess n;
	sess_open(&n, "newinH3s", 34); /* an idle worker of the stopped host */
	tsess *all4[] = {&can, &v1, &v2, &n};
	pump_ms(all4, 4, 1500);
	ck_assert_int_eq(kill(vh.pid, SIGCONT), 0);
	printf("host SIGSTOP: %d and %d meters in 3 s, %d for a session opened meanwhile\n",
	    v1.meters - m1, v2.meters - m2, n.meters);
	ck_assert_int_ge(v1.meters - m1, 50);
	ck_assert_int_ge(v2.meters - m2, 50);
	ck_assert_int_ge(n.meters, 10);
	ck_assert_int_eq(v1.restarted + v2.restarted + n.restarted, r1 + r2);
	ck_assert_int_eq(v1.other_errors + v2.other_errors + n.other_errors, 0);
	canary_ok(&can, cm);
	ck_assert(pyc_proc_alive(&vh));
	ck_assert_msg(health_wait(2, 1, 5000), "the host is not back after SIGCONT");
	sess_close(&n);
	sess_close(&v1);
	sess_close(&v2);
	sess_close(&can);
	/* in sys_stop's order: the gateway first, then the hosts */
	ck_assert_msg(sys_stop_one(&S.gw, 15000), "the gateway did not exit 0 on SIGTERM");
	ck_assert_msg(sys_stop_one(&vh, 15000), "the second host did not exit 0 on SIGTERM");
	down();
}
END_TEST

/* ---- 4: the recorder SIGKILLed, and stopped ---- */

START_TEST(test_faults_kill_recorder)
{
	tsess can, v;
	tsess *all[] = {&can, &v};
	up(NULL, NULL);
	sess_open(&can, "canaryR4", 41);
	sess_open(&v, "victimR4", 42);
	sess_cmd(&v, "start_record");
	pump_ms(all, 2, 1500);
	size_t before = v.rec_frames;
	int cm = can.meters, vm = v.meters;
	ck_assert_int_eq(kill(S.rec.pid, SIGKILL), 0);
	ck_assert(pyc_proc_wait(&S.rec, 5000));
	/* the session is told, and both keep streaming without the recorder */
	ck_assert_msg(pump_until(all, 2, 3000, got_rec_failed, &v), "no recording_failed");
	pump_ms(all, 2, 1000);
	printf("recorder down: %d and %d meters\n", can.meters - cm, v.meters - vm);
	ck_assert_int_ge(v.meters - vm, 30);
	ck_assert_int_eq(v.restarted + v.other_errors, 0);
	canary_ok(&can, cm);

	/* restarted: the file is repaired, its row matches, at most ~1 s lost */
	ck_assert(sys_start_recorder(&S));
	long long end = pyc_now_ms() + 10000;
	while (!health_wait(1, 0, 100) && pyc_now_ms() < end)
		pump_ms(all, 2, 100);
	ck_assert_msg(health_wait(1, 0, 100), "the recorder is not back");
	cJSON *row = final_row(v.sid, 5000);
	ck_assert_str_eq(row_str(row, "state"), "recovered");
	long frames = check_file(&v, row);
	printf("recorder SIGKILL: %ld of %zu frames sent before the kill kept\n", frames, before);
	ck_assert_int_ge(frames, (long) before - RATE);
	cJSON_Delete(row);
	sys_expect_no_part_files(&S);
	db_integrity();

	/* a new recording once the worker has its recorder pipe back */
	cm = can.meters;
	end = pyc_now_ms() + 10000;
	for (;;) {
		v.rec_failed = 0;
		sess_cmd(&v, "start_record");
		pump_ms(all, 2, 300);
		if (v.rec_failed == 0 || pyc_now_ms() > end)
			break;
		sess_cmd(&v, "stop_record");
		pump_ms(all, 2, 200);
	}
	ck_assert_int_eq(v.rec_failed, 0);
	sess_cmd(&v, "stop_record");
	ck_assert_msg(pump_until(all, 2, 10000, got_saved, &v), "no recording_saved");
	v.other_errors = 0; /* a not_recording from a retry above is fine */
	record_ok(all, 2, &v, 30);

	/* stopped for 3 s: appends wait in the worker's send queue (4096
	 * messages), the recording goes on and loses nothing */
	sess_cmd(&v, "start_record");
	pump_ms(all, 2, 500);
	cm = can.meters;
	vm = v.meters;
	ck_assert_int_eq(kill(S.rec.pid, SIGSTOP), 0);
	pump_ms(all, 2, 3000);
	ck_assert_int_eq(kill(S.rec.pid, SIGCONT), 0);
	/* the recording session's worker does not wait for the recorder */
	printf("recorder SIGSTOP: %d and %d meters in 3 s\n", can.meters - cm, v.meters - vm);
	ck_assert_int_ge(v.meters - vm, 50);
	pump_ms(all, 2, 500);
	sess_cmd(&v, "stop_record");
	ck_assert_msg(pump_until(all, 2, 10000, got_saved, &v), "no recording_saved");
	ck_assert_int_eq(v.rec_failed + v.restarted + v.other_errors, 0);
	ck_assert_double_eq_tol(v.saved_dur, (double) v.rec_frames / RATE, 1e-9);
	row = final_row(v.sid, 5000);
	ck_assert_str_eq(row_str(row, "state"), "complete");
	ck_assert_int_eq(check_file(&v, row), (long) v.rec_frames);
	cJSON_Delete(row);
	canary_ok(&can, cm);
	db_integrity();
	sess_close(&v);
	sess_close(&can);
	down();
}
END_TEST

/* ---- 5: the gateway stopped with SIGTERM, and SIGKILLed ---- */

START_TEST(test_faults_term_gateway)
{
	tsess v1, v2;
	tsess *all[] = {&v1, &v2};
	up(NULL, NULL);
	sess_open(&v1, "victimG1", 51);
	sess_open(&v2, "victimG2", 52);
	sess_cmd(&v1, "start_record");
	sess_cmd(&v2, "start_record");
	pump_ms(all, 2, 1000);
	ck_assert_msg(pump_until(all, 2, 5000, all_answered, &v1), "v1: meters missing");
	ck_assert_msg(pump_until(all, 2, 5000, all_answered, &v2), "v2: meters missing");
	long long t0 = pyc_now_ms();
	ck_assert_int_eq(kill(S.gw.pid, SIGTERM), 0);
	ck_assert_int_eq(gw_tc_wait_close(v1.c, 10000), 1001);
	ck_assert_int_eq(gw_tc_wait_close(v2.c, 10000), 1001);
	printf("gateway SIGTERM: both closed with 1001 after %lld ms\n", pyc_now_ms() - t0);
	ck_assert(pyc_proc_wait(&S.gw, 15000));
	ck_assert_msg(WIFEXITED(S.gw.status) && WEXITSTATUS(S.gw.status) == 0,
	    "the gateway did not exit 0 on SIGTERM (status %d)", S.gw.status);
	ck_assert(sys_start_gateway(&S));
	ck_assert(pyc_wait_for_port(S.http_port, 10000));
	ck_assert_msg(health_wait(1, 1, 10000), "the system is not back");
	/* both recordings were finalised, every frame */
	tsess *vs[] = {&v1, &v2};
	for (int i = 0; i < 2; i++) {
		cJSON *row = final_row(vs[i]->sid, 5000);
		ck_assert_str_eq(row_str(row, "state"), "complete");
		ck_assert_int_eq(check_file(vs[i], row), (long) vs[i]->rec_frames);
		cJSON_Delete(row);
	}
	sys_expect_no_part_files(&S);
	/* the new gateway serves */
	tsess n;
	tsess *one[] = {&n};
	sess_open(&n, "newsesG5", 53);
	record_ok(one, 1, &n, 20);
	ck_assert_int_ge(n.meters, 10);
	sess_close(&n);
	sess_close(&v1);
	sess_close(&v2);
	down();
}
END_TEST

START_TEST(test_faults_kill_gateway)
{
	tsess v1, v2;
	tsess *all[] = {&v1, &v2};
	up("SESSION_GRACE_SECONDS=3", NULL);
	sess_open(&v1, "victimG3", 54);
	sess_open(&v2, "victimG4", 55);
	sess_cmd(&v1, "start_record");
	sess_cmd(&v2, "start_record");
	pump_ms(all, 2, 1000);
	pid_t w1 = worker_wait(v1.sid), w2 = worker_wait(v2.sid);
	ck_assert_int_eq(kill(S.gw.pid, SIGKILL), 0);
	ck_assert(pyc_proc_wait(&S.gw, 5000));
	long long t0 = pyc_now_ms();
	/* no close frame from a killed process */
	ck_assert_int_eq(gw_tc_wait_close(v1.c, 5000), 1006);
	ck_assert_int_eq(gw_tc_wait_close(v2.c, 5000), 1006);
	/* the sessions' workers end, the host stays */
	while ((!proc_gone(w1, NULL) || !proc_gone(w2, NULL)) && pyc_now_ms() - t0 < 5000)
		pyc_sleep_ms(50);
	printf("gateway SIGKILL: session workers gone after %lld ms\n", pyc_now_ms() - t0);
	ck_assert_msg(proc_gone(w1, NULL) && proc_gone(w2, NULL),
	    "a session's worker outlived its gateway");
	ck_assert(pyc_proc_alive(&S.host));
	/* what the worker finished is whole, and no .part is left */
	ck_assert(pyc_proc_alive(&S.rec));
	ck_assert(sys_start_gateway(&S));
	ck_assert(pyc_wait_for_port(S.http_port, 10000));
	long long t1 = pyc_now_ms();
	ck_assert_msg(health_wait(1, 1, 10000), "the host did not register with the new gateway");
	printf("gateway SIGKILL: host registered %lld ms after the new gateway started\n",
	    pyc_now_ms() - t1);
	cJSON *row = final_row(v1.sid, 5000);
	ck_assert_str_eq(row_str(row, "state"), "complete");
	check_file(&v1, row);
	cJSON_Delete(row);
	cJSON_Delete(final_row(v2.sid, 5000));
	sys_expect_no_part_files(&S);
	db_integrity();
	/* The killed gateway's sessions are the new one's too, clients away:
	 * v2's client comes back and is served; v1's does not, so v1 ends
	 * after the grace period and the recorder is told (its rows get
	 * their expiry), while v2's rows keep none. */
	ck_assert_int_eq(db_expiring(v1.sid), 0);
	gw_tc *back = sys_open_init(&S, v2.sid, RATE, 2);
	while (db_expiring(v1.sid) == 0 && pyc_now_ms() - t1 < 10000) {
		gw_tc_service(back, 100);
		gw_tc_discard(back);
	}
	ck_assert_int_eq(db_expiring(v1.sid), 1);
	printf("gateway SIGKILL: the session cut by it ended %lld ms after the new gateway "
	       "started (grace 3 s)\n", pyc_now_ms() - t1);
	ck_assert_int_eq(db_expiring(v2.sid), 0);
	gw_tc_destroy(back);
	/* the new gateway serves new sessions */
	tsess n;
	tsess *one[] = {&n};
	sess_open(&n, "newsesG6", 56);
	record_ok(one, 1, &n, 20);
	sess_close(&n);
	sess_close(&v1);
	sess_close(&v2);
	down();
}
END_TEST

/* pyc_gateway_sessions from /metrics; -1 if it cannot be read. */
static int gw_sessions_gauge(void)
{
	gw_http_resp r;
	int n = -1;
	if (sys_http(&S, "GET", "/metrics", NULL, &r) != 0)
		return -1;
	const char *p = r.status == 200 ? strstr(r.body, "\npyc_gateway_sessions ") : NULL;
	if (p != NULL)
		n = atoi(p + strlen("\npyc_gateway_sessions "));
	gw_http_free(&r);
	return n;
}

/* The list a killed gateway leaves is read with care: only valid,
 * distinct ids become sessions; over-long lines, bad ids and an
 * unterminated last line are skipped. Each ends after the grace period
 * and the list is then empty; a clean stop removes it. */
START_TEST(test_faults_gateway_session_list)
{
	char path[600], longline[400];
	up("SESSION_GRACE_SECONDS=2", NULL);
	kill(S.gw.pid, SIGTERM);
	ck_assert(pyc_proc_wait(&S.gw, 15000));
	snprintf(path, sizeof(path), "%s/run/gateway-sessions", S.dir);
	ck_assert_msg(access(path, F_OK) != 0, "a clean stop left %s", path);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "listedA1\nbad id!\n\n%s\nlistedB2\nlistedA1\n../../etc\nlistedC3", longline);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert(sys_start_gateway(&S));
	ck_assert(pyc_wait_for_port(S.http_port, 10000));
	ck_assert_int_eq(gw_sessions_gauge(), 2); /* listedA1, listedB2 */
	long long t0 = pyc_now_ms();
	while (gw_sessions_gauge() != 0 && pyc_now_ms() - t0 < 8000)
		pyc_sleep_ms(100);
	ck_assert_int_eq(gw_sessions_gauge(), 0);
	/* the list follows within GW_LIST_PERIOD_US (1 s) */
	char buf[64] = "";
	size_t n = 0;
	t0 = pyc_now_ms();
	do {
		pyc_sleep_ms(100);
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	} while (n > 0 && pyc_now_ms() - t0 < 3000);
	ck_assert_msg(n == 0, "the list still holds \"%.*s\"", (int) n, buf);
	down();
	ck_assert_msg(access(path, F_OK) != 0, "a clean stop left %s", path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("faults_kill");
	double t = PYC_FAULTS_SANITIZE ? 120 : 60;
	/* one case each, so that CK_RUN_CASE can pick one */
	tcase_add_test(sys_tcase(s, "worker", t), test_faults_kill_worker_recording);
	tcase_add_test(sys_tcase(s, "worker_stop", t), test_faults_stop_worker);
	tcase_add_test(sys_tcase(s, "host", t), test_faults_kill_host);
	tcase_add_test(sys_tcase(s, "recorder", t), test_faults_kill_recorder);
	tcase_add_test(sys_tcase(s, "gateway_term", t), test_faults_term_gateway);
	tcase_add_test(sys_tcase(s, "gateway_kill", t), test_faults_kill_gateway);
	tcase_add_test(sys_tcase(s, "gateway_list", t), test_faults_gateway_session_list);
	return pyc_check_run(s);
}
