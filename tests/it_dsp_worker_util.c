/* it_dsp_worker_util.c - the stand-in gateway of the dsp-worker tests.
 *
 * NOTES: see it_dsp_worker_util.h. One socket, one test thread receiving;
 * only the pipe callbacks run on nng's threads and they touch nothing but
 * the removal list under the mutex.
 */
#include "it_dsp_worker_util.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/protocol/pair1/pair.h>

long long dw_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	fgw *g = arg;
	pthread_mutex_lock(&g->mu);
	if (ev == NNG_PIPE_EV_REM_POST && g->nrem < FGW_MAX_REMS) {
		g->rem_pipe[g->nrem] = nng_pipe_id(p);
		g->rem_ms[g->nrem] = pyc_now_ms();
		g->nrem++;
	} else if (ev == NNG_PIPE_EV_ADD_POST) {
		g->adds++;
	}
	pthread_mutex_unlock(&g->mu);
}

int fgw_open(fgw *g, const char *url)
{
	int rv;
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	if ((rv = nng_pair1_open_poly(&g->s)) != 0) {
		fprintf(stderr, "fgw: open: %s\n", nng_strerror(rv));
		return -1;
	}
	nng_socket_set_int(g->s, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_int(g->s, NNG_OPT_SENDBUF, 8192);
	nng_socket_set_size(g->s, NNG_OPT_RECVMAXSZ, 8 * 1024 * 1024);
	nng_socket_set_ms(g->s, NNG_OPT_SENDTIMEO, 2000);
	nng_pipe_notify(g->s, NNG_PIPE_EV_ADD_POST, pipe_cb, g);
	nng_pipe_notify(g->s, NNG_PIPE_EV_REM_POST, pipe_cb, g);
	if ((rv = nng_listen(g->s, url, NULL, 0)) != 0) {
		fprintf(stderr, "fgw: listen %s: %s\n", url, nng_strerror(rv));
		nng_close(g->s);
		return -1;
	}
	g->open = true;
	return 0;
}

void fmsg_free(fmsg *m)
{
	if (m->raw != NULL)
		nng_msg_free(m->raw);
	m->raw = NULL;
}

void fgw_close(fgw *g)
{
	if (!g->open)
		return;
	nng_close(g->s);
	g->open = false;
	for (int i = 0; i < g->nstash; i++)
		fmsg_free(&g->stash[i]);
	free(g->stash);
	g->stash = NULL;
	g->nstash = g->capstash = 0;
}

static void stash_push(fgw *g, fmsg *m)
{
	if (g->nstash == g->capstash) {
		int nc = g->capstash ? g->capstash * 2 : 256;
		fmsg *ns = realloc(g->stash, sizeof(fmsg) * (size_t) nc);
		if (ns == NULL) {
			fmsg_free(m);
			return;
		}
		g->stash = ns;
		g->capstash = nc;
	}
	g->stash[g->nstash++] = *m;
}

/* Receives one message within timeout_ms: 1 if it is returned in *out, 0
 * if it was absorbed (a hello), -1 on timeout. */
static int recv_one(fgw *g, fmsg *out, int timeout_ms)
{
	nng_msg *raw;
	int rv;
	nng_socket_set_ms(g->s, NNG_OPT_RECVTIMEO, timeout_ms < 0 ? 0 : timeout_ms);
	if ((rv = nng_recvmsg(g->s, &raw, 0)) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->raw = raw;
	out->pipe = nng_pipe_id(nng_msg_get_pipe(raw));
	out->t_us = dw_now_us();
	if (pyc_wire_msg_decode(raw, &out->m) != PYC_OK) {
		g->bad++;
		fprintf(stderr, "fgw: malformed message from pipe %u\n", out->pipe);
		fmsg_free(out);
		return 0;
	}
	if (out->m.type == PYC_MSG_ACK && (out->m.flags & PYC_WIRE_F_REPLY)) {
		g->cmd_acks++;
		if (g->keep_cmd_acks)
			return 1;
		fmsg_free(out);
		return 0;
	}
	if (out->m.type == PYC_MSG_METER || out->m.type == PYC_MSG_ACK) {
		int i;
		for (i = 0; i < g->nans; i++)
			if (g->ans_pipe[i] == out->pipe)
				break;
		if (i == g->nans && g->nans < FGW_MAX_WORKERS) {
			g->ans_pipe[i] = out->pipe;
			g->ans_seq[i] = 0;
			g->nans++;
		}
		if (i < g->nans && out->m.seq > g->ans_seq[i])
			g->ans_seq[i] = out->m.seq;
	}
	if (out->m.type == PYC_MSG_WORKER_HELLO) {
		pyc_worker_hello h;
		if (pyc_worker_hello_get(out->m.payload, out->m.payload_len, &h) == PYC_OK) {
			int i;
			for (i = 0; i < g->nworkers; i++)
				if (g->workers[i].pipe == out->pipe)
					break;
			if (i == g->nworkers && g->nworkers < FGW_MAX_WORKERS) {
				g->workers[i].pipe = out->pipe;
				g->workers[i].pid = h.pid;
				g->workers[i].taken = false;
				g->nworkers++;
			} else if (i < g->nworkers) {
				g->workers[i].taken = false; /* hello again: idle again */
			}
		}
		fmsg_free(out);
		return 0;
	}
	if (out->m.type == PYC_MSG_HOST_HELLO) {
		if (pyc_host_hello_get(out->m.payload, out->m.payload_len, &g->host) == PYC_OK) {
			g->host_hellos++;
			g->host_pipe = out->pipe;
		}
		fmsg_free(out);
		return 0;
	}
	return 1;
}

int fgw_next(fgw *g, uint32_t pipe, fmsg *out, int timeout_ms)
{
	for (int i = 0; i < g->nstash; i++) {
		if (pipe == 0 || g->stash[i].pipe == pipe) {
			*out = g->stash[i];
			memmove(&g->stash[i], &g->stash[i + 1],
			    sizeof(fmsg) * (size_t) (g->nstash - i - 1));
			g->nstash--;
			return 0;
		}
	}
	long long end = pyc_now_ms() + timeout_ms;
	for (;;) {
		long long left = end - pyc_now_ms();
		if (left < 0)
			return -1;
		int r = recv_one(g, out, (int) left);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (pipe == 0 || out->pipe == pipe)
			return 0;
		stash_push(g, out);
	}
}

void fgw_pump(fgw *g, int ms)
{
	long long end = pyc_now_ms() + ms;
	fmsg m;
	for (;;) {
		long long left = end - pyc_now_ms();
		if (left <= 0)
			return;
		int r = recv_one(g, &m, (int) left);
		if (r < 0)
			return;
		if (r == 1)
			stash_push(g, &m);
	}
}

static bool is_removed(fgw *g, uint32_t pipe, long long *when)
{
	bool r = false;
	pthread_mutex_lock(&g->mu);
	for (int i = 0; i < g->nrem; i++)
		if (g->rem_pipe[i] == pipe) {
			r = true;
			if (when != NULL)
				*when = g->rem_ms[i];
		}
	pthread_mutex_unlock(&g->mu);
	return r;
}

int fgw_idle(fgw *g)
{
	int n = 0;
	for (int i = 0; i < g->nworkers; i++)
		if (!g->workers[i].taken && !is_removed(g, g->workers[i].pipe, NULL))
			n++;
	return n;
}

bool fgw_wait_workers(fgw *g, int n, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	while (fgw_idle(g) < n) {
		long long left = end - pyc_now_ms();
		if (left <= 0)
			return false;
		fgw_pump(g, left < 20 ? (int) left : 20);
	}
	return true;
}

uint32_t fgw_take_worker(fgw *g, int timeout_ms, uint32_t *pid)
{
	if (!fgw_wait_workers(g, 1, timeout_ms))
		return 0;
	for (int i = 0; i < g->nworkers; i++) {
		if (!g->workers[i].taken && !is_removed(g, g->workers[i].pipe, NULL)) {
			g->workers[i].taken = true;
			if (pid != NULL)
				*pid = g->workers[i].pid;
			return g->workers[i].pipe;
		}
	}
	return 0;
}

bool fgw_removed(fgw *g, uint32_t pipe, long long *when_ms)
{
	return is_removed(g, pipe, when_ms);
}

/* Sends m to one pipe; m is freed either way. */
static int send_to_pipe(fgw *g, uint32_t pipe, nng_msg *m)
{
	nng_pipe np = NNG_PIPE_INITIALIZER;
	memcpy(&np, &pipe, sizeof(pipe));
	nng_msg_set_pipe(m, np);
	if (nng_sendmsg(g->s, m, 0) != 0) {
		nng_msg_free(m);
		return -1;
	}
	return 0;
}

int fgw_send_raw(fgw *g, uint32_t pipe, const void *p, size_t n)
{
	nng_msg *m;
	if (nng_msg_alloc(&m, 0) != 0)
		return -1;
	if (nng_msg_append(m, p, n) != 0) {
		nng_msg_free(m);
		return -1;
	}
	return send_to_pipe(g, pipe, m);
}

int fgw_send(fgw *g, uint32_t pipe, unsigned type, const char *sid, uint64_t seq,
    const void *p, size_t n)
{
	nng_msg *m;
	if (pyc_wire_msg_new(&m, type, 0, sid, seq, p, n) != PYC_OK)
		return -1;
	return send_to_pipe(g, pipe, m);
}

uint64_t fgw_answered(fgw *g, uint32_t pipe)
{
	for (int i = 0; i < g->nans; i++)
		if (g->ans_pipe[i] == pipe)
			return g->ans_seq[i];
	return 0;
}

int fgw_send_audio(fgw *g, uint32_t pipe, const char *sid, uint64_t seq,
    const void *p, size_t n, int window)
{
	long long end = pyc_now_ms() + 3000;
	while (seq > (uint64_t) window && fgw_answered(g, pipe) < seq - (uint64_t) window &&
	    pyc_now_ms() < end) {
		fmsg m;
		int r = recv_one(g, &m, 5);
		if (r == 1)
			stash_push(g, &m);
	}
	return fgw_send(g, pipe, PYC_MSG_AUDIO, sid, seq, p, n);
}

int fgw_send_params(fgw *g, uint32_t pipe, unsigned type, const char *sid,
    const pyc_params *p)
{
	uint8_t buf[256];
	pyc_wbuf w;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_params_put(&w, p);
	if (w.err != PYC_OK)
		return -1;
	return fgw_send(g, pipe, type, sid, 0, buf, w.len);
}

int dwenv_init(dwenv *e, int spare, int max, const char *const *extra)
{
	memset(e, 0, sizeof(*e));
	if ((e->dir = pyc_tmpdir_new()) == NULL)
		return -1;
	snprintf(e->gw_url, sizeof(e->gw_url), "ipc://%s/workers.ipc", e->dir);
	snprintf(e->rec_url, sizeof(e->rec_url), "ipc://%s/recorder.ipc", e->dir);
	snprintf(e->env[e->nenv++], 300, "GATEWAY_URL=%s", e->gw_url);
	snprintf(e->env[e->nenv++], 300, "RECORDER_URL=%s", e->rec_url);
	snprintf(e->env[e->nenv++], 300, "RUN_DIR=%s/run", e->dir);
	snprintf(e->env[e->nenv++], 300, "DATA_DIR=%s/data", e->dir);
	snprintf(e->env[e->nenv++], 300, "DSP_POOL_SPARE=%d", spare);
	snprintf(e->env[e->nenv++], 300, "DSP_POOL_MAX=%d", max);
	snprintf(e->env[e->nenv++], 300, "DSP_HOST_ID=testhost");
	if (getenv("LOG_LEVEL") == NULL)
		snprintf(e->env[e->nenv++], 300, "LOG_LEVEL=warn");
	for (int i = 0; extra != NULL && extra[i] != NULL && e->nenv < 16; i++)
		snprintf(e->env[e->nenv++], 300, "%s", extra[i]);
	for (int i = 0; i < e->nenv; i++)
		e->envp[i] = e->env[i];
	e->envp[e->nenv] = NULL;
	return fgw_open(&e->gw, e->gw_url);
}

int dwenv_start_host(dwenv *e, int wait_workers, int timeout_ms)
{
	if (pyc_proc_start(&e->host, "dsp-worker/pyc-dsp-worker", NULL, e->envp) != 0)
		return -1;
	e->host_started = true;
	if (wait_workers > 0 && !fgw_wait_workers(&e->gw, wait_workers, timeout_ms))
		return -1;
	return 0;
}

int dwenv_start_recorder(dwenv *e, pyc_proc *rec)
{
	char vars[4][600], *renv[24];
	int k = 0;

	snprintf(vars[0], sizeof(vars[0]), "RECORDER_LISTEN_URL=%s", e->rec_url);
	snprintf(vars[1], sizeof(vars[1]), "RECORDINGS_DIR=%s/recordings", e->dir);
	snprintf(vars[2], sizeof(vars[2]), "DB_PATH=%s/db/pycoustics.db", e->dir);
	snprintf(vars[3], sizeof(vars[3]), "RECORDER_CTL_LISTEN_URL=ipc://%s/recorder-ctl.ipc",
	    e->dir);
	for (; e->envp[k] != NULL && k < 19; k++)
		renv[k] = e->envp[k];
	for (int i = 0; i < 4; i++)
		renv[k++] = vars[i];
	renv[k] = NULL;
	if (pyc_proc_start(rec, "recorder/pyc-recorder", NULL, renv) != 0)
		return -1;
	if (!pyc_wait_for_path(e->rec_url + strlen("ipc://"), 5000)) {
		pyc_proc_stop(rec, SIGKILL, 1000);
		return -1;
	}
	return 0;
}

void dwenv_fini(dwenv *e)
{
	if (e->host_started)
		pyc_proc_stop(&e->host, SIGTERM, 12000);
	fgw_close(&e->gw);
	pyc_tmpdir_remove(e->dir);
	free(e->dir);
	e->dir = NULL;
}

void dw_params_masked(pyc_params *p, uint32_t mask)
{
	pyc_params_defaults(p);
	p->mask = mask;
}

uint32_t dw_open(dwenv *e, const char *sid, const pyc_params *open_p,
    const pyc_params *init_p, uint32_t *pid)
{
	uint32_t pipe = fgw_take_worker(&e->gw, 5000, pid);
	pyc_params none;
	if (pipe == 0)
		return 0;
	if (open_p == NULL) {
		dw_params_masked(&none, 0);
		open_p = &none;
	}
	if (fgw_send_params(&e->gw, pipe, PYC_MSG_SESSION_OPEN, sid, open_p) != 0)
		return 0;
	if (init_p != NULL &&
	    fgw_send_params(&e->gw, pipe, PYC_MSG_SESSION_INIT, sid, init_p) != 0)
		return 0;
	return pipe;
}

void dw_sines(int16_t *pcm, size_t frames, int ch, double rate, const double *freq,
    const double *amp, uint64_t start)
{
	for (size_t i = 0; i < frames; i++) {
		double t = (double) (start + i) / rate;
		for (int c = 0; c < ch; c++) {
			double v = amp[c] * sin(2 * M_PI * freq[c] * t);
			long s = lrint(v * 32767.0);
			if (s > 32767)
				s = 32767;
			if (s < -32768)
				s = -32768;
			pcm[i * (size_t) ch + (size_t) c] = (int16_t) s;
		}
	}
}

int dw_cmdline(int pid, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "rb");
	if (f == NULL || cap == 0)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return 0;
}

bool dw_pid_alive(int pid)
{
	char st;
	pid_t pp;
	return pyc_proc_stat(pid, &st, &pp) && st != 'Z' && st != 'X';
}

bool dw_pid_wait_gone(int pid, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	while (dw_pid_alive(pid)) {
		if (pyc_now_ms() >= end)
			return false;
		pyc_sleep_ms(10);
	}
	return true;
}

int dw_children(int pid, int *out, int cap)
{
	char path[96];
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (n < cap && fscanf(f, "%d", &out[n]) == 1)
		n++;
	fclose(f);
	return n;
}
