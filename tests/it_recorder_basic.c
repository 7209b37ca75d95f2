/* it_recorder_basic.c - the real pyc-recorder: record, read back, list, ranges, delete, clean-up.
 *
 * NOTES: each test starts its own recorder on a temporary folder and
 * ipc:// sockets, talks to it as worker processes (pair1 dialers) and as
 * the gateway (req), and checks the WAV files with libsndfile sample for
 * sample. The twenty-session test is the regression test for the earlier
 * system's shared recorder object, which mixed two users' audio.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "it_recorder_util.h"

static const char *const SETTINGS =
    "{\"gain\":6,\"filter_enabled\":true,\"cutoff_freq\":1500,\"integration_time\":0.5}";

static rf_recorder R;

static void setup(void)
{
	rf_init(&R, NULL);
	ck_assert_msg(rf_start(&R), "recorder did not start");
}

static void teardown(void)
{
	rf_fini(&R);
}

/* Appends frames of signal id in blocks of varying size. */
static void send_signal(nng_socket w, const char *sid, int id, uint64_t first,
    size_t frames, int ch)
{
	static const size_t blocks[] = {960, 441, 1, 2048, 960, 17};
	int16_t *pcm = malloc(4096 * 2 * sizeof(int16_t));
	size_t done = 0, bi = 0;

	while (done < frames) {
		size_t n = blocks[bi++ % 6];
		if (n > frames - done)
			n = frames - done;
		rf_fill(pcm, id, first + done, n, ch);
		ck_assert_int_eq(rf_append(w, sid, pcm, n * (size_t) ch), 0);
		done += n;
	}
	free(pcm);
}

static void check_file(const char *dir, const char *name, int id, long frames, int rate, int ch)
{
	char path[1024];
	int16_t *pcm;
	int r, c;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = rf_wav_read(path, &r, &c, &pcm);
	ck_assert_int_eq(n, frames);
	ck_assert_int_eq(r, rate);
	ck_assert_int_eq(c, ch);
	for (long i = 0; i < n; i++)
		for (int k = 0; k < ch; k++)
			if (pcm[i * ch + k] != rf_sample(id, (uint64_t) i, k))
				ck_abort_msg("%s: frame %ld channel %d differs", name, i, k);
	free(pcm);
}

static cJSON *parse(char *json)
{
	cJSON *j = cJSON_Parse(json);
	ck_assert_msg(j != NULL, "bad JSON: %s", json);
	free(json);
	return j;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "field %s missing", k);
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(cJSON_IsString(v), "field %s missing", k);
	return v->valuestring;
}

/* Waits until the session's newest recording holds frames (the stream and
 * control sockets are not ordered with each other). */
static void wait_frames(nng_socket g, const char *sid, long frames)
{
	char want[64], *json;
	long long end = pyc_now_ms() + 5000;
	int in;

	snprintf(want, sizeof(want), "\"frames\":%ld", frames);
	for (;;) {
		ck_assert_int_eq(rf_list(g, sid, 0, 1, &json), 0);
		in = strstr(json, want) != NULL;
		free(json);
		if (in)
			return;
		ck_assert_msg(pyc_now_ms() < end, "appends of %s not taken in", sid);
		pyc_sleep_ms(20);
	}
}

START_TEST(test_rec_it_record_roundtrip)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result st, sp;
	char *json;
	cJSON *a, *o, *s;

	ck_assert_int_eq(rf_rec_start(w, "sessA", 48000, 2, SETTINGS, &st), 0);
	ck_assert(st.id > 0);
	ck_assert_int_eq(strlen(st.filename), 47);
	ck_assert(strncmp(st.filename, "rec_", 4) == 0);
	send_signal(w, "sessA", 1, 0, 72000, 2);
	ck_assert_int_eq(rf_rec_stop(w, "sessA", &sp), 0);
	ck_assert_str_eq(sp.filename, st.filename);
	ck_assert_int_eq(sp.id, st.id);
	ck_assert_uint_eq(sp.frames, 72000);
	ck_assert_double_eq_tol(sp.duration_s, 1.5, 1e-9);
	ck_assert_uint_eq(sp.size_bytes, 44 + 72000 * 4);
	check_file(R.rec_dir, sp.filename, 1, 72000, 48000, 2);

	ck_assert_int_eq(rf_list(g, "sessA", 0, 100, &json), 0);
	a = parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	o = cJSON_GetArrayItem(a, 0);
	ck_assert_int_eq((int) num(o, "id"), (int) st.id);
	ck_assert_str_eq(str(o, "filename"), st.filename);
	ck_assert_double_eq_tol(num(o, "duration_seconds"), 1.5, 1e-9);
	ck_assert_str_eq(str(o, "session_id"), "sessA");
	ck_assert_int_eq(strlen(str(o, "timestamp")), 20);
	ck_assert(str(o, "timestamp")[10] == 'T' && str(o, "timestamp")[19] == 'Z');
	ck_assert_int_eq((int) num(o, "channels"), 2);
	ck_assert_int_eq((int) num(o, "sample_rate"), 48000);
	ck_assert_int_eq((int) num(o, "frames"), 72000);
	ck_assert_int_eq((int) num(o, "size_bytes"), 288044);
	ck_assert_str_eq(str(o, "state"), "complete");
	s = cJSON_GetObjectItemCaseSensitive(o, "settings");
	ck_assert(cJSON_IsObject(s));
	ck_assert_double_eq(num(s, "gain"), 6);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "filter_enabled")));
	ck_assert_double_eq(num(s, "cutoff_freq"), 1500);
	ck_assert_double_eq(num(s, "integration_time"), 0.5);
	cJSON_Delete(a);

	/* No temporary file is left behind. */
	char part[1024];
	struct stat stt;
	snprintf(part, sizeof(part), "%s/%s.part", R.rec_dir, st.filename);
	ck_assert_int_ne(stat(part, &stt), 0);
	nng_close(w);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_mono_and_rates)
{
	nng_socket w = rf_worker(&R);
	pyc_rec_result st, sp;

	ck_assert_int_eq(rf_rec_start(w, "mono1", 8000, 1, "{}", &st), 0);
	send_signal(w, "mono1", 5, 0, 12345, 1);
	ck_assert_int_eq(rf_rec_stop(w, "mono1", &sp), 0);
	ck_assert_uint_eq(sp.frames, 12345);
	ck_assert_uint_eq(sp.size_bytes, 44 + 12345 * 2);
	check_file(R.rec_dir, sp.filename, 5, 12345, 8000, 1);

	ck_assert_int_eq(rf_rec_start(w, "mono1", 192000, 2, "{}", &st), 0);
	ck_assert_int_eq(rf_rec_stop(w, "mono1", &sp), 0);
	ck_assert_uint_eq(sp.frames, 0);
	check_file(R.rec_dir, sp.filename, 0, 0, 192000, 2);
	nng_close(w);
}
END_TEST

#define NSESS 20

START_TEST(test_rec_it_twenty_sessions_isolated)
{
	nng_socket w[NSESS];
	pyc_rec_result st[NSESS], sp;
	char sid[32];
	int16_t pcm[960 * 2];
	size_t frames[NSESS];

	for (int i = 0; i < NSESS; i++) {
		w[i] = rf_worker(&R);
		snprintf(sid, sizeof(sid), "user-%02d", i);
		ck_assert_int_eq(rf_rec_start(w[i], sid, 48000, 2, "{}", &st[i]), 0);
		frames[i] = 0;
	}
	/* Interleaved: block b of every session, then block b + 1... */
	for (int b = 0; b < 50; b++) {
		for (int i = 0; i < NSESS; i++) {
			size_t n = 480 + (size_t) ((i * 37 + b * 11) % 480);
			snprintf(sid, sizeof(sid), "user-%02d", i);
			rf_fill(pcm, 100 + i, frames[i], n, 2);
			ck_assert_int_eq(rf_append(w[i], sid, pcm, n * 2), 0);
			frames[i] += n;
		}
	}
	for (int i = 0; i < NSESS; i++) {
		snprintf(sid, sizeof(sid), "user-%02d", i);
		ck_assert_int_eq(rf_rec_stop(w[i], sid, &sp), 0);
		ck_assert_str_eq(sp.filename, st[i].filename);
		ck_assert_uint_eq(sp.frames, frames[i]);
		check_file(R.rec_dir, sp.filename, 100 + i, (long) frames[i], 48000, 2);
		nng_close(w[i]);
	}
}
END_TEST

START_TEST(test_rec_it_list_isolation)
{
	nng_socket w = rf_worker(&R), w2 = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result res;
	char names[3][128];
	char *json;
	cJSON *a;
	int16_t pcm[100];

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(rf_rec_start(w, "alice", 44100, 1, "{}", &res), 0);
		snprintf(names[i], sizeof(names[i]), "%s", res.filename);
		rf_fill(pcm, i, 0, 100, 1);
		rf_append(w, "alice", pcm, 100);
		ck_assert_int_eq(rf_rec_stop(w, "alice", &res), 0);
	}
	ck_assert_int_eq(rf_rec_start(w2, "bob", 44100, 2, "{}", &res), 0);
	ck_assert_int_eq(rf_rec_stop(w2, "bob", &res), 0);

	ck_assert_int_eq(rf_list(g, "alice", 0, 100, &json), 0);
	a = parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(a), 3);
	for (int i = 0; i < 3; i++) {
		cJSON *o = cJSON_GetArrayItem(a, i);
		ck_assert_str_eq(str(o, "session_id"), "alice");
		ck_assert_str_eq(str(o, "filename"), names[2 - i]); /* newest first */
	}
	cJSON_Delete(a);
	ck_assert_int_eq(rf_list(g, "alice", 1, 1, &json), 0);
	a = parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "filename"), names[1]);
	cJSON_Delete(a);
	ck_assert_int_eq(rf_list(g, "alice", 5, 10, &json), 0);
	a = parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	ck_assert_int_eq(rf_list(g, "bob", 0, 100, &json), 0);
	a = parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "session_id"), "bob");
	cJSON_Delete(a);
	ck_assert_int_eq(rf_list(g, "nobody", 0, 100, &json), 0);
	a = parse(json);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	/* A list without a session id is refused. */
	ck_assert_int_eq(rf_list(g, "", 0, 100, &json), PYC_EINVAL);
	free(json);
	nng_close(w);
	nng_close(w2);
	nng_close(g);
}
END_TEST

static uint8_t *slurp(const char *dir, const char *name, size_t *n)
{
	char path[1024];
	FILE *f;
	uint8_t *b;
	long sz;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert((f = fopen(path, "rb")) != NULL);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t) sz + 1);
	ck_assert_int_eq(fread(b, 1, (size_t) sz, f), sz);
	fclose(f);
	*n = (size_t) sz;
	return b;
}

START_TEST(test_rec_it_byte_ranges)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result st, sp;
	uint64_t total, size;
	size_t n, got, off = 0;
	uint8_t *file, *buf = malloc(PYC_READ_MAX);
	char *json;

	ck_assert_int_eq(rf_rec_start(w, "ranges", 48000, 2, "{}", &st), 0);
	send_signal(w, "ranges", 9, 0, 48000 * 7, 2); /* 1.3 MiB */
	/* While it is being written, reads return its current bytes. */
	pyc_sleep_ms(300);
	ck_assert_int_eq(rf_read(g, st.filename, 0, 44, &total, buf, 44, &got), 0);
	ck_assert_uint_eq(got, 44);
	ck_assert(total > 44);
	ck_assert(memcmp(buf, "RIFF", 4) == 0);
	ck_assert_int_eq(rf_meta(g, st.filename, &size, &json), 0);
	free(json);
	ck_assert(size > 44);
	ck_assert_int_eq(rf_rec_stop(w, "ranges", &sp), 0);

	file = slurp(R.rec_dir, sp.filename, &n);
	ck_assert_uint_eq(n, sp.size_bytes);
	/* Whole file in 1 MiB ranges, then odd ranges. */
	while (off < n) {
		ck_assert_int_eq(rf_read(g, sp.filename, off, PYC_READ_MAX, &total, buf,
		    PYC_READ_MAX, &got), 0);
		ck_assert_uint_eq(total, n);
		ck_assert(got > 0);
		ck_assert(memcmp(buf, file + off, got) == 0);
		off += got;
	}
	ck_assert_uint_eq(off, n);
	ck_assert_int_eq(rf_read(g, sp.filename, 12345, 777, &total, buf, 777, &got), 0);
	ck_assert_uint_eq(got, 777);
	ck_assert(memcmp(buf, file + 12345, 777) == 0);
	ck_assert_int_eq(rf_read(g, sp.filename, n - 10, 100, &total, buf, 100, &got), 0);
	ck_assert_uint_eq(got, 10);
	ck_assert_int_eq(rf_read(g, sp.filename, n, 100, &total, buf, 100, &got), 0);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(rf_read(g, sp.filename, n + 1, 100, &total, buf, 100, &got), PYC_EINVAL);
	ck_assert_uint_eq(total, n);
	ck_assert_int_eq(rf_read(g, sp.filename, 0, 0, &total, buf, 100, &got), 0);
	ck_assert_uint_eq(got, 0);
	/* Metadata: value = file size. */
	ck_assert_int_eq(rf_meta(g, sp.filename, &size, &json), 0);
	ck_assert_uint_eq(size, n);
	cJSON *o = parse(json);
	ck_assert_str_eq(str(o, "filename"), sp.filename);
	ck_assert_str_eq(str(o, "state"), "complete");
	cJSON_Delete(o);
	free(file);
	free(buf);
	nng_close(w);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_delete)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result st, sp;
	char path[1024], *json;
	struct stat sb;
	uint64_t size;

	ck_assert_int_eq(rf_rec_start(w, "del", 48000, 2, "{}", &st), 0);
	/* A recording being written is not deleted. */
	ck_assert_int_eq(rf_delete(g, st.filename), PYC_EBUSY);
	send_signal(w, "del", 3, 0, 4800, 2);
	ck_assert_int_eq(rf_rec_stop(w, "del", &sp), 0);
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, sp.filename);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(rf_delete(g, sp.filename), 0);
	ck_assert_int_ne(stat(path, &sb), 0);
	ck_assert_int_eq(rf_delete(g, sp.filename), PYC_ENOENT);
	ck_assert_int_eq(rf_meta(g, sp.filename, &size, &json), PYC_ENOENT);
	free(json);
	ck_assert_int_eq(rf_list(g, "del", 0, 100, &json), 0);
	ck_assert_str_eq(json, "[]");
	free(json);
	nng_close(w);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_session_ended_deletes)
{
	nng_socket w = rf_worker(&R), w2 = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result res, active, keep;
	uint64_t deleted = 99;
	char path[1024], *json;
	struct stat sb;

	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(rf_rec_start(w, "ending", 48000, 2, "{}", &res), 0);
		send_signal(w, "ending", i, 0, 4800, 2);
		ck_assert_int_eq(rf_rec_stop(w, "ending", &res), 0);
	}
	ck_assert_int_eq(rf_rec_start(w2, "staying", 48000, 2, "{}", &keep), 0);
	ck_assert_int_eq(rf_rec_stop(w2, "staying", &keep), 0);
	/* One still open: it is finalised, then deleted with the others. */
	ck_assert_int_eq(rf_rec_start(w, "ending", 48000, 2, "{}", &active), 0);
	send_signal(w, "ending", 7, 0, 9600, 2);
	ck_assert_int_eq(rf_session_ended(g, "ending", &deleted), 0);
	ck_assert_uint_eq(deleted, 3);
	ck_assert_int_eq(rf_list(g, "ending", 0, 100, &json), 0);
	ck_assert_str_eq(json, "[]");
	free(json);
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, active.filename);
	ck_assert_int_ne(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/%s.part", R.rec_dir, active.filename);
	ck_assert_int_ne(stat(path, &sb), 0);
	/* The other session keeps its recording. */
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, keep.filename);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(rf_list(g, "staying", 0, 100, &json), 0);
	ck_assert(strstr(json, keep.filename) != NULL);
	free(json);
	/* Appends after the end are refused, a stop says not recording. */
	ck_assert_int_eq(rf_rec_stop(w, "ending", &res), PYC_ENOENT);
	ck_assert_str_eq(res.code, "not_recording");
	/* Ending a session twice or one that never recorded is fine. */
	ck_assert_int_eq(rf_session_ended(g, "ending", &deleted), 0);
	ck_assert_uint_eq(deleted, 0);
	nng_close(w);
	nng_close(w2);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_worker_pipe_gone)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result st;
	char *json = NULL;
	cJSON *a = NULL, *o;
	long long end;

	ck_assert_int_eq(rf_rec_start(w, "crashy", 48000, 2, "{}", &st), 0);
	send_signal(w, "crashy", 4, 0, 24000, 2);
	wait_frames(g, "crashy", 24000);
	nng_close(w); /* the worker process died */
	end = pyc_now_ms() + 5000;
	for (;;) {
		ck_assert_int_eq(rf_list(g, "crashy", 0, 10, &json), 0);
		a = parse(json);
		o = cJSON_GetArrayItem(a, 0);
		if (o != NULL && strcmp(str(o, "state"), "recording") != 0)
			break;
		cJSON_Delete(a);
		ck_assert_msg(pyc_now_ms() < end, "recording not finalised after its pipe went");
		pyc_sleep_ms(50);
	}
	ck_assert_str_eq(str(o, "state"), "recovered");
	ck_assert_int_eq((int) num(o, "frames"), 24000);
	cJSON_Delete(a);
	check_file(R.rec_dir, st.filename, 4, 24000, 48000, 2);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_sigterm_finalises)
{
	nng_socket w = rf_worker(&R), g;
	pyc_rec_result st;
	char *json;
	cJSON *a, *o;
	int status;

	ck_assert_int_eq(rf_rec_start(w, "term", 44100, 2, "{}", &st), 0);
	send_signal(w, "term", 8, 0, 44100, 2);
	g = rf_gateway(&R);
	wait_frames(g, "term", 44100);
	nng_close(g);
	status = rf_stop(&R, SIGTERM);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	nng_close(w);
	check_file(R.rec_dir, st.filename, 8, 44100, 44100, 2);
	ck_assert(rf_start(&R));
	g = rf_gateway(&R);
	ck_assert_int_eq(rf_list(g, "term", 0, 10, &json), 0);
	a = parse(json);
	o = cJSON_GetArrayItem(a, 0);
	ck_assert_str_eq(str(o, "state"), "complete");
	ck_assert_int_eq((int) num(o, "frames"), 44100);
	cJSON_Delete(a);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_health)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result st;
	char *json;
	cJSON *o;

	ck_assert_int_eq(rf_rec_start(w, "h1", 48000, 2, "{}", &st), 0);
	ck_assert_int_eq(rf_health(g, &json), 0);
	o = parse(json);
	ck_assert_str_eq(str(o, "status"), "ok");
	ck_assert_str_eq(str(o, "db"), "ok");
	ck_assert_int_eq((int) num(o, "recordings_open"), 1);
	ck_assert(num(o, "disk_free_bytes") > 0);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "append_latency_us")));
	cJSON_Delete(o);
	nng_close(w);
	nng_close(g);
}
END_TEST

static void setup_retention(void)
{
	static const char *const extra[] = {"RECORDING_RETENTION_SECONDS=2",
	    "RECORDING_SWEEP_SECONDS=1", NULL};
	rf_init(&R, extra);
	ck_assert_msg(rf_start(&R), "recorder did not start");
}

START_TEST(test_rec_it_retention_sweep)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result r1, r2, other;
	uint64_t deleted = 99;
	char path[1024], *json;
	struct stat sb;
	long long end;

	ck_assert_int_eq(rf_rec_start(w, "kept", 48000, 2, "{}", &r1), 0);
	send_signal(w, "kept", 1, 0, 4800, 2);
	ck_assert_int_eq(rf_rec_stop(w, "kept", &r1), 0);
	ck_assert_int_eq(rf_rec_start(w, "other", 48000, 2, "{}", &other), 0);
	ck_assert_int_eq(rf_rec_stop(w, "other", &other), 0);
	ck_assert_int_eq(rf_rec_start(w, "kept", 48000, 2, "{}", &r2), 0);
	send_signal(w, "kept", 2, 0, 4800, 2);
	/* In the system the worker stops first; here wait for the appends. */
	wait_frames(g, "kept", 4800);
	/* With retention nothing is deleted at the end, the open one is finalised. */
	ck_assert_int_eq(rf_session_ended(g, "kept", &deleted), 0);
	ck_assert_uint_eq(deleted, 0);
	ck_assert_int_eq(rf_list(g, "kept", 0, 10, &json), 0);
	ck_assert(strstr(json, r1.filename) != NULL && strstr(json, r2.filename) != NULL);
	ck_assert(strstr(json, "\"recording\"") == NULL);
	free(json);
	check_file(R.rec_dir, r2.filename, 2, 4800, 48000, 2);
	/* The sweep removes them once expired; the other session keeps its own. */
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, r1.filename);
	ck_assert_int_eq(stat(path, &sb), 0);
	end = pyc_now_ms() + 6000;
	while (stat(path, &sb) == 0 && pyc_now_ms() < end)
		pyc_sleep_ms(100);
	ck_assert_msg(stat(path, &sb) != 0, "expired recording not swept");
	/* the sweep deletes file then row, one recording after the other: wait
	 * for it to finish (bounded) before reading the list */
	for (;;) {
		ck_assert_int_eq(rf_list(g, "kept", 0, 10, &json), 0);
		if (strcmp(json, "[]") == 0 || pyc_now_ms() >= end)
			break;
		free(json);
		pyc_sleep_ms(50);
	}
	ck_assert_str_eq(json, "[]");
	free(json);
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, other.filename);
	ck_assert_int_eq(stat(path, &sb), 0);
	nng_close(w);
	nng_close(g);
}
END_TEST

static Suite *rec_it_suite(void)
{
	Suite *s = suite_create("recorder_basic");
	TCase *core = tcase_create("core");
	TCase *life = tcase_create("lifecycle");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_set_timeout(core, 60);
	tcase_add_test(core, test_rec_it_record_roundtrip);
	tcase_add_test(core, test_rec_it_mono_and_rates);
	tcase_add_test(core, test_rec_it_twenty_sessions_isolated);
	tcase_add_test(core, test_rec_it_list_isolation);
	tcase_add_test(core, test_rec_it_byte_ranges);
	tcase_add_test(core, test_rec_it_delete);
	tcase_add_test(core, test_rec_it_health);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(life, setup, teardown);
	tcase_set_timeout(life, 60);
	tcase_add_test(life, test_rec_it_session_ended_deletes);
	tcase_add_test(life, test_rec_it_worker_pipe_gone);
	tcase_add_test(life, test_rec_it_sigterm_finalises);
	suite_add_tcase(s, life);

	TCase *ret = tcase_create("retention");
	tcase_add_checked_fixture(ret, setup_retention, teardown);
	tcase_set_timeout(ret, 60);
	tcase_add_test(ret, test_rec_it_retention_sweep);
	suite_add_tcase(s, ret);
	return s;
}

int main(void)
{
	return pyc_check_run(rec_it_suite());
}
