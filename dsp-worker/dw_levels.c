/* dw_levels.c - level sums per chunk, figures per meter read.
 *
 * NOTES: the sums are 64-bit integers: exact, independent of the order of
 * addition, and safe for 2^33 full-scale frames (two days at 48 kHz)
 * between two reads.
 */
#include "dw_levels.h"

#include <math.h>
#include <string.h>

#include "pyc_params.h"

#define FS2 (32768.0 * 32768.0)

double dw_db_power(double p)
{
	if (!(p > 0.0))
		return DW_SILENCE_DB;
	double db = 10.0 * log10(p);
	return db < DW_SILENCE_DB ? DW_SILENCE_DB : db;
}

static int tau_ok(double t)
{
	return t >= 0.0 && t <= PYC_INTEGRATION_MAX_S;
}

pyc_err dw_levels_init(dw_levels *lv, int channels, double rate_hz,
    double tau_s)
{
	if (lv == NULL || (channels != 1 && channels != 2) ||
	    !(rate_hz >= 1.0 && rate_hz <= 1e6) || !tau_ok(tau_s))
		return PYC_EINVAL;
	memset(lv, 0, sizeof(*lv));
	lv->channels = channels;
	lv->rate = rate_hz;
	lv->tau = tau_s;
	for (int c = 0; c < DW_MAX_CHANNELS; c++)
		lv->hold_db[c] = DW_SILENCE_DB;
	return PYC_OK;
}

pyc_err dw_levels_set_tau(dw_levels *lv, double tau_s)
{
	if (lv == NULL || !tau_ok(tau_s))
		return PYC_EINVAL;
	lv->tau = tau_s;
	return PYC_OK;
}

void dw_levels_add(dw_levels *lv, const int16_t *pcm, size_t frames)
{
	int64_t ll = 0, rr = 0, lr = 0;
	int32_t pl = lv->peak[0], pr = lv->peak[1];

	if (lv->channels == 2) {
		for (size_t i = 0; i < frames; i++) {
			int32_t l = pcm[2 * i], r = pcm[2 * i + 1];
			ll += l * l;
			rr += r * r;
			lr += l * r;
			int32_t al = l < 0 ? -l : l, ar = r < 0 ? -r : r;
			pl = al > pl ? al : pl;
			pr = ar > pr ? ar : pr;
		}
	} else {
		for (size_t i = 0; i < frames; i++) {
			int32_t l = pcm[i];
			ll += l * l;
			int32_t al = l < 0 ? -l : l;
			pl = al > pl ? al : pl;
		}
		rr = lr = ll;
		pr = pl;
	}
	lv->sum_ll += ll;
	lv->sum_rr += rr;
	lv->sum_lr += lr;
	lv->peak[0] = pl;
	lv->peak[1] = pr;
	lv->frames += frames;
}

static void hold_update(double *hold, double *left, double peak_db, double dt)
{
	if (peak_db >= *hold) {
		*hold = peak_db;
		*left = DW_PEAK_HOLD_S;
		return;
	}
	if (*left >= dt) {
		*left -= dt;
		return;
	}
	*hold -= DW_PEAK_FALL_DB_S * (dt - *left);
	*left = 0.0;
	if (*hold <= peak_db) {
		*hold = peak_db;
		*left = DW_PEAK_HOLD_S;
	}
}

void dw_levels_read(dw_levels *lv, dw_meter *m)
{
	uint64_t n = lv->frames;

	m->frames_analysed = n;
	if (n > 0) {
		double dt = (double) n / lv->rate;
		double a = lv->tau > 0.0 ? exp(-dt / lv->tau) : 0.0;
		double inv = 1.0 / ((double) n * FS2);
		lv->p_ll = a * lv->p_ll + (1.0 - a) * ((double) lv->sum_ll * inv);
		lv->p_rr = a * lv->p_rr + (1.0 - a) * ((double) lv->sum_rr * inv);
		lv->p_lr = a * lv->p_lr + (1.0 - a) * ((double) lv->sum_lr * inv);
		for (int c = 0; c < DW_MAX_CHANNELS; c++) {
			double pk = dw_db_power((double) lv->peak[c] *
			    lv->peak[c] / FS2);
			m->peak_db[c] = pk;
			hold_update(&lv->hold_db[c], &lv->hold_left[c], pk, dt);
		}
	} else {
		m->peak_db[0] = m->peak_db[1] = DW_SILENCE_DB;
	}
	m->rms_ch_db[0] = dw_db_power(lv->p_ll);
	m->rms_ch_db[1] = dw_db_power(lv->p_rr);
	m->rms_db = dw_db_power((lv->p_ll + 2.0 * lv->p_lr + lv->p_rr) / 4.0);
	m->peak_hold_db[0] = lv->hold_db[0];
	m->peak_hold_db[1] = lv->hold_db[1];

	double rl = sqrt(lv->p_ll), rr = sqrt(lv->p_rr);
	m->balance = (rl + rr) > 1e-12 ? (rr - rl) / (rr + rl) : 0.0;
	double den = sqrt(lv->p_ll * lv->p_rr);
	double cor = den > 1e-24 ? lv->p_lr / den : 0.0;
	m->correlation = cor > 1.0 ? 1.0 : cor < -1.0 ? -1.0 : cor;

	lv->sum_ll = lv->sum_rr = lv->sum_lr = 0;
	lv->peak[0] = lv->peak[1] = 0;
	lv->frames = 0;
}
