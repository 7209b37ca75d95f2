/* gw_testclient.h - a browser-like client for the whole-system tests: a
 * WebSocket client on the lws client API and a small HTTP/1.1 client.
 *
 * NOTES: each WebSocket client has its own lws context, served only while
 * one of its calls waits, and every wait is bounded (a 10 ms timer keeps
 * lws_service from sleeping past the deadline). Messages received are
 * queued whole (fragments joined), text and binary apart. The HTTP client
 * speaks HTTP/1.1 with Connection: close over a plain socket, so a test
 * can send exactly the bytes it wants (duplicate headers, odd methods).
 */
#ifndef GW_TESTCLIENT_H
#define GW_TESTCLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_tc gw_tc;

/* Opens ws://127.0.0.1:port<path> (path includes any query) with the
 * given Origin (NULL: none). Returns NULL if the connection was refused or
 * not established within timeout_ms. */
gw_tc *gw_tc_connect(int port, const char *path, const char *origin, int timeout_ms);

/* Convenience: path /ws/audio?session_id=sid, no Origin. */
gw_tc *gw_tc_open(int port, const char *sid, int timeout_ms);

/* Queues a message and serves until it is written (or closed). 0 on success. */
int gw_tc_send_text(gw_tc *c, const char *text);
int gw_tc_send_binary(gw_tc *c, const void *data, size_t len);
/* Sends one message as frames of at most frag bytes (fragmented). */
int gw_tc_send_fragmented(gw_tc *c, bool binary, const void *data, size_t len, size_t frag);
/* Queues without waiting (written while the client is served). */
int gw_tc_queue_binary(gw_tc *c, const void *data, size_t len);
int gw_tc_queue_text(gw_tc *c, const char *text);

/* Serves the connection for about ms milliseconds. */
void gw_tc_service(gw_tc *c, int ms);

/* The next text message (malloc'd, caller frees) within timeout_ms;
 * NULL on timeout or close. */
char *gw_tc_recv_text(gw_tc *c, int timeout_ms);

/* The next text message containing needle (others are discarded). */
char *gw_tc_recv_match(gw_tc *c, const char *needle, int timeout_ms);

/* The next binary message (malloc'd) and its length; NULL on timeout. */
void *gw_tc_recv_binary(gw_tc *c, size_t *len, int timeout_ms);

/* Drops every message received so far. */
void gw_tc_discard(gw_tc *c);

/* Waits for the connection to close; returns the close code the server
 * sent, 1006 if it closed without one, -1 on timeout. */
int gw_tc_wait_close(gw_tc *c, int timeout_ms);

/* True once the connection is closed. */
bool gw_tc_closed(gw_tc *c);

/* Text messages received and not yet taken. */
int gw_tc_pending(gw_tc *c);

/* Closes and frees. Accepts NULL. */
void gw_tc_destroy(gw_tc *c);

/* ---- HTTP ---- */

typedef struct gw_http_resp {
	int status;
	char *headers; /* the header block, NUL-terminated */
	char *body;    /* NUL-terminated (binary bodies too; use body_len) */
	size_t body_len;
} gw_http_resp;

/* Sends method path with extra header lines ("Name: value\r\n"..., may be
 * NULL) to 127.0.0.1:port and reads the whole answer. 0 on success. */
int gw_http(int port, const char *method, const char *path, const char *extra,
    gw_http_resp *r);

/* Sends raw request bytes as they are; reads the answer. */
int gw_http_raw(int port, const char *request, size_t len, gw_http_resp *r);

/* A header's value (copied into out), case-insensitive; false if absent. */
bool gw_http_header(const gw_http_resp *r, const char *name, char *out, size_t cap);

void gw_http_free(gw_http_resp *r);

/* ---- raw sockets: what a browser never does ---- */

/* A TCP connection to 127.0.0.1:port (10 s send/receive timeouts); the
 * socket, or -1. Caller closes. */
int gw_tcp_connect(int port);

/* True once the peer closed (or reset) the connection within timeout_ms;
 * what arrives meanwhile is read and dropped. */
bool gw_tcp_wait_eof(int fd, int timeout_ms);

/* Sends a WebSocket upgrade for path (with extra header lines, may be
 * NULL) and reads the answer's header block into head (NUL-terminated).
 * *status is the HTTP status (0: closed without an answer). Returns the
 * socket (caller closes), -1 if the connection failed. The client never
 * answers pings. (The lws client reports a close code it does not know,
 * such as 1013, as 1002; a raw socket sees the code as sent.) */
int gw_ws_raw_upgrade(int port, const char *path, const char *extra, int *status, char *head,
    size_t cap, int timeout_ms);

/* After a 101: sends a (masked) text frame. 0 on success. */
int gw_ws_raw_send_text(int fd, const char *text);

/* After a 101: reads (and drops) server frames until a close frame;
 * returns its code, 1005 without one, 1006 if the socket closed without
 * a close frame, -1 on timeout. */
int gw_ws_raw_wait_close(int fd, int timeout_ms);

#endif /* GW_TESTCLIENT_H */
