/* rec_cleanup.c - recovery of files left by a crash, deletion, retention.
 *
 * NOTES: every file system call goes through the recordings folder's fd
 * (openat, unlinkat, renameat, fstatat with AT_SYMLINK_NOFOLLOW) and only
 * with names that passed rec_name_valid, so nothing outside the folder is
 * touched whatever the database or the folder contains. Folder entries are
 * read from a dup of the fd so the caller's fd keeps its position.
 */
#include "rec_cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pyc_log.h"
#include "rec_name.h"
#include "rec_wav.h"

static int exists(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Repairs part, renames it to name; info gets its length. */
static pyc_err finish_part(int dirfd, const char *part, const char *name, rec_wav_info *info)
{
	pyc_err rv = rec_wav_repair(dirfd, part, info);
	if (rv != PYC_OK)
		return rv;
	if (renameat(dirfd, part, dirfd, name) != 0)
		return pyc_err_from_errno(errno);
	fsync(dirfd);
	return PYC_OK;
}

static void recover_row(rec_db *db, int dirfd, const rec_row *row, rec_recovery *out)
{
	char part[REC_NAME_MAX + 1];
	rec_wav_info info;
	rec_state state = row->state;
	pyc_err rv;

	if (!rec_name_valid(row->filename)) {
		pyc_log(PYC_LOG_WARN, "recovery: row %lld has a bad file name; removed",
		    (long long) row->id);
		rec_db_delete(db, row->filename);
		out->rows_removed++;
		return;
	}
	rec_name_part(row->filename, part);
	if (exists(dirfd, part)) {
		rv = finish_part(dirfd, part, row->filename, &info);
		if (rv == PYC_EPROTO) {
			pyc_log(PYC_LOG_WARN, "recovery: %s holds no usable audio; removed", part);
			unlinkat(dirfd, part, 0);
			rec_db_delete(db, row->filename);
			out->unusable++;
			return;
		}
		if (rv != PYC_OK) {
			pyc_log(PYC_LOG_ERROR, "recovery: %s: %s", part, pyc_strerror(rv));
			return;
		}
		if (state == REC_STATE_RECORDING)
			state = REC_STATE_RECOVERED;
	} else if (exists(dirfd, row->filename)) {
		if (state != REC_STATE_RECORDING)
			return; /* the normal case */
		/* Renamed, but the row was not updated before the crash. */
		if ((rv = rec_wav_repair(dirfd, row->filename, &info)) != PYC_OK) {
			pyc_log(PYC_LOG_ERROR, "recovery: %s: %s", row->filename, pyc_strerror(rv));
			return;
		}
		state = REC_STATE_RECOVERED;
	} else {
		pyc_log(PYC_LOG_WARN, "recovery: %s is gone; row removed", row->filename);
		rec_db_delete(db, row->filename);
		out->rows_removed++;
		return;
	}
	rv = rec_db_finish(db, row->filename, state, info.frames,
	    info.sample_rate > 0 ? (double) info.frames / info.sample_rate : 0,
	    info.size_bytes);
	if (rv == PYC_OK) {
		out->repaired++;
		pyc_log(PYC_LOG_INFO, "recovery: %s %s, %llu frames", row->filename,
		    rec_state_name(state), (unsigned long long) info.frames);
	}
}

static void register_orphan(rec_db *db, int dirfd, const char *entry, rec_recovery *out)
{
	char name[REC_NAME_MAX + 1];
	rec_wav_info info;
	rec_row row;
	pyc_err rv;
	int64_t now = rec_now_us();

	if (rec_name_is_part(entry, name)) {
		rec_row existing;
		if (rec_db_get(db, name, &existing) == PYC_OK)
			return; /* handled with its row */
		rv = finish_part(dirfd, entry, name, &info);
	} else {
		snprintf(name, sizeof(name), "%s", entry);
		if (rec_db_get(db, name, &row) == PYC_OK)
			return;
		rv = rec_wav_repair(dirfd, name, &info);
	}
	if (rv == PYC_EPROTO) {
		pyc_log(PYC_LOG_WARN, "recovery: %s holds no usable audio; removed", entry);
		unlinkat(dirfd, entry, 0);
		out->unusable++;
		return;
	}
	if (rv != PYC_OK) {
		pyc_log(PYC_LOG_ERROR, "recovery: %s: %s", entry, pyc_strerror(rv));
		return;
	}
	memset(&row, 0, sizeof(row));
	snprintf(row.filename, sizeof(row.filename), "%s", name);
	rec_time_iso((time_t) (now / 1000000), row.created);
	row.created_us = now;
	row.frames = info.frames;
	row.duration_s = (double) info.frames / info.sample_rate;
	row.sample_rate = info.sample_rate;
	row.channels = info.channels;
	row.size_bytes = info.size_bytes;
	snprintf(row.settings, sizeof(row.settings), "{}");
	row.state = REC_STATE_RECOVERED;
	if (rec_db_insert(db, &row) == PYC_OK &&
	    rec_db_expire_file(db, name, now / 1000000) == PYC_OK) {
		out->orphans++;
		pyc_log(PYC_LOG_WARN, "recovery: %s had no row; registered without a session"
		    " and expired", name);
	}
}

pyc_err rec_cleanup_recover(rec_db *db, int dirfd, rec_recovery *out)
{
	rec_row *rows = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int fd;
	pyc_err rv;

	memset(out, 0, sizeof(*out));
	if ((rv = rec_db_list(db, NULL, 0, 0, &rows, &n)) != PYC_OK)
		return rv;
	for (size_t i = 0; i < n; i++)
		recover_row(db, dirfd, &rows[i], out);
	free(rows);

	if ((fd = dup(dirfd)) < 0)
		return pyc_err_from_errno(errno);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return pyc_err_from_errno(errno);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!rec_name_valid(de->d_name) && !rec_name_is_part(de->d_name, NULL))
			continue;
		if (!exists(dirfd, de->d_name))
			continue; /* not a regular file (a symlink...): never touched */
		register_orphan(db, dirfd, de->d_name, out);
	}
	closedir(d);
	pyc_log(PYC_LOG_INFO, "recovery: %zu repaired, %zu rows without a file removed,"
	    " %zu orphan files registered, %zu unusable files removed", out->repaired,
	    out->rows_removed, out->orphans, out->unusable);
	return PYC_OK;
}

pyc_err rec_cleanup_delete(rec_db *db, int dirfd, const char *filename)
{
	char part[REC_NAME_MAX + 1];

	if (!rec_name_valid(filename))
		return PYC_EINVAL;
	if (unlinkat(dirfd, filename, 0) != 0 && errno != ENOENT) {
		int e = errno;
		pyc_log(PYC_LOG_ERROR, "delete %s: %s", filename, strerror(e));
		return pyc_err_from_errno(e);
	}
	rec_name_part(filename, part);
	unlinkat(dirfd, part, 0);
	return rec_db_delete(db, filename);
}

pyc_err rec_cleanup_session(rec_db *db, int dirfd, const char *sid, int retention_s,
    size_t *deleted)
{
	rec_row *rows;
	size_t n, count = 0, skipped = 0;
	pyc_err rv;

	*deleted = 0;
	if (retention_s > 0) {
		size_t marked = 0;
		rv = rec_db_expire_session(db, sid, rec_now_us() / 1000000 + retention_s, &marked);
		if (rv == PYC_OK)
			pyc_log(PYC_LOG_INFO, "session %s ended: %zu recordings kept for %d s",
			    sid, marked, retention_s);
		return rv;
	}
	do {
		if ((rv = rec_db_list(db, sid, (uint32_t) skipped, REC_LIST_MAX, &rows, &n)) != PYC_OK)
			return rv;
		for (size_t i = 0; i < n; i++) {
			if (rows[i].state == REC_STATE_RECORDING ||
			    rec_cleanup_delete(db, dirfd, rows[i].filename) != PYC_OK)
				skipped++;
			else
				count++;
		}
		free(rows);
	} while (n == REC_LIST_MAX);
	*deleted = count;
	pyc_log(PYC_LOG_INFO, "session %s ended: %zu recordings deleted", sid, count);
	return PYC_OK;
}

pyc_err rec_cleanup_sweep(rec_db *db, int dirfd, size_t *deleted)
{
	rec_row *rows;
	size_t n, count = 0;
	pyc_err rv;

	if ((rv = rec_db_expired(db, rec_now_us() / 1000000, REC_LIST_MAX, &rows, &n)) != PYC_OK)
		return rv;
	for (size_t i = 0; i < n; i++) {
		if (rec_cleanup_delete(db, dirfd, rows[i].filename) == PYC_OK)
			count++;
		else if (!rec_name_valid(rows[i].filename))
			rec_db_delete(db, rows[i].filename);
	}
	free(rows);
	if (count > 0)
		pyc_log(PYC_LOG_INFO, "sweep: %zu expired recordings deleted", count);
	if (deleted != NULL)
		*deleted = count;
	return PYC_OK;
}
