/* gw_workers.c - the pair1 endpoint for workers and hosts, the pool of
 * hosts and idle workers, and leases (gw_workers.h).
 *
 * NOTES: the wire is nng's (SP over ipc/tcp, RFC-style sp-tcp/sp-ipc
 * mappings): each side first sends 8 bytes {0x00 'S' 'P' 0x00, protocol
 * id (pair1 = 0x0011, big-endian), 0x00 0x00}; then every message is a
 * frame: over ipc a 0x01 byte and a 64-bit big-endian length, over tcp the
 * length alone, then that many bytes: pair1's 32-bit big-endian hop count
 * (1 when sent; 0..255 accepted) and the envelope of pyc_wire.h. Frames
 * larger than the largest envelope are refused and the peer dropped.
 *
 * Each connection keeps a queue of nng messages to send; writes go out
 * at once when the socket takes them (writev of up to 8 frames) and
 * otherwise when lws says the descriptor is writable. Reads fill a buffer
 * that grows to the largest frame seen; each frame is copied into an nng
 * message (so the registry can forward a meter to the client straight
 * from it, gw_ws.c). The pool: hosts are few, idle workers a handful per
 * host, so both are arrays searched linearly; pipes are found through a
 * small hash table.
 */
#include "gw_workers.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw_metrics.h"
#include "gw_ws.h"
#include "pyc_config.h"
#include "pyc_log.h"

#define PIPE_BUCKETS 1024
#define RBUF_MIN (64 * 1024)
#define READ_BUDGET (512 * 1024)
#define MAX_FRAME (4 + PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX + PYC_WIRE_MAX_PAYLOAD)
#define WRITE_BATCH 8
#define PAIR1_PROTO 0x0011

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

typedef struct conn conn;

struct conn {
	const gw_fd_ops *ops; /* first: gw_ws_adopt's contract */
	gw_workers *w;
	gw_fd *h;
	int fd;
	uint32_t pipe;
	conn *hnext;
	bool peer_ok; /* the peer's SP header arrived and matched */
	bool dead;    /* closing: sends are refused */

	uint8_t *rbuf;
	size_t rlen, rcap;

	nng_msg **q;
	size_t qh, qn, qcap;
	size_t qbytes;
	size_t head_off; /* bytes of the head frame already written */
};

typedef struct listener {
	const gw_fd_ops *ops;
	gw_workers *w;
	gw_fd *h;
	int fd;
} listener;

struct gw_workers {
	struct gw_ws *ws;
	const gw_workers_ops *ops;
	void *arg;
	bool ipc;
	bool stopping;
	char ipc_path[PYC_CFG_STR_MAX];
	listener lst;
	uint32_t next_pipe;
	conn *pipes[PIPE_BUCKETS];
	int n_conns;

	host *hosts;
	size_t n_hosts, cap_hosts;
	worker *idle;
	size_t n_idle, cap_idle;
	worker *leases;
	size_t n_leases, cap_leases;
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
	long hosts = 0;
	for (size_t i = 0; i < w->n_hosts; i++)
		if (w->hosts[i].pipe != 0)
			hosts++;
	atomic_store_explicit(&gw_stats.hosts, hosts, memory_order_relaxed);
	atomic_store_explicit(&gw_stats.workers_idle, (long) w->n_idle, memory_order_relaxed);
	atomic_store_explicit(&gw_stats.workers_busy, (long) w->n_leases, memory_order_relaxed);
}

static conn *conn_of(gw_workers *w, uint32_t pipe)
{
	for (conn *c = w->pipes[pipe % PIPE_BUCKETS]; c != NULL; c = c->hnext)
		if (c->pipe == pipe)
			return c;
	return NULL;
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

/* ---- framing ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t) v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The frame prefix of a message of body_len bytes: transport header and
 * pair1 hop count. Returns its length. */
static size_t frame_prefix(const gw_workers *w, uint8_t *p, size_t body_len)
{
	size_t n = 0;
	if (w->ipc)
		p[n++] = 0x01;
	put_be64(p + n, body_len + 4);
	n += 8;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 0;
	p[n++] = 1;
	return n;
}

static void conn_dispatch(conn *c, const uint8_t *frame, size_t len)
{
	gw_workers *w = c->w;
	nng_msg *msg;
	pyc_wire_msg m;
	uint32_t hop = (uint32_t) frame[0] << 24 | (uint32_t) frame[1] << 16 |
	    (uint32_t) frame[2] << 8 | frame[3];

	if (hop > 0xff || nng_msg_alloc(&msg, len - 4) != 0)
		return;
	memcpy(nng_msg_body(msg), frame + 4, len - 4);
	if (pyc_wire_msg_decode(msg, &m) != PYC_OK) {
		if (w->bad_msgs++ % 1000 == 0)
			pyc_log(PYC_LOG_WARN,
			    "workers: malformed message from pipe %u dropped (%u so far)", c->pipe,
			    w->bad_msgs);
		nng_msg_free(msg);
		return;
	}
	if (m.type == PYC_MSG_HOST_HELLO || m.type == PYC_MSG_WORKER_HELLO) {
		if (m.type == PYC_MSG_HOST_HELLO)
			on_host_hello(w, c->pipe, &m);
		else
			on_worker_hello(w, c->pipe, &m);
		nng_msg_free(msg);
		return;
	}
	if (w->stopping) {
		nng_msg_free(msg);
		return;
	}
	w->ops->msg(w->arg, c->pipe, msg, &m);
}

/* Parses what is buffered; -1 if the peer broke the protocol. */
static int conn_parse(conn *c)
{
	size_t off = 0;
	size_t hl = c->w->ipc ? 9 : 8;

	if (!c->peer_ok) {
		if (c->rlen < 8)
			return 0;
		const uint8_t *h = c->rbuf;
		unsigned proto = (unsigned) h[4] << 8 | h[5];
		if (h[0] != 0 || h[1] != 'S' || h[2] != 'P' || h[3] != 0 || h[6] != 0 ||
		    h[7] != 0 || proto != PAIR1_PROTO) {
			pyc_log(PYC_LOG_WARN, "workers: pipe %u is not a pair1 peer, dropped",
			    c->pipe);
			return -1;
		}
		c->peer_ok = true;
		off = 8;
	}
	while (c->rlen - off >= hl) {
		const uint8_t *p = c->rbuf + off;
		if (c->w->ipc && p[0] != 0x01) {
			pyc_log(PYC_LOG_WARN, "workers: pipe %u sent an unknown ipc frame", c->pipe);
			return -1;
		}
		uint64_t len = get_be64(p + hl - 8);
		if (len < 4 || len > MAX_FRAME) {
			pyc_log(PYC_LOG_WARN, "workers: pipe %u sent a frame of %llu bytes", c->pipe,
			    (unsigned long long) len);
			return -1;
		}
		if (c->rlen - off - hl < len) {
			if (hl + len > c->rcap) {
				/* make room for the whole frame */
				memmove(c->rbuf, c->rbuf + off, c->rlen - off);
				c->rlen -= off;
				off = 0;
				uint8_t *nb = realloc(c->rbuf, hl + len);
				if (nb == NULL)
					return -1;
				c->rbuf = nb;
				c->rcap = hl + len;
			}
			break;
		}
		conn_dispatch(c, p + hl, (size_t) len);
		off += hl + (size_t) len;
		if (c->dead)
			return -1;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	return 0;
}

static int conn_readable(void *obj)
{
	conn *c = obj;
	size_t budget = READ_BUDGET;
	while (budget > 0) {
		if (c->rlen == c->rcap) {
			size_t nc = c->rcap * 2;
			uint8_t *nb = realloc(c->rbuf, nc);
			if (nb == NULL)
				return -1;
			c->rbuf = nb;
			c->rcap = nc;
		}
		ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			pyc_log(PYC_LOG_DEBUG, "workers: pipe %u read: %s", c->pipe, strerror(errno));
			return -1;
		}
		if (n == 0)
			return -1; /* the peer went away */
		c->rlen += (size_t) n;
		budget = (size_t) n < budget ? budget - (size_t) n : 0;
		if (conn_parse(c) != 0)
			return -1;
	}
	return 0;
}

/* Writes what the socket takes; -1 on a socket error. */
static int conn_flush(conn *c)
{
	while (c->qn > 0) {
		struct iovec iov[WRITE_BATCH * 2];
		uint8_t pre[WRITE_BATCH][16];
		int niov = 0;
		size_t skip = c->head_off;
		for (size_t k = 0; k < c->qn && k < WRITE_BATCH; k++) {
			nng_msg *m = c->q[(c->qh + k) % c->qcap];
			size_t bl = nng_msg_len(m);
			size_t pl = frame_prefix(c->w, pre[k], bl);
			if (skip < pl) {
				iov[niov].iov_base = pre[k] + skip;
				iov[niov++].iov_len = pl - skip;
				skip = 0;
			} else {
				skip -= pl;
			}
			if (bl > skip) {
				iov[niov].iov_base = (uint8_t *) nng_msg_body(m) + skip;
				iov[niov++].iov_len = bl - skip;
			}
			skip = 0;
		}
		ssize_t n = writev(c->fd, iov, niov);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				gw_ws_fd_want_write(c->h);
				return 0;
			}
			pyc_log(PYC_LOG_DEBUG, "workers: pipe %u write: %s", c->pipe, strerror(errno));
			return -1;
		}
		size_t left = (size_t) n;
		while (left > 0 && c->qn > 0) {
			nng_msg *m = c->q[c->qh];
			size_t total = (c->w->ipc ? 13 : 12) + nng_msg_len(m);
			size_t rest = total - c->head_off;
			if (left >= rest) {
				left -= rest;
				c->qbytes -= nng_msg_len(m);
				nng_msg_free(m);
				c->qh = (c->qh + 1) % c->qcap;
				c->qn--;
				c->head_off = 0;
			} else {
				c->head_off += left;
				left = 0;
			}
		}
	}
	return 0;
}

static int conn_writable(void *obj)
{
	conn *c = obj;
	return conn_flush(c);
}

static void conn_closed(void *obj)
{
	conn *c = obj;
	gw_workers *w = c->w;
	conn **pp = &w->pipes[c->pipe % PIPE_BUCKETS];
	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
	w->n_conns--;
	c->dead = true;
	while (c->qn > 0) {
		nng_msg_free(c->q[c->qh]);
		c->qh = (c->qh + 1) % c->qcap;
		c->qn--;
	}
	close(c->fd);
	uint32_t pipe = c->pipe;
	free(c->q);
	free(c->rbuf);
	free(c);
	if (!w->stopping) {
		pool_forget(w, pipe);
		w->ops->gone(w->arg, pipe);
	}
}

static const gw_fd_ops conn_ops = {conn_readable, conn_writable, conn_closed};

pyc_err gw_workers_send(gw_workers *w, uint32_t pipe, nng_msg *msg)
{
	conn *c = conn_of(w, pipe);
	if (c == NULL || c->dead) {
		nng_msg_free(msg);
		return PYC_ECLOSED;
	}
	if (c->qbytes + nng_msg_len(msg) > GW_WORKERS_MAX_QUEUED) {
		pyc_log(PYC_LOG_ERROR, "workers: pipe %u does not read (%zu bytes queued), closing",
		    pipe, c->qbytes);
		nng_msg_free(msg);
		c->dead = true;
		gw_ws_fd_close(c->h);
		return PYC_EIO;
	}
	if (c->qn == c->qcap) {
		size_t nc = c->qcap ? c->qcap * 2 : 16;
		nng_msg **q = malloc(nc * sizeof(*q));
		if (q == NULL) {
			nng_msg_free(msg);
			return PYC_ENOMEM;
		}
		for (size_t i = 0; i < c->qn; i++)
			q[i] = c->q[(c->qh + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qcap = nc;
		c->qh = 0;
	}
	c->q[(c->qh + c->qn) % c->qcap] = msg;
	c->qn++;
	c->qbytes += nng_msg_len(msg);
	if (c->qn == 1 && conn_flush(c) != 0) {
		c->dead = true;
		gw_ws_fd_close(c->h);
	}
	return PYC_OK;
}

/* ---- listening ---- */

static int listener_readable(void *obj)
{
	listener *l = obj;
	gw_workers *w = l->w;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pyc_log(PYC_LOG_WARN, "workers: accept: %s", strerror(errno));
			break;
		}
		if (!w->ipc) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		conn *c = calloc(1, sizeof(*c));
		uint8_t hs[8] = {0, 'S', 'P', 0, PAIR1_PROTO >> 8, PAIR1_PROTO & 0xff, 0, 0};
		if (c == NULL || (c->rbuf = malloc(RBUF_MIN)) == NULL ||
		    write(fd, hs, sizeof(hs)) != (ssize_t) sizeof(hs)) {
			if (c != NULL)
				free(c->rbuf);
			free(c);
			close(fd);
			continue;
		}
		c->ops = &conn_ops;
		c->w = w;
		c->fd = fd;
		c->rcap = RBUF_MIN;
		if (++w->next_pipe == 0)
			w->next_pipe = 1;
		c->pipe = w->next_pipe;
		c->h = gw_ws_adopt(w->ws, fd, c);
		if (c->h == NULL) {
			pyc_log(PYC_LOG_ERROR, "workers: cannot serve a new connection");
			free(c->rbuf);
			free(c);
			close(fd);
			continue;
		}
		c->hnext = w->pipes[c->pipe % PIPE_BUCKETS];
		w->pipes[c->pipe % PIPE_BUCKETS] = c;
		w->n_conns++;
	}
	return 0;
}

static int listener_writable(void *obj)
{
	(void) obj;
	return 0;
}

static void listener_closed(void *obj)
{
	listener *l = obj;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->h = NULL;
}

static const gw_fd_ops listener_ops = {listener_readable, listener_writable, listener_closed};

static int listen_ipc(gw_workers *w, const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	snprintf(w->ipc_path, sizeof(w->ipc_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* left by an earlier gateway */
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 || listen(fd, 256) != 0) {
		pyc_log(PYC_LOG_ERROR, "workers: listen ipc://%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listen_tcp(const char *scheme, const char *hostport)
{
	char host[256], port[16];
	const char *colon;
	struct addrinfo hints, *ai = NULL;
	int fd = -1;

	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int) (end - hostport - 1), hostport + 1);
		colon = end + 1;
	} else {
		colon = strrchr(hostport, ':');
		if (colon == NULL)
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int) (colon - hostport), hostport);
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	hints.ai_family = strcmp(scheme, "tcp4") == 0 ? AF_INET
	    : strcmp(scheme, "tcp6") == 0 ? AF_INET6 : AF_UNSPEC;
	bool any = host[0] == '\0' || strcmp(host, "*") == 0;
	if (getaddrinfo(any ? NULL : host, port, &hints, &ai) != 0 || ai == NULL) {
		pyc_log(PYC_LOG_ERROR, "workers: cannot resolve %s", hostport);
		return -1;
	}
	for (struct addrinfo *a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 256) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		pyc_log(PYC_LOG_ERROR, "workers: listen %s: %s", hostport, strerror(errno));
	return fd;
}

pyc_err gw_workers_create(gw_workers **out, const char *url, struct gw_ws *ws,
    const gw_workers_ops *ops, void *arg)
{
	gw_workers *w = calloc(1, sizeof(*w));
	int fd = -1;

	if (w == NULL)
		return PYC_ENOMEM;
	w->ws = ws;
	w->ops = ops;
	w->arg = arg;
	if (strncmp(url, "ipc://", 6) == 0) {
		w->ipc = true;
		if (pyc_config_prepare_url(url) != PYC_OK) {
			pyc_log(PYC_LOG_ERROR, "workers: cannot create the folder of %s", url);
			free(w);
			return PYC_EIO;
		}
		fd = listen_ipc(w, url + 6);
	} else {
		const char *sep = strstr(url, "://");
		char scheme[8] = "";
		if (sep != NULL && sep - url < (int) sizeof(scheme))
			snprintf(scheme, sizeof(scheme), "%.*s", (int) (sep - url), url);
		if (strcmp(scheme, "tcp") == 0 || strcmp(scheme, "tcp4") == 0 ||
		    strcmp(scheme, "tcp6") == 0)
			fd = listen_tcp(scheme, sep + 3);
		else
			pyc_log(PYC_LOG_ERROR, "workers: %s: only ipc:// and tcp:// are served", url);
	}
	if (fd < 0) {
		free(w);
		return PYC_EIO;
	}
	w->lst.ops = &listener_ops;
	w->lst.w = w;
	w->lst.fd = fd;
	w->lst.h = gw_ws_adopt(ws, fd, &w->lst);
	if (w->lst.h == NULL) {
		close(fd);
		free(w);
		return PYC_EIO;
	}
	pyc_log(PYC_LOG_INFO, "workers: listening at %s", url);
	*out = w;
	return PYC_OK;
}

void gw_workers_stop(gw_workers *w)
{
	if (w != NULL)
		w->stopping = true;
}

void gw_workers_destroy(gw_workers *w)
{
	if (w == NULL)
		return;
	w->stopping = true;
	for (size_t b = 0; b < PIPE_BUCKETS; b++) {
		while (w->pipes[b] != NULL) {
			conn *c = w->pipes[b];
			w->pipes[b] = c->hnext;
			while (c->qn > 0) {
				nng_msg_free(c->q[c->qh]);
				c->qh = (c->qh + 1) % c->qcap;
				c->qn--;
			}
			close(c->fd);
			free(c->q);
			free(c->rbuf);
			free(c);
		}
	}
	if (w->lst.fd >= 0 && w->lst.h != NULL)
		close(w->lst.fd);
	if (w->ipc && w->ipc_path[0] != '\0')
		unlink(w->ipc_path);
	free(w->hosts);
	free(w->idle);
	free(w->leases);
	free(w);
}
