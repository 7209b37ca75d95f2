/* check_pyc_util.c - identifiers, session parameters, error names, logging.
 *
 * NOTES: the small modules of common/ that have no process of their own.
 * Logging is checked by capturing stderr through a pipe.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "pyc_id.h"
#include "pyc_log.h"
#include "pyc_params.h"

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_pyc_id_format_and_uniqueness)
{
	enum { N = 2000 };
	static char ids[N][PYC_ID_STRLEN + 1];
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pyc_id_new(ids[i]), PYC_OK);
		ck_assert_int_eq(strlen(ids[i]), PYC_ID_STRLEN);
		ck_assert(pyc_session_id_valid(ids[i], PYC_ID_STRLEN));
	}
	qsort(ids, N, sizeof(ids[0]), cmp_id);
	for (int i = 1; i < N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

START_TEST(test_pyc_id_bits_are_random)
{
	/* Over many ids each of the 6 bits of each of the first 21 characters
	 * is set about half the time (the 22nd carries only 2 random bits). */
	enum { N = 4000 };
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int ones[21][6] = {{0}};
	char id[PYC_ID_STRLEN + 1];
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(pyc_id_new(id), PYC_OK);
		for (int c = 0; c < 21; c++) {
			int v = (int) (strchr(alpha, id[c]) - alpha);
			for (int b = 0; b < 6; b++)
				ones[c][b] += (v >> b) & 1;
		}
	}
	for (int c = 0; c < 21; c++)
		for (int b = 0; b < 6; b++)
			ck_assert_msg(ones[c][b] > N * 0.44 && ones[c][b] < N * 0.56,
			    "char %d bit %d set %d/%d", c, b, ones[c][b], N);
}
END_TEST

START_TEST(test_pyc_session_id_valid)
{
	char s[PYC_SESSION_ID_MAX + 2];
	ck_assert(pyc_session_id_valid("a", 1));
	ck_assert(pyc_session_id_valid("Az09_-", 6));
	ck_assert(!pyc_session_id_valid("", 0));
	ck_assert(!pyc_session_id_valid(NULL, 3));
	ck_assert(!pyc_session_id_valid("a b", 3));
	ck_assert(!pyc_session_id_valid("a/b", 3));
	ck_assert(!pyc_session_id_valid("a.b", 3));
	ck_assert(!pyc_session_id_valid("a\0b", 3));
	ck_assert(!pyc_session_id_valid("\xc3\xa9", 2));
	memset(s, 'x', sizeof(s));
	ck_assert(pyc_session_id_valid(s, PYC_SESSION_ID_MAX));
	ck_assert(!pyc_session_id_valid(s, PYC_SESSION_ID_MAX + 1));
}
END_TEST

START_TEST(test_pyc_params_defaults_valid)
{
	pyc_params p;
	const char *bad = "x";
	pyc_params_defaults(&p);
	ck_assert_int_eq(p.mask, PYC_P_ALL);
	ck_assert_int_eq(p.sample_rate, 44100);
	ck_assert_int_eq(p.channels, 2);
	ck_assert_int_eq(p.filter_order, 4);
	ck_assert_int_eq(p.fft_size, 4096);
	ck_assert_int_eq(pyc_params_check(&p, &bad), PYC_OK);
	ck_assert_ptr_null(bad);
}
END_TEST

START_TEST(test_pyc_params_merge)
{
	pyc_params base, upd;
	pyc_params_defaults(&base);
	memset(&upd, 0, sizeof(upd));
	upd.mask = PYC_P_GAIN | PYC_P_CUTOFF;
	upd.gain_db = 12;
	upd.cutoff_hz = 500;
	upd.sample_rate = 1; /* not in mask: ignored */
	pyc_params_merge(&base, &upd);
	ck_assert_double_eq(base.gain_db, 12);
	ck_assert_double_eq(base.cutoff_hz, 500);
	ck_assert_int_eq(base.sample_rate, 44100);

	pyc_params all;
	memset(&all, 0, sizeof(all));
	all.mask = PYC_P_ALL;
	all.sample_rate = 48000;
	all.channels = 1;
	all.filter_enabled = 1;
	all.integration_s = 1;
	all.filter_order = 8;
	all.fft_size = 256;
	all.bands = 64;
	all.waveform_points = 512;
	all.max_meter_rate = 30;
	all.monitor = 1;
	all.loudness = 1;
	pyc_params_merge(&base, &all);
	ck_assert_int_eq(base.sample_rate, 48000);
	ck_assert_int_eq(base.channels, 1);
	ck_assert_int_eq(base.filter_enabled, 1);
	ck_assert_double_eq(base.integration_s, 1);
	ck_assert_int_eq(base.filter_order, 8);
	ck_assert_int_eq(base.fft_size, 256);
	ck_assert_int_eq(base.bands, 64);
	ck_assert_int_eq(base.waveform_points, 512);
	ck_assert_double_eq(base.max_meter_rate, 30);
	ck_assert_int_eq(base.monitor, 1);
	ck_assert_int_eq(base.loudness, 1);
	ck_assert_double_eq(base.gain_db, 0);
	/* The loudness reset bit is a command, not a field: never merged. */
	pyc_params rst;
	pyc_params_defaults(&rst);
	rst.mask = PYC_P_LOUDNESS_RESET;
	ck_assert_int_eq(pyc_params_check(&rst, NULL), PYC_OK);
	base.mask = PYC_P_GAIN;
	pyc_params_merge(&base, &rst);
	ck_assert_uint_eq(base.mask, PYC_P_GAIN);
}
END_TEST

static void expect_bad_param(void (*set)(pyc_params *), const char *field)
{
	pyc_params p;
	const char *bad = NULL;
	pyc_params_defaults(&p);
	set(&p);
	ck_assert_int_eq(pyc_params_check(&p, &bad), PYC_EINVAL);
	ck_assert_ptr_nonnull(bad);
	ck_assert_str_eq(bad, field);
}

static void s_rate_lo(pyc_params *p) { p->sample_rate = 7999; }
static void s_rate_hi(pyc_params *p) { p->sample_rate = 192001; }
static void s_ch(pyc_params *p) { p->channels = 3; }
static void s_gain_nan(pyc_params *p) { p->gain_db = NAN; }
static void s_gain_inf(pyc_params *p) { p->gain_db = INFINITY; }
static void s_gain_hi(pyc_params *p) { p->gain_db = 60.5; }
static void s_filter(pyc_params *p) { p->filter_enabled = 2; }
static void s_cut_lo(pyc_params *p) { p->cutoff_hz = 9.9; }
static void s_cut_nan(pyc_params *p) { p->cutoff_hz = NAN; }
static void s_int_neg(pyc_params *p) { p->integration_s = -0.1; }
static void s_int_hi(pyc_params *p) { p->integration_s = 10.5; }
static void s_order(pyc_params *p) { p->filter_order = 9; }
static void s_fft_pow(pyc_params *p) { p->fft_size = 1000; }
static void s_fft_big(pyc_params *p) { p->fft_size = 32768; }
static void s_bands(pyc_params *p) { p->bands = 257; }
static void s_wave(pyc_params *p) { p->waveform_points = 1; }
static void s_rate(pyc_params *p) { p->max_meter_rate = -1; }
static void s_mon(pyc_params *p) { p->monitor = -1; }
static void s_loud(pyc_params *p) { p->loudness = 2; }
static void s_mask(pyc_params *p) { p->mask |= 1u << 20; }
static void s_mask14(pyc_params *p) { p->mask |= 1u << 14; }

START_TEST(test_pyc_params_ranges)
{
	expect_bad_param(s_rate_lo, "sample_rate");
	expect_bad_param(s_rate_hi, "sample_rate");
	expect_bad_param(s_ch, "channels");
	expect_bad_param(s_gain_nan, "gain");
	expect_bad_param(s_gain_inf, "gain");
	expect_bad_param(s_gain_hi, "gain");
	expect_bad_param(s_filter, "filter_enabled");
	expect_bad_param(s_cut_lo, "cutoff_freq");
	expect_bad_param(s_cut_nan, "cutoff_freq");
	expect_bad_param(s_int_neg, "integration_time");
	expect_bad_param(s_int_hi, "integration_time");
	expect_bad_param(s_order, "filter_order");
	expect_bad_param(s_fft_pow, "fft_size");
	expect_bad_param(s_fft_big, "fft_size");
	expect_bad_param(s_bands, "bands");
	expect_bad_param(s_wave, "waveform_points");
	expect_bad_param(s_rate, "max_meter_rate");
	expect_bad_param(s_mon, "monitor");
	expect_bad_param(s_loud, "loudness");
	expect_bad_param(s_mask, "mask");
	expect_bad_param(s_mask14, "mask");

	/* a field outside the mask is not checked */
	pyc_params p;
	pyc_params_defaults(&p);
	p.mask = PYC_P_GAIN;
	p.sample_rate = -5;
	ck_assert_int_eq(pyc_params_check(&p, NULL), PYC_OK);
}
END_TEST

START_TEST(test_pyc_err_names_and_mapping)
{
	for (int e = 0; e < PYC_ERR_COUNT; e++) {
		ck_assert_ptr_nonnull(pyc_strerror(e));
		ck_assert_str_ne(pyc_err_name(e), "unknown");
	}
	ck_assert_str_eq(pyc_strerror(-1), "unknown error");
	ck_assert_str_eq(pyc_err_name(PYC_ERR_COUNT), "unknown");
	ck_assert_str_eq(pyc_err_name(PYC_ENOSPC), "enospc");
	ck_assert_int_eq(pyc_err_from_nng(0), PYC_OK);
	ck_assert_int_eq(pyc_err_from_nng(NNG_ETIMEDOUT), PYC_ETIMEDOUT);
	ck_assert_int_eq(pyc_err_from_nng(NNG_ECLOSED), PYC_ECLOSED);
	ck_assert_int_eq(pyc_err_from_nng(NNG_ENOMEM), PYC_ENOMEM);
	ck_assert_int_eq(pyc_err_from_nng(NNG_EAGAIN), PYC_EAGAIN);
	ck_assert_int_eq(pyc_err_from_nng(NNG_EADDRINVAL), PYC_EINVAL);
	ck_assert_int_eq(pyc_err_from_nng(NNG_ENOENT), PYC_ENOENT);
	ck_assert_int_eq(pyc_err_from_nng(NNG_EMSGSIZE), PYC_EPROTO);
	ck_assert_int_eq(pyc_err_from_nng(NNG_EADDRINUSE), PYC_EBUSY);
	ck_assert_int_eq(pyc_err_from_nng(NNG_EPERM), PYC_EPERM);
	ck_assert_int_eq(pyc_err_from_nng(NNG_ENOSPC), PYC_ENOSPC);
	ck_assert_int_eq(pyc_err_from_nng(NNG_EINTERNAL), PYC_EIO);
	ck_assert_int_eq(pyc_err_from_errno(0), PYC_OK);
	ck_assert_int_eq(pyc_err_from_errno(ENOSPC), PYC_ENOSPC);
	ck_assert_int_eq(pyc_err_from_errno(EDQUOT), PYC_ENOSPC);
	ck_assert_int_eq(pyc_err_from_errno(ENOENT), PYC_ENOENT);
	ck_assert_int_eq(pyc_err_from_errno(EACCES), PYC_EPERM);
	ck_assert_int_eq(pyc_err_from_errno(EEXIST), PYC_EEXIST);
	ck_assert_int_eq(pyc_err_from_errno(ENOMEM), PYC_ENOMEM);
	ck_assert_int_eq(pyc_err_from_errno(EINVAL), PYC_EINVAL);
	ck_assert_int_eq(pyc_err_from_errno(EAGAIN), PYC_EAGAIN);
	ck_assert_int_eq(pyc_err_from_errno(ETIMEDOUT), PYC_ETIMEDOUT);
	ck_assert_int_eq(pyc_err_from_errno(EBUSY), PYC_EBUSY);
	ck_assert_int_eq(pyc_err_from_errno(EIO), PYC_EIO);
}
END_TEST

/* Runs fn with stderr redirected into a pipe and returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	static char out[8192];
	int fds[2];
	int saved = dup(STDERR_FILENO);
	ck_assert_int_eq(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void log_text(void)
{
	pyc_log_init("svc", PYC_LOG_INFO, PYC_LOG_TEXT);
	pyc_log(PYC_LOG_DEBUG, "hidden %d", 1);
	pyc_log(PYC_LOG_WARN, "worker %d exited on signal %d", 42, 9);
}

static void log_json(void)
{
	pyc_log_init("gateway", PYC_LOG_DEBUG, PYC_LOG_JSON);
	pyc_log(PYC_LOG_ERROR, "quote \" backslash \\ newline \n end");
}

static void log_long(void)
{
	char big[3000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pyc_log_init("svc", PYC_LOG_INFO, PYC_LOG_TEXT);
	pyc_log(PYC_LOG_INFO, "%s", big);
}

START_TEST(test_pyc_log_text_and_json)
{
	char pidtag[64];
	char *t = capture_stderr(log_text);
	snprintf(pidtag, sizeof(pidtag), "svc[%ld] warn: ", (long) getpid());
	ck_assert_ptr_nonnull(strstr(t, pidtag));
	ck_assert_ptr_nonnull(strstr(t, "worker 42 exited on signal 9\n"));
	ck_assert_ptr_null(strstr(t, "hidden"));
	ck_assert_int_eq(strchr(t, '\n') - t + 1, (long) strlen(t)); /* one line */

	char *j = capture_stderr(log_json);
	cJSON *o = cJSON_Parse(j);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "level")->valuestring, "error");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "service")->valuestring, "gateway");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "msg")->valuestring,
	    "quote \" backslash \\ newline \n end");
	ck_assert_int_eq((int) cJSON_GetObjectItem(o, "pid")->valuedouble, getpid());
	cJSON_Delete(o);

	char *l = capture_stderr(log_long);
	ck_assert_int_lt(strlen(l), 2400);
	ck_assert_int_eq(l[strlen(l) - 1], '\n');

	ck_assert_int_eq(pyc_log_level_parse("warning"), PYC_LOG_WARN);
	ck_assert_int_eq(pyc_log_level_parse("error"), PYC_LOG_ERROR);
	ck_assert_int_eq(pyc_log_level_parse("nope"), -1);
}
END_TEST

static Suite *pyc_util_suite(void)
{
	Suite *s = suite_create("pyc_util");
	TCase *id = tcase_create("id");
	TCase *params = tcase_create("params");
	TCase *misc = tcase_create("misc");
	tcase_add_test(id, test_pyc_id_format_and_uniqueness);
	tcase_add_test(id, test_pyc_id_bits_are_random);
	tcase_add_test(id, test_pyc_session_id_valid);
	tcase_add_test(params, test_pyc_params_defaults_valid);
	tcase_add_test(params, test_pyc_params_merge);
	tcase_add_test(params, test_pyc_params_ranges);
	tcase_add_test(misc, test_pyc_err_names_and_mapping);
	tcase_add_test(misc, test_pyc_log_text_and_json);
	suite_add_tcase(s, id);
	suite_add_tcase(s, params);
	suite_add_tcase(s, misc);
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	SRunner *sr = srunner_create(pyc_util_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
