/*
 * ik_sig_ignore_sigpipe: after the opt-in a write to a pipe, a FIFO channel
 * or an ik_pipe whose reader has gone is -EPIPE and the process lives, in
 * the process that opted in and in its forked children. The opt-in is for
 * good, so each test makes it in a child of its own: the runner's
 * disposition stays the default, where the per-write guard (tested in
 * test_io) still has to work, and is checked here again in a child.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <ipckit/chan.h>
#include <ipckit/pipe.h>
#include <ipckit/sig.h>

#include "ikt.h"

#define T IKT_WAIT_MS

static int
sigpipe_handler_is(void (*h)(int))
{
	struct sigaction sa;

	return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == h;
}

/*
 * One process reads "hello" from a pipe and exits; then the writer writes
 * again and must get -EPIPE, alive. Run in a fresh child, with or without
 * the opt-in; the writer is a grandchild, so the opt-in crosses a fork.
 */
static void
epipe_scenario(int optin)
{
	struct ikt_sync gone;
	char buf[8];
	pid_t r, w;
	int fd[2];

	if (optin) {
		IKT_CHECK(ik_sig_ignore_sigpipe() == 0);
		IKT_CHECK(ik_sig_ignore_sigpipe() == 0); /* idempotent */
		IKT_CHECK(sigpipe_handler_is(SIG_IGN));
	} else {
		IKT_CHECK(sigpipe_handler_is(SIG_DFL));
	}
	IKT_CHECK(ik_pipe_open(fd, 0) == 0);
	ikt_sync_init(&gone);
	r = fork();
	IKT_CHECK(r >= 0);
	if (r == 0) {
		close(fd[1]);
		IKT_CHECK(ik_pipe_read(fd[0], buf, 5, T, NULL) == 5);
		IKT_CHECK(memcmp(buf, "hello", 5) == 0);
		_exit(0);
	}
	w = fork();
	IKT_CHECK(w >= 0);
	if (w == 0) {
		sigset_t pending;

		close(fd[0]);
		IKT_CHECK(ik_pipe_write(fd[1], "hello", 5, T, NULL) == 5);
		IKT_CHECK(ikt_await(&gone, T) == 0);
		IKT_CHECK(ik_pipe_write(fd[1], "again", 5, T, NULL) == -EPIPE);
		IKT_CHECK(ik_pipe_write(fd[1], "again", 5, -1, NULL) == -EPIPE);
		IKT_CHECK(sigpending(&pending) == 0);
		IKT_CHECK(!sigismember(&pending, SIGPIPE));
		_exit(0);
	}
	close(fd[0]);
	close(fd[1]);
	IKT_CHECK(ikt_wait(r, T) == 0); /* exited 0: the reader is gone */
	ikt_post(&gone);
	IKT_CHECK(ikt_wait(w, T) == 0); /* and the writer lived */
	ikt_sync_close(&gone);
}

static void
test_pipe_epipe_after_optin(void **state)
{
	pid_t pid;

	(void)state;
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		epipe_scenario(1);
		_exit(0);
	}
	ikt_child_ok(pid);
	/* the runner itself was not touched */
	assert_true(sigpipe_handler_is(SIG_DFL));
}

static void
test_pipe_epipe_guard_without_optin(void **state)
{
	pid_t pid;

	(void)state;
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		epipe_scenario(0);
		_exit(0);
	}
	ikt_child_ok(pid);
}

/*
 * A framed FIFO channel after the opt-in: the listener receives one message
 * (contents checked) and leaves; the dialler's next send is -EPIPE, with
 * and without a deadline, and the process lives. The channel is dialled
 * before the fork, so the forked writer uses an inherited handle.
 */
static void
test_fifo_chan_epipe_after_optin(void **state)
{
	char path[200], addr[300], buf[64];
	struct ikt_sync up, gone;
	struct ik_chan *c;
	pid_t pid, lst;

	(void)state;
	ikt_path(path, sizeof(path), "fifo");
	snprintf(addr, sizeof(addr), "fifo:%s", path);
	ikt_sync_init(&up);
	ikt_sync_init(&gone);
	lst = ikt_fork();
	assert_true(lst >= 0);
	if (lst == 0) {
		struct ik_chan *l;

		IKT_CHECK(ik_chan_listen(&l, addr, NULL, 0) == 0);
		ikt_post(&up);
		IKT_CHECK(ik_chan_recv(l, buf, sizeof(buf), T) == 5);
		IKT_CHECK(memcmp(buf, "first", 5) == 0);
		IKT_CHECK(ik_chan_close(l) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&up, T), 0);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sig_ignore_sigpipe() == 0);
		IKT_CHECK(ik_chan_dial(&c, addr, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(c, "first", 5, -1) == 5);
		IKT_CHECK(ikt_await(&gone, T) == 0);
		IKT_CHECK(ik_chan_send(c, "second", 6, -1) == -EPIPE);
		IKT_CHECK(ik_chan_send(c, "third", 5, T) == -EPIPE);
		ik_chan_close(c);
		_exit(0);
	}
	ikt_child_ok(lst);
	ikt_post(&gone);
	ikt_child_ok(pid);
	ikt_sync_close(&up);
	ikt_sync_close(&gone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pipe_epipe_after_optin,
					  ikt_tmpdir_teardown),
		cmocka_unit_test_teardown(test_pipe_epipe_guard_without_optin,
					  ikt_tmpdir_teardown),
		cmocka_unit_test_teardown(test_fifo_chan_epipe_after_optin,
					  ikt_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
