/*
 * The fallbacks for systems without pidfd_open (kernels before 5.3, and
 * valgrind 3.19, whose memcheck run of the suite goes through them): this
 * whole test program runs with IPCKIT_NO_PIDFD=1, so every module takes
 * its no-pidfd path on this kernel too. Spawn waits with waitpid and gives
 * a death pipe in p->pidfd (what ik_fanout polls), the loop watches
 * children by SIGCHLD, a ring tells a dead peer from /proc (a zombie is
 * dead), notify signals by pid after checking the start time. And the
 * other valgrind difference: a program that cannot start is an error
 * return even where vfork runs as a fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ipckit/fanout.h>
#include <ipckit/loop.h>
#include <ipckit/notify.h>
#include <ipckit/ring.h>
#include <ipckit/spawn.h>

#include "ikt.h"
#include "internal/io.h"
#include "internal/proc.h"
#include "internal/time.h"

static char rtdir[256];

static int
setup(void **state)
{
	(void)state;
	return ikt_runtime_setup(rtdir, sizeof(rtdir));
}

static int
teardown(void **state)
{
	(void)state;
	ikt_reap_tracked();
	ikt_sh("rm -rf '%s'", rtdir);
	return 0;
}

/* Is fd readable (or hung up) within timeout_ms? */
static int
readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static void
test_forced_off(void **state)
{
	uint64_t start;
	siginfo_t si;
	pid_t pid;

	(void)state;
	/* the switch works: no pidfd for anyone in this process */
	assert_false(ik__have_pidfd());
	assert_int_equal(ik__pidfd_open(getpid()), -ENOSYS);
	/* the liveness test the fallbacks use */
	assert_int_equal(ik__proc_stat(getpid(), NULL, &start), 0);
	assert_int_equal(ik__proc_alive(getpid(), 0), 1);
	assert_int_equal(ik__proc_alive(getpid(), start), 1);
	assert_int_equal(ik__proc_alive(getpid(), start + 1), 0);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* exited, not reaped: a zombie is not alive (a pidfd says so too) */
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(ik__proc_alive(pid, 0), 0);
	ikt_child_ok(pid);
	assert_int_equal(ik__proc_alive(pid, 0), 0);
	assert_int_equal(ik__proc_stat(pid, NULL, &start), -ESRCH);
}

/* A child fed and read through pipes, waited for without a pidfd. */
static void
test_spawn_wait_kill(void **state)
{
	const char *cat[] = { "cat", NULL };
	struct ik_spawn_opts o = { .io = { { IK_STDIO_PIPE, -1 },
					   { IK_STDIO_PIPE, -1 },
					   { IK_STDIO_INHERIT, -1 } } };
	struct ik__deadline d;
	struct ik_proc p;
	char buf[16] = { 0 };
	int64_t t0;

	(void)state;
	ik__deadline_init(&d, IKT_WAIT_MS);
	assert_int_equal(ik_spawn(&p, cat, &o), 0);
	assert_true(p.pidfd >= 0);
	/* the stand-in for a pidfd: silent while the child runs */
	assert_false(readable(p.pidfd, 0));
	assert_int_equal(write(p.in, "hello\n", 6), 6);
	assert_int_equal(ik__read_full(p.out, buf, 6, &d, NULL), 6);
	assert_string_equal(buf, "hello\n");
	t0 = ik__now_ns();
	assert_int_equal(ik_spawn_wait(&p, 50), -ETIMEDOUT);
	assert_true(ik__now_ns() - t0 >= 50 * 1000000LL);
	assert_int_equal(ik_spawn_wait(&p, 0), -ETIMEDOUT);
	assert_false(readable(p.pidfd, 0));
	assert_int_equal(ik_spawn_kill(&p, SIGTERM), 0);
	/* ... and readable once it has ended */
	assert_true(readable(p.pidfd, IKT_WAIT_MS));
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_true(WIFSIGNALED(p.status));
	assert_int_equal(WTERMSIG(p.status), SIGTERM);
	assert_int_equal(ik_spawn_kill(&p, SIGTERM), -ESRCH);
	assert_int_equal(ik_spawn_wait(&p, 0), -ECHILD);
	ik_spawn_close(&p);
}

/*
 * The child sees the death pipe and nothing else of ours: fd 3 when the
 * rest is closed, its own number with IK_SPAWN_KEEP_FDS. Exit status
 * through a blocking wait, after ik_spawn_close.
 */
static void
test_spawn_fds(void **state)
{
	/* lists fds above 2 except the one ls itself opens on the dir */
	const char *sh[] = { "/bin/sh", "-c",
			     "for f in /proc/self/fd/*; do n=${f##*/}; "
			     "[ $n -gt 2 ] && [ -e /dev/fd/$n ] && echo $n; "
			     "done; exit 5",
			     NULL };
	struct ik_spawn_opts o = { .io = { { IK_STDIO_NULL, -1 },
					   { IK_STDIO_PIPE, -1 },
					   { IK_STDIO_INHERIT, -1 } } };
	struct ik__deadline d;
	struct ik_proc p;
	char buf[64] = { 0 };
	ssize_t n;

	(void)state;
	ik__deadline_init(&d, IKT_WAIT_MS);
	assert_int_equal(ik_spawn(&p, sh, &o), 0);
	n = ik__read_full(p.out, buf, sizeof(buf) - 1, &d, NULL);
	assert_true(n >= 0);
	buf[n] = '\0';
	/* 3 only: the glob's own directory fd is gone by the time of [ -e ] */
	assert_string_equal(buf, "3\n");
	ik_spawn_close(&p);
	assert_int_equal(ik_spawn_wait(&p, -1), 0);
	assert_true(WIFEXITED(p.status));
	assert_int_equal(WEXITSTATUS(p.status), 5);

	o.flags = IK_SPAWN_KEEP_FDS;
	o.io[1].mode = IK_STDIO_NULL;
	assert_int_equal(ik_spawn(&p, (const char *[]){ "true", NULL }, &o), 0);
	assert_true(readable(p.pidfd, IKT_WAIT_MS));
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
	ik_spawn_close(&p);
}

/*
 * Under valgrind vfork runs as a fork, so posix_spawnp cannot report a
 * failed exec: ik_spawn looks for the program first, as execvp would
 * (PATH; relative names from the child's working directory).
 */
static void
test_spawn_lookup(void **state)
{
	struct ik_spawn_opts o = { .io = { { IK_STDIO_NULL, -1 },
					   { IK_STDIO_NULL, -1 },
					   { IK_STDIO_NULL, -1 } } };
	char dir[256], prog[300];
	struct ik_proc p;
	int fd;

	(void)state;
	p.pid = 12345;
	assert_int_equal(
		ik_spawn(&p, (const char *[]){ "ikt-no-such-program", NULL },
			 &o),
		-ENOENT);
	assert_int_equal(p.pid, 12345); /* untouched */
	ikt_path(dir, sizeof(dir), "bin");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	fd = open(prog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 4\n", 18), 18);
	close(fd);
	/* there, but not executable */
	assert_int_equal(ik_spawn(&p, (const char *[]){ prog, NULL }, &o),
			 -EACCES);
	assert_int_equal(chmod(prog, 0700), 0);
	/* a relative name is looked for where the child will run */
	o.cwd = dir;
	assert_int_equal(ik_spawn(&p, (const char *[]){ "./prog", NULL }, &o),
			 0);
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 4);
	ik_spawn_close(&p);
	o.cwd = NULL;
	assert_int_equal(ik_spawn(&p, (const char *[]){ "./prog", NULL }, &o),
			 -ENOENT);
	unlink(prog);
	rmdir(dir);
}

/* ik_fanout polls p->pidfd for the workers' ends: the death pipe. */
static void
test_fanout(void **state)
{
	const char *cat[] = { "cat", NULL };
	struct ik_fanout_opts o = { .argv = cat,
				    .workers = 3,
				    .mode = IK_FANOUT_LINES,
				    .flags = IK_FANOUT_ORDERED,
				    .stop_fd = -1 };
	struct ik_fanout_result res;
	char want[4096], got[4096 + 1];
	struct ik__deadline d;
	int in[2], out[2];
	size_t len = 0;
	ssize_t n;

	(void)state;
	ik__deadline_init(&d, IKT_WAIT_MS);
	for (int i = 0; i < 200; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len,
					"line %d\n", i);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	/* both fit in a pipe's 64 KiB: no reader thread needed */
	assert_int_equal(write(in[1], want, len), (ssize_t)len);
	close(in[1]);
	o.in_fd = in[0];
	o.out_fd = out[1];
	assert_int_equal(ik_fanout_run(&o, &res), 0);
	assert_int_equal(res.failed, -1);
	assert_int_equal(res.records_in, 200);
	close(out[1]);
	n = ik__read_full(out[0], got, sizeof(got) - 1, &d, NULL);
	assert_int_equal(n, (ssize_t)len);
	got[n] = '\0';
	assert_string_equal(got, want);
	close(in[0]);
	close(out[0]);
}

struct childrec {
	int calls, status;
	pid_t pid;
};

static void
on_child(ik_loop *l, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct childrec *c = arg;

	(void)l;
	(void)w;
	c->calls++;
	c->pid = ev->pid;
	c->status = ev->status;
}

/* The loop asked for pidfds (flags 0) but had to watch by SIGCHLD. */
static void
test_loop_child(void **state)
{
	struct childrec c = { 0 };
	struct ikt_sync s;
	sigset_t mask;
	ik_loop *loop;
	pid_t pid;

	(void)state;
	ikt_sync_init(&s);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ikt_await(&s, IKT_WAIT_MS) == 0);
		_exit(9);
	}
	assert_int_equal(ik_loop_new(&loop, 0), 0);
	assert_int_equal(ik_loop_child_add(loop, pid, on_child, &c, NULL), 0);
	/* the fallback's mark: SIGCHLD is now blocked for its signalfd */
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
	assert_true(sigismember(&mask, SIGCHLD));
	ikt_post(&s);
	assert_int_equal(ik_loop_run(loop), 0);
	ikt_untrack(pid);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.pid, pid);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 9);
	/* reaped by the loop */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(ik_loop_free(loop), 0);
	ikt_sync_close(&s);
}

/*
 * A consumer that reads, then dies without closing: while it is a zombie
 * (not reaped) the producer, blocked on the full ring with no deadline,
 * must see it dead (-EPIPE), not wait forever; a live one gives a timeout.
 */
static void
test_ring_dead_peer(void **state)
{
	struct ikt_sync ready, drained, go;
	char buf[200];
	siginfo_t si;
	ik_ring *r;
	pid_t pid;
	int rc;

	(void)state;
	assert_int_equal(ik_ring_create(&r, NULL, 4096, 0), 0);
	ik_ring_set_spin(r, 0);
	ikt_sync_init(&ready);
	ikt_sync_init(&drained);
	ikt_sync_init(&go);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_ring_attach(r, IK_RING_CONSUMER) == 0);
		ikt_post(&ready);
		for (uint32_t i = 0; i < 3; i++) {
			IKT_CHECK(ik_ring_recv(r, buf, sizeof(buf),
					       IKT_WAIT_MS) == 150);
			IKT_CHECK(ikt_check(buf, 150, i) == 0);
		}
		ikt_post(&drained);
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		_exit(0); /* no ik_ring_close: as if it crashed */
	}
	assert_int_equal(ik_ring_attach(r, IK_RING_PRODUCER), 0);
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	for (uint32_t i = 0; i < 3; i++) {
		ikt_fill(buf, 150, i);
		assert_int_equal(ik_ring_send(r, buf, 150, IKT_WAIT_MS), 0);
	}
	assert_int_equal(ikt_await(&drained, IKT_WAIT_MS), 0);
	while ((rc = ik_ring_send(r, buf, sizeof(buf), 0)) == 0)
		;
	assert_int_equal(rc, -EAGAIN);
	/* alive: the full ring is a timeout, not a dead peer */
	assert_int_equal(ik_ring_send(r, buf, sizeof(buf), 100), -ETIMEDOUT);
	ikt_post(&go);
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(ik_ring_send(r, buf, sizeof(buf), -1), -EPIPE);
	ikt_child_ok(pid);
	assert_int_equal(ik_ring_send(r, buf, sizeof(buf), -1), -EPIPE);
	ik_ring_close(r);
	ikt_sync_close(&ready);
	ikt_sync_close(&drained);
	ikt_sync_close(&go);
}

/* Notifications signalled by pid (rt_sigqueueinfo), every one exact. */
static void
test_notify_send(void **state)
{
	struct ikt_sync ready;
	char group[32];
	pid_t pid;

	(void)state;
	snprintf(group, sizeof(group), "np%d", (int)getpid());
	ikt_sync_init(&ready);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_notification n[4];
		ik_notify *l;
		int got = 0;

		IKT_CHECK(ik_notify_listen(&l, group) == 0);
		ikt_post(&ready);
		while (got < 3) {
			int k = ik_notify_read(l, n + got, 3 - got,
					       IKT_WAIT_MS);

			IKT_CHECK(k >= 1);
			got += k;
		}
		for (int i = 0; i < 3; i++) {
			IKT_CHECK(n[i].event == 10 + i);
			IKT_CHECK(n[i].value == 1000 * i + 7);
			IKT_CHECK(n[i].sender == getppid());
			IKT_CHECK(n[i].uid == getuid());
		}
		IKT_CHECK(ik_notify_close(l) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ik_notify_send(group, 10 + i, 1000 * i + 7,
						IKT_WAIT_MS, NULL, NULL),
				 1);
	ikt_child_ok(pid);
	/* gone: nobody to deliver to, and no signal to a stranger */
	assert_int_equal(ik_notify_send(group, 1, 1, IKT_WAIT_MS, NULL, NULL),
			 0);
	ikt_sync_close(&ready);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forced_off),
		cmocka_unit_test(test_spawn_wait_kill),
		cmocka_unit_test(test_spawn_fds),
		cmocka_unit_test(test_spawn_lookup),
		cmocka_unit_test(test_fanout),
		cmocka_unit_test(test_loop_child),
		cmocka_unit_test(test_ring_dead_peer),
		cmocka_unit_test(test_notify_send),
	};

	/* before any library call: the switch is read once */
	if (setenv("IPCKIT_NO_PIDFD", "1", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
