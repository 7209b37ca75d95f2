/* fuzz_wire.c - fuzz target: the internal message codec (common/pyc_wire.c,
 * common/pyc_params.c) on untrusted bytes.
 *
 * NOTES: every process decodes what the others send (docs/wire.md), so
 * each decoder gets the input twice: whole, and as the payload of the
 * envelope when the input decodes as one (with the decoder the receiver
 * would pick for its type and reply flag). Whatever a decoder accepts
 * must satisfy the documented ranges and must encode back to exactly the
 * same bytes with the matching _put (the layout has one encoding per
 * value, so a decoder that accepts more than the encoder can write is a
 * bug). A batch must be accepted by pyc_batch_check exactly when
 * pyc_batch_next walks it as seq items and nothing more, and its items are
 * decoded as a worker does. The envelope header must re-encode to its
 * bytes and the sid must be of the documented alphabet.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "pyc_params.h"
#include "pyc_wire.h"

#define RT_SLACK 16

/* The bytes p[0..n) decoded as v re-encode to themselves. */
#define ROUNDTRIP(T, get, put, p, n, check)                                     \
	do {                                                                    \
		T v_;                                                           \
		memset(&v_, 0x5a, sizeof(v_));                                  \
		if (get((p), (n), &v_) == PYC_OK) {                             \
			uint8_t *b_ = malloc((n) + RT_SLACK);                   \
			pyc_wbuf w_;                                            \
			FZ_ASSERT(b_ != NULL, "out of memory");                  \
			check(&v_, (p), (n));                                   \
			pyc_wbuf_init(&w_, b_, (n) + RT_SLACK);                 \
			put(&w_, &v_);                                          \
			FZ_ASSERT(w_.err == PYC_OK && w_.len == (n) &&          \
			        ((n) == 0 || memcmp(b_, (p), (n)) == 0),        \
			    "%s accepted %zu bytes that re-encode to %zu other bytes", \
			    #get, (size_t) (n), w_.len);                        \
			free(b_);                                               \
		}                                                               \
	} while (0)

static void str_ok(const char *s, size_t cap, const char *what)
{
	FZ_ASSERT(strnlen(s, cap) < cap, "%s not terminated", what);
}

static void inside(const uint8_t *q, size_t qn, const uint8_t *p, size_t n, const char *what)
{
	if (qn == 0)
		return;
	FZ_ASSERT(q >= p && qn <= n && (size_t) (q - p) <= n - qn, "%s points outside the input",
	    what);
}

static void chk_host(const pyc_host_hello *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	str_ok(v->host_id, sizeof(v->host_id), "host_id");
}

static void chk_worker(const pyc_worker_hello *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	str_ok(v->host_id, sizeof(v->host_id), "host_id");
}

static bool in_range(double v, double lo, double hi)
{
	return v >= lo && v <= hi;
}

/* The ranges of docs/protocol.md, restated. */
static void chk_params(const pyc_params *v, const uint8_t *p, size_t n)
{
	uint32_t m = v->mask;
	(void) p;
	(void) n;
	FZ_ASSERT((m & ~(uint32_t) PYC_P_VALID) == 0, "mask %#x", m);
	FZ_ASSERT(!(m & PYC_P_RATE) || in_range(v->sample_rate, 8000, 192000), "rate %d",
	    (int) v->sample_rate);
	FZ_ASSERT(!(m & PYC_P_CHANNELS) || v->channels == 1 || v->channels == 2, "channels %d",
	    (int) v->channels);
	FZ_ASSERT(!(m & PYC_P_GAIN) || in_range(v->gain_db, -60, 60), "gain %g", v->gain_db);
	FZ_ASSERT(!(m & PYC_P_FILTER) || v->filter_enabled == 0 || v->filter_enabled == 1,
	    "filter_enabled %d", (int) v->filter_enabled);
	FZ_ASSERT(!(m & PYC_P_CUTOFF) || in_range(v->cutoff_hz, 10, 86400), "cutoff %g",
	    v->cutoff_hz);
	FZ_ASSERT(!(m & PYC_P_INTEGRATION) || in_range(v->integration_s, 0, 10),
	    "integration %g", v->integration_s);
	FZ_ASSERT(!(m & PYC_P_ORDER) || in_range(v->filter_order, 2, 8), "order %d",
	    (int) v->filter_order);
	FZ_ASSERT(!(m & PYC_P_FFT) || (in_range(v->fft_size, 256, 16384) &&
	                                  (v->fft_size & (v->fft_size - 1)) == 0),
	    "fft_size %d", (int) v->fft_size);
	FZ_ASSERT(!(m & PYC_P_BANDS) || in_range(v->bands, 0, 256) ||
	        v->bands == PYC_BANDS_THIRD_OCTAVE, "bands %d", (int) v->bands);
	FZ_ASSERT(!(m & PYC_P_WAVEFORM) ||
	        (in_range(v->waveform_points, 0, 4096) && v->waveform_points != 1),
	    "waveform_points %d", (int) v->waveform_points);
	FZ_ASSERT(!(m & PYC_P_METER_RATE) || in_range(v->max_meter_rate, 0, 1000),
	    "max_meter_rate %g", v->max_meter_rate);
	FZ_ASSERT(!(m & PYC_P_MONITOR) || v->monitor == 0 || v->monitor == 1, "monitor %d",
	    (int) v->monitor);
	FZ_ASSERT(!(m & PYC_P_LOUDNESS) || v->loudness == 0 || v->loudness == 1,
	    "loudness %d", (int) v->loudness);
	/* what the gateway keeps: accepted fields merged into the defaults */
	pyc_params d;
	pyc_params_defaults(&d);
	pyc_params_merge(&d, v);
	d.mask = PYC_P_ALL;
	FZ_ASSERT(pyc_params_check(&d, NULL) == PYC_OK, "accepted fields break the defaults");
}

static void chk_record(const pyc_record_cmd *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	FZ_ASSERT(v->start <= 1, "record start %u", v->start);
}

static void chk_rec_start(const pyc_rec_start *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	FZ_ASSERT(v->sample_rate >= PYC_RATE_MIN && v->sample_rate <= PYC_RATE_MAX &&
	        (v->channels == 1 || v->channels == 2),
	    "rec_start %u Hz %u ch", v->sample_rate, v->channels);
	str_ok(v->settings_json, sizeof(v->settings_json), "settings_json");
}

static void chk_result(const pyc_rec_result *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	FZ_ASSERT(v->status >= 0 && v->status < PYC_ERR_COUNT, "status %d", (int) v->status);
	str_ok(v->code, sizeof(v->code), "code");
	str_ok(v->message, sizeof(v->message), "message");
	str_ok(v->filename, sizeof(v->filename), "filename");
}

static void chk_list(const pyc_rec_list_req *v, const uint8_t *p, size_t n)
{
	(void) v;
	(void) p;
	(void) n;
}

static void chk_name(const pyc_rec_name_req *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	str_ok(v->filename, sizeof(v->filename), "filename");
}

static void chk_read_req(const pyc_rec_read_req *v, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	str_ok(v->filename, sizeof(v->filename), "filename");
	FZ_ASSERT(v->length <= PYC_READ_MAX, "read of %u bytes", v->length);
}

static void chk_read_rep(const pyc_rec_read_rep *v, const uint8_t *p, size_t n)
{
	FZ_ASSERT(v->status >= 0 && v->status < PYC_ERR_COUNT, "status %d", (int) v->status);
	FZ_ASSERT(v->data_len <= PYC_READ_MAX && v->offset <= v->total_size &&
	        v->data_len <= v->total_size - v->offset,
	    "read reply of %zu bytes at %llu of %llu", v->data_len,
	    (unsigned long long) v->offset, (unsigned long long) v->total_size);
	inside(v->data, v->data_len, p, n, "read reply data");
}

static void chk_status(const pyc_status_rep *v, const uint8_t *p, size_t n)
{
	FZ_ASSERT(v->status >= 0 && v->status < PYC_ERR_COUNT, "status %d", (int) v->status);
	str_ok(v->message, sizeof(v->message), "message");
	inside((const uint8_t *) v->json, v->json_len, p, n, "status json");
}

/* Every payload decoder on p[0..n). */
static void all_payloads(const uint8_t *p, size_t n)
{
	ROUNDTRIP(pyc_host_hello, pyc_host_hello_get, pyc_host_hello_put, p, n, chk_host);
	ROUNDTRIP(pyc_worker_hello, pyc_worker_hello_get, pyc_worker_hello_put, p, n, chk_worker);
	ROUNDTRIP(pyc_params, pyc_params_get, pyc_params_put, p, n, chk_params);
	ROUNDTRIP(pyc_record_cmd, pyc_record_cmd_get, pyc_record_cmd_put, p, n, chk_record);
	ROUNDTRIP(pyc_rec_start, pyc_rec_start_get, pyc_rec_start_put, p, n, chk_rec_start);
	ROUNDTRIP(pyc_rec_result, pyc_rec_result_get, pyc_rec_result_put, p, n, chk_result);
	ROUNDTRIP(pyc_rec_list_req, pyc_rec_list_req_get, pyc_rec_list_req_put, p, n, chk_list);
	ROUNDTRIP(pyc_rec_name_req, pyc_rec_name_req_get, pyc_rec_name_req_put, p, n, chk_name);
	ROUNDTRIP(pyc_rec_read_req, pyc_rec_read_req_get, pyc_rec_read_req_put, p, n,
	    chk_read_req);
	ROUNDTRIP(pyc_rec_read_rep, pyc_rec_read_rep_get, pyc_rec_read_rep_put, p, n,
	    chk_read_rep);
	ROUNDTRIP(pyc_status_rep, pyc_status_rep_get, pyc_status_rep_put, p, n, chk_status);
}

/* A batch payload: pyc_batch_check agrees with a walk by pyc_batch_next,
 * and an accepted batch re-encodes to its bytes. */
static void batch(const uint8_t *p, size_t n, uint64_t count)
{
	pyc_rbuf r;
	pyc_batch_item it;
	pyc_err rv;
	uint64_t k = 0;
	uint8_t *b = malloc(n + RT_SLACK);
	pyc_wbuf w;

	FZ_ASSERT(b != NULL, "out of memory");
	pyc_wbuf_init(&w, b, n + RT_SLACK);
	pyc_rbuf_init(&r, p, n);
	while ((rv = pyc_batch_next(&r, &it)) == PYC_OK && k <= PYC_BATCH_MAX_ITEMS) {
		FZ_ASSERT(pyc_batch_type_ok(it.type), "batch item of type %u", it.type);
		inside(it.payload, it.len, p, n, "batch item");
		pyc_batch_put(&w, it.type, it.seq, it.payload, it.len);
		/* each item is decoded as the worker does */
		if (it.type == PYC_MSG_SESSION_INIT || it.type == PYC_MSG_SESSION_PARAMS)
			ROUNDTRIP(pyc_params, pyc_params_get, pyc_params_put, it.payload, it.len,
			    chk_params);
		else if (it.type == PYC_MSG_RECORD)
			ROUNDTRIP(pyc_record_cmd, pyc_record_cmd_get, pyc_record_cmd_put,
			    it.payload, it.len, chk_record);
		k++;
	}
	bool walk_ok = rv == PYC_ECLOSED && k == count && count >= 1 &&
	    count <= PYC_BATCH_MAX_ITEMS;
	pyc_err chk = pyc_batch_check(p, n, count);
	FZ_ASSERT((chk == PYC_OK) == walk_ok,
	    "pyc_batch_check says %d for %llu items, the walk found %llu (end %d)", (int) chk,
	    (unsigned long long) count, (unsigned long long) k, (int) rv);
	if (walk_ok)
		FZ_ASSERT(w.err == PYC_OK && w.len == n && (n == 0 || memcmp(b, p, n) == 0),
		    "batch does not re-encode to its bytes");
	free(b);
}

/* The payload decoder the receiver of m picks. */
static void typed(const pyc_wire_msg *m)
{
	const uint8_t *p = m->payload;
	size_t n = m->payload_len;
	bool reply = (m->flags & PYC_WIRE_F_REPLY) != 0;

	switch (m->type) {
	case PYC_MSG_HOST_HELLO:
		ROUNDTRIP(pyc_host_hello, pyc_host_hello_get, pyc_host_hello_put, p, n, chk_host);
		break;
	case PYC_MSG_WORKER_HELLO:
		ROUNDTRIP(pyc_worker_hello, pyc_worker_hello_get, pyc_worker_hello_put, p, n,
		    chk_worker);
		break;
	case PYC_MSG_SESSION_OPEN:
	case PYC_MSG_SESSION_INIT:
	case PYC_MSG_SESSION_PARAMS:
		ROUNDTRIP(pyc_params, pyc_params_get, pyc_params_put, p, n, chk_params);
		break;
	case PYC_MSG_RECORD:
		ROUNDTRIP(pyc_record_cmd, pyc_record_cmd_get, pyc_record_cmd_put, p, n, chk_record);
		break;
	case PYC_MSG_BATCH:
		batch(p, n, m->seq);
		break;
	case PYC_MSG_REC_START:
		if (reply)
			ROUNDTRIP(pyc_rec_result, pyc_rec_result_get, pyc_rec_result_put, p, n,
			    chk_result);
		else
			ROUNDTRIP(pyc_rec_start, pyc_rec_start_get, pyc_rec_start_put, p, n,
			    chk_rec_start);
		break;
	case PYC_MSG_REC_STOP:
	case PYC_MSG_REC_ERROR:
		ROUNDTRIP(pyc_rec_result, pyc_rec_result_get, pyc_rec_result_put, p, n, chk_result);
		break;
	case PYC_MSG_REC_LIST:
		if (reply)
			ROUNDTRIP(pyc_status_rep, pyc_status_rep_get, pyc_status_rep_put, p, n,
			    chk_status);
		else
			ROUNDTRIP(pyc_rec_list_req, pyc_rec_list_req_get, pyc_rec_list_req_put, p, n,
			    chk_list);
		break;
	case PYC_MSG_REC_META:
	case PYC_MSG_REC_DELETE:
		if (reply)
			ROUNDTRIP(pyc_status_rep, pyc_status_rep_get, pyc_status_rep_put, p, n,
			    chk_status);
		else
			ROUNDTRIP(pyc_rec_name_req, pyc_rec_name_req_get, pyc_rec_name_req_put, p, n,
			    chk_name);
		break;
	case PYC_MSG_REC_READ:
		if (reply)
			ROUNDTRIP(pyc_rec_read_rep, pyc_rec_read_rep_get, pyc_rec_read_rep_put, p, n,
			    chk_read_rep);
		else
			ROUNDTRIP(pyc_rec_read_req, pyc_rec_read_req_get, pyc_rec_read_req_put, p, n,
			    chk_read_req);
		break;
	case PYC_MSG_SESSION_ENDED:
	case PYC_MSG_HEALTH:
		if (reply)
			ROUNDTRIP(pyc_status_rep, pyc_status_rep_get, pyc_status_rep_put, p, n,
			    chk_status);
		break;
	default:
		break; /* raw payloads: audio, meter, event, monitor... */
	}
}

static void envelope(const uint8_t *data, size_t size)
{
	pyc_wire_msg m;
	pyc_err rv = pyc_wire_decode(data, size, &m);

	if (rv != PYC_OK) {
		FZ_ASSERT(rv == PYC_EPROTO || rv == PYC_EVERSION, "decode returned %d", (int) rv);
		FZ_ASSERT((rv == PYC_EVERSION) ==
		        (size >= PYC_WIRE_HDR_SIZE && data[0] != PYC_WIRE_VERSION),
		    "EVERSION for version %u", size > 0 ? data[0] : 0);
		return;
	}
	size_t sl = strlen(m.sid);
	FZ_ASSERT(m.version == PYC_WIRE_VERSION && pyc_msg_type_valid(m.type) &&
	        (m.flags & ~PYC_WIRE_F_ALL) == 0, "bad header fields accepted");
	FZ_ASSERT(sl <= PYC_SESSION_ID_MAX && (sl == 0 || pyc_session_id_valid(m.sid, sl)),
	    "sid %s accepted", m.sid);
	FZ_ASSERT(size == PYC_WIRE_HDR_SIZE + sl + m.payload_len &&
	        m.payload == data + PYC_WIRE_HDR_SIZE + sl,
	    "payload of %zu bytes does not end the message", m.payload_len);
	uint8_t hdr[PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX];
	size_t hl = 0;
	FZ_ASSERT(pyc_wire_encode_hdr(hdr, sizeof(hdr), m.type, m.flags, m.sid, m.seq,
	              m.payload_len, &hl) == PYC_OK,
	    "an accepted header does not encode");
	FZ_ASSERT(hl == PYC_WIRE_HDR_SIZE + sl && memcmp(hdr, data, hl) == 0,
	    "the header does not re-encode to its bytes");
	/* through an nng message, as every process receives it */
	nng_msg *msg;
	pyc_wire_msg m2;
	FZ_ASSERT(pyc_wire_msg_new(&msg, m.type, m.flags, m.sid, m.seq, m.payload,
	              m.payload_len) == PYC_OK, "pyc_wire_msg_new");
	FZ_ASSERT(nng_msg_len(msg) == size && memcmp(nng_msg_body(msg), data, size) == 0,
	    "pyc_wire_msg_new does not rebuild the message");
	FZ_ASSERT(pyc_wire_msg_decode(msg, &m2) == PYC_OK && m2.seq == m.seq &&
	        m2.payload_len == m.payload_len, "rebuilt message does not decode the same");
	nng_msg_free(msg);
	typed(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_quiet();
	envelope(data, size);
	all_payloads(data, size);
	/* the input as a batch payload of every plausible item count */
	batch(data, size, size > 0 ? data[0] % (PYC_BATCH_MAX_ITEMS + 2) : 0);
	return 0;
}
