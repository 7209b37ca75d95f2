/* rec_ctl.h - the control socket: list, metadata, byte ranges, delete,
 * session ended, health, for the gateway.
 *
 * NOTES: a rep listener served by REC_CTL_THREADS threads, each with its
 * own nng context and its own database connection, so a slow request (a
 * 1 MiB read, a session's clean-up waiting for a finalisation) never
 * stalls the others and never touches the stream socket's thread. Thread
 * 0 also runs the retention sweep every RECORDING_SWEEP_SECONDS.
 */
#ifndef REC_CTL_H
#define REC_CTL_H

#include "pyc_config.h"
#include "pyc_err.h"
#include "rec_stream.h"
#include "rec_table.h"
#include "rec_writer.h"

#define REC_CTL_THREADS 2

typedef struct rec_ctl rec_ctl;

typedef struct rec_ctl_cfg {
	const char *url;
	const char *db_path;
	int dirfd;
	int retention_s;
	int sweep_s;
	rec_table *table;
	rec_writer *writer;
	rec_stream *stream;
} rec_ctl_cfg;

/* Listens and starts the threads. *out belongs to the caller. */
pyc_err rec_ctl_create(const rec_ctl_cfg *cfg, rec_ctl **out);

/* Stops the threads (bounded: each waits at most one receive timeout plus
 * the request it is serving), closes the socket, frees c. Accepts NULL. */
void rec_ctl_destroy(rec_ctl *c);

#endif /* REC_CTL_H */
