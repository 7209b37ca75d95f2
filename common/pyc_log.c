/* pyc_log.c - the writer behind pyc_log().
 *
 * NOTES: a line is formatted into a bounded stack buffer and written with a
 * single write(2), so lines from several processes sharing stderr do not
 * interleave. JSON lines are built with cJSON, so the message is escaped
 * the way every other JSON the project writes is.
 */
#include "pyc_log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

volatile int pyc_log_min_level = PYC_LOG_INFO;
static char log_service[32] = "pycoustics";
static pyc_log_format log_format = PYC_LOG_TEXT;

static const char *level_names[] = {"debug", "info", "warn", "error"};

void pyc_log_init(const char *service, pyc_log_level level, pyc_log_format fmt)
{
	if (service != NULL) {
		strncpy(log_service, service, sizeof(log_service) - 1);
		log_service[sizeof(log_service) - 1] = '\0';
	}
	pyc_log_min_level = (int) level;
	log_format = fmt;
}

int pyc_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return PYC_LOG_WARN;
	return -1;
}

void pyc_log_write(pyc_log_level level, const char *fmt, ...)
{
	char msg[1024];
	char line[2304];
	char ts[40];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if ((unsigned) level > PYC_LOG_ERROR)
		level = PYC_LOG_ERROR;

	if (log_format == PYC_LOG_JSON) {
		char tbuf[96];
		cJSON *o = cJSON_CreateObject();
		char *txt = NULL;
		snprintf(tbuf, sizeof(tbuf), "%s.%03ldZ", ts, (long) (tv.tv_usec / 1000));
		if (o != NULL && cJSON_AddStringToObject(o, "time", tbuf) &&
		    cJSON_AddStringToObject(o, "level", level_names[level]) &&
		    cJSON_AddStringToObject(o, "service", log_service) &&
		    cJSON_AddNumberToObject(o, "pid", (double) getpid()) &&
		    cJSON_AddStringToObject(o, "msg", msg))
			txt = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (txt == NULL)
			return;
		n = snprintf(line, sizeof(line), "%s\n", txt);
		cJSON_free(txt);
	} else {
		n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%ld] %s: %s\n", ts,
		    (long) (tv.tv_usec / 1000), log_service, (long) getpid(),
		    level_names[level], msg);
	}
	if (n < 0)
		return;
	if ((size_t) n >= sizeof(line)) {
		n = (int) sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, line, (size_t) n);
	(void) w;
}
