/* rec_db.h - the recordings' metadata in SQLite.
 *
 * NOTES: one row per recording, inserted (state "recording") before the
 * first sample is written and updated when the file is closed, so a row
 * always exists for a file being written and crash recovery can tell whose
 * a half-written file is. Each thread that needs the database opens its
 * own connection (rec_db is not shared between threads); WAL mode lets the
 * control thread read while a writer thread commits, and the busy timeout
 * covers two writers meeting. The schema carries a version number
 * (PRAGMA user_version) and rec_db_open runs the migration steps from the
 * file's version to REC_DB_VERSION in one transaction.
 */
#ifndef REC_DB_H
#define REC_DB_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"
#include "pyc_id.h"
#include "pyc_wire.h"
#include "rec_name.h"

#define REC_DB_VERSION 1
#define REC_DB_BUSY_MS 5000
#define REC_LIST_MAX 1000 /* rows in one list reply at most */

typedef struct rec_db rec_db;

typedef enum rec_state {
	REC_STATE_RECORDING = 0, /* being written */
	REC_STATE_COMPLETE,      /* stopped and finalised */
	REC_STATE_RECOVERED,     /* its writer died (recorder or worker crash); what was written is kept */
	REC_STATE_FAILED,        /* closed early after an error (disk full...) */
} rec_state;

typedef struct rec_row {
	int64_t id;
	char filename[REC_NAME_MAX + 1];
	char session_id[PYC_SESSION_ID_MAX + 1]; /* "" for an orphan file */
	char created[REC_TIME_MAX];              /* ISO 8601 UTC */
	int64_t created_us;                      /* for ordering */
	double duration_s;
	uint64_t frames;
	uint32_t sample_rate;
	uint32_t channels;
	uint64_t size_bytes;
	char settings[PYC_SETTINGS_MAX + 1]; /* JSON object text */
	rec_state state;
	int64_t expires_at; /* unix seconds, 0 = none */
} rec_row;

/* "recording", "complete", "recovered", "failed". */
const char *rec_state_name(rec_state s);

/* Opens (creating it if needed) the database at path, sets WAL,
 * synchronous=FULL and the busy timeout, and migrates the schema.
 * PYC_EVERSION if the file's schema is newer than this program's. On
 * success *out belongs to the caller (rec_db_close). */
pyc_err rec_db_open(const char *path, rec_db **out);
void rec_db_close(rec_db *db); /* accepts NULL */

/* The schema version of the open file. */
int rec_db_version(rec_db *db);

/* Inserts row (id and expiry ignored); row->id gets the new id.
 * PYC_EEXIST if the file name is taken. */
pyc_err rec_db_insert(rec_db *db, rec_row *row);

/* Sets a recording's final state and length. PYC_ENOENT if no row. */
pyc_err rec_db_finish(rec_db *db, const char *filename, rec_state state,
    uint64_t frames, double duration_s, uint64_t size_bytes);

/* Reads the row of filename. PYC_ENOENT if none. */
pyc_err rec_db_get(rec_db *db, const char *filename, rec_row *row);

/* The rows of session sid (every row if sid is NULL), newest first,
 * skipping skip and returning at most limit (<= REC_LIST_MAX) in *rows
 * (malloc'd, the caller frees; NULL when *n is 0). */
pyc_err rec_db_list(rec_db *db, const char *sid, uint32_t skip, uint32_t limit,
    rec_row **rows, size_t *n);

/* Rows not being written whose expiry is set and <= now (unix seconds),
 * at most limit. Allocation as rec_db_list. */
pyc_err rec_db_expired(rec_db *db, int64_t now, uint32_t limit, rec_row **rows,
    size_t *n);

/* Deletes the row of filename. PYC_ENOENT if none. */
pyc_err rec_db_delete(rec_db *db, const char *filename);

/* Sets the expiry of every row of sid that has none; *n (may be NULL)
 * gets how many rows changed. */
pyc_err rec_db_expire_session(rec_db *db, const char *sid, int64_t expires_at,
    size_t *n);

/* Sets the expiry of one row. */
pyc_err rec_db_expire_file(rec_db *db, const char *filename, int64_t expires_at);

/* A cheap query, for health. */
pyc_err rec_db_ping(rec_db *db);

#endif /* REC_DB_H */
