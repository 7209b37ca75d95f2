/* dw_filter.h - Butterworth low-pass design as second-order sections, the
 * section cascade, and the click-free low-pass the pipeline runs.
 *
 * NOTES: the design follows scipy.signal.butter(output='sos'): analog
 * prototype poles, prewarped cutoff 2 fs tan(pi fc / fs), bilinear
 * transform, poles paired into sections ordered from the farthest from the
 * unit circle to the closest, zeros at z = -1 (for an odd order the real
 * pole's section carries the double zero and the last section a single
 * zero, as SciPy does). It is never one high-order polynomial. Unlike
 * SciPy, which puts the whole gain in the first section, every section
 * here has unity gain at DC: the product of the b0s is SciPy's gain, the
 * transfer function is the same, and the states of a low-cutoff cascade
 * keep a sane range. Sections run in transposed direct form II with double
 * state, interleaved over the channels (SciPy's sosfilt structure).
 *
 * dw_lowpass wraps a cascade for the pipeline: the filter always runs, so
 * its state is warm when it is switched on; on/off is a 10 ms linear
 * dry/wet crossfade; a cutoff change glides in log-frequency over 50 ms,
 * recomputing the coefficients every sample and keeping the state (with
 * updates every 16 samples a 10 Hz -> 20 kHz sweep steps 8x the tone's own
 * slope; every sample keeps it at 1.4x, most changes under 1.15x); an
 * order change starts a second cascade primed with the steady state of
 * the last input and crossfades to it over 10 ms. Every ramp is driven by
 * per-sample counters, so any chunking gives bit-identical output.
 */
#ifndef DW_FILTER_H
#define DW_FILTER_H

#include <stddef.h>

#include "pyc_err.h"

#define DW_FILTER_MAX_SECTIONS 4 /* order 8 */
#define DW_FILTER_CHANNELS 2
#define DW_XFADE_S 0.010          /* on/off and order-change crossfade */
#ifndef DW_GLIDE_S
#define DW_GLIDE_S 0.050          /* cutoff glide duration */
#endif
#ifndef DW_GLIDE_STEP
#define DW_GLIDE_STEP 1           /* samples between coefficient updates */
#endif

typedef struct dw_biquad {
	double b0, b1, b2, a1, a2; /* a0 = 1 */
} dw_biquad;

/* Designs an order-N (1..8) Butterworth low-pass at cutoff_hz for rate_hz
 * (0 < cutoff < rate/2) into sos[DW_FILTER_MAX_SECTIONS]; *nsec gets
 * ceil(N/2). PYC_EINVAL for bad values, NaN or infinities. */
pyc_err dw_filter_design(int order, double cutoff_hz, double rate_hz,
    dw_biquad *sos, int *nsec);

/* A cascade with its state, for 1 or 2 interleaved channels. Plain struct:
 * embed it, no allocation. */
typedef struct dw_filter {
	int channels;
	int order;
	int nsec;
	dw_biquad c[DW_FILTER_MAX_SECTIONS];
	double s[DW_FILTER_MAX_SECTIONS][DW_FILTER_CHANNELS][2];
} dw_filter;

/* Designs and zeroes the state. PYC_EINVAL as dw_filter_design, or for
 * channels other than 1 or 2; f is unchanged on error. */
pyc_err dw_filter_init(dw_filter *f, int order, double cutoff_hz,
    double rate_hz, int channels);

/* Redesigns for a new cutoff keeping the state (used by the glide). */
pyc_err dw_filter_retune(dw_filter *f, double cutoff_hz, double rate_hz);

/* Sets the state to the steady state of a constant input x[ch]. */
void dw_filter_prime(dw_filter *f, const double *x);

/* Filters frames interleaved frames from in to out (may be the same). */
void dw_filter_run(dw_filter *f, const double *in, double *out, size_t frames);

/* The click-free low-pass (see NOTES). Plain struct, no allocation. */
typedef struct dw_lowpass {
	int channels;
	double rate;
	int enabled;
	int order;
	double cutoff;      /* target cutoff, Hz (already clamped) */
	double cur;         /* cutoff the active cascade has now */
	dw_filter f[2];
	int active;         /* index of the cascade in force */
	double last_in[DW_FILTER_CHANNELS];
	/* cutoff glide */
	int glide_left;     /* coefficient updates still to do */
	int glide_phase;    /* samples until the next update */
	double glide_dlog;  /* log-cutoff step per update */
	/* order crossfade: from f[!active] to f[active] */
	int xf_left;
	int xf_len;
	double xf_w;
	/* dry/wet */
	double wet;         /* 0 = dry, 1 = filtered */
	double wet_step;
	int wet_left;
} dw_lowpass;

/* cutoff is clamped to [10 Hz, 0.45 rate]. PYC_EINVAL for a bad value. */
pyc_err dw_lowpass_init(dw_lowpass *lp, int enabled, int order,
    double cutoff_hz, double rate_hz, int channels);

/* Clamps a cutoff to what the engine uses at rate_hz. */
double dw_lowpass_clamp(double cutoff_hz, double rate_hz);

/* Click-free changes. PYC_EINVAL (nothing changed) for a bad value. */
pyc_err dw_lowpass_set_enabled(dw_lowpass *lp, int enabled);
pyc_err dw_lowpass_set_cutoff(dw_lowpass *lp, double cutoff_hz);
pyc_err dw_lowpass_set_order(dw_lowpass *lp, int order);

/* Filters frames interleaved frames of x in place; tmp has room for
 * frames * channels doubles. */
void dw_lowpass_run(dw_lowpass *lp, double *x, double *tmp, size_t frames);

/* 1 while a glide, a crossfade or a dry/wet ramp is in progress. */
int dw_lowpass_busy(const dw_lowpass *lp);

#endif /* DW_FILTER_H */
