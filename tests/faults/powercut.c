/* powercut.c - an LD_PRELOAD shim that keeps, for every regular file in
 * the tracked folders, what a power cut would leave of it: the content as
 * of its last fsync/fdatasync and each folder's names as of its last fsync
 * (the model is described in pwr_model.h).
 *
 * NOTES: PYC_PWR_SHADOW names the shadow folder, PYC_PWR_DIRS the tracked
 * folders (absolute, ':'-separated, no trailing '/'). fsync/fdatasync of a
 * tracked file copies its content to the shadow after the real call
 * returned; fsync of a tracked folder records its list of names. Before an
 * unlink or a rename over an existing name, the doomed file is hard-linked
 * into grave/ so its inode number cannot be reused while the run lasts
 * (the shadow is keyed by inode). Built without sanitizers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>

#include "pwr_model.h"

#define NEXT(name) \
	static __typeof__(name) *next_##name; \
	if (next_##name == NULL) \
		next_##name = (__typeof__(name) *) dlsym(RTLD_NEXT, #name)

/* The tracked folder that holds path (or is path): its index or -1. */
static int tracked(const char *path, int *is_dir_itself)
{
	const char *list = getenv("PYC_PWR_DIRS");
	if (list == NULL || getenv("PYC_PWR_SHADOW") == NULL)
		return -1;
	int idx = 0;
	for (const char *p = list; *p != '\0'; idx++) {
		size_t n = strcspn(p, ":");
		if (strncmp(path, p, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
			*is_dir_itself = path[n] == '\0';
			/* only direct children */
			if (!*is_dir_itself && strchr(path + n + 1, '/') != NULL)
				return -1;
			return idx;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return -1;
}

static int fd_path(int fd, char *out, size_t cap)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, out, cap - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static void after_sync(int fd)
{
	char path[PATH_MAX];
	int self;
	struct stat sb;
	int saved = errno;
	if (fd_path(fd, path, sizeof(path)) == 0 && tracked(path, &self) >= 0 && fstat(fd, &sb) == 0) {
		const char *shadow = getenv("PYC_PWR_SHADOW");
		if (self && S_ISDIR(sb.st_mode))
			pwr_save_dir(shadow, path);
		else if (!self && S_ISREG(sb.st_mode))
			pwr_save_content(shadow, path, (unsigned long) sb.st_ino);
	}
	errno = saved;
}

/* Full path of (dirfd, name) into out; 0 on success. */
static int at_path(int dirfd, const char *name, char *out, size_t cap)
{
	if (name[0] == '/') {
		snprintf(out, cap, "%s", name);
		return 0;
	}
	char base[PATH_MAX - 256];
	if (dirfd == AT_FDCWD) {
		if (getcwd(base, sizeof(base)) == NULL)
			return -1;
	} else if (fd_path(dirfd, base, sizeof(base)) != 0)
		return -1;
	snprintf(out, cap, "%s/%s", base, name);
	return 0;
}

/* Keeps the inode of a tracked file that is about to lose a name. */
static void bury(int dirfd, const char *name)
{
	char path[PATH_MAX], grave[PATH_MAX];
	int self;
	struct stat sb;
	int saved = errno;
	if (at_path(dirfd, name, path, sizeof(path)) == 0 && tracked(path, &self) >= 0 && !self &&
	    lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		snprintf(grave, sizeof(grave), "%s/grave/%lu", getenv("PYC_PWR_SHADOW"),
		    (unsigned long) sb.st_ino);
		syscall(SYS_linkat, AT_FDCWD, path, AT_FDCWD, grave, 0);
	}
	errno = saved;
}

int fsync(int fd)
{
	NEXT(fsync);
	int rv = next_fsync(fd);
	if (rv == 0)
		after_sync(fd);
	return rv;
}

int fdatasync(int fd)
{
	NEXT(fdatasync);
	int rv = next_fdatasync(fd);
	if (rv == 0)
		after_sync(fd);
	return rv;
}

int unlink(const char *p)
{
	NEXT(unlink);
	bury(AT_FDCWD, p);
	return next_unlink(p);
}

int unlinkat(int dirfd, const char *p, int flags)
{
	NEXT(unlinkat);
	if (!(flags & AT_REMOVEDIR))
		bury(dirfd, p);
	return next_unlinkat(dirfd, p, flags);
}

int rename(const char *a, const char *b)
{
	NEXT(rename);
	bury(AT_FDCWD, b);
	return next_rename(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
	NEXT(renameat);
	bury(db, b);
	return next_renameat(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	NEXT(renameat2);
	bury(db, b);
	return next_renameat2(da, a, db, b, flags);
}
