/* rec_json.h - the JSON the recorder answers with (built with cJSON).
 *
 * NOTES: the list and metadata objects are what the public HTTP API
 * returns verbatim (DESIGN.md "Public contract 2"), so their field names
 * are the earlier system's: id, filename, duration_seconds, timestamp,
 * session_id, settings (an object), channels, plus sample_rate, frames,
 * size_bytes and state. settings is stored as the text the worker sent
 * and emitted as an object. Results are malloc'd text, freed with free().
 */
#ifndef REC_JSON_H
#define REC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "pyc_err.h"
#include "rec_db.h"

/* PYC_OK if text is a JSON object (what rec_start's settings must be). */
pyc_err rec_json_settings_check(const char *text);

/* One row as a JSON object. */
pyc_err rec_json_row(const rec_row *row, char **out, size_t *len);

/* Rows as a JSON array, in the order given. */
pyc_err rec_json_list(const rec_row *rows, size_t n, char **out, size_t *len);

typedef struct rec_health {
	int db_ok;
	uint64_t recordings_open;
	uint64_t disk_free_bytes;
	uint64_t appends;
	uint64_t bytes_written;
	uint64_t queued_blocks;
	uint64_t failed;
	uint64_t lat_p50_us, lat_p99_us, lat_max_us; /* append receive -> queued */
} rec_health;

/* {"status":"ok","recordings_open":N,"db":"ok","disk_free_bytes":...,...} */
pyc_err rec_json_health(const rec_health *h, char **out, size_t *len);

#endif /* REC_JSON_H */
