/* dw_loudness.h - EBU R128 loudness (momentary, short-term, integrated,
 * loudness range) and true / sample peak of the processed audio.
 *
 * NOTES: a wrapper of libebur128, the only file of the engine that includes
 * ebur128.h (as dw_fft.c is for kissfft). The state runs in histogram mode
 * (EBUR128_MODE_HISTOGRAM): the gating blocks of the integrated value and
 * of the loudness range go into fixed histograms, so adding frames
 * allocates nothing however long the session (libebur128 otherwise keeps
 * a list of every 100 ms block). Mono is measured as dual mono
 * (EBUR128_DUAL_MONO: a mono -23 dBFS 1 kHz sine reads -23 LUFS, as on
 * both channels of a stereo pair), as the levels analyse mono as dual-mono.
 * True peak: libebur128's 4x oversampling (2x at 96 kHz and above, none
 * from 192 kHz), in dBTP. Figures of silence (libebur128's -inf) read
 * DW_LOUDNESS_FLOOR. M, S, I and LRA are updated every 100 ms of audio
 * (rate / 10 frames from the first, any chunking); a read returns those of
 * the latest update (the peaks are up to the last frame). A reset restarts the integrated value, the range and
 * the peaks since reset; it builds a fresh state (allocates), so it is
 * meant for control messages, not the audio path.
 */
#ifndef DW_LOUDNESS_H
#define DW_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"

typedef struct dw_loudness dw_loudness;

#define DW_LOUDNESS_FLOOR (-120.0)
#define DW_LOUDNESS_MAX_CH 2

typedef struct dw_loudness_read {
	double momentary;   /* LUFS, 400 ms window */
	double short_term;  /* LUFS, 3 s window */
	double integrated;  /* LUFS, gated, since create/reset */
	double range;       /* LU (EBU Tech 3342), since create/reset; 0 early */
	double true_peak_db[DW_LOUDNESS_MAX_CH];     /* dBTP since the last read */
	double true_peak_max_db[DW_LOUDNESS_MAX_CH]; /* dBTP since create/reset */
	double sample_peak_max_db[DW_LOUDNESS_MAX_CH]; /* dBFS since create/reset */
} dw_loudness_read;

/* Creates a meter for channels (1 or 2) at rate_hz (8000..192000).
 * PYC_EINVAL, PYC_ENOMEM. Free with dw_loudness_destroy. */
pyc_err dw_loudness_create(int channels, double rate_hz, dw_loudness **out);

/* Frees everything; accepts NULL. */
void dw_loudness_destroy(dw_loudness *ld);

/* Adds n interleaved int16 frames (host order). Allocates nothing. */
void dw_loudness_add(dw_loudness *ld, const int16_t *x, size_t n);

/* Restarts integrated loudness, range and the since-reset peaks (the
 * momentary and short-term windows restart too). On PYC_ENOMEM nothing
 * changes. */
pyc_err dw_loudness_reset(dw_loudness *ld);

/* Reads the figures; resets the since-last-read true peak. */
void dw_loudness_get(dw_loudness *ld, dw_loudness_read *out);

#endif /* DW_LOUDNESS_H */
