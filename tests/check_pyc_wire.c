/* check_pyc_wire.c - the envelope codec and the payload codecs.
 *
 * NOTES: every message a process receives is untrusted, so besides round
 * trips these tests feed the decoders every truncation of valid messages,
 * every single-byte corruption of the header, and oversize fields.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyc_wire.h"

static uint8_t buf[8192];

static size_t build(unsigned type, unsigned flags, const char *sid, uint64_t seq,
    const void *payload, size_t plen)
{
	size_t hlen;
	ck_assert_int_eq(pyc_wire_encode_hdr(buf, sizeof(buf), type, flags, sid,
			     seq, plen, &hlen),
	    PYC_OK);
	if (plen > 0)
		memcpy(buf + hlen, payload, plen);
	return hlen + plen;
}

START_TEST(test_pyc_wire_roundtrip)
{
	const char pcm[] = {1, 2, 3, 4, 5, 6};
	size_t n = build(PYC_MSG_AUDIO, 0, "abc-DEF_123", 0x0102030405060708ULL, pcm,
	    sizeof(pcm));
	pyc_wire_msg m;
	ck_assert_int_eq(n, 16 + 11 + 6);
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_OK);
	ck_assert_int_eq(m.version, PYC_WIRE_VERSION);
	ck_assert_int_eq(m.type, PYC_MSG_AUDIO);
	ck_assert_int_eq(m.flags, 0);
	ck_assert(m.seq == 0x0102030405060708ULL);
	ck_assert_str_eq(m.sid, "abc-DEF_123");
	ck_assert_int_eq(m.payload_len, 6);
	ck_assert_mem_eq(m.payload, pcm, 6);
	/* little-endian on the wire whatever the host */
	ck_assert_int_eq(buf[4], 6);
	ck_assert_int_eq(buf[8], 0x08);
	ck_assert_int_eq(buf[15], 0x01);
}
END_TEST

START_TEST(test_pyc_wire_no_session)
{
	size_t n = build(PYC_MSG_HEALTH, PYC_WIRE_F_REPLY, NULL, 7, NULL, 0);
	pyc_wire_msg m;
	ck_assert_int_eq(n, PYC_WIRE_HDR_SIZE);
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_OK);
	ck_assert_str_eq(m.sid, "");
	ck_assert_int_eq(m.flags, PYC_WIRE_F_REPLY);
	ck_assert_int_eq(m.payload_len, 0);
}
END_TEST

START_TEST(test_pyc_wire_truncated)
{
	const char payload[40] = "0123456789012345678901234567890123456789";
	size_t n = build(PYC_MSG_METER, 0, "sess1", 1, payload, sizeof(payload));
	pyc_wire_msg m;
	for (size_t len = 0; len < n; len++)
		ck_assert_int_eq(pyc_wire_decode(buf, len, &m), PYC_EPROTO);
	/* and one byte too many */
	ck_assert_int_eq(pyc_wire_decode(buf, n + 1, &m), PYC_EPROTO);
	ck_assert_int_eq(pyc_wire_decode(NULL, n, &m), PYC_EPROTO);
}
END_TEST

START_TEST(test_pyc_wire_corrupted_header)
{
	size_t n = build(PYC_MSG_EVENT, 0, "sess1", 1, "{}", 2);
	uint8_t orig[64];
	pyc_wire_msg m;
	int accepted = 0;
	memcpy(orig, buf, n);
	/* Flip every bit of the header and the session id: the decoder must
	 * either reject the message or decode one that is self-consistent. */
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			memcpy(buf, orig, n);
			buf[i] ^= (uint8_t) (1u << b);
			pyc_err rv = pyc_wire_decode(buf, n, &m);
			if (rv == PYC_OK) {
				accepted++;
				ck_assert(pyc_msg_type_valid(m.type));
				ck_assert(strlen(m.sid) + m.payload_len + 16 == n);
			}
		}
	}
	/* the bits that may change and still decode: type to another valid
	 * type, sequence number, session id letters, payload */
	ck_assert_int_gt(accepted, 0);
	memcpy(buf, orig, n);
	buf[0] = PYC_WIRE_VERSION + 1;
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_EVERSION);
	buf[0] = PYC_WIRE_VERSION;
	buf[1] = 99;
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_EPROTO);
	buf[1] = 0;
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_EPROTO);
	buf[1] = PYC_MSG_EVENT;
	buf[2] = 0x80;
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_EPROTO);
	buf[2] = 0;
	buf[16] = '/'; /* a session id character outside the charset */
	ck_assert_int_eq(pyc_wire_decode(buf, n, &m), PYC_EPROTO);
}
END_TEST

START_TEST(test_pyc_wire_oversize_lengths)
{
	uint8_t h[PYC_WIRE_HDR_SIZE + 200];
	pyc_wire_msg m;
	size_t hlen;
	char sid[PYC_SESSION_ID_MAX + 2];
	memset(sid, 'a', sizeof(sid));
	sid[PYC_SESSION_ID_MAX + 1] = '\0';
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), PYC_MSG_AUDIO, 0, sid, 0, 0, &hlen),
	    PYC_EINVAL);
	sid[PYC_SESSION_ID_MAX] = '\0';
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), PYC_MSG_AUDIO, 0, sid, 0, 0, &hlen),
	    PYC_OK);
	ck_assert_int_eq(hlen, 16 + 128);
	ck_assert_int_eq(pyc_wire_encode_hdr(h, 20, PYC_MSG_AUDIO, 0, sid, 0, 0, &hlen),
	    PYC_EINVAL);
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), PYC_MSG_AUDIO, 0, "x", 0,
			     PYC_WIRE_MAX_PAYLOAD + 1, &hlen),
	    PYC_EINVAL);
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), 0, 0, "x", 0, 0, &hlen), PYC_EINVAL);
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), PYC_MSG_AUDIO, 4, "x", 0, 0, &hlen),
	    PYC_EINVAL);
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), PYC_MSG_AUDIO, 0, "a b", 0, 0, &hlen),
	    PYC_EINVAL);
	/* a declared payload length beyond the maximum is rejected before use */
	ck_assert_int_eq(pyc_wire_encode_hdr(h, sizeof(h), PYC_MSG_AUDIO, 0, "x", 0, 0, &hlen),
	    PYC_OK);
	h[4] = 0xff;
	h[5] = 0xff;
	h[6] = 0xff;
	h[7] = 0xff;
	ck_assert_int_eq(pyc_wire_decode(h, hlen, &m), PYC_EPROTO);
	/* sid_len beyond 128 */
	h[3] = 200;
	ck_assert_int_eq(pyc_wire_decode(h, sizeof(h), &m), PYC_EPROTO);
}
END_TEST

START_TEST(test_pyc_wire_type_names)
{
	ck_assert_str_eq(pyc_msg_type_name(PYC_MSG_AUDIO), "audio");
	ck_assert_str_eq(pyc_msg_type_name(PYC_MSG_HEALTH), "health");
	ck_assert_str_eq(pyc_msg_type_name(PYC_MSG_BATCH), "batch");
	ck_assert_str_eq(pyc_msg_type_name(PYC_MSG_GATEWAY_BYE), "gateway_bye");
	ck_assert_str_eq(pyc_msg_type_name(16), "unknown");
	ck_assert_str_eq(pyc_msg_type_name(1000), "unknown");
	ck_assert(!pyc_msg_type_valid(0));
	ck_assert(pyc_msg_type_valid(PYC_MSG_SESSION_ENDED));
}
END_TEST

START_TEST(test_pyc_wire_nng_message)
{
	nng_msg *msg;
	pyc_wire_msg m;
	const char pcm[4] = {9, 8, 7, 6};
	ck_assert_int_eq(pyc_wire_msg_new(&msg, PYC_MSG_REC_APPEND, 0, "s", 3, pcm, 4), PYC_OK);
	ck_assert_int_eq(pyc_wire_msg_decode(msg, &m), PYC_OK);
	ck_assert_int_eq(m.type, PYC_MSG_REC_APPEND);
	ck_assert_mem_eq(m.payload, pcm, 4);

	uint8_t b[64];
	pyc_wbuf w;
	nng_msg *rep;
	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_wbuf_u32(&w, 42);
	ck_assert_int_eq(pyc_wire_reply_new(&rep, &m, &w), PYC_OK);
	pyc_wire_msg r;
	ck_assert_int_eq(pyc_wire_msg_decode(rep, &r), PYC_OK);
	ck_assert_int_eq(r.type, PYC_MSG_REC_APPEND);
	ck_assert_int_eq(r.flags, PYC_WIRE_F_REPLY);
	ck_assert(r.seq == 3);
	ck_assert_str_eq(r.sid, "s");
	nng_msg_free(rep);
	nng_msg_free(msg);

	ck_assert_int_eq(pyc_wire_msg_new(&msg, PYC_MSG_AUDIO, 0, "s", 0, NULL, 4), PYC_EINVAL);
	ck_assert_int_eq(pyc_wire_msg_decode(NULL, &m), PYC_EINVAL);
	/* a writer that overflowed cannot be sent */
	pyc_wbuf_init(&w, b, 2);
	pyc_wbuf_u32(&w, 1);
	ck_assert_int_eq(w.err, PYC_EINVAL);
	ck_assert_int_eq(pyc_wire_msg_from_wbuf(&msg, PYC_MSG_ACK, 0, "s", 0, &w), PYC_EINVAL);
}
END_TEST

START_TEST(test_pyc_wire_reader_bounds)
{
	uint8_t b[32];
	pyc_wbuf w;
	pyc_rbuf r;
	char s[8];
	const uint8_t *blob;
	size_t bl;

	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_wbuf_u8(&w, 0xab);
	pyc_wbuf_u16(&w, 0xcdef);
	pyc_wbuf_i64(&w, -5);
	pyc_wbuf_str(&w, "hello");
	pyc_wbuf_blob(&w, "xyz", 3);
	ck_assert_int_eq(w.err, PYC_OK);

	pyc_rbuf_init(&r, b, w.len);
	ck_assert_int_eq(pyc_rbuf_u8(&r), 0xab);
	ck_assert_int_eq(pyc_rbuf_u16(&r), 0xcdef);
	ck_assert(pyc_rbuf_i64(&r) == -5);
	pyc_rbuf_str(&r, s, sizeof(s));
	ck_assert_str_eq(s, "hello");
	pyc_rbuf_blob(&r, &blob, &bl);
	ck_assert_int_eq(bl, 3);
	ck_assert_mem_eq(blob, "xyz", 3);
	ck_assert_int_eq(pyc_rbuf_end(&r), PYC_OK);

	/* string longer than the destination */
	pyc_rbuf_init(&r, b, w.len);
	pyc_rbuf_u8(&r);
	pyc_rbuf_u16(&r);
	pyc_rbuf_i64(&r);
	pyc_rbuf_str(&r, s, 5);
	ck_assert_int_eq(r.err, PYC_EPROTO);
	ck_assert_str_eq(s, "");

	/* string with a NUL inside */
	uint8_t nul[] = {3, 0, 'a', 0, 'b'};
	pyc_rbuf_init(&r, nul, sizeof(nul));
	pyc_rbuf_str(&r, s, sizeof(s));
	ck_assert_int_eq(r.err, PYC_EPROTO);

	/* blob declaring more than remains */
	uint8_t big[] = {0xff, 0xff, 0xff, 0x7f, 1, 2};
	pyc_rbuf_init(&r, big, sizeof(big));
	pyc_rbuf_blob(&r, &blob, &bl);
	ck_assert_ptr_null(blob);
	ck_assert_int_eq(bl, 0);
	ck_assert_int_eq(pyc_rbuf_end(&r), PYC_EPROTO);

	/* trailing bytes */
	pyc_rbuf_init(&r, b, 2);
	pyc_rbuf_u8(&r);
	ck_assert_int_eq(pyc_rbuf_end(&r), PYC_EPROTO);

	/* writer refuses an over-long string and blob */
	static char huge[70000];
	memset(huge, 'a', sizeof(huge) - 1);
	uint8_t wb[16];
	pyc_wbuf_init(&w, wb, sizeof(wb));
	pyc_wbuf_str(&w, huge);
	ck_assert_int_eq(w.err, PYC_EINVAL);
	pyc_wbuf_init(&w, wb, sizeof(wb));
	pyc_wbuf_blob(&w, NULL, 3);
	ck_assert_int_eq(w.err, PYC_EINVAL);
}
END_TEST

/* Encodes with put, checks get returns the same, then that every
 * truncation is rejected. */
#define ROUNDTRIP(T, put, get, val, cmp)                                      \
	do {                                                                  \
		uint8_t pb_[2048];                                            \
		pyc_wbuf w_;                                                  \
		T out_;                                                       \
		pyc_wbuf_init(&w_, pb_, sizeof(pb_));                         \
		put(&w_, &(val));                                             \
		ck_assert_int_eq(w_.err, PYC_OK);                             \
		memset(&out_, 0x5a, sizeof(out_));                            \
		ck_assert_int_eq(get(pb_, w_.len, &out_), PYC_OK);            \
		cmp(&(val), &out_);                                           \
		for (size_t l_ = 0; l_ < w_.len; l_++)                        \
			ck_assert_int_ne(get(pb_, l_, &out_), PYC_OK);        \
	} while (0)

static void cmp_host(const pyc_host_hello *a, const pyc_host_hello *b)
{
	ck_assert_str_eq(a->host_id, b->host_id);
	ck_assert_int_eq(a->max_workers, b->max_workers);
	ck_assert_int_eq(a->spare, b->spare);
	ck_assert_int_eq(a->idle, b->idle);
	ck_assert_int_eq(a->busy, b->busy);
}

static void cmp_worker(const pyc_worker_hello *a, const pyc_worker_hello *b)
{
	ck_assert_str_eq(a->host_id, b->host_id);
	ck_assert_int_eq(a->pid, b->pid);
}

static void cmp_params(const pyc_params *a, const pyc_params *b)
{
	ck_assert_int_eq(a->mask, b->mask);
	ck_assert_int_eq(a->sample_rate, b->sample_rate);
	ck_assert_int_eq(a->channels, b->channels);
	ck_assert_double_eq(a->gain_db, b->gain_db);
	ck_assert_int_eq(a->filter_enabled, b->filter_enabled);
	ck_assert_double_eq(a->cutoff_hz, b->cutoff_hz);
	ck_assert_double_eq(a->integration_s, b->integration_s);
	ck_assert_int_eq(a->filter_order, b->filter_order);
	ck_assert_int_eq(a->fft_size, b->fft_size);
	ck_assert_int_eq(a->bands, b->bands);
	ck_assert_int_eq(a->waveform_points, b->waveform_points);
	ck_assert_double_eq(a->max_meter_rate, b->max_meter_rate);
	ck_assert_int_eq(a->monitor, b->monitor);
	ck_assert_int_eq(a->loudness, b->loudness);
}

static void cmp_rec_start(const pyc_rec_start *a, const pyc_rec_start *b)
{
	ck_assert_int_eq(a->sample_rate, b->sample_rate);
	ck_assert_int_eq(a->channels, b->channels);
	ck_assert_str_eq(a->settings_json, b->settings_json);
}

static void cmp_rec_result(const pyc_rec_result *a, const pyc_rec_result *b)
{
	ck_assert_int_eq(a->status, b->status);
	ck_assert_str_eq(a->code, b->code);
	ck_assert_str_eq(a->message, b->message);
	ck_assert(a->id == b->id);
	ck_assert_str_eq(a->filename, b->filename);
	ck_assert(a->frames == b->frames);
	ck_assert_double_eq(a->duration_s, b->duration_s);
	ck_assert(a->size_bytes == b->size_bytes);
}

static void cmp_list(const pyc_rec_list_req *a, const pyc_rec_list_req *b)
{
	ck_assert_int_eq(a->skip, b->skip);
	ck_assert_int_eq(a->limit, b->limit);
}

static void cmp_name(const pyc_rec_name_req *a, const pyc_rec_name_req *b)
{
	ck_assert_str_eq(a->filename, b->filename);
}

static void cmp_read(const pyc_rec_read_req *a, const pyc_rec_read_req *b)
{
	ck_assert_str_eq(a->filename, b->filename);
	ck_assert(a->offset == b->offset);
	ck_assert_int_eq(a->length, b->length);
}

static void cmp_read_rep(const pyc_rec_read_rep *a, const pyc_rec_read_rep *b)
{
	ck_assert_int_eq(a->status, b->status);
	ck_assert(a->total_size == b->total_size);
	ck_assert(a->offset == b->offset);
	ck_assert_int_eq(a->data_len, b->data_len);
	ck_assert_mem_eq(a->data, b->data, a->data_len);
}

static void cmp_status(const pyc_status_rep *a, const pyc_status_rep *b)
{
	ck_assert_int_eq(a->status, b->status);
	ck_assert_str_eq(a->message, b->message);
	ck_assert(a->value == b->value);
	ck_assert_int_eq(a->json_len, b->json_len);
	ck_assert_mem_eq(a->json, b->json, a->json_len);
}

static void cmp_record(const pyc_record_cmd *a, const pyc_record_cmd *b)
{
	ck_assert_int_eq(a->start, b->start);
}

START_TEST(test_pyc_wire_payload_roundtrips)
{
	pyc_host_hello hh = {"host-a", 512, 4, 3, 9};
	pyc_worker_hello wh = {"host-a", 12345};
	pyc_params pp;
	pyc_rec_start rs = {48000, 2, "{\"gain\":6}"};
	pyc_rec_result rr = {PYC_ENOSPC, "recording_failed", "disk full", 77,
	    "rec_20261124T050000Z_abcdefghijklmnopqrstuv.wav", 48000, 1.0, 192044};
	pyc_rec_list_req lr = {5, 100};
	pyc_rec_name_req nr = {"rec_x.wav"};
	pyc_rec_read_req rd = {"rec_x.wav", 1ULL << 33, 65536};
	const uint8_t data[5] = {1, 2, 3, 4, 5};
	pyc_rec_read_rep rp = {PYC_OK, 100, 10, data, 5};
	pyc_status_rep st = {PYC_ENOENT, "Recording not found", 3, "[1,2]", 5};
	pyc_record_cmd rc = {1};

	pyc_params_defaults(&pp);
	pp.gain_db = 6.5;
	pp.cutoff_hz = 1234.5;
	pp.monitor = 1;
	pp.loudness = 1;

	ROUNDTRIP(pyc_host_hello, pyc_host_hello_put, pyc_host_hello_get, hh, cmp_host);
	ROUNDTRIP(pyc_worker_hello, pyc_worker_hello_put, pyc_worker_hello_get, wh, cmp_worker);
	ROUNDTRIP(pyc_params, pyc_params_put, pyc_params_get, pp, cmp_params);
	ROUNDTRIP(pyc_rec_start, pyc_rec_start_put, pyc_rec_start_get, rs, cmp_rec_start);
	ROUNDTRIP(pyc_rec_result, pyc_rec_result_put, pyc_rec_result_get, rr, cmp_rec_result);
	ROUNDTRIP(pyc_rec_list_req, pyc_rec_list_req_put, pyc_rec_list_req_get, lr, cmp_list);
	ROUNDTRIP(pyc_rec_name_req, pyc_rec_name_req_put, pyc_rec_name_req_get, nr, cmp_name);
	ROUNDTRIP(pyc_rec_read_req, pyc_rec_read_req_put, pyc_rec_read_req_get, rd, cmp_read);
	ROUNDTRIP(pyc_rec_read_rep, pyc_rec_read_rep_put, pyc_rec_read_rep_get, rp, cmp_read_rep);
	ROUNDTRIP(pyc_status_rep, pyc_status_rep_put, pyc_status_rep_get, st, cmp_status);
	ROUNDTRIP(pyc_record_cmd, pyc_record_cmd_put, pyc_record_cmd_get, rc, cmp_record);
}
END_TEST

START_TEST(test_pyc_wire_payload_ranges)
{
	uint8_t b[512];
	pyc_wbuf w;
	pyc_params pp;
	pyc_rec_start rs = {48000, 3, "{}"};
	pyc_rec_start rs_out;
	pyc_record_cmd rc = {2}, rc_out;
	pyc_rec_read_req rd = {"rec.wav", 0, PYC_READ_MAX + 1}, rd_out;
	pyc_rec_read_rep rp = {0, 10, 8, (const uint8_t *) "abcd", 4}, rp_out;
	pyc_rec_result rr = {0}, rr_out;
	pyc_status_rep st = {0}, st_out;
	pyc_params pp_out;

	/* a params payload with a value out of range is rejected */
	pyc_params_defaults(&pp);
	pp.gain_db = NAN;
	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_params_put(&w, &pp);
	ck_assert_int_eq(pyc_params_get(b, w.len, &pp_out), PYC_EINVAL);

	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_rec_start_put(&w, &rs);
	ck_assert_int_eq(pyc_rec_start_get(b, w.len, &rs_out), PYC_EPROTO);
	rs.channels = 2;
	rs.sample_rate = 100;
	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_rec_start_put(&w, &rs);
	ck_assert_int_eq(pyc_rec_start_get(b, w.len, &rs_out), PYC_EPROTO);

	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_record_cmd_put(&w, &rc);
	ck_assert_int_eq(pyc_record_cmd_get(b, w.len, &rc_out), PYC_EPROTO);

	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_rec_read_req_put(&w, &rd);
	ck_assert_int_eq(pyc_rec_read_req_get(b, w.len, &rd_out), PYC_EPROTO);

	/* a reply claiming data beyond the file's size */
	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_rec_read_rep_put(&w, &rp);
	ck_assert_int_eq(pyc_rec_read_rep_get(b, w.len, &rp_out), PYC_EPROTO);

	/* status codes outside the enum */
	rr.status = -1;
	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_rec_result_put(&w, &rr);
	ck_assert_int_eq(pyc_rec_result_get(b, w.len, &rr_out), PYC_EPROTO);
	st.status = PYC_ERR_COUNT;
	pyc_wbuf_init(&w, b, sizeof(b));
	pyc_status_rep_put(&w, &st);
	ck_assert_int_eq(pyc_status_rep_get(b, w.len, &st_out), PYC_EPROTO);
}
END_TEST

START_TEST(test_pyc_wire_fuzz_decoders)
{
	/* Random bytes through every decoder: nothing may crash or read out
	 * of bounds (run under ASan in `make asan`). */
	uint8_t r[256];
	unsigned seed = 12345;
	pyc_wire_msg m;
	pyc_host_hello hh;
	pyc_worker_hello wh;
	pyc_params pp;
	pyc_rec_start rs;
	pyc_rec_result rr;
	pyc_rec_list_req lr;
	pyc_rec_name_req nr;
	pyc_rec_read_req rd;
	pyc_rec_read_rep rp;
	pyc_status_rep st;
	pyc_record_cmd rc;
	int ok = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t) (rand_r(&seed) % sizeof(r));
		for (size_t i = 0; i < len; i++)
			r[i] = (uint8_t) rand_r(&seed);
		if (iter % 2 == 0 && len >= 4) {
			/* plausible small lengths make deeper paths reachable */
			r[0] = (uint8_t) (len % 7);
			r[1] = 0;
		}
		ok += pyc_wire_decode(r, len, &m) == PYC_OK;
		ok += pyc_host_hello_get(r, len, &hh) == PYC_OK;
		ok += pyc_worker_hello_get(r, len, &wh) == PYC_OK;
		ok += pyc_params_get(r, len, &pp) == PYC_OK;
		ok += pyc_rec_start_get(r, len, &rs) == PYC_OK;
		ok += pyc_rec_result_get(r, len, &rr) == PYC_OK;
		ok += pyc_rec_list_req_get(r, len, &lr) == PYC_OK;
		ok += pyc_rec_name_req_get(r, len, &nr) == PYC_OK;
		ok += pyc_rec_read_req_get(r, len, &rd) == PYC_OK;
		ok += pyc_rec_read_rep_get(r, len, &rp) == PYC_OK;
		ok += pyc_status_rep_get(r, len, &st) == PYC_OK;
		ok += pyc_record_cmd_get(r, len, &rc) == PYC_OK;
	}
	/* list requests of exactly 8 bytes are valid: some must have decoded */
	ck_assert_int_gt(ok, 0);
}
END_TEST


/* ---- batches ---- */

static const uint8_t b_pcm[6] = {1, 2, 3, 4, 5, 6};

/* A batch of three items (params, audio, record) in bb; its length. */
static size_t batch3(uint8_t *bb, size_t cap)
{
	uint8_t pb[128];
	pyc_wbuf pw, w;
	pyc_params p;
	uint8_t start = 1;
	pyc_params_defaults(&p);
	pyc_wbuf_init(&pw, pb, sizeof(pb));
	pyc_params_put(&pw, &p);
	pyc_wbuf_init(&w, bb, cap);
	pyc_batch_put(&w, PYC_MSG_SESSION_INIT, 5, pw.buf, pw.len);
	pyc_batch_put(&w, PYC_MSG_AUDIO, 6, b_pcm, sizeof(b_pcm));
	pyc_batch_put(&w, PYC_MSG_RECORD, 6, &start, 1);
	ck_assert_int_eq(w.err, PYC_OK);
	ck_assert_uint_eq(w.len, pyc_batch_item_size(pw.len) + pyc_batch_item_size(6) +
	        pyc_batch_item_size(1));
	return w.len;
}

START_TEST(test_pyc_wire_batch_roundtrip)
{
	uint8_t bb[512];
	size_t n = batch3(bb, sizeof(bb));
	pyc_rbuf r;
	pyc_batch_item it;
	pyc_params p;

	ck_assert_int_eq(pyc_batch_check(bb, n, 3), PYC_OK);
	pyc_rbuf_init(&r, bb, n);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_OK);
	ck_assert_int_eq(it.type, PYC_MSG_SESSION_INIT);
	ck_assert(it.seq == 5);
	ck_assert_int_eq(pyc_params_get(it.payload, it.len, &p), PYC_OK);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_OK);
	ck_assert_int_eq(it.type, PYC_MSG_AUDIO);
	ck_assert(it.seq == 6);
	ck_assert_uint_eq(it.len, sizeof(b_pcm));
	ck_assert_mem_eq(it.payload, b_pcm, sizeof(b_pcm));
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_OK);
	ck_assert_int_eq(it.type, PYC_MSG_RECORD);
	ck_assert_uint_eq(it.len, 1);
	ck_assert_int_eq(it.payload[0], 1);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_ECLOSED);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_ECLOSED);

	/* in an envelope, through nng: seq is the item count */
	nng_msg *msg;
	pyc_wire_msg m;
	ck_assert_int_eq(pyc_wire_msg_new(&msg, PYC_MSG_BATCH, 0, "s1", 3, bb, n), PYC_OK);
	ck_assert_int_eq(pyc_wire_msg_decode(msg, &m), PYC_OK);
	ck_assert_int_eq(m.type, PYC_MSG_BATCH);
	ck_assert_int_eq(pyc_batch_check(m.payload, m.payload_len, m.seq), PYC_OK);
	nng_msg_free(msg);

	/* an empty audio item is an item */
	pyc_wbuf w;
	pyc_wbuf_init(&w, bb, sizeof(bb));
	pyc_batch_put(&w, PYC_MSG_AUDIO, 1, NULL, 0);
	ck_assert_int_eq(w.err, PYC_OK);
	ck_assert_int_eq(pyc_batch_check(bb, w.len, 1), PYC_OK);
}
END_TEST

START_TEST(test_pyc_wire_batch_truncated)
{
	uint8_t bb[512];
	size_t n = batch3(bb, sizeof(bb));
	for (size_t len = 0; len < n; len++)
		ck_assert_int_eq(pyc_batch_check(bb, len, 3), PYC_EPROTO);
	/* a byte too many, and counts that do not match */
	bb[n] = 0;
	ck_assert_int_eq(pyc_batch_check(bb, n + 1, 3), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_check(bb, n, 2), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_check(bb, n, 4), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_check(bb, n, 0), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_check(NULL, n, 3), PYC_EPROTO);
	/* the iterator stops with PYC_EPROTO inside a cut item, and stays */
	pyc_rbuf r;
	pyc_batch_item it;
	pyc_rbuf_init(&r, bb, n - 1);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_OK);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_OK);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_next(&r, &it), PYC_EPROTO);
	/* an item length past the buffer, up to the largest u32 */
	uint8_t one[PYC_BATCH_ITEM_HDR + 4];
	pyc_wbuf w;
	pyc_wbuf_init(&w, one, sizeof(one));
	pyc_batch_put(&w, PYC_MSG_AUDIO, 1, b_pcm, 4);
	ck_assert_int_eq(pyc_batch_check(one, sizeof(one), 1), PYC_OK);
	for (uint32_t bad = 5; bad != 0; bad = bad < 0x80000000u ? bad * 2 : 0) {
		one[9] = (uint8_t) bad;
		one[10] = (uint8_t) (bad >> 8);
		one[11] = (uint8_t) (bad >> 16);
		one[12] = (uint8_t) (bad >> 24);
		ck_assert_int_eq(pyc_batch_check(one, sizeof(one), 1), PYC_EPROTO);
	}
	memset(one + 9, 0xff, 4);
	ck_assert_int_eq(pyc_batch_check(one, sizeof(one), 1), PYC_EPROTO);
}
END_TEST

START_TEST(test_pyc_wire_batch_bad_types)
{
	uint8_t bb[64];
	pyc_wbuf w;
	int ok = 0;
	for (unsigned t = 0; t < 256; t++) {
		bool allowed = t == PYC_MSG_SESSION_INIT || t == PYC_MSG_SESSION_PARAMS ||
		    t == PYC_MSG_AUDIO || t == PYC_MSG_RECORD;
		ck_assert_int_eq(pyc_batch_type_ok(t), allowed);
		/* the encoder refuses it */
		pyc_wbuf_init(&w, bb, sizeof(bb));
		pyc_batch_put(&w, t, 1, b_pcm, 2);
		ck_assert_int_eq(w.err, allowed ? PYC_OK : PYC_EINVAL);
		/* and the decoder, on bytes written by hand */
		pyc_wbuf_init(&w, bb, sizeof(bb));
		pyc_wbuf_u8(&w, (uint8_t) t);
		pyc_wbuf_u64(&w, 1);
		pyc_wbuf_blob(&w, b_pcm, 2);
		pyc_err rv = pyc_batch_check(bb, w.len, 1);
		ck_assert_int_eq(rv, allowed ? PYC_OK : PYC_EPROTO);
		ok += rv == PYC_OK;
	}
	ck_assert_int_eq(ok, 4);
	/* named: no open, close or nested batch inside a batch */
	ck_assert(!pyc_batch_type_ok(PYC_MSG_SESSION_OPEN));
	ck_assert(!pyc_batch_type_ok(PYC_MSG_SESSION_CLOSE));
	ck_assert(!pyc_batch_type_ok(PYC_MSG_BATCH));
	/* a bad item after good ones fails the whole batch */
	pyc_wbuf_init(&w, bb, sizeof(bb));
	pyc_batch_put(&w, PYC_MSG_AUDIO, 1, b_pcm, 2);
	pyc_wbuf_u8(&w, PYC_MSG_SESSION_CLOSE);
	pyc_wbuf_u64(&w, 1);
	pyc_wbuf_u32(&w, 0);
	ck_assert_int_eq(pyc_batch_check(bb, w.len, 2), PYC_EPROTO);
}
END_TEST

START_TEST(test_pyc_wire_batch_limits)
{
	static uint8_t bb[(PYC_BATCH_MAX_ITEMS + 1) * (PYC_BATCH_ITEM_HDR + 2)];
	pyc_wbuf w;
	pyc_wbuf_init(&w, bb, sizeof(bb));
	for (int i = 0; i < PYC_BATCH_MAX_ITEMS + 1; i++)
		pyc_batch_put(&w, PYC_MSG_AUDIO, (uint64_t) i + 1, b_pcm, 2);
	ck_assert_int_eq(w.err, PYC_OK);
	size_t one = PYC_BATCH_ITEM_HDR + 2;
	ck_assert_int_eq(pyc_batch_check(bb, one * PYC_BATCH_MAX_ITEMS, PYC_BATCH_MAX_ITEMS),
	    PYC_OK);
	ck_assert_int_eq(pyc_batch_check(bb, w.len, PYC_BATCH_MAX_ITEMS + 1), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_check(bb, w.len, PYC_BATCH_MAX_ITEMS), PYC_EPROTO);
	ck_assert_int_eq(pyc_batch_check(bb, PYC_WIRE_MAX_PAYLOAD + 1, 1), PYC_EPROTO);
	/* an overflowing writer is sticky */
	pyc_wbuf_init(&w, bb, PYC_BATCH_ITEM_HDR + 1);
	pyc_batch_put(&w, PYC_MSG_AUDIO, 1, b_pcm, 2);
	ck_assert_int_eq(w.err, PYC_EINVAL);
	pyc_batch_put(&w, PYC_MSG_AUDIO, 1, NULL, 0);
	ck_assert_int_eq(w.err, PYC_EINVAL);
}
END_TEST

START_TEST(test_pyc_wire_batch_fuzz)
{
	/* Random bytes and random corruptions of a valid batch: the checker
	 * and the iterator never read out of bounds (ASan), and whatever the
	 * checker accepts iterates to exactly that many valid items. */
	uint8_t r[256], good[512];
	unsigned seed = 777;
	size_t gn = batch3(good, sizeof(good));
	int ok = 0;
	for (int iter = 0; iter < 40000; iter++) {
		size_t len;
		uint64_t count = (uint64_t) (rand_r(&seed) % 5);
		if (iter % 2 == 0) {
			len = (size_t) (rand_r(&seed) % sizeof(r));
			for (size_t i = 0; i < len; i++)
				r[i] = (uint8_t) rand_r(&seed);
			if (len > 0)
				r[0] = (uint8_t) (PYC_MSG_SESSION_INIT + rand_r(&seed) % 4);
		} else {
			len = gn < sizeof(r) ? gn : sizeof(r);
			memcpy(r, good, len);
			for (int k = 0; k < 1 + rand_r(&seed) % 3; k++)
				r[rand_r(&seed) % len] ^= (uint8_t) (1u << (rand_r(&seed) % 8));
			count = 3;
		}
		/* heap copy of exactly len bytes, so ASan sees any overread */
		uint8_t *h = malloc(len > 0 ? len : 1);
		ck_assert_ptr_nonnull(h);
		memcpy(h, r, len);
		if (pyc_batch_check(h, len, count) == PYC_OK) {
			pyc_rbuf rb;
			pyc_batch_item it;
			uint64_t k = 0;
			ok++;
			pyc_rbuf_init(&rb, h, len);
			while (pyc_batch_next(&rb, &it) == PYC_OK) {
				ck_assert(pyc_batch_type_ok(it.type));
				ck_assert(it.payload + it.len <= h + len);
				k++;
			}
			ck_assert(k == count);
		} else {
			pyc_rbuf rb;
			pyc_batch_item it;
			pyc_rbuf_init(&rb, h, len);
			for (int k = 0; k < 300 && pyc_batch_next(&rb, &it) == PYC_OK; k++)
				ck_assert(it.payload + it.len <= h + len);
		}
		free(h);
	}
	ck_assert_int_gt(ok, 0);
}
END_TEST

static Suite *pyc_wire_suite(void)
{
	Suite *s = suite_create("pyc_wire");
	TCase *core = tcase_create("core");
	TCase *errors = tcase_create("errors");
	tcase_add_test(core, test_pyc_wire_roundtrip);
	tcase_add_test(core, test_pyc_wire_no_session);
	tcase_add_test(core, test_pyc_wire_type_names);
	tcase_add_test(core, test_pyc_wire_nng_message);
	tcase_add_test(core, test_pyc_wire_payload_roundtrips);
	tcase_add_test(errors, test_pyc_wire_truncated);
	tcase_add_test(errors, test_pyc_wire_corrupted_header);
	tcase_add_test(errors, test_pyc_wire_oversize_lengths);
	tcase_add_test(errors, test_pyc_wire_reader_bounds);
	tcase_add_test(errors, test_pyc_wire_payload_ranges);
	tcase_add_test(errors, test_pyc_wire_fuzz_decoders);
	tcase_add_test(core, test_pyc_wire_batch_roundtrip);
	tcase_add_test(errors, test_pyc_wire_batch_truncated);
	tcase_add_test(errors, test_pyc_wire_batch_bad_types);
	tcase_add_test(errors, test_pyc_wire_batch_limits);
	tcase_add_test(errors, test_pyc_wire_batch_fuzz);
	tcase_set_timeout(errors, 30);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	SRunner *sr = srunner_create(pyc_wire_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
