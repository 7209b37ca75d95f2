/* rec_ctl.c - the gateway's requests: handlers and their threads.
 *
 * NOTES: a file name from a request is checked with rec_name_valid before
 * anything else; an invalid one is "not found" (PYC_ENOENT) without any
 * file system call, as is a valid one with no row. Files are opened with
 * openat(O_NOFOLLOW|O_NONBLOCK) relative to the recordings folder and must
 * be regular files, so a planted symlink or FIFO is refused, never followed
 * or waited on. A read reply is built directly in its nng message (header,
 * fields, then pread into place): a 1 MiB range is copied once. A request
 * whose envelope cannot be decoded is answered with rec_error (its type
 * may not be one we could echo); a decodable request with a bad payload
 * gets its own reply type with status PYC_EPROTO.
 */
#include "rec_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/rep.h>

#include "pyc_log.h"
#include "pyc_sock.h"
#include "pyc_wire.h"
#include "rec_cleanup.h"
#include "rec_db.h"
#include "rec_json.h"
#include "rec_name.h"

#define RECV_TIMEOUT_MS 200
#define SEND_TIMEOUT_MS 2000

typedef struct cthread {
	rec_ctl *c;
	int idx;
	pthread_t th;
	int started;
	rec_db *db;
	nng_ctx ctx;
	nng_aio *aio;
} cthread;

struct rec_ctl {
	rec_ctl_cfg cfg;
	nng_socket sock;
	int sock_open;
	atomic_int stop;
	cthread t[REC_CTL_THREADS];
	int64_t next_sweep_us;
};

/* ---- replies ---- */

static nng_msg *status_reply(const pyc_wire_msg *m, pyc_err status, const char *message,
    uint64_t value, const char *json, size_t json_len)
{
	pyc_status_rep rep;
	pyc_wbuf w;
	nng_msg *out = NULL;
	size_t cap = 512 + json_len;
	uint8_t *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	memset(&rep, 0, sizeof(rep));
	rep.status = status;
	snprintf(rep.message, sizeof(rep.message), "%s", message != NULL ? message : "");
	rep.value = value;
	rep.json = json;
	rep.json_len = json_len;
	pyc_wbuf_init(&w, buf, cap);
	pyc_status_rep_put(&w, &rep);
	if (pyc_wire_reply_new(&out, m, &w) != PYC_OK)
		out = NULL;
	free(buf);
	return out;
}

static nng_msg *error_reply(const pyc_wire_msg *m, pyc_err status, const char *message)
{
	return status_reply(m, status, message, 0, NULL, 0);
}

/* ---- helpers ---- */

/* Opens a recording's current file: the ".part" while it is written. */
static int open_rec(int dirfd, const rec_row *row, struct stat *st)
{
	char part[REC_NAME_MAX + 1];
	int fd = -1;

	if (row->state == REC_STATE_RECORDING) {
		rec_name_part(row->filename, part);
		fd = openat(dirfd, part, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0)
		fd = openat(dirfd, row->filename, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Fills in the live length of a recording being written. */
static void live_row(rec_ctl *c, rec_row *row)
{
	rec_recording *r;
	char part[REC_NAME_MAX + 1];
	struct stat st;

	if (row->state != REC_STATE_RECORDING)
		return;
	rec_table_lock(c->cfg.table);
	r = rec_table_find(c->cfg.table, row->session_id);
	if (r != NULL && strcmp(r->filename, row->filename) == 0)
		row->frames = atomic_load(&r->frames);
	rec_table_unlock(c->cfg.table);
	row->duration_s = row->sample_rate > 0 ? (double) row->frames / row->sample_rate : 0;
	rec_name_part(row->filename, part);
	if (fstatat(c->cfg.dirfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0)
		row->size_bytes = (uint64_t) st.st_size;
}

/* Looks a name up: PYC_ENOENT for a bad name (no file system call) or no row. */
static pyc_err find_row(cthread *t, const char *name, rec_row *row)
{
	if (!rec_name_valid(name))
		return PYC_ENOENT;
	return rec_db_get(t->db, name, row);
}

/* ---- handlers ---- */

static nng_msg *on_list(cthread *t, const pyc_wire_msg *m)
{
	pyc_rec_list_req req;
	rec_row *rows = NULL;
	size_t n = 0, len = 0;
	char *json = NULL;
	nng_msg *out;
	pyc_err rv;

	if (pyc_rec_list_req_get(m->payload, m->payload_len, &req) != PYC_OK)
		return error_reply(m, PYC_EPROTO, "malformed rec_list payload");
	if (m->sid[0] == '\0')
		return error_reply(m, PYC_EINVAL, "rec_list needs a session id");
	if ((rv = rec_db_list(t->db, m->sid, req.skip, req.limit, &rows, &n)) != PYC_OK)
		return error_reply(m, rv, "database error");
	for (size_t i = 0; i < n; i++)
		live_row(t->c, &rows[i]);
	rv = rec_json_list(rows, n, &json, &len);
	free(rows);
	if (rv != PYC_OK)
		return error_reply(m, rv, "out of memory");
	out = status_reply(m, PYC_OK, "", n, json, len);
	free(json);
	return out;
}

static nng_msg *on_meta(cthread *t, const pyc_wire_msg *m)
{
	pyc_rec_name_req req;
	rec_row row;
	struct stat st;
	int fd;
	size_t len = 0;
	char *json = NULL;
	nng_msg *out;
	pyc_err rv;

	if (pyc_rec_name_req_get(m->payload, m->payload_len, &req) != PYC_OK)
		return error_reply(m, PYC_EPROTO, "malformed rec_meta payload");
	if ((rv = find_row(t, req.filename, &row)) != PYC_OK)
		return error_reply(m, rv, rv == PYC_ENOENT ? "Recording not found" : "database error");
	/* the file must be there and regular, or a download would get headers
	 * and then no data (a planted symlink, a FIFO) */
	if ((fd = open_rec(t->c->cfg.dirfd, &row, &st)) < 0) {
		int e = errno;
		pyc_log(PYC_LOG_WARN, "meta %s: %s", req.filename, strerror(e));
		rv = e == ENOENT || e == ELOOP || e == EINVAL ? PYC_ENOENT : PYC_EIO;
		return error_reply(m, rv, rv == PYC_ENOENT ? "Recording not found" : "open failed");
	}
	close(fd);
	live_row(t->c, &row);
	if ((rv = rec_json_row(&row, &json, &len)) != PYC_OK)
		return error_reply(m, rv, "out of memory");
	out = status_reply(m, PYC_OK, "", row.size_bytes, json, len);
	free(json);
	return out;
}

static nng_msg *read_reply(const pyc_wire_msg *m, pyc_err status, uint64_t total,
    uint64_t offset, int fd, size_t len)
{
	uint8_t hdr[PYC_WIRE_HDR_SIZE + PYC_SESSION_ID_MAX];
	size_t hlen, fixed = 4 + 8 + 8 + 4;
	nng_msg *out;
	uint8_t *body;
	pyc_wbuf w;
	ssize_t got = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (pyc_wire_encode_hdr(hdr, sizeof(hdr), m->type, PYC_WIRE_F_REPLY, m->sid,
		    m->seq, fixed + len, &hlen) != PYC_OK)
			return NULL;
		if (nng_msg_alloc(&out, hlen + fixed + len) != 0)
			return NULL;
		body = nng_msg_body(out);
		memcpy(body, hdr, hlen);
		if (len > 0) {
			got = pread(fd, body + hlen + fixed, len, (off_t) offset);
			if (got < 0) {
				nng_msg_free(out);
				return NULL;
			}
			if ((size_t) got != len) {
				/* The file shrank under us: size the reply to what was read. */
				nng_msg_free(out);
				len = (size_t) got;
				continue;
			}
		}
		pyc_wbuf_init(&w, body + hlen, fixed);
		pyc_wbuf_i32(&w, status);
		pyc_wbuf_u64(&w, total);
		pyc_wbuf_u64(&w, offset);
		pyc_wbuf_u32(&w, (uint32_t) len);
		return out;
	}
	return NULL;
}

static nng_msg *on_read(cthread *t, const pyc_wire_msg *m)
{
	pyc_rec_read_req req;
	rec_row row;
	struct stat st;
	uint64_t total;
	size_t len;
	nng_msg *out;
	pyc_err rv;
	int fd;

	if (pyc_rec_read_req_get(m->payload, m->payload_len, &req) != PYC_OK)
		return read_reply(m, PYC_EPROTO, 0, 0, -1, 0);
	if ((rv = find_row(t, req.filename, &row)) != PYC_OK)
		return read_reply(m, rv, 0, 0, -1, 0);
	if ((fd = open_rec(t->c->cfg.dirfd, &row, &st)) < 0) {
		int e = errno;
		pyc_log(PYC_LOG_WARN, "read %s: %s", req.filename, strerror(e));
		return read_reply(m, e == ENOENT ? PYC_ENOENT : PYC_EIO, 0, 0, -1, 0);
	}
	total = (uint64_t) st.st_size;
	if (req.offset > total) {
		close(fd);
		return read_reply(m, PYC_EINVAL, total, 0, -1, 0);
	}
	len = req.length;
	if (len > total - req.offset)
		len = (size_t) (total - req.offset);
	out = read_reply(m, PYC_OK, total, req.offset, fd, len);
	close(fd);
	if (out == NULL)
		return read_reply(m, PYC_EIO, total, 0, -1, 0);
	return out;
}

static nng_msg *on_delete(cthread *t, const pyc_wire_msg *m)
{
	pyc_rec_name_req req;
	rec_row row;
	pyc_err rv;

	if (pyc_rec_name_req_get(m->payload, m->payload_len, &req) != PYC_OK)
		return error_reply(m, PYC_EPROTO, "malformed rec_delete payload");
	if ((rv = find_row(t, req.filename, &row)) != PYC_OK)
		return error_reply(m, rv, rv == PYC_ENOENT ? "Recording not found" : "database error");
	if (row.state == REC_STATE_RECORDING)
		return error_reply(m, PYC_EBUSY, "recording in progress");
	if ((rv = rec_cleanup_delete(t->db, t->c->cfg.dirfd, req.filename)) != PYC_OK)
		return error_reply(m, rv, rv == PYC_ENOENT ? "Recording not found" : "delete failed");
	pyc_log(PYC_LOG_INFO, "recording %s deleted", req.filename);
	return status_reply(m, PYC_OK, "deleted", 1, NULL, 0);
}

static nng_msg *on_session_ended(cthread *t, const pyc_wire_msg *m)
{
	rec_ctl *c = t->c;
	rec_recording *r;
	rec_waiter *w = NULL;
	char pending[REC_NAME_MAX + 1] = "";
	size_t deleted = 0;
	pyc_err rv;

	if (m->payload_len != 0)
		return error_reply(m, PYC_EPROTO, "session_ended carries no payload");
	if (m->sid[0] == '\0')
		return error_reply(m, PYC_EINVAL, "session_ended needs a session id");
	rec_table_lock(c->cfg.table);
	r = rec_table_find(c->cfg.table, m->sid);
	if (r != NULL) {
		rec_table_remove(c->cfg.table, r);
		snprintf(pending, sizeof(pending), "%s", r->filename);
		w = rec_waiter_new();
		rec_writer_stop(c->cfg.writer, r, REC_STATE_COMPLETE, 0, 0, w);
	}
	rec_table_unlock(c->cfg.table);
	if (pending[0] != '\0') {
		pyc_log(PYC_LOG_INFO, "session %s ended while recording: finalising %s", m->sid,
		    pending);
		if (w == NULL || !rec_waiter_wait(w, REC_STOP_WAIT_MS)) {
			/* Still being finalised: the sweep takes it later. */
			pyc_log(PYC_LOG_WARN, "session %s: %s not finalised in time", m->sid, pending);
			rec_db_expire_file(t->db, pending, rec_now_us() / 1000000 + c->cfg.retention_s);
		}
		rec_waiter_release(w);
	}
	rv = rec_cleanup_session(t->db, c->cfg.dirfd, m->sid, c->cfg.retention_s, &deleted);
	if (rv != PYC_OK)
		return error_reply(m, rv, "clean-up failed");
	return status_reply(m, PYC_OK, c->cfg.retention_s > 0 ? "kept for retention" : "deleted",
	    deleted, NULL, 0);
}

static nng_msg *on_health(cthread *t, const pyc_wire_msg *m)
{
	rec_ctl *c = t->c;
	rec_health h;
	rec_stream_stats ss;
	struct statvfs sv;
	char *json = NULL;
	size_t len = 0;
	nng_msg *out;

	memset(&h, 0, sizeof(h));
	h.db_ok = rec_db_ping(t->db) == PYC_OK;
	rec_table_lock(c->cfg.table);
	h.recordings_open = rec_table_count(c->cfg.table);
	rec_table_unlock(c->cfg.table);
	if (fstatvfs(c->cfg.dirfd, &sv) == 0)
		h.disk_free_bytes = (uint64_t) sv.f_bavail * sv.f_frsize;
	rec_writer_counters(c->cfg.writer, &h.bytes_written, &h.queued_blocks, &h.failed);
	rec_stream_stats_get(c->cfg.stream, &ss);
	h.appends = ss.appends;
	h.lat_p50_us = ss.lat_p50_us;
	h.lat_p99_us = ss.lat_p99_us;
	h.lat_max_us = ss.lat_max_us;
	if (rec_json_health(&h, &json, &len) != PYC_OK)
		return error_reply(m, PYC_ENOMEM, "out of memory");
	out = status_reply(m, PYC_OK, "", h.recordings_open, json, len);
	free(json);
	return out;
}

static nng_msg *undecodable(nng_msg *msg, pyc_err rv)
{
	pyc_rec_result res;
	uint8_t buf[512];
	pyc_wbuf w;
	nng_msg *out = NULL;
	uint64_t seq = 0;
	const uint8_t *b = nng_msg_body(msg);

	if (nng_msg_len(msg) >= PYC_WIRE_HDR_SIZE)
		for (int i = 0; i < 8; i++)
			seq |= (uint64_t) b[8 + i] << (8 * i);
	memset(&res, 0, sizeof(res));
	res.status = rv;
	snprintf(res.code, sizeof(res.code), "bad_message");
	snprintf(res.message, sizeof(res.message), "%s",
	    rv == PYC_EVERSION ? "unsupported message version" : "malformed message");
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_result_put(&w, &res);
	if (pyc_wire_msg_from_wbuf(&out, PYC_MSG_REC_ERROR, PYC_WIRE_F_REPLY, "", seq, &w) != PYC_OK)
		return NULL;
	return out;
}

static nng_msg *handle(cthread *t, nng_msg *msg)
{
	pyc_wire_msg m;
	pyc_err rv;

	if ((rv = pyc_wire_msg_decode(msg, &m)) != PYC_OK) {
		pyc_log(PYC_LOG_WARN, "control: undecodable request (%zu bytes): %s",
		    nng_msg_len(msg), pyc_strerror(rv));
		return undecodable(msg, rv);
	}
	if (m.flags & PYC_WIRE_F_REPLY) {
		pyc_log(PYC_LOG_WARN, "control: unexpected reply flag on %s",
		    pyc_msg_type_name(m.type));
		return error_reply(&m, PYC_EPROTO, "unexpected reply");
	}
	switch (m.type) {
	case PYC_MSG_REC_LIST:
		return on_list(t, &m);
	case PYC_MSG_REC_META:
		return on_meta(t, &m);
	case PYC_MSG_REC_READ:
		return on_read(t, &m);
	case PYC_MSG_REC_DELETE:
		return on_delete(t, &m);
	case PYC_MSG_SESSION_ENDED:
		return on_session_ended(t, &m);
	case PYC_MSG_HEALTH:
		return on_health(t, &m);
	default:
		pyc_log(PYC_LOG_WARN, "control: %s not accepted on the control socket",
		    pyc_msg_type_name(m.type));
		return error_reply(&m, PYC_EPROTO,
		    "message type not accepted on the recorder's control socket");
	}
}

/* ---- threads ---- */

static void maybe_sweep(cthread *t)
{
	rec_ctl *c = t->c;
	int64_t now = rec_mono_us();

	if (t->idx != 0 || now < c->next_sweep_us)
		return;
	c->next_sweep_us = now + (int64_t) c->cfg.sweep_s * 1000000;
	rec_cleanup_sweep(t->db, c->cfg.dirfd, NULL);
}

static void *ctl_main(void *arg)
{
	cthread *t = arg;
	rec_ctl *c = t->c;
	nng_msg *msg, *reply;
	int rv;

	while (!atomic_load(&c->stop)) {
		nng_aio_set_timeout(t->aio, RECV_TIMEOUT_MS);
		nng_ctx_recv(t->ctx, t->aio);
		nng_aio_wait(t->aio);
		rv = nng_aio_result(t->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0) {
			maybe_sweep(t);
			continue;
		}
		msg = nng_aio_get_msg(t->aio);
		reply = handle(t, msg);
		nng_msg_free(msg);
		if (reply != NULL) {
			nng_aio_set_msg(t->aio, reply);
			nng_aio_set_timeout(t->aio, SEND_TIMEOUT_MS);
			nng_ctx_send(t->ctx, t->aio);
			nng_aio_wait(t->aio);
			if (nng_aio_result(t->aio) != 0)
				nng_msg_free(reply);
		}
		maybe_sweep(t);
	}
	return NULL;
}

pyc_err rec_ctl_create(const rec_ctl_cfg *cfg, rec_ctl **out)
{
	rec_ctl *c = calloc(1, sizeof(*c));
	pyc_err rv;
	int nrv;

	if (c == NULL)
		return PYC_ENOMEM;
	c->cfg = *cfg;
	c->next_sweep_us = rec_mono_us();
	if ((nrv = nng_rep0_open(&c->sock)) != 0) {
		rv = pyc_err_from_nng(nrv);
		goto fail;
	}
	c->sock_open = 1;
	for (int i = 0; i < REC_CTL_THREADS; i++) {
		cthread *t = &c->t[i];
		t->c = c;
		t->idx = i;
		if ((rv = rec_db_open(cfg->db_path, &t->db)) != PYC_OK)
			goto fail;
		if ((nrv = nng_ctx_open(&t->ctx, c->sock)) != 0 ||
		    (nrv = nng_aio_alloc(&t->aio, NULL, NULL)) != 0) {
			rv = pyc_err_from_nng(nrv);
			goto fail;
		}
	}
	if ((nrv = nng_listen(c->sock, cfg->url, NULL, 0)) != 0) {
		pyc_log(PYC_LOG_ERROR, "control socket: listen %s: %s", cfg->url, nng_strerror(nrv));
		rv = pyc_err_from_nng(nrv);
		goto fail;
	}
	for (int i = 0; i < REC_CTL_THREADS; i++) {
		if (pthread_create(&c->t[i].th, NULL, ctl_main, &c->t[i]) != 0) {
			rv = PYC_ENOMEM;
			goto fail;
		}
		c->t[i].started = 1;
	}
	pyc_log(PYC_LOG_INFO, "control socket listening on %s", cfg->url);
	*out = c;
	return PYC_OK;
fail:
	rec_ctl_destroy(c);
	return rv;
}

void rec_ctl_destroy(rec_ctl *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->stop, 1);
	for (int i = 0; i < REC_CTL_THREADS; i++)
		if (c->t[i].started)
			pthread_join(c->t[i].th, NULL);
	for (int i = 0; i < REC_CTL_THREADS; i++) {
		if (c->t[i].aio != NULL)
			nng_aio_free(c->t[i].aio);
		rec_db_close(c->t[i].db);
	}
	/* a close that hangs (pyc_sock.h) leaves c to nng's threads */
	if (c->sock_open && !pyc_sock_close_bounded(c->sock, 2000)) {
		pyc_sock_abandon(c);
		return;
	}
	free(c);
}
