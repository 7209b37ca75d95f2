/* bench_dsp_worker.c - N real-time sessions on one dsp-worker host.
 *
 * NOTES: the bench plays the gateway (tests/it_dsp_worker_util.c): it
 * starts the real pyc-dsp-worker host, opens N sessions (48 kHz stereo,
 * default settings) and sends each session one chunk per chunk period,
 * the sessions spread evenly over the period, for a fixed time. It prints
 * the round trip (chunk sent -> its meter received, measured here, so it
 * includes this process's own scheduling), the CPU time per chunk summed
 * over the host and all its workers (their CPU-time clocks) and,
 * separately, the bench's own, and the private memory of each worker
 * (/proc/PID/smaps_rollup Private_Clean + Private_Dirty). The real
 * recorder runs beside the host, as deployed: without one, every worker
 * keeps redialling RECORDER_URL, and nng 1.5.2's poller spins on each
 * failed connection's hang-up until it is closed, which would be measured
 * as worker CPU. The bench shares the machine with what it measures.
 *
 * usage: bench_dsp_worker [sessions=100] [chunk_frames=960] [seconds=10]
 */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "it_dsp_worker_util.h"

#define RATE 48000
#define RING 256

typedef struct sess {
	char sid[32];
	uint32_t pipe;
	uint32_t pid;
	uint64_t next_seq;
	long long sent_us[RING];
	uint64_t meters;
} sess;

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *) a, y = *(const long long *) b;
	return x < y ? -1 : x > y;
}

/* Ticks of the workers' own threads (the main thread, named after the
 * process) and of nng's threads, summed over the given pids. */
static void split_ticks(const sess *ss, int n, long long *main_t, long long *nng_t)
{
	*main_t = *nng_t = 0;
	for (int s = 0; s < n; s++) {
		char path[96];
		snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", ss[s].pid, ss[s].pid);
		long long own = bench_stat_ticks(path);
		long long all = bench_proc_ticks((int) ss[s].pid);
		*main_t += own;
		*nng_t += all - own;
	}
}

/* CPU seconds of the host and all its workers (their CPU-time clocks). */
static double all_cpu_s(int host)
{
	int kids[20000];
	int n = dw_children(host, kids, 20000);
	double t = bench_proc_cpu_s(host);
	for (int i = 0; i < n; i++)
		t += bench_proc_cpu_s(kids[i]);
	return t;
}

/* pipe -> session index, open addressing */
#define HSIZE 8192
static uint32_t hkey[HSIZE];
static int hval[HSIZE];

static void hput(uint32_t k, int v)
{
	uint32_t i = (k * 2654435761u) & (HSIZE - 1);
	while (hkey[i] != 0 && hkey[i] != k)
		i = (i + 1) & (HSIZE - 1);
	hkey[i] = k;
	hval[i] = v;
}

static int hget(uint32_t k)
{
	uint32_t i = (k * 2654435761u) & (HSIZE - 1);
	while (hkey[i] != 0) {
		if (hkey[i] == k)
			return hval[i];
		i = (i + 1) & (HSIZE - 1);
	}
	return -1;
}

/* The answers the bench has read: counts and round trips after warm-up. */
typedef struct answers {
	uint64_t meters, acks, events;
	long long warm; /* meters of chunks up to this seq are not timed */
	long long *rtt;
	size_t nrtt, cap;
} answers;

/* Counts one answer of the host and frees it. */
static void count_answer(answers *c, const sess *ss, fmsg *m)
{
	int si = hget(m->pipe);
	if (m->m.type == PYC_MSG_METER && si >= 0) {
		c->meters++;
		if (m->m.seq > (uint64_t) c->warm && c->nrtt < c->cap)
			c->rtt[c->nrtt++] = m->t_us - ss[si].sent_us[m->m.seq % RING];
	} else if (m->m.type == PYC_MSG_ACK) {
		c->acks++;
	} else if (m->m.type == PYC_MSG_EVENT) {
		c->events++;
	}
	fmsg_free(m);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int frames = argc > 2 ? atoi(argv[2]) : 960;
	double seconds = argc > 3 ? atof(argv[3]) : 10;
	dwenv env;
	pyc_proc recorder;
	char spare_env[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (n < 1 || n > 2000 || frames < 16 || frames > 65536 || seconds <= 0 || seconds > 600) {
		fprintf(stderr, "usage: bench_dsp_worker [sessions 1..2000] [chunk_frames] [seconds]\n");
		return 2;
	}
	int spare = n < 32 ? n : 32;
	snprintf(spare_env, sizeof(spare_env), "DSP_MAX_BACKLOG_SECONDS=2");
	const char *extra[] = {spare_env, NULL};
	if (dwenv_init(&env, spare, n + spare, extra) != 0) {
		fprintf(stderr, "bench: cannot set up\n");
		return 1;
	}
	if (dwenv_start_recorder(&env, &recorder) != 0) {
		fprintf(stderr, "bench: the recorder did not start\n");
		dwenv_fini(&env);
		return 1;
	}
	if (dwenv_start_host(&env, spare, 20000) != 0) {
		fprintf(stderr, "bench: host did not start\n");
		pyc_proc_stop(&recorder, SIGTERM, 5000);
		dwenv_fini(&env);
		return 1;
	}
	sess *ss = calloc((size_t) n, sizeof(sess));
	pyc_params init;
	dw_params_masked(&init, PYC_P_RATE | PYC_P_CHANNELS);
	init.sample_rate = RATE;
	init.channels = 2;
	long long t_open = pyc_now_ms();
	for (int s = 0; s < n; s++) {
		snprintf(ss[s].sid, sizeof(ss[s].sid), "bench%05d", s);
		ss[s].pipe = dw_open(&env, ss[s].sid, NULL, &init, &ss[s].pid);
		if (ss[s].pipe == 0) {
			fprintf(stderr, "bench: could not open session %d\n", s);
			dwenv_fini(&env);
			return 1;
		}
		hput(ss[s].pipe, s);
		ss[s].next_seq = 1;
	}
	/* Wait for every ready event (drain). */
	int ready = 0;
	long long end = pyc_now_ms() + 20000;
	while (ready < n && pyc_now_ms() < end) {
		fmsg m;
		if (fgw_next(&env.gw, 0, &m, 100) == 0) {
			if (m.m.type == PYC_MSG_EVENT)
				ready++;
			fmsg_free(&m);
		}
	}
	printf("bench_dsp_worker: %d sessions open in %lld ms (%d ready)\n", n,
	    pyc_now_ms() - t_open, ready);

	int16_t *pcm = malloc(sizeof(int16_t) * (size_t) frames * 2);
	double f[2] = {997, 2003}, a[2] = {0.5, 0.3};
	dw_sines(pcm, (size_t) frames, 2, RATE, f, a, 0);
	size_t nbytes = sizeof(int16_t) * (size_t) frames * 2;

	long long period_us = (long long) frames * 1000000LL / RATE;
	long long rounds = (long long) (seconds * 1e6 / (double) period_us);
	long long warm = rounds / 10; /* the first 10 % are not measured */
	answers c = {0, 0, 0, warm, NULL, 0, (size_t) (rounds * n)};
	c.rtt = malloc(sizeof(long long) * (c.cap ? c.cap : 1));
	uint64_t sent = 0, late_sends = 0;

	double cpu0 = 0;
	long long main0 = 0, nng0 = 0, main1, nng1;
	int rfd = -1;
	nng_socket_get_int(env.gw.s, NNG_OPT_RECVFD, &rfd);
	double self0 = 0, self1;
	long long t0 = dw_now_us() + 50000;
	long long k = 0; /* global send index: round * n + session */
	long long total = rounds * n;
	while (k < total || pyc_now_ms() < 0) {
		long long round = k / n;
		int s = (int) (k % n);
		long long due = t0 + round * period_us + (long long) s * period_us / n;
		long long now = dw_now_us();
		if (now >= due) {
			if (round == warm && s == 0) {
				cpu0 = all_cpu_s(env.host.pid);
				split_ticks(ss, n, &main0, &nng0);
				self0 = bench_self_cpu_s();
			}
			if (now - due > period_us)
				late_sends++;
			uint64_t seq = ss[s].next_seq++;
			ss[s].sent_us[seq % RING] = dw_now_us();
			fgw_send(&env.gw, ss[s].pipe, PYC_MSG_AUDIO, ss[s].sid, seq, pcm, nbytes);
			sent++;
			k++;
			continue;
		}
		/* Receive until the next send is due (poll with a microsecond
		 * timeout on nng's receive descriptor: no spinning). */
		fmsg m;
		if (env.gw.nstash == 0) {
			struct pollfd pf = {rfd, POLLIN, 0};
			long long wait = due - now;
			struct timespec ts = {(time_t) (wait / 1000000), (long) (wait % 1000000) * 1000};
			if (ppoll(&pf, 1, &ts, NULL) <= 0)
				continue;
		}
		if (fgw_next(&env.gw, 0, &m, 0) != 0)
			continue;
		count_answer(&c, ss, &m);
	}
	/* Collect the last answers. */
	end = pyc_now_ms() + 2000;
	while (c.meters + c.acks < sent && pyc_now_ms() < end) {
		fmsg m;
		if (fgw_next(&env.gw, 0, &m, 50) != 0)
			continue;
		count_answer(&c, ss, &m);
	}
	double cpu1 = all_cpu_s(env.host.pid);
	split_ticks(ss, n, &main1, &nng1);
	self1 = bench_self_cpu_s();
	long long measured_chunks = (rounds - warm) * n;

	qsort(c.rtt, c.nrtt, sizeof(long long), cmp_ll);
	double svc_us = (cpu1 - cpu0) * 1e6 / (double) measured_chunks;
	double own_us = (self1 - self0) * 1e6 / (double) measured_chunks;
	/* The split by thread is only known in ticks: share the workers'
	 * part of the exact total out in the ticks' proportion. */
	double busy_ticks = (double) (main1 - main0 + nng1 - nng0);
	double main_share = busy_ticks > 0 ? (double) (main1 - main0) / busy_ticks : 0;
	double main_us = svc_us * main_share, nng_us = svc_us * (1 - main_share);
	long mem_sum = 0, mem_max = 0;
	int mem_n = 0;
	for (int s = 0; s < n; s++) {
		long kb = bench_private_kb((int) ss[s].pid);
		if (kb < 0)
			continue;
		mem_sum += kb;
		mem_n++;
		if (kb > mem_max)
			mem_max = kb;
	}
	printf("sessions %d, chunk %d frames (%.2f ms), %.1f s, %llu chunks sent, "
	       "%llu meters, %llu acks, %llu events, %llu lost, %llu late sends\n",
	    n, frames, (double) period_us / 1000.0, seconds, (unsigned long long) sent,
	    (unsigned long long) c.meters, (unsigned long long) c.acks, (unsigned long long) c.events,
	    (unsigned long long) (sent - c.meters - c.acks), (unsigned long long) late_sends);
	if (c.nrtt > 0)
		printf("round trip: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms (%zu samples)\n",
		    (double) c.rtt[c.nrtt / 2] / 1000.0,
		    (double) c.rtt[(size_t) ((double) c.nrtt * 0.99)] / 1000.0,
		    (double) c.rtt[(size_t) ((double) c.nrtt * 0.999)] / 1000.0,
		    (double) c.rtt[c.nrtt - 1] / 1000.0, c.nrtt);
	printf("cpu per chunk: %.1f us host+workers, %.1f us bench (gateway side); "
	       "%.0f%% of one core for the service\n",
	    svc_us, own_us, svc_us * (double) n / (double) period_us * 100.0);
	printf("  split as the busy workers' ticks split: %.1f us in their main thread (DSP, "
	       "JSON, syscalls), %.1f us in nng's threads\n", main_us, nng_us);
	printf("private memory per worker: mean %.0f KiB, max %ld KiB (%d workers); host %ld KiB\n",
	    mem_n ? (double) mem_sum / mem_n : 0.0, mem_max, mem_n, bench_private_kb(env.host.pid));
	free(c.rtt);
	free(pcm);
	free(ss);
	dwenv_fini(&env);
	pyc_proc_stop(&recorder, SIGTERM, 5000);
	return 0;
}
