/* fuzz_ws_command.c - fuzz target: the client's WebSocket text commands,
 * through gw_proto_parse and the error frame, then through the session
 * registry's dispatch (gw_sessions_text) with a fake worker.
 *
 * NOTES: the input is used twice.
 * 1. As one text frame: gw_proto_parse must accept it with checked values
 *    (parameters pyc_params_check accepts, only the fields its action
 *    takes) or refuse it with a public error word, and the error frame
 *    built from that word and message must be JSON that reads back to the
 *    same two strings. The input is also used as an error message itself,
 *    to check the escaping of gw_proto_json_str on any bytes.
 * 2. As a script, one step per line, played against gw_sessions.c through
 *    fuzz_gw_fakes (which checks what reaches the worker). A line is a text
 *    frame unless it starts with '!':
 *      !grace0 !noworker   (before any other line) no grace period; no
 *                          idle worker at the start
 *      !idle N  N idle workers appear     !ack [N]  the worker answers
 *      !tick  !gone  !closed  !detach  !attach  !full  !unfull
 *      !event TEXT  !monitor BYTES  !audio BYTES
 *    The seeds (corpus/ws_command) are the commands of docs/protocol.md
 *    in such scripts.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "fuzz_gw_fakes.h"
#include "gw_proto.h"

static const char *const words[] = {GW_E_BAD_JSON, GW_E_UNKNOWN_ACTION, GW_E_OUT_OF_RANGE,
    GW_E_BAD_TYPE, GW_E_MISSING_FIELD};

/* The error frame of code and message reads back as the same strings. */
static void check_error_json(const char *code, const char *message, size_t cap)
{
	char *buf = malloc(cap);
	FZ_ASSERT(buf != NULL, "out of memory");
	size_t n = gw_proto_error_json(buf, cap, code, message);
	size_t need = 48 + strlen(code) * 6 + strlen(message) * 6;
	if (cap >= need)
		FZ_ASSERT(n > 0, "error frame did not fit %zu bytes", cap);
	if (n > 0) {
		FZ_ASSERT(n < cap && buf[n] == '\0' && strlen(buf) == n, "error frame length %zu", n);
		cJSON *o = cJSON_ParseWithLength(buf, n);
		FZ_ASSERT(o != NULL, "error frame is not JSON: %s", buf);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
		FZ_ASSERT(cJSON_IsString(t) && strcmp(t->valuestring, "error") == 0, "type: %s", buf);
		FZ_ASSERT(cJSON_IsString(c) && strcmp(c->valuestring, code) == 0, "code: %s", buf);
		FZ_ASSERT(cJSON_IsString(m) && strcmp(m->valuestring, message) == 0,
		    "message does not read back: %s", buf);
		cJSON_Delete(o);
	}
	free(buf);
}

static void check_parse(const uint8_t *data, size_t size)
{
	gw_cmd cmd;
	gw_proto_err err;
	pyc_err rv = gw_proto_parse((const char *) data, size, &cmd, &err);

	if (rv == PYC_OK) {
		uint32_t allowed = 0;
		FZ_ASSERT(err.code == NULL, "accepted with an error code %s", err.code);
		switch (cmd.action) {
		case GW_ACT_INIT:
			allowed = PYC_P_ALL;
			break;
		case GW_ACT_SET_PARAMS: /* reset_loudness: the reset bit alone */
			allowed = PYC_P_ALL | PYC_P_LOUDNESS_RESET;
			break;
		case GW_ACT_START_RECORD:
			allowed = PYC_P_RATE | PYC_P_CHANNELS;
			break;
		case GW_ACT_STOP_RECORD:
			allowed = 0;
			break;
		default:
			FZ_ASSERT(false, "action %d", (int) cmd.action);
		}
		FZ_ASSERT((cmd.params.mask & ~allowed) == 0, "mask %#x for action %d",
		    cmd.params.mask, (int) cmd.action);
		if (cmd.action == GW_ACT_INIT)
			FZ_ASSERT((cmd.params.mask & (PYC_P_RATE | PYC_P_CHANNELS)) ==
			        (PYC_P_RATE | PYC_P_CHANNELS), "init without rate and channels");
		const char *bad = NULL;
		FZ_ASSERT(pyc_params_check(&cmd.params, &bad) == PYC_OK,
		    "accepted %s out of range", bad ? bad : "?");
		/* what was accepted is a JSON object naming that action */
		cJSON *o = cJSON_ParseWithLength((const char *) data, size);
		FZ_ASSERT(o != NULL && cJSON_IsObject(o), "accepted something that is not an object");
		cJSON_Delete(o);
		return;
	}
	FZ_ASSERT(rv == PYC_EINVAL, "gw_proto_parse returned %d", (int) rv);
	bool known = false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (err.code != NULL && strcmp(err.code, words[i]) == 0)
			known = true;
	FZ_ASSERT(known, "error word %s is not a public one", err.code ? err.code : "(null)");
	FZ_ASSERT(strnlen(err.message, GW_MSG_MAX) < GW_MSG_MAX && err.message[0] != '\0',
	    "error message empty or unterminated");
	check_error_json(err.code, err.message, 512); /* gw_sessions.c's buffer */
}

/* The input (up to its first NUL) as an error message, in a buffer of
 * every size from tight to ample. */
static void check_escaping(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FZ_ASSERT(s != NULL, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	size_t len = strlen(s);
	check_error_json(GW_E_BAD_JSON, s, 64 + 6 * len);
	check_error_json(GW_E_BAD_JSON, s, 1 + (size > 0 ? data[0] : 0) % (64 + 6 * len));
	free(s);
}

/* The decimal number at the start of s[0..n) (0 if none), at most 9 digits. */
static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n && i < 9 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool is_op(const char *line, size_t n, const char *op, const char **arg, size_t *alen)
{
	size_t k = strlen(op);
	if (n < k || memcmp(line, op, k) != 0 || (n > k && line[k] != ' '))
		return false;
	*arg = n > k ? line + k + 1 : line + n;
	*alen = n > k ? n - k - 1 : 0;
	return true;
}

static void run_script(const char *p, size_t size)
{
	const char *end = p + size;
	const char *arg;
	size_t alen;
	int grace = 30, idle = 1;
	bool started = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
		const char *line = p;
		p = nl ? nl + 1 : end;

		if (!started) {
			if (is_op(line, n, "!grace0", &arg, &alen)) {
				grace = 0;
				continue;
			}
			if (is_op(line, n, "!noworker", &arg, &alen)) {
				idle = 0;
				continue;
			}
			fz_gw_begin(grace, idle, NULL);
			started = true;
		}
		if (n == 0 || line[0] != '!') {
			fz_gw_text(line, n);
		} else if (is_op(line, n, "!idle", &arg, &alen)) {
			fz_gw_offer(1 + num(arg, alen) % 8);
		} else if (is_op(line, n, "!ack", &arg, &alen)) {
			int k = alen > 0 ? num(arg, alen) % 300 : 1;
			for (int i = 0; i < k && fz_gw_complete(); i++)
				;
		} else if (is_op(line, n, "!tick", &arg, &alen)) {
			fz_gw_tick();
		} else if (is_op(line, n, "!gone", &arg, &alen)) {
			fz_gw_gone();
		} else if (is_op(line, n, "!closed", &arg, &alen)) {
			fz_gw_closed();
		} else if (is_op(line, n, "!detach", &arg, &alen)) {
			fz_gw_detach();
		} else if (is_op(line, n, "!attach", &arg, &alen)) {
			fz_gw_attach();
		} else if (is_op(line, n, "!full", &arg, &alen)) {
			fz_gw_eagain(true);
		} else if (is_op(line, n, "!unfull", &arg, &alen)) {
			fz_gw_eagain(false);
		} else if (is_op(line, n, "!event", &arg, &alen)) {
			fz_gw_event((const uint8_t *) arg, alen);
		} else if (is_op(line, n, "!monitor", &arg, &alen)) {
			fz_gw_monitor((const uint8_t *) arg, alen);
		} else if (is_op(line, n, "!audio", &arg, &alen)) {
			fz_gw_audio((const uint8_t *) arg, alen);
		} else {
			fz_gw_text(line, n);
		}
	}
	if (!started)
		fz_gw_begin(grace, idle, NULL);
	fz_gw_end();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_quiet();
	check_parse(data, size);
	check_escaping(data, size);
	run_script((const char *) data, size);
	return 0;
}
