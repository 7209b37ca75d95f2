/* check_gw_head.c - the one public port's reading of a request head
 * (gateway/gw_head.c): where it ends, and which heads are WebSocket
 * upgrades on /ws/audio.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gw_head.h"

#define S(lit) lit, sizeof(lit) - 1

static const char UPGRADE[] = "GET /ws/audio?session_id=abc HTTP/1.1\r\nHost: x\r\n"
			      "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

START_TEST(test_head_end)
{
	ck_assert_uint_eq(gw_head_end(S("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 27);
	ck_assert_uint_eq(gw_head_end(S("GET / HTTP/1.0\n\n")), 16);
	ck_assert_uint_eq(gw_head_end(S("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\r\n\r\n")), 27);
	/* not yet */
	ck_assert_uint_eq(gw_head_end(S("GET / HTTP/1.1\r\nHost: x\r\n")), 0);
	ck_assert_uint_eq(gw_head_end(S("GET / HTTP/1.1\r\nHost: x\r\n\r")), 0);
	ck_assert_uint_eq(gw_head_end("", 0), 0);
	ck_assert_uint_eq(gw_head_end(S("\n")), 0);
	/* a NUL is only a byte */
	ck_assert_uint_eq(gw_head_end(S("GET /\0 HTTP/1.1\r\n\r\n")), 19);
}
END_TEST

START_TEST(test_head_is_ws_audio)
{
	ck_assert(gw_head_is_ws_audio(S(UPGRADE)));
	ck_assert(gw_head_is_ws_audio(S("GET /ws/audio/ HTTP/1.1\r\nupgrade: WebSocket\r\n\r\n")));
	ck_assert(gw_head_is_ws_audio(S("GET /ws/audio HTTP/1.1\nUPGRADE:websocket\n\n")));
	/* another path, another method, no Upgrade, another protocol */
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/other HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audiox HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audio/x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("POST /ws/audio HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("get /ws/audio HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audio HTTP/1.1\r\nHost: x\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audio HTTP/1.1\r\nUpgrade: h2c\r\n\r\n")));
	/* "Upgrade" only as a header name at the start of a line */
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audio HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audio HTTP/1.1\r\nUpgrade : websocket\r\n\r\n")));
	ck_assert(!gw_head_is_ws_audio(S("GET /ws/audio?Upgrade:websocket HTTP/1.1\r\n\r\n")));
	/* cut short: never read past len */
	for (size_t n = 0; n < sizeof(UPGRADE) - 1; n++) {
		char *cut = malloc(n ? n : 1);
		memcpy(cut, UPGRADE, n);
		bool ws = gw_head_is_ws_audio(cut, n);
		/* the Upgrade line is complete from "websocket" on */
		ck_assert(ws == (n >= (size_t) (strstr(UPGRADE, "websocket") - UPGRADE) + 9));
		free(cut);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gw_head");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_head_end);
	tcase_add_test(tc, test_head_is_ws_audio);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
