/* pyc_link.c - message links over nng streams, their listener, dialer
 * and inbox (pyc_link.h).
 *
 * NOTES: each link has two aios, one reading and one writing, each with
 * at most one operation pending. The receive side's state (rx_state) and
 * the send queue live under the link's mutex; no callback is called and no
 * nng operation is started while it is held, so callbacks may call back
 * into the link. ops->down is reported by whoever finds the receive side
 * idle for good: the read callback when its read fails or finds the link
 * closing, or pyc_link_close itself when reading was paused (no read
 * pending). That keeps down after the last message.
 *
 * nng 1.5.2's stream send may complete with part of the bytes written;
 * the write callback goes on with the rest. nng_aio_set_iov takes at most
 * 8 vectors there, so one write carries at most 4 messages (length and
 * body each).
 */
#include "pyc_link.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pyc_log.h"
#include "pyc_sock.h"

#define TX_MSGS 4 /* messages per write: 8 vectors */

typedef enum { RX_ARMED, RX_PARKED, RX_DONE } rx_state;

struct pyc_link {
	nng_stream *s;
	uint32_t id;
	const pyc_link_ops *ops;
	void *arg;
	void *user;
	size_t max_msg;
	nng_aio *rx, *tx;
	pthread_mutex_t mtx;
	pthread_cond_t cv;

	/* receive side: the read callback only, rx_state and paused under mtx */
	pyc_link_reader *rd;
	rx_state rx_state;
	bool paused;

	/* send side, under mtx (the iov and inflight: the writer only) */
	nng_msg **q;
	size_t qh, qn, qbytes;
	bool tx_busy;
	nng_msg *inflight[TX_MSGS];
	size_t n_inflight;
	uint8_t hdr[TX_MSGS][4];
	nng_iov iov[2 * TX_MSGS];
	unsigned niov;

	bool closing, down_sent, quiet;
	pyc_err why;
};

static atomic_uint_fast32_t next_id = 1;

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	       (uint32_t) p[3] << 24;
}

pyc_err pyc_link_frames(const uint8_t *buf, size_t len, size_t max_msg, size_t *used,
    void (*fn)(void *arg, const uint8_t *data, size_t size), void *arg)
{
	size_t off = 0;
	while (len - off >= 4) {
		uint32_t n = get_le32(buf + off);
		if (n == 0 || n > max_msg) {
			*used = off;
			return PYC_EPROTO;
		}
		if (len - off - 4 < n)
			break;
		if (fn != NULL)
			fn(arg, buf + off + 4, n);
		off += 4 + (size_t) n;
	}
	*used = off;
	return PYC_OK;
}

uint32_t pyc_link_id(const pyc_link *l)
{
	return l->id;
}

void pyc_link_set_user(pyc_link *l, void *user)
{
	l->user = user;
}

void *pyc_link_user(const pyc_link *l)
{
	return l->user;
}

static pyc_err err_of(int rv)
{
	switch (rv) {
	case NNG_ECLOSED:
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
	case NNG_ECANCELED:
		return PYC_ECLOSED;
	case NNG_ENOMEM:
		return PYC_ENOMEM;
	default:
		return PYC_EIO;
	}
}

/* Reports down if nobody did. */
static void report_down(pyc_link *l)
{
	bool report, quiet;
	pthread_mutex_lock(&l->mtx);
	report = !l->down_sent;
	l->down_sent = true;
	quiet = l->quiet;
	l->rx_state = RX_DONE;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mtx);
	if (report && !quiet)
		l->ops->down(l->arg, l, l->why);
}

static void arm_rx(pyc_link *l);

/* Marks the link closing with why (the first reason wins) and closes the
 * stream once. If reading was parked, a read is started on the closed
 * stream: it fails at once on nng's thread, whose callback reports down,
 * so no callback ever runs inside the caller. */
static void start_close(pyc_link *l, pyc_err why)
{
	bool first, parked;
	pthread_mutex_lock(&l->mtx);
	first = !l->closing;
	if (first) {
		l->closing = true;
		l->why = why;
	}
	parked = l->rx_state == RX_PARKED;
	if (parked)
		l->rx_state = RX_ARMED;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mtx);
	if (first)
		nng_stream_close(l->s);
	if (parked)
		arm_rx(l);
}

void pyc_link_close(pyc_link *l)
{
	start_close(l, PYC_ECLOSED);
}

/* ---- the reader: bytes in, whole messages out ---- */

struct pyc_link_reader {
	size_t max_msg, cap;
	uint8_t *rbuf;
	size_t rhead, rlen;
	nng_msg *big; /* a message larger than rbuf, read into its body */
	size_t big_len, big_have;
};

pyc_err pyc_link_reader_create(pyc_link_reader **out, size_t max_msg, size_t cap)
{
	pyc_link_reader *r = calloc(1, sizeof(*r));
	if (cap < 8)
		cap = 8;
	if (r == NULL || (r->rbuf = malloc(cap)) == NULL) {
		free(r);
		return PYC_ENOMEM;
	}
	r->max_msg = max_msg;
	r->cap = cap;
	*out = r;
	return PYC_OK;
}

void pyc_link_reader_destroy(pyc_link_reader *r)
{
	if (r == NULL)
		return;
	nng_msg_free(r->big);
	free(r->rbuf);
	free(r);
}

void pyc_link_reader_space(pyc_link_reader *r, void **buf, size_t *len)
{
	if (r->big != NULL) {
		*buf = (uint8_t *) nng_msg_body(r->big) + r->big_have;
		*len = r->big_len - r->big_have;
		return;
	}
	if (r->rhead > 0 && r->rhead + r->rlen > r->cap / 2) {
		memmove(r->rbuf, r->rbuf + r->rhead, r->rlen);
		r->rhead = 0;
	}
	*buf = r->rbuf + r->rhead + r->rlen;
	*len = r->cap - r->rhead - r->rlen;
}

typedef struct deliver_ctx {
	void (*fn)(void *arg, nng_msg *m);
	void *arg;
	bool failed;
} deliver_ctx;

static void deliver_fn(void *arg, const uint8_t *data, size_t size)
{
	deliver_ctx *c = arg;
	nng_msg *m;
	if (c->failed)
		return;
	if (nng_msg_alloc(&m, size) != 0) {
		c->failed = true;
		return;
	}
	memcpy(nng_msg_body(m), data, size);
	c->fn(c->arg, m);
}

pyc_err pyc_link_reader_got(pyc_link_reader *r, size_t n,
    void (*fn)(void *arg, nng_msg *m), void *arg, size_t *delivered)
{
	deliver_ctx c = {fn, arg, false};
	size_t used;
	pyc_err rv;

	*delivered = 0;
	if (r->big != NULL) {
		r->big_have += n;
		if (r->big_have == r->big_len) {
			nng_msg *m = r->big;
			r->big = NULL;
			fn(arg, m);
			*delivered = 1;
		}
		return PYC_OK;
	}
	r->rlen += n;
	rv = pyc_link_frames(r->rbuf + r->rhead, r->rlen, r->max_msg, &used, deliver_fn, &c);
	*delivered = used > 0;
	r->rhead += used;
	r->rlen -= used;
	if (r->rlen == 0)
		r->rhead = 0;
	if (c.failed)
		return PYC_ENOMEM;
	if (rv != PYC_OK)
		return rv;
	if (r->rlen >= 4) {
		uint32_t len = get_le32(r->rbuf + r->rhead);
		if (4 + (size_t) len > r->cap) {
			if (nng_msg_alloc(&r->big, len) != 0) {
				r->big = NULL;
				return PYC_ENOMEM;
			}
			r->big_len = len;
			r->big_have = r->rlen - 4;
			memcpy(nng_msg_body(r->big), r->rbuf + r->rhead + 4, r->big_have);
			r->rhead = r->rlen = 0;
		}
	}
	return PYC_OK;
}

/* ---- receiving ---- */

static void arm_rx(pyc_link *l)
{
	nng_iov iov;
	void *buf;
	size_t len;
	pyc_link_reader_space(l->rd, &buf, &len);
	iov.iov_buf = buf;
	iov.iov_len = len;
	nng_aio_set_iov(l->rx, 1, &iov);
	nng_stream_recv(l->s, l->rx);
}

static void to_owner(void *arg, nng_msg *m)
{
	pyc_link *l = arg;
	l->ops->msg(l->arg, l, m);
}

static void rx_cb(void *arg)
{
	pyc_link *l = arg;
	int rv = nng_aio_result(l->rx);
	bool any = false, stop;
	pyc_err err = PYC_OK;

	if (rv != 0) {
		start_close(l, err_of(rv));
		report_down(l);
		return;
	}
	pthread_mutex_lock(&l->mtx);
	stop = l->closing;
	pthread_mutex_unlock(&l->mtx);
	if (stop) {
		report_down(l);
		return;
	}
	size_t got;
	err = pyc_link_reader_got(l->rd, nng_aio_count(l->rx), to_owner, l, &got);
	if (err == PYC_EPROTO)
		pyc_log(PYC_LOG_WARN, "link %u: a message length out of 1..%zu: closing", l->id,
		    l->max_msg);
	any = got > 0;
	if (any && l->ops->flush != NULL)
		l->ops->flush(l->arg, l);
	if (err != PYC_OK) {
		start_close(l, err);
		report_down(l);
		return;
	}
	pthread_mutex_lock(&l->mtx);
	if (l->closing) {
		pthread_mutex_unlock(&l->mtx);
		report_down(l);
		return;
	}
	if (l->paused) {
		l->rx_state = RX_PARKED;
		pthread_mutex_unlock(&l->mtx);
		return;
	}
	pthread_mutex_unlock(&l->mtx);
	arm_rx(l);
}

void pyc_link_pause(pyc_link *l)
{
	pthread_mutex_lock(&l->mtx);
	l->paused = true;
	pthread_mutex_unlock(&l->mtx);
}

void pyc_link_resume(pyc_link *l)
{
	bool arm;
	pthread_mutex_lock(&l->mtx);
	l->paused = false;
	arm = l->rx_state == RX_PARKED && !l->closing;
	if (arm)
		l->rx_state = RX_ARMED;
	pthread_mutex_unlock(&l->mtx);
	if (arm)
		arm_rx(l);
}

/* ---- sending ---- */

/* Takes up to TX_MSGS queued messages into the write; mtx held. false if
 * the queue is empty. */
static bool take_tx_locked(pyc_link *l)
{
	size_t n = 0;
	while (n < TX_MSGS && l->qn > 0) {
		nng_msg *m = l->q[l->qh];
		l->qh = (l->qh + 1) % PYC_LINK_SENDQ_MSGS;
		l->qn--;
		l->inflight[n] = m;
		put_le32(l->hdr[n], (uint32_t) nng_msg_len(m));
		l->iov[2 * n].iov_buf = l->hdr[n];
		l->iov[2 * n].iov_len = 4;
		l->iov[2 * n + 1].iov_buf = nng_msg_body(m);
		l->iov[2 * n + 1].iov_len = nng_msg_len(m);
		n++;
	}
	l->n_inflight = n;
	l->niov = (unsigned) (2 * n);
	return n > 0;
}

static void start_tx(pyc_link *l)
{
	nng_aio_set_iov(l->tx, l->niov, l->iov);
	nng_stream_send(l->s, l->tx);
}

static void free_inflight(pyc_link *l)
{
	size_t bytes = 0;
	for (size_t i = 0; i < l->n_inflight; i++) {
		bytes += nng_msg_len(l->inflight[i]);
		nng_msg_free(l->inflight[i]);
	}
	l->n_inflight = 0;
	pthread_mutex_lock(&l->mtx);
	l->qbytes -= bytes;
	pthread_mutex_unlock(&l->mtx);
}

static void tx_cb(void *arg)
{
	pyc_link *l = arg;
	int rv = nng_aio_result(l->tx);
	bool more;

	if (rv == 0) {
		size_t n = nng_aio_count(l->tx);
		unsigned i = 0;
		while (i < l->niov && n >= l->iov[i].iov_len)
			n -= l->iov[i++].iov_len;
		if (i < l->niov) { /* a partial write: the rest */
			memmove(l->iov, l->iov + i, (l->niov - i) * sizeof(nng_iov));
			l->niov -= i;
			l->iov[0].iov_buf = (uint8_t *) l->iov[0].iov_buf + n;
			l->iov[0].iov_len -= n;
			start_tx(l);
			return;
		}
	}
	free_inflight(l);
	pthread_mutex_lock(&l->mtx);
	more = rv == 0 && !l->closing && take_tx_locked(l);
	l->tx_busy = more;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mtx);
	if (more) {
		start_tx(l);
		return;
	}
	if (rv != 0)
		start_close(l, err_of(rv));
}

static pyc_err send_locked(pyc_link *l, nng_msg *m, bool *start)
{
	size_t len = nng_msg_len(m);
	*start = false;
	if (l->closing)
		return PYC_ECLOSED;
	if (len == 0 || len > l->max_msg)
		return PYC_EINVAL;
	if (l->qn >= PYC_LINK_SENDQ_MSGS || (l->qbytes > 0 && l->qbytes + len > PYC_LINK_SENDQ_BYTES))
		return PYC_EAGAIN;
	l->q[(l->qh + l->qn) % PYC_LINK_SENDQ_MSGS] = m;
	l->qn++;
	l->qbytes += len;
	if (!l->tx_busy) {
		l->tx_busy = take_tx_locked(l);
		*start = l->tx_busy;
	}
	return PYC_OK;
}

pyc_err pyc_link_send(pyc_link *l, nng_msg *m)
{
	bool start;
	pthread_mutex_lock(&l->mtx);
	pyc_err rv = send_locked(l, m, &start);
	pthread_mutex_unlock(&l->mtx);
	if (start)
		start_tx(l);
	return rv;
}

pyc_err pyc_link_send_wait(pyc_link *l, nng_msg *m, int timeout_ms)
{
	struct timespec until;
	bool start;
	pyc_err rv;
	pyc_deadline(&until, CLOCK_REALTIME, timeout_ms);
	pthread_mutex_lock(&l->mtx);
	while ((rv = send_locked(l, m, &start)) == PYC_EAGAIN) {
		if (pthread_cond_timedwait(&l->cv, &l->mtx, &until) == ETIMEDOUT) {
			rv = PYC_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&l->mtx);
	if (start)
		start_tx(l);
	return rv;
}

size_t pyc_link_queued(pyc_link *l)
{
	pthread_mutex_lock(&l->mtx);
	size_t n = l->qn + l->n_inflight;
	pthread_mutex_unlock(&l->mtx);
	return n;
}

/* ---- create and destroy ---- */

static pyc_err link_new(pyc_link **out, nng_stream *s, size_t max_msg,
    const pyc_link_ops *ops, void *arg)
{
	pyc_link *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return PYC_ENOMEM;
	l->s = s;
	l->max_msg = max_msg;
	l->ops = ops;
	l->arg = arg;
	l->rx_state = RX_PARKED;
	do
		l->id = (uint32_t) atomic_fetch_add(&next_id, 1);
	while (l->id == 0);
	if (pyc_link_reader_create(&l->rd, max_msg, PYC_LINK_RBUF) != PYC_OK ||
	    (l->q = malloc(PYC_LINK_SENDQ_MSGS * sizeof(nng_msg *))) == NULL ||
	    nng_aio_alloc(&l->rx, rx_cb, l) != 0 || nng_aio_alloc(&l->tx, tx_cb, l) != 0) {
		nng_aio_free(l->rx);
		free(l->q);
		pyc_link_reader_destroy(l->rd);
		free(l);
		return PYC_ENOMEM;
	}
	pthread_mutex_init(&l->mtx, NULL);
	pthread_cond_init(&l->cv, NULL);
	*out = l;
	return PYC_OK;
}

/* ops->up, then the first read. */
static void link_start(pyc_link *l)
{
	bool arm;
	if (l->ops->up != NULL)
		l->ops->up(l->arg, l);
	/* the first read, unless the owner paused the link in up (or since) */
	pthread_mutex_lock(&l->mtx);
	arm = l->rx_state == RX_PARKED && !l->closing && !l->paused;
	if (arm)
		l->rx_state = RX_ARMED;
	pthread_mutex_unlock(&l->mtx);
	if (arm)
		arm_rx(l);
}

void pyc_link_destroy(pyc_link *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mtx);
	l->quiet = true;
	pthread_mutex_unlock(&l->mtx);
	start_close(l, PYC_ECLOSED);
	nng_aio_stop(l->rx);
	nng_aio_stop(l->tx);
	for (size_t i = 0; i < l->n_inflight; i++)
		nng_msg_free(l->inflight[i]);
	while (l->qn > 0) {
		nng_msg_free(l->q[l->qh]);
		l->qh = (l->qh + 1) % PYC_LINK_SENDQ_MSGS;
		l->qn--;
	}
	pyc_link_reader_destroy(l->rd);
	nng_aio_free(l->rx);
	nng_aio_free(l->tx);
	nng_stream_free(l->s);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mtx);
	free(l->q);
	free(l);
}

/* ---- listener ---- */

struct pyc_link_listener {
	nng_stream_listener *sl;
	nng_aio *accept, *pause;
	const pyc_link_ops *ops;
	void *arg;
	size_t max_msg;
	pthread_mutex_t mtx;
	bool closing;
};

static void accept_again(pyc_link_listener *ls)
{
	pthread_mutex_lock(&ls->mtx);
	bool go = !ls->closing;
	pthread_mutex_unlock(&ls->mtx);
	if (go)
		nng_stream_listener_accept(ls->sl, ls->accept);
}

static void accept_cb(void *arg)
{
	pyc_link_listener *ls = arg;
	int rv = nng_aio_result(ls->accept);
	pyc_link *l;

	if (rv != 0) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		/* EMFILE and the like: try again in a while, not at once */
		pyc_log(PYC_LOG_WARN, "link: accept: %s", nng_strerror(rv));
		nng_sleep_aio(100, ls->pause);
		return;
	}
	nng_stream *s = nng_aio_get_output(ls->accept, 0);
	if (link_new(&l, s, ls->max_msg, ls->ops, ls->arg) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "link: out of memory for an accepted link");
		nng_stream_free(s);
	} else {
		link_start(l);
	}
	accept_again(ls);
}

static void pause_cb(void *arg)
{
	pyc_link_listener *ls = arg;
	if (nng_aio_result(ls->pause) == 0)
		accept_again(ls);
}

pyc_err pyc_link_listen(pyc_link_listener **out, const char *url, size_t max_msg,
    const pyc_link_ops *ops, void *arg)
{
	pyc_link_listener *ls = calloc(1, sizeof(*ls));
	int rv;
	if (ls == NULL)
		return PYC_ENOMEM;
	ls->ops = ops;
	ls->arg = arg;
	ls->max_msg = max_msg;
	pthread_mutex_init(&ls->mtx, NULL);
	if ((rv = nng_aio_alloc(&ls->accept, accept_cb, ls)) != 0 ||
	    (rv = nng_aio_alloc(&ls->pause, pause_cb, ls)) != 0 ||
	    (rv = nng_stream_listener_alloc(&ls->sl, url)) != 0 ||
	    (rv = nng_stream_listener_listen(ls->sl)) != 0) {
		pyc_log(PYC_LOG_ERROR, "link: listen %s: %s", url, nng_strerror(rv));
		nng_stream_listener_free(ls->sl);
		nng_aio_free(ls->pause);
		nng_aio_free(ls->accept);
		pthread_mutex_destroy(&ls->mtx);
		free(ls);
		return pyc_err_from_nng(rv);
	}
	nng_stream_listener_accept(ls->sl, ls->accept);
	*out = ls;
	return PYC_OK;
}

void pyc_link_listener_destroy(pyc_link_listener *ls)
{
	if (ls == NULL)
		return;
	pthread_mutex_lock(&ls->mtx);
	ls->closing = true;
	pthread_mutex_unlock(&ls->mtx);
	nng_stream_listener_close(ls->sl);
	nng_aio_stop(ls->pause);
	nng_aio_stop(ls->accept);
	nng_stream_listener_free(ls->sl);
	nng_aio_free(ls->pause);
	nng_aio_free(ls->accept);
	pthread_mutex_destroy(&ls->mtx);
	free(ls);
}

/* ---- dialer ---- */

struct pyc_link_dialer {
	nng_stream_dialer *sd;
	nng_aio *dial, *timer;
	const pyc_link_ops *ops; /* the owner's */
	void *arg;
	size_t max_msg;
	pthread_mutex_t mtx;
	pyc_link *cur;  /* up */
	pyc_link *dead; /* down, freed by the timer */
	int backoff_ms;
	unsigned long links;
	bool closing;
};

static void d_up(void *arg, pyc_link *l)
{
	pyc_link_dialer *d = arg;
	if (d->ops->up != NULL)
		d->ops->up(d->arg, l);
}

static void d_msg(void *arg, pyc_link *l, nng_msg *m)
{
	pyc_link_dialer *d = arg;
	d->ops->msg(d->arg, l, m);
}

static void d_flush(void *arg, pyc_link *l)
{
	pyc_link_dialer *d = arg;
	if (d->ops->flush != NULL)
		d->ops->flush(d->arg, l);
}

static void d_down(void *arg, pyc_link *l, pyc_err why)
{
	pyc_link_dialer *d = arg;
	bool go;
	d->ops->down(d->arg, l, why);
	pthread_mutex_lock(&d->mtx);
	if (d->cur == l)
		d->cur = NULL;
	d->dead = l;
	d->backoff_ms = PYC_LINK_REDIAL_MIN_MS;
	go = !d->closing;
	pthread_mutex_unlock(&d->mtx);
	if (go)
		nng_sleep_aio(PYC_LINK_REDIAL_MIN_MS, d->timer);
}

static const pyc_link_ops dialer_ops = {d_up, d_msg, d_flush, d_down};

static void dial_cb(void *arg)
{
	pyc_link_dialer *d = arg;
	int rv = nng_aio_result(d->dial);
	pyc_link *l = NULL;
	bool closing;

	if (rv == 0) {
		nng_stream *s = nng_aio_get_output(d->dial, 0);
		if (link_new(&l, s, d->max_msg, &dialer_ops, d) != PYC_OK) {
			nng_stream_free(s);
			rv = NNG_ENOMEM;
		}
	}
	pthread_mutex_lock(&d->mtx);
	closing = d->closing;
	if (rv == 0 && !closing) {
		d->cur = l;
		d->links++;
		d->backoff_ms = PYC_LINK_REDIAL_MIN_MS;
	}
	int wait = d->backoff_ms;
	if (rv != 0 && d->backoff_ms < PYC_LINK_REDIAL_MAX_MS)
		d->backoff_ms = d->backoff_ms * 2 > PYC_LINK_REDIAL_MAX_MS ? PYC_LINK_REDIAL_MAX_MS
		                                                          : d->backoff_ms * 2;
	pthread_mutex_unlock(&d->mtx);
	if (closing) {
		pyc_link_destroy(l); /* never started: no callback of it runs */
		return;
	}
	/* Any failure is tried again, NNG_ECLOSED too: a peer that closes
	 * while the connection is set up gives that, and only closing the
	 * dialer ends its dials. */
	if (rv == 0)
		link_start(l);
	else
		nng_sleep_aio(wait, d->timer);
}

static void timer_cb(void *arg)
{
	pyc_link_dialer *d = arg;
	pyc_link *dead;
	bool go;
	if (nng_aio_result(d->timer) != 0)
		return;
	pthread_mutex_lock(&d->mtx);
	dead = d->dead;
	d->dead = NULL;
	go = !d->closing && d->cur == NULL;
	pthread_mutex_unlock(&d->mtx);
	pyc_link_destroy(dead);
	if (go)
		nng_stream_dialer_dial(d->sd, d->dial);
}

pyc_err pyc_link_dial(pyc_link_dialer **out, const char *url, size_t max_msg,
    const pyc_link_ops *ops, void *arg)
{
	pyc_link_dialer *d = calloc(1, sizeof(*d));
	int rv;
	if (d == NULL)
		return PYC_ENOMEM;
	d->ops = ops;
	d->arg = arg;
	d->max_msg = max_msg;
	d->backoff_ms = PYC_LINK_REDIAL_MIN_MS;
	pthread_mutex_init(&d->mtx, NULL);
	if ((rv = nng_aio_alloc(&d->dial, dial_cb, d)) != 0 ||
	    (rv = nng_aio_alloc(&d->timer, timer_cb, d)) != 0 ||
	    (rv = nng_stream_dialer_alloc(&d->sd, url)) != 0) {
		pyc_log(PYC_LOG_ERROR, "link: dialer %s: %s", url, nng_strerror(rv));
		nng_aio_free(d->timer);
		nng_aio_free(d->dial);
		pthread_mutex_destroy(&d->mtx);
		free(d);
		return pyc_err_from_nng(rv);
	}
	nng_stream_dialer_dial(d->sd, d->dial);
	*out = d;
	return PYC_OK;
}

pyc_err pyc_link_dialer_send(pyc_link_dialer *d, nng_msg *m)
{
	pyc_err rv = PYC_ECLOSED;
	pthread_mutex_lock(&d->mtx);
	if (d->cur != NULL)
		rv = pyc_link_send(d->cur, m);
	pthread_mutex_unlock(&d->mtx);
	return rv;
}

pyc_err pyc_link_dialer_send_wait(pyc_link_dialer *d, nng_msg *m, int timeout_ms)
{
	struct timespec ts = {0, 1000000};
	for (int waited = 0;; waited++) {
		pyc_err rv = pyc_link_dialer_send(d, m);
		if (rv != PYC_EAGAIN && rv != PYC_ECLOSED)
			return rv;
		if (waited >= timeout_ms)
			return PYC_ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

bool pyc_link_dialer_up(pyc_link_dialer *d)
{
	pthread_mutex_lock(&d->mtx);
	bool up = d->cur != NULL;
	pthread_mutex_unlock(&d->mtx);
	return up;
}

unsigned long pyc_link_dialer_links(pyc_link_dialer *d)
{
	pthread_mutex_lock(&d->mtx);
	unsigned long n = d->links;
	pthread_mutex_unlock(&d->mtx);
	return n;
}

void pyc_link_dialer_reset(pyc_link_dialer *d)
{
	pthread_mutex_lock(&d->mtx);
	if (d->cur != NULL)
		pyc_link_close(d->cur); /* calls no callback: down comes from
		                          * nng's thread */
	pthread_mutex_unlock(&d->mtx);
}

void pyc_link_dialer_destroy(pyc_link_dialer *d)
{
	pyc_link *cur, *dead;
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mtx);
	d->closing = true;
	pthread_mutex_unlock(&d->mtx);
	nng_stream_dialer_close(d->sd);
	nng_aio_stop(d->dial);
	nng_aio_stop(d->timer);
	pthread_mutex_lock(&d->mtx);
	cur = d->cur;
	dead = d->dead;
	d->cur = d->dead = NULL;
	pthread_mutex_unlock(&d->mtx);
	pyc_link_destroy(cur);
	pyc_link_destroy(dead);
	/* a down reported while cur was being destroyed leaves it as dead */
	pthread_mutex_lock(&d->mtx);
	dead = d->dead != cur ? d->dead : NULL;
	d->dead = NULL;
	pthread_mutex_unlock(&d->mtx);
	pyc_link_destroy(dead);
	nng_stream_dialer_free(d->sd);
	nng_aio_free(d->timer);
	nng_aio_free(d->dial);
	pthread_mutex_destroy(&d->mtx);
	free(d);
}

pyc_err pyc_link_probe(const char *url, int timeout_ms)
{
	nng_stream_dialer *sd = NULL;
	nng_aio *aio = NULL;
	int rv;
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_stream_dialer_alloc(&sd, url)) != 0)
		goto out;
	nng_aio_set_timeout(aio, timeout_ms);
	nng_stream_dialer_dial(sd, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0)
		nng_stream_free(nng_aio_get_output(aio, 0));
out:
	nng_stream_dialer_free(sd);
	nng_aio_free(aio);
	return rv == 0 ? PYC_OK : rv == NNG_ETIMEDOUT ? PYC_ETIMEDOUT : pyc_err_from_nng(rv);
}

/* ---- inbox ---- */

#define INBOX_PAUSED_MAX 64

struct pyc_link_inbox {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int efd;
	bool signalled;
	pyc_link_event *q;
	size_t qh, qn, qcap, msgs, max_msgs;
	pyc_link *paused[INBOX_PAUSED_MAX];
	size_t n_paused;
};

/* Appends ev; mtx held. Events beyond the queue grow it: messages are
 * bounded by pausing, ups and downs by the links. */
static bool ib_push_locked(pyc_link_inbox *ib, const pyc_link_event *ev)
{
	if (ib->qn == ib->qcap) {
		size_t nc = ib->qcap ? ib->qcap * 2 : 64;
		pyc_link_event *nq = malloc(nc * sizeof(*nq));
		if (nq == NULL)
			return false;
		for (size_t i = 0; i < ib->qn; i++)
			nq[i] = ib->q[(ib->qh + i) % ib->qcap];
		free(ib->q);
		ib->q = nq;
		ib->qcap = nc;
		ib->qh = 0;
	}
	ib->q[(ib->qh + ib->qn) % ib->qcap] = *ev;
	ib->qn++;
	if (ev->kind == PYC_LINK_EV_MSG)
		ib->msgs++;
	if (!ib->signalled) {
		uint64_t one = 1;
		ib->signalled = true;
		if (write(ib->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			pyc_log(PYC_LOG_WARN, "link inbox: eventfd: %s", strerror(errno));
	}
	pthread_cond_signal(&ib->cv);
	return true;
}

static void ib_up(void *arg, pyc_link *l)
{
	pyc_link_inbox *ib = arg;
	pyc_link_event ev = {PYC_LINK_EV_UP, l, pyc_link_id(l), NULL, PYC_OK};
	pthread_mutex_lock(&ib->mtx);
	bool ok = ib_push_locked(ib, &ev);
	pthread_mutex_unlock(&ib->mtx);
	if (!ok)
		pyc_link_close(l);
}

static void ib_msg(void *arg, pyc_link *l, nng_msg *m)
{
	pyc_link_inbox *ib = arg;
	pyc_link_event ev = {PYC_LINK_EV_MSG, l, pyc_link_id(l), m, PYC_OK};
	bool pause = false, ok;
	pthread_mutex_lock(&ib->mtx);
	ok = ib_push_locked(ib, &ev);
	if (ok && ib->msgs >= ib->max_msgs && ib->n_paused < INBOX_PAUSED_MAX) {
		bool known = false;
		for (size_t i = 0; i < ib->n_paused; i++)
			known = known || ib->paused[i] == l;
		if (!known)
			ib->paused[ib->n_paused++] = l;
		pause = true;
	}
	pthread_mutex_unlock(&ib->mtx);
	if (!ok) {
		nng_msg_free(m);
		pyc_link_close(l); /* reported as the link's end, not lost quietly */
	} else if (pause) {
		pyc_link_pause(l);
	}
}

static void ib_down(void *arg, pyc_link *l, pyc_err why)
{
	pyc_link_inbox *ib = arg;
	pyc_link_event ev = {PYC_LINK_EV_DOWN, l, pyc_link_id(l), NULL, why};
	pthread_mutex_lock(&ib->mtx);
	if (!ib_push_locked(ib, &ev))
		pyc_log(PYC_LOG_ERROR, "link inbox: out of memory: the end of link %u is lost",
		    ev.id);
	pthread_mutex_unlock(&ib->mtx);
}

static const pyc_link_ops inbox_ops = {ib_up, ib_msg, NULL, ib_down};

const pyc_link_ops *pyc_link_inbox_ops(void)
{
	return &inbox_ops;
}

pyc_err pyc_link_inbox_create(pyc_link_inbox **out, size_t max_msgs)
{
	pyc_link_inbox *ib = calloc(1, sizeof(*ib));
	if (ib == NULL)
		return PYC_ENOMEM;
	if ((ib->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		pyc_err rv = pyc_err_from_errno(errno);
		free(ib);
		return rv;
	}
	ib->max_msgs = max_msgs > 1 ? max_msgs : 2;
	pthread_mutex_init(&ib->mtx, NULL);
	pthread_cond_init(&ib->cv, NULL);
	*out = ib;
	return PYC_OK;
}

int pyc_link_inbox_fd(pyc_link_inbox *ib)
{
	return ib->efd;
}

/* Takes the oldest event; mtx held. */
static bool ib_pop_locked(pyc_link_inbox *ib, pyc_link_event *ev, pyc_link **resume,
    size_t *n_resume)
{
	*n_resume = 0;
	if (ib->qn == 0)
		return false;
	*ev = ib->q[ib->qh];
	ib->qh = (ib->qh + 1) % ib->qcap;
	ib->qn--;
	if (ev->kind == PYC_LINK_EV_MSG)
		ib->msgs--;
	if (ev->kind == PYC_LINK_EV_DOWN) {
		for (size_t i = 0; i < ib->n_paused; i++) {
			if (ib->paused[i] == ev->link) {
				ib->paused[i] = ib->paused[--ib->n_paused];
				break;
			}
		}
	}
	if (ib->n_paused > 0 && ib->msgs <= ib->max_msgs / 2) {
		memcpy(resume, ib->paused, ib->n_paused * sizeof(pyc_link *));
		*n_resume = ib->n_paused;
		ib->n_paused = 0;
	}
	if (ib->qn == 0 && ib->signalled) {
		uint64_t v;
		ib->signalled = false;
		if (read(ib->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pyc_log(PYC_LOG_WARN, "link inbox: eventfd: %s", strerror(errno));
	}
	return true;
}

static bool ib_take(pyc_link_inbox *ib, pyc_link_event *ev, int timeout_ms)
{
	pyc_link *resume[INBOX_PAUSED_MAX];
	size_t n_resume;
	bool got;
	pthread_mutex_lock(&ib->mtx);
	if (timeout_ms > 0 && ib->qn == 0) {
		struct timespec until;
		pyc_deadline(&until, CLOCK_REALTIME, timeout_ms);
		while (ib->qn == 0)
			if (pthread_cond_timedwait(&ib->cv, &ib->mtx, &until) == ETIMEDOUT)
				break;
	}
	got = ib_pop_locked(ib, ev, resume, &n_resume);
	/* resumed under mtx: a link is only freed by the owner after its
	 * down event, which takes it off the paused list first */
	for (size_t i = 0; i < n_resume; i++)
		pyc_link_resume(resume[i]);
	pthread_mutex_unlock(&ib->mtx);
	return got;
}

bool pyc_link_inbox_pop(pyc_link_inbox *ib, pyc_link_event *ev)
{
	return ib_take(ib, ev, 0);
}

bool pyc_link_inbox_wait(pyc_link_inbox *ib, pyc_link_event *ev, int timeout_ms)
{
	return ib_take(ib, ev, timeout_ms);
}

void pyc_link_inbox_destroy(pyc_link_inbox *ib)
{
	if (ib == NULL)
		return;
	while (ib->qn > 0) {
		if (ib->q[ib->qh].msg != NULL)
			nng_msg_free(ib->q[ib->qh].msg);
		ib->qh = (ib->qh + 1) % ib->qcap;
		ib->qn--;
	}
	close(ib->efd);
	pthread_cond_destroy(&ib->cv);
	pthread_mutex_destroy(&ib->mtx);
	free(ib->q);
	free(ib);
}
