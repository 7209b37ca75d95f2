/* it_system_noworker.c - the gateway before the rest of the system is up:
 * /health is 503 "degraded" without a worker host or a recorder, a client
 * that sends init gets no_worker and is closed with 1013 after the
 * documented 10 s, or served once a worker host starts within them: what
 * it sent meanwhile (commands, audio, a whole recording) is replayed in
 * order to the worker it gets.
 *
 * NOTES: only the gateway is started by main; a test that needs the
 * recorder or a worker host starts it itself and stops it before it ends
 * (checking it exits 0), so each test begins from a lone gateway.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "it_system_util.h"

static sys S;

/* GET /health: its status; the "status", "recorder" and hosts fields. */
static int health(char *status, char *recorder, int *hosts)
{
	gw_http_resp r;
	ck_assert_int_eq(sys_http(&S, "GET", "/health", NULL, &r), 0);
	int st = r.status;
	cJSON *j = cJSON_Parse(r.body);
	ck_assert_ptr_nonnull(j);
	snprintf(status, 32, "%s", cJSON_GetObjectItem(j, "status")->valuestring);
	snprintf(recorder, 32, "%s", cJSON_GetObjectItem(j, "recorder")->valuestring);
	*hosts = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "workers"), "hosts")->valueint;
	cJSON_Delete(j);
	gw_http_free(&r);
	return st;
}

/* Polls /health until it answers want (bounded); the last status. */
static int health_until(int want, int timeout_ms, char *status, char *recorder, int *hosts)
{
	int st;
	long long end = pyc_now_ms() + timeout_ms;
	while ((st = health(status, recorder, hosts)) != want && pyc_now_ms() < end)
		pyc_sleep_ms(100);
	return st;
}

static void expect_no_worker(gw_tc *c)
{
	char code[32];
	char *e = gw_tc_recv_match(c, "\"error\"", 3000);
	ck_assert_ptr_nonnull(e);
	ck_assert(json_str(e, "code", code, sizeof(code)));
	ck_assert_str_eq(code, "no_worker");
	free(e);
}

START_TEST(test_system_health_degraded_alone)
{
	char status[32], rec[32];
	int hosts;
	ck_assert_int_eq(health(status, rec, &hosts), 503);
	ck_assert_str_eq(status, "degraded");
	ck_assert_str_eq(rec, "unreachable");
	ck_assert_int_eq(hosts, 0);
}
END_TEST

/* A recorder control address that closes connections during the SP handshake (a
 * recorder stopping or killed just as the gateway dials) makes nng 1.5.2's
 * dialer give up for good (pyc_sock.h): the gateway must dial afresh and
 * find the recorder that starts next. */
START_TEST(test_system_recorder_after_handshake_close)
{
	char status[32], rec[32], path[700];
	int hosts;
	snprintf(path, sizeof(path), "%s/run/recorder-ctl.ipc", S.dir);
	int lfd = pyc_unix_listen(path);
	ck_assert_int_ge(lfd, 0);
	/* Whether nng's header write or the close comes first is a race: go
	 * on until the dialer fell silent (no attempt for 1.5 s, where nng's
	 * own back-off is at most 1 s) and came back, or for 8 s. */
	int closed = 0, stalls = 0;
	bool silent = false;
	long long last = pyc_now_ms(), end = last + 8000;
	while (pyc_now_ms() < end) {
		if (pyc_unix_accept_close(lfd, 50)) {
			closed++;
			last = pyc_now_ms();
			if (silent)
				break; /* the dialer came back */
		} else if (closed > 0 && !silent && pyc_now_ms() - last > 1500) {
			silent = true;
			stalls++;
		}
	}
	close(lfd);
	unlink(path);
	ck_assert_int_ge(closed, 1);
	ck_assert_msg(!silent || pyc_now_ms() < end,
	    "the gateway's recorder dialer fell silent and stayed so");

	ck_assert(sys_start_recorder(&S));
	long long t0 = pyc_now_ms();
	end = t0 + 8000;
	do {
		if (health(status, rec, &hosts) > 0 && strcmp(rec, "ok") == 0)
			break;
		pyc_sleep_ms(100);
	} while (pyc_now_ms() < end);
	ck_assert_msg(strcmp(rec, "ok") == 0, "recorder %s 8 s after it started (%d connections "
	    "closed in the handshake before)", rec, closed);
	printf("redial: recorder reachable %lld ms after it started (%d connections closed in "
	       "the handshake before, the dialer fell silent %d time(s) and came back)\n",
	    pyc_now_ms() - t0, closed, stalls);
	ck_assert(sys_stop_one(&S.rec, 5000));
}
END_TEST

START_TEST(test_system_no_worker_closes_1013)
{
	char sid[64], path[128], head[2048];
	int status;
	sys_mksid(sid, sizeof(sid), "nowork");
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", sid);
	/* a raw socket: the lws client reports 1013 as 1002 */
	int fd = gw_ws_raw_upgrade(S.ws_port, path, NULL, &status, head, sizeof(head), 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(status, 101);
	long long t0 = pyc_now_ms();
	ck_assert_int_eq(gw_ws_raw_send_text(fd, "{\"action\":\"init\"}"), 0);
	sys_expect_raw_close(fd, t0, 1013, 9000, 12000);
	close(fd);
}
END_TEST

START_TEST(test_system_no_worker_then_served)
{
	char status[32], rec[32], sid[64], path[160], fname[160];
	int hosts, meters = 0;
	double phase = 0, dur = 0;
	int16_t pcm[4800 * 2];
	/* the recorder alone: still degraded, no worker host */
	ck_assert(sys_start_recorder(&S));
	ck_assert_int_eq(health_until(503, 100, status, rec, &hosts), 503);
	for (long long end = pyc_now_ms() + 5000; strcmp(rec, "ok") != 0 && pyc_now_ms() < end;
	     pyc_sleep_ms(100))
		health(status, rec, &hosts);
	ck_assert_str_eq(rec, "ok");
	ck_assert_str_eq(status, "degraded");
	ck_assert_int_eq(hosts, 0);

	/* an old client does not wait for anything: init, start_record, one
	 * second of audio and stop_record, all before any worker exists */
	sys_mksid(sid, sizeof(sid), "late");
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	long long t0 = pyc_now_ms();
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"init\",\"sample_rate\":48000}"), 0);
	expect_no_worker(c);
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"start_record\"}"), 0);
	for (int i = 0; i < 10; i++) {
		sig_sine(pcm, 4800, 2, 48000, 440, 0.5, 1.0, &phase);
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
	}
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"stop_record\"}"), 0);

	/* a host comes up within the 10 s: everything waiting is served, in
	 * order, and nothing of the recording is lost */
	ck_assert(sys_start_host(&S));
	char *r = gw_tc_recv_match(c, "\"ready\"", 10000);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r, "48000"));
	free(r);
	printf("no worker: ready %lld ms after init\n", pyc_now_ms() - t0);
	ck_assert_int_le(pyc_now_ms() - t0, 10500);
	ck_assert(!gw_tc_closed(c));
	while ((r = gw_tc_recv_text(c, 10000)) != NULL) {
		if (strstr(r, "\"meter\"") != NULL)
			meters++;
		bool saved = strstr(r, "recording_saved") != NULL;
		if (saved) {
			ck_assert(json_str(r, "filename", fname, sizeof(fname)));
			ck_assert(json_num(r, "duration_seconds", &dur));
		}
		free(r);
		if (saved)
			break;
	}
	/* a burst of meters is thinned to the newest one the client can take */
	printf("no worker: %d meters for the 10 waiting chunks\n", meters);
	ck_assert_int_ge(meters, 1);
	ck_assert_int_le(meters, 10);
	ck_assert_double_eq_tol(dur, 1.0, 1e-9);
	snprintf(path, sizeof(path), "/recordings?session_id=%s", sid);
	gw_http_resp hr;
	ck_assert_int_eq(sys_http(&S, "GET", path, NULL, &hr), 0);
	ck_assert_int_eq(hr.status, 200);
	ck_assert_ptr_nonnull(strstr(hr.body, fname));
	gw_http_free(&hr);

	sig_sine(pcm, 4800, 2, 48000, 440, 0.5, 1.0, &phase);
	ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
	r = gw_tc_recv_match(c, "\"meter\"", 5000);
	ck_assert_ptr_nonnull(r);
	free(r);

	ck_assert_int_eq(health_until(200, 5000, status, rec, &hosts), 200);
	ck_assert_str_eq(status, "ok");
	ck_assert_int_ge(hosts, 1);

	gw_tc_destroy(c);
	ck_assert(sys_stop_one(&S.host, 5000));
	ck_assert(sys_stop_one(&S.rec, 5000));
}
END_TEST

int main(void)
{
	if (!sys_start_gateway_alone(&S, NULL))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_noworker");
	TCase *tc = sys_tcase(s, "noworker", 30);
	tcase_add_test(tc, test_system_health_degraded_alone);
	tcase_add_test(tc, test_system_recorder_after_handshake_close);
	tcase_add_test(tc, test_system_no_worker_closes_1013);
	tcase_add_test(tc, test_system_no_worker_then_served);
	return sys_run(&S, s);
}
