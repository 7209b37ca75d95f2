/* gw_buf.c - the growable text buffer (gw_buf.h).
 *
 * NOTES: capacity doubles from 4 KiB, so building a document costs a
 * logarithmic number of reallocations.
 */
#include "gw_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(gw_buf *b, size_t more)
{
	if (b->oom)
		return 0;
	if (b->len + more + 1 <= b->cap)
		return 1;
	size_t nc = b->cap ? b->cap * 2 : 4096;
	while (nc < b->len + more + 1)
		nc *= 2;
	char *q = realloc(b->p, nc);
	if (q == NULL) {
		b->oom = 1;
		return 0;
	}
	b->p = q;
	b->cap = nc;
	return 1;
}

void gw_buf_put(gw_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void gw_buf_puts(gw_buf *b, const char *s)
{
	gw_buf_put(b, s, strlen(s));
}

void gw_buf_printf(gw_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (!reserve(b, (size_t) n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}
