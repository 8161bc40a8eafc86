/*
 * ik_loop: readiness between processes (level and edge), timers that never
 * fire early, signals with their siginfo, child exits (pidfd and the SIGCHLD
 * fallback), deferred order, stop from a thread and from a handler, watchers
 * added and removed inside callbacks (self, and one already in the batch),
 * no descriptor left after ik_loop_free.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/loop.h>

#include "ikt.h"
#include "internal/time.h"

static sigset_t saved_mask;

/* watchers of signals block them in this thread: undo it per test */
static int
setup(void **state)
{
	(void)state;
	return pthread_sigmask(SIG_BLOCK, NULL, &saved_mask);
}

static int
teardown(void **state)
{
	(void)state;
	return pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
}

static int
in_epoll_wait(pid_t pid, pid_t tid)
{
	long nr = ikt_syscall_of(tid);

	(void)pid;

	return nr == SYS_epoll_wait || nr == SYS_epoll_pwait
#ifdef SYS_epoll_pwait2
	       || nr == SYS_epoll_pwait2
#endif
		;
}

/* poll a condition under a deadline; false if it never came */
static int
wait_until_epoll(pid_t pid, pid_t tid)
{
	struct ik__deadline d;

	ik__deadline_init(&d, IKT_WAIT_MS);
	while (!in_epoll_wait(pid, tid)) {
		if (ik__deadline_expired(&d))
			return 0;
		poll(NULL, 0, 1);
	}
	return 1;
}

/* ---- descriptors ----------------------------------------------------------
 */

struct sink {
	char *buf;
	size_t len, cap, chunk;
	int calls, eof;
};

static void
on_readable(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
	    void *arg)
{
	struct sink *s = arg;
	size_t want = s->cap - s->len < s->chunk ? s->cap - s->len : s->chunk;
	char extra;
	ssize_t n;

	(void)loop;
	s->calls++;
	if (!(ev->events & (IK_LOOP_READ | IK_LOOP_HUP)))
		return;
	/* when full, read into a spare byte: more data than expected is a
	 * failure the length check reports, not an overflow */
	n = want ? read(ev->fd, s->buf + s->len, want)
		 : read(ev->fd, &extra, 1);
	if (n > 0) {
		s->len += (size_t)n;
	} else if (n == 0) {
		s->eof = 1;
		ik_loop_remove(w);
	}
}

/* 256 KiB from a child, read 1000 bytes per callback: level-triggered */
static void
test_fd_level_between_processes(void **state)
{
	enum { LEN = 256 * 1024 };
	struct sink s = { .cap = LEN, .chunk = 1000 };
	ik_loop *loop;
	int fd[2];
	pid_t pid;

	(void)state;
	s.buf = malloc(LEN);
	assert_non_null(s.buf);
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		ikt_fill(s.buf, LEN, 3);
		for (size_t off = 0; off < LEN;) {
			ssize_t n = write(fd[1], s.buf + off, LEN - off);

			IKT_CHECK(n > 0);
			off += (size_t)n;
		}
		_exit(0);
	}
	close(fd[1]);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, on_readable,
					&s, NULL),
			 0);
	assert_int_equal(ik_loop_run(loop), 0); /* ends when EOF removed it */
	assert_int_equal(s.len, LEN);
	assert_true(s.eof);
	assert_true(s.calls >= LEN / 1000);
	assert_int_equal(ikt_check(s.buf, LEN, 3), 0);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_loop_free(loop), 0);
	close(fd[0]);
	free(s.buf);
}

/*
 * Edge-triggered: a callback that leaves data unread hears nothing more
 * until new data arrives; level-triggered it is called again at once.
 */
static void
test_fd_edge_vs_level(void **state)
{
	char buf[64];
	struct sink s = { .buf = buf, .cap = sizeof(buf), .chunk = 10 };
	struct ikt_sync go, wrote;
	ik_loop *loop;
	ik_watch *w;
	int fd[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	ikt_sync_init(&go);
	ikt_sync_init(&wrote);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		for (int round = 0; round < 2; round++) {
			IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
			IKT_CHECK(write(fd[1], "abcdefghijklmnopqrst", 20) ==
				  20);
			ikt_post(&wrote);
		}
		_exit(0);
	}
	close(fd[1]);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(ik_loop_fd_add(loop, fd[0],
					IK_LOOP_READ | IK_LOOP_EDGE,
					on_readable, &s, &w),
			 0);
	ikt_post(&go);
	assert_int_equal(ikt_await(&wrote, IKT_WAIT_MS), 0);
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_int_equal(s.len, 10);
	/* 10 bytes left unread, but no new edge: nothing within 200 ms */
	assert_int_equal(ik_loop_run_once(loop, 200), 0);
	ikt_post(&go);
	assert_int_equal(ikt_await(&wrote, IKT_WAIT_MS), 0);
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_int_equal(s.len, 20);
	/* switch to level: the remaining 20 bytes are reported at once */
	assert_int_equal(ik_loop_fd_set(w, IK_LOOP_READ), 0);
	assert_int_equal(ik_loop_run_once(loop, 0), 1);
	assert_int_equal(ik_loop_run_once(loop, 0), 1);
	assert_int_equal(s.len, 40);
	assert_memory_equal(buf, "abcdefghijklmnopqrstabcdefghijklmnopqrst",
			    40);
	ikt_assert_child_ok(pid);
	/* writer gone: HUP, read gives EOF, the callback removes itself */
	assert_int_equal(ik_loop_run(loop), 0);
	assert_true(s.eof);
	ik_loop_free(loop);
	close(fd[0]);
	ikt_sync_close(&go);
	ikt_sync_close(&wrote);
}

/* ---- timers ---------------------------------------------------------------
 */

struct tick {
	int64_t t0, at;
	uint64_t total;
	int calls, want;
};

static void
on_tick(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct tick *t = arg;

	(void)loop;
	t->calls++;
	t->total += ev->expirations;
	t->at = ik__now_ns() - t->t0;
	if (t->want && t->total >= (uint64_t)t->want)
		ik_loop_remove(w);
}

/*
 * A removed timer whose descriptor a forked child still holds must not reach
 * us: closing alone would leave the child's copy in our epoll set, its
 * events naming a watcher the sweep has freed (ASan caught this in serve).
 */
static void
test_removed_timer_with_forked_holder(void **state)
{
	struct tick t = { 0 };
	struct ikt_sync done;
	ik_loop *l;
	ik_watch *w;
	pid_t pid;

	(void)state;
	ikt_sync_init(&done);
	assert_int_equal(ik_loop_new(&l, 0), 0);
	assert_int_equal(ik_loop_timer_add(l, 1, 1, on_tick, &t, &w), 0);
	assert_true(ik_loop_run_once(l, IKT_WAIT_MS) >= 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* holds every descriptor, the timerfd too */
		IKT_CHECK(ikt_await(&done, IKT_WAIT_MS) == 0);
		_exit(0);
	}
	assert_int_equal(ik_loop_remove(w), 0);
	t.calls = 0;
	/* the timer still ticks in the child's copy: nothing may come */
	for (int i = 0; i < 5; i++)
		assert_int_equal(ik_loop_run_once(l, 20), 0);
	assert_int_equal(t.calls, 0);
	ikt_post(&done);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_loop_free(l), 0);
	ikt_sync_close(&done);
}

static void
test_timers(void **state)
{
	struct tick one = { 0 }, per = { .want = 10 }, re = { 0 };
	ik_loop *loop;
	ik_watch *w;

	(void)state;
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	one.t0 = per.t0 = ik__now_ns();
	assert_int_equal(ik_loop_timer_add(loop, 150, 0, on_tick, &one, NULL),
			 0);
	assert_int_equal(ik_loop_timer_add(loop, 20, 20, on_tick, &per, NULL),
			 0);
	assert_int_equal(ik_loop_count(loop), 2);
	/* one-shot removes itself; periodic removes itself after 10 */
	assert_int_equal(ik_loop_run(loop), 0);
	assert_int_equal(one.calls, 1);
	assert_int_equal(one.total, 1);
	assert_true(one.at >= 150 * 1000000LL);
	assert_true(one.at < 10150 * 1000000LL);
	assert_true(per.total >= 10);
	/* expiration k is due at 20 + (k-1)*20 ms, never before */
	assert_true(per.at >= (int64_t)(20 + (per.total - 1) * 20) * 1000000);
	assert_true(per.calls >= 1 && (uint64_t)per.calls <= per.total);

	/* re-arming: an hour becomes 50 ms */
	re.t0 = ik__now_ns();
	assert_int_equal(ik_loop_timer_add(loop, 3600000, 0, on_tick, &re, &w),
			 0);
	assert_int_equal(ik_loop_timer_set(w, 50, 0), 0);
	assert_int_equal(ik_loop_run(loop), 0);
	assert_int_equal(re.calls, 1);
	assert_true(re.at >= 50 * 1000000LL);
	assert_true(re.at < 10050 * 1000000LL);

	/* 0 ms means "now", not "disarmed" */
	re.calls = 0;
	assert_int_equal(ik_loop_timer_add(loop, 0, 0, on_tick, &re, NULL), 0);
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_int_equal(re.calls, 1);
	assert_int_equal(ik_loop_timer_add(loop, 1, 0, NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(
		ik_loop_timer_add(loop, UINT64_MAX, 0, on_tick, &re, NULL),
		-EINVAL);
	ik_loop_free(loop);
}

/* ---- signals and children --------------------------------------------------
 */

struct sigrec {
	int n;
	struct ik_siginfo si[8];
	int expect;
};

static void
on_signal(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct sigrec *r = arg;

	(void)w;
	if (r->n < 8)
		r->si[r->n] = ev->si;
	if (++r->n == r->expect)
		ik_loop_stop(loop);
}

static void
test_signal_watcher(void **state)
{
	struct sigrec rt = { .expect = 5 }, u1 = { .expect = -1 },
		      u1b = { .expect = -1 };
	int rtsig = SIGRTMIN + 2;
	sigset_t cur;
	ik_loop *loop;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(ik_loop_signal_add(loop, rtsig, on_signal, &rt, NULL),
			 0);
	assert_int_equal(
		ik_loop_signal_add(loop, SIGUSR1, on_signal, &u1, NULL), 0);
	assert_int_equal(
		ik_loop_signal_add(loop, SIGUSR1, on_signal, &u1b, NULL), 0);
	/* documented: the loop's thread now blocks them */
	assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
	assert_int_equal(sigismember(&cur, rtsig), 1);
	assert_int_equal(sigismember(&cur, SIGUSR1), 1);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sig_kill(getppid(), SIGUSR1) == 0);
		for (int i = 1; i <= 5; i++)
			IKT_CHECK(ik_sig_queue_int(getppid(), rtsig, i * 11) ==
				  0);
		_exit(0);
	}
	assert_int_equal(ik_loop_run(loop), 1);
	ikt_assert_child_ok(pid);
	assert_int_equal(rt.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rt.si[i].signo, rtsig);
		assert_int_equal(rt.si[i].code, SI_QUEUE);
		assert_int_equal(rt.si[i].pid, pid);
		assert_int_equal(rt.si[i].value_int, (i + 1) * 11);
	}
	/* SIGUSR1 (lower number) was read first: both its watchers saw it */
	assert_int_equal(u1.n, 1);
	assert_int_equal(u1b.n, 1);
	assert_int_equal(u1.si[0].pid, pid);
	assert_int_equal(u1.si[0].code, SI_USER);
	assert_int_equal(
		ik_loop_signal_add(loop, SIGKILL, on_signal, &rt, NULL),
		-EINVAL);
	assert_int_equal(ik_loop_signal_add(loop, 0, on_signal, &rt, NULL),
			 -EINVAL);
	ik_loop_free(loop);
}

struct childrec {
	pid_t pid;
	int status, calls;
};

static void
on_child(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct childrec *c = arg;

	(void)loop;
	c->pid = ev->pid;
	c->status = ev->status;
	c->calls++;
	ik_loop_remove(w); /* allowed, a no-op for one-shot watchers */
}

static void
child_exit_case(unsigned flags)
{
	struct childrec a = { 0 }, b = { 0 }, c = { 0 };
	struct ikt_sync s;
	siginfo_t si;
	ik_loop *loop;
	pid_t pa, pb, pc, gone;

	assert_int_equal(ik_loop_new(&loop, flags), 0);
	/*
	 * Alone first: a child already a zombie when its watcher is added
	 * (its SIGCHLD long gone) is still seen.
	 */
	pc = fork();
	assert_true(pc >= 0);
	if (pc == 0)
		_exit(3);
	assert_int_equal(waitid(P_PID, (id_t)pc, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(ik_loop_child_add(loop, pc, on_child, &c, NULL), 0);
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.pid, pc);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 3);

	ikt_sync_init(&s);
	pa = fork();
	assert_true(pa >= 0);
	if (pa == 0) {
		IKT_CHECK(ikt_await(&s, IKT_WAIT_MS) == 0);
		_exit(7);
	}
	pb = fork();
	assert_true(pb >= 0);
	if (pb == 0) {
		for (;;)
			pause();
	}
	assert_int_equal(ik_loop_child_add(loop, pa, on_child, &a, NULL), 0);
	assert_int_equal(ik_loop_child_add(loop, pb, on_child, &b, NULL), 0);
	ikt_post(&s);
	assert_int_equal(kill(pb, SIGKILL), 0);
	assert_int_equal(ik_loop_run(loop), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.pid, pa);
	assert_true(WIFEXITED(a.status));
	assert_int_equal(WEXITSTATUS(a.status), 7);
	assert_int_equal(b.calls, 1);
	assert_true(WIFSIGNALED(b.status));
	assert_int_equal(WTERMSIG(b.status), SIGKILL);
	/* all three were reaped by the loop */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);

	gone = pa;
	assert_int_equal(ik_loop_child_add(loop, gone, on_child, &a, NULL),
			 -ECHILD);
	assert_int_equal(ik_loop_child_add(loop, getpid(), on_child, &a, NULL),
			 -ECHILD);
	assert_int_equal(ik_loop_child_add(loop, 0, on_child, &a, NULL),
			 -EINVAL);
	assert_int_equal(ik_loop_child_add(loop, -1, on_child, &a, NULL),
			 -EINVAL);
	ikt_sync_close(&s);
	ik_loop_free(loop);
}

static void
test_child_exit_pidfd(void **state)
{
	(void)state;
	child_exit_case(0);
}

static void
test_child_exit_sigchld_fallback(void **state)
{
	(void)state;
	child_exit_case(IK_LOOP_NO_PIDFD);
}

/* ---- deferred -------------------------------------------------------------
 */

struct dlog {
	char seq[32];
	int n;
	ik_watch *victim;
	ik_loop *loop;
};

static void on_defer(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
		     void *arg);

static struct dlog dl;

static void
on_defer(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	char tag = (char)(intptr_t)arg;

	(void)w;
	(void)ev;
	dl.seq[dl.n++] = tag;
	if (tag == 'A') /* queued from a deferred: next iteration */
		assert_int_equal(ik_loop_defer(loop, on_defer,
					       (void *)(intptr_t)'D', NULL),
				 0);
	if (tag == 'B') /* cancel one queued in this very batch */
		ik_loop_remove(dl.victim);
}

static void
test_defer_order(void **state)
{
	ik_loop *loop;
	ik_watch *e;

	(void)state;
	memset(&dl, 0, sizeof(dl));
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(
		ik_loop_defer(loop, on_defer, (void *)(intptr_t)'A', NULL), 0);
	assert_int_equal(
		ik_loop_defer(loop, on_defer, (void *)(intptr_t)'B', NULL), 0);
	assert_int_equal(ik_loop_defer(loop, on_defer, (void *)(intptr_t)'X',
				       &dl.victim),
			 0);
	assert_int_equal(
		ik_loop_defer(loop, on_defer, (void *)(intptr_t)'C', NULL), 0);
	assert_int_equal(
		ik_loop_defer(loop, on_defer, (void *)(intptr_t)'E', &e), 0);
	assert_int_equal(ik_loop_remove(e), 0); /* cancelled before it ran */
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 3);
	assert_string_equal(dl.seq, "ABC");
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_string_equal(dl.seq, "ABCD");
	assert_int_equal(ik_loop_count(loop), 0);
	assert_int_equal(ik_loop_run(loop), 0);
	assert_int_equal(ik_loop_defer(loop, NULL, NULL, NULL), -EINVAL);
	ik_loop_free(loop);
}

/* ---- stopping -------------------------------------------------------------
 */

struct stopper {
	ik_loop *loop;
	pid_t tid;
	int ok;
};

static void *
stop_thread(void *arg)
{
	struct stopper *s = arg;

	/* wait until the loop really sleeps in epoll_wait, then stop it */
	s->ok = wait_until_epoll(getpid(), s->tid);
	ik_loop_stop(s->loop);
	return NULL;
}

static void
never(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)loop;
	(void)w;
	(void)ev;
	*(int *)arg += 1;
}

static void
test_stop_from_thread(void **state)
{
	struct stopper s;
	pthread_t th;
	ik_loop *loop;
	int fd[2], calls = 0;

	(void)state;
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, never, &calls, NULL),
		0);
	s.loop = loop;
	s.tid = (pid_t)syscall(SYS_gettid);
	assert_int_equal(pthread_create(&th, NULL, stop_thread, &s), 0);
	assert_int_equal(ik_loop_run(loop), 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(s.ok);
	assert_int_equal(calls, 0);
	/* a stop requested before run is not lost */
	ik_loop_stop(loop);
	assert_int_equal(ik_loop_run(loop), 1);
	ik_loop_free(loop);
	close(fd[0]);
	close(fd[1]);
}

static ik_loop *handler_loop;

static void
stop_handler(int sig)
{
	(void)sig;
	ik_loop_stop(handler_loop);
}

/* another process signals us while we sleep; the handler stops the loop */
static void
test_stop_from_signal_handler(void **state)
{
	struct sigaction old;
	ik_loop *loop;
	int fd[2], calls = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	handler_loop = loop;
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, never, &calls, NULL),
		0);
	/* NORESTART: epoll_wait sees EINTR and must carry on waiting */
	assert_int_equal(
		ik_sig_handle(SIGUSR2, stop_handler, IK_SIG_NORESTART, &old),
		0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(wait_until_epoll(getppid(), getppid()));
		IKT_CHECK(ik_sig_kill(getppid(), SIGUSR2) == 0);
		_exit(0);
	}
	assert_int_equal(ik_loop_run(loop), 1);
	ikt_assert_child_ok(pid);
	assert_int_equal(calls, 0);
	assert_int_equal(ik_sig_restore(SIGUSR2, &old), 0);
	ik_loop_free(loop);
	close(fd[0]);
	close(fd[1]);
}

/* ---- watchers changed inside callbacks ------------------------------------
 */

struct pair {
	ik_watch *other;
	int *calls;
	int self;
};

/* whichever of the two runs first removes the other, its event pending */
static void
remove_other(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
	     void *arg)
{
	struct pair *p = arg;

	(void)loop;
	(void)ev;
	(*p->calls)++;
	assert_int_equal(ik_loop_remove(p->other), 0);
	if (p->self)
		assert_int_equal(ik_loop_remove(w), 0);
}

struct adder {
	int fd;
	int calls, added_calls;
};

static void
added_cb(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct adder *a = arg;

	(void)loop;
	(void)ev;
	a->added_calls++;
	ik_loop_remove(w);
}

static void
add_in_cb(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct adder *a = arg;

	(void)ev;
	a->calls++;
	assert_int_equal(ik_loop_remove(w), 0);
	assert_int_equal(ik_loop_remove(w), 0); /* twice in one batch: fine */
	assert_int_equal(
		ik_loop_fd_add(loop, a->fd, IK_LOOP_READ, added_cb, a, NULL),
		0);
	assert_int_equal(ik_loop_timer_add(loop, 0, 0, added_cb, a, NULL), 0);
	/* not re-entrant, and the loop cannot be freed from inside */
	assert_int_equal(ik_loop_run_once(loop, 0), -EBUSY);
	assert_int_equal(ik_loop_free(loop), -EBUSY);
}

static void
test_remove_inside_callbacks(void **state)
{
	int a[2], b[2], c[2], calls = 0, tcalls = 0;
	struct pair pa = { .calls = &calls }, pb = { .calls = &calls };
	struct pair ta = { .calls = &tcalls, .self = 1 },
		    tb = { .calls = &tcalls, .self = 1 };
	struct adder ad = { 0 };
	ik_watch *wa, *wb;
	ik_loop *loop;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	assert_int_equal(pipe2(c, O_CLOEXEC), 0);
	/* another process makes both pipes readable before the loop looks */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(write(a[1], "a", 1) == 1);
		IKT_CHECK(write(b[1], "b", 1) == 1);
		IKT_CHECK(write(c[1], "c", 1) == 1);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(ik_loop_fd_add(loop, a[0], IK_LOOP_READ, remove_other,
					&pa, &wa),
			 0);
	assert_int_equal(ik_loop_fd_add(loop, b[0], IK_LOOP_READ, remove_other,
					&pb, &wb),
			 0);
	pa.other = wb;
	pb.other = wa;
	/* both are in the same batch; the second must be skipped */
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_int_equal(calls, 1);
	assert_int_equal(ik_loop_count(loop), 1);
	/* the survivor points at a freed partner now: drop the loop */
	ik_loop_free(loop);
	assert_int_equal(ik_loop_new(&loop, 0), 0);

	/* two due timers, each removing itself and the other */
	assert_int_equal(ik_loop_timer_add(loop, 0, 5, remove_other, &ta, &wa),
			 0);
	assert_int_equal(ik_loop_timer_add(loop, 0, 5, remove_other, &tb, &wb),
			 0);
	ta.other = wb;
	tb.other = wa;
	{
		struct ik__deadline d;

		ik__deadline_init(&d, IKT_WAIT_MS);
		while (tcalls == 0 && !ik__deadline_expired(&d))
			ik_loop_run_once(loop, IKT_WAIT_MS);
	}
	assert_int_equal(tcalls, 1);
	assert_int_equal(ik_loop_run_once(loop, 100), 0);
	assert_int_equal(tcalls, 1);

	/* a callback removes itself twice, then adds watchers */
	ik_loop_free(loop);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	ad.fd = c[0];
	assert_int_equal(
		ik_loop_fd_add(loop, a[0], IK_LOOP_READ, add_in_cb, &ad, NULL),
		0);
	assert_int_equal(ik_loop_run_once(loop, IKT_WAIT_MS), 1);
	assert_int_equal(ad.calls, 1);
	assert_int_equal(ad.added_calls, 0); /* added ones: not this batch */
	assert_int_equal(ik_loop_run(loop), 0);
	assert_int_equal(ad.calls, 1); /* self-removed: level data ignored */
	assert_int_equal(ad.added_calls, 2);
	ik_loop_free(loop);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
		close(c[i]);
	}
}

static void
self_remove_signal(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
		   void *arg)
{
	(void)loop;
	(void)ev;
	*(int *)arg += 1;
	ik_loop_remove(w);
}

/* three queued signals read in one batch; the watcher leaves after one */
static void
test_remove_signal_watcher_in_batch(void **state)
{
	int sig = SIGRTMIN + 4, calls = 0;
	ik_loop *loop;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(
		ik_loop_signal_add(loop, sig, self_remove_signal, &calls, NULL),
		0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			IKT_CHECK(ik_sig_queue_int(getppid(), sig, i) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid); /* all three are queued now */
	assert_int_equal(ik_loop_run(loop), 0);
	assert_int_equal(calls, 1);
	ik_loop_free(loop);
}

/* ---- resources and bad input -----------------------------------------------
 */

static void
test_no_fd_leak(void **state)
{
	int before = ikt_fd_count(), fd[2], calls = 0;
	struct childrec cr = { 0 };
	struct tick t = { 0 };
	struct sigrec sr = { .expect = -1 };
	ik_loop *loop;
	pid_t pid;

	(void)state;
	assert_true(before > 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(ik_loop_new(&loop, 0), 0);
		ik_loop_free(loop);
	}
	assert_int_equal(ikt_fd_count(), before);
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	/* every kind registered, some fired and some still armed at free */
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, never, &calls, NULL),
		0);
	assert_int_equal(ik_loop_timer_add(loop, 0, 0, on_tick, &t, NULL), 0);
	assert_int_equal(ik_loop_timer_add(loop, 100000, 0, on_tick, &t, NULL),
			 0);
	assert_int_equal(
		ik_loop_signal_add(loop, SIGUSR1, on_signal, &sr, NULL), 0);
	assert_int_equal(ik_loop_child_add(loop, pid, on_child, &cr, NULL), 0);
	assert_int_equal(ik_loop_defer(loop, never, &calls, NULL), 0);
	while (cr.calls == 0 || t.calls == 0)
		assert_true(ik_loop_run_once(loop, IKT_WAIT_MS) > 0);
	assert_true(ikt_fd_count() > before + 2);
	assert_int_equal(ik_loop_free(loop), 0);
	close(fd[0]);
	close(fd[1]);
	assert_int_equal(ikt_fd_count(), before);
	assert_int_equal(ik_loop_free(NULL), 0);
}

static void
test_bad_input(void **state)
{
	char path[256];
	ik_loop *loop;
	ik_watch *w, *tw;
	int fd[2], file, calls = 0;

	(void)state;
	assert_int_equal(ik_loop_new(NULL, 0), -EINVAL);
	assert_int_equal(ik_loop_new(&loop, 0x80), -EINVAL);
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	assert_int_equal(
		ik_loop_fd_add(loop, -1, IK_LOOP_READ, never, &calls, NULL),
		-EINVAL);
	assert_int_equal(ik_loop_fd_add(loop, fd[0], 0, never, &calls, NULL),
			 -EINVAL);
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_EDGE, never, &calls, NULL),
		-EINVAL);
	assert_int_equal(ik_loop_fd_add(loop, fd[0], 0x100 | IK_LOOP_READ,
					never, &calls, NULL),
			 -EINVAL);
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, NULL, NULL, NULL),
		-EINVAL);
	assert_int_equal(
		ik_loop_fd_add(loop, 100000, IK_LOOP_READ, never, &calls, NULL),
		-EBADF);
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, never, &calls, &w),
		0);
	assert_int_equal(
		ik_loop_fd_add(loop, fd[0], IK_LOOP_READ, never, &calls, NULL),
		-EEXIST);
	ikt_path(path, sizeof(path), "file");
	file = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(file >= 0);
	assert_int_equal(
		ik_loop_fd_add(loop, file, IK_LOOP_READ, never, &calls, NULL),
		-EPERM);
	close(file);
	unlink(path);
	ikt_tmpdir_cleanup();
	assert_int_equal(ik_loop_timer_add(loop, 10, 0, never, &calls, &tw), 0);
	assert_int_equal(ik_loop_fd_set(tw, IK_LOOP_READ), -EINVAL);
	assert_int_equal(ik_loop_timer_set(w, 10, 0), -EINVAL);
	assert_int_equal(ik_loop_fd_set(w, 0), -EINVAL);
	assert_int_equal(ik_loop_fd_set(NULL, IK_LOOP_READ), -EINVAL);
	assert_int_equal(ik_loop_remove(NULL), -EINVAL);
	assert_int_equal(ik_loop_count(NULL), -EINVAL);
	assert_int_equal(ik_loop_run(NULL), -EINVAL);
	assert_int_equal(ik_loop_run_once(NULL, 0), -EINVAL);
	assert_int_equal(ik_loop_count(loop), 2);
	assert_int_equal(ik_loop_remove(tw), 0);
	assert_int_equal(ik_loop_remove(w), 0);
	assert_int_equal(ik_loop_count(loop), 0);
	assert_int_equal(calls, 0);
	ik_loop_free(loop);
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fd_level_between_processes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_edge_vs_level, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_watcher, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_exit_pidfd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_child_exit_sigchld_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defer_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_thread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_signal_handler,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_inside_callbacks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_remove_signal_watcher_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fd_leak, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_removed_timer_with_forked_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
