/* dw_spectrum.c - ring buffer, Hann window, FFT frames, smoothing, bands.
 *
 * NOTES: the work per sample is one copy into the ring; the window, the
 * FFT and the smoothing run once per hop, the band sums (and their
 * logarithms) once per meter read that follows a new frame. All arrays are
 * allocated in _create. Band calibration (docs/dsp.md, "Spectrum"): bin k
 * stands for [k - 1/2, k + 1/2) bins; a band sums the bins it overlaps,
 * each weighted by the fraction it overlaps, and divides by the window's
 * equivalent noise bandwidth in bins (1.5 for Hann), so noise reads its band
 * power and a tone inside the band its own power. A band never reads below
 * the main-lobe power (3 bins around a bin, / ENBW) of a bin whose centre it
 * holds, or of the bin nearest its centre if it holds none: with Hann, that
 * is a tone's power within 0.1 dB wherever it falls, so a tone reads its
 * level in a band narrower than the window's resolution or near an edge.
 */
#include "dw_spectrum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dw_fft.h"
#include "pyc_params.h"

typedef struct bandset {
	int n;
	int *lo, *hi;   /* bins overlapped [lo, hi) */
	float *wlo, *whi; /* weights of bins lo and hi - 1 (1 inside) */
	int *plo, *phi; /* bins whose main lobe the band holds [plo, phi) */
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
	float *lobe;       /* main-lobe power per bin, / ENBW (meter reads) */
	double enbw;       /* equivalent noise bandwidth, bins */
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
	free(b->wlo);
	free(b->whi);
	free(b->plo);
	free(b->phi);
	free(b->hz);
	free(b->db);
	free(b->u01);
	memset(b, 0, sizeof(*b));
}

/* Sets band i from its edges e0 < e1 (Hz); the last band reaches Nyquist. */
static void band_set(bandset *b, int i, double e0, double e1, double fc,
    double df, int nbins)
{
	double x0 = e0 / df, x1 = e1 / df; /* edges in bins */
	if (e1 >= (nbins - 1) * df || x1 > nbins - 0.5)
		x1 = nbins - 0.5; /* up to Nyquist: the whole Nyquist bin */
	if (x0 < -0.5)
		x0 = -0.5;
	int lo = (int) floor(x0 + 0.5), hi = (int) ceil(x1 + 0.5);
	if (hi > nbins)
		hi = nbins;
	if (lo >= hi)
		lo = hi - 1;
	b->lo[i] = lo;
	b->hi[i] = hi;
	/* Bin k covers [k - 0.5, k + 0.5): the overlap of the edge bins. */
	double wl = (lo + 0.5 < x1 ? lo + 0.5 : x1) - x0;
	double wh = x1 - (hi - 1.5 > x0 ? hi - 1.5 : x0);
	b->wlo[i] = (float) (wl > 0.0 ? wl : 0.0);
	b->whi[i] = (float) (hi - 1 == lo ? b->wlo[i] : (wh > 0.0 ? wh : 0.0));
	/* Bin centres inside [e0, e1); none: the bin nearest fc. */
	int plo = (int) ceil(e0 / df), phi = (int) ceil(e1 / df);
	if (e1 >= (nbins - 1) * df)
		phi = nbins;
	if (phi > nbins)
		phi = nbins;
	if (plo >= phi) {
		plo = (int) lround(fc / df);
		if (plo > nbins - 1)
			plo = nbins - 1;
		phi = plo + 1;
	}
	b->plo[i] = plo;
	b->phi[i] = phi;
	b->hz[i] = (float) fc;
	b->db[i] = -120.0f;
}

/* 1/3-octave band k (k = 0: 1 kHz): the IEC 61260-1 base-10 midband
 * frequency 1000 * 10^(k/10), edges at 10^(+-1/20) of it. */
static double third_mid(int k)
{
	return 1000.0 * pow(10.0, k / 10.0);
}

/* Its ANSI S1.11 / IEC nominal centre: 1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5,
 * 6.3, 8 times a power of ten. */
static double third_nominal(int k)
{
	static const double mant[10] = { 1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0,
		5.0, 6.3, 8.0 };
	int d = k >= 0 ? k / 10 : -((-k + 9) / 10);
	return mant[k - 10 * d] * pow(10.0, 3 + d);
}

/* The 1/3-octave bands that fit whole between 20 Hz (k = -17) and Nyquist. */
static int third_count(double nyq, int *k0)
{
	int n = 0;
	*k0 = DW_THIRD_K_MIN;
	while (third_mid(*k0 + n) * pow(10.0, 0.05) <= nyq)
		n++;
	return n;
}

static pyc_err bandset_make(bandset *b, int nb, int fft_n, double rate,
    int want01)
{
	int nbins = fft_n / 2 + 1;
	double df = rate / fft_n, nyq = rate / 2.0;
	int k0 = 0, third = nb == PYC_BANDS_THIRD_OCTAVE;

	memset(b, 0, sizeof(*b));
	if (third)
		nb = third_count(nyq, &k0);
	if (nb == 0)
		return PYC_OK;
	b->n = nb;
	b->lo = calloc((size_t) nb, sizeof(int));
	b->hi = calloc((size_t) nb, sizeof(int));
	b->wlo = calloc((size_t) nb, sizeof(float));
	b->whi = calloc((size_t) nb, sizeof(float));
	b->plo = calloc((size_t) nb, sizeof(int));
	b->phi = calloc((size_t) nb, sizeof(int));
	b->hz = calloc((size_t) nb, sizeof(float));
	b->db = calloc((size_t) nb, sizeof(float));
	b->u01 = want01 ? calloc((size_t) nb, sizeof(float)) : NULL;
	if (b->lo == NULL || b->hi == NULL || b->wlo == NULL ||
	    b->whi == NULL || b->plo == NULL || b->phi == NULL ||
	    b->hz == NULL || b->db == NULL || (want01 && b->u01 == NULL)) {
		bandset_free(b);
		return PYC_ENOMEM;
	}
	if (third) {
		double g = pow(10.0, 0.05);
		for (int i = 0; i < nb; i++) {
			double fm = third_mid(k0 + i);
			band_set(b, i, fm / g, fm * g, fm, df, nbins);
			b->hz[i] = (float) third_nominal(k0 + i);
		}
		return PYC_OK;
	}
	double ratio = nyq / DW_BAND_LO_HZ;
	for (int i = 0; i < nb; i++) {
		double e0 = DW_BAND_LO_HZ * pow(ratio, (double) i / nb);
		double e1 = (i == nb - 1) ? nyq :
		    DW_BAND_LO_HZ * pow(ratio, (double) (i + 1) / nb);
		band_set(b, i, e0, e1, sqrt(e0 * e1), df, nbins);
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
	    !isfinite(rate_hz) ||
	    ((bands < 0 || bands > PYC_BANDS_MAX) &&
		bands != PYC_BANDS_THIRD_OCTAVE) ||
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
	sp->lobe = malloc(nb * sizeof(float));
	if (sp->win == NULL || sp->ring == NULL || sp->frame == NULL ||
	    sp->pw == NULL || sp->ps == NULL || sp->scale == NULL ||
	    sp->lobe == NULL) {
		rv = PYC_ENOMEM;
		goto fail;
	}
	double wsum = 0.0, w2sum = 0.0;
	for (size_t i = 0; i < n; i++) {
		double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double) i / (double) n);
		sp->win[i] = (float) w;
		wsum += w;
		w2sum += w * w;
	}
	sp->enbw = (double) n * w2sum / (wsum * wsum);
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
	free(sp->lobe);
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
	const float *ps = sp->ps;
	for (int i = 0; i < b->n; i++) {
		int lo = b->lo[i], hi = b->hi[i];
		double sum = (double) b->wlo[i] * ps[lo];
		if (hi - 1 > lo) {
			for (int k = lo + 1; k < hi - 1; k++)
				sum += ps[k];
			sum += (double) b->whi[i] * ps[hi - 1];
		}
		double p = sum / sp->enbw;
		for (int k = b->plo[i]; k < b->phi[i]; k++)
			if (sp->lobe[k] > p)
				p = sp->lobe[k];
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
	int last = sp->nbins - 1;
	for (int k = 0; k <= last; k++) {
		double m = (double) sp->ps[k] + (k > 0 ? sp->ps[k - 1] : 0.0f) +
		    (k < last ? sp->ps[k + 1] : 0.0f);
		sp->lobe[k] = (float) (m / sp->enbw);
	}
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
