/* check_dw_spectrum.c - overlapped spectrum, band views, smoothing, waveform.
 *
 * NOTES: tolerances. A full-scale on-bin sine's peak bin reads 0 dBFS
 * within 0.01 dB (float FFT); off-bin, within the Hann scalloping loss
 * (0 to -1.43 dB). The band holding a tone is the maximum (within 0.15 dB
 * where a neighbour reads the tone's main lobe too). Chunking: frame count and
 * bin powers are bit-identical for 1-, 7-, 128- and 1000-sample pushes. The
 * smoothed power reaches 1 - 1/e of its final value after tau within 1e-4.
 * Calibration (docs/dsp.md): a sine of amplitude A reads 20 log10 A within
 * 0.5 dB in the band holding it, whatever the band count and FFT size;
 * white noise of variance s^2 reads 2 s^2 W / (rate / 2) in a band W Hz
 * wide (the peak scale of the bins: a power equal to a sine's), within
 * 0.5 dB once 100 frames are averaged. Under the former rule (a band's mean
 * bin power) the -6 dBFS sine read -17.1 dB with 32 bands.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_dw_util.h"
#include "dw_spectrum.h"
#include "dw_waveform.h"
#include "pyc_params.h"
#include "pyc_testproc.h"

static float *tone(size_t n, double f, double rate, double amp)
{
	float *x = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		x[i] = (float) (amp * sin(2.0 * M_PI * f * (double) i / rate));
	return x;
}

START_TEST(test_dw_spectrum_full_scale_sine_reads_0db)
{
	dw_spectrum *sp;
	const int n = 4096;
	const double rate = 48000.0, f = 100.0 * rate / n;
	float *x = tone(2 * n, f, rate, 1.0);
	ck_assert_int_eq(dw_spectrum_create(n, rate, 0, 0.0, &sp), PYC_OK);
	dw_spectrum_push(sp, x, 2 * (size_t) n);
	ck_assert_uint_eq(dw_spectrum_frames(sp), 3); /* at n, 1.5 n, 2 n */
	const float *p = dw_spectrum_power(sp);
	ck_assert_double_eq_tol(10.0 * log10(p[100]), 0.0, 0.01);
	ck_assert_double_eq_tol(10.0 * log10(p[99]), -6.02, 0.01); /* Hann */
	ck_assert_double_lt(10.0 * log10(p[103]), -90.0);
	dw_spectrum_destroy(sp);
	free(x);

	/* Off-bin: half a bin away, the scalloping loss of Hann. */
	ck_assert_int_eq(dw_spectrum_create(n, rate, 0, 0.0, &sp), PYC_OK);
	x = tone(2 * n, 100.5 * rate / n, rate, 1.0);
	dw_spectrum_push(sp, x, 2 * (size_t) n);
	p = dw_spectrum_power(sp);
	double pk = 10.0 * log10(p[100] > p[101] ? p[100] : p[101]);
	ck_assert_double_le(pk, 0.0);
	ck_assert_double_ge(pk, -1.43);
	dw_spectrum_destroy(sp);
	free(x);
}
END_TEST

static void band_max_case(int fft, double rate, int bands, double f)
{
	dw_spectrum *sp;
	float *x = tone(2 * (size_t) fft, f, rate, 0.5);
	ck_assert_int_eq(dw_spectrum_create(fft, rate, bands, 0.0, &sp), PYC_OK);
	dw_spectrum_push(sp, x, 2 * (size_t) fft);
	dw_spectrum_update(sp);
	for (int view = 0; view < 2; view++) {
		int nb = view ? dw_spectrum_nbands(sp) : PYC_METER_BANDS;
		const float *db = view ? dw_spectrum_band_db(sp) : dw_spectrum_meter_db(sp);
		const float *hz = view ? dw_spectrum_band_hz(sp) : dw_spectrum_meter_hz(sp);
		double ratio = pow(rate / 2.0 / DW_BAND_LO_HZ, 1.0 / nb);
		int holder = -1;
		float mx = -1e9f;
		for (int i = 0; i < nb; i++) {
			double lo = hz[i] / sqrt(ratio), hi = hz[i] * sqrt(ratio);
			if (f >= lo && f < hi)
				holder = i;
			mx = db[i] > mx ? db[i] : mx;
			if (i > 0)
				ck_assert_float_gt(hz[i], hz[i - 1]);
		}
		ck_assert_int_ge(holder, 0);
		/* Once 1e-4 dB (narrow bands shared a bin). Now a band never
		 * reads below the main lobe of a bin it holds, so the band next
		 * to a tone within a bin of its edge reads the tone too, its
		 * main lobe taken one bin off: within 0.15 dB (Hann). */
		ck_assert_double_le(mx - db[holder], 0.15);
		ck_assert_double_gt(db[holder], -40.0);
	}
	dw_spectrum_destroy(sp);
	free(x);
}

START_TEST(test_dw_spectrum_band_of_tone_is_max)
{
	const double freqs[] = { 60.0, 440.0, 1000.0, 5000.0, 13000.0, 20000.0, 23000.0 };
	for (size_t i = 0; i < sizeof(freqs) / sizeof(freqs[0]); i++) {
		band_max_case(4096, 48000.0, 256, freqs[i]);
		band_max_case(16384, 48000.0, 64, freqs[i]);
		band_max_case(1024, 48000.0, 32, freqs[i]);
	}
	band_max_case(256, 8000.0, 100, 3900.0); /* above fs/4 */
	band_max_case(4096, 192000.0, 200, 90000.0);
}
END_TEST

/* The band of the optional view of nb bands (log-spaced) holding f. */
static int band_holding(double f, double rate, int nb)
{
	double ratio = rate / 2.0 / DW_BAND_LO_HZ;
	for (int i = 0; i < nb; i++) {
		double lo = DW_BAND_LO_HZ * pow(ratio, (double) i / nb);
		double hi = DW_BAND_LO_HZ * pow(ratio, (double) (i + 1) / nb);
		if (f >= lo && f < hi)
			return i;
	}
	return -1;
}

START_TEST(test_dw_spectrum_sine_reads_its_level)
{
	const double rate = 48000.0, amp = 0.5, want = 20.0 * log10(amp);
	const double freqs[] = { 1000.0, 60.0, 440.0, 997.0, 5000.0, 15000.0 };
	const int nbs[] = { 32, 64, 128, 256 };
	for (int fft = 1024; fft <= 16384; fft *= 2) {
		for (size_t fi = 0; fi < sizeof(freqs) / sizeof(freqs[0]); fi++) {
			float *x = tone(2 * (size_t) fft, freqs[fi], rate, amp);
			for (int b = 0; b < 4; b++) {
				dw_spectrum *sp;
				ck_assert_int_eq(dw_spectrum_create(fft, rate, nbs[b], 0.0, &sp), PYC_OK);
				dw_spectrum_push(sp, x, 2 * (size_t) fft);
				dw_spectrum_update(sp);
				int i = band_holding(freqs[fi], rate, nbs[b]);
				ck_assert_int_ge(i, 0);
				double db = dw_spectrum_band_db(sp)[i];
				if (fabs(db - want) > 0.5)
					ck_abort_msg("fft %d, %d bands, %.0f Hz: %.2f dB", fft,
					    nbs[b], freqs[fi], db);
				/* The 32-band meter view is calibrated alike. */
				if (nbs[b] == 32) {
					double m = dw_spectrum_meter_db(sp)[i];
					ck_assert_double_eq_tol(m, db, 1e-4);
					ck_assert_double_eq_tol(dw_spectrum_meter01(sp)[i],
					    (m + 80.0) / 80.0, 1e-5);
				}
				dw_spectrum_destroy(sp);
			}
			free(x);
		}
	}
}
END_TEST

/* Uniform white noise of variance 1/12 * amp^2 (xorshift, fixed seed). */
static float *white(size_t n, double amp, uint32_t seed)
{
	float *x = malloc(n * sizeof(float));
	uint32_t s = seed;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		x[i] = (float) (amp * ((double) s / 4294967296.0 - 0.5));
	}
	return x;
}

START_TEST(test_dw_spectrum_noise_reads_band_power)
{
	const double rate = 48000.0, amp = 0.5, var = amp * amp / 12.0;
	const int fft = 4096, nb = 32, hop = fft / 2, frames = 200;
	size_t n = (size_t) fft + (size_t) (frames - 1) * hop;
	float *x = white(n, amp, 12345u);
	double acc[32] = { 0 };
	dw_spectrum *sp;
	ck_assert_int_eq(dw_spectrum_create(fft, rate, nb, 0.0, &sp), PYC_OK);
	dw_spectrum_push(sp, x, (size_t) fft);
	for (int f = 0; f < frames; f++) {
		if (f > 0)
			dw_spectrum_push(sp, x + fft + (size_t) (f - 1) * hop, (size_t) hop);
		dw_spectrum_update(sp);
		for (int i = 0; i < nb; i++)
			acc[i] += pow(10.0, dw_spectrum_band_db(sp)[i] / 10.0);
	}
	ck_assert_uint_eq(dw_spectrum_frames(sp), (uint64_t) frames);
	double ratio = rate / 2.0 / DW_BAND_LO_HZ;
	int checked = 0;
	for (int i = 0; i < nb; i++) {
		double lo = DW_BAND_LO_HZ * pow(ratio, (double) i / nb);
		double hi = DW_BAND_LO_HZ * pow(ratio, (double) (i + 1) / nb);
		if ((hi - lo) < 4.0 * rate / fft)
			continue; /* narrower than 4 bins: a tone's, not noise's, rule */
		double want = 10.0 * log10(2.0 * var * (hi - lo) / (rate / 2.0));
		double got = 10.0 * log10(acc[i] / frames);
		if (fabs(got - want) > 0.5)
			ck_abort_msg("band %d (%.0f..%.0f Hz): %.2f dB, want %.2f", i,
			    lo, hi, got, want);
		checked++;
	}
	ck_assert_int_ge(checked, 15);
	dw_spectrum_destroy(sp);
	free(x);
}
END_TEST

/* IEC 61260-1 / ANSI S1.11 nominal 1/3-octave centres, 20 Hz .. 80 kHz. */
static const double third_nominal[] = { 20, 25, 31.5, 40, 50, 63, 80, 100,
	125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000,
	2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000, 25000,
	31500, 40000, 50000, 63000, 80000 };

START_TEST(test_dw_spectrum_third_octave_layout)
{
	const double rates[] = { 8000, 44100, 48000, 192000 };
	const int want[] = { 23, 30, 31, 37 }; /* bands whose upper edge <= fs/2 */
	for (int r = 0; r < 4; r++) {
		dw_spectrum *sp;
		ck_assert_int_eq(dw_spectrum_create(4096, rates[r], PYC_BANDS_THIRD_OCTAVE, 0.0,
		    &sp), PYC_OK);
		int n = dw_spectrum_nbands(sp);
		ck_assert_int_eq(n, want[r]);
		for (int i = 0; i < n; i++)
			ck_assert_double_eq_tol(dw_spectrum_band_hz(sp)[i], third_nominal[i], 1e-3);
		dw_spectrum_destroy(sp);
	}
	/* A 1 kHz sine at -6 dBFS reads -6 in the 1 kHz band. */
	dw_spectrum *sp;
	float *x = tone(8192, 1000.0, 48000.0, 0.5);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, PYC_BANDS_THIRD_OCTAVE, 0.0, &sp),
	    PYC_OK);
	dw_spectrum_push(sp, x, 8192);
	dw_spectrum_update(sp);
	ck_assert_double_eq_tol(dw_spectrum_band_db(sp)[17], -6.02, 0.5);
	ck_assert_double_lt(dw_spectrum_band_db(sp)[14], -40.0); /* 500 Hz */
	dw_spectrum_destroy(sp);
	free(x);
}
END_TEST

/* Gaussian white noise (xorshift + Box-Muller) through Paul Kellet's
 * "refined" pink filter (within +-0.05 dB of -3 dB/octave from 9.2 Hz at
 * 44.1 kHz), scaled to about -20 dBFS RMS. */
static float *pink(size_t n, uint32_t seed)
{
	float *x = malloc(n * sizeof(float));
	uint32_t s = seed;
	double b[7] = { 0 };
	for (size_t i = 0; i < n; i++) {
		double u[2];
		for (int k = 0; k < 2; k++) {
			s ^= s << 13;
			s ^= s >> 17;
			s ^= s << 5;
			u[k] = ((double) s + 1.0) / 4294967297.0;
		}
		double w = sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
		b[0] = 0.99886 * b[0] + w * 0.0555179;
		b[1] = 0.99332 * b[1] + w * 0.0750759;
		b[2] = 0.96900 * b[2] + w * 0.1538520;
		b[3] = 0.86650 * b[3] + w * 0.3104856;
		b[4] = 0.55000 * b[4] + w * 0.5329522;
		b[5] = -0.7616 * b[5] - w * 0.0168980;
		double p = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
		b[6] = w * 0.115926;
		x[i] = (float) (p * 0.02);
	}
	return x;
}

START_TEST(test_dw_spectrum_pink_noise_flat_third_octaves)
{
	const double rate = 44100.0;
	const size_t total = 10 * 44100; /* 10 s */
	float *x = pink(total, 2024u);
	for (int fft = 1024; fft <= 16384; fft *= 4) {
		dw_spectrum *sp;
		ck_assert_int_eq(dw_spectrum_create(fft, rate, PYC_BANDS_THIRD_OCTAVE, 0.0, &sp),
		    PYC_OK);
		int nb = dw_spectrum_nbands(sp), hop = fft / 2, frames = 0;
		double acc[40] = { 0 };
		/* Integrate: the linear mean of every frame's band powers. */
		for (size_t done = 0; done + (size_t) hop <= total; done += (size_t) hop) {
			uint64_t before = dw_spectrum_frames(sp);
			dw_spectrum_push(sp, x + done, (size_t) hop);
			if (dw_spectrum_frames(sp) == before)
				continue;
			dw_spectrum_update(sp);
			for (int i = 0; i < nb; i++)
				acc[i] += pow(10.0, dw_spectrum_band_db(sp)[i] / 10.0);
			frames++;
		}
		ck_assert_int_gt(frames, 40);
		double df = rate / fft, mean = 0.0;
		int used = 0, use[40] = { 0 };
		for (int i = 0; i < nb; i++) {
			double fm = 1000.0 * pow(10.0, (DW_THIRD_K_MIN + i) / 10.0);
			double width = fm * (pow(10.0, 0.05) - pow(10.0, -0.05));
			if (width >= 4.0 * df) {
				use[i] = 1;
				acc[i] = 10.0 * log10(acc[i] / frames);
				mean += acc[i];
				used++;
			}
		}
		ck_assert_int_ge(used, 10);
		mean /= used;
		for (int i = 0; i < nb; i++)
			if (use[i] && fabs(acc[i] - mean) > 1.0)
				ck_abort_msg("fft %d: %g Hz band %.2f dB, mean %.2f", fft,
				    third_nominal[i], acc[i], mean);
		dw_spectrum_destroy(sp);
	}
	free(x);
}
END_TEST

START_TEST(test_dw_spectrum_hop_independent_of_chunks)
{
	const size_t total = 20000;
	const size_t sizes[] = { 1, 7, 128, 1000 };
	float *x = tone(total, 997.0, 44100.0, 0.7);
	float ref[1025];
	for (size_t i = 0; i < total; i++)
		x[i] += (float) ((i * 7919 % 1000) / 5000.0);
	for (int s = 0; s < 4; s++) {
		dw_spectrum *sp;
		ck_assert_int_eq(dw_spectrum_create(2048, 44100.0, 0, 0.3, &sp), PYC_OK);
		ck_assert_int_eq(dw_spectrum_hop(sp), 1024);
		ck_assert_int_eq(dw_spectrum_bins(sp), 1025);
		for (size_t done = 0; done < total; done += sizes[s]) {
			size_t m = total - done < sizes[s] ? total - done : sizes[s];
			dw_spectrum_push(sp, x + done, m);
		}
		/* First frame at 2048, then every 1024: 1 + (20000-2048)/1024. */
		ck_assert_uint_eq(dw_spectrum_frames(sp), 18);
		if (s == 0)
			memcpy(ref, dw_spectrum_power(sp), sizeof(ref));
		else
			ck_assert_int_eq(memcmp(ref, dw_spectrum_power(sp), sizeof(ref)), 0);
		dw_spectrum_destroy(sp);
	}
	free(x);
}
END_TEST

START_TEST(test_dw_spectrum_smoothing_step_response)
{
	const int n = 1024, hop = 512, k = 64;
	const double rate = 48000.0, tau = 10.0 * hop / rate;
	dw_spectrum *sp, *raw;
	float *x = tone(20 * (size_t) n, k * rate / n, rate, 0.5);
	ck_assert_int_eq(dw_spectrum_create(n, rate, 0, tau, &sp), PYC_OK);
	ck_assert_int_eq(dw_spectrum_create(n, rate, 0, 0.0, &raw), PYC_OK);
	/* n samples give the first frame, then 9 hops: 10 frames = tau. */
	dw_spectrum_push(sp, x, (size_t) n + 9 * (size_t) hop);
	dw_spectrum_push(raw, x, (size_t) n);
	ck_assert_uint_eq(dw_spectrum_frames(sp), 10);
	double r = dw_spectrum_power(sp)[k] / dw_spectrum_power(raw)[k];
	ck_assert_double_eq_tol(r, 1.0 - exp(-1.0), 1e-4);
	/* Changing tau to 0: the next frame is the raw one. */
	ck_assert_int_eq(dw_spectrum_set_tau(sp, 0.0), PYC_OK);
	dw_spectrum_push(sp, x, (size_t) hop);
	r = dw_spectrum_power(sp)[k] / dw_spectrum_power(raw)[k];
	ck_assert_double_eq_tol(r, 1.0, 1e-5);
	dw_spectrum_destroy(sp);
	dw_spectrum_destroy(raw);
	free(x);
}
END_TEST

START_TEST(test_dw_spectrum_meter01_mapping)
{
	dw_spectrum *sp;
	float *x = tone(8192, 1000.0, 48000.0, 1.0);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000.0, 0, 0.0, &sp), PYC_OK);
	ck_assert_int_eq(dw_spectrum_nbands(sp), 0);
	ck_assert_ptr_null(dw_spectrum_band_db(sp));
	dw_spectrum_update(sp);
	for (int i = 0; i < PYC_METER_BANDS; i++) {
		ck_assert_float_eq(dw_spectrum_meter01(sp)[i], 0.0f);
		ck_assert_float_eq(dw_spectrum_meter_db(sp)[i], -120.0f);
	}
	dw_spectrum_push(sp, x, 8192);
	dw_spectrum_update(sp);
	dw_spectrum_update(sp); /* no new frame: unchanged */
	int some = 0;
	for (int i = 0; i < PYC_METER_BANDS; i++) {
		double db = dw_spectrum_meter_db(sp)[i];
		double u = (db + 80.0) / 80.0;
		u = u < 0 ? 0 : u > 1 ? 1 : u;
		ck_assert_double_eq_tol(dw_spectrum_meter01(sp)[i], u, 1e-6);
		some += u > 0.5;
	}
	ck_assert_int_ge(some, 1);
	ck_assert_double_eq_tol(dw_spectrum_meter_hz(sp)[0], sqrt(20.0 * 20.0 * pow(1200.0, 1.0 / 32)), 1e-3);
	dw_spectrum_destroy(sp);
	free(x);
}
END_TEST

START_TEST(test_dw_spectrum_errors)
{
	dw_spectrum *sp = NULL;
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, 0, 0, NULL), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4000, 48000, 0, 0, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, NAN, 0, 0, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, INFINITY, 0, 0, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, 10.0, 0, 0, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, -1, 0, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, 257, 0, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, 0, NAN, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, 0, -1, &sp), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, 0, 11, &sp), PYC_EINVAL);
	ck_assert_ptr_null(sp);
	ck_assert_int_eq(dw_spectrum_create(4096, 48000, 256, 10, &sp), PYC_OK);
	ck_assert_int_eq(dw_spectrum_set_tau(sp, NAN), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_set_tau(sp, INFINITY), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_set_tau(sp, -0.1), PYC_EINVAL);
	ck_assert_int_eq(dw_spectrum_set_tau(NULL, 1), PYC_EINVAL);
	dw_spectrum_destroy(sp);
	dw_spectrum_destroy(NULL);
}
END_TEST

START_TEST(test_dw_waveform_min_max_latest)
{
	dw_waveform *w;
	float x[100];
	ck_assert_int_eq(dw_waveform_create(4, 3, &w), PYC_OK);
	ck_assert_int_eq(dw_waveform_points(w), 4);
	for (int i = 0; i < 100; i++)
		x[i] = (float) ((i % 2) ? i : -i) / 100.0f;
	/* Before any complete bucket: zeros. */
	dw_waveform_push(w, x, 2);
	for (int i = 0; i < 8; i++)
		ck_assert_float_eq(dw_waveform_read(w)[i], 0.0f);
	dw_waveform_push(w, x + 2, 24); /* 26 samples: 8 buckets, 2 left over */
	const float *r = dw_waveform_read(w);
	/* Latest four complete buckets: samples 12..14, ..., 21..23. */
	for (int b = 0; b < 4; b++) {
		int s = 12 + 3 * b;
		float mn = 1, mx = -1;
		for (int i = s; i < s + 3; i++) {
			mn = x[i] < mn ? x[i] : mn;
			mx = x[i] > mx ? x[i] : mx;
		}
		ck_assert_float_eq(r[2 * b], mn);
		ck_assert_float_eq(r[2 * b + 1], mx);
	}
	dw_waveform_destroy(w);
	/* Chunking does not matter. */
	dw_waveform *a, *c;
	ck_assert_int_eq(dw_waveform_create(8, 5, &a), PYC_OK);
	ck_assert_int_eq(dw_waveform_create(8, 5, &c), PYC_OK);
	dw_waveform_push(a, x, 100);
	for (int i = 0; i < 100; i += 7)
		dw_waveform_push(c, x + i, i + 7 > 100 ? 100 - (size_t) i : 7);
	ck_assert_int_eq(memcmp(dw_waveform_read(a), dw_waveform_read(c), 16 * sizeof(float)), 0);
	dw_waveform_destroy(a);
	dw_waveform_destroy(c);
}
END_TEST

START_TEST(test_dw_waveform_errors)
{
	dw_waveform *w = NULL;
	ck_assert_int_eq(dw_waveform_create(1, 4, &w), PYC_EINVAL);
	ck_assert_int_eq(dw_waveform_create(PYC_WAVEFORM_MAX + 1, 4, &w), PYC_EINVAL);
	ck_assert_int_eq(dw_waveform_create(512, 0, &w), PYC_EINVAL);
	ck_assert_int_eq(dw_waveform_create(512, 65537, &w), PYC_EINVAL);
	ck_assert_int_eq(dw_waveform_create(512, 8, NULL), PYC_EINVAL);
	ck_assert_ptr_null(w);
	dw_waveform_destroy(NULL);
}
END_TEST

static Suite *dw_spectrum_suite(void)
{
	Suite *s = suite_create("dw_spectrum");
	TCase *core = tcase_create("core");
	tcase_add_test(core, test_dw_spectrum_full_scale_sine_reads_0db);
	tcase_add_test(core, test_dw_spectrum_band_of_tone_is_max);
	tcase_add_test(core, test_dw_spectrum_sine_reads_its_level);
	tcase_add_test(core, test_dw_spectrum_noise_reads_band_power);
	tcase_add_test(core, test_dw_spectrum_third_octave_layout);
	tcase_add_test(core, test_dw_spectrum_pink_noise_flat_third_octaves);
	tcase_add_test(core, test_dw_spectrum_hop_independent_of_chunks);
	tcase_add_test(core, test_dw_spectrum_smoothing_step_response);
	tcase_add_test(core, test_dw_spectrum_meter01_mapping);
	tcase_add_test(core, test_dw_waveform_min_max_latest);
	suite_add_tcase(s, core);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_dw_spectrum_errors);
	tcase_add_test(errors, test_dw_waveform_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_spectrum_suite());
}
