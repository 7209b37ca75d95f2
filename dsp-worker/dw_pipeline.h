/* dw_pipeline.h - the DSP engine: gain, Butterworth low-pass, levels,
 * stereo analysis, spectrum and waveform for one session's audio.
 *
 * NOTES: one pipeline per session, owned by the worker process serving it.
 * Everything is allocated in _create (and in _set_params when a size
 * changes: FFT size, bands, waveform points, rate or channels); per-chunk
 * _process allocates nothing (speexdsp preprocess.c, kissfft cfg). Chunks
 * may have any number of frames; filter and analysis state carry across
 * chunks so any chunking of a signal gives bit-identical output.
 *
 * Meter semantics: _process accumulates; _meter reads what was analysed
 * since the previous _meter call (levels, peaks, clips are per-read
 * figures smoothed or held as documented in docs/dsp.md) and resets the
 * per-read accumulators. Pointers in dw_meter stay valid until the next
 * call on the pipeline.
 */
#ifndef DW_PIPELINE_H
#define DW_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"
#include "pyc_params.h"

typedef struct dw_pipeline dw_pipeline;

#define DW_MAX_CHANNELS 2
#define DW_SILENCE_DB (-120.0) /* the floor every dB figure is clamped to */

typedef struct dw_meter {
	uint64_t frames_total;      /* frames processed since create */
	uint64_t frames_analysed;   /* frames since the previous _meter call */
	int channels;
	double rms_db;              /* smoothed RMS of the mono mix, dBFS */
	double rms_ch_db[DW_MAX_CHANNELS];  /* smoothed RMS per channel, dBFS */
	double peak_db[DW_MAX_CHANNELS];    /* sample peak since last read, dBFS */
	double peak_hold_db[DW_MAX_CHANNELS]; /* held peak, then falling */
	uint64_t clips[DW_MAX_CHANNELS];    /* clipped samples since create */
	double balance;             /* (R-L)/(R+L) of channel RMS, -1..1 */
	double correlation;         /* -1..1, 0 for silence */
	const float *spectrum01;    /* PYC_METER_BANDS values 0..1 (-80..0 dB) */
	int bands;                  /* number of spectrum_db bands, 0 if off */
	const float *band_db;       /* bands values, dBFS */
	const float *band_hz;       /* bands centre frequencies, Hz */
	int waveform_points;        /* 0 if off */
	const float *waveform;      /* waveform_points (min,max) pairs, -1..1 */
	int spectrum_valid;         /* 0 until the first FFT frame completed */
	int loudness;               /* 1 if the fields below are on */
	double lufs_m, lufs_s, lufs_i; /* momentary, short-term, integrated */
	double lra;                 /* loudness range, LU */
	double true_peak_db[DW_MAX_CHANNELS];     /* dBTP since the last read */
	double true_peak_max_db[DW_MAX_CHANNELS]; /* dBTP since on / reset */
	double sample_peak_max_db[DW_MAX_CHANNELS]; /* dBFS since on / reset */
} dw_meter;

/* Creates a pipeline for p (every field of pyc_params is used; p->mask is
 * ignored). PYC_EINVAL for any out-of-range value, PYC_ENOMEM. On success
 * the caller owns *out and frees it with dw_pipeline_destroy. */
pyc_err dw_pipeline_create(const pyc_params *p, dw_pipeline **out);

/* Frees everything; accepts NULL. */
void dw_pipeline_destroy(dw_pipeline *pl);

/* Applies the fields of p->mask. Gain ramps, cutoff changes and filter
 * on/off transitions are click-free. A change of sample rate or channel
 * count resets the pipeline. PYC_P_LOUDNESS_RESET in p->mask restarts the
 * loudness meter (integrated, range, peaks since reset) if it is on. The cutoff is clamped to 0.45 fs (the value in
 * force is reported by dw_pipeline_params). On error nothing is changed. */
pyc_err dw_pipeline_set_params(dw_pipeline *pl, const pyc_params *p);

/* The parameters in force (cutoff after clamping). */
void dw_pipeline_params(const dw_pipeline *pl, pyc_params *out);

/* Processes nbytes of interleaved little-endian int16 PCM (a trailing
 * partial frame is dropped) and writes the processed audio, interleaved
 * int16 in host order, to out (room for nbytes/2 samples; out may be NULL
 * if the caller does not want it). *frames_out gets the frame count.
 * Allocates nothing. */
pyc_err dw_pipeline_process(dw_pipeline *pl, const void *pcm_le, size_t nbytes,
    int16_t *out, size_t *frames_out);

/* Reads the meter (see NOTES) and resets the per-read accumulators. */
void dw_pipeline_meter(dw_pipeline *pl, dw_meter *out);

/* Centre frequencies (Hz) of the PYC_METER_BANDS bands of the public
 * "spectrum" field; valid until the next call on the pipeline. */
const float *dw_pipeline_meter_band_hz(const dw_pipeline *pl);

/* Centre frequencies (Hz) of the spectrum_db bands, *bands of them (0 and
 * NULL when off); for the "ready" message. Valid until the next call. */
const float *dw_pipeline_band_hz(const dw_pipeline *pl, int *bands);

/* Stage profiling, for the benchmark: while on, _process and _meter add
 * the time each stage takes (CLOCK_MONOTONIC around each block's stage:
 * a few tens of ns per block) to counters; switching on resets them. */
enum dw_stage {
	DW_STAGE_CONVERT = 0, /* LE int16 -> double, gain */
	DW_STAGE_FILTER,      /* low-pass (always running), dry/wet */
	DW_STAGE_SATURATE,    /* round, saturate, clip count, int16 out */
	DW_STAGE_LEVELS,      /* level sums */
	DW_STAGE_LOUDNESS,    /* EBU R128 (libebur128), when on */
	DW_STAGE_SPECTRUM,    /* mono mix, ring, FFT frames */
	DW_STAGE_WAVEFORM,    /* min/max buckets */
	DW_STAGE_METER,       /* dw_pipeline_meter */
	DW_STAGE_COUNT
};
void dw_pipeline_profile(dw_pipeline *pl, int on);
void dw_pipeline_profile_read(const dw_pipeline *pl,
    uint64_t ns[DW_STAGE_COUNT]);
const char *dw_pipeline_stage_name(int stage); /* "convert"...; never NULL */

#endif /* DW_PIPELINE_H */
