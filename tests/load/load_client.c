/* load_client.c - many WebSocket sessions on one lws client context
 * (load_client.h).
 *
 * NOTES: like bench/bench_gateway.c, one lws context and one thread for
 * every session; a 1 ms-or-longer timer keeps lws_service from sleeping
 * past the next chunk's due time (lws 4.1 polls in whole milliseconds).
 * Meters are recognised by their first bytes and their seq read with
 * memmem, without a JSON parse, so 2 500 meters a second cost little;
 * every other text (ready, recording_saved, error) is parsed with cJSON.
 * An abrupt close shuts the socket down under lws, so the server sees the
 * TCP connection end without a close frame, as when a browser tab dies.
 */
#include "load_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

struct load_msg {
	load_msg *next;
	unsigned char *buf; /* LWS_PRE + len */
	size_t len;
	bool binary;
};

struct load_client {
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
	int port;
	load_sess *head;
	load_hist *hist;
};

int64_t load_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void load_hist_add(load_hist *h, uint64_t us)
{
	uint64_t b = us / LOAD_HIST_US;
	if (b >= LOAD_HIST_BINS)
		b = LOAD_HIST_BINS - 1;
	h->bin[b]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

double load_hist_q_us(const load_hist *h, double q)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t) (q * (double) h->n);
	uint64_t cum = 0;
	if (want < 1)
		want = 1;
	for (size_t i = 0; i < LOAD_HIST_BINS; i++) {
		cum += h->bin[i];
		if (cum >= want)
			return (double) ((i + 1) * LOAD_HIST_US);
	}
	return (double) h->max_us;
}

static void on_meter(load_sess *s, const char *in, size_t len)
{
	const char *p = memmem(in, len, "\"seq\":", 6);
	s->meters++;
	if (p == NULL)
		return;
	uint64_t seq = strtoull(p + 6, NULL, 10);
	if (seq > s->last_seq)
		s->last_seq = seq;
	if (s->cl->hist == NULL || seq <= s->base_seq)
		return;
	uint64_t n = seq - s->base_seq; /* chunk number on this connection */
	if (n <= s->chunks && n + LOAD_SEQ_RING > s->chunks)
		load_hist_add(s->cl->hist,
		    (uint64_t) (load_now_us() - s->sent_us[n % LOAD_SEQ_RING]));
}

static void on_event(load_sess *s, const char *in, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(in, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
	if (!cJSON_IsString(t)) {
		snprintf(s->last_error, sizeof(s->last_error), "unparsed: %.*s",
		    (int) (len > 200 ? 200 : len), in);
		s->errors++;
	} else if (strcmp(t->valuestring, "meter") == 0) {
		on_meter(s, in, len);
	} else if (strcmp(t->valuestring, "ready") == 0) {
		s->ready++;
	} else if (strcmp(t->valuestring, "recording_saved") == 0) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "filename");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "duration_seconds");
		int k = s->saved % LOAD_SAVED_RING;
		snprintf(s->saved_name[k], sizeof(s->saved_name[k]), "%s",
		    cJSON_IsString(f) ? f->valuestring : "");
		s->saved_duration[k] = cJSON_IsNumber(d) ? d->valuedouble : -1;
		s->saved++;
	} else if (strcmp(t->valuestring, "error") == 0) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
		s->errors++;
		if (cJSON_IsString(code) && strcmp(code->valuestring, "too_fast") == 0)
			s->too_fast++;
		snprintf(s->last_error, sizeof(s->last_error), "%.*s",
		    (int) (len > 250 ? 250 : len), in);
	}
	cJSON_Delete(j);
}

static void on_text(load_sess *s, const char *in, size_t len)
{
	if (len > 14 && memcmp(in, "{\"type\":\"meter", 14) == 0)
		on_meter(s, in, len);
	else
		on_event(s, in, len);
}

static void drop_queue(load_sess *s)
{
	while (s->oh != NULL) {
		load_msg *m = s->oh;
		s->oh = m->next;
		free(m->buf);
		free(m);
	}
	s->ot = NULL;
	s->queued = 0;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	load_sess *s = lws_get_opaque_user_data(wsi);
	(void) user;
	if (s == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		s->wsi = wsi;
		s->state = LOAD_OPEN;
		if (s->oh != NULL || s->want_close)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (lws_frame_is_binary(wsi))
			break;
		if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) {
			on_text(s, in, len);
			break;
		}
		if (s->rx_len + len > s->rx_cap) {
			size_t cap = (s->rx_len + len) * 2 + 1024;
			char *p = realloc(s->rx, cap);
			if (p == NULL)
				return -1;
			s->rx = p;
			s->rx_cap = cap;
		}
		memcpy(s->rx + s->rx_len, in, len);
		s->rx_len += len;
		if (lws_is_final_fragment(wsi)) {
			on_text(s, s->rx, s->rx_len);
			s->rx_len = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		load_msg *m = s->oh;
		if (m == NULL) {
			if (s->want_close) {
				lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
				return -1;
			}
			break;
		}
		s->oh = m->next;
		if (s->oh == NULL)
			s->ot = NULL;
		s->queued--;
		if (m->binary) {
			s->chunks++;
			s->sent_us[s->chunks % LOAD_SEQ_RING] = load_now_us();
		}
		int n = lws_write(wsi, m->buf + LWS_PRE, m->len,
		    m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		free(m->buf);
		free(m);
		if (n < 0)
			return -1;
		if (s->oh != NULL || s->want_close)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *p = in;
			s->close_code = p[0] << 8 | p[1];
		} else {
			s->close_code = 1005;
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		s->failed = true;
		/* fall through */
	case LWS_CALLBACK_CLIENT_CLOSED:
		s->state = LOAD_CLOSED;
		s->wsi = NULL;
		lws_set_opaque_user_data(wsi, NULL);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"load", cb, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

load_client *load_client_create(int port, int max_sessions)
{
	struct lws_context_creation_info info;
	load_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t) -1;
	info.uid = (uid_t) -1;
	info.fd_limit_per_thread = (unsigned) (max_sessions + 64);
	c->port = port;
	c->ctx = lws_create_context(&info);
	if (c->ctx == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void load_client_destroy(load_client *c)
{
	if (c == NULL)
		return;
	while (c->head != NULL)
		load_sess_free(c->head);
	lws_context_destroy(c->ctx);
	free(c);
}

void load_client_measure(load_client *c, load_hist *h)
{
	c->hist = h;
}

load_sess *load_sess_open(load_client *c, const char *sid, int idx, uint64_t base_seq)
{
	struct lws_client_connect_info ci;
	char path[200];
	load_sess *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cl = c;
	s->idx = idx;
	s->base_seq = base_seq;
	s->last_seq = base_seq;
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	snprintf(path, sizeof(path), "/ws/audio?session_id=%s", sid);
	s->next = c->head;
	if (c->head != NULL)
		c->head->prev = s;
	c->head = s;
	memset(&ci, 0, sizeof(ci));
	ci.context = c->ctx;
	ci.address = "127.0.0.1";
	ci.port = c->port;
	ci.path = path;
	ci.host = "127.0.0.1";
	ci.local_protocol_name = "load";
	ci.opaque_user_data = s;
	ci.pwsi = &s->wsi;
	if (lws_client_connect_via_info(&ci) == NULL) {
		s->wsi = NULL;
		load_sess_free(s);
		return NULL;
	}
	return s;
}

static void shut(load_sess *s)
{
	if (s->wsi == NULL)
		return;
	int fd = (int) lws_get_socket_fd(s->wsi);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	/* lws notices on its next poll of the socket */
	lws_callback_on_writable(s->wsi);
}

void load_sess_free(load_sess *s)
{
	if (s == NULL)
		return;
	load_client *c = s->cl;
	if (s->wsi != NULL) {
		lws_set_opaque_user_data(s->wsi, NULL);
		shut(s);
		s->wsi = NULL;
	}
	drop_queue(s);
	free(s->rx);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		c->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s);
}

static int enqueue(load_sess *s, const void *data, size_t len, bool binary)
{
	if (s->state == LOAD_CLOSED)
		return -1;
	load_msg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -1;
	m->buf = malloc(LWS_PRE + len + 1);
	if (m->buf == NULL) {
		free(m);
		return -1;
	}
	if (len > 0)
		memcpy(m->buf + LWS_PRE, data, len);
	m->len = len;
	m->binary = binary;
	if (s->ot != NULL)
		s->ot->next = m;
	else
		s->oh = m;
	s->ot = m;
	s->queued++;
	if (s->wsi != NULL && s->state == LOAD_OPEN)
		lws_callback_on_writable(s->wsi);
	return 0;
}

int load_sess_text(load_sess *s, const char *text)
{
	return enqueue(s, text, strlen(text), false);
}

int load_sess_binary(load_sess *s, const void *data, size_t len)
{
	return enqueue(s, data, len, true);
}

int load_sess_signal(load_sess *s, uint32_t key, uint64_t first, int frames, int channels)
{
	int16_t *pcm = malloc((size_t) frames * (size_t) channels * sizeof(int16_t));
	if (pcm == NULL)
		return -1;
	for (int i = 0; i < frames; i++)
		for (int ch = 0; ch < channels; ch++)
			pcm[i * channels + ch] = load_sample(key, first + (uint64_t) i, ch);
	int rv = enqueue(s, pcm, (size_t) frames * (size_t) channels * sizeof(int16_t), true);
	free(pcm);
	return rv;
}

void load_sess_close(load_sess *s, bool clean)
{
	if (s->state == LOAD_CLOSED || s->wsi == NULL)
		return;
	if (clean && s->state == LOAD_OPEN) {
		s->want_close = true;
		lws_callback_on_writable(s->wsi);
	} else {
		drop_queue(s);
		shut(s);
	}
}

static void nop(lws_sorted_usec_list_t *sul)
{
	(void) sul;
}

void load_client_service(load_client *c, int64_t max_wait_us)
{
	if (max_wait_us < 1000)
		max_wait_us = 1000;
	lws_sul_schedule(c->ctx, 0, &c->sul, nop, max_wait_us);
	lws_service(c->ctx, 0);
}

void load_client_run(load_client *c, int ms)
{
	int64_t end = load_now_us() + (int64_t) ms * 1000;
	while (load_now_us() < end)
		load_client_service(c, 5000);
}

const char *load_sess_saved(const load_sess *s, int k)
{
	if (k < 0 || k >= s->saved || k <= s->saved - LOAD_SAVED_RING)
		return NULL;
	return s->saved_name[k % LOAD_SAVED_RING];
}
