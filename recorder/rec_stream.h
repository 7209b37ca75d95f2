/* rec_stream.h - the stream socket: rec_start, rec_append, rec_stop from workers.
 *
 * NOTES: a pair1 polyamorous listener (docs/wire.md); each worker process
 * is one pipe, and every reply or rec_error goes back on the pipe its
 * request came from. The stream thread (the recorder's main loop) decodes,
 * checks and queues; it never writes audio and never waits for the disk.
 * When a worker's pipe goes away (it crashed), its open recordings are
 * finalised with state "recovered" once the messages it sent before
 * dying have been taken in (REC_PIPE_GRACE_MS).
 */
#ifndef REC_STREAM_H
#define REC_STREAM_H

#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "rec_db.h"
#include "rec_table.h"
#include "rec_writer.h"

#define REC_PIPE_GRACE_MS 100

typedef struct rec_stream rec_stream;

/* Opens the socket (not listening yet). *out belongs to the caller. */
pyc_err rec_stream_create(rec_stream **out);

/* The socket, for the writer's replies. */
nng_socket rec_stream_socket(rec_stream *s);

/* Starts listening on url; db is the stream thread's connection. */
pyc_err rec_stream_start(rec_stream *s, const char *url, rec_table *table,
    rec_writer *writer, rec_db *db);

/* Handles what arrives within timeout_ms (then returns). */
void rec_stream_poll(rec_stream *s, int timeout_ms);

typedef struct rec_stream_stats {
	uint64_t appends;
	uint64_t lat_p50_us, lat_p99_us, lat_max_us;
} rec_stream_stats;

/* Append counters and the receive -> queued latency; any thread. */
void rec_stream_stats_get(rec_stream *s, rec_stream_stats *out);

/* Closes the socket and frees s. Accepts NULL. */
void rec_stream_destroy(rec_stream *s);

#endif /* REC_STREAM_H */
