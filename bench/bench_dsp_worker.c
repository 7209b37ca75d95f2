/* bench_dsp_worker.c - N real-time sessions on one dsp-worker host.
 *
 * NOTES: the bench plays the gateway (tests/it_dsp_worker_util.c): it
 * starts the real pyc-dsp-worker host, opens N sessions (48 kHz stereo,
 * default settings) and gives each session one chunk per chunk period,
 * the sessions spread evenly over the period, for a fixed time. It keeps
 * the gateway's flow control (docs/wire.md, "Flow control"): at most
 * GW_PIPE_WINDOW (2) messages unanswered per worker, the chunks that fall
 * due meanwhile queued (at most GW_OUT_QUEUE_AUDIO, beyond that dropped
 * and counted) and sent as one batch of up to PYC_BATCH_MAX_ITEMS when a
 * place frees; a batch is answered once. It prints the round trip of
 * every chunk (due -> the first meter or ack that covers it, measured
 * here, so it includes the queueing and this process's own scheduling),
 * the messages and batches sent, the CPU time per chunk summed
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
#define RING 1024      /* > queue + 2 batches in flight */
#define WINDOW 2       /* the gateway's GW_PIPE_WINDOW */
#define QUEUE_MAX 192  /* the gateway's GW_OUT_QUEUE_AUDIO */

typedef struct sess {
	char sid[32];
	uint32_t pipe;
	uint32_t pid;
	uint64_t next_seq;  /* next chunk to fall due */
	uint64_t unsent;    /* first chunk due and not yet sent */
	uint64_t answered;  /* every chunk up to this one is answered */
	int inflight;       /* messages sent and not answered */
	long long due_us[RING];
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

/* What the bench sent and read: counts and round trips after warm-up. */
typedef struct answers {
	uint64_t meters, acks, events, messages, batches, dropped;
	long long warm; /* chunks up to this seq are not timed */
	long long *rtt;
	size_t nrtt, cap;
	int16_t *pcm;
	size_t nbytes;
	uint8_t *items; /* a batch's payload */
	size_t items_cap;
} answers;

/* Sends what the window allows of session s's due chunks: one alone, or
 * the run of them as one batch. */
static void pump(dwenv *env, answers *c, sess *s)
{
	while (s->inflight < WINDOW && s->unsent < s->next_seq) {
		uint64_t k = s->next_seq - s->unsent;
		size_t fit = c->items_cap / pyc_batch_item_size(c->nbytes);
		if (k > PYC_BATCH_MAX_ITEMS)
			k = PYC_BATCH_MAX_ITEMS;
		if (k > fit)
			k = fit > 0 ? fit : 1;
		int rv;
		if (k == 1) {
			rv = fgw_send(&env->gw, s->pipe, PYC_MSG_AUDIO, s->sid, s->unsent, c->pcm,
			    c->nbytes);
		} else {
			pyc_wbuf w;
			pyc_wbuf_init(&w, c->items, c->items_cap);
			for (uint64_t i = 0; i < k; i++)
				pyc_batch_put(&w, PYC_MSG_AUDIO, s->unsent + i, c->pcm, c->nbytes);
			rv = w.err == PYC_OK ?
			    fgw_send(&env->gw, s->pipe, PYC_MSG_BATCH, s->sid, k, c->items, w.len) : -1;
			c->batches++;
		}
		if (rv != 0)
			return;
		c->messages++;
		s->unsent += k;
		s->inflight++;
	}
}

/* Reads one answer of the host: a meter or an ack answers the oldest
 * message in flight and covers every chunk up to its seq. */
static void count_answer(dwenv *env, answers *c, sess *ss, fmsg *m)
{
	int si = hget(m->pipe);
	if (m->m.type == PYC_MSG_EVENT) {
		c->events++;
	} else if ((m->m.type == PYC_MSG_METER || m->m.type == PYC_MSG_ACK) && si >= 0) {
		sess *s = &ss[si];
		if (m->m.type == PYC_MSG_METER)
			c->meters++;
		else
			c->acks++;
		if (s->inflight > 0)
			s->inflight--;
		bool covers = !(m->m.type == PYC_MSG_ACK && (m->m.flags & PYC_WIRE_F_REPLY));
		for (uint64_t q = s->answered + 1; covers && q <= m->m.seq && q < s->unsent; q++) {
			if (q > (uint64_t) c->warm && c->nrtt < c->cap)
				c->rtt[c->nrtt++] = m->t_us - s->due_us[q % RING];
			s->answered = q;
		}
		pump(env, c, s);
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
		ss[s].next_seq = ss[s].unsent = 1;
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
	answers c;
	memset(&c, 0, sizeof(c));
	c.warm = warm;
	c.cap = (size_t) (rounds * n);
	c.rtt = malloc(sizeof(long long) * (c.cap ? c.cap : 1));
	c.pcm = pcm;
	c.nbytes = nbytes;
	c.items_cap = pyc_batch_item_size(nbytes) * PYC_BATCH_MAX_ITEMS;
	if (c.items_cap > PYC_WIRE_MAX_PAYLOAD)
		c.items_cap = PYC_WIRE_MAX_PAYLOAD;
	c.items = malloc(c.items_cap);
	if (c.rtt == NULL || c.items == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	uint64_t due_chunks = 0, late_sends = 0;

	double cpu0 = 0;
	long long main0 = 0, nng0 = 0, main1, nng1;
	int rfd = -1;
	nng_socket_get_int(env.gw.s, NNG_OPT_RECVFD, &rfd);
	double self0 = 0, self1;
	/* Let the commands' acks of the opening pass, then keep them: a
	 * batch none of whose chunks was analysed is answered by an ack with
	 * the reply flag, and the bench must see those. */
	fgw_pump(&env.gw, 200);
	for (fmsg m; fgw_next(&env.gw, 0, &m, 0) == 0;)
		fmsg_free(&m);
	env.gw.keep_cmd_acks = true;
	long long t0 = dw_now_us() + 50000;
	long long k = 0; /* global index of chunks falling due: round * n + session */
	long long total = rounds * n;
	while (k < total) {
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
			sess *x = &ss[s];
			uint64_t seq = x->next_seq++;
			x->due_us[seq % RING] = due;
			due_chunks++;
			if (x->next_seq - x->unsent > QUEUE_MAX) {
				/* the gateway refuses audio beyond its queue: never
				 * numbered, so the worker sees no gap */
				x->next_seq--;
				c.dropped++;
			}
			pump(&env, &c, x);
			k++;
			continue;
		}
		/* Receive until the next chunk falls due (poll with a
		 * microsecond timeout on nng's receive descriptor: no
		 * spinning). */
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
		count_answer(&env, &c, ss, &m);
	}
	/* Send what is still queued and collect the last answers. */
	end = pyc_now_ms() + 10000;
	for (;;) {
		bool done = true;
		for (int s = 0; s < n && done; s++)
			done = ss[s].inflight == 0 && ss[s].unsent == ss[s].next_seq;
		if (done || pyc_now_ms() >= end)
			break;
		fmsg m;
		if (fgw_next(&env.gw, 0, &m, 50) != 0)
			continue;
		count_answer(&env, &c, ss, &m);
	}
	long long drain_ms = pyc_now_ms() - (end - 10000);
	uint64_t answered = 0, sent = 0;
	for (int s = 0; s < n; s++) {
		answered += ss[s].answered;
		sent += ss[s].unsent - 1;
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
	printf("sessions %d, chunk %d frames (%.2f ms), %.1f s: %llu chunks due, %llu sent in "
	       "%llu messages (%llu batches), %llu answered by %llu meters and %llu acks, "
	       "%llu lost, %llu dropped (queue full), %llu events, %llu late; drain %.1f s\n",
	    n, frames, (double) period_us / 1000.0, seconds, (unsigned long long) due_chunks,
	    (unsigned long long) sent, (unsigned long long) c.messages,
	    (unsigned long long) c.batches, (unsigned long long) answered,
	    (unsigned long long) c.meters, (unsigned long long) c.acks,
	    (unsigned long long) (sent - answered), (unsigned long long) c.dropped,
	    (unsigned long long) c.events, (unsigned long long) late_sends,
	    (double) drain_ms / 1000.0);
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
	free(c.items);
	free(pcm);
	free(ss);
	dwenv_fini(&env);
	pyc_proc_stop(&recorder, SIGTERM, 5000);
	return 0;
}
