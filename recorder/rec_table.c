/* rec_table.c - a chained hash of open recordings keyed by session id.
 *
 * NOTES: a fixed bucket array (no resizing): the table holds one entry per
 * recording session, a few thousand at most, and lookups happen once per
 * append. Taking by pipe walks every bucket; it happens once per worker
 * that disconnects.
 */
#include "rec_table.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

struct rec_table {
	pthread_mutex_t mtx;
	rec_recording *b[NBUCKETS];
	size_t count;
};

static size_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s != '\0')
		h = (h ^ (uint8_t) *s++) * 16777619u;
	return h % NBUCKETS;
}

pyc_err rec_table_create(rec_table **out)
{
	rec_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return PYC_ENOMEM;
	if (pthread_mutex_init(&t->mtx, NULL) != 0) {
		free(t);
		return PYC_ENOMEM;
	}
	*out = t;
	return PYC_OK;
}

void rec_table_destroy(rec_table *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mtx);
	free(t);
}

void rec_table_lock(rec_table *t)
{
	pthread_mutex_lock(&t->mtx);
}

void rec_table_unlock(rec_table *t)
{
	pthread_mutex_unlock(&t->mtx);
}

rec_recording *rec_table_find(rec_table *t, const char *sid)
{
	for (rec_recording *r = t->b[hash(sid)]; r != NULL; r = r->tnext)
		if (strcmp(r->sid, sid) == 0)
			return r;
	return NULL;
}

void rec_table_add(rec_table *t, rec_recording *r)
{
	size_t h = hash(r->sid);
	r->tnext = t->b[h];
	t->b[h] = r;
	t->count++;
}

void rec_table_remove(rec_table *t, rec_recording *r)
{
	for (rec_recording **pp = &t->b[hash(r->sid)]; *pp != NULL; pp = &(*pp)->tnext) {
		if (*pp == r) {
			*pp = r->tnext;
			r->tnext = NULL;
			t->count--;
			return;
		}
	}
}

size_t rec_table_take(rec_table *t, uint32_t pipe_id, rec_recording **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NBUCKETS && n < max; i++) {
		rec_recording **pp = &t->b[i];
		while (*pp != NULL && n < max) {
			rec_recording *r = *pp;
			if (pipe_id == 0 || r->pipe_id == pipe_id) {
				*pp = r->tnext;
				r->tnext = NULL;
				t->count--;
				out[n++] = r;
			} else {
				pp = &r->tnext;
			}
		}
	}
	return n;
}

size_t rec_table_count(rec_table *t)
{
	return t->count;
}
