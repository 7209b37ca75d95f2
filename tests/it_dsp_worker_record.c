/* it_dsp_worker_record.c - recording through a worker: ordering, replies,
 * failures, and finishing on close and SIGTERM.
 *
 * NOTES: a stand-in recorder (a pair1 polyamorous listener at RECORDER_URL,
 * the same helper as the stand-in gateway) sees exactly what a worker
 * sends: rec_start, the processed audio of exactly the chunks between
 * record start and stop (compared bit for bit with dw_pipeline run in the
 * test), rec_stop; its replies come back to the client as recording_saved
 * or recording_failed. The last test runs the real recorder process
 * (recorder/pyc-recorder) and reads the WAV it wrote; it is skipped with a
 * message when that binary has not been built.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dw_pipeline.h"
#include "it_dsp_worker_util.h"

#define CHUNK 960
#define RATE 48000

static dwenv env;
static fgw rec;
static bool rec_open;

static void teardown(void)
{
	dwenv_fini(&env);
	if (rec_open)
		fgw_close(&rec);
	rec_open = false;
}

static void start_env(const char *const *extra, bool fake_recorder)
{
	ck_assert_int_eq(dwenv_init(&env, 2, 8, extra), 0);
	if (fake_recorder) {
		ck_assert_int_eq(fgw_open(&rec, env.rec_url), 0);
		rec_open = true;
	}
	ck_assert_msg(dwenv_start_host(&env, 2, 10000) == 0, "host did not register workers");
}

static void chunk(int16_t *pcm, uint64_t i)
{
	double f[2] = {440, 1250}, a[2] = {0.4, 0.2};
	dw_sines(pcm, CHUNK, 2, RATE, f, a, (i - 1) * CHUNK);
}

static void cmd_record(uint32_t pipe, const char *sid, int start)
{
	uint8_t b = (uint8_t) start;
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_RECORD, sid, 0, &b, 1), 0);
	pyc_sleep_ms(3);
}

static cJSON *next_event(uint32_t pipe, int timeout_ms)
{
	fmsg m;
	long long end = pyc_now_ms() + timeout_ms;
	for (;;) {
		long long left = end - pyc_now_ms();
		ck_assert_msg(left > 0 && fgw_next(&env.gw, pipe, &m, (int) left) == 0,
		    "no event within %d ms", timeout_ms);
		if (m.m.type == PYC_MSG_EVENT)
			break;
		fmsg_free(&m);
	}
	cJSON *o = cJSON_ParseWithLength((const char *) m.m.payload, m.m.payload_len);
	fmsg_free(&m);
	ck_assert(o != NULL);
	return o;
}

static void expect_event(uint32_t pipe, const char *type, const char *code)
{
	cJSON *o = next_event(pipe, 3000);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, type);
	if (code != NULL)
		ck_assert_str_eq(cJSON_GetObjectItem(o, "code")->valuestring, code);
	cJSON_Delete(o);
}

/* Next message at the stand-in recorder, of type t. */
static void rec_expect(fmsg *m, unsigned t, int timeout_ms)
{
	ck_assert_msg(fgw_next(&rec, 0, m, timeout_ms) == 0, "recorder: no %s",
	    pyc_msg_type_name(t));
	ck_assert_msg(m->m.type == t, "recorder: got %s, expected %s",
	    pyc_msg_type_name(m->m.type), pyc_msg_type_name(t));
}

static void rec_reply(const fmsg *req, int status, int64_t id, const char *filename,
    uint64_t frames)
{
	pyc_rec_result r;
	uint8_t buf[1024];
	pyc_wbuf w;
	nng_msg *out;
	nng_pipe np = NNG_PIPE_INITIALIZER;
	memset(&r, 0, sizeof(r));
	r.status = status;
	if (status != PYC_OK) {
		snprintf(r.code, sizeof(r.code), "recording_failed");
		snprintf(r.message, sizeof(r.message), "disk full");
	}
	r.id = id;
	snprintf(r.filename, sizeof(r.filename), "%s", filename);
	r.frames = frames;
	r.duration_s = (double) frames / RATE;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_result_put(&w, &r);
	ck_assert_int_eq(pyc_wire_reply_new(&out, &req->m, &w), PYC_OK);
	memcpy(&np, &req->pipe, sizeof(req->pipe));
	nng_msg_set_pipe(out, np);
	ck_assert_int_eq(nng_sendmsg(rec.s, out, 0), 0);
}

/* The next n messages at the stand-in recorder are of type t; none is answered. */
static void rec_drop(unsigned t, int n)
{
	fmsg m;
	for (int i = 0; i < n; i++) {
		rec_expect(&m, t, 3000);
		fmsg_free(&m);
	}
}

/* A whole recording at the stand-in recorder: rec_start (not answered),
 * appends chunks, then rec_stop, answered as saved under id and filename. */
static void rec_take_recording(int appends, int64_t id, const char *filename)
{
	fmsg m;
	rec_drop(PYC_MSG_REC_START, 1);
	rec_drop(PYC_MSG_REC_APPEND, appends);
	rec_expect(&m, PYC_MSG_REC_STOP, 3000);
	rec_reply(&m, PYC_OK, id, filename, (uint64_t) appends * CHUNK);
	fmsg_free(&m);
}

static void rec_send_error(uint32_t pipe, const char *sid)
{
	pyc_rec_result r;
	uint8_t buf[1024];
	pyc_wbuf w;
	memset(&r, 0, sizeof(r));
	r.status = PYC_ENOSPC;
	snprintf(r.code, sizeof(r.code), "recording_failed");
	snprintf(r.message, sizeof(r.message), "no space left on device");
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_result_put(&w, &r);
	ck_assert_int_eq(fgw_send(&rec, pipe, PYC_MSG_REC_ERROR, sid, 0, buf, w.len), 0);
}

/* Opens sid (48 kHz stereo, gain and filter on) and starts the reference. */
static uint32_t open_session(const char *sid, pyc_params *init, dw_pipeline **pl)
{
	dw_params_masked(init, PYC_P_RATE | PYC_P_CHANNELS | PYC_P_GAIN | PYC_P_FILTER |
	    PYC_P_CUTOFF);
	init->sample_rate = RATE;
	init->channels = 2;
	init->gain_db = 3;
	init->filter_enabled = 1;
	init->cutoff_hz = 4000;
	uint32_t pipe = dw_open(&env, sid, NULL, init, NULL);
	ck_assert_uint_ne(pipe, 0);
	expect_event(pipe, "ready", NULL);
	if (pl != NULL) {
		pyc_params d, cur;
		pyc_params_defaults(&d);
		ck_assert_int_eq(dw_pipeline_create(&d, pl), PYC_OK);
		cur = d;
		pyc_params_merge(&cur, init);
		cur.mask = PYC_P_ALL;
		ck_assert_int_eq(dw_pipeline_set_params(*pl, &cur), PYC_OK);
		ck_assert_int_eq(dw_pipeline_set_params(*pl, &cur), PYC_OK);
	}
	return pipe;
}

/* Streams chunks [from, to] with a window of 1 and waits for their meters. */
static void stream(uint32_t pipe, const char *sid, uint64_t from, uint64_t to)
{
	int16_t pcm[CHUNK * 2];
	for (uint64_t i = from; i <= to; i++) {
		chunk(pcm, i);
		ck_assert_int_eq(fgw_send_audio(&env.gw, pipe, sid, i, pcm, sizeof(pcm), 1), 0);
	}
	long long end = pyc_now_ms() + 3000;
	while (fgw_answered(&env.gw, pipe) < to && pyc_now_ms() < end)
		fgw_pump(&env.gw, 10);
	ck_assert_uint_eq(fgw_answered(&env.gw, pipe), to);
}

START_TEST(test_dw_record_exact_chunks_between_start_and_stop)
{
	const char *sid = "recOrder1";
	pyc_params init;
	dw_pipeline *pl;
	fmsg m;
	int16_t pcm[CHUNK * 2], want[CHUNK * 2];

	start_env(NULL, true);
	uint32_t pipe = open_session(sid, &init, &pl);
	stream(pipe, sid, 1, 5);
	cmd_record(pipe, sid, 1);
	stream(pipe, sid, 6, 15);
	cmd_record(pipe, sid, 0);
	stream(pipe, sid, 16, 20);

	rec_expect(&m, PYC_MSG_REC_START, 3000);
	pyc_rec_start rs;
	ck_assert_str_eq(m.m.sid, sid);
	ck_assert_int_eq(pyc_rec_start_get(m.m.payload, m.m.payload_len, &rs), PYC_OK);
	ck_assert_uint_eq(rs.sample_rate, RATE);
	ck_assert_uint_eq(rs.channels, 2);
	cJSON *st = cJSON_Parse(rs.settings_json);
	ck_assert(st != NULL);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(st, "gain")->valuedouble, 3, 1e-9);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "filter_enabled")));
	ck_assert_double_eq_tol(cJSON_GetObjectItem(st, "cutoff_freq")->valuedouble, 4000, 1e-9);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(st, "integration_time")));
	cJSON_Delete(st);
	rec_reply(&m, PYC_OK, 0, "", 0);
	fmsg_free(&m);

	/* The reference runs the whole stream; chunks 6..15 must be recorded. */
	for (uint64_t i = 1; i <= 20; i++) {
		size_t fo;
		chunk(pcm, i);
		ck_assert_int_eq(dw_pipeline_process(pl, pcm, sizeof(pcm), want, &fo), PYC_OK);
		if (i < 6 || i > 15)
			continue;
		rec_expect(&m, PYC_MSG_REC_APPEND, 3000);
		ck_assert_uint_eq(m.m.seq, i);
		ck_assert_uint_eq(m.m.payload_len, sizeof(want));
		ck_assert_msg(memcmp(m.m.payload, want, sizeof(want)) == 0,
		    "recorded audio of chunk %llu differs from the engine's",
		    (unsigned long long) i);
		fmsg_free(&m);
	}
	rec_expect(&m, PYC_MSG_REC_STOP, 3000);
	rec_reply(&m, PYC_OK, 42, "rec_20260101T000000Z_abc.wav", 10 * CHUNK);
	fmsg_free(&m);
	ck_assert_int_eq(fgw_next(&rec, 0, &m, 300), -1); /* nothing after the stop */

	cJSON *o = next_event(pipe, 3000);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "recording_saved");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "id")->valueint, 42);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "filename")->valuestring,
	    "rec_20260101T000000Z_abc.wav");
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "duration_seconds")->valuedouble, 0.2,
	    1e-9);
	cJSON_Delete(o);
	dw_pipeline_destroy(pl);
}
END_TEST

START_TEST(test_dw_record_errors_relayed)
{
	const char *sid = "recErr1";
	pyc_params init;
	fmsg m;

	start_env(NULL, true);
	uint32_t pipe = open_session(sid, &init, NULL);
	cmd_record(pipe, sid, 1);
	cmd_record(pipe, sid, 1);
	expect_event(pipe, "error", "already_recording");
	rec_expect(&m, PYC_MSG_REC_START, 3000);
	uint32_t wpipe = m.pipe;
	rec_reply(&m, PYC_OK, 0, "", 0);
	fmsg_free(&m);
	stream(pipe, sid, 1, 3);
	/* The recorder fails the recording on its own (disk full). */
	rec_send_error(wpipe, sid);
	expect_event(pipe, "error", "recording_failed");
	/* The recording is off: the next chunks are not appended. */
	stream(pipe, sid, 4, 6);
	rec_drop(PYC_MSG_REC_APPEND, 3);
	/* The worker tells the recorder to finish what it has. */
	rec_expect(&m, PYC_MSG_REC_STOP, 3000);
	rec_reply(&m, PYC_ENOSPC, 0, "", 0);
	fmsg_free(&m);
	ck_assert_int_eq(fgw_next(&rec, 0, &m, 300), -1);
	cmd_record(pipe, sid, 0);
	expect_event(pipe, "error", "not_recording");
	/* A failed start is reported once. */
	cmd_record(pipe, sid, 1);
	rec_expect(&m, PYC_MSG_REC_START, 3000);
	rec_reply(&m, PYC_EIO, 0, "", 0);
	fmsg_free(&m);
	expect_event(pipe, "error", "recording_failed");
	/* A stop the recorder never answers times out (REQUEST_TIMEOUT_MS). */
	cmd_record(pipe, sid, 1);
	rec_drop(PYC_MSG_REC_START, 1);
	cmd_record(pipe, sid, 0);
	rec_drop(PYC_MSG_REC_STOP, 1);
	long long t0 = pyc_now_ms();
	cJSON *o = next_event(pipe, 3000);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "code")->valuestring, "recording_failed");
	cJSON_Delete(o);
	ck_assert_int_ge(pyc_now_ms() - t0, 300);
}
END_TEST

/* The recorder finishes recordings on several threads: its answers to two
 * stops may come in either order, and the client still gets them in the
 * order of its stop_record commands; an answer held behind a stop that is
 * never answered goes out after that one times out. */
START_TEST(test_dw_record_saved_in_stop_order)
{
	const char *sid = "recTwo";
	pyc_params init;
	fmsg stop1, stop2, m;
	static const char *const extra[] = {"REQUEST_TIMEOUT_MS=1500", NULL};

	start_env(extra, true);
	uint32_t pipe = open_session(sid, &init, NULL);
	for (int round = 0; round < 2; round++) {
		cmd_record(pipe, sid, 1);
		stream(pipe, sid, (uint64_t) round * 4 + 1, (uint64_t) round * 4 + 2);
		cmd_record(pipe, sid, 0);
		cmd_record(pipe, sid, 1);
		stream(pipe, sid, (uint64_t) round * 4 + 3, (uint64_t) round * 4 + 4);
		cmd_record(pipe, sid, 0);
		rec_drop(PYC_MSG_REC_START, 1);
		rec_drop(PYC_MSG_REC_APPEND, 2);
		rec_expect(&stop1, PYC_MSG_REC_STOP, 3000);
		rec_drop(PYC_MSG_REC_START, 1);
		rec_drop(PYC_MSG_REC_APPEND, 2);
		rec_expect(&stop2, PYC_MSG_REC_STOP, 3000);
		rec_reply(&stop2, PYC_OK, 2, "second.wav", 2 * CHUNK);
		if (round == 0) {
			/* the second answer waits for the first */
			long long end = pyc_now_ms() + 200;
			while (pyc_now_ms() < end) {
				if (fgw_next(&env.gw, pipe, &m, 50) != 0)
					continue;
				ck_assert_msg(m.m.type != PYC_MSG_EVENT, "an event before the first "
				    "recording was answered: %.*s", (int) m.m.payload_len,
				    (const char *) m.m.payload);
				fmsg_free(&m);
			}
			rec_reply(&stop1, PYC_OK, 1, "first.wav", 2 * CHUNK);
			cJSON *o = next_event(pipe, 3000);
			ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "recording_saved");
			ck_assert_str_eq(cJSON_GetObjectItem(o, "filename")->valuestring, "first.wav");
			cJSON_Delete(o);
		} else {
			/* the first is never answered: it fails after REQUEST_TIMEOUT_MS,
			 * then the second's answer goes out */
			expect_event(pipe, "error", "recording_failed");
		}
		cJSON *o = next_event(pipe, 3000);
		ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "recording_saved");
		ck_assert_str_eq(cJSON_GetObjectItem(o, "filename")->valuestring, "second.wav");
		cJSON_Delete(o);
		fmsg_free(&stop1);
		fmsg_free(&stop2);
	}
}
END_TEST

START_TEST(test_dw_record_no_recorder)
{
	const char *sid = "recNone";
	pyc_params init;
	start_env(NULL, false);
	uint32_t pipe = open_session(sid, &init, NULL);
	cmd_record(pipe, sid, 1);
	expect_event(pipe, "error", "recording_failed");
	stream(pipe, sid, 1, 2); /* audio goes on */
}
END_TEST

START_TEST(test_dw_record_close_finishes_recording)
{
	const char *sid = "recClose";
	pyc_params init;
	fmsg m;
	start_env(NULL, true);
	uint32_t pipe = open_session(sid, &init, NULL);
	cmd_record(pipe, sid, 1);
	stream(pipe, sid, 1, 4);
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_SESSION_CLOSE, sid, 0, NULL, 0), 0);
	rec_take_recording(4, 5, "rec_close.wav");
	expect_event(pipe, "recording_saved", NULL);
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	ck_assert_int_eq(m.m.type, PYC_MSG_SESSION_CLOSED);
	fmsg_free(&m);
}
END_TEST

START_TEST(test_dw_record_sigterm_finishes_recording)
{
	const char *sid = "recTerm";
	pyc_params init;
	start_env(NULL, true);
	uint32_t pipe = open_session(sid, &init, NULL);
	cmd_record(pipe, sid, 1);
	stream(pipe, sid, 1, 3);
	kill(env.host.pid, SIGTERM);
	rec_take_recording(3, 9, "rec_term.wav");
	expect_event(pipe, "recording_saved", NULL);
	ck_assert(pyc_proc_wait(&env.host, 5000));
	ck_assert(WIFEXITED(env.host.status));
	ck_assert_int_eq(WEXITSTATUS(env.host.status), 0);
}
END_TEST

/* ---- the real recorder ---- */

static int read_wav(const char *path, int16_t **pcm, size_t *nsamples, int *rate, int *ch)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[12];
	if (f == NULL)
		return -1;
	if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "RIFF", 4) != 0 ||
	    memcmp(hdr + 8, "WAVE", 4) != 0) {
		fclose(f);
		return -1;
	}
	for (;;) {
		uint8_t c[8];
		if (fread(c, 1, 8, f) != 8) {
			fclose(f);
			return -1;
		}
		uint32_t len = (uint32_t) c[4] | (uint32_t) c[5] << 8 | (uint32_t) c[6] << 16 |
		    (uint32_t) c[7] << 24;
		if (memcmp(c, "fmt ", 4) == 0) {
			uint8_t fmt[64];
			if (len > sizeof(fmt) || fread(fmt, 1, len, f) != len) {
				fclose(f);
				return -1;
			}
			*ch = fmt[2] | fmt[3] << 8;
			*rate = (int) ((uint32_t) fmt[4] | (uint32_t) fmt[5] << 8 |
			    (uint32_t) fmt[6] << 16 | (uint32_t) fmt[7] << 24);
		} else if (memcmp(c, "data", 4) == 0) {
			*pcm = malloc(len ? len : 1);
			*nsamples = fread(*pcm, 1, len, f) / 2;
			fclose(f);
			return 0;
		} else {
			fseek(f, (long) (len + (len & 1)), SEEK_CUR);
		}
	}
}

START_TEST(test_dw_record_real_recorder_wav)
{
	const char *sid = "recReal1";
	char recdir[512];
	pyc_params init;
	dw_pipeline *pl;
	pyc_proc recorder;
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/recorder/pyc-recorder", PYC_BINARY_DIR);
	if (stat(path, &st) != 0) {
		printf("SKIP test_dw_record_real_recorder_wav: %s is not built\n", path);
		return;
	}
	ck_assert_int_eq(dwenv_init(&env, 2, 8, NULL), 0);
	snprintf(recdir, sizeof(recdir), "%s/recordings", env.dir);
	ck_assert_msg(dwenv_start_recorder(&env, &recorder) == 0, "recorder did not listen");
	ck_assert_msg(dwenv_start_host(&env, 2, 10000) == 0, "host did not register workers");

	uint32_t pipe = open_session(sid, &init, &pl);
	stream(pipe, sid, 1, 7);
	cmd_record(pipe, sid, 1);
	stream(pipe, sid, 8, 31);
	cmd_record(pipe, sid, 0);
	stream(pipe, sid, 32, 40);
	cJSON *o = next_event(pipe, 5000);
	ck_assert_msg(strcmp(cJSON_GetObjectItem(o, "type")->valuestring, "recording_saved") == 0,
	    "expected recording_saved, got %s", cJSON_PrintUnformatted(o));
	const char *fn = cJSON_GetObjectItem(o, "filename")->valuestring;
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "duration_seconds")->valuedouble,
	    24.0 * CHUNK / RATE, 0.0011);
	snprintf(path, sizeof(path), "%s/%s", recdir, fn);
	cJSON_Delete(o);

	int16_t *wav = NULL;
	size_t ns = 0;
	int rate = 0, ch = 0;
	ck_assert_msg(read_wav(path, &wav, &ns, &rate, &ch) == 0, "cannot read %s", path);
	ck_assert_int_eq(rate, RATE);
	ck_assert_int_eq(ch, 2);
	ck_assert_uint_eq(ns, 24u * CHUNK * 2);
	int16_t pcm[CHUNK * 2], want[CHUNK * 2];
	for (uint64_t i = 1; i <= 40; i++) {
		size_t fo;
		chunk(pcm, i);
		dw_pipeline_process(pl, pcm, sizeof(pcm), want, &fo);
		if (i >= 8 && i <= 31)
			ck_assert_msg(memcmp(wav + (i - 8) * CHUNK * 2, want, sizeof(want)) == 0,
			    "WAV frames of chunk %llu differ", (unsigned long long) i);
	}
	free(wav);
	dw_pipeline_destroy(pl);
	pyc_proc_stop(&env.host, SIGTERM, 12000);
	env.host_started = false;
	pyc_proc_stop(&recorder, SIGTERM, 5000);
}
END_TEST

static Suite *dw_record_suite(void)
{
	Suite *s = suite_create("dw_record");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_record_exact_chunks_between_start_and_stop);
	tcase_add_test(tc, test_dw_record_close_finishes_recording);
	tcase_add_test(tc, test_dw_record_saved_in_stop_order);
	tcase_add_test(tc, test_dw_record_sigterm_finishes_recording);
	tcase_add_test(tc, test_dw_record_real_recorder_wav);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_record_errors_relayed);
	tcase_add_test(tc, test_dw_record_no_recorder);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* A short request timeout so the unanswered stop is quick to test. */
	setenv("REQUEST_TIMEOUT_MS", "400", 1);
	return pyc_check_run(dw_record_suite());
}
