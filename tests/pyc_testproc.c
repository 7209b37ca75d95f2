/* pyc_testproc.c - process and folder helpers shared by the integration tests.
 *
 * NOTES: children are started with fork+execve; the parent never blocks
 * without a deadline. PR_SET_PDEATHSIG makes a child die with the test
 * process, so a crashed or timed-out test leaves no service behind.
 */
#include "pyc_testproc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long long pyc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pyc_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int pyc_proc_start(pyc_proc *p, const char *path, char *const argv[], char *const env[])
{
	char full[4096];
	char *defargv[2];
	pid_t parent = getpid();

	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", PYC_BINARY_DIR, path);
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", strrchr(full, '/') + 1);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		for (int i = 0; env != NULL && env[i] != NULL; i++)
			putenv(env[i]);
		if (argv == NULL || argv[0] == NULL) {
			defargv[0] = full;
			defargv[1] = NULL;
			argv = defargv;
		}
		execve(full, argv, environ);
		fprintf(stderr, "exec %s: %s\n", full, strerror(errno));
		_exit(127);
	}
	p->pid = pid;
	return 0;
}

static bool reap(pyc_proc *p, int options)
{
	if (p->reaped || p->pid <= 0)
		return true;
	pid_t r = waitpid(p->pid, &p->status, options);
	if (r == p->pid) {
		p->reaped = true;
		return true;
	}
	return false;
}

bool pyc_proc_wait(pyc_proc *p, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	do {
		if (reap(p, WNOHANG))
			return true;
		pyc_sleep_ms(5);
	} while (pyc_now_ms() < end);
	return reap(p, WNOHANG);
}

bool pyc_proc_alive(pyc_proc *p)
{
	return !reap(p, WNOHANG);
}

bool pyc_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[1024];
	int pp = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	char *p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %c %d", state, &pp) != 2)
		return false;
	*ppid = (pid_t) pp;
	return true;
}

int pyc_proc_stop(pyc_proc *p, int sig, int timeout_ms)
{
	if (p->pid <= 0 || p->reaped)
		return p->status;
	kill(p->pid, sig);
	if (!pyc_proc_wait(p, timeout_ms)) {
		fprintf(stderr, "%s (pid %d) did not stop in %d ms; killing it\n",
		    p->name, (int) p->pid, timeout_ms);
		kill(p->pid, SIGKILL);
		reap(p, 0);
	}
	return p->status;
}

char *pyc_tmpdir_new(void)
{
	char tmpl[] = "/tmp/pycoustics-test-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return NULL;
	return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

void pyc_tmpdir_remove(const char *dir)
{
	if (dir != NULL && strncmp(dir, "/tmp/pycoustics-test-", 21) == 0)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int pyc_unix_listen(const char *path)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int pyc_unix_accept_close(int lfd, int wait_ms)
{
	struct pollfd p = {lfd, POLLIN, 0};
	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	int c = accept(lfd, NULL, NULL);
	if (c < 0)
		return 0;
	close(c);
	return 1;
}

int pyc_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *) &a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

bool pyc_wait_for_path(const char *path, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	struct stat st;
	do {
		if (stat(path, &st) == 0)
			return true;
		pyc_sleep_ms(5);
	} while (pyc_now_ms() < end);
	return false;
}

bool pyc_wait_for_port(int port, int timeout_ms)
{
	long long end = pyc_now_ms() + timeout_ms;
	do {
		struct sockaddr_in a;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t) port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return true;
		pyc_sleep_ms(10);
	} while (pyc_now_ms() < end);
	return false;
}
