/* it_recorder_bad.c - every bad input to the real recorder gets an error, nothing crashes.
 *
 * NOTES: the recorder's peers are untrusted processes (a worker may be
 * buggy or compromised), so each kind of bad message is sent on both
 * sockets: garbage, another protocol version, unknown types, types that
 * belong on the other socket, truncated payloads, appends without a
 * recording, and file names that try to leave the recordings folder (/,
 * .., NUL, absolute paths, symlinks, FIFOs planted in the folder). After
 * all of it the recorder must still be healthy and record normally.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it_recorder_util.h"

#define WV PYC_WIRE_VERSION /* the envelope version the services speak */

static rf_recorder R;

static void setup(void)
{
	rf_init(&R, NULL);
	ck_assert_msg(rf_start(&R), "recorder did not start");
}

static void teardown(void)
{
	ck_assert_msg(pyc_proc_alive(&R.proc), "the recorder died");
	rf_fini(&R);
}

static int send_raw(nng_socket s, const void *b, size_t n)
{
	nng_msg *m;
	ck_assert_int_eq(nng_msg_alloc(&m, n), 0);
	memcpy(nng_msg_body(m), b, n);
	ck_assert_int_eq(nng_sendmsg(s, m, 0), 0);
	return 0;
}

/* Sends raw bytes on the control socket; returns the reply's type and
 * (for rec_error) its status in *status. */
static int ctl_raw(nng_socket g, const void *b, size_t n, int *status)
{
	pyc_wire_msg w;
	pyc_rec_result res;
	pyc_status_rep rep;
	nng_msg *m;
	int type;

	send_raw(g, b, n);
	ck_assert_int_eq(nng_recvmsg(g, &m, 0), 0);
	ck_assert_int_eq(pyc_wire_msg_decode(m, &w), PYC_OK);
	ck_assert(w.flags & PYC_WIRE_F_REPLY);
	type = w.type;
	if (type == PYC_MSG_REC_ERROR) {
		ck_assert_int_eq(pyc_rec_result_get(w.payload, w.payload_len, &res), PYC_OK);
		*status = res.status;
		ck_assert_str_eq(res.code, "bad_message");
	} else if (type == PYC_MSG_REC_READ) {
		pyc_rec_read_rep rr;
		ck_assert_int_eq(pyc_rec_read_rep_get(w.payload, w.payload_len, &rr), PYC_OK);
		*status = rr.status;
	} else {
		ck_assert_int_eq(pyc_status_rep_get(w.payload, w.payload_len, &rep), PYC_OK);
		*status = rep.status;
	}
	nng_msg_free(m);
	return type;
}

static size_t envelope(uint8_t *b, unsigned version, unsigned type, unsigned flags,
    const char *sid, const void *payload, size_t plen)
{
	size_t sl = strlen(sid);
	b[0] = (uint8_t) version;
	b[1] = (uint8_t) type;
	b[2] = (uint8_t) flags;
	b[3] = (uint8_t) sl;
	for (int i = 0; i < 4; i++)
		b[4 + i] = (uint8_t) (plen >> (8 * i));
	memset(b + 8, 0, 8);
	memcpy(b + 16, sid, sl);
	if (plen > 0)
		memcpy(b + 16 + sl, payload, plen);
	return 16 + sl + plen;
}

/* Sends an envelope on a worker socket; the recorder answers with a
 * message of type reply carrying status want. */
static void stream_expect(nng_socket w, unsigned version, unsigned type, unsigned flags,
    const char *sid, const void *payload, size_t plen, unsigned reply, int want)
{
	uint8_t b[256];
	pyc_rec_result res;
	send_raw(w, b, envelope(b, version, type, flags, sid, payload, plen));
	int got = rf_wait_result(w, reply, 3000, &res);
	ck_assert_msg(got == want, "v%u type %u: status %d, not %d", version, type, got, want);
}

/* Sends an envelope on the control socket; the reply is of type reply
 * with status want. */
static void ctl_expect(nng_socket g, unsigned version, unsigned type, const char *sid,
    const void *payload, size_t plen, int reply, int want)
{
	uint8_t b[512];
	int status = -1;
	int got = ctl_raw(g, b, envelope(b, version, type, 0, sid, payload, plen), &status);
	ck_assert_msg(got == reply && status == want, "v%u type %u: reply %d status %d, not %d %d",
	    version, type, got, status, reply, want);
}

START_TEST(test_rec_it_bad_stream_messages)
{
	nng_socket w = rf_worker(&R), w2 = rf_worker(&R);
	pyc_rec_result res;
	uint8_t b[256], p[64];
	size_t n;
	int16_t pcm[3] = {1, 2, 3};

	/* Garbage, another version, unknown type, a type of the other socket. */
	send_raw(w, "xyz", 3);
	ck_assert_int_eq(rf_wait_result(w, PYC_MSG_REC_ERROR, 3000, &res), PYC_EPROTO);
	ck_assert_str_eq(res.code, "bad_message");
	stream_expect(w, WV + 1, PYC_MSG_REC_STOP, 0, "s1", NULL, 0, PYC_MSG_REC_ERROR,
	    PYC_EVERSION);
	stream_expect(w, WV, 99, 0, "s1", NULL, 0, PYC_MSG_REC_ERROR, PYC_EPROTO);
	stream_expect(w, WV, PYC_MSG_REC_LIST, 0, "s1", "\0\0\0\0\0\0\0\0", 8, PYC_MSG_REC_ERROR,
	    PYC_EPROTO);
	stream_expect(w, WV, PYC_MSG_REC_STOP, PYC_WIRE_F_REPLY, "s1", NULL, 0, PYC_MSG_REC_ERROR,
	    PYC_EPROTO);
	/* A length that does not match. */
	n = envelope(b, WV, PYC_MSG_REC_STOP, 0, "s1", NULL, 0);
	b[4] = 10;
	send_raw(w, b, n);
	ck_assert_int_eq(rf_wait_result(w, PYC_MSG_REC_ERROR, 3000, &res), PYC_EPROTO);

	/* Truncated and out-of-range rec_start payloads. */
	ck_assert_int_eq(rf_send(w, PYC_MSG_REC_START, "s1", 1, "\x80\xbb\0", 3), 0);
	ck_assert_int_eq(rf_wait_result(w, PYC_MSG_REC_START, 3000, &res), PYC_EPROTO);
	memset(p, 0, sizeof(p));
	p[0] = 5; /* 5 Hz */
	p[4] = 2;
	ck_assert_int_eq(rf_send(w, PYC_MSG_REC_START, "s1", 1, p, 10), 0);
	ck_assert_int_eq(rf_wait_result(w, PYC_MSG_REC_START, 3000, &res), PYC_EPROTO);
	ck_assert_int_eq(rf_rec_start(w, "s1", 48000, 3, "{}", &res), PYC_EPROTO);
	ck_assert_int_eq(rf_rec_start(w, "s1", 48000, 2, "not json", &res), PYC_EINVAL);
	ck_assert_int_eq(rf_rec_start(w, "s1", 48000, 2, "[1,2]", &res), PYC_EINVAL);
	ck_assert_int_eq(rf_rec_start(w, "s1", 48000, 2, "", &res), PYC_EINVAL);
	ck_assert_int_eq(rf_rec_start(w, "", 48000, 2, "{}", &res), PYC_EINVAL);

	/* Appends and stops without a recording. */
	ck_assert_int_eq(rf_append(w, "s1", pcm, 2), 0);
	ck_assert_int_eq(rf_wait_result(w, PYC_MSG_REC_ERROR, 3000, &res), PYC_ENOENT);
	ck_assert_str_eq(res.code, "not_recording");
	ck_assert_int_eq(rf_rec_stop(w, "s1", &res), PYC_ENOENT);

	/* A real recording: a second start is refused, another pipe cannot
	 * append to it or stop it, a stop with a payload is refused, a trailing
	 * partial frame is dropped. */
	ck_assert_int_eq(rf_rec_start(w, "s1", 48000, 2, "{}", &res), 0);
	ck_assert_int_eq(rf_rec_start(w, "s1", 48000, 2, "{}", &res), PYC_EBUSY);
	ck_assert_int_eq(rf_append(w2, "s1", pcm, 2), 0);
	ck_assert_int_eq(rf_wait_result(w2, PYC_MSG_REC_ERROR, 3000, &res), PYC_ENOENT);
	ck_assert_int_eq(rf_rec_stop(w2, "s1", &res), PYC_ENOENT);
	ck_assert_int_eq(rf_send(w, PYC_MSG_REC_STOP, "s1", 2, "x", 1), 0);
	ck_assert_int_eq(rf_wait_result(w, PYC_MSG_REC_STOP, 3000, &res), PYC_EPROTO);
	ck_assert_int_eq(rf_append(w, "s1", pcm, 3), 0); /* 1.5 frames */
	ck_assert_int_eq(rf_rec_stop(w, "s1", &res), 0);
	ck_assert_uint_eq(res.frames, 1);
	nng_close(w);
	nng_close(w2);
}
END_TEST

START_TEST(test_rec_it_bad_control_messages)
{
	nng_socket g = rf_gateway(&R);
	int status;

	ck_assert_int_eq(ctl_raw(g, "xyz", 3, &status), PYC_MSG_REC_ERROR);
	ck_assert_int_eq(status, PYC_EPROTO);
	ctl_expect(g, WV, 99, "", NULL, 0, PYC_MSG_REC_ERROR, PYC_EPROTO);
	ctl_expect(g, 7, PYC_MSG_HEALTH, "", NULL, 0, PYC_MSG_REC_ERROR, PYC_EVERSION);
	/* Stream types on the control socket. */
	ctl_expect(g, WV, PYC_MSG_REC_START, "s", "\0\0\0\0", 4, PYC_MSG_REC_START, PYC_EPROTO);
	/* Truncated payloads. */
	ctl_expect(g, WV, PYC_MSG_REC_LIST, "s", "\0\0\0", 3, PYC_MSG_REC_LIST, PYC_EPROTO);
	ctl_expect(g, WV, PYC_MSG_REC_META, "", "\x05\0ab", 4, PYC_MSG_REC_META, PYC_EPROTO);
	ctl_expect(g, WV, PYC_MSG_REC_READ, "", "\x01\0a", 3, PYC_MSG_REC_READ, PYC_EPROTO);
	ctl_expect(g, WV, PYC_MSG_SESSION_ENDED, "s", "x", 1, PYC_MSG_SESSION_ENDED, PYC_EPROTO);
	ctl_expect(g, WV, PYC_MSG_SESSION_ENDED, "", NULL, 0, PYC_MSG_SESSION_ENDED, PYC_EINVAL);
	/* A name with a NUL inside fails to decode. */
	ctl_expect(g, WV, PYC_MSG_REC_DELETE, "", "\x03\0a\0b", 5, PYC_MSG_REC_DELETE, PYC_EPROTO);
	/* A read longer than the 1 MiB limit. */
	{
		pyc_rec_read_req q;
		pyc_wbuf w;
		uint8_t pb[256];
		memset(&q, 0, sizeof(q));
		snprintf(q.filename, sizeof(q.filename), "rec_20260101T000000Z_AAAAAAAAAAAAAAAAAAAAAA.wav");
		q.length = PYC_READ_MAX + 1;
		pyc_wbuf_init(&w, pb, sizeof(pb));
		pyc_rec_read_req_put(&w, &q);
		ctl_expect(g, WV, PYC_MSG_REC_READ, "", pb, w.len, PYC_MSG_REC_READ, PYC_EPROTO);
	}
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_bad_names)
{
	static const char *const names[] = {
		"../etc/passwd", "/etc/passwd", "..", ".", "", "recordings",
		"rec_20261123T201500Z_AAAAAAAAAAAAAAAAAAAAAA.wav/../../../etc/passwd",
		"rec_20261123T201500Z_AAAAAAAAAAAAAAAAAAAAA/.wav",
		"rec_20261123T201500Z_AAAAAAAAAAAAAAAAAAAAAA.wav.part",
		"rec_20261123T201500Z_AAAAAAAAAAAAAAAAAAAAAA.WAV",
		"rec_2026112XT201500Z_AAAAAAAAAAAAAAAAAAAAAA.wav",
		"rec_20261123T201500Z_AAAAAAAAAAAAAAAAAAAAAA.wav", /* valid, absent */
		"../../../../../../../../../../proc/self/environ",
	};
	nng_socket g = rf_gateway(&R);
	uint8_t buf[64];
	uint64_t total, size;
	size_t got;
	char *json;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(rf_meta(g, names[i], &size, &json), PYC_ENOENT);
		free(json);
		ck_assert_int_eq(rf_delete(g, names[i]), PYC_ENOENT);
		ck_assert_int_eq(rf_read(g, names[i], 0, 64, &total, buf, sizeof(buf), &got),
		    PYC_ENOENT);
		ck_assert_uint_eq(got, 0);
	}
	/* A 200-character name does not even decode (the field holds 127). */
	{
		char longname[201];
		memset(longname, 'a', 200);
		longname[200] = '\0';
		ck_assert_int_eq(rf_meta(g, longname, &size, &json), PYC_EPROTO);
		free(json);
	}
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_symlink_and_fifo_refused)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result r1, r2;
	char path[1024], outside[1024];
	uint8_t buf[256];
	uint64_t total;
	size_t got;
	struct stat sb;
	FILE *f;
	int16_t pcm[4] = {0};

	snprintf(outside, sizeof(outside), "%s/secret.txt", R.dir);
	ck_assert((f = fopen(outside, "w")) != NULL);
	fputs("RIFF secret outside the recordings folder", f);
	fclose(f);

	ck_assert_int_eq(rf_rec_start(w, "sym", 48000, 2, "{}", &r1), 0);
	rf_append(w, "sym", pcm, 4);
	ck_assert_int_eq(rf_rec_stop(w, "sym", &r1), 0);
	ck_assert_int_eq(rf_rec_start(w, "sym", 48000, 2, "{}", &r2), 0);
	ck_assert_int_eq(rf_rec_stop(w, "sym", &r2), 0);

	/* Replace the first file with a symlink out of the folder. */
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, r1.filename);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(outside, path), 0);
	ck_assert_int_ne(rf_read(g, r1.filename, 0, 64, &total, buf, sizeof(buf), &got), 0);
	ck_assert_uint_eq(got, 0);
	/* Deleting it removes the link, never its target. */
	ck_assert_int_eq(rf_delete(g, r1.filename), 0);
	ck_assert_int_eq(lstat(path, &sb), -1);
	ck_assert_int_eq(stat(outside, &sb), 0);

	/* Replace the second with a FIFO: the read must not hang. */
	snprintf(path, sizeof(path), "%s/%s", R.rec_dir, r2.filename);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	long long t0 = pyc_now_ms();
	ck_assert_int_ne(rf_read(g, r2.filename, 0, 64, &total, buf, sizeof(buf), &got), 0);
	ck_assert(pyc_now_ms() - t0 < 2000);
	ck_assert_uint_eq(got, 0);
	nng_close(w);
	nng_close(g);
}
END_TEST

START_TEST(test_rec_it_still_healthy_after_abuse)
{
	nng_socket w = rf_worker(&R), g = rf_gateway(&R);
	pyc_rec_result res;
	uint8_t junk[300];
	char *json;
	int16_t pcm[960 * 2];

	/* Random bytes of every length on the stream socket. */
	for (int i = 0; i < 300; i++) {
		for (int k = 0; k < i; k++)
			junk[k] = (uint8_t) (rand() & 0xff);
		if (i > 1)
			junk[0] = 1;
		if (i > 2)
			junk[1] = (uint8_t) (20 + i % 4);
		nng_msg *m;
		ck_assert_int_eq(nng_msg_alloc(&m, (size_t) i), 0);
		memcpy(nng_msg_body(m), junk, (size_t) i);
		ck_assert_int_eq(nng_sendmsg(w, m, 0), 0);
	}
	ck_assert_int_eq(rf_health(g, &json), 0);
	ck_assert(strstr(json, "\"status\":\"ok\"") != NULL);
	free(json);
	/* Replies to all that junk are still queued for us; a new worker
	 * socket records normally. */
	nng_close(w);
	w = rf_worker(&R);
	ck_assert_int_eq(rf_rec_start(w, "fine", 48000, 2, "{}", &res), 0);
	rf_fill(pcm, 3, 0, 960, 2);
	ck_assert_int_eq(rf_append(w, "fine", pcm, 960 * 2), 0);
	ck_assert_int_eq(rf_rec_stop(w, "fine", &res), 0);
	ck_assert_uint_eq(res.frames, 960);
	nng_close(w);
	nng_close(g);
}
END_TEST

static Suite *bad_suite(void)
{
	Suite *s = suite_create("recorder_bad_input");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rec_it_bad_stream_messages);
	tcase_add_test(tc, test_rec_it_bad_control_messages);
	tcase_add_test(tc, test_rec_it_bad_names);
	tcase_add_test(tc, test_rec_it_symlink_and_fifo_refused);
	tcase_add_test(tc, test_rec_it_still_healthy_after_abuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pyc_check_run(bad_suite());
}
