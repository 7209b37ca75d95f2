/* rec_writer.h - open recordings and the writer threads that fill them.
 *
 * NOTES: the stream thread never writes audio. rec_writer_start creates
 * the row (state "recording") and the file (a valid empty WAV under its
 * ".part" name) in the caller's thread, so a full disk or an unwritable
 * folder is the answer to rec_start itself; from then on every append is
 * a job on the queue of the recording's one writer thread, so jobs of a
 * recording run in order and a stop runs after every append before it.
 * Each recording's queue is bounded (blocks and bytes); overflow, a full
 * disk or a write error close the recording cleanly (state "failed"), tell
 * its worker once with rec_error, and leave every other recording alone.
 * While a file grows its writer rewrites the header at least every
 * REC_HDR_MS of wall time or audio and fdatasyncs it every REC_SYNC_MS, so
 * a crash loses about a second at most. Stopping fsyncs the file, renames
 * it to its final name and fsyncs the folder before the reply goes out.
 *
 * Ownership: a rec_recording is created by rec_writer_start; it belongs to
 * the table (rec_table) while it is open; rec_writer_stop hands it to its
 * writer thread, which frees it after the stop. Appends and stops for a
 * recording must be queued under the table lock (rec_table_lock), so no job
 * can follow its stop.
 */
#ifndef REC_WRITER_H
#define REC_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "pyc_wire.h"
#include "rec_db.h"
#include "rec_name.h"

#define REC_WRITER_THREADS 4
#define REC_HDR_MS 250            /* header rewritten at least this often */
#define REC_SYNC_MS 1000          /* fdatasync at least this often */
#define REC_QUEUE_BYTES_MAX (16u * 1024u * 1024u) /* per recording */
#define REC_STOP_WAIT_MS 10000    /* longest wait for a finalisation */

typedef struct rec_writer rec_writer;
typedef struct rec_wav rec_wav;

typedef struct rec_recording rec_recording;
struct rec_recording {
	/* fixed at start */
	int64_t id;
	char filename[REC_NAME_MAX + 1];
	char part[REC_NAME_MAX + 1];
	char sid[PYC_SESSION_ID_MAX + 1];
	uint32_t pipe_id;
	uint32_t sample_rate;
	uint32_t channels;
	int writer;
	/* shared between the stream thread and the writer */
	atomic_int queued;
	atomic_size_t queued_bytes;
	atomic_int failed;      /* set once: later appends are dropped */
	atomic_int error_sent;  /* the worker got its rec_error */
	atomic_uint_least64_t frames; /* on disk (written, not necessarily synced) */
	/* writer thread only */
	rec_wav *wav;
	int64_t last_hdr_us, last_sync_us;
	uint64_t frames_hdr, frames_sync;
	int name_synced; /* the folder was fsynced since the .part was created */
	pyc_err fail_status;
	char fail_msg[64];
	rec_state final_state;
	uint64_t final_frames, final_size;
	rec_recording *wprev, *wnext;
	void *jobs; /* its open and stop jobs */
	/* table only */
	rec_recording *tnext;
};

/* Somebody waiting for a stop to finish (the control thread). */
typedef struct rec_waiter rec_waiter;
rec_waiter *rec_waiter_new(void);
/* True if the stop finished within timeout_ms. */
bool rec_waiter_wait(rec_waiter *w, int timeout_ms);
/* Drops the caller's reference (the writer holds the other). */
void rec_waiter_release(rec_waiter *w);

typedef struct rec_writer_cfg {
	const char *db_path;
	int dirfd;             /* the recordings folder */
	nng_socket sock;       /* the stream socket, for replies and rec_error */
	int threads;           /* 1..16 */
	size_t queue_max;      /* append blocks queued per recording */
	size_t queue_bytes_max;
} rec_writer_cfg;

/* Starts the writer threads (each opens its own database connection).
 * On success *out belongs to the caller (rec_writer_destroy). */
pyc_err rec_writer_create(const rec_writer_cfg *cfg, rec_writer **out);

/* Lets every queued job run, stops the threads (waiting up to timeout_ms)
 * and frees the writer. Every recording must have been stopped.
 * PYC_ETIMEDOUT if a thread did not finish (the writer is then leaked). */
pyc_err rec_writer_destroy(rec_writer *w, int timeout_ms);

/* Starts a recording for sid (from pipe_id): inserts its row with db,
 * creates its file, and queues it on a writer. On error res is the reply
 * (status, code, message) and nothing is left behind; on success res holds
 * the id and file name and *out the new recording. */
pyc_err rec_writer_start(rec_writer *w, rec_db *db, const char *sid,
    uint32_t pipe_id, const pyc_rec_start *req, rec_recording **out,
    pyc_rec_result *res);

/* Queues an append. PYC_OK: msg now belongs to the writer (pcm/len point
 * into it). PYC_ECLOSED: the recording has failed (drop the block).
 * PYC_EAGAIN: its queue is full (the caller fails it). Otherwise msg stays
 * with the caller. Call under the table lock. */
pyc_err rec_writer_append(rec_writer *w, rec_recording *r, nng_msg *msg,
    const void *pcm, size_t len);

/* Fails a recording (queue overflow): tells its worker with rec_error and
 * has its writer close it. Call under the table lock. */
void rec_writer_fail(rec_writer *w, rec_recording *r, pyc_err status, const char *why);

/* Stops a recording (already out of the table): its writer finalises it
 * with state (complete or recovered; failed if it had failed), then sends
 * the rec_stop reply to reply_pipe (0 = none) with sid and seq, signals
 * waiter (may be NULL; the writer takes a reference), and frees r. */
void rec_writer_stop(rec_writer *w, rec_recording *r, rec_state state,
    uint32_t reply_pipe, uint64_t seq, rec_waiter *waiter);

/* Sends a rec_result payload to pipe_id on sock (non-blocking). */
pyc_err rec_result_send(nng_socket sock, uint32_t pipe_id, unsigned type,
    unsigned flags, const char *sid, uint64_t seq, const pyc_rec_result *r);

/* Counters for health. */
void rec_writer_counters(rec_writer *w, uint64_t *bytes_written,
    uint64_t *queued_blocks, uint64_t *failed);

#endif /* REC_WRITER_H */
