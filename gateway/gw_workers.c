/* gw_workers.c - worker socket, pool of hosts and idle workers, leases
 * (gw_workers.h).
 *
 * NOTES: the queue between the nng threads and the lws thread is a ring of
 * (pipe, message) pairs; a full ring makes the receive thread wait, which
 * pushes back on the workers through nng instead of losing events. Pipe
 * removals never wait (a pipe-notify callback must not block): they go to
 * a separate list that grows as needed. A pipe that went away is
 * remembered for a while so a hello that was still in the queue cannot
 * put a dead worker back in the pool. The pool is small (hosts are few,
 * idle workers a handful per host), so it is kept in arrays and searched
 * linearly; leases are in an array as well, touched only when a session
 * starts or ends.
 */
#include "gw_workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <nng/protocol/pair1/pair.h>

#include "gw_metrics.h"
#include "pyc_config.h"
#include "pyc_log.h"

#define QCAP 65536
#define BATCH 256
#define GONE_RING 1024

typedef struct item {
	uint32_t pipe;
	nng_msg *msg;
} item;

typedef struct host {
	uint32_t pipe;
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

struct gw_workers {
	nng_socket sock;
	pthread_t thr;
	bool thr_started;
	void (*wake)(void *);
	void *wake_arg;

	pthread_mutex_t mu;
	pthread_cond_t space;
	item *q;
	size_t head, len;
	bool closing;
	uint32_t *gone;
	size_t n_gone, cap_gone;

	/* lws thread only */
	host *hosts;
	size_t n_hosts, cap_hosts;
	worker *idle;
	size_t n_idle, cap_idle;
	worker *leases;
	size_t n_leases, cap_leases;
	uint32_t gone_ring[GONE_RING];
	size_t gone_pos;
	unsigned bad_msgs;
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
	atomic_store_explicit(&gw_stats.hosts, (long) w->n_hosts, memory_order_relaxed);
	atomic_store_explicit(&gw_stats.workers_idle, (long) w->n_idle, memory_order_relaxed);
	atomic_store_explicit(&gw_stats.workers_busy, (long) w->n_leases, memory_order_relaxed);
}

static void *recv_main(void *arg)
{
	gw_workers *w = arg;
	for (;;) {
		nng_msg *msg;
		int rv = nng_recvmsg(w->sock, &msg, 0);
		if (rv != 0) {
			if (rv == NNG_ECLOSED)
				break;
			pyc_log(PYC_LOG_WARN, "workers: receive: %s", nng_strerror(rv));
			continue;
		}
		uint32_t pipe = (uint32_t) nng_pipe_id(nng_msg_get_pipe(msg));
		bool wake;
		pthread_mutex_lock(&w->mu);
		while (w->len == QCAP && !w->closing)
			pthread_cond_wait(&w->space, &w->mu);
		if (w->closing) {
			pthread_mutex_unlock(&w->mu);
			nng_msg_free(msg);
			break;
		}
		w->q[(w->head + w->len) % QCAP] = (item){pipe, msg};
		wake = w->len++ == 0 && w->n_gone == 0;
		pthread_mutex_unlock(&w->mu);
		if (wake)
			w->wake(w->wake_arg);
	}
	return NULL;
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	gw_workers *w = arg;
	bool wake = false;
	if (ev != NNG_PIPE_EV_REM_POST)
		return;
	pthread_mutex_lock(&w->mu);
	if (!w->closing &&
	    grow((void **) &w->gone, &w->cap_gone, w->n_gone + 1, sizeof(uint32_t))) {
		w->gone[w->n_gone] = (uint32_t) nng_pipe_id(p);
		wake = w->n_gone++ == 0 && w->len == 0;
	} else if (!w->closing) {
		pyc_log(PYC_LOG_ERROR, "workers: out of memory noting pipe %u gone",
		    (unsigned) nng_pipe_id(p));
	}
	pthread_mutex_unlock(&w->mu);
	if (wake)
		w->wake(w->wake_arg);
}

pyc_err gw_workers_create(gw_workers **out, const char *url,
    void (*wake)(void *), void *wake_arg)
{
	gw_workers *w = calloc(1, sizeof(*w));
	int rv;

	if (w == NULL)
		return PYC_ENOMEM;
	w->wake = wake;
	w->wake_arg = wake_arg;
	w->q = calloc(QCAP, sizeof(item));
	if (w->q == NULL) {
		free(w);
		return PYC_ENOMEM;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->space, NULL);
	if ((rv = nng_pair1_open_poly(&w->sock)) != 0) {
		pyc_log(PYC_LOG_ERROR, "workers: pair1 socket: %s", nng_strerror(rv));
		goto fail;
	}
	nng_socket_set_size(w->sock, NNG_OPT_RECVMAXSZ, PYC_WIRE_HDR_SIZE +
	    PYC_SESSION_ID_MAX + PYC_WIRE_MAX_PAYLOAD);
	nng_socket_set_int(w->sock, NNG_OPT_RECVBUF, 1024);
	nng_socket_set_ms(w->sock, NNG_OPT_SENDTIMEO, 1000);
	if ((rv = nng_pipe_notify(w->sock, NNG_PIPE_EV_REM_POST, pipe_cb, w)) != 0)
		goto fail_sock;
	if (pyc_config_prepare_url(url) != PYC_OK) {
		rv = NNG_EINVAL;
		goto fail_sock;
	}
	if ((rv = nng_listen(w->sock, url, NULL, 0)) != 0) {
		pyc_log(PYC_LOG_ERROR, "workers: listen %s: %s", url, nng_strerror(rv));
		goto fail_sock;
	}
	if (pthread_create(&w->thr, NULL, recv_main, w) != 0) {
		rv = NNG_ENOMEM;
		goto fail_sock;
	}
	w->thr_started = true;
	pyc_log(PYC_LOG_INFO, "workers: listening at %s", url);
	*out = w;
	return PYC_OK;
fail_sock:
	nng_close(w->sock);
fail:
	pthread_cond_destroy(&w->space);
	pthread_mutex_destroy(&w->mu);
	free(w->q);
	free(w);
	return pyc_err_from_nng(rv);
}

void gw_workers_destroy(gw_workers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->closing = true;
	pthread_cond_broadcast(&w->space);
	pthread_mutex_unlock(&w->mu);
	nng_close(w->sock);
	if (w->thr_started)
		pthread_join(w->thr, NULL);
	for (size_t i = 0; i < w->len; i++)
		nng_msg_free(w->q[(w->head + i) % QCAP].msg);
	pthread_cond_destroy(&w->space);
	pthread_mutex_destroy(&w->mu);
	free(w->q);
	free(w->gone);
	free(w->hosts);
	free(w->idle);
	free(w->leases);
	free(w);
}

static bool recently_gone(gw_workers *w, uint32_t pipe)
{
	for (size_t i = 0; i < GONE_RING; i++)
		if (w->gone_ring[i] == pipe)
			return true;
	return false;
}

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
		pyc_log(PYC_LOG_INFO, "workers: host %s joined (max %u, spare %u)", h->id,
		    hh.max_workers, hh.spare);
	}
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

static void on_gone(gw_workers *w, uint32_t pipe, const gw_workers_ops *ops, void *arg)
{
	ssize_t i;
	w->gone_ring[w->gone_pos++ % GONE_RING] = pipe;
	for (size_t k = 0; k < w->n_hosts; k++) {
		if (w->hosts[k].pipe == pipe) {
			pyc_log(PYC_LOG_WARN, "workers: host %s disconnected", w->hosts[k].id);
			/* Its leases stay counted until their pipes go too. */
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
	if ((i = find_worker(w->leases, w->n_leases, pipe)) >= 0)
		gw_workers_release(w, pipe);
	publish(w);
	ops->gone(arg, pipe);
}

void gw_workers_drain(gw_workers *w, const gw_workers_ops *ops, void *arg)
{
	item batch[BATCH];
	uint32_t gone[BATCH];

	for (;;) {
		size_t n = 0, ng = 0;
		pthread_mutex_lock(&w->mu);
		while (n < BATCH && w->len > 0) {
			batch[n++] = w->q[w->head];
			w->head = (w->head + 1) % QCAP;
			w->len--;
		}
		if (n > 0)
			pthread_cond_signal(&w->space);
		/* pipe removals after the messages already queued */
		if (w->len == 0) {
			while (ng < BATCH && w->n_gone > 0)
				gone[ng++] = w->gone[--w->n_gone];
		}
		pthread_mutex_unlock(&w->mu);
		if (n == 0 && ng == 0)
			return;
		for (size_t k = 0; k < n; k++) {
			pyc_wire_msg m;
			nng_msg *msg = batch[k].msg;
			if (pyc_wire_msg_decode(msg, &m) != PYC_OK) {
				if (w->bad_msgs++ % 1000 == 0)
					pyc_log(PYC_LOG_WARN,
					    "workers: malformed message from pipe %u dropped (%u so far)",
					    batch[k].pipe, w->bad_msgs);
				nng_msg_free(msg);
				continue;
			}
			if (m.type == PYC_MSG_HOST_HELLO || m.type == PYC_MSG_WORKER_HELLO) {
				if (!recently_gone(w, batch[k].pipe)) {
					if (m.type == PYC_MSG_HOST_HELLO)
						on_host_hello(w, batch[k].pipe, &m);
					else
						on_worker_hello(w, batch[k].pipe, &m);
				}
				nng_msg_free(msg);
				continue;
			}
			ops->msg(arg, batch[k].pipe, msg, &m);
		}
		for (size_t k = 0; k < ng; k++)
			on_gone(w, gone[k], ops, arg);
	}
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
		if (h->leased == 0 && h->pipe == 0) {
			*h = w->hosts[--w->n_hosts];
		}
	}
	w->leases[i] = w->leases[--w->n_leases];
	publish(w);
}

pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;
	int rv;
	p.id = pipe;
	nng_msg_set_pipe(msg, p);
	if ((rv = nng_sendmsg(w->sock, msg, 0)) != 0) {
		pyc_log(PYC_LOG_WARN, "workers: send to pipe %u: %s", pipe, nng_strerror(rv));
		return pyc_err_from_nng(rv);
	}
	return PYC_OK;
}

uint64_t gw_workers_tx_drops(gw_workers *w)
{
	nng_stat *all = NULL, *s, *d;
	uint64_t v = 0;
	if (nng_stats_get(&all) != 0 || all == NULL)
		return 0;
	if ((s = nng_stat_find_socket(all, w->sock)) != NULL &&
	    (d = nng_stat_find(s, "tx_drop")) != NULL)
		v = nng_stat_value(d);
	nng_stats_free(all);
	return v;
}
