/* pyc_health.h - the health probes behind each service's `--health` mode.
 *
 * NOTES: a container healthcheck runs the service's own binary with
 * `--health` (no curl in the images). A probe answers within its timeout
 * and says PYC_OK only when the service would serve a real request: the
 * recorder answers a health request on its control socket; a TCP port
 * accepts a connection.
 */
#ifndef PYC_HEALTH_H
#define PYC_HEALTH_H

#include <stddef.h>

#include "pyc_err.h"

/* Connects to host:port over TCP within timeout_ms. */
pyc_err pyc_health_tcp(const char *host, int port, int timeout_ms);

/* Sends a health request to the req/rep service at url and waits at most
 * timeout_ms for its reply; PYC_OK if the reply says ok. If json is not
 * NULL, the reply's JSON (NUL-terminated, truncated to cap) is copied. */
pyc_err pyc_health_request(const char *url, int timeout_ms, char *json, size_t cap);

#endif /* PYC_HEALTH_H */
