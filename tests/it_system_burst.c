/* it_system_burst.c - a client that sends everything at once: commands and
 * audio back-to-back with no pacing must reach the worker whole and in
 * order.
 *
 * NOTES: the gateway keeps at most two messages unanswered per worker
 * (nng's polyamorous socket drops beyond that, docs/wire.md "Flow
 * control"); the rest waits in the session's queue. These tests queue
 * the whole exchange in the client before serving it, so everything
 * arrives at the gateway in a few reads, and then check that every chunk
 * was analysed (the last meter's seq is the last chunk) and recorded
 * (the file holds exactly the samples sent, in order). Default parameters
 * (gain 0 dB, filter off) leave the samples unchanged. A burst leaves many
 * messages queued when a place in the window frees, so the gateway sends
 * them as batches (PYC_MSG_BATCH): the first test checks on /metrics that
 * batches went out while the recording still holds every chunk, and that
 * each chunk's meter was received, merged into a later one (a batch is
 * answered by one meter) or replaced, as /metrics counts them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_system_util.h"

#define FRAMES 960
#define CH 2

static sys S;

/* Reads what the client gets until a meter with seq want arrived (older
 * meters may be replaced by newer ones on the way; the newest always
 * arrives) and nsaved recording_saved events, whose filenames go to
 * fname[]. Fails on an error event. Returns the meters received. */
static int collect(gw_tc *c, double want, int nsaved, char fname[][160])
{
	double seq = 0;
	int saved = 0, meters = 0;
	long long end = pyc_now_ms() + 15000;
	while ((seq < want || saved < nsaved) && pyc_now_ms() < end) {
		char type[32] = "";
		char *m = gw_tc_recv_text(c, 1000);
		if (m == NULL)
			continue;
		ck_assert(json_str(m, "type", type, sizeof(type)));
		ck_assert_msg(strcmp(type, "error") != 0, "error: %s", m);
		if (strcmp(type, "meter") == 0) {
			double s;
			ck_assert(json_num(m, "seq", &s));
			ck_assert_msg(s > seq, "meter %.0f after %.0f", s, seq);
			seq = s;
			meters++;
		} else if (strcmp(type, "recording_saved") == 0) {
			ck_assert_int_lt(saved, nsaved);
			ck_assert(json_str(m, "filename", fname[saved], 160));
			saved++;
		}
		free(m);
	}
	ck_assert_msg(seq == want, "last meter seq %.0f, want %.0f", seq, want);
	ck_assert_int_eq(saved, nsaved);
	return meters;
}

/* A counter from the gateway's /metrics. */
static double counter(const char *name)
{
	gw_http_resp r;
	double v = -1;
	size_t len = strlen(name);
	ck_assert_int_eq(sys_http(&S, "GET", "/metrics", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	for (char *line = strtok(r.body, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (strncmp(line, name, len) == 0 && line[len] == ' ')
			v = strtod(line + len + 1, NULL);
	gw_http_free(&r);
	ck_assert_msg(v >= 0, "no %s in /metrics", name);
	return v;
}

static void expect_file(const char *fname, const int16_t *want, size_t chunks)
{
	char path[256];
	gw_http_resp r;
	int rate, ch;
	size_t dlen;
	snprintf(path, sizeof(path), "/recordings/%s", fname);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	const uint8_t *d = wav_data(r.body, r.body_len, &rate, &ch, &dlen);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(rate, 48000);
	ck_assert_int_eq(ch, CH);
	ck_assert_uint_eq(dlen, chunks * FRAMES * CH * sizeof(int16_t));
	ck_assert_msg(memcmp(d, want, dlen) == 0, "%s: not the samples sent", fname);
	gw_http_free(&r);
}

START_TEST(test_system_burst_all_chunks_recorded)
{
	const int n = 40;
	char sid[64], fname[1][160];
	uint32_t seed = 11;
	int16_t *all = malloc((size_t) n * FRAMES * CH * sizeof(int16_t));
	ck_assert_ptr_nonnull(all);
	double batches0 = counter("pyc_worker_batches_total");
	double merged0 = counter("pyc_meters_merged_total");
	double dropped0 = counter("pyc_meters_dropped_total");
	sys_mksid(sid, sizeof(sid), "burst");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	gw_tc_queue_text(c, "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":2}");
	gw_tc_queue_text(c, "{\"action\":\"set_params\",\"gain\":0,\"filter_enabled\":false}");
	gw_tc_queue_text(c, "{\"action\":\"start_record\"}");
	for (int i = 0; i < n; i++) {
		int16_t *pcm = all + (size_t) i * FRAMES * CH;
		sig_noise(pcm, FRAMES * CH, &seed, 12000);
		gw_tc_queue_binary(c, pcm, FRAMES * CH * sizeof(int16_t));
	}
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"stop_record\"}"), 0);

	int meters = collect(c, n, 1, fname);
	expect_file(fname[0], all, (size_t) n);
	double batches1 = counter("pyc_worker_batches_total");
	ck_assert_msg(batches1 > batches0, "no batch sent during the burst (%.0f -> %.0f)",
	    batches0, batches1);
	double merged = counter("pyc_meters_merged_total") - merged0;
	double dropped = counter("pyc_meters_dropped_total") - dropped0;
	ck_assert_msg(merged > 0, "batches of chunks went out but no meter was merged");
	ck_assert_msg((double) meters + merged + dropped == (double) n,
	    "meters received %d + merged %.0f + replaced %.0f != chunks %d", meters, merged, dropped,
	    n);
	free(all);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_burst_commands_keep_their_place)
{
	const int n = 20;
	char sid[64], f[2][160];
	uint32_t seed = 12;
	int16_t *all = malloc((size_t) 2 * n * FRAMES * CH * sizeof(int16_t));
	ck_assert_ptr_nonnull(all);
	sys_mksid(sid, sizeof(sid), "order");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	gw_tc_queue_text(c, "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":2}");
	for (int k = 0; k < 2; k++) {
		gw_tc_queue_text(c, "{\"action\":\"start_record\"}");
		for (int i = 0; i < n; i++) {
			int16_t *pcm = all + ((size_t) k * n + (size_t) i) * FRAMES * CH;
			sig_noise(pcm, FRAMES * CH, &seed, 12000);
			gw_tc_queue_binary(c, pcm, FRAMES * CH * sizeof(int16_t));
		}
		gw_tc_queue_text(c, "{\"action\":\"stop_record\"}");
		/* audio outside the recordings */
		int16_t gap[FRAMES * CH];
		sig_noise(gap, FRAMES * CH, &seed, 12000);
		gw_tc_queue_binary(c, gap, sizeof(gap));
	}
	gw_tc_service(c, 50);

	collect(c, 2 * n + 2, 2, f);
	ck_assert_str_ne(f[0], f[1]);
	expect_file(f[0], all, (size_t) n);
	expect_file(f[1], all + (size_t) n * FRAMES * CH, (size_t) n);
	free(all);
	gw_tc_destroy(c);
}
END_TEST

int main(void)
{
	if (!sys_start(&S, NULL))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_burst");
	TCase *tc = sys_tcase(s, "burst", 60);
	tcase_add_test(tc, test_system_burst_all_chunks_recorded);
	tcase_add_test(tc, test_system_burst_commands_keep_their_place);
	return sys_run(&S, s);
}
