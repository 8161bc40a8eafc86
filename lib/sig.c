/*
 * Signals (see include/ipckit/sig.h). Handlers go through sigaction only,
 * masks through pthread_sigmask (the thread's, never the process's by
 * surprise), and the two receiving paths need no logic in a handler: a
 * signalfd, or a self-pipe whose handler writes one byte and keeps errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/sig.h>

#include "internal/io.h"

#define HANDLER_FLAGS                                         \
	(IK_SIG_RESTART | IK_SIG_NORESTART | IK_SIG_NODEFER | \
	 IK_SIG_RESETHAND | IK_SIG_BLOCKALL)

/* glibc keeps 32 and 33 for itself: SIGRTMIN is a function, not 32. */
static int
valid_sig(int sig)
{
	return (sig >= 1 && sig < 32) || (sig >= SIGRTMIN && sig <= SIGRTMAX);
}

static int
catchable(int sig)
{
	return valid_sig(sig) && sig != SIGKILL && sig != SIGSTOP;
}

static int
install(int sig, struct sigaction *sa, int flags, struct sigaction *old)
{
	struct sigaction prev;
	int rs = flags & (IK_SIG_RESTART | IK_SIG_NORESTART);

	if (!catchable(sig) || (flags & ~HANDLER_FLAGS) ||
	    (rs != IK_SIG_RESTART && rs != IK_SIG_NORESTART))
		return -EINVAL;
	if (flags & IK_SIG_RESTART)
		sa->sa_flags |= SA_RESTART;
	if (flags & IK_SIG_NODEFER)
		sa->sa_flags |= SA_NODEFER;
	if (flags & IK_SIG_RESETHAND)
		sa->sa_flags |= SA_RESETHAND;
	if (flags & IK_SIG_BLOCKALL)
		sigfillset(&sa->sa_mask);
	else
		sigemptyset(&sa->sa_mask);
	if (sigaction(sig, sa, &prev) < 0)
		return -errno;
	if (old)
		*old = prev;
	return 0;
}

int
ik_sig_handle(int sig, ik_sig_fn fn, int flags, struct sigaction *old)
{
	struct sigaction sa;

	if (fn == NULL)
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	return install(sig, &sa, flags, old);
}

int
ik_sig_handle_info(int sig, ik_sig_info_fn fn, int flags, struct sigaction *old)
{
	struct sigaction sa;

	if (fn == NULL)
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	return install(sig, &sa, flags, old);
}

static int
set_disposition(int sig, void (*h)(int), struct sigaction *old)
{
	struct sigaction sa, prev;

	if (!catchable(sig))
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &prev) < 0)
		return -errno;
	if (old)
		*old = prev;
	return 0;
}

int
ik_sig_ignore(int sig, struct sigaction *old)
{
	return set_disposition(sig, SIG_IGN, old);
}

int
ik_sig_default(int sig, struct sigaction *old)
{
	return set_disposition(sig, SIG_DFL, old);
}

int
ik_sig_restore(int sig, const struct sigaction *old)
{
	if (!catchable(sig) || old == NULL)
		return -EINVAL;
	if (sigaction(sig, old, NULL) < 0)
		return -errno;
	return 0;
}

int
ik_sig_ignore_sigpipe(void)
{
	int r = set_disposition(SIGPIPE, SIG_IGN, NULL);

	/* the flag only after the disposition: a write that sees it set can
	 * no longer be killed */
	if (r == 0)
		atomic_store(&ik__sigpipe_ignored, true);
	return r;
}

int
ik_sig_makeset(sigset_t *set, ...)
{
	sigset_t s;
	va_list ap;
	int sig, r = 0;

	if (set == NULL)
		return -EINVAL;
	sigemptyset(&s);
	va_start(ap, set);
	while ((sig = va_arg(ap, int)) != 0) {
		if (!valid_sig(sig)) {
			r = -EINVAL;
			break;
		}
		sigaddset(&s, sig);
	}
	va_end(ap);
	if (r == 0)
		*set = s;
	return r;
}

static int
thread_mask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t prev;
	int r;

	if (set == NULL)
		return -EINVAL;
	r = pthread_sigmask(how, set, &prev);
	if (r != 0)
		return -r;
	if (old)
		*old = prev;
	return 0;
}

int
ik_sig_block(const sigset_t *set, sigset_t *old)
{
	return thread_mask(SIG_BLOCK, set, old);
}

int
ik_sig_unblock(const sigset_t *set, sigset_t *old)
{
	return thread_mask(SIG_UNBLOCK, set, old);
}

int
ik_sig_setmask(const sigset_t *set, sigset_t *old)
{
	return thread_mask(SIG_SETMASK, set, old);
}

int
ik_sig_pending(sigset_t *out)
{
	if (out == NULL)
		return -EINVAL;
	if (sigpending(out) < 0)
		return -errno;
	return 0;
}

int
ik_sig_is_pending(int sig)
{
	sigset_t p;

	if (!valid_sig(sig))
		return -EINVAL;
	if (sigpending(&p) < 0)
		return -errno;
	return sigismember(&p, sig) == 1;
}

int
ik_sig_suspend(const sigset_t *mask)
{
	if (mask == NULL)
		return -EFAULT;
	sigsuspend(mask);
	return -EINTR;
}

void
ik_siginfo_from(struct ik_siginfo *out, const siginfo_t *si)
{
	memset(out, 0, sizeof(*out));
	out->signo = si->si_signo;
	out->code = si->si_code;
	out->pid = si->si_pid;
	out->uid = si->si_uid;
	if (si->si_signo == SIGCHLD)
		out->status = si->si_status;
	out->value_int = si->si_value.sival_int;
	out->value_ptr = si->si_value.sival_ptr;
}

int
ik_sig_wait(const sigset_t *set, int timeout_ms, struct ik_siginfo *out)
{
	struct ik__deadline d;
	struct timespec ts;
	siginfo_t si;
	int r;

	if (set == NULL)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		if (d.forever) {
			r = sigwaitinfo(set, &si);
		} else {
			ts = ik__deadline_rel(&d);
			r = sigtimedwait(set, &si, &ts);
		}
		if (r > 0)
			break;
		if (errno == EAGAIN)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
		if (ik__deadline_expired(&d))
			return -ETIMEDOUT;
	}
	if (out)
		ik_siginfo_from(out, &si);
	return r;
}

/*
 * pid must be a real process: kill(-1) would signal every process we may
 * signal, and a negative error code passed as a pid is an easy mistake.
 */
int
ik_sig_kill(pid_t pid, int sig)
{
	if (pid <= 0 || (sig != 0 && !valid_sig(sig)))
		return -EINVAL;
	if (kill(pid, sig) < 0)
		return -errno;
	return 0;
}

int
ik_sig_killpg(pid_t pgrp, int sig)
{
	if (pgrp < 0 || (sig != 0 && !valid_sig(sig)))
		return -EINVAL;
	if (killpg(pgrp, sig) < 0)
		return -errno;
	return 0;
}

int
ik_sig_raise(int sig)
{
	if (!valid_sig(sig))
		return -EINVAL;
	return -pthread_kill(pthread_self(), sig);
}

static int
queue(pid_t pid, int sig, union sigval v)
{
	if (pid <= 0 || (sig != 0 && !valid_sig(sig)))
		return -EINVAL;
	if (sigqueue(pid, sig, v) < 0)
		return errno == EAGAIN ? IK_ERLIMIT_SIGPENDING : -errno;
	return 0;
}

int
ik_sig_queue_int(pid_t pid, int sig, int value)
{
	union sigval v;

	memset(&v, 0, sizeof(v));
	v.sival_int = value;
	return queue(pid, sig, v);
}

int
ik_sig_queue_ptr(pid_t pid, int sig, void *value)
{
	union sigval v;

	v.sival_ptr = value;
	return queue(pid, sig, v);
}

/* ---- names ----------------------------------------------------------------
 */

static const struct {
	const char *name;
	int sig;
} names[] = {
	/* primary names first: ik_sig_name prints the first match */
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },
	{ "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },
	{ "BUS", SIGBUS },
	{ "FPE", SIGFPE },
	{ "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD },
	{ "CONT", SIGCONT },
	{ "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU },
	{ "URG", SIGURG },
	{ "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },
	{ "IO", SIGIO },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
	/* aliases, accepted when parsing */
	{ "IOT", SIGABRT },
	{ "POLL", SIGIO },
	{ "CLD", SIGCHLD },
};

/* "123" -> 123; -1 for empty, non-digits or more than 3 digits */
static int
parse_small(const char *s)
{
	int v = 0, n = 0;

	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n == 3)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return n == 0 ? -1 : v;
}

int
ik_sig_from_name(const char *name)
{
	int n, span = SIGRTMAX - SIGRTMIN;

	if (name == NULL || strnlen(name, 33) > 32)
		return -EINVAL;
	if (strncasecmp(name, "SIG", 3) == 0) {
		name += 3;
		if (*name >= '0' && *name <= '9')
			return -EINVAL; /* "SIG15" is nobody's spelling */
	}
	if (*name >= '0' && *name <= '9') {
		n = parse_small(name);
		return n > 0 && valid_sig(n) ? n : -EINVAL;
	}
	if (strncasecmp(name, "RTMIN", 5) == 0 ||
	    strncasecmp(name, "RTMAX", 5) == 0) {
		int max = (name[4] == 'x' || name[4] == 'X');
		const char *rest = name + 5;

		if (*rest == '\0')
			return max ? SIGRTMAX : SIGRTMIN;
		if (*rest != (max ? '-' : '+'))
			return -EINVAL;
		n = parse_small(rest + 1);
		if (n < 0 || n > span)
			return -EINVAL;
		return max ? SIGRTMAX - n : SIGRTMIN + n;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].sig;
	return -EINVAL;
}

int
ik_sig_name(int sig, char *buf, size_t len)
{
	int n = -1;

	if (!valid_sig(sig) || buf == NULL)
		return -EINVAL;
	if (sig >= SIGRTMIN) {
		if (sig == SIGRTMIN)
			n = snprintf(buf, len, "RTMIN");
		else
			n = snprintf(buf, len, "RTMIN+%d", sig - SIGRTMIN);
	} else {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].sig == sig) {
				n = snprintf(buf, len, "%s", names[i].name);
				break;
			}
		if (n < 0)
			return -EINVAL; /* a number this table does not know */
	}
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

/* ---- signalfd -------------------------------------------------------------
 */

int
ik_sig_fd_open(const sigset_t *set, int flags)
{
	sigset_t cur, old;
	int fd, blocked = 0;

	if (set == NULL || (flags & ~(IK_SIGFD_NONBLOCK | IK_SIGFD_BLOCK)))
		return -EINVAL;
	if (flags & IK_SIGFD_BLOCK) {
		int r = pthread_sigmask(SIG_BLOCK, set, &old);

		if (r != 0)
			return -r;
		blocked = 1;
	} else {
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		for (int s = 1; s <= SIGRTMAX; s++)
			if (catchable(s) && sigismember(set, s) == 1 &&
			    sigismember(&cur, s) != 1)
				return -EINVAL;
	}
	fd = signalfd(-1, set,
		      SFD_CLOEXEC |
			      ((flags & IK_SIGFD_NONBLOCK) ? SFD_NONBLOCK : 0));
	if (fd < 0) {
		int e = errno;

		if (blocked)
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -e;
	}
	return fd;
}

static void
from_ssi(struct ik_siginfo *out, const struct signalfd_siginfo *s)
{
	memset(out, 0, sizeof(*out));
	out->signo = (int)s->ssi_signo;
	out->code = s->ssi_code;
	out->pid = (pid_t)s->ssi_pid;
	out->uid = (uid_t)s->ssi_uid;
	out->status = s->ssi_status;
	out->value_int = s->ssi_int;
	out->value_ptr = (void *)(uintptr_t)s->ssi_ptr;
}

int
ik_sig_fd_read(int fd, struct ik_siginfo *out, int n, int timeout_ms)
{
	struct signalfd_siginfo buf[32];
	struct ik__deadline d;
	ssize_t got;
	int r, k;

	if (fd < 0)
		return -EBADF; /* poll would just ignore it and time out */
	if (out == NULL || n <= 0)
		return -EINVAL;
	if (n > 32)
		n = 32;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		r = ik__wait_fd(fd, POLLIN, &d);
		if (r < 0)
			return r;
		got = read(fd, buf, sizeof(buf[0]) * (size_t)n);
		if (got > 0)
			break;
		if (got == 0)
			return -EIO; /* a signalfd never ends */
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		if (ik__deadline_expired(&d))
			return -ETIMEDOUT;
	}
	/* the kernel returns whole records; anything else is not a signalfd */
	if ((size_t)got % sizeof(buf[0]) != 0)
		return -EINVAL;
	k = (int)((size_t)got / sizeof(buf[0]));
	for (int i = 0; i < k; i++)
		from_ssi(&out[i], &buf[i]);
	return k;
}

/* ---- self-pipe ------------------------------------------------------------
 */

/*
 * A handler cannot be given an argument, so the write end lives here: one
 * self-pipe per process. sig_atomic_t so the handler reads it whole.
 */
static volatile sig_atomic_t pipe_wfd = -1;
static int pipe_rfd = -1;
static sigset_t pipe_set;
static struct sigaction pipe_old[_NSIG];
static pthread_mutex_t pipe_lock = PTHREAD_MUTEX_INITIALIZER;

static void
pipe_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	int fd = pipe_wfd;

	if (fd >= 0 && write(fd, &b, 1) < 0) {
		/* full: the reader has bytes to wake it; nothing to do */
	}
	errno = saved;
}

static void
pipe_restore_all(void)
{
	for (int s = 1; s < _NSIG; s++)
		if (sigismember(&pipe_set, s) == 1)
			sigaction(s, &pipe_old[s], NULL);
}

int
ik_sig_pipe_open(const sigset_t *set, int flags, int *rfd)
{
	struct sigaction sa;
	int fds[2], r = 0, any = 0;

	if (set == NULL || rfd == NULL)
		return -EINVAL;
	for (int s = 1; s < _NSIG; s++)
		if (sigismember(set, s) == 1) {
			if (!catchable(s))
				return -EINVAL;
			any = 1;
		}
	if (!any)
		return -EINVAL;
	pthread_mutex_lock(&pipe_lock);
	if (pipe_rfd >= 0) {
		r = -EBUSY;
		goto out;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	pipe_rfd = fds[0];
	pipe_wfd = fds[1]; /* before any handler can run */
	sigemptyset(&pipe_set);
	for (int s = 1; s < _NSIG; s++) {
		if (sigismember(set, s) != 1)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = pipe_handler;
		r = install(s, &sa, flags, &pipe_old[s]);
		if (r < 0)
			goto fail;
		sigaddset(&pipe_set, s);
	}
	*rfd = pipe_rfd;
	goto out;
fail:
	pipe_restore_all();
	pipe_wfd = -1;
	ik__close(fds[1]);
	ik__close(fds[0]);
	pipe_rfd = -1;
out:
	pthread_mutex_unlock(&pipe_lock);
	return r;
}

int
ik_sig_pipe_read(int timeout_ms)
{
	struct ik__deadline d;
	unsigned char b;
	ssize_t n;
	int r, fd = pipe_rfd;

	if (fd < 0)
		return -EBADF;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		n = read(fd, &b, 1);
		if (n == 1)
			return b;
		if (n == 0)
			return -EBADF;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		r = ik__wait_fd(fd, POLLIN, &d);
		if (r < 0)
			return r;
	}
}

int
ik_sig_pipe_close(void)
{
	int r = 0, wfd;

	pthread_mutex_lock(&pipe_lock);
	if (pipe_rfd < 0) {
		r = -EBADF;
		goto out;
	}
	/* handlers first: after this no new write can start */
	pipe_restore_all();
	wfd = pipe_wfd;
	pipe_wfd = -1;
	ik__close(wfd);
	ik__close(pipe_rfd);
	pipe_rfd = -1;
	sigemptyset(&pipe_set);
out:
	pthread_mutex_unlock(&pipe_lock);
	return r;
}
