/* bench_gateway.c - load generator through the whole system: N WebSocket
 * sessions streaming 48 kHz stereo at real-time pace through the gateway.
 *
 * usage: bench_gateway [SESSIONS [CHUNK_FRAMES [SECONDS]]]   (default 50 960 10)
 *
 * NOTES: it starts the real recorder, one dsp-worker host and the gateway
 * (from the build folder, ipc:// in a temporary folder, one free loopback
 * port for HTTP and the WebSocket), opens SESSIONS connections on one lws
 * client context (one thread, so the generator stays cheap), sends init, waits for every
 * session's ready, then streams sines at wall-clock pace, each session
 * offset by a fraction of a chunk so the load is spread. Latency is from
 * the moment a chunk is handed to lws to the moment the first meter with
 * its seq or a later one is read. After the interval the generator still
 * writes the chunks back-pressure held in it and waits for every meter
 * (up to 10 s); a chunk without its meter then is lost. "Held back" counts
 * the chunks that fell due while the session's previous one was still
 * unwritten (lws had not yet reported the socket writable: the gateway
 * was not reading, or the generator itself was behind). CPU time of every server process (gateway, host, each worker,
 * recorder; their CPU-time clocks) is read before and after the measured
 * interval and divided by the chunks written in it; the generator's own
 * CPU is reported the same way.
 */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench_util.h"
#include "pyc_testproc.h"

#define RATE 48000
#define MAX_SEQ_RING 4096

typedef struct sess {
	struct lws *wsi;
	int idx;
	char sid[48];
	bool established, ready, closed;
	uint64_t seq;              /* chunks queued */
	uint64_t written;          /* chunks written */
	int64_t next_us;           /* when the next chunk is due */
	int64_t sent_us[MAX_SEQ_RING];
	uint64_t meters;
	uint64_t last_meter_seq;
	bool init_pending;
	int pending; /* chunks due but not yet written */
	double phase;
	int errors;
} sess;

static sess *S;
static int N = 50, FRAMES = 960, SECONDS = 10;
static bool streaming;
static uint64_t *lat; /* latencies in µs */
static size_t n_lat, cap_lat;
static unsigned char *chunkbuf;
static size_t chunk_bytes;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_meter(sess *s, const char *in, size_t len)
{
	const char *p = memmem(in, len, "\"seq\":", 6);
	if (p == NULL)
		return;
	uint64_t seq = strtoull(p + 6, NULL, 10);
	s->meters++;
	/* A meter answers its chunk and every earlier one not answered yet
	 * (the gateway replaces meters for a slow reader, a batch gets one):
	 * each of them is counted with its own wait. */
	uint64_t from = s->last_meter_seq + 1;
	if (s->written >= MAX_SEQ_RING && from <= s->written - MAX_SEQ_RING)
		from = s->written - MAX_SEQ_RING + 1; /* older send times are gone */
	if (seq > 0 && seq <= s->written && streaming) {
		int64_t now = now_us();
		for (uint64_t c = from; c <= seq; c++) {
			if (n_lat == cap_lat) {
				cap_lat = cap_lat ? cap_lat * 2 : 65536;
				uint64_t *nl = realloc(lat, cap_lat * sizeof(*lat));
				if (nl == NULL)
					break;
				lat = nl;
			}
			lat[n_lat++] = (uint64_t) (now - s->sent_us[c % MAX_SEQ_RING]);
		}
	}
	if (seq > s->last_meter_seq)
		s->last_meter_seq = seq;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	sess *s = lws_get_opaque_user_data(wsi);
	(void) user;
	if (s == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		s->wsi = wsi; /* lws clears the connect-time pointer */
		s->established = true;
		s->init_pending = true;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!lws_frame_is_binary(wsi) && lws_is_first_fragment(wsi)) {
			if (len > 14 && memcmp(in, "{\"type\":\"meter", 14) == 0)
				on_meter(s, in, len);
			else if (memmem(in, len, "\"ready\"", 7) != NULL)
				s->ready = true;
			else if (memmem(in, len, "\"error\"", 7) != NULL) {
				if (s->errors++ < 3)
					fprintf(stderr, "session %d: %.*s\n", s->idx, (int) len,
					    (const char *) in);
			}
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (s->init_pending) {
			static const char init[] =
			    "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":2}";
			unsigned char buf[LWS_PRE + sizeof(init)];
			memcpy(buf + LWS_PRE, init, sizeof(init) - 1);
			s->init_pending = false;
			if (lws_write(wsi, buf + LWS_PRE, sizeof(init) - 1, LWS_WRITE_TEXT) < 0)
				return -1;
		} else if (s->pending > 0) {
			s->pending--;
			s->written++;
			s->sent_us[s->written % MAX_SEQ_RING] = now_us();
			if (lws_write(wsi, chunkbuf + LWS_PRE, chunk_bytes, LWS_WRITE_BINARY) < 0)
				return -1;
		}
		if (s->pending > 0)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		s->closed = true;
		s->wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"bench", cb, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- process CPU ---- */

/* CPU seconds of all children of host (the workers). */
static double workers_cpu_s(pid_t host, int *count)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	double t = 0;
	*count = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		pid_t p = (pid_t) atoi(e->d_name);
		if (bench_proc_ppid((int) p) == (int) host) {
			t += bench_proc_cpu_s((int) p);
			(*count)++;
		}
	}
	if (d != NULL)
		closedir(d);
	return t;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
	return x < y ? -1 : x > y;
}

static void nop(lws_sorted_usec_list_t *s)
{
	(void) s;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		N = atoi(argv[1]);
	if (argc > 2)
		FRAMES = atoi(argv[2]);
	if (argc > 3)
		SECONDS = atoi(argv[3]);
	if (N < 1 || FRAMES < 1 || SECONDS < 1) {
		fprintf(stderr, "usage: bench_gateway [SESSIONS [CHUNK_FRAMES [SECONDS]]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);

	/* the system */
	char *dir = pyc_tmpdir_new();
	int http = pyc_free_port(), ws = http; /* one public port: HTTP and WebSocket */
	static char env[12][600];
	char *envp[13];
	int ne = 0;
	snprintf(env[ne++], 600, "DATA_DIR=%s", dir);
	snprintf(env[ne++], 600, "RUN_DIR=%s/run", dir);
	snprintf(env[ne++], 600, "BACKEND_PORT=%d", http);
	snprintf(env[ne++], 600, "BIND_ADDRESS=127.0.0.1");
	snprintf(env[ne++], 600, "LOG_LEVEL=error");
	snprintf(env[ne++], 600, "DSP_POOL_SPARE=%d", N < 32 ? N : 32);
	snprintf(env[ne++], 600, "MAX_SESSIONS_PER_IP=%d", N + 10);
	snprintf(env[ne++], 600, "MAX_SESSIONS=%d", N + 10);
	snprintf(env[ne++], 600, "DSP_POOL_MAX=%d", N + 40);
	for (int i = 0; i < ne; i++)
		envp[i] = env[i];
	envp[ne] = NULL;
	pyc_proc rec, host, gw;
	pyc_proc_start(&rec, "recorder/pyc-recorder", NULL, envp);
	pyc_proc_start(&host, "dsp-worker/pyc-dsp-worker", NULL, envp);
	pyc_proc_start(&gw, "gateway/pyc-gateway", NULL, envp);
	if (!pyc_wait_for_port(ws, 10000)) {
		fprintf(stderr, "gateway did not start\n");
		return 1;
	}
	pyc_sleep_ms(500);

	/* the clients */
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	lws_set_log_level(LLL_ERR, NULL);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t) -1;
	info.uid = (uid_t) -1;
	info.fd_limit_per_thread = (unsigned) (N + 64);
	struct lws_context *ctx = lws_create_context(&info);
	lws_sorted_usec_list_t sul;
	memset(&sul, 0, sizeof(sul));

	chunk_bytes = (size_t) FRAMES * 4;
	chunkbuf = malloc(LWS_PRE + chunk_bytes);
	double ph = 0;
	int16_t *pcm = (int16_t *) (chunkbuf + LWS_PRE);
	for (int i = 0; i < FRAMES; i++) {
		int16_t v = (int16_t) lrint(8000 * sin(ph));
		ph += 2 * M_PI * 1000.0 / RATE;
		pcm[2 * i] = v;
		pcm[2 * i + 1] = v;
	}
	S = calloc((size_t) N, sizeof(sess));
	int64_t t0 = now_us();
	for (int i = 0; i < N; i++) {
		struct lws_client_connect_info ci;
		sess *s = &S[i];
		s->idx = i;
		snprintf(s->sid, sizeof(s->sid), "bench%05d-%lld", i, (long long) (t0 % 100000));
		char path[128];
		snprintf(path, sizeof(path), "/ws/audio?session_id=%s", s->sid);
		memset(&ci, 0, sizeof(ci));
		ci.context = ctx;
		ci.address = "127.0.0.1";
		ci.port = ws;
		ci.path = path;
		ci.host = "127.0.0.1";
		ci.local_protocol_name = "bench";
		ci.opaque_user_data = s;
		lws_client_connect_via_info(&ci);
		/* ramp: let the host fork workers */
		int64_t until = now_us() + 20000;
		while (now_us() < until) {
			lws_sul_schedule(ctx, 0, &sul, nop, 1000);
			lws_service(ctx, 0);
		}
	}
	int64_t deadline = now_us() + 60000000;
	int ready = 0;
	while (now_us() < deadline) {
		ready = 0;
		for (int i = 0; i < N; i++)
			ready += S[i].ready;
		if (ready == N)
			break;
		lws_sul_schedule(ctx, 0, &sul, nop, 5000);
		lws_service(ctx, 0);
	}
	printf("sessions ready: %d/%d (%.1f s)\n", ready, N, (double) (now_us() - t0) / 1e6);

	/* measured interval */
	int64_t period = (int64_t) FRAMES * 1000000 / RATE;
	int64_t start = now_us() + 100000;
	for (int i = 0; i < N; i++)
		S[i].next_us = start + period * i / N;
	int nworkers;
	double c_gw0 = bench_proc_cpu_s(gw.pid), c_host0 = bench_proc_cpu_s(host.pid),
	       c_rec0 = bench_proc_cpu_s(rec.pid), c_w0 = workers_cpu_s(host.pid, &nworkers),
	       c_self0 = bench_self_cpu_s();
	streaming = true;
	int64_t end = start + (int64_t) SECONDS * 1000000;
	uint64_t behind = 0;
	while (now_us() < end) {
		int64_t now = now_us();
		int64_t next = end;
		for (int i = 0; i < N; i++) {
			sess *s = &S[i];
			if (s->wsi == NULL || !s->ready)
				continue;
			while (s->next_us <= now) {
				s->seq++;
				s->pending++;
				s->next_us += period;
				if (s->pending > 1)
					behind++;
				lws_callback_on_writable(s->wsi);
			}
			if (s->next_us < next)
				next = s->next_us;
		}
		int64_t wait = next - now_us();
		/* lws 4.1 polls with the next timer in whole ms: under 1 ms it
		 * would spin */
		lws_sul_schedule(ctx, 0, &sul, nop, wait > 1000 ? wait : 1000);
		lws_service(ctx, 0);
	}
	double c_gw1 = bench_proc_cpu_s(gw.pid), c_host1 = bench_proc_cpu_s(host.pid),
	       c_rec1 = bench_proc_cpu_s(rec.pid), c_w1 = workers_cpu_s(host.pid, &nworkers),
	       c_self1 = bench_self_cpu_s();
	uint64_t sent_in_interval = 0;
	for (int i = 0; i < N; i++)
		sent_in_interval += S[i].written;
	/* drain: chunks that back-pressure held in the generator are still
	 * written, and every chunk written waits for its meter, up to 10 s */
	int64_t drain_start = now_us(), drain = drain_start + 10000000;
	while (now_us() < drain) {
		bool done = true;
		for (int i = 0; i < N && done; i++)
			if (S[i].wsi != NULL && (S[i].pending > 0 || S[i].last_meter_seq < S[i].written))
				done = false;
		if (done)
			break;
		lws_sul_schedule(ctx, 0, &sul, nop, 10000);
		lws_service(ctx, 0);
	}
	double drain_s = (double) (now_us() - drain_start) / 1e6;
	streaming = false;

	uint64_t sent = 0, meters = 0, lost = 0;
	int closed = 0;
	for (int i = 0; i < N; i++) {
		sent += S[i].written;
		meters += S[i].meters;
		if (S[i].written > S[i].last_meter_seq)
			lost += S[i].written - S[i].last_meter_seq;
		closed += S[i].closed;
	}
	/* meters the gateway replaced for a slow reader show up as fewer
	 * meters than chunks; a chunk is lost if no later meter covers it */
	qsort(lat, n_lat, sizeof(*lat), cmp_u64);
	double chunks = (double) (sent_in_interval ? sent_in_interval : 1);
	printf("sessions %d, chunk %d frames (%.2f ms), %d s: chunks sent %llu, meters %llu, "
	       "lost %llu, held back %llu, closed %d; drain %.1f s\n",
	    N, FRAMES, FRAMES * 1000.0 / RATE, SECONDS, (unsigned long long) sent,
	    (unsigned long long) meters, (unsigned long long) lost, (unsigned long long) behind,
	    closed, drain_s);
	if (n_lat > 0)
		printf("latency send->meter: p50 %.0f us, p99 %.0f us, max %.0f us\n",
		    (double) lat[n_lat / 2], (double) lat[n_lat * 99 / 100], (double) lat[n_lat - 1]);
	double g = (c_gw1 - c_gw0) * 1e6 / chunks, h = (c_host1 - c_host0) * 1e6 / chunks,
	       w = (c_w1 - c_w0) * 1e6 / chunks, r = (c_rec1 - c_rec0) * 1e6 / chunks,
	       me = (c_self1 - c_self0) * 1e6 / chunks;
	printf("server CPU per chunk: gateway %.1f us, host %.1f us, workers (%d) %.1f us, "
	       "recorder %.1f us, total %.1f us\n", g, h, nworkers, w, r, g + h + w + r);
	printf("generator CPU per chunk: %.1f us (%.0f%% of one core)\n", me,
	    (c_self1 - c_self0) * 100.0 / SECONDS);

	lws_context_destroy(ctx);
	pyc_proc_stop(&gw, SIGTERM, 10000);
	pyc_proc_stop(&host, SIGTERM, 5000);
	pyc_proc_stop(&rec, SIGTERM, 5000);
	pyc_tmpdir_remove(dir);
	free(dir);
	return lost == 0 && closed == 0 ? 0 : 1;
}
