/* bench_recorder.c - drives the real pyc-recorder with N concurrent 48 kHz stereo recordings.
 *
 * NOTES: starts pyc-recorder on a temporary folder (on the disk under
 * test: -D picks it), opens one pair1 socket per simulated worker process
 * (as the dsp-worker does) and has each append 20 ms blocks (960 frames,
 * 3840 bytes) at -x times real time for -d seconds. A separate probe
 * socket sends a rec_stop for a session with no recording every 10 ms and
 * times the reply (not_recording): that round trip crosses the recorder's
 * stream loop behind all the real appends, so it is the latency an append
 * sees before it is queued. The recorder's own
 * receive -> queued histogram comes from its health reply. Prints MB/s
 * written, latencies (p50/p99/max), stop (fsync + rename) times, and the
 * recorder's RSS (VmRSS, VmHWM). Usage:
 *   bench_recorder [-n sessions] [-d seconds] [-x speed] [-D dir] [-r recorder]
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench_util.h"
#include "pyc_wire.h"

#define BLOCK_FRAMES 960
#define BLOCK_BYTES (BLOCK_FRAMES * 4)

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until(int64_t t)
{
	int64_t d = t - now_us();
	if (d > 0) {
		struct timespec ts = {(time_t) (d / 1000000), (long) (d % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
	return x < y ? -1 : x > y;
}

static void pct(int64_t *v, size_t n, const char *what)
{
	if (n == 0) {
		printf("%-34s no samples\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("%-34s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (n=%zu)\n", what,
	    v[n / 2] / 1000.0, v[(n * 99) / 100] / 1000.0, v[n - 1] / 1000.0, n);
}

static int send_env(nng_socket s, unsigned type, const char *sid, const void *p, size_t n)
{
	nng_msg *m;
	int rv;
	if (pyc_wire_msg_new(&m, type, 0, sid, 0, p, n) != PYC_OK)
		return -1;
	if ((rv = nng_sendmsg(s, m, 0)) != 0)
		nng_msg_free(m);
	return rv;
}

/* Waits for a message of type; fills res. */
static int wait_type(nng_socket s, unsigned type, pyc_rec_result *res)
{
	pyc_wire_msg w;
	nng_msg *m;
	for (int i = 0; i < 1000; i++) {
		if (nng_recvmsg(s, &m, 0) != 0)
			return -1;
		int ok = pyc_wire_msg_decode(m, &w) == PYC_OK && w.type == type &&
		    pyc_rec_result_get(w.payload, w.payload_len, res) == PYC_OK;
		nng_msg_free(m);
		if (ok)
			return res->status;
	}
	return -1;
}

static int health(nng_socket g, char *out, size_t cap)
{
	pyc_status_rep rep;
	pyc_wire_msg w;
	nng_msg *m;
	int st = -1;
	if (send_env(g, PYC_MSG_HEALTH, "", NULL, 0) != 0 || nng_recvmsg(g, &m, 0) != 0)
		return -1;
	if (pyc_wire_msg_decode(m, &w) == PYC_OK &&
	    pyc_status_rep_get(w.payload, w.payload_len, &rep) == PYC_OK) {
		st = rep.status;
		snprintf(out, cap, "%.*s", (int) rep.json_len, rep.json);
	}
	nng_msg_free(m);
	return st;
}

/* The probe: round trips through the stream loop while the load runs. */
typedef struct probe {
	nng_socket s;
	atomic_int stop;
	int64_t *lat;
	size_t n, cap;
} probe;

static void *probe_main(void *arg)
{
	probe *p = arg;
	pyc_rec_result res;
	while (!atomic_load(&p->stop) && p->n < p->cap) {
		int64_t t0 = now_us();
		if (send_env(p->s, PYC_MSG_REC_STOP, "probe", NULL, 0) != 0)
			break;
		if (wait_type(p->s, PYC_MSG_REC_STOP, &res) < 0)
			break;
		p->lat[p->n++] = now_us() - t0;
		sleep_until(t0 + 10000);
	}
	return NULL;
}

static nng_socket dial(const char *url, int req)
{
	nng_socket s;
	if ((req ? nng_req0_open(&s) : nng_pair1_open(&s)) != 0)
		exit(1);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 30000);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 30000);
	nng_socket_set_int(s, NNG_OPT_SENDBUF, 256);
	for (int i = 0; i < 500 && nng_dial(s, url, NULL, 0) != 0; i++)
		usleep(10000);
	return s;
}

int main(int argc, char **argv)
{
	int nsess = 200, opt;
	double secs = 5, speed = 2;
	const char *base = "/var/tmp", *bin = PYC_BINARY_DIR "/recorder/pyc-recorder";
	char dir[512], url[600], ctl[600], sid[32], hj[2048];
	nng_socket *w, g;
	pyc_rec_result res;
	int16_t *block;
	int64_t *send_lat, *stop_lat, t0, t_end;
	size_t nsend = 0, nstop = 0, blocks_per_sess;
	probe pr;
	pthread_t pth;
	pid_t pid;
	int status, failed = 0;

	while ((opt = getopt(argc, argv, "n:d:x:D:r:")) != -1) {
		switch (opt) {
		case 'n': nsess = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'x': speed = atof(optarg); break;
		case 'D': base = optarg; break;
		case 'r': bin = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n sessions] [-d seconds] [-x speed] [-D dir]"
			    " [-r recorder]\n", argv[0]);
			return 2;
		}
	}
	if (nsess < 1 || nsess > 5000 || secs <= 0 || secs > 600 || speed <= 0 || speed > 100) {
		fprintf(stderr, "bench_recorder: bad arguments\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/pyc-bench-rec-XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(url, sizeof(url), "ipc://%s/rec.ipc", dir);
	snprintf(ctl, sizeof(ctl), "ipc://%s/ctl.ipc", dir);

	if ((pid = fork()) == 0) {
		char e[6][700];
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(e[0], sizeof(e[0]), "%s/recordings", dir);
		setenv("RECORDINGS_DIR", e[0], 1);
		snprintf(e[1], sizeof(e[1]), "%s/rec.db", dir);
		setenv("DB_PATH", e[1], 1);
		setenv("RECORDER_LISTEN_URL", url, 1);
		setenv("RECORDER_CTL_LISTEN_URL", ctl, 1);
		setenv("RUN_DIR", dir, 1);
		setenv("DATA_DIR", dir, 1);
		setenv("LOG_LEVEL", "error", 1);
		execl(bin, bin, (char *) NULL);
		perror(bin);
		_exit(127);
	}
	g = dial(ctl, 1);
	for (int i = 0; i < 500 && health(g, hj, sizeof(hj)) != 0; i++)
		usleep(10000);

	blocks_per_sess = (size_t) (secs * 50 * speed);
	w = calloc((size_t) nsess, sizeof(*w));
	send_lat = malloc(sizeof(int64_t) * blocks_per_sess * (size_t) nsess);
	stop_lat = malloc(sizeof(int64_t) * (size_t) nsess);
	block = malloc(BLOCK_BYTES);
	for (int i = 0; i < BLOCK_FRAMES * 2; i++)
		block[i] = (int16_t) (i * 37);

	for (int i = 0; i < nsess; i++) {
		w[i] = dial(url, 0);
		snprintf(sid, sizeof(sid), "bench-%d", i);
		pyc_rec_start st = {48000, 2, "{\"gain\":0,\"filter_enabled\":false}"};
		uint8_t buf[600];
		pyc_wbuf wb;
		pyc_wbuf_init(&wb, buf, sizeof(buf));
		pyc_rec_start_put(&wb, &st);
		if (send_env(w[i], PYC_MSG_REC_START, sid, buf, wb.len) != 0 ||
		    wait_type(w[i], PYC_MSG_REC_START, &res) != 0) {
			fprintf(stderr, "rec_start %d failed: %s\n", i, res.message);
			return 1;
		}
	}
	memset(&pr, 0, sizeof(pr));
	pr.s = dial(url, 0);
	pr.cap = (size_t) (secs * 100) + 100;
	pr.lat = malloc(sizeof(int64_t) * pr.cap);
	pthread_create(&pth, NULL, probe_main, &pr);

	printf("bench_recorder: %d sessions, 48 kHz stereo, 20 ms blocks, %.1fx real time,"
	    " %.1f s, folder %s\n", nsess, speed, secs, dir);
	t0 = now_us();
	for (size_t b = 0; b < blocks_per_sess; b++) {
		sleep_until(t0 + (int64_t) ((double) b * 20000.0 / speed));
		for (int i = 0; i < nsess; i++) {
			int64_t s0 = now_us();
			snprintf(sid, sizeof(sid), "bench-%d", i);
			if (send_env(w[i], PYC_MSG_REC_APPEND, sid, block, BLOCK_BYTES) != 0)
				failed++;
			send_lat[nsend++] = now_us() - s0;
		}
	}
	t_end = now_us();
	atomic_store(&pr.stop, 1);
	pthread_join(pth, NULL);
	long rss = bench_status_kb((int) pid, "VmRSS:");
	for (int i = 0; i < nsess; i++) {
		int64_t s0 = now_us();
		snprintf(sid, sizeof(sid), "bench-%d", i);
		send_env(w[i], PYC_MSG_REC_STOP, sid, NULL, 0);
		int st = wait_type(w[i], PYC_MSG_REC_STOP, &res);
		stop_lat[nstop++] = now_us() - s0;
		if (st != 0 || res.frames != blocks_per_sess * BLOCK_FRAMES) {
			failed++;
			if (failed < 5)
				fprintf(stderr, "session %d: status %d, %llu frames of %zu: %s\n", i, st,
				    (unsigned long long) res.frames, blocks_per_sess * BLOCK_FRAMES,
				    res.message);
		}
	}
	int64_t t_done = now_us();
	health(g, hj, sizeof(hj));

	double mb = (double) nsess * (double) blocks_per_sess * BLOCK_BYTES / 1e6;
	printf("audio sent and written             %.1f MB in %.2f s of sending (+%.2f s for"
	    " the stops)\n", mb, (t_end - t0) / 1e6, (t_done - t_end) / 1e6);
	printf("throughput                         %.1f MB/s while sending (real time needs %.1f"
	    " MB/s for %d sessions)\n", mb / ((t_end - t0) / 1e6), nsess * 0.192, nsess);
	pct(send_lat, nsend, "append send (client nng_sendmsg)");
	pct(pr.lat, pr.n, "append round trip (probe)");
	pct(stop_lat, nstop, "stop reply (fsync+rename+row)");
	printf("recorder health                    %s\n", hj);
	printf("recorder RSS                       %ld kB (peak %ld kB)\n", rss,
	    bench_status_kb((int) pid, "VmHWM:"));
	printf("failures                           %d\n", failed);

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	for (int i = 0; i < nsess; i++)
		nng_close(w[i]);
	nng_close(pr.s);
	nng_close(g);
	{
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	free(w);
	free(send_lat);
	free(stop_lat);
	free(block);
	free(pr.lat);
	return failed == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
