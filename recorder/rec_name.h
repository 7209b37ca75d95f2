/* rec_name.h - recording file names: making them and checking them.
 *
 * NOTES: a recording's name is the only thing a client gives the recorder
 * to reach a file, so it is checked against one exact shape before any
 * file system call: rec_YYYYMMDDTHHMMSSZ_<22 chars of pyc_id_new>.wav.
 * Nothing with '/', "..", a NUL or any other character gets through; the
 * random part (128 bits) keeps names unguessable (DESIGN.md). A recording
 * being written lives under the same name plus ".part".
 */
#ifndef REC_NAME_H
#define REC_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pyc_err.h"

#define REC_NAME_LEN 47 /* strlen("rec_20261123T201500Z_") + 22 + strlen(".wav") */
#define REC_NAME_MAX 63 /* buffers for a name, ".part" included */
#define REC_PART_SUFFIX ".part"
#define REC_TIME_MAX 32 /* "2026-11-23T20:15:00Z" and its NUL, with room */

/* Writes a fresh name for a recording started at t (UTC) into out
 * (REC_NAME_MAX + 1 bytes). PYC_EIO if no randomness was available. */
pyc_err rec_name_new(time_t t, char out[REC_NAME_MAX + 1]);

/* True if s is exactly a recording name (no ".part"). */
bool rec_name_valid(const char *s);

/* True if s is a recording name followed by ".part"; base (REC_NAME_MAX +
 * 1 bytes, may be NULL) gets the name without the suffix. */
bool rec_name_is_part(const char *s, char *base);

/* Writes name + ".part" into out (REC_NAME_MAX + 1 bytes). */
void rec_name_part(const char *name, char out[REC_NAME_MAX + 1]);

/* ISO 8601 UTC time stamp "2026-11-23T20:15:00Z" of t into out. */
void rec_time_iso(time_t t, char out[REC_TIME_MAX]);

/* Microseconds since the epoch (wall clock) and a monotonic clock. */
int64_t rec_now_us(void);
int64_t rec_mono_us(void);

#endif /* REC_NAME_H */
