/* dw_waveform.c - bucketed min/max ring for the oscilloscope view.
 *
 * NOTES: the per-sample work is a compare pair; a bucket's pair is stored
 * when its last sample arrives, twice: at head and at head + points of a
 * ring twice as long, so the latest `points` pairs are always contiguous
 * and a read is a pointer, not a copy.
 */
#include "dw_waveform.h"

#include <stdlib.h>

#include "pyc_params.h"

struct dw_waveform {
	int points, bucket;
	float *ring;   /* 2 * points pairs: each pair stored twice */
	int head;      /* next pair to write */
	int cnt;       /* samples in the current bucket */
	float mn, mx;
};

pyc_err dw_waveform_create(int points, int bucket, dw_waveform **out)
{
	dw_waveform *w;

	if (out == NULL || points < 2 || points > PYC_WAVEFORM_MAX ||
	    bucket < 1 || bucket > 65536)
		return PYC_EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PYC_ENOMEM;
	w->points = points;
	w->bucket = bucket;
	w->ring = calloc(4 * (size_t) points, sizeof(float));
	if (w->ring == NULL) {
		dw_waveform_destroy(w);
		return PYC_ENOMEM;
	}
	*out = w;
	return PYC_OK;
}

void dw_waveform_destroy(dw_waveform *w)
{
	if (w == NULL)
		return;
	free(w->ring);
	free(w);
}

void dw_waveform_push(dw_waveform *w, const float *x, size_t n)
{
	float mn = w->mn, mx = w->mx;
	int cnt = w->cnt;

	for (size_t i = 0; i < n; i++) {
		float v = x[i];
		if (cnt == 0) {
			mn = mx = v;
		} else {
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		if (++cnt == w->bucket) {
			float *a = w->ring + 2 * w->head;
			float *b = a + 2 * w->points;
			a[0] = b[0] = mn;
			a[1] = b[1] = mx;
			if (++w->head == w->points)
				w->head = 0;
			cnt = 0;
		}
	}
	w->mn = mn;
	w->mx = mx;
	w->cnt = cnt;
}

const float *dw_waveform_read(dw_waveform *w)
{
	/* The oldest pair is the next to be written. */
	return w->ring + 2 * w->head;
}

int dw_waveform_points(const dw_waveform *w)
{
	return w->points;
}
