/* fuzz_common.h - what every fuzz target shares: the entry point, the
 * assertion macro, a byte reader over the input, quiet logging.
 *
 * NOTES: a target's checks are real assertions on the code under test,
 * made with FZ_ASSERT, which prints where and why and abort()s: libFuzzer
 * reports an abort as a crash and saves the input, and the plain replay
 * driver (fuzz_replay.c) dies on it the same way, so a committed
 * reproducer keeps failing ctest until the bug is fixed. Nothing here
 * allocates.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyc_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ASSERT(cond, ...)                                                  \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
			    __LINE__, #cond);                                 \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* The service logs would flood the fuzzer's output (and slow it): none
 * are written, unless PYC_FUZZ_LOG is set (to replay a reproducer with
 * the story of what the code under test did). */
static inline void fz_quiet(void)
{
	pyc_log_min_level = getenv("PYC_FUZZ_LOG") != NULL ? PYC_LOG_DEBUG : PYC_LOG_ERROR + 1;
}

/* Reads the input front to back; past the end every read gives zeros. */
typedef struct fz_in {
	const uint8_t *p;
	size_t n;
	size_t off;
} fz_in;

static inline void fz_init(fz_in *in, const uint8_t *p, size_t n)
{
	in->p = p;
	in->n = n;
	in->off = 0;
}

static inline size_t fz_left(const fz_in *in)
{
	return in->n - in->off;
}

static inline uint8_t fz_u8(fz_in *in)
{
	return in->off < in->n ? in->p[in->off++] : 0;
}

static inline uint16_t fz_u16(fz_in *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t) (lo | (uint16_t) fz_u8(in) << 8);
}

static inline uint32_t fz_u32(fz_in *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t) fz_u16(in) << 16;
}

/* Takes up to n bytes; *got says how many. */
static inline const uint8_t *fz_take(fz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p + in->off;
	if (n > fz_left(in))
		n = fz_left(in);
	in->off += n;
	*got = n;
	return p;
}

#endif /* FUZZ_COMMON_H */
