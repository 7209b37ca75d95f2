/* pyc_wire.c - the envelope codec and the payload codecs of pyc_wire.h.
 *
 * NOTES: the reader keeps a sticky error so a decoder can read a whole
 * payload field by field and check once at the end (nng's nni_msg_trim_u32
 * pattern, with bounds). Nothing here allocates except the nng messages
 * built for sending, and every length read from a buffer is checked against
 * what remains before it is used.
 */
#include "pyc_wire.h"

#include <string.h>

static const char *const type_names[] = {
	[PYC_MSG_HOST_HELLO] = "host_hello",
	[PYC_MSG_WORKER_HELLO] = "worker_hello",
	[PYC_MSG_SESSION_OPEN] = "session_open",
	[PYC_MSG_SESSION_INIT] = "session_init",
	[PYC_MSG_SESSION_PARAMS] = "session_params",
	[PYC_MSG_AUDIO] = "audio",
	[PYC_MSG_RECORD] = "record",
	[PYC_MSG_SESSION_CLOSE] = "session_close",
	[PYC_MSG_SESSION_CLOSED] = "session_closed",
	[PYC_MSG_METER] = "meter",
	[PYC_MSG_EVENT] = "event",
	[PYC_MSG_MONITOR] = "monitor",
	[PYC_MSG_ACK] = "ack",
	[PYC_MSG_BATCH] = "batch",
	[PYC_MSG_GATEWAY_BYE] = "gateway_bye",
	[PYC_MSG_REC_START] = "rec_start",
	[PYC_MSG_REC_APPEND] = "rec_append",
	[PYC_MSG_REC_STOP] = "rec_stop",
	[PYC_MSG_REC_ERROR] = "rec_error",
	[PYC_MSG_REC_LIST] = "rec_list",
	[PYC_MSG_REC_META] = "rec_meta",
	[PYC_MSG_REC_READ] = "rec_read",
	[PYC_MSG_REC_DELETE] = "rec_delete",
	[PYC_MSG_SESSION_ENDED] = "session_ended",
	[PYC_MSG_HEALTH] = "health",
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

bool pyc_msg_type_valid(unsigned t)
{
	return t < N_TYPES && type_names[t] != NULL;
}

const char *pyc_msg_type_name(unsigned t)
{
	return pyc_msg_type_valid(t) ? type_names[t] : "unknown";
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

pyc_err pyc_wire_decode(const void *buf, size_t len, pyc_wire_msg *out)
{
	const uint8_t *p = buf;
	size_t sid_len;
	uint32_t plen;

	if (p == NULL || len < PYC_WIRE_HDR_SIZE)
		return PYC_EPROTO;
	if (p[0] != PYC_WIRE_VERSION)
		return PYC_EVERSION;
	if (!pyc_msg_type_valid(p[1]) || (p[2] & ~PYC_WIRE_F_ALL) != 0)
		return PYC_EPROTO;
	sid_len = p[3];
	plen = (uint32_t) get_le(p + 4, 4);
	if (sid_len > PYC_SESSION_ID_MAX || plen > PYC_WIRE_MAX_PAYLOAD)
		return PYC_EPROTO;
	if (len != PYC_WIRE_HDR_SIZE + sid_len + (size_t) plen)
		return PYC_EPROTO;
	if (sid_len > 0 &&
	    !pyc_session_id_valid((const char *) p + PYC_WIRE_HDR_SIZE, sid_len))
		return PYC_EPROTO;

	out->version = p[0];
	out->type = p[1];
	out->flags = p[2];
	out->seq = get_le(p + 8, 8);
	memcpy(out->sid, p + PYC_WIRE_HDR_SIZE, sid_len);
	out->sid[sid_len] = '\0';
	out->payload = p + PYC_WIRE_HDR_SIZE + sid_len;
	out->payload_len = plen;
	return PYC_OK;
}

pyc_err pyc_wire_encode_hdr(void *buf, size_t cap, unsigned type,
    unsigned flags, const char *sid, uint64_t seq, size_t payload_len,
    size_t *hdr_len)
{
	uint8_t *p = buf;
	size_t sid_len = sid != NULL ? strnlen(sid, PYC_SESSION_ID_MAX + 1) : 0;

	if (!pyc_msg_type_valid(type) || (flags & ~PYC_WIRE_F_ALL) != 0 ||
	    payload_len > PYC_WIRE_MAX_PAYLOAD || sid_len > PYC_SESSION_ID_MAX)
		return PYC_EINVAL;
	if (sid_len > 0 && !pyc_session_id_valid(sid, sid_len))
		return PYC_EINVAL;
	if (cap < PYC_WIRE_HDR_SIZE + sid_len)
		return PYC_EINVAL;
	p[0] = PYC_WIRE_VERSION;
	p[1] = (uint8_t) type;
	p[2] = (uint8_t) flags;
	p[3] = (uint8_t) sid_len;
	put_le(p + 4, payload_len, 4);
	put_le(p + 8, seq, 8);
	if (sid_len > 0)
		memcpy(p + PYC_WIRE_HDR_SIZE, sid, sid_len);
	*hdr_len = PYC_WIRE_HDR_SIZE + sid_len;
	return PYC_OK;
}

pyc_err pyc_wire_msg_new(nng_msg **out, unsigned type, unsigned flags,
    const char *sid, uint64_t seq, const void *payload, size_t len)
{
	uint8_t hdr[PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX];
	size_t hlen;
	nng_msg *msg;
	pyc_err rv;
	int nrv;

	if (len > 0 && payload == NULL)
		return PYC_EINVAL;
	rv = pyc_wire_encode_hdr(hdr, sizeof(hdr), type, flags, sid, seq, len, &hlen);
	if (rv != PYC_OK)
		return rv;
	if ((nrv = nng_msg_alloc(&msg, hlen + len)) != 0)
		return pyc_err_from_nng(nrv);
	memcpy(nng_msg_body(msg), hdr, hlen);
	if (len > 0)
		memcpy((uint8_t *) nng_msg_body(msg) + hlen, payload, len);
	*out = msg;
	return PYC_OK;
}

pyc_err pyc_wire_msg_decode(nng_msg *msg, pyc_wire_msg *m)
{
	if (msg == NULL)
		return PYC_EINVAL;
	return pyc_wire_decode(nng_msg_body(msg), nng_msg_len(msg), m);
}

pyc_err pyc_wire_msg_from_wbuf(nng_msg **out, unsigned type, unsigned flags,
    const char *sid, uint64_t seq, const pyc_wbuf *w)
{
	if (w->err != PYC_OK)
		return w->err;
	return pyc_wire_msg_new(out, type, flags, sid, seq, w->buf, w->len);
}

pyc_err pyc_wire_reply_new(nng_msg **out, const pyc_wire_msg *m, const pyc_wbuf *w)
{
	return pyc_wire_msg_from_wbuf(out, m->type, PYC_WIRE_F_REPLY, m->sid, m->seq, w);
}

/* ---- writer ---- */

void pyc_wbuf_init(pyc_wbuf *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = PYC_OK;
}

static uint8_t *wb_room(pyc_wbuf *w, size_t n)
{
	if (w->err != PYC_OK || n > w->cap - w->len) {
		w->err = PYC_EINVAL;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void wb_le(pyc_wbuf *w, uint64_t v, int n)
{
	uint8_t *p = wb_room(w, (size_t) n);
	if (p != NULL)
		put_le(p, v, n);
}

void pyc_wbuf_u8(pyc_wbuf *w, uint8_t v) { wb_le(w, v, 1); }
void pyc_wbuf_u16(pyc_wbuf *w, uint16_t v) { wb_le(w, v, 2); }
void pyc_wbuf_u32(pyc_wbuf *w, uint32_t v) { wb_le(w, v, 4); }
void pyc_wbuf_u64(pyc_wbuf *w, uint64_t v) { wb_le(w, v, 8); }
void pyc_wbuf_i32(pyc_wbuf *w, int32_t v) { wb_le(w, (uint32_t) v, 4); }
void pyc_wbuf_i64(pyc_wbuf *w, int64_t v) { wb_le(w, (uint64_t) v, 8); }

void pyc_wbuf_f64(pyc_wbuf *w, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	wb_le(w, bits, 8);
}

void pyc_wbuf_str(pyc_wbuf *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n > UINT16_MAX) {
		w->err = PYC_EINVAL;
		return;
	}
	pyc_wbuf_u16(w, (uint16_t) n);
	uint8_t *p = wb_room(w, n);
	if (p != NULL && n > 0)
		memcpy(p, s, n);
}

void pyc_wbuf_blob(pyc_wbuf *w, const void *data, size_t n)
{
	if (n > PYC_WIRE_MAX_PAYLOAD || (n > 0 && data == NULL)) {
		w->err = PYC_EINVAL;
		return;
	}
	pyc_wbuf_u32(w, (uint32_t) n);
	uint8_t *p = wb_room(w, n);
	if (p != NULL && n > 0)
		memcpy(p, data, n);
}

/* ---- reader ---- */

void pyc_rbuf_init(pyc_rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
	r->err = PYC_OK;
}

static const uint8_t *rb_take(pyc_rbuf *r, size_t n)
{
	if (r->err != PYC_OK || n > r->len - r->off) {
		r->err = PYC_EPROTO;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t rb_le(pyc_rbuf *r, int n)
{
	const uint8_t *p = rb_take(r, (size_t) n);
	return p != NULL ? get_le(p, n) : 0;
}

uint8_t pyc_rbuf_u8(pyc_rbuf *r) { return (uint8_t) rb_le(r, 1); }
uint16_t pyc_rbuf_u16(pyc_rbuf *r) { return (uint16_t) rb_le(r, 2); }
uint32_t pyc_rbuf_u32(pyc_rbuf *r) { return (uint32_t) rb_le(r, 4); }
uint64_t pyc_rbuf_u64(pyc_rbuf *r) { return rb_le(r, 8); }
int32_t pyc_rbuf_i32(pyc_rbuf *r) { return (int32_t) (uint32_t) rb_le(r, 4); }
int64_t pyc_rbuf_i64(pyc_rbuf *r) { return (int64_t) rb_le(r, 8); }

double pyc_rbuf_f64(pyc_rbuf *r)
{
	uint64_t bits = rb_le(r, 8);
	double v;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

void pyc_rbuf_str(pyc_rbuf *r, char *dst, size_t cap)
{
	size_t n = pyc_rbuf_u16(r);
	const uint8_t *p;

	if (cap > 0)
		dst[0] = '\0';
	if (r->err != PYC_OK)
		return;
	if (n >= cap) {
		r->err = PYC_EPROTO;
		return;
	}
	if ((p = rb_take(r, n)) == NULL)
		return;
	if (memchr(p, '\0', n) != NULL) {
		r->err = PYC_EPROTO;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

void pyc_rbuf_blob(pyc_rbuf *r, const uint8_t **out, size_t *n)
{
	size_t len = pyc_rbuf_u32(r);
	const uint8_t *p = rb_take(r, len);
	*out = p;
	*n = p != NULL ? len : 0;
}

pyc_err pyc_rbuf_end(pyc_rbuf *r)
{
	if (r->err != PYC_OK || r->off != r->len)
		return PYC_EPROTO;
	return PYC_OK;
}

/* ---- typed payloads ---- */

void pyc_host_hello_put(pyc_wbuf *w, const pyc_host_hello *v)
{
	pyc_wbuf_str(w, v->host_id);
	pyc_wbuf_u32(w, v->max_workers);
	pyc_wbuf_u32(w, v->spare);
	pyc_wbuf_u32(w, v->idle);
	pyc_wbuf_u32(w, v->busy);
}

pyc_err pyc_host_hello_get(const void *p, size_t n, pyc_host_hello *v)
{
	pyc_rbuf r;
	pyc_rbuf_init(&r, p, n);
	pyc_rbuf_str(&r, v->host_id, sizeof(v->host_id));
	v->max_workers = pyc_rbuf_u32(&r);
	v->spare = pyc_rbuf_u32(&r);
	v->idle = pyc_rbuf_u32(&r);
	v->busy = pyc_rbuf_u32(&r);
	return pyc_rbuf_end(&r);
}

void pyc_worker_hello_put(pyc_wbuf *w, const pyc_worker_hello *v)
{
	pyc_wbuf_str(w, v->host_id);
	pyc_wbuf_u32(w, v->pid);
}

pyc_err pyc_worker_hello_get(const void *p, size_t n, pyc_worker_hello *v)
{
	pyc_rbuf r;
	pyc_rbuf_init(&r, p, n);
	pyc_rbuf_str(&r, v->host_id, sizeof(v->host_id));
	v->pid = pyc_rbuf_u32(&r);
	return pyc_rbuf_end(&r);
}

void pyc_params_put(pyc_wbuf *w, const pyc_params *v)
{
	pyc_wbuf_u32(w, v->mask);
	pyc_wbuf_i32(w, v->sample_rate);
	pyc_wbuf_i32(w, v->channels);
	pyc_wbuf_f64(w, v->gain_db);
	pyc_wbuf_i32(w, v->filter_enabled);
	pyc_wbuf_f64(w, v->cutoff_hz);
	pyc_wbuf_f64(w, v->integration_s);
	pyc_wbuf_i32(w, v->filter_order);
	pyc_wbuf_i32(w, v->fft_size);
	pyc_wbuf_i32(w, v->bands);
	pyc_wbuf_i32(w, v->waveform_points);
	pyc_wbuf_f64(w, v->max_meter_rate);
	pyc_wbuf_i32(w, v->monitor);
	pyc_wbuf_i32(w, v->loudness);
}

pyc_err pyc_params_get(const void *p, size_t n, pyc_params *v)
{
	pyc_rbuf r;
	pyc_err rv;
	pyc_rbuf_init(&r, p, n);
	v->mask = pyc_rbuf_u32(&r);
	v->sample_rate = pyc_rbuf_i32(&r);
	v->channels = pyc_rbuf_i32(&r);
	v->gain_db = pyc_rbuf_f64(&r);
	v->filter_enabled = pyc_rbuf_i32(&r);
	v->cutoff_hz = pyc_rbuf_f64(&r);
	v->integration_s = pyc_rbuf_f64(&r);
	v->filter_order = pyc_rbuf_i32(&r);
	v->fft_size = pyc_rbuf_i32(&r);
	v->bands = pyc_rbuf_i32(&r);
	v->waveform_points = pyc_rbuf_i32(&r);
	v->max_meter_rate = pyc_rbuf_f64(&r);
	v->monitor = pyc_rbuf_i32(&r);
	v->loudness = pyc_rbuf_i32(&r);
	if ((rv = pyc_rbuf_end(&r)) != PYC_OK)
		return rv;
	return pyc_params_check(v, NULL);
}

void pyc_record_cmd_put(pyc_wbuf *w, const pyc_record_cmd *v)
{
	pyc_wbuf_u8(w, v->start);
}

pyc_err pyc_record_cmd_get(const void *p, size_t n, pyc_record_cmd *v)
{
	pyc_rbuf r;
	pyc_rbuf_init(&r, p, n);
	v->start = pyc_rbuf_u8(&r);
	if (v->start > 1)
		return PYC_EPROTO;
	return pyc_rbuf_end(&r);
}

void pyc_rec_start_put(pyc_wbuf *w, const pyc_rec_start *v)
{
	pyc_wbuf_u32(w, v->sample_rate);
	pyc_wbuf_u32(w, v->channels);
	pyc_wbuf_str(w, v->settings_json);
}

pyc_err pyc_rec_start_get(const void *p, size_t n, pyc_rec_start *v)
{
	pyc_rbuf r;
	pyc_err rv;
	pyc_rbuf_init(&r, p, n);
	v->sample_rate = pyc_rbuf_u32(&r);
	v->channels = pyc_rbuf_u32(&r);
	pyc_rbuf_str(&r, v->settings_json, sizeof(v->settings_json));
	if ((rv = pyc_rbuf_end(&r)) != PYC_OK)
		return rv;
	if (v->sample_rate < PYC_RATE_MIN || v->sample_rate > PYC_RATE_MAX ||
	    (v->channels != 1 && v->channels != 2))
		return PYC_EPROTO;
	return PYC_OK;
}

void pyc_rec_result_put(pyc_wbuf *w, const pyc_rec_result *v)
{
	pyc_wbuf_i32(w, v->status);
	pyc_wbuf_str(w, v->code);
	pyc_wbuf_str(w, v->message);
	pyc_wbuf_i64(w, v->id);
	pyc_wbuf_str(w, v->filename);
	pyc_wbuf_u64(w, v->frames);
	pyc_wbuf_f64(w, v->duration_s);
	pyc_wbuf_u64(w, v->size_bytes);
}

pyc_err pyc_rec_result_get(const void *p, size_t n, pyc_rec_result *v)
{
	pyc_rbuf r;
	pyc_rbuf_init(&r, p, n);
	v->status = pyc_rbuf_i32(&r);
	pyc_rbuf_str(&r, v->code, sizeof(v->code));
	pyc_rbuf_str(&r, v->message, sizeof(v->message));
	v->id = pyc_rbuf_i64(&r);
	pyc_rbuf_str(&r, v->filename, sizeof(v->filename));
	v->frames = pyc_rbuf_u64(&r);
	v->duration_s = pyc_rbuf_f64(&r);
	v->size_bytes = pyc_rbuf_u64(&r);
	if (v->status < 0 || v->status >= PYC_ERR_COUNT)
		return PYC_EPROTO;
	return pyc_rbuf_end(&r);
}

void pyc_rec_list_req_put(pyc_wbuf *w, const pyc_rec_list_req *v)
{
	pyc_wbuf_u32(w, v->skip);
	pyc_wbuf_u32(w, v->limit);
}

pyc_err pyc_rec_list_req_get(const void *p, size_t n, pyc_rec_list_req *v)
{
	pyc_rbuf r;
	pyc_rbuf_init(&r, p, n);
	v->skip = pyc_rbuf_u32(&r);
	v->limit = pyc_rbuf_u32(&r);
	return pyc_rbuf_end(&r);
}

void pyc_rec_name_req_put(pyc_wbuf *w, const pyc_rec_name_req *v)
{
	pyc_wbuf_str(w, v->filename);
}

pyc_err pyc_rec_name_req_get(const void *p, size_t n, pyc_rec_name_req *v)
{
	pyc_rbuf r;
	pyc_rbuf_init(&r, p, n);
	pyc_rbuf_str(&r, v->filename, sizeof(v->filename));
	return pyc_rbuf_end(&r);
}

void pyc_rec_read_req_put(pyc_wbuf *w, const pyc_rec_read_req *v)
{
	pyc_wbuf_str(w, v->filename);
	pyc_wbuf_u64(w, v->offset);
	pyc_wbuf_u32(w, v->length);
}

pyc_err pyc_rec_read_req_get(const void *p, size_t n, pyc_rec_read_req *v)
{
	pyc_rbuf r;
	pyc_err rv;
	pyc_rbuf_init(&r, p, n);
	pyc_rbuf_str(&r, v->filename, sizeof(v->filename));
	v->offset = pyc_rbuf_u64(&r);
	v->length = pyc_rbuf_u32(&r);
	if ((rv = pyc_rbuf_end(&r)) != PYC_OK)
		return rv;
	return v->length <= PYC_READ_MAX ? PYC_OK : PYC_EPROTO;
}

void pyc_rec_read_rep_put(pyc_wbuf *w, const pyc_rec_read_rep *v)
{
	pyc_wbuf_i32(w, v->status);
	pyc_wbuf_u64(w, v->total_size);
	pyc_wbuf_u64(w, v->offset);
	pyc_wbuf_blob(w, v->data, v->data_len);
}

pyc_err pyc_rec_read_rep_get(const void *p, size_t n, pyc_rec_read_rep *v)
{
	pyc_rbuf r;
	pyc_err rv;
	pyc_rbuf_init(&r, p, n);
	v->status = pyc_rbuf_i32(&r);
	v->total_size = pyc_rbuf_u64(&r);
	v->offset = pyc_rbuf_u64(&r);
	pyc_rbuf_blob(&r, &v->data, &v->data_len);
	if ((rv = pyc_rbuf_end(&r)) != PYC_OK)
		return rv;
	if (v->status < 0 || v->status >= PYC_ERR_COUNT ||
	    v->data_len > PYC_READ_MAX || v->offset > v->total_size ||
	    v->data_len > v->total_size - v->offset)
		return PYC_EPROTO;
	return PYC_OK;
}

void pyc_status_rep_put(pyc_wbuf *w, const pyc_status_rep *v)
{
	pyc_wbuf_i32(w, v->status);
	pyc_wbuf_str(w, v->message);
	pyc_wbuf_u64(w, v->value);
	pyc_wbuf_blob(w, v->json, v->json_len);
}

pyc_err pyc_status_rep_get(const void *p, size_t n, pyc_status_rep *v)
{
	pyc_rbuf r;
	const uint8_t *j;
	pyc_rbuf_init(&r, p, n);
	v->status = pyc_rbuf_i32(&r);
	pyc_rbuf_str(&r, v->message, sizeof(v->message));
	v->value = pyc_rbuf_u64(&r);
	pyc_rbuf_blob(&r, &j, &v->json_len);
	v->json = (const char *) j;
	if (v->status < 0 || v->status >= PYC_ERR_COUNT)
		return PYC_EPROTO;
	return pyc_rbuf_end(&r);
}

/* ---- batches ---- */

bool pyc_batch_type_ok(unsigned t)
{
	return t == PYC_MSG_SESSION_INIT || t == PYC_MSG_SESSION_PARAMS ||
	    t == PYC_MSG_AUDIO || t == PYC_MSG_RECORD;
}

size_t pyc_batch_item_size(size_t len)
{
	return PYC_BATCH_ITEM_HDR + len;
}

void pyc_batch_put(pyc_wbuf *w, unsigned type, uint64_t seq, const void *p, size_t n)
{
	if (!pyc_batch_type_ok(type)) {
		w->err = PYC_EINVAL;
		return;
	}
	pyc_wbuf_u8(w, (uint8_t) type);
	pyc_wbuf_u64(w, seq);
	pyc_wbuf_blob(w, p, n);
}

pyc_err pyc_batch_next(pyc_rbuf *r, pyc_batch_item *it)
{
	if (r->err != PYC_OK)
		return PYC_EPROTO;
	if (r->off == r->len)
		return PYC_ECLOSED;
	it->type = pyc_rbuf_u8(r);
	it->seq = pyc_rbuf_u64(r);
	pyc_rbuf_blob(r, &it->payload, &it->len);
	if (r->err != PYC_OK)
		return PYC_EPROTO;
	if (!pyc_batch_type_ok(it->type)) {
		r->err = PYC_EPROTO;
		return PYC_EPROTO;
	}
	return PYC_OK;
}

pyc_err pyc_batch_check(const void *p, size_t n, uint64_t count)
{
	pyc_rbuf r;
	pyc_batch_item it;
	pyc_err rv;
	uint64_t k = 0;

	if (count == 0 || count > PYC_BATCH_MAX_ITEMS || n > PYC_WIRE_MAX_PAYLOAD)
		return PYC_EPROTO;
	pyc_rbuf_init(&r, p, n);
	while ((rv = pyc_batch_next(&r, &it)) == PYC_OK) {
		if (++k > count)
			return PYC_EPROTO;
	}
	if (rv != PYC_ECLOSED || k != count)
		return PYC_EPROTO;
	return PYC_OK;
}
