/* dw_waveform.c - bucketed min/max ring for the oscilloscope view.
 *
 * NOTES: the per-sample work is a compare pair; a bucket's pair is stored
 * when its last sample arrives. The linear copy for a read is made in an
 * array allocated in _create.
 */
#include "dw_waveform.h"

#include <stdlib.h>

#include "pyc_params.h"

struct dw_waveform {
	int points, bucket;
	float *ring;   /* 2 * points */
	float *lin;    /* 2 * points, for reads */
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
	w->ring = calloc(2 * (size_t) points, sizeof(float));
	w->lin = calloc(2 * (size_t) points, sizeof(float));
	if (w->ring == NULL || w->lin == NULL) {
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
	free(w->lin);
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
			w->ring[2 * w->head] = mn;
			w->ring[2 * w->head + 1] = mx;
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
	size_t tail = 2 * (size_t) (w->points - w->head);
	size_t head = 2 * (size_t) w->head;

	for (size_t i = 0; i < tail; i++)
		w->lin[i] = w->ring[head + i];
	for (size_t i = 0; i < head; i++)
		w->lin[tail + i] = w->ring[i];
	return w->lin;
}

int dw_waveform_points(const dw_waveform *w)
{
	return w->points;
}
