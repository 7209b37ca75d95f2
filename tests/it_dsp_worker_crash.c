/* it_dsp_worker_crash.c - a worker killed mid-stream ends only its session.
 *
 * NOTES: PostgreSQL's 013_crash_restart in miniature. Three sessions stream
 * at real-time pace; one worker gets SIGKILL. The gateway side must see
 * that session's pipe close within a second, the other two sessions must
 * keep getting a meter for every chunk, and the host must start a
 * replacement worker and stay up. Every wait is bounded.
 *
 * A worker stopped (SIGSTOP) for longer than REQUEST_TIMEOUT_MS is killed,
 * reaped and replaced by the host; one continued before then is left be.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "it_dsp_worker_util.h"

#define CHUNK 960
#define RATE 48000

static dwenv env;

static void teardown(void)
{
	dwenv_fini(&env);
}

START_TEST(test_dw_crash_sigkill_worker_mid_stream)
{
	const char *sid[3] = {"crashA", "crashB", "crashC"};
	uint32_t pipe[3], pid[3];
	pyc_params init;
	int16_t pcm[CHUNK * 2];
	double f[2] = {1000, 500}, a[2] = {0.5, 0.5};
	const int before = 10, after = 25;

	ck_assert_int_eq(dwenv_init(&env, 3, 8, NULL), 0);
	ck_assert_int_eq(dwenv_start_host(&env, 3, 10000), 0);
	dw_params_masked(&init, PYC_P_RATE | PYC_P_CHANNELS);
	init.sample_rate = RATE;
	init.channels = 2;
	for (int s = 0; s < 3; s++) {
		pipe[s] = dw_open(&env, sid[s], NULL, &init, &pid[s]);
		ck_assert_uint_ne(pipe[s], 0);
	}
	int hellos_before = env.gw.nworkers;
	long long t0 = pyc_now_ms();
	long long killed_at = 0;
	for (int i = 1; i <= before + after; i++) {
		dw_sines(pcm, CHUNK, 2, RATE, f, a, (uint64_t) (i - 1) * CHUNK);
		for (int s = 0; s < 3; s++) {
			if (s == 1 && killed_at != 0)
				continue;
			fgw_send_audio(&env.gw, pipe[s], sid[s], (uint64_t) i, pcm, sizeof(pcm), 2);
		}
		if (i == before) {
			ck_assert_int_eq(kill((pid_t) pid[1], SIGKILL), 0);
			killed_at = pyc_now_ms();
		}
		long long due = t0 + (long long) i * 20;
		while (pyc_now_ms() < due)
			fgw_pump(&env.gw, (int) (due - pyc_now_ms()));
	}
	long long end = pyc_now_ms() + 3000;
	while ((fgw_answered(&env.gw, pipe[0]) < (uint64_t) (before + after) ||
		   fgw_answered(&env.gw, pipe[2]) < (uint64_t) (before + after)) &&
	    pyc_now_ms() < end)
		fgw_pump(&env.gw, 10);

	long long rem_at = 0;
	ck_assert_msg(fgw_removed(&env.gw, pipe[1], &rem_at), "the killed worker's pipe is still up");
	ck_assert_msg(rem_at - killed_at <= 1000, "pipe closed %lld ms after the kill",
	    rem_at - killed_at);
	/* The others answered every chunk, in order, one meter each. */
	for (int s = 0; s < 3; s += 2) {
		ck_assert(!fgw_removed(&env.gw, pipe[s], NULL));
		uint64_t expect = 1;
		fmsg m;
		while (fgw_next(&env.gw, pipe[s], &m, 0) == 0) {
			if (m.m.type == PYC_MSG_METER) {
				ck_assert_str_eq(m.m.sid, sid[s]);
				ck_assert_uint_eq(m.m.seq, expect);
				expect++;
			}
			fmsg_free(&m);
		}
		ck_assert_uint_eq(expect, (uint64_t) (before + after) + 1);
	}
	/* A replacement registered, and the host is up. */
	ck_assert_msg(fgw_wait_workers(&env.gw, 3, 5000), "no replacement for the killed worker");
	ck_assert_int_gt(env.gw.nworkers, hellos_before);
	ck_assert(pyc_proc_alive(&env.host));
	ck_assert(!dw_pid_alive((int) pid[1]));
}
END_TEST

static bool is_child(int host, int pid)
{
	int kids[16];
	int n = dw_children(host, kids, 16);
	for (int i = 0; i < n; i++)
		if (kids[i] == pid)
			return true;
	return false;
}

START_TEST(test_dw_crash_stopped_worker_replaced)
{
	static const char *const extra[] = {"REQUEST_TIMEOUT_MS=400", NULL};
	uint32_t busy_pid = 0, idle_pid = 0, cont_pid = 0;
	pyc_params init;

	ck_assert_int_eq(dwenv_init(&env, 3, 8, extra), 0);
	ck_assert_int_eq(dwenv_start_host(&env, 3, 10000), 0);
	dw_params_masked(&init, PYC_P_RATE | PYC_P_CHANNELS);
	init.sample_rate = RATE;
	init.channels = 1;
	uint32_t pipe = dw_open(&env, "stopA", NULL, &init, &busy_pid);
	ck_assert_uint_ne(pipe, 0);
	ck_assert(fgw_take_worker(&env.gw, 5000, &idle_pid) != 0);
	ck_assert(fgw_take_worker(&env.gw, 5000, &cont_pid) != 0);
	ck_assert_uint_ne(idle_pid, busy_pid);
	ck_assert_uint_ne(cont_pid, busy_pid);
	ck_assert_uint_ne(cont_pid, idle_pid);
	int hellos_before = env.gw.nworkers;

	/* One busy and one idle stay stopped; one is continued in time. */
	ck_assert_int_eq(kill((pid_t) busy_pid, SIGSTOP), 0);
	ck_assert_int_eq(kill((pid_t) idle_pid, SIGSTOP), 0);
	ck_assert_int_eq(kill((pid_t) cont_pid, SIGSTOP), 0);
	long long stopped_at = pyc_now_ms();
	fgw_pump(&env.gw, 100);
	ck_assert_int_eq(kill((pid_t) cont_pid, SIGCONT), 0);

	ck_assert_msg(dw_pid_wait_gone((int) busy_pid, 10000), "stopped busy worker still there");
	ck_assert_msg(dw_pid_wait_gone((int) idle_pid, 10000), "stopped idle worker still there");
	long long gone_ms = pyc_now_ms() - stopped_at;
	ck_assert_msg(gone_ms >= 300, "killed after only %lld ms (timeout 400)", gone_ms);
	/* Reaped (no zombie left as the host's child) and its session ended. */
	long long end = pyc_now_ms() + 5000;
	while ((is_child(env.host.pid, (int) busy_pid) || is_child(env.host.pid, (int) idle_pid) ||
		   !fgw_removed(&env.gw, pipe, NULL)) &&
	    pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	ck_assert(!is_child(env.host.pid, (int) busy_pid));
	ck_assert(!is_child(env.host.pid, (int) idle_pid));
	ck_assert_msg(fgw_removed(&env.gw, pipe, NULL), "the stopped session's pipe is still up");
	/* Replaced: the host reports 3 idle (the continued one among them) and
	 * none busy, and a new worker said hello. */
	end = pyc_now_ms() + 10000;
	while ((env.gw.host.idle != 3 || env.gw.host.busy != 0 || env.gw.nworkers <= hellos_before) &&
	    pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	ck_assert_msg(env.gw.host.idle == 3 && env.gw.host.busy == 0,
	    "host reports %u idle, %u busy", env.gw.host.idle, env.gw.host.busy);
	ck_assert_int_gt(env.gw.nworkers, hellos_before);

	/* The continued one lives on, long after the timeout. */
	fgw_pump(&env.gw, 1200);
	ck_assert(dw_pid_alive((int) cont_pid));
	ck_assert(is_child(env.host.pid, (int) cont_pid));
	ck_assert(pyc_proc_alive(&env.host));
	/* A clean stop still works with a stopped worker in the pool. */
	ck_assert_int_eq(kill((pid_t) cont_pid, SIGSTOP), 0);
	int st = pyc_proc_stop(&env.host, SIGTERM, 15000);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "host status %d", st);
	ck_assert(dw_pid_wait_gone((int) cont_pid, 5000));
}
END_TEST

static Suite *dw_crash_suite(void)
{
	Suite *s = suite_create("dw_crash");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_crash_sigkill_worker_mid_stream);
	tcase_add_test(tc, test_dw_crash_stopped_worker_replaced);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_crash_suite());
}
