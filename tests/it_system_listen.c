/* it_system_listen.c - the one public port's dispatcher (gw_listen.c)
 * seen from outside: HTTP and the WebSocket on the same port, a request
 * head over 8 KiB never upgraded but answered 431 and closed, a client that sends nothing or half a head
 * closed after HTTP_TIMEOUT_SECONDS, a head sent in pieces still served
 * (without the gateway spinning on the bytes already there), and each
 * connection counted once against the per-address limits.
 *
 * NOTES: TRUSTED_PROXIES is empty, so 127.0.0.1 is limited like any client.
 * HTTP_TIMEOUT_SECONDS 2, HTTP_MAX_PER_IP 3, MAX_SESSIONS_PER_IP 2,
 * SESSION_GRACE_SECONDS 0 (a closed session ends at once).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "it_system_util.h"

static sys S;

static void send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		ck_assert_int_gt(n, 0);
		buf += n;
		len -= (size_t) n;
	}
}

/* The gateway's user + system CPU time so far, in clock ticks. */
static long long gw_cpu_ticks(void)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) S.gw.pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	long long ut = 0, st = 0;
	/* after "pid (comm)": state is field 3, utime 14, stime 15 */
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
	    &ut, &st), 2);
	return ut + st;
}

/* A WebSocket session that got its 101 and stays open; the socket. */
static int ws_open(void)
{
	char path[128], sid[64], head[2048];
	int status;
	sys_mksid(sid, sizeof(sid), "listen");
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", sid);
	int fd = gw_ws_raw_upgrade(S.http_port, path, NULL, &status, head, sizeof(head), 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(status == 101, "upgrade: status %d\n%s", status, head);
	return fd;
}

/* /health is served again within 2 s (a count was released). */
static void expect_served(void)
{
	gw_http_resp r;
	int rv = -1;
	for (long long end = pyc_now_ms() + 2000; rv != 0 && pyc_now_ms() < end;) {
		rv = sys_http(&S, "GET", "/health", NULL, &r);
		if (rv != 0)
			pyc_sleep_ms(50);
	}
	ck_assert_int_eq(rv, 0);
	ck_assert_int_eq(r.status, 200);
	gw_http_free(&r);
}

START_TEST(test_listen_http_and_ws_on_one_port)
{
	gw_http_resp r;
	ck_assert_int_eq(sys_http(&S, "GET", "/health", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	gw_http_free(&r);
	char sid[64];
	sys_mksid(sid, sizeof(sid), "one");
	gw_tc *c = sys_open_init(&S, sid, 48000, 2);
	gw_tc_destroy(c);
	/* an upgrade elsewhere and a plain GET of /ws/audio are MHD's: 404 JSON */
	int status;
	char head[2048];
	int fd = gw_ws_raw_upgrade(S.http_port, "/ws/other?session_id=abc", NULL, &status, head,
	    sizeof(head), 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(status, 404);
	close(fd);
	sys_http_expect(&S, "GET", "/ws/audio", NULL, 404, "{\"detail\":\"Not Found\"}");
}
END_TEST

/* Sends len bytes of head (which never ends) on a new connection; the
 * connection must be answered 431 and closed within 1.5 s. */
static void expect_431_closed(const char *start, size_t len)
{
	static char big[70000];
	char buf[4096];
	size_t sl = strlen(start);
	ck_assert_uint_le(len, sizeof(big));
	memcpy(big, start, sl);
	memset(big + sl, 'a', len - sl);
	int fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	long long t0 = pyc_now_ms();
	/* the server may answer and close before it has all: not an error */
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, big + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t) w;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 12);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "HTTP/1.1 431", 12) == 0, "answer: %.80s", buf);
	ck_assert(gw_tcp_wait_eof(fd, 1500));
	ck_assert_int_lt(pyc_now_ms() - t0, 1500);
	close(fd);
}

START_TEST(test_listen_head_over_8k_never_upgraded)
{
	static char big[9000];
	char buf[64];
	ssize_t n;
	int fd;
	/* a WebSocket upgrade whose head is over 8 KiB never reaches lws:
	 * MHD answers it (404, as any GET of /ws/audio) */
	static const char up[] = "GET /ws/audio?session_id=big HTTP/1.1\r\nHost: x\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Long: ";
	memcpy(big, up, sizeof(up) - 1);
	memset(big + sizeof(up) - 1, 'a', sizeof(big) - (sizeof(up) - 1));
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	send_all(fd, big, sizeof(big));
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 12);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "HTTP/1.1 404", 12) == 0, "answer: %s", buf);
	close(fd);
	/* heads that do not end before MHD's own bound (64 KiB): answered 431
	 * and closed long before the timeout, whether upgrades or not */
	expect_431_closed("GET /health HTTP/1.1\r\nHost: x\r\nX-Long: ", 70000);
	expect_431_closed(up, 70000);
	memcpy(big, "GET /health HTTP/1.1\r\nHost: x\r\nX-Long: ", 39);
	memset(big + 39, 'a', sizeof(big) - 39);
	/* just under the bound, the same request is answered */
	fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	size_t len = 8000;
	memcpy(big + len - 4, "\r\n\r\n", 4);
	send_all(fd, big, len);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 12);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "answer: %s", buf);
	close(fd);
}
END_TEST

START_TEST(test_listen_silent_client_closed_after_timeout)
{
	int fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	long long t0 = pyc_now_ms();
	ck_assert(gw_tcp_wait_eof(fd, 5000));
	long long took = pyc_now_ms() - t0;
	printf("silent client: closed after %lld ms\n", took);
	ck_assert_int_ge(took, 1500);
	ck_assert_int_le(took, 3500);
	close(fd);
}
END_TEST

START_TEST(test_listen_half_head_closed_after_timeout_without_spinning)
{
	static const char part[] = "GET /ws/audio?session_id=abc HTTP/1.1\r\nHost: x\r\n";
	int fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	long long t0 = pyc_now_ms();
	long long cpu0 = gw_cpu_ticks();
	send_all(fd, part, sizeof(part) - 1);
	pyc_sleep_ms(1000);
	long long cpu = gw_cpu_ticks() - cpu0;
	/* the bytes already there do not wake the dispatcher again and again */
	printf("half head: gateway used %lld ticks in 1 s\n", cpu);
	ck_assert_int_lt(cpu, 30);
	ck_assert(gw_tcp_wait_eof(fd, 4000));
	long long took = pyc_now_ms() - t0;
	ck_assert_int_ge(took, 1500);
	ck_assert_int_le(took, 3500);
	close(fd);
}
END_TEST

START_TEST(test_listen_head_in_pieces_served)
{
	static const char *const piece[] = {"GET /hea", "lth HTTP/1.1\r\n", "Host: x\r\n",
		"Connection: close\r\n", "\r\n"};
	int fd = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < sizeof(piece) / sizeof(piece[0]); i++) {
		send_all(fd, piece[i], strlen(piece[i]));
		pyc_sleep_ms(150);
	}
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 12);
	buf[n] = '\0';
	ck_assert_msg(strncmp(buf, "HTTP/1.1 200", 12) == 0, "answer: %s", buf);
	close(fd);
}
END_TEST

START_TEST(test_listen_each_connection_counted_once)
{
	int ws[3], idle[4];
	char head[2048];
	int status;

	/* MAX_SESSIONS_PER_IP=2 WebSocket sessions; the third upgrade is refused
	 * by lws with 429, so its connection was counted there once */
	ws[0] = ws_open();
	ws[1] = ws_open();
	ws[2] = gw_ws_raw_upgrade(S.http_port, "/ws/audio?session_id=third", NULL, &status, head,
	    sizeof(head), 5000);
	ck_assert_int_ge(ws[2], 0);
	ck_assert_int_eq(status, 429);
	close(ws[2]);

	/* the open sessions do not count against HTTP_MAX_PER_IP=3: three
	 * connections still waiting for their head are held ... */
	for (int i = 0; i < 3; i++) {
		idle[i] = gw_tcp_connect(S.http_port);
		ck_assert_int_ge(idle[i], 0);
	}
	pyc_sleep_ms(200);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(!gw_tcp_wait_eof(idle[i], 10), "idle connection %d closed early", i);
	/* ... and a fourth, of either kind, is closed at once */
	idle[3] = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(idle[3], 0);
	ck_assert(gw_tcp_wait_eof(idle[3], 1000));
	close(idle[3]);
	ws[2] = gw_ws_raw_upgrade(S.http_port, "/ws/audio?session_id=fourth", NULL, &status,
	    head, sizeof(head), 5000);
	ck_assert_int_ge(ws[2], 0);
	ck_assert_int_eq(status, 0); /* closed without an answer */
	close(ws[2]);

	/* a waiting connection that closes is released ... */
	close(idle[0]);
	expect_served();
	/* ... and so is one MHD served and closed: two kept-alive HTTP
	 * connections fill the limit with the two idle ones left ... */
	close(idle[1]);
	int ka = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(ka, 0);
	static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(ka, req, sizeof(req) - 1);
	char buf[64];
	ck_assert_int_gt(read(ka, buf, sizeof(buf)), 12);
	idle[1] = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(idle[1], 0);
	pyc_sleep_ms(200);
	ck_assert(!gw_tcp_wait_eof(ka, 10));
	ck_assert(!gw_tcp_wait_eof(idle[1], 10));
	idle[3] = gw_tcp_connect(S.http_port);
	ck_assert_int_ge(idle[3], 0);
	ck_assert(gw_tcp_wait_eof(idle[3], 1000));
	close(idle[3]);
	/* ... until the kept-alive one closes */
	close(ka);
	expect_served();

	/* the sessions' connections closed: the WebSocket count is released */
	close(ws[0]);
	close(ws[1]);
	close(idle[1]);
	close(idle[2]);
	pyc_sleep_ms(300);
	ws[0] = ws_open();
	ws[1] = ws_open();
	close(ws[0]);
	close(ws[1]);
}
END_TEST

int main(void)
{
	static const char *const extra[] = {"TRUSTED_PROXIES=", "HTTP_TIMEOUT_SECONDS=2",
		"HTTP_MAX_PER_IP=3", "MAX_SESSIONS_PER_IP=2", "SESSION_GRACE_SECONDS=0", NULL};
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_listen");
	TCase *tc = sys_tcase(s, "listen", 30);
	tcase_add_test(tc, test_listen_http_and_ws_on_one_port);
	tcase_add_test(tc, test_listen_head_over_8k_never_upgraded);
	tcase_add_test(tc, test_listen_silent_client_closed_after_timeout);
	tcase_add_test(tc, test_listen_half_head_closed_after_timeout_without_spinning);
	tcase_add_test(tc, test_listen_head_in_pieces_served);
	tcase_add_test(tc, test_listen_each_connection_counted_once);
	return sys_run(&S, s);
}
