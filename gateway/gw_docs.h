/* gw_docs.h - the OpenAPI document and the /docs page rendered from it.
 *
 * NOTES: gateway/openapi.json is the one description of the HTTP routes; it
 * is compiled in (a byte array made by CMake) so the binary needs no data
 * files, and the /docs page is rendered from it once at start: a
 * self-contained HTML page, no script, no CDN.
 */
#ifndef GW_DOCS_H
#define GW_DOCS_H

#include <stddef.h>

#include "pyc_err.h"

/* The OpenAPI document (static; not NUL-terminated), *len its length. */
const char *gw_docs_openapi(size_t *len);

/* Renders the HTML page from the OpenAPI document. On PYC_OK *html is
 * malloc'd (caller frees), *len its length. */
pyc_err gw_docs_render(char **html, size_t *len);

#endif /* GW_DOCS_H */
