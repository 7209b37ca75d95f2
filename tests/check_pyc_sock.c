/* check_pyc_sock.c - pyc_redial: a dialer that nng 1.5.2 left silent is
 * started again.
 *
 * NOTES: the peer is a plain Unix socket listener at an ipc:// path. It
 * accepts the first connection and closes it at once: nng's SP header
 * write then fails with EPIPE (NNG_ECLOSED), after which nng 1.5.2's
 * dialer never tries again (should the header get through first, nng sees
 * the close and redials by itself: the test holds either way). The test
 * then waits for a second connection while ticking pyc_redial as a
 * service's loop does, and finally puts a real nng listener at the path
 * and waits for the pipe. Every wait is bounded.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "pyc_sock.h"
#include "pyc_testproc.h"

static atomic_int pipes;

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void) p;
	(void) arg;
	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_fetch_add(&pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&pipes, 1);
}

/* Accepts one connection within ms while ticking r; closes it at once. */
static bool accept_one(int lfd, pyc_redial *r, int ms)
{
	long long end = pyc_now_ms() + ms;
	while (pyc_now_ms() < end) {
		int t = pyc_redial_tick(r, atomic_load(&pipes) > 0, pyc_now_ms());
		if (pyc_unix_accept_close(lfd, t < 0 || t > 50 ? 50 : t))
			return true;
	}
	return false;
}

START_TEST(test_redial_after_close_in_handshake)
{
	char *dir = pyc_tmpdir_new();
	char path[600], url[620];
	snprintf(path, sizeof(path), "%s/peer.ipc", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	int lfd = pyc_unix_listen(path);
	ck_assert_int_ge(lfd, 0);

	nng_socket s;
	ck_assert_int_eq(nng_pair1_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 10);
	nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 50);
	ck_assert_int_eq(nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, pipe_cb, NULL), 0);
	ck_assert_int_eq(nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, pipe_cb, NULL), 0);
	pyc_redial r;
	ck_assert_int_eq(pyc_redial_dial(&r, s, url, 300), 0);

	ck_assert_msg(accept_one(lfd, &r, 3000), "no first connection");
	long long t0 = pyc_now_ms();
	ck_assert_msg(accept_one(lfd, &r, 3000),
	    "no connection again within 3 s of a close in the handshake");
	printf("redial: connected again after %lld ms (%lu dialer(s) started afresh)\n",
	    pyc_now_ms() - t0, r.restarts);

	/* a real peer at the same path: the pipe comes up and stays */
	close(lfd);
	unlink(path);
	nng_socket peer;
	ck_assert_int_eq(nng_pair1_open(&peer), 0);
	ck_assert_int_eq(nng_listen(peer, url, NULL, 0), 0);
	long long end = pyc_now_ms() + 5000;
	while (atomic_load(&pipes) <= 0 && pyc_now_ms() < end) {
		int t = pyc_redial_tick(&r, false, pyc_now_ms());
		pyc_sleep_ms(t < 0 || t > 20 ? 20 : t);
	}
	ck_assert_msg(atomic_load(&pipes) > 0, "no pipe to a real listener");
	unsigned long before = r.restarts;
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(pyc_redial_tick(&r, atomic_load(&pipes) > 0, pyc_now_ms()), -1);
		pyc_sleep_ms(30);
	}
	ck_assert_uint_eq(r.restarts, before); /* a pipe that is up is left alone */
	ck_assert_int_eq(nng_close(s), 0);
	ck_assert_int_eq(nng_close(peer), 0);
	pyc_tmpdir_remove(dir);
	free(dir);
}
END_TEST

START_TEST(test_redial_tick_timing)
{
	nng_socket s;
	pyc_redial r;
	ck_assert_int_eq(nng_pair1_open(&s), 0);
	ck_assert_int_eq(pyc_redial_dial(&r, s, "ipc:///nonexistent/pyc-redial.ipc", 1000), 0);
	ck_assert_int_eq(pyc_redial_tick(&r, false, 5000), 1000); /* down from now on */
	ck_assert_int_eq(pyc_redial_tick(&r, false, 5400), 600);
	ck_assert_uint_eq(r.restarts, 0);
	ck_assert_int_eq(pyc_redial_tick(&r, false, 6000), 1000); /* dialled afresh */
	ck_assert_uint_eq(r.restarts, 1);
	ck_assert_int_eq(pyc_redial_tick(&r, true, 6100), -1);
	ck_assert_int_eq(pyc_redial_tick(&r, false, 9000), 1000); /* down again: counts anew */
	ck_assert_uint_eq(r.restarts, 1);
	ck_assert_int_eq(nng_close(s), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pyc_sock");
	TCase *tc = tcase_create("redial");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_redial_tick_timing);
	tcase_add_test(tc, test_redial_after_close_in_handshake);
	suite_add_tcase(s, tc);
	return pyc_check_run(s);
}
