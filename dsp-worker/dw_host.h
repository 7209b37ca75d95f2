/* dw_host.h - the dsp-worker host: a supervised pool of worker processes.
 *
 * NOTES: modelled on the PostgreSQL postmaster. The host keeps
 * DSP_POOL_SPARE idle workers ready (at most DSP_POOL_MAX processes), each
 * a fork+exec of its own binary in worker mode, tracked in a fixed table
 * of slots (pid, state, session id prefix). Signal handlers only set flags;
 * the main loop reaps with waitpid(-1, WNOHANG), replaces workers and sends
 * the gateway host_hello (capacity and load) on connect and every second.
 * The host never forks a child that goes on using nng: the child only
 * execs, so nng's threads in the host do not matter (docs/dsp-worker.md).
 */
#ifndef DW_HOST_H
#define DW_HOST_H

#include "pyc_config.h"

/* Notes a worker sends its host, one SOCK_SEQPACKET datagram each, text:
 *   "idle"                      started, waiting for a session
 *   "busy <sid8> <rate> <ch>"   serving a session (sent again on init)
 *   "done"                      the session ended; exiting
 */
#define DW_NOTE_MAX 96

/* Grace between SIGTERM to the workers and SIGKILL on shutdown. */
#define DW_HOST_GRACE_MS 10000

/* Runs the host until SIGTERM/SIGINT. self_exe is the binary to exec for
 * workers ("/proc/self/exe" works). Returns the exit code (0 normal, 1
 * orderly failure). */
int dw_host_main(const pyc_config *cfg, const char *self_exe);

/* The --health probe: 0 if the gateway URL can be dialled within
 * timeout_ms, else 1 (message on stderr). */
int dw_host_health(const pyc_config *cfg, int timeout_ms);

#endif /* DW_HOST_H */
