/* gw_head.c - where a request head ends and whether it is a WebSocket
 * upgrade on /ws/audio (gw_head.h).
 *
 * NOTES: bounded by len everywhere (memchr, explicit limits), never by a
 * NUL: a NUL byte is just a byte, and libmicrohttpd refuses such a head
 * later. A header line is "name:" at the start of a line, no space before
 * the colon, as RFC 9112 requires; a folded or odd line is simply not an
 * Upgrade header, and the connection goes to libmicrohttpd.
 */
#include "gw_head.h"

#include <string.h>
#include <strings.h>

size_t gw_head_end(const char *buf, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Whether the line p..end is "name: ..." with a value containing word. */
static bool header_has(const char *p, const char *end, const char *name, const char *word)
{
	size_t nl = strlen(name), wl = strlen(word);
	if ((size_t) (end - p) <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return false;
	for (const char *v = p + nl + 1; (size_t) (end - v) >= wl; v++)
		if (strncasecmp(v, word, wl) == 0)
			return true;
	return false;
}

bool gw_head_is_ws_audio(const char *h, size_t len)
{
	const char *end = h + len;
	const char *eol = len > 0 ? memchr(h, '\n', len) : NULL;
	if (eol == NULL || len < 4 || memcmp(h, "GET ", 4) != 0)
		return false;
	const char *path = h + 4, *pe = path;
	while (pe < eol && *pe != ' ' && *pe != '?')
		pe++;
	size_t pl = (size_t) (pe - path);
	if (!((pl == 9 && memcmp(path, "/ws/audio", 9) == 0) ||
	    (pl == 10 && memcmp(path, "/ws/audio/", 10) == 0)))
		return false;
	for (const char *p = eol + 1; p < end;) {
		const char *e = memchr(p, '\n', (size_t) (end - p));
		if (e == NULL)
			e = end;
		if (header_has(p, e, "upgrade", "websocket"))
			return true;
		p = e + 1;
	}
	return false;
}
