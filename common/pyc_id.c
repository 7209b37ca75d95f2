/* pyc_id.c - identifiers from getrandom, and the session-id charset check.
 *
 * NOTES: base64url is written here with its 64-character table; the
 * alphabet is the whole of the encoding (RFC 4648 section 5) and no listed
 * library offers it. getrandom may return short reads for large requests or
 * be interrupted; we loop with a bound.
 */
#include "pyc_id.h"

#include <errno.h>
#include <sys/random.h>

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pyc_err pyc_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	int tries = 0;
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR && ++tries < 100)
				continue;
			return PYC_EIO;
		}
		p += got;
		n -= (size_t) got;
	}
	return PYC_OK;
}

pyc_err pyc_id_new(char out[PYC_ID_STRLEN + 1])
{
	unsigned char raw[PYC_ID_BYTES + 2] = {0};
	pyc_err rv;
	size_t o = 0;

	if ((rv = pyc_random_bytes(raw, PYC_ID_BYTES)) != PYC_OK)
		return rv;
	for (size_t i = 0; i < PYC_ID_BYTES; i += 3) {
		unsigned v = ((unsigned) raw[i] << 16) | ((unsigned) raw[i + 1] << 8) |
		    raw[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (o < PYC_ID_STRLEN)
			out[o++] = b64url[(v >> 6) & 63];
		if (o < PYC_ID_STRLEN)
			out[o++] = b64url[v & 63];
	}
	out[PYC_ID_STRLEN] = '\0';
	return PYC_OK;
}

bool pyc_session_id_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > PYC_SESSION_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}
