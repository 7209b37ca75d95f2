/* gw_proto.h - the public protocol's text: client commands, error frames,
 * recording file names, HTTP ranges, query numbers, origin and address lists.
 *
 * NOTES: everything a client sends is untrusted; this module turns it into
 * checked values or a stable error word (docs/protocol.md) and nothing else.
 * It has no state and no I/O, so it is tested on its own (check_gw_proto.c)
 * and shared by the WebSocket side (gw_ws.c, gw_sessions.c) and the HTTP side
 * (gw_http.c). cJSON is included here only.
 */
#ifndef GW_PROTO_H
#define GW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"
#include "pyc_params.h"

/* Public error words (docs/protocol.md). */
#define GW_E_BAD_JSON "bad_json"
#define GW_E_UNKNOWN_ACTION "unknown_action"
#define GW_E_OUT_OF_RANGE "out_of_range"
#define GW_E_BAD_TYPE "bad_type"
#define GW_E_MISSING_FIELD "missing_field"
#define GW_E_TOO_FAST "too_fast"
#define GW_E_NO_WORKER "no_worker"
#define GW_E_WORKER_RESTARTED "worker_restarted"
#define GW_E_RECORDING_FAILED "recording_failed"
#define GW_E_MESSAGE_TOO_BIG "message_too_big"

typedef enum gw_action {
	GW_ACT_INIT = 1,
	GW_ACT_SET_PARAMS,
	GW_ACT_START_RECORD,
	GW_ACT_STOP_RECORD,
} gw_action;

/* A checked client command. params.mask holds the fields the command sets
 * (for init, sample_rate and channels are always set: a missing one takes
 * its default, as the earlier system did). reset_loudness is parsed as a
 * GW_ACT_SET_PARAMS whose mask is PYC_P_LOUDNESS_RESET alone. */
typedef struct gw_cmd {
	gw_action action;
	pyc_params params;
} gw_cmd;

#define GW_MSG_MAX 200

/* Why a command was refused: code is one of GW_E_*, message for people. */
typedef struct gw_proto_err {
	const char *code;
	char message[GW_MSG_MAX];
} gw_proto_err;

/* Parses and checks one text frame. PYC_OK fills cmd; PYC_EINVAL fills err.
 * Unknown extra fields are ignored. */
pyc_err gw_proto_parse(const char *text, size_t len, gw_cmd *cmd, gw_proto_err *err);

/* Writes {"type":"error","code":code,"message":message} (escaped) into buf;
 * returns the length, or 0 if it did not fit. */
size_t gw_proto_error_json(char *buf, size_t cap, const char *code, const char *message);

/* Appends s to buf as a JSON string (with quotes); returns bytes written
 * or 0 if it did not fit (buf is then unspecified). */
size_t gw_proto_json_str(char *buf, size_t cap, const char *s);

/* True if name is a recording file name the recorder could have made:
 * rec_YYYYMMDDTHHMMSSZ_<22 id chars>.wav */
bool gw_proto_filename_valid(const char *name);

typedef enum gw_range {
	GW_RANGE_NONE = 0,      /* no usable Range header: send everything (200) */
	GW_RANGE_OK,            /* one satisfiable range: [*first, *last] (206) */
	GW_RANGE_UNSATISFIABLE, /* 416 */
} gw_range;

/* Parses a Range header value against a resource of size bytes. Only a
 * single "bytes=" range is honoured; anything malformed or multi-range
 * is ignored (GW_RANGE_NONE), as RFC 9110 allows. */
gw_range gw_proto_range_parse(const char *hdr, uint64_t size, uint64_t *first,
    uint64_t *last);

/* Parses a decimal integer of s in [lo, hi] (no sign, no spaces, no
 * trailing bytes). */
bool gw_proto_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* True if origin equals one entry of a comma-separated list (entries are
 * trimmed of spaces and a trailing '/'); "*" in the list allows any. */
bool gw_proto_origin_allowed(const char *list, const char *origin);

/* True if addr equals one entry of a comma-separated address list. An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches a.b.c.d. */
bool gw_proto_addr_in_list(const char *list, const char *addr);

/* The client's address: peer, unless peer is a trusted proxy and xff (an
 * X-Forwarded-For value, may be NULL) names one; then the rightmost entry
 * that is not itself a trusted proxy. Writes at most cap bytes. */
void gw_proto_client_addr(const char *peer, const char *xff, const char *trusted,
    char *out, size_t cap);

#endif /* GW_PROTO_H */
