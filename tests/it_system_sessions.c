/* it_system_sessions.c - sessions across connections: grace-period resume,
 * takeover (4001), clean-up after the grace period, isolation of listings,
 * and twenty sessions recording different signals at once.
 *
 * NOTES: SESSION_GRACE_SECONDS=1 so the clean-up is seen quickly; a resume
 * reconnects at once. The twenty sessions are served round-robin from one
 * thread, each sending its own noise; each downloaded file must be exactly
 * its own session's samples.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "it_system_util.h"

static sys S;

static int list_count(const char *sid)
{
	char path[256];
	gw_http_resp r;
	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	cJSON *j = cJSON_Parse(r.body);
	ck_assert(cJSON_IsArray(j));
	int n = cJSON_GetArraySize(j);
	cJSON_Delete(j);
	gw_http_free(&r);
	return n;
}

static void send_noise(gw_tc *c, uint32_t *seed, int chunks, int16_t *keep)
{
	int16_t pcm[960 * 2];
	for (int i = 0; i < chunks; i++) {
		sig_noise(pcm, 960 * 2, seed, 10000);
		if (keep != NULL)
			memcpy(keep + (size_t) i * 960 * 2, pcm, sizeof(pcm));
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
	}
}

static char *stop_and_saved(gw_tc *c, char *fname, size_t cap)
{
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"stop_record\"}"), 0);
	char *m = gw_tc_recv_match(c, "recording_saved", 15000);
	ck_assert_msg(m != NULL, "no recording_saved");
	ck_assert(json_str(m, "filename", fname, cap));
	return m;
}

START_TEST(test_system_resume_within_grace)
{
	char sid[64], fname[160];
	uint32_t seed = 1;
	int16_t *all = malloc(40 * 960 * 2 * 2);
	sys_mksid(sid, sizeof(sid), "resume");
	gw_tc *c = sys_open_init(&S, sid, 48000, 2);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	send_noise(c, &seed, 20, all);
	char *m = gw_tc_recv_match(c, "\"meter\"", 5000);
	ck_assert_ptr_nonnull(m);
	free(m);
	gw_tc_service(c, 200); /* let the last chunks reach the worker */
	gw_tc_destroy(c);

	c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	send_noise(c, &seed, 20, all + 20 * 960 * 2);
	m = stop_and_saved(c, fname, sizeof(fname));
	double dur;
	ck_assert(json_num(m, "duration_seconds", &dur));
	ck_assert_double_eq_tol(dur, 40 * 960 / 48000.0, 1e-3);
	free(m);

	/* one file, both halves, in order */
	char path[256];
	gw_http_resp r;
	snprintf(path, sizeof(path), "/recordings/%s", fname);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	int rate, ch;
	size_t dlen;
	const uint8_t *d = wav_data(r.body, r.body_len, &rate, &ch, &dlen);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(dlen, 40 * 960 * 2 * 2);
	ck_assert(memcmp(d, all, dlen) == 0);
	gw_http_free(&r);
	free(all);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_takeover_4001)
{
	char sid[64];
	uint32_t seed = 5;
	sys_mksid(sid, sizeof(sid), "takeover");
	gw_tc *a = sys_open_init(&S, sid, 48000, 2);
	gw_tc *b = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(gw_tc_wait_close(a, 5000), 4001);
	send_noise(b, &seed, 2, NULL);
	char *m = gw_tc_recv_match(b, "\"meter\"", 5000);
	ck_assert_ptr_nonnull(m);
	free(m);
	gw_tc_destroy(a);
	gw_tc_destroy(b);
}
END_TEST

START_TEST(test_system_cleanup_after_grace)
{
	char sid[64], fname[160];
	uint32_t seed = 9;
	sys_mksid(sid, sizeof(sid), "cleanup");
	gw_tc *c = sys_open_init(&S, sid, 48000, 2);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	send_noise(c, &seed, 10, NULL);
	free(stop_and_saved(c, fname, sizeof(fname)));
	/* a second recording left running: finalised, then deleted too */
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	send_noise(c, &seed, 10, NULL);
	gw_tc_service(c, 300);
	ck_assert_int_ge(list_count(sid), 1);
	gw_tc_destroy(c);
	long long end = pyc_now_ms() + 10000;
	int n = -1;
	while (pyc_now_ms() < end && (n = list_count(sid)) != 0)
		pyc_sleep_ms(200);
	ck_assert_int_eq(n, 0);
	char path[256];
	gw_http_resp r;
	snprintf(path, sizeof(path), "/recordings/%s", fname);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 404);
	gw_http_free(&r);
}
END_TEST

START_TEST(test_system_listing_isolated)
{
	char p[64], q[64], fname[160];
	uint32_t seed = 3;
	sys_mksid(p, sizeof(p), "iso-p");
	sys_mksid(q, sizeof(q), "iso-q");
	gw_tc *a = sys_open_init(&S, p, 48000, 2);
	gw_tc *b = sys_open_init(&S, q, 48000, 2);
	ck_assert_int_eq(gw_tc_send_text(a, "{\"action\":\"start_record\"}"), 0);
	send_noise(a, &seed, 5, NULL);
	free(stop_and_saved(a, fname, sizeof(fname)));
	ck_assert_int_eq(list_count(p), 1);
	ck_assert_int_eq(list_count(q), 0);
	gw_tc_destroy(a);
	gw_tc_destroy(b);
}
END_TEST

#define N20 20
#define CH20 25

START_TEST(test_system_twenty_sessions_recording)
{
	gw_tc *c[N20];
	char sid[N20][64], fname[N20][160];
	int16_t *sent[N20];
	uint32_t seed[N20];
	int16_t pcm[960 * 2];
	for (int i = 0; i < N20; i++) {
		sys_mksid(sid[i], sizeof(sid[i]), "twenty");
		c[i] = sys_open_init(&S, sid[i], 48000, 2);
		ck_assert_int_eq(gw_tc_send_text(c[i], "{\"action\":\"start_record\"}"), 0);
		sent[i] = malloc((size_t) CH20 * sizeof(pcm));
		seed[i] = 1000u + (uint32_t) i * 7919u;
	}
	for (int k = 0; k < CH20; k++) {
		for (int i = 0; i < N20; i++) {
			sig_noise(pcm, 960 * 2, &seed[i], 3000 + 1000 * i);
			memcpy(sent[i] + (size_t) k * 960 * 2, pcm, sizeof(pcm));
			gw_tc_queue_binary(c[i], pcm, sizeof(pcm));
			gw_tc_service(c[i], 1);
		}
	}
	for (int i = 0; i < N20; i++)
		free(stop_and_saved(c[i], fname[i], sizeof(fname[i])));
	for (int i = 0; i < N20; i++) {
		char path[512];
		gw_http_resp r;
		int rate, ch;
		size_t dlen;
		ck_assert_int_eq(list_count(sid[i]), 1);
		snprintf(path, sizeof(path), "/recordings/%.159s", fname[i]);
		ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
		ck_assert_int_eq(r.status, 200);
		const uint8_t *d = wav_data(r.body, r.body_len, &rate, &ch, &dlen);
		ck_assert_ptr_nonnull(d);
		ck_assert_uint_eq(dlen, (size_t) CH20 * sizeof(pcm));
		ck_assert_msg(memcmp(d, sent[i], dlen) == 0, "session %d: file is not its signal", i);
		gw_http_free(&r);
		free(sent[i]);
		gw_tc_destroy(c[i]);
	}
}
END_TEST

int main(void)
{
	static const char *const extra[] = {"SESSION_GRACE_SECONDS=1", "DSP_POOL_SPARE=8", NULL};
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_sessions");
	TCase *tc = sys_tcase(s, "sessions", 60);
	tcase_add_test(tc, test_system_resume_within_grace);
	tcase_add_test(tc, test_system_takeover_4001);
	tcase_add_test(tc, test_system_cleanup_after_grace);
	tcase_add_test(tc, test_system_listing_isolated);
	tcase_add_test(tc, test_system_twenty_sessions_recording);
	return sys_run(&S, s);
}
