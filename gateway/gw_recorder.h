/* gw_recorder.h - the gateway's client of the recorder's control socket.
 *
 * NOTES: req/rep over RECORDER_CTL_URL (docs/wire.md), one nng context per
 * request so any number of HTTP threads can ask at once, each bounded by
 * REQUEST_TIMEOUT_MS. The lws thread never waits on the recorder: it hands
 * session_ended notices to gw_recorder_session_ended, which queues them
 * for a small thread of this module.
 */
#ifndef GW_RECORDER_H
#define GW_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"

typedef struct gw_recorder gw_recorder;

/* Dials url in the background (the recorder may start later) and starts
 * the notice thread. On success *out belongs to the caller
 * (gw_recorder_destroy). */
pyc_err gw_recorder_create(gw_recorder **out, const char *url, int timeout_ms);

/* Stops the notice thread after sending what is queued (bounded by the
 * timeout), closes the socket, frees. Accepts NULL. */
void gw_recorder_destroy(gw_recorder *r);

/* The session's recordings as a JSON array. On PYC_OK *json is malloc'd
 * (caller frees), NUL-terminated, *len its length. Transport failures are
 * PYC_ETIMEDOUT / PYC_ECLOSED; the recorder's own status otherwise. */
pyc_err gw_recorder_list(gw_recorder *r, const char *sid, uint32_t skip,
    uint32_t limit, char **json, size_t *len);

/* Size of a recording; PYC_ENOENT if unknown. */
pyc_err gw_recorder_meta(gw_recorder *r, const char *filename, uint64_t *size);

/* Reads up to len (<= PYC_READ_MAX) bytes at off into dst; *got bytes read,
 * *total the file's size (either may be NULL). */
pyc_err gw_recorder_read(gw_recorder *r, const char *filename, uint64_t off,
    uint32_t len, void *dst, size_t *got, uint64_t *total);

/* Deletes a recording; PYC_ENOENT if unknown. */
pyc_err gw_recorder_delete(gw_recorder *r, const char *filename);

/* PYC_OK if the recorder answered a health request within timeout_ms. */
pyc_err gw_recorder_health(gw_recorder *r, int timeout_ms);

/* Queues a session_ended notice for sid (copied); never blocks. */
void gw_recorder_session_ended(gw_recorder *r, const char *sid);

/* Notices queued or in flight (for tests and shutdown). */
int gw_recorder_pending(gw_recorder *r);

#endif /* GW_RECORDER_H */
