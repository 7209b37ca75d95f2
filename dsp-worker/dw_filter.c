/* dw_filter.c - Butterworth SOS design, TDF-II cascade, click-free low-pass.
 *
 * NOTES: see dw_filter.h for the design choices. The cascade loop is
 * specialised for each section count and channel count so that the
 * coefficients and the state live in registers for a whole run (with a
 * generic loop the compiler must reload the state every sample, because
 * the output buffer could alias it); the arithmetic per sample and its
 * order are SciPy's sosfilt, y = b0 x + s0; s0 = b1 x - a1 y + s1;
 * s1 = b2 x - a2 y.
 */
#include "dw_filter.h"

#include <complex.h>
#include <math.h>
#include <string.h>

static int finite_pos(double v)
{
	return isfinite(v) && v > 0.0;
}

pyc_err dw_filter_design(int order, double cutoff_hz, double rate_hz,
    dw_biquad *sos, int *nsec)
{
	dw_biquad tmp[DW_FILTER_MAX_SECTIONS];
	double dist[DW_FILTER_MAX_SECTIONS];
	int n = 0;

	if (sos == NULL || nsec == NULL || order < 1 ||
	    order > 2 * DW_FILTER_MAX_SECTIONS || !finite_pos(cutoff_hz) ||
	    !finite_pos(rate_hz) || !(cutoff_hz < 0.5 * rate_hz))
		return PYC_EINVAL;

	/* Prewarped analog cutoff, for a bilinear transform with 2 fs = 1. */
	double k = tan(M_PI * cutoff_hz / rate_hz);

	if (order % 2 == 1) {
		/* The real pole: section g (1 + z^-1)^2 / (1 - zr z^-1), as SciPy. */
		double zr = (1.0 - k) / (1.0 + k);
		double g = k / (2.0 * (1.0 + k));
		tmp[n] = (dw_biquad) { g, 2.0 * g, g, -zr, 0.0 };
		dist[n] = fabs(1.0 - fabs(zr));
		n++;
	}
	for (int i = 0; i < order / 2; i++) {
		/* Prototype pole in the upper left quadrant, angle from -1. */
		double th = M_PI * (2.0 * i + 1.0 + (order % 2)) / (2.0 * order);
		double complex pa = k * (-cos(th) + I * sin(th));
		double complex z = (1.0 + pa) / (1.0 - pa);
		double a1 = -2.0 * creal(z);
		double a2 = creal(z) * creal(z) + cimag(z) * cimag(z);
		double am = cabs(pa) / cabs(1.0 - pa); /* |1 - z| / 2 */
		double g = am * am;                     /* unity DC: |1-z|^2 / 4 */
		tmp[n] = (dw_biquad) { g, 2.0 * g, g, a1, a2 };
		dist[n] = fabs(1.0 - sqrt(a2));
		n++;
	}
	/* Farthest from the unit circle first (SciPy's order). */
	for (int i = 1; i < n; i++) {
		for (int j = i; j > 0 && dist[j] > dist[j - 1]; j--) {
			dw_biquad tb = tmp[j];
			double td = dist[j];
			tmp[j] = tmp[j - 1];
			dist[j] = dist[j - 1];
			tmp[j - 1] = tb;
			dist[j - 1] = td;
		}
	}
	if (order % 2 == 1) {
		/* One zero too many so far. SciPy pads with a pole and a zero at the
		 * origin and pairs sections from the closest to the unit circle
		 * on, each taking the nearest zeros: the origin zero goes to the
		 * first section whose pole is nearer to 0 than to -1, else to the
		 * real pole's section. That section gets a single zero at -1,
		 * renormalised to unity DC (b0 (1 + z^-1)^2 is 4 b0 at DC,
		 * b0' (1 + z^-1) is 2 b0'). */
		for (int s = n - 1; s >= 0; s--) {
			dw_biquad *c = &tmp[s];
			double re = -0.5 * c->a1, im2 = c->a2 - re * re;
			int real = c->a2 == 0.0;
			if (real || re * re + im2 < (re + 1.0) * (re + 1.0) + im2) {
				double g = 2.0 * c->b0;
				*c = (dw_biquad) { g, g, 0.0, c->a1, c->a2 };
				break;
			}
		}
	}
	memcpy(sos, tmp, sizeof(dw_biquad) * (size_t) n);
	*nsec = n;
	return PYC_OK;
}

pyc_err dw_filter_init(dw_filter *f, int order, double cutoff_hz,
    double rate_hz, int channels)
{
	dw_filter nf;
	pyc_err rv;

	if (f == NULL || (channels != 1 && channels != 2))
		return PYC_EINVAL;
	memset(&nf, 0, sizeof(nf));
	if ((rv = dw_filter_design(order, cutoff_hz, rate_hz, nf.c,
		 &nf.nsec)) != PYC_OK)
		return rv;
	nf.channels = channels;
	nf.order = order;
	*f = nf;
	return PYC_OK;
}

pyc_err dw_filter_retune(dw_filter *f, double cutoff_hz, double rate_hz)
{
	dw_biquad c[DW_FILTER_MAX_SECTIONS];
	int nsec;
	pyc_err rv;

	if (f == NULL)
		return PYC_EINVAL;
	if ((rv = dw_filter_design(f->order, cutoff_hz, rate_hz, c, &nsec)) !=
	    PYC_OK)
		return rv;
	memcpy(f->c, c, sizeof(c));
	return PYC_OK;
}

void dw_filter_prime(dw_filter *f, const double *x)
{
	/* Every section has unity DC gain: its input and output are x. */
	for (int k = 0; k < f->nsec; k++) {
		const dw_biquad *c = &f->c[k];
		for (int ch = 0; ch < f->channels; ch++) {
			f->s[k][ch][0] = x[ch] * (1.0 - c->b0);
			f->s[k][ch][1] = x[ch] * (c->b2 - c->a2);
		}
	}
}

/* One run with NS sections and CH channels, state held in locals. */
static inline __attribute__((always_inline)) void run_fixed(dw_filter *f,
    const double *in, double *out, size_t frames, const int ns, const int ch)
{
	double b0[DW_FILTER_MAX_SECTIONS], b1[DW_FILTER_MAX_SECTIONS];
	double b2[DW_FILTER_MAX_SECTIONS], a1[DW_FILTER_MAX_SECTIONS];
	double a2[DW_FILTER_MAX_SECTIONS];
	double s0[DW_FILTER_MAX_SECTIONS][DW_FILTER_CHANNELS];
	double s1[DW_FILTER_MAX_SECTIONS][DW_FILTER_CHANNELS];

	for (int k = 0; k < ns; k++) {
		b0[k] = f->c[k].b0;
		b1[k] = f->c[k].b1;
		b2[k] = f->c[k].b2;
		a1[k] = f->c[k].a1;
		a2[k] = f->c[k].a2;
		for (int c = 0; c < ch; c++) {
			s0[k][c] = f->s[k][c][0];
			s1[k][c] = f->s[k][c][1];
		}
	}
	for (size_t i = 0; i < frames; i++) {
		for (int c = 0; c < ch; c++) {
			double x = in[i * (size_t) ch + (size_t) c];
			for (int k = 0; k < ns; k++) {
				double y = b0[k] * x + s0[k][c];
				s0[k][c] = b1[k] * x - a1[k] * y + s1[k][c];
				s1[k][c] = b2[k] * x - a2[k] * y;
				x = y;
			}
			out[i * (size_t) ch + (size_t) c] = x;
		}
	}
	for (int k = 0; k < ns; k++) {
		for (int c = 0; c < ch; c++) {
			f->s[k][c][0] = s0[k][c];
			f->s[k][c][1] = s1[k][c];
		}
	}
}

/* Stereo: both channels in one two-lane vector (GCC/Clang vector
 * extension; SSE2 on x86-64, NEON on arm64, scalar code elsewhere). Each
 * lane does exactly the scalar operations, so the result is the same. */
typedef double v2d __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) void run_stereo(dw_filter *f,
    const double *in, double *out, size_t frames, const int ns)
{
	v2d b0[DW_FILTER_MAX_SECTIONS], b1[DW_FILTER_MAX_SECTIONS];
	v2d b2[DW_FILTER_MAX_SECTIONS], a1[DW_FILTER_MAX_SECTIONS];
	v2d a2[DW_FILTER_MAX_SECTIONS];
	v2d s0[DW_FILTER_MAX_SECTIONS], s1[DW_FILTER_MAX_SECTIONS];

	for (int k = 0; k < ns; k++) {
		const dw_biquad *c = &f->c[k];
		b0[k] = (v2d) { c->b0, c->b0 };
		b1[k] = (v2d) { c->b1, c->b1 };
		b2[k] = (v2d) { c->b2, c->b2 };
		a1[k] = (v2d) { c->a1, c->a1 };
		a2[k] = (v2d) { c->a2, c->a2 };
		s0[k] = (v2d) { f->s[k][0][0], f->s[k][1][0] };
		s1[k] = (v2d) { f->s[k][0][1], f->s[k][1][1] };
	}
	for (size_t i = 0; i < frames; i++) {
		v2d x;
		memcpy(&x, in + 2 * i, sizeof(x));
		for (int k = 0; k < ns; k++) {
			v2d y = b0[k] * x + s0[k];
			s0[k] = b1[k] * x - a1[k] * y + s1[k];
			s1[k] = b2[k] * x - a2[k] * y;
			x = y;
		}
		memcpy(out + 2 * i, &x, sizeof(x));
	}
	for (int k = 0; k < ns; k++) {
		double t0[2], t1[2];
		memcpy(t0, &s0[k], sizeof(t0));
		memcpy(t1, &s1[k], sizeof(t1));
		f->s[k][0][0] = t0[0];
		f->s[k][1][0] = t0[1];
		f->s[k][0][1] = t1[0];
		f->s[k][1][1] = t1[1];
	}
}

void dw_filter_run(dw_filter *f, const double *in, double *out, size_t frames)
{
	switch (f->nsec * 2 + f->channels - 1) {
	case 2: run_fixed(f, in, out, frames, 1, 1); break;
	case 3: run_stereo(f, in, out, frames, 1); break;
	case 4: run_fixed(f, in, out, frames, 2, 1); break;
	case 5: run_stereo(f, in, out, frames, 2); break;
	case 6: run_fixed(f, in, out, frames, 3, 1); break;
	case 7: run_stereo(f, in, out, frames, 3); break;
	case 8: run_fixed(f, in, out, frames, 4, 1); break;
	case 9: run_stereo(f, in, out, frames, 4); break;
	default: break; /* not reachable for an initialised filter */
	}
}

double dw_lowpass_clamp(double cutoff_hz, double rate_hz)
{
	double hi = 0.45 * rate_hz;
	if (cutoff_hz > hi)
		cutoff_hz = hi;
	if (cutoff_hz < 10.0)
		cutoff_hz = 10.0;
	return cutoff_hz;
}

static int xfade_len(double rate)
{
	int n = (int) lround(DW_XFADE_S * rate);
	return n < 1 ? 1 : n;
}

pyc_err dw_lowpass_init(dw_lowpass *lp, int enabled, int order,
    double cutoff_hz, double rate_hz, int channels)
{
	dw_lowpass n;
	pyc_err rv;

	if (lp == NULL || (enabled != 0 && enabled != 1) ||
	    !finite_pos(cutoff_hz) || !finite_pos(rate_hz) || order < 2)
		return PYC_EINVAL;
	memset(&n, 0, sizeof(n));
	n.channels = channels;
	n.rate = rate_hz;
	n.enabled = enabled;
	n.order = order;
	n.cutoff = n.cur = dw_lowpass_clamp(cutoff_hz, rate_hz);
	if ((rv = dw_filter_init(&n.f[0], order, n.cur, rate_hz, channels)) !=
	    PYC_OK)
		return rv;
	n.f[1] = n.f[0];
	n.xf_len = xfade_len(rate_hz);
	n.xf_w = 1.0;
	n.wet = enabled ? 1.0 : 0.0;
	*lp = n;
	return PYC_OK;
}

pyc_err dw_lowpass_set_enabled(dw_lowpass *lp, int enabled)
{
	if (lp == NULL || (enabled != 0 && enabled != 1))
		return PYC_EINVAL;
	if (enabled == lp->enabled)
		return PYC_OK;
	lp->enabled = enabled;
	lp->wet_left = lp->xf_len;
	lp->wet_step = ((enabled ? 1.0 : 0.0) - lp->wet) / lp->xf_len;
	return PYC_OK;
}

pyc_err dw_lowpass_set_cutoff(dw_lowpass *lp, double cutoff_hz)
{
	if (lp == NULL || !finite_pos(cutoff_hz))
		return PYC_EINVAL;
	cutoff_hz = dw_lowpass_clamp(cutoff_hz, lp->rate);
	lp->cutoff = cutoff_hz;
	if (cutoff_hz == lp->cur) {
		lp->glide_left = 0;
		return PYC_OK;
	}
	int steps = (int) ceil(DW_GLIDE_S * lp->rate / DW_GLIDE_STEP);
	if (steps < 1)
		steps = 1;
	lp->glide_left = steps;
	lp->glide_phase = DW_GLIDE_STEP;
	lp->glide_dlog = (log(cutoff_hz) - log(lp->cur)) / steps;
	return PYC_OK;
}

pyc_err dw_lowpass_set_order(dw_lowpass *lp, int order)
{
	dw_filter nf;
	pyc_err rv;

	if (lp == NULL || order < 2)
		return PYC_EINVAL;
	if (order == lp->order)
		return PYC_OK;
	if ((rv = dw_filter_init(&nf, order, lp->cur, lp->rate,
		 lp->channels)) != PYC_OK)
		return rv;
	/* Start warm: the steady state of the last input sample. A change
	 * during a crossfade restarts it from the cascade then in force. */
	dw_filter_prime(&nf, lp->last_in);
	lp->active ^= 1;
	lp->f[lp->active] = nf;
	lp->order = order;
	lp->xf_left = lp->xf_len;
	lp->xf_w = 0.0;
	return PYC_OK;
}

int dw_lowpass_busy(const dw_lowpass *lp)
{
	return lp->glide_left > 0 || lp->xf_left > 0 || lp->wet_left > 0;
}

static void glide_step(dw_lowpass *lp)
{
	lp->glide_left--;
	if (lp->glide_left == 0)
		lp->cur = lp->cutoff;
	else
		lp->cur = exp(log(lp->cur) + lp->glide_dlog);
	/* The values are in range by construction: retune cannot fail. */
	(void) dw_filter_retune(&lp->f[lp->active], lp->cur, lp->rate);
	if (lp->xf_left > 0)
		(void) dw_filter_retune(&lp->f[lp->active ^ 1], lp->cur,
		    lp->rate);
	lp->glide_phase = DW_GLIDE_STEP;
}

void dw_lowpass_run(dw_lowpass *lp, double *x, double *tmp, size_t frames)
{
	const size_t ch = (size_t) lp->channels;

	while (frames > 0) {
		size_t n = frames;
		if (lp->glide_left > 0 && n > (size_t) lp->glide_phase)
			n = (size_t) lp->glide_phase;
		for (size_t c = 0; c < ch; c++)
			lp->last_in[c] = x[(n - 1) * ch + c];

		dw_filter *fa = &lp->f[lp->active];
		if (lp->xf_left == 0 && lp->wet_left == 0) {
			/* Steady: straight through, or dry with a warm filter. */
			dw_filter_run(fa, x, lp->wet == 1.0 ? x : tmp, n);
		} else {
			double *y = tmp, *yo = tmp + n * ch;
			dw_filter_run(fa, x, y, n);
			if (lp->xf_left > 0) {
				dw_filter_run(&lp->f[lp->active ^ 1], x, yo, n);
				/* After the crossfade, y is the new cascade's. */
				for (size_t i = 0; i < n && lp->xf_left > 0; i++) {
					double w = lp->xf_w;
					for (size_t c = 0; c < ch; c++) {
						size_t j = i * ch + c;
						y[j] = yo[j] + w * (y[j] - yo[j]);
					}
					if (--lp->xf_left == 0)
						lp->xf_w = 1.0;
					else
						lp->xf_w += 1.0 / lp->xf_len;
				}
			}
			size_t i = 0;
			for (; i < n && lp->wet_left > 0; i++) {
				double w = lp->wet;
				for (size_t c = 0; c < ch; c++) {
					size_t j = i * ch + c;
					x[j] = x[j] + w * (y[j] - x[j]);
				}
				if (--lp->wet_left == 0)
					lp->wet = lp->enabled ? 1.0 : 0.0;
				else
					lp->wet += lp->wet_step;
			}
			/* Settled for the rest: wet, or x keeps the dry signal. */
			if (i < n && lp->wet == 1.0)
				memcpy(x + i * ch, y + i * ch, (n - i) * ch * sizeof(*x));
		}
		if (lp->glide_left > 0) {
			lp->glide_phase -= (int) n;
			if (lp->glide_phase == 0)
				glide_step(lp);
		}
		x += n * ch;
		frames -= n;
	}
}
