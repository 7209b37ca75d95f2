/* rec_db.c - SQLite storage of recording metadata, and its migrations.
 *
 * NOTES: sqlite3.h is included here and nowhere else (STYLE.md). Each
 * connection belongs to one thread (SQLITE_OPEN_NOMUTEX). Statements are
 * prepared per call: the recorder runs a handful of queries a second, and
 * this keeps every function self-contained. SQLite result codes are mapped
 * to pyc_err at this boundary and logged once with SQLite's own message.
 * Migrations are an array of SQL scripts; migrations[i] takes the schema
 * from version i to i + 1. A new column or index is a new entry, never an
 * edit of an old one.
 */
#include "rec_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pyc_log.h"

struct rec_db {
	sqlite3 *h;
};

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE recordings ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  filename TEXT NOT NULL UNIQUE,"
	"  session_id TEXT NOT NULL,"
	"  created TEXT NOT NULL,"
	"  created_us INTEGER NOT NULL,"
	"  duration_seconds REAL NOT NULL DEFAULT 0,"
	"  frames INTEGER NOT NULL DEFAULT 0,"
	"  sample_rate INTEGER NOT NULL,"
	"  channels INTEGER NOT NULL,"
	"  size_bytes INTEGER NOT NULL DEFAULT 0,"
	"  settings TEXT NOT NULL DEFAULT '{}',"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('recording', 'complete', 'recovered', 'failed')),"
	"  expires_at INTEGER"
	");"
	"CREATE INDEX recordings_session ON recordings (session_id, created_us DESC, id DESC);"
	"CREATE INDEX recordings_expiry ON recordings (expires_at) WHERE expires_at IS NOT NULL;",
};

#define N_MIGRATIONS ((int) (sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(N_MIGRATIONS == REC_DB_VERSION, "one migration per schema version");

static const char *const state_names[] = {"recording", "complete", "recovered", "failed"};

const char *rec_state_name(rec_state s)
{
	return (unsigned) s < 4 ? state_names[s] : "failed";
}

static rec_state state_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s != NULL && strcmp(s, state_names[i]) == 0)
			return (rec_state) i;
	return REC_STATE_FAILED;
}

static pyc_err map_rc(rec_db *db, int rc, const char *what)
{
	pyc_err rv;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return PYC_OK;
	case SQLITE_FULL:
		rv = PYC_ENOSPC;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		rv = PYC_EBUSY;
		break;
	case SQLITE_NOMEM:
		rv = PYC_ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
		rv = PYC_EEXIST;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		rv = PYC_EPERM;
		break;
	default:
		rv = PYC_EIO;
		break;
	}
	pyc_log(PYC_LOG_ERROR, "sqlite %s: %s (%d)", what,
	    db != NULL && db->h != NULL ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc), rc);
	return rv;
}

static pyc_err exec(rec_db *db, const char *sql, const char *what)
{
	char *err = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		pyc_log(PYC_LOG_ERROR, "sqlite %s: %s", what, err != NULL ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return map_rc(NULL, rc, what);
	}
	return PYC_OK;
}

static pyc_err prepare(rec_db *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db->h, sql, -1, st, NULL);
	return rc == SQLITE_OK ? PYC_OK : map_rc(db, rc, "prepare");
}

static int get_version(rec_db *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (prepare(db, "PRAGMA user_version", &st) != PYC_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int rec_db_version(rec_db *db)
{
	return get_version(db);
}

static pyc_err migrate(rec_db *db)
{
	char sql[64];
	pyc_err rv;
	int v;

	if ((rv = exec(db, "BEGIN IMMEDIATE", "begin")) != PYC_OK)
		return rv;
	v = get_version(db);
	if (v < 0) {
		rv = PYC_EIO;
		goto fail;
	}
	if (v > N_MIGRATIONS) {
		pyc_log(PYC_LOG_ERROR, "database schema version %d is newer than %d", v,
		    N_MIGRATIONS);
		rv = PYC_EVERSION;
		goto fail;
	}
	for (int i = v; i < N_MIGRATIONS; i++) {
		pyc_log(PYC_LOG_INFO, "database: migrating schema %d -> %d", i, i + 1);
		if ((rv = exec(db, migrations[i], "migrate")) != PYC_OK)
			goto fail;
	}
	if (v != N_MIGRATIONS) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", N_MIGRATIONS);
		if ((rv = exec(db, sql, "set version")) != PYC_OK)
			goto fail;
	}
	return exec(db, "COMMIT", "commit");
fail:
	exec(db, "ROLLBACK", "rollback");
	return rv;
}

pyc_err rec_db_open(const char *path, rec_db **out)
{
	sqlite3_stmt *st = NULL;
	rec_db *db;
	pyc_err rv;
	int rc;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return PYC_ENOMEM;
	rc = sqlite3_open_v2(path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rv = map_rc(db, rc, "open");
		goto fail;
	}
	sqlite3_busy_timeout(db->h, REC_DB_BUSY_MS);
	/* journal_mode answers with the mode in force: make sure it is WAL. */
	if ((rv = prepare(db, "PRAGMA journal_mode = WAL", &st)) != PYC_OK)
		goto fail;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW ||
	    strcmp((const char *) sqlite3_column_text(st, 0), "wal") != 0) {
		pyc_log(PYC_LOG_ERROR, "sqlite: cannot switch %s to WAL mode", path);
		rv = rc == SQLITE_ROW ? PYC_EIO : map_rc(db, rc, "journal_mode");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rv = exec(db, "PRAGMA synchronous = FULL", "synchronous")) != PYC_OK)
		goto fail;
	if ((rv = migrate(db)) != PYC_OK)
		goto fail;
	*out = db;
	return PYC_OK;
fail:
	sqlite3_finalize(st);
	rec_db_close(db);
	return rv;
}

void rec_db_close(rec_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->h);
	free(db);
}

/* Runs a statement that returns no rows; *changes (may be NULL). */
static pyc_err step_done(rec_db *db, sqlite3_stmt *st, const char *what, size_t *changes)
{
	int rc = sqlite3_step(st);
	pyc_err rv = rc == SQLITE_DONE ? PYC_OK : map_rc(db, rc, what);
	if (rv == PYC_OK && changes != NULL)
		*changes = (size_t) sqlite3_changes(db->h);
	sqlite3_finalize(st);
	return rv;
}

pyc_err rec_db_insert(rec_db *db, rec_row *row)
{
	sqlite3_stmt *st;
	pyc_err rv;

	rv = prepare(db,
	    "INSERT INTO recordings (filename, session_id, created, created_us,"
	    " duration_seconds, frames, sample_rate, channels, size_bytes, settings, state)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);
	if (rv != PYC_OK)
		return rv;
	sqlite3_bind_text(st, 1, row->filename, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row->created, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, row->created_us);
	sqlite3_bind_double(st, 5, row->duration_s);
	sqlite3_bind_int64(st, 6, (sqlite3_int64) row->frames);
	sqlite3_bind_int(st, 7, (int) row->sample_rate);
	sqlite3_bind_int(st, 8, (int) row->channels);
	sqlite3_bind_int64(st, 9, (sqlite3_int64) row->size_bytes);
	sqlite3_bind_text(st, 10, row->settings, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, rec_state_name(row->state), -1, SQLITE_STATIC);
	if ((rv = step_done(db, st, "insert", NULL)) == PYC_OK)
		row->id = sqlite3_last_insert_rowid(db->h);
	return rv;
}

pyc_err rec_db_finish(rec_db *db, const char *filename, rec_state state,
    uint64_t frames, double duration_s, uint64_t size_bytes)
{
	sqlite3_stmt *st;
	size_t n = 0;
	pyc_err rv;

	rv = prepare(db,
	    "UPDATE recordings SET state = ?, frames = ?, duration_seconds = ?,"
	    " size_bytes = ? WHERE filename = ?", &st);
	if (rv != PYC_OK)
		return rv;
	sqlite3_bind_text(st, 1, rec_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64) frames);
	sqlite3_bind_double(st, 3, duration_s);
	sqlite3_bind_int64(st, 4, (sqlite3_int64) size_bytes);
	sqlite3_bind_text(st, 5, filename, -1, SQLITE_STATIC);
	if ((rv = step_done(db, st, "finish", &n)) != PYC_OK)
		return rv;
	return n > 0 ? PYC_OK : PYC_ENOENT;
}

#define ROW_COLS                                                            \
	"id, filename, session_id, created, created_us, duration_seconds,"  \
	" frames, sample_rate, channels, size_bytes, settings, state,"      \
	" coalesce(expires_at, 0)"

static void text_col(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(dst, cap, "%s", t != NULL ? (const char *) t : "");
}

static void read_row(sqlite3_stmt *st, rec_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	text_col(st, 1, r->filename, sizeof(r->filename));
	text_col(st, 2, r->session_id, sizeof(r->session_id));
	text_col(st, 3, r->created, sizeof(r->created));
	r->created_us = sqlite3_column_int64(st, 4);
	r->duration_s = sqlite3_column_double(st, 5);
	r->frames = (uint64_t) sqlite3_column_int64(st, 6);
	r->sample_rate = (uint32_t) sqlite3_column_int(st, 7);
	r->channels = (uint32_t) sqlite3_column_int(st, 8);
	r->size_bytes = (uint64_t) sqlite3_column_int64(st, 9);
	text_col(st, 10, r->settings, sizeof(r->settings));
	r->state = state_parse((const char *) sqlite3_column_text(st, 11));
	r->expires_at = sqlite3_column_int64(st, 12);
}

pyc_err rec_db_get(rec_db *db, const char *filename, rec_row *row)
{
	sqlite3_stmt *st;
	pyc_err rv;
	int rc;

	if ((rv = prepare(db, "SELECT " ROW_COLS " FROM recordings WHERE filename = ?",
	    &st)) != PYC_OK)
		return rv;
	sqlite3_bind_text(st, 1, filename, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, row);
		rv = PYC_OK;
	} else {
		rv = rc == SQLITE_DONE ? PYC_ENOENT : map_rc(db, rc, "get");
	}
	sqlite3_finalize(st);
	return rv;
}

/* Collects every row a prepared, bound statement returns (at most max). */
static pyc_err collect(rec_db *db, sqlite3_stmt *st, size_t max, rec_row **rows, size_t *n)
{
	rec_row *v = NULL;
	size_t cnt = 0, cap = 0;
	pyc_err rv = PYC_OK;
	int rc;

	while (cnt < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			rec_row *nv = realloc(v, ncap * sizeof(*v));
			if (nv == NULL) {
				rv = PYC_ENOMEM;
				goto done;
			}
			v = nv;
			cap = ncap;
		}
		read_row(st, &v[cnt++]);
	}
	if (cnt < max && rc != SQLITE_DONE)
		rv = map_rc(db, rc, "select");
done:
	sqlite3_finalize(st);
	if (rv != PYC_OK) {
		free(v);
		return rv;
	}
	if (cnt == 0) {
		free(v);
		v = NULL;
	}
	*rows = v;
	*n = cnt;
	return PYC_OK;
}

pyc_err rec_db_list(rec_db *db, const char *sid, uint32_t skip, uint32_t limit,
    rec_row **rows, size_t *n)
{
	sqlite3_stmt *st;
	pyc_err rv;

	*rows = NULL;
	*n = 0;
	if (sid != NULL && limit > REC_LIST_MAX)
		limit = REC_LIST_MAX;
	if (sid != NULL && limit == 0)
		return PYC_OK;
	rv = prepare(db, sid != NULL ?
	    "SELECT " ROW_COLS " FROM recordings WHERE session_id = ?1"
	    " ORDER BY created_us DESC, id DESC LIMIT ?2 OFFSET ?3" :
	    "SELECT " ROW_COLS " FROM recordings ORDER BY id", &st);
	if (rv != PYC_OK)
		return rv;
	if (sid != NULL) {
		sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, limit);
		sqlite3_bind_int64(st, 3, skip);
	}
	return collect(db, st, sid != NULL ? limit : SIZE_MAX, rows, n);
}

pyc_err rec_db_expired(rec_db *db, int64_t now, uint32_t limit, rec_row **rows,
    size_t *n)
{
	sqlite3_stmt *st;
	pyc_err rv;

	*rows = NULL;
	*n = 0;
	rv = prepare(db, "SELECT " ROW_COLS " FROM recordings WHERE expires_at IS NOT NULL"
	    " AND expires_at <= ?1 AND state != 'recording' ORDER BY expires_at LIMIT ?2",
	    &st);
	if (rv != PYC_OK)
		return rv;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, limit);
	return collect(db, st, limit, rows, n);
}

pyc_err rec_db_delete(rec_db *db, const char *filename)
{
	sqlite3_stmt *st;
	size_t n = 0;
	pyc_err rv;

	if ((rv = prepare(db, "DELETE FROM recordings WHERE filename = ?", &st)) != PYC_OK)
		return rv;
	sqlite3_bind_text(st, 1, filename, -1, SQLITE_STATIC);
	if ((rv = step_done(db, st, "delete", &n)) != PYC_OK)
		return rv;
	return n > 0 ? PYC_OK : PYC_ENOENT;
}

pyc_err rec_db_expire_session(rec_db *db, const char *sid, int64_t expires_at,
    size_t *n)
{
	sqlite3_stmt *st;
	pyc_err rv;

	if ((rv = prepare(db, "UPDATE recordings SET expires_at = ? WHERE session_id = ?"
	    " AND expires_at IS NULL", &st)) != PYC_OK)
		return rv;
	sqlite3_bind_int64(st, 1, expires_at);
	sqlite3_bind_text(st, 2, sid, -1, SQLITE_STATIC);
	return step_done(db, st, "expire session", n);
}

pyc_err rec_db_expire_file(rec_db *db, const char *filename, int64_t expires_at)
{
	sqlite3_stmt *st;
	pyc_err rv;

	if ((rv = prepare(db, "UPDATE recordings SET expires_at = ? WHERE filename = ?",
	    &st)) != PYC_OK)
		return rv;
	sqlite3_bind_int64(st, 1, expires_at);
	sqlite3_bind_text(st, 2, filename, -1, SQLITE_STATIC);
	return step_done(db, st, "expire file", NULL);
}

pyc_err rec_db_ping(rec_db *db)
{
	sqlite3_stmt *st;
	pyc_err rv;
	int rc;

	if ((rv = prepare(db, "SELECT count(*) FROM recordings", &st)) != PYC_OK)
		return rv;
	rc = sqlite3_step(st);
	rv = rc == SQLITE_ROW ? PYC_OK : map_rc(db, rc, "ping");
	sqlite3_finalize(st);
	return rv;
}
