/* dw_pipeline.c - the DSP engine: int16 in, gain, low-pass, int16 out, analysis.
 *
 * NOTES: a chunk is cut into blocks of DW_BLOCK frames that stay in L1:
 * convert + gain into doubles, the low-pass in place, round and saturate
 * to int16 (counting clips), then the analysis of the processed audio
 * (levels on the int16 frames, the mono mix as float into the spectrum
 * ring and the waveform buckets). Each stage is a tight loop over the
 * block. Ramps (gain, dry/wet, crossfades, cutoff glide) advance per
 * sample, so the output does not depend on how the audio was chunked.
 * Rounding is to nearest, ties to even (the 1.5 * 2^52 trick, exact for
 * |x| < 2^51 and vectorisable), so at 0 dB with the filter off the output
 * equals the input bit for bit.
 */
#include "dw_pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dw_filter.h"
#include "dw_levels.h"
#include "dw_loudness.h"
#include "dw_spectrum.h"
#include "dw_waveform.h"

#define DW_BLOCK 256
#define DW_GAIN_RAMP_S 0.010

struct dw_pipeline {
	pyc_params p;        /* in force; cutoff_hz as clamped */
	double cutoff_req;   /* the cutoff asked for, before clamping */
	int ch;
	double rate;
	double g, g_target, g_step;
	int g_left;
	dw_lowpass lp;
	dw_levels lv;
	uint64_t clips[DW_MAX_CHANNELS];
	uint64_t frames_total;
	dw_spectrum *sp;
	dw_waveform *wf;
	dw_loudness *ld;     /* NULL when loudness is off */
	double x[DW_BLOCK * DW_MAX_CHANNELS];
	double tmp[2 * DW_BLOCK * DW_MAX_CHANNELS];
	int16_t o16[DW_BLOCK * DW_MAX_CHANNELS];
	float mono[DW_BLOCK];
	dw_meter m;
	int prof;
	uint64_t prof_ns[DW_STAGE_COUNT];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Charges the time since *t to stage st when profiling. */
static inline void prof_mark(dw_pipeline *pl, uint64_t *t, int st)
{
	if (pl->prof) {
		uint64_t n = now_ns();
		pl->prof_ns[st] += n - *t;
		*t = n;
	}
}

void dw_pipeline_profile(dw_pipeline *pl, int on)
{
	pl->prof = on != 0;
	memset(pl->prof_ns, 0, sizeof(pl->prof_ns));
}

void dw_pipeline_profile_read(const dw_pipeline *pl,
    uint64_t ns[DW_STAGE_COUNT])
{
	memcpy(ns, pl->prof_ns, sizeof(pl->prof_ns));
}

const char *dw_pipeline_stage_name(int stage)
{
	static const char *const names[DW_STAGE_COUNT] = { "convert+gain",
		"filter", "saturate", "levels", "loudness", "spectrum",
		"waveform", "meter" };
	return stage >= 0 && stage < DW_STAGE_COUNT ? names[stage] : "?";
}

static double db_to_lin(double db)
{
	return db == 0.0 ? 1.0 : pow(10.0, db / 20.0);
}

static int wf_bucket(int fft_size, int points)
{
	int b = fft_size / points;
	return b < 1 ? 1 : b;
}

pyc_err dw_pipeline_create(const pyc_params *p, dw_pipeline **out)
{
	dw_pipeline *pl;
	pyc_params q;
	pyc_err rv;

	if (p == NULL || out == NULL)
		return PYC_EINVAL;
	q = *p;
	q.mask = PYC_P_ALL;
	if (pyc_params_check(&q, NULL) != PYC_OK)
		return PYC_EINVAL;
	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return PYC_ENOMEM;
	pl->ch = q.channels;
	pl->rate = q.sample_rate;
	pl->cutoff_req = q.cutoff_hz;
	q.cutoff_hz = dw_lowpass_clamp(q.cutoff_hz, pl->rate);
	pl->p = q;
	pl->g = pl->g_target = db_to_lin(q.gain_db);
	if ((rv = dw_lowpass_init(&pl->lp, q.filter_enabled, q.filter_order,
		 q.cutoff_hz, pl->rate, pl->ch)) != PYC_OK ||
	    (rv = dw_levels_init(&pl->lv, pl->ch, pl->rate,
		 q.integration_s)) != PYC_OK ||
	    (rv = dw_spectrum_create(q.fft_size, pl->rate, q.bands,
		 q.integration_s, &pl->sp)) != PYC_OK)
		goto fail;
	if (q.waveform_points > 0 &&
	    (rv = dw_waveform_create(q.waveform_points,
		 wf_bucket(q.fft_size, q.waveform_points), &pl->wf)) != PYC_OK)
		goto fail;
	if (q.loudness &&
	    (rv = dw_loudness_create(pl->ch, pl->rate, &pl->ld)) != PYC_OK)
		goto fail;
	*out = pl;
	return PYC_OK;
fail:
	dw_pipeline_destroy(pl);
	return rv;
}

void dw_pipeline_destroy(dw_pipeline *pl)
{
	if (pl == NULL)
		return;
	dw_spectrum_destroy(pl->sp);
	dw_waveform_destroy(pl->wf);
	dw_loudness_destroy(pl->ld);
	free(pl);
}

void dw_pipeline_params(const dw_pipeline *pl, pyc_params *out)
{
	*out = pl->p;
}

static void start_gain(dw_pipeline *pl, double db)
{
	double t = db_to_lin(db);
	if (t == pl->g_target)
		return;
	int n = (int) lround(DW_GAIN_RAMP_S * pl->rate);
	pl->g_target = t;
	pl->g_left = n;
	pl->g_step = (t - pl->g) / n;
}

pyc_err dw_pipeline_set_params(dw_pipeline *pl, const pyc_params *p)
{
	dw_spectrum *nsp = NULL;
	dw_waveform *nwf = NULL;
	dw_loudness *nld = NULL;
	pyc_params np;
	pyc_err rv;

	if (pl == NULL || p == NULL || pyc_params_check(p, NULL) != PYC_OK)
		return PYC_EINVAL;
	np = pl->p;
	np.cutoff_hz = pl->cutoff_req;
	pyc_params_merge(&np, p);
	np.mask = PYC_P_ALL;
	if (pyc_params_check(&np, NULL) != PYC_OK)
		return PYC_EINVAL;

	if (np.sample_rate != pl->p.sample_rate ||
	    np.channels != pl->p.channels) {
		/* A new stream: a fresh pipeline, swapped in whole. */
		dw_pipeline *fresh;
		if ((rv = dw_pipeline_create(&np, &fresh)) != PYC_OK)
			return rv;
		dw_pipeline old = *pl;
		*pl = *fresh;
		*fresh = old;
		dw_pipeline_destroy(fresh);
		return PYC_OK;
	}

	/* Allocate what changes size first: on failure nothing changes. */
	if (np.fft_size != pl->p.fft_size || np.bands != pl->p.bands) {
		if ((rv = dw_spectrum_create(np.fft_size, pl->rate, np.bands,
			 np.integration_s, &nsp)) != PYC_OK)
			goto fail;
	}
	if (np.waveform_points > 0 &&
	    (np.waveform_points != pl->p.waveform_points ||
		np.fft_size != pl->p.fft_size)) {
		if ((rv = dw_waveform_create(np.waveform_points,
			 wf_bucket(np.fft_size, np.waveform_points), &nwf)) !=
		    PYC_OK)
			goto fail;
	}
	/* Loudness switched on, or reset while on: a fresh meter. */
	if (np.loudness &&
	    (pl->ld == NULL || (p->mask & PYC_P_LOUDNESS_RESET))) {
		if ((rv = dw_loudness_create(pl->ch, pl->rate, &nld)) != PYC_OK)
			goto fail;
	}
	/* From here on nothing can fail (all values were checked). */
	if (nld != NULL || !np.loudness) {
		dw_loudness_destroy(pl->ld);
		pl->ld = nld;
	}
	if (nsp != NULL) {
		dw_spectrum_destroy(pl->sp);
		pl->sp = nsp;
	}
	if (nwf != NULL || np.waveform_points == 0) {
		dw_waveform_destroy(pl->wf);
		pl->wf = nwf;
	}
	start_gain(pl, np.gain_db);
	(void) dw_lowpass_set_enabled(&pl->lp, np.filter_enabled);
	(void) dw_lowpass_set_order(&pl->lp, np.filter_order);
	(void) dw_lowpass_set_cutoff(&pl->lp, np.cutoff_hz);
	(void) dw_levels_set_tau(&pl->lv, np.integration_s);
	(void) dw_spectrum_set_tau(pl->sp, np.integration_s);
	pl->cutoff_req = np.cutoff_hz;
	np.cutoff_hz = dw_lowpass_clamp(np.cutoff_hz, pl->rate);
	pl->p = np;
	return PYC_OK;
fail:
	dw_spectrum_destroy(nsp);
	dw_waveform_destroy(nwf);
	dw_loudness_destroy(nld);
	return rv;
}

/* Little-endian int16 to double, times the gain (ramping per frame). */
static void convert_gain(dw_pipeline *pl, const uint8_t *b, size_t n)
{
	const size_t ns = n * (size_t) pl->ch;
	double *x = pl->x;

	if (pl->g_left == 0) {
		const double g = pl->g;
		for (size_t i = 0; i < ns; i++) {
			int16_t s = (int16_t) (uint16_t) (b[2 * i] |
			    (uint16_t) (b[2 * i + 1] << 8));
			x[i] = (double) s * g;
		}
		return;
	}
	const size_t ch = (size_t) pl->ch;
	for (size_t f = 0; f < n; f++) {
		for (size_t c = 0; c < ch; c++) {
			size_t i = f * ch + c;
			int16_t s = (int16_t) (uint16_t) (b[2 * i] |
			    (uint16_t) (b[2 * i + 1] << 8));
			x[i] = (double) s * pl->g;
		}
		if (pl->g_left > 0) {
			if (--pl->g_left == 0)
				pl->g = pl->g_target;
			else
				pl->g += pl->g_step;
		}
	}
}

/* Rounds to nearest even and saturates to int16, counting clips (samples
 * that rounded outside -32768..32767). |x| stays far below 2^31 (60 dB of
 * gain on full scale, times the filter's overshoot), so the rounded value
 * fits an int32 and the clamp and count are integer lanes: the loop
 * vectorises. The per-channel count is redone only for a block that
 * clipped. */
static int32_t round_clamp(const double *restrict x, int16_t *restrict o,
    size_t ns)
{
	const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
	int32_t clip = 0;

	for (size_t i = 0; i < ns; i++) {
		int32_t v = (int32_t) ((x[i] + magic) - magic);
		int32_t w = v > 32767 ? 32767 : v;
		w = w < -32768 ? -32768 : w;
		clip += v != w;
		o[i] = (int16_t) w;
	}
	return clip;
}

static void saturate(dw_pipeline *pl, int16_t *o, size_t n)
{
	const size_t ch = (size_t) pl->ch, ns = n * ch;

	if (round_clamp(pl->x, o, ns) == 0)
		return;
	for (size_t i = 0; i < ns; i++) {
		double v = pl->x[i];
		pl->clips[i % ch] += (v >= 32767.5) | (v < -32768.5);
	}
}

static void mono_mix(dw_pipeline *pl, const int16_t *o, size_t n)
{
	float *m = pl->mono;

	if (pl->ch == 2) {
		for (size_t i = 0; i < n; i++)
			m[i] = (float) ((int32_t) o[2 * i] + o[2 * i + 1]) *
			    (0.5f / 32768.0f);
	} else {
		for (size_t i = 0; i < n; i++)
			m[i] = (float) o[i] * (1.0f / 32768.0f);
	}
}

pyc_err dw_pipeline_process(dw_pipeline *pl, const void *pcm_le, size_t nbytes,
    int16_t *out, size_t *frames_out)
{
	if (pl == NULL || (pcm_le == NULL && nbytes > 0))
		return PYC_EINVAL;
	const size_t ch = (size_t) pl->ch;
	const size_t frames = nbytes / (2 * ch);
	const uint8_t *b = pcm_le;

	for (size_t done = 0; done < frames;) {
		size_t n = frames - done;
		if (n > DW_BLOCK)
			n = DW_BLOCK;
		int16_t *o = out != NULL ? out + done * ch : pl->o16;
		uint64_t t = pl->prof ? now_ns() : 0;
		convert_gain(pl, b + done * ch * 2, n);
		prof_mark(pl, &t, DW_STAGE_CONVERT);
		dw_lowpass_run(&pl->lp, pl->x, pl->tmp, n);
		prof_mark(pl, &t, DW_STAGE_FILTER);
		saturate(pl, o, n);
		prof_mark(pl, &t, DW_STAGE_SATURATE);
		dw_levels_add(&pl->lv, o, n);
		prof_mark(pl, &t, DW_STAGE_LEVELS);
		if (pl->ld != NULL)
			dw_loudness_add(pl->ld, o, n);
		prof_mark(pl, &t, DW_STAGE_LOUDNESS);
		mono_mix(pl, o, n);
		dw_spectrum_push(pl->sp, pl->mono, n);
		prof_mark(pl, &t, DW_STAGE_SPECTRUM);
		if (pl->wf != NULL)
			dw_waveform_push(pl->wf, pl->mono, n);
		prof_mark(pl, &t, DW_STAGE_WAVEFORM);
		done += n;
	}
	pl->frames_total += frames;
	if (frames_out != NULL)
		*frames_out = frames;
	return PYC_OK;
}

void dw_pipeline_meter(dw_pipeline *pl, dw_meter *out)
{
	dw_meter *m = &pl->m;
	uint64_t t = pl->prof ? now_ns() : 0;

	memset(m, 0, sizeof(*m));
	m->frames_total = pl->frames_total;
	m->channels = pl->ch;
	dw_levels_read(&pl->lv, m);
	m->clips[0] = pl->clips[0];
	m->clips[1] = pl->ch == 2 ? pl->clips[1] : pl->clips[0];
	dw_spectrum_update(pl->sp);
	m->spectrum01 = dw_spectrum_meter01(pl->sp);
	m->bands = dw_spectrum_nbands(pl->sp);
	m->band_db = dw_spectrum_band_db(pl->sp);
	m->band_hz = dw_spectrum_band_hz(pl->sp);
	m->spectrum_valid = dw_spectrum_frames(pl->sp) > 0;
	if (pl->wf != NULL) {
		m->waveform_points = dw_waveform_points(pl->wf);
		m->waveform = dw_waveform_read(pl->wf);
	}
	if (pl->ld != NULL) {
		dw_loudness_read r;
		dw_loudness_get(pl->ld, &r);
		m->loudness = 1;
		m->lufs_m = r.momentary;
		m->lufs_s = r.short_term;
		m->lufs_i = r.integrated;
		m->lra = r.range;
		for (int c = 0; c < DW_MAX_CHANNELS; c++) {
			m->true_peak_db[c] = r.true_peak_db[c];
			m->true_peak_max_db[c] = r.true_peak_max_db[c];
			m->sample_peak_max_db[c] = r.sample_peak_max_db[c];
		}
	}
	if (out != NULL)
		*out = *m;
	prof_mark(pl, &t, DW_STAGE_METER);
}

const float *dw_pipeline_meter_band_hz(const dw_pipeline *pl)
{
	return dw_spectrum_meter_hz(pl->sp);
}

const float *dw_pipeline_band_hz(const dw_pipeline *pl, int *bands)
{
	if (bands != NULL)
		*bands = dw_spectrum_nbands(pl->sp);
	return dw_spectrum_band_hz(pl->sp);
}
