/* it_dsp_worker_crash.c - a worker killed mid-stream ends only its session.
 *
 * NOTES: PostgreSQL's 013_crash_restart in miniature. Three sessions stream
 * at real-time pace; one worker gets SIGKILL. The gateway side must see
 * that session's pipe close within a second, the other two sessions must
 * keep getting a meter for every chunk, and the host must start a
 * replacement worker and stay up. Every wait is bounded.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static Suite *dw_crash_suite(void)
{
	Suite *s = suite_create("dw_crash");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_crash_sigkill_worker_mid_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_crash_suite());
}
