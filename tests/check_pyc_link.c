/* check_pyc_link.c - pyc_link: ordered whole messages over nng streams,
 * the length check, the bounded send queue, one down per link, redial.
 *
 * NOTES: real nng streams on ipc:// paths in a temporary folder; the
 * hostile peers are plain Unix sockets writing raw bytes. Every wait is
 * bounded (pyc_link_inbox_wait with a timeout).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pyc_link.h"
#include "pyc_testproc.h"

#define MAXMSG (1u << 20)

typedef struct env {
	char *dir;
	char path[600], url[620];
	pyc_link_inbox *lib, *dib; /* the listener's and the dialer's inboxes */
	pyc_link_listener *ls;
	pyc_link_dialer *d;
} env;

static void env_open(env *e, bool dial)
{
	memset(e, 0, sizeof(*e));
	e->dir = pyc_tmpdir_new();
	snprintf(e->path, sizeof(e->path), "%s/l.ipc", e->dir);
	snprintf(e->url, sizeof(e->url), "ipc://%s", e->path);
	ck_assert_int_eq(pyc_link_inbox_create(&e->lib, 100000), PYC_OK);
	ck_assert_int_eq(pyc_link_inbox_create(&e->dib, 100000), PYC_OK);
	ck_assert_int_eq(pyc_link_listen(&e->ls, e->url, MAXMSG, pyc_link_inbox_ops(), e->lib),
	    PYC_OK);
	if (dial)
		ck_assert_int_eq(pyc_link_dial(&e->d, e->url, MAXMSG, pyc_link_inbox_ops(), e->dib),
		    PYC_OK);
}

/* The next event of ib, which must be of kind within 5 s. */
static pyc_link_event next(pyc_link_inbox *ib, pyc_link_ev_kind kind)
{
	pyc_link_event ev;
	ck_assert_msg(pyc_link_inbox_wait(ib, &ev, 5000), "no event within 5 s");
	ck_assert_int_eq(ev.kind, kind);
	return ev;
}

static void env_close(env *e, pyc_link *accepted)
{
	pyc_link_dialer_destroy(e->d);
	pyc_link_destroy(accepted);
	pyc_link_listener_destroy(e->ls);
	pyc_link_inbox_destroy(e->lib);
	pyc_link_inbox_destroy(e->dib);
	pyc_tmpdir_remove(e->dir);
	free(e->dir);
}

static nng_msg *msg_of(size_t n, unsigned seed)
{
	nng_msg *m;
	ck_assert_int_eq(nng_msg_alloc(&m, n), 0);
	uint8_t *b = nng_msg_body(m);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t) (seed * 31u + i * 7u);
	return m;
}

static void expect_msg(nng_msg *m, size_t n, unsigned seed)
{
	ck_assert_uint_eq(nng_msg_len(m), n);
	const uint8_t *b = nng_msg_body(m);
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t) (seed * 31u + i * 7u))
			ck_abort_msg("message %u differs at byte %zu", seed, i);
	nng_msg_free(m);
}

static size_t size_of(unsigned i)
{
	if (i % 97 == 5)
		return 300000; /* larger than the read buffer */
	return 1 + (i * 613u) % 5000;
}

START_TEST(test_pyc_link_ordered_whole_messages)
{
	env e;
	env_open(&e, true);
	pyc_link *a = next(e.lib, PYC_LINK_EV_UP).link;
	(void) next(e.dib, PYC_LINK_EV_UP);
	const unsigned n = 2000;
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(pyc_link_dialer_send_wait(e.d, msg_of(size_of(i), i), 5000), PYC_OK);
	for (unsigned i = 0; i < n; i++) {
		pyc_link_event ev = next(e.lib, PYC_LINK_EV_MSG);
		ck_assert_ptr_eq(ev.link, a);
		expect_msg(ev.msg, size_of(i), i);
	}
	/* and back */
	for (unsigned i = 0; i < 50; i++)
		ck_assert_int_eq(pyc_link_send_wait(a, msg_of(size_of(i), i + 7), 5000), PYC_OK);
	for (unsigned i = 0; i < 50; i++)
		expect_msg(next(e.dib, PYC_LINK_EV_MSG).msg, size_of(i), i + 7);
	env_close(&e, a);
}
END_TEST

/* A raw Unix connection to the listener that writes buf and then waits
 * for the link to go down. */
static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	return fd;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* Writes a good message of 5 bytes, then the length bad, and expects the
 * good one and then down with want. close_after: close the raw side
 * instead of waiting for the link to close it. */
static void bad_length_case(uint32_t bad, size_t extra, pyc_err want, bool close_after)
{
	env e;
	env_open(&e, false);
	int fd = raw_connect(e.path);
	pyc_link *a = next(e.lib, PYC_LINK_EV_UP).link;
	uint8_t buf[64] = {0};
	put32(buf, 5);
	memcpy(buf + 4, "hello", 5);
	put32(buf + 9, bad);
	ck_assert_int_eq(write(fd, buf, 13 + extra), (ssize_t) (13 + extra));
	if (close_after)
		close(fd);
	pyc_link_event ev = next(e.lib, PYC_LINK_EV_MSG);
	ck_assert_uint_eq(nng_msg_len(ev.msg), 5);
	ck_assert_int_eq(memcmp(nng_msg_body(ev.msg), "hello", 5), 0);
	nng_msg_free(ev.msg);
	ev = next(e.lib, PYC_LINK_EV_DOWN);
	ck_assert_int_eq(ev.why, want);
	ck_assert(!pyc_link_inbox_pop(e.lib, &ev)); /* one down, nothing after */
	if (!close_after) {
		char c;
		ck_assert_int_eq(read(fd, &c, 1), 0); /* the link closed the connection */
		close(fd);
	}
	env_close(&e, a);
}

START_TEST(test_pyc_link_oversized_length_closes)
{
	bad_length_case(MAXMSG + 1, 0, PYC_EPROTO, false);
	bad_length_case(0xffffffffu, 20, PYC_EPROTO, false);
}
END_TEST

START_TEST(test_pyc_link_zero_length_closes)
{
	bad_length_case(0, 30, PYC_EPROTO, false);
}
END_TEST

START_TEST(test_pyc_link_truncated_message_is_not_delivered)
{
	/* a length of 40 with 20 bytes, then the peer goes */
	bad_length_case(40, 20, PYC_ECLOSED, true);
	/* a big one cut short */
	bad_length_case(200000, 30, PYC_ECLOSED, true);
}
END_TEST

START_TEST(test_pyc_link_send_queue_is_bounded)
{
	env e;
	env_open(&e, true);
	pyc_link *a = next(e.lib, PYC_LINK_EV_UP).link;
	(void) next(e.dib, PYC_LINK_EV_UP);
	pyc_link_pause(a); /* the listener side stops reading */
	unsigned sent = 0;
	pyc_err rv = PYC_OK;
	nng_msg *m = NULL;
	while (sent < 10 * PYC_LINK_SENDQ_MSGS) {
		m = msg_of(1000, sent);
		if ((rv = pyc_link_dialer_send(e.d, m)) != PYC_OK)
			break;
		sent++;
	}
	ck_assert_int_eq(rv, PYC_EAGAIN); /* told, and m is still ours */
	nng_msg_free(m);
	ck_assert_uint_ge(sent, PYC_LINK_SENDQ_MSGS);
	pyc_link_resume(a);
	for (unsigned i = 0; i < sent; i++)
		expect_msg(next(e.lib, PYC_LINK_EV_MSG).msg, 1000, i);
	env_close(&e, a);
}
END_TEST

START_TEST(test_pyc_link_down_once_and_redial)
{
	env e;
	env_open(&e, true);
	pyc_link *a = next(e.lib, PYC_LINK_EV_UP).link;
	(void) next(e.dib, PYC_LINK_EV_UP);
	pyc_link_close(a);
	pyc_link_close(a);
	/* the dialer's side ends, then it redials; on the listener's side the
	 * old link's end and the new link's start may come in either order */
	ck_assert_int_eq(next(e.dib, PYC_LINK_EV_DOWN).why, PYC_ECLOSED);
	(void) next(e.dib, PYC_LINK_EV_UP);
	pyc_link *b = NULL;
	int downs = 0;
	while (b == NULL || downs == 0) {
		pyc_link_event ev;
		ck_assert_msg(pyc_link_inbox_wait(e.lib, &ev, 5000), "no event within 5 s");
		if (ev.kind == PYC_LINK_EV_DOWN) {
			ck_assert_ptr_eq(ev.link, a);
			ck_assert_int_eq(ev.why, PYC_ECLOSED);
			downs++;
		} else {
			ck_assert_int_eq(ev.kind, PYC_LINK_EV_UP);
			ck_assert_ptr_null(b);
			b = ev.link;
		}
	}
	pyc_link_event extra;
	ck_assert(!pyc_link_inbox_wait(e.lib, &extra, 100)); /* one down only */
	nng_msg *late = msg_of(3, 1);
	ck_assert_int_eq(pyc_link_send(a, late), PYC_ECLOSED); /* still ours */
	nng_msg_free(late);
	pyc_link_destroy(a);
	a = b;
	ck_assert_uint_eq(pyc_link_dialer_links(e.d), 2);
	ck_assert_int_eq(pyc_link_dialer_send_wait(e.d, msg_of(10, 3), 2000), PYC_OK);
	expect_msg(next(e.lib, PYC_LINK_EV_MSG).msg, 10, 3);
	env_close(&e, a);
}
END_TEST

START_TEST(test_pyc_link_dial_before_listen)
{
	env e;
	memset(&e, 0, sizeof(e));
	e.dir = pyc_tmpdir_new();
	snprintf(e.path, sizeof(e.path), "%s/l.ipc", e.dir);
	snprintf(e.url, sizeof(e.url), "ipc://%s", e.path);
	ck_assert_int_eq(pyc_link_inbox_create(&e.lib, 100), PYC_OK);
	ck_assert_int_eq(pyc_link_inbox_create(&e.dib, 100), PYC_OK);
	ck_assert_int_eq(pyc_link_dial(&e.d, e.url, MAXMSG, pyc_link_inbox_ops(), e.dib), PYC_OK);
	pyc_link_event ev;
	ck_assert(!pyc_link_inbox_wait(e.dib, &ev, 200));
	nng_msg *early = msg_of(1, 1);
	ck_assert_int_eq(pyc_link_dialer_send(e.d, early), PYC_ECLOSED); /* still ours */
	nng_msg_free(early);
	ck_assert_int_eq(pyc_link_listen(&e.ls, e.url, MAXMSG, pyc_link_inbox_ops(), e.lib),
	    PYC_OK);
	pyc_link *a = next(e.lib, PYC_LINK_EV_UP).link;
	(void) next(e.dib, PYC_LINK_EV_UP);
	env_close(&e, a);
}
END_TEST

/* A peer that accepts and closes at once, for a while (a gateway being
 * killed as links arrive), then a real listener: the dialer gets there. */
START_TEST(test_pyc_link_redial_after_closes)
{
	env e;
	memset(&e, 0, sizeof(e));
	e.dir = pyc_tmpdir_new();
	snprintf(e.path, sizeof(e.path), "%s/l.ipc", e.dir);
	snprintf(e.url, sizeof(e.url), "ipc://%s", e.path);
	ck_assert_int_eq(pyc_link_inbox_create(&e.lib, 100), PYC_OK);
	ck_assert_int_eq(pyc_link_inbox_create(&e.dib, 100000), PYC_OK);
	int lfd = pyc_unix_listen(e.path);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(pyc_link_dial(&e.d, e.url, MAXMSG, pyc_link_inbox_ops(), e.dib), PYC_OK);
	int closed = 0, ups = 0;
	long long end = pyc_now_ms() + 1000;
	while (pyc_now_ms() < end) {
		pyc_link_event ev;
		closed += pyc_unix_accept_close(lfd, 5);
		/* say hello on every link that comes up, as hosts and workers do */
		while (pyc_link_inbox_pop(e.dib, &ev)) {
			if (ev.kind == PYC_LINK_EV_UP) {
				ups++;
				nng_msg *m = msg_of(20, 1);
				if (pyc_link_dialer_send(e.d, m) != PYC_OK)
					nng_msg_free(m);
			}
		}
	}
	close(lfd);
	unlink(e.path);
	ck_assert_int_ge(closed, 10);
	ck_assert_int_ge(ups, 10);
	ck_assert_int_eq(pyc_link_listen(&e.ls, e.url, MAXMSG, pyc_link_inbox_ops(), e.lib),
	    PYC_OK);
	pyc_link *a = next(e.lib, PYC_LINK_EV_UP).link;
	ck_assert_int_eq(pyc_link_dialer_send_wait(e.d, msg_of(10, 3), 3000), PYC_OK);
	expect_msg(next(e.lib, PYC_LINK_EV_MSG).msg, 10, 3);
	printf("redial: %d connections closed (%d up), then linked\n", closed, ups);
	env_close(&e, a);
}
END_TEST

static void count_fn(void *arg, const uint8_t *data, size_t size)
{
	(void) data;
	size_t *n = arg;
	*n += size;
}

START_TEST(test_pyc_link_frames_split)
{
	uint8_t buf[32] = {0};
	size_t used, bytes = 0;
	put32(buf, 3);
	put32(buf + 7, 2);
	put32(buf + 13, 9); /* partial: 9 announced, 3 there */
	ck_assert_int_eq(pyc_link_frames(buf, 20, 16, &used, count_fn, &bytes), PYC_OK);
	ck_assert_uint_eq(used, 13);
	ck_assert_uint_eq(bytes, 5);
	put32(buf + 13, 17); /* over the maximum */
	ck_assert_int_eq(pyc_link_frames(buf, 20, 16, &used, NULL, NULL), PYC_EPROTO);
	ck_assert_uint_eq(used, 13);
	ck_assert_int_eq(pyc_link_frames(buf, 3, 16, &used, NULL, NULL), PYC_OK);
	ck_assert_uint_eq(used, 0);
}
END_TEST

static Suite *pyc_link_suite(void)
{
	Suite *s = suite_create("pyc_link");
	TCase *core = tcase_create("core");
	tcase_set_timeout(core, 60);
	tcase_add_test(core, test_pyc_link_ordered_whole_messages);
	tcase_add_test(core, test_pyc_link_send_queue_is_bounded);
	tcase_add_test(core, test_pyc_link_down_once_and_redial);
	tcase_add_test(core, test_pyc_link_dial_before_listen);
	tcase_add_test(core, test_pyc_link_redial_after_closes);
	suite_add_tcase(s, core);
	TCase *errors = tcase_create("errors");
	tcase_set_timeout(errors, 60);
	tcase_add_test(errors, test_pyc_link_oversized_length_closes);
	tcase_add_test(errors, test_pyc_link_zero_length_closes);
	tcase_add_test(errors, test_pyc_link_truncated_message_is_not_delivered);
	tcase_add_test(errors, test_pyc_link_frames_split);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return pyc_check_run(pyc_link_suite());
}
