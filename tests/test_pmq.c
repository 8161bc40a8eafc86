/*
 * POSIX message queues between real processes: priority order, timed and
 * non-blocking send/receive, poll on the descriptor, mq_notify by signal
 * (taken with signalfd) and by thread, the /proc and RLIMIT_MSGQUEUE limits
 * with their named errors, name validation, and every queue unlinked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/pmq.h>

#include "ikt.h"
#include "internal/time.h"

/* Names and descriptors of the running test, undone by teardown. */
static char names[4][64];
static int nnames;
static mqd_t qs[4];
static int nqs;

static void
make_name(char *buf, size_t len)
{
	char n[48];

	ikt_name(n, sizeof(n), "pmq");
	snprintf(buf, len, "/%s", n);
}

/* Create a queue that teardown closes and unlinks. */
static mqd_t
new_queue(char *name, long maxmsg, long msgsize)
{
	struct ik_pmq_attr a = { .maxmsg = maxmsg, .msgsize = msgsize };
	mqd_t q = (mqd_t)-1;

	assert_true(nnames < 4 && nqs < 4);
	make_name(name, 64);
	assert_int_equal(ik_pmq_create(name, O_RDWR, 0, &a, &q), 0);
	assert_true(q >= 0);
	snprintf(names[nnames++], sizeof(names[0]), "%s", name);
	qs[nqs++] = q;
	return q;
}

static int
teardown(void **state)
{
	mqd_t q;

	(void)state;
	for (int i = 0; i < nqs; i++)
		ik_pmq_close(qs[i]);
	for (int i = 0; i < nnames; i++) {
		ik_pmq_unlink(names[i]);
		assert_int_equal(ik_pmq_open(names[i], O_RDONLY, &q), -ENOENT);
	}
	nqs = nnames = 0;
	return 0;
}

static void
expect_msg(mqd_t q, unsigned want_prio, const char *want)
{
	char buf[64];
	unsigned prio = 99;
	ssize_t n = ik_pmq_recv(q, buf, sizeof(buf), &prio, 0);

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(prio, want_prio);
}

/* Highest priority first, FIFO within one priority. */
static void
test_priority_order(void **state)
{
	static const struct {
		unsigned prio;
		const char *text;
	} sent[] = { { 1, "p1" },
		     { 5, "p5a" },
		     { 3, "p3a" },
		     { 5, "p5b" },
		     { 0, "p0" },
		     { 3, "p3b" },
		     { IK_PMQ_PRIO_MAX - 1, "top" } };
	char name[64], buf[64];
	mqd_t q = new_queue(name, 10, 64);
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mqd_t w;

		IKT_CHECK(ik_pmq_open(name, O_WRONLY, &w) == 0);
		for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
			IKT_CHECK(ik_pmq_send(w, sent[i].text,
					      strlen(sent[i].text),
					      sent[i].prio, -1) == 0);
		IKT_CHECK(ik_pmq_close(w) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	expect_msg(q, IK_PMQ_PRIO_MAX - 1, "top");
	expect_msg(q, 5, "p5a");
	expect_msg(q, 5, "p5b");
	expect_msg(q, 3, "p3a");
	expect_msg(q, 3, "p3b");
	expect_msg(q, 1, "p1");
	expect_msg(q, 0, "p0");
	assert_int_equal(ik_pmq_recv(q, buf, sizeof(buf), NULL, 0), -EAGAIN);
}

/*
 * Timed send on a full queue and timed receive on an empty one: -ETIMEDOUT,
 * not before the deadline, while SIGALRM interrupts every 20 ms; then a
 * timed send completed by a child's receive.
 */
static void
test_timed_send_and_recv(void **state)
{
	struct ikt_storm storm;
	char name[64], buf[16];
	mqd_t q = new_queue(name, 2, 16);
	int64_t t0, el;
	pid_t pid;

	(void)state;
	assert_int_equal(ikt_storm_start(&storm, 20), 0);

	t0 = ik__now_ns();
	assert_int_equal(ik_pmq_recv(q, buf, sizeof(buf), NULL, 250),
			 -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 250 * 1000000LL && el < 10000 * 1000000LL);

	assert_int_equal(ik_pmq_send(q, "first", 5, 0, 0), 0);
	assert_int_equal(ik_pmq_send(q, "second", 6, 0, 0), 0);
	t0 = ik__now_ns();
	assert_int_equal(ik_pmq_send(q, "third", 5, 0, 300), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 300 * 1000000LL && el < 10000 * 1000000LL);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned prio;

		/* the parent is (or will be) blocked in a timed send */
		IKT_CHECK(ikt_wait_sleeping(getppid()) == 0);
		IKT_CHECK(ik_pmq_recv(q, buf, sizeof(buf), &prio, -1) == 5);
		IKT_CHECK(memcmp(buf, "first", 5) == 0 && prio == 0);
		_exit(0);
	}
	assert_int_equal(ik_pmq_send(q, "third", 5, 0, IKT_WAIT_MS), 0);
	ikt_storm_stop(&storm);
	ikt_assert_child_ok(pid);
	expect_msg(q, 0, "second");
	expect_msg(q, 0, "third");
}

/* timeout 0 and O_NONBLOCK descriptors never block: -EAGAIN. */
static void
test_nonblocking(void **state)
{
	struct ik_pmq_attr a;
	char name[64], buf[32];
	mqd_t q = new_queue(name, 1, 32);
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pmq_recv(q, buf, sizeof(buf), NULL, 0), -EAGAIN);
	assert_int_equal(ik_pmq_send(q, "one", 3, 2, 0), 0);
	assert_int_equal(ik_pmq_send(q, "two", 3, 2, 0), -EAGAIN);
	assert_int_equal(ik_pmq_getattr(q, &a), 0);
	assert_int_equal(a.curmsgs, 1);
	assert_false(a.nonblock);
	assert_int_equal(ik_pmq_set_nonblock(q, true), 0);
	assert_int_equal(ik_pmq_getattr(q, &a), 0);
	assert_true(a.nonblock);
	assert_int_equal(a.maxmsg, 1);
	assert_int_equal(a.msgsize, 32);
	/* forever, but the descriptor says never block */
	assert_int_equal(ik_pmq_send(q, "two", 3, 2, -1), -EAGAIN);
	assert_int_equal(ik_pmq_set_nonblock(q, false), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_pmq_attr ca;
		mqd_t r;
		unsigned prio;

		IKT_CHECK(ik_pmq_open(name, O_RDONLY | O_NONBLOCK, &r) == 0);
		IKT_CHECK(ik_pmq_getattr(r, &ca) == 0 && ca.nonblock);
		IKT_CHECK(ik_pmq_recv(r, buf, sizeof(buf), &prio, -1) == 3);
		IKT_CHECK(memcmp(buf, "one", 3) == 0 && prio == 2);
		IKT_CHECK(ik_pmq_recv(r, buf, sizeof(buf), NULL, -1) ==
			  -EAGAIN);
		IKT_CHECK(ik_pmq_close(r) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_pmq_getattr(q, &a), 0);
	assert_int_equal(a.curmsgs, 0);
}

/* The descriptor is pollable: a child in poll() is woken by our send. */
static void
test_poll_woken_by_send(void **state)
{
	struct pollfd p;
	struct ikt_sync ready;
	char name[64];
	mqd_t q = new_queue(name, 1, 32);
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pmq_fd(q), (int)q);
	ikt_sync_init(&ready);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pollfd cp = { .fd = ik_pmq_fd(q), .events = POLLIN };
		char buf[32];
		unsigned prio;
		int r;

		ikt_post(&ready);
		do
			r = poll(&cp, 1, IKT_WAIT_MS);
		while (r < 0 && errno == EINTR);
		IKT_CHECK(r == 1 && (cp.revents & POLLIN));
		IKT_CHECK(ik_pmq_recv(q, buf, sizeof(buf), &prio, 0) == 7);
		IKT_CHECK(memcmp(buf, "poll me", 7) == 0 && prio == 7);
		_exit(0);
	}
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	assert_int_equal(ikt_wait_sleeping(pid), 0);
	assert_int_equal(ik_pmq_send(q, "poll me", 7, 7, 0), 0);
	ikt_assert_child_ok(pid);
	/* POLLOUT follows the room left: full now, free after a receive */
	assert_int_equal(ik_pmq_send(q, "full", 4, 0, 0), 0);
	p = (struct pollfd){ .fd = ik_pmq_fd(q), .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 0), 0);
	expect_msg(q, 0, "full");
	assert_int_equal(poll(&p, 1, 0), 1);
	ikt_sync_close(&ready);
}

/* mq_notify by signal: the test takes it with signalfd; the library only
 * registers. Another process cannot register meanwhile (-EBUSY). */
static void
test_notify_signal(void **state)
{
	struct signalfd_siginfo si;
	struct pollfd p;
	sigset_t set, old;
	char name[64];
	mqd_t q = new_queue(name, 4, 32);
	pid_t pid, other;
	int sfd;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, &old), 0);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	assert_true(sfd >= 0);
	assert_int_equal(
		ik_pmq_notify_signal(q, SIGUSR1,
				     (union sigval){ .sival_int = 1234 }),
		0);
	other = fork();
	assert_true(other >= 0);
	if (other == 0) {
		IKT_CHECK(ik_pmq_notify_signal(
				  q, SIGUSR2,
				  (union sigval){ .sival_int = 1 }) == -EBUSY);
		_exit(0);
	}
	ikt_assert_child_ok(other);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_pmq_send(q, "ring", 4, 1, -1) == 0);
		_exit(0);
	}
	p = (struct pollfd){ .fd = sfd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, IKT_WAIT_MS), 1);
	assert_int_equal(read(sfd, &si, sizeof(si)), sizeof(si));
	assert_int_equal(si.ssi_signo, SIGUSR1);
	assert_int_equal(si.ssi_code, SI_MESGQ);
	assert_int_equal(si.ssi_pid, pid);
	assert_int_equal(si.ssi_int, 1234);
	ikt_assert_child_ok(pid);
	expect_msg(q, 1, "ring");
	/* one-shot and cancellable: registered then cancelled, no signal */
	assert_int_equal(ik_pmq_notify_signal(q, SIGUSR1,
					      (union sigval){ .sival_int = 5 }),
			 0);
	assert_int_equal(ik_pmq_notify_cancel(q), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_pmq_send(q, "quiet", 5, 0, -1) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	expect_msg(q, 0, "quiet");
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(ik_pmq_notify_signal(q, 0, (union sigval){ 0 }),
			 -EINVAL);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static int notify_pipe = -1;

static void
on_notify(union sigval v)
{
	int x = v.sival_int;

	if (write(notify_pipe, &x, sizeof(x)) != sizeof(x)) {
		/* the test's poll will time out */
	}
}

/* mq_notify by thread: the callback runs with our value. */
static void
test_notify_thread(void **state)
{
	struct pollfd p;
	char name[64];
	mqd_t q = new_queue(name, 4, 32);
	int fd[2], got = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	notify_pipe = fd[1];
	assert_int_equal(ik_pmq_notify_thread(q, on_notify,
					      (union sigval){ .sival_int = 77 },
					      NULL),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_pmq_send(q, "thread", 6, 3, -1) == 0);
		_exit(0);
	}
	p = (struct pollfd){ .fd = fd[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, IKT_WAIT_MS), 1);
	assert_int_equal(read(fd[0], &got, sizeof(got)), sizeof(got));
	assert_int_equal(got, 77);
	ikt_assert_child_ok(pid);
	expect_msg(q, 3, "thread");
	close(fd[0]);
	close(fd[1]);
}

static void
set_rlimit_msgqueue(long long bytes)
{
	struct rlimit rl;

	/* the soft limit only: raising it again needs no privilege */
	IKT_CHECK(getrlimit(RLIMIT_MSGQUEUE, &rl) == 0);
	IKT_CHECK(rl.rlim_max == RLIM_INFINITY || (rlim_t)bytes <= rl.rlim_max);
	rl.rlim_cur = (rlim_t)bytes;
	IKT_CHECK(setrlimit(RLIMIT_MSGQUEUE, &rl) == 0);
}

/*
 * Each limit gives its own error. In a child with its own IPC namespace
 * (its queues and sysctls die with it) and, when root, its own unprivileged
 * uid, so neither CAP_SYS_RESOURCE nor other users' queues interfere.
 */
static void
test_limits(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_pmq_limits l;
		struct ik_pmq_attr a;
		mqd_t q1, q2, q3, x = (mqd_t)-1;
		struct mq_attr ma = { .mq_maxmsg = 4, .mq_msgsize = 1024 };
		long long b;
		uid_t uid = 200000 + (uid_t)(getpid() % 100000);

		if (unshare(CLONE_NEWIPC) < 0)
			_exit(IKT_SKIP_EXIT);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/fs/mqueue/queues_max",
					   2) == 0);
		if (geteuid() == 0)
			IKT_CHECK(setresgid(uid, uid, uid) == 0 &&
				  setresuid(uid, uid, uid) == 0);
		IKT_CHECK(ik_pmq_limits(&l) == 0 && l.queues_max == 2);

		a = (struct ik_pmq_attr){ l.msg_max + 1, 64, 0, false };
		IKT_CHECK(ik_pmq_create("/lim", O_RDWR, 0, &a, &x) ==
			  IK_EMQ_MSG_MAX);
		a = (struct ik_pmq_attr){ 1, l.msgsize_max + 1, 0, false };
		IKT_CHECK(ik_pmq_create("/lim", O_RDWR, 0, &a, &x) ==
			  IK_EMQ_MSGSIZE_MAX);

		/* the byte accounting is the kernel's to the byte: at the
		 * limit the kernel accepts, one below it refuses */
		b = ik_pmq_bytes(4, 1024);
		IKT_CHECK(b == 4 * 1024 + 4 * 48 + 4 * 48);
		set_rlimit_msgqueue(b - 1);
		a = (struct ik_pmq_attr){ 4, 1024, 0, false };
		IKT_CHECK(ik_pmq_create("/lim", O_RDWR, 0, &a, &x) ==
			  IK_ERLIMIT_MSGQUEUE);
		IKT_CHECK(mq_open("/raw", O_CREAT | O_EXCL | O_RDWR, 0600,
				  &ma) == (mqd_t)-1 &&
			  errno == EMFILE);
		set_rlimit_msgqueue(b);
		IKT_CHECK(ik_pmq_create("/lim", O_RDWR, 0, &a, &q1) == 0);
		/* this one alone fits: the kernel refuses the sum */
		IKT_CHECK(ik_pmq_create("/lim2", O_RDWR, 0, &a, &x) ==
			  IK_ERLIMIT_MSGQUEUE);
		IKT_CHECK(x == (mqd_t)-1);
		set_rlimit_msgqueue(b * 4);
		IKT_CHECK(ik_pmq_create("/lim2", O_RDWR, 0, &a, &q2) == 0);
		IKT_CHECK(ik_pmq_create("/lim3", O_RDWR, 0, &a, &q3) ==
			  IK_EMQ_QUEUES_MAX);
		IKT_CHECK(ik_pmq_close(q1) == 0 && ik_pmq_close(q2) == 0);
		IKT_CHECK(ik_pmq_unlink("/lim") == 0);
		IKT_CHECK(ik_pmq_unlink("/lim2") == 0);
		IKT_CHECK(ik_pmq_unlink("/lim3") == -ENOENT);
		_exit(0);
	}
	ikt_assert_child_ok_or_skip(pid);
}

/* Names, flags, attributes, sizes: a specific error each. */
static void
test_bad_input(void **state)
{
	struct ik_pmq_attr a = { .maxmsg = 2, .msgsize = 16 };
	char name[64], longname[300], buf[64];
	mqd_t q = new_queue(name, 2, 16), x = (mqd_t)-1;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pmq_create("noslash", O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(ik_pmq_create("/a/b", O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(ik_pmq_create("/", O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(ik_pmq_create("", O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(ik_pmq_create(NULL, O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(ik_pmq_create("/..", O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(ik_pmq_open("/.", O_RDONLY, &x), -EINVAL);
	assert_int_equal(ik_pmq_unlink("x/y"), -EINVAL);
	memset(longname, 'n', sizeof(longname));
	longname[0] = '/';
	longname[257] = '\0'; /* 256 after the slash */
	assert_int_equal(ik_pmq_create(longname, O_RDWR, 0, &a, &x),
			 -ENAMETOOLONG);
	longname[256] = '\0'; /* 255: the longest allowed */
	assert_int_equal(ik_pmq_create(longname, O_RDWR, 0, &a, &x), 0);
	assert_int_equal(ik_pmq_close(x), 0);
	assert_int_equal(ik_pmq_unlink(longname), 0);
	x = (mqd_t)-1;
	assert_int_equal(ik_pmq_create(name, O_RDWR, 0, &a, &x), -EEXIST);
	assert_int_equal(ik_pmq_create(name, O_RDWR | O_CREAT, 0, &a, &x),
			 -EINVAL);
	assert_int_equal(ik_pmq_open(name, O_ACCMODE, &x), -EINVAL);
	assert_int_equal(ik_pmq_create(name, O_RDWR, 01600, &a, &x), -EINVAL);
	a.maxmsg = 0;
	assert_int_equal(ik_pmq_create(name, O_RDWR, 0, &a, &x), -EINVAL);
	a = (struct ik_pmq_attr){ .maxmsg = 1, .msgsize = -1 };
	assert_int_equal(ik_pmq_create(name, O_RDWR, 0, &a, &x), -EINVAL);
	assert_int_equal(x, (mqd_t)-1);
	assert_int_equal(ik_pmq_open("/ikt-no-such-queue", O_RDONLY, &x),
			 -ENOENT);
	assert_int_equal(ik_pmq_unlink("/ikt-no-such-queue"), -ENOENT);

	assert_int_equal(ik_pmq_send(q, buf, 17, 0, 0), -EMSGSIZE);
	assert_int_equal(ik_pmq_send(q, buf, 1, IK_PMQ_PRIO_MAX, 0), -EINVAL);
	assert_int_equal(ik_pmq_send(q, NULL, 1, 0, 0), -EINVAL);
	assert_int_equal(ik_pmq_send(q, "ok", 2, 0, 0), 0);
	assert_int_equal(ik_pmq_recv(q, buf, 15, NULL, 0), -EMSGSIZE);
	assert_int_equal(ik_pmq_getattr(q, NULL), -EINVAL);
	assert_true(fcntl(ik_pmq_fd(q), F_GETFD) & FD_CLOEXEC);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mqd_t r, w;

		/* the refused calls left exactly the one message */
		IKT_CHECK(ik_pmq_open(name, O_RDONLY, &r) == 0);
		IKT_CHECK(fcntl(r, F_GETFD) & FD_CLOEXEC);
		IKT_CHECK(ik_pmq_send(r, "x", 1, 0, 0) == -EBADF);
		IKT_CHECK(ik_pmq_recv(r, buf, sizeof(buf), NULL, 0) == 2);
		IKT_CHECK(ik_pmq_recv(r, buf, sizeof(buf), NULL, 0) == -EAGAIN);
		/* 0600: another user may not open it */
		if (geteuid() == 0) {
			IKT_CHECK(setresuid(65534, 65534, 65534) == 0);
			IKT_CHECK(ik_pmq_open(name, O_WRONLY, &w) == -EACCES);
		}
		_exit(0);
	}
	ikt_assert_child_ok(pid);
}

/* A stream through a small queue (the sender blocks): contents and order
 * kept; then unlink, and the name is gone for everyone. */
static void
test_stream_and_unlink(void **state)
{
	enum { N = 2000, SZ = 512 };
	char name[64], buf[SZ];
	mqd_t q = new_queue(name, 4, SZ);
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mqd_t w;

		IKT_CHECK(ik_pmq_open(name, O_WRONLY, &w) == 0);
		for (uint32_t i = 0; i < N; i++) {
			size_t len = 4 + (i * 29u) % (SZ - 4);

			memcpy(buf, &i, 4);
			ikt_fill(buf + 4, len - 4, i);
			IKT_CHECK(ik_pmq_send(w, buf, len, 0, IKT_WAIT_MS) ==
				  0);
		}
		_exit(0);
	}
	for (uint32_t i = 0; i < N; i++) {
		size_t len = 4 + (i * 29u) % (SZ - 4);
		uint32_t seq;

		assert_int_equal(
			ik_pmq_recv(q, buf, sizeof(buf), NULL, IKT_WAIT_MS),
			(ssize_t)len);
		memcpy(&seq, buf, 4);
		assert_int_equal(seq, i);
		assert_int_equal(ikt_check(buf + 4, len - 4, i), 0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_pmq_unlink(name), 0);
	nnames = 0;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mqd_t r;

		IKT_CHECK(ik_pmq_open(name, O_RDONLY, &r) == -ENOENT);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	/* the queue itself lives while open */
	assert_int_equal(ik_pmq_send(q, "still", 5, 0, 0), 0);
	assert_int_equal(ik_pmq_recv(q, buf, sizeof(buf), NULL, 0), 5);
	assert_memory_equal(buf, "still", 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
		T(test_priority_order),
		T(test_timed_send_and_recv),
		T(test_nonblocking),
		T(test_poll_woken_by_send),
		T(test_notify_signal),
		T(test_notify_thread),
		T(test_limits),
		T(test_bad_input),
		T(test_stream_and_unlink),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
