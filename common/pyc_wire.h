/* pyc_wire.h - the internal messages between gateway, dsp-worker and
 * recorder: a versioned binary envelope, the catalogue of message types,
 * and the codecs of their payloads.
 *
 * NOTES: every nng message between two Pycoustics processes is one
 * envelope (docs/wire.md):
 *
 *   offset size  field
 *   0      1     version      PYC_WIRE_VERSION; others are rejected
 *   1      1     type         enum pyc_msg_type; unknown ones are rejected
 *   2      1     flags        PYC_WIRE_F_*; unknown bits are rejected
 *   3      1     sid_len      0..128, length of the session id
 *   4      4     payload_len  little-endian, <= PYC_WIRE_MAX_PAYLOAD
 *   8      8     seq          little-endian sequence number
 *   16     sid_len            session id, [A-Za-z0-9_-] (checked)
 *   ...    payload_len        payload, per type (below)
 *
 * The message length must equal 16 + sid_len + payload_len exactly.
 * Payload fields are little-endian; a string is a u16 length then bytes
 * (no NUL inside); a blob is a u32 length then bytes. Decoders check every
 * length against the bytes that remain and against the destination, and
 * reject trailing bytes. Any process's messages are untrusted input to the
 * others. Decoded strings are copied into bounded arrays; blobs and raw
 * payloads point into the caller's buffer (valid while it is).
 *
 * A batch (PYC_MSG_BATCH) carries several gateway -> worker messages of
 * one session in one nng message: nng 1.5.2's polyamorous pair1 keeps two
 * messages per pipe, so the gateway may have only two unanswered, but each
 * may hold up to PYC_BATCH_MAX_ITEMS items. Its payload is a sequence of
 * items {type u8, seq u64, len u32, len bytes}, each standing for the
 * message of that type, seq and payload with the batch's session id.
 * Only session_init, session_params, audio and record may be items.
 */
#ifndef PYC_WIRE_H
#define PYC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "pyc_err.h"
#include "pyc_id.h"
#include "pyc_params.h"

#define PYC_WIRE_VERSION 2 /* 2: a batch is answered once */
#define PYC_WIRE_HDR_SIZE 16
#define PYC_WIRE_MAX_PAYLOAD (4u * 1024u * 1024u)

#define PYC_WIRE_F_REPLY 0x01u /* a reply to a request of the same type */
#define PYC_WIRE_F_ALL 0x01u

typedef enum pyc_msg_type {
	/* dsp-worker host and worker processes -> gateway */
	PYC_MSG_HOST_HELLO = 1,   /* pyc_host_hello; sent on connect, then each second */
	PYC_MSG_WORKER_HELLO = 2, /* pyc_worker_hello; an idle worker offers itself */

	/* gateway -> worker, on the session's one ordered channel */
	PYC_MSG_SESSION_OPEN = 3,   /* pyc_params (full): bind this worker to sid */
	PYC_MSG_SESSION_INIT = 4,   /* pyc_params: the client's init (rate, channels...) */
	PYC_MSG_SESSION_PARAMS = 5, /* pyc_params: set_params, fields in mask */
	PYC_MSG_AUDIO = 6,          /* raw int16 LE PCM; seq = chunk number */
	PYC_MSG_RECORD = 7,         /* pyc_record_cmd: start or stop recording */
	PYC_MSG_SESSION_CLOSE = 8,  /* empty: finalise and exit */

	/* worker -> gateway */
	PYC_MSG_SESSION_CLOSED = 9, /* empty: the worker finished the session */
	PYC_MSG_METER = 10,   /* JSON text of the meter message; may be dropped */
	PYC_MSG_EVENT = 11,   /* JSON text for the client (ready, recording_saved,
	                         error); never dropped */
	PYC_MSG_MONITOR = 12, /* processed int16 LE PCM; may be dropped */
	PYC_MSG_ACK = 13,     /* empty; seq = last audio chunk processed */

	/* gateway -> worker, on the session's channel */
	PYC_MSG_BATCH = 14, /* pyc_batch items; seq = number of items */

	/* gateway -> host */
	PYC_MSG_GATEWAY_BYE = 15, /* empty: the gateway is stopping; no more
	                             host_hello on this pipe */

	/* worker <-> recorder (stream socket) */
	PYC_MSG_REC_START = 20,  /* pyc_rec_start; reply: pyc_rec_result */
	PYC_MSG_REC_APPEND = 21, /* raw int16 LE PCM of the active recording */
	PYC_MSG_REC_STOP = 22,   /* empty; reply pyc_rec_result once on disk */
	PYC_MSG_REC_ERROR = 23,  /* recorder -> worker: pyc_rec_result, async */

	/* gateway -> recorder (request/reply socket); replies set F_REPLY */
	PYC_MSG_REC_LIST = 30,      /* pyc_rec_list_req; reply pyc_status_rep (JSON array) */
	PYC_MSG_REC_META = 31,      /* pyc_rec_name_req; reply pyc_status_rep (JSON, value=size) */
	PYC_MSG_REC_READ = 32,      /* pyc_rec_read_req; reply pyc_rec_read_rep */
	PYC_MSG_REC_DELETE = 33,    /* pyc_rec_name_req; reply pyc_status_rep */
	PYC_MSG_SESSION_ENDED = 34, /* empty; reply pyc_status_rep (value=deleted) */
	PYC_MSG_HEALTH = 35,        /* empty; reply pyc_status_rep (JSON) */
} pyc_msg_type;

/* True if t is a type of the catalogue. */
bool pyc_msg_type_valid(unsigned t);
/* "audio", "meter"...; "unknown" for others. */
const char *pyc_msg_type_name(unsigned t);

/* A decoded envelope. payload points into the decoded buffer. */
typedef struct pyc_wire_msg {
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	uint64_t seq;
	char sid[PYC_SESSION_ID_MAX + 1]; /* "" if none */
	const uint8_t *payload;
	size_t payload_len;
} pyc_wire_msg;

/* Decodes buf[0..len). PYC_EVERSION for another version, PYC_EPROTO for
 * anything else malformed (short, length mismatch, unknown type or flags,
 * bad session id). On error *out is unspecified. */
pyc_err pyc_wire_decode(const void *buf, size_t len, pyc_wire_msg *out);

/* Writes the 16+sid_len header bytes for a payload of payload_len into
 * buf (cap bytes), *hdr_len gets the size. PYC_EINVAL if an argument is
 * out of range (bad type, flags, sid, payload too large, no room). */
pyc_err pyc_wire_encode_hdr(void *buf, size_t cap, unsigned type,
    unsigned flags, const char *sid, uint64_t seq, size_t payload_len,
    size_t *hdr_len);

/* Allocates an nng message holding the envelope and a copy of the payload
 * (payload may be NULL when len is 0). On success *out belongs to the
 * caller (or to nng once sent). */
pyc_err pyc_wire_msg_new(nng_msg **out, unsigned type, unsigned flags,
    const char *sid, uint64_t seq, const void *payload, size_t len);

/* Decodes the body of an nng message (it must stay alive while m is used). */
pyc_err pyc_wire_msg_decode(nng_msg *msg, pyc_wire_msg *m);

/* ---- payload writer and reader ---- */

typedef struct pyc_wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
	pyc_err err; /* sticky: PYC_EINVAL once anything did not fit */
} pyc_wbuf;

void pyc_wbuf_init(pyc_wbuf *w, void *buf, size_t cap);
void pyc_wbuf_u8(pyc_wbuf *w, uint8_t v);
void pyc_wbuf_u16(pyc_wbuf *w, uint16_t v);
void pyc_wbuf_u32(pyc_wbuf *w, uint32_t v);
void pyc_wbuf_u64(pyc_wbuf *w, uint64_t v);
void pyc_wbuf_i32(pyc_wbuf *w, int32_t v);
void pyc_wbuf_i64(pyc_wbuf *w, int64_t v);
void pyc_wbuf_f64(pyc_wbuf *w, double v);
void pyc_wbuf_str(pyc_wbuf *w, const char *s);             /* u16 len + bytes */
void pyc_wbuf_blob(pyc_wbuf *w, const void *p, size_t n);  /* u32 len + bytes */

typedef struct pyc_rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
	pyc_err err; /* sticky: PYC_EPROTO once anything was short or bad */
} pyc_rbuf;

void pyc_rbuf_init(pyc_rbuf *r, const void *p, size_t len);
uint8_t pyc_rbuf_u8(pyc_rbuf *r);
uint16_t pyc_rbuf_u16(pyc_rbuf *r);
uint32_t pyc_rbuf_u32(pyc_rbuf *r);
uint64_t pyc_rbuf_u64(pyc_rbuf *r);
int32_t pyc_rbuf_i32(pyc_rbuf *r);
int64_t pyc_rbuf_i64(pyc_rbuf *r);
double pyc_rbuf_f64(pyc_rbuf *r);
/* Copies a string into dst (cap includes the NUL); PYC_EPROTO if it does
 * not fit or holds a NUL. */
void pyc_rbuf_str(pyc_rbuf *r, char *dst, size_t cap);
/* Points *p at a blob inside the buffer. */
void pyc_rbuf_blob(pyc_rbuf *r, const uint8_t **p, size_t *n);
/* PYC_OK if every byte was consumed and nothing failed, else PYC_EPROTO. */
pyc_err pyc_rbuf_end(pyc_rbuf *r);

/* ---- typed payloads ---- */

#define PYC_HOST_ID_MAX 63
#define PYC_FILENAME_MAX 127
#define PYC_MESSAGE_MAX 255
#define PYC_CODE_MAX 31
#define PYC_SETTINGS_MAX 511
#define PYC_READ_MAX (1024u * 1024u) /* largest byte range in one reply */

typedef struct pyc_host_hello {
	char host_id[PYC_HOST_ID_MAX + 1];
	uint32_t max_workers; /* sessions this host can serve at most */
	uint32_t spare;       /* pre-started spare workers it keeps */
	uint32_t idle;        /* idle workers now */
	uint32_t busy;        /* workers serving a session now */
} pyc_host_hello;

typedef struct pyc_worker_hello {
	char host_id[PYC_HOST_ID_MAX + 1];
	uint32_t pid;
} pyc_worker_hello;

typedef struct pyc_record_cmd {
	uint8_t start; /* 1 start, 0 stop */
} pyc_record_cmd;

typedef struct pyc_rec_start {
	uint32_t sample_rate;
	uint32_t channels;
	char settings_json[PYC_SETTINGS_MAX + 1]; /* gain, filter, cutoff, integration */
} pyc_rec_start;

/* Result of REC_START / REC_STOP, and the body of REC_ERROR. */
typedef struct pyc_rec_result {
	int32_t status;                 /* pyc_err */
	char code[PYC_CODE_MAX + 1];    /* public error word, "" on success */
	char message[PYC_MESSAGE_MAX + 1];
	int64_t id;                     /* recording id, 0 if none */
	char filename[PYC_FILENAME_MAX + 1];
	uint64_t frames;
	double duration_s;
	uint64_t size_bytes;
} pyc_rec_result;

typedef struct pyc_rec_list_req {
	uint32_t skip;
	uint32_t limit;
} pyc_rec_list_req;

typedef struct pyc_rec_name_req {
	char filename[PYC_FILENAME_MAX + 1];
} pyc_rec_name_req;

typedef struct pyc_rec_read_req {
	char filename[PYC_FILENAME_MAX + 1];
	uint64_t offset;
	uint32_t length; /* <= PYC_READ_MAX */
} pyc_rec_read_req;

typedef struct pyc_rec_read_rep {
	int32_t status;
	uint64_t total_size;
	uint64_t offset;
	const uint8_t *data; /* points into the message */
	size_t data_len;
} pyc_rec_read_rep;

typedef struct pyc_status_rep {
	int32_t status;
	char message[PYC_MESSAGE_MAX + 1];
	uint64_t value;
	const char *json; /* points into the message, not NUL-terminated */
	size_t json_len;
} pyc_status_rep;

/* Each _put appends the payload to w; each _get decodes a whole payload
 * (trailing bytes are an error) and checks ranges where the type has them. */
void pyc_host_hello_put(pyc_wbuf *w, const pyc_host_hello *v);
pyc_err pyc_host_hello_get(const void *p, size_t n, pyc_host_hello *v);
void pyc_worker_hello_put(pyc_wbuf *w, const pyc_worker_hello *v);
pyc_err pyc_worker_hello_get(const void *p, size_t n, pyc_worker_hello *v);
void pyc_params_put(pyc_wbuf *w, const pyc_params *v);
pyc_err pyc_params_get(const void *p, size_t n, pyc_params *v); /* also pyc_params_check */
void pyc_record_cmd_put(pyc_wbuf *w, const pyc_record_cmd *v);
pyc_err pyc_record_cmd_get(const void *p, size_t n, pyc_record_cmd *v);
void pyc_rec_start_put(pyc_wbuf *w, const pyc_rec_start *v);
pyc_err pyc_rec_start_get(const void *p, size_t n, pyc_rec_start *v);
void pyc_rec_result_put(pyc_wbuf *w, const pyc_rec_result *v);
pyc_err pyc_rec_result_get(const void *p, size_t n, pyc_rec_result *v);
void pyc_rec_list_req_put(pyc_wbuf *w, const pyc_rec_list_req *v);
pyc_err pyc_rec_list_req_get(const void *p, size_t n, pyc_rec_list_req *v);
void pyc_rec_name_req_put(pyc_wbuf *w, const pyc_rec_name_req *v);
pyc_err pyc_rec_name_req_get(const void *p, size_t n, pyc_rec_name_req *v);
void pyc_rec_read_req_put(pyc_wbuf *w, const pyc_rec_read_req *v);
pyc_err pyc_rec_read_req_get(const void *p, size_t n, pyc_rec_read_req *v);
void pyc_rec_read_rep_put(pyc_wbuf *w, const pyc_rec_read_rep *v);
pyc_err pyc_rec_read_rep_get(const void *p, size_t n, pyc_rec_read_rep *v);
void pyc_status_rep_put(pyc_wbuf *w, const pyc_status_rep *v);
pyc_err pyc_status_rep_get(const void *p, size_t n, pyc_status_rep *v);

/* Builds an nng message of type/flags/sid/seq whose payload is w's bytes.
 * PYC_EINVAL if w overflowed. Ownership as pyc_wire_msg_new. */
pyc_err pyc_wire_msg_from_wbuf(nng_msg **out, unsigned type, unsigned flags,
    const char *sid, uint64_t seq, const pyc_wbuf *w);

/* ---- batches (PYC_MSG_BATCH) ---- */

#define PYC_BATCH_MAX_ITEMS 64
#define PYC_BATCH_ITEM_HDR 13 /* type u8, seq u64, len u32 */

/* One item of a batch; payload points into the batch's buffer. */
typedef struct pyc_batch_item {
	uint8_t type;
	uint64_t seq;
	const uint8_t *payload;
	size_t len;
} pyc_batch_item;

/* True if a message of type t may travel inside a batch. */
bool pyc_batch_type_ok(unsigned t);

/* Bytes one item of a payload of len bytes takes in a batch. */
size_t pyc_batch_item_size(size_t len);

/* Appends one item to w (a batch payload being built); w's sticky error
 * becomes PYC_EINVAL if type may not be batched or it does not fit. The
 * caller keeps to PYC_BATCH_MAX_ITEMS. */
void pyc_batch_put(pyc_wbuf *w, unsigned type, uint64_t seq, const void *p, size_t n);

/* Reads the next item of a batch payload from r (pyc_rbuf_init over the
 * payload). PYC_OK with *it filled, PYC_ECLOSED when every byte was
 * consumed, PYC_EPROTO if the item is short, its length runs past the
 * buffer or its type may not be batched (r's error is then sticky). */
pyc_err pyc_batch_next(pyc_rbuf *r, pyc_batch_item *it);

/* Checks a whole batch payload: exactly count (the envelope's seq, 1 to
 * PYC_BATCH_MAX_ITEMS) well-formed items and nothing after them, so a
 * batch cut at an item boundary is rejected too. PYC_EPROTO otherwise. */
pyc_err pyc_batch_check(const void *p, size_t n, uint64_t count);

/* Replies to m: a message of m's type with PYC_WIRE_F_REPLY, m's sid and seq. */
pyc_err pyc_wire_reply_new(nng_msg **out, const pyc_wire_msg *m, const pyc_wbuf *w);

#endif /* PYC_WIRE_H */
