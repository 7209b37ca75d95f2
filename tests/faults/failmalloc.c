/* failmalloc.c - an LD_PRELOAD shim that fails the N-th allocation
 * (malloc, calloc, realloc, posix_memalign, aligned_alloc) of a process.
 *
 * NOTES: settings from the environment, read once:
 *   PYC_FAILMALLOC_N=N        fail the N-th counted call (0: count only)
 *   PYC_FAILMALLOC_ARM=path   count only once this file exists (checked
 *                             every 32 calls until it does); unset: count
 *                             from the first call
 *   PYC_FAILMALLOC_HIT=path   on the failure, append "pid N objects\n" to
 *                             it: objects are the file names of the
 *                             shared objects (or program) on the call
 *                             stack, innermost first, joined by '<'
 *                             (libgcc's unwinder and dladdr()), so a failure
 *                             can be told to be inside a library
 *                             (libnng.so.1) or in our code
 *   PYC_FAILMALLOC_REPORT=path at exit, append "pid count\n" to it
 *   PYC_FAILMALLOC_MAIN=1     count only the calls of the main thread
 *                             (gettid() == getpid()): library threads
 *                             (nng's, the HTTP and WebSocket servers')
 *                             race with it, so only this count is the
 *                             same from one run to the next
 * Exactly one call fails (with errno ENOMEM); the ones after it succeed,
 * like a transient shortage. Children inherit the environment, so each
 * exec'd process counts its own calls. The next allocator is found with
 * dlsym(RTLD_NEXT), which may itself allocate: those early calls are
 * served from a small static arena that free() recognises. Built without
 * sanitizers; in a sanitized binary the next allocator is ASan's, so its
 * leak checker still sees every block.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unwind.h>

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);

static char arena[65536] __attribute__((aligned(16)));
static size_t arena_used;
static int resolving;

static long long fail_at;
static const char *arm_path, *hit_path, *report_path;
static int armed, main_only;
static long long count, calls;

static int in_arena(const void *p)
{
	return (const char *) p >= arena && (const char *) p < arena + sizeof(arena);
}

static void *arena_alloc(size_t n)
{
	size_t off = __atomic_fetch_add(&arena_used, (n + 15) & ~(size_t) 15, __ATOMIC_RELAXED);
	if (off + n > sizeof(arena))
		return NULL;
	return arena + off;
}

static void note(const char *path, long long v)
{
	char line[64];
	if (path == NULL)
		return;
	int len = snprintf(line, sizeof(line), "%d %lld\n", (int) getpid(), v);
	int fd = (int) syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (syscall(SYS_write, fd, line, (size_t) len) < 0)
			(void) 0;
		syscall(SYS_close, fd);
	}
}

static char arm_buf[512], hit_buf[512], report_buf[512];

static const char *keep(char *buf, const char *v)
{
	if (v == NULL)
		return NULL;
	snprintf(buf, 512, "%s", v);
	return buf;
}

static void resolve(void)
{
	if (next_malloc != NULL || resolving)
		return;
	resolving = 1;
	next_calloc = (void *(*)(size_t, size_t)) dlsym(RTLD_NEXT, "calloc");
	next_realloc = (void *(*)(void *, size_t)) dlsym(RTLD_NEXT, "realloc");
	next_free = (void (*)(void *)) dlsym(RTLD_NEXT, "free");
	next_posix_memalign = (int (*)(void **, size_t, size_t)) dlsym(RTLD_NEXT, "posix_memalign");
	next_aligned_alloc = (void *(*)(size_t, size_t)) dlsym(RTLD_NEXT, "aligned_alloc");
	void *m = dlsym(RTLD_NEXT, "malloc");
	__atomic_store_n(&next_malloc, (void *(*)(size_t)) m, __ATOMIC_RELEASE);
	resolving = 0;
}

/* The settings are read here, not in resolve(): in a sanitized binary
 * the first allocation comes from the sanitizer's start-up, before the
 * environment can be read. Counting starts here. */
__attribute__((constructor)) static void init(void)
{
	resolve();
	const char *n = getenv("PYC_FAILMALLOC_N");
	/* copies: a process may overwrite its environment (process titles) */
	arm_path = keep(arm_buf, getenv("PYC_FAILMALLOC_ARM"));
	hit_path = keep(hit_buf, getenv("PYC_FAILMALLOC_HIT"));
	report_path = keep(report_buf, getenv("PYC_FAILMALLOC_REPORT"));
	main_only = getenv("PYC_FAILMALLOC_MAIN") != NULL && atoi(getenv("PYC_FAILMALLOC_MAIN")) != 0;
	armed = arm_path == NULL;
	__atomic_store_n(&count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&fail_at, n != NULL ? atoll(n) : 0, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void fini(void)
{
	note(report_path, __atomic_load_n(&count, __ATOMIC_RELAXED));
}

typedef struct frames {
	void *ip[24];
	int n;
} frames;

static _Unwind_Reason_Code one_frame(struct _Unwind_Context *ctx, void *arg)
{
	frames *f = arg;
	if (f->n >= 24)
		return _URC_END_OF_STACK;
	f->ip[f->n++] = (void *) _Unwind_GetIP(ctx);
	return _URC_NO_REASON;
}

/* Appends "pid N objects" for a failure of the call made from caller.
 * The unwinder is linked in (libgcc_s, loaded with the shim): glibc's
 * backtrace() would dlopen it, allocating, at the worst moment. */
static void note_hit(long long c, void *caller)
{
	char line[1024];
	frames fr = {.n = 0};
	Dl_info di;
	const char *last = NULL;
	if (hit_path == NULL)
		return;
	int len = snprintf(line, sizeof(line), "%d %lld ", (int) getpid(), c);
	_Unwind_Backtrace(one_frame, &fr);
	fr.ip[0] = caller; /* this frame and the wrapper's are ours */
	for (int i = 0; i < fr.n && len < (int) sizeof(line) - 300; i++) {
		if (i > 0 && i < 3)
			continue;
		const char *obj = "?";
		if (dladdr(fr.ip[i], &di) != 0 && di.dli_fname != NULL) {
			const char *slash = strrchr(di.dli_fname, '/');
			obj = slash != NULL ? slash + 1 : di.dli_fname;
		}
		if (last != NULL && strcmp(obj, last) == 0)
			continue;
		len += snprintf(line + len, sizeof(line) - (size_t) len, "%s%s", last ? "<" : "", obj);
		last = obj;
	}
	len += snprintf(line + len, sizeof(line) - (size_t) len, "\n");
	int fd = (int) syscall(SYS_openat, AT_FDCWD, hit_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (syscall(SYS_write, fd, line, (size_t) len) < 0)
			(void) 0;
		syscall(SYS_close, fd);
	}
}

/* True if this call (made from caller) is the one to fail. */
static int should_fail(void *caller)
{
	if (main_only && syscall(SYS_gettid) != getpid())
		return 0;
	if (!__atomic_load_n(&armed, __ATOMIC_RELAXED)) {
		if (__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) % 32 != 0 ||
		    syscall(SYS_faccessat, AT_FDCWD, arm_path, F_OK) != 0)
			return 0;
		__atomic_store_n(&armed, 1, __ATOMIC_RELAXED);
	}
	long long c = __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
	if (fail_at <= 0 || c != fail_at)
		return 0;
	note_hit(c, caller);
	return 1;
}

void *malloc(size_t n)
{
	if (next_malloc == NULL) {
		resolve();
		if (next_malloc == NULL)
			return arena_alloc(n);
	}
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return next_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (next_calloc == NULL || next_malloc == NULL) {
		resolve();
		if (next_calloc == NULL || next_malloc == NULL)
			return arena_alloc(a * b); /* static storage is zeroed */
	}
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return next_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (in_arena(p)) {
		void *q = malloc(n);
		if (q != NULL)
			memcpy(q, p, n < sizeof(arena) - (size_t) ((char *) p - arena) ? n
			    : sizeof(arena) - (size_t) ((char *) p - arena));
		return q;
	}
	if (next_realloc == NULL)
		resolve();
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return next_realloc(p, n);
}

void free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	if (next_free == NULL)
		resolve();
	next_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (next_posix_memalign == NULL)
		resolve();
	if (should_fail(__builtin_return_address(0)))
		return ENOMEM;
	return next_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	if (next_aligned_alloc == NULL)
		resolve();
	if (should_fail(__builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return next_aligned_alloc(align, n);
}
