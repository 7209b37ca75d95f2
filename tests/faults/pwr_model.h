/* pwr_model.h - the durable state of a set of folders, as a power cut
 * would leave it: shared by the powercut.c shim and the test that
 * "reboots" (it_faults_power.c).
 *
 * NOTES: the model. The durable state is, per tracked folder, a list of
 * (name, inode) taken at the folder's last fsync, and per inode the
 * content at its last fsync/fdatasync. Both live as files in a shadow
 * folder: dirs/<folder key> and data/<inode>. pwr_snapshot_all records the
 * whole present state as durable (a clean start); pwr_revert makes each
 * tracked folder hold exactly its durable list, each name with its
 * inode's durable content, or empty if that inode was never synced (the
 * name was made durable, the data was not). A name created, renamed or
 * unlinked after the folder's last fsync is therefore undone; a file never
 * synced whose name was never made durable vanishes. Only regular files
 * are modelled; the folders themselves always exist. Every shadow file is
 * written under a temporary name and renamed into place, so a SIGKILL in
 * the middle of a snapshot leaves the previous durable state whole.
 * Inodes stay unique while a run lasts because the shim hard-links a file
 * into grave/ before it is unlinked or renamed over.
 */
#ifndef PWR_MODEL_H
#define PWR_MODEL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Raw calls: the shim must not go through its own wrappers. */
static inline int pwr_rename(const char *a, const char *b)
{
	return (int) syscall(SYS_renameat, AT_FDCWD, a, AT_FDCWD, b);
}

static inline int pwr_tmpname(const char *shadow, char *out, size_t cap)
{
	static int seq;
	return snprintf(out, cap, "%s/tmp/%d.%d.%ld", shadow, (int) getpid(),
	    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED), (long) syscall(SYS_gettid));
}

/* The key of a tracked folder: its path with '/' made '#'. */
static inline void pwr_dirkey(const char *shadow, const char *dir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/dirs/", shadow);
	size_t i = (size_t) n;
	for (const char *p = dir; *p != '\0' && i + 1 < cap; p++)
		out[i++] = *p == '/' ? '#' : *p;
	out[i] = '\0';
}

/* Copies the content of the open file src_fd (read through a fresh open
 * of path) into data/<ino>. 0 on success. */
static inline int pwr_save_content(const char *shadow, const char *path, unsigned long ino)
{
	char tmp[1024], dst[1024], buf[65536];
	int in = (int) syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	pwr_tmpname(shadow, tmp, sizeof(tmp));
	int out = (int) syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		syscall(SYS_close, in);
		return -1;
	}
	ssize_t n;
	int rv = 0;
	while ((n = syscall(SYS_read, in, buf, sizeof(buf))) > 0)
		if (syscall(SYS_write, out, buf, (size_t) n) != n) {
			rv = -1;
			break;
		}
	if (n < 0)
		rv = -1;
	syscall(SYS_close, in);
	syscall(SYS_close, out);
	snprintf(dst, sizeof(dst), "%s/data/%lu", shadow, ino);
	if (rv == 0)
		rv = pwr_rename(tmp, dst);
	if (rv != 0)
		unlink(tmp);
	return rv;
}

/* Records the folder's present list of regular files as durable. */
static inline int pwr_save_dir(const char *shadow, const char *dir)
{
	char tmp[1024], dst[1024];
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	pwr_tmpname(shadow, tmp, sizeof(tmp));
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		closedir(d);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
			fprintf(f, "%lu %s\n", (unsigned long) sb.st_ino, e->d_name);
	}
	closedir(d);
	int rv = fclose(f) == 0 ? 0 : -1;
	pwr_dirkey(shadow, dir, dst, sizeof(dst));
	if (rv == 0)
		rv = pwr_rename(tmp, dst);
	if (rv != 0)
		unlink(tmp);
	return rv;
}

/* Makes the shadow folder (dirs, data, grave, tmp), emptied. */
static inline int pwr_shadow_reset(const char *shadow)
{
	static const char *const sub[] = {"dirs", "data", "grave", "tmp"};
	char p[1024];
	mkdir(shadow, 0755);
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", shadow, sub[i]);
		mkdir(p, 0755);
		DIR *d = opendir(p);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		if (d != NULL)
			closedir(d);
	}
	return 0;
}

/* The present state of every tracked folder becomes the durable one. */
static inline int pwr_snapshot_all(const char *shadow, char *const dirs[], int ndirs)
{
	pwr_shadow_reset(shadow);
	for (int i = 0; i < ndirs; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			char p[1024];
			struct stat sb;
			snprintf(p, sizeof(p), "%s/%s", dirs[i], e->d_name);
			if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode))
				pwr_save_content(shadow, p, (unsigned long) sb.st_ino);
		}
		if (d != NULL)
			closedir(d);
		if (pwr_save_dir(shadow, dirs[i]) != 0)
			return -1;
	}
	return 0;
}

/* Reverts every tracked folder to its durable state (see NOTES). Counts
 * what it did in *restored / *emptied / *dropped (files kept with synced
 * content, names kept with no synced content, names removed). */
static inline int pwr_revert(const char *shadow, char *const dirs[], int ndirs, int *restored,
    int *emptied, int *dropped)
{
	for (int i = 0; i < ndirs; i++) {
		char key[1024], line[1200];
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			struct stat sb;
			if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(sb.st_mode) && unlinkat(dirfd(d), e->d_name, 0) == 0)
				(*dropped)++;
		}
		if (d != NULL)
			closedir(d);
		pwr_dirkey(shadow, dirs[i], key, sizeof(key));
		FILE *f = fopen(key, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			unsigned long ino;
			char name[1024], src[1024], dst[2100];
			if (sscanf(line, "%lu %1023[^\n]", &ino, name) != 2)
				continue;
			snprintf(src, sizeof(src), "%s/data/%lu", shadow, ino);
			snprintf(dst, sizeof(dst), "%s/%s", dirs[i], name);
			(*dropped)--;
			struct stat sb;
			if (stat(src, &sb) == 0) {
				if (link(src, dst) != 0) /* data/ is reset before the next run */
					return -1;
				(*restored)++;
			} else {
				int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0640);
				if (fd < 0)
					return -1;
				close(fd);
				(*emptied)++;
			}
		}
		if (f != NULL)
			fclose(f);
	}
	sync();
	return 0;
}

#endif /* PWR_MODEL_H */
