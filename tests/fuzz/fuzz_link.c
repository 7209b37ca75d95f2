/* fuzz_link.c - fuzz target: a link's framing (common/pyc_link.c's reader)
 * on untrusted bytes: truncated, oversized, zero and garbage lengths.
 *
 * NOTES: the first two input bytes choose the reader's buffer size (8..
 * 263 bytes, so messages larger than the buffer take the path a link uses
 * for messages over PYC_LINK_RBUF) and the size of the reads (1..256
 * bytes); the rest is the byte stream. The reader must hand out exactly
 * the messages an independent walk of the stream finds (each a 4-byte
 * little-endian length of 1..MAX_MSG and its bytes), in order and byte
 * for byte; it must stop with PYC_EPROTO exactly where that walk meets a
 * bad length, and otherwise leave a trailing partial message untouched.
 * The read space it offers must never be empty or past the message.
 */
#include "fuzz_common.h"
#include "pyc_link.h"

#define MAX_MSG 700

typedef struct expect {
	const uint8_t *stream;
	size_t len, off; /* the walk's position: the next message's length */
	size_t got;
} expect;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
	       (uint32_t) p[3] << 24;
}

static void on_msg(void *arg, nng_msg *m)
{
	expect *e = arg;
	FZ_ASSERT(e->len - e->off >= 4, "a message beyond the stream");
	uint32_t n = le32(e->stream + e->off);
	FZ_ASSERT(n >= 1 && n <= MAX_MSG, "a message with the bad length %u handed out", n);
	FZ_ASSERT(nng_msg_len(m) == n, "message of %zu bytes, stream says %u", nng_msg_len(m), n);
	FZ_ASSERT(e->len - e->off - 4 >= n, "a message handed out before it was whole");
	FZ_ASSERT(memcmp(nng_msg_body(m), e->stream + e->off + 4, n) == 0,
	    "message %zu differs from the stream", e->got);
	e->off += 4 + n;
	e->got++;
	nng_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pyc_link_reader *r;
	fz_quiet();
	if (size < 2)
		return 0;
	size_t cap = 8 + data[0], step = 1 + data[1];
	expect e = {data + 2, size - 2, 0, 0};
	FZ_ASSERT(pyc_link_reader_create(&r, MAX_MSG, cap) == PYC_OK, "out of memory");

	/* the independent walk: where the first bad length is, if any */
	size_t bad_at = (size_t) -1, whole_end = 0;
	for (size_t off = 0; e.len - off >= 4;) {
		uint32_t n = le32(e.stream + off);
		if (n == 0 || n > MAX_MSG) {
			bad_at = off;
			break;
		}
		if (e.len - off - 4 < n)
			break;
		off += 4 + n;
		whole_end = off;
	}

	size_t fed = 0;
	pyc_err rv = PYC_OK;
	while (fed < e.len) {
		void *buf;
		size_t room, delivered;
		pyc_link_reader_space(r, &buf, &room);
		FZ_ASSERT(room > 0, "no room to read into at byte %zu", fed);
		size_t n = e.len - fed < step ? e.len - fed : step;
		if (n > room)
			n = room;
		memcpy(buf, e.stream + fed, n);
		fed += n;
		rv = pyc_link_reader_got(r, n, on_msg, &e, &delivered);
		if (rv != PYC_OK)
			break;
	}
	if (bad_at != (size_t) -1) {
		FZ_ASSERT(rv == PYC_EPROTO, "the bad length at byte %zu was not refused (%d)",
		    bad_at, rv);
		FZ_ASSERT(e.off == bad_at, "stopped at byte %zu, the bad length is at %zu", e.off,
		    bad_at);
	} else {
		FZ_ASSERT(rv == PYC_OK, "a good stream refused (%d) at byte %zu", rv, e.off);
		FZ_ASSERT(e.off == whole_end, "handed out up to byte %zu of %zu whole", e.off,
		    whole_end);
	}
	pyc_link_reader_destroy(r);
	return 0;
}
