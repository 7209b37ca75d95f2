/* gw_route.h - the HTTP API's request parsing: which route a path names,
 * the methods a route allows, CORS preflight methods, and the safety and
 * MIME type of a dashboard file path.
 *
 * NOTES: this is the part of gw_http.c that reads what a client sent and
 * has no MHD, no I/O and no state, so it is checked on its own (the fuzz
 * targets of tests/fuzz replay arbitrary paths through it). gw_http.c
 * asks here and then does the I/O. Recording file names are checked by
 * gw_proto_filename_valid, ranges by gw_proto_range_parse.
 */
#ifndef GW_ROUTE_H
#define GW_ROUTE_H

#include <stdbool.h>

typedef enum gw_route {
	GW_R_NONE = 0, /* no API route: the dashboard's files, or 404 */
	GW_R_HEALTH,   /* /health */
	GW_R_LIST,     /* /recordings, /recordings/ */
	GW_R_FILE,     /* /recordings/{name}; name may be anything, checked later */
	GW_R_OPENAPI,  /* /openapi.json */
	GW_R_DOCS,     /* /docs */
	GW_R_METRICS,  /* /metrics */
} gw_route;

/* The route of url (the path, without the query). For GW_R_FILE, *name
 * points into url at the file name; NULL otherwise. */
gw_route gw_route_of(const char *url, const char **name);

/* The Allow header of route r (for 405 answers). */
const char *gw_route_allow(gw_route r);

/* True if a CORS preflight may announce method for route r. */
bool gw_route_preflight_ok(const char *method, gw_route r);

/* True if url may be looked up under the dashboard folder: it starts with
 * '/', is at most 1024 bytes, has no backslash or control byte, and no
 * "." or ".." segment. */
bool gw_route_path_safe(const char *url);

/* The Content-Type of a file by its extension (case-insensitive);
 * "application/octet-stream" if unknown. Never NULL. */
const char *gw_route_mime(const char *path);

#endif /* GW_ROUTE_H */
