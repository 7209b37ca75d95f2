/* bench_util.c - /proc readers of bench_util.h.
 *
 * NOTES: a stat line is "pid (comm) state ppid ...": comm may hold spaces
 * and parentheses, so the fields are read after the last ')'. Its utime +
 * stime are whole clock ticks (10 ms), rounded down per process: summed
 * over a hundred short-lived workers that is up to a second lost, so a
 * process's total CPU is read from its CPU-time clock instead
 * (clock_getcpuclockid, nanoseconds), the ticks only where a split by
 * thread is wanted.
 */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Reads a stat file into buf; returns the fields after "(comm) ", the
 * first being the state, or NULL. */
static const char *stat_fields(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p + 2 : NULL;
}

long long bench_stat_ticks(const char *path)
{
	char buf[1024];
	const char *p = stat_fields(path, buf, sizeof(buf));
	unsigned long ut = 0, st = 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime */
	if (p == NULL ||
	    sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (long long) (ut + st);
}

long long bench_proc_ticks(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return bench_stat_ticks(path);
}

double bench_proc_cpu_s(int pid)
{
	clockid_t clk;
	struct timespec ts;
	if (clock_getcpuclockid((pid_t) pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
		return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
	return (double) bench_proc_ticks(pid) / (double) sysconf(_SC_CLK_TCK);
}

int bench_proc_ppid(int pid)
{
	char path[64], buf[1024];
	int ppid = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	const char *p = stat_fields(path, buf, sizeof(buf));
	if (p == NULL || sscanf(p, "%*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

long bench_private_kb(int pid)
{
	char path[64], line[256];
	long kb = 0, v;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 ||
		    sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

long bench_status_kb(int pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

double bench_self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
	    (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}
