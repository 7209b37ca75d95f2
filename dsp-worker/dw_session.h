/* dw_session.h - a worker process: serves exactly one session, then exits.
 *
 * NOTES: the host starts each worker as a fresh exec of its own binary
 * (`pyc-dsp-worker --worker FD PPID`), so the worker creates nng and its
 * threads in a clean address space and shares no memory with anyone. The
 * worker dials the gateway with its own pair1 socket and offers itself
 * (worker_hello) whenever its pipe comes up while idle; session_open binds
 * it to one session; everything of that session then arrives on that one
 * ordered pipe and is applied in order (docs/dsp-worker.md). It dials the
 * recorder at start, off the session's critical path, and streams the
 * processed audio there while recording. It tells the host over the
 * inherited socket FD when it becomes busy and notices the host's death by
 * EOF on FD and by PR_SET_PDEATHSIG (SIGTERM).
 */
#ifndef DW_SESSION_H
#define DW_SESSION_H

#include <sys/types.h>

#include "pyc_config.h"

/* Runs a worker until its session ends (or the gateway, the host or a
 * SIGTERM ends it). host_fd is the worker's end of the host socket (-1:
 * none, for a worker run by hand); host_pid the pid expected as parent (0:
 * don't check). Returns the process exit code: 0 normal, 1 orderly
 * failure. */
int dw_session_main(const pyc_config *cfg, int host_fd, pid_t host_pid);

#endif /* DW_SESSION_H */
