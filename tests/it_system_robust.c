/* it_system_robust.c - what a hostile or unlucky world does to the system:
 * a worker SIGKILLed mid-stream, a foreign origin, oversized and
 * fragmented messages, CORS preflight, bad HTTP requests, and the HTTP
 * routes checked against the OpenAPI document; /metrics parses.
 *
 * NOTES: a worker process shows its session in its title
 * ("pycoustics-dsp: session <first 8 characters>"), which is how the test
 * finds the one to kill. WS_MAX_MESSAGE_BYTES is 65536 here so the limits
 * are quick to reach.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "it_system_util.h"

static sys S;

/* The pid of the worker serving the session whose id starts with tag8. */
static pid_t worker_of(const char *tag8)
{
	char want[64];
	snprintf(want, sizeof(want), "session %.8s", tag8);
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		if (strstr(buf, want) != NULL) {
			found = (pid_t) atoi(e->d_name);
			break;
		}
	}
	if (d != NULL)
		closedir(d);
	return found;
}

START_TEST(test_system_worker_sigkill)
{
	char a[64], b[64];
	int16_t pcm[960 * 2];
	uint32_t sa = 1, sb = 2;
	snprintf(a, sizeof(a), "killAAAA-%lld", pyc_now_ms() % 100000);
	snprintf(b, sizeof(b), "keepBBBB-%lld", pyc_now_ms() % 100000);
	gw_tc *ca = sys_open_init(&S, a, 48000, 2);
	gw_tc *cb = sys_open_init(&S, b, 48000, 2);
	ck_assert_int_eq(gw_tc_send_text(ca, "{\"action\":\"set_params\",\"gain\":6}"), 0);
	ck_assert_int_eq(gw_tc_send_text(ca, "{\"action\":\"start_record\"}"), 0);
	for (int i = 0; i < 5; i++) {
		sig_noise(pcm, 960 * 2, &sa, 5000);
		gw_tc_send_binary(ca, pcm, sizeof(pcm));
		sig_noise(pcm, 960 * 2, &sb, 5000);
		gw_tc_send_binary(cb, pcm, sizeof(pcm));
	}
	free(gw_tc_recv_match(ca, "\"meter\"", 5000));
	pid_t pid = 0;
	for (int i = 0; i < 50 && pid == 0; i++) {
		pid = worker_of("killAAAA");
		if (pid == 0)
			pyc_sleep_ms(50);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_ne(pid, worker_of("keepBBBB"));
	gw_tc_discard(cb);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	long long t0 = pyc_now_ms();
	char *m = gw_tc_recv_match(ca, "worker_restarted", 5000);
	ck_assert_msg(m != NULL, "no worker_restarted");
	free(m);
	m = gw_tc_recv_match(ca, "recording_failed", 3000);
	ck_assert_msg(m != NULL, "no recording_failed for the interrupted recording");
	free(m);
	/* meters resume within a second on a fresh worker, with the gain kept */
	char *meter = NULL;
	while (meter == NULL && pyc_now_ms() - t0 < 3000) {
		sig_noise(pcm, 960 * 2, &sa, 5000);
		gw_tc_send_binary(ca, pcm, sizeof(pcm));
		sig_noise(pcm, 960 * 2, &sb, 5000);
		gw_tc_send_binary(cb, pcm, sizeof(pcm));
		meter = gw_tc_recv_match(ca, "\"meter\"", 100);
	}
	ck_assert_msg(meter != NULL, "no meter after the restart");
	ck_assert_int_le(pyc_now_ms() - t0, 1500);
	free(meter);
	pid_t fresh = worker_of("killAAAA");
	ck_assert_int_gt(fresh, 0);
	ck_assert_int_ne(fresh, pid);
	/* the other session noticed nothing: only meters */
	int meters = 0;
	char *t;
	while ((t = gw_tc_recv_text(cb, 300)) != NULL) {
		ck_assert_msg(strstr(t, "\"error\"") == NULL, "other session got %s", t);
		meters++;
		free(t);
	}
	ck_assert_int_gt(meters, 0);
	gw_tc_destroy(ca);
	gw_tc_destroy(cb);
}
END_TEST

START_TEST(test_system_origin_rejected)
{
	gw_tc *c = gw_tc_connect(S.ws_port, "/ws/audio?session_id=origin-bad", "http://evil.example",
	    5000);
	ck_assert_ptr_null(c);
	c = gw_tc_connect(S.ws_port, "/ws/audio?session_id=origin-ok", SYS_ORIGIN, 5000);
	ck_assert_ptr_nonnull(c);
	gw_tc_destroy(c);
	c = gw_tc_connect(S.ws_port, "/other/path?session_id=x", NULL, 5000);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_system_oversized_message_1009)
{
	gw_tc *c = sys_open_init(&S, "big-1", 48000, 2);
	size_t n = 65536 + 4;
	char *big = calloc(1, n);
	gw_tc_send_binary(c, big, n);
	ck_assert_int_eq(gw_tc_wait_close(c, 5000), 1009);
	gw_tc_destroy(c);
	/* the same bytes in fragments are over the limit too */
	c = sys_open_init(&S, "big-2", 48000, 2);
	gw_tc_send_fragmented(c, true, big, n, 8192);
	ck_assert_int_eq(gw_tc_wait_close(c, 5000), 1009);
	gw_tc_destroy(c);
	/* too many fragments */
	c = sys_open_init(&S, "big-3", 48000, 2);
	gw_tc_send_fragmented(c, true, big, 300 * 4, 4);
	ck_assert_int_eq(gw_tc_wait_close(c, 5000), 1009);
	gw_tc_destroy(c);
	free(big);
}
END_TEST

START_TEST(test_system_fragmented_messages)
{
	gw_tc *c = sys_open_init(&S, "frag-1", 48000, 2);
	const char *cmd = "{\"action\":\"set_params\",\"gain\":3.0,\"filter_enabled\":false}";
	ck_assert_int_eq(gw_tc_send_fragmented(c, false, cmd, strlen(cmd), 7), 0);
	int16_t pcm[4800 * 2];
	double ph = 0;
	char *m = NULL;
	for (int k = 0; k < 3; k++) { /* the gain glides in over the first one */
		sig_sine(pcm, 4800, 2, 48000, 1000, 0.5, 1.0, &ph);
		ck_assert_int_eq(gw_tc_send_fragmented(c, true, pcm, sizeof(pcm), 1000), 0);
		free(m);
		m = gw_tc_recv_match(c, "\"meter\"", 5000);
		ck_assert_ptr_nonnull(m);
	}
	double rms;
	ck_assert(json_num(m, "rms", &rms));
	ck_assert_double_eq_tol(rms, -9.03 + 3.0, 0.1);
	free(m);
	/* nothing bad was said */
	ck_assert_int_eq(gw_tc_pending(c), 0);
	ck_assert(!gw_tc_closed(c));
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_cors_preflight)
{
	gw_http_resp r;
	char v[256];
	ck_assert_int_eq(sys_http(&S, "OPTIONS", "/recordings?session_id=x",
			     "Origin: " SYS_ORIGIN "\r\nAccess-Control-Request-Method: GET\r\n"
			     "Access-Control-Request-Headers: content-type\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(gw_http_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	ck_assert_str_eq(v, SYS_ORIGIN);
	ck_assert(gw_http_header(&r, "Access-Control-Allow-Methods", v, sizeof(v)));
	ck_assert(strstr(v, "DELETE") != NULL);
	ck_assert(gw_http_header(&r, "Access-Control-Allow-Headers", v, sizeof(v)));
	ck_assert_str_eq(v, "content-type");
	gw_http_free(&r);

	ck_assert_int_eq(sys_http(&S, "OPTIONS", "/recordings/x.wav",
			     "Origin: http://evil.example\r\nAccess-Control-Request-Method: DELETE\r\n",
			     &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert(!gw_http_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	gw_http_free(&r);

	ck_assert_int_eq(sys_http(&S, "GET", "/recordings?session_id=x", "Origin: " SYS_ORIGIN "\r\n",
			     &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(gw_http_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	ck_assert_str_eq(v, SYS_ORIGIN);
	gw_http_free(&r);
	ck_assert_int_eq(sys_http(&S, "GET", "/health", "Origin: http://evil.example\r\n", &r), 0);
	ck_assert(!gw_http_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	gw_http_free(&r);
}
END_TEST

START_TEST(test_system_http_errors)
{
	gw_http_resp r;
	sys_http_expect(&S, "GET", "/no/such/route", NULL, 404, "{\"detail\":\"Not Found\"}");
	ck_assert_int_eq(sys_http(&S, "PUT", "/recordings", NULL, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(r.body, "{\"detail\":\"Method Not Allowed\"}");
	char v[128];
	ck_assert(gw_http_header(&r, "Allow", v, sizeof(v)));
	gw_http_free(&r);
	ck_assert_int_eq(sys_http(&S, "GET", "/recordings?session_id=x&skip=-1", NULL, &r), 0);
	ck_assert_int_eq(r.status, 422);
	cJSON *j = cJSON_Parse(r.body);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "detail")));
	cJSON_Delete(j);
	gw_http_free(&r);
	ck_assert_int_eq(sys_http(&S, "GET", "/recordings?session_id=x&limit=abc", NULL, &r), 0);
	ck_assert_int_eq(r.status, 422);
	gw_http_free(&r);
	const char dup[] = "DELETE /recordings/x.wav HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
			   "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
	ck_assert_int_eq(gw_http_raw(S.http_port, dup, sizeof(dup) - 1, &r), 0);
	ck_assert_int_eq(r.status, 400);
	gw_http_free(&r);
	const char garbage[] = "\x01\x02 nonsense\r\n\r\n";
	if (gw_http_raw(S.http_port, garbage, sizeof(garbage) - 1, &r) == 0) {
		ck_assert_int_ne(r.status, 500);
		gw_http_free(&r);
	}
	/* still serving */
	ck_assert_int_eq(sys_http(&S, "GET", "/health", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	gw_http_free(&r);
}
END_TEST

START_TEST(test_system_openapi_matches_routes)
{
	gw_http_resp r;
	ck_assert_int_eq(sys_http(&S, "GET", "/openapi.json", NULL, &r), 0);
	cJSON *doc = cJSON_Parse(r.body);
	gw_http_free(&r);
	ck_assert_ptr_nonnull(doc);
	const cJSON *paths = cJSON_GetObjectItem(doc, "paths");
	const cJSON *p;
	int checked = 0;
	cJSON_ArrayForEach(p, paths)
	{
		char path[256];
		const char *brace = strchr(p->string, '{');
		if (brace != NULL)
			snprintf(path, sizeof(path), "%.*srec_20240101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav",
			    (int) (brace - p->string), p->string);
		else if (strcmp(p->string, "/recordings") == 0)
			snprintf(path, sizeof(path), "/recordings?session_id=openapi-check");
		else
			snprintf(path, sizeof(path), "%s", p->string);
		const cJSON *op;
		cJSON_ArrayForEach(op, p)
		{
			char method[16];
			size_t i;
			for (i = 0; op->string[i] && i < sizeof(method) - 1; i++)
				method[i] = (char) (op->string[i] - 32 * (op->string[i] >= 'a'));
			method[i] = '\0';
			ck_assert_int_eq(sys_http(&S, method, path, NULL, &r), 0);
			char code[8];
			snprintf(code, sizeof(code), "%d", r.status);
			ck_assert_msg(cJSON_GetObjectItem(cJSON_GetObjectItem(op, "responses"), code) != NULL,
			    "%s %s answered %d, not documented", method, path, r.status);
			gw_http_free(&r);
			checked++;
		}
		/* a method the document does not list is refused */
		ck_assert_int_eq(sys_http(&S, "PATCH", path, NULL, &r), 0);
		ck_assert_int_eq(r.status, 405);
		gw_http_free(&r);
	}
	ck_assert_int_ge(checked, 7);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(test_system_metrics_parse)
{
	gw_tc *c = sys_open_init(&S, "metrics-1", 48000, 2);
	int16_t pcm[960 * 2] = {0};
	gw_tc_send_binary(c, pcm, sizeof(pcm));
	free(gw_tc_recv_match(c, "\"meter\"", 5000));
	gw_http_resp r;
	ck_assert_int_eq(sys_http(&S, "GET", "/metrics", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	char v[128];
	ck_assert(gw_http_header(&r, "Content-Type", v, sizeof(v)));
	ck_assert(strncmp(v, "text/plain", 10) == 0);
	int samples = 0;
	double chunks = -1, meters = -1;
	for (char *line = strtok(r.body, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (line[0] == '#') {
			ck_assert(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
			continue;
		}
		char name[128];
		double val;
		char *sp = strrchr(line, ' ');
		ck_assert_ptr_nonnull(sp);
		char *end;
		val = strtod(sp + 1, &end);
		ck_assert_msg(*end == '\0', "bad sample: %s", line);
		snprintf(name, sizeof(name), "%.*s", (int) (sp - line), line);
		if (strcmp(name, "pyc_audio_chunks_total") == 0)
			chunks = val;
		if (strcmp(name, "pyc_meters_total") == 0)
			meters = val;
		samples++;
	}
	ck_assert_int_gt(samples, 20);
	ck_assert(chunks >= 1);
	ck_assert(meters >= 1);
	gw_http_free(&r);
	gw_tc_destroy(c);
}
END_TEST

int main(void)
{
	static const char *const extra[] = {"WS_MAX_MESSAGE_BYTES=65536", NULL};
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_robust");
	TCase *tc = sys_tcase(s, "robust", 40);
	tcase_add_test(tc, test_system_worker_sigkill);
	tcase_add_test(tc, test_system_origin_rejected);
	tcase_add_test(tc, test_system_oversized_message_1009);
	tcase_add_test(tc, test_system_fragmented_messages);
	tcase_add_test(tc, test_system_cors_preflight);
	tcase_add_test(tc, test_system_http_errors);
	tcase_add_test(tc, test_system_openapi_matches_routes);
	tcase_add_test(tc, test_system_metrics_parse);
	return sys_run(&S, s);
}
