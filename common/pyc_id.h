/* pyc_id.h - random identifiers and session-id validation.
 *
 * NOTES: knowing a session id is what gives access to a session's
 * recordings (DESIGN.md), so generated ids are 128 bits from the kernel's
 * CSPRNG (getrandom), written in URL-safe base64 without padding.
 */
#ifndef PYC_ID_H
#define PYC_ID_H

#include <stdbool.h>
#include <stddef.h>

#include "pyc_err.h"

#define PYC_ID_BYTES 16
#define PYC_ID_STRLEN 22 /* base64url of 16 bytes, no padding */
#define PYC_SESSION_ID_MAX 128

/* Writes a fresh 22-character id and a NUL into out. PYC_EIO if the kernel
 * could not supply randomness. */
pyc_err pyc_id_new(char out[PYC_ID_STRLEN + 1]);

/* Fills buf with n random bytes from getrandom. */
pyc_err pyc_random_bytes(void *buf, size_t n);

/* True if s[0..len) is 1..128 characters of [A-Za-z0-9_-]. */
bool pyc_session_id_valid(const char *s, size_t len);

#endif /* PYC_ID_H */
