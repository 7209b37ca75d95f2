/* it_recorder_enospc.c - a full disk and a read-only folder: error replies, clean files, no crash.
 *
 * NOTES: the recordings folder is a 1 MiB tmpfs mounted by the test
 * (root only; the test exits 77, CTest's skip code, with a message
 * otherwise). The mount and unmount run in an unchecked fixture, in the
 * parent process, so a failing test never leaves a mount behind; the
 * recorder dies with the test process (PR_SET_PDEATHSIG) before that.
 * The database lives outside the small disk: what is tested is audio
 * writing meeting ENOSPC, and the folder turning read-only (EROFS).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it_recorder_util.h"

static char small_dir[512];
static char *base_dir;

static void mount_small(void)
{
	base_dir = pyc_tmpdir_new();
	snprintf(small_dir, sizeof(small_dir), "%s/small", base_dir);
	ck_assert_int_eq(mkdir(small_dir, 0750), 0);
	if (mount("tmpfs", small_dir, "tmpfs", 0, "size=1m,mode=0750") != 0) {
		fprintf(stderr, "mount tmpfs: %s\n", strerror(errno));
		small_dir[0] = '\0';
	}
}

static void unmount_small(void)
{
	if (small_dir[0] != '\0')
		umount2(small_dir, MNT_DETACH);
	pyc_tmpdir_remove(base_dir);
	free(base_dir);
}

static void send_until_error(nng_socket w, const char *sid, pyc_rec_result *err,
    uint64_t *sent)
{
	int16_t pcm[960 * 2];
	long long end = pyc_now_ms() + 10000;

	*sent = 0;
	while (pyc_now_ms() < end) {
		rf_fill(pcm, 21, *sent, 960, 2);
		ck_assert_int_eq(rf_append(w, sid, pcm, 960 * 2), 0);
		*sent += 960;
		if (*sent % (960 * 50) == 0 &&
		    rf_wait_result(w, PYC_MSG_REC_ERROR, 20, err) >= 0)
			return;
		if (*sent > 48000 * 40)
			break;
	}
	ck_assert_int_ge(rf_wait_result(w, PYC_MSG_REC_ERROR, 3000, err), 0);
}

START_TEST(test_rec_it_disk_full_and_read_only)
{
	rf_recorder R;
	nng_socket wa, wb, wc, g;
	pyc_rec_result ra, rb, rc, err;
	uint64_t sent;
	char path[1024], *json;
	int16_t pcm[960 * 2], *back;
	int rate, ch;
	long n;

	ck_assert_msg(small_dir[0] != '\0', "could not mount a tmpfs");
	rf_init(&R, NULL);
	snprintf(R.rec_dir, sizeof(R.rec_dir), "%s", small_dir);
	ck_assert(rf_start(&R));
	wa = rf_worker(&R);
	wb = rf_worker(&R);
	wc = rf_worker(&R);
	g = rf_gateway(&R);

	/* B records a little while there is room. */
	ck_assert_int_eq(rf_rec_start(wb, "bee", 48000, 2, "{}", &rb), 0);
	rf_fill(pcm, 22, 0, 960, 2);
	ck_assert_int_eq(rf_append(wb, "bee", pcm, 960 * 2), 0);
	ck_assert_int_eq(rf_rec_stop(wb, "bee", &rb), 0);
	ck_assert_uint_eq(rb.frames, 960);

	/* A fills the disk: one rec_error, a clean file, state failed. */
	ck_assert_int_eq(rf_rec_start(wa, "ant", 48000, 2, "{}", &ra), 0);
	send_until_error(wa, "ant", &err, &sent);
	ck_assert_int_eq(err.status, PYC_ENOSPC);
	ck_assert_str_eq(err.code, "recording_failed");
	ck_assert_str_eq(err.message, "disk full");
	ck_assert_str_eq(err.filename, ra.filename);
	ck_assert_int_eq(rf_rec_stop(wa, "ant", &ra), PYC_ENOSPC);
	ck_assert_str_eq(ra.code, "recording_failed");
	ck_assert(ra.frames > 0 && ra.frames < sent);
	ck_assert_uint_eq(ra.size_bytes, 44 + ra.frames * 4);
	snprintf(path, sizeof(path), "%s/%s", small_dir, ra.filename);
	n = rf_wav_read(path, &rate, &ch, &back);
	ck_assert_int_eq(n, (long) ra.frames);
	for (long i = 0; i < n; i++)
		if (back[i * 2] != rf_sample(21, (uint64_t) i, 0) ||
		    back[i * 2 + 1] != rf_sample(21, (uint64_t) i, 1))
			ck_abort_msg("frame %ld of the failed recording differs", i);
	free(back);
	ck_assert_int_eq(rf_list(g, "ant", 0, 10, &json), 0);
	ck_assert(strstr(json, "\"state\":\"failed\"") != NULL);
	free(json);
	/* B's file is untouched. */
	snprintf(path, sizeof(path), "%s/%s", small_dir, rb.filename);
	n = rf_wav_read(path, &rate, &ch, &back);
	ck_assert_int_eq(n, 960);
	free(back);

	/* A new recording on the full disk is refused at start. */
	ck_assert_int_eq(rf_rec_start(wc, "cat", 48000, 2, "{}", &rc), PYC_ENOSPC);
	ck_assert_str_eq(rc.code, "recording_failed");
	ck_assert_str_eq(rc.message, "disk full");
	ck_assert_int_eq(rf_health(g, &json), 0);
	ck_assert(strstr(json, "\"status\":\"ok\"") != NULL);
	free(json);
	/* Room again after a delete. */
	ck_assert_int_eq(rf_delete(g, ra.filename), 0);
	ck_assert_int_eq(rf_rec_start(wc, "cat", 48000, 2, "{}", &rc), 0);
	ck_assert_int_eq(rf_append(wc, "cat", pcm, 960 * 2), 0);
	ck_assert_int_eq(rf_rec_stop(wc, "cat", &rc), 0);
	ck_assert_uint_eq(rc.frames, 960);

	/* A folder that turned read-only. */
	ck_assert_int_eq(mount(NULL, small_dir, NULL, MS_REMOUNT | MS_RDONLY, "size=1m"), 0);
	ck_assert_int_eq(rf_rec_start(wc, "cat", 48000, 2, "{}", &rc), PYC_EPERM);
	ck_assert_str_eq(rc.code, "recording_failed");
	ck_assert_str_eq(rc.message, "recordings folder not writable");
	ck_assert_int_eq(rf_list(g, "cat", 0, 10, &json), 0);
	ck_assert(strstr(json, "\"state\":\"complete\"") != NULL);
	free(json);
	ck_assert(pyc_proc_alive(&R.proc));

	nng_close(wa);
	nng_close(wb);
	nng_close(wc);
	nng_close(g);
	rf_fini(&R);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (geteuid() != 0) {
		printf("it_recorder_enospc: skipped, mounting a small tmpfs needs root\n");
		return 77;
	}
	s = suite_create("recorder_enospc");
	tc = tcase_create("disk");
	tcase_add_unchecked_fixture(tc, mount_small, unmount_small);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rec_it_disk_full_and_read_only);
	suite_add_tcase(s, tc);
	return pyc_check_run(s);
}
