/* gw_proto.c - parsing and checking of what clients send (gw_proto.h).
 *
 * NOTES: each field has a name, a kind (integer, number, boolean) and a
 * params bit; a command is checked field by field so the error names the
 * first bad one. Range checks are pyc_params_check's, the same table the
 * worker applies when it decodes the wire, so the gateway and the engine
 * cannot disagree. Booleans also accept 0 and 1 (a JavaScript client may
 * send numbers). Integers must be integral numbers ("44100.0" is fine,
 * 44100.5 is not).
 */
#include "gw_proto.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

typedef enum { K_INT, K_NUM, K_BOOL, K_BANDS } kind;

typedef struct field {
	const char *name;
	kind k;
	uint32_t bit;
	size_t off;
} field;

#define F(n, k, b, m) {n, k, b, offsetof(pyc_params, m)}

static const field fields[] = {
	F("sample_rate", K_INT, PYC_P_RATE, sample_rate),
	F("channels", K_INT, PYC_P_CHANNELS, channels),
	F("gain", K_NUM, PYC_P_GAIN, gain_db),
	F("filter_enabled", K_BOOL, PYC_P_FILTER, filter_enabled),
	F("cutoff_freq", K_NUM, PYC_P_CUTOFF, cutoff_hz),
	F("integration_time", K_NUM, PYC_P_INTEGRATION, integration_s),
	F("filter_order", K_INT, PYC_P_ORDER, filter_order),
	F("fft_size", K_INT, PYC_P_FFT, fft_size),
	F("bands", K_BANDS, PYC_P_BANDS, bands),
	F("waveform_points", K_INT, PYC_P_WAVEFORM, waveform_points),
	F("max_meter_rate", K_NUM, PYC_P_METER_RATE, max_meter_rate),
	F("monitor", K_BOOL, PYC_P_MONITOR, monitor),
	F("loudness", K_BOOL, PYC_P_LOUDNESS, loudness),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *kind_word(kind k)
{
	switch (k) {
	case K_INT:
		return "an integer";
	case K_NUM:
		return "a number";
	case K_BANDS:
		return "an integer or \"third_octave\"";
	default:
		return "a boolean";
	}
}

static pyc_err fail(gw_proto_err *err, const char *code, const char *fmt,
    const char *arg)
{
	err->code = code;
	snprintf(err->message, sizeof(err->message), fmt, arg);
	return PYC_EINVAL;
}

/* Reads one field of obj into p; PYC_OK if absent or good. */
static pyc_err read_field(const cJSON *obj, const field *f, pyc_params *p,
    gw_proto_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->name);
	char *dst = (char *) p + f->off;
	char msg[96];

	if (v == NULL)
		return PYC_OK;
	if (f->k == K_BANDS && cJSON_IsString(v)) {
		if (strcmp(v->valuestring, "third_octave") != 0) {
			snprintf(msg, sizeof(msg), "%s must be %s", f->name, kind_word(f->k));
			return fail(err, GW_E_BAD_TYPE, "%s", msg);
		}
		*(int32_t *) dst = PYC_BANDS_THIRD_OCTAVE;
		p->mask |= f->bit;
		return PYC_OK;
	}
	switch (f->k) {
	case K_BOOL:
		if (cJSON_IsBool(v)) {
			*(int32_t *) dst = cJSON_IsTrue(v) ? 1 : 0;
		} else if (cJSON_IsNumber(v) && (v->valuedouble == 0.0 || v->valuedouble == 1.0)) {
			*(int32_t *) dst = v->valuedouble == 1.0 ? 1 : 0;
		} else {
			snprintf(msg, sizeof(msg), "%s must be %s", f->name, kind_word(f->k));
			return fail(err, GW_E_BAD_TYPE, "%s", msg);
		}
		break;
	case K_INT:
	case K_BANDS: {
		if (!cJSON_IsNumber(v)) {
			snprintf(msg, sizeof(msg), "%s must be %s", f->name, kind_word(f->k));
			return fail(err, GW_E_BAD_TYPE, "%s", msg);
		}
		double d = v->valuedouble;
		if (!isfinite(d) || d != floor(d)) {
			snprintf(msg, sizeof(msg), "%s must be %s", f->name, kind_word(f->k));
			return fail(err, GW_E_BAD_TYPE, "%s", msg);
		}
		if (d < -2147483648.0 || d > 2147483647.0) {
			snprintf(msg, sizeof(msg), "%s is out of range", f->name);
			return fail(err, GW_E_OUT_OF_RANGE, "%s", msg);
		}
		if (f->k == K_BANDS && d < 0) { /* the internal third-octave code */
			snprintf(msg, sizeof(msg), "%s must be 0..256 or \"third_octave\"", f->name);
			return fail(err, GW_E_OUT_OF_RANGE, "%s", msg);
		}
		*(int32_t *) dst = (int32_t) d;
		break;
	}
	case K_NUM:
		if (!cJSON_IsNumber(v)) {
			snprintf(msg, sizeof(msg), "%s must be %s", f->name, kind_word(f->k));
			return fail(err, GW_E_BAD_TYPE, "%s", msg);
		}
		*(double *) dst = v->valuedouble;
		break;
	}
	p->mask |= f->bit;
	return PYC_OK;
}

static const char *range_text(const char *name)
{
	static const struct {
		const char *n, *r;
	} t[] = {
		{"sample_rate", "8000..192000"},
		{"channels", "1 or 2"},
		{"gain", "-60..60 dB"},
		{"filter_enabled", "true or false"},
		{"cutoff_freq", "10..86400 Hz"},
		{"integration_time", "0..10 s"},
		{"filter_order", "2..8"},
		{"fft_size", "a power of two, 256..16384"},
		{"bands", "0..256 or \"third_octave\""},
		{"waveform_points", "0 or 2..4096"},
		{"max_meter_rate", "0..1000 per second"},
		{"monitor", "true or false"},
		{"loudness", "true or false"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].n, name) == 0)
			return t[i].r;
	return "its range";
}

/* True if text holds a NUL byte or the escape \u0000: cJSON would keep
 * the NUL in the C string, so "init\u0000x" would compare equal to "init". */
static bool has_nul(const char *text, size_t len)
{
	if (memchr(text, '\0', len) != NULL)
		return true;
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
			return true;
		i++; /* the escaped character */
	}
	return false;
}

pyc_err gw_proto_parse(const char *text, size_t len, gw_cmd *cmd, gw_proto_err *err)
{
	const char *end = NULL;
	cJSON *root = NULL;
	const cJSON *act;
	pyc_err rv = PYC_EINVAL;
	uint32_t allowed;

	memset(cmd, 0, sizeof(*cmd));
	err->code = NULL;
	err->message[0] = '\0';
	pyc_params_defaults(&cmd->params);
	cmd->params.mask = 0;

	if (text == NULL || len == 0)
		return fail(err, GW_E_BAD_JSON, "%s", "empty message");
	if (has_nul(text, len))
		return fail(err, GW_E_BAD_JSON, "%s", "the message holds a NUL character");
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root != NULL) /* only whitespace may follow the object */
		while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' ||
		    *end == '\r'))
			end++;
	if (root == NULL || end != text + len) {
		cJSON_Delete(root);
		return fail(err, GW_E_BAD_JSON, "%s", "the message is not valid JSON");
	}
	if (!cJSON_IsObject(root)) {
		fail(err, GW_E_BAD_JSON, "%s", "expected a JSON object with an action");
		goto out;
	}
	act = cJSON_GetObjectItemCaseSensitive(root, "action");
	if (act == NULL) {
		fail(err, GW_E_MISSING_FIELD, "%s", "action is required");
		goto out;
	}
	if (!cJSON_IsString(act) || act->valuestring == NULL) {
		fail(err, GW_E_BAD_TYPE, "%s", "action must be a string");
		goto out;
	}
	if (strcmp(act->valuestring, "init") == 0) {
		cmd->action = GW_ACT_INIT;
		allowed = PYC_P_ALL;
	} else if (strcmp(act->valuestring, "set_params") == 0) {
		cmd->action = GW_ACT_SET_PARAMS;
		allowed = PYC_P_ALL;
	} else if (strcmp(act->valuestring, "start_record") == 0) {
		cmd->action = GW_ACT_START_RECORD;
		allowed = PYC_P_RATE | PYC_P_CHANNELS;
	} else if (strcmp(act->valuestring, "stop_record") == 0) {
		cmd->action = GW_ACT_STOP_RECORD;
		allowed = 0;
	} else if (strcmp(act->valuestring, "reset_loudness") == 0) {
		/* A set_params carrying only the reset bit (docs/wire.md). */
		cmd->action = GW_ACT_SET_PARAMS;
		allowed = 0;
		cmd->params.mask = PYC_P_LOUDNESS_RESET;
	} else {
		char a[48];
		snprintf(a, sizeof(a), "%.40s", act->valuestring);
		for (char *c = a; *c; c++)
			if (!isprint((unsigned char) *c) || *c == '"' || *c == '\\')
				*c = '?';
		char m[96];
		snprintf(m, sizeof(m), "unknown action \"%s\"", a);
		fail(err, GW_E_UNKNOWN_ACTION, "%s", m);
		goto out;
	}
	for (size_t i = 0; i < N_FIELDS; i++) {
		if ((fields[i].bit & allowed) == 0)
			continue;
		if (read_field(root, &fields[i], &cmd->params, err) != PYC_OK)
			goto out;
	}
	if (cmd->action == GW_ACT_INIT)
		cmd->params.mask |= PYC_P_RATE | PYC_P_CHANNELS;

	const char *bad = NULL;
	if (pyc_params_check(&cmd->params, &bad) != PYC_OK) {
		char m[128];
		snprintf(m, sizeof(m), "%s must be %s", bad ? bad : "value",
		    range_text(bad ? bad : ""));
		fail(err, GW_E_OUT_OF_RANGE, "%s", m);
		goto out;
	}
	rv = PYC_OK;
out:
	cJSON_Delete(root);
	return rv;
}

size_t gw_proto_json_str(char *buf, size_t cap, const char *s)
{
	size_t n = 0;
	if (cap < 3)
		return 0;
	buf[n++] = '"';
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		char esc[8];
		size_t el;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char) *p;
			el = 2;
		} else if (*p < 0x20) {
			el = (size_t) snprintf(esc, sizeof(esc), "\\u%04x", *p);
		} else {
			esc[0] = (char) *p;
			el = 1;
		}
		if (n + el + 2 > cap)
			return 0;
		memcpy(buf + n, esc, el);
		n += el;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return n;
}

size_t gw_proto_error_json(char *buf, size_t cap, const char *code, const char *message)
{
	static const char a[] = "{\"type\":\"error\",\"code\":";
	static const char b[] = ",\"message\":";
	size_t n = 0, k;

	if (cap < sizeof(a))
		return 0;
	memcpy(buf, a, sizeof(a) - 1);
	n = sizeof(a) - 1;
	if ((k = gw_proto_json_str(buf + n, cap - n, code)) == 0)
		return 0;
	n += k;
	if (n + sizeof(b) > cap)
		return 0;
	memcpy(buf + n, b, sizeof(b) - 1);
	n += sizeof(b) - 1;
	if ((k = gw_proto_json_str(buf + n, cap - n, message ? message : "")) == 0)
		return 0;
	n += k;
	if (n + 2 > cap)
		return 0;
	buf[n++] = '}';
	buf[n] = '\0';
	return n;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool gw_proto_filename_valid(const char *name)
{
	/* rec_ 8 digits T 6 digits Z _ 22 id chars .wav */
	size_t n;
	if (name == NULL)
		return false;
	n = strlen(name);
	if (n != 4 + 8 + 1 + 6 + 1 + 1 + 22 + 4)
		return false;
	if (memcmp(name, "rec_", 4) != 0 || !digits(name + 4, 8) || name[12] != 'T' ||
	    !digits(name + 13, 6) || name[19] != 'Z' || name[20] != '_')
		return false;
	for (size_t i = 21; i < 43; i++) {
		char c = name[i];
		if (!(isalnum((unsigned char) c) || c == '_' || c == '-'))
			return false;
	}
	return memcmp(name + 43, ".wav", 4) == 0;
}

bool gw_proto_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	size_t n;
	if (s == NULL || (n = strlen(s)) == 0 || n > 19 || !digits(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t) (s[i] - '0');
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Reads digits at *s into *v; false if none or overflow. */
static bool read_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t) (*p - '0');
		p++;
	}
	*s = p;
	*v = x;
	return true;
}

gw_range gw_proto_range_parse(const char *hdr, uint64_t size, uint64_t *first,
    uint64_t *last)
{
	const char *p;
	uint64_t a = 0, b = 0;
	bool has_a, has_b;

	if (hdr == NULL)
		return GW_RANGE_NONE;
	p = skip_ws(hdr);
	if (strncasecmp(p, "bytes=", 6) != 0)
		return GW_RANGE_NONE;
	p = skip_ws(p + 6);
	if (strchr(p, ',') != NULL)
		return GW_RANGE_NONE; /* multi-range: send the whole body */
	has_a = read_u64(&p, &a);
	p = skip_ws(p);
	if (*p != '-')
		return GW_RANGE_NONE;
	p = skip_ws(p + 1);
	has_b = read_u64(&p, &b);
	p = skip_ws(p);
	if (*p != '\0' || (!has_a && !has_b))
		return GW_RANGE_NONE;
	if (has_a && has_b && b < a)
		return GW_RANGE_NONE; /* invalid syntax: ignore */
	if (!has_a) {
		/* suffix range: the last b bytes */
		if (b == 0 || size == 0)
			return GW_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return GW_RANGE_OK;
	}
	if (a >= size)
		return GW_RANGE_UNSATISFIABLE;
	*first = a;
	*last = (!has_b || b >= size) ? size - 1 : b;
	return GW_RANGE_OK;
}

/* Calls match(entry, len, ctx) for each trimmed entry of a comma list. */
static bool list_any(const char *list, bool (*match)(const char *, size_t, const void *),
    const void *ctx)
{
	const char *p = list;
	if (list == NULL)
		return false;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t) (e - p) : strlen(p);
		const char *s = p;
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0 && match(s, n, ctx))
			return true;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return false;
}

static bool origin_match(const char *s, size_t n, const void *ctx)
{
	const char *origin = ctx;
	size_t ol = strlen(origin);
	if (n == 1 && s[0] == '*')
		return true;
	if (n > 1 && s[n - 1] == '/')
		n--;
	if (ol > 1 && origin[ol - 1] == '/')
		ol--;
	return n == ol && strncasecmp(s, origin, n) == 0;
}

bool gw_proto_origin_allowed(const char *list, const char *origin)
{
	if (origin == NULL || origin[0] == '\0')
		return false;
	return list_any(list, origin_match, origin);
}

static const char *unmap(const char *a)
{
	if (strncasecmp(a, "::ffff:", 7) == 0 && strchr(a + 7, '.') != NULL)
		return a + 7;
	return a;
}

static bool addr_match(const char *s, size_t n, const void *ctx)
{
	const char *a = ctx;
	s = unmap(s);
	(void) n;
	size_t sl = 0;
	while (s[sl] && s[sl] != ',' && s[sl] != ' ' && s[sl] != '\t')
		sl++;
	return strlen(a) == sl && strncasecmp(s, a, sl) == 0;
}

bool gw_proto_addr_in_list(const char *list, const char *addr)
{
	if (addr == NULL || addr[0] == '\0')
		return false;
	return list_any(list, addr_match, unmap(addr));
}

void gw_proto_client_addr(const char *peer, const char *xff, const char *trusted,
    char *out, size_t cap)
{
	snprintf(out, cap, "%s", peer ? unmap(peer) : "");
	if (xff == NULL || xff[0] == '\0' || !gw_proto_addr_in_list(trusted, peer))
		return;
	/* walk from the right: the first entry that is not a trusted proxy */
	size_t n = strlen(xff);
	while (n > 0) {
		size_t end = n, start;
		while (end > 0 && (xff[end - 1] == ' ' || xff[end - 1] == '\t'))
			end--;
		start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t s = start;
		while (s < end && (xff[s] == ' ' || xff[s] == '\t'))
			s++;
		if (end > s && end - s < 64) {
			char a[64];
			memcpy(a, xff + s, end - s);
			a[end - s] = '\0';
			bool ok = true;
			for (char *c = a; *c; c++)
				if (!(isxdigit((unsigned char) *c) || *c == '.' || *c == ':'))
					ok = false;
			if (!ok)
				return; /* garbage: keep the peer */
			snprintf(out, cap, "%s", unmap(a));
			if (!gw_proto_addr_in_list(trusted, a))
				return;
		}
		n = start > 0 ? start - 1 : 0;
	}
}
