/* bench_ipc_floor.c - what one chunk's round trip between two processes
 * costs before any DSP or WebSocket work: the floor under the gateway and
 * dsp-worker figures.
 *
 * usage: bench_ipc_floor [peers=100] [seconds=5] [all|unix|pair1|pair1cb|mono|stream]
 *                        [chunk_frames=960]
 *
 * NOTES: a driver (the gateway's place) and PEERS peer processes (the
 * workers' place, one process each, started with fork+exec) exchange what
 * a session exchanges with its worker: each peer gets one chunk of 48 kHz
 * stereo int16 per chunk period (960 frames: 3840 bytes every 20 ms; the
 * peers are spread evenly over the period) and answers with a 400-byte
 * message (a meter's size). Nothing else is done with them. Three transports:
 *  unix    a SOCK_SEQPACKET socketpair per peer, blocking read/write in
 *          the peer, epoll in the driver: the kernel's own cost.
 *  pair1   what the system uses: nng pair1, the driver a polyamorous
 *          listener addressing each peer's pipe, each peer dialling and
 *          waiting on NNG_OPT_RECVFD as a worker does, over ipc://.
 *  pair1cb the same driver; each peer receives with nng_recv_aio and
 *          answers inside the aio's callback, on nng's thread, instead of
 *          waiting on NNG_OPT_RECVFD in a thread of its own.
 *  mono    nng pair1 without the polyamorous mode: the driver keeps one
 *          socket per peer, each listening on an address of its own, and
 *          waits on all their NNG_OPT_RECVFDs with epoll. nng 1.5.2's
 *          polyamorous pair1 moves each message through two more message
 *          queues (each a hand-off between nng's threads) than the plain
 *          one; this measures what that costs.
 *  stream  nng's byte-stream API (nng_stream) over ipc://, without nng's
 *          SP protocol layer: a 4-byte length before each message, the
 *          driver receiving in aio callbacks, each peer in nng_aio_wait.
 * It prints, per transport, the messages sent and answered, the round trip
 * percentiles (measured in the driver) and the CPU time per round trip of
 * the driver and of all the peers (their CPU-time clocks). The driver shares
 * the machine with the peers, as the benchmarks of the services do.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "bench_util.h"

#define RATE 48000
#define METER_BYTES 400
#define MAX_FRAMES 4096
#define MAX_MSG (MAX_FRAMES * 4)

static long long period_us = 20000; /* chunk_frames / RATE */
static int audio_bytes = 3840;      /* chunk_frames * 4 */

typedef enum { T_UNIX, T_PAIR1, T_PAIR1CB, T_MONO, T_STREAM } transport;
static const char *const tname[] = {"unix", "pair1", "pair1cb", "mono", "stream"};
/* the transports whose driver is the polyamorous pair1 listener */
#define POLY(t) ((t) == T_PAIR1 || (t) == T_PAIR1CB)

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *) a, y = *(const long long *) b;
	return x < y ? -1 : x > y;
}

/* ---- peers ---- */

/* A message from the driver: 8 bytes of send time, then filler; a 1-byte
 * message means stop. The answer carries the send time back. */
static void fill_meter(char *meter, const char *in)
{
	memset(meter, 'm', METER_BYTES);
	memcpy(meter, in, 8);
}

static int peer_unix(int fd)
{
	char in[MAX_MSG], meter[METER_BYTES];
	for (;;) {
		ssize_t n = read(fd, in, sizeof(in));
		if (n < 8)
			return 0;
		fill_meter(meter, in);
		if (write(fd, meter, sizeof(meter)) != (ssize_t) sizeof(meter))
			return 0;
	}
}

static int peer_pair1(const char *url)
{
	nng_socket s;
	int fd;
	if (nng_pair1_open(&s) != 0 || nng_dial(s, url, NULL, 0) != 0 ||
	    nng_socket_get_int(s, NNG_OPT_RECVFD, &fd) != 0)
		return 1;
	nng_msg *m;
	if (nng_msg_alloc(&m, 0) != 0 || nng_sendmsg(s, m, 0) != 0) /* hello */
		return 1;
	char meter[METER_BYTES];
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		if (poll(&pf, 1, 10000) <= 0)
			return 0;
		nng_msg *in;
		while (nng_recvmsg(s, &in, NNG_FLAG_NONBLOCK) == 0) {
			if (nng_msg_len(in) < 8) {
				nng_msg_free(in);
				nng_close(s);
				return 0;
			}
			fill_meter(meter, nng_msg_body(in));
			nng_msg_free(in);
			nng_msg *out;
			if (nng_msg_alloc(&out, 0) != 0 || nng_msg_append(out, meter, sizeof(meter)) != 0 ||
			    nng_sendmsg(s, out, 0) != 0)
				return 1;
		}
	}
}

/* pair1cb: the peer's work happens in the receive callback. */
static nng_socket cb_sock;
static nng_aio *cb_aio;
static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_cv = PTHREAD_COND_INITIALIZER;
static bool cb_done;

static void cb_finish(void)
{
	pthread_mutex_lock(&cb_mu);
	cb_done = true;
	pthread_cond_signal(&cb_cv);
	pthread_mutex_unlock(&cb_mu);
}

static void peer_cb(void *arg)
{
	(void) arg;
	if (nng_aio_result(cb_aio) != 0) {
		cb_finish();
		return;
	}
	nng_msg *in = nng_aio_get_msg(cb_aio), *out;
	char meter[METER_BYTES];
	if (nng_msg_len(in) < 8) {
		nng_msg_free(in);
		cb_finish();
		return;
	}
	fill_meter(meter, nng_msg_body(in));
	nng_msg_free(in);
	if (nng_msg_alloc(&out, 0) == 0) {
		if (nng_msg_append(out, meter, sizeof(meter)) != 0 ||
		    nng_sendmsg(cb_sock, out, NNG_FLAG_NONBLOCK) != 0)
			nng_msg_free(out);
	}
	nng_recv_aio(cb_sock, cb_aio);
}

static int peer_pair1cb(const char *url)
{
	nng_msg *m;
	if (nng_pair1_open(&cb_sock) != 0 || nng_dial(cb_sock, url, NULL, 0) != 0 ||
	    nng_aio_alloc(&cb_aio, peer_cb, NULL) != 0)
		return 1;
	if (nng_msg_alloc(&m, 0) != 0 || nng_sendmsg(cb_sock, m, 0) != 0) /* hello */
		return 1;
	nng_recv_aio(cb_sock, cb_aio);
	pthread_mutex_lock(&cb_mu);
	while (!cb_done)
		pthread_cond_wait(&cb_cv, &cb_mu);
	pthread_mutex_unlock(&cb_mu);
	nng_close(cb_sock);
	nng_aio_free(cb_aio);
	return 0;
}

/* Moves len bytes through the stream (one direction), waiting. */
static int stream_xfer(nng_stream *s, nng_aio *aio, void *buf, size_t len, bool rd)
{
	size_t off = 0;
	while (off < len) {
		nng_iov iov = {(char *) buf + off, len - off};
		nng_aio_set_iov(aio, 1, &iov);
		if (rd)
			nng_stream_recv(s, aio);
		else
			nng_stream_send(s, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) != 0 || nng_aio_count(aio) == 0)
			return -1;
		off += nng_aio_count(aio);
	}
	return 0;
}

static int peer_stream(const char *url)
{
	nng_stream_dialer *d;
	nng_aio *aio;
	if (nng_stream_dialer_alloc(&d, url) != 0 || nng_aio_alloc(&aio, NULL, NULL) != 0)
		return 1;
	/* A stream dialer does not redial by itself (an SP socket does):
	 * try again while the listener's backlog is full. */
	nng_aio_set_timeout(aio, 1000);
	for (int tries = 0;; tries++) {
		nng_stream_dialer_dial(d, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) == 0)
			break;
		if (tries == 100)
			return 1;
		usleep(100000);
	}
	nng_aio_set_timeout(aio, NNG_DURATION_INFINITE);
	nng_stream *s = nng_aio_get_output(aio, 0);
	char in[MAX_MSG], out[4 + METER_BYTES];
	uint32_t len = METER_BYTES;
	memcpy(out, &len, 4);
	for (;;) {
		if (stream_xfer(s, aio, &len, 4, true) != 0 || len > sizeof(in) ||
		    stream_xfer(s, aio, in, len, true) != 0 || len < 8)
			break;
		fill_meter(out + 4, in);
		if (stream_xfer(s, aio, out, sizeof(out), false) != 0)
			break;
	}
	nng_stream_free(s);
	nng_stream_dialer_free(d);
	return 0;
}

/* ---- driver ---- */

typedef struct run {
	transport t;
	int n;
	pid_t *pids;
	/* unix */
	int *fds, ep;
	/* pair1 */
	nng_socket sock;
	nng_pipe *pipes;
	int rfd;
	/* mono: one socket per peer, epoll (ep) over their receive fds */
	nng_socket *socks;
	/* stream */
	struct sconn *sc;
	nng_aio *saio;
	int wake[2];
	pthread_mutex_t mu;
	long long *done; /* send times answered, from the callbacks */
	size_t ndone, capdone;
	/* results */
	long long *lat;
	size_t nlat, caplat;
} run;

typedef struct sconn {
	run *r;
	nng_stream *s;
	nng_aio *aio;
	uint32_t len;
	bool body;
	size_t off;
	char buf[MAX_MSG];
} sconn;

static void note_latency(run *r, long long sent_us)
{
	if (r->nlat < r->caplat)
		r->lat[r->nlat++] = now_us() - sent_us;
}

static void sconn_arm(sconn *c)
{
	nng_iov iov;
	if (!c->body) {
		iov.iov_buf = (char *) &c->len + c->off;
		iov.iov_len = 4 - c->off;
	} else {
		iov.iov_buf = c->buf + c->off;
		iov.iov_len = c->len - c->off;
	}
	nng_aio_set_iov(c->aio, 1, &iov);
	nng_stream_recv(c->s, c->aio);
}

/* nng's thread: a part of an answer arrived. */
static void sconn_cb(void *arg)
{
	sconn *c = arg;
	run *r = c->r;
	if (nng_aio_result(c->aio) != 0 || nng_aio_count(c->aio) == 0)
		return;
	c->off += nng_aio_count(c->aio);
	if (!c->body && c->off == 4) {
		if (c->len < 8 || c->len > sizeof(c->buf))
			return;
		c->body = true;
		c->off = 0;
	} else if (c->body && c->off == c->len) {
		long long t;
		memcpy(&t, c->buf, 8);
		pthread_mutex_lock(&r->mu);
		bool first = r->ndone == 0;
		if (r->ndone < r->capdone)
			r->done[r->ndone++] = t;
		pthread_mutex_unlock(&r->mu);
		if (first && write(r->wake[1], "w", 1) < 0) {
			/* the pipe is full: the driver is awake anyway */
		}
		c->body = false;
		c->off = 0;
	}
	sconn_arm(c);
}

static int start_peers(run *r, const char *self, const char *url)
{
	for (int i = 0; i < r->n; i++) {
		int sv[2] = {-1, -1};
		if (r->t == T_UNIX && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
			return -1;
		pid_t p = fork();
		if (p < 0)
			return -1;
		if (p == 0) {
			if (r->t == T_UNIX) {
				close(sv[0]);
				_exit(peer_unix(sv[1]));
			}
			char own[340];
			if (r->t == T_MONO)
				snprintf(own, sizeof(own), "%s-%d", url, i);
			else
				snprintf(own, sizeof(own), "%s", url);
			execl("/proc/self/exe", self, "--peer", tname[r->t], own, (char *) NULL);
			_exit(127);
		}
		r->pids[i] = p;
		if (r->t == T_UNIX) {
			close(sv[1]);
			r->fds[i] = sv[0];
			struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
			if (epoll_ctl(r->ep, EPOLL_CTL_ADD, sv[0], &ev) != 0)
				return -1;
		}
	}
	return 0;
}

/* Waits for every peer to connect. */
static int connect_peers(run *r, nng_stream_listener *l)
{
	if (POLY(r->t)) {
		nng_socket_set_ms(r->sock, NNG_OPT_RECVTIMEO, 30000);
		for (int i = 0; i < r->n; i++) {
			nng_msg *m;
			if (nng_recvmsg(r->sock, &m, 0) != 0)
				return -1;
			r->pipes[i] = nng_msg_get_pipe(m);
			nng_msg_free(m);
		}
	} else if (r->t == T_MONO) {
		for (int i = 0; i < r->n; i++) {
			nng_msg *m;
			nng_socket_set_ms(r->socks[i], NNG_OPT_RECVTIMEO, 30000);
			if (nng_recvmsg(r->socks[i], &m, 0) != 0)
				return -1;
			nng_msg_free(m);
		}
	} else if (r->t == T_STREAM) {
		nng_aio *a;
		if (nng_aio_alloc(&a, NULL, NULL) != 0)
			return -1;
		nng_aio_set_timeout(a, 10000);
		for (int i = 0; i < r->n; i++) {
			nng_stream_listener_accept(l, a);
			nng_aio_wait(a);
			if (nng_aio_result(a) != 0) {
				nng_aio_free(a);
				return -1;
			}
			sconn *c = &r->sc[i];
			c->r = r;
			c->s = nng_aio_get_output(a, 0);
			if (nng_aio_alloc(&c->aio, sconn_cb, c) != 0) {
				nng_aio_free(a);
				return -1;
			}
			sconn_arm(c);
		}
		nng_aio_free(a);
	}
	return 0;
}

static int send_one(run *r, int i, char *audio)
{
	long long t = now_us();
	memcpy(audio + 4, &t, 8);
	switch (r->t) {
	case T_UNIX:
		return write(r->fds[i], audio + 4, (size_t) audio_bytes) == audio_bytes ? 0 : -1;
	case T_PAIR1:
	case T_PAIR1CB:
	case T_MONO: {
		nng_msg *m;
		if (nng_msg_alloc(&m, 0) != 0)
			return -1;
		if (nng_msg_append(m, audio + 4, (size_t) audio_bytes) != 0) {
			nng_msg_free(m);
			return -1;
		}
		if (POLY(r->t))
			nng_msg_set_pipe(m, r->pipes[i]);
		if (nng_sendmsg(POLY(r->t) ? r->sock : r->socks[i], m, NNG_FLAG_NONBLOCK) != 0) {
			nng_msg_free(m);
			return -1;
		}
		return 0;
	}
	case T_STREAM:
		return stream_xfer(r->sc[i].s, r->saio, audio, 4 + (size_t) audio_bytes, false);
	}
	return -1;
}

/* Takes the answers waiting on an nng socket. */
static void take_nng(run *r, nng_socket s)
{
	nng_msg *m;
	while (nng_recvmsg(s, &m, NNG_FLAG_NONBLOCK) == 0) {
		if (nng_msg_len(m) >= 8) {
			long long t;
			memcpy(&t, nng_msg_body(m), 8);
			note_latency(r, t);
		}
		nng_msg_free(m);
	}
}

/* Waits up to wait_us for answers and takes them. */
static void take_answers(run *r, long long wait_us)
{
	int ms = (int) ((wait_us + 999) / 1000);
	if (ms < 0)
		ms = 0;
	if (r->t == T_MONO) {
		struct epoll_event ev[64];
		int k = epoll_wait(r->ep, ev, 64, ms);
		for (int j = 0; j < k; j++)
			take_nng(r, r->socks[ev[j].data.u32]);
		return;
	}
	if (r->t == T_UNIX) {
		struct epoll_event ev[64];
		int k = epoll_wait(r->ep, ev, 64, ms);
		for (int j = 0; j < k; j++) {
			char b[MAX_MSG];
			ssize_t n = read(r->fds[ev[j].data.u32], b, sizeof(b));
			if (n >= 8) {
				long long t;
				memcpy(&t, b, 8);
				note_latency(r, t);
			}
		}
		return;
	}
	struct pollfd pf = {POLY(r->t) ? r->rfd : r->wake[0], POLLIN, 0};
	if (poll(&pf, 1, ms) <= 0)
		return;
	if (POLY(r->t)) {
		take_nng(r, r->sock);
		return;
	}
	char b[64];
	while (read(r->wake[0], b, sizeof(b)) > 0)
		;
	pthread_mutex_lock(&r->mu);
	for (size_t j = 0; j < r->ndone; j++)
		note_latency(r, r->done[j]);
	r->ndone = 0;
	pthread_mutex_unlock(&r->mu);
}

static double peers_cpu_s(const run *r)
{
	double t = 0;
	for (int i = 0; i < r->n; i++)
		t += bench_proc_cpu_s(r->pids[i]);
	return t;
}

static void stop_peers(run *r)
{
	char stop[5] = {1, 0, 0, 0, 0};
	for (int i = 0; i < r->n; i++) {
		if (r->t == T_UNIX) {
			close(r->fds[i]);
		} else if (POLY(r->t) || r->t == T_MONO) {
			nng_msg *m;
			if (nng_msg_alloc(&m, 1) == 0) {
				if (POLY(r->t))
					nng_msg_set_pipe(m, r->pipes[i]);
				if (nng_sendmsg(POLY(r->t) ? r->sock : r->socks[i], m, 0) != 0)
					nng_msg_free(m);
			}
		} else if (r->sc[i].s != NULL) {
			(void) stream_xfer(r->sc[i].s, r->saio, stop, sizeof(stop), false);
		}
	}
	for (int i = 0; i < r->n; i++) {
		int st;
		for (int k = 0; k < 50 && waitpid(r->pids[i], &st, WNOHANG) == 0; k++)
			usleep(100000);
		if (kill(r->pids[i], 0) == 0) {
			kill(r->pids[i], SIGKILL);
			waitpid(r->pids[i], &st, 0);
		}
	}
}

static int bench(transport t, int n, int seconds, const char *self, const char *dir)
{
	run r;
	memset(&r, 0, sizeof(r));
	r.t = t;
	r.n = n;
	r.ep = -1;
	r.wake[0] = r.wake[1] = -1;
	pthread_mutex_init(&r.mu, NULL);
	r.pids = calloc((size_t) n, sizeof(*r.pids));
	r.fds = calloc((size_t) n, sizeof(*r.fds));
	r.pipes = calloc((size_t) n, sizeof(*r.pipes));
	r.sc = calloc((size_t) n, sizeof(*r.sc));
	r.socks = calloc((size_t) n, sizeof(*r.socks));
	r.caplat = r.capdone = (size_t) n * (size_t) (seconds + 2) * (size_t) (1000000 / period_us + 1);
	r.lat = malloc(r.caplat * sizeof(*r.lat));
	r.done = malloc(r.capdone * sizeof(*r.done));
	char url[300];
	snprintf(url, sizeof(url), "ipc://%s/%s.ipc", dir, tname[t]);
	nng_stream_listener *l = NULL;
	int rc = -1;
	int nsocks = 0;
	if (r.pids == NULL || r.fds == NULL || r.pipes == NULL || r.sc == NULL || r.lat == NULL ||
	    r.done == NULL || r.socks == NULL)
		goto out;
	if ((t == T_UNIX || t == T_MONO) && (r.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto out;
	for (; t == T_MONO && nsocks < n; nsocks++) {
		char own[340];
		int fd;
		snprintf(own, sizeof(own), "%s-%d", url, nsocks);
		if (nng_pair1_open(&r.socks[nsocks]) != 0)
			goto out;
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) nsocks};
		if (nng_listen(r.socks[nsocks], own, NULL, 0) != 0 ||
		    nng_socket_get_int(r.socks[nsocks], NNG_OPT_RECVFD, &fd) != 0 ||
		    epoll_ctl(r.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			nsocks++;
			goto out;
		}
	}
	if (POLY(t) &&
	    (nng_pair1_open_poly(&r.sock) != 0 ||
		nng_socket_set_int(r.sock, NNG_OPT_SENDBUF, 8192) != 0 ||
		nng_socket_set_int(r.sock, NNG_OPT_RECVBUF, 8192) != 0 ||
		nng_listen(r.sock, url, NULL, 0) != 0 ||
		nng_socket_get_int(r.sock, NNG_OPT_RECVFD, &r.rfd) != 0))
		goto out;
	if (t == T_STREAM &&
	    (pipe2(r.wake, O_CLOEXEC | O_NONBLOCK) != 0 || nng_aio_alloc(&r.saio, NULL, NULL) != 0 ||
		nng_stream_listener_alloc(&l, url) != 0 || nng_stream_listener_listen(l) != 0))
		goto out;
	if (start_peers(&r, self, url) != 0 || connect_peers(&r, l) != 0) {
		fprintf(stderr, "%s: the peers did not all connect\n", tname[t]);
		goto stop;
	}

	static char audio[4 + MAX_MSG];
	uint32_t len = (uint32_t) audio_bytes;
	memset(audio, 'a', sizeof(audio));
	memcpy(audio, &len, 4);
	long long *next = calloc((size_t) n, sizeof(*next));
	if (next == NULL)
		goto stop;
	long long t0 = now_us() + 100000, end = t0 + (long long) seconds * 1000000;
	for (int i = 0; i < n; i++)
		next[i] = t0 + period_us * i / n;
	double drv0 = bench_self_cpu_s(), peers0 = peers_cpu_s(&r);
	long sent = 0, failed = 0;
	for (;;) {
		long long now = now_us();
		if (now >= end)
			break;
		long long due = end;
		for (int i = 0; i < n; i++) {
			if (next[i] <= now) {
				if (send_one(&r, i, audio) == 0)
					sent++;
				else
					failed++;
				next[i] += period_us;
			}
			if (next[i] < due)
				due = next[i];
		}
		take_answers(&r, due - now_us());
	}
	long long drain = now_us() + 1000000;
	while (r.nlat < (size_t) sent && now_us() < drain)
		take_answers(&r, 10000);
	double drv1 = bench_self_cpu_s(), peers1 = peers_cpu_s(&r);
	free(next);
	qsort(r.lat, r.nlat, sizeof(*r.lat), cmp_ll);
	printf("%-6s %d peers, %d-frame chunks every %.2f ms, %d s: sent %ld, answered %zu, lost %ld, send failures %ld\n",
	    tname[t], n, audio_bytes / 4, (double) period_us / 1000.0, seconds, sent, r.nlat, sent - (long) r.nlat, failed);
	if (r.nlat > 0)
		printf("       round trip p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
		    (double) r.lat[r.nlat / 2] / 1000.0,
		    (double) r.lat[(size_t) ((double) r.nlat * 0.99)] / 1000.0,
		    (double) r.lat[r.nlat - 1] / 1000.0);
	if (sent > 0)
		printf("       cpu per round trip: driver %.1f us, peers %.1f us, total %.1f us "
		       "(%.0f%% of one core)\n",
		    (drv1 - drv0) * 1e6 / (double) sent, (peers1 - peers0) * 1e6 / (double) sent,
		    (drv1 - drv0 + peers1 - peers0) * 1e6 / (double) sent,
		    (drv1 - drv0 + peers1 - peers0) * 100.0 / (double) seconds);
	rc = 0;
stop:
	stop_peers(&r);
out:
	if (POLY(t))
		nng_close(r.sock);
	for (int i = 0; i < nsocks; i++)
		nng_close(r.socks[i]);
	for (int i = 0; i < n && r.sc != NULL; i++) {
		if (r.sc[i].aio != NULL)
			nng_aio_stop(r.sc[i].aio);
		if (r.sc[i].s != NULL)
			nng_stream_free(r.sc[i].s);
		if (r.sc[i].aio != NULL)
			nng_aio_free(r.sc[i].aio);
	}
	if (l != NULL)
		nng_stream_listener_free(l);
	if (r.saio != NULL)
		nng_aio_free(r.saio);
	if (r.ep >= 0)
		close(r.ep);
	if (r.wake[0] >= 0) {
		close(r.wake[0]);
		close(r.wake[1]);
	}
	free(r.pids);
	free(r.fds);
	free(r.pipes);
	free(r.sc);
	free(r.socks);
	free(r.lat);
	free(r.done);
	pthread_mutex_destroy(&r.mu);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--peer") == 0) {
		if (strcmp(argv[2], "pair1") == 0 || strcmp(argv[2], "mono") == 0)
			return peer_pair1(argv[3]);
		if (strcmp(argv[2], "pair1cb") == 0)
			return peer_pair1cb(argv[3]);
		if (strcmp(argv[2], "stream") == 0)
			return peer_stream(argv[3]);
		return 2;
	}
	int n = argc > 1 ? atoi(argv[1]) : 100, seconds = argc > 2 ? atoi(argv[2]) : 5;
	const char *which = argc > 3 ? argv[3] : "all";
	int frames = argc > 4 ? atoi(argv[4]) : 960;
	if (n < 1 || n > 2000 || seconds < 1 || seconds > 600 || frames < 2 || frames > MAX_FRAMES) {
		fprintf(stderr, "usage: bench_ipc_floor [peers 1..2000] [seconds 1..600] "
				"[all|unix|pair1|pair1cb|mono|stream] [chunk_frames 2..%d]\n", MAX_FRAMES);
		return 2;
	}
	audio_bytes = frames * 4;
	period_us = (long long) frames * 1000000 / RATE;
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/pyc-ipc-floor-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	int rc = 0;
	for (int t = T_UNIX; t <= T_STREAM; t++)
		if (strcmp(which, "all") == 0 || strcmp(which, tname[t]) == 0)
			rc |= bench((transport) t, n, seconds, argv[0], dir) != 0;
	char path[400];
	for (int t = T_UNIX; t <= T_STREAM; t++) {
		snprintf(path, sizeof(path), "%s/%s.ipc", dir, tname[t]);
		unlink(path);
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/mono.ipc-%d", dir, i);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
