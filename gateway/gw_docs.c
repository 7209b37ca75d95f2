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
#include "gw_buf.h"

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

static void esc(gw_buf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '<':
			gw_buf_puts(b, "&lt;");
			break;
		case '>':
			gw_buf_puts(b, "&gt;");
			break;
		case '&':
			gw_buf_puts(b, "&amp;");
			break;
		case '"':
			gw_buf_puts(b, "&quot;");
			break;
		default:
			gw_buf_put(b, s, 1);
		}
	}
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void schema_text(gw_buf *b, const cJSON *schema)
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
		gw_buf_puts(b, " of ");
		schema_text(b, cJSON_GetObjectItemCaseSensitive(schema, "items"));
	}
}

static void render_op(gw_buf *b, const char *path, const char *method, const cJSON *op)
{
	char up[16];
	size_t i;
	for (i = 0; method[i] && i < sizeof(up) - 1; i++)
		up[i] = (char) (method[i] >= 'a' && method[i] <= 'z' ? method[i] - 32 : method[i]);
	up[i] = '\0';
	gw_buf_puts(b, "<section class=\"op\"><h3><span class=\"m m-");
	esc(b, method);
	gw_buf_puts(b, "\">");
	esc(b, up);
	gw_buf_puts(b, "</span> <code>");
	esc(b, path);
	gw_buf_puts(b, "</code></h3>");
	if (str(op, "summary")) {
		gw_buf_puts(b, "<p class=\"sum\">");
		esc(b, str(op, "summary"));
		gw_buf_puts(b, "</p>");
	}
	if (str(op, "description")) {
		gw_buf_puts(b, "<p>");
		esc(b, str(op, "description"));
		gw_buf_puts(b, "</p>");
	}
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(op, "parameters");
	if (cJSON_IsArray(params) && cJSON_GetArraySize(params) > 0) {
		gw_buf_puts(b, "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th>"
			 "<th>type</th><th>description</th></tr>");
		const cJSON *p;
		cJSON_ArrayForEach(p, params)
		{
			const cJSON *req = cJSON_GetObjectItemCaseSensitive(p, "required");
			gw_buf_puts(b, "<tr><td><code>");
			esc(b, str(p, "name"));
			gw_buf_puts(b, "</code></td><td>");
			esc(b, str(p, "in"));
			gw_buf_puts(b, "</td><td>");
			gw_buf_puts(b, cJSON_IsTrue(req) ? "yes" : "no");
			gw_buf_puts(b, "</td><td>");
			schema_text(b, cJSON_GetObjectItemCaseSensitive(p, "schema"));
			gw_buf_puts(b, "</td><td>");
			esc(b, str(p, "description"));
			gw_buf_puts(b, "</td></tr>");
		}
		gw_buf_puts(b, "</table>");
	}
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(op, "responses");
	if (cJSON_IsObject(resp)) {
		gw_buf_puts(b, "<h4>Responses</h4><table><tr><th>status</th><th>description</th>"
			 "<th>content</th></tr>");
		const cJSON *r;
		cJSON_ArrayForEach(r, resp)
		{
			gw_buf_puts(b, "<tr><td>");
			esc(b, r->string);
			gw_buf_puts(b, "</td><td>");
			esc(b, str(r, "description"));
			gw_buf_puts(b, "</td><td>");
			const cJSON *content = cJSON_GetObjectItemCaseSensitive(r, "content");
			const cJSON *ct;
			cJSON_ArrayForEach(ct, content)
			{
				gw_buf_puts(b, "<code>");
				esc(b, ct->string);
				gw_buf_puts(b, "</code> ");
				schema_text(b, cJSON_GetObjectItemCaseSensitive(ct, "schema"));
				gw_buf_puts(b, " ");
			}
			gw_buf_puts(b, "</td></tr>");
		}
		gw_buf_puts(b, "</table>");
	}
	gw_buf_puts(b, "</section>\n");
}

pyc_err gw_docs_render(char **html, size_t *len)
{
	size_t n;
	const char *doc = gw_docs_openapi(&n);
	cJSON *root = cJSON_ParseWithLength(doc, n);
	gw_buf b = {0};

	if (root == NULL)
		return PYC_EINVAL;
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "info");
	gw_buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
	esc(&b, str(info, "title"));
	gw_buf_puts(&b, " API</title><style>"
		  "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
		  "code{font-family:ui-monospace,monospace;background:#f1f3f5;padding:0 .25em;border-radius:3px}"
		  ".op{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}"
		  ".m{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:4px;padding:0 .4em;font-size:.85em}"
		  ".m-get{background:#1f6feb}.m-delete{background:#cf222e}.m-post{background:#1a7f37}"
		  "table{border-collapse:collapse;width:100%;margin:.25rem 0 .75rem}"
		  "th,td{border-bottom:1px solid #e5e7eb;text-align:left;padding:.25rem .5rem;vertical-align:top}"
		  ".sum{font-weight:600}</style></head><body><h1>");
	esc(&b, str(info, "title"));
	gw_buf_puts(&b, " <small>");
	esc(&b, str(info, "version"));
	gw_buf_puts(&b, "</small></h1><p>");
	esc(&b, str(info, "description"));
	gw_buf_puts(&b, "</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI ");
	esc(&b, str(root, "openapi"));
	gw_buf_puts(&b, ").</p><h2>Routes</h2>\n");

	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	const cJSON *path;
	cJSON_ArrayForEach(path, paths)
	{
		const cJSON *op;
		cJSON_ArrayForEach(op, path)
		    render_op(&b, path->string, op->string, op);
	}
	gw_buf_puts(&b, "<h2>Schemas</h2>\n");
	const cJSON *schemas = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "components"), "schemas");
	const cJSON *s;
	cJSON_ArrayForEach(s, schemas)
	{
		gw_buf_puts(&b, "<section class=\"op\"><h3><code>");
		esc(&b, s->string);
		gw_buf_puts(&b, "</code></h3><table><tr><th>field</th><th>type</th><th>description</th></tr>");
		const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
		const cJSON *p;
		cJSON_ArrayForEach(p, props)
		{
			gw_buf_puts(&b, "<tr><td><code>");
			esc(&b, p->string);
			gw_buf_puts(&b, "</code></td><td>");
			schema_text(&b, p);
			gw_buf_puts(&b, "</td><td>");
			esc(&b, str(p, "description"));
			gw_buf_puts(&b, "</td></tr>");
		}
		gw_buf_puts(&b, "</table></section>\n");
	}
	gw_buf_puts(&b, "</body></html>\n");
	cJSON_Delete(root);
	if (b.oom) {
		free(b.p);
		return PYC_ENOMEM;
	}
	*html = b.p;
	*len = b.len;
	return PYC_OK;
}
