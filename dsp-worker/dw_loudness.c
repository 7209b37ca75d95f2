/* dw_loudness.c - the engine's wrapper of libebur128.
 *
 * NOTES: the only includer of ebur128.h in the engine (dw_loudness.h).
 * libebur128 computes the short-term loudness by summing its whole 3 s
 * buffer on each call (~150 us for stereo 48 kHz), so M, S, I and LRA are
 * asked for once per 100 ms of audio (rate / 10 frames, counted from the
 * first frame, whatever the chunking: the update rate of EBU Tech 3341 and
 * of ffmpeg's meter), and a read returns the figures of the latest such
 * boundary; one meter read per 128-frame chunk would otherwise cost 2 us
 * per frame. libebur128 keeps the since-init peaks itself; the
 * since-last-read true peak is the maximum of ebur128_prev_true_peak over
 * the calls to add since the read. Linear peaks (1.0 = full scale) become
 * dB here.
 */
#include "dw_loudness.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>

#include "pyc_params.h"

#define DW_LOUDNESS_MODE (EBUR128_MODE_M | EBUR128_MODE_S | EBUR128_MODE_I | \
    EBUR128_MODE_LRA | EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK | \
    EBUR128_MODE_HISTOGRAM)

struct dw_loudness {
	ebur128_state *st;
	int ch;
	unsigned long rate;
	size_t step, since; /* frames per update (rate / 10), since the last */
	double m, s, i, lra; /* at the latest update */
	double tp_read[DW_LOUDNESS_MAX_CH]; /* linear, since the last read */
};

static double lufs(int rc, double v)
{
	return rc == EBUR128_SUCCESS && isfinite(v) && v > DW_LOUDNESS_FLOOR ?
	    v : DW_LOUDNESS_FLOOR;
}

static void figures_clear(dw_loudness *ld)
{
	ld->since = 0;
	ld->m = ld->s = ld->i = DW_LOUDNESS_FLOOR;
	ld->lra = 0.0;
	for (int c = 0; c < DW_LOUDNESS_MAX_CH; c++)
		ld->tp_read[c] = 0.0;
}

static void figures_update(dw_loudness *ld)
{
	double v = 0.0;
	int rc;

	rc = ebur128_loudness_momentary(ld->st, &v);
	ld->m = lufs(rc, v);
	rc = ebur128_loudness_shortterm(ld->st, &v);
	ld->s = lufs(rc, v);
	rc = ebur128_loudness_global(ld->st, &v);
	ld->i = lufs(rc, v);
	rc = ebur128_loudness_range(ld->st, &v);
	ld->lra = rc == EBUR128_SUCCESS && isfinite(v) && v > 0.0 ? v : 0.0;
}

static ebur128_state *state_new(int ch, unsigned long rate)
{
	ebur128_state *st = ebur128_init((unsigned) ch, rate, DW_LOUDNESS_MODE);
	if (st != NULL && ch == 1 &&
	    ebur128_set_channel(st, 0, EBUR128_DUAL_MONO) != EBUR128_SUCCESS)
		ebur128_destroy(&st);
	return st;
}

pyc_err dw_loudness_create(int channels, double rate_hz, dw_loudness **out)
{
	dw_loudness *ld;

	if (out == NULL || (channels != 1 && channels != 2) ||
	    !(rate_hz >= PYC_RATE_MIN && rate_hz <= PYC_RATE_MAX) ||
	    rate_hz != floor(rate_hz))
		return PYC_EINVAL;
	if ((ld = calloc(1, sizeof(*ld))) == NULL)
		return PYC_ENOMEM;
	ld->ch = channels;
	ld->rate = (unsigned long) rate_hz;
	ld->step = ld->rate / 10;
	figures_clear(ld);
	if ((ld->st = state_new(ld->ch, ld->rate)) == NULL) {
		free(ld);
		return PYC_ENOMEM;
	}
	*out = ld;
	return PYC_OK;
}

void dw_loudness_destroy(dw_loudness *ld)
{
	if (ld == NULL)
		return;
	if (ld->st != NULL)
		ebur128_destroy(&ld->st);
	free(ld);
}

void dw_loudness_add(dw_loudness *ld, const int16_t *x, size_t n)
{
	while (n > 0) {
		size_t m = ld->step - ld->since;
		if (m > n)
			m = n;
		if (ebur128_add_frames_short(ld->st, x, m) != EBUR128_SUCCESS)
			return;
		for (int c = 0; c < ld->ch; c++) {
			double v;
			if (ebur128_prev_true_peak(ld->st, (unsigned) c, &v) ==
				EBUR128_SUCCESS && v > ld->tp_read[c])
				ld->tp_read[c] = v;
		}
		x += m * (size_t) ld->ch;
		n -= m;
		if ((ld->since += m) == ld->step) {
			figures_update(ld);
			ld->since = 0;
		}
	}
}

pyc_err dw_loudness_reset(dw_loudness *ld)
{
	if (ld == NULL)
		return PYC_EINVAL;
	ebur128_state *st = state_new(ld->ch, ld->rate);
	if (st == NULL)
		return PYC_ENOMEM;
	ebur128_destroy(&ld->st);
	ld->st = st;
	figures_clear(ld);
	return PYC_OK;
}

static double lin_db(double v)
{
	return v > 0.0 ? fmax(20.0 * log10(v), DW_LOUDNESS_FLOOR) :
	    DW_LOUDNESS_FLOOR;
}

void dw_loudness_get(dw_loudness *ld, dw_loudness_read *out)
{
	out->momentary = ld->m;
	out->short_term = ld->s;
	out->integrated = ld->i;
	out->range = ld->lra;
	for (int c = 0; c < DW_LOUDNESS_MAX_CH; c++) {
		int s = c < ld->ch ? c : 0; /* mono: both figures alike */
		double tp = 0.0, sp = 0.0;
		if (ebur128_true_peak(ld->st, (unsigned) s, &tp) != EBUR128_SUCCESS)
			tp = 0.0;
		if (ebur128_sample_peak(ld->st, (unsigned) s, &sp) != EBUR128_SUCCESS)
			sp = 0.0;
		out->true_peak_db[c] = lin_db(ld->tp_read[s]);
		out->true_peak_max_db[c] = lin_db(tp);
		out->sample_peak_max_db[c] = lin_db(sp);
	}
	for (int c = 0; c < DW_LOUDNESS_MAX_CH; c++)
		ld->tp_read[c] = 0.0;
}
