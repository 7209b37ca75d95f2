/* fuzz_ws_binary.c - fuzz target: binary frames of any length and bytes,
 * from the gateway's registry (gw_sessions_audio wraps them into audio
 * messages, queues, batches) to the DSP engine a worker runs on them
 * (dw_pipeline, dw_meter_json).
 *
 * NOTES: the input is a header, then steps. The header sets the grace
 * period and the first init command (rate, channels, gain, filter, FFT
 * size, bands, waveform points, monitor: any values, so out-of-range ones
 * are refused by gw_proto as a client would see). Each step is one byte
 * op, then its arguments:
 *   0-3  a binary frame: u16 length (0..4096, odd lengths and partial
 *        frames included), then that many bytes of the input
 *   4    the worker answers u8 % 8 + 1 messages
 *   5    an idle worker appears
 *   6    the registry's timer                  7  an init or set_params
 *        built from the next bytes             8  gone, closed, detach,
 *        attach, full, unfull (u8 % 6)         9  start or stop recording
 * The worker side of fuzz_gw_fakes hands each item to a real dw_pipeline,
 * as dw_session.c does: session_open, session_init and session_params
 * merged into the parameters in force and applied (the engine must accept
 * whatever the gateway let through), audio processed. Checks: the audio
 * a worker receives is, in order, a subsequence of the frames the client
 * sent, byte for byte, with rising sequence numbers; the engine takes
 * every frame (dropping only a trailing partial frame); at 0 dB with the
 * filter never on, its output equals its input bit for bit; every meter is
 * in range and dw_meter_json writes JSON within its bound, which then goes
 * back to the gateway as the worker's meter.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dw_meter_json.h"
#include "dw_pipeline.h"
#include "fuzz_common.h"
#include "fuzz_gw_fakes.h"

#define MAX_FRAME 4096
#define MAX_SENT 4096

typedef struct frame {
	const uint8_t *p;
	size_t n;
} frame;

static struct {
	frame sent[MAX_SENT];
	size_t nsent, next;
	uint32_t pipe;
	uint64_t last_seq;
	pyc_params params;
	dw_pipeline *pl;
	bool pristine; /* 0 dB and the filter never on since the pipeline began */
	int16_t out[MAX_FRAME / 2 + 1];
} W;

static void worker_reset(uint32_t pipe)
{
	dw_pipeline_destroy(W.pl);
	W.pl = NULL;
	W.pipe = pipe;
	W.last_seq = 0;
	pyc_params_defaults(&W.params);
	FZ_ASSERT(dw_pipeline_create(&W.params, &W.pl) == PYC_OK, "pipeline with the defaults");
	W.pristine = true;
}

/* dw_session.c's apply_params: merged into what is in force, applied. */
static void apply(const uint8_t *payload, size_t len)
{
	pyc_params p, next;
	FZ_ASSERT(pyc_params_get(payload, len, &p) == PYC_OK, "parameters do not decode");
	next = W.params;
	pyc_params_merge(&next, &p);
	next.mask = PYC_P_ALL;
	bool fmt = next.sample_rate != W.params.sample_rate || next.channels != W.params.channels;
	pyc_err rv = dw_pipeline_set_params(W.pl, &next);
	FZ_ASSERT(rv == PYC_OK, "the engine refuses parameters the gateway accepted: %s",
	    pyc_strerror(rv));
	W.params = next;
	bool quiet = next.gain_db == 0.0 && next.filter_enabled == 0;
	W.pristine = fmt ? quiet : W.pristine && quiet;
	pyc_params eff;
	dw_pipeline_params(W.pl, &eff);
	FZ_ASSERT(eff.sample_rate == next.sample_rate && eff.channels == next.channels &&
	        eff.cutoff_hz <= 0.45 * eff.sample_rate + 1e-9,
	    "parameters in force: %d Hz, %d ch, cutoff %g", (int) eff.sample_rate,
	    (int) eff.channels, eff.cutoff_hz);
}

static void audio(const fz_item *it)
{
	size_t i = W.next;
	while (i < W.nsent &&
	    !(W.sent[i].n == it->len && memcmp(W.sent[i].p, it->payload, it->len) == 0))
		i++;
	FZ_ASSERT(i < W.nsent, "audio seq %llu (%zu bytes) is not a frame the client sent "
	    "after the previous one", (unsigned long long) it->seq, it->len);
	W.next = i + 1;
	FZ_ASSERT(it->seq > W.last_seq, "audio seq %llu after %llu", (unsigned long long) it->seq,
	    (unsigned long long) W.last_seq);
	W.last_seq = it->seq;

	size_t ch = (size_t) W.params.channels, fo = 99;
	pyc_err rv = dw_pipeline_process(W.pl, it->payload, it->len, W.out, &fo);
	FZ_ASSERT(rv == PYC_OK, "process: %s", pyc_strerror(rv));
	FZ_ASSERT(fo == it->len / (2 * ch), "%zu frames of %zu bytes, %zu channels", fo, it->len,
	    ch);
	if (W.pristine) {
		for (size_t k = 0; k < fo * ch; k++) {
			int16_t in = (int16_t) (uint16_t) (it->payload[2 * k] |
			    (uint16_t) (it->payload[2 * k + 1] << 8));
			FZ_ASSERT(W.out[k] == in, "sample %zu: %d in, %d out at 0 dB, filter off", k,
			    in, W.out[k]);
		}
	}
}

static void on_item(const fz_item *it, void *arg)
{
	(void) arg;
	if (it->type == PYC_MSG_SESSION_OPEN) {
		worker_reset(it->pipe);
		apply(it->payload, it->len);
		return;
	}
	FZ_ASSERT(it->pipe == W.pipe && W.pl != NULL, "%s on pipe %u before its session_open",
	    pyc_msg_type_name(it->type), it->pipe);
	if (it->type == PYC_MSG_SESSION_INIT || it->type == PYC_MSG_SESSION_PARAMS)
		apply(it->payload, it->len);
	else if (it->type == PYC_MSG_AUDIO)
		audio(it);
}

static bool finite_in(double v, double lo, double hi)
{
	return isfinite(v) && v >= lo && v <= hi;
}

static size_t meter(uint32_t pipe, uint64_t seq, char *buf, size_t cap, void *arg)
{
	dw_meter m;
	(void) arg;
	if (pipe != W.pipe || W.pl == NULL)
		return 0;
	dw_pipeline_meter(W.pl, &m);
	FZ_ASSERT(m.channels == W.params.channels, "meter of %d channels", m.channels);
	FZ_ASSERT(finite_in(m.rms_db, DW_SILENCE_DB, 0.01), "rms %g dB", m.rms_db);
	for (int c = 0; c < m.channels; c++) {
		FZ_ASSERT(finite_in(m.rms_ch_db[c], DW_SILENCE_DB, 0.01), "rms[%d] %g", c,
		    m.rms_ch_db[c]);
		FZ_ASSERT(finite_in(m.peak_db[c], DW_SILENCE_DB, 0.01), "peak[%d] %g", c,
		    m.peak_db[c]);
		FZ_ASSERT(finite_in(m.peak_hold_db[c], DW_SILENCE_DB, 0.01), "hold[%d] %g", c,
		    m.peak_hold_db[c]);
	}
	FZ_ASSERT(finite_in(m.balance, -1, 1), "balance %g", m.balance);
	FZ_ASSERT(finite_in(m.correlation, -1, 1), "correlation %g", m.correlation);
	FZ_ASSERT(m.spectrum01 != NULL, "no spectrum");
	for (int b = 0; b < PYC_METER_BANDS; b++)
		FZ_ASSERT(finite_in(m.spectrum01[b], 0, 1), "spectrum[%d] %g", b,
		    (double) m.spectrum01[b]);
	FZ_ASSERT(m.bands == W.params.bands, "%d bands, %d asked", m.bands, (int) W.params.bands);
	for (int b = 0; b < m.bands; b++)
		FZ_ASSERT(isfinite(m.band_db[b]) && m.band_db[b] >= DW_SILENCE_DB - 0.01 &&
		        finite_in(m.band_hz[b], 0, W.params.sample_rate / 2.0 + 1),
		    "band %d: %g dB at %g Hz", b, (double) m.band_db[b], (double) m.band_hz[b]);
	for (int k = 0; k < 2 * m.waveform_points; k++)
		FZ_ASSERT(finite_in(m.waveform[k], -1, 1), "waveform[%d] %g", k,
		    (double) m.waveform[k]);

	size_t bound = dw_meter_json_bound(&m);
	FZ_ASSERT(bound <= cap, "meter bound %zu over %zu", bound, cap);
	size_t n = dw_meter_json(buf, bound, seq, &m);
	FZ_ASSERT(n > 0 && n < bound && buf[n] == '\0', "meter JSON of %zu bytes, bound %zu", n,
	    bound);
	cJSON *o = cJSON_ParseWithLength(buf, n);
	FZ_ASSERT(o != NULL, "meter is not JSON: %.200s", buf);
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "spectrum");
	FZ_ASSERT(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "rms")) &&
	        cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "panning")) &&
	        cJSON_IsArray(sp) && cJSON_GetArraySize(sp) == PYC_METER_BANDS,
	    "meter without rms, panning or 32 bands: %.200s", buf);
	cJSON_Delete(o);
	return n;
}

/* An init or set_params text from the input's bytes. */
static void command(fz_in *in, bool init)
{
	char t[512];
	static const int rates[] = {8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000};
	uint8_t sel = fz_u8(in);
	int rate = sel & 0x80 ? (int) (fz_u32(in) % 250000) : rates[sel & 7];
	int ch = fz_u8(in) % 4;
	double gain = (double) (int8_t) fz_u8(in) / 2.0;
	int filt = fz_u8(in) & 1;
	double cutoff = 5.0 + fz_u16(in) * 2.0;
	int order = fz_u8(in) % 10;
	int fft = 1 << (7 + fz_u8(in) % 9);
	int bands = fz_u8(in) % 4 == 0 ? fz_u16(in) % 300 : 0;
	int wf = fz_u8(in) % 4 == 0 ? fz_u16(in) % 5000 : 0;
	int mon = fz_u8(in) & 1;
	uint8_t which = fz_u8(in);

	if (init || which % 3 == 0)
		snprintf(t, sizeof(t),
		    "{\"action\":\"%s\",\"sample_rate\":%d,\"channels\":%d,\"gain\":%g,"
		    "\"filter_enabled\":%s,\"cutoff_freq\":%g,\"filter_order\":%d,\"fft_size\":%d,"
		    "\"bands\":%d,\"waveform_points\":%d,\"monitor\":%s}",
		    init ? "init" : "set_params", rate, ch, gain, filt ? "true" : "false", cutoff,
		    order, fft, bands, wf, mon ? "true" : "false");
	else if (which % 3 == 1)
		snprintf(t, sizeof(t), "{\"action\":\"set_params\",\"gain\":%g,\"filter_enabled\":%d}",
		    gain, filt);
	else
		snprintf(t, sizeof(t), "{\"action\":\"set_params\",\"cutoff_freq\":%g,"
		    "\"integration_time\":%g}", cutoff, (double) order / 4.0);
	fz_gw_text(t, strlen(t));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fz_gw_hooks hooks = {on_item, meter, NULL};
	fz_in in;
	size_t got;

	fz_quiet();
	memset(&W, 0, sizeof(W));
	fz_init(&in, data, size);
	uint8_t hdr = fz_u8(&in);
	fz_gw_begin(hdr & 1 ? 0 : 30, hdr & 2 ? 0 : 1, &hooks);
	if (hdr & 4)
		command(&in, true);
	while (fz_left(&in) > 0) {
		uint8_t op = fz_u8(&in) % 10;
		if (op <= 3) {
			size_t want = fz_u16(&in) % (MAX_FRAME + 1);
			const uint8_t *p = fz_take(&in, want, &got);
			if (W.nsent < MAX_SENT)
				W.sent[W.nsent++] = (frame){p, got};
			fz_gw_audio(p, got);
		} else if (op == 4) {
			int k = fz_u8(&in) % 8 + 1;
			for (int i = 0; i < k && fz_gw_complete(); i++)
				;
		} else if (op == 5) {
			fz_gw_offer(1);
		} else if (op == 6) {
			fz_gw_tick();
		} else if (op == 7) {
			command(&in, fz_u8(&in) & 1);
		} else if (op == 8) {
			switch (fz_u8(&in) % 6) {
			case 0:
				fz_gw_gone();
				break;
			case 1:
				fz_gw_closed();
				break;
			case 2:
				fz_gw_detach();
				break;
			case 3:
				fz_gw_attach();
				break;
			case 4:
				fz_gw_eagain(true);
				break;
			default:
				fz_gw_eagain(false);
				break;
			}
		} else {
			const char *t = fz_u8(&in) & 1 ? "{\"action\":\"start_record\"}" :
			    "{\"action\":\"stop_record\"}";
			fz_gw_text(t, strlen(t));
		}
	}
	fz_gw_end();
	dw_pipeline_destroy(W.pl);
	W.pl = NULL;
	return 0;
}
