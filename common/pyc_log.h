/* pyc_log.h - levelled logging, one line per event on stderr.
 *
 * NOTES: like Redis serverLog, pyc_log() is a macro that checks the level
 * before any formatting happens, so a disabled debug line costs one compare.
 * Each line carries the time, the service name and the pid; LOG_FORMAT=json
 * gives one JSON object per line instead. Never call from a signal handler.
 */
#ifndef PYC_LOG_H
#define PYC_LOG_H

typedef enum pyc_log_level {
	PYC_LOG_DEBUG = 0,
	PYC_LOG_INFO,
	PYC_LOG_WARN,
	PYC_LOG_ERROR,
} pyc_log_level;

typedef enum pyc_log_format {
	PYC_LOG_TEXT = 0,
	PYC_LOG_JSON,
} pyc_log_format;

extern volatile int pyc_log_min_level;

/* Sets the service name (copied), the lowest level written, and the format.
 * May be called again (a forked child renames itself). */
void pyc_log_init(const char *service, pyc_log_level level, pyc_log_format fmt);

/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int pyc_log_level_parse(const char *s);

void pyc_log_write(pyc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define pyc_log(level, ...)                                                  \
	do {                                                                  \
		if ((int) (level) >= pyc_log_min_level)                       \
			pyc_log_write((level), __VA_ARGS__);                  \
	} while (0)

#endif /* PYC_LOG_H */
