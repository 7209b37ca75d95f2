/* it_faults_disk.c - disk full and I/O errors under the recorder, through
 * the whole system, with the failio.c shim.
 *
 * NOTES: every process runs with failio.so preloaded; the control file
 * names the recordings folder, so only the recorder's WAV writes are
 * touched (the database is left alone: match=.wav). The fault is switched
 * on while a session records and another streams: the recording session
 * must get recording_failed, the other nothing but meters; every
 * final-named WAV in the folder must be whole (readable, as many frames as
 * its row says) and no .part may be left once the recording has failed;
 * the recorder keeps answering lists and health; a start_record while the
 * fault lasts is refused with recording_failed; once the fault is off a new
 * recording is saved with every frame sent. Run for ENOSPC, then for EIO
 * (which also fails fsync/fdatasync).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sndfile.h>

#include "it_system_util.h"

static sys S;
static char ctl[128];

static void fault(const char *mode)
{
	FILE *f = fopen(ctl, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "dir=%s/recordings mode=%s match=.wav\n", S.dir, mode);
	fclose(f);
}

static void stream(gw_tc *c, uint32_t *seed, int chunks)
{
	int16_t pcm[960 * 2];
	for (int i = 0; i < chunks; i++) {
		sig_noise(pcm, 960 * 2, seed, 4000);
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
		pyc_sleep_ms(20);
	}
}

static long wav_frames(const char *path)
{
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (f == NULL)
		return -1;
	sf_close(f);
	return (long) info.frames;
}

/* Every final-named WAV of the session is whole and matches its row. */
static int check_folder(const char *sid)
{
	gw_http_resp r;
	char path[512];
	int n = 0;
	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	cJSON *a = cJSON_Parse(r.body), *o;
	gw_http_free(&r);
	ck_assert_ptr_nonnull(a);
	cJSON_ArrayForEach(o, a)
	{
		const char *name = cJSON_GetObjectItem(o, "filename")->valuestring;
		const char *state = cJSON_GetObjectItem(o, "state")->valuestring;
		long frames = (long) cJSON_GetObjectItem(o, "frames")->valuedouble;
		snprintf(path, sizeof(path), "%s/recordings/%s", S.dir, name);
		long got = wav_frames(path);
		printf("%s: %s, %ld frames in the row, %ld in the file\n", name, state, frames, got);
		ck_assert_msg(got == frames, "%s (%s): row %ld frames, file %ld", name, state, frames, got);
		n++;
	}
	cJSON_Delete(a);
	sys_expect_no_part_files(&S);
	return n;
}

static void disk_fault(const char *mode, const char *why)
{
	char a[96], b[96], c2[96];
	uint32_t sa = 1, sb = 2, sc = 3;
	sys_mksid(a, sizeof(a), "fullA");
	sys_mksid(b, sizeof(b), "fullB");
	sys_mksid(c2, sizeof(c2), "fullC");
	fault("off");
	gw_tc *ca = sys_open_init(&S, a, 48000, 2);
	gw_tc *cb = sys_open_init(&S, b, 48000, 2);
	ck_assert_int_eq(gw_tc_send_text(ca, "{\"action\":\"start_record\"}"), 0);
	stream(ca, &sa, 20);
	stream(cb, &sb, 5);
	gw_tc_discard(cb);
	fault(mode);
	char *m = NULL;
	long long end = pyc_now_ms() + 8000;
	while (m == NULL && pyc_now_ms() < end) {
		stream(ca, &sa, 2);
		stream(cb, &sb, 2);
		m = gw_tc_recv_match(ca, "recording_failed", 50);
	}
	ck_assert_msg(m != NULL, "%s: no recording_failed", mode);
	printf("%s: %s\n", mode, m);
	ck_assert_msg(strstr(m, why) != NULL, "%s: expected \"%s\"", mode, why);
	free(m);
	/* the other session saw nothing but meters */
	char *t;
	int meters = 0;
	while ((t = gw_tc_recv_text(cb, 200)) != NULL) {
		ck_assert_msg(strstr(t, "\"error\"") == NULL, "other session got %s", t);
		meters++;
		free(t);
	}
	ck_assert_int_gt(meters, 0);
	/* a new recording is refused while the fault lasts */
	gw_tc *cc = sys_open_init(&S, c2, 48000, 2);
	ck_assert_int_eq(gw_tc_send_text(cc, "{\"action\":\"start_record\"}"), 0);
	stream(cc, &sc, 3);
	m = gw_tc_recv_match(cc, "recording_failed", 5000);
	ck_assert_msg(m != NULL, "%s: start_record on a failing disk not refused", mode);
	free(m);
	/* the failed recording is whole, and nothing half-written is left */
	pyc_sleep_ms(500);
	ck_assert_int_eq(check_folder(a), 1);
	sys_http_expect(&S, "GET", "/health", NULL, 200, NULL);
	/* space is back: a new recording is saved with every frame */
	fault("off");
	ck_assert_int_eq(gw_tc_send_text(cc, "{\"action\":\"stop_record\"}"), 0);
	gw_tc_discard(cc);
	ck_assert_int_eq(gw_tc_send_text(cc, "{\"action\":\"start_record\"}"), 0);
	stream(cc, &sc, 25);
	ck_assert_int_eq(gw_tc_send_text(cc, "{\"action\":\"stop_record\"}"), 0);
	m = gw_tc_recv_match(cc, "recording_saved", 10000);
	ck_assert_msg(m != NULL, "%s: no recording_saved once the fault is gone", mode);
	double dur;
	ck_assert(json_num(m, "duration_seconds", &dur));
	ck_assert_double_eq_tol(dur, 25 * 960 / 48000.0, 1e-6);
	free(m);
	ck_assert_int_ge(check_folder(c2), 1);
	gw_tc_destroy(ca);
	gw_tc_destroy(cb);
	gw_tc_destroy(cc);
}

START_TEST(test_faults_disk_full)
{
	disk_fault("enospc", "disk full");
}
END_TEST

START_TEST(test_faults_disk_eio)
{
	disk_fault("eio", "write error");
}
END_TEST

int main(void)
{
	char pre[300], ctlenv[200];
	snprintf(ctl, sizeof(ctl), "/tmp/pyc-failio-%d.ctl", (int) getpid());
	FILE *f = fopen(ctl, "w");
	if (f != NULL)
		fclose(f);
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s/tests/faults/failio.so", PYC_BINARY_DIR);
	snprintf(ctlenv, sizeof(ctlenv), "PYC_FAILIO_CTL=%s", ctl);
	const char *const extra[] = {pre, ctlenv,
	    "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1", NULL};
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("faults_disk");
	TCase *tc = sys_tcase(s, "disk", 60);
	tcase_add_test(tc, test_faults_disk_full);
	tcase_add_test(tc, test_faults_disk_eio);
	int rv = sys_run(&S, s);
	unlink(ctl);
	return rv;
}
