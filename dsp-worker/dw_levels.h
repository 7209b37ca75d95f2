/* dw_levels.h - per-channel and mono-mix RMS, sample peak, peak hold,
 * balance and correlation of the processed audio.
 *
 * NOTES: _add accumulates exact integer sums (L^2, R^2, L R, peaks) of
 * int16 frames; _read turns what arrived since the previous read into
 * figures and resets the sums. The mono mix is (L + R) / 2, so its power
 * is (LL + 2 LR + RR) / 4 and costs nothing per sample; mono input is
 * analysed as dual-mono (R = L). Smoothing is on the mean powers:
 * P = a P + (1 - a) p with a = exp(-dt / tau), dt the duration of the
 * frames since the previous read (tau = 0: P = p); it starts from silence.
 * Balance (R - L) / (R + L) and correlation LR / sqrt(LL RR) are computed
 * from the smoothed powers (0 when silent). The sample peak is that of the
 * frames since the previous read, 0 dBFS being 32768; the held peak follows
 * any higher peak at once, holds DW_PEAK_HOLD_S of audio, then falls
 * DW_PEAK_FALL_DB_S, never below the current peak. A read with no new
 * frames changes nothing and reports the peak as silence.
 */
#ifndef DW_LEVELS_H
#define DW_LEVELS_H

#include <stddef.h>
#include <stdint.h>

#include "dw_pipeline.h"

#define DW_PEAK_HOLD_S 1.5
#define DW_PEAK_FALL_DB_S 20.0

typedef struct dw_levels {
	int channels;
	double rate;
	double tau;
	int64_t sum_ll, sum_rr, sum_lr; /* since the last read, int16 units */
	int32_t peak[DW_MAX_CHANNELS];
	uint64_t frames;
	double p_ll, p_rr, p_lr;        /* smoothed, full scale = 1 */
	double hold_db[DW_MAX_CHANNELS];
	double hold_left[DW_MAX_CHANNELS];
} dw_levels;

/* channels 1 or 2, rate 1..1e6 Hz, tau 0..PYC_INTEGRATION_MAX_S s;
 * PYC_EINVAL otherwise (also NaN, infinities). No allocation. */
pyc_err dw_levels_init(dw_levels *lv, int channels, double rate_hz,
    double tau_s);

/* PYC_EINVAL for NaN or out of range; nothing changed then. */
pyc_err dw_levels_set_tau(dw_levels *lv, double tau_s);

/* Accumulates frames interleaved int16 frames. */
void dw_levels_add(dw_levels *lv, const int16_t *pcm, size_t frames);

/* Fills frames_analysed, rms_db, rms_ch_db, peak_db, peak_hold_db,
 * balance and correlation of m, and resets the per-read sums. */
void dw_levels_read(dw_levels *lv, dw_meter *m);

/* 10 log10(p), clamped to DW_SILENCE_DB (also for p <= 0). */
double dw_db_power(double p);

#endif /* DW_LEVELS_H */
