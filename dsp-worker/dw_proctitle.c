/* dw_proctitle.c - overwriting the argv area so ps names a worker's session.
 *
 * NOTES: see dw_proctitle.h. The area runs from argv[0] to the end of the
 * last environment string that directly follows it (PostgreSQL
 * save_ps_display_args). The environment and the argv strings are copied
 * to the heap first (environ and argv[] point at the copies), so getenv
 * and the caller's argv keep working after the overwrite. The title is
 * padded with NULs to the end of the area: Linux then reports it as the
 * whole command line.
 */
#include "dw_proctitle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *area;      /* start of the argv area, NULL if unusable */
static size_t area_len; /* bytes of the area */
static char title[256];

void dw_proctitle_init(int argc, char **argv)
{
	char *start;
	char *end = NULL;
	int n = 0;

	if (argc <= 0 || argv == NULL || argv[0] == NULL)
		return;
	start = argv[0];
	for (int i = 0; i < argc; i++) {
		if (i == 0 || argv[i] == end + 1)
			end = argv[i] + strlen(argv[i]);
	}
	while (environ != NULL && environ[n] != NULL) {
		if (environ[n] == end + 1)
			end = environ[n] + strlen(environ[n]);
		n++;
	}
	char **copy = malloc(sizeof(char *) * (size_t) (n + 1));
	if (copy == NULL)
		return;
	for (int i = 0; i < n; i++) {
		if ((copy[i] = strdup(environ[i])) == NULL)
			return; /* leave the area alone; the partial copy leaks */
	}
	copy[n] = NULL;
	for (int i = 0; i < argc; i++) {
		char *d = strdup(argv[i]);
		if (d == NULL)
			return;
		argv[i] = d;
	}
	environ = copy;
	area = start;
	area_len = (size_t) (end - start) + 1;
}

void dw_proctitle_set(const char *comm_name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	if (comm_name != NULL) {
		char comm[16];
		snprintf(comm, sizeof(comm), "%s", comm_name);
		prctl(PR_SET_NAME, comm, 0, 0, 0);
	}
	if (area == NULL || area_len < 2)
		return;
	size_t l = strlen(title);
	if (l > area_len - 1)
		l = area_len - 1;
	memcpy(area, title, l);
	memset(area + l, 0, area_len - l);
}

const char *dw_proctitle_get(void)
{
	return title;
}
