/* it_recorder_crash.c - SIGKILL mid-recording, restart, repair; folder/database reconciliation.
 *
 * NOTES: like PostgreSQL's 013_crash_restart.pl, the recorder is killed
 * with SIGKILL while a recording grows, then started again on the same
 * folder and database. The file must be readable, hold every whole frame
 * that reached the disk (a torn trailing frame is cut), match the signal
 * sample for sample, and its row must say "recovered". The header is
 * also checked while the file grows, without any repair: that is what a
 * reader (or a power cut) sees.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "it_recorder_util.h"

static rf_recorder R;

static void setup(void)
{
	static const char *const extra[] = {"RECORDING_SWEEP_SECONDS=1", NULL};
	rf_init(&R, extra);
	ck_assert_msg(rf_start(&R), "recorder did not start");
}

static void teardown(void)
{
	rf_fini(&R);
}

static void send_frames(nng_socket w, const char *sid, int id, uint64_t first, size_t frames)
{
	int16_t pcm[960 * 2];
	size_t done = 0;
	while (done < frames) {
		size_t n = frames - done < 960 ? frames - done : 960;
		rf_fill(pcm, id, first + done, n, 2);
		ck_assert_int_eq(rf_append(w, sid, pcm, n * 2), 0);
		done += n;
	}
}

static void check_prefix(const char *path, int id, long frames)
{
	int16_t *pcm;
	int rate, ch;
	long n = rf_wav_read(path, &rate, &ch, &pcm);

	ck_assert_int_eq(n, frames);
	ck_assert_int_eq(rate, 48000);
	ck_assert_int_eq(ch, 2);
	for (long i = 0; i < n; i++)
		for (int c = 0; c < 2; c++)
			if (pcm[i * 2 + c] != rf_sample(id, (uint64_t) i, c))
				ck_abort_msg("frame %ld channel %d differs", i, c);
	free(pcm);
}

static cJSON *list_one(const char *sid)
{
	nng_socket g = rf_gateway(&R);
	char *json;
	cJSON *a;

	ck_assert_int_eq(rf_list(g, sid, 0, 10, &json), 0);
	a = cJSON_Parse(json);
	free(json);
	nng_close(g);
	ck_assert(a != NULL);
	return a;
}

static long header_frames(const char *path)
{
	int16_t *pcm;
	int rate, ch;
	long n = rf_wav_read(path, &rate, &ch, &pcm);
	free(pcm);
	return n;
}

START_TEST(test_rec_it_sigkill_recovery)
{
	nng_socket w = rf_worker(&R);
	pyc_rec_result st;
	char part[1024], final[1024];
	struct stat sb;
	cJSON *a, *o;
	int status, fd;
	uint8_t torn[3] = {1, 2, 3}, stale[4] = {0xe8, 0x03, 0, 0};

	ck_assert_int_eq(rf_rec_start(w, "killed", 48000, 2, "{\"gain\":1}", &st), 0);
	send_frames(w, "killed", 11, 0, 144000); /* 3 s */
	/* Once the writer has it all, the header follows within 250 ms. */
	for (long long end = pyc_now_ms() + 5000;;) {
		cJSON *l = list_one("killed");
		int in = cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "frames")->valueint == 144000;
		cJSON_Delete(l);
		if (in)
			break;
		ck_assert_msg(pyc_now_ms() < end, "appends not written");
		pyc_sleep_ms(20);
	}
	pyc_sleep_ms(600);
	snprintf(part, sizeof(part), "%s/%s.part", R.rec_dir, st.filename);
	snprintf(final, sizeof(final), "%s/%s", R.rec_dir, st.filename);
	/* Valid while it grows: the header already covers everything written. */
	ck_assert_int_eq(header_frames(part), 144000);
	status = rf_stop(&R, SIGKILL);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	nng_close(w);
	ck_assert_int_eq(stat(part, &sb), 0);
	ck_assert_int_ne(stat(final, &sb), 0);

	/* Make it worse than a clean kill: a stale header and a torn frame. */
	fd = open(part, O_WRONLY | O_APPEND);
	ck_assert(fd >= 0);
	ck_assert_int_eq(write(fd, torn, 3), 3);
	close(fd);
	fd = open(part, O_WRONLY); /* pwrite ignores the offset under O_APPEND */
	ck_assert(fd >= 0);
	ck_assert_int_eq(pwrite(fd, stale, 4, 40), 4);
	close(fd);

	ck_assert(rf_start(&R));
	ck_assert_int_ne(stat(part, &sb), 0);
	ck_assert_int_eq(stat(final, &sb), 0);
	ck_assert_int_eq(sb.st_size, 44 + 144000 * 4);
	check_prefix(final, 11, 144000);
	a = list_one("killed");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	o = cJSON_GetArrayItem(a, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "state")->valuestring, "recovered");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "frames")->valueint, 144000);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "duration_seconds")->valuedouble, 3.0, 1e-9);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "size_bytes")->valueint, 44 + 144000 * 4);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "settings"), "gain")->valueint, 1);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_rec_it_sigkill_loses_at_most_a_second)
{
	nng_socket w = rf_worker(&R);
	pyc_rec_result st;
	char part[1024], final[1024];
	cJSON *a, *o;
	long frames;

	ck_assert_int_eq(rf_rec_start(w, "abrupt", 48000, 2, "{}", &st), 0);
	/* 4 s of audio in real time steps of 100 ms, killed with no warning. */
	for (int b = 0; b < 40; b++) {
		send_frames(w, "abrupt", 12, (uint64_t) b * 4800, 4800);
		pyc_sleep_ms(100);
	}
	snprintf(part, sizeof(part), "%s/%s.part", R.rec_dir, st.filename);
	/* Without any repair, the header is at most ~1 s behind. */
	frames = header_frames(part);
	ck_assert_msg(frames >= 192000 - 48000, "header %ld frames behind", 192000 - frames);
	rf_stop(&R, SIGKILL);
	nng_close(w);
	ck_assert(rf_start(&R));
	snprintf(final, sizeof(final), "%s/%s", R.rec_dir, st.filename);
	a = list_one("abrupt");
	o = cJSON_GetArrayItem(a, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "state")->valuestring, "recovered");
	frames = (long) cJSON_GetObjectItem(o, "frames")->valuedouble;
	ck_assert_msg(frames >= 192000 - 48000 && frames <= 192000, "recovered %ld frames", frames);
	check_prefix(final, 12, frames);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_rec_it_recovery_reconciles)
{
	nng_socket w = rf_worker(&R);
	pyc_rec_result a1, a2;
	char path[1024], orphan[1024], junk[1024];
	struct stat sb;
	cJSON *a;
	FILE *f;
	long long end;

	ck_assert_int_eq(rf_rec_start(w, "recon", 48000, 2, "{}", &a1), 0);
	send_frames(w, "recon", 1, 0, 4800);
	ck_assert_int_eq(rf_rec_stop(w, "recon", &a1), 0);
	ck_assert_int_eq(rf_rec_start(w, "recon", 48000, 2, "{}", &a2), 0);
	send_frames(w, "recon", 2, 0, 4800);
	ck_assert_int_eq(rf_rec_stop(w, "recon", &a2), 0);
	nng_close(w);
	ck_assert_int_eq(WEXITSTATUS(rf_stop(&R, SIGTERM)), 0);

	/* A file removed behind the recorder's back: its row goes. */
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, a1.filename);
	ck_assert_int_eq(unlink(path), 0);
	/* A recording file nobody knows: registered without a session, swept. */
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, a2.filename);
	snprintf(orphan, sizeof(orphan), "%s/rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav",
	    R.rec_dir);
	ck_assert_int_eq(link(path, orphan), 0);
	/* A ".part" with no usable header: removed. */
	snprintf(junk, sizeof(junk), "%s/rec_20260101T000000Z_BBBBBBBBBBBBBBBBBBBBBB.wav.part",
	    R.rec_dir);
	ck_assert((f = fopen(junk, "w")) != NULL);
	fputs("RIFF", f);
	fclose(f);

	ck_assert(rf_start(&R));
	a = list_one("recon");
	ck_assert_int_eq(cJSON_GetArraySize(a), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "filename")->valuestring,
	    a2.filename);
	cJSON_Delete(a);
	ck_assert_int_ne(stat(junk, &sb), 0);
	end = pyc_now_ms() + 5000;
	while (stat(orphan, &sb) == 0 && pyc_now_ms() < end)
		pyc_sleep_ms(100);
	ck_assert_msg(stat(orphan, &sb) != 0, "orphan file not swept");
	ck_assert_int_eq(stat(path, &sb), 0);
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("recorder_crash");
	TCase *tc = tcase_create("crash");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rec_it_sigkill_recovery);
	tcase_add_test(tc, test_rec_it_sigkill_loses_at_most_a_second);
	tcase_add_test(tc, test_rec_it_recovery_reconciles);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pyc_check_run(crash_suite());
}
