/* check_dw_fft.c - the kissfft wrapper against NumPy's rfft, and its limits.
 *
 * NOTES: tolerances. The float FFT's scaled magnitudes of the golden signal
 * (Hann-windowed, full-scale sine = 1) match NumPy's double rfft within
 * 2e-6 of the largest magnitude plus 1e-4 relative; an on-bin sine's bin
 * power matches (A sum(w) / 2)^2 within 1e-4 relative.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_dw_util.h"
#include "dw_fft.h"
#include "pyc_testproc.h"

static void rfft_case(const char *name, int n)
{
	FILE *f = golden_open(name);
	size_t frames;
	int gn, nbins;
	int16_t *sig = golden_signal(&frames);
	dw_fft *fft;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(sig);
	ck_assert_int_eq(fscanf(f, "%d %d", &gn, &nbins), 2);
	ck_assert_int_eq(gn, n);
	ck_assert_int_eq(nbins, n / 2 + 1);
	ck_assert_int_eq(dw_fft_create(n, &fft), PYC_OK);
	ck_assert_int_eq(dw_fft_size(fft), n);
	float *in = malloc((size_t) n * sizeof(float));
	float *pw = malloc((size_t) nbins * sizeof(float));
	double *ref = malloc((size_t) nbins * sizeof(double));
	double wsum = 0.0, mx = 0.0;
	for (int i = 0; i < n; i++) {
		double w = 0.5 - 0.5 * cos(2.0 * M_PI * i / n);
		wsum += w;
		in[i] = (float) (w * sig[i] / 32768.0);
	}
	dw_fft_power(fft, in, pw);
	for (int k = 0; k < nbins; k++) {
		ck_assert_int_eq(fscanf(f, "%lf", &ref[k]), 1);
		mx = ref[k] > mx ? ref[k] : mx;
	}
	for (int k = 0; k < nbins; k++) {
		double s = (k == 0 || k == nbins - 1 ? 1.0 : 2.0) / wsum;
		double m = sqrt(pw[k]) * s;
		ck_assert_double_le(fabs(m - ref[k]), 2e-6 * mx + 1e-4 * ref[k]);
	}
	free(in);
	free(pw);
	free(ref);
	free(sig);
	fclose(f);
	dw_fft_destroy(fft);
}

START_TEST(test_dw_fft_matches_numpy)
{
	rfft_case("rfft_256.txt", 256);
	rfft_case("rfft_4096.txt", 4096);
}
END_TEST

START_TEST(test_dw_fft_sine_peaks_at_its_bin)
{
	const int n = 1024, k0 = 37;
	dw_fft *fft;
	float in[1024], pw[513];
	ck_assert_int_eq(dw_fft_create(n, &fft), PYC_OK);
	for (int i = 0; i < n; i++)
		in[i] = (float) (0.5 * cos(2.0 * M_PI * k0 * i / n));
	dw_fft_power(fft, in, pw);
	int best = 0;
	for (int k = 0; k <= n / 2; k++)
		if (pw[k] > pw[best])
			best = k;
	ck_assert_int_eq(best, k0);
	double expect = (0.5 * n / 2.0) * (0.5 * n / 2.0);
	ck_assert_double_eq_tol(pw[k0] / expect, 1.0, 1e-4);
	ck_assert_double_lt(pw[k0 + 3], 1e-6 * expect);
	dw_fft_destroy(fft);
}
END_TEST

START_TEST(test_dw_fft_errors)
{
	dw_fft *fft = NULL;
	ck_assert_int_eq(dw_fft_create(1000, &fft), PYC_EINVAL);
	ck_assert_int_eq(dw_fft_create(8, &fft), PYC_EINVAL);
	ck_assert_int_eq(dw_fft_create(131072, &fft), PYC_EINVAL);
	ck_assert_int_eq(dw_fft_create(-256, &fft), PYC_EINVAL);
	ck_assert_int_eq(dw_fft_create(256, NULL), PYC_EINVAL);
	ck_assert_ptr_null(fft);
	ck_assert_int_eq(dw_fft_create(16, &fft), PYC_OK);
	dw_fft_destroy(fft);
	ck_assert_int_eq(dw_fft_create(65536, &fft), PYC_OK);
	dw_fft_destroy(fft);
	dw_fft_destroy(NULL);
}
END_TEST

static Suite *dw_fft_suite(void)
{
	Suite *s = suite_create("dw_fft");
	TCase *core = tcase_create("core");
	tcase_add_test(core, test_dw_fft_matches_numpy);
	tcase_add_test(core, test_dw_fft_sine_peaks_at_its_bin);
	suite_add_tcase(s, core);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_dw_fft_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_fft_suite());
}
