/* gw_head.h - what the one public port reads of a request head before
 * handing the connection over (gw_listen.c): where the head ends, and
 * whether it is a WebSocket upgrade on /ws/audio.
 *
 * NOTES: pure functions over a byte buffer that is not NUL-terminated and
 * may hold anything; they never read past len. They only choose the
 * library that gets the connection: libwebsockets and libmicrohttpd parse
 * and judge the request themselves.
 */
#ifndef GW_HEAD_H
#define GW_HEAD_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the head through its first empty line (CRLF CRLF, or LF LF,
 * or LF CRLF) in buf[0..n), or 0 while none has come. */
size_t gw_head_end(const char *buf, size_t n);

/* Whether the head h[0..len) has the request line "GET /ws/audio" or
 * "GET /ws/audio/" (any query, then a space) and an Upgrade header whose
 * value names websocket (both case-insensitive). */
bool gw_head_is_ws_audio(const char *h, size_t len);

#endif /* GW_HEAD_H */
