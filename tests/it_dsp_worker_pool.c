/* it_dsp_worker_pool.c - the dsp-worker host's pool, as the gateway sees it.
 *
 * NOTES: starts the real pyc-dsp-worker host with a small pool on ipc://
 * in a temporary folder and plays the gateway (it_dsp_worker_util.c):
 * registration (worker_hello, host_hello), process titles, replacement of
 * a worker that took a session, the pool maximum, session close, the
 * gateway going away and coming back, SIGTERM and SIGKILL of the host, and
 * the --health probe. Every wait is bounded.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_dsp_worker_util.h"

static dwenv env;

static void start_env(int spare, int max)
{
	ck_assert_int_eq(dwenv_init(&env, spare, max, NULL), 0);
	ck_assert_msg(dwenv_start_host(&env, spare, 10000) == 0,
	    "the host did not register %d workers in 10 s", spare);
}

static void teardown(void)
{
	dwenv_fini(&env);
}

static bool wait_host_status(uint32_t idle, uint32_t busy, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	for (;;) {
		if (env.gw.host_hellos > 0 && env.gw.host.idle == idle && env.gw.host.busy == busy)
			return true;
		if (pyc_now_ms() >= end)
			return false;
		fgw_pump(&env.gw, 20);
	}
}

START_TEST(test_dw_host_registers_pool)
{
	char cmd[512];
	start_env(2, 4);
	ck_assert_msg(wait_host_status(2, 0, 3000), "host_hello idle=%u busy=%u",
	    env.gw.host.idle, env.gw.host.busy);
	ck_assert_str_eq(env.gw.host.host_id, "testhost");
	ck_assert_uint_eq(env.gw.host.max_workers, 4);
	ck_assert_uint_eq(env.gw.host.spare, 2);
	/* A second host_hello comes about a second later. */
	int before = env.gw.host_hellos;
	fgw_pump(&env.gw, 1300);
	ck_assert_int_gt(env.gw.host_hellos, before);

	ck_assert_int_eq(env.gw.nworkers, 2);
	for (int i = 0; i < env.gw.nworkers; i++) {
		ck_assert_int_eq(dw_cmdline((int) env.gw.workers[i].pid, cmd, sizeof(cmd)), 0);
		ck_assert_str_eq(cmd, "pycoustics-dsp: idle");
	}
	ck_assert_int_eq(dw_cmdline(env.host.pid, cmd, sizeof(cmd)), 0);
	ck_assert_str_eq(cmd, "pycoustics-dsp: host testhost (2 idle, 0 busy)");
	int kids[16];
	ck_assert_int_eq(dw_children(env.host.pid, kids, 16), 2);
}
END_TEST

START_TEST(test_dw_host_session_title_and_replacement)
{
	const char *sid = "3f9a1c2e0b4d4f7a9c1e2b3d4f5a6b7c";
	char cmd[512];
	uint32_t pid = 0;
	pyc_params init;
	fmsg m;

	start_env(2, 4);
	dw_params_masked(&init, PYC_P_RATE | PYC_P_CHANNELS);
	init.sample_rate = 48000;
	init.channels = 2;
	uint32_t pipe = dw_open(&env, sid, NULL, &init, &pid);
	ck_assert_uint_ne(pipe, 0);
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	ck_assert_int_eq(m.m.type, PYC_MSG_EVENT);
	ck_assert_str_eq(m.m.sid, sid);
	ck_assert_ptr_nonnull(strstr((const char *) m.m.payload, "\"type\":\"ready\""));
	fmsg_free(&m);

	ck_assert_int_eq(dw_cmdline((int) pid, cmd, sizeof(cmd)), 0);
	ck_assert_str_eq(cmd, "pycoustics-dsp: session 3f9a1c2e\xe2\x80\xa6 (48000 Hz, 2 ch)");
	/* The host replaces the worker that went busy, off the critical path. */
	ck_assert_msg(fgw_wait_workers(&env.gw, 2, 5000), "no replacement worker");
	ck_assert_int_eq(env.gw.nworkers, 3);
	ck_assert_msg(wait_host_status(2, 1, 3000), "host_hello idle=%u busy=%u",
	    env.gw.host.idle, env.gw.host.busy);
	long long end = pyc_now_ms() + 2000;
	do {
		dw_cmdline(env.host.pid, cmd, sizeof(cmd));
		if (strcmp(cmd, "pycoustics-dsp: host testhost (2 idle, 1 busy)") == 0)
			break;
		pyc_sleep_ms(20);
	} while (pyc_now_ms() < end);
	ck_assert_str_eq(cmd, "pycoustics-dsp: host testhost (2 idle, 1 busy)");

	/* Closing: session_closed, then the process exits. */
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_SESSION_CLOSE, sid, 0, NULL, 0), 0);
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	ck_assert_int_eq(m.m.type, PYC_MSG_SESSION_CLOSED);
	fmsg_free(&m);
	ck_assert(dw_pid_wait_gone((int) pid, 3000));
	ck_assert(wait_host_status(2, 0, 3000));
}
END_TEST

START_TEST(test_dw_host_pool_max)
{
	uint32_t pids[2];
	start_env(2, 2);
	uint32_t a = dw_open(&env, "sessA", NULL, NULL, &pids[0]);
	uint32_t b = dw_open(&env, "sessB", NULL, NULL, &pids[1]);
	ck_assert(a != 0 && b != 0);
	ck_assert_msg(wait_host_status(0, 2, 3000), "host_hello idle=%u busy=%u",
	    env.gw.host.idle, env.gw.host.busy);
	/* No third process: the maximum is 2. */
	fgw_pump(&env.gw, 700);
	ck_assert_int_eq(env.gw.nworkers, 2);
	int kids[8];
	ck_assert_int_eq(dw_children(env.host.pid, kids, 8), 2);
	/* One session ends: the host starts one again. */
	fgw_send(&env.gw, a, PYC_MSG_SESSION_CLOSE, "sessA", 0, NULL, 0);
	ck_assert(fgw_wait_workers(&env.gw, 1, 5000));
	ck_assert(wait_host_status(1, 1, 3000));
}
END_TEST

START_TEST(test_dw_host_gateway_restart)
{
	uint32_t busy_pid = 0;
	start_env(2, 4);
	uint32_t pipe = dw_open(&env, "sessR", NULL, NULL, &busy_pid);
	ck_assert_uint_ne(pipe, 0);
	ck_assert(fgw_wait_workers(&env.gw, 2, 5000));
	fgw_pump(&env.gw, 200);

	/* The gateway goes away: the busy worker ends, idle ones stay. */
	fgw_close(&env.gw);
	ck_assert_msg(dw_pid_wait_gone((int) busy_pid, 3000),
	    "the busy worker did not stop when the gateway went away");
	ck_assert(pyc_proc_alive(&env.host));

	/* It comes back at the same address: everyone registers again. */
	ck_assert_int_eq(fgw_open(&env.gw, env.gw_url), 0);
	ck_assert_msg(fgw_wait_workers(&env.gw, 2, 5000), "workers did not register again");
	long long end = pyc_now_ms() + 3000;
	while (env.gw.host_hellos == 0 && pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	ck_assert_int_gt(env.gw.host_hellos, 0);
	ck_assert_str_eq(env.gw.host.host_id, "testhost");
}
END_TEST

/* A stopping gateway says gateway_bye to the host: no host_hello goes out
 * on that pipe any more (nng 1.5.2 would never free one handed to the
 * pipe as the gateway closes it), and the host greets the next gateway. */
START_TEST(test_dw_host_quiet_after_bye)
{
	start_env(2, 4);
	long long end = pyc_now_ms() + 3000;
	while (env.gw.host_hellos == 0 && pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	ck_assert_int_gt(env.gw.host_hellos, 0);
	/* something that is not a bye changes nothing */
	ck_assert_int_eq(fgw_send(&env.gw, env.gw.host_pipe, PYC_MSG_ACK, "", 0, NULL, 0), 0);
	ck_assert_int_eq(fgw_send_raw(&env.gw, env.gw.host_pipe, "junk", 4), 0);
	int before = env.gw.host_hellos;
	fgw_pump(&env.gw, 1300);
	ck_assert_int_gt(env.gw.host_hellos, before);

	ck_assert_int_eq(fgw_send(&env.gw, env.gw.host_pipe, PYC_MSG_GATEWAY_BYE, "", 0, NULL,
	    0), 0);
	fgw_pump(&env.gw, 300); /* a hello already on its way may still come */
	before = env.gw.host_hellos;
	/* a change of the host's counts would send one at once: take a worker */
	uint32_t pid = 0;
	ck_assert_uint_ne(dw_open(&env, "sessQ", NULL, NULL, &pid), 0);
	fgw_pump(&env.gw, 2500);
	ck_assert_msg(env.gw.host_hellos == before, "%d host_hello after the bye",
	    env.gw.host_hellos - before);
	ck_assert(pyc_proc_alive(&env.host));

	fgw_close(&env.gw);
	ck_assert_int_eq(fgw_open(&env.gw, env.gw_url), 0);
	long long t0 = pyc_now_ms();
	end = t0 + 10000; /* the host redials within a second; the rest is for load */
	while (env.gw.host_hellos == 0 && pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	char st = '?';
	pid_t pp;
	pyc_proc_stat(env.host.pid, &st, &pp);
	ck_assert_msg(env.gw.host_hellos > 0,
	    "no host_hello to the next gateway in 10 s (host state %c, %d worker(s) registered)",
	    st, env.gw.nworkers);
	printf("quiet after bye: the next gateway was greeted after %lld ms\n", pyc_now_ms() - t0);
}
END_TEST

/* A peer that closes connections during the SP handshake (a gateway
 * stopping or killed just as they arrive) makes nng 1.5.2's dialers give
 * up for good (pyc_sock.h): the host and its idle workers must dial
 * afresh and find the gateway that comes next. */
START_TEST(test_dw_host_redials_after_handshake_close)
{
	start_env(2, 4);
	fgw_close(&env.gw);
	/* a plain Unix listener at the gateway's path closes whatever comes */
	const char *path = env.gw_url + strlen("ipc://");
	int lfd = pyc_unix_listen(path);
	ck_assert_int_ge(lfd, 0);
	int closed = 0;
	long long end = pyc_now_ms() + 1500;
	while (pyc_now_ms() < end)
		closed += pyc_unix_accept_close(lfd, 50);
	close(lfd);
	unlink(path);
	ck_assert_int_ge(closed, 3); /* the host and both idle workers came */

	ck_assert_int_eq(fgw_open(&env.gw, env.gw_url), 0);
	long long t0 = pyc_now_ms();
	end = t0 + 8000;
	while ((env.gw.host_hellos == 0 || env.gw.nworkers < 2) && pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	ck_assert_msg(env.gw.host_hellos > 0 && env.gw.nworkers >= 2,
	    "after %d connections closed in the handshake: %d host_hello, %d worker(s) "
	    "registered in 8 s", closed, env.gw.host_hellos, env.gw.nworkers);
	printf("redial: host and workers back %lld ms after the gateway (%d connections "
	       "closed in the handshake before)\n", pyc_now_ms() - t0, closed);
}
END_TEST

START_TEST(test_dw_host_sigkill_leaves_nothing)
{
	int kids[16];
	start_env(3, 4);
	uint32_t pipe = dw_open(&env, "sessK", NULL, NULL, NULL);
	ck_assert_uint_ne(pipe, 0);
	ck_assert(fgw_wait_workers(&env.gw, 3, 5000));
	int n = dw_children(env.host.pid, kids, 16);
	ck_assert_int_eq(n, 4);
	kill(env.host.pid, SIGKILL);
	ck_assert(pyc_proc_wait(&env.host, 2000));
	for (int i = 0; i < n; i++)
		ck_assert_msg(dw_pid_wait_gone(kids[i], 3000), "worker %d still running", kids[i]);
	/* The gateway sees every pipe go. */
	long long end = pyc_now_ms() + 2000;
	while (pyc_now_ms() < end) {
		int gone = 0;
		for (int i = 0; i < env.gw.nworkers; i++)
			gone += fgw_removed(&env.gw, env.gw.workers[i].pipe, NULL);
		if (gone == env.gw.nworkers)
			break;
		pyc_sleep_ms(20);
	}
	for (int i = 0; i < env.gw.nworkers; i++)
		ck_assert(fgw_removed(&env.gw, env.gw.workers[i].pipe, NULL));
}
END_TEST

START_TEST(test_dw_host_sigterm_exits_zero)
{
	int kids[16];
	start_env(2, 4);
	ck_assert_uint_ne(dw_open(&env, "sessT", NULL, NULL, NULL), 0);
	ck_assert(fgw_wait_workers(&env.gw, 2, 5000));
	int n = dw_children(env.host.pid, kids, 16);
	ck_assert_int_eq(n, 3);
	kill(env.host.pid, SIGTERM);
	ck_assert_msg(pyc_proc_wait(&env.host, 5000), "host did not stop on SIGTERM");
	ck_assert(WIFEXITED(env.host.status));
	ck_assert_int_eq(WEXITSTATUS(env.host.status), 0);
	for (int i = 0; i < n; i++)
		ck_assert(dw_pid_wait_gone(kids[i], 1000));
}
END_TEST

START_TEST(test_dw_host_health_probe)
{
	pyc_proc p;
	char *argv[] = {(char *) "pyc-dsp-worker", (char *) "--health", NULL};
	ck_assert_int_eq(dwenv_init(&env, 1, 2, NULL), 0);
	ck_assert_int_eq(pyc_proc_start(&p, "dsp-worker/pyc-dsp-worker", argv, env.envp), 0);
	ck_assert(pyc_proc_wait(&p, 5000));
	ck_assert(WIFEXITED(p.status));
	ck_assert_int_eq(WEXITSTATUS(p.status), 0);

	fgw_close(&env.gw);
	char *env2[20];
	int k = 0;
	for (; env.envp[k] != NULL; k++)
		env2[k] = env.envp[k];
	env2[k++] = (char *) "REQUEST_TIMEOUT_MS=300";
	env2[k] = NULL;
	ck_assert_int_eq(pyc_proc_start(&p, "dsp-worker/pyc-dsp-worker", argv, env2), 0);
	ck_assert(pyc_proc_wait(&p, 5000));
	ck_assert(WIFEXITED(p.status));
	ck_assert_int_eq(WEXITSTATUS(p.status), 1);

	/* A bad setting: exit 2. */
	env2[k - 1] = (char *) "DSP_POOL_SPARE=9999";
	ck_assert_int_eq(pyc_proc_start(&p, "dsp-worker/pyc-dsp-worker", argv, env2), 0);
	ck_assert(pyc_proc_wait(&p, 5000));
	ck_assert_int_eq(WEXITSTATUS(p.status), 2);
}
END_TEST

static Suite *dw_host_suite(void)
{
	Suite *s = suite_create("dw_host");
	TCase *tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dw_host_registers_pool);
	tcase_add_test(tc, test_dw_host_session_title_and_replacement);
	tcase_add_test(tc, test_dw_host_pool_max);
	tcase_add_test(tc, test_dw_host_gateway_restart);
	tcase_add_test(tc, test_dw_host_redials_after_handshake_close);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dw_host_quiet_after_bye);
	tcase_add_test(tc, test_dw_host_sigkill_leaves_nothing);
	tcase_add_test(tc, test_dw_host_sigterm_exits_zero);
	tcase_add_test(tc, test_dw_host_health_probe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_host_suite());
}
