/* dw_waveform.h - min/max decimation of the latest audio for the oscilloscope.
 *
 * NOTES: samples are grouped in buckets of a fixed number of consecutive
 * samples, counted from the first sample ever pushed (so the buckets do not
 * depend on the chunking); each completed bucket becomes one (min, max)
 * pair in a ring of `points` pairs. A read returns the ring oldest first:
 * the latest points * bucket samples. Before enough audio has arrived the
 * older pairs are (0, 0).
 */
#ifndef DW_WAVEFORM_H
#define DW_WAVEFORM_H

#include <stddef.h>

#include "pyc_err.h"

typedef struct dw_waveform dw_waveform;

/* points 2..PYC_WAVEFORM_MAX, bucket 1..65536 samples. PYC_EINVAL,
 * PYC_ENOMEM; the caller frees *out with dw_waveform_destroy. */
pyc_err dw_waveform_create(int points, int bucket, dw_waveform **out);

/* Frees everything; accepts NULL. */
void dw_waveform_destroy(dw_waveform *w);

/* Appends n samples. */
void dw_waveform_push(dw_waveform *w, const float *x, size_t n);

/* The points (min, max) pairs, oldest first; valid until the next call. */
const float *dw_waveform_read(dw_waveform *w);

int dw_waveform_points(const dw_waveform *w);

#endif /* DW_WAVEFORM_H */
