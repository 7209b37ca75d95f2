/* it_dsp_worker_stream.c - a session's audio through a real worker process,
 * checked against the DSP engine run in the test itself.
 *
 * NOTES: the test plays the gateway (it_dsp_worker_util.c) and runs the
 * same signal through dw_pipeline with the same sequence of parameter
 * changes, so every meter field must equal the engine's figure to within
 * the rounding of the JSON (dB 0.01, 0..1 1e-4, Hz 0.1). Also: the ready
 * event, monitor audio (bit-exact), two sessions never seeing each other's
 * data, a batch answered once, the capped meter rate with acks, a flood
 * beyond the backlog limit, and malformed messages. Every wait is bounded.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dw_pipeline.h"
#include "it_dsp_worker_util.h"

#define CHUNK 960
#define RATE 48000

static dwenv env;

static void teardown(void)
{
	dwenv_fini(&env);
}

static void start_env(const char *const *extra)
{
	ck_assert_int_eq(dwenv_init(&env, 2, 8, extra), 0);
	ck_assert_msg(dwenv_start_host(&env, 2, 10000) == 0, "host did not register workers");
}

/* ---- the reference engine, driven as the worker drives its own ---- */

typedef struct ref {
	dw_pipeline *pl;
	pyc_params cur;
} ref;

static void ref_open(ref *r, const pyc_params *open_p)
{
	pyc_params d;
	pyc_params_defaults(&d);
	ck_assert_int_eq(dw_pipeline_create(&d, &r->pl), PYC_OK);
	r->cur = d;
	if (open_p != NULL)
		pyc_params_merge(&r->cur, open_p);
	r->cur.mask = PYC_P_ALL;
	ck_assert_int_eq(dw_pipeline_set_params(r->pl, &r->cur), PYC_OK);
}

static void ref_params(ref *r, const pyc_params *p)
{
	pyc_params_merge(&r->cur, p);
	r->cur.mask = PYC_P_ALL;
	ck_assert_int_eq(dw_pipeline_set_params(r->pl, &r->cur), PYC_OK);
}

static void ref_close(ref *r)
{
	dw_pipeline_destroy(r->pl);
	r->pl = NULL;
}

static double db_clamp(double v)
{
	return (isnan(v) || v < DW_SILENCE_DB) ? DW_SILENCE_DB : v;
}

static double num_at(const cJSON *a, int i)
{
	const cJSON *x = cJSON_GetArrayItem(a, i);
	ck_assert_msg(x != NULL && cJSON_IsNumber(x), "array item %d missing", i);
	return x->valuedouble;
}

static void near(double got, double want, double tol, const char *what, int i)
{
	ck_assert_msg(fabs(got - want) <= tol, "%s[%d]: got %.6f, engine %.6f", what, i,
	    got, want);
}

/* Checks the meter JSON against the engine's meter. */
static void check_meter(const fmsg *m, uint64_t seq, const dw_meter *r)
{
	ck_assert_int_eq(m->m.type, PYC_MSG_METER);
	ck_assert_uint_eq(m->m.seq, seq);
	cJSON *o = cJSON_ParseWithLength((const char *) m->m.payload, m->m.payload_len);
	ck_assert_msg(o != NULL, "meter is not JSON: %.*s", (int) m->m.payload_len,
	    (const char *) m->m.payload);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "meter");
	ck_assert_uint_eq((uint64_t) cJSON_GetObjectItem(o, "seq")->valuedouble, seq);
	near(cJSON_GetObjectItem(o, "rms")->valuedouble, db_clamp(r->rms_db), 0.0051, "rms", 0);
	near(cJSON_GetObjectItem(o, "panning")->valuedouble, r->balance, 0.000051, "panning", 0);
	near(cJSON_GetObjectItem(o, "correlation")->valuedouble, r->correlation, 0.000051,
	    "correlation", 0);
	const cJSON *sp = cJSON_GetObjectItem(o, "spectrum");
	ck_assert_int_eq(cJSON_GetArraySize(sp), PYC_METER_BANDS);
	for (int i = 0; i < PYC_METER_BANDS; i++)
		near(num_at(sp, i), r->spectrum01[i], 0.000051, "spectrum", i);
	const char *chn[] = {"rms_db", "peak_db", "peak_hold_db", "clips"};
	for (int k = 0; k < 4; k++) {
		const cJSON *a = cJSON_GetObjectItem(o, chn[k]);
		ck_assert_msg(a != NULL, "%s missing", chn[k]);
		ck_assert_int_eq(cJSON_GetArraySize(a), r->channels);
		for (int c = 0; c < r->channels; c++) {
			double want = k == 0 ? db_clamp(r->rms_ch_db[c]) : k == 1 ? db_clamp(r->peak_db[c])
			    : k == 2 ? db_clamp(r->peak_hold_db[c]) : (double) r->clips[c];
			near(num_at(a, c), want, k == 3 ? 0 : 0.0051, chn[k], c);
		}
	}
	const cJSON *sdb = cJSON_GetObjectItem(o, "spectrum_db");
	const cJSON *bhz = cJSON_GetObjectItem(o, "band_hz");
	if (r->bands > 0) {
		ck_assert_int_eq(cJSON_GetArraySize(sdb), r->bands);
		ck_assert_int_eq(cJSON_GetArraySize(bhz), r->bands);
		for (int i = 0; i < r->bands; i++) {
			near(num_at(sdb, i), db_clamp(r->band_db[i]), 0.0051, "spectrum_db", i);
			near(num_at(bhz, i), r->band_hz[i], 0.051, "band_hz", i);
		}
	} else {
		ck_assert_ptr_null(sdb);
		ck_assert_ptr_null(bhz);
	}
	const cJSON *wf = cJSON_GetObjectItem(o, "waveform");
	if (r->waveform_points > 0) {
		ck_assert_int_eq(cJSON_GetArraySize(wf), r->waveform_points * 2);
		for (int i = 0; i < r->waveform_points * 2; i++)
			near(num_at(wf, i), r->waveform[i], 0.000051, "waveform", i);
	} else {
		ck_assert_ptr_null(wf);
	}
	ck_assert_ptr_null(strstr((const char *) m->m.payload, "inf"));
	ck_assert_ptr_null(strstr((const char *) m->m.payload, "nan"));
	cJSON_Delete(o);
}

static void make_chunk(int16_t *pcm, int ch, uint64_t start, double f0, double f1,
    double a0, double a1)
{
	double freq[2] = {f0, f1}, amp[2] = {a0, a1};
	dw_sines(pcm, CHUNK, ch, RATE, freq, amp, start);
}

static cJSON *event_json(const fmsg *m)
{
	ck_assert_msg(m->m.type == PYC_MSG_EVENT, "expected an event, got %s",
	    pyc_msg_type_name(m->m.type));
	cJSON *o = cJSON_ParseWithLength((const char *) m->m.payload, m->m.payload_len);
	ck_assert(o != NULL);
	return o;
}

static void expect_ready(uint32_t pipe)
{
	fmsg m;
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	cJSON *o = event_json(&m);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "ready");
	cJSON_Delete(o);
	fmsg_free(&m);
}

static void base_init(pyc_params *p, int ch)
{
	dw_params_masked(p, PYC_P_RATE | PYC_P_CHANNELS | PYC_P_GAIN | PYC_P_FILTER |
	    PYC_P_CUTOFF | PYC_P_BANDS | PYC_P_WAVEFORM | PYC_P_INTEGRATION);
	p->sample_rate = RATE;
	p->channels = ch;
	p->gain_db = 6.0;
	p->filter_enabled = 1;
	p->cutoff_hz = 2000;
	p->bands = 16;
	p->waveform_points = 32;
	p->integration_s = 0.1;
}

START_TEST(test_dw_stream_meters_match_engine)
{
	const char *sid = "streamA";
	pyc_params init;
	ref r;
	int16_t pcm[CHUNK * 2];
	fmsg m;
	const int n = 40;

	start_env(NULL);
	base_init(&init, 2);
	uint32_t pipe = dw_open(&env, sid, NULL, &init, NULL);
	ck_assert_uint_ne(pipe, 0);
	expect_ready(pipe);
	ref_open(&r, NULL);
	ref_params(&r, &init);
	for (int i = 1; i <= n; i++) {
		make_chunk(pcm, 2, (uint64_t) (i - 1) * CHUNK, 1000, 3000, 0.5, 0.25);
		ck_assert_int_eq(fgw_send_audio(&env.gw, pipe, sid, (uint64_t) i, pcm,
				     sizeof(pcm), 2), 0);
	}
	for (int i = 1; i <= n; i++) {
		dw_meter rm;
		size_t fo;
		make_chunk(pcm, 2, (uint64_t) (i - 1) * CHUNK, 1000, 3000, 0.5, 0.25);
		ck_assert_int_eq(dw_pipeline_process(r.pl, pcm, sizeof(pcm), NULL, &fo), PYC_OK);
		dw_pipeline_meter(r.pl, &rm);
		ck_assert_msg(fgw_next(&env.gw, pipe, &m, 3000) == 0, "no meter for chunk %d", i);
		ck_assert_str_eq(m.m.sid, sid);
		check_meter(&m, (uint64_t) i, &rm);
		fmsg_free(&m);
	}
	ref_close(&r);
}
END_TEST

/* A batch (the gateway's PYC_MSG_BATCH) is handled item by item, in order,
 * but answered once: with the meter after its last chunk, or, when it
 * holds no audio, with one ack carrying the reply flag. A single message
 * after it is answered as before. */
START_TEST(test_dw_stream_batch_answered_once)
{
	const char *sid = "batchS";
	pyc_params init, gain0, gain3;
	ref r;
	int16_t pcm[CHUNK * 2];
	uint8_t pbuf[256];
	fmsg m;
	dw_meter rm;
	size_t fo;
	const size_t cap = 64 * 1024;
	uint8_t *items = malloc(cap);
	ck_assert_ptr_nonnull(items);

	start_env(NULL);
	base_init(&init, 2);
	uint32_t pipe = dw_open(&env, sid, NULL, &init, NULL);
	ck_assert_uint_ne(pipe, 0);
	expect_ready(pipe);
	ref_open(&r, NULL);
	ref_params(&r, &init);
	dw_params_masked(&gain0, PYC_P_GAIN);
	gain0.gain_db = 0.0;
	dw_params_masked(&gain3, PYC_P_GAIN);
	gain3.gain_db = 3.0;

	/* chunks 1..5, gain 0 dB, chunks 6..8: nine items, one message */
	pyc_wbuf w, pw;
	pyc_wbuf_init(&w, items, cap);
	for (int i = 1; i <= 8; i++) {
		if (i == 6) {
			pyc_wbuf_init(&pw, pbuf, sizeof(pbuf));
			pyc_params_put(&pw, &gain0);
			ck_assert_int_eq(pw.err, PYC_OK);
			pyc_batch_put(&w, PYC_MSG_SESSION_PARAMS, 0, pbuf, pw.len);
			ref_params(&r, &gain0);
		}
		make_chunk(pcm, 2, (uint64_t) (i - 1) * CHUNK, 500, 5000, 0.5, 0.3);
		pyc_batch_put(&w, PYC_MSG_AUDIO, (uint64_t) i, pcm, sizeof(pcm));
		ck_assert_int_eq(dw_pipeline_process(r.pl, pcm, sizeof(pcm), NULL, &fo), PYC_OK);
	}
	ck_assert_int_eq(w.err, PYC_OK);
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_BATCH, sid, 9, items, w.len), 0);
	ck_assert_msg(fgw_next(&env.gw, pipe, &m, 3000) == 0, "no answer to the batch");
	ck_assert_msg(m.m.type == PYC_MSG_METER, "the batch answered with %s, not a meter",
	    pyc_msg_type_name(m.m.type));
	dw_pipeline_meter(r.pl, &rm);
	check_meter(&m, 8, &rm); /* the engine's state after all eight chunks */
	fmsg_free(&m);
	ck_assert_msg(fgw_next(&env.gw, pipe, &m, 300) != 0,
	    "a second answer to one batch: %s seq %llu", pyc_msg_type_name(m.m.type),
	    (unsigned long long) m.m.seq);

	/* commands only: one ack with the reply flag and the batch's seq */
	pyc_wbuf_init(&w, items, cap);
	pyc_wbuf_init(&pw, pbuf, sizeof(pbuf));
	pyc_params_put(&pw, &gain3);
	pyc_batch_put(&w, PYC_MSG_SESSION_PARAMS, 8, pbuf, pw.len);
	pyc_batch_put(&w, PYC_MSG_SESSION_PARAMS, 8, pbuf, pw.len);
	ck_assert_int_eq(w.err, PYC_OK);
	ref_params(&r, &gain3);
	uint64_t acks0 = env.gw.cmd_acks; /* the fake gateway counts command acks */
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_BATCH, sid, 2, items, w.len), 0);
	long long end = pyc_now_ms() + 3000;
	while (env.gw.cmd_acks == acks0 && pyc_now_ms() < end)
		fgw_pump(&env.gw, 20);
	ck_assert_msg(env.gw.cmd_acks == acks0 + 1, "no ack for the command batch");
	ck_assert_msg(fgw_next(&env.gw, pipe, &m, 300) != 0, "another answer: %s",
	    pyc_msg_type_name(m.m.type));
	ck_assert_uint_eq(env.gw.cmd_acks, acks0 + 1);

	/* a single chunk after them: its own meter, at +3 dB */
	make_chunk(pcm, 2, 8 * CHUNK, 500, 5000, 0.5, 0.3);
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, sid, 9, pcm, sizeof(pcm)), 0);
	ck_assert_int_eq(dw_pipeline_process(r.pl, pcm, sizeof(pcm), NULL, &fo), PYC_OK);
	ck_assert_msg(fgw_next(&env.gw, pipe, &m, 3000) == 0, "no meter for chunk 9");
	dw_pipeline_meter(r.pl, &rm);
	check_meter(&m, 9, &rm);
	fmsg_free(&m);
	ref_close(&r);
	free(items);
}
END_TEST

START_TEST(test_dw_stream_ready_effective_settings)
{
	pyc_params init;
	fmsg m;
	start_env(NULL);
	dw_params_masked(&init, PYC_P_RATE | PYC_P_CHANNELS | PYC_P_CUTOFF | PYC_P_FFT |
	    PYC_P_ORDER | PYC_P_METER_RATE | PYC_P_MONITOR);
	init.sample_rate = RATE;
	init.channels = 1;
	init.cutoff_hz = 30000; /* above 0.45 fs: clamped to 21600 */
	init.fft_size = 1024;
	init.filter_order = 6;
	init.max_meter_rate = 25;
	init.monitor = 1;
	uint32_t pipe = dw_open(&env, "readyS", NULL, &init, NULL);
	ck_assert_uint_ne(pipe, 0);
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	cJSON *o = event_json(&m);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "ready");
	ck_assert_int_eq(cJSON_GetObjectItem(o, "sample_rate")->valueint, RATE);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "channels")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "fft_size")->valueint, 1024);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "bands")->valueint, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "band_hz")), PYC_METER_BANDS);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "filter_order")->valueint, 6);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "cutoff_freq")->valuedouble, 21600, 0.01);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "max_meter_rate")->valuedouble, 25, 1e-9);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "monitor")));
	cJSON_Delete(o);
	fmsg_free(&m);
	/* A reopen of a session that had an init (mask has the rate) is ready
	 * at once; one without an init is not. */
	uint32_t p2 = dw_open(&env, "readyT", &init, NULL, NULL);
	ck_assert_uint_ne(p2, 0);
	expect_ready(p2);
	uint32_t p3 = dw_open(&env, "readyU", NULL, NULL, NULL);
	ck_assert_uint_ne(p3, 0);
	ck_assert_int_eq(fgw_next(&env.gw, p3, &m, 300), -1);
}
END_TEST

START_TEST(test_dw_stream_sessions_isolated)
{
	const char *sid[2] = {"isoA", "isoB"};
	uint32_t pipe[2];
	pyc_params init[2];
	ref r[2];
	int16_t pcm[CHUNK * 2];
	const int n = 25;

	start_env(NULL);
	for (int s = 0; s < 2; s++) {
		base_init(&init[s], s == 0 ? 2 : 1);
		init[s].gain_db = s == 0 ? 0 : 12;
		init[s].filter_enabled = s;
		pipe[s] = dw_open(&env, sid[s], NULL, &init[s], NULL);
		ck_assert_uint_ne(pipe[s], 0);
		expect_ready(pipe[s]);
		ref_open(&r[s], NULL);
		ref_params(&r[s], &init[s]);
	}
	ck_assert_uint_ne(pipe[0], pipe[1]);
	for (int i = 1; i <= n; i++) {
		for (int s = 0; s < 2; s++) {
			int ch = s == 0 ? 2 : 1;
			make_chunk(pcm, ch, (uint64_t) (i - 1) * CHUNK, s ? 440 : 5000, 200,
			    s ? 0.9 : 0.1, 0.7);
			fgw_send_audio(&env.gw, pipe[s], sid[s], (uint64_t) i, pcm,
			    (size_t) CHUNK * (size_t) ch * 2, 2);
		}
	}
	for (int i = 1; i <= n; i++) {
		for (int s = 0; s < 2; s++) {
			int ch = s == 0 ? 2 : 1;
			dw_meter rm;
			size_t fo;
			fmsg m;
			make_chunk(pcm, ch, (uint64_t) (i - 1) * CHUNK, s ? 440 : 5000, 200,
			    s ? 0.9 : 0.1, 0.7);
			dw_pipeline_process(r[s].pl, pcm, (size_t) CHUNK * (size_t) ch * 2, NULL, &fo);
			dw_pipeline_meter(r[s].pl, &rm);
			ck_assert_int_eq(fgw_next(&env.gw, pipe[s], &m, 3000), 0);
			ck_assert_str_eq(m.m.sid, sid[s]);
			check_meter(&m, (uint64_t) i, &rm);
			fmsg_free(&m);
		}
	}
	ref_close(&r[0]);
	ref_close(&r[1]);
}
END_TEST

START_TEST(test_dw_stream_monitor_bit_exact)
{
	const char *sid = "monS";
	pyc_params init;
	ref r;
	int16_t pcm[CHUNK * 2], want[CHUNK * 2];
	const int n = 10;

	start_env(NULL);
	base_init(&init, 2);
	init.mask |= PYC_P_MONITOR;
	init.monitor = 1;
	init.gain_db = 20; /* clips: saturation must match too */
	uint32_t pipe = dw_open(&env, sid, NULL, &init, NULL);
	expect_ready(pipe);
	ref_open(&r, NULL);
	ref_params(&r, &init);
	for (int i = 1; i <= n; i++) {
		make_chunk(pcm, 2, (uint64_t) (i - 1) * CHUNK, 300, 700, 0.3, 0.05);
		fgw_send_audio(&env.gw, pipe, sid, (uint64_t) i, pcm, sizeof(pcm), 2);
	}
	for (int i = 1; i <= n; i++) {
		fmsg m;
		size_t fo;
		make_chunk(pcm, 2, (uint64_t) (i - 1) * CHUNK, 300, 700, 0.3, 0.05);
		dw_pipeline_process(r.pl, pcm, sizeof(pcm), want, &fo);
		ck_assert_uint_eq(fo, CHUNK);
		ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
		ck_assert_int_eq(m.m.type, PYC_MSG_MONITOR);
		ck_assert_uint_eq(m.m.seq, (uint64_t) i);
		ck_assert_uint_eq(m.m.payload_len, sizeof(want));
		ck_assert_msg(memcmp(m.m.payload, want, sizeof(want)) == 0,
		    "monitor audio of chunk %d differs from the engine's", i);
		fmsg_free(&m);
		dw_meter rm;
		dw_pipeline_meter(r.pl, &rm);
		ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
		check_meter(&m, (uint64_t) i, &rm);
		fmsg_free(&m);
	}
	ref_close(&r);
}
END_TEST

/* What came back during the meter rate test. */
typedef struct rate_tally {
	uint64_t meter_seqs[64];
	int nmeters, nacks;
	uint64_t last_seq_seen;
} rate_tally;

/* Counts one answer and frees it. */
static void rate_count(rate_tally *c, fmsg *m)
{
	if (m->m.type == PYC_MSG_METER && c->nmeters < 64)
		c->meter_seqs[c->nmeters++] = m->m.seq;
	else if (m->m.type == PYC_MSG_ACK)
		c->nacks++;
	if (m->m.seq > c->last_seq_seen)
		c->last_seq_seen = m->m.seq;
	fmsg_free(m);
}

START_TEST(test_dw_stream_meter_rate_cap)
{
	const char *sid = "rateS";
	pyc_params init;
	int16_t pcm[CHUNK * 2];
	const int n = 50; /* one second at real-time pace */
	rate_tally c = {{0}, 0, 0, 0};

	start_env(NULL);
	base_init(&init, 2);
	init.mask |= PYC_P_METER_RATE;
	init.max_meter_rate = 10;
	uint32_t pipe = dw_open(&env, sid, NULL, &init, NULL);
	expect_ready(pipe);
	long long t0 = pyc_now_ms();
	for (int i = 1; i <= n; i++) {
		make_chunk(pcm, 2, (uint64_t) (i - 1) * CHUNK, 1000, 2000, 0.5, 0.5);
		fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, sid, (uint64_t) i, pcm, sizeof(pcm));
		long long due = t0 + (long long) i * 20;
		while (pyc_now_ms() < due) {
			fmsg m;
			int left = (int) (due - pyc_now_ms());
			if (fgw_next(&env.gw, pipe, &m, left > 0 ? left : 0) != 0)
				break;
			rate_count(&c, &m);
		}
	}
	/* The last chunk is answered within the ack interval (+ slack). */
	long long end = pyc_now_ms() + 500;
	while (c.last_seq_seen < (uint64_t) n && pyc_now_ms() < end) {
		fmsg m;
		if (fgw_next(&env.gw, pipe, &m, 100) == 0)
			rate_count(&c, &m);
	}
	ck_assert_uint_eq(c.last_seq_seen, (uint64_t) n);
	ck_assert_msg(c.nmeters >= 7 && c.nmeters <= 12, "%d meters in ~1 s at a cap of 10/s",
	    c.nmeters);
	ck_assert_int_gt(c.nacks, 5);
	for (int i = 1; i < c.nmeters; i++)
		ck_assert_uint_gt(c.meter_seqs[i], c.meter_seqs[i - 1]);
	/* No meter follows a meter closer than 1/10 s in chunk time, give or
	 * take scheduling: at least 3 chunks (60 ms) apart. */
	for (int i = 1; i < c.nmeters; i++)
		ck_assert_uint_ge(c.meter_seqs[i] - c.meter_seqs[i - 1], 3);
}
END_TEST

START_TEST(test_dw_stream_flood_beyond_backlog)
{
	const char *extra[] = {"DSP_MAX_BACKLOG_SECONDS=0.5", NULL};
	const char *sid = "floodS";
	pyc_params init;
	int16_t pcm[CHUNK * 2];
	const int n = 200; /* 4 s of audio sent at once */
	int meters = 0, acks = 0, too_fast = 0;
	uint64_t last = 0;

	start_env(extra);
	base_init(&init, 2);
	uint32_t pipe = dw_open(&env, sid, NULL, &init, NULL);
	expect_ready(pipe);
	make_chunk(pcm, 2, 0, 1000, 2000, 0.5, 0.5);
	long long t0 = pyc_now_ms();
	for (int i = 1; i <= n; i++)
		ck_assert_int_eq(fgw_send_audio(&env.gw, pipe, sid, (uint64_t) i, pcm,
				     sizeof(pcm), 2), 0);
	long long end = pyc_now_ms() + 5000;
	while (last < (uint64_t) n && pyc_now_ms() < end) {
		fmsg m;
		if (fgw_next(&env.gw, pipe, &m, 200) != 0)
			continue;
		if (m.m.type == PYC_MSG_METER)
			meters++;
		else if (m.m.type == PYC_MSG_ACK)
			acks++;
		else if (m.m.type == PYC_MSG_EVENT) {
			cJSON *o = event_json(&m);
			ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "error");
			ck_assert_str_eq(cJSON_GetObjectItem(o, "code")->valuestring, "too_fast");
			too_fast++;
			cJSON_Delete(o);
		}
		if (m.m.type != PYC_MSG_EVENT) {
			ck_assert_uint_gt(m.m.seq, last); /* in order, one answer each */
			last = m.m.seq;
		}
		fmsg_free(&m);
	}
	long long took = pyc_now_ms() - t0;
	ck_assert_uint_eq(last, (uint64_t) n);
	ck_assert_int_eq(meters + acks, n); /* every chunk answered exactly once */
	/* 0.5 s of backlog is 25 chunks, plus what real time let in meanwhile. */
	int allowed = 26 + (int) (took / 20) + 2;
	ck_assert_msg(meters >= 25 && meters <= allowed, "%d chunks analysed in %lld ms",
	    meters, took);
	ck_assert_int_ge(too_fast, 1);
	ck_assert_int_le(too_fast, 1 + (int) (took / 1000));
	/* The session goes on at real-time pace afterwards. */
	pyc_sleep_ms(600);
	fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, sid, (uint64_t) n + 1, pcm, sizeof(pcm));
	fmsg m;
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 2000), 0);
	ck_assert_int_eq(m.m.type, PYC_MSG_METER);
	ck_assert_uint_eq(m.m.seq, (uint64_t) n + 1);
	fmsg_free(&m);
}
END_TEST

static void expect_error(uint32_t pipe, const char *code)
{
	fmsg m;
	ck_assert_msg(fgw_next(&env.gw, pipe, &m, 3000) == 0, "no %s error", code);
	cJSON *o = event_json(&m);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "type")->valuestring, "error");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "code")->valuestring, code);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(o, "message")));
	cJSON_Delete(o);
	fmsg_free(&m);
}

START_TEST(test_dw_stream_malformed_messages)
{
	const char *extra[] = {"DSP_MAX_CHUNK_FRAMES=2048", NULL};
	const char *sid = "badS";
	pyc_params init;
	ref r;
	int16_t pcm[CHUNK * 2];
	int16_t big[3000 * 2];
	uint8_t buf[256];
	fmsg m;

	start_env(extra);
	/* Garbage to an idle worker: it stays usable. */
	uint32_t idle_pid = 0;
	uint32_t pipe = fgw_take_worker(&env.gw, 5000, &idle_pid);
	ck_assert_uint_ne(pipe, 0);
	ck_assert_int_eq(fgw_send_raw(&env.gw, pipe, "hello", 5), 0);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	ck_assert_int_eq(fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, sid, 1, pcm, 64), 0);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */

	base_init(&init, 2);
	pyc_params none;
	dw_params_masked(&none, 0);
	fgw_send_params(&env.gw, pipe, PYC_MSG_SESSION_OPEN, sid, &none);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	fgw_send_params(&env.gw, pipe, PYC_MSG_SESSION_INIT, sid, &init);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	expect_ready(pipe);
	ref_open(&r, NULL);
	ref_params(&r, &init);

	/* Envelope of another version. */
	size_t hl = 0;
	pyc_wire_encode_hdr(buf, sizeof(buf), PYC_MSG_AUDIO, 0, sid, 2, 0, &hl);
	buf[0] = PYC_WIRE_VERSION + 1;
	fgw_send_raw(&env.gw, pipe, buf, hl);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	/* Length mismatch. */
	pyc_wire_encode_hdr(buf, sizeof(buf), PYC_MSG_AUDIO, 0, sid, 2, 100, &hl);
	fgw_send_raw(&env.gw, pipe, buf, hl + 10);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	/* Another session's id on this session's channel. */
	make_chunk(pcm, 2, 0, 1000, 2000, 0.5, 0.5);
	fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, "intruder", 3, pcm, sizeof(pcm));
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	/* A type the worker never receives. */
	fgw_send(&env.gw, pipe, PYC_MSG_METER, sid, 4, "{}", 2);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	/* Truncated parameters. */
	pyc_wbuf w;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_params_put(&w, &init);
	fgw_send(&env.gw, pipe, PYC_MSG_SESSION_PARAMS, sid, 0, buf, w.len - 3);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	expect_error(pipe, "bad_message");
	/* Out-of-range parameters (a gateway bug: refused, nothing changes). */
	pyc_params bad = init;
	bad.mask = PYC_P_GAIN;
	bad.gain_db = 500;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_params_put(&w, &bad);
	fgw_send(&env.gw, pipe, PYC_MSG_SESSION_PARAMS, sid, 0, buf, w.len);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	expect_error(pipe, "out_of_range");
	/* A chunk over DSP_MAX_CHUNK_FRAMES: error, acked, not processed. */
	memset(big, 0, sizeof(big));
	fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, sid, 5, big, sizeof(big));
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	expect_error(pipe, "out_of_range");
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	ck_assert_int_eq(m.m.type, PYC_MSG_ACK);
	ck_assert_uint_eq(m.m.seq, 5);
	fmsg_free(&m);
	/* Bad record command payload, and stop without a recording. */
	fgw_send(&env.gw, pipe, PYC_MSG_RECORD, sid, 0, "\x01\x02", 2);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	expect_error(pipe, "bad_message");
	uint8_t stop = 0;
	fgw_send(&env.gw, pipe, PYC_MSG_RECORD, sid, 0, &stop, 1);
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	expect_error(pipe, "not_recording");
	/* A chunk with a trailing partial frame: the partial frame is dropped. */
	uint8_t odd[sizeof(pcm) + 3];
	memcpy(odd, pcm, sizeof(pcm));
	memset(odd + sizeof(pcm), 0x7f, 3);
	fgw_send(&env.gw, pipe, PYC_MSG_AUDIO, sid, 6, odd, sizeof(odd));
	pyc_sleep_ms(3); /* no burst: see fgw_send_audio */
	dw_meter rm;
	size_t fo;
	dw_pipeline_process(r.pl, pcm, sizeof(pcm), NULL, &fo);
	dw_pipeline_meter(r.pl, &rm);
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 3000), 0);
	check_meter(&m, 6, &rm); /* nothing before changed the engine's state */
	fmsg_free(&m);
	ck_assert_int_eq(fgw_next(&env.gw, pipe, &m, 300), -1); /* nothing else */
	ck_assert(dw_pid_alive((int) idle_pid));
	ck_assert_int_eq(env.gw.bad, 0);
	ref_close(&r);
}
END_TEST

static Suite *dw_stream_suite(void)
{
	Suite *s = suite_create("dw_stream");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_stream_meters_match_engine);
	tcase_add_test(tc, test_dw_stream_ready_effective_settings);
	tcase_add_test(tc, test_dw_stream_sessions_isolated);
	tcase_add_test(tc, test_dw_stream_monitor_bit_exact);
	tcase_add_test(tc, test_dw_stream_batch_answered_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_stream_meter_rate_cap);
	tcase_add_test(tc, test_dw_stream_flood_beyond_backlog);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_dw_stream_malformed_messages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pyc_check_run(dw_stream_suite());
}
