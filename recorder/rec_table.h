/* rec_table.h - the open recordings, by session id and by worker pipe.
 *
 * NOTES: one table, one mutex, shared by the stream thread (start, append,
 * stop), the control thread (session ended, live lengths for a list) and
 * shutdown. A session has at most one open recording. The lock is held
 * while a job is queued for a recording (rec_writer.h), which is what
 * makes "nothing after its stop" hold; it is never held across file or
 * database I/O.
 */
#ifndef REC_TABLE_H
#define REC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"
#include "rec_writer.h"

typedef struct rec_table rec_table;

/* On success *out belongs to the caller (rec_table_destroy). */
pyc_err rec_table_create(rec_table **out);
/* Frees the table, not the recordings (it must be empty). Accepts NULL. */
void rec_table_destroy(rec_table *t);

void rec_table_lock(rec_table *t);
void rec_table_unlock(rec_table *t);

/* The following need the lock. */
rec_recording *rec_table_find(rec_table *t, const char *sid);
void rec_table_add(rec_table *t, rec_recording *r);
void rec_table_remove(rec_table *t, rec_recording *r);
/* Removes up to max recordings of pipe_id (every one if pipe_id is 0)
 * into out; returns how many. */
size_t rec_table_take(rec_table *t, uint32_t pipe_id, rec_recording **out, size_t max);
size_t rec_table_count(rec_table *t);

#endif /* REC_TABLE_H */
