/* check_dw_loudness.c - EBU R128 loudness and true peak of the engine
 * (dw_loudness, through dw_pipeline) against ffmpeg's ebur128 filter.
 *
 * NOTES: tests/golden/loudness.txt (written by make_loudness.py: numpy
 * signals measured by Debian's ffmpeg, ebur128 peak=true+sample) lists the
 * EBU Tech 3341 sine cases (1 kHz at -23 and -33 dBFS, the stepped levels,
 * the short-term case, true peak of fs/4 and fs/6 tones whose samples miss
 * the peak) and the Tech 3342 loudness range cases, with the segments to
 * synthesise them here sample for sample. Tolerances as EBU Tech 3341 / 3342
 * state them: M, S, I within 0.1 LU, LRA within 1 LU, true peak +0.2 / -0.4
 * dB (ours minus ffmpeg's), widened by what ffmpeg's 3-decimal linear
 * figure leaves uncertain (TPQ: 0.06 dB at -23 dBTP); the sample peak (the
 * largest |sample|, from numpy) within 0.001 dB. The audio goes through a pipeline at 0 dB
 * with the filter off (output = input), in 1000-frame chunks.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "check_dw_util.h"
#include "dw_loudness.h"
#include "dw_meter_json.h"
#include "dw_pipeline.h"
#include "pyc_testproc.h"

#define MAX_SEG 16

typedef struct lcase {
	char name[64];
	int ch, check, fade_ms, nseg;
	double m, s, i, lra, tp[2], tpq, sp[2];
	double f[MAX_SEG], db[MAX_SEG], secs[MAX_SEG], ph[MAX_SEG];
} lcase;

static lcase *cases;
static int ncases, golden_rate;

static void load_golden(void)
{
	FILE *f = golden_open("loudness.txt");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &ncases), 1);
	ck_assert_int_gt(ncases, 10);
	cases = calloc((size_t) ncases, sizeof(*cases));
	for (int k = 0; k < ncases; k++) {
		lcase *c = &cases[k];
		ck_assert_int_eq(fscanf(f, "%63s %d %d %d %d %lf %lf %lf %lf %lf %lf %lf %lf %lf",
		    c->name, &c->ch, &c->check, &c->fade_ms, &c->nseg, &c->m, &c->s,
		    &c->i, &c->lra, &c->tp[0], &c->tp[1], &c->tpq, &c->sp[0], &c->sp[1]), 14);
		ck_assert_int_le(c->nseg, MAX_SEG);
		for (int j = 0; j < c->nseg; j++)
			ck_assert_int_eq(fscanf(f, "%lf %lf %lf %lf", &c->f[j], &c->db[j],
			    &c->secs[j], &c->ph[j]), 4);
	}
	fclose(f);
	golden_rate = 48000; /* "# rate 48000" in the file's header */
}

/* The case's signal as make_loudness.py writes it; *frames. */
static int16_t *synth(const lcase *c, int rate, size_t *frames)
{
	size_t n = 0;
	for (int j = 0; j < c->nseg; j++)
		n += (size_t) lround(c->secs[j] * rate);
	double *x = malloc(n * sizeof(double));
	size_t n0 = 0;
	for (int j = 0; j < c->nseg; j++) {
		size_t m = (size_t) lround(c->secs[j] * rate);
		double a = 32768.0 * pow(10.0, c->db[j] / 20.0);
		double ph = c->ph[j] * M_PI / 180.0;
		for (size_t t = n0; t < n0 + m; t++)
			x[t] = a * sin(2.0 * M_PI * c->f[j] * (double) t / rate + ph);
		n0 += m;
	}
	size_t nf = (size_t) lround(c->fade_ms * rate / 1000.0);
	for (size_t t = 0; t < nf; t++) {
		double g = 0.5 - 0.5 * cos(M_PI * (double) t / (double) nf);
		x[t] *= g;
		x[n - 1 - t] *= g;
	}
	int16_t *s = malloc(n * (size_t) c->ch * sizeof(int16_t));
	for (size_t t = 0; t < n; t++) {
		double v = nearbyint(x[t]);
		v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
		for (int k = 0; k < c->ch; k++)
			s[t * (size_t) c->ch + (size_t) k] = (int16_t) v;
	}
	free(x);
	*frames = n;
	return s;
}

static dw_pipeline *make(int rate, int ch, int loud)
{
	pyc_params p;
	dw_pipeline *pl = NULL;
	pyc_params_defaults(&p);
	p.sample_rate = rate;
	p.channels = ch;
	p.loudness = loud;
	ck_assert_int_eq(dw_pipeline_create(&p, &pl), PYC_OK);
	return pl;
}

static void feed_by(dw_pipeline *pl, const int16_t *s, size_t frames, int ch,
    size_t chunk)
{
	uint8_t *b = pack_le(s, frames * (size_t) ch);
	for (size_t i = 0; i < frames; i += chunk) {
		size_t m = frames - i < chunk ? frames - i : chunk;
		ck_assert_int_eq(dw_pipeline_process(pl, b + 2 * i * (size_t) ch,
		    2 * m * (size_t) ch, NULL, NULL), PYC_OK);
	}
	free(b);
}

static void feed(dw_pipeline *pl, const int16_t *s, size_t frames, int ch)
{
	feed_by(pl, s, frames, ch, 1000);
}

static void near(const char *what, const char *name, double got, double want,
    double below, double above)
{
	if (!(got >= want - below && got <= want + above))
		ck_abort_msg("%s: %s %.3f, ffmpeg %.3f (tolerance -%.2f/+%.2f)", name,
		    what, got, want, below, above);
}

START_TEST(test_dw_loudness_golden_ffmpeg)
{
	load_golden();
	for (int k = 0; k < ncases; k++) {
		const lcase *c = &cases[k];
		size_t frames;
		int16_t *s = synth(c, golden_rate, &frames);
		dw_pipeline *pl = make(golden_rate, c->ch, 1);
		feed(pl, s, frames, c->ch);
		dw_meter m;
		dw_pipeline_meter(pl, &m);
		ck_assert_int_eq(m.loudness, 1);
		if (c->check & 1)
			near("M", c->name, m.lufs_m, c->m, 0.1, 0.1);
		if (c->check & 2)
			near("S", c->name, m.lufs_s, c->s, 0.1, 0.1);
		near("I", c->name, m.lufs_i, c->i, 0.1, 0.1);
		near("LRA", c->name, m.lra, c->lra, 1.0, 1.0);
		for (int ch = 0; ch < 2; ch++) {
			near("true peak", c->name, m.true_peak_max_db[ch], c->tp[ch],
			    0.4 + c->tpq, 0.2 + c->tpq);
			near("sample peak", c->name, m.sample_peak_max_db[ch], c->sp[ch], 0.001, 0.001);
			/* Read once at the end: the per-read peak is the same. */
			ck_assert_double_eq_tol(m.true_peak_db[ch], m.true_peak_max_db[ch], 1e-9);
		}
		dw_pipeline_meter(pl, &m); /* no new audio: per-read peak floor */
		ck_assert_double_eq(m.true_peak_db[0], DW_LOUDNESS_FLOOR);
		ck_assert_double_eq_tol(m.lufs_i, c->i, 0.1);
		dw_pipeline_destroy(pl);
		free(s);
	}
	free(cases);
}
END_TEST

static const lcase *find(const char *name)
{
	for (int k = 0; k < ncases; k++)
		if (strcmp(cases[k].name, name) == 0)
			return &cases[k];
	ck_abort_msg("no case %s in loudness.txt", name);
	return NULL;
}

START_TEST(test_dw_loudness_reset_restarts_integrated)
{
	load_golden();
	const lcase *a = find("3341_1_sine_-23"), *b = find("3341_2_sine_-33");
	size_t na, nb;
	int16_t *sa = synth(a, golden_rate, &na), *sb = synth(b, golden_rate, &nb);
	dw_pipeline *pl = make(golden_rate, 2, 1), *ref = make(golden_rate, 2, 1);
	dw_meter m;
	feed(pl, sa, na, 2);
	feed(ref, sa, na, 2);
	pyc_params r;
	pyc_params_defaults(&r);
	r.mask = PYC_P_LOUDNESS_RESET;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &r), PYC_OK);
	dw_pipeline_meter(pl, &m);
	ck_assert_double_eq(m.lufs_i, DW_LOUDNESS_FLOOR); /* nothing since */
	ck_assert_double_eq(m.true_peak_max_db[0], DW_LOUDNESS_FLOOR);
	feed(pl, sb, nb, 2);
	feed(ref, sb, nb, 2);
	dw_pipeline_meter(pl, &m);
	near("I after reset", b->name, m.lufs_i, b->i, 0.1, 0.1);
	near("TP after reset", b->name, m.true_peak_max_db[0], b->tp[0],
	    0.4 + b->tpq, 0.2 + b->tpq);
	/* Without the reset, both signals count: about -25.4 LUFS. */
	dw_meter mr;
	dw_pipeline_meter(ref, &mr);
	ck_assert_double_gt(mr.lufs_i, b->i + 1.0);
	/* The reset bit is not a parameter: not kept in the parameters. */
	pyc_params q;
	dw_pipeline_params(pl, &q);
	ck_assert_uint_eq(q.mask & PYC_P_LOUDNESS_RESET, 0);
	dw_pipeline_destroy(pl);
	dw_pipeline_destroy(ref);
	free(sa);
	free(sb);
	free(cases);
}
END_TEST

START_TEST(test_dw_loudness_off_by_default_and_switchable)
{
	dw_pipeline *pl = make(48000, 2, 0);
	dw_meter m;
	int16_t s[2 * 4800] = { 0 };
	for (int i = 0; i < 4800; i++)
		s[2 * i] = s[2 * i + 1] = (int16_t) (8000 * sin(2 * M_PI * 1000.0 * i / 48000));
	feed(pl, s, 4800, 2);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.loudness, 0);
	char buf[8192];
	ck_assert_uint_gt(dw_meter_json(buf, sizeof(buf), 1, &m), 0);
	ck_assert_ptr_null(strstr(buf, "loudness"));
	/* On: a fresh meter from here on. */
	pyc_params p;
	pyc_params_defaults(&p);
	p.mask = PYC_P_LOUDNESS;
	p.loudness = 1;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_OK);
	for (int k = 0; k < 10; k++)
		feed(pl, s, 4800, 2);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.loudness, 1);
	ck_assert_double_gt(m.lufs_m, -30.0);
	ck_assert_uint_gt(dw_meter_json(buf, sizeof(buf), 2, &m), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"loudness_m\":"));
	ck_assert_ptr_nonnull(strstr(buf, "\"loudness_i\":"));
	ck_assert_ptr_nonnull(strstr(buf, "\"loudness_range\":"));
	ck_assert_ptr_nonnull(strstr(buf, "\"true_peak_max_db\":["));
	/* Off again. */
	p.loudness = 0;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_OK);
	dw_pipeline_meter(pl, &m);
	ck_assert_int_eq(m.loudness, 0);
	/* Bad values are refused, nothing changes. */
	p.loudness = 2;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_EINVAL);
	p.mask = 1u << 14;
	ck_assert_int_eq(dw_pipeline_set_params(pl, &p), PYC_EINVAL);
	dw_pipeline_destroy(pl);
}
END_TEST

START_TEST(test_dw_loudness_errors)
{
	dw_loudness *ld = NULL;
	ck_assert_int_eq(dw_loudness_create(3, 48000, &ld), PYC_EINVAL);
	ck_assert_int_eq(dw_loudness_create(0, 48000, &ld), PYC_EINVAL);
	ck_assert_int_eq(dw_loudness_create(2, 7999, &ld), PYC_EINVAL);
	ck_assert_int_eq(dw_loudness_create(2, NAN, &ld), PYC_EINVAL);
	ck_assert_int_eq(dw_loudness_create(2, 44100.5, &ld), PYC_EINVAL);
	ck_assert_int_eq(dw_loudness_create(2, 48000, NULL), PYC_EINVAL);
	ck_assert_ptr_null(ld);
	ck_assert_int_eq(dw_loudness_reset(NULL), PYC_EINVAL);
	ck_assert_int_eq(dw_loudness_create(1, 8000, &ld), PYC_OK);
	dw_loudness_read r;
	dw_loudness_get(ld, &r);
	ck_assert_double_eq(r.momentary, DW_LOUDNESS_FLOOR);
	ck_assert_double_eq(r.integrated, DW_LOUDNESS_FLOOR);
	ck_assert_double_eq(r.range, 0.0);
	ck_assert_int_eq(dw_loudness_reset(ld), PYC_OK);
	dw_loudness_destroy(ld);
	dw_loudness_destroy(NULL);
}
END_TEST

/* M, S, I, LRA are taken every 100 ms of audio, not per chunk or read. */
START_TEST(test_dw_loudness_chunking_invariant)
{
	load_golden();
	const lcase *c = find("3341_9_alternating_S");
	size_t n;
	int16_t *s = synth(c, golden_rate, &n);
	dw_meter a, b;
	dw_pipeline *pa = make(golden_rate, 2, 1), *pb = make(golden_rate, 2, 1);
	feed_by(pa, s, n - 777, 2, 7);
	feed_by(pb, s, n - 777, 2, 4096);
	dw_pipeline_meter(pa, &a);
	dw_pipeline_meter(pb, &b);
	ck_assert_double_eq(a.lufs_m, b.lufs_m);
	ck_assert_double_eq(a.lufs_s, b.lufs_s);
	ck_assert_double_eq(a.lufs_i, b.lufs_i);
	ck_assert_double_eq(a.lra, b.lra);
	ck_assert_double_eq(a.true_peak_max_db[1], b.true_peak_max_db[1]);
	ck_assert_double_gt(a.lufs_s, -40.0);
	dw_pipeline_destroy(pa);
	dw_pipeline_destroy(pb);
	free(s);
	free(cases);
}
END_TEST

static Suite *dw_loudness_suite(void)
{
	Suite *s = suite_create("dw_loudness");
	TCase *core = tcase_create("core");
	tcase_set_timeout(core, 120);
	tcase_add_test(core, test_dw_loudness_golden_ffmpeg);
	tcase_add_test(core, test_dw_loudness_reset_restarts_integrated);
	tcase_add_test(core, test_dw_loudness_off_by_default_and_switchable);
	tcase_add_test(core, test_dw_loudness_chunking_invariant);
	suite_add_tcase(s, core);
	TCase *errors = tcase_create("errors");
	tcase_add_test(errors, test_dw_loudness_errors);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_loudness_suite());
}
