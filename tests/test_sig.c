/*
 * ik_sig: signals between real processes. 100,000 queued RT signals with
 * their payloads arrive complete and in order through a signalfd; handlers
 * are installed and restored with the flags asked for; masks, pending sets,
 * suspend; EINTR with and without SA_RESTART; the self-pipe keeps errno;
 * names <-> numbers; bad input gives -EINVAL/-ESRCH, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/sig.h>

#include "ikt.h"
#include "internal/time.h"

static volatile sig_atomic_t hits;
static volatile sig_atomic_t last_sig;
static struct ik_siginfo last_info;

static void
on_sig(int sig)
{
	hits++;
	last_sig = sig;
}

static void
on_info(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	ik_siginfo_from(&last_info, si);
	last_sig = sig;
	hits++;
}

/* a child that exited and was reaped: its pid names no process for now */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void
test_names_numbers(void **state)
{
	static const char *bad[] = {
		"",
		"SIG",
		"FOO",
		"0",
		"65",
		"32",
		"33",
		"15x",
		"+15",
		"-15",
		" 15",
		"SIG15",
		"RTMIN+",
		"RTMIN-1",
		"RTMAX+1",
		"RTMIN+31",
		"RTMAX-31",
		"RTMIN+1000",
		"TERM ",
		"SIGSIGTERM",
		"RT",
		"RTMIN+x",
		"99999999999999999999",
		"KILLER",
		"SIGAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	char buf[32], tmp[40];
	int span = SIGRTMAX - SIGRTMIN;

	(void)state;
	assert_int_equal(ik_sig_from_name("TERM"), SIGTERM);
	assert_int_equal(ik_sig_from_name("SIGTERM"), SIGTERM);
	assert_int_equal(ik_sig_from_name("sigterm"), SIGTERM);
	assert_int_equal(ik_sig_from_name("15"), 15);
	assert_int_equal(ik_sig_from_name("int"), SIGINT);
	assert_int_equal(ik_sig_from_name("SigChld"), SIGCHLD);
	assert_int_equal(ik_sig_from_name("CLD"), SIGCHLD);
	assert_int_equal(ik_sig_from_name("IOT"), SIGABRT);
	assert_int_equal(ik_sig_from_name("RTMIN"), SIGRTMIN);
	assert_int_equal(ik_sig_from_name("RTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(ik_sig_from_name("sigrtmin+3"), SIGRTMIN + 3);
	assert_int_equal(ik_sig_from_name("SIGRTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(ik_sig_from_name("RTMAX"), SIGRTMAX);
	snprintf(tmp, sizeof(tmp), "RTMIN+%d", span);
	assert_int_equal(ik_sig_from_name(tmp), SIGRTMAX);
	snprintf(tmp, sizeof(tmp), "%d", SIGRTMAX);
	assert_int_equal(ik_sig_from_name(tmp), SIGRTMAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ik_sig_from_name(bad[i]) != -EINVAL)
			fail_msg("'%s' accepted as %d", bad[i],
				 ik_sig_from_name(bad[i]));
	assert_int_equal(ik_sig_from_name(NULL), -EINVAL);

	assert_int_equal(ik_sig_name(SIGTERM, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "TERM");
	assert_int_equal(ik_sig_name(SIGRTMIN, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "RTMIN");
	assert_true(ik_sig_name(SIGRTMIN + 3, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "RTMIN+3");
	assert_true(ik_sig_name(SIGRTMAX, buf, sizeof(buf)) > 0);
	snprintf(tmp, sizeof(tmp), "RTMIN+%d", span);
	assert_string_equal(buf, tmp);
	/* the whole table both ways, with and without SIG, any case */
	for (int s = 1; s <= SIGRTMAX; s++) {
		if (s >= 32 && s < SIGRTMIN) {
			assert_int_equal(ik_sig_name(s, buf, sizeof(buf)),
					 -EINVAL);
			continue;
		}
		assert_true(ik_sig_name(s, buf, 16) > 0);
		assert_int_equal(ik_sig_from_name(buf), s);
		snprintf(tmp, sizeof(tmp), "sig%s", buf);
		assert_int_equal(ik_sig_from_name(tmp), s);
	}
	assert_int_equal(ik_sig_name(0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ik_sig_name(SIGRTMAX + 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ik_sig_name(SIGTERM, buf, 4), -ENAMETOOLONG);
	assert_int_equal(ik_sig_name(SIGTERM, NULL, 4), -EINVAL);
}

static void
test_handler_install_restore(void **state)
{
	struct sigaction old, cur, old2;
	sigset_t set, prev;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_sig_makeset(&set, SIGUSR1, 0), 0);
	assert_int_equal(ik_sig_block(&set, &prev), 0);
	hits = 0;
	assert_int_equal(
		ik_sig_handle_info(SIGUSR1, on_info, IK_SIG_RESTART, &old), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_true(cur.sa_flags & SA_SIGINFO);
	assert_true(cur.sa_flags & SA_RESTART);
	assert_ptr_equal(cur.sa_sigaction, on_info);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sig_queue_int(getppid(), SIGUSR1, 4242) == 0);
		_exit(0);
	}
	/* sigsuspend only returns after the handler ran */
	while (hits == 0)
		assert_int_equal(ik_sig_suspend(&prev), -EINTR);
	ikt_assert_child_ok(pid);
	assert_int_equal(last_info.signo, SIGUSR1);
	assert_int_equal(last_info.code, SI_QUEUE);
	assert_int_equal(last_info.pid, pid);
	assert_int_equal(last_info.uid, getuid());
	assert_int_equal(last_info.value_int, 4242);

	/* replace with a plain NORESTART one-shot handler, then restore all */
	assert_int_equal(ik_sig_handle(SIGUSR1, on_sig,
				       IK_SIG_NORESTART | IK_SIG_RESETHAND,
				       &old2),
			 0);
	assert_ptr_equal(old2.sa_sigaction, on_info);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_false(cur.sa_flags & (SA_SIGINFO | SA_RESTART));
	assert_true(cur.sa_flags & SA_RESETHAND);
	assert_ptr_equal(cur.sa_handler, on_sig);
	assert_int_equal(ik_sig_restore(SIGUSR1, &old), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, old.sa_handler);
	assert_int_equal(ik_sig_setmask(&prev, NULL), 0);

	/* ignore / default round trip */
	assert_int_equal(ik_sig_ignore(SIGUSR2, &old), 0);
	assert_int_equal(sigaction(SIGUSR2, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, SIG_IGN);
	assert_int_equal(ik_sig_default(SIGUSR2, NULL), 0);
	assert_int_equal(ik_sig_restore(SIGUSR2, &old), 0);

	/* refusals, each leaving the disposition alone */
	assert_int_equal(ik_sig_handle(SIGKILL, on_sig, IK_SIG_RESTART, NULL),
			 -EINVAL);
	assert_int_equal(ik_sig_handle(SIGSTOP, on_sig, IK_SIG_RESTART, NULL),
			 -EINVAL);
	assert_int_equal(ik_sig_handle(0, on_sig, IK_SIG_RESTART, NULL),
			 -EINVAL);
	assert_int_equal(
		ik_sig_handle(SIGRTMAX + 1, on_sig, IK_SIG_RESTART, NULL),
		-EINVAL);
	assert_int_equal(ik_sig_handle(33, on_sig, IK_SIG_RESTART, NULL),
			 -EINVAL);
	assert_int_equal(ik_sig_handle(SIGUSR1, NULL, IK_SIG_RESTART, NULL),
			 -EINVAL);
	assert_int_equal(ik_sig_handle(SIGUSR1, on_sig, 0, NULL), -EINVAL);
	assert_int_equal(ik_sig_handle(SIGUSR1, on_sig,
				       IK_SIG_RESTART | IK_SIG_NORESTART, NULL),
			 -EINVAL);
	assert_int_equal(
		ik_sig_handle(SIGUSR1, on_sig, IK_SIG_RESTART | 0x100, NULL),
		-EINVAL);
	assert_int_equal(ik_sig_ignore(SIGKILL, NULL), -EINVAL);
	assert_int_equal(ik_sig_restore(SIGUSR1, NULL), -EINVAL);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, old.sa_handler);
}

static void
test_mask_pending_suspend(void **state)
{
	struct sigaction old;
	struct ik_siginfo si;
	struct ikt_sync s;
	sigset_t set, prev, p;
	int64_t t0;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_sig_makeset(&set, SIGUSR2, 0), 0);
	assert_int_equal(ik_sig_makeset(&set, SIGUSR2, 999, 0), -EINVAL);
	assert_int_equal(ik_sig_block(&set, &prev), 0);
	hits = 0;
	assert_int_equal(ik_sig_handle(SIGUSR2, on_sig, IK_SIG_RESTART, &old),
			 0);
	assert_int_equal(ik_sig_is_pending(SIGUSR2), 0);

	ikt_sync_init(&s);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* kill() marks the signal pending before it returns */
		IKT_CHECK(ik_sig_kill(getppid(), SIGUSR2) == 0);
		ikt_post(&s);
		_exit(0);
	}
	assert_int_equal(ikt_await(&s, IKT_WAIT_MS), 0);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&s);
	assert_int_equal(ik_sig_is_pending(SIGUSR2), 1);
	assert_int_equal(ik_sig_pending(&p), 0);
	assert_int_equal(sigismember(&p, SIGUSR2), 1);
	assert_int_equal(hits, 0); /* blocked: not delivered yet */
	assert_int_equal(ik_sig_suspend(&prev), -EINTR);
	assert_int_equal(hits, 1);
	assert_int_equal(last_sig, SIGUSR2);
	assert_int_equal(ik_sig_is_pending(SIGUSR2), 0);

	/* unblocking delivers what was pending at once */
	assert_int_equal(ik_sig_raise(SIGUSR2), 0);
	assert_int_equal(ik_sig_is_pending(SIGUSR2), 1);
	assert_int_equal(ik_sig_unblock(&set, NULL), 0);
	assert_int_equal(hits, 2);
	assert_int_equal(ik_sig_block(&set, NULL), 0);

	/* sigtimedwait: nothing comes -> not before the deadline */
	t0 = ik__now_ns();
	assert_int_equal(ik_sig_wait(&set, 100, &si), -ETIMEDOUT);
	assert_true(ik__now_ns() - t0 >= 100 * 1000000LL);
	/* a queued one is taken with its payload, without the handler */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sig_queue_int(getppid(), SIGUSR2, -7) == 0);
		_exit(0);
	}
	assert_int_equal(ik_sig_wait(&set, IKT_WAIT_MS, &si), SIGUSR2);
	assert_int_equal(si.pid, pid);
	assert_int_equal(si.value_int, -7);
	assert_int_equal(hits, 2);
	ikt_assert_child_ok(pid);

	assert_int_equal(ik_sig_setmask(&prev, NULL), 0);
	assert_int_equal(ik_sig_restore(SIGUSR2, &old), 0);
	assert_int_equal(ik_sig_block(NULL, NULL), -EINVAL);
	assert_int_equal(ik_sig_pending(NULL), -EINVAL);
	assert_int_equal(ik_sig_is_pending(0), -EINVAL);
	assert_int_equal(ik_sig_suspend(NULL), -EFAULT);
	assert_int_equal(ik_sig_wait(NULL, 0, NULL), -EINVAL);
}

/*
 * The 100,000-signal stream. The sender keeps at most WINDOW signals
 * unacknowledged, so it stays well inside the receiver's RLIMIT_SIGPENDING
 * (which other users of this uid share); if the queue is full anyway, it
 * waits for the next ack, or briefly, and retries: nothing is dropped.
 */
enum { NSIG_STREAM = 100000, WINDOW = 4096, ACK_EVERY = 512 };

static void
stream_sender(pid_t to, int sig, int ack_fd)
{
	struct ik__deadline d;
	uint32_t acked = 0, a;
	struct pollfd p = { .fd = ack_fd, .events = POLLIN };
	int r;

	ik__deadline_init(&d, IKT_WAIT_MS * 4);
	for (uint32_t seq = 0; seq < NSIG_STREAM;) {
		if (seq - acked < WINDOW) {
			r = ik_sig_queue_int(to, sig, (int)seq);
			if (r == 0) {
				seq++;
				continue;
			}
			IKT_CHECK(r == IK_ERLIMIT_SIGPENDING);
		}
		/* window full or queue full: wait for an ack (bounded) */
		IKT_CHECK(!ik__deadline_expired(&d));
		r = poll(&p, 1, seq - acked < WINDOW ? 1 : 1000);
		if (r > 0) {
			IKT_CHECK(read(ack_fd, &a, sizeof(a)) == sizeof(a));
			IKT_CHECK(a > acked && a <= seq);
			acked = a;
		}
	}
	/* and the receiver says it has them all */
	while (acked < NSIG_STREAM) {
		IKT_CHECK(poll(&p, 1, IKT_WAIT_MS) == 1);
		IKT_CHECK(read(ack_fd, &a, sizeof(a)) == sizeof(a));
		IKT_CHECK(a > acked && a <= NSIG_STREAM);
		acked = a;
	}
	_exit(0);
}

static void
test_sigqueue_100k_in_order(void **state)
{
	int sig = SIGRTMIN + 1, fd, ack[2], n, bad = 0;
	struct ik_siginfo si[32];
	uint32_t next = 0;
	sigset_t set, prev;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_sig_makeset(&set, sig, 0), 0);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &prev), 0);
	fd = ik_sig_fd_open(&set, IK_SIGFD_BLOCK);
	assert_true(fd >= 0);
	assert_int_equal(pipe2(ack, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ack[1]);
		stream_sender(getppid(), sig, ack[0]);
	}
	close(ack[0]);
	while (next < NSIG_STREAM && !bad) {
		n = ik_sig_fd_read(fd, si, 32, IKT_WAIT_MS);
		if (n <= 0) {
			bad = n;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (si[i].signo != sig || si[i].code != SI_QUEUE ||
			    si[i].pid != pid || si[i].uid != getuid() ||
			    (uint32_t)si[i].value_int != next) {
				bad = 1;
				break;
			}
			next++;
			if (next % ACK_EVERY == 0 || next == NSIG_STREAM)
				if (write(ack[1], &next, sizeof(next)) !=
				    sizeof(next))
					bad = 2;
		}
	}
	if (bad)
		kill(pid, SIGKILL);
	close(ack[1]);
	ikt_assert_child_ok(pid);
	/* and nothing extra behind them */
	assert_int_equal(ik_sig_fd_read(fd, si, 32, 0), -ETIMEDOUT);
	close(fd);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	if (bad)
		fail_msg("stream broke at %u (bad=%d)", next, bad);
	assert_int_equal(next, NSIG_STREAM);
}

static void
test_signalfd_full_siginfo(void **state)
{
	void *const ptr = (void *)(uintptr_t)0x123456789abcULL;
	struct ik_siginfo si[4];
	sigset_t set, prev;
	int fd, junk[2], got = 0, n;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_sig_makeset(&set, SIGUSR1, SIGUSR2, 0), 0);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &prev), 0);
	/* not blocked, no IK_SIGFD_BLOCK: refused rather than racing */
	assert_int_equal(ik_sig_fd_open(&set, 0), -EINVAL);
	assert_int_equal(ik_sig_fd_open(&set, 0x80), -EINVAL);
	assert_int_equal(ik_sig_fd_open(NULL, IK_SIGFD_BLOCK), -EINVAL);
	fd = ik_sig_fd_open(&set, IK_SIGFD_BLOCK | IK_SIGFD_NONBLOCK);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(ik_sig_fd_read(fd, si, 4, 0), -ETIMEDOUT);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sig_queue_ptr(getppid(), SIGUSR1, ptr) == 0);
		IKT_CHECK(ik_sig_kill(getppid(), SIGUSR2) == 0);
		_exit(0);
	}
	while (got < 2) {
		n = ik_sig_fd_read(fd, si + got, 4 - got, IKT_WAIT_MS);
		assert_true(n > 0);
		got += n;
	}
	assert_int_equal(got, 2);
	ikt_assert_child_ok(pid);
	/* standard signals come out lowest number first */
	assert_int_equal(si[0].signo, SIGUSR1);
	assert_int_equal(si[0].code, SI_QUEUE);
	assert_int_equal(si[0].pid, pid);
	assert_int_equal(si[0].uid, getuid());
	assert_ptr_equal(si[0].value_ptr, ptr);
	assert_int_equal(si[0].value_int, (int)(uintptr_t)ptr);
	assert_int_equal(si[1].signo, SIGUSR2);
	assert_int_equal(si[1].code, SI_USER);
	assert_int_equal(si[1].pid, pid);
	close(fd);

	/* a descriptor that is not a signalfd: an error, not garbage */
	assert_int_equal(pipe2(junk, O_CLOEXEC), 0);
	assert_int_equal(write(junk[1], "abc", 3), 3);
	assert_int_equal(ik_sig_fd_read(junk[0], si, 4, IKT_WAIT_MS), -EINVAL);
	close(junk[0]);
	close(junk[1]);
	assert_int_equal(ik_sig_fd_read(-1, si, 4, 0), -EBADF);
	assert_int_equal(ik_sig_fd_read(fd, NULL, 4, 0), -EINVAL);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
}

static void
test_self_pipe(void **state)
{
	struct sigaction before, cur;
	struct ikt_sync s;
	sigset_t set, kill_set;
	int rfd, rfd2, avail;
	pid_t pid;

	(void)state;
	assert_int_equal(sigaction(SIGUSR1, NULL, &before), 0);
	assert_int_equal(ik_sig_makeset(&set, SIGUSR1, SIGUSR2, 0), 0);
	assert_int_equal(ik_sig_makeset(&kill_set, SIGUSR1, SIGKILL, 0), 0);
	/* refusals install nothing */
	assert_int_equal(ik_sig_pipe_open(&set, 0, &rfd), -EINVAL);
	assert_int_equal(ik_sig_pipe_open(&kill_set, IK_SIG_RESTART, &rfd),
			 -EINVAL);
	assert_int_equal(ik_sig_pipe_open(&set, IK_SIG_RESTART, NULL), -EINVAL);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, before.sa_handler);
	assert_int_equal(ik_sig_pipe_read(0), -EBADF);

	assert_int_equal(ik_sig_pipe_open(&set, IK_SIG_RESTART, &rfd), 0);
	assert_true(fcntl(rfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(ik_sig_pipe_open(&set, IK_SIG_RESTART, &rfd2), -EBUSY);
	assert_int_equal(ik_sig_pipe_read(0), -ETIMEDOUT);

	ikt_sync_init(&s);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sig_kill(getppid(), SIGUSR1) == 0);
		IKT_CHECK(ikt_await(&s, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_sig_kill(getppid(), SIGUSR2) == 0);
		_exit(0);
	}
	assert_int_equal(ik_sig_pipe_read(IKT_WAIT_MS), SIGUSR1);
	ikt_post(&s);
	assert_int_equal(ik_sig_pipe_read(IKT_WAIT_MS), SIGUSR2);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&s);

	/*
	 * errno survives the handler even when its write fails: shrink the
	 * pipe, fill it by raising, and check errno after every delivery.
	 */
	assert_true(fcntl(rfd, F_SETPIPE_SZ, 4096) >= 4096);
	for (int i = 0; i < 5000; i++) {
		errno = EDOM;
		assert_int_equal(ik_sig_raise(SIGUSR1), 0);
		if (errno != EDOM)
			fail_msg("errno %d after delivery %d", errno, i);
	}
	assert_int_equal(ioctl(rfd, FIONREAD, &avail), 0);
	assert_int_equal(avail, fcntl(rfd, F_GETPIPE_SZ)); /* it was full */
	assert_int_equal(ik_sig_pipe_read(0), SIGUSR1);

	assert_int_equal(ik_sig_pipe_close(), 0);
	assert_int_equal(ik_sig_pipe_close(), -EBADF);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, before.sa_handler);
	assert_int_equal(fcntl(rfd, F_GETFD), -1); /* closed */
}

/* poll a condition with a deadline (no sleep-based synchronisation) */
#define WAIT_UNTIL(cond)                                        \
	do {                                                    \
		struct ik__deadline wd_;                        \
		ik__deadline_init(&wd_, IKT_WAIT_MS);           \
		while (!(cond)) {                               \
			IKT_CHECK(!ik__deadline_expired(&wd_)); \
			poll(NULL, 0, 1);                       \
		}                                               \
	} while (0)

static volatile sig_atomic_t *eintr_shared;

static void
on_sig_shared(int sig)
{
	hits++;
	last_sig = sig;
	(*eintr_shared)++;
}

/*
 * The parent blocks in read(2) on an empty pipe; the child waits until the
 * kernel says so, sends SIGUSR1, waits until the handler ran (a counter in
 * shared memory), then writes a byte. With IK_SIG_RESTART the read returns
 * that byte; with IK_SIG_NORESTART it fails with EINTR first.
 */
static void
eintr_case(int flags)
{
	volatile sig_atomic_t *shared;
	struct sigaction old;
	int data[2];
	ssize_t n;
	char c = 0;
	pid_t pid;

	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	*shared = 0;
	assert_int_equal(pipe2(data, O_CLOEXEC), 0);
	eintr_shared = shared;
	hits = 0;
	assert_int_equal(ik_sig_handle(SIGUSR1, on_sig_shared, flags, &old), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pid_t pp = getppid();

		close(data[0]);
		WAIT_UNTIL(ikt_syscall_of(pp) == SYS_read);
		IKT_CHECK(ik_sig_kill(pp, SIGUSR1) == 0);
		WAIT_UNTIL(*shared == 1);
		if (flags & IK_SIG_RESTART) /* back in the restarted read */
			WAIT_UNTIL(ikt_syscall_of(pp) == SYS_read);
		IKT_CHECK(write(data[1], "x", 1) == 1);
		_exit(0);
	}
	close(data[1]);
	n = read(data[0], &c, 1);
	if (flags & IK_SIG_RESTART) {
		assert_int_equal(n, 1);
		assert_int_equal(c, 'x');
	} else {
		assert_int_equal(n, -1);
		assert_int_equal(errno, EINTR);
		assert_int_equal(read(data[0], &c, 1), 1);
		assert_int_equal(c, 'x');
	}
	assert_int_equal(hits, 1);
	ikt_assert_child_ok(pid);
	close(data[0]);
	assert_int_equal(ik_sig_restore(SIGUSR1, &old), 0);
	munmap((void *)shared, 4096);
}

static void
test_handler_eintr(void **state)
{
	(void)state;
	eintr_case(IK_SIG_NORESTART);
	eintr_case(IK_SIG_RESTART);
}

static void
test_send_bad_input(void **state)
{
	pid_t gone = dead_pid(), pid;
	int st;

	(void)state;
	assert_int_equal(ik_sig_kill(0, SIGTERM), -EINVAL);
	assert_int_equal(ik_sig_kill(-1, SIGTERM), -EINVAL);
	assert_int_equal(ik_sig_kill(-ESRCH, SIGTERM), -EINVAL);
	assert_int_equal(ik_sig_kill(getpid(), 65), -EINVAL);
	assert_int_equal(ik_sig_kill(getpid(), 0), 0);
	assert_int_equal(ik_sig_kill(gone, 0), -ESRCH);
	assert_int_equal(ik_sig_kill(gone, SIGTERM), -ESRCH);
	assert_int_equal(ik_sig_queue_int(gone, SIGRTMIN, 1), -ESRCH);
	assert_int_equal(ik_sig_queue_int(-1, SIGRTMIN, 1), -EINVAL);
	assert_int_equal(ik_sig_queue_ptr(getpid(), 40000, NULL), -EINVAL);
	assert_int_equal(ik_sig_killpg(-3, SIGTERM), -EINVAL);
	assert_int_equal(ik_sig_raise(0), -EINVAL);
	assert_int_equal(ik_sig_raise(33), -EINVAL);

	/* killpg reaches a child that leads its own group */
	struct ikt_sync s;

	ikt_sync_init(&s);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(setpgid(0, 0) == 0);
		ikt_post(&s);
		for (;;)
			pause();
	}
	assert_int_equal(ikt_await(&s, IKT_WAIT_MS), 0);
	ikt_sync_close(&s);
	assert_int_equal(ik_sig_killpg(pid, SIGTERM), 0);
	st = ikt_wait(pid, IKT_WAIT_MS);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_numbers),
		cmocka_unit_test(test_handler_install_restore),
		cmocka_unit_test(test_mask_pending_suspend),
		cmocka_unit_test(test_sigqueue_100k_in_order),
		cmocka_unit_test(test_signalfd_full_siginfo),
		cmocka_unit_test(test_self_pipe),
		cmocka_unit_test(test_handler_eintr),
		cmocka_unit_test(test_send_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
