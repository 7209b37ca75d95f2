/* gw_workers.c - the nng pair1 polyamorous endpoint for workers and hosts,
 * the pool of hosts and idle workers, and leases (gw_workers.h).
 *
 * NOTES: nng does the wire (SP over ipc:// or tcp://); this file only
 * moves messages between nng's threads and the lws thread. One receive
 * aio is kept armed on the socket; its callback, and the pipe callbacks,
 * append to a queue under a mutex and call lws_cancel_service once until
 * the lws thread has drained it (LWS_CALLBACK_EVENT_WAIT_CANCELLED, via
 * gw_ws_set_wake). Messages in that queue are bounded by
 * GW_WORKERS_RECV_QUEUE: at the bound the aio is not re-armed until half
 * is drained, so nng holds further messages back and the workers' sends
 * wait (they keep to a window of two, so they wait little). Pipe events
 * are never dropped: they may go past the bound (they are bounded by the
 * peers that connect).
 *
 * Pipes are registered on NNG_PIPE_EV_ADD_PRE rather than ADD_POST: nng
 * runs ADD_PRE before the protocol starts receiving on the pipe, so the
 * event is queued before any of the pipe's messages, while ADD_POST may
 * race the first message. REM_POST always follows an ADD_PRE. A message
 * from a pipe that is not registered is a late one from a pipe already
 * removed and is dropped (a hello from it would otherwise offer a dead
 * worker).
 *
 * Sends are nng_sendmsg with NNG_FLAG_NONBLOCK into a send buffer of
 * GW_WORKERS_SENDBUF messages, addressed with nng_msg_set_pipe; nng's
 * polyamorous mode then queues at most two per pipe, which gw_sessions.c
 * respects (GW_PIPE_WINDOW). The pool: hosts are few, idle workers a
 * handful per host, so both are arrays searched linearly; live pipes are
 * found through a small hash table.
 */
#include "gw_workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <nng/protocol/pair1/pair.h>

#include "gw_metrics.h"
#include "gw_ws.h"
#include "pyc_config.h"
#include "pyc_log.h"
#include "pyc_sock.h"

#define GW_CLOSE_WAIT_MS 2000
#define PIPE_BUCKETS 1024
#define DRAIN_BATCH 64
#define DRAIN_BUDGET 4096 /* items per wake-up before lws serves others */

typedef struct host {
	uint32_t pipe; /* 0: disconnected, kept while it has leases */
	char id[PYC_HOST_ID_MAX + 1];
	uint32_t max_workers;
	uint32_t idle_rep, busy_rep;
	int leased;
} host;

typedef struct worker {
	uint32_t pipe;
	uint32_t pid;
	char host_id[PYC_HOST_ID_MAX + 1];
} worker;

typedef struct live {
	uint32_t pipe;
	struct live *next;
} live;

/* What nng's threads hand to the lws thread: a message (msg != NULL) or
 * a pipe event. */
typedef enum { IT_MSG, IT_ADD, IT_REM } item_kind;

typedef struct item {
	item_kind kind;
	uint32_t pipe;
	nng_msg *msg;
} item;

struct gw_workers {
	struct gw_ws *ws;
	const gw_workers_ops *ops;
	void *arg;
	nng_socket sock;
	bool sock_open;
	nng_aio *aio;

	/* shared with nng's threads, under mtx */
	pthread_mutex_t mtx;
	item *q;
	size_t qh, qn, qcap;
	size_t q_msgs;    /* messages (not events) in q */
	bool wake_pending; /* lws_cancel_service called, not drained yet */
	bool parked;       /* the aio is not armed: q was full */
	bool stopping;

	/* the lws thread only */
	live *pipes[PIPE_BUCKETS];
	host *hosts;
	size_t n_hosts, cap_hosts;
	worker *idle;
	size_t n_idle, cap_idle;
	worker *leases;
	size_t n_leases, cap_leases;
	unsigned bad_msgs, late_msgs;
	bool stopped; /* gw_workers_stop ran (the lws context may be gone) */
	bool close_hung; /* nng_close did not return: keep what nng may touch */
};

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	void *p = realloc(*arr, nc * elem);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = nc;
	return true;
}

static void publish(gw_workers *w)
{
	long hosts = 0;
	for (size_t i = 0; i < w->n_hosts; i++)
		if (w->hosts[i].pipe != 0)
			hosts++;
	atomic_store_explicit(&gw_stats.hosts, hosts, memory_order_relaxed);
	atomic_store_explicit(&gw_stats.workers_idle, (long) w->n_idle, memory_order_relaxed);
	atomic_store_explicit(&gw_stats.workers_busy, (long) w->n_leases, memory_order_relaxed);
}

/* ---- the pool ---- */

static host *host_by_id(gw_workers *w, const char *id)
{
	for (size_t i = 0; i < w->n_hosts; i++)
		if (strcmp(w->hosts[i].id, id) == 0)
			return &w->hosts[i];
	return NULL;
}

static ssize_t find_worker(const worker *arr, size_t n, uint32_t pipe)
{
	for (size_t i = 0; i < n; i++)
		if (arr[i].pipe == pipe)
			return (ssize_t) i;
	return -1;
}

static void on_host_hello(gw_workers *w, uint32_t pipe, const pyc_wire_msg *m)
{
	pyc_host_hello hh;
	if (pyc_host_hello_get(m->payload, m->payload_len, &hh) != PYC_OK) {
		pyc_log(PYC_LOG_WARN, "workers: malformed host_hello from pipe %u", pipe);
		return;
	}
	host *h = host_by_id(w, hh.host_id);
	if (h == NULL) {
		if (!grow((void **) &w->hosts, &w->cap_hosts, w->n_hosts + 1, sizeof(host)))
			return;
		h = &w->hosts[w->n_hosts++];
		memset(h, 0, sizeof(*h));
		snprintf(h->id, sizeof(h->id), "%s", hh.host_id);
	}
	if (h->pipe != pipe)
		pyc_log(PYC_LOG_INFO, "workers: host %s connected (max %u, spare %u)", h->id,
		    hh.max_workers, hh.spare);
	h->pipe = pipe;
	h->max_workers = hh.max_workers;
	h->idle_rep = hh.idle;
	h->busy_rep = hh.busy;
	publish(w);
}

static void on_worker_hello(gw_workers *w, uint32_t pipe, const pyc_wire_msg *m)
{
	pyc_worker_hello wh;
	if (pyc_worker_hello_get(m->payload, m->payload_len, &wh) != PYC_OK) {
		pyc_log(PYC_LOG_WARN, "workers: malformed worker_hello from pipe %u", pipe);
		return;
	}
	if (find_worker(w->leases, w->n_leases, pipe) >= 0) {
		pyc_log(PYC_LOG_DEBUG, "workers: hello from leased pipe %u ignored", pipe);
		return;
	}
	ssize_t i = find_worker(w->idle, w->n_idle, pipe);
	if (i < 0) {
		if (!grow((void **) &w->idle, &w->cap_idle, w->n_idle + 1, sizeof(worker)))
			return;
		i = (ssize_t) w->n_idle++;
	}
	w->idle[i].pipe = pipe;
	w->idle[i].pid = wh.pid;
	snprintf(w->idle[i].host_id, sizeof(w->idle[i].host_id), "%s", wh.host_id);
	pyc_log(PYC_LOG_DEBUG, "workers: worker %u of %s idle (pipe %u)", wh.pid, wh.host_id,
	    pipe);
	publish(w);
}

static void pool_forget(gw_workers *w, uint32_t pipe)
{
	ssize_t i;
	for (size_t k = 0; k < w->n_hosts; k++) {
		if (w->hosts[k].pipe == pipe) {
			pyc_log(PYC_LOG_WARN, "workers: host %s disconnected", w->hosts[k].id);
			if (w->hosts[k].leased == 0) {
				w->hosts[k] = w->hosts[--w->n_hosts];
			} else {
				w->hosts[k].pipe = 0;
				w->hosts[k].max_workers = 0;
			}
			break;
		}
	}
	if ((i = find_worker(w->idle, w->n_idle, pipe)) >= 0) {
		memmove(&w->idle[i], &w->idle[i + 1],
		    (w->n_idle - (size_t) i - 1) * sizeof(worker));
		w->n_idle--;
	}
	if (find_worker(w->leases, w->n_leases, pipe) >= 0)
		gw_workers_release(w, pipe);
	publish(w);
}

pyc_err gw_workers_lease(gw_workers *w, uint32_t *pipe)
{
	ssize_t best = -1;
	long best_free = 0;
	size_t best_idle = 0;

	for (size_t i = 0; i < w->n_idle; i++) {
		host *h = host_by_id(w, w->idle[i].host_id);
		long fr = h != NULL && h->pipe != 0 ? (long) h->max_workers - h->leased : -1000000;
		size_t idle_of_host = 0;
		for (size_t k = 0; k < w->n_idle; k++)
			if (strcmp(w->idle[k].host_id, w->idle[i].host_id) == 0)
				idle_of_host++;
		if (best < 0 || fr > best_free || (fr == best_free && idle_of_host > best_idle)) {
			best = (ssize_t) i;
			best_free = fr;
			best_idle = idle_of_host;
		}
	}
	if (best < 0)
		return PYC_EAGAIN;
	if (!grow((void **) &w->leases, &w->cap_leases, w->n_leases + 1, sizeof(worker)))
		return PYC_ENOMEM;
	worker wk = w->idle[best];
	memmove(&w->idle[best], &w->idle[best + 1],
	    (w->n_idle - (size_t) best - 1) * sizeof(worker));
	w->n_idle--;
	w->leases[w->n_leases++] = wk;
	host *h = host_by_id(w, wk.host_id);
	if (h != NULL)
		h->leased++;
	*pipe = wk.pipe;
	publish(w);
	pyc_log(PYC_LOG_DEBUG, "workers: leased worker %u of %s (pipe %u)", wk.pid, wk.host_id,
	    wk.pipe);
	return PYC_OK;
}

void gw_workers_release(gw_workers *w, uint32_t pipe)
{
	ssize_t i = find_worker(w->leases, w->n_leases, pipe);
	if (i < 0)
		return;
	host *h = host_by_id(w, w->leases[i].host_id);
	if (h != NULL && h->leased > 0) {
		h->leased--;
		if (h->leased == 0 && h->pipe == 0)
			*h = w->hosts[--w->n_hosts];
	}
	w->leases[i] = w->leases[--w->n_leases];
	publish(w);
}

void gw_workers_drop(gw_workers *w, uint32_t pipe)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;
	int rv;
	gw_workers_release(w, pipe);
	p.id = pipe;
	if ((rv = nng_pipe_close(p)) != 0 && rv != NNG_ENOENT)
		pyc_log(PYC_LOG_WARN, "workers: closing pipe %u: %s", pipe, nng_strerror(rv));
}


/* ---- live pipes (lws thread) ---- */

static bool pipe_live(gw_workers *w, uint32_t pipe)
{
	for (live *l = w->pipes[pipe % PIPE_BUCKETS]; l != NULL; l = l->next)
		if (l->pipe == pipe)
			return true;
	return false;
}

static void pipe_add(gw_workers *w, uint32_t pipe)
{
	if (pipe_live(w, pipe))
		return;
	live *l = malloc(sizeof(*l));
	if (l == NULL) {
		pyc_log(PYC_LOG_ERROR, "workers: out of memory registering pipe %u", pipe);
		return;
	}
	l->pipe = pipe;
	l->next = w->pipes[pipe % PIPE_BUCKETS];
	w->pipes[pipe % PIPE_BUCKETS] = l;
}

static bool pipe_remove(gw_workers *w, uint32_t pipe)
{
	for (live **pp = &w->pipes[pipe % PIPE_BUCKETS]; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->pipe == pipe) {
			live *l = *pp;
			*pp = l->next;
			free(l);
			return true;
		}
	}
	return false;
}

/* ---- the hand-over from nng's threads ---- */

/* Appends it to the queue; the caller holds mtx. Messages are bounded by
 * the caller; events grow the queue if they must. false if memory ran
 * out. */
static bool q_push_locked(gw_workers *w, const item *it)
{
	if (w->qn == w->qcap) {
		size_t nc = w->qcap * 2;
		item *nq = malloc(nc * sizeof(*nq));
		if (nq == NULL)
			return false;
		for (size_t i = 0; i < w->qn; i++)
			nq[i] = w->q[(w->qh + i) % w->qcap];
		free(w->q);
		w->q = nq;
		w->qcap = nc;
		w->qh = 0;
	}
	w->q[(w->qh + w->qn) % w->qcap] = *it;
	w->qn++;
	if (it->kind == IT_MSG)
		w->q_msgs++;
	if (!w->wake_pending && !w->stopping) {
		w->wake_pending = true;
		gw_ws_wake(w->ws);
	}
	return true;
}

static void recv_cb(void *arg)
{
	gw_workers *w = arg;
	int rv = nng_aio_result(w->aio);
	bool rearm;

	if (rv != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		pyc_log(PYC_LOG_WARN, "workers: receive: %s", nng_strerror(rv));
		pthread_mutex_lock(&w->mtx);
		rearm = !w->stopping;
		pthread_mutex_unlock(&w->mtx);
		if (rearm)
			nng_recv_aio(w->sock, w->aio);
		return;
	}
	nng_msg *msg = nng_aio_get_msg(w->aio);
	item it = {IT_MSG, nng_pipe_id(nng_msg_get_pipe(msg)), msg};
	pthread_mutex_lock(&w->mtx);
	if (w->stopping || !q_push_locked(w, &it))
		nng_msg_free(msg);
	rearm = !w->stopping && w->q_msgs < GW_WORKERS_RECV_QUEUE;
	if (!rearm && !w->stopping)
		w->parked = true;
	pthread_mutex_unlock(&w->mtx);
	if (rearm)
		nng_recv_aio(w->sock, w->aio);
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	gw_workers *w = arg;
	item it = {ev == NNG_PIPE_EV_ADD_PRE ? IT_ADD : IT_REM, nng_pipe_id(p), NULL};
	bool ok;
	pthread_mutex_lock(&w->mtx);
	ok = w->stopping || q_push_locked(w, &it);
	pthread_mutex_unlock(&w->mtx);
	if (!ok)
		pyc_log(PYC_LOG_ERROR, "workers: out of memory queueing an event of pipe %u",
		    it.pipe);
}

static void dispatch_msg(gw_workers *w, uint32_t pipe, nng_msg *msg)
{
	pyc_wire_msg m;

	if (!pipe_live(w, pipe)) {
		w->late_msgs++;
		nng_msg_free(msg);
		return;
	}
	if (pyc_wire_msg_decode(msg, &m) != PYC_OK) {
		if (w->bad_msgs++ % 1000 == 0)
			pyc_log(PYC_LOG_WARN,
			    "workers: malformed message from pipe %u dropped (%u so far)", pipe,
			    w->bad_msgs);
		nng_msg_free(msg);
		return;
	}
	if (m.type == PYC_MSG_HOST_HELLO || m.type == PYC_MSG_WORKER_HELLO) {
		if (m.type == PYC_MSG_HOST_HELLO)
			on_host_hello(w, pipe, &m);
		else
			on_worker_hello(w, pipe, &m);
		nng_msg_free(msg);
		return;
	}
	w->ops->msg(w->arg, pipe, msg, &m);
}

static void dispatch(gw_workers *w, const item *it)
{
	switch (it->kind) {
	case IT_MSG:
		dispatch_msg(w, it->pipe, it->msg);
		break;
	case IT_ADD:
		pipe_add(w, it->pipe);
		pyc_log(PYC_LOG_DEBUG, "workers: pipe %u connected", it->pipe);
		break;
	case IT_REM:
		if (pipe_remove(w, it->pipe)) {
			pool_forget(w, it->pipe);
			w->ops->gone(w->arg, it->pipe);
		}
		break;
	}
}

/* On the lws thread, after lws_cancel_service: hands what nng's threads
 * queued to the registry. */
static void drain(void *arg)
{
	gw_workers *w = arg;
	item batch[DRAIN_BATCH];
	size_t done = 0;

	for (;;) {
		size_t n = 0;
		bool rearm = false;
		pthread_mutex_lock(&w->mtx);
		if (w->stopping) {
			pthread_mutex_unlock(&w->mtx);
			return;
		}
		while (n < DRAIN_BATCH && w->qn > 0) {
			batch[n] = w->q[w->qh];
			if (batch[n].kind == IT_MSG)
				w->q_msgs--;
			w->qh = (w->qh + 1) % w->qcap;
			w->qn--;
			n++;
		}
		if (w->parked && w->q_msgs <= GW_WORKERS_RECV_QUEUE / 2) {
			w->parked = false;
			rearm = true;
		}
		if (n == 0 || done + n >= DRAIN_BUDGET) {
			/* Empty: the next push wakes us. Budget spent: come back
			 * after lws served the rest. */
			w->wake_pending = w->qn > 0;
			if (w->wake_pending)
				gw_ws_wake(w->ws);
		}
		pthread_mutex_unlock(&w->mtx);
		if (rearm)
			nng_recv_aio(w->sock, w->aio);
		for (size_t i = 0; i < n; i++)
			dispatch(w, &batch[i]);
		done += n;
		if (n == 0 || done >= DRAIN_BUDGET)
			return;
	}
}

/* ---- sending ---- */

pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;
	int rv;
	if (!pipe_live(w, pipe))
		return PYC_ECLOSED;
	p.id = pipe;
	nng_msg_set_pipe(msg, p);
	if ((rv = nng_sendmsg(w->sock, msg, NNG_FLAG_NONBLOCK)) != 0) {
		if (rv != NNG_EAGAIN)
			pyc_log(PYC_LOG_WARN, "workers: send to pipe %u: %s", pipe, nng_strerror(rv));
		return rv == NNG_EAGAIN ? PYC_EAGAIN : pyc_err_from_nng(rv);
	}
	return PYC_OK;
}

void gw_workers_bye(gw_workers *w)
{
	for (size_t i = 0; i < w->n_hosts; i++) {
		nng_msg *m;
		if (w->hosts[i].pipe == 0 ||
		    pyc_wire_msg_new(&m, PYC_MSG_GATEWAY_BYE, 0, "", 0, NULL, 0) != PYC_OK)
			continue;
		if (gw_workers_send(w, w->hosts[i].pipe, m) != PYC_OK)
			nng_msg_free(m);
	}
}

/* ---- setup and shutdown ---- */

pyc_err gw_workers_create(gw_workers **out, const char *url, struct gw_ws *ws,
    const gw_workers_ops *ops, void *arg)
{
	gw_workers *w = calloc(1, sizeof(*w));
	int rv;

	if (w == NULL)
		return PYC_ENOMEM;
	w->ws = ws;
	w->ops = ops;
	w->arg = arg;
	w->qcap = GW_WORKERS_RECV_QUEUE + 256;
	if ((w->q = malloc(w->qcap * sizeof(item))) == NULL) {
		free(w);
		return PYC_ENOMEM;
	}
	pthread_mutex_init(&w->mtx, NULL);
	if (strncmp(url, "ipc://", 6) == 0 && pyc_config_prepare_url(url) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "workers: cannot create the folder of %s", url);
		rv = NNG_EINVAL;
		goto fail;
	}
	if ((rv = nng_pair1_open_poly(&w->sock)) != 0) {
		pyc_log(PYC_LOG_ERROR, "workers: pair1 socket: %s", nng_strerror(rv));
		goto fail;
	}
	w->sock_open = true;
	if ((rv = nng_socket_set_int(w->sock, NNG_OPT_SENDBUF, GW_WORKERS_SENDBUF)) != 0 ||
	    (rv = nng_socket_set_int(w->sock, NNG_OPT_RECVBUF, 1024)) != 0 ||
	    (rv = nng_socket_set_size(w->sock, NNG_OPT_RECVMAXSZ,
		 PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX + PYC_WIRE_MAX_PAYLOAD)) != 0 ||
	    (rv = nng_pipe_notify(w->sock, NNG_PIPE_EV_ADD_PRE, pipe_cb, w)) != 0 ||
	    (rv = nng_pipe_notify(w->sock, NNG_PIPE_EV_REM_POST, pipe_cb, w)) != 0 ||
	    (rv = nng_aio_alloc(&w->aio, recv_cb, w)) != 0) {
		pyc_log(PYC_LOG_ERROR, "workers: socket setup: %s", nng_strerror(rv));
		goto fail;
	}
	gw_ws_set_wake(ws, drain, w);
	if ((rv = nng_listen(w->sock, url, NULL, 0)) != 0) {
		pyc_log(PYC_LOG_ERROR, "workers: listen %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	nng_recv_aio(w->sock, w->aio);
	pyc_log(PYC_LOG_INFO, "workers: listening at %s", url);
	*out = w;
	return PYC_OK;
fail:
	gw_ws_set_wake(ws, NULL, NULL);
	if (w->sock_open)
		nng_close(w->sock);
	nng_aio_free(w->aio);
	pthread_mutex_destroy(&w->mtx);
	free(w->q);
	free(w);
	return rv == NNG_EINVAL ? PYC_EIO : pyc_err_from_nng(rv);
}

void gw_workers_stop(gw_workers *w)
{
	if (w == NULL || w->stopped)
		return;
	w->stopped = true;
	pthread_mutex_lock(&w->mtx);
	w->stopping = true;
	pthread_mutex_unlock(&w->mtx);
	gw_ws_set_wake(w->ws, NULL, NULL);
	/* Stop the receive before the socket goes: an aio still queued on a
	 * socket that nng 1.5.2 has freed makes nng_aio_stop lock a freed
	 * mutex (seen as an nng panic at shutdown). recv_cb no longer re-arms
	 * once stopping is set. */
	nng_aio_stop(w->aio);
	if (w->sock_open) {
		/* Returns once every pipe is gone and its callbacks ran, unless
		 * nng 1.5.2's close hangs (pyc_sock.h); then the process is on
		 * its way out and w stays allocated for nng's threads. */
		w->close_hung = !pyc_sock_close_bounded(w->sock, GW_CLOSE_WAIT_MS);
		w->sock_open = false;
	}
}

void gw_workers_destroy(gw_workers *w)
{
	if (w == NULL)
		return;
	gw_workers_stop(w);
	if (w->close_hung) {
		pyc_sock_abandon(w); /* and what it holds, reachable from it */
		return;
	}
	nng_aio_free(w->aio);
	while (w->qn > 0) {
		if (w->q[w->qh].msg != NULL)
			nng_msg_free(w->q[w->qh].msg);
		w->qh = (w->qh + 1) % w->qcap;
		w->qn--;
	}
	for (size_t b = 0; b < PIPE_BUCKETS; b++) {
		while (w->pipes[b] != NULL) {
			live *l = w->pipes[b];
			w->pipes[b] = l->next;
			free(l);
		}
	}
	if (w->late_msgs > 0)
		pyc_log(PYC_LOG_DEBUG, "workers: %u late messages of removed pipes dropped",
		    w->late_msgs);
	pthread_mutex_destroy(&w->mtx);
	free(w->q);
	free(w->hosts);
	free(w->idle);
	free(w->leases);
	free(w);
}
