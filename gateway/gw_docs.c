/* gw_docs.c - the compiled-in OpenAPI document and its HTML rendering
 * (gw_docs.h).
 *
 * NOTES: the page lists each route with its summary, description,
 * parameters and responses, and the schemas at the end, all escaped for
 * HTML. cJSON is used here to walk the document (and in gw_proto.c for
 * client commands); it keeps object members in document order, so the
 * page follows the document.
 */
#include "gw_docs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

extern const unsigned char gw_openapi_json[];
extern const size_t gw_openapi_json_len;

const char *gw_docs_openapi(size_t *len)
{
	*len = gw_openapi_json_len;
	return (const char *) gw_openapi_json;
}

typedef struct sb {
	char *p;
	size_t len, cap;
	int oom;
} sb;

static void put(sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 8192;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *q = realloc(b->p, nc);
		if (q == NULL) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(sb *b, const char *s)
{
	put(b, s, strlen(s));
}

static void esc(sb *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '<':
			puts_(b, "&lt;");
			break;
		case '>':
			puts_(b, "&gt;");
			break;
		case '&':
			puts_(b, "&amp;");
			break;
		case '"':
			puts_(b, "&quot;");
			break;
		default:
			put(b, s, 1);
		}
	}
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void schema_text(sb *b, const cJSON *schema)
{
	const char *ref = str(schema, "$ref");
	if (ref != NULL) {
		const char *slash = strrchr(ref, '/');
		esc(b, slash ? slash + 1 : ref);
		return;
	}
	const char *t = str(schema, "type");
	esc(b, t ? t : "");
	if (t != NULL && strcmp(t, "array") == 0) {
		puts_(b, " of ");
		schema_text(b, cJSON_GetObjectItemCaseSensitive(schema, "items"));
	}
}

static void render_op(sb *b, const char *path, const char *method, const cJSON *op)
{
	char up[16];
	size_t i;
	for (i = 0; method[i] && i < sizeof(up) - 1; i++)
		up[i] = (char) (method[i] >= 'a' && method[i] <= 'z' ? method[i] - 32 : method[i]);
	up[i] = '\0';
	puts_(b, "<section class=\"op\"><h3><span class=\"m m-");
	esc(b, method);
	puts_(b, "\">");
	esc(b, up);
	puts_(b, "</span> <code>");
	esc(b, path);
	puts_(b, "</code></h3>");
	if (str(op, "summary")) {
		puts_(b, "<p class=\"sum\">");
		esc(b, str(op, "summary"));
		puts_(b, "</p>");
	}
	if (str(op, "description")) {
		puts_(b, "<p>");
		esc(b, str(op, "description"));
		puts_(b, "</p>");
	}
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(op, "parameters");
	if (cJSON_IsArray(params) && cJSON_GetArraySize(params) > 0) {
		puts_(b, "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th>"
			 "<th>type</th><th>description</th></tr>");
		const cJSON *p;
		cJSON_ArrayForEach(p, params)
		{
			const cJSON *req = cJSON_GetObjectItemCaseSensitive(p, "required");
			puts_(b, "<tr><td><code>");
			esc(b, str(p, "name"));
			puts_(b, "</code></td><td>");
			esc(b, str(p, "in"));
			puts_(b, "</td><td>");
			puts_(b, cJSON_IsTrue(req) ? "yes" : "no");
			puts_(b, "</td><td>");
			schema_text(b, cJSON_GetObjectItemCaseSensitive(p, "schema"));
			puts_(b, "</td><td>");
			esc(b, str(p, "description"));
			puts_(b, "</td></tr>");
		}
		puts_(b, "</table>");
	}
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(op, "responses");
	if (cJSON_IsObject(resp)) {
		puts_(b, "<h4>Responses</h4><table><tr><th>status</th><th>description</th>"
			 "<th>content</th></tr>");
		const cJSON *r;
		cJSON_ArrayForEach(r, resp)
		{
			puts_(b, "<tr><td>");
			esc(b, r->string);
			puts_(b, "</td><td>");
			esc(b, str(r, "description"));
			puts_(b, "</td><td>");
			const cJSON *content = cJSON_GetObjectItemCaseSensitive(r, "content");
			const cJSON *ct;
			cJSON_ArrayForEach(ct, content)
			{
				puts_(b, "<code>");
				esc(b, ct->string);
				puts_(b, "</code> ");
				schema_text(b, cJSON_GetObjectItemCaseSensitive(ct, "schema"));
				puts_(b, " ");
			}
			puts_(b, "</td></tr>");
		}
		puts_(b, "</table>");
	}
	puts_(b, "</section>\n");
}

pyc_err gw_docs_render(char **html, size_t *len)
{
	size_t n;
	const char *doc = gw_docs_openapi(&n);
	cJSON *root = cJSON_ParseWithLength(doc, n);
	sb b = {0};

	if (root == NULL)
		return PYC_EINVAL;
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "info");
	puts_(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
	esc(&b, str(info, "title"));
	puts_(&b, " API</title><style>"
		  "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
		  "code{font-family:ui-monospace,monospace;background:#f1f3f5;padding:0 .25em;border-radius:3px}"
		  ".op{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}"
		  ".m{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:4px;padding:0 .4em;font-size:.85em}"
		  ".m-get{background:#1f6feb}.m-delete{background:#cf222e}.m-post{background:#1a7f37}"
		  "table{border-collapse:collapse;width:100%;margin:.25rem 0 .75rem}"
		  "th,td{border-bottom:1px solid #e5e7eb;text-align:left;padding:.25rem .5rem;vertical-align:top}"
		  ".sum{font-weight:600}</style></head><body><h1>");
	esc(&b, str(info, "title"));
	puts_(&b, " <small>");
	esc(&b, str(info, "version"));
	puts_(&b, "</small></h1><p>");
	esc(&b, str(info, "description"));
	puts_(&b, "</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI ");
	esc(&b, str(root, "openapi"));
	puts_(&b, ").</p><h2>Routes</h2>\n");

	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	const cJSON *path;
	cJSON_ArrayForEach(path, paths)
	{
		const cJSON *op;
		cJSON_ArrayForEach(op, path)
		    render_op(&b, path->string, op->string, op);
	}
	puts_(&b, "<h2>Schemas</h2>\n");
	const cJSON *schemas = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "components"), "schemas");
	const cJSON *s;
	cJSON_ArrayForEach(s, schemas)
	{
		puts_(&b, "<section class=\"op\"><h3><code>");
		esc(&b, s->string);
		puts_(&b, "</code></h3><table><tr><th>field</th><th>type</th><th>description</th></tr>");
		const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
		const cJSON *p;
		cJSON_ArrayForEach(p, props)
		{
			puts_(&b, "<tr><td><code>");
			esc(&b, p->string);
			puts_(&b, "</code></td><td>");
			schema_text(&b, p);
			puts_(&b, "</td><td>");
			esc(&b, str(p, "description"));
			puts_(&b, "</td></tr>");
		}
		puts_(&b, "</table></section>\n");
	}
	puts_(&b, "</body></html>\n");
	cJSON_Delete(root);
	if (b.oom) {
		free(b.p);
		return PYC_ENOMEM;
	}
	*html = b.p;
	*len = b.len;
	return PYC_OK;
}
