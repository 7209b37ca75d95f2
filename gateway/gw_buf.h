/* gw_buf.h - a growable text buffer for documents the gateway builds
 * (the /docs page, the /metrics exposition).
 *
 * NOTES: out of memory is sticky: every later append does nothing and the
 * caller checks `oom` once at the end, then frees p.
 */
#ifndef GW_BUF_H
#define GW_BUF_H

#include <stddef.h>

typedef struct gw_buf {
	char *p; /* NUL-terminated once anything was appended */
	size_t len, cap;
	int oom;
} gw_buf;

/* Appends n bytes of s. */
void gw_buf_put(gw_buf *b, const char *s, size_t n);
/* Appends the string s. */
void gw_buf_puts(gw_buf *b, const char *s);
/* Appends formatted text. */
void gw_buf_printf(gw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* GW_BUF_H */
