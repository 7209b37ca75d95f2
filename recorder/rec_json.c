/* rec_json.c - recording rows, lists and health as JSON text.
 *
 * NOTES: every JSON text the recorder produces is built here with cJSON,
 * never by printf, so a value can never break the syntax. Settings text
 * that no longer parses (a hand-edited database) is emitted as {} rather
 * than failing the whole list.
 */
#include "rec_json.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

pyc_err rec_json_settings_check(const char *text)
{
	cJSON *j;
	int ok;

	if (text == NULL)
		return PYC_EINVAL;
	/* Trailing bytes after the object are an error, not ignored. */
	j = cJSON_ParseWithOpts(text, NULL, 1);
	ok = j != NULL && cJSON_IsObject(j);
	cJSON_Delete(j);
	return ok ? PYC_OK : PYC_EINVAL;
}

static cJSON *row_object(const rec_row *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *s;

	if (o == NULL)
		return NULL;
	s = cJSON_Parse(r->settings);
	if (s == NULL || !cJSON_IsObject(s)) {
		cJSON_Delete(s);
		s = cJSON_CreateObject();
	}
	if (cJSON_AddNumberToObject(o, "id", (double) r->id) == NULL ||
	    cJSON_AddStringToObject(o, "filename", r->filename) == NULL ||
	    cJSON_AddNumberToObject(o, "duration_seconds", r->duration_s) == NULL ||
	    cJSON_AddStringToObject(o, "timestamp", r->created) == NULL ||
	    cJSON_AddStringToObject(o, "session_id", r->session_id) == NULL ||
	    s == NULL || !cJSON_AddItemToObject(o, "settings", s) ||
	    cJSON_AddNumberToObject(o, "channels", r->channels) == NULL ||
	    cJSON_AddNumberToObject(o, "sample_rate", r->sample_rate) == NULL ||
	    cJSON_AddNumberToObject(o, "frames", (double) r->frames) == NULL ||
	    cJSON_AddNumberToObject(o, "size_bytes", (double) r->size_bytes) == NULL ||
	    cJSON_AddStringToObject(o, "state", rec_state_name(r->state)) == NULL) {
		if (s != NULL && cJSON_GetObjectItemCaseSensitive(o, "settings") != s)
			cJSON_Delete(s);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static pyc_err print(cJSON *j, char **out, size_t *len)
{
	char *t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (t == NULL)
		return PYC_ENOMEM;
	*out = t;
	*len = strlen(t);
	return PYC_OK;
}

pyc_err rec_json_row(const rec_row *row, char **out, size_t *len)
{
	cJSON *o = row_object(row);
	return o != NULL ? print(o, out, len) : PYC_ENOMEM;
}

pyc_err rec_json_list(const rec_row *rows, size_t n, char **out, size_t *len)
{
	cJSON *a = cJSON_CreateArray();

	if (a == NULL)
		return PYC_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = row_object(&rows[i]);
		if (o == NULL || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return PYC_ENOMEM;
		}
	}
	return print(a, out, len);
}

pyc_err rec_json_health(const rec_health *h, char **out, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *lat;

	if (o == NULL)
		return PYC_ENOMEM;
	if (cJSON_AddStringToObject(o, "status", h->db_ok ? "ok" : "degraded") == NULL ||
	    cJSON_AddNumberToObject(o, "recordings_open", (double) h->recordings_open) == NULL ||
	    cJSON_AddStringToObject(o, "db", h->db_ok ? "ok" : "error") == NULL ||
	    cJSON_AddNumberToObject(o, "disk_free_bytes", (double) h->disk_free_bytes) == NULL ||
	    cJSON_AddNumberToObject(o, "appends", (double) h->appends) == NULL ||
	    cJSON_AddNumberToObject(o, "bytes_written", (double) h->bytes_written) == NULL ||
	    cJSON_AddNumberToObject(o, "queued_blocks", (double) h->queued_blocks) == NULL ||
	    cJSON_AddNumberToObject(o, "recordings_failed", (double) h->failed) == NULL ||
	    (lat = cJSON_AddObjectToObject(o, "append_latency_us")) == NULL ||
	    cJSON_AddNumberToObject(lat, "p50", (double) h->lat_p50_us) == NULL ||
	    cJSON_AddNumberToObject(lat, "p99", (double) h->lat_p99_us) == NULL ||
	    cJSON_AddNumberToObject(lat, "max", (double) h->lat_max_us) == NULL) {
		cJSON_Delete(o);
		return PYC_ENOMEM;
	}
	return print(o, out, len);
}
