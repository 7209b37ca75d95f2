/* check_dw_levels.c - RMS, peak, hold, balance, correlation and smoothing.
 *
 * NOTES: tolerances. RMS and peak of known signals within 0.01 dB (the
 * int16 rounding of a sine costs less than 1e-4 dB); balance and
 * correlation within 1e-9; the smoothing step response reaches 1 - 1/e at
 * tau within 1e-9 (it is exact by construction, whatever the read period);
 * the held peak's fall within 1e-6 dB.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_dw_util.h"
#include "dw_levels.h"
#include "pyc_testproc.h"

#define RATE 48000.0

static dw_meter measure(int ch, const int16_t *s, size_t frames, double tau)
{
	dw_levels lv;
	dw_meter m;
	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(dw_levels_init(&lv, ch, RATE, tau), PYC_OK);
	dw_levels_add(&lv, s, frames);
	dw_levels_read(&lv, &m);
	ck_assert_uint_eq(m.frames_analysed, frames);
	return m;
}

START_TEST(test_dw_levels_full_scale_sine)
{
	int16_t *s = make_sine(4800, 2, 1000.0, RATE, 32767.0, 32767.0, 0.0);
	dw_meter m = measure(2, s, 4800, 0.0);
	ck_assert_double_eq_tol(m.rms_ch_db[0], -3.0103, 0.01);
	ck_assert_double_eq_tol(m.rms_ch_db[1], -3.0103, 0.01);
	ck_assert_double_eq_tol(m.rms_db, -3.0103, 0.01);
	ck_assert_double_le(m.peak_db[0], 0.0);
	ck_assert_double_ge(m.peak_db[0], -0.001);
	ck_assert_double_eq_tol(m.peak_hold_db[0], m.peak_db[0], 1e-12);
	free(s);
}
END_TEST

START_TEST(test_dw_levels_known_signals)
{
	int16_t sq[2 * 1000], dc[1000];
	for (int i = 0; i < 1000; i++) {
		sq[2 * i] = (i / 10) % 2 ? 16384 : -16384;
		sq[2 * i + 1] = 0;
		dc[i] = -32768;
	}
	dw_meter m = measure(2, sq, 1000, 0.0);
	ck_assert_double_eq_tol(m.rms_ch_db[0], -6.0206, 0.01);
	ck_assert_double_eq_tol(m.peak_db[0], -6.0206, 0.01);
	ck_assert_double_eq(m.rms_ch_db[1], DW_SILENCE_DB);
	ck_assert_double_eq(m.peak_db[1], DW_SILENCE_DB);
	/* Mono mix (L + R) / 2: half the amplitude. */
	ck_assert_double_eq_tol(m.rms_db, -12.0412, 0.01);
	m = measure(1, dc, 1000, 0.0);
	ck_assert_double_eq_tol(m.rms_ch_db[0], 0.0, 1e-9);
	ck_assert_double_eq_tol(m.rms_ch_db[1], 0.0, 1e-9);
	ck_assert_double_eq_tol(m.peak_db[0], 0.0, 1e-9);
	ck_assert_double_eq_tol(m.rms_db, 0.0, 1e-9);
	/* A -20 dBFS sine: amplitude 32768 / 10 * sqrt 2 rms... peak -20. */
	int16_t *s = make_sine(4800, 1, 1000.0, RATE, 3276.8, 0, 0);
	m = measure(1, s, 4800, 0.0);
	ck_assert_double_eq_tol(m.peak_db[0], -20.0, 0.01);
	ck_assert_double_eq_tol(m.rms_ch_db[0], -23.0103, 0.01);
	free(s);
}
END_TEST

START_TEST(test_dw_levels_balance_correlation)
{
	const size_t n = 4800;
	int16_t *lonly = make_sine(n, 2, 440.0, RATE, 20000.0, 0.0, 0.0);
	int16_t *ronly = make_sine(n, 2, 440.0, RATE, 0.0, 20000.0, 0.0);
	int16_t *same = make_sine(n, 2, 440.0, RATE, 20000.0, 20000.0, 0.0);
	int16_t *inv = make_sine(n, 2, 440.0, RATE, 20000.0, -20000.0, 0.0);
	int16_t *quad = make_sine(n, 2, 1000.0, RATE, 20000.0, 20000.0, M_PI / 2);
	int16_t *mono = make_sine(n, 1, 440.0, RATE, 20000.0, 0.0, 0.0);
	int16_t zero[64] = { 0 };
	dw_meter m;

	m = measure(2, lonly, n, 0.0);
	ck_assert_double_eq_tol(m.balance, -1.0, 1e-9);
	ck_assert_double_eq_tol(m.correlation, 0.0, 1e-9);
	m = measure(2, ronly, n, 0.0);
	ck_assert_double_eq_tol(m.balance, 1.0, 1e-9);
	ck_assert_double_eq_tol(m.correlation, 0.0, 1e-9);
	m = measure(2, same, n, 0.0);
	ck_assert_double_eq_tol(m.balance, 0.0, 1e-9);
	ck_assert_double_eq_tol(m.correlation, 1.0, 1e-9);
	m = measure(2, inv, n, 0.0);
	ck_assert_double_eq_tol(m.balance, 0.0, 1e-9);
	ck_assert_double_eq_tol(m.correlation, -1.0, 1e-9);
	ck_assert_double_eq(m.rms_db, DW_SILENCE_DB); /* L + R cancels */
	m = measure(2, quad, n, 0.0);
	ck_assert_double_eq_tol(m.correlation, 0.0, 1e-3);
	m = measure(1, mono, n, 0.0);
	ck_assert_double_eq_tol(m.balance, 0.0, 1e-9);
	ck_assert_double_eq_tol(m.correlation, 1.0, 1e-9);
	ck_assert_double_eq(m.rms_ch_db[0], m.rms_ch_db[1]);
	ck_assert_double_eq(m.rms_ch_db[0], m.rms_db);
	m = measure(2, zero, 32, 0.0);
	ck_assert_double_eq(m.balance, 0.0);
	ck_assert_double_eq(m.correlation, 0.0);
	/* Unequal: L at half the amplitude of R: (1 - 0.5) / 1.5. */
	int16_t *half = make_sine(n, 2, 440.0, RATE, 10000.0, 20000.0, 0.0);
	m = measure(2, half, n, 0.0);
	ck_assert_double_eq_tol(m.balance, 1.0 / 3.0, 1e-4);
	free(lonly);
	free(ronly);
	free(same);
	free(inv);
	free(quad);
	free(mono);
	free(half);
}
END_TEST

static void step_response(double tau, size_t chunk)
{
	dw_levels lv;
	dw_meter m;
	int16_t buf[2 * 1000];
	for (int i = 0; i < 2000; i++)
		buf[i] = 16384; /* power 0.25 */
	ck_assert_int_eq(dw_levels_init(&lv, 2, RATE, tau), PYC_OK);
	size_t total = (size_t) lround(tau * RATE), done = 0;
	while (done < total) {
		size_t n = total - done < chunk ? total - done : chunk;
		dw_levels_add(&lv, buf, n);
		dw_levels_read(&lv, &m);
		done += n;
	}
	double p = pow(10.0, m.rms_ch_db[0] / 10.0) / 0.25;
	ck_assert_double_eq_tol(p, 1.0 - exp(-1.0), 1e-9);
	p = pow(10.0, m.rms_db / 10.0) / 0.25;
	ck_assert_double_eq_tol(p, 1.0 - exp(-1.0), 1e-9);
}

START_TEST(test_dw_levels_smoothing_step_response)
{
	step_response(1.0, 480);      /* IEC Slow, 10 ms reads */
	step_response(0.125, 1000);   /* IEC Fast */
	step_response(0.125, 7);
	step_response(2.5, 1000);
}
END_TEST

START_TEST(test_dw_levels_tau0_is_since_last_read)
{
	dw_levels lv;
	dw_meter m;
	int16_t loud[200], soft[200];
	for (int i = 0; i < 200; i++) {
		loud[i] = 16384;
		soft[i] = 1638;
	}
	ck_assert_int_eq(dw_levels_init(&lv, 1, RATE, 0.0), PYC_OK);
	dw_levels_add(&lv, loud, 200);
	dw_levels_read(&lv, &m);
	ck_assert_double_eq_tol(m.rms_db, -6.0206, 0.01);
	dw_levels_add(&lv, soft, 200);
	dw_levels_read(&lv, &m);
	ck_assert_double_eq_tol(m.rms_db, -26.0206, 0.01);
	/* Nothing new: level unchanged, peak silent, hold unchanged. */
	double hold = m.peak_hold_db[0];
	dw_levels_read(&lv, &m);
	ck_assert_uint_eq(m.frames_analysed, 0);
	ck_assert_double_eq_tol(m.rms_db, -26.0206, 0.01);
	ck_assert_double_eq(m.peak_db[0], DW_SILENCE_DB);
	ck_assert_double_eq(m.peak_hold_db[0], hold);
}
END_TEST

START_TEST(test_dw_levels_peak_hold_then_fall)
{
	dw_levels lv;
	dw_meter m;
	int16_t loud[480], soft[480];
	for (int i = 0; i < 480; i++) {
		loud[i] = 32767;
		soft[i] = 328; /* -40 dBFS */
	}
	ck_assert_int_eq(dw_levels_init(&lv, 1, RATE, 0.0), PYC_OK);
	dw_levels_add(&lv, loud, 480);
	dw_levels_read(&lv, &m);
	double top = m.peak_hold_db[0];
	ck_assert_double_ge(top, -0.001);
	/* 1.5 s of soft audio, 10 ms per read: still held. */
	for (int r = 0; r < 150; r++) {
		dw_levels_add(&lv, soft, 480);
		dw_levels_read(&lv, &m);
	}
	ck_assert_double_eq_tol(m.peak_hold_db[0], top, 1e-9);
	ck_assert_double_eq_tol(m.peak_db[0], -40.0, 0.01);
	/* One more second: fallen by 20 dB. */
	for (int r = 0; r < 100; r++) {
		dw_levels_add(&lv, soft, 480);
		dw_levels_read(&lv, &m);
	}
	ck_assert_double_eq_tol(m.peak_hold_db[0], top - DW_PEAK_FALL_DB_S, 1e-6);
	/* Never below the current peak. */
	for (int r = 0; r < 300; r++) {
		dw_levels_add(&lv, soft, 480);
		dw_levels_read(&lv, &m);
	}
	ck_assert_double_eq_tol(m.peak_hold_db[0], m.peak_db[0], 1e-9);
	/* A new higher peak is taken at once. */
	dw_levels_add(&lv, loud, 10);
	dw_levels_read(&lv, &m);
	ck_assert_double_eq_tol(m.peak_hold_db[0], top, 1e-9);
}
END_TEST

START_TEST(test_dw_levels_errors)
{
	dw_levels lv;
	ck_assert_int_eq(dw_levels_init(NULL, 2, RATE, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 0, RATE, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 3, RATE, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, NAN, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, INFINITY, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, 0.5, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, RATE, NAN), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, RATE, -1e-9), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, RATE, 10.001), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_init(&lv, 2, RATE, 10.0), PYC_OK);
	ck_assert_int_eq(dw_levels_set_tau(&lv, NAN), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_set_tau(&lv, INFINITY), PYC_EINVAL);
	ck_assert_int_eq(dw_levels_set_tau(NULL, 1), PYC_EINVAL);
	ck_assert_double_eq(lv.tau, 10.0);
	ck_assert_double_eq(dw_db_power(0.0), DW_SILENCE_DB);
	ck_assert_double_eq(dw_db_power(-1.0), DW_SILENCE_DB);
	ck_assert_double_eq(dw_db_power(NAN), DW_SILENCE_DB);
	ck_assert_double_eq(dw_db_power(1e-20), DW_SILENCE_DB);
}
END_TEST

static Suite *dw_levels_suite(void)
{
	Suite *s = suite_create("dw_levels");
	TCase *core = tcase_create("core");
	tcase_add_test(core, test_dw_levels_full_scale_sine);
	tcase_add_test(core, test_dw_levels_known_signals);
	tcase_add_test(core, test_dw_levels_balance_correlation);
	tcase_add_test(core, test_dw_levels_smoothing_step_response);
	tcase_add_test(core, test_dw_levels_tau0_is_since_last_read);
	tcase_add_test(core, test_dw_levels_peak_hold_then_fall);
	suite_add_tcase(s, core);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_dw_levels_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_levels_suite());
}
