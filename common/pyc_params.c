/* pyc_params.c - defaults, merging and range checks of session parameters.
 *
 * NOTES: the checks are written so that NaN fails every one of them: a
 * comparison with NaN is false, so each test is "in range", negated.
 */
#include "pyc_params.h"

#include <math.h>
#include <stddef.h>

void pyc_params_defaults(pyc_params *p)
{
	p->mask = PYC_P_ALL;
	p->sample_rate = PYC_RATE_DEFAULT;
	p->channels = PYC_CHANNELS_DEFAULT;
	p->gain_db = 0.0;
	p->filter_enabled = 0;
	p->cutoff_hz = PYC_CUTOFF_DEFAULT_HZ;
	p->integration_s = 0.0;
	p->filter_order = PYC_ORDER_DEFAULT;
	p->fft_size = PYC_FFT_DEFAULT;
	p->bands = 0;
	p->waveform_points = 0;
	p->max_meter_rate = 0.0;
	p->monitor = 0;
	p->loudness = 0;
}

void pyc_params_merge(pyc_params *dst, const pyc_params *src)
{
	uint32_t m = src->mask;
	if (m & PYC_P_RATE)
		dst->sample_rate = src->sample_rate;
	if (m & PYC_P_CHANNELS)
		dst->channels = src->channels;
	if (m & PYC_P_GAIN)
		dst->gain_db = src->gain_db;
	if (m & PYC_P_FILTER)
		dst->filter_enabled = src->filter_enabled;
	if (m & PYC_P_CUTOFF)
		dst->cutoff_hz = src->cutoff_hz;
	if (m & PYC_P_INTEGRATION)
		dst->integration_s = src->integration_s;
	if (m & PYC_P_ORDER)
		dst->filter_order = src->filter_order;
	if (m & PYC_P_FFT)
		dst->fft_size = src->fft_size;
	if (m & PYC_P_BANDS)
		dst->bands = src->bands;
	if (m & PYC_P_WAVEFORM)
		dst->waveform_points = src->waveform_points;
	if (m & PYC_P_METER_RATE)
		dst->max_meter_rate = src->max_meter_rate;
	if (m & PYC_P_MONITOR)
		dst->monitor = src->monitor;
	if (m & PYC_P_LOUDNESS)
		dst->loudness = src->loudness;
	dst->mask |= m & PYC_P_ALL;
}

static int in_range(double v, double lo, double hi)
{
	return v >= lo && v <= hi; /* false for NaN */
}

static int is_pow2(int32_t v)
{
	return v > 0 && (v & (v - 1)) == 0;
}

pyc_err pyc_params_check(const pyc_params *p, const char **bad)
{
	const char *f = NULL;
	uint32_t m = p->mask;

	if ((m & ~(uint32_t) PYC_P_VALID) != 0)
		f = "mask";
	else if ((m & PYC_P_RATE) &&
	    !in_range(p->sample_rate, PYC_RATE_MIN, PYC_RATE_MAX))
		f = "sample_rate";
	else if ((m & PYC_P_CHANNELS) && p->channels != 1 && p->channels != 2)
		f = "channels";
	else if ((m & PYC_P_GAIN) &&
	    !in_range(p->gain_db, PYC_GAIN_MIN_DB, PYC_GAIN_MAX_DB))
		f = "gain";
	else if ((m & PYC_P_FILTER) && p->filter_enabled != 0 &&
	    p->filter_enabled != 1)
		f = "filter_enabled";
	else if ((m & PYC_P_CUTOFF) &&
	    !in_range(p->cutoff_hz, PYC_CUTOFF_MIN_HZ, PYC_CUTOFF_MAX_HZ))
		f = "cutoff_freq";
	else if ((m & PYC_P_INTEGRATION) &&
	    !in_range(p->integration_s, 0.0, PYC_INTEGRATION_MAX_S))
		f = "integration_time";
	else if ((m & PYC_P_ORDER) &&
	    !in_range(p->filter_order, PYC_ORDER_MIN, PYC_ORDER_MAX))
		f = "filter_order";
	else if ((m & PYC_P_FFT) &&
	    (!in_range(p->fft_size, PYC_FFT_MIN, PYC_FFT_MAX) ||
		!is_pow2(p->fft_size)))
		f = "fft_size";
	else if ((m & PYC_P_BANDS) && !in_range(p->bands, 0, PYC_BANDS_MAX) &&
	    p->bands != PYC_BANDS_THIRD_OCTAVE)
		f = "bands";
	else if ((m & PYC_P_WAVEFORM) &&
	    (!in_range(p->waveform_points, 0, PYC_WAVEFORM_MAX) ||
		p->waveform_points == 1))
		f = "waveform_points";
	else if ((m & PYC_P_METER_RATE) &&
	    !in_range(p->max_meter_rate, 0.0, PYC_METER_RATE_MAX))
		f = "max_meter_rate";
	else if ((m & PYC_P_MONITOR) && p->monitor != 0 && p->monitor != 1)
		f = "monitor";
	else if ((m & PYC_P_LOUDNESS) && p->loudness != 0 && p->loudness != 1)
		f = "loudness";

	if (bad != NULL)
		*bad = f;
	return f == NULL ? PYC_OK : PYC_EINVAL;
}
