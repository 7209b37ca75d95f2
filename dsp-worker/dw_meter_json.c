/* dw_meter_json.c - meter, ready, recording_saved and error texts.
 *
 * NOTES: cJSON builds the objects; numbers of the meter are raw items
 * written by dw_fmt_fixed (integer arithmetic, rounding half away from
 * zero), because cJSON prints every number with "%1.15g" and reparses it
 * to check, which at 32+ numbers a meter costs more than the DSP. Arrays
 * of numbers are one raw item each ("[a,b,...]"), written into a scratch
 * buffer that lives with the call. -inf cannot appear: dB figures are
 * clamped to DW_SILENCE_DB, 0..1 figures to [0, 1], and NaN reads as the
 * floor.
 */
#include "dw_meter_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_tab[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};

size_t dw_fmt_fixed(char *p, double v, int dec)
{
	char tmp[32];
	size_t n = 0, len = 0;
	int neg = 0;

	if (dec < 0)
		dec = 0;
	if (dec > 6)
		dec = 6;
	if (isnan(v))
		v = 0;
	if (v > 1e15)
		v = 1e15;
	if (v < -1e15)
		v = -1e15;
	if (v < 0) {
		neg = 1;
		v = -v;
	}
	unsigned long long q = (unsigned long long) (v * pow10_tab[dec] + 0.5);
	unsigned long long ip = q / (unsigned long long) pow10_tab[dec];
	unsigned long long fp = q % (unsigned long long) pow10_tab[dec];
	if (q == 0)
		neg = 0; /* no "-0" */
	/* fraction, without trailing zeros */
	int fd = dec;
	while (fd > 0 && fp % 10 == 0) {
		fp /= 10;
		fd--;
	}
	for (int i = 0; i < fd; i++) {
		tmp[n++] = (char) ('0' + fp % 10);
		fp /= 10;
	}
	if (fd > 0)
		tmp[n++] = '.';
	do {
		tmp[n++] = (char) ('0' + ip % 10);
		ip /= 10;
	} while (ip > 0);
	if (neg)
		tmp[n++] = '-';
	while (n > 0)
		p[len++] = tmp[--n];
	p[len] = '\0';
	return len;
}

static double db_clamp(double v)
{
	if (isnan(v) || v < DW_SILENCE_DB)
		return DW_SILENCE_DB;
	if (v > 1000.0)
		return 1000.0;
	return v;
}

static double unit_clamp(double v, double lo, double hi)
{
	if (isnan(v))
		return 0;
	return v < lo ? lo : v > hi ? hi : v;
}

enum { K_DB, K_UNIT, K_SIGNED, K_HZ, K_INT };

/* Writes "[v0,v1,...]" into *w (advancing it); returns the start. */
static char *arr_f(char **w, const float *v, int n, int kind)
{
	char *s = *w, *p = *w;
	*p++ = '[';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		switch (kind) {
		case K_DB: p += dw_fmt_fixed(p, db_clamp(v[i]), 2); break;
		case K_UNIT: p += dw_fmt_fixed(p, unit_clamp(v[i], 0, 1), 4); break;
		case K_SIGNED: p += dw_fmt_fixed(p, unit_clamp(v[i], -1, 1), 4); break;
		default: p += dw_fmt_fixed(p, v[i] > 0 ? v[i] : 0, 1); break;
		}
	}
	*p++ = ']';
	*p++ = '\0';
	*w = p;
	return s;
}

static char *arr_d(char **w, const double *v, int n, int kind)
{
	float f[DW_MAX_CHANNELS] = {0};
	for (int i = 0; i < n && i < DW_MAX_CHANNELS; i++)
		f[i] = (float) v[i];
	if (kind == K_DB) { /* keep double precision for dB */
		char *s = *w, *p = *w;
		*p++ = '[';
		for (int i = 0; i < n; i++) {
			if (i > 0)
				*p++ = ',';
			p += dw_fmt_fixed(p, db_clamp(v[i]), 2);
		}
		*p++ = ']';
		*p++ = '\0';
		*w = p;
		return s;
	}
	return arr_f(w, f, n, kind);
}

static char *num(char **w, double v, int dec)
{
	char *s = *w;
	*w += dw_fmt_fixed(s, v, dec) + 1;
	return s;
}

size_t dw_meter_json_bound(const dw_meter *m)
{
	size_t n = 512 + (size_t) PYC_METER_BANDS * 8 + 8 * 24;
	if (m->loudness)
		n += 4 * 16 + 6 * 24;
	if (m->bands > 0)
		n += (size_t) m->bands * 20;
	if (m->waveform_points > 0)
		n += (size_t) m->waveform_points * 2 * 9;
	return n;
}

size_t dw_meter_json(char *buf, size_t cap, uint64_t seq, const dw_meter *m)
{
	int ch = m->channels < 1 ? 1 : m->channels > DW_MAX_CHANNELS ? DW_MAX_CHANNELS : m->channels;
	size_t scap = dw_meter_json_bound(m);
	char *scratch = malloc(scap);
	char *w = scratch;
	cJSON *o = NULL;
	size_t len = 0;
	char seqs[24];

	if (scratch == NULL || cap == 0)
		goto out;
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long) seq);
	o = cJSON_CreateObject();
	if (o == NULL)
		goto out;
	double clips[DW_MAX_CHANNELS] = {0};
	for (int i = 0; i < ch; i++)
		clips[i] = (double) m->clips[i];

	int ok = cJSON_AddStringToObject(o, "type", "meter") != NULL &&
	    cJSON_AddRawToObject(o, "seq", seqs) != NULL &&
	    cJSON_AddRawToObject(o, "rms", num(&w, db_clamp(m->rms_db), 2)) != NULL &&
	    cJSON_AddRawToObject(o, "spectrum",
		arr_f(&w, m->spectrum01, m->spectrum01 ? PYC_METER_BANDS : 0, K_UNIT)) != NULL &&
	    cJSON_AddRawToObject(o, "panning",
		num(&w, unit_clamp(m->balance, -1, 1), 4)) != NULL &&
	    cJSON_AddRawToObject(o, "rms_db", arr_d(&w, m->rms_ch_db, ch, K_DB)) != NULL &&
	    cJSON_AddRawToObject(o, "peak_db", arr_d(&w, m->peak_db, ch, K_DB)) != NULL &&
	    cJSON_AddRawToObject(o, "peak_hold_db",
		arr_d(&w, m->peak_hold_db, ch, K_DB)) != NULL &&
	    cJSON_AddRawToObject(o, "clips", arr_d(&w, clips, ch, K_INT)) != NULL &&
	    cJSON_AddRawToObject(o, "correlation",
		num(&w, unit_clamp(m->correlation, -1, 1), 4)) != NULL;
	if (ok && m->bands > 0 && m->band_db != NULL && m->band_hz != NULL)
		ok = cJSON_AddRawToObject(o, "spectrum_db",
			 arr_f(&w, m->band_db, m->bands, K_DB)) != NULL &&
		    cJSON_AddRawToObject(o, "band_hz",
			arr_f(&w, m->band_hz, m->bands, K_HZ)) != NULL;
	if (ok && m->loudness)
		ok = cJSON_AddRawToObject(o, "loudness_m",
			 num(&w, db_clamp(m->lufs_m), 2)) != NULL &&
		    cJSON_AddRawToObject(o, "loudness_s",
			num(&w, db_clamp(m->lufs_s), 2)) != NULL &&
		    cJSON_AddRawToObject(o, "loudness_i",
			num(&w, db_clamp(m->lufs_i), 2)) != NULL &&
		    cJSON_AddRawToObject(o, "loudness_range",
			num(&w, unit_clamp(m->lra, 0, 1000), 2)) != NULL &&
		    cJSON_AddRawToObject(o, "true_peak_db",
			arr_d(&w, m->true_peak_db, ch, K_DB)) != NULL &&
		    cJSON_AddRawToObject(o, "true_peak_max_db",
			arr_d(&w, m->true_peak_max_db, ch, K_DB)) != NULL &&
		    cJSON_AddRawToObject(o, "sample_peak_max_db",
			arr_d(&w, m->sample_peak_max_db, ch, K_DB)) != NULL;
	if (ok && m->waveform_points > 0 && m->waveform != NULL)
		ok = cJSON_AddRawToObject(o, "waveform",
			 arr_f(&w, m->waveform, m->waveform_points * 2, K_SIGNED)) != NULL;
	if (ok && cJSON_PrintPreallocated(o, buf, (int) cap, 0))
		len = strlen(buf);
out:
	cJSON_Delete(o);
	free(scratch);
	return len;
}

void dw_band_centres(double rate_hz, int n, float *hz)
{
	double nyq = rate_hz / 2.0;
	double lo = 20.0;
	if (n <= 0)
		return;
	if (nyq <= lo)
		nyq = lo * 2;
	double r = log(nyq / lo);
	for (int i = 0; i < n; i++) {
		double a = lo * exp(r * i / n);
		double b = lo * exp(r * (i + 1) / n);
		hz[i] = (float) sqrt(a * b);
	}
}

static char *print_free(cJSON *o)
{
	char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

char *dw_ready_json(const pyc_params *p, const float *band_hz, int nbands)
{
	cJSON *o = cJSON_CreateObject();
	char *w, *scratch;
	if (o == NULL)
		return NULL;
	scratch = malloc((size_t) (nbands > 0 ? nbands : 1) * 20 + 64);
	if (scratch == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	w = scratch;
	int ok = cJSON_AddStringToObject(o, "type", "ready") != NULL &&
	    cJSON_AddNumberToObject(o, "sample_rate", p->sample_rate) != NULL &&
	    cJSON_AddNumberToObject(o, "channels", p->channels) != NULL &&
	    cJSON_AddNumberToObject(o, "fft_size", p->fft_size) != NULL &&
	    (p->bands == PYC_BANDS_THIRD_OCTAVE ?
		cJSON_AddStringToObject(o, "bands", "third_octave") :
		cJSON_AddNumberToObject(o, "bands", p->bands)) != NULL &&
	    cJSON_AddRawToObject(o, "band_hz", arr_f(&w, band_hz, nbands, K_HZ)) != NULL &&
	    cJSON_AddNumberToObject(o, "filter_order", p->filter_order) != NULL &&
	    cJSON_AddBoolToObject(o, "filter_enabled", p->filter_enabled != 0) != NULL &&
	    cJSON_AddRawToObject(o, "cutoff_freq", num(&w, p->cutoff_hz, 2)) != NULL &&
	    cJSON_AddRawToObject(o, "gain", num(&w, p->gain_db, 2)) != NULL &&
	    cJSON_AddRawToObject(o, "integration_time", num(&w, p->integration_s, 4)) != NULL &&
	    cJSON_AddNumberToObject(o, "waveform_points", p->waveform_points) != NULL &&
	    cJSON_AddRawToObject(o, "max_meter_rate", num(&w, p->max_meter_rate, 3)) != NULL &&
	    cJSON_AddBoolToObject(o, "monitor", p->monitor != 0) != NULL &&
	    cJSON_AddBoolToObject(o, "loudness", p->loudness != 0) != NULL;
	char *s = ok ? print_free(o) : (cJSON_Delete(o), NULL);
	free(scratch);
	return s;
}

char *dw_error_json(const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "type", "error") == NULL ||
	    cJSON_AddStringToObject(o, "code", code) == NULL ||
	    cJSON_AddStringToObject(o, "message", message) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_free(o);
}

char *dw_saved_json(int64_t id, const char *filename, double duration_s)
{
	cJSON *o = cJSON_CreateObject();
	char ids[24], dur[32];
	if (o == NULL)
		return NULL;
	snprintf(ids, sizeof(ids), "%lld", (long long) id);
	dw_fmt_fixed(dur, duration_s, 3);
	if (cJSON_AddStringToObject(o, "type", "recording_saved") == NULL ||
	    cJSON_AddRawToObject(o, "id", ids) == NULL ||
	    cJSON_AddStringToObject(o, "filename", filename) == NULL ||
	    cJSON_AddRawToObject(o, "duration_seconds", dur) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_free(o);
}

void dw_json_free(char *s)
{
	cJSON_free(s);
}
