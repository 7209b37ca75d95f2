/* gw_route.c - route matching, allowed methods, static path checks and
 * MIME types of the HTTP API (gw_route.h).
 *
 * NOTES: plain string work on NUL-terminated input; nothing here
 * allocates. path_safe walks the path by segments so "/a/../b", "/./x"
 * and "//.." are all refused, while "..." or ".hidden" are ordinary names
 * (opening them is then the file system's business, inside the folder).
 */
#include "gw_route.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

gw_route gw_route_of(const char *url, const char **name)
{
	*name = NULL;
	if (strcmp(url, "/health") == 0)
		return GW_R_HEALTH;
	if (strcmp(url, "/recordings") == 0 || strcmp(url, "/recordings/") == 0)
		return GW_R_LIST;
	if (strncmp(url, "/recordings/", 12) == 0) {
		*name = url + 12;
		return GW_R_FILE;
	}
	if (strcmp(url, "/openapi.json") == 0)
		return GW_R_OPENAPI;
	if (strcmp(url, "/docs") == 0)
		return GW_R_DOCS;
	if (strcmp(url, "/metrics") == 0)
		return GW_R_METRICS;
	return GW_R_NONE;
}

const char *gw_route_allow(gw_route r)
{
	return r == GW_R_FILE ? "GET, HEAD, DELETE" : "GET, HEAD";
}

bool gw_route_preflight_ok(const char *method, gw_route r)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	    (strcmp(method, "DELETE") == 0 && (r == GW_R_FILE || r == GW_R_NONE));
}

bool gw_route_path_safe(const char *url)
{
	if (url[0] != '/' || strlen(url) > 1024)
		return false;
	for (const char *p = url; *p; p++)
		if (*p == '\\' || (unsigned char) *p < 0x20)
			return false;
	/* no ".." or "." segment */
	const char *s = url;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t) (e - s) : strlen(s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
	}
	return true;
}

const char *gw_route_mime(const char *path)
{
	static const struct {
		const char *ext, *type;
	} t[] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		{".json", "application/json"}, {".map", "application/json"},
		{".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
		{".jpeg", "image/jpeg"}, {".gif", "image/gif"}, {".ico", "image/x-icon"},
		{".webp", "image/webp"}, {".woff", "font/woff"}, {".woff2", "font/woff2"},
		{".ttf", "font/ttf"}, {".txt", "text/plain; charset=utf-8"},
		{".wasm", "application/wasm"}, {".wav", "audio/wav"},
		{".webmanifest", "application/manifest+json"},
	};
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (dot != NULL && (slash == NULL || dot > slash))
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (strcasecmp(dot, t[i].ext) == 0)
				return t[i].type;
	return "application/octet-stream";
}
