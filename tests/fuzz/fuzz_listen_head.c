/* fuzz_listen_head.c - fuzz target: the one public port's reading of a
 * request head (gateway/gw_head.c), on bytes from anyone.
 *
 * NOTES: the input is copied into a buffer of exactly its size, so a read
 * past the end is caught (ASan under libFuzzer). Checks:
 * - gw_head_end is 0 or ends just after a LF that follows a LF or a LF CR,
 *   and no shorter prefix already holds an end (it is the first one);
 * - a prefix of a head that has an end has the same end once it is long
 *   enough, and none before (the dispatcher peeks at growing prefixes);
 * - gw_head_is_ws_audio holds only for a head starting "GET /ws/audio"
 *   with "upgrade:" at the start of a line, and an upgrade stays one when
 *   more bytes follow its head.
 */
#include <strings.h>

#include "fuzz_common.h"
#include "gw_head.h"

static bool has_upgrade_line(const char *h, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i++)
		if ((i == 0 || h[i - 1] == '\n') && strncasecmp(h + i, "upgrade:", 8) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);

	size_t end = gw_head_end(buf, size);
	FZ_ASSERT(end <= size, "end %zu past %zu", end, size);
	if (end > 0) {
		FZ_ASSERT(end >= 2 && buf[end - 1] == '\n', "end %zu not after a LF", end);
		FZ_ASSERT(buf[end - 2] == '\n' || (end >= 3 && buf[end - 2] == '\r' &&
		    buf[end - 3] == '\n'), "end %zu not after an empty line", end);
	}
	/* growing prefixes, as the dispatcher peeks: no end before the first */
	for (size_t n = 0; n <= size && n < 512; n++) {
		size_t e = gw_head_end(buf, n);
		FZ_ASSERT(e == (end > 0 && n >= end ? end : 0), "prefix %zu: end %zu, whole: %zu", n,
		    e, end);
	}
	size_t hl = end > 0 ? end : size;
	bool ws = gw_head_is_ws_audio(buf, hl);
	if (ws) {
		FZ_ASSERT(hl >= 13 && memcmp(buf, "GET /ws/audio", 13) == 0, "not GET /ws/audio");
		FZ_ASSERT(has_upgrade_line(buf, hl), "no Upgrade line");
		FZ_ASSERT(gw_head_is_ws_audio(buf, size), "bytes after the head changed it");
	}
	free(buf);
	return 0;
}
