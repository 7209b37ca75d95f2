/* gw_ws.c - the WebSocket endpoint on libwebsockets (gw_ws.h).
 *
 * NOTES: one protocol, the first in the list, so a browser that names no
 * subprotocol lands here. The upgrade is checked in
 * LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: the path must be /ws/audio, the
 * Origin (when there is one) must be in FRONTEND_URL, and the global and
 * per-address connection limits must allow it (the address is the peer's,
 * or X-Forwarded-For's when the peer is a trusted proxy). A missing or
 * malformed session id is not refused there: the earlier system accepted
 * the upgrade and closed with 4000, and clients rely on seeing that code.
 * A refusal is answered in LWS_CALLBACK_HTTP_CONFIRM_UPGRADE with an HTTP
 * status (404 path, 403 origin, 503 MAX_SESSIONS, 429 per address);
 * lws only hangs up on a refusal in FILTER_PROTOCOL_CONNECTION.
 * No extensions are offered (info.extensions stays NULL): PCM does not
 * compress and permessage-deflate is attack surface. Text frames (and
 * close reasons) must be UTF-8 (LWS_SERVER_OPTION_VALIDATE_UTF8: 1007 as
 * RFC 6455 8.1 asks), and a close frame with a 1-byte payload or a code
 * from 5000 on is answered with 1002 (peer_close), which lws does not do.
 *
 * Messages are reassembled from lws's pieces (frames, and a frame split
 * by the rx buffer) into a per-connection buffer that grows only after the
 * total (what we have + this piece + the rest of this frame) was checked
 * against WS_MAX_MESSAGE_BYTES; a message in one piece is handed over
 * without a copy.
 *
 * Idle clients are pinged by tick_cb (a ping with a payload, every third
 * of WS_IDLE_TIMEOUT_SECONDS, at most every GW_WS_PING_MAX_US); data or a
 * pong counts as a sign of life, and a connection without either for
 * WS_IDLE_TIMEOUT_SECONDS is closed with 1001. Outgoing data is written only in SERVER_WRITEABLE, one
 * message per callback, events first. Worker messages are written straight
 * from the nng message: the envelope header in front of the payload is at
 * least LWS_PRE bytes, which lws uses for the frame header.
 */
#include "gw_ws.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_metrics.h"
#include "gw_proto.h"
#include "pyc_id.h"
#include "pyc_log.h"

#define RX_BUFFER 16384

typedef struct outmsg {
	nng_msg *msg;  /* owner of data, or NULL */
	uint8_t *buf;  /* malloc'd owner of data (LWS_PRE in front), or NULL */
	uint8_t *data; /* payload with LWS_PRE writable bytes before it */
	size_t len;
} outmsg;

struct gw_conn {
	struct lws *wsi;
	gw_ws *ws;
	gw_session *s;
	gw_conn *next, *prev;
	char sid[PYC_SESSION_ID_MAX + 1];
	bool sid_ok;
	bool established;
	char addr[64];
	int64_t last_rx;
	int64_t last_ping;
	bool ping_due;

	uint8_t *rx;
	size_t rx_len, rx_cap;
	bool rx_active, rx_binary;
	int rx_frames;

	outmsg ev[GW_WS_EVENT_QUEUE];
	int ev_head, ev_len;
	outmsg meter, mon;
	int close_code;
	char close_reason[64];
	bool close_handed; /* lws is closing (close frame, then the client's answer) */
	bool paused;
};

struct gw_ws {
	const pyc_config *cfg;
	gw_sessions *reg;
	struct lws_context *ctx;
	lws_sorted_usec_list_t tick_sul;
	lws_retry_bo_t retry;
	gw_conn *conns;
	int n_conns;
	void (*wake_fn)(void *arg);
	void *wake_arg;

	/* sockets from the shared port (gw_ws_adopt), adopted on this thread */
	pthread_mutex_t adopt_mu;
	int adopt_q[GW_WS_ADOPT_QUEUE];
	int adopt_head, adopt_len;
};

typedef struct pss {
	gw_conn *c;
} pss;

static void out_free(outmsg *o)
{
	if (o->msg != NULL)
		nng_msg_free(o->msg);
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

/* Makes an outmsg from a worker message, copying only if the header room
 * in front of the payload is smaller than LWS_PRE. */
static bool out_from_msg(outmsg *o, nng_msg *msg, const uint8_t *data, size_t len)
{
	const uint8_t *body = nng_msg_body(msg);
	memset(o, 0, sizeof(*o));
	if (data >= body + LWS_PRE) {
		o->msg = msg;
		o->data = (uint8_t *) data;
		o->len = len;
		return true;
	}
	o->buf = malloc(LWS_PRE + len + 1);
	if (o->buf == NULL) {
		nng_msg_free(msg);
		return false;
	}
	memcpy(o->buf + LWS_PRE, data, len);
	o->data = o->buf + LWS_PRE;
	o->len = len;
	nng_msg_free(msg);
	return true;
}

static int conn_count_addr(gw_ws *ws, const char *addr)
{
	int n = 0;
	for (gw_conn *c = ws->conns; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			n++;
	return n;
}

static void conn_free(gw_conn *c)
{
	gw_ws *ws = c->ws;
	if (c->s != NULL) {
		gw_sessions_detach(ws->reg, c->s, c);
		c->s = NULL;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ws->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ws->n_conns--;
	atomic_store_explicit(&gw_stats.connections, ws->n_conns, memory_order_relaxed);
	while (c->ev_len > 0) {
		out_free(&c->ev[c->ev_head]);
		c->ev_head = (c->ev_head + 1) % GW_WS_EVENT_QUEUE;
		c->ev_len--;
	}
	out_free(&c->meter);
	out_free(&c->mon);
	free(c->rx);
	free(c);
}

static void want_write(gw_conn *c)
{
	if (c->wsi != NULL && c->established)
		lws_callback_on_writable(c->wsi);
}

void gw_conn_close(gw_conn *c, int code, const char *reason)
{
	if (c->close_code != 0)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
	if (c->paused) {
		/* a paused connection must still get to its close */
		lws_rx_flow_control(c->wsi, 1);
		c->paused = false;
	}
	want_write(c);
}

void gw_conn_session_lost(gw_conn *c)
{
	c->s = NULL;
}

void gw_conn_rx_pause(gw_conn *c, bool pause)
{
	if (c->paused == pause || c->close_code != 0)
		return;
	c->paused = pause;
	lws_rx_flow_control(c->wsi, pause ? 0 : 1);
}

static pyc_err push_event(gw_conn *c, outmsg *o)
{
	if (c->close_code != 0) {
		out_free(o);
		return PYC_ECLOSED;
	}
	if (c->ev_len == GW_WS_EVENT_QUEUE) {
		pyc_log(PYC_LOG_WARN, "session %s: client does not read its events, closing",
		    c->sid);
		out_free(o);
		gw_conn_close(c, 1008, "events not read");
		return PYC_EAGAIN;
	}
	c->ev[(c->ev_head + c->ev_len) % GW_WS_EVENT_QUEUE] = *o;
	c->ev_len++;
	want_write(c);
	return PYC_OK;
}

pyc_err gw_conn_send_event(gw_conn *c, const char *json, size_t len)
{
	outmsg o = {0};
	o.buf = malloc(LWS_PRE + len + 1);
	if (o.buf == NULL)
		return PYC_ENOMEM;
	memcpy(o.buf + LWS_PRE, json, len);
	o.data = o.buf + LWS_PRE;
	o.len = len;
	return push_event(c, &o);
}

pyc_err gw_conn_send_event_msg(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len)
{
	outmsg o;
	if (!out_from_msg(&o, msg, data, len))
		return PYC_ENOMEM;
	return push_event(c, &o);
}

void gw_conn_send_meter(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len)
{
	if (c->close_code != 0) {
		nng_msg_free(msg);
		return;
	}
	if (c->meter.data != NULL) {
		out_free(&c->meter);
		atomic_fetch_add_explicit(&gw_stats.meters_dropped, 1, memory_order_relaxed);
	}
	if (out_from_msg(&c->meter, msg, data, len))
		want_write(c);
}

void gw_conn_send_monitor(gw_conn *c, nng_msg *msg, const uint8_t *data, size_t len)
{
	if (c->close_code != 0) {
		nng_msg_free(msg);
		return;
	}
	if (c->mon.data != NULL) {
		out_free(&c->mon);
		atomic_fetch_add_explicit(&gw_stats.monitor_dropped, 1, memory_order_relaxed);
	}
	if (out_from_msg(&c->mon, msg, data, len))
		want_write(c);
}

/* ---- the upgrade ---- */

static bool query_session_id(struct lws *wsi, char *out, size_t cap)
{
	char buf[300];
	for (int i = 0; i < 64; i++) {
		int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
		if (fl <= 0)
			break;
		if (fl >= (int) sizeof(buf))
			continue; /* too long to be a valid id, whatever it is */
		if (lws_hdr_copy_fragment(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
			continue;
		if (strncmp(buf, "session_id=", 11) == 0) {
			size_t l = strlen(buf + 11);
			if (!pyc_session_id_valid(buf + 11, l) || l >= cap)
				return false;
			memcpy(out, buf + 11, l + 1);
			return true;
		}
	}
	return false;
}

/* Why an upgrade is refused, as the HTTP status to answer with (0: it is
 * not); the client's address goes to addr. Logs the refusal when log. */
static int upgrade_refusal(gw_ws *ws, struct lws *wsi, char *addr, size_t cap, bool log)
{
	char uri[256] = "", origin[512] = "", peer[128] = "", xff[512] = "";

	addr[0] = '\0';
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int) sizeof(uri) ||
	    lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
	    (strcmp(uri, "/ws/audio") != 0 && strcmp(uri, "/ws/audio/") != 0)) {
		if (log)
			pyc_log(PYC_LOG_INFO, "ws: upgrade refused: path %.80s", uri);
		return HTTP_STATUS_NOT_FOUND;
	}
	int ol = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
	if (ol > 0) {
		if (ol >= (int) sizeof(origin) ||
		    lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0 ||
		    !gw_proto_origin_allowed(ws->cfg->frontend_url, origin)) {
			if (log)
				pyc_log(PYC_LOG_WARN, "ws: upgrade refused: origin %.120s not allowed",
				    origin);
			return HTTP_STATUS_FORBIDDEN;
		}
	}
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	if (lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0 &&
	    lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) < (int) sizeof(xff))
		lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR);
	gw_proto_client_addr(peer, xff, ws->cfg->trusted_proxies, addr, cap);
	if (ws->n_conns >= ws->cfg->max_sessions) {
		if (log)
			pyc_log(PYC_LOG_WARN, "ws: upgrade refused: %d connections (MAX_SESSIONS)",
			    ws->n_conns);
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	}
	if (conn_count_addr(ws, addr) >= ws->cfg->max_sessions_per_ip) {
		if (log)
			pyc_log(PYC_LOG_WARN, "ws: upgrade refused: %s has %d connections "
			    "(MAX_SESSIONS_PER_IP)", addr, ws->cfg->max_sessions_per_ip);
		return GW_HTTP_TOO_MANY_REQUESTS;
	}
	return 0;
}

/* The upgrade is answered with an HTTP error here, where lws still lets
 * us write one (a refusal in FILTER_PROTOCOL_CONNECTION only hangs up). */
static int confirm_upgrade(gw_ws *ws, struct lws *wsi, const char *to)
{
	char addr[64];
	if (to == NULL || strcmp(to, "websocket") != 0)
		return 0;
	int status = upgrade_refusal(ws, wsi, addr, sizeof(addr), true);
	if (status == 0)
		return 0;
	if (lws_return_http_status(wsi, (unsigned int) status, NULL) != 0)
		return -1;
	return 1;
}

static int filter_connection(gw_ws *ws, struct lws *wsi, pss *p)
{
	char addr[64];

	/* checked again: nothing can have changed since confirm_upgrade in
	 * this single-threaded loop, but this is where the connection is
	 * counted */
	if (upgrade_refusal(ws, wsi, addr, sizeof(addr), false) != 0)
		return 1;
	gw_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return 1;
	c->ws = ws;
	c->wsi = wsi;
	c->sid_ok = query_session_id(wsi, c->sid, sizeof(c->sid));
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->last_rx = c->last_ping = gw_now_us();
	c->next = ws->conns;
	if (ws->conns != NULL)
		ws->conns->prev = c;
	ws->conns = c;
	ws->n_conns++;
	atomic_store_explicit(&gw_stats.connections, ws->n_conns, memory_order_relaxed);
	p->c = c;
	return 0;
}

/* ---- receiving ---- */

static void deliver(gw_conn *c, const uint8_t *data, size_t len, bool binary)
{
	if (c->s == NULL || c->close_code != 0)
		return;
	if (binary)
		gw_sessions_audio(c->ws->reg, c->s, data, len);
	else
		gw_sessions_text(c->ws->reg, c->s, (const char *) data, len);
}

/* Closes with 1009 through gw_conn_close, the one path of every close of
 * ours (on_writeable hands it to lws once). Until the close frame is out
 * the rest of the message is ignored (on_receive), never stored. */
static int too_big(gw_conn *c, const char *why)
{
	pyc_log(PYC_LOG_WARN, "session %s: %s, closing with 1009", c->sid, why);
	gw_metrics_error(GW_E_MESSAGE_TOO_BIG);
	gw_conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
	return 0;
}

static int on_receive(gw_conn *c, struct lws *wsi, const uint8_t *in, size_t len)
{
	size_t max = (size_t) c->ws->cfg->ws_max_message;
	size_t remaining = lws_remaining_packet_payload(wsi);
	bool final = lws_is_final_fragment(wsi);

	c->last_rx = gw_now_us();
	if (c->close_code != 0)
		return 0;
	if (!c->rx_active) {
		c->rx_active = true;
		c->rx_binary = lws_frame_is_binary(wsi);
		c->rx_frames = 0;
		c->rx_len = 0;
	}
	if (c->rx_len + len + remaining > max)
		return too_big(c, "message over WS_MAX_MESSAGE_BYTES");
	if (remaining == 0 && ++c->rx_frames > GW_WS_MAX_FRAGMENTS)
		return too_big(c, "message in too many fragments");
	if (final && c->rx_len == 0) {
		c->rx_active = false;
		deliver(c, in, len, c->rx_binary);
		return 0;
	}
	size_t need = c->rx_len + len + remaining;
	if (need > c->rx_cap) {
		size_t nc = c->rx_cap ? c->rx_cap : 4096;
		while (nc < need)
			nc *= 2;
		if (nc > max)
			nc = max;
		uint8_t *p = realloc(c->rx, nc);
		if (p == NULL) {
			pyc_log(PYC_LOG_ERROR, "session %s: out of memory reassembling", c->sid);
			return -1;
		}
		c->rx = p;
		c->rx_cap = nc;
	}
	if (len > 0) /* an empty first fragment: no buffer yet (c->rx NULL) */
		memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (final) {
		c->rx_active = false;
		deliver(c, c->rx, c->rx_len, c->rx_binary);
		c->rx_len = 0;
		if (c->rx_cap > 4 * RX_BUFFER) {
			/* do not keep a large buffer for a connection that sent
			 * one large message */
			free(c->rx);
			c->rx = NULL;
			c->rx_cap = 0;
		}
	}
	return 0;
}

/* A client's close frame: lws answers 0..999, 1004..1006 and 1016..2999
 * with 1002 itself, but echoes a 1-byte payload and codes from 5000 on,
 * which RFC 6455 (7.4) does not allow either. */
static int peer_close(struct lws *wsi, const uint8_t *in, size_t len)
{
	static const char reason[] = "bad close frame";
	if (len == 1 || (len >= 2 && ((in[0] << 8) | in[1]) >= 5000)) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, (unsigned char *) reason,
		    sizeof(reason) - 1);
		return -1;
	}
	return 0;
}

/* ---- writing ---- */

static int on_writeable(gw_conn *c, struct lws *wsi)
{
	outmsg *o = NULL;
	bool binary = false;

	if (c->close_code != 0) {
		/* Once: lws sends the close frame and waits for the client's
		 * answer, reading and dropping what comes before it. Asked to
		 * close again meanwhile (a writeable callback still due), lws
		 * 4.1.6 drops the connection at once, and a client still sending
		 * then gets a reset that can lose it the close frame. */
		if (c->close_handed)
			return 0;
		c->close_handed = true;
		lws_close_reason(wsi, (enum lws_close_status) c->close_code,
		    (unsigned char *) c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if (c->ping_due) {
		/* a ping with a payload: lws 4.1 does not hand an empty pong to
		 * the callback, and the pong is how an idle client shows it is
		 * there */
		uint8_t ping[LWS_PRE + 8];
		memcpy(ping + LWS_PRE, "pyc-ping", 8);
		c->ping_due = false;
		if (lws_write(wsi, ping + LWS_PRE, 8, LWS_WRITE_PING) < 0)
			return -1;
		if (c->ev_len > 0 || c->meter.data != NULL || c->mon.data != NULL)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (c->ev_len > 0) {
		o = &c->ev[c->ev_head];
	} else if (c->meter.data != NULL) {
		o = &c->meter;
	} else if (c->mon.data != NULL) {
		o = &c->mon;
		binary = true;
	}
	if (o == NULL)
		return 0;
	int n = lws_write(wsi, o->data, o->len, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	if (o == &c->meter)
		atomic_fetch_add_explicit(&gw_stats.meters, 1, memory_order_relaxed);
	out_free(o);
	if (o == &c->ev[c->ev_head]) {
		c->ev_head = (c->ev_head + 1) % GW_WS_EVENT_QUEUE;
		c->ev_len--;
	}
	if (n < 0)
		return -1;
	if (c->ev_len > 0 || c->meter.data != NULL || c->mon.data != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

/* ---- sockets from the shared port ---- */

void gw_ws_adopt(gw_ws *ws, int fd)
{
	bool queued = false;
	pthread_mutex_lock(&ws->adopt_mu);
	if (ws->adopt_len < GW_WS_ADOPT_QUEUE) {
		ws->adopt_q[(ws->adopt_head + ws->adopt_len) % GW_WS_ADOPT_QUEUE] = fd;
		ws->adopt_len++;
		queued = true;
	}
	pthread_mutex_unlock(&ws->adopt_mu);
	if (!queued) {
		pyc_log(PYC_LOG_WARN, "ws: %d upgrades waiting to be adopted, closing one",
		    GW_WS_ADOPT_QUEUE);
		close(fd);
		return;
	}
	lws_cancel_service(ws->ctx);
}

/* On the lws thread: lws takes each queued socket as if it had accepted
 * it (its head is still unread in the kernel). */
static void adopt_queued(gw_ws *ws)
{
	struct lws_vhost *vh = lws_get_vhost_by_name(ws->ctx, "pycoustics");
	for (;;) {
		int fd;
		pthread_mutex_lock(&ws->adopt_mu);
		if (ws->adopt_len == 0) {
			pthread_mutex_unlock(&ws->adopt_mu);
			return;
		}
		fd = ws->adopt_q[ws->adopt_head];
		ws->adopt_head = (ws->adopt_head + 1) % GW_WS_ADOPT_QUEUE;
		ws->adopt_len--;
		pthread_mutex_unlock(&ws->adopt_mu);
		/* on failure lws has closed the socket */
		if (vh == NULL || lws_adopt_socket_vhost(vh, fd) == NULL) {
			pyc_log(PYC_LOG_WARN, "ws: cannot adopt a connection");
			if (vh == NULL)
				close(fd);
		}
	}
}

/* ---- timers ---- */

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	gw_ws *ws = lws_container_of(sul, gw_ws, tick_sul);
	int64_t now = gw_now_us();
	int64_t idle = (int64_t) ws->cfg->ws_idle_timeout_s * 1000000;
	int64_t ping_every = idle / 3 < GW_WS_PING_MAX_US ? idle / 3 : GW_WS_PING_MAX_US;

	for (gw_conn *c = ws->conns; c != NULL; c = c->next) {
		if (!c->established || c->close_code != 0 || c->paused)
			continue;
		if (now - c->last_rx > idle) {
			pyc_log(PYC_LOG_INFO, "session %s: idle for %d s, closing", c->sid,
			    ws->cfg->ws_idle_timeout_s);
			gw_conn_close(c, 1001, "idle timeout");
		} else if (now - c->last_rx >= ping_every && now - c->last_ping >= ping_every) {
			c->last_ping = now;
			c->ping_due = true;
			want_write(c);
		}
	}
	gw_sessions_tick(ws->reg);
	adopt_queued(ws); /* in case a wake was missed */
	lws_sul_schedule(ws->ctx, 0, &ws->tick_sul, tick_cb, GW_TICK_US);
}

/* ---- the callback ---- */

static int callback_audio(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	gw_ws *ws = lws_context_user(lws_get_context(wsi));
	pss *p = user;
	gw_conn *c = p != NULL ? p->c : NULL;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* gw_ws_wake or gw_ws_adopt from another thread (lws broadcasts
		 * it to the protocol, no connection) */
		if (ws != NULL)
			adopt_queued(ws);
		if (ws != NULL && ws->wake_fn != NULL)
			ws->wake_fn(ws->wake_arg);
		return 0;

	case LWS_CALLBACK_HTTP:
		/* a plain HTTP request on the WebSocket port */
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
			return -1;
		return lws_http_transaction_completed(wsi);

	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(ws, wsi, in);

	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (p == NULL)
			return 1;
		return filter_connection(ws, wsi, p);

	case LWS_CALLBACK_ESTABLISHED:
		if (c == NULL)
			return -1;
		c->established = true;
		if (!c->sid_ok) {
			pyc_log(PYC_LOG_INFO, "ws: connection without a valid session_id, closing 4000");
			gw_conn_close(c, 4000, "session_id missing or malformed");
			return 0;
		}
		c->s = gw_sessions_attach(ws->reg, c->sid, c);
		if (c->s == NULL)
			gw_conn_close(c, 1013, "too many sessions");
		return 0;

	case LWS_CALLBACK_RECEIVE:
		if (c == NULL)
			return -1;
		return on_receive(c, wsi, in, len);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		return peer_close(wsi, in, len);

	case LWS_CALLBACK_RECEIVE_PONG:
		if (c != NULL)
			c->last_rx = gw_now_us();
		return 0;

	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c == NULL)
			return -1;
		return on_writeable(c, wsi);

	case LWS_CALLBACK_CLOSED:
		if (c != NULL && c->s != NULL) {
			gw_sessions_detach(ws->reg, c->s, c);
			c->s = NULL;
		}
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		if (c != NULL) {
			p->c = NULL;
			conn_free(c);
		}
		return 0;

	default:
		return 0;
	}
}

/* ---- waking from other threads ---- */

void gw_ws_set_wake(gw_ws *ws, void (*fn)(void *arg), void *arg)
{
	ws->wake_fn = fn;
	ws->wake_arg = arg;
}

void gw_ws_wake(gw_ws *ws)
{
	lws_cancel_service(ws->ctx);
}

static struct lws_protocols protocols[] = {
	{"pycoustics-audio", callback_audio, sizeof(pss), RX_BUFFER, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	pyc_log(level == LLL_ERR ? PYC_LOG_ERROR : PYC_LOG_WARN, "lws: %.*s", (int) n, line);
}

pyc_err gw_ws_create(gw_ws **out, const pyc_config *cfg, gw_sessions *reg)
{
	struct lws_context_creation_info info;
	gw_ws *ws = calloc(1, sizeof(*ws));

	if (ws == NULL)
		return PYC_ENOMEM;
	ws->cfg = cfg;
	ws->reg = reg;
	pthread_mutex_init(&ws->adopt_mu, NULL);
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

	/* the pings and the idle timeout are ours (tick_cb); lws's own
	 * validity pings would be empty, and lws 4.1 does not report an empty
	 * pong, so they are off */
	ws->retry.secs_since_valid_ping = 65535;
	ws->retry.secs_since_valid_hangup = 65535;

	memset(&info, 0, sizeof(info));
	/* connections come from the shared port (gw_ws_adopt); WS_PORT, when
	 * set, is an extra listener of lws's own */
	info.port = cfg->ws_port > 0 ? cfg->ws_port : CONTEXT_PORT_NO_LISTEN_SERVER;
	info.iface = strcmp(cfg->bind_address, "0.0.0.0") == 0 ||
		cfg->bind_address[0] == '\0' ? NULL : cfg->bind_address;
	info.protocols = protocols;
	info.extensions = NULL;
	info.user = ws;
	info.vhost_name = "pycoustics";
	info.server_string = "pycoustics";
	info.timeout_secs = 10;
	info.pt_serv_buf_size = 32768;
	info.retry_and_idle_policy = &ws->retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_DISABLE_IPV6 * (info.iface != NULL &&
	    strchr(info.iface, ':') == NULL && info.iface[0] != '\0' ? 1 : 0);
	ws->ctx = lws_create_context(&info);
	if (ws->ctx == NULL) {
		pyc_log(PYC_LOG_ERROR, "ws: cannot start libwebsockets (WS_PORT=%d)", cfg->ws_port);
		pthread_mutex_destroy(&ws->adopt_mu);
		free(ws);
		return PYC_EIO;
	}
	lws_sul_schedule(ws->ctx, 0, &ws->tick_sul, tick_cb, GW_TICK_US);
	if (cfg->ws_port > 0)
		pyc_log(PYC_LOG_INFO, "ws: also listening on %s:%d (WS_PORT)", cfg->bind_address,
		    cfg->ws_port);
	pyc_log(PYC_LOG_INFO, "ws: ready (lws %s)", lws_get_library_version());
	*out = ws;
	return PYC_OK;
}

void gw_ws_destroy(gw_ws *ws)
{
	if (ws == NULL)
		return;
	lws_sul_cancel(&ws->tick_sul);
	lws_context_destroy(ws->ctx);
	while (ws->adopt_len > 0) {
		close(ws->adopt_q[ws->adopt_head]);
		ws->adopt_head = (ws->adopt_head + 1) % GW_WS_ADOPT_QUEUE;
		ws->adopt_len--;
	}
	pthread_mutex_destroy(&ws->adopt_mu);
	free(ws);
}

void gw_ws_service(gw_ws *ws)
{
	lws_service(ws->ctx, 0);
}

int gw_ws_connections(gw_ws *ws)
{
	return ws->n_conns;
}
