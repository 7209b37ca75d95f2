/* it_faults_power.c - simulated power loss under the recorder, in the
 * spirit of SQLite's crash tests: SIGKILL at a random moment, every file
 * reverted to what was synced, restart, check the folder and the database.
 *
 * NOTES: the recorder runs with the powercut.c shim, which keeps the
 * durable state of the recordings folder and the database folder (model
 * in pwr_model.h: synced content per inode, folder names as of the last
 * folder fsync, never-synced names undone). A stand-in worker records
 * three sessions (start, 100 ms appends, stop, delete, session end, at
 * random) until a random cut between 0.2 and 2.5 s; the recorder is
 * SIGKILLed, the folders reverted, the recorder started without the shim
 * (its start-up recovery runs) and stopped with SIGTERM (exit 0). Then,
 * offline: PRAGMA integrity_check is ok; no row is still `recording`;
 * every row's file exists and holds exactly the row's frames, sample for
 * sample the signal sent; every final-named WAV has its row; no `.part`
 * is left; every recording whose rec_stop was answered OK (and not
 * deleted since) is there, `complete`, with all its frames. The state after
 * a cycle is the starting state of the next. PYC_FAULTS_CUTS sets the
 * number of cuts (5; 40 with PYC_FAULTS_LONG=1), PYC_FAULTS_SEED the seed.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "it_recorder_util.h"
#include "pwr_model.h"

#define NSESS 3
#define MAXREC 512

typedef struct known {
	char name[128];
	int id;           /* signal number */
	long stopped;     /* frames confirmed by an OK rec_stop, -1 if none */
	bool deleted;     /* a delete or session end may have removed it */
	char sid[32];
	long due;         /* frames that must survive the cut, -1 if none */
} known;

static rf_recorder R;
static known K[MAXREC];
static int nk;
static int preload_idx;
static unsigned rnd_state;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void add_extra(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void add_extra(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(R.envbuf[R.nextra], sizeof(R.envbuf[0]), fmt, ap);
	va_end(ap);
	R.env[R.nextra] = R.envbuf[R.nextra];
	R.nextra++;
	R.env[R.nextra] = NULL;
}

static void shim(bool on)
{
	if (on)
		snprintf(R.envbuf[preload_idx], sizeof(R.envbuf[0]),
		    "LD_PRELOAD=" PYC_BINARY_DIR "/tests/faults/powercut.so");
	else
		snprintf(R.envbuf[preload_idx], sizeof(R.envbuf[0]), "LD_PRELOAD=");
}

static known *find(const char *name)
{
	for (int i = 0; i < nk; i++)
		if (strcmp(K[i].name, name) == 0)
			return &K[i];
	return NULL;
}

typedef struct sess {
	nng_socket w;
	char sid[32];
	known *open; /* recording in progress */
	long sent;
} sess;

/* Random recorder work until the deadline. */
static void workload(long long deadline, int cycle, bool quiet)
{
	bool marked = false;
	sess S[NSESS];
	nng_socket g = rf_gateway(&R);
	static int16_t pcm[4800 * 2];
	for (int i = 0; i < NSESS; i++) {
		S[i].w = rf_worker(&R);
		snprintf(S[i].sid, sizeof(S[i].sid), "pwr-%d-%d", cycle, i);
		S[i].open = NULL;
		S[i].sent = 0;
	}
	while (pyc_now_ms() < deadline) {
		/* What was sent 2 s before the cut (and kept open or stopped
		 * since) must be on disk afterwards: the fdatasync every second
		 * plus a margin for a loaded machine. */
		if (!marked && pyc_now_ms() >= deadline - 2000) {
			marked = true;
			for (int i = 0; i < NSESS; i++)
				if (S[i].open != NULL)
					S[i].open->due = S[i].sent;
		}
		sess *s = &S[quiet ? 0 : rnd(NSESS)];
		unsigned op = rnd(100);
		if (quiet) /* one long recording, nothing else touches the folder */
			op = s->open == NULL ? 0 : 70;
		pyc_rec_result st;
		if (s->open == NULL && op < 60) {
			if (nk < MAXREC && rf_rec_start(s->w, s->sid, 48000, 2, "{}", &st) == 0) {
				known *k = &K[nk];
				snprintf(k->name, sizeof(k->name), "%s", st.filename);
				k->id = nk + 1;
				k->stopped = -1;
				k->deleted = false;
				k->due = -1;
				snprintf(k->sid, sizeof(k->sid), "%s", s->sid);
				nk++;
				s->open = k;
				s->sent = 0;
			}
		} else if (s->open != NULL && op < 85) {
			rf_fill(pcm, s->open->id, (uint64_t) s->sent, 4800, 2);
			if (rf_append(s->w, s->sid, pcm, 4800 * 2) == 0)
				s->sent += 4800;
			pyc_sleep_ms(quiet ? 50 : 5);
		} else if (s->open != NULL && op < 95) {
			if (rf_rec_stop(s->w, s->sid, &st) == 0) {
				ck_assert_int_eq((long) st.frames, s->sent);
				s->open->stopped = s->sent;
			}
			s->open = NULL;
		} else if (op < 98 && nk > 0) {
			known *k = &K[rnd((unsigned) nk)];
			k->deleted = true; /* set before: the cut may fall in the middle */
			rf_delete(g, k->name);
		} else if (op >= 98) {
			uint64_t del;
			for (int i = 0; i < nk; i++)
				if (strcmp(K[i].sid, s->sid) == 0)
					K[i].deleted = true;
			rf_session_ended(g, s->sid, &del);
			s->open = NULL;
		}
	}
	for (int i = 0; i < NSESS; i++)
		nng_close(S[i].w);
	nng_close(g);
}

static int cb_rows(void *arg, int n, char **v, char **col)
{
	(void) n;
	(void) col;
	char path[1024];
	int16_t *pcm = NULL;
	int rate, ch;
	int *rows = arg;
	const char *name = v[0], *state = v[1];
	long frames = atol(v[2]);
	(*rows)++;
	ck_assert_msg(strcmp(state, "recording") != 0, "%s still recording after restart", name);
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, name);
	long got = rf_wav_read(path, &rate, &ch, &pcm);
	ck_assert_msg(got >= 0, "row %s (%s): file missing or unreadable", name, state);
	ck_assert_msg(got == frames, "row %s (%s) says %ld frames, file has %ld", name, state, frames,
	    got);
	known *k = find(name);
	ck_assert_msg(k != NULL, "row for a file never started: %s", name);
	for (long i = 0; i < got; i++)
		for (int c = 0; c < 2; c++)
			if (pcm[i * 2 + c] != rf_sample(k->id, (uint64_t) i, c))
				ck_abort_msg("%s: frame %ld channel %d differs from what was sent", name, i, c);
	free(pcm);
	if (k->due >= 0 && !k->deleted)
		ck_assert_msg(got >= k->due, "%s: %ld frames kept, %ld were sent over 2 s before the cut",
		    name, got, k->due);
	if (k->stopped >= 0 && !k->deleted) {
		ck_assert_msg(strcmp(state, "complete") == 0, "%s stopped OK but is %s", name, state);
		ck_assert_int_eq(frames, k->stopped);
	}
	return 0;
}

static bool has_row(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT 1 FROM recordings WHERE filename = ?", -1, &st,
			     NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int cb_text(void *arg, int n, char **v, char **col)
{
	(void) n;
	(void) col;
	snprintf(arg, 256, "%s", v[0] ? v[0] : "(null)");
	return 0;
}

/* The checks after a restart on the reverted folders (see NOTES). */
static void check_state(int *rows_out)
{
	sqlite3 *db;
	char ok[256] = "", *err = NULL;
	int rows = 0;
	ck_assert_int_eq(sqlite3_open_v2(R.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA integrity_check", cb_text, ok, &err), SQLITE_OK);
	ck_assert_str_eq(ok, "ok");
	ck_assert_int_eq(sqlite3_exec(db, "SELECT filename, state, frames FROM recordings", cb_rows,
			     &rows, &err), SQLITE_OK);
	DIR *d = opendir(R.rec_dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t l = strlen(e->d_name);
		ck_assert_msg(l < 5 || strcmp(e->d_name + l - 5, ".part") != 0, "%s left after restart",
		    e->d_name);
		if (strncmp(e->d_name, "rec_", 4) == 0)
			ck_assert_msg(has_row(db, e->d_name), "%s has no row", e->d_name);
	}
	closedir(d);
	/* every recording confirmed stopped and not deleted since is there */
	for (int i = 0; i < nk; i++)
		if ((K[i].stopped >= 0 || K[i].due > 0) && !K[i].deleted)
			ck_assert_msg(has_row(db, K[i].name), "%s (%s, %ld frames due) is gone after the cut",
			    K[i].name, K[i].stopped >= 0 ? "stopped OK" : "open", K[i].due);
	sqlite3_close(db);
	*rows_out = rows;
}

START_TEST(test_faults_power_cuts)
{
	const char *e = getenv("PYC_FAULTS_CUTS");
	int cuts = e != NULL ? atoi(e) : getenv("PYC_FAULTS_LONG") != NULL ? 40 : 5;
	char shadow[600], recd[600], dbd[600];
	char *dirs[2] = {recd, dbd};
	e = getenv("PYC_FAULTS_SEED");
	rnd_state = e != NULL ? (unsigned) atoi(e) : (unsigned) (pyc_now_ms() % 100000);
	printf("power cuts: %d, seed %u\n", cuts, rnd_state);
	snprintf(shadow, sizeof(shadow), "%s/shadow", R.dir);
	snprintf(recd, sizeof(recd), "%s", R.rec_dir);
	snprintf(dbd, sizeof(dbd), "%s/db", R.dir);
	mkdir(recd, 0750);
	mkdir(dbd, 0750);
	add_extra("PYC_PWR_SHADOW=%s", shadow);
	add_extra("PYC_PWR_DIRS=%s:%s", recd, dbd);
	add_extra("RECORDING_RETENTION_SECONDS=3600");
	preload_idx = R.nextra;
	add_extra("LD_PRELOAD=");
	for (int c = 0; c < cuts; c++) {
		int restored = 0, emptied = 0, dropped = 0, rows = 0;
		ck_assert_int_eq(pwr_snapshot_all(shadow, dirs, 2), 0);
		shim(true);
		ck_assert_msg(rf_start(&R), "recorder did not start under the shim");
		bool quiet = c % 2 == 1;
		long long cut = quiet ? 2500 + rnd(1000) : 200 + rnd(2800);
		workload(pyc_now_ms() + cut, c, quiet);
		int st = rf_stop(&R, SIGKILL);
		ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		ck_assert_int_eq(pwr_revert(shadow, dirs, 2, &restored, &emptied, &dropped), 0);
		shim(false);
		ck_assert_msg(rf_start(&R), "recorder did not start after the power cut");
		st = rf_stop(&R, SIGTERM);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "recorder did not exit 0");
		check_state(&rows);
		printf("cut %d (%s) at %lld ms: %d files restored, %d names with no synced data, "
		       "%d undone; %d rows, all consistent\n", c, quiet ? "one long recording" : "mixed", cut, restored, emptied, dropped, rows);
	}
}
END_TEST

static void setup(void)
{
	static const char *const extra[] = {"ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:"
					    "abort_on_error=1", "LOG_LEVEL=warn", NULL};
	rf_init(&R, extra);
}

static void teardown(void)
{
	rf_fini(&R);
}

int main(void)
{
	Suite *s = suite_create("faults_power");
	TCase *tc = tcase_create("power");
	tcase_set_timeout(tc, getenv("PYC_FAULTS_LONG") != NULL ? 1800 : 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_faults_power_cuts);
	suite_add_tcase(s, tc);
	return pyc_check_run(s);
}
