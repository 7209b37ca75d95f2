/* it_system_basic.c - the earlier version's behaviours, one by one, against
 * the real recorder, dsp-worker host and gateway.
 *
 * NOTES: one system for the whole file (started in main, before the
 * runner forks the tests); each test uses its own session id, so the tests
 * do not see each other's sessions or recordings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "it_system_util.h"

static sys S;

START_TEST(test_system_docs_ok)
{
	gw_http_resp r;
	char ct[128];
	ck_assert_int_eq(sys_http(&S, "GET", "/docs", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(gw_http_header(&r, "Content-Type", ct, sizeof(ct)));
	ck_assert(strstr(ct, "text/html") != NULL);
	ck_assert(strstr(r.body, "/recordings/{filename}") != NULL);
	gw_http_free(&r);
	ck_assert_int_eq(sys_http(&S, "GET", "/openapi.json", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	cJSON *j = cJSON_Parse(r.body);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "openapi")->valuestring, "3.1.0");
	cJSON_Delete(j);
	gw_http_free(&r);
}
END_TEST

START_TEST(test_system_empty_list)
{
	gw_http_resp r;
	char sid[64];
	char path[256];
	sys_mksid(sid, sizeof(sid), "empty");
	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "[]");
	gw_http_free(&r);
	ck_assert_int_eq(sys_http(&S, "GET", "/recordings", NULL, &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(r.body, "{\"detail\":\"session_id is required\"}");
	gw_http_free(&r);
}
END_TEST

static void check_meter(const char *m)
{
	cJSON *j = cJSON_Parse(m);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "type")->valuestring, "meter");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "rms")));
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "panning")));
	const cJSON *sp = cJSON_GetObjectItem(j, "spectrum");
	ck_assert(cJSON_IsArray(sp));
	ck_assert_int_eq(cJSON_GetArraySize(sp), 32);
	const cJSON *v;
	cJSON_ArrayForEach(v, sp)
	{
		ck_assert(v->valuedouble >= 0.0 && v->valuedouble <= 1.0);
	}
	cJSON_Delete(j);
}

START_TEST(test_system_init_record_audio_meter)
{
	char sid[64];
	int16_t pcm[2 * 1024];
	double ph = 0;
	sys_mksid(sid, sizeof(sid), "meter");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"init\",\"sample_rate\":44100,\"channels\":2}"), 0);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	sig_sine(pcm, 1024, 2, 44100, 1000, 0.5, 1.0, &ph);
	ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
	char *m = gw_tc_recv_match(c, "\"meter\"", 5000);
	ck_assert_ptr_nonnull(m);
	check_meter(m);
	free(m);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_recording_flow)
{
	char sid[64], path[256], fname[160];
	int16_t pcm[2 * 1024];
	double ph = 0, dur = 0;
	gw_http_resp r;
	sys_mksid(sid, sizeof(sid), "flow");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"init\",\"sample_rate\":44100,\"channels\":2}"), 0);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	for (int i = 0; i < 43; i++) {
		sig_sine(pcm, 1024, 2, 44100, 440, 0.3, 1.0, &ph);
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
	}
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"stop_record\"}"), 0);
	char *m = gw_tc_recv_match(c, "recording_saved", 15000);
	ck_assert_msg(m != NULL, "no recording_saved");
	ck_assert(json_str(m, "filename", fname, sizeof(fname)));
	ck_assert(json_num(m, "duration_seconds", &dur));
	ck_assert_double_eq_tol(dur, 43.0 * 1024 / 44100, 0.01);
	free(m);

	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, fname) != NULL, "%s not listed in %s", fname, r.body);
	cJSON *j = cJSON_Parse(r.body);
	ck_assert_int_eq(cJSON_GetArraySize(j), 1);
	const cJSON *e = cJSON_GetArrayItem(j, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(e, "session_id")->valuestring, sid);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(e, "settings")));
	ck_assert_int_eq(cJSON_GetObjectItem(e, "channels")->valueint, 2);
	cJSON_Delete(j);
	gw_http_free(&r);

	snprintf(path, sizeof(path), "/recordings/%s", fname);
	ck_assert_int_eq(sys_http(&S, "DELETE", path, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	char want[256];
	snprintf(want, sizeof(want), "{\"status\":\"ok\",\"filename\":\"%s\"}", fname);
	ck_assert_str_eq(r.body, want);
	gw_http_free(&r);

	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &r), 0);
	ck_assert_str_eq(r.body, "[]");
	gw_http_free(&r);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_invalid_json_keeps_connection)
{
	char sid[64];
	sys_mksid(sid, sizeof(sid), "badjson");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(gw_tc_send_text(c, "this is not json"), 0);
	char *m = gw_tc_recv_text(c, 3000);
	ck_assert_ptr_nonnull(m);
	char code[32];
	ck_assert(json_str(m, "type", code, sizeof(code)));
	ck_assert_str_eq(code, "error");
	ck_assert(json_str(m, "code", code, sizeof(code)));
	ck_assert_str_eq(code, "bad_json");
	free(m);
	const char *bad[][2] = {
		{"{\"action\":\"dance\"}", "unknown_action"},
		{"{\"action\":\"set_params\",\"gain\":\"loud\"}", "bad_type"},
		{"{\"action\":\"set_params\",\"gain\":1000}", "out_of_range"},
		{"{\"action\":\"init\",\"sample_rate\":1}", "out_of_range"},
		{"{\"gain\":1}", "missing_field"},
		{"[1,2]", "bad_json"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(gw_tc_send_text(c, bad[i][0]), 0);
		m = gw_tc_recv_text(c, 3000);
		ck_assert_msg(m != NULL, "no answer to %s", bad[i][0]);
		ck_assert(json_str(m, "code", code, sizeof(code)));
		ck_assert_msg(strcmp(code, bad[i][1]) == 0, "%s: %s", bad[i][0], m);
		free(m);
	}
	ck_assert(!gw_tc_closed(c));
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":1}"), 0);
	m = gw_tc_recv_match(c, "\"ready\"", 5000);
	ck_assert_ptr_nonnull(m);
	free(m);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_no_session_id_4000)
{
	const char *paths[] = {"/ws/audio", "/ws/audio?session_id=", "/ws/audio?session_id=bad%20id",
	    "/ws/audio?session_id=a/b", "/ws/audio?other=1"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		gw_tc *c = gw_tc_connect(S.ws_port, paths[i], NULL, 5000);
		ck_assert_msg(c != NULL, "%s: not upgraded", paths[i]);
		ck_assert_int_eq(gw_tc_wait_close(c, 5000), 4000);
		gw_tc_destroy(c);
	}
	char longid[200];
	memset(longid, 'a', 129);
	longid[129] = '\0';
	char path[300];
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", longid);
	gw_tc *c = gw_tc_connect(S.ws_port, path, NULL, 5000);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(gw_tc_wait_close(c, 5000), 4000);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_unknown_recording_404)
{
	static const char nf[] = "{\"detail\":\"Recording not found\"}";
	const char *names[] = {"/recordings/rec_20240101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav",
	    "/recordings/nonexistent.wav", "/recordings/..%2F..%2Fetc%2Fpasswd"};
	for (size_t i = 0; i < 3; i++) {
		sys_http_expect(&S, "DELETE", names[i], NULL, 404, nf);
		sys_http_expect(&S, "GET", names[i], NULL, 404, nf);
	}
}
END_TEST

START_TEST(test_system_health)
{
	gw_http_resp r;
	ck_assert_int_eq(sys_http(&S, "GET", "/health", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	cJSON *j = cJSON_Parse(r.body);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "recorder")->valuestring, "ok");
	ck_assert_int_ge(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "workers"), "hosts")->valueint, 1);
	cJSON_Delete(j);
	gw_http_free(&r);
}
END_TEST

int main(void)
{
	if (!sys_start(&S, NULL))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_basic");
	TCase *tc = sys_tcase(s, "earlier", 30);
	tcase_add_test(tc, test_system_docs_ok);
	tcase_add_test(tc, test_system_health);
	tcase_add_test(tc, test_system_empty_list);
	tcase_add_test(tc, test_system_init_record_audio_meter);
	tcase_add_test(tc, test_system_recording_flow);
	tcase_add_test(tc, test_system_invalid_json_keeps_connection);
	tcase_add_test(tc, test_system_no_session_id_4000);
	tcase_add_test(tc, test_system_unknown_recording_404);
	return sys_run(&S, s);
}
