/* gw_listen.c - the one public port: accept, wait for the request head,
 * hand over (gw_listen.h).
 *
 * NOTES: one thread polls the listening socket, a wake pipe and every
 * connection still waiting for its head. A waiting connection is peeked
 * at (recv MSG_PEEK, at most GW_LISTEN_HEAD_MAX bytes); while its head is
 * incomplete its SO_RCVLOWAT is set one byte past what is already there,
 * so poll wakes only when more has come (or the peer closed), never for
 * the bytes already seen. It is back to 1 before the socket is handed on.
 * The head ends at the first empty line (gw_head.c). A head not complete
 * within GW_LISTEN_HEAD_MAX bytes is no upgrade lws would take (lws's own
 * header limit is smaller): it goes to MHD, whose memory limit answers it
 * 414 or 431 and closes, as before the port was shared. A complete head
 * goes to lws when it is a GET of /ws/audio with an Upgrade header naming
 * websocket; everything else, upgrades on other paths included, goes to
 * MHD, which answers it as it always did. Neither library's parsing is
 * repeated here: this is only the choice of library.
 *
 * Limits: every accepted connection counts against HTTP_MAX_CONNECTIONS,
 * and against HTTP_MAX_PER_IP for its peer address unless the peer is in
 * TRUSTED_PROXIES (a proxy's clients are limited by the proxy, as MHD's
 * accept policy did before). Over either, it is closed at once. The count
 * is released when the connection closes here, when lws takes it (lws
 * counts WebSocket connections itself, by the client address that
 * X-Forwarded-For gives, gw_ws.c), or when MHD closes it (gw_http.c calls
 * back). So a connection is counted once, in one place, from accept to
 * close.
 */
#include "gw_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "gw_head.h"
#include "gw_proto.h"
#include "gw_sessions.h"
#include "pyc_log.h"

#define ACCEPT_BURST 64   /* connections accepted per wake at most */
#define POLL_MAX_MS 1000  /* longest poll, so deadlines are seen */
#define ACCEPT_PAUSE_MS 100 /* out of descriptors: wait before accepting again */

typedef struct addr_slot {
	char addr[64];
	int n;
} addr_slot;

typedef struct pending {
	int fd;
	int64_t deadline_us;
	addr_slot *slot; /* NULL: a trusted proxy, not counted per address */
	struct sockaddr_storage sa;
	socklen_t sa_len;
} pending;

struct gw_listen {
	const pyc_config *cfg;
	gw_ws *ws;
	gw_http *http;
	int lfd;
	int wake[2];
	pthread_t thread;
	bool running;

	pthread_mutex_t mu; /* slots and total: MHD's threads release */
	addr_slot *slots;
	int nslots;
	int total;

	pending *pend;
	int npend, cap;
	struct pollfd *pfd;
};

/* ---- counting ---- */

static void peer_text(const struct sockaddr *sa, char *out, size_t cap)
{
	out[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out,
		    (socklen_t) cap);
	if (strncmp(out, "::ffff:", 7) == 0 && strchr(out, '.') != NULL)
		memmove(out, out + 7, strlen(out + 7) + 1);
}

/* Counts a new connection from addr; false (nothing counted) over a
 * limit. *slot is its address's slot, NULL for a trusted proxy. */
static bool count_take(gw_listen *l, const char *addr, addr_slot **slot)
{
	bool trusted = gw_proto_addr_in_list(l->cfg->trusted_proxies, addr);
	addr_slot *s = NULL, *free_slot = NULL;
	bool ok = false;

	*slot = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->total >= l->cfg->http_max_connections) {
		pthread_mutex_unlock(&l->mu);
		pyc_log(PYC_LOG_WARN, "listen: %s refused: %d connections (HTTP_MAX_CONNECTIONS)",
		    addr, l->total);
		return false;
	}
	if (trusted) {
		l->total++;
		pthread_mutex_unlock(&l->mu);
		return true;
	}
	for (int i = 0; i < l->nslots && s == NULL; i++) {
		if (l->slots[i].n > 0 && strcmp(l->slots[i].addr, addr) == 0)
			s = &l->slots[i];
		else if (l->slots[i].n == 0 && free_slot == NULL)
			free_slot = &l->slots[i];
	}
	if (s == NULL && free_slot != NULL) {
		s = free_slot;
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
	}
	if (s != NULL && s->n < l->cfg->http_max_per_ip) {
		s->n++;
		l->total++;
		*slot = s;
		ok = true;
	}
	pthread_mutex_unlock(&l->mu);
	if (!ok)
		pyc_log(PYC_LOG_WARN, "listen: %s refused: HTTP_MAX_PER_IP reached", addr);
	return ok;
}

static void count_release(gw_listen *l, addr_slot *slot)
{
	pthread_mutex_lock(&l->mu);
	if (slot != NULL && slot->n > 0)
		slot->n--;
	if (l->total > 0)
		l->total--;
	pthread_mutex_unlock(&l->mu);
}

/* What gw_http calls when MHD closed a connection handed to it. */
typedef struct ticket {
	gw_listen *l;
	addr_slot *slot;
} ticket;

static void ticket_closed(void *arg)
{
	ticket *t = arg;
	count_release(t->l, t->slot);
	free(t);
}

int gw_listen_count(gw_listen *l)
{
	pthread_mutex_lock(&l->mu);
	int n = l->total;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* ---- waiting connections ---- */

static void pend_drop(gw_listen *l, int i, bool close_fd)
{
	pending *p = &l->pend[i];
	if (close_fd)
		close(p->fd);
	count_release(l, p->slot);
	l->pend[i] = l->pend[--l->npend];
}

static void hand_over(gw_listen *l, int i, bool ws)
{
	pending p = l->pend[i];
	int one = 1;
	l->pend[i] = l->pend[--l->npend];
	setsockopt(p.fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	if (ws) {
		count_release(l, p.slot); /* lws counts it from here (gw_ws.c) */
		gw_ws_adopt(l->ws, p.fd);
		return;
	}
	ticket *t = malloc(sizeof(*t));
	if (t == NULL) {
		close(p.fd);
		count_release(l, p.slot);
		return;
	}
	t->l = l;
	t->slot = p.slot;
	gw_http_adopt(l->http, p.fd, (struct sockaddr *) &p.sa, p.sa_len, ticket_closed, t);
}

/* Peeks at a waiting connection that poll found readable; hands it over,
 * drops it or leaves it waiting. */
static void pend_read(gw_listen *l, int i, short revents)
{
	char buf[GW_LISTEN_HEAD_MAX];
	pending *p = &l->pend[i];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		pend_drop(l, i, true);
		return;
	}
	size_t hl = gw_head_end(buf, (size_t) n);
	if (hl > 0) {
		hand_over(l, i, gw_head_is_ws_audio(buf, hl));
		return;
	}
	if ((size_t) n >= sizeof(buf)) {
		/* not a WebSocket upgrade lws would take (its heads are smaller):
		 * MHD answers it under its own bounds (414, 431) and closes */
		hand_over(l, i, false);
		return;
	}
	if (revents & (POLLRDHUP | POLLHUP | POLLERR)) {
		/* the peer stopped sending before its head was complete */
		pend_drop(l, i, true);
		return;
	}
	/* wake again only once more than this has come */
	int low = (int) n + 1;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof(low));
}

static void accept_some(gw_listen *l)
{
	for (int k = 0; k < ACCEPT_BURST; k++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		char addr[64];
		addr_slot *slot;
		int fd = accept4(l->lfd, (struct sockaddr *) &sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* the listener stays readable: pause instead of spinning */
				pyc_log(PYC_LOG_WARN, "listen: accept: %s, pausing %d ms",
				    strerror(errno), ACCEPT_PAUSE_MS);
				poll(NULL, 0, ACCEPT_PAUSE_MS);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED) {
				pyc_log(PYC_LOG_WARN, "listen: accept: %s", strerror(errno));
			}
			return;
		}
		peer_text((struct sockaddr *) &sa, addr, sizeof(addr));
		if (l->npend >= l->cap || !count_take(l, addr, &slot)) {
			close(fd);
			continue;
		}
		pending *p = &l->pend[l->npend++];
		memset(p, 0, sizeof(*p));
		p->fd = fd;
		p->slot = slot;
		p->sa = sa;
		p->sa_len = len;
		p->deadline_us = gw_now_us() + (int64_t) l->cfg->http_timeout_s * 1000000;
	}
}

static void *listen_main(void *arg)
{
	gw_listen *l = arg;
	for (;;) {
		int64_t now = gw_now_us();
		int64_t next = now + (int64_t) POLL_MAX_MS * 1000;
		for (int i = 0; i < l->npend;) {
			if (l->pend[i].deadline_us <= now) {
				pyc_log(PYC_LOG_INFO, "listen: no complete request head within %d s, "
				    "closing", l->cfg->http_timeout_s);
				pend_drop(l, i, true);
				continue;
			}
			if (l->pend[i].deadline_us < next)
				next = l->pend[i].deadline_us;
			i++;
		}
		l->pfd[0] = (struct pollfd) {.fd = l->wake[0], .events = POLLIN};
		l->pfd[1] = (struct pollfd) {.fd = l->npend < l->cap ? l->lfd : -1, .events = POLLIN};
		for (int i = 0; i < l->npend; i++)
			l->pfd[2 + i] = (struct pollfd) {.fd = l->pend[i].fd, .events = POLLIN | POLLRDHUP};
		int n = l->npend;
		int ms = (int) ((next - now + 999) / 1000);
		int rc = poll(l->pfd, (nfds_t) (2 + n), ms < 1 ? 1 : ms);
		if (rc < 0 && errno != EINTR) {
			pyc_log(PYC_LOG_ERROR, "listen: poll: %s", strerror(errno));
			break;
		}
		if (rc <= 0)
			continue;
		if (l->pfd[0].revents != 0)
			break;
		/* back to front: pend_read and pend_drop move the last entry into
		 * the place of the one removed, which was already looked at */
		for (int i = n - 1; i >= 0; i--)
			if (l->pfd[2 + i].revents != 0)
				pend_read(l, i, l->pfd[2 + i].revents);
		if (l->pfd[1].revents != 0)
			accept_some(l);
	}
	return NULL;
}

/* ---- life ---- */

static int open_listener(const pyc_config *cfg)
{
	struct addrinfo hints, *ai = NULL;
	char port[16];
	int one = 1, fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", cfg->backend_port);
	if (getaddrinfo(cfg->bind_address[0] ? cfg->bind_address : NULL, port, &hints, &ai) != 0 ||
	    ai == NULL) {
		pyc_log(PYC_LOG_ERROR, "listen: BIND_ADDRESS=%s is not a numeric address",
		    cfg->bind_address);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0)
		goto fail;
	freeaddrinfo(ai);
	return fd;
fail:
	pyc_log(PYC_LOG_ERROR, "listen: cannot listen on %s:%d: %s", cfg->bind_address,
	    cfg->backend_port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

pyc_err gw_listen_create(gw_listen **out, const pyc_config *cfg, gw_ws *ws, gw_http *http)
{
	pyc_err e = PYC_ENOMEM;
	gw_listen *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return PYC_ENOMEM;
	l->cfg = cfg;
	l->ws = ws;
	l->http = http;
	l->lfd = l->wake[0] = l->wake[1] = -1;
	pthread_mutex_init(&l->mu, NULL);
	/* at most HTTP_MAX_CONNECTIONS are counted, so as many addresses */
	l->nslots = cfg->http_max_connections;
	l->cap = cfg->http_max_connections;
	l->slots = calloc((size_t) l->nslots, sizeof(*l->slots));
	l->pend = calloc((size_t) l->cap, sizeof(*l->pend));
	l->pfd = calloc((size_t) l->cap + 2, sizeof(*l->pfd));
	if (l->slots == NULL || l->pend == NULL || l->pfd == NULL)
		goto fail;
	e = PYC_EIO;
	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		goto fail;
	if ((l->lfd = open_listener(cfg)) < 0)
		goto fail;
	if (pthread_create(&l->thread, NULL, listen_main, l) != 0)
		goto fail;
	l->running = true;
	pyc_log(PYC_LOG_INFO, "listen: HTTP and WebSocket on %s:%d", cfg->bind_address,
	    cfg->backend_port);
	*out = l;
	return PYC_OK;
fail:
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->wake[0] >= 0) {
		close(l->wake[0]);
		close(l->wake[1]);
	}
	free(l->slots);
	free(l->pend);
	free(l->pfd);
	pthread_mutex_destroy(&l->mu);
	free(l);
	return e;
}

void gw_listen_stop(gw_listen *l)
{
	if (l == NULL || !l->running)
		return;
	ssize_t w = write(l->wake[1], "x", 1);
	(void) w;
	pthread_join(l->thread, NULL);
	l->running = false;
	close(l->lfd);
	l->lfd = -1;
	while (l->npend > 0)
		pend_drop(l, l->npend - 1, true);
}

void gw_listen_destroy(gw_listen *l)
{
	if (l == NULL)
		return;
	gw_listen_stop(l);
	if (l->lfd >= 0)
		close(l->lfd);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l->slots);
	free(l->pend);
	free(l->pfd);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
