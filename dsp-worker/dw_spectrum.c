/* dw_spectrum.c - ring buffer, Hann window, FFT frames, smoothing, bands.
 *
 * NOTES: the work per sample is one copy into the ring; the window, the
 * FFT and the smoothing run once per hop, the band averages (and their
 * logarithms) once per meter read that follows a new frame. All arrays are
 * allocated in _create.
 */
#include "dw_spectrum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dw_fft.h"
#include "pyc_params.h"

typedef struct bandset {
	int n;
	int *lo, *hi;   /* bin ranges [lo, hi) */
	float *hz;      /* centre frequencies */
	float *db;      /* band levels, dBFS */
	float *u01;     /* 0..1 form (meter view only) */
} bandset;

struct dw_spectrum {
	int n, hop, nbins;
	double rate;
	float alpha;
	dw_fft *fft;
	float *win, *ring, *frame, *pw, *ps, *scale;
	size_t pos;        /* next write index in ring */
	size_t until;      /* samples until the next frame */
	uint64_t frames;
	int dirty;
	bandset meter, user;
};

static void bandset_free(bandset *b)
{
	free(b->lo);
	free(b->hi);
	free(b->hz);
	free(b->db);
	free(b->u01);
	memset(b, 0, sizeof(*b));
}

static pyc_err bandset_make(bandset *b, int nb, int fft_n, double rate,
    int want01)
{
	int nbins = fft_n / 2 + 1;
	double df = rate / fft_n, nyq = rate / 2.0;

	memset(b, 0, sizeof(*b));
	if (nb == 0)
		return PYC_OK;
	b->n = nb;
	b->lo = calloc((size_t) nb, sizeof(int));
	b->hi = calloc((size_t) nb, sizeof(int));
	b->hz = calloc((size_t) nb, sizeof(float));
	b->db = calloc((size_t) nb, sizeof(float));
	b->u01 = want01 ? calloc((size_t) nb, sizeof(float)) : NULL;
	if (b->lo == NULL || b->hi == NULL || b->hz == NULL || b->db == NULL ||
	    (want01 && b->u01 == NULL)) {
		bandset_free(b);
		return PYC_ENOMEM;
	}
	double ratio = nyq / DW_BAND_LO_HZ;
	for (int i = 0; i < nb; i++) {
		double e0 = DW_BAND_LO_HZ * pow(ratio, (double) i / nb);
		double e1 = DW_BAND_LO_HZ * pow(ratio, (double) (i + 1) / nb);
		double fc = sqrt(e0 * e1);
		int lo = (int) ceil(e0 / df);
		int hi = (i == nb - 1) ? nbins : (int) ceil(e1 / df);
		if (hi > nbins)
			hi = nbins;
		if (lo >= hi) {
			lo = (int) lround(fc / df);
			if (lo > nbins - 1)
				lo = nbins - 1;
			hi = lo + 1;
		}
		b->lo[i] = lo;
		b->hi[i] = hi;
		b->hz[i] = (float) fc;
		b->db[i] = -120.0f;
	}
	return PYC_OK;
}

static float alpha_for(double tau, int hop, double rate)
{
	return tau > 0.0 ? (float) exp(-(double) hop / (rate * tau)) : 0.0f;
}

pyc_err dw_spectrum_create(int fft_size, double rate_hz, int bands,
    double tau_s, dw_spectrum **out)
{
	dw_spectrum *sp;
	pyc_err rv;

	if (out == NULL || !(rate_hz >= 2.0 * DW_BAND_LO_HZ * 2.0) ||
	    !isfinite(rate_hz) || bands < 0 || bands > PYC_BANDS_MAX ||
	    !(tau_s >= 0.0 && tau_s <= PYC_INTEGRATION_MAX_S))
		return PYC_EINVAL;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return PYC_ENOMEM;
	if ((rv = dw_fft_create(fft_size, &sp->fft)) != PYC_OK) {
		free(sp);
		return rv;
	}
	sp->n = fft_size;
	sp->hop = fft_size / 2;
	sp->nbins = fft_size / 2 + 1;
	sp->rate = rate_hz;
	sp->alpha = alpha_for(tau_s, sp->hop, rate_hz);
	sp->until = (size_t) fft_size;
	size_t n = (size_t) fft_size, nb = (size_t) sp->nbins;
	sp->win = malloc(n * sizeof(float));
	sp->ring = calloc(n, sizeof(float));
	sp->frame = malloc(n * sizeof(float));
	sp->pw = malloc(nb * sizeof(float));
	sp->ps = calloc(nb, sizeof(float));
	sp->scale = malloc(nb * sizeof(float));
	if (sp->win == NULL || sp->ring == NULL || sp->frame == NULL ||
	    sp->pw == NULL || sp->ps == NULL || sp->scale == NULL) {
		rv = PYC_ENOMEM;
		goto fail;
	}
	double wsum = 0.0;
	for (size_t i = 0; i < n; i++) {
		double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double) i / (double) n);
		sp->win[i] = (float) w;
		wsum += w;
	}
	for (size_t k = 0; k < nb; k++) {
		double s = ((k == 0 || k == nb - 1) ? 1.0 : 2.0) / wsum;
		sp->scale[k] = (float) (s * s);
	}
	if ((rv = bandset_make(&sp->meter, PYC_METER_BANDS, fft_size, rate_hz,
		 1)) != PYC_OK ||
	    (rv = bandset_make(&sp->user, bands, fft_size, rate_hz, 0)) !=
		PYC_OK)
		goto fail;
	sp->dirty = 1;
	dw_spectrum_update(sp);
	*out = sp;
	return PYC_OK;
fail:
	dw_spectrum_destroy(sp);
	return rv;
}

void dw_spectrum_destroy(dw_spectrum *sp)
{
	if (sp == NULL)
		return;
	dw_fft_destroy(sp->fft);
	free(sp->win);
	free(sp->ring);
	free(sp->frame);
	free(sp->pw);
	free(sp->ps);
	free(sp->scale);
	bandset_free(&sp->meter);
	bandset_free(&sp->user);
	free(sp);
}

pyc_err dw_spectrum_set_tau(dw_spectrum *sp, double tau_s)
{
	if (sp == NULL || !(tau_s >= 0.0 && tau_s <= PYC_INTEGRATION_MAX_S))
		return PYC_EINVAL;
	sp->alpha = alpha_for(tau_s, sp->hop, sp->rate);
	return PYC_OK;
}

static void take_frame(dw_spectrum *sp)
{
	size_t n = (size_t) sp->n, first = n - sp->pos;
	const float *w = sp->win;

	/* Oldest sample first: ring[pos..n) then ring[0..pos). */
	for (size_t i = 0; i < first; i++)
		sp->frame[i] = w[i] * sp->ring[sp->pos + i];
	for (size_t i = first; i < n; i++)
		sp->frame[i] = w[i] * sp->ring[i - first];
	dw_fft_power(sp->fft, sp->frame, sp->pw);
	float a = sp->alpha, b = 1.0f - sp->alpha;
	for (int k = 0; k < sp->nbins; k++)
		sp->ps[k] = a * sp->ps[k] + b * (sp->pw[k] * sp->scale[k]);
	sp->frames++;
	sp->dirty = 1;
}

void dw_spectrum_push(dw_spectrum *sp, const float *x, size_t len)
{
	size_t n = (size_t) sp->n;

	while (len > 0) {
		size_t m = len < sp->until ? len : sp->until;
		size_t room = n - sp->pos;
		if (m <= room) {
			memcpy(sp->ring + sp->pos, x, m * sizeof(float));
		} else {
			memcpy(sp->ring + sp->pos, x, room * sizeof(float));
			memcpy(sp->ring, x + room, (m - room) * sizeof(float));
		}
		sp->pos = (sp->pos + m) & (n - 1);
		sp->until -= m;
		x += m;
		len -= m;
		if (sp->until == 0) {
			take_frame(sp);
			sp->until = (size_t) sp->hop;
		}
	}
}

static void bands_compute(const dw_spectrum *sp, bandset *b)
{
	for (int i = 0; i < b->n; i++) {
		double sum = 0.0;
		for (int k = b->lo[i]; k < b->hi[i]; k++)
			sum += sp->ps[k];
		double p = sum / (b->hi[i] - b->lo[i]);
		double db = p > 1e-12 ? 10.0 * log10(p) : -120.0;
		b->db[i] = (float) db;
		if (b->u01 != NULL) {
			double u = (db - DW_METER_FLOOR_DB) / -DW_METER_FLOOR_DB;
			b->u01[i] = (float) (u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u);
		}
	}
}

void dw_spectrum_update(dw_spectrum *sp)
{
	if (!sp->dirty)
		return;
	bands_compute(sp, &sp->meter);
	bands_compute(sp, &sp->user);
	sp->dirty = 0;
}

uint64_t dw_spectrum_frames(const dw_spectrum *sp) { return sp->frames; }
const float *dw_spectrum_power(const dw_spectrum *sp) { return sp->ps; }
int dw_spectrum_bins(const dw_spectrum *sp) { return sp->nbins; }
int dw_spectrum_hop(const dw_spectrum *sp) { return sp->hop; }
const float *dw_spectrum_meter_db(const dw_spectrum *sp) { return sp->meter.db; }
const float *dw_spectrum_meter01(const dw_spectrum *sp) { return sp->meter.u01; }
const float *dw_spectrum_meter_hz(const dw_spectrum *sp) { return sp->meter.hz; }
int dw_spectrum_nbands(const dw_spectrum *sp) { return sp->user.n; }
const float *dw_spectrum_band_db(const dw_spectrum *sp) { return sp->user.db; }
const float *dw_spectrum_band_hz(const dw_spectrum *sp) { return sp->user.hz; }
