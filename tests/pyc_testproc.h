/* pyc_testproc.h - starting and stopping the real service processes in tests.
 *
 * NOTES: integration tests run the real binaries on ipc:// addresses in a
 * temporary folder and on free loopback ports. Every wait here is bounded;
 * a process that does not stop in time is killed with SIGKILL so a failing
 * test never leaves anything running.
 */
#ifndef PYC_TESTPROC_H
#define PYC_TESTPROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct pyc_proc {
	pid_t pid;
	char name[64];
	int status; /* waitpid status once reaped */
	bool reaped;
} pyc_proc;

/* Starts the binary at path (relative paths are taken under the CMake
 * binary dir) with argv (argv[0] may be NULL: the path is used) and the
 * current environment plus env ("NAME=value" strings, NULL-terminated;
 * env may be NULL). Its stdout/stderr go to the test's stderr. Returns 0. */
int pyc_proc_start(pyc_proc *p, const char *path, char *const argv[], char *const env[]);

/* Sends sig, waits up to timeout_ms for exit, then SIGKILLs and reaps.
 * Returns the waitpid status. Safe to call on a reaped process. */
int pyc_proc_stop(pyc_proc *p, int sig, int timeout_ms);

/* Waits up to timeout_ms for the process to exit by itself; true if it did. */
bool pyc_proc_wait(pyc_proc *p, int timeout_ms);

/* True if the process has not exited (reaps it if it has). */
bool pyc_proc_alive(pyc_proc *p);

/* Any process's state letter (R, S, T, Z...) and parent pid, from
 * /proc/<pid>/stat; false if there is no such process. */
bool pyc_proc_stat(pid_t pid, char *state, pid_t *ppid);

/* A fresh folder under /tmp (pycoustics-test-XXXXXX); caller frees the
 * string. pyc_tmpdir_remove deletes it recursively. */
char *pyc_tmpdir_new(void);
void pyc_tmpdir_remove(const char *dir);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int pyc_free_port(void);

/* A plain Unix stream listener at path (a stale file there is removed
 * first); the descriptor, or -1. */
int pyc_unix_listen(const char *path);

/* Waits up to wait_ms for a connection on lfd, accepts it and closes it
 * at once (a peer that goes away during nng's SP handshake); 1 if one was
 * closed, else 0. */
int pyc_unix_accept_close(int lfd, int wait_ms);

/* Polls until path exists (or timeout_ms passes); true if it does. */
bool pyc_wait_for_path(const char *path, int timeout_ms);

/* Polls until a TCP connect to 127.0.0.1:port succeeds. */
bool pyc_wait_for_port(int port, int timeout_ms);

/* Milliseconds from a monotonic clock. */
long long pyc_now_ms(void);

/* Sleeps ms milliseconds. */
void pyc_sleep_ms(int ms);

/* Runs a Check suite with the default fork mode and unbuffered stdout;
 * the exit status for a test program's main (EXIT_FAILURE if any test
 * failed). Frees the suite. Defined where <check.h> is included first. */
#ifdef CHECK_H
#include <stdio.h>
#include <stdlib.h>
static inline int pyc_check_run(Suite *s)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
#endif

#endif /* PYC_TESTPROC_H */
