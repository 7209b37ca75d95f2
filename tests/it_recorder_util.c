/* it_recorder_util.c - helpers of it_recorder_util.h.
 *
 * NOTES: the signal of session id is a mix of a per-session offset and a
 * per-channel pattern, so two sessions' samples can never be mistaken for
 * each other and a swapped channel or a dropped block shows at once.
 */
#include "it_recorder_util.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/reqrep0/req.h>
#include <sndfile.h>

/* Appends one "NAME=value" entry, formatted like printf. */
static void add_env(rf_recorder *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_env(rf_recorder *r, const char *fmt, ...)
{
	va_list ap;
	if (r->nenv >= 12)
		return;
	va_start(ap, fmt);
	vsnprintf(r->envbuf[r->nenv], sizeof(r->envbuf[0]), fmt, ap);
	va_end(ap);
	r->env[r->nenv] = r->envbuf[r->nenv];
	r->nenv++;
	r->env[r->nenv] = NULL;
}

void rf_init(rf_recorder *r, const char *const *extra)
{
	memset(r, 0, sizeof(*r));
	r->dir = pyc_tmpdir_new();
	snprintf(r->rec_dir, sizeof(r->rec_dir), "%s/recordings", r->dir);
	snprintf(r->db_path, sizeof(r->db_path), "%s/db/rec.db", r->dir);
	snprintf(r->url, sizeof(r->url), "ipc://%s/run/rec.ipc", r->dir);
	snprintf(r->ctl_url, sizeof(r->ctl_url), "ipc://%s/run/rec-ctl.ipc", r->dir);
	for (int i = 0; extra != NULL && extra[i] != NULL; i++)
		add_env(r, "%s", extra[i]);
	r->nextra = r->nenv;
}

static void build_env(rf_recorder *r, int base)
{
	r->nenv = base;
	add_env(r, "RECORDINGS_DIR=%s", r->rec_dir);
	add_env(r, "DB_PATH=%s", r->db_path);
	add_env(r, "RECORDER_LISTEN_URL=%s", r->url);
	add_env(r, "RECORDER_CTL_LISTEN_URL=%s", r->ctl_url);
	add_env(r, "RUN_DIR=%s/run", r->dir);
	add_env(r, "DATA_DIR=%s/data", r->dir);
}

bool rf_start(rf_recorder *r)
{
	char path[700];
	nng_socket g;
	char *json = NULL;
	long long end;

	/* The caller's extra variables come first; ours are rebuilt each start. */
	build_env(r, r->nextra);
	snprintf(path, sizeof(path), "%s", r->ctl_url + 6);
	remove(path);
	if (pyc_proc_start(&r->proc, "recorder/pyc-recorder", NULL, r->env) != 0)
		return false;
	r->running = true;
	if (!pyc_wait_for_path(path, RF_TIMEOUT_MS))
		return false;
	/* Health answers once everything is up. */
	end = pyc_now_ms() + RF_TIMEOUT_MS;
	g = rf_gateway(r);
	while (pyc_now_ms() < end) {
		if (rf_health(g, &json) == 0) {
			free(json);
			nng_close(g);
			return true;
		}
		pyc_sleep_ms(20);
	}
	nng_close(g);
	return false;
}

int rf_stop(rf_recorder *r, int sig)
{
	if (!r->running)
		return 0;
	r->running = false;
	return pyc_proc_stop(&r->proc, sig, 10000);
}

void rf_fini(rf_recorder *r)
{
	rf_stop(r, SIGTERM);
	if (r->dir != NULL) {
		pyc_tmpdir_remove(r->dir);
		free(r->dir);
		r->dir = NULL;
	}
}

static nng_socket dial(const char *url, int req)
{
	nng_socket s = NNG_SOCKET_INITIALIZER;
	long long end = pyc_now_ms() + RF_TIMEOUT_MS;
	int rv = req ? nng_req0_open(&s) : nng_pair1_open(&s);

	if (rv != 0)
		return s;
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, RF_TIMEOUT_MS);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, RF_TIMEOUT_MS);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 8u << 20);
	if (req)
		nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, 60000);
	while (nng_dial(s, url, NULL, 0) != 0 && pyc_now_ms() < end)
		pyc_sleep_ms(10);
	return s;
}

nng_socket rf_worker(const rf_recorder *r)
{
	return dial(r->url, 0);
}

nng_socket rf_gateway(const rf_recorder *r)
{
	return dial(r->ctl_url, 1);
}

int rf_send(nng_socket s, unsigned type, const char *sid, uint64_t seq,
    const void *payload, size_t len)
{
	nng_msg *m;
	if (pyc_wire_msg_new(&m, type, 0, sid, seq, payload, len) != PYC_OK)
		return -1;
	if (nng_sendmsg(s, m, 0) != 0) {
		nng_msg_free(m);
		return -1;
	}
	return 0;
}

int rf_wait_result(nng_socket s, unsigned type, int timeout_ms, pyc_rec_result *res)
{
	long long end = pyc_now_ms() + timeout_ms;
	pyc_rec_result tmp;
	pyc_wire_msg w;
	nng_msg *m;

	if (res == NULL)
		res = &tmp;
	while (pyc_now_ms() < end) {
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (nng_duration) (end - pyc_now_ms() + 1));
		if (nng_recvmsg(s, &m, 0) != 0)
			break;
		if (pyc_wire_msg_decode(m, &w) == PYC_OK && w.type == type &&
		    pyc_rec_result_get(w.payload, w.payload_len, res) == PYC_OK) {
			nng_msg_free(m);
			nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, RF_TIMEOUT_MS);
			return res->status;
		}
		nng_msg_free(m);
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, RF_TIMEOUT_MS);
	return -1;
}

int rf_rec_start(nng_socket s, const char *sid, uint32_t rate, uint32_t channels,
    const char *settings, pyc_rec_result *res)
{
	pyc_rec_start st;
	uint8_t buf[1024];
	pyc_wbuf w;

	memset(&st, 0, sizeof(st));
	st.sample_rate = rate;
	st.channels = channels;
	snprintf(st.settings_json, sizeof(st.settings_json), "%s", settings);
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_start_put(&w, &st);
	if (rf_send(s, PYC_MSG_REC_START, sid, 1, buf, w.len) != 0)
		return -1;
	return rf_wait_result(s, PYC_MSG_REC_START, RF_TIMEOUT_MS, res);
}

int rf_append(nng_socket s, const char *sid, const int16_t *pcm, size_t samples)
{
	return rf_send(s, PYC_MSG_REC_APPEND, sid, 0, pcm, samples * 2);
}

int rf_rec_stop(nng_socket s, const char *sid, pyc_rec_result *res)
{
	if (rf_send(s, PYC_MSG_REC_STOP, sid, 2, NULL, 0) != 0)
		return -1;
	return rf_wait_result(s, PYC_MSG_REC_STOP, 15000, res);
}

int rf_status_request(nng_socket s, unsigned type, const char *sid, const void *payload,
    size_t len, uint64_t *value, char **json)
{
	pyc_status_rep rep;
	pyc_wire_msg w;
	nng_msg *m;
	int status = -1;

	if (json != NULL)
		*json = NULL;
	if (rf_send(s, type, sid, 7, payload, len) != 0)
		return -1;
	if (nng_recvmsg(s, &m, 0) != 0)
		return -1;
	if (pyc_wire_msg_decode(m, &w) == PYC_OK && w.type == type &&
	    (w.flags & PYC_WIRE_F_REPLY) && w.seq == 7 &&
	    pyc_status_rep_get(w.payload, w.payload_len, &rep) == PYC_OK) {
		status = rep.status;
		if (value != NULL)
			*value = rep.value;
		if (json != NULL) {
			*json = malloc(rep.json_len + 1);
			memcpy(*json, rep.json, rep.json_len);
			(*json)[rep.json_len] = '\0';
		}
	}
	nng_msg_free(m);
	return status;
}

int rf_list(nng_socket s, const char *sid, uint32_t skip, uint32_t limit, char **json)
{
	pyc_rec_list_req q = {skip, limit};
	uint8_t buf[16];
	pyc_wbuf w;
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_rec_list_req_put(&w, &q);
	return rf_status_request(s, PYC_MSG_REC_LIST, sid, buf, w.len, NULL, json);
}

static int name_request(nng_socket s, unsigned type, const char *name, uint64_t *value,
    char **json)
{
	uint8_t buf[512];
	pyc_wbuf w;
	size_t n = strlen(name);
	pyc_wbuf_init(&w, buf, sizeof(buf));
	pyc_wbuf_u16(&w, (uint16_t) n);
	memcpy(buf + w.len, name, n);
	return rf_status_request(s, type, "", buf, w.len + n, value, json);
}

int rf_meta(nng_socket s, const char *name, uint64_t *size, char **json)
{
	return name_request(s, PYC_MSG_REC_META, name, size, json);
}

int rf_delete(nng_socket s, const char *name)
{
	return name_request(s, PYC_MSG_REC_DELETE, name, NULL, NULL);
}

int rf_session_ended(nng_socket s, const char *sid, uint64_t *deleted)
{
	return rf_status_request(s, PYC_MSG_SESSION_ENDED, sid, NULL, 0, deleted, NULL);
}

int rf_health(nng_socket s, char **json)
{
	return rf_status_request(s, PYC_MSG_HEALTH, "", NULL, 0, NULL, json);
}

int rf_read(nng_socket s, const char *name, uint64_t offset, uint32_t length,
    uint64_t *total, void *buf, size_t cap, size_t *got)
{
	pyc_rec_read_req q;
	pyc_rec_read_rep rep;
	uint8_t pb[256];
	pyc_wbuf w;
	pyc_wire_msg wm;
	nng_msg *m;
	int status = -1;

	memset(&q, 0, sizeof(q));
	snprintf(q.filename, sizeof(q.filename), "%s", name);
	q.offset = offset;
	q.length = length;
	pyc_wbuf_init(&w, pb, sizeof(pb));
	pyc_rec_read_req_put(&w, &q);
	*got = 0;
	if (rf_send(s, PYC_MSG_REC_READ, "", 9, pb, w.len) != 0 || nng_recvmsg(s, &m, 0) != 0)
		return -1;
	if (pyc_wire_msg_decode(m, &wm) == PYC_OK && wm.type == PYC_MSG_REC_READ &&
	    (wm.flags & PYC_WIRE_F_REPLY) &&
	    pyc_rec_read_rep_get(wm.payload, wm.payload_len, &rep) == PYC_OK) {
		status = rep.status;
		if (total != NULL)
			*total = rep.total_size;
		*got = rep.data_len < cap ? rep.data_len : cap;
		if (*got > 0)
			memcpy(buf, rep.data, *got);
		if (rep.data_len > cap)
			status = -2;
	}
	nng_msg_free(m);
	return status;
}

int16_t rf_sample(int id, uint64_t k, int c)
{
	/* Different per session (id), frame (k) and channel (c); never 0x8000. */
	uint32_t v = (uint32_t) (id * 7919) + (uint32_t) (k * 13u) + (uint32_t) c * 20011u;
	return (int16_t) ((v % 65535u) - 32767);
}

void rf_fill(int16_t *pcm, int id, uint64_t first, size_t frames, int channels)
{
	for (size_t i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			pcm[i * (size_t) channels + (size_t) c] = rf_sample(id, first + i, c);
}

long rf_wav_read(const char *path, int *rate, int *channels, int16_t **pcm)
{
	SF_INFO info;
	SNDFILE *sf;
	sf_count_t got;

	memset(&info, 0, sizeof(info));
	*pcm = NULL;
	if ((sf = sf_open(path, SFM_READ, &info)) == NULL)
		return -1;
	*rate = info.samplerate;
	*channels = info.channels;
	*pcm = malloc((size_t) (info.frames * info.channels + 1) * sizeof(int16_t));
	got = sf_readf_short(sf, *pcm, info.frames);
	sf_close(sf);
	if (got != info.frames || (info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_PCM_16) {
		free(*pcm);
		*pcm = NULL;
		return -1;
	}
	return (long) info.frames;
}
