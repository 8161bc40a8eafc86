/*
 * Event loop (see include/ipckit/loop.h). Every kernel object the loop owns
 * is a descriptor in one epoll set: timerfds, one signalfd, pidfds, and an
 * eventfd for ik_loop_stop. epoll hands back the watcher pointer, so a
 * removed watcher must stay allocated until the batch is done: removal
 * marks it dead and releases its kernel resources at once, and the sweep at
 * the end of each iteration frees it (Redis and libuv do the same).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/loop.h>

#include "internal/io.h"
#include "internal/proc.h"

enum kind { W_FD, W_TIMER, W_SIGNAL, W_CHILD, W_DEFER, W_INTERNAL };

struct ik_watch {
	ik_loop *loop;
	struct ik_watch *next; /* every watcher, dead ones until the sweep */
	enum kind kind;
	bool dead;
	int fd;		 /* user fd, timerfd or pidfd; -1: SIGCHLD fallback */
	unsigned events; /* fd watcher */
	int sig;	 /* signal watcher */
	pid_t pid;	 /* child watcher */
	bool periodic;	 /* timer */
	uint64_t queued; /* defer: the iteration it was queued in */
	ik_loop_cb cb;
	void *arg;
};

struct ik_loop {
	int epfd, evfd, sigfd;
	unsigned flags;
	struct ik_watch stop_w, sig_w; /* epoll tags of the internal fds */
	struct ik_watch *head, **tailp;
	sigset_t sigset; /* what the signalfd reads */
	int nlive, ndefer, nfallback;
	int ndead; /* killed, not yet swept */
	uint64_t iter;
	bool running, stopped, child_check;
};

static bool
catchable(int sig)
{
	return sig >= 1 && (sig < 32 || (sig >= SIGRTMIN && sig <= SIGRTMAX)) &&
	       sig != SIGKILL && sig != SIGSTOP;
}

int
ik_loop_new(ik_loop **out, unsigned flags)
{
	struct epoll_event ev = { .events = EPOLLIN };
	ik_loop *l;
	int r;

	if (out == NULL || (flags & ~IK_LOOP_NO_PIDFD))
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->flags = flags;
	l->evfd = l->sigfd = -1;
	l->tailp = &l->head;
	l->stop_w.kind = l->sig_w.kind = W_INTERNAL;
	sigemptyset(&l->sigset);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail_errno;
	l->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->evfd < 0)
		goto fail_errno;
	ev.data.ptr = &l->stop_w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) < 0)
		goto fail_errno;
	*out = l;
	return 0;
fail_errno:
	r = -errno;
	ik__close(l->evfd);
	ik__close(l->epfd);
	free(l);
	return r;
}

/*
 * Make the signalfd read exactly the signals some live watcher needs, so a
 * signal nobody watches any more stays pending for whoever wants it. Added
 * signals are blocked in this thread first: signalfd only sees blocked ones.
 */
static int
sync_signals(ik_loop *l, int add)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->sig_w };
	sigset_t want, blk;
	int fd, r;

	sigemptyset(&want);
	for (struct ik_watch *w = l->head; w; w = w->next)
		if (!w->dead && w->kind == W_SIGNAL)
			sigaddset(&want, w->sig);
	if (l->nfallback > 0)
		sigaddset(&want, SIGCHLD);
	if (add > 0) {
		sigaddset(&want, add);
		sigemptyset(&blk);
		sigaddset(&blk, add);
		r = pthread_sigmask(SIG_BLOCK, &blk, NULL);
		if (r != 0)
			return -r;
	}
	fd = signalfd(l->sigfd, &want, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			r = -errno;
			ik__close(fd);
			return r;
		}
		l->sigfd = fd;
	}
	l->sigset = want;
	return 0;
}

static struct ik_watch *
watch_new(ik_loop *l, enum kind kind, ik_loop_cb cb, void *arg)
{
	struct ik_watch *w;

	if (cb == NULL)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->loop = l;
	w->kind = kind;
	w->fd = -1;
	w->cb = cb;
	w->arg = arg;
	return w;
}

static void
watch_link(ik_loop *l, struct ik_watch *w, ik_watch **out)
{
	*l->tailp = w;
	l->tailp = &w->next;
	l->nlive++;
	if (out)
		*out = w;
}

/* Release what the kernel holds for w; the memory waits for the sweep. */
static void
watch_kill(struct ik_watch *w)
{
	ik_loop *l = w->loop;

	if (w->dead)
		return;
	w->dead = true;
	l->nlive--;
	l->ndead++;
	switch (w->kind) {
	case W_FD:
		/* fails with EBADF if the user closed fd first: nothing left */
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
		break;
	case W_TIMER:
	case W_CHILD:
		if (w->fd >= 0) {
			/* closing is not enough: a forked child holding the
			 * same file would keep it in our epoll set, and its
			 * events would name this watcher after the sweep freed
			 * it */
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
			ik__close(w->fd);
		} else {
			l->nfallback--;
			sync_signals(l, 0);
		}
		break;
	case W_SIGNAL:
		sync_signals(l, 0);
		break;
	case W_DEFER:
		l->ndefer--;
		break;
	case W_INTERNAL:
		break;
	}
}

static void
sweep(ik_loop *l)
{
	struct ik_watch **pp = &l->head, *w;

	if (l->ndead == 0)
		return; /* nothing to free: no walk over every watcher */
	l->ndead = 0;
	while ((w = *pp) != NULL) {
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
	l->tailp = pp;
}

int
ik_loop_free(ik_loop *l)
{
	if (l == NULL)
		return 0;
	if (l->running)
		return -EBUSY;
	for (struct ik_watch *w = l->head; w; w = w->next)
		watch_kill(w);
	sweep(l);
	ik__close(l->sigfd);
	ik__close(l->evfd);
	ik__close(l->epfd);
	free(l);
	return 0;
}

void
ik_loop_stop(ik_loop *l)
{
	uint64_t one = 1;
	int saved = errno;

	if (l == NULL)
		return;
	if (write(l->evfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, a stop is pending */
	}
	errno = saved;
}

int
ik_loop_count(const ik_loop *l)
{
	return l ? l->nlive : -EINVAL;
}

static uint32_t
to_epoll(unsigned events)
{
	uint32_t e = 0;

	if (events & IK_LOOP_READ)
		e |= EPOLLIN | EPOLLRDHUP;
	if (events & IK_LOOP_WRITE)
		e |= EPOLLOUT;
	if (events & IK_LOOP_EDGE)
		e |= EPOLLET;
	return e;
}

static bool
fd_events_ok(unsigned events)
{
	return !(events & ~(IK_LOOP_READ | IK_LOOP_WRITE | IK_LOOP_EDGE)) &&
	       (events & (IK_LOOP_READ | IK_LOOP_WRITE));
}

int
ik_loop_fd_add(ik_loop *l, int fd, unsigned events, ik_loop_cb cb, void *arg,
	       ik_watch **out)
{
	struct epoll_event ev;
	struct ik_watch *w;

	if (l == NULL || fd < 0 || !fd_events_ok(events) || cb == NULL)
		return -EINVAL;
	w = watch_new(l, W_FD, cb, arg);
	if (w == NULL)
		return -ENOMEM;
	w->fd = fd;
	w->events = events;
	ev.events = to_epoll(events);
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	watch_link(l, w, out);
	return 0;
}

int
ik_loop_fd_set(ik_watch *w, unsigned events)
{
	struct epoll_event ev;

	if (w == NULL || w->dead || w->kind != W_FD || !fd_events_ok(events))
		return -EINVAL;
	ev.events = to_epoll(events);
	ev.data.ptr = w;
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

static struct timespec
ms_ts(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000 };
	return ts;
}

static int
timer_arm(int fd, uint64_t after_ms, uint64_t interval_ms)
{
	struct itimerspec its = { .it_interval = ms_ts(interval_ms),
				  .it_value = ms_ts(after_ms) };

	if (after_ms == 0)
		its.it_value.tv_nsec = 1; /* zero would disarm it */
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int
ik_loop_timer_add(ik_loop *l, uint64_t after_ms, uint64_t interval_ms,
		  ik_loop_cb cb, void *arg, ik_watch **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ik_watch *w;
	int r;

	if (l == NULL || cb == NULL || after_ms > INT64_MAX / 1000 ||
	    interval_ms > INT64_MAX / 1000)
		return -EINVAL;
	w = watch_new(l, W_TIMER, cb, arg);
	if (w == NULL)
		return -ENOMEM;
	w->periodic = interval_ms > 0;
	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (w->fd < 0) {
		r = -errno;
		goto fail;
	}
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
		r = -errno;
		goto fail;
	}
	r = timer_arm(w->fd, after_ms, interval_ms);
	if (r < 0)
		goto fail;
	watch_link(l, w, out);
	return 0;
fail:
	ik__close(w->fd);
	free(w);
	return r;
}

int
ik_loop_timer_set(ik_watch *w, uint64_t after_ms, uint64_t interval_ms)
{
	int r;

	if (w == NULL || w->dead || w->kind != W_TIMER ||
	    after_ms > INT64_MAX / 1000 || interval_ms > INT64_MAX / 1000)
		return -EINVAL;
	r = timer_arm(w->fd, after_ms, interval_ms);
	if (r == 0)
		w->periodic = interval_ms > 0;
	return r;
}

int
ik_loop_signal_add(ik_loop *l, int sig, ik_loop_cb cb, void *arg,
		   ik_watch **out)
{
	struct ik_watch *w;
	int r;

	if (l == NULL || !catchable(sig) || cb == NULL)
		return -EINVAL;
	w = watch_new(l, W_SIGNAL, cb, arg);
	if (w == NULL)
		return -ENOMEM;
	w->sig = sig;
	r = sync_signals(l, sig);
	if (r < 0) {
		free(w);
		return r;
	}
	watch_link(l, w, out);
	return 0;
}

int
ik_loop_child_add(ik_loop *l, pid_t pid, ik_loop_cb cb, void *arg,
		  ik_watch **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ik_watch *w;
	siginfo_t si;
	int pfd, r;

	if (l == NULL || pid <= 0 || cb == NULL)
		return -EINVAL;
	/* is it ours and not reaped yet? (WNOWAIT: leave it a zombie) */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -errno;
	w = watch_new(l, W_CHILD, cb, arg);
	if (w == NULL)
		return -ENOMEM;
	w->pid = pid;
	/* -ENOSYS: no pidfds here (kernel < 5.3, valgrind), or not wanted */
	pfd = l->flags & IK_LOOP_NO_PIDFD ? -ENOSYS : ik__pidfd_open(pid);
	if (pfd >= 0) {
		w->fd = pfd;
		ev.data.ptr = w;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
			r = -errno;
			ik__close(w->fd);
			free(w);
			return r;
		}
	} else {
		if (pfd != -ENOSYS) {
			free(w);
			return pfd;
		}
		r = sync_signals(l, SIGCHLD);
		if (r < 0) {
			free(w);
			return r;
		}
		l->nfallback++;
		/* it may have exited before SIGCHLD was blocked: look once */
		l->child_check = true;
	}
	watch_link(l, w, out);
	return 0;
}

int
ik_loop_defer(ik_loop *l, ik_loop_cb cb, void *arg, ik_watch **out)
{
	struct ik_watch *w;

	if (l == NULL || cb == NULL)
		return -EINVAL;
	w = watch_new(l, W_DEFER, cb, arg);
	if (w == NULL)
		return -ENOMEM;
	w->queued = l->iter;
	l->ndefer++;
	watch_link(l, w, out);
	return 0;
}

int
ik_loop_remove(ik_watch *w)
{
	if (w == NULL)
		return -EINVAL;
	watch_kill(w);
	return 0;
}

/* ---- one iteration --------------------------------------------------------
 */

static void
child_done(struct ik_watch *w, int status, int *ncb)
{
	struct ik_loop_event ev = { .fd = -1, .pid = w->pid, .status = status };

	watch_kill(w); /* one-shot: a remove inside the callback is a no-op */
	w->cb(w->loop, w, &ev, w->arg);
	(*ncb)++;
}

/* Fallback path: SIGCHLD coalesces, so every watched child is asked. */
static void
reap_fallback(ik_loop *l, int *ncb)
{
	int st;

	l->child_check = false;
	for (struct ik_watch *w = l->head; w; w = w->next) {
		if (w->dead || w->kind != W_CHILD || w->fd >= 0)
			continue;
		pid_t r = waitpid(w->pid, &st, WNOHANG);

		if (r == w->pid)
			child_done(w, st, ncb);
		else if (r < 0 && errno == ECHILD)
			child_done(w, -1, ncb); /* reaped behind our back */
	}
}

static void
on_signals(ik_loop *l, int *ncb)
{
	struct signalfd_siginfo buf[16];
	struct ik_loop_event ev;
	ssize_t n;

	for (;;) {
		n = read(l->sigfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (size_t i = 0; i < (size_t)n / sizeof(buf[0]); i++) {
			memset(&ev, 0, sizeof(ev));
			ev.fd = -1;
			ev.si.signo = (int)buf[i].ssi_signo;
			ev.si.code = buf[i].ssi_code;
			ev.si.pid = (pid_t)buf[i].ssi_pid;
			ev.si.uid = (uid_t)buf[i].ssi_uid;
			ev.si.status = buf[i].ssi_status;
			ev.si.value_int = buf[i].ssi_int;
			ev.si.value_ptr = (void *)(uintptr_t)buf[i].ssi_ptr;
			if (ev.si.signo == SIGCHLD && l->nfallback > 0)
				l->child_check = true;
			for (struct ik_watch *w = l->head; w; w = w->next) {
				if (w->dead || w->kind != W_SIGNAL ||
				    w->sig != ev.si.signo)
					continue;
				w->cb(l, w, &ev, w->arg);
				(*ncb)++;
			}
		}
	}
	if (l->child_check)
		reap_fallback(l, ncb);
}

static void
dispatch(ik_loop *l, struct ik_watch *w, uint32_t e, int *ncb)
{
	struct ik_loop_event ev;
	uint64_t n;
	int st;

	memset(&ev, 0, sizeof(ev));
	ev.fd = -1;
	switch (w->kind) {
	case W_FD:
		ev.fd = w->fd;
		if (e & (EPOLLIN | EPOLLPRI))
			ev.events |= IK_LOOP_READ;
		if (e & EPOLLOUT)
			ev.events |= IK_LOOP_WRITE;
		if (e & (EPOLLHUP | EPOLLRDHUP))
			ev.events |= IK_LOOP_HUP;
		if (e & EPOLLERR)
			ev.events |= IK_LOOP_ERR;
		w->cb(l, w, &ev, w->arg);
		(*ncb)++;
		break;
	case W_TIMER:
		/* EAGAIN: re-armed by a callback earlier in this batch */
		if (read(w->fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
			break;
		ev.expirations = n;
		if (!w->periodic)
			watch_kill(w);
		w->cb(l, w, &ev, w->arg);
		(*ncb)++;
		break;
	case W_CHILD: {
		pid_t r = waitpid(w->pid, &st, WNOHANG);

		if (r == w->pid)
			child_done(w, st, ncb);
		else if (r < 0)
			child_done(w, -1, ncb);
		break;
	}
	case W_SIGNAL:
	case W_DEFER:
	case W_INTERNAL:
		break;
	}
}

int
ik_loop_run_once(ik_loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	struct ik__deadline d;
	int n, ncb = 0;
	uint64_t cnt;

	if (l == NULL)
		return -EINVAL;
	if (l->running)
		return -EBUSY; /* not re-entrant: the sweep would free too soon
				*/
	l->running = true;
	l->iter++;
	/* those queued before this iteration, in order; newer ones wait
	 * (no walk at all when none is queued) */
	for (struct ik_watch *w = l->ndefer > 0 ? l->head : NULL; w;
	     w = w->next) {
		if (w->dead || w->kind != W_DEFER || w->queued >= l->iter)
			continue;
		struct ik_loop_event ev = { .fd = -1 };

		watch_kill(w);
		w->cb(l, w, &ev, w->arg);
		ncb++;
	}
	if (l->child_check)
		reap_fallback(l, &ncb);
	if (ncb > 0 || l->ndefer > 0)
		timeout_ms = 0;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		n = epoll_wait(l->epfd, evs, 64, ik__deadline_left_ms(&d));
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR) {
			n = -errno;
			goto out;
		}
		if (ik__deadline_expired(&d)) {
			n = 0;
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		struct ik_watch *w = evs[i].data.ptr;

		if (w == &l->stop_w) {
			if (read(l->evfd, &cnt, sizeof(cnt)) == sizeof(cnt))
				l->stopped = true;
		} else if (w == &l->sig_w) {
			on_signals(l, &ncb);
		} else if (!w->dead) {
			dispatch(l, w, evs[i].events, &ncb);
		}
	}
	n = ncb;
out:
	sweep(l);
	l->running = false;
	return n;
}

int
ik_loop_run(ik_loop *l)
{
	int r;

	if (l == NULL)
		return -EINVAL;
	for (;;) {
		if (l->nlive == 0)
			return 0;
		r = ik_loop_run_once(l, -1);
		if (r < 0)
			return r;
		if (l->stopped) {
			l->stopped = false;
			return 1;
		}
	}
}
