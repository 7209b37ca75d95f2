/* gw_http.c - the HTTP API on libmicrohttpd (gw_http.h).
 *
 * NOTES: one thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a
 * handler may wait on the recorder (bounded by REQUEST_TIMEOUT_MS) without
 * holding up other clients; HTTP_MAX_CONNECTIONS bounds the threads. MHD
 * has no listening socket of its own (MHD_USE_NO_LISTEN_SOCKET): the
 * shared public port (gw_listen.c) hands it each connection whose head is
 * not a WebSocket upgrade, with MHD_add_connection, after counting it
 * against the connection limits. gw_http_adopt notes the connection's
 * socket; the connection-notify callback finds the note by the socket
 * when MHD starts the connection and keeps it as the connection's
 * context, and calls its release when MHD closes the connection.
 *
 * A request is answered when its last call arrives (after any body, which
 * no route takes: a body over 64 KiB gets 413, at once when Content-Length
 * says so, else once the body is read and dropped: libmicrohttpd cannot
 * queue an answer in the middle of an upload). URIs are unescaped as usual
 * except "%00", which stays as it is: a NUL would cut a name short, and
 * "/recordings/<name>.wav%00.txt" would reach <name>.wav. A request with two
 * Content-Length headers, or Content-Length with Transfer-Encoding, is
 * refused with 400 before its body is read (request smuggling).
 * Downloads ask the recorder for its size first (404 before any header is
 * sent), then stream through a reader callback in blocks of at most
 * PYC_READ_MAX, so a file is never held in memory. Unknown routes give
 * 404 {"detail":"Not Found"}, a known route with another method 405
 * {"detail":"Method Not Allowed"} with Allow, as FastAPI did.
 */
#include "gw_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include "gw_docs.h"
#include "gw_metrics.h"
#include "gw_proto.h"
#include "gw_route.h"
#include "pyc_id.h"
#include "pyc_log.h"
#include "pyc_wire.h"

#define MAX_BODY (64 * 1024)
#define DL_BLOCK (256 * 1024)

/* A connection handed over by gw_http_adopt, until MHD closes it. */
typedef struct adopted {
	int fd;
	void (*closed)(void *arg);
	void *arg;
	struct adopted *next;
} adopted;

struct gw_http {
	const pyc_config *cfg;
	gw_recorder *rec;
	struct MHD_Daemon *d;
	char *docs;
	size_t docs_len;
	pthread_mutex_t mu;
	adopted *starting; /* handed over, not yet started by MHD */
};

typedef struct req {
	size_t body;
	bool refused;
} req;

typedef struct dl {
	gw_http *h;
	char name[PYC_FILENAME_MAX + 1];
	uint64_t start, len;
} dl;

static const char PLACEHOLDER[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pycoustics</title>"
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    "code{background:#f1f3f5;padding:0 .25em}</style></head><body><h1>Pycoustics</h1>"
    "<p>The gateway is running. The dashboard will be served here once it is built "
    "(<code>frontend/dist</code>, or set <code>FRONTEND_DIR</code>).</p>"
    "<ul><li><a href=\"/docs\">API documentation</a> (<a href=\"/openapi.json\">OpenAPI</a>)</li>"
    "<li><a href=\"/health\">/health</a></li><li><a href=\"/metrics\">/metrics</a></li>"
    "<li>WebSocket: <code>/ws/audio?session_id=ID</code> on this port</li></ul>"
    "</body></html>\n";

/* ---- connections handed over ---- */

/* Unlinks the note of socket fd from the starting list; NULL if none.
 * Called with mu held. */
static adopted *starting_take(gw_http *h, int fd)
{
	for (adopted **pp = &h->starting; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			adopted *a = *pp;
			*pp = a->next;
			a->next = NULL;
			return a;
		}
	}
	return NULL;
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	gw_http *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL)
			return;
		pthread_mutex_lock(&h->mu);
		*socket_ctx = starting_take(h, ci->connect_fd);
		pthread_mutex_unlock(&h->mu);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_ctx != NULL) {
		adopted *a = *socket_ctx;
		*socket_ctx = NULL;
		a->closed(a->arg);
		free(a);
	}
}

pyc_err gw_http_adopt(gw_http *h, int fd, const struct sockaddr *sa, socklen_t len,
    void (*closed)(void *arg), void *arg)
{
	adopted *a = malloc(sizeof(*a));
	if (a == NULL) {
		close(fd);
		closed(arg);
		return PYC_ENOMEM;
	}
	a->fd = fd;
	a->closed = closed;
	a->arg = arg;
	pthread_mutex_lock(&h->mu);
	a->next = h->starting;
	h->starting = a;
	pthread_mutex_unlock(&h->mu);
	if (MHD_add_connection(h->d, fd, sa, len) == MHD_YES)
		return PYC_OK;
	/* MHD closed the socket; if it never started the connection, nothing
	 * will call back */
	pthread_mutex_lock(&h->mu);
	adopted *left = starting_take(h, fd);
	pthread_mutex_unlock(&h->mu);
	if (left != NULL) {
		left->closed(left->arg);
		free(left);
	}
	return PYC_EBUSY;
}

/* ---- unescaping ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "%HH" decoded in place, except "%00" (see NOTES). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	(void) cls;
	(void) c;
	for (const char *r = s; *r != '\0';) {
		int hi = r[0] == '%' ? hexval(r[1]) : -1;
		int lo = hi >= 0 ? hexval(r[2]) : -1;
		if (lo >= 0 && (hi | lo) != 0) {
			*w++ = (char) (hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t) (w - s);
}

/* ---- responses ---- */

static void add_cors(struct MHD_Connection *c, struct MHD_Response *r, gw_http *h)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	MHD_add_response_header(r, "Vary", "Origin");
	if (origin == NULL || !gw_proto_origin_allowed(h->cfg->frontend_url, origin))
		return;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
	MHD_add_response_header(r, "Access-Control-Expose-Headers",
	    "Content-Length, Content-Range, Content-Disposition, Accept-Ranges");
}

static enum MHD_Result queue(struct MHD_Connection *c, gw_http *h, unsigned status,
    struct MHD_Response *r)
{
	enum MHD_Result ret;
	if (r == NULL)
		return MHD_NO;
	add_cors(c, r, h);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	atomic_fetch_add_explicit(&gw_stats.http_requests, 1, memory_order_relaxed);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, gw_http *h, unsigned status,
    const char *ctype, const void *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	return queue(c, h, status, r);
}

static enum MHD_Result reply_json(struct MHD_Connection *c, gw_http *h, unsigned status,
    const char *json)
{
	return reply(c, h, status, "application/json", json, strlen(json));
}

static enum MHD_Result detail(struct MHD_Connection *c, gw_http *h, unsigned status,
    const char *text)
{
	char buf[512] = "{\"detail\":";
	size_t n = strlen(buf);
	size_t k = gw_proto_json_str(buf + n, sizeof(buf) - n - 2, text);
	if (k == 0)
		return reply_json(c, h, status, "{\"detail\":\"error\"}");
	n += k;
	buf[n++] = '}';
	buf[n] = '\0';
	return reply(c, h, status, "application/json", buf, n);
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, gw_http *h, const char *allow)
{
	static const char body[] = "{\"detail\":\"Method Not Allowed\"}";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *) body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Allow", allow);
	return queue(c, h, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}

static enum MHD_Result unavailable(struct MHD_Connection *c, gw_http *h, pyc_err e)
{
	pyc_log(PYC_LOG_WARN, "http: recorder request failed: %s", pyc_strerror(e));
	return detail(c, h, MHD_HTTP_SERVICE_UNAVAILABLE, "Recorder unavailable");
}

/* ---- routes ---- */

static enum MHD_Result route_health(struct MHD_Connection *c, gw_http *h)
{
	int t = h->cfg->request_timeout_ms < 1000 ? h->cfg->request_timeout_ms : 1000;
	bool rec_ok = gw_recorder_health(h->rec, t) == PYC_OK;
	long hosts = atomic_load(&gw_stats.hosts);
	long idle = atomic_load(&gw_stats.workers_idle);
	long busy = atomic_load(&gw_stats.workers_busy);
	bool ok = rec_ok && hosts > 0;
	char buf[512];
	snprintf(buf, sizeof(buf),
	    "{\"status\":\"%s\",\"workers\":{\"hosts\":%ld,\"idle\":%ld,\"busy\":%ld},"
	    "\"recorder\":\"%s\",\"sessions\":%ld,\"connections\":%ld}",
	    ok ? "ok" : "degraded", hosts, idle, busy, rec_ok ? "ok" : "unreachable",
	    atomic_load(&gw_stats.sessions), atomic_load(&gw_stats.connections));
	return reply_json(c, h, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, buf);
}

static enum MHD_Result invalid_int(struct MHD_Connection *c, gw_http *h, const char *name)
{
	char buf[256];
	snprintf(buf, sizeof(buf),
	    "{\"detail\":[{\"loc\":[\"query\",\"%s\"],\"msg\":\"value is not a valid integer "
	    "in range\",\"type\":\"type_error.integer\"}]}", name);
	return reply_json(c, h, MHD_HTTP_UNPROCESSABLE_CONTENT, buf);
}

static enum MHD_Result route_list(struct MHD_Connection *c, gw_http *h)
{
	const char *sid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "session_id");
	const char *skip_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "skip");
	const char *limit_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	uint64_t skip = 0, limit = 100;
	char *json;
	size_t len;

	if (sid == NULL || sid[0] == '\0')
		return detail(c, h, MHD_HTTP_BAD_REQUEST, "session_id is required");
	if (skip_s != NULL && !gw_proto_parse_uint(skip_s, 0, UINT32_MAX, &skip))
		return invalid_int(c, h, "skip");
	if (limit_s != NULL && !gw_proto_parse_uint(limit_s, 0, 10000, &limit))
		return invalid_int(c, h, "limit");
	if (!pyc_session_id_valid(sid, strlen(sid)))
		return reply_json(c, h, MHD_HTTP_OK, "[]"); /* no such session can exist */
	pyc_err e = gw_recorder_list(h->rec, sid, (uint32_t) skip, (uint32_t) limit, &json, &len);
	if (e != PYC_OK)
		return unavailable(c, h, e);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, json, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(json);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	return queue(c, h, MHD_HTTP_OK, r);
}

static ssize_t dl_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	dl *d = cls;
	size_t got = 0;
	if (pos >= d->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	uint64_t want = d->len - pos;
	if (want > max)
		want = max;
	if (want > PYC_READ_MAX)
		want = PYC_READ_MAX;
	pyc_err e = gw_recorder_read(d->h->rec, d->name, d->start + pos, (uint32_t) want, buf,
	    &got, NULL);
	if (e != PYC_OK || got == 0) {
		pyc_log(PYC_LOG_WARN, "http: reading %s at %llu: %s", d->name,
		    (unsigned long long) (d->start + pos), e != PYC_OK ? pyc_strerror(e) : "short");
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	atomic_fetch_add_explicit(&gw_stats.recorder_bytes, got, memory_order_relaxed);
	return (ssize_t) got;
}

static void dl_free(void *cls)
{
	free(cls);
}

static enum MHD_Result route_download(struct MHD_Connection *c, gw_http *h, const char *name)
{
	uint64_t size, first = 0, last = 0;
	char hdr[160];
	unsigned status = MHD_HTTP_OK;

	if (!gw_proto_filename_valid(name))
		return detail(c, h, MHD_HTTP_NOT_FOUND, "Recording not found");
	pyc_err e = gw_recorder_meta(h->rec, name, &size);
	if (e == PYC_ENOENT)
		return detail(c, h, MHD_HTTP_NOT_FOUND, "Recording not found");
	if (e != PYC_OK)
		return unavailable(c, h, e);
	const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	switch (gw_proto_range_parse(range, size, &first, &last)) {
	case GW_RANGE_UNSATISFIABLE: {
		static const char body[] = "{\"detail\":\"Range Not Satisfiable\"}";
		struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1,
		    (void *) body, MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
		snprintf(hdr, sizeof(hdr), "bytes */%llu", (unsigned long long) size);
		MHD_add_response_header(r, "Content-Range", hdr);
		MHD_add_response_header(r, "Content-Type", "application/json");
		return queue(c, h, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
	}
	case GW_RANGE_OK:
		status = MHD_HTTP_PARTIAL_CONTENT;
		break;
	default:
		first = 0;
		last = size > 0 ? size - 1 : 0;
		break;
	}
	dl *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return MHD_NO;
	d->h = h;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->start = first;
	d->len = size == 0 ? 0 : last - first + 1;
	struct MHD_Response *r =
	    MHD_create_response_from_callback(d->len, DL_BLOCK, dl_read, d, dl_free);
	if (r == NULL) {
		free(d);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "audio/wav");
	MHD_add_response_header(r, "Accept-Ranges", "bytes");
	snprintf(hdr, sizeof(hdr), "attachment; filename=\"%s\"", name);
	MHD_add_response_header(r, "Content-Disposition", hdr);
	if (status == MHD_HTTP_PARTIAL_CONTENT) {
		snprintf(hdr, sizeof(hdr), "bytes %llu-%llu/%llu", (unsigned long long) first,
		    (unsigned long long) last, (unsigned long long) size);
		MHD_add_response_header(r, "Content-Range", hdr);
	}
	return queue(c, h, status, r);
}

static enum MHD_Result route_delete(struct MHD_Connection *c, gw_http *h, const char *name)
{
	char buf[256];
	if (!gw_proto_filename_valid(name))
		return detail(c, h, MHD_HTTP_NOT_FOUND, "Recording not found");
	pyc_err e = gw_recorder_delete(h->rec, name);
	if (e == PYC_ENOENT)
		return detail(c, h, MHD_HTTP_NOT_FOUND, "Recording not found");
	if (e != PYC_OK)
		return unavailable(c, h, e);
	snprintf(buf, sizeof(buf), "{\"status\":\"ok\",\"filename\":\"%s\"}", name);
	return reply_json(c, h, MHD_HTTP_OK, buf);
}

static enum MHD_Result route_metrics(struct MHD_Connection *c, gw_http *h)
{
	size_t len;
	char *text = gw_metrics_render(&len);
	if (text == NULL)
		return detail(c, h, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory");
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	return queue(c, h, MHD_HTTP_OK, r);
}

/* ---- the dashboard's files ---- */

static int open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result route_static(struct MHD_Connection *c, gw_http *h, const char *url)
{
	char path[PYC_CFG_STR_MAX + 1100];
	struct stat st;
	int fd = -1;
	const char *served = url;

	if (!gw_route_path_safe(url))
		return detail(c, h, MHD_HTTP_NOT_FOUND, "Not Found");
	if (strcmp(url, "/") != 0) {
		snprintf(path, sizeof(path), "%s%s", h->cfg->frontend_dir, url);
		fd = open_regular(path, &st);
	}
	if (fd < 0) {
		/* index fallback for the app's own routes (no file extension) */
		const char *last = strrchr(url, '/');
		if (strcmp(url, "/") != 0 && last != NULL && strchr(last, '.') != NULL)
			return detail(c, h, MHD_HTTP_NOT_FOUND, "Not Found");
		snprintf(path, sizeof(path), "%s/index.html", h->cfg->frontend_dir);
		served = "/index.html";
		fd = open_regular(path, &st);
		if (fd < 0)
			return detail(c, h, MHD_HTTP_NOT_FOUND, "Not Found");
	}
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t) st.st_size, fd);
	if (r == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", gw_route_mime(served));
	MHD_add_response_header(r, "Cache-Control",
	    strncmp(served, "/assets/", 8) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
	return queue(c, h, MHD_HTTP_OK, r);
}

/* ---- dispatch ---- */

typedef struct hdr_scan {
	int content_length;
	int transfer_encoding;
} hdr_scan;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	hdr_scan *s = cls;
	(void) kind;
	(void) value;
	if (strcasecmp(key, "Content-Length") == 0)
		s->content_length++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		s->transfer_encoding++;
	return MHD_YES;
}

static enum MHD_Result preflight(struct MHD_Connection *c, gw_http *h, gw_route r)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *method = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Access-Control-Request-Method");
	const char *headers = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Access-Control-Request-Headers");
	if (!gw_proto_origin_allowed(h->cfg->frontend_url, origin))
		return detail(c, h, MHD_HTTP_BAD_REQUEST, "Disallowed CORS origin");
	if (!gw_route_preflight_ok(method, r))
		return detail(c, h, MHD_HTTP_BAD_REQUEST, "Disallowed CORS method");
	struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *) "OK",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, DELETE, OPTIONS");
	if (headers != NULL && strlen(headers) < 1024)
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", headers);
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	return queue(c, h, MHD_HTTP_OK, resp);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	gw_http *h = cls;
	req *rq = *req_cls;
	const char *name;
	(void) version;
	(void) upload_data;

	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*req_cls = rq;
		hdr_scan hs = {0, 0};
		MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &hs);
		if (hs.content_length > 1 || (hs.content_length > 0 && hs.transfer_encoding > 0)) {
			rq->refused = true;
			return detail(c, h, MHD_HTTP_BAD_REQUEST, "Conflicting Content-Length");
		}
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl != NULL && strtoull(cl, NULL, 10) > MAX_BODY) {
			rq->refused = true;
			return detail(c, h, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* counted and dropped: no route takes a body */
		rq->body += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->refused)
		return MHD_YES;
	if (rq->body > MAX_BODY)
		return detail(c, h, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large");

	gw_route r = gw_route_of(url, &name);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (strcmp(method, "OPTIONS") == 0 &&
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin") != NULL &&
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method") != NULL)
		return preflight(c, h, r);

	switch (r) {
	case GW_R_HEALTH:
		return get ? route_health(c, h) : not_allowed(c, h, gw_route_allow(r));
	case GW_R_LIST:
		return get ? route_list(c, h) : not_allowed(c, h, gw_route_allow(r));
	case GW_R_FILE:
		if (get)
			return route_download(c, h, name);
		if (strcmp(method, "DELETE") == 0)
			return route_delete(c, h, name);
		return not_allowed(c, h, gw_route_allow(r));
	case GW_R_OPENAPI: {
		size_t len;
		const char *doc = gw_docs_openapi(&len);
		return get ? reply(c, h, MHD_HTTP_OK, "application/json", doc, len)
			   : not_allowed(c, h, gw_route_allow(r));
	}
	case GW_R_DOCS:
		return get ? reply(c, h, MHD_HTTP_OK, "text/html; charset=utf-8", h->docs, h->docs_len)
			   : not_allowed(c, h, gw_route_allow(r));
	case GW_R_METRICS:
		return get ? route_metrics(c, h) : not_allowed(c, h, gw_route_allow(r));
	case GW_R_NONE:
		break;
	}
	if (get && h->cfg->frontend_dir[0] != '\0')
		return route_static(c, h, url);
	if (get && strcmp(url, "/") == 0)
		return reply(c, h, MHD_HTTP_OK, "text/html; charset=utf-8", PLACEHOLDER,
		    sizeof(PLACEHOLDER) - 1);
	if (strcmp(url, "/") == 0)
		return not_allowed(c, h, "GET, HEAD");
	return detail(c, h, MHD_HTTP_NOT_FOUND, "Not Found");
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void) cls;
	(void) c;
	(void) toe;
	free(*req_cls);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	(void) cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	pyc_log(PYC_LOG_WARN, "mhd: %s", buf);
}

pyc_err gw_http_create(gw_http **out, const pyc_config *cfg, gw_recorder *rec)
{
	pyc_err e;
	gw_http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return PYC_ENOMEM;
	h->cfg = cfg;
	h->rec = rec;
	pthread_mutex_init(&h->mu, NULL);
	if ((e = gw_docs_render(&h->docs, &h->docs_len)) != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "http: the OpenAPI document does not parse");
		goto fail;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int) cfg->http_max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) cfg->http_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		pyc_log(PYC_LOG_ERROR, "http: cannot start libmicrohttpd");
		e = PYC_EIO;
		goto fail;
	}
	pyc_log(PYC_LOG_INFO, "http: ready%s%s", cfg->frontend_dir[0] ? ", dashboard from " : "",
	    cfg->frontend_dir);
	*out = h;
	return PYC_OK;
fail:
	free(h->docs);
	pthread_mutex_destroy(&h->mu);
	free(h);
	return e;
}

void gw_http_destroy(gw_http *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	while (h->starting != NULL) {
		adopted *a = h->starting;
		h->starting = a->next;
		a->closed(a->arg);
		free(a);
	}
	free(h->docs);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
