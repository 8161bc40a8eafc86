/*
 * The internal I/O layer every module stands on: complete transfers across
 * partial reads/writes between two processes, EPIPE without SIGPIPE, and
 * deadlines that survive EINTR.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>

#include "ikt.h"
#include "internal/io.h"

/* 1 MiB through a 64 KiB pipe: the writer is cut into many partial writes */
static void
test_full_transfer_between_processes(void **state)
{
	enum { LEN = 1 << 20 };
	struct ik__deadline d;
	char *buf = malloc(LEN);
	int fd[2];
	pid_t pid;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		ikt_fill(buf, LEN, 7);
		ik__deadline_init(&d, -1);
		IKT_CHECK(ik__write_full(fd[1], buf, LEN, 0, &d, NULL) == LEN);
		_exit(0);
	}
	close(fd[1]);
	memset(buf, 0, LEN);
	ik__deadline_init(&d, IKT_WAIT_MS);
	assert_int_equal(ik__read_full(fd[0], buf, LEN, &d, NULL), LEN);
	assert_int_equal(ikt_check(buf, LEN, 7), 0);
	/* then EOF: a short (zero) read, not an error */
	assert_int_equal(ik__read_full(fd[0], buf, 16, &d, NULL), 0);
	close(fd[0]);
	ikt_assert_child_ok(pid);
	free(buf);
}

/* the reader process exits: the writer gets -EPIPE and lives on */
static void
test_epipe_not_sigpipe(void **state)
{
	struct ik__deadline d;
	struct sigaction sa = { .sa_handler = SIG_DFL }, old;
	sigset_t pending;
	char buf[4096] = { 0 };
	int fd[2];
	pid_t pid;

	(void)state;
	/* default disposition: an unguarded write would kill this process */
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[1]);
		_exit(read(fd[0], buf, 1) == 1 ? 0 : 1);
	}
	close(fd[0]);
	ik__deadline_init(&d, IKT_WAIT_MS);
	assert_int_equal(ik__write_full(fd[1], "x", 1, 0, &d, NULL), 1);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik__write_full(fd[1], buf, sizeof(buf), 0, &d, NULL),
			 -EPIPE);
	/* and no SIGPIPE is left pending for later */
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	close(fd[1]);
	sigaction(SIGPIPE, &old, NULL);
}

/*
 * A caller that blocks SIGPIPE itself (as a library holding its own guard
 * around ours does) still never finds one pending afterwards that our
 * write raised; one that was pending before is the caller's and stays.
 */
static void
test_epipe_with_sigpipe_blocked_by_caller(void **state)
{
	struct ik__deadline d;
	sigset_t set, old, pending;
	int fd[2];

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	close(fd[0]); /* the reader is gone */
	ik__deadline_init(&d, IKT_WAIT_MS);
	assert_int_equal(ik__write_full(fd[1], "x", 1, 0, &d, NULL), -EPIPE);
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	/* a SIGPIPE of the caller's own, pending before: left alone */
	assert_int_equal(raise(SIGPIPE), 0);
	assert_int_equal(ik__write_full(fd[1], "x", 1, 0, &d, NULL), -EPIPE);
	assert_int_equal(sigpending(&pending), 0);
	assert_true(sigismember(&pending, SIGPIPE));
	{
		static const struct timespec zero = { 0, 0 };

		assert_int_equal(sigtimedwait(&set, NULL, &zero), SIGPIPE);
	}
	close(fd[1]);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/*
 * A timed read interrupted by signals every 20 ms neither returns early nor
 * waits much longer than asked: the deadline is kept across EINTR.
 */
static void
test_deadline_survives_eintr(void **state)
{
	struct ikt_storm storm;
	struct ik__deadline d;
	int64_t t0, el;
	char c;
	int fd[2];

	(void)state;
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	assert_int_equal(ikt_storm_start(&storm, 20), 0);
	t0 = ik__now_ns();
	ik__deadline_init(&d, 300);
	assert_int_equal(ik__read_full(fd[0], &c, 1, &d, NULL), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	ikt_storm_stop(&storm);
	assert_true(el >= 300 * 1000000LL);
	/* upper bound is generous (shared machine); the bug it catches is a
	 * restarted full timeout, which would never end while signals come */
	assert_true(el < 10000 * 1000000LL);
	close(fd[0]);
	close(fd[1]);
}

static void
test_strerror_names_ipckit_codes(void **state)
{
	(void)state;
	assert_string_equal(ik_errname(-EPIPE), "EPIPE");
	assert_string_equal(ik_errname(EPIPE), "EPIPE");
	assert_string_equal(ik_errname(IK_EMQ_MSG_MAX), "IK_EMQ_MSG_MAX");
	assert_non_null(strstr(ik_strerror(IK_EMQ_MSG_MAX), "msg_max"));
	assert_non_null(
		strstr(ik_strerror(IK_EPIPE_MAX_SIZE), "pipe-max-size"));
	assert_string_equal(ik_strerror(0), "success");
	assert_string_equal(ik_strerror(-999999), "unknown error");
	assert_string_equal(ik_strerror(-ENOENT), strerror(ENOENT));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_transfer_between_processes),
		cmocka_unit_test(test_epipe_not_sigpipe),
		cmocka_unit_test(test_epipe_with_sigpipe_blocked_by_caller),
		cmocka_unit_test(test_deadline_survives_eintr),
		cmocka_unit_test(test_strerror_names_ipckit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
