/* failio.c - an LD_PRELOAD shim that makes writes and syncs of files under
 * one folder fail with ENOSPC or EIO on demand (fault-injection tests).
 *
 * NOTES: the control file named by PYC_FAILIO_CTL is read again at every
 * intercepted call, so a test changes the fault while the process runs. It
 * holds one line of words:
 *   dir=/abs/folder   only files whose path starts with this are touched
 *   mode=off|enospc|eio
 *   match=TEXT        only paths that contain TEXT (optional)
 *   after=N           let N more bytes through, then fail (optional; the
 *                     count restarts whenever the file's text changes)
 * enospc fails the writes that would grow a file (an overwrite inside it
 * reuses allocated blocks, as on ext4), ftruncate growth and fallocate;
 * eio fails every write and fsync/fdatasync too. A missing or unreadable control
 * file means no fault. The path of a descriptor comes from
 * /proc/self/fd, so the shim needs no bookkeeping of opens. Built without
 * sanitizers (it runs inside sanitized and plain binaries alike).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char last_ctl[512];
static long long budget = -1; /* bytes still allowed; -1 = no limit */

enum { F_WRITE, F_SYNC };

/* True if len bytes at off (-1: the file offset) grow the file: only
 * those can run out of space (an overwrite reuses allocated blocks). */
static int grows(int fd, long long off, size_t len)
{
	struct stat sb;
	if (off < 0)
		off = (long long) lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &sb) != 0 || off < 0)
		return 1;
	return off + (long long) len > (long long) sb.st_size;
}

static ssize_t ctl_read(char *buf, size_t cap)
{
	const char *p = getenv("PYC_FAILIO_CTL");
	if (p == NULL)
		return -1;
	int fd = (int) syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = syscall(SYS_read, fd, buf, cap - 1);
	syscall(SYS_close, fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static const char *word(const char *ctl, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	for (const char *p = ctl; (p = strstr(p, key)) != NULL; p += kl) {
		if (p != ctl && p[-1] != ' ' && p[-1] != '\n')
			continue;
		p += kl;
		size_t n = strcspn(p, " \n");
		if (n >= cap)
			n = cap - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

/* 0: let the call through; otherwise the errno to fail with. len is the
 * number of bytes the call would write. */
static int fault_at(int fd, int kind, size_t len, long long off)
{
	int saved = errno, rv = 0;
	char ctl[512], dir[256], mode[16], match[128], after[32], link[32], path[1024];
	if (ctl_read(ctl, sizeof(ctl)) < 0 || word(ctl, "mode=", mode, sizeof(mode)) == NULL ||
	    strcmp(mode, "off") == 0 || word(ctl, "dir=", dir, sizeof(dir)) == NULL)
		goto out;
	if (kind == F_SYNC && strcmp(mode, "eio") != 0)
		goto out;
	if (kind == F_WRITE && strcmp(mode, "enospc") == 0 && !grows(fd, off, len))
		goto out;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, path, sizeof(path) - 1);
	if (n <= 0)
		goto out;
	path[n] = '\0';
	if (strncmp(path, dir, strlen(dir)) != 0)
		goto out;
	if (word(ctl, "match=", match, sizeof(match)) != NULL && strstr(path, match) == NULL)
		goto out;
	pthread_mutex_lock(&mu);
	if (strcmp(ctl, last_ctl) != 0) {
		snprintf(last_ctl, sizeof(last_ctl), "%s", ctl);
		budget = word(ctl, "after=", after, sizeof(after)) != NULL ? atoll(after) : -1;
	}
	if (budget < 0 || (long long) len > budget)
		rv = strcmp(mode, "eio") == 0 ? EIO : ENOSPC;
	else
		budget -= (long long) len;
	pthread_mutex_unlock(&mu);
out:
	errno = saved;
	return rv;
}

static int fault(int fd, int kind, size_t len)
{
	return fault_at(fd, kind, len, -1);
}

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *) dlsym(RTLD_NEXT, #name)

#define FAIL_IF(fd, kind, len) \
	do { \
		int e_ = fault((fd), (kind), (len)); \
		if (e_ != 0) { \
			errno = e_; \
			return -1; \
		} \
	} while (0)

ssize_t write(int fd, const void *buf, size_t n)
{
	NEXT(write);
	FAIL_IF(fd, F_WRITE, n);
	return next_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	NEXT(pwrite);
	int e = fault_at(fd, F_WRITE, n, (long long) off);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return next_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	NEXT(pwrite64);
	int e = fault_at(fd, F_WRITE, n, (long long) off);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return next_pwrite64(fd, buf, n, off);
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	NEXT(writev);
	FAIL_IF(fd, F_WRITE, iov_len(iov, cnt));
	return next_writev(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	NEXT(pwritev);
	FAIL_IF(fd, F_WRITE, iov_len(iov, cnt));
	return next_pwritev(fd, iov, cnt, off);
}

int ftruncate(int fd, off_t len)
{
	NEXT(ftruncate);
	struct stat sb;
	if (fstat(fd, &sb) == 0 && len > sb.st_size)
		FAIL_IF(fd, F_WRITE, (size_t) (len - sb.st_size));
	return next_ftruncate(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	NEXT(fallocate);
	FAIL_IF(fd, F_WRITE, (size_t) len);
	return next_fallocate(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
	NEXT(posix_fallocate);
	int e = fault(fd, F_WRITE, (size_t) len);
	if (e != 0)
		return e;
	return next_posix_fallocate(fd, off, len);
}

int fsync(int fd)
{
	NEXT(fsync);
	FAIL_IF(fd, F_SYNC, 0);
	return next_fsync(fd);
}

int fdatasync(int fd)
{
	NEXT(fdatasync);
	FAIL_IF(fd, F_SYNC, 0);
	return next_fdatasync(fd);
}
