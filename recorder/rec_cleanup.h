/* rec_cleanup.h - crash recovery at start, session clean-up, retention sweep.
 *
 * NOTES: the database and the folder must agree. At start every row still
 * "recording" had its writer die with the previous recorder: its ".part"
 * file is repaired to the last whole frame, fsynced, renamed, and the row
 * marked "recovered" with the length found. A row whose file is gone is
 * removed. A recording file with no row (possible only if the database
 * was lost) is repaired and registered as "recovered" under no session
 * (session id ""), which nobody can list, and expired at once so the next
 * sweep removes it: with no owner, it is a file of a session that ended.
 * Deleting a recording removes its file first, then its row, so a crash
 * in between leaves a row without a file, which the next start removes.
 */
#ifndef REC_CLEANUP_H
#define REC_CLEANUP_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"
#include "rec_db.h"

typedef struct rec_recovery {
	size_t repaired;       /* ".part" files repaired, rows marked recovered */
	size_t rows_removed;   /* rows whose file was gone */
	size_t orphans;        /* files without a row, registered */
	size_t unusable;       /* files with no usable header, removed */
} rec_recovery;

/* Reconciles the folder dirfd and the database; run before anything else
 * writes. PYC_OK even when single files could not be handled (logged). */
pyc_err rec_cleanup_recover(rec_db *db, int dirfd, rec_recovery *out);

/* Deletes a recording that is not being written: its file, then its row. */
pyc_err rec_cleanup_delete(rec_db *db, int dirfd, const char *filename);

/* The end of session sid: with retention_s == 0 deletes its recordings
 * (not one still being written) and *deleted gets how many; otherwise sets
 * their expiry to now + retention_s and *deleted is 0. */
pyc_err rec_cleanup_session(rec_db *db, int dirfd, const char *sid, int retention_s,
    size_t *deleted);

/* Deletes recordings whose expiry has passed; *deleted (may be NULL). */
pyc_err rec_cleanup_sweep(rec_db *db, int dirfd, size_t *deleted);

#endif /* REC_CLEANUP_H */
