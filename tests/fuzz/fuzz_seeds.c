/* fuzz_seeds.c - writes the seed corpus of every fuzz target
 * (tests/fuzz/corpus/<target>/), made by the project's own encoders.
 *
 * NOTES: run by hand after a format changes (scripts/fuzz.sh --seeds
 * rebuilds and runs it), and the output is committed: the seeds are small
 * and stable, so a fuzz run and the ctest replay start from the same
 * files. ws_command seeds are the commands of docs/protocol.md in the
 * script form of fuzz_ws_command.c; wire seeds are envelopes of every
 * message type built with pyc_wire's _put functions and a batch as the
 * gateway builds it; ws_binary seeds are step scripts (fuzz_ws_binary.c)
 * with real PCM; http_route seeds are request pieces joined by NUL;
 * wav_repair seeds are WAVs written by rec_wav (libsndfile), then cut at
 * various points and given the stale sizes a crash leaves.
 * Usage: fuzz_seeds OUT_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyc_params.h"
#include "pyc_wire.h"
#include "rec_wav.h"

static const char *out_dir;

static void put(const char *target, const char *name, const void *p, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n)) {
		fprintf(stderr, "fuzz_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fclose(f);
}

static void put_str(const char *target, const char *name, const char *s)
{
	put(target, name, s, strlen(s));
}

/* ---- ws_command ---- */

static void ws_command(void)
{
	static const struct {
		const char *name, *text;
	} s[] = {
		{"init", "{\"action\":\"init\",\"sample_rate\":44100,\"channels\":2}"},
		{"init_mono_48k", "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":1}"},
		{"init_all", "{\"action\":\"init\",\"sample_rate\":96000,\"channels\":2,\"gain\":6.5,"
		    "\"filter_enabled\":true,\"cutoff_freq\":1500,\"integration_time\":0.5,"
		    "\"filter_order\":8,\"fft_size\":16384,\"bands\":256,\"waveform_points\":4096,"
		    "\"max_meter_rate\":30,\"monitor\":true}"},
		{"set_params", "{\"action\":\"set_params\",\"gain\":6.0,\"filter_enabled\":true,"
		    "\"cutoff_freq\":1500,\"integration_time\":0.5}"},
		{"set_params_bool01", "{\"action\":\"set_params\",\"filter_enabled\":1,\"monitor\":0}"},
		{"set_params_empty", "{\"action\":\"set_params\"}"},
		{"start_record", "{\"action\":\"start_record\"}"},
		{"start_record_fmt", "{\"action\":\"start_record\",\"sample_rate\":22050,"
		    "\"channels\":1}"},
		{"stop_record", "{\"action\":\"stop_record\"}"},
		{"int_float", "{\"action\":\"init\",\"sample_rate\":44100.0,\"channels\":2.0}"},
		{"bad_json", "{\"action\":\"init\","},
		{"not_object", "[1,2,3]"},
		{"missing_action", "{\"gain\":3}"},
		{"action_number", "{\"action\":7}"},
		{"unknown_action", "{\"action\":\"self_destruct\\u0000\\\"x\"}"},
		{"out_of_range", "{\"action\":\"init\",\"sample_rate\":7999,\"channels\":3}"},
		{"bad_type", "{\"action\":\"set_params\",\"gain\":\"loud\"}"},
		{"fraction", "{\"action\":\"init\",\"sample_rate\":44100.5}"},
		{"huge", "{\"action\":\"init\",\"sample_rate\":1e308,\"gain\":-1e999}"},
		{"fft_not_pow2", "{\"action\":\"set_params\",\"fft_size\":1000,\"waveform_points\":1}"},
		{"nan_like", "{\"action\":\"set_params\",\"gain\":NaN}"},
		{"dup_keys", "{\"action\":\"init\",\"action\":\"stop_record\",\"channels\":1,"
		    "\"channels\":2}"},
		/* scripts: steps of fuzz_ws_command.c */
		{"script_basic", "{\"action\":\"init\",\"sample_rate\":48000,\"channels\":2}\n"
		    "!ack\n!audio abcdabcdabcdabcd\n!audio 0123456789\n!ack 3\n"
		    "{\"action\":\"set_params\",\"gain\":12}\n{\"action\":\"start_record\"}\n"
		    "!audio zzzzzzzz\n{\"action\":\"stop_record\"}\n!ack 10\n"
		    "!event {\"type\":\"recording_saved\",\"id\":1,\"filename\":\"x.wav\","
		    "\"duration_seconds\":0.1}\n!tick\n"},
		{"script_noworker", "!noworker\n{\"action\":\"init\",\"sample_rate\":44100,"
		    "\"channels\":1}\n{\"action\":\"start_record\"}\n!audio aaaaaaaaaaaa\n!tick\n"
		    "!idle 1\n!tick\n!ack 10\n"},
		{"script_gone", "{\"action\":\"init\",\"sample_rate\":16000,\"channels\":1}\n"
		    "{\"action\":\"start_record\"}\n!audio 1234\n!gone\n!idle\n!tick\n!ack 5\n"
		    "!audio 5678\n!ack 5\n"},
		{"script_takeover", "{\"action\":\"init\"}\n!attach\n!audio qwerty\n!detach\n"
		    "!event {\"type\":\"error\",\"code\":\"too_fast\",\"message\":\"m\"}\n!attach\n"
		    "!ack 4\n"},
		{"script_grace0", "!grace0\n{\"action\":\"init\"}\n!audio 12345678\n!detach\n!ack 9\n"
		    "!attach\n!ack 9\n"},
		{"script_closed", "{\"action\":\"init\"}\n!closed\n!idle 2\n!tick\n!audio 1111\n"
		    "!ack 3\n!monitor abcd\n!event not json\n"},
		{"script_full", "!full\n{\"action\":\"init\"}\n!audio 12\n!audio 34\n!audio 56\n"
		    "!tick\n!unfull\n!tick\n!ack 2\n!ack 2\n"},
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		put_str("ws_command", s[i].name, s[i].text);
	/* a long queue: audio frames well past the pause threshold */
	char big[8192];
	size_t n = (size_t) snprintf(big, sizeof(big), "{\"action\":\"init\"}\n");
	for (int i = 0; i < 100 && n + 32 < sizeof(big); i++)
		n += (size_t) snprintf(big + n, sizeof(big) - n, "!audio %04d%04d\n", i, i);
	n += (size_t) snprintf(big + n, sizeof(big) - n, "!ack 299\n");
	put("ws_command", "script_backlog", big, n);
}

/* ---- wire ---- */

#define SID "sid_0123456789abcdefABCDEF-_"

static size_t envelope(uint8_t *out, size_t cap, unsigned type, unsigned flags,
    const char *sid, uint64_t seq, const pyc_wbuf *w)
{
	size_t hl;
	if (pyc_wire_encode_hdr(out, cap, type, flags, sid, seq, w->len, &hl) != PYC_OK ||
	    hl + w->len > cap || w->err != PYC_OK) {
		fprintf(stderr, "fuzz_seeds: cannot encode %s\n", pyc_msg_type_name(type));
		exit(1);
	}
	memcpy(out + hl, w->buf, w->len);
	return hl + w->len;
}

static void wire_put(const char *name, unsigned type, unsigned flags, uint64_t seq,
    const pyc_wbuf *w)
{
	uint8_t out[8192];
	size_t n = envelope(out, sizeof(out), type, flags, SID, seq, w);
	put("wire", name, out, n);
}

static void wire(void)
{
	uint8_t b[4096];
	pyc_wbuf w;
	pyc_params p;

#define W0() pyc_wbuf_init(&w, b, sizeof(b))
	W0();
	pyc_host_hello hh = {"host-a", 16, 2, 2, 3};
	pyc_host_hello_put(&w, &hh);
	{
		uint8_t out[256];
		size_t n = envelope(out, sizeof(out), PYC_MSG_HOST_HELLO, 0, "", 0, &w);
		put("wire", "host_hello", out, n);
	}
	W0();
	pyc_worker_hello wh = {"host-a", 4242};
	pyc_worker_hello_put(&w, &wh);
	wire_put("worker_hello", PYC_MSG_WORKER_HELLO, 0, 0, &w);
	W0();
	pyc_params_defaults(&p);
	pyc_params_put(&w, &p);
	wire_put("session_open", PYC_MSG_SESSION_OPEN, 0, 0, &w);
	W0();
	p.mask = PYC_P_RATE | PYC_P_CHANNELS;
	p.sample_rate = 48000;
	p.channels = 1;
	pyc_params_put(&w, &p);
	wire_put("session_init", PYC_MSG_SESSION_INIT, 0, 3, &w);
	W0();
	p.mask = PYC_P_GAIN | PYC_P_FILTER | PYC_P_CUTOFF | PYC_P_FFT;
	p.gain_db = -6.5;
	p.filter_enabled = 1;
	p.cutoff_hz = 86400.0;
	p.fft_size = 256;
	pyc_params_put(&w, &p);
	wire_put("session_params", PYC_MSG_SESSION_PARAMS, 0, 4, &w);
	W0();
	for (int i = 0; i < 64; i++)
		pyc_wbuf_i32(&w, (int32_t) (10000 * sin(i / 5.0)) & 0xffff);
	wire_put("audio", PYC_MSG_AUDIO, 0, 1, &w);
	W0();
	pyc_record_cmd rc = {1};
	pyc_record_cmd_put(&w, &rc);
	wire_put("record", PYC_MSG_RECORD, 0, 9, &w);
	W0();
	wire_put("session_close", PYC_MSG_SESSION_CLOSE, 0, 12, &w);
	wire_put("session_closed", PYC_MSG_SESSION_CLOSED, 0, 12, &w);
	wire_put("ack_reply", PYC_MSG_ACK, PYC_WIRE_F_REPLY, 3, &w);
	static char meter[] = "{\"type\":\"meter\",\"rms\":-12.5,\"panning\":0}";
	pyc_wbuf_init(&w, meter, sizeof(meter) - 1);
	w.len = sizeof(meter) - 1; /* a raw payload: the JSON text itself */
	wire_put("meter", PYC_MSG_METER, 0, 7, &w);
	W0();
	pyc_rec_start rs = {44100, 2, "{\"gain\":0.00,\"filter_enabled\":false}"};
	pyc_rec_start_put(&w, &rs);
	wire_put("rec_start", PYC_MSG_REC_START, 0, 1, &w);
	W0();
	pyc_rec_result rr = {0, "", "", 17, "rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav", 44100,
	    1.0, 176444};
	pyc_rec_result_put(&w, &rr);
	wire_put("rec_stop_reply", PYC_MSG_REC_STOP, PYC_WIRE_F_REPLY, 1, &w);
	W0();
	pyc_rec_result re = {PYC_ENOSPC, "disk_full", "no space left", 0, "", 0, 0.0, 0};
	pyc_rec_result_put(&w, &re);
	wire_put("rec_error", PYC_MSG_REC_ERROR, 0, 1, &w);
	W0();
	pyc_rec_list_req lr = {0, 100};
	pyc_rec_list_req_put(&w, &lr);
	wire_put("rec_list", PYC_MSG_REC_LIST, 0, 5, &w);
	W0();
	pyc_status_rep st = {0, "ok", 2, "[{\"id\":1},{\"id\":2}]", 19};
	pyc_status_rep_put(&w, &st);
	wire_put("rec_list_reply", PYC_MSG_REC_LIST, PYC_WIRE_F_REPLY, 5, &w);
	W0();
	pyc_rec_name_req nr = {"rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav"};
	pyc_rec_name_req_put(&w, &nr);
	wire_put("rec_delete", PYC_MSG_REC_DELETE, 0, 6, &w);
	W0();
	pyc_rec_read_req rq = {"rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav", 44, 1024};
	pyc_rec_read_req_put(&w, &rq);
	wire_put("rec_read", PYC_MSG_REC_READ, 0, 8, &w);
	W0();
	uint8_t data[32] = {'R', 'I', 'F', 'F'};
	pyc_rec_read_rep rp = {0, 100, 68, data, sizeof(data)};
	pyc_rec_read_rep_put(&w, &rp);
	wire_put("rec_read_reply", PYC_MSG_REC_READ, PYC_WIRE_F_REPLY, 8, &w);
	W0();
	pyc_status_rep hs = {0, "", 0, "{\"status\":\"ok\"}", 15};
	pyc_status_rep_put(&w, &hs);
	wire_put("health_reply", PYC_MSG_HEALTH, PYC_WIRE_F_REPLY, 1, &w);

	/* a batch as gw_sessions.c builds it: init, params, audio, record */
	uint8_t items[4][128];
	pyc_wbuf iw[4];
	for (int i = 0; i < 4; i++)
		pyc_wbuf_init(&iw[i], items[i], sizeof(items[i]));
	pyc_params_defaults(&p);
	p.mask = PYC_P_RATE | PYC_P_CHANNELS;
	pyc_params_put(&iw[0], &p);
	p.mask = PYC_P_GAIN;
	p.gain_db = 3;
	pyc_params_put(&iw[1], &p);
	for (int i = 0; i < 16; i++)
		pyc_wbuf_u16(&iw[2], (uint16_t) (i * 997));
	pyc_record_cmd_put(&iw[3], &rc);
	W0();
	pyc_batch_put(&w, PYC_MSG_SESSION_INIT, 0, iw[0].buf, iw[0].len);
	pyc_batch_put(&w, PYC_MSG_SESSION_PARAMS, 0, iw[1].buf, iw[1].len);
	pyc_batch_put(&w, PYC_MSG_AUDIO, 1, iw[2].buf, iw[2].len);
	pyc_batch_put(&w, PYC_MSG_RECORD, 1, iw[3].buf, iw[3].len);
	wire_put("batch4", PYC_MSG_BATCH, 0, 4, &w);
	/* the same batch cut at an item boundary (a count that lies) */
	wire_put("batch_count_lies", PYC_MSG_BATCH, 0, 5, &w);
	W0();
	for (int i = 0; i < 64; i++)
		pyc_batch_put(&w, PYC_MSG_AUDIO, (uint64_t) i + 1, iw[2].buf, 2);
	wire_put("batch64", PYC_MSG_BATCH, 0, 64, &w);
	/* a header of another version, and an empty input */
	uint8_t vx[16] = {PYC_WIRE_VERSION + 1, PYC_MSG_ACK};
	put("wire", "version_other", vx, sizeof(vx));
	put("wire", "empty", "", 0);
#undef W0
}

/* ---- ws_binary ---- */

static void ws_binary(void)
{
	uint8_t s[8192];
	size_t n;

	/* header: grace 30, an idle worker, an init (48 kHz stereo, 0 dB, filter off) */
	n = 0;
	s[n++] = 4;
	s[n++] = 5;    /* rates[5] = 48000 */
	s[n++] = 2;    /* channels */
	s[n++] = 0;    /* gain 0 */
	s[n++] = 0;    /* filter off */
	s[n++] = 0xe8; /* cutoff */
	s[n++] = 0x03;
	s[n++] = 4;   /* order */
	s[n++] = 5;   /* fft 4096 */
	s[n++] = 1;   /* no bands */
	s[n++] = 1;   /* no waveform */
	s[n++] = 0;   /* monitor off */
	s[n++] = 0;
	for (int f = 0; f < 6; f++) {
		size_t len = f == 3 ? 1023 : 512; /* one odd frame with a partial sample */
		s[n++] = 0;
		s[n++] = (uint8_t) len;
		s[n++] = (uint8_t) (len >> 8);
		for (size_t i = 0; i < len / 2; i++) {
			int16_t v = (int16_t) (20000 * sin((double) (f * 256 + (int) i) * 0.05));
			s[n++] = (uint8_t) v;
			s[n++] = (uint8_t) ((uint16_t) v >> 8);
		}
		if (len & 1)
			s[n++] = 0x7f;
		s[n++] = 4; /* the worker answers */
		s[n++] = 1;
	}
	put("ws_binary", "sine_stereo", s, n);

	/* mono, gain and filter on, bands and waveform, then a restart */
	n = 0;
	s[n++] = 4;
	s[n++] = 0;   /* 8000 Hz */
	s[n++] = 1;   /* mono */
	s[n++] = 24;  /* +12 dB */
	s[n++] = 1;   /* filter */
	s[n++] = 0x20;
	s[n++] = 0x03;
	s[n++] = 3;
	s[n++] = 1;   /* fft 256 */
	s[n++] = 0;   /* bands */
	s[n++] = 16;
	s[n++] = 0;
	s[n++] = 0;   /* waveform */
	s[n++] = 64;
	s[n++] = 0;
	s[n++] = 1;   /* monitor */
	s[n++] = 0;
	for (int f = 0; f < 4; f++) {
		s[n++] = 1;
		s[n++] = 200;
		s[n++] = 0;
		for (int i = 0; i < 200; i++)
			s[n++] = (uint8_t) (i * 37 + f);
		s[n++] = 4;
		s[n++] = 0;
	}
	s[n++] = 8; /* worker gone */
	s[n++] = 0;
	s[n++] = 5; /* a fresh worker */
	s[n++] = 6; /* tick */
	s[n++] = 2;
	s[n++] = 9;
	s[n++] = 0;
	for (int i = 0; i < 9; i++)
		s[n++] = 0x80;
	s[n++] = 9; /* start recording */
	s[n++] = 1;
	s[n++] = 4;
	s[n++] = 7;
	put("ws_binary", "mono_filter_restart", s, n);

	/* no worker at first: frames wait, then go out in batches */
	n = 0;
	s[n++] = 2;
	for (int f = 0; f < 20; f++) {
		s[n++] = 3;
		s[n++] = 6;
		s[n++] = 0;
		for (int i = 0; i < 6; i++)
			s[n++] = (uint8_t) (f * 6 + i);
	}
	s[n++] = 5;
	s[n++] = 6;
	for (int i = 0; i < 10; i++) {
		s[n++] = 4;
		s[n++] = 7;
	}
	put("ws_binary", "wait_then_batch", s, n);

	/* a format change by set_params, full send buffer, takeover */
	n = 0;
	s[n++] = 4 | 1;
	static const uint8_t init44k[12] = {4, 2, 0, 0, 0x10, 0x10, 4, 5, 1, 1, 0, 0};
	memcpy(s + n, init44k, sizeof(init44k));
	n += sizeof(init44k);
	s[n++] = 8;
	s[n++] = 4; /* full */
	s[n++] = 0;
	s[n++] = 4;
	s[n++] = 0;
	s[n++] = 1;
	s[n++] = 2;
	s[n++] = 3;
	s[n++] = 4;
	s[n++] = 7;
	s[n++] = 0;
	s[n++] = 3;  /* set_params with everything */
	s[n++] = 1;
	s[n++] = 0;
	s[n++] = 0;
	s[n++] = 0x10;
	s[n++] = 0x10;
	s[n++] = 2;
	s[n++] = 2;
	s[n++] = 1;
	s[n++] = 1;
	s[n++] = 0;
	s[n++] = 0;
	s[n++] = 8;
	s[n++] = 5; /* not full */
	s[n++] = 6;
	s[n++] = 8;
	s[n++] = 3; /* takeover */
	s[n++] = 4;
	s[n++] = 7;
	s[n++] = 8;
	s[n++] = 2; /* detach */
	put("ws_binary", "format_change_full_takeover", s, n);
	put("ws_binary", "empty", "", 0);
}

/* ---- http_route ---- */

static void http_route(void)
{
	static const struct {
		const char *name;
		const char *s;
		size_t n;
	} s[] = {
#define P(name, lit) {name, lit, sizeof(lit) - 1}
		P("health", "/health\0bytes=0-99\0" "100\0http://localhost:3000\0127.0.0.1\0"),
		P("list", "/recordings\0\0" "0\0http://localhost:3000\0::ffff:10.0.0.1\0" "1.2.3.4"),
		P("file", "/recordings/rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav\0bytes=100-\0"
		    "10000\0https://app.example\0" "127.0.0.1\0" "203.0.113.9, 127.0.0.1"),
		P("file_part", "/recordings/rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav.part\0"
		    "bytes=-500\0" "4294967295\0*\0::1\0"),
		P("traversal", "/recordings/../../etc/passwd\0bytes=5-2\0-1\0null\0\0"),
		P("static", "/assets/index-4f3a.js\0bytes=0-0,5-6\0" "007\0\0" "10.1.1.1\0x, y"),
		P("dots", "/a/./b/.../..\0Bytes = 1 - 2\0" "99999999999999999999\0\0\0"),
		P("docs", "/docs\0bytes=18446744073709551615-\0" "1e3\0\0\0"),
		P("openapi", "/openapi.json\0\0" "10001\0\0\0"),
		P("metrics", "/metrics\0\0\0\0\0"),
		P("backslash", "/x\\..\\y.HTML\0\0\0\0\0"),
		P("list_slash", "/recordings/\0\0\0\0\0"),
#undef P
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		put("http_route", s[i].name, s[i].s, s[i].n);
}

/* ---- wav_repair ---- */

static uint8_t *slurp(int dirfd, const char *name, size_t *n)
{
	int fd = openat(dirfd, name, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		exit(1);
	uint8_t *b = malloc((size_t) st.st_size);
	if (b == NULL || pread(fd, b, (size_t) st.st_size, 0) != st.st_size)
		exit(1);
	close(fd);
	*n = (size_t) st.st_size;
	return b;
}

static void wav_one(int dirfd, const char *tag, uint32_t rate, uint32_t ch, size_t frames)
{
	char name[64], seed[96];
	rec_wav *w;
	rec_wav_info info;
	int16_t pcm[512];
	size_t n;

	snprintf(name, sizeof(name), "seed-%s.wav", tag);
	unlinkat(dirfd, name, 0);
	if (rec_wav_create(dirfd, name, rate, ch, &w) != PYC_OK)
		exit(1);
	for (size_t done = 0; done < frames;) {
		size_t k = frames - done > 256 / ch ? 256 / ch : frames - done;
		for (size_t i = 0; i < k * ch; i++)
			pcm[i] = (int16_t) (12000 * sin((double) (done * ch + i) * 0.01));
		if (rec_wav_append(w, pcm, k * ch * 2) != PYC_OK)
			exit(1);
		done += k;
	}
	if (rec_wav_close(w, &info) != PYC_OK)
		exit(1);
	uint8_t *b = slurp(dirfd, name, &n);
	unlinkat(dirfd, name, 0);
	snprintf(seed, sizeof(seed), "%s_complete", tag);
	put("wav_repair", seed, b, n);
	/* as a crash leaves it: the header written when the file was empty */
	uint8_t *c = malloc(n + 3);
	memcpy(c, b, n);
	memset(c + 4, 0, 4);
	memset(c + n - (frames * ch * 2) - 4, 0, 4);
	c[n] = 0x11; /* and a partial frame */
	c[n + 1] = 0x22;
	c[n + 2] = 0x33;
	snprintf(seed, sizeof(seed), "%s_stale_sizes", tag);
	put("wav_repair", seed, c, n + 3);
	/* cut inside the header and just after it */
	size_t cuts[] = {12, 36, 43, 44, n - frames * ch * 2, n - frames * ch * 2 + 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (cuts[i] > n)
			continue;
		snprintf(seed, sizeof(seed), "%s_cut%zu", tag, cuts[i]);
		put("wav_repair", seed, b, cuts[i]);
	}
	free(c);
	free(b);
}

static void wav_repair(void)
{
	char dir[] = "/tmp/pyc-seeds-XXXXXX";
	if (mkdtemp(dir) == NULL)
		exit(1);
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	wav_one(d, "stereo44k", 44100, 2, 300);
	wav_one(d, "mono8k", 8000, 1, 101);
	wav_one(d, "mono192k_empty", 192000, 1, 0);
	close(d);
	rmdir(dir);

	/* a hand-made header with a LIST chunk before data, and extensible fmt */
	uint8_t h[128];
	size_t n = 0;
#define B4(a, b, c, e) (h[n++] = (a), h[n++] = (b), h[n++] = (c), h[n++] = (e))
#define U32(v) B4((uint8_t) (v), (uint8_t) ((v) >> 8), (uint8_t) ((v) >> 16), (uint8_t) ((v) >> 24))
#define U16(v) (h[n++] = (uint8_t) (v), h[n++] = (uint8_t) ((v) >> 8))
	B4('R', 'I', 'F', 'F');
	U32(0);
	B4('W', 'A', 'V', 'E');
	B4('f', 'm', 't', ' ');
	U32(16);
	U16(0xFFFE);
	U16(2);
	U32(48000);
	U32(192000);
	U16(4);
	U16(16);
	B4('L', 'I', 'S', 'T');
	U32(5);
	B4('I', 'N', 'F', 'O');
	h[n++] = 'x';
	h[n++] = 0; /* pad byte */
	B4('d', 'a', 't', 'a');
	U32(0xFFFFFFFFu);
	for (int i = 0; i < 10; i++)
		U16(i * 1000);
	put("wav_repair", "extensible_list", h, n);
#undef B4
#undef U32
#undef U16
}

/* ---- link: two bytes of set-up (buffer, read size), then the stream ---- */

static size_t link_frame(uint8_t *out, uint32_t len, const uint8_t *body, size_t have)
{
	out[0] = (uint8_t) len;
	out[1] = (uint8_t) (len >> 8);
	out[2] = (uint8_t) (len >> 16);
	out[3] = (uint8_t) (len >> 24);
	memcpy(out + 4, body, have);
	return 4 + have;
}

static void link_seeds(void)
{
	uint8_t out[4096], body[800];
	size_t n;
	pyc_wbuf w;
	uint8_t pl[64];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t) (i * 13u);
	/* three envelopes, as the audio path carries them, read 7 bytes at a time */
	out[0] = 40;
	out[1] = 6;
	n = 2;
	pyc_wbuf_init(&w, pl, sizeof(pl));
	pyc_wbuf_u32(&w, 1234);
	for (int k = 0; k < 3; k++) {
		uint8_t env[256];
		size_t el = envelope(env, sizeof(env), PYC_MSG_AUDIO, 0, SID, (uint64_t) k + 1, &w);
		n += link_frame(out + n, (uint32_t) el, env, el);
	}
	put("link", "three_envelopes", out, n);
	/* a message larger than the read buffer, read 1 byte at a time */
	out[0] = 0;
	out[1] = 0;
	n = 2 + link_frame(out + 2, 300, body, 300);
	put("link", "big_message", out, n);
	/* truncated: the length says 500, 100 bytes follow */
	out[0] = 100;
	out[1] = 255;
	n = 2 + link_frame(out + 2, 500, body, 100);
	put("link", "truncated", out, n);
	/* oversized: a good message, then a length over the maximum */
	n = 2 + link_frame(out + 2, 5, body, 5);
	n += link_frame(out + n, 701, body, 20);
	put("link", "oversized", out, n);
	/* zero length after a good one; then garbage */
	n = 2 + link_frame(out + 2, 3, body, 3);
	n += link_frame(out + n, 0, body, 30);
	put("link", "zero_length", out, n);
	n = 2 + link_frame(out + 2, 0xffffffffu, body, 10);
	put("link", "huge_length", out, n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
		return 1;
	}
	out_dir = argv[1];
	mkdir(out_dir, 0755);
	ws_command();
	wire();
	ws_binary();
	http_route();
	wav_repair();
	link_seeds();
	return 0;
}
