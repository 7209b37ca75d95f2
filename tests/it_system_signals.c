/* it_system_signals.c - meter values for known signals and recordings
 * compared sample for sample, through the whole system.
 *
 * NOTES: 48 kHz stereo, chunks of 4800 frames (100 ms) and integration 0,
 * so each meter is the RMS of one chunk; the level is read after the
 * filter has settled. Expected values: the mono-mix RMS of a sine of
 * amplitude A is 20 log10(A) - 3.01 dBFS; +6 dB of gain adds 6 dB; the
 * 4th-order Butterworth low-pass (bilinear, pre-warped) attenuates a tone
 * at f by 10 log10(1 + (tan(pi f/fs) / tan(pi fc/fs))^8).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "it_system_util.h"

#define RATE 48000
#define CHUNK 4800

static sys S;

static gw_tc *open_session(const char *tag, char *sid, size_t cap)
{
	static int n;
	snprintf(sid, cap, "%s-%d-%lld", tag, ++n, pyc_now_ms() % 1000000);
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":2}"), 0);
	char *r = gw_tc_recv_match(c, "\"ready\"", 5000);
	ck_assert_ptr_nonnull(r);
	free(r);
	return c;
}

/* Streams n chunks of a sine and returns the last meter (caller frees). */
static char *stream_sine(gw_tc *c, int n, double freq, double amp, double rgain, double *ph)
{
	static int16_t pcm[CHUNK * 2];
	char *last = NULL;
	for (int i = 0; i < n; i++) {
		sig_sine(pcm, CHUNK, 2, RATE, freq, amp, rgain, ph);
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
		char *m = gw_tc_recv_match(c, "\"meter\"", 5000);
		ck_assert_msg(m != NULL, "no meter for chunk %d", i);
		free(last);
		last = m;
	}
	return last;
}

static double meter_rms(const char *m)
{
	double v;
	ck_assert_msg(json_num(m, "rms", &v), "no rms in %s", m);
	return v;
}

START_TEST(test_system_meter_sine_rms)
{
	char sid[64];
	double ph = 0;
	gw_tc *c = open_session("rms", sid, sizeof(sid));
	char *m = stream_sine(c, 5, 1000, 0.5, 1.0, &ph);
	ck_assert_double_eq_tol(meter_rms(m), 20 * log10(0.5) - 3.0103, 0.05);
	double pan;
	ck_assert(json_num(m, "panning", &pan));
	ck_assert_double_eq_tol(pan, 0.0, 1e-3);
	free(m);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_meter_gain_6db)
{
	char sid[64];
	double ph = 0;
	gw_tc *c = open_session("gain", sid, sizeof(sid));
	char *m = stream_sine(c, 3, 1000, 0.25, 1.0, &ph);
	double base = meter_rms(m);
	free(m);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"set_params\",\"gain\":6.0}"), 0);
	m = stream_sine(c, 4, 1000, 0.25, 1.0, &ph);
	ck_assert_double_eq_tol(meter_rms(m) - base, 6.0, 0.05);
	free(m);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_meter_balance)
{
	char sid[64];
	double ph = 0, pan;
	gw_tc *c = open_session("pan", sid, sizeof(sid));
	char *m = stream_sine(c, 3, 500, 0.5, 0.0, &ph); /* left only */
	ck_assert(json_num(m, "panning", &pan));
	ck_assert_double_eq_tol(pan, -1.0, 1e-3);
	free(m);
	m = NULL;
	/* right only: left silent */
	static int16_t pcm[CHUNK * 2];
	for (int k = 0; k < 3; k++) {
		sig_sine(pcm, CHUNK, 2, RATE, 500, 0.5, 1.0, &ph);
		for (int i = 0; i < CHUNK; i++)
			pcm[2 * i] = 0;
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
		free(m);
		m = gw_tc_recv_match(c, "\"meter\"", 5000);
		ck_assert_ptr_nonnull(m);
	}
	ck_assert(json_num(m, "panning", &pan));
	ck_assert_double_eq_tol(pan, 1.0, 1e-3);
	free(m);
	/* half level on the right: (R-L)/(R+L) of the RMS */
	m = stream_sine(c, 3, 500, 0.5, 0.5, &ph);
	ck_assert(json_num(m, "panning", &pan));
	ck_assert_double_eq_tol(pan, (0.5 - 1.0) / 1.5, 2e-3);
	free(m);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_meter_butterworth)
{
	char sid[64];
	double ph = 0;
	const double fc = 1000, f = 2000;
	gw_tc *c = open_session("lpf", sid, sizeof(sid));
	char *m = stream_sine(c, 3, f, 0.5, 1.0, &ph);
	double open = meter_rms(m);
	free(m);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"set_params\",\"filter_enabled\":true,"
					    "\"cutoff_freq\":1000}"), 0);
	m = stream_sine(c, 6, f, 0.5, 1.0, &ph);
	double r = tan(M_PI * f / RATE) / tan(M_PI * fc / RATE);
	double want = 10 * log10(1 + pow(r, 8));
	ck_assert_double_eq_tol(open - meter_rms(m), want, 0.3);
	free(m);
	/* a tone well below the cutoff passes */
	m = stream_sine(c, 4, 100, 0.5, 1.0, &ph);
	ck_assert_double_eq_tol(meter_rms(m), open, 0.1);
	free(m);
	gw_tc_destroy(c);
}
END_TEST

static char *download(const char *fname, const char *range, gw_http_resp *r)
{
	char path[256], hdr[128] = "";
	snprintf(path, sizeof(path), "/recordings/%s", fname);
	if (range != NULL)
		snprintf(hdr, sizeof(hdr), "Range: %s\r\n", range);
	ck_assert_int_eq(sys_http(&S, "GET", path, hdr, r), 0);
	return r->body;
}

/* Records frames of noise and returns the file name; *sent is the PCM. */
static void record_noise(gw_tc *c, uint32_t seed, int chunks, int16_t **sent, size_t *len,
    char *fname, size_t cap)
{
	size_t per = 1000 * 2; /* odd-sized chunks are fine too, but keep frames whole */
	*len = (size_t) chunks * per * 2;
	*sent = malloc(*len);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	for (int i = 0; i < chunks; i++) {
		sig_noise(*sent + (size_t) i * per, per, &seed, 20000);
		ck_assert_int_eq(gw_tc_send_binary(c, *sent + (size_t) i * per, per * 2), 0);
	}
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"stop_record\"}"), 0);
	char *m = gw_tc_recv_match(c, "recording_saved", 15000);
	ck_assert_msg(m != NULL, "no recording_saved");
	ck_assert(json_str(m, "filename", fname, cap));
	free(m);
}

START_TEST(test_system_recording_identical)
{
	char sid[64], fname[160];
	int16_t *sent;
	size_t len, dlen;
	int rate = 0, ch = 0;
	gw_http_resp r;
	gw_tc *c = open_session("ident", sid, sizeof(sid));
	record_noise(c, 12345, 50, &sent, &len, fname, sizeof(fname));
	download(fname, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	char v[256];
	ck_assert(gw_http_header(&r, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "audio/wav");
	ck_assert(gw_http_header(&r, "Content-Disposition", v, sizeof(v)));
	ck_assert(strstr(v, fname) != NULL);
	ck_assert(gw_http_header(&r, "Content-Length", v, sizeof(v)));
	ck_assert_uint_eq(strtoull(v, NULL, 10), r.body_len);
	const uint8_t *d = wav_data(r.body, r.body_len, &rate, &ch, &dlen);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(rate, 48000);
	ck_assert_int_eq(ch, 2);
	ck_assert_uint_eq(dlen, len);
	ck_assert_msg(memcmp(d, sent, len) == 0, "recorded samples differ from those sent");
	gw_http_free(&r);
	free(sent);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_range_download)
{
	char sid[64], fname[160], v[128];
	int16_t *sent;
	size_t len;
	gw_http_resp full, r;
	gw_tc *c = open_session("range", sid, sizeof(sid));
	record_noise(c, 777, 10, &sent, &len, fname, sizeof(fname));
	download(fname, NULL, &full);
	ck_assert_int_eq(full.status, 200);
	size_t size = full.body_len;

	download(fname, "bytes=100-1099", &r);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, 1000);
	ck_assert(memcmp(r.body, full.body + 100, 1000) == 0);
	ck_assert(gw_http_header(&r, "Content-Range", v, sizeof(v)));
	char want[128];
	snprintf(want, sizeof(want), "bytes 100-1099/%zu", size);
	ck_assert_str_eq(v, want);
	gw_http_free(&r);

	download(fname, "bytes=-64", &r);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, 64);
	ck_assert(memcmp(r.body, full.body + size - 64, 64) == 0);
	gw_http_free(&r);

	download(fname, "bytes=1000-", &r);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, size - 1000);
	gw_http_free(&r);

	char rg[64];
	snprintf(rg, sizeof(rg), "bytes=%zu-", size);
	download(fname, rg, &r);
	ck_assert_int_eq(r.status, 416);
	ck_assert(gw_http_header(&r, "Content-Range", v, sizeof(v)));
	snprintf(want, sizeof(want), "bytes */%zu", size);
	ck_assert_str_eq(v, want);
	gw_http_free(&r);

	char path[256];
	snprintf(path, sizeof(path), "/recordings/%s", fname);
	ck_assert_int_eq(sys_http(&S, "HEAD", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(gw_http_header(&r, "Content-Length", v, sizeof(v)));
	ck_assert_uint_eq(strtoull(v, NULL, 10), size);
	ck_assert(gw_http_header(&r, "Accept-Ranges", v, sizeof(v)));
	ck_assert_str_eq(v, "bytes");
	gw_http_free(&r);
	gw_http_free(&full);
	free(sent);
	gw_tc_destroy(c);
}
END_TEST

int main(void)
{
	if (!sys_start(&S, NULL))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_signals");
	TCase *tc = sys_tcase(s, "meters", 40);
	tcase_add_test(tc, test_system_meter_sine_rms);
	tcase_add_test(tc, test_system_meter_gain_6db);
	tcase_add_test(tc, test_system_meter_balance);
	tcase_add_test(tc, test_system_meter_butterworth);
	TCase *rec = sys_tcase(s, "recordings", 40);
	tcase_add_test(rec, test_system_recording_identical);
	tcase_add_test(rec, test_system_range_download);
	return sys_run(&S, s);
}
