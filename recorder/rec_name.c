/* rec_name.c - recording file names, time stamps and clocks.
 *
 * NOTES: rec_name_valid is a hand-written matcher for
 * ^rec_[0-9]{8}T[0-9]{6}Z_[A-Za-z0-9_-]{22}\.wav$ rather than a regex
 * library call: it reads at most REC_NAME_LEN + 1 bytes of its input, so
 * an unterminated or huge string costs nothing, and it is easy to audit.
 */
#include "rec_name.h"

#include <stdio.h>
#include <string.h>

#include "pyc_id.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_idchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
	    c == '_' || c == '-';
}

/* Checks the first REC_NAME_LEN bytes of s; does not look past them. */
static bool prefix_valid(const char *s)
{
	static const char head[] = "rec_";
	size_t i;

	for (i = 0; i < 4; i++)
		if (s[i] != head[i])
			return false;
	for (; i < 12; i++)
		if (!is_digit(s[i]))
			return false;
	if (s[i++] != 'T')
		return false;
	for (; i < 19; i++)
		if (!is_digit(s[i]))
			return false;
	if (s[i++] != 'Z' || s[i++] != '_')
		return false;
	for (; i < 43; i++)
		if (!is_idchar(s[i]))
			return false;
	return memcmp(s + 43, ".wav", 4) == 0;
}

bool rec_name_valid(const char *s)
{
	if (s == NULL || strnlen(s, REC_NAME_LEN + 1) != REC_NAME_LEN)
		return false;
	return prefix_valid(s);
}

bool rec_name_is_part(const char *s, char *base)
{
	size_t n = strlen(REC_PART_SUFFIX);

	if (s == NULL || strnlen(s, REC_NAME_LEN + n + 1) != REC_NAME_LEN + n)
		return false;
	if (!prefix_valid(s) || strcmp(s + REC_NAME_LEN, REC_PART_SUFFIX) != 0)
		return false;
	if (base != NULL) {
		memcpy(base, s, REC_NAME_LEN);
		base[REC_NAME_LEN] = '\0';
	}
	return true;
}

void rec_name_part(const char *name, char out[REC_NAME_MAX + 1])
{
	snprintf(out, REC_NAME_MAX + 1, "%s%s", name, REC_PART_SUFFIX);
}

pyc_err rec_name_new(time_t t, char out[REC_NAME_MAX + 1])
{
	char id[PYC_ID_STRLEN + 1];
	struct tm tm;
	pyc_err rv;

	if ((rv = pyc_id_new(id)) != PYC_OK)
		return rv;
	char stamp[REC_TIME_MAX];

	gmtime_r(&t, &tm);
	if (strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return PYC_EINVAL;
	snprintf(out, REC_NAME_MAX + 1, "rec_%s_%s.wav", stamp, id);
	return rec_name_valid(out) ? PYC_OK : PYC_EINVAL;
}

void rec_time_iso(time_t t, char out[REC_TIME_MAX])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(out, REC_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

int64_t rec_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rec_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
