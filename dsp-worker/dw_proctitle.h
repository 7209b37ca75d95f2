/* dw_proctitle.h - the process title ps and /proc/PID/cmdline show.
 *
 * NOTES: PostgreSQL ps_status.c's approach on Linux: the argv strings and,
 * right after them, the environment strings form one contiguous area that
 * the kernel reports as the command line. dw_proctitle_init moves environ
 * to the heap and dw_proctitle_set writes the title over the whole area,
 * padded with NULs, so /proc/PID/cmdline reads exactly the title. The
 * kernel's 16-byte comm (top, ps -o comm) is set with PR_SET_NAME too.
 */
#ifndef DW_PROCTITLE_H
#define DW_PROCTITLE_H

/* Takes over the argv/environ area. Call once, first thing in main, before
 * anything keeps pointers into argv or the environment; afterwards argv[i]
 * is still readable until the first dw_proctitle_set. */
void dw_proctitle_init(int argc, char **argv);

/* Sets the title (truncated to the area; printf-like). comm gets the first
 * 15 bytes of comm_name when it is not NULL. */
void dw_proctitle_set(const char *comm_name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The title last set ("" before). */
const char *dw_proctitle_get(void);

#endif /* DW_PROCTITLE_H */
