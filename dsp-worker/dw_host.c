/* dw_host.c - the worker pool: fork+exec, notes from workers, reaping,
 * replacement, host_hello, and orderly shutdown.
 *
 * NOTES: the postmaster's shape. A fixed table of slots (pid, socket to the
 * worker, state, session id prefix); the state changes only through
 * slot_set(), which logs old -> new, and the host's own state through
 * host_set(). SIGCHLD, SIGTERM and SIGINT are blocked everywhere except
 * inside ppoll(), where their handlers only set flags; so nng's threads
 * never take them and the main loop wakes at once. The loop reaps with
 * waitpid(-1, WNOHANG), reads the workers' notes, keeps DSP_POOL_SPARE
 * workers starting or idle (never more than DSP_POOL_MAX processes), and
 * tells the gateway its capacity and load.
 *
 * Forking: the host uses nng (its own pair1 dialer), so it has threads.
 * A child of a threaded process may only call async-signal-safe functions,
 * so the child here only resets its signal mask, sets PR_SET_PDEATHSIG,
 * clears close-on-exec on its end of the socketpair and execs
 * /proc/self/exe --worker FD PPID. Everything else (argv strings) is
 * prepared before fork. A worker that fails before it reports idle makes
 * the host back off (1 s, doubling to 16 s) before the next start, so a
 * broken worker binary does not become a fork loop.
 *
 * Stopped workers: the reap loop also asks for stops and continues
 * (WUNTRACED | WCONTINUED; SIGCHLD comes for both). A worker stopped for
 * longer than REQUEST_TIMEOUT_MS holds a session nobody is serving, or a
 * spare nobody can use: it gets SIGKILL and is reaped and replaced like a
 * crashed one. A worker continued before then is forgotten.
 */
#include "dw_host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "dw_proctitle.h"
#include "pyc_log.h"
#include "pyc_sock.h"
#include "pyc_wire.h"

#define DW_HELLO_INTERVAL_MS 1000
#define DW_GW_DRAIN_BATCH 64 /* gateway messages read per wake-up */
#define DW_BACKOFF_MIN_MS 1000
#define DW_BACKOFF_MAX_MS 16000

typedef enum dw_slot_state {
	DW_SLOT_FREE = 0, /* no process */
	DW_SLOT_STARTING, /* forked, has not reported idle yet */
	DW_SLOT_IDLE,     /* waiting for a session */
	DW_SLOT_BUSY,     /* serving a session */
	DW_SLOT_DONE,     /* session over or told to stop; exiting */
} dw_slot_state;

static const char *const slot_names[] = {"free", "starting", "idle", "busy", "done"};

typedef enum dw_host_state {
	DW_HOST_RUN = 0,
	DW_HOST_STOPPING, /* SIGTERM sent to workers, grace running */
} dw_host_state;

static const char *const host_names[] = {"run", "stopping"};

typedef struct dw_slot {
	pid_t pid;
	int fd;    /* host end of the socketpair, -1 if none */
	bool eof;  /* fd reached EOF: not polled any more */
	dw_slot_state state;
	char sid8[9];
	int rate, channels;
	int64_t started_ns;
	int64_t stopped_ns; /* when it was seen stopped, 0 if running */
	bool killed;        /* SIGKILL sent for staying stopped */
} dw_slot;

typedef struct host {
	const pyc_config *cfg;
	const char *self_exe;
	dw_host_state state;
	dw_slot *slots;
	int nslots;
	int n[5]; /* slots per state */
	nng_socket gw;
	pyc_redial gw_dial;
	int gw_fd;
	int wake_rd, wake_wr;
	atomic_int gw_adds;
	atomic_int gw_live;     /* pipes to the gateway: ADD_PRE minus REM_POST */
	atomic_uint gw_pipe;    /* id of the pipe last added (ADD_POST) */
	uint32_t bye_pipe;      /* the pipe a gateway_bye came on, 0 if none */
	int seen_gw_adds;
	int64_t next_hello_ns;
	int64_t backoff_until_ns;
	int backoff_ms;
	int title_idle, title_busy;
	struct pollfd *pfd;
	int *pfd_slot;
	uint64_t started, crashed;
} host;

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void slot_set(host *h, int i, dw_slot_state s)
{
	dw_slot *sl = &h->slots[i];
	if (sl->state == s)
		return;
	pyc_log(PYC_LOG_DEBUG, "slot %d (pid %d): %s -> %s", i, (int) sl->pid,
	    slot_names[sl->state], slot_names[s]);
	h->n[sl->state]--;
	h->n[s]++;
	sl->state = s;
}

static void host_set(host *h, dw_host_state s)
{
	if (h->state == s)
		return;
	pyc_log(PYC_LOG_INFO, "host state %s -> %s", host_names[h->state], host_names[s]);
	h->state = s;
}

static void update_title(host *h)
{
	int idle = h->n[DW_SLOT_IDLE], busy = h->n[DW_SLOT_BUSY];
	if (idle == h->title_idle && busy == h->title_busy)
		return;
	h->title_idle = idle;
	h->title_busy = busy;
	dw_proctitle_set("pyc-dsp host", "pycoustics-dsp: host %s (%d idle, %d busy)",
	    h->cfg->host_id, idle, busy);
}

static void gw_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	host *h = arg;
	char c = 1;
	if (ev == NNG_PIPE_EV_ADD_PRE)
		atomic_fetch_add(&h->gw_live, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&h->gw_live, 1);
	else if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_store(&h->gw_pipe, nng_pipe_id(p));
		atomic_fetch_add(&h->gw_adds, 1);
	}
	ssize_t r = write(h->wake_wr, &c, 1);
	(void) r;
}

static void send_hello(host *h)
{
	pyc_host_hello hh;
	uint8_t buf[128];
	pyc_wbuf wb;
	nng_msg *m;
	/* Not while no pipe is up, nor on a pipe whose gateway said bye:
	 * nng 1.5.2's pair1 never frees a message handed to a pipe that is
	 * being closed (its send aio is closed before the pipe is taken off
	 * the socket), and a stopping gateway ends its sessions, so the
	 * host's counts change and a hello would go out just as the gateway
	 * closes. Hellos repeat each second: none is missed. */
	if (atomic_load(&h->gw_live) <= 0 ||
	    (h->bye_pipe != 0 && h->bye_pipe == atomic_load(&h->gw_pipe)))
		return;
	memset(&hh, 0, sizeof(hh));
	snprintf(hh.host_id, sizeof(hh.host_id), "%s", h->cfg->host_id);
	hh.max_workers = h->state == DW_HOST_RUN ? (uint32_t) h->cfg->pool_max : 0;
	hh.spare = (uint32_t) h->cfg->pool_spare;
	hh.idle = h->state == DW_HOST_RUN ? (uint32_t) h->n[DW_SLOT_IDLE] : 0;
	hh.busy = (uint32_t) h->n[DW_SLOT_BUSY];
	pyc_wbuf_init(&wb, buf, sizeof(buf));
	pyc_host_hello_put(&wb, &hh);
	if (pyc_wire_msg_from_wbuf(&m, PYC_MSG_HOST_HELLO, 0, "", 0, &wb) != PYC_OK)
		return;
	if (nng_sendmsg(h->gw, m, NNG_FLAG_NONBLOCK) != 0)
		nng_msg_free(m); /* not connected: the next one will do */
}

/* Starts a worker in slot i. */
static int spawn(host *h, int i)
{
	int sv[2];
	char fdarg[16], ppidarg[16];
	char *argv[5];
	sigset_t none;
	pid_t me = getpid();
	dw_slot *sl = &h->slots[i];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		pyc_log(PYC_LOG_ERROR, "socketpair: %s", strerror(errno));
		return -1;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	snprintf(ppidarg, sizeof(ppidarg), "%d", (int) me);
	argv[0] = (char *) "pyc-dsp-worker";
	argv[1] = (char *) "--worker";
	argv[2] = fdarg;
	argv[3] = ppidarg;
	argv[4] = NULL;
	sigemptyset(&none);

	pid_t pid = fork();
	if (pid < 0) {
		pyc_log(PYC_LOG_ERROR, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != me)
			_exit(1);
		fcntl(sv[1], F_SETFD, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(h->self_exe, argv);
		_exit(127);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	memset(sl, 0, sizeof(*sl)); /* state FREE, counted as such */
	sl->pid = pid;
	sl->fd = sv[0];
	sl->started_ns = now_ns();
	slot_set(h, i, DW_SLOT_STARTING);
	h->started++;
	pyc_log(PYC_LOG_DEBUG, "started worker %d in slot %d", (int) pid, i);
	return 0;
}

static void maintain_pool(host *h)
{
	if (h->state != DW_HOST_RUN)
		return;
	int64_t now = now_ns();
	if (now < h->backoff_until_ns)
		return;
	int live = h->nslots - h->n[DW_SLOT_FREE];
	int ready = h->n[DW_SLOT_STARTING] + h->n[DW_SLOT_IDLE];
	for (int i = 0; i < h->nslots && ready < h->cfg->pool_spare && live < h->nslots; i++) {
		if (h->slots[i].state != DW_SLOT_FREE)
			continue;
		if (spawn(h, i) != 0)
			break;
		ready++;
		live++;
	}
}

static int find_slot(host *h, pid_t pid)
{
	for (int i = 0; i < h->nslots; i++)
		if (h->slots[i].state != DW_SLOT_FREE && h->slots[i].pid == pid)
			return i;
	return -1;
}

static void reap(host *h)
{
	int st;
	pid_t pid;
	got_chld = 0;
	while ((pid = waitpid(-1, &st, WNOHANG | WUNTRACED | WCONTINUED)) > 0) {
		int i = find_slot(h, pid);
		if (i < 0) {
			if (WIFEXITED(st) || WIFSIGNALED(st))
				pyc_log(PYC_LOG_WARN, "reaped unknown child %d", (int) pid);
			continue;
		}
		dw_slot *sl = &h->slots[i];
		if (WIFSTOPPED(st)) {
			if (sl->stopped_ns == 0)
				sl->stopped_ns = now_ns();
			pyc_log(PYC_LOG_INFO, "worker %d (%s%s%s) stopped by signal %d", (int) pid,
			    slot_names[sl->state], sl->sid8[0] ? ", session " : "", sl->sid8,
			    WSTOPSIG(st));
			continue;
		}
		if (WIFCONTINUED(st)) {
			if (sl->stopped_ns != 0)
				pyc_log(PYC_LOG_INFO, "worker %d (%s%s%s) continued", (int) pid,
				    slot_names[sl->state], sl->sid8[0] ? ", session " : "",
				    sl->sid8);
			sl->stopped_ns = 0;
			continue;
		}
		bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (WIFSIGNALED(st))
			pyc_log(h->state == DW_HOST_RUN ? PYC_LOG_WARN : PYC_LOG_INFO,
			    "worker %d (%s%s%s) exited on signal %d", (int) pid,
			    slot_names[sl->state], sl->sid8[0] ? ", session " : "", sl->sid8,
			    WTERMSIG(st));
		else if (!clean)
			pyc_log(PYC_LOG_WARN, "worker %d (%s%s%s) exited with code %d", (int) pid,
			    slot_names[sl->state], sl->sid8[0] ? ", session " : "", sl->sid8,
			    WEXITSTATUS(st));
		else
			pyc_log(PYC_LOG_DEBUG, "worker %d (%s%s%s) exited", (int) pid,
			    slot_names[sl->state], sl->sid8[0] ? ", session " : "", sl->sid8);
		if (!clean)
			h->crashed++;
		if (sl->state == DW_SLOT_STARTING && h->state == DW_HOST_RUN) {
			/* Died before it could serve: back off before the next. */
			h->backoff_ms = h->backoff_ms == 0 ? DW_BACKOFF_MIN_MS
			    : h->backoff_ms * 2 > DW_BACKOFF_MAX_MS ? DW_BACKOFF_MAX_MS
			    : h->backoff_ms * 2;
			h->backoff_until_ns = now_ns() + (int64_t) h->backoff_ms * 1000000LL;
			pyc_log(PYC_LOG_WARN, "worker %d failed at start; next start in %d ms",
			    (int) pid, h->backoff_ms);
		}
		if (sl->fd >= 0)
			close(sl->fd);
		sl->fd = -1;
		slot_set(h, i, DW_SLOT_FREE);
		sl->pid = 0;
		sl->sid8[0] = '\0';
		sl->stopped_ns = 0;
		sl->killed = false;
	}
}

/* SIGKILL for workers stopped longer than REQUEST_TIMEOUT_MS (reap() then
 * frees and replaces them). Returns the ms until the next one is due, or -1
 * if no worker is stopped. */
static int kill_stopped(host *h)
{
	int64_t now = now_ns();
	int64_t limit = (int64_t) h->cfg->request_timeout_ms * 1000000LL;
	int next = -1;
	for (int i = 0; i < h->nslots; i++) {
		dw_slot *sl = &h->slots[i];
		if (sl->state == DW_SLOT_FREE || sl->stopped_ns == 0 || sl->killed)
			continue;
		int64_t left = sl->stopped_ns + limit - now;
		if (left <= 0) {
			pyc_log(PYC_LOG_WARN, "worker %d (%s%s%s) stopped for more than %d ms: SIGKILL",
			    (int) sl->pid, slot_names[sl->state], sl->sid8[0] ? ", session " : "",
			    sl->sid8, h->cfg->request_timeout_ms);
			kill(sl->pid, SIGKILL);
			sl->killed = true;
			continue;
		}
		int ms = (int) (left / 1000000) + 1;
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

static void read_notes(host *h, int i)
{
	dw_slot *sl = &h->slots[i];
	char buf[DW_NOTE_MAX + 1];
	for (;;) {
		ssize_t r = recv(sl->fd, buf, DW_NOTE_MAX, MSG_DONTWAIT);
		if (r == 0) {
			sl->eof = true;
			if (sl->state != DW_SLOT_DONE)
				slot_set(h, i, DW_SLOT_DONE);
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				sl->eof = true;
				slot_set(h, i, DW_SLOT_DONE);
			}
			return;
		}
		buf[r] = '\0';
		if (strcmp(buf, "idle") == 0) {
			if (sl->state == DW_SLOT_STARTING) {
				slot_set(h, i, DW_SLOT_IDLE);
				h->backoff_ms = 0;
			}
		} else if (strncmp(buf, "busy ", 5) == 0) {
			char sid[sizeof(sl->sid8)] = "";
			int rate = 0, ch = 0;
			if (sscanf(buf + 5, "%8s %d %d", sid, &rate, &ch) == 3) {
				snprintf(sl->sid8, sizeof(sl->sid8), "%s", sid);
				sl->rate = rate;
				sl->channels = ch;
			}
			if (sl->state == DW_SLOT_IDLE || sl->state == DW_SLOT_STARTING)
				slot_set(h, i, DW_SLOT_BUSY);
		} else if (strcmp(buf, "done") == 0) {
			slot_set(h, i, DW_SLOT_DONE);
		} else {
			pyc_log(PYC_LOG_WARN, "worker %d: unknown note '%.40s'", (int) sl->pid, buf);
		}
	}
}

static void signal_workers(host *h, int sig)
{
	for (int i = 0; i < h->nslots; i++)
		if (h->slots[i].state != DW_SLOT_FREE && h->slots[i].pid > 0)
			kill(h->slots[i].pid, sig);
}

static int open_gateway(host *h)
{
	int rv;
	if ((rv = nng_pair1_open(&h->gw)) != 0) {
		pyc_log(PYC_LOG_ERROR, "pair1 socket: %s", nng_strerror(rv));
		return -1;
	}
	nng_socket_set_ms(h->gw, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(h->gw, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_size(h->gw, NNG_OPT_RECVMAXSZ, 64 * 1024);
	if ((rv = nng_pipe_notify(h->gw, NNG_PIPE_EV_ADD_PRE, gw_pipe_cb, h)) != 0 ||
	    (rv = nng_pipe_notify(h->gw, NNG_PIPE_EV_ADD_POST, gw_pipe_cb, h)) != 0 ||
	    (rv = nng_pipe_notify(h->gw, NNG_PIPE_EV_REM_POST, gw_pipe_cb, h)) != 0 ||
	    (rv = nng_socket_get_int(h->gw, NNG_OPT_RECVFD, &h->gw_fd)) != 0) {
		pyc_log(PYC_LOG_ERROR, "gateway socket: %s", nng_strerror(rv));
		return -1;
	}
	if ((rv = pyc_redial_dial(&h->gw_dial, h->gw, h->cfg->gateway_url, PYC_REDIAL_MS)) != 0) {
		pyc_log(PYC_LOG_ERROR, "dial %s: %s", h->cfg->gateway_url, nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* The gateway's one message to a host: gateway_bye. Anything else is
 * dropped (the host is a peer of the gateway's, not trusted blindly). */
static void on_gw_msg(host *h, nng_msg *msg)
{
	pyc_wire_msg m;
	if (pyc_wire_msg_decode(msg, &m) != PYC_OK || m.type != PYC_MSG_GATEWAY_BYE) {
		pyc_log(PYC_LOG_DEBUG, "unexpected message from the gateway dropped");
		return;
	}
	h->bye_pipe = nng_pipe_id(nng_msg_get_pipe(msg));
	pyc_log(PYC_LOG_INFO, "the gateway is stopping: no hellos until it is back");
}

/* One pass of the loop: wait (at most timeout_ms) and handle what came. */
static int loop_once(host *h, const sigset_t *waitmask, int timeout_ms)
{
	int np = 0;
	h->pfd[np] = (struct pollfd) {h->wake_rd, POLLIN, 0};
	h->pfd_slot[np++] = -1;
	h->pfd[np] = (struct pollfd) {h->gw_fd, POLLIN, 0};
	h->pfd_slot[np++] = -2;
	for (int i = 0; i < h->nslots; i++) {
		if (h->slots[i].state == DW_SLOT_FREE || h->slots[i].fd < 0 || h->slots[i].eof)
			continue;
		h->pfd[np] = (struct pollfd) {h->slots[i].fd, POLLIN, 0};
		h->pfd_slot[np++] = i;
	}
	struct timespec ts = {timeout_ms / 1000, (long) (timeout_ms % 1000) * 1000000L};
	int n = ppoll(h->pfd, (nfds_t) np, &ts, waitmask);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		pyc_log(PYC_LOG_ERROR, "poll: %s", strerror(errno));
		return -1;
	}
	for (int k = 0; k < np && n > 0; k++) {
		if (h->pfd[k].revents == 0)
			continue;
		n--;
		if (h->pfd_slot[k] == -1) {
			char b[64];
			while (read(h->wake_rd, b, sizeof(b)) > 0)
				;
		} else if (h->pfd_slot[k] == -2) {
			nng_msg *m;
			for (int i = 0; i < DW_GW_DRAIN_BATCH &&
			     nng_recvmsg(h->gw, &m, NNG_FLAG_NONBLOCK) == 0; i++) {
				on_gw_msg(h, m);
				nng_msg_free(m);
			}
		} else {
			read_notes(h, h->pfd_slot[k]);
		}
	}
	return 0;
}

static void shutdown_pool(host *h, const sigset_t *waitmask)
{
	host_set(h, DW_HOST_STOPPING);
	send_hello(h); /* capacity 0: no new sessions here */
	signal_workers(h, SIGTERM);
	signal_workers(h, SIGCONT); /* a stopped one must run to see SIGTERM */
	int64_t deadline = now_ns() + (int64_t) DW_HOST_GRACE_MS * 1000000LL;
	while (h->n[DW_SLOT_FREE] < h->nslots && now_ns() < deadline) {
		reap(h);
		if (h->n[DW_SLOT_FREE] == h->nslots)
			break;
		if (loop_once(h, waitmask, 100) != 0)
			break;
	}
	reap(h);
	if (h->n[DW_SLOT_FREE] < h->nslots) {
		pyc_log(PYC_LOG_WARN, "%d workers still running after %d ms: SIGKILL",
		    h->nslots - h->n[DW_SLOT_FREE], DW_HOST_GRACE_MS);
		signal_workers(h, SIGKILL);
		deadline = now_ns() + 2000LL * 1000000LL;
		while (h->n[DW_SLOT_FREE] < h->nslots && now_ns() < deadline) {
			struct timespec ts = {0, 10 * 1000000L};
			nanosleep(&ts, NULL);
			reap(h);
		}
	}
}

int dw_host_main(const pyc_config *cfg, const char *self_exe)
{
	static host hs;
	host *h = &hs;
	sigset_t block, waitmask;
	struct sigaction sa;
	int code = 1;
	int pfd[2];

	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->self_exe = self_exe;
	h->gw_fd = h->wake_rd = h->wake_wr = -1;
	h->title_idle = h->title_busy = -1;
	h->nslots = cfg->pool_max;
	h->slots = calloc((size_t) h->nslots, sizeof(dw_slot));
	h->pfd = calloc((size_t) h->nslots + 2, sizeof(struct pollfd));
	h->pfd_slot = calloc((size_t) h->nslots + 2, sizeof(int));
	if (h->slots == NULL || h->pfd == NULL || h->pfd_slot == NULL) {
		pyc_log(PYC_LOG_ERROR, "out of memory for %d slots", h->nslots);
		goto out;
	}
	for (int i = 0; i < h->nslots; i++)
		h->slots[i].fd = -1;
	h->n[DW_SLOT_FREE] = h->nslots;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* SIGCHLD for stops and continues too */
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask); /* before nng makes threads */
	sigdelset(&waitmask, SIGCHLD);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0) {
		pyc_log(PYC_LOG_ERROR, "pipe: %s", strerror(errno));
		goto out;
	}
	h->wake_rd = pfd[0];
	h->wake_wr = pfd[1];
	update_title(h);
	if (open_gateway(h) != 0)
		goto out;
	pyc_log(PYC_LOG_INFO, "host %s: pool of %d spare, %d at most, gateway %s",
	    cfg->host_id, cfg->pool_spare, cfg->pool_max, cfg->gateway_url);

	code = 0;
	h->next_hello_ns = now_ns();
	while (!got_term) {
		reap(h);
		int stop_ms = kill_stopped(h);
		maintain_pool(h);
		int adds = atomic_load(&h->gw_adds);
		int64_t now = now_ns();
		if (adds != h->seen_gw_adds) {
			h->seen_gw_adds = adds;
			pyc_log(PYC_LOG_INFO, "connected to the gateway");
			h->next_hello_ns = now;
		}
		int idle = h->n[DW_SLOT_IDLE], busy = h->n[DW_SLOT_BUSY];
		if (now >= h->next_hello_ns || idle != h->title_idle || busy != h->title_busy) {
			send_hello(h);
			h->next_hello_ns = now + DW_HELLO_INTERVAL_MS * 1000000LL;
		}
		update_title(h);
		int redial_ms = pyc_redial_tick(&h->gw_dial, atomic_load(&h->gw_live) > 0,
		    now / 1000000);
		int timeout = (int) ((h->next_hello_ns - now) / 1000000) + 1;
		if (redial_ms >= 0 && redial_ms < timeout)
			timeout = redial_ms;
		if (h->backoff_until_ns > now) {
			int t = (int) ((h->backoff_until_ns - now) / 1000000) + 1;
			if (t < timeout)
				timeout = t;
		}
		if (stop_ms >= 0 && stop_ms < timeout)
			timeout = stop_ms;
		if (loop_once(h, &waitmask, timeout) != 0) {
			code = 1;
			break;
		}
	}
	pyc_log(PYC_LOG_INFO, "host stopping: %d idle, %d busy; %llu workers started, "
	    "%llu ended abnormally", h->n[DW_SLOT_IDLE], h->n[DW_SLOT_BUSY],
	    (unsigned long long) h->started, (unsigned long long) h->crashed);
	shutdown_pool(h, &waitmask);
	pyc_log(PYC_LOG_INFO, "host stopped");
out:
	/* PYC_SETTLE_MS (pyc_sock.h) */
	for (int i = 0; h->gw_dial.url[0] != '\0' && i < PYC_SETTLE_MS / 10 &&
	     atomic_load(&h->gw_live) <= 0; i++)
		usleep(10000);
	pyc_sock_close_bounded(h->gw, 1000);
	if (h->wake_rd >= 0)
		close(h->wake_rd);
	if (h->wake_wr >= 0)
		close(h->wake_wr);
	free(h->slots);
	free(h->pfd);
	free(h->pfd_slot);
	return code;
}

int dw_host_health(const pyc_config *cfg, int timeout_ms)
{
	nng_socket s;
	int rv;
	int64_t deadline = now_ns() + (int64_t) timeout_ms * 1000000LL;

	if ((rv = nng_pair1_open(&s)) != 0) {
		fprintf(stderr, "pyc-dsp-worker --health: socket: %s\n", nng_strerror(rv));
		return 1;
	}
	for (;;) {
		if ((rv = nng_dial(s, cfg->gateway_url, NULL, 0)) == 0) {
			nng_close(s);
			return 0;
		}
		if (now_ns() >= deadline)
			break;
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "pyc-dsp-worker --health: gateway %s not reachable: %s\n",
	    cfg->gateway_url, nng_strerror(rv));
	nng_close(s);
	return 1;
}
