/* check_dw_pipeline.c - the whole engine through its public API (dw_pipeline.h).
 *
 * NOTES: tolerances. Pass-through at 0 dB with the filter off and any
 * chunking are checked bit for bit (memcmp). Gain accuracy: the output/
 * input RMS ratio of a sine after the ramp is within 0.01 dB of the gain
 * asked for. The gain ramp's largest output step stays below 1.25 times
 * the tone's own largest step at the higher gain. Saturation: no output
 * sample ever has the opposite sign of its input (no wrap).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_dw_util.h"
#include "dw_pipeline.h"
#include "pyc_testproc.h"

static dw_pipeline *make(int rate, int ch)
{
	pyc_params p;
	dw_pipeline *pl = NULL;
	pyc_params_defaults(&p);
	p.sample_rate = rate;
	p.channels = ch;
	ck_assert_int_eq(dw_pipeline_create(&p, &pl), PYC_OK);
	return pl;
}

static void set1(dw_pipeline *pl, uint32_t bit, pyc_params *v)
{
	v->mask = bit;
	ck_assert_int_eq(dw_pipeline_set_params(pl, v), PYC_OK);
}

static int16_t *noise(size_t n, unsigned seed)
{
	int16_t *s = malloc(n * sizeof(*s));
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s[i] = (int16_t) (x & 0xffff);
	}
	s[0] = -32768;
	s[1] = 32767;
	return s;
}

START_TEST(test_dw_pipeline_passthrough_bit_exact)
{
	for (int ch = 1; ch <= 2; ch++) {
		dw_pipeline *pl = make(44100, ch);
		const size_t n = 100000 / (size_t) ch * (size_t) ch;
		int16_t *in = noise(n, 7), *out = malloc(n * sizeof(int16_t));
		uint8_t *b = pack_le(in, n);
		size_t frames;
		ck_assert_int_eq(dw_pipeline_process(pl, b, 2 * n, out, &frames), PYC_OK);
		ck_assert_uint_eq(frames, n / (size_t) ch);
		ck_assert_int_eq(memcmp(in, out, n * sizeof(int16_t)), 0);
		dw_meter m;
		dw_pipeline_meter(pl, &m);
		ck_assert_uint_eq(m.clips[0], 0);
		ck_assert_uint_eq(m.clips[1], 0);
		ck_assert_uint_eq(m.frames_total, frames);
		ck_assert_double_eq(m.peak_db[0], 0.0);
		free(in);
		free(out);
		free(b);
		dw_pipeline_destroy(pl);
	}
}
END_TEST

START_TEST(test_dw_pipeline_partial_frame_dropped)
{
	dw_pipeline *pl = make(48000, 2);
	uint8_t b[7] = { 1, 0, 2, 0, 3, 0, 4 };
	int16_t out[4] = { 99, 99, 99, 99 };
	size_t frames = 42;
	ck_assert_int_eq(dw_pipeline_process(pl, b, 7, out, &frames), PYC_OK);
	ck_assert_uint_eq(frames, 1);
	ck_assert_int_eq(out[0], 1);
	ck_assert_int_eq(out[1], 2);
	ck_assert_int_eq(out[2], 99);
	ck_assert_int_eq(dw_pipeline_process(pl, b, 3, NULL, &frames), PYC_OK);
	ck_assert_uint_eq(frames, 0);
	ck_assert_int_eq(dw_pipeline_process(pl, NULL, 0, NULL, NULL), PYC_OK);
	ck_assert_int_eq(dw_pipeline_process(pl, b, 4, NULL, NULL), PYC_OK);
	dw_meter m;
	dw_pipeline_meter(pl, &m);
	ck_assert_uint_eq(m.frames_total, 2);
	ck_assert_uint_eq(m.frames_analysed, 2);
	ck_assert_int_eq(m.channels, 2);
	dw_pipeline_destroy(pl);
}
END_TEST

/* Runs the golden-ish signal through the whole chain in chunks of `chunk`
 * frames with parameter changes at fixed frames; returns the output. */
static int16_t *chain_run(size_t chunk, size_t frames, float *bands_out)
{
	pyc_params p;
	dw_pipeline *pl;
	pyc_params_defaults(&p);
	p.sample_rate = 48000;
	p.bands = 48;
	p.waveform_points = 64;
	p.integration_s = 0.2;
	ck_assert_int_eq(dw_pipeline_create(&p, &pl), PYC_OK);
	int16_t *in = noise(2 * frames, 3);
	for (size_t i = 0; i < 2 * frames; i++)
		in[i] = (int16_t) (in[i] / 4 + 6000.0 * sin(0.01 * (double) i));
	uint8_t *b = pack_le(in, 2 * frames);
	int16_t *out = malloc(2 * frames * sizeof(int16_t));
	for (size_t done = 0; done < frames;) {
		size_t n = frames - done < chunk ? frames - done : chunk;
		/* Changes land on multiples of 7168 = 7 * 1024 frames. */
		if (done % 7168 + n > 7168)
			n = 7168 - done % 7168;
		switch (done) {
		case 7168: p.filter_enabled = 1; set1(pl, PYC_P_FILTER, &p); break;
		case 14336: p.gain_db = 9.5; set1(pl, PYC_P_GAIN, &p); break;
		case 21504: p.cutoff_hz = 300; set1(pl, PYC_P_CUTOFF, &p); break;
		case 28672: p.filter_order = 7; set1(pl, PYC_P_ORDER, &p); break;
		case 35840: p.gain_db = -20; set1(pl, PYC_P_GAIN, &p); break;
		case 43008: p.filter_enabled = 0; set1(pl, PYC_P_FILTER, &p); break;
		default: break;
		}
		size_t got;
		ck_assert_int_eq(dw_pipeline_process(pl, b + 4 * done, 4 * n, out + 2 * done, &got), PYC_OK);
		ck_assert_uint_eq(got, n);
		if ((done / 1000) % 3 == 0) {
			dw_meter m;
			dw_pipeline_meter(pl, &m);
		}
		done += n;
	}
	dw_meter m;
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.bands, 48);
	ck_assert_int_eq(m.spectrum_valid, 1);
	memcpy(bands_out, m.band_db, 48 * sizeof(float));
	memcpy(bands_out + 48, m.spectrum01, 32 * sizeof(float));
	memcpy(bands_out + 80, m.waveform, 128 * sizeof(float));
	free(in);
	free(b);
	dw_pipeline_destroy(pl);
	return out;
}

START_TEST(test_dw_pipeline_chunking_invariant)
{
	const size_t frames = 50000;
	const size_t sizes[] = { 100000, 1, 7, 128, 1024 };
	float ref_b[208], b[208];
	int16_t *ref = chain_run(sizes[0], frames, ref_b);
	for (int s = 1; s < 5; s++) {
		int16_t *out = chain_run(sizes[s], frames, b);
		ck_assert_int_eq(memcmp(ref, out, 2 * frames * sizeof(int16_t)), 0);
		ck_assert_int_eq(memcmp(ref_b, b, sizeof(b)), 0);
		free(out);
	}
	/* Not a tautology: the changes did change the audio. */
	int16_t *in = noise(2 * frames, 3);
	int differ = 0;
	for (size_t i = 0; i < 2 * frames; i++)
		differ += ref[i] != (int16_t) (in[i] / 4 + 6000.0 * sin(0.01 * (double) i));
	ck_assert_int_gt(differ, (int) frames);
	free(in);
	free(ref);
}
END_TEST

static double rms_of(const int16_t *s, size_t from, size_t to, int stride)
{
	double acc = 0.0;
	for (size_t i = from; i < to; i++)
		acc += (double) s[i * (size_t) stride] * s[i * (size_t) stride];
	return sqrt(acc / (double) (to - from));
}

START_TEST(test_dw_pipeline_gain_accuracy)
{
	const double gains[] = { 6.0, -6.0, 0.5, 20.0, -40.0, -60.0, 0.01 };
	const size_t n = 48000;
	for (size_t g = 0; g < sizeof(gains) / sizeof(gains[0]); g++) {
		dw_pipeline *pl = make(48000, 2);
		double amp = gains[g] > 0 ? 3000.0 : 30000.0;
		int16_t *in = make_sine(n, 2, 1000.0, 48000.0, amp, amp, 0.0);
		int16_t *out = malloc(2 * n * sizeof(int16_t));
		uint8_t *b = pack_le(in, 2 * n);
		pyc_params p;
		p.gain_db = gains[g];
		set1(pl, PYC_P_GAIN, &p);
		ck_assert_int_eq(dw_pipeline_process(pl, b, 4 * n, out, NULL), PYC_OK);
		/* After the 10 ms ramp, over whole periods (48 frames). */
		double gi = rms_of(in, 4800, n, 2), go = rms_of(out, 4800, n, 2);
		double tol = gains[g] <= -60.0 ? 0.05 : 0.01; /* 1-LSB output */
		ck_assert_double_eq_tol(20.0 * log10(go / gi), gains[g], tol);
		pyc_params q;
		dw_pipeline_params(pl, &q);
		ck_assert_double_eq(q.gain_db, gains[g]);
		free(in);
		free(out);
		free(b);
		dw_pipeline_destroy(pl);
	}
}
END_TEST

START_TEST(test_dw_pipeline_gain_ramp_no_zipper)
{
	const size_t n = 9600;
	const double amp = 3000.0, f = 200.0;
	dw_pipeline *pl = make(48000, 1);
	int16_t *in = make_sine(n, 1, f, 48000.0, amp, 0, 0);
	int16_t *out = malloc(n * sizeof(int16_t));
	uint8_t *b = pack_le(in, n);
	pyc_params p;
	ck_assert_int_eq(dw_pipeline_process(pl, b, 2 * 4000, out, NULL), PYC_OK);
	p.gain_db = 20.0;
	set1(pl, PYC_P_GAIN, &p);
	ck_assert_int_eq(dw_pipeline_process(pl, b + 8000, 2 * (n - 4000), out + 4000, NULL), PYC_OK);
	double nat = 10.0 * amp * 2.0 * M_PI * f / 48000.0, mx = 0.0;
	for (size_t i = 1; i < n; i++)
		mx = fmax(mx, fabs((double) out[i] - out[i - 1]));
	ck_assert_double_le(mx, 1.25 * nat);
	ck_assert_double_ge(mx, 0.9 * nat);
	free(in);
	free(out);
	free(b);
	dw_pipeline_destroy(pl);
}
END_TEST

START_TEST(test_dw_pipeline_saturation_counts_clips)
{
	const size_t n = 4800;
	dw_pipeline *pl = make(48000, 2);
	int16_t *in = make_sine(n, 2, 440.0, 48000.0, 2000.0, 20.0, 0.0);
	int16_t *out = malloc(2 * n * sizeof(int16_t));
	uint8_t *b = pack_le(in, 2 * n);
	pyc_params p;
	p.gain_db = 60.0;
	set1(pl, PYC_P_GAIN, &p);
	ck_assert_int_eq(dw_pipeline_process(pl, b, 4 * n, out, NULL), PYC_OK);
	size_t clipped = 0;
	for (size_t i = 0; i < 2 * n; i++) {
		ck_assert((in[i] >= 0) == (out[i] >= 0) || in[i] == 0);
		if (i % 2 == 0 && (out[i] == 32767 || out[i] == -32768))
			clipped++;
	}
	dw_meter m;
	dw_pipeline_meter(pl, &m);
	ck_assert_uint_gt(m.clips[0], n / 2);
	/* Every clipped left sample was counted; none on the right (20 * 1000 fits). */
	ck_assert_uint_eq(m.clips[0], clipped);
	ck_assert_uint_eq(m.clips[1], 0);
	ck_assert_double_eq_tol(m.peak_db[0], 0.0, 1e-3);
	/* Clip counts are since create: a second read keeps them. */
	dw_pipeline_meter(pl, &m);
	ck_assert_uint_eq(m.clips[0], clipped);
	free(in);
	free(out);
	free(b);
	dw_pipeline_destroy(pl);
}
END_TEST

START_TEST(test_dw_pipeline_meter_contents)
{
	pyc_params p;
	dw_pipeline *pl;
	dw_meter m;
	const size_t n = 48000;
	pyc_params_defaults(&p);
	p.sample_rate = 48000;
	p.channels = 1;
	p.bands = 64;
	p.waveform_points = 512;
	p.fft_size = 8192;
	ck_assert_int_eq(dw_pipeline_create(&p, &pl), PYC_OK);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.spectrum_valid, 0);
	ck_assert_ptr_nonnull(m.spectrum01);
	ck_assert_int_eq(m.waveform_points, 512);
	ck_assert_int_eq(m.bands, 64);
	ck_assert_double_eq(m.rms_db, DW_SILENCE_DB);
	int nb = 0;
	const float *hz = dw_pipeline_band_hz(pl, &nb);
	ck_assert_int_eq(nb, 64);
	ck_assert_float_eq(hz[0], m.band_hz[0]);
	ck_assert_ptr_nonnull(dw_pipeline_meter_band_hz(pl));
	ck_assert_float_gt(dw_pipeline_meter_band_hz(pl)[31], 20000.0f);

	int16_t *in = make_sine(n, 1, 3000.0, 48000.0, 16384.0, 0, 0);
	uint8_t *b = pack_le(in, n);
	ck_assert_int_eq(dw_pipeline_process(pl, b, 2 * n, NULL, NULL), PYC_OK);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.spectrum_valid, 1);
	ck_assert_double_eq_tol(m.rms_db, -9.03, 0.01);
	ck_assert_double_eq_tol(m.correlation, 1.0, 1e-9);
	int best = 0, best32 = 0;
	for (int i = 0; i < m.bands; i++)
		best = m.band_db[i] > m.band_db[best] ? i : best;
	for (int i = 0; i < PYC_METER_BANDS; i++)
		best32 = m.spectrum01[i] > m.spectrum01[best32] ? i : best32;
	ck_assert_double_lt(fabs(log(m.band_hz[best] / 3000.0)), log(24000.0 / 20.0) / 64);
	ck_assert_double_lt(fabs(log(dw_pipeline_meter_band_hz(pl)[best32] / 3000.0)), log(24000.0 / 20.0) / 32);
	float mn = 1, mx = -1;
	for (int i = 0; i < 1024; i++) {
		mn = fminf(mn, m.waveform[i]);
		mx = fmaxf(mx, m.waveform[i]);
	}
	ck_assert_double_eq_tol(mn, -0.5, 1e-3);
	ck_assert_double_eq_tol(mx, 0.5, 1e-3);
	free(in);
	free(b);
	dw_pipeline_destroy(pl);
}
END_TEST

START_TEST(test_dw_pipeline_set_params_changes)
{
	dw_pipeline *pl = make(44100, 2);
	pyc_params p, q;
	uint8_t b[4000] = { 0 };
	dw_meter m;
	ck_assert_int_eq(dw_pipeline_process(pl, b, sizeof(b), NULL, NULL), PYC_OK);

	/* Cutoff clamped to 0.45 fs, and restored when the rate allows. */
	p.cutoff_hz = 30000.0;
	set1(pl, PYC_P_CUTOFF, &p);
	dw_pipeline_params(pl, &q);
	ck_assert_double_eq(q.cutoff_hz, 0.45 * 44100);
	p.sample_rate = 96000;
	set1(pl, PYC_P_RATE, &p);
	dw_pipeline_params(pl, &q);
	ck_assert_double_eq(q.cutoff_hz, 30000.0);
	ck_assert_int_eq(q.sample_rate, 96000);
	/* A rate change resets the pipeline. */
	dw_pipeline_meter(pl, &m);
	ck_assert_uint_eq(m.frames_total, 0);
	p.channels = 1;
	set1(pl, PYC_P_CHANNELS, &p);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.channels, 1);

	/* Sizes: FFT, bands, waveform on and off. */
	p.fft_size = 256;
	p.bands = 256;
	p.waveform_points = 4096;
	p.mask = PYC_P_FFT | PYC_P_BANDS | PYC_P_WAVEFORM;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_OK);
	ck_assert_int_eq(dw_pipeline_process(pl, b, sizeof(b), NULL, NULL), PYC_OK);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.bands, 256);
	ck_assert_int_eq(m.waveform_points, 4096);
	ck_assert_int_eq(m.spectrum_valid, 1);
	p.waveform_points = 0;
	p.bands = 0;
	p.mask = PYC_P_WAVEFORM | PYC_P_BANDS;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_OK);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.bands, 0);
	ck_assert_int_eq(m.waveform_points, 0);
	ck_assert_ptr_null(m.waveform);

	/* Engine-irrelevant fields are kept and reported. */
	p.max_meter_rate = 25.0;
	p.monitor = 1;
	p.integration_s = 0.125;
	p.filter_order = 8;
	p.filter_enabled = 1;
	p.mask = PYC_P_METER_RATE | PYC_P_MONITOR | PYC_P_INTEGRATION | PYC_P_ORDER | PYC_P_FILTER;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_OK);
	dw_pipeline_params(pl, &q);
	ck_assert_double_eq(q.max_meter_rate, 25.0);
	ck_assert_int_eq(q.monitor, 1);
	ck_assert_int_eq(q.filter_order, 8);
	ck_assert_int_eq(q.filter_enabled, 1);
	ck_assert_double_eq(q.integration_s, 0.125);
	ck_assert_uint_eq(q.mask, PYC_P_ALL);
	/* Setting nothing changes nothing. */
	p.mask = 0;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_OK);
	dw_pipeline_destroy(pl);
}
END_TEST

START_TEST(test_dw_pipeline_errors)
{
	pyc_params p, before, after;
	dw_pipeline *pl = NULL;
	uint8_t b[4] = { 0 };

	pyc_params_defaults(&p);
	ck_assert_int_eq(dw_pipeline_create(NULL, &pl), PYC_EINVAL);
	ck_assert_int_eq(dw_pipeline_create(&p, NULL), PYC_EINVAL);
	p.gain_db = NAN;
	ck_assert_int_eq(dw_pipeline_create(&p, &pl), PYC_EINVAL);
	pyc_params_defaults(&p);
	p.mask = 0; /* ignored: every field is checked */
	p.fft_size = 1000;
	ck_assert_int_eq(dw_pipeline_create(&p, &pl), PYC_EINVAL);
	ck_assert_ptr_null(pl);

	pl = make(48000, 2);
	dw_pipeline_params(pl, &before);
	ck_assert_int_eq(dw_pipeline_process(NULL, b, 4, NULL, NULL), PYC_EINVAL);
	ck_assert_int_eq(dw_pipeline_process(pl, NULL, 4, NULL, NULL), PYC_EINVAL);
	ck_assert_int_eq(dw_pipeline_set_params(NULL, &p), PYC_EINVAL);
	ck_assert_int_eq(dw_pipeline_set_params(pl, NULL), PYC_EINVAL);

	pyc_params v;
#define EXPECT_BAD(bit, stmt)                                               \
	do {                                                                \
		pyc_params_defaults(&v);                                    \
		stmt;                                                       \
		v.mask = (bit);                                             \
		ck_assert_int_eq(dw_pipeline_set_params(pl, &v), PYC_EINVAL); \
		dw_pipeline_params(pl, &after);                             \
		ck_assert_int_eq(memcmp(&before, &after, sizeof(before)), 0); \
	} while (0)
	EXPECT_BAD(PYC_P_GAIN, v.gain_db = NAN);
	EXPECT_BAD(PYC_P_GAIN, v.gain_db = INFINITY);
	EXPECT_BAD(PYC_P_GAIN, v.gain_db = -INFINITY);
	EXPECT_BAD(PYC_P_GAIN, v.gain_db = 60.5);
	EXPECT_BAD(PYC_P_GAIN, v.gain_db = -61);
	EXPECT_BAD(PYC_P_CUTOFF, v.cutoff_hz = NAN);
	EXPECT_BAD(PYC_P_CUTOFF, v.cutoff_hz = 9.99);
	EXPECT_BAD(PYC_P_CUTOFF, v.cutoff_hz = INFINITY);
	EXPECT_BAD(PYC_P_INTEGRATION, v.integration_s = NAN);
	EXPECT_BAD(PYC_P_INTEGRATION, v.integration_s = -0.001);
	EXPECT_BAD(PYC_P_INTEGRATION, v.integration_s = 10.5);
	EXPECT_BAD(PYC_P_RATE, v.sample_rate = 7999);
	EXPECT_BAD(PYC_P_RATE, v.sample_rate = 192001);
	EXPECT_BAD(PYC_P_CHANNELS, v.channels = 3);
	EXPECT_BAD(PYC_P_CHANNELS, v.channels = 0);
	EXPECT_BAD(PYC_P_FILTER, v.filter_enabled = 2);
	EXPECT_BAD(PYC_P_ORDER, v.filter_order = 1);
	EXPECT_BAD(PYC_P_ORDER, v.filter_order = 9);
	EXPECT_BAD(PYC_P_FFT, v.fft_size = 128);
	EXPECT_BAD(PYC_P_FFT, v.fft_size = 32768);
	EXPECT_BAD(PYC_P_FFT, v.fft_size = 3000);
	EXPECT_BAD(PYC_P_BANDS, v.bands = 257);
	EXPECT_BAD(PYC_P_BANDS, v.bands = -1);
	EXPECT_BAD(PYC_P_WAVEFORM, v.waveform_points = 1);
	EXPECT_BAD(PYC_P_WAVEFORM, v.waveform_points = 4097);
	EXPECT_BAD(PYC_P_METER_RATE, v.max_meter_rate = NAN);
	EXPECT_BAD(PYC_P_MONITOR, v.monitor = 7);
	EXPECT_BAD(1u << 20, (void) 0);
	dw_pipeline_destroy(pl);
	dw_pipeline_destroy(NULL);
}
END_TEST

START_TEST(test_dw_pipeline_profile_counts_stages)
{
	dw_pipeline *pl = make(48000, 2);
	pyc_params p;
	uint64_t ns[DW_STAGE_COUNT];
	uint8_t b[4 * 5000] = { 0 };
	dw_meter m;
	p.waveform_points = 64;
	set1(pl, PYC_P_WAVEFORM, &p);
	dw_pipeline_profile(pl, 1);
	ck_assert_int_eq(dw_pipeline_process(pl, b, sizeof(b), NULL, NULL), PYC_OK);
	dw_pipeline_meter(pl, &m);
	dw_pipeline_profile_read(pl, ns);
	uint64_t sum = 0;
	for (int s = 0; s < DW_STAGE_COUNT; s++)
		sum += ns[s];
	ck_assert_uint_gt(sum, 0);
	ck_assert_str_eq(dw_pipeline_stage_name(DW_STAGE_FILTER), "filter");
	ck_assert_str_eq(dw_pipeline_stage_name(-1), "?");
	ck_assert_str_eq(dw_pipeline_stage_name(DW_STAGE_COUNT), "?");
	/* Off: the counters are reset and stay at zero. */
	dw_pipeline_profile(pl, 0);
	ck_assert_int_eq(dw_pipeline_process(pl, b, sizeof(b), NULL, NULL), PYC_OK);
	dw_pipeline_profile_read(pl, ns);
	for (int s = 0; s < DW_STAGE_COUNT; s++)
		ck_assert_uint_eq(ns[s], 0);
	dw_pipeline_destroy(pl);
}
END_TEST

static Suite *dw_pipeline_suite(void)
{
	Suite *s = suite_create("dw_pipeline");
	TCase *core = tcase_create("core");
	tcase_set_timeout(core, 60);
	tcase_add_test(core, test_dw_pipeline_passthrough_bit_exact);
	tcase_add_test(core, test_dw_pipeline_partial_frame_dropped);
	tcase_add_test(core, test_dw_pipeline_chunking_invariant);
	tcase_add_test(core, test_dw_pipeline_gain_accuracy);
	tcase_add_test(core, test_dw_pipeline_gain_ramp_no_zipper);
	tcase_add_test(core, test_dw_pipeline_saturation_counts_clips);
	tcase_add_test(core, test_dw_pipeline_meter_contents);
	tcase_add_test(core, test_dw_pipeline_set_params_changes);
	tcase_add_test(core, test_dw_pipeline_profile_counts_stages);
	suite_add_tcase(s, core);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_dw_pipeline_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_pipeline_suite());
}
