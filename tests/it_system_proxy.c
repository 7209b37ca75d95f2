/* it_system_proxy.c - the WebSocket connection limits behind a trusted
 * proxy: X-Forwarded-For names the client, each client has its own
 * MAX_SESSIONS_PER_IP, MAX_SESSIONS holds for all; and the HTTP status of
 * each kind of refused upgrade.
 *
 * NOTES: TRUSTED_PROXIES is 127.0.0.1, so the test (on 127.0.0.1) plays a
 * proxy carrying several clients. MAX_SESSIONS 4, MAX_SESSIONS_PER_IP 2,
 * SESSION_GRACE_SECONDS 0 so a closed connection's session ends at once
 * (MAX_SESSIONS also counts sessions in their grace period).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_system_util.h"

static sys S;

/* An upgrade for a fresh session from client (X-Forwarded-For; NULL: the
 * proxy itself); the HTTP status, the socket in *fd (closed unless 101). */
static int from(const char *client, int *fd)
{
	char path[128], sid[64], xff[128] = "", head[2048];
	int status;
	sys_mksid(sid, sizeof(sid), "proxy");
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", sid);
	if (client != NULL)
		snprintf(xff, sizeof(xff), "X-Forwarded-For: %s\r\n", client);
	*fd = gw_ws_raw_upgrade(S.ws_port, path, xff, &status, head, sizeof(head), 5000);
	ck_assert_int_ge(*fd, 0);
	if (status != 101) {
		close(*fd);
		*fd = -1;
	}
	return status;
}

/* An upgrade that gets a 101 and stays open (a session of a previous test
 * may still be ending: retried for up to 5 s); the socket. */
static int served(const char *client)
{
	int fd = -1;
	for (long long end = pyc_now_ms() + 5000; pyc_now_ms() < end; pyc_sleep_ms(50)) {
		if (from(client, &fd) != 101)
			continue;
		if (gw_ws_raw_wait_close(fd, 150) == -1)
			return fd;
		close(fd);
	}
	ck_abort_msg("no connection for %s within 5 s", client ? client : "the proxy");
	return -1;
}

START_TEST(test_system_ws_xff_from_trusted_proxy_counts_per_client)
{
	int a[3], b, self;
	a[0] = served("10.0.0.1");
	a[1] = served("10.0.0.1");
	/* the third from 10.0.0.1 is over its limit ... */
	ck_assert_int_eq(from("10.0.0.1", &a[2]), 429);
	/* ... while another client and the proxy itself are served */
	b = served("10.0.0.2");
	self = served(NULL);
	close(a[0]);
	close(a[1]);
	close(b);
	close(self);
}
END_TEST

START_TEST(test_system_ws_global_limit)
{
	int fd[5];
	char ip[32];
	for (int i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i + 1);
		fd[i] = served(ip);
	}
	/* MAX_SESSIONS=4 connections: a fifth client is refused */
	ck_assert_int_eq(from("10.1.0.9", &fd[4]), 503);
	close(fd[0]);
	fd[4] = served("10.1.0.9");
	for (int i = 1; i < 5; i++)
		close(fd[i]);
}
END_TEST

START_TEST(test_system_ws_refusal_statuses)
{
	int status;
	char head[2048];
	int fd = gw_ws_raw_upgrade(S.ws_port, "/ws/other?session_id=abc", NULL, &status, head,
	    sizeof(head), 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(status, 404);
	close(fd);
	fd = gw_ws_raw_upgrade(S.ws_port, "/ws/audio?session_id=abc",
	    "Origin: http://evil.example\r\n", &status, head, sizeof(head), 5000);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(status, 403);
	close(fd);
}
END_TEST

int main(void)
{
	static const char *const extra[] = {"TRUSTED_PROXIES=127.0.0.1", "MAX_SESSIONS=4",
		"MAX_SESSIONS_PER_IP=2", "SESSION_GRACE_SECONDS=0", NULL};
	if (!sys_start(&S, extra))
		return EXIT_FAILURE;
	Suite *s = suite_create("system_proxy");
	TCase *tc = sys_tcase(s, "proxy", 20);
	tcase_add_test(tc, test_system_ws_xff_from_trusted_proxy_counts_per_client);
	tcase_add_test(tc, test_system_ws_global_limit);
	tcase_add_test(tc, test_system_ws_refusal_statuses);
	return sys_run(&S, s);
}
