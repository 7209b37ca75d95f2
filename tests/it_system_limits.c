/* it_system_limits.c - the gateway's limits seen from outside: audio far
 * faster than real time (too_fast), the per-address WebSocket limit with an
 * untrusted X-Forwarded-For, no WebSocket extension, the idle timeout with
 * and without pongs, the HTTP per-address limit and idle timeout, and the
 * page at / without FRONTEND_DIR.
 *
 * NOTES: TRUSTED_PROXIES is empty here, so every connection counts against
 * 127.0.0.1 whatever X-Forwarded-For says. The limits are small so they are
 * quick to reach: MAX_SESSIONS_PER_IP 3, HTTP_MAX_PER_IP 4, idle timeouts
 * 5 s (WebSocket, the minimum) and 2 s (HTTP). Raw sockets stand in for a
 * client that never answers a ping or never finishes a request.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_system_util.h"

#define RATE 48000
#define CH 2
#define CHUNK 4800 /* 100 ms */

static sys S;

static int upgrade(const char *sid, const char *extra, int *status, char *head, size_t cap)
{
	char path[256];
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", sid);
	int fd = gw_ws_raw_upgrade(S.ws_port, path, extra, status, head, cap, 5000);
	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(test_system_too_fast_keeps_connection)
{
	static int16_t pcm[CHUNK * CH];
	char sid[64], code[32];
	double phase = 0, seq, flood_seq = 0;
	sys_mksid(sid, sizeof(sid), "fast");
	gw_tc *c = sys_open_init(&S, sid, RATE, CH);

	/* 10 s of audio, written as fast as the socket takes it */
	long long t0 = pyc_now_ms();
	for (int i = 0; i < 100; i++) {
		sig_sine(pcm, CHUNK, CH, RATE, 1000, 0.5, 1.0, &phase);
		gw_tc_queue_binary(c, pcm, sizeof(pcm));
	}
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"set_params\",\"gain\":0}"), 0);
	long long took = pyc_now_ms() - t0;
	printf("too_fast: 10 s of audio written in %lld ms\n", took);
	ck_assert_int_lt(took, 3000);

	char *e = gw_tc_recv_match(c, "\"error\"", 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert(json_str(e, "code", code, sizeof(code)));
	ck_assert_str_eq(code, "too_fast");
	free(e);
	ck_assert(!gw_tc_closed(c));

	/* let the backlog drain, then real time again gets meters */
	for (long long end = pyc_now_ms() + 3000; pyc_now_ms() < end;) {
		char *m = gw_tc_recv_match(c, "\"meter\"", 100);
		if (m != NULL && json_num(m, "seq", &seq) && seq > flood_seq)
			flood_seq = seq;
		free(m);
	}
	gw_tc_discard(c);
	int meters = 0;
	for (int i = 0; i < 10; i++) {
		long long next = pyc_now_ms() + 100;
		sig_sine(pcm, CHUNK, CH, RATE, 1000, 0.5, 1.0, &phase);
		ck_assert_int_eq(gw_tc_send_binary(c, pcm, sizeof(pcm)), 0);
		for (char *m; (m = gw_tc_recv_match(c, "\"meter\"", (int) (next - pyc_now_ms()))) != NULL;) {
			ck_assert(json_num(m, "seq", &seq));
			ck_assert(seq > flood_seq);
			meters++;
			free(m);
		}
	}
	for (char *m; (m = gw_tc_recv_match(c, "\"meter\"", 1000)) != NULL; free(m))
		meters++;
	printf("too_fast: %d meters for 10 real-time chunks after the flood\n", meters);
	ck_assert_int_ge(meters, 8);
	ck_assert(!gw_tc_closed(c));
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_ws_per_ip_limit_ignores_untrusted_xff)
{
	int fd[4], status;
	char head[2048], sid[64], xff[64];
	for (int i = 0; i < 3; i++) {
		sys_mksid(sid, sizeof(sid), "perip");
		snprintf(xff, sizeof(xff), "X-Forwarded-For: 10.0.0.%d\r\n", i + 1);
		fd[i] = upgrade(sid, xff, &status, head, sizeof(head));
		ck_assert_int_eq(status, 101);
	}
	/* a fourth from the same peer, claiming to be someone else */
	sys_mksid(sid, sizeof(sid), "perip");
	fd[3] = upgrade(sid, "X-Forwarded-For: 10.9.9.9\r\n", &status, head, sizeof(head));
	ck_assert_msg(status == 429, "4th connection: status %d, answer:\n%s", status, head);
	close(fd[3]);
	/* a slot frees when a connection ends */
	close(fd[0]);
	long long end = pyc_now_ms() + 3000;
	do {
		pyc_sleep_ms(50);
		sys_mksid(sid, sizeof(sid), "perip");
		fd[0] = upgrade(sid, NULL, &status, head, sizeof(head));
		if (status != 101)
			close(fd[0]);
	} while (status != 101 && pyc_now_ms() < end);
	ck_assert_int_eq(status, 101);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}
END_TEST

START_TEST(test_system_ws_no_extension)
{
	int status;
	char head[2048], sid[64];
	sys_mksid(sid, sizeof(sid), "ext");
	int fd = upgrade(sid,
	    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n", &status,
	    head, sizeof(head));
	ck_assert_int_eq(status, 101);
	ck_assert_msg(strcasestr(head, "Sec-WebSocket-Extensions") == NULL, "answer:\n%s", head);
	ck_assert(strcasestr(head, "deflate") == NULL);
	close(fd);
}
END_TEST

START_TEST(test_system_ws_idle_without_pong_closed)
{
	int status;
	char head[2048], sid[64];
	sys_mksid(sid, sizeof(sid), "idle");
	long long t0 = pyc_now_ms();
	int fd = upgrade(sid, NULL, &status, head, sizeof(head));
	ck_assert_int_eq(status, 101);
	/* never answers the pings; WS_IDLE_TIMEOUT_SECONDS=5 */
	sys_expect_raw_close(fd, t0, 1001, 4500, 7000);
	close(fd);
}
END_TEST

START_TEST(test_system_ws_pong_keeps_connection)
{
	char sid[64];
	sys_mksid(sid, sizeof(sid), "pong");
	/* the lws client answers pings; it sends no data for 8 s (> 5 s) */
	gw_tc *c = gw_tc_open(S.ws_port, sid, 5000);
	ck_assert_ptr_nonnull(c);
	gw_tc_service(c, 8000);
	ck_assert(!gw_tc_closed(c));
	ck_assert_int_eq(gw_tc_send_text(c, "{\"action\":\"init\"}"), 0);
	char *r = gw_tc_recv_match(c, "\"ready\"", 5000);
	ck_assert_ptr_nonnull(r);
	free(r);
	gw_tc_destroy(c);
}
END_TEST

START_TEST(test_system_http_per_ip_limit)
{
	int fd[5];
	/* HTTP_MAX_PER_IP=4 idle connections are held ... */
	for (int i = 0; i < 4; i++) {
		fd[i] = gw_tcp_connect(S.http_port);
		ck_assert_int_ge(fd[i], 0);
	}
	pyc_sleep_ms(200);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(!gw_tcp_wait_eof(fd[i], 10), "connection %d closed early", i);
	/* ... the fifth is closed at once */
	fd[4] = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd[4], 0);
	ck_assert(gw_tcp_wait_eof(fd[4], 1000));
	close(fd[4]);
	/* once one ends, a request is served again */
	close(fd[0]);
	gw_http_resp r;
	int rv = -1;
	for (long long end = pyc_now_ms() + 1500; rv != 0 && pyc_now_ms() < end;) {
		pyc_sleep_ms(50);
		rv = sys_http(&S, "GET", "/health", NULL, &r);
	}
	ck_assert_int_eq(rv, 0);
	ck_assert_int_eq(r.status, 200);
	gw_http_free(&r);
	for (int i = 1; i < 4; i++)
		close(fd[i]);
}
END_TEST

START_TEST(test_system_http_idle_timeout)
{
	static const char part[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
	int fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	long long t0 = pyc_now_ms();
	ck_assert_int_eq(write(fd, part, sizeof(part) - 1), (ssize_t) sizeof(part) - 1);
	/* HTTP_TIMEOUT_SECONDS=2: the unfinished request is dropped */
	ck_assert(gw_tcp_wait_eof(fd, 5000));
	long long took = pyc_now_ms() - t0;
	printf("http idle: closed after %lld ms\n", took);
	ck_assert_int_ge(took, 1500);
	ck_assert_int_le(took, 4000);
	close(fd);
}
END_TEST

START_TEST(test_system_placeholder_without_frontend_dir)
{
	gw_http_resp r;
	char ct[128];
	ck_assert_int_eq(sys_http(&S, "GET", "/", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(gw_http_header(&r, "Content-Type", ct, sizeof(ct)));
	ck_assert(strncmp(ct, "text/html", 9) == 0);
	ck_assert_ptr_nonnull(strstr(r.body, "FRONTEND_DIR"));
	gw_http_free(&r);
	sys_http_expect(&S, "GET", "/some/client/route", NULL, 404, "{\"detail\":\"Not Found\"}");
}
END_TEST

int main(void)
{
	static const char *const extra[] = {"TRUSTED_PROXIES=", "MAX_SESSIONS_PER_IP=3",
		"WS_IDLE_TIMEOUT_SECONDS=5", "HTTP_MAX_PER_IP=4", "HTTP_TIMEOUT_SECONDS=2", NULL};
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_limits");
	TCase *ws = sys_tcase(s, "websocket", 30);
	tcase_add_test(ws, test_system_too_fast_keeps_connection);
	tcase_add_test(ws, test_system_ws_per_ip_limit_ignores_untrusted_xff);
	tcase_add_test(ws, test_system_ws_no_extension);
	tcase_add_test(ws, test_system_ws_idle_without_pong_closed);
	tcase_add_test(ws, test_system_ws_pong_keeps_connection);
	TCase *http = sys_tcase(s, "http", 20);
	tcase_add_test(http, test_system_http_per_ip_limit);
	tcase_add_test(http, test_system_http_idle_timeout);
	tcase_add_test(http, test_system_placeholder_without_frontend_dir);
	return sys_run(&S, s);
}
