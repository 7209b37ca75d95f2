/* pyc_params.h - a session's processing parameters, their ranges and defaults.
 *
 * NOTES: the gateway validates what a client sends into this struct, keeps
 * the merged result for the session (so a fresh worker can be given the same
 * settings after a crash), and sends it to the worker over the wire. The
 * mask says which fields a message carries; merging applies only those.
 * Ranges are the public contract's (DESIGN.md): the dashboard offers gain
 * 0..60 dB, the engine takes -60..+60.
 */
#ifndef PYC_PARAMS_H
#define PYC_PARAMS_H

#include <stdint.h>

#include "pyc_err.h"

#define PYC_RATE_MIN 8000
#define PYC_RATE_MAX 192000
#define PYC_RATE_DEFAULT 44100
#define PYC_CHANNELS_DEFAULT 2
#define PYC_GAIN_MIN_DB (-60.0)
#define PYC_GAIN_MAX_DB 60.0
#define PYC_CUTOFF_MIN_HZ 10.0
#define PYC_CUTOFF_MAX_RATIO 0.45 /* of the sample rate, applied by the engine */
#define PYC_CUTOFF_MAX_HZ (PYC_CUTOFF_MAX_RATIO * PYC_RATE_MAX)
#define PYC_CUTOFF_DEFAULT_HZ 1000.0
#define PYC_INTEGRATION_MAX_S 10.0
#define PYC_ORDER_MIN 2
#define PYC_ORDER_MAX 8
#define PYC_ORDER_DEFAULT 4
#define PYC_FFT_MIN 256
#define PYC_FFT_MAX 16384
#define PYC_FFT_DEFAULT 4096
#define PYC_BANDS_MAX 256
/* bands = this: 1/3-octave bands on the IEC 61260-1 base-10 midband
 * frequencies (ANSI S1.11 nominal centres 20 Hz, 25 Hz, 31.5 Hz, ...), the
 * public "third_octave" (docs/protocol.md) */
#define PYC_BANDS_THIRD_OCTAVE (-3)
#define PYC_METER_BANDS 32 /* the public "spectrum" field */
#define PYC_WAVEFORM_MAX 4096
#define PYC_METER_RATE_MAX 1000.0

enum pyc_param_bit {
	PYC_P_RATE = 1u << 0,
	PYC_P_CHANNELS = 1u << 1,
	PYC_P_GAIN = 1u << 2,
	PYC_P_FILTER = 1u << 3,
	PYC_P_CUTOFF = 1u << 4,
	PYC_P_INTEGRATION = 1u << 5,
	PYC_P_ORDER = 1u << 6,
	PYC_P_FFT = 1u << 7,
	PYC_P_BANDS = 1u << 8,
	PYC_P_WAVEFORM = 1u << 9,
	PYC_P_METER_RATE = 1u << 10,
	PYC_P_MONITOR = 1u << 11,
	PYC_P_LOUDNESS = 1u << 12,
	PYC_P_ALL = (1u << 13) - 1, /* every field */
	/* Not a field: "restart the integrated loudness and the LRA" (the
	 * client's reset_loudness). Accepted by the checks, never merged into
	 * the parameters in force. */
	PYC_P_LOUDNESS_RESET = 1u << 13,
	PYC_P_VALID = PYC_P_ALL | PYC_P_LOUDNESS_RESET,
};

typedef struct pyc_params {
	uint32_t mask;          /* PYC_P_* bits of the fields that are set */
	int32_t sample_rate;    /* Hz, 8000..192000 */
	int32_t channels;       /* 1 or 2 */
	double gain_db;         /* -60..+60 */
	int32_t filter_enabled; /* 0 or 1 */
	double cutoff_hz;       /* 10..86400; the engine clamps to 0.45 fs */
	double integration_s;   /* 0..10, 0 = no smoothing */
	int32_t filter_order;   /* 2..8 */
	int32_t fft_size;       /* power of two, 256..16384 */
	int32_t bands;          /* 0 (not sent), 1..256 or PYC_BANDS_THIRD_OCTAVE */
	int32_t waveform_points;/* 0 (not sent) or 2..4096 */
	double max_meter_rate;  /* meters/s at most, 0 = one per chunk */
	int32_t monitor;        /* 0 or 1 */
	int32_t loudness;       /* 0 or 1: EBU R128 meter fields (off by default) */
} pyc_params;

/* Fills every field with its default and sets mask to PYC_P_ALL. */
void pyc_params_defaults(pyc_params *p);

/* Copies into dst the fields whose bits are set in src->mask (the
 * PYC_P_LOUDNESS_RESET bit is not copied). */
void pyc_params_merge(pyc_params *dst, const pyc_params *src);

/* Checks every field present in p->mask against its range (NaN and
 * infinities are out of range). On PYC_EINVAL, *bad_field (if not NULL) is
 * set to the public name of the first bad field ("gain", "cutoff_freq"...). */
pyc_err pyc_params_check(const pyc_params *p, const char **bad_field);

#endif /* PYC_PARAMS_H */
