/* fuzz_http_route.c - fuzz target: what the HTTP API parses from a request
 * (gateway/gw_route.c, the HTTP helpers of gateway/gw_proto.c) and the
 * recorder's file name checks (recorder/rec_name.c).
 *
 * NOTES: the input is cut at NUL bytes into up to six strings: a path, a
 * Range header, a query number, an Origin, a peer address and an
 * X-Forwarded-For value (missing ones are empty); the path is also tried
 * as a recording name, with and without the "/recordings/" prefix. Checks:
 * - a route's file name is what follows "/recordings/", and the gateway
 *   (gw_proto_filename_valid) and the recorder (rec_name_valid) agree on
 *   every name, so neither can pass the other a name it would refuse;
 *   rec_name_is_part accepts exactly a valid name plus ".part";
 * - a path gw_route_path_safe accepts starts with '/', has no "." or ".."
 *   segment, no backslash or control byte, so it can never leave the
 *   dashboard folder; a MIME type is never NULL;
 * - a satisfiable range lies inside the resource; a query number
 *   gw_proto_parse_uint accepts is in its bounds and is what strtoull
 *   reads; a client address fits its buffer and is the peer unless the
 *   peer is a trusted proxy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "gw_proto.h"
#include "gw_route.h"
#include "pyc_id.h"
#include "rec_name.h"

#define NPARTS 6

static void check_name(const char *s)
{
	bool gw = gw_proto_filename_valid(s);
	bool rec = rec_name_valid(s);
	FZ_ASSERT(gw == rec, "gateway says %d, recorder says %d for \"%s\"", gw, rec, s);
	if (rec) {
		FZ_ASSERT(strlen(s) == REC_NAME_LEN && strchr(s, '/') == NULL &&
		        strstr(s, "..") == NULL, "valid name %s", s);
	}
	char base[REC_NAME_MAX + 1];
	size_t n = strlen(s);
	bool part = rec_name_is_part(s, base);
	bool want = n == REC_NAME_LEN + 5 && strcmp(s + REC_NAME_LEN, REC_PART_SUFFIX) == 0;
	if (want) {
		char head[REC_NAME_LEN + 1];
		memcpy(head, s, REC_NAME_LEN);
		head[REC_NAME_LEN] = '\0';
		want = rec_name_valid(head);
	}
	FZ_ASSERT(part == want, "rec_name_is_part says %d for \"%s\"", part, s);
	if (part) {
		FZ_ASSERT(strlen(base) == REC_NAME_LEN && memcmp(base, s, REC_NAME_LEN) == 0 &&
		        rec_name_valid(base), "part base %s", base);
		char again[REC_NAME_MAX + 1];
		rec_name_part(base, again);
		FZ_ASSERT(strcmp(again, s) == 0, "rec_name_part does not give back %s", s);
	}
}

static void check_path(const char *url)
{
	const char *name;
	gw_route r = gw_route_of(url, &name);

	FZ_ASSERT(r >= GW_R_NONE && r <= GW_R_METRICS, "route %d", (int) r);
	if (r == GW_R_FILE) {
		FZ_ASSERT(name == url + 12 && strncmp(url, "/recordings/", 12) == 0 && name[0] != '\0',
		    "file route for %s", url);
		check_name(name);
	} else {
		FZ_ASSERT(name == NULL, "a name for route %d", (int) r);
	}
	FZ_ASSERT(gw_route_allow(r) != NULL, "no Allow");
	FZ_ASSERT(gw_route_mime(url) != NULL, "no MIME type");
	(void) gw_route_preflight_ok(url, r);

	if (gw_route_path_safe(url)) {
		FZ_ASSERT(url[0] == '/' && strlen(url) <= 1024, "safe path %s", url);
		for (const char *p = url; *p; p++)
			FZ_ASSERT(*p != '\\' && (unsigned char) *p >= 0x20, "safe path with byte %#x",
			    (unsigned char) *p);
		/* walk the segments: the depth under the folder never drops */
		const char *s = url;
		while (*s) {
			while (*s == '/')
				s++;
			size_t n = strcspn(s, "/");
			FZ_ASSERT(!(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.'),
			    "safe path %s has a dot segment", url);
			s += n;
		}
	}
}

static void check_range(const char *hdr, uint64_t size)
{
	uint64_t first = 7, last = 3;
	gw_range r = gw_proto_range_parse(hdr, size, &first, &last);
	if (r == GW_RANGE_OK)
		FZ_ASSERT(size > 0 && first <= last && last < size,
		    "range %s of %llu gives %llu-%llu", hdr, (unsigned long long) size,
		    (unsigned long long) first, (unsigned long long) last);
	else
		FZ_ASSERT(r == GW_RANGE_NONE || r == GW_RANGE_UNSATISFIABLE, "range result %d",
		    (int) r);
}

static void check_uint(const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t v = 0;
	if (!gw_proto_parse_uint(s, lo, hi, &v))
		return;
	FZ_ASSERT(v >= lo && v <= hi, "%s parsed as %llu outside %llu..%llu", s,
	    (unsigned long long) v, (unsigned long long) lo, (unsigned long long) hi);
	FZ_ASSERT(s[0] >= '0' && s[0] <= '9', "number %s with a sign or space", s);
	char *end;
	errno = 0;
	unsigned long long w = strtoull(s, &end, 10);
	FZ_ASSERT(errno == 0 && *end == '\0' && w == v, "%s parsed as %llu, strtoull says %llu", s,
	    (unsigned long long) v, w);
}

static void check_addr(const char *peer, const char *xff, const char *trusted)
{
	char out[64];
	memset(out, 'x', sizeof(out));
	gw_proto_client_addr(peer, xff, trusted, out, sizeof(out));
	FZ_ASSERT(memchr(out, '\0', sizeof(out)) != NULL, "client address not terminated");
	if (!gw_proto_addr_in_list(trusted, peer)) {
		char want[64];
		const char *u = strncasecmp(peer, "::ffff:", 7) == 0 && strchr(peer + 7, '.') ?
		    peer + 7 : peer;
		snprintf(want, sizeof(want), "%s", u);
		FZ_ASSERT(strcmp(out, want) == 0, "peer %s not trusted, yet the address is %s", peer,
		    out);
	}
	(void) gw_proto_origin_allowed(trusted, xff);
	(void) gw_proto_origin_allowed("http://localhost:3000, https://app.example/", peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *part[NPARTS];
	size_t k = 0, off = 0;

	fz_quiet();
	FZ_ASSERT(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	while (k < NPARTS && off <= size) {
		part[k++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	while (k < NPARTS)
		part[k++] = "";

	check_path(part[0]);
	check_name(part[0]);
	check_range(part[1], 0);
	check_range(part[1], 1);
	check_range(part[1], size);
	check_range(part[1], UINT64_MAX);
	check_uint(part[2], 0, UINT32_MAX);
	check_uint(part[2], 0, 10000);
	check_uint(part[2], 0, UINT64_MAX);
	(void) pyc_session_id_valid(part[2], strlen(part[2]));
	check_addr(part[4], part[5], part[3]);
	check_addr(part[4], part[5], "127.0.0.1, ::1");
	free(buf);
	return 0;
}
