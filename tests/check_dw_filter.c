/* check_dw_filter.c - Butterworth design and cascade against SciPy, click-free low-pass.
 *
 * NOTES: tolerances. Section denominators (a1, a2) match SciPy's within
 * 1e-10 absolute, in SciPy's order; the numerators have SciPy's shape; the
 * product of the section gains (b0s) matches SciPy's within 1e-9 relative,
 * and the magnitude response within 1e-6 dB wherever SciPy's is above
 * -200 dB. sosfilt output of the golden signal matches within 1e-6 int16
 * units (+ 1e-9 relative). The click bounds: after a change, the largest
 * sample-to-sample output step must stay below 1.25 times the largest step
 * the steady input tone itself makes (A 2 pi f / fs), 1.5 times for a
 * sweep from 10 Hz to 20 kHz (the order-8 step response overshoots); a
 * filter reset on the change (what the earlier version did) exceeds it,
 * as a test shows.
 */
#include <check.h>
#include <complex.h>
#include <math.h>
#include <stdlib.h>

#include "check_dw_util.h"
#include "dw_filter.h"
#include "pyc_testproc.h"

/* |H(e^jw)| of a cascade given as rows b0 b1 b2 a0 a1 a2. */
static double response(const double (*sos)[6], int nsec, double w)
{
	double complex z1 = cexp(-I * w), z2 = z1 * z1, h = 1.0;
	for (int k = 0; k < nsec; k++) {
		const double *r = sos[k];
		h *= (r[0] + r[1] * z1 + r[2] * z2) / (r[3] + r[4] * z1 + r[5] * z2);
	}
	return cabs(h);
}

START_TEST(test_dw_filter_design_matches_scipy)
{
	FILE *f = golden_open("butter_sos.txt");
	int ncases;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &ncases), 1);
	ck_assert_int_ge(ncases, 30);
	for (int c = 0; c < ncases; c++) {
		int order, fs, nsec, mynsec;
		double fc, ref[DW_FILTER_MAX_SECTIONS][6], mine[DW_FILTER_MAX_SECTIONS][6];
		dw_biquad sos[DW_FILTER_MAX_SECTIONS];
		ck_assert_int_eq(fscanf(f, "%d %lf %d %d", &order, &fc, &fs, &nsec), 4);
		for (int k = 0; k < nsec; k++)
			for (int j = 0; j < 6; j++)
				ck_assert_int_eq(fscanf(f, "%lf", &ref[k][j]), 1);
		ck_assert_int_eq(dw_filter_design(order, fc, fs, sos, &mynsec), PYC_OK);
		ck_assert_int_eq(mynsec, nsec);
		double gref = 1.0, gmine = 1.0;
		for (int k = 0; k < nsec; k++) {
			ck_assert_double_eq_tol(sos[k].a1, ref[k][4], 1e-10);
			ck_assert_double_eq_tol(sos[k].a2, ref[k][5], 1e-10);
			ck_assert_double_eq_tol(sos[k].b1 / sos[k].b0, ref[k][1] / ref[k][0], 1e-12);
			ck_assert_double_eq_tol(sos[k].b2 / sos[k].b0, ref[k][2] / ref[k][0], 1e-12);
			gref *= ref[k][0];
			gmine *= sos[k].b0;
			double row[6] = { sos[k].b0, sos[k].b1, sos[k].b2, 1.0, sos[k].a1, sos[k].a2 };
			memcpy(mine[k], row, sizeof(row));
		}
		ck_assert_double_eq_tol(gmine / gref, 1.0, 1e-9);
		for (int i = 1; i < 64; i++) {
			double w = M_PI * i / 64.0;
			double hr = response((const double (*)[6]) ref, nsec, w);
			double hm = response((const double (*)[6]) mine, nsec, w);
			if (20.0 * log10(hr) > -200.0)
				ck_assert_double_eq_tol(20.0 * log10(hm), 20.0 * log10(hr), 1e-6);
		}
		/* Butterworth: -3.01 dB at the cutoff. */
		double hc = response((const double (*)[6]) mine, nsec, 2.0 * M_PI * fc / fs);
		ck_assert_double_eq_tol(20.0 * log10(hc), -3.0103, 1e-3);
	}
	fclose(f);
}
END_TEST

static void sosfilt_case(const char *name)
{
	FILE *f = golden_open(name);
	size_t n, frames;
	int order, fs;
	double fc;
	int16_t *sig = golden_signal(&n);
	dw_filter flt;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(sig);
	ck_assert_int_eq(fscanf(f, "%d %lf %d %zu", &order, &fc, &fs, &frames), 4);
	ck_assert_uint_eq(frames, n);
	double *x = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		x[i] = sig[i];
	ck_assert_int_eq(dw_filter_init(&flt, order, fc, fs, 1), PYC_OK);
	/* In uneven pieces: the state carries. */
	size_t done = 0, piece = 1;
	while (done < n) {
		size_t m = n - done < piece ? n - done : piece;
		dw_filter_run(&flt, x + done, x + done, m);
		done += m;
		piece = piece * 3 + 1;
	}
	double maxerr = 0.0;
	for (size_t i = 0; i < n; i++) {
		double ref;
		ck_assert_int_eq(fscanf(f, "%lf", &ref), 1);
		double err = fabs(x[i] - ref);
		if (err > maxerr)
			maxerr = err;
		ck_assert_double_le(err, 1e-6 + 1e-9 * fabs(ref));
	}
	fclose(f);
	free(x);
	free(sig);
}

START_TEST(test_dw_filter_sosfilt_matches_scipy)
{
	sosfilt_case("sosfilt_o4_fc1000_fs48000.txt");
	sosfilt_case("sosfilt_o8_fc200_fs48000.txt");
	sosfilt_case("sosfilt_o3_fc5000_fs44100.txt");
	sosfilt_case("sosfilt_o2_fc10_fs8000.txt");
	sosfilt_case("sosfilt_o5_fc21600_fs48000.txt");
}
END_TEST

START_TEST(test_dw_filter_stereo_channels_independent)
{
	dw_filter a, b;
	double st[2 * 500], mo[500];
	ck_assert_int_eq(dw_filter_init(&a, 6, 3000.0, 48000.0, 2), PYC_OK);
	ck_assert_int_eq(dw_filter_init(&b, 6, 3000.0, 48000.0, 1), PYC_OK);
	for (int i = 0; i < 500; i++) {
		mo[i] = st[2 * i + 1] = (i % 37) * 100.0 - 1800.0;
		st[2 * i] = 0.0;
	}
	dw_filter_run(&a, st, st, 500);
	dw_filter_run(&b, mo, mo, 500);
	for (int i = 0; i < 500; i++) {
		ck_assert_double_eq(st[2 * i], 0.0);
		ck_assert_double_eq(st[2 * i + 1], mo[i]);
	}
}
END_TEST

START_TEST(test_dw_filter_prime_is_steady_state)
{
	dw_filter f;
	double x0[2] = { 1234.0, -777.0 }, buf[2 * 64];
	ck_assert_int_eq(dw_filter_init(&f, 7, 250.0, 44100.0, 2), PYC_OK);
	dw_filter_prime(&f, x0);
	for (int i = 0; i < 64; i++) {
		buf[2 * i] = x0[0];
		buf[2 * i + 1] = x0[1];
	}
	dw_filter_run(&f, buf, buf, 64);
	for (int i = 0; i < 64; i++) {
		ck_assert_double_eq_tol(buf[2 * i], x0[0], 1e-6);
		ck_assert_double_eq_tol(buf[2 * i + 1], x0[1], 1e-6);
	}
}
END_TEST

/* Runs a mono tone through a low-pass with a change at frame `at`; returns
 * the largest step |y[i] - y[i-1]| from `at` on. */
typedef void (*change_fn)(dw_lowpass *lp);

static double max_step_after(dw_lowpass *lp, double f, double amp, size_t at,
    size_t total, change_fn change)
{
	double *x = malloc(total * sizeof(double));
	double *tmp = malloc(2 * 256 * sizeof(double));
	for (size_t i = 0; i < total; i++)
		x[i] = amp * sin(2.0 * M_PI * f * (double) i / lp->rate);
	size_t done = 0;
	while (done < total) {
		size_t n = total - done > 256 ? 256 : total - done;
		if (done < at && done + n > at)
			n = at - done;
		if (done == at)
			change(lp);
		dw_lowpass_run(lp, x + done, tmp, n);
		done += n;
	}
	double mx = 0.0;
	for (size_t i = at; i < total; i++)
		if (fabs(x[i] - x[i - 1]) > mx)
			mx = fabs(x[i] - x[i - 1]);
	free(x);
	free(tmp);
	return mx;
}

static void to_200(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_cutoff(lp, 200.0), PYC_OK); }
static void to_8000(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_cutoff(lp, 8000.0), PYC_OK); }
static void to_10(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_cutoff(lp, 10.0), PYC_OK); }
static void to_20k(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_cutoff(lp, 20000.0), PYC_OK); }
static void turn_on(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_enabled(lp, 1), PYC_OK); }
static void turn_off(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_enabled(lp, 0), PYC_OK); }
static void order8(dw_lowpass *lp) { ck_assert_int_eq(dw_lowpass_set_order(lp, 8), PYC_OK); }
static void reset_200(dw_lowpass *lp)
{
	/* The earlier version's behaviour: a new filter, state zeroed. */
	ck_assert_int_eq(dw_filter_init(&lp->f[lp->active], lp->order, 200.0,
	    lp->rate, lp->channels), PYC_OK);
}

#define RATE 48000.0

/* max_step_after on a mono filter freshly set up as (on, order, cutoff). */
static double step_from(dw_lowpass *lp, int on, int order, double cutoff, double f,
    double amp, size_t at, size_t total, change_fn change)
{
	ck_assert_int_eq(dw_lowpass_init(lp, on, order, cutoff, RATE, 1), PYC_OK);
	return max_step_after(lp, f, amp, at, total, change);
}

START_TEST(test_dw_filter_cutoff_change_no_click)
{
	dw_lowpass lp;
	const double f = 100.0, a = 16000.0, nat = a * 2.0 * M_PI * f / RATE;

	ck_assert_double_le(step_from(&lp, 1, 4, 2000.0, f, a, 12000, 36000, to_200), 1.25 * nat);
	ck_assert_double_eq(lp.cur, 200.0);
	ck_assert_int_eq(lp.glide_left, 0);

	ck_assert_double_le(step_from(&lp, 1, 8, 200.0, f, a, 12000, 36000, to_8000), 1.25 * nat);

	/* Down to the lowest cutoff: the tone fades, nothing jumps. */
	ck_assert_double_le(step_from(&lp, 1, 4, 8000.0, f, a, 12000, 36000, to_10), 1.25 * nat);

	/* Up from the lowest: the tone appears, through an order-8 filter's
	 * own step-response overshoot; bound 1.5. */
	ck_assert_double_le(step_from(&lp, 1, 8, 10.0, f, a, 12000, 36000, to_20k), 1.5 * nat);
}
END_TEST

START_TEST(test_dw_filter_reset_would_click)
{
	/* The bound above is tight enough to catch a state reset. */
	dw_lowpass lp;
	const double f = 100.0, a = 16000.0, nat = a * 2.0 * M_PI * f / RATE;
	/* Frame 12060: the tone is near its crest (quarter period = 120). */
	ck_assert_double_gt(step_from(&lp, 1, 4, 2000.0, f, a, 12060, 24000, reset_200), 1.25 * nat);
}
END_TEST

START_TEST(test_dw_filter_toggle_no_click)
{
	dw_lowpass lp;
	const double f = 300.0, a = 10000.0, nat = a * 2.0 * M_PI * f / RATE;

	ck_assert_double_le(step_from(&lp, 0, 8, 50.0, f, a, 12040, 24000, turn_on), 1.25 * nat);
	ck_assert_double_le(max_step_after(&lp, f, a, 12040, 24000, turn_off), 1.25 * nat);
	/* Order change (2 -> 8) while filtering a passband tone. */
	ck_assert_double_le(step_from(&lp, 1, 2, 1000.0, 100.0, a, 12040, 24000, order8),
	    1.25 * a * 2.0 * M_PI * 100.0 / RATE);
	ck_assert_int_eq(lp.order, 8);
}
END_TEST

START_TEST(test_dw_filter_off_is_dry_and_on_is_filter)
{
	dw_lowpass lp;
	dw_filter ref;
	double x[512], y[512], tmp[1024];
	for (int i = 0; i < 512; i++)
		x[i] = y[i] = (i * 7919 % 2001) - 1000.0;
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 4, 1000.0, RATE, 1), PYC_OK);
	dw_lowpass_run(&lp, y, tmp, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_double_eq(y[i], x[i]);
	ck_assert_int_eq(dw_lowpass_init(&lp, 1, 4, 1000.0, RATE, 1), PYC_OK);
	ck_assert_int_eq(dw_filter_init(&ref, 4, 1000.0, RATE, 1), PYC_OK);
	memcpy(y, x, sizeof(x));
	dw_lowpass_run(&lp, y, tmp, 512);
	dw_filter_run(&ref, x, x, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_double_eq(y[i], x[i]);
}
END_TEST

START_TEST(test_dw_filter_lowpass_chunking_invariant)
{
	/* Changes at fixed frames, audio in 1-, 7- and 128-frame pieces. */
	const size_t total = 20000;
	double *ref = NULL;
	const size_t sizes[] = { 1, 7, 128 };
	for (int s = 0; s < 3; s++) {
		dw_lowpass lp;
		double *x = malloc(total * 2 * sizeof(double));
		double tmp[2 * 2 * 128];
		for (size_t i = 0; i < 2 * total; i++)
			x[i] = 9000.0 * sin(0.05 * (double) i) + (double) (i % 113);
		ck_assert_int_eq(dw_lowpass_init(&lp, 0, 4, 3000.0, RATE, 2), PYC_OK);
		for (size_t done = 0; done < total;) {
			size_t n = sizes[s];
			if (done % 1000 + n > 1000)
				n = 1000 - done % 1000; /* changes land on 1000s */
			if (n > total - done)
				n = total - done;
			if (done == 3000)
				dw_lowpass_set_enabled(&lp, 1);
			if (done == 5000)
				dw_lowpass_set_cutoff(&lp, 300.0);
			if (done == 5000 + 1000)
				dw_lowpass_set_order(&lp, 7);
			if (done == 9000)
				dw_lowpass_set_cutoff(&lp, 30000.0);
			if (done == 12000)
				dw_lowpass_set_enabled(&lp, 0);
			dw_lowpass_run(&lp, x + 2 * done, tmp, n);
			done += n;
		}
		ck_assert_double_eq(lp.cutoff, 0.45 * RATE);
		if (ref == NULL) {
			ref = x;
		} else {
			ck_assert_int_eq(memcmp(ref, x, total * 2 * sizeof(double)), 0);
			free(x);
		}
	}
	free(ref);
}
END_TEST

START_TEST(test_dw_filter_errors)
{
	dw_biquad sos[DW_FILTER_MAX_SECTIONS];
	dw_filter f;
	dw_lowpass lp;
	int n;

	ck_assert_int_eq(dw_filter_design(0, 1000, 48000, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(9, 1000, 48000, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, NAN, 48000, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, INFINITY, 48000, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, 1000, NAN, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, 1000, -INFINITY, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, -5, 48000, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, 24000, 48000, sos, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, 1000, 48000, NULL, &n), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(4, 1000, 48000, sos, NULL), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_design(1, 1000, 48000, sos, &n), PYC_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_double_eq_tol(sos[0].b0 * 2.0 / (1.0 + sos[0].a1), 1.0, 1e-12);

	ck_assert_int_eq(dw_filter_init(NULL, 4, 1000, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_init(&f, 4, 1000, 48000, 3), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_init(&f, 4, 1000, 48000, 0), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_init(&f, 4, NAN, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_init(&f, 4, 1000, 48000, 1), PYC_OK);
	ck_assert_int_eq(dw_filter_retune(NULL, 1000, 48000), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_retune(&f, NAN, 48000), PYC_EINVAL);
	ck_assert_int_eq(dw_filter_retune(&f, 30000, 48000), PYC_EINVAL);

	ck_assert_int_eq(dw_lowpass_init(NULL, 0, 4, 1000, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 2, 4, 1000, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 1, 1000, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 9, 1000, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 4, NAN, 48000, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 4, 1000, INFINITY, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 4, 1000, 48000, 5), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_init(&lp, 0, 4, 1e9, 48000, 1), PYC_OK);
	ck_assert_double_eq(lp.cutoff, 0.45 * 48000);
	ck_assert_int_eq(dw_lowpass_set_enabled(NULL, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_enabled(&lp, -1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_cutoff(NULL, 100), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_cutoff(&lp, NAN), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_cutoff(&lp, -INFINITY), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_cutoff(&lp, 0.0), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_order(NULL, 4), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_order(&lp, 1), PYC_EINVAL);
	ck_assert_int_eq(dw_lowpass_set_order(&lp, 9), PYC_EINVAL);
	ck_assert_int_eq(lp.order, 4);
	ck_assert_int_eq(dw_lowpass_busy(&lp), 0);
	/* Setting the value in force is a no-op; a glide back is cancelled. */
	ck_assert_int_eq(dw_lowpass_set_order(&lp, 4), PYC_OK);
	ck_assert_int_eq(dw_lowpass_set_enabled(&lp, 0), PYC_OK);
	ck_assert_int_eq(dw_lowpass_busy(&lp), 0);
	ck_assert_int_eq(dw_lowpass_set_cutoff(&lp, 500.0), PYC_OK);
	ck_assert_int_eq(dw_lowpass_busy(&lp), 1);
	ck_assert_int_eq(dw_lowpass_set_cutoff(&lp, 1e9), PYC_OK);
	ck_assert_int_eq(dw_lowpass_busy(&lp), 0);
	ck_assert_double_eq(dw_lowpass_clamp(1.0, 48000), 10.0);
}
END_TEST

static Suite *dw_filter_suite(void)
{
	Suite *s = suite_create("dw_filter");
	TCase *core = tcase_create("core");
	tcase_add_test(core, test_dw_filter_design_matches_scipy);
	tcase_add_test(core, test_dw_filter_sosfilt_matches_scipy);
	tcase_add_test(core, test_dw_filter_stereo_channels_independent);
	tcase_add_test(core, test_dw_filter_prime_is_steady_state);
	tcase_add_test(core, test_dw_filter_off_is_dry_and_on_is_filter);
	tcase_add_test(core, test_dw_filter_lowpass_chunking_invariant);
	suite_add_tcase(s, core);
	TCase *clicks = tcase_create("clicks");
	tcase_add_test(clicks, test_dw_filter_cutoff_change_no_click);
	tcase_add_test(clicks, test_dw_filter_reset_would_click);
	tcase_add_test(clicks, test_dw_filter_toggle_no_click);
	suite_add_tcase(s, clicks);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_dw_filter_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_filter_suite());
}
