/* check_gw_proto.c - the gateway's parsing of what clients send: commands,
 * error frames, recording file names, byte ranges, numbers, origins and
 * forwarded addresses (gateway/gw_proto.c).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gw_metrics.h"
#include "gw_proto.h"

static pyc_err parse(const char *s, gw_cmd *c, gw_proto_err *e)
{
	return gw_proto_parse(s, strlen(s), c, e);
}

static const char *code_of(const char *s)
{
	static gw_proto_err e;
	gw_cmd c;
	if (parse(s, &c, &e) == PYC_OK)
		return "ok";
	return e.code;
}

START_TEST(test_gw_proto_init_defaults)
{
	gw_cmd c;
	gw_proto_err e;
	ck_assert_int_eq(parse("{\"action\":\"init\"}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.action, GW_ACT_INIT);
	ck_assert_uint_eq(c.params.mask, PYC_P_RATE | PYC_P_CHANNELS);
	ck_assert_int_eq(c.params.sample_rate, 44100);
	ck_assert_int_eq(c.params.channels, 2);
	ck_assert_int_eq(parse("{\"action\":\"init\",\"sample_rate\":48000,\"channels\":1,"
			       "\"fft_size\":1024,\"monitor\":true,\"extra\":[1]}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.params.sample_rate, 48000);
	ck_assert_int_eq(c.params.channels, 1);
	ck_assert_int_eq(c.params.fft_size, 1024);
	ck_assert_int_eq(c.params.monitor, 1);
	ck_assert(c.params.mask & PYC_P_FFT);
	ck_assert(c.params.mask & PYC_P_MONITOR);
}
END_TEST

START_TEST(test_gw_proto_set_params_subset)
{
	gw_cmd c;
	gw_proto_err e;
	ck_assert_int_eq(parse("{\"action\":\"set_params\",\"gain\":6.0,\"filter_enabled\":true,"
			       "\"cutoff_freq\":1500,\"integration_time\":0.5}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.action, GW_ACT_SET_PARAMS);
	ck_assert_uint_eq(c.params.mask,
	    PYC_P_GAIN | PYC_P_FILTER | PYC_P_CUTOFF | PYC_P_INTEGRATION);
	ck_assert_double_eq(c.params.gain_db, 6.0);
	ck_assert_int_eq(c.params.filter_enabled, 1);
	ck_assert_double_eq(c.params.cutoff_hz, 1500.0);
	ck_assert_double_eq(c.params.integration_s, 0.5);
	ck_assert_int_eq(parse("{\"action\":\"set_params\"}", &c, &e), PYC_OK);
	ck_assert_uint_eq(c.params.mask, 0);
	ck_assert_int_eq(parse("{\"action\":\"set_params\",\"gain\":-60,\"filter_enabled\":0}", &c,
			     &e), PYC_OK);
	ck_assert_double_eq(c.params.gain_db, -60.0);
	ck_assert_int_eq(c.params.filter_enabled, 0);
}
END_TEST

START_TEST(test_gw_proto_record)
{
	gw_cmd c;
	gw_proto_err e;
	ck_assert_int_eq(parse("{\"action\":\"start_record\"}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.action, GW_ACT_START_RECORD);
	ck_assert_uint_eq(c.params.mask, 0);
	ck_assert_int_eq(parse("{\"action\":\"start_record\",\"sample_rate\":22050,\"gain\":5}", &c,
			     &e), PYC_OK);
	ck_assert_uint_eq(c.params.mask, PYC_P_RATE); /* gain is not start_record's */
	ck_assert_int_eq(parse("{\"action\":\"stop_record\",\"sample_rate\":1}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.action, GW_ACT_STOP_RECORD);
}
END_TEST

START_TEST(test_gw_proto_loudness)
{
	gw_cmd c;
	gw_proto_err e;
	ck_assert_int_eq(parse("{\"action\":\"set_params\",\"loudness\":true}", &c, &e), PYC_OK);
	ck_assert_uint_eq(c.params.mask, PYC_P_LOUDNESS);
	ck_assert_int_eq(c.params.loudness, 1);
	ck_assert_int_eq(parse("{\"action\":\"init\",\"loudness\":1}", &c, &e), PYC_OK);
	ck_assert(c.params.mask & PYC_P_LOUDNESS);
	ck_assert_int_eq(parse("{\"action\":\"init\"}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.params.loudness, 0); /* off by default */
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"loudness\":\"yes\"}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"loudness\":2}"), "bad_type");
	/* reset_loudness: a set_params holding the reset bit only; other
	 * fields are not its own and are ignored. */
	ck_assert_int_eq(parse("{\"action\":\"reset_loudness\",\"gain\":3}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.action, GW_ACT_SET_PARAMS);
	ck_assert_uint_eq(c.params.mask, PYC_P_LOUDNESS_RESET);
}
END_TEST

START_TEST(test_gw_proto_third_octave)
{
	gw_cmd c;
	gw_proto_err e;
	ck_assert_int_eq(parse("{\"action\":\"set_params\",\"bands\":\"third_octave\"}", &c, &e),
	    PYC_OK);
	ck_assert_uint_eq(c.params.mask, PYC_P_BANDS);
	ck_assert_int_eq(c.params.bands, PYC_BANDS_THIRD_OCTAVE);
	ck_assert_int_eq(parse("{\"action\":\"set_params\",\"bands\":64}", &c, &e), PYC_OK);
	ck_assert_int_eq(c.params.bands, 64);
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"bands\":\"octave\"}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"bands\":true}"), "bad_type");
	/* the internal code of third_octave is not a band count */
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"bands\":-3}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"bands\":-1}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"bands\":257}"), "out_of_range");
}
END_TEST

START_TEST(test_gw_proto_errors)
{
	ck_assert_str_eq(code_of("not json"), "bad_json");
	ck_assert_str_eq(code_of("{\"action\":\"init\""), "bad_json");
	ck_assert_str_eq(code_of("[]"), "bad_json");
	ck_assert_str_eq(code_of("42"), "bad_json");
	ck_assert_str_eq(code_of("{}"), "missing_field");
	ck_assert_str_eq(code_of("{\"action\":5}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"explode\"}"), "unknown_action");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"sample_rate\":\"44100\"}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"sample_rate\":44100.5}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"sample_rate\":44100.0}"), "ok");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"sample_rate\":7999}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"sample_rate\":192001}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"sample_rate\":1e300}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"init\",\"channels\":3}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"gain\":60.0001}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"gain\":null}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"gain\":true}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"filter_enabled\":2}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"filter_enabled\":\"yes\"}"), "bad_type");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"cutoff_freq\":5}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"integration_time\":-1}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"filter_order\":9}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"fft_size\":1000}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"waveform_points\":1}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"max_meter_rate\":-2}"), "out_of_range");
	ck_assert_str_eq(code_of("{\"action\":\"set_params\",\"bands\":257}"), "out_of_range");
}
END_TEST

START_TEST(test_gw_proto_error_message_names_field)
{
	gw_cmd c;
	gw_proto_err e;
	ck_assert_int_eq(parse("{\"action\":\"set_params\",\"cutoff_freq\":1e9}", &c, &e), PYC_EINVAL);
	ck_assert(strstr(e.message, "cutoff_freq") != NULL);
	ck_assert_int_eq(parse("{\"action\":\"x\\\"y\"}", &c, &e), PYC_EINVAL);
	char buf[512];
	size_t n = gw_proto_error_json(buf, sizeof(buf), e.code, e.message);
	ck_assert_uint_gt(n, 0);
	cJSON *j = cJSON_Parse(buf);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "type")->valuestring, "error");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "code")->valuestring, "unknown_action");
	cJSON_Delete(j);
}
END_TEST

START_TEST(test_gw_proto_error_json_escapes)
{
	char buf[256];
	size_t n = gw_proto_error_json(buf, sizeof(buf), "bad_json", "a \"quoted\"\n\\ line");
	ck_assert_uint_eq(n, strlen(buf));
	cJSON *j = cJSON_Parse(buf);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "message")->valuestring, "a \"quoted\"\n\\ line");
	cJSON_Delete(j);
	ck_assert_uint_eq(gw_proto_error_json(buf, 20, "bad_json", "too long for the buffer"), 0);
}
END_TEST

START_TEST(test_gw_proto_filename)
{
	ck_assert(gw_proto_filename_valid("rec_20240131T235959Z_abcdefghijklmnopqrstuv.wav"));
	ck_assert(gw_proto_filename_valid("rec_20240131T235959Z_ABC-_fghijklmnopq01234.wav"));
	ck_assert(!gw_proto_filename_valid(NULL));
	ck_assert(!gw_proto_filename_valid(""));
	ck_assert(!gw_proto_filename_valid("nonexistent.wav"));
	ck_assert(!gw_proto_filename_valid("rec_20240131T235959Z_abcdefghijklmnopqrstu.wav"));
	ck_assert(!gw_proto_filename_valid("rec_20240131T235959Z_abcdefghijklmnopqrstuv.mp3"));
	ck_assert(!gw_proto_filename_valid("rec_2024013xT235959Z_abcdefghijklmnopqrstuv.wav"));
	ck_assert(!gw_proto_filename_valid("rec_20240131T235959Z_abcdefghijklmnop/rstuv.wav"));
	ck_assert(!gw_proto_filename_valid("rec_20240131T235959Z_abcdefghijklmnop.rstuv.wav"));
	ck_assert(!gw_proto_filename_valid("../20240131T235959Z_abcdefghijklmnopqrstuv.wav"));
}
END_TEST

START_TEST(test_gw_proto_range)
{
	uint64_t a, b;
	ck_assert_int_eq(gw_proto_range_parse(NULL, 100, &a, &b), GW_RANGE_NONE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=0-", 100, &a, &b), GW_RANGE_OK);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(b, 99);
	ck_assert_int_eq(gw_proto_range_parse("bytes=10-19", 100, &a, &b), GW_RANGE_OK);
	ck_assert_uint_eq(a, 10);
	ck_assert_uint_eq(b, 19);
	ck_assert_int_eq(gw_proto_range_parse("bytes=90-500", 100, &a, &b), GW_RANGE_OK);
	ck_assert_uint_eq(b, 99);
	ck_assert_int_eq(gw_proto_range_parse("bytes=-10", 100, &a, &b), GW_RANGE_OK);
	ck_assert_uint_eq(a, 90);
	ck_assert_uint_eq(b, 99);
	ck_assert_int_eq(gw_proto_range_parse("bytes=-1000", 100, &a, &b), GW_RANGE_OK);
	ck_assert_uint_eq(a, 0);
	ck_assert_int_eq(gw_proto_range_parse("bytes=100-", 100, &a, &b), GW_RANGE_UNSATISFIABLE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=-0", 100, &a, &b), GW_RANGE_UNSATISFIABLE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=0-0", 0, &a, &b), GW_RANGE_UNSATISFIABLE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=5-1", 100, &a, &b), GW_RANGE_NONE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=0-1,5-6", 100, &a, &b), GW_RANGE_NONE);
	ck_assert_int_eq(gw_proto_range_parse("items=0-1", 100, &a, &b), GW_RANGE_NONE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=abc", 100, &a, &b), GW_RANGE_NONE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=-", 100, &a, &b), GW_RANGE_NONE);
	ck_assert_int_eq(gw_proto_range_parse("bytes=99999999999999999999999-", 100, &a, &b),
	    GW_RANGE_NONE);
}
END_TEST

START_TEST(test_gw_proto_uint)
{
	uint64_t v;
	ck_assert(gw_proto_parse_uint("0", 0, 10, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert(gw_proto_parse_uint("10", 0, 10, &v));
	ck_assert(!gw_proto_parse_uint("11", 0, 10, &v));
	ck_assert(!gw_proto_parse_uint("-1", 0, 10, &v));
	ck_assert(!gw_proto_parse_uint("1.5", 0, 10, &v));
	ck_assert(!gw_proto_parse_uint("", 0, 10, &v));
	ck_assert(!gw_proto_parse_uint(" 1", 0, 10, &v));
	ck_assert(!gw_proto_parse_uint("99999999999999999999", 0, UINT64_MAX, &v));
}
END_TEST

START_TEST(test_gw_proto_origin)
{
	const char *l = "http://localhost:3000, http://127.0.0.1:3000/,https://app.example";
	ck_assert(gw_proto_origin_allowed(l, "http://localhost:3000"));
	ck_assert(gw_proto_origin_allowed(l, "http://127.0.0.1:3000"));
	ck_assert(gw_proto_origin_allowed(l, "https://app.example"));
	ck_assert(gw_proto_origin_allowed(l, "HTTPS://APP.EXAMPLE"));
	ck_assert(!gw_proto_origin_allowed(l, "https://evil.example"));
	ck_assert(!gw_proto_origin_allowed(l, "http://localhost:30000"));
	ck_assert(!gw_proto_origin_allowed(l, "http://localhost"));
	ck_assert(!gw_proto_origin_allowed(l, ""));
	ck_assert(!gw_proto_origin_allowed(l, NULL));
	ck_assert(!gw_proto_origin_allowed("", "http://localhost:3000"));
	ck_assert(gw_proto_origin_allowed("*", "https://any.example"));
}
END_TEST

START_TEST(test_gw_proto_client_addr)
{
	char a[64];
	const char *t = "127.0.0.1,::1,10.0.0.2";
	gw_proto_client_addr("203.0.113.9", "1.2.3.4", t, a, sizeof(a));
	ck_assert_str_eq(a, "203.0.113.9"); /* not a proxy: header ignored */
	gw_proto_client_addr("127.0.0.1", "1.2.3.4", t, a, sizeof(a));
	ck_assert_str_eq(a, "1.2.3.4");
	gw_proto_client_addr("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", t, a, sizeof(a));
	ck_assert_str_eq(a, "1.2.3.4"); /* rightmost untrusted */
	gw_proto_client_addr("::ffff:127.0.0.1", "5.6.7.8", t, a, sizeof(a));
	ck_assert_str_eq(a, "5.6.7.8");
	gw_proto_client_addr("127.0.0.1", "not an address", t, a, sizeof(a));
	ck_assert_str_eq(a, "127.0.0.1");
	gw_proto_client_addr("127.0.0.1", NULL, t, a, sizeof(a));
	ck_assert_str_eq(a, "127.0.0.1");
	ck_assert(gw_proto_addr_in_list(t, "::ffff:10.0.0.2"));
	ck_assert(!gw_proto_addr_in_list(t, "10.0.0.20"));
}
END_TEST

START_TEST(test_gw_metrics_render_parses)
{
	size_t len;
	gw_metrics_error("bad_json");
	gw_metrics_error("something-else");
	gw_metrics_latency(700);
	gw_metrics_latency(3000000);
	char *t = gw_metrics_render(&len);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(strlen(t), len);
	ck_assert(strstr(t, "pyc_errors_total{code=\"bad_json\"} 1\n") != NULL);
	ck_assert(strstr(t, "pyc_errors_total{code=\"other\"} 1\n") != NULL);
	ck_assert(strstr(t, "pyc_meter_latency_seconds_bucket{le=\"0.001\"} 1\n") != NULL);
	ck_assert(strstr(t, "pyc_meter_latency_seconds_bucket{le=\"+Inf\"} 2\n") != NULL);
	ck_assert(strstr(t, "pyc_meter_latency_seconds_count 2\n") != NULL);
	/* every sample line is "name[{labels}] number" */
	for (char *line = strtok(t, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		char *sp = strrchr(line, ' ');
		ck_assert_ptr_nonnull(sp);
		char *end;
		strtod(sp + 1, &end);
		ck_assert_msg(*end == '\0', "bad sample line: %s", line);
	}
	free(t);
}
END_TEST

static Suite *gw_proto_suite(void)
{
	Suite *s = suite_create("gw_proto");
	TCase *core = tcase_create("core");
	tcase_add_test(core, test_gw_proto_init_defaults);
	tcase_add_test(core, test_gw_proto_set_params_subset);
	tcase_add_test(core, test_gw_proto_record);
	tcase_add_test(core, test_gw_proto_loudness);
	tcase_add_test(core, test_gw_proto_third_octave);
	tcase_add_test(core, test_gw_proto_filename);
	tcase_add_test(core, test_gw_proto_range);
	tcase_add_test(core, test_gw_proto_uint);
	tcase_add_test(core, test_gw_proto_origin);
	tcase_add_test(core, test_gw_proto_client_addr);
	tcase_add_test(core, test_gw_metrics_render_parses);
	suite_add_tcase(s, core);
	TCase *err = tcase_create("errors");
	tcase_add_test(err, test_gw_proto_errors);
	tcase_add_test(err, test_gw_proto_error_message_names_field);
	tcase_add_test(err, test_gw_proto_error_json_escapes);
	suite_add_tcase(s, err);
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	SRunner *sr = srunner_create(gw_proto_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
