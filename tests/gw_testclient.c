/* gw_testclient.c - WebSocket (lws client) and HTTP clients for the
 * whole-system tests (gw_testclient.h).
 *
 * NOTES: outgoing messages wait in a list and are written one per
 * LWS_CALLBACK_CLIENT_WRITEABLE, each with LWS_PRE bytes in front; a
 * fragmented message is a run of list entries with the continuation and
 * no-FIN flags. Received pieces are joined until lws says the message is
 * final.
 */
#include "gw_testclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

typedef struct out {
	struct out *next;
	unsigned char *buf; /* LWS_PRE + len */
	size_t len;
	int flags;
} out;

typedef struct in {
	struct in *next;
	char *data;
	size_t len;
	bool binary;
} in;

struct gw_tc {
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	bool established, closed, failed;
	int close_code;
	out *oh, *ot;
	in *ih, *it;
	char *rx;
	size_t rx_len, rx_cap;
	int n_text;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_in(gw_tc *c, const char *d, size_t n, bool binary)
{
	in *m = calloc(1, sizeof(*m));
	m->data = malloc(n + 1);
	memcpy(m->data, d, n);
	m->data[n] = '\0';
	m->len = n;
	m->binary = binary;
	if (c->it)
		c->it->next = m;
	else
		c->ih = m;
	c->it = m;
	if (!binary)
		c->n_text++;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *inp,
    size_t len)
{
	gw_tc *c = lws_get_opaque_user_data(wsi);
	(void) user;
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->established = true;
		if (c->oh)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		c->failed = true;
		c->closed = true;
		c->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE: {
		bool final = lws_is_final_fragment(wsi);
		bool binary = lws_frame_is_binary(wsi);
		if (c->rx_len + len > c->rx_cap) {
			c->rx_cap = (c->rx_len + len) * 2 + 1024;
			c->rx = realloc(c->rx, c->rx_cap);
		}
		memcpy(c->rx + c->rx_len, inp, len);
		c->rx_len += len;
		if (final) {
			push_in(c, c->rx, c->rx_len, binary);
			c->rx_len = 0;
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		out *o = c->oh;
		if (o == NULL)
			break;
		c->oh = o->next;
		if (c->oh == NULL)
			c->ot = NULL;
		int n = lws_write(wsi, o->buf + LWS_PRE, o->len, (enum lws_write_protocol) o->flags);
		free(o->buf);
		free(o);
		if (n < 0)
			return -1;
		if (c->oh)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *p = inp;
			c->close_code = (p[0] << 8) | p[1];
		} else {
			c->close_code = 1005;
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		c->closed = true;
		c->wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"tc", cb, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void nop(lws_sorted_usec_list_t *s)
{
	(void) s;
}

static void serve_once(gw_tc *c)
{
	lws_sul_schedule(c->ctx, 0, &c->sul, nop, 10 * LWS_US_PER_MS);
	lws_service(c->ctx, 0);
}

void gw_tc_service(gw_tc *c, int ms)
{
	long long end = now_ms() + ms;
	while (now_ms() < end)
		serve_once(c);
}

gw_tc *gw_tc_connect(int port, const char *path, const char *origin, int timeout_ms)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	gw_tc *c = calloc(1, sizeof(*c));

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t) -1;
	info.uid = (uid_t) -1;
	c->ctx = lws_create_context(&info);
	if (c->ctx == NULL) {
		free(c);
		return NULL;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = "127.0.0.1";
	ci.port = port;
	ci.path = path;
	ci.host = "127.0.0.1";
	/* lws 4.1's client writes "Origin: http://<origin>" */
	if (origin != NULL && strncmp(origin, "http://", 7) == 0)
		origin += 7;
	ci.origin = origin;
	ci.protocol = NULL;
	ci.local_protocol_name = "tc";
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;
	if (lws_client_connect_via_info(&ci) == NULL) {
		gw_tc_destroy(c);
		return NULL;
	}
	long long end = now_ms() + timeout_ms;
	while (!c->established && !c->closed && now_ms() < end)
		serve_once(c);
	if (!c->established) {
		gw_tc_destroy(c);
		return NULL;
	}
	return c;
}

gw_tc *gw_tc_open(int port, const char *sid, int timeout_ms)
{
	char path[512];
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", sid);
	return gw_tc_connect(port, path, NULL, timeout_ms);
}

static void enqueue(gw_tc *c, const void *d, size_t n, int flags)
{
	out *o = calloc(1, sizeof(*o));
	o->buf = malloc(LWS_PRE + n + 1);
	if (n > 0)
		memcpy(o->buf + LWS_PRE, d, n);
	o->len = n;
	o->flags = flags;
	if (c->ot)
		c->ot->next = o;
	else
		c->oh = o;
	c->ot = o;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static int flush_out(gw_tc *c, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (c->oh != NULL && !c->closed && now_ms() < end)
		serve_once(c);
	return c->oh == NULL ? 0 : -1;
}

int gw_tc_send_text(gw_tc *c, const char *text)
{
	enqueue(c, text, strlen(text), LWS_WRITE_TEXT);
	return flush_out(c, 5000);
}

int gw_tc_send_binary(gw_tc *c, const void *data, size_t len)
{
	enqueue(c, data, len, LWS_WRITE_BINARY);
	return flush_out(c, 5000);
}

int gw_tc_queue_binary(gw_tc *c, const void *data, size_t len)
{
	enqueue(c, data, len, LWS_WRITE_BINARY);
	return 0;
}

int gw_tc_queue_text(gw_tc *c, const char *text)
{
	enqueue(c, text, strlen(text), LWS_WRITE_TEXT);
	return 0;
}

int gw_tc_send_fragmented(gw_tc *c, bool binary, const void *data, size_t len, size_t frag)
{
	const char *p = data;
	size_t off = 0;
	bool first = true;
	do {
		size_t n = len - off < frag ? len - off : frag;
		bool last = off + n >= len;
		int flags = first ? (binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) : LWS_WRITE_CONTINUATION;
		if (!last)
			flags |= LWS_WRITE_NO_FIN;
		enqueue(c, p + off, n, flags);
		off += n;
		first = false;
	} while (off < len);
	return flush_out(c, 10000);
}

static in *take(gw_tc *c, bool binary)
{
	in **pp = &c->ih, *prev = NULL;
	while (*pp != NULL) {
		in *m = *pp;
		if (m->binary == binary) {
			*pp = m->next;
			if (c->it == m)
				c->it = prev;
			if (!binary)
				c->n_text--;
			return m;
		}
		prev = m;
		pp = &m->next;
	}
	return NULL;
}

char *gw_tc_recv_text(gw_tc *c, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	for (;;) {
		in *m = take(c, false);
		if (m != NULL) {
			char *d = m->data;
			free(m);
			return d;
		}
		if (c->closed || now_ms() >= end)
			return NULL;
		serve_once(c);
	}
}

char *gw_tc_recv_match(gw_tc *c, const char *needle, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	for (;;) {
		long long left = end - now_ms();
		if (left <= 0)
			return NULL;
		char *t = gw_tc_recv_text(c, (int) left);
		if (t == NULL)
			return NULL;
		if (strstr(t, needle) != NULL)
			return t;
		if (strstr(t, "\"error\"") != NULL)
			fprintf(stderr, "gw_tc: while waiting for %s: %s\n", needle, t);
		free(t);
	}
}

void *gw_tc_recv_binary(gw_tc *c, size_t *len, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	for (;;) {
		in *m = take(c, true);
		if (m != NULL) {
			void *d = m->data;
			*len = m->len;
			free(m);
			return d;
		}
		if (c->closed || now_ms() >= end)
			return NULL;
		serve_once(c);
	}
}

void gw_tc_discard(gw_tc *c)
{
	while (c->ih != NULL) {
		in *m = c->ih;
		c->ih = m->next;
		free(m->data);
		free(m);
	}
	c->it = NULL;
	c->n_text = 0;
}

int gw_tc_pending(gw_tc *c)
{
	return c->n_text;
}

int gw_tc_wait_close(gw_tc *c, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (!c->closed && now_ms() < end)
		serve_once(c);
	if (!c->closed)
		return -1;
	return c->close_code ? c->close_code : 1006;
}

bool gw_tc_closed(gw_tc *c)
{
	return c->closed;
}

void gw_tc_destroy(gw_tc *c)
{
	if (c == NULL)
		return;
	if (c->ctx)
		lws_context_destroy(c->ctx);
	while (c->oh) {
		out *o = c->oh;
		c->oh = o->next;
		free(o->buf);
		free(o);
	}
	gw_tc_discard(c);
	free(c->rx);
	free(c);
}

/* ---- HTTP ---- */

int gw_tcp_connect(int port)
{
	struct sockaddr_in a;
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads what arrives within ms into buf (appending at *n); returns the
 * recv result of the last read: >0 data, 0 closed, -1 nothing (timeout)
 * or reset. */
static ssize_t read_some(int fd, char *buf, size_t cap, size_t *n, int ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	if (poll(&pfd, 1, ms) <= 0) {
		errno = EAGAIN;
		return -1;
	}
	ssize_t k = recv(fd, buf + *n, cap - *n, MSG_DONTWAIT);
	if (k > 0)
		*n += (size_t) k;
	return k;
}

int gw_ws_raw_upgrade(int port, const char *path, const char *extra, int *status, char *head,
    size_t cap, int timeout_ms)
{
	char req[4096];
	size_t n = 0;
	long long end = now_ms() + timeout_ms;
	int fd = gw_tcp_connect(port);

	*status = 0;
	head[0] = '\0';
	if (fd < 0)
		return -1;
	int len = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n%s\r\n", path, port, extra ? extra : "");
	if (send(fd, req, (size_t) len, MSG_NOSIGNAL) != len) {
		close(fd);
		return -1;
	}
	/* read byte by byte up to the blank line, so the frames after the
	 * header block stay in the socket for gw_ws_raw_wait_close */
	while (n + 1 < cap && now_ms() < end) {
		ssize_t k = read_some(fd, head, n + 1, &n, (int) (end - now_ms()));
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			break;
		head[n] = '\0';
		if (n >= 4 && strcmp(head + n - 4, "\r\n\r\n") == 0)
			break;
	}
	head[n] = '\0';
	if (sscanf(head, "HTTP/1.%*d %d", status) != 1)
		*status = 0;
	return fd;
}

int gw_ws_raw_wait_close(int fd, int timeout_ms)
{
	static char buf[65536];
	size_t n = 0;
	long long end = now_ms() + timeout_ms;

	for (;;) {
		/* whole frames at the front of buf: skip all but a close */
		while (n >= 2) {
			const unsigned char *p = (const unsigned char *) buf;
			size_t hl = 2, pl = p[1] & 0x7f;
			if (pl == 126) {
				if (n < 4)
					break;
				hl = 4;
				pl = (size_t) p[2] << 8 | p[3];
			} else if (pl == 127) {
				if (n < 10)
					break;
				hl = 10;
				pl = 0;
				for (int i = 2; i < 10; i++)
					pl = pl << 8 | p[i];
			}
			if (p[1] & 0x80)
				hl += 4; /* a server never masks, but be safe */
			if ((p[0] & 0x0f) == 0x8 && n >= hl + 2)
				return p[hl] << 8 | p[hl + 1];
			if ((p[0] & 0x0f) == 0x8 && n >= hl && pl == 0)
				return 1005;
			if (hl + pl > sizeof(buf)) {
				/* too big to hold: drop what we have of it */
				n = 0;
				break;
			}
			if (n < hl + pl)
				break;
			memmove(buf, buf + hl + pl, n - hl - pl);
			n -= hl + pl;
		}
		long long left = end - now_ms();
		if (left <= 0)
			return -1;
		ssize_t k = read_some(fd, buf, sizeof(buf), &n, (int) left);
		if (k == 0)
			return 1006;
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return 1006;
	}
}

int gw_ws_raw_send_text(int fd, const char *text)
{
	unsigned char f[14 + 1024];
	size_t n = strlen(text), h = 2;
	if (n > 1024)
		return -1;
	f[0] = 0x81;
	if (n < 126) {
		f[1] = (unsigned char) (0x80 | n);
	} else {
		f[1] = 0x80 | 126;
		f[2] = (unsigned char) (n >> 8);
		f[3] = (unsigned char) n;
		h = 4;
	}
	memset(f + h, 0, 4); /* a zero mask leaves the payload as it is */
	memcpy(f + h + 4, text, n);
	return send(fd, f, h + 4 + n, MSG_NOSIGNAL) == (ssize_t) (h + 4 + n) ? 0 : -1;
}

bool gw_tcp_wait_eof(int fd, int timeout_ms)
{
	char buf[4096];
	long long end = now_ms() + timeout_ms;
	for (;;) {
		size_t n = 0;
		long long left = end - now_ms();
		if (left <= 0)
			return false;
		ssize_t k = read_some(fd, buf, sizeof(buf), &n, (int) left);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
}

int gw_http_raw(int port, const char *request, size_t len, gw_http_resp *r)
{
	int fd = gw_tcp_connect(port);
	size_t cap = 65536, n = 0;
	char *buf;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, request + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t) w;
	}
	buf = malloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t k = recv(fd, buf + n, cap - n, 0);
		if (k <= 0)
			break;
		n += (size_t) k;
	}
	close(fd);
	buf[n] = '\0';
	char *eoh = strstr(buf, "\r\n\r\n");
	if (eoh == NULL || sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		free(buf);
		return -1;
	}
	size_t hl = (size_t) (eoh - buf) + 2;
	r->headers = malloc(hl + 1);
	memcpy(r->headers, buf, hl);
	r->headers[hl] = '\0';
	r->body_len = n - (hl + 2);
	r->body = malloc(r->body_len + 1);
	memcpy(r->body, eoh + 4, r->body_len);
	r->body[r->body_len] = '\0';
	free(buf);
	return 0;
}

int gw_http(int port, const char *method, const char *path, const char *extra,
    gw_http_resp *r)
{
	char req[8192];
	int n = snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s\r\n", method, path,
	    port, extra ? extra : "");
	return gw_http_raw(port, req, (size_t) n, r);
}

bool gw_http_header(const gw_http_resp *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = r->headers;
	while (p != NULL && *p) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		if ((size_t) (eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = (size_t) (eol - v);
			if (vl >= cap)
				vl = cap - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		p = eol + 2;
	}
	return false;
}

void gw_http_free(gw_http_resp *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(r[0]));
}
