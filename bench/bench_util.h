/* bench_util.h - what the benchmarks read about processes from /proc.
 *
 * NOTES: the benchmarks share the machine with what they measure, so they
 * read the kernel's own accounting rather than timing anything themselves:
 * a process's CPU-time clock, utime + stime from a stat file (a thread's),
 * the parent pid, private memory from smaps_rollup, and a line of
 * /proc/PID/status. A process that has gone reads as zero (or -1 where
 * said), so a worker that exits mid-run does not stop the figures.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

/* utime + stime in clock ticks from a stat file (/proc/PID/stat or
 * /proc/PID/task/TID/stat); 0 if it cannot be read. */
long long bench_stat_ticks(const char *path);
/* The same for process pid. */
long long bench_proc_ticks(int pid);
/* CPU seconds of process pid, all its threads, from its CPU-time clock
 * (nanoseconds; bench_proc_ticks / _SC_CLK_TCK if that cannot be read). */
double bench_proc_cpu_s(int pid);
/* The parent of pid; 0 if it cannot be read. */
int bench_proc_ppid(int pid);
/* Private_Clean + Private_Dirty of pid in KiB; -1 if it cannot be read. */
long bench_private_kb(int pid);
/* The value in kB of the line starting with key (e.g. "VmHWM:") in
 * /proc/PID/status; -1 if absent. */
long bench_status_kb(int pid, const char *key);
/* User + system CPU seconds of this process. */
double bench_self_cpu_s(void);

#endif /* BENCH_UTIL_H */
