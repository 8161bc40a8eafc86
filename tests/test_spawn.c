/*
 * ik_spawn_*: real programs with each stream mode, environment and working
 * directory; errors for programs that cannot start (never exit 127); timed
 * waits, kills and exit statuses; pipelines with every stage reaped, also
 * when one stage does not start; and no descriptor leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/pipe.h>
#include <ipckit/spawn.h>

#include "ikt.h"
#include "internal/time.h"

#define PIPE_IO                   \
	{                         \
		IK_STDIO_PIPE, -1 \
	}

/* Everything up to end of file, NUL-terminated. */
static ssize_t
slurp(int fd, char *buf, size_t cap)
{
	ssize_t n = ik_pipe_read(fd, buf, cap - 1, IKT_WAIT_MS, NULL);

	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void
assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
assert_exited(int status, int code)
{
	if (!WIFEXITED(status))
		fail_msg("status %#x: not a normal exit", status);
	assert_int_equal(WEXITSTATUS(status), code);
}

/* stdin and stdout pipes: data through `tr`, back transformed */
static void
test_pipes_in_and_out(void **state)
{
	const char *argv[] = { "tr", "a-z", "A-Z", NULL };
	struct ik_spawn_opts o = { .io = { PIPE_IO, PIPE_IO } };
	static char in[30000], out[30001];
	struct ik_proc p;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 26);
	assert_int_equal(ik_spawn(&p, argv, &o), 0);
	assert_true(p.pid > 0 && p.pidfd >= 0 && p.in >= 0 && p.out >= 0);
	assert_int_equal(p.err, -1);
	assert_true(fcntl(p.in, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(p.out, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(ik_pipe_write(p.in, in, sizeof(in), IKT_WAIT_MS, NULL),
			 sizeof(in));
	close(p.in);
	p.in = -1;
	assert_int_equal(slurp(p.out, out, sizeof(out) + 1), sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++)
		if (out[i] != (char)('A' + i % 26))
			fail_msg("byte %zu is %c", i, out[i]);
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_exited(p.status, 0);
	assert_int_equal(p.pid, -1);
	ik_spawn_close(&p);
	assert_int_equal(p.out, -1);
}

/* stderr as its own pipe, merged into stdout, and to /dev/null */
static void
test_stderr_modes(void **state)
{
	struct ik_spawn_opts o = {
		.io = { { IK_STDIO_NULL, -1 }, PIPE_IO, PIPE_IO }
	};
	const char *sh = "echo out; echo err >&2; exit 3";
	char out[256], err[256];
	struct ik_proc p;

	(void)state;
	assert_int_equal(ik_spawn_shell(&p, sh, &o), 0);
	assert_true(slurp(p.out, out, sizeof(out)) >= 0);
	assert_true(slurp(p.err, err, sizeof(err)) >= 0);
	assert_string_equal(out, "out\n");
	assert_string_equal(err, "err\n");
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_exited(p.status, 3);
	ik_spawn_close(&p);

	o.io[2].mode = IK_STDIO_TO_STDOUT;
	assert_int_equal(ik_spawn_shell(&p, sh, &o), 0);
	assert_int_equal(p.err, -1);
	assert_true(slurp(p.out, out, sizeof(out)) >= 0);
	assert_string_equal(out, "out\nerr\n");
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	ik_spawn_close(&p);

	/* /dev/null on stdin and stderr, seen by the child itself */
	o.io[2].mode = IK_STDIO_NULL;
	assert_int_equal(ik_spawn_shell(&p,
					"readlink /proc/self/fd/0 "
					"/proc/self/fd/2; echo gone >&2",
					&o),
			 0);
	assert_true(slurp(p.out, out, sizeof(out)) >= 0);
	assert_string_equal(out, "/dev/null\n/dev/null\n");
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_exited(p.status, 0);
	ik_spawn_close(&p);
}

/* stdout to a file descriptor of the caller */
static void
test_stdio_fd(void **state)
{
	const char *argv[] = { "echo", "to", "file", NULL };
	struct ik_spawn_opts o = { .io[1] = { IK_STDIO_FD, -1 } };
	char path[256], buf[64];
	struct ik_proc p;
	int f;

	(void)state;
	ikt_path(path, sizeof(path), "out");
	f = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(f >= 0);
	o.io[1].fd = f;
	assert_int_equal(ik_spawn(&p, argv, &o), 0);
	assert_int_equal(p.out, -1);
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_exited(p.status, 0);
	ik_spawn_close(&p);
	assert_int_equal(pread(f, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "to file\n", 8);
	close(f);
	unlink(path);
}

/*
 * The caller's descriptors sit on 0 and 1, crossed: the child's stdin must
 * be what was fd 1 and its stdout what was fd 0. A naive dup2 sequence
 * would overwrite one with the other. Done in a forked child, whose own
 * standard streams may be rearranged freely.
 */
static void
test_stdio_fd_crossed(void **state)
{
	int x[2], y[2];
	char out[16];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pipe_open(x, 0), 0); /* into the child */
	assert_int_equal(ik_pipe_open(y, 0), 0); /* out of it */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = { "tr", "a-z", "A-Z", NULL };
		struct ik_spawn_opts o = { .io = { { IK_STDIO_FD, 1 },
						   { IK_STDIO_FD, 0 } } };
		struct ik_proc p;

		IKT_CHECK(dup2(x[0], 1) == 1 && dup2(y[1], 0) == 0);
		close(x[0]);
		close(y[1]);
		close(x[1]);
		close(y[0]);
		IKT_CHECK(ik_spawn(&p, argv, &o) == 0);
		close(0);
		close(1);
		IKT_CHECK(ik_spawn_wait(&p, IKT_WAIT_MS) == 0);
		IKT_CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
		_exit(0);
	}
	close(x[0]);
	close(y[1]);
	assert_int_equal(ik_pipe_write(x[1], "crossed", 7, IKT_WAIT_MS, NULL),
			 7);
	close(x[1]);
	assert_int_equal(slurp(y[0], out, sizeof(out)), 7);
	assert_string_equal(out, "CROSSED");
	close(y[0]);
	ikt_assert_child_ok(pid);
}

/* Inherited streams: a forked helper whose stdin/stdout are our pipes */
static void
test_stdio_inherit(void **state)
{
	int in[2], out[2];
	char buf[64];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pipe_open(in, 0), 0);
	assert_int_equal(ik_pipe_open(out, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = { "cat", NULL };
		struct ik_proc p;

		IKT_CHECK(dup2(in[0], 0) == 0 && dup2(out[1], 1) == 1);
		ik_pipe_close(in);
		ik_pipe_close(out);
		IKT_CHECK(ik_spawn(&p, argv, NULL) == 0);
		IKT_CHECK(p.in == -1 && p.out == -1 && p.err == -1);
		close(0);
		close(1);
		IKT_CHECK(ik_spawn_wait(&p, IKT_WAIT_MS) == 0);
		IKT_CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
		_exit(0);
	}
	close(in[0]);
	close(out[1]);
	assert_int_equal(
		ik_pipe_write(in[1], "through cat\n", 12, IKT_WAIT_MS, NULL),
		12);
	close(in[1]);
	assert_int_equal(slurp(out[0], buf, sizeof(buf)), 12);
	assert_string_equal(buf, "through cat\n");
	close(out[0]);
	ikt_assert_child_ok(pid);
}

/* The given environment exactly; the given working directory */
static void
test_env_and_cwd(void **state)
{
	char *envp[] = { "IKT_A=1", "IKT_B=two words", NULL };
	const char *env[] = { "env", NULL };
	const char *pwd[] = { "pwd", "-P", NULL };
	struct ik_spawn_opts o = { .io[1] = PIPE_IO, .envp = envp };
	char buf[PATH_MAX + 2], want[PATH_MAX + 2], file[256];
	struct ik_proc p;
	int n0 = ikt_fd_count(), f;

	(void)state;
	/* PATH comes from the caller even though envp has none */
	assert_int_equal(ik_spawn(&p, env, &o), 0);
	assert_true(slurp(p.out, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "IKT_A=1\nIKT_B=two words\n");
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	ik_spawn_close(&p);

	o.envp = NULL;
	o.cwd = ikt_tmpdir();
	assert_int_equal(ik_spawn(&p, pwd, &o), 0);
	assert_true(slurp(p.out, buf, sizeof(buf)) > 0);
	assert_non_null(realpath(o.cwd, want));
	want[strlen(want) + 1] = '\0';
	want[strlen(want)] = '\n';
	assert_string_equal(buf, want);
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	ik_spawn_close(&p);

	/* a bad directory is its own error, before anything starts */
	o.cwd = "/nonexistent/ikt";
	assert_int_equal(ik_spawn(&p, pwd, &o), -ENOENT);
	ikt_path(file, sizeof(file), "plain");
	f = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(f >= 0);
	close(f);
	o.cwd = file;
	assert_int_equal(ik_spawn(&p, pwd, &o), -ENOTDIR);
	unlink(file);
	assert_no_children();
	assert_int_equal(ikt_fd_count(), n0);
}

/* Programs that cannot start: the errno, no child, nothing left open */
static void
test_cannot_start(void **state)
{
	struct ik_spawn_opts o = { .io = { PIPE_IO, PIPE_IO, PIPE_IO } };
	const char *missing[] = { "ikt-no-such-command", NULL };
	const char *nopath[] = { "/nonexistent/ikt", NULL };
	const char *noexec[] = { "", NULL };
	const char *dir[] = { "/", NULL };
	struct ik_proc p = { .pid = 12345 };
	char file[256];
	int n0 = ikt_fd_count(), f;

	(void)state;
	assert_int_equal(ik_spawn(&p, missing, &o), -ENOENT);
	assert_int_equal(ik_spawn(&p, nopath, NULL), -ENOENT);
	assert_int_equal(ik_spawn(&p, dir, &o), -EACCES);
	ikt_path(file, sizeof(file), "noexec");
	f = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(f >= 0);
	close(f);
	noexec[0] = file;
	assert_int_equal(ik_spawn(&p, noexec, &o), -EACCES);
	unlink(file);
	assert_int_equal(p.pid, 12345); /* untouched on failure */
	assert_no_children();
	assert_int_equal(ikt_fd_count(), n0);
}

/*
 * Timed wait on a child that runs on: -ETIMEDOUT, not early. A blocked
 * SIGTERM in the caller does not carry over, so kill ends the child.
 */
static void
test_wait_timeout_and_kill(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct ik_spawn_opts o = { .io[0] = PIPE_IO };
	struct ik_proc p;
	sigset_t set, old;
	int64_t t0, el;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, &old), 0);
	assert_int_equal(ik_spawn(&p, argv, &o), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	t0 = ik__now_ns();
	assert_int_equal(ik_spawn_wait(&p, 200), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 200 * 1000000LL);
	assert_int_equal(ik_spawn_wait(&p, 0), -ETIMEDOUT);
	assert_true(p.pid > 0);
	assert_int_equal(ik_spawn_kill(&p, SIGTERM), 0);
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_true(WIFSIGNALED(p.status));
	assert_int_equal(WTERMSIG(p.status), SIGTERM);
	assert_int_equal(ik_spawn_wait(&p, 0), -ECHILD);
	assert_int_equal(ik_spawn_kill(&p, SIGTERM), -ESRCH);
	ik_spawn_close(&p);

	assert_int_equal(ik_spawn_shell(&p, "exit 7", NULL), 0);
	assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
	assert_exited(p.status, 7);
	ik_spawn_close(&p);
}

/* printf | sort | tr, each with its own exit status */
static void
test_pipeline_three_stages(void **state)
{
	const char *a[] = { "sh", "-c", "printf 'c\\nb\\na\\n'; exit 3", NULL };
	const char *b[] = { "sort", NULL };
	const char *c[] = { "sh", "-c", "tr a-z A-Z; exit 5", NULL };
	const char *const *argvs[] = { a, b, c };
	struct ik_spawn_opts o = { .io[1] = PIPE_IO };
	struct ik_proc pr[3];
	char out[64];

	(void)state;
	assert_int_equal(ik_spawn_pipeline(pr, 3, argvs, &o), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(pr[i].pid > 0);
		assert_int_equal(pr[i].error, 0);
	}
	assert_int_equal(pr[0].in, -1);
	assert_int_equal(pr[1].out, -1);
	assert_true(slurp(pr[2].out, out, sizeof(out)) >= 0);
	assert_string_equal(out, "A\nB\nC\n");
	assert_int_equal(ik_spawn_wait_all(pr, 3, IKT_WAIT_MS), 0);
	assert_exited(pr[0].status, 3);
	assert_exited(pr[1].status, 0);
	assert_exited(pr[2].status, 5);
	for (int i = 0; i < 3; i++)
		ik_spawn_close(&pr[i]);
	assert_no_children();
}

/* The caller feeds the first stage and reads the last: 60 KB through */
static void
test_pipeline_caller_ends(void **state)
{
	const char *a[] = { "cat", NULL };
	const char *b[] = { "tr", "a-z", "A-Z", NULL };
	const char *const *argvs[] = { a, b, a };
	struct ik_spawn_opts o = { .io = { PIPE_IO, PIPE_IO } };
	static char in[60000], out[60001];
	struct ik_proc pr[3];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + (i * 7) % 26);
	assert_int_equal(ik_spawn_pipeline(pr, 3, argvs, &o), 0);
	/* 60 KB fit in the four pipes, so writing all first cannot jam */
	assert_int_equal(
		ik_pipe_write(pr[0].in, in, sizeof(in), IKT_WAIT_MS, NULL),
		sizeof(in));
	close(pr[0].in);
	pr[0].in = -1;
	assert_int_equal(slurp(pr[2].out, out, sizeof(out) + 1), sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++)
		if (out[i] != (char)('A' + (i * 7) % 26))
			fail_msg("byte %zu is %c", i, out[i]);
	assert_int_equal(ik_spawn_wait_all(pr, 3, IKT_WAIT_MS), 0);
	for (int i = 0; i < 3; i++) {
		assert_exited(pr[i].status, 0);
		ik_spawn_close(&pr[i]);
	}
}

/*
 * A stage that cannot start is reported for that stage; its neighbours see
 * EOF or EPIPE and end, and are reaped: first stage missing, then a middle
 * one (with SIGPIPE ignored by the caller: `yes` must still die of it).
 */
static void
test_pipeline_stage_missing(void **state)
{
	const char *missing[] = { "ikt-no-such-command", NULL };
	const char *cat[] = { "cat", NULL };
	const char *wc[] = { "wc", "-l", NULL };
	const char *yes[] = { "yes", NULL };
	const char *const *first[] = { missing, cat, wc };
	const char *const *middle[] = { yes, missing, wc };
	struct ik_spawn_opts o = { .io[1] = PIPE_IO };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct ik_proc pr[3];
	int n0 = ikt_fd_count();
	char out[64];

	(void)state;
	assert_int_equal(ik_spawn_pipeline(pr, 3, first, &o), -ENOENT);
	assert_int_equal(pr[0].error, -ENOENT);
	assert_int_equal(pr[0].pid, -1);
	assert_true(pr[1].pid > 0 && pr[2].pid > 0);
	assert_int_equal(pr[1].error, 0);
	assert_true(slurp(pr[2].out, out, sizeof(out)) >= 0);
	assert_string_equal(out, "0\n");
	assert_int_equal(ik_spawn_wait_all(pr, 3, IKT_WAIT_MS), 0);
	assert_int_equal(pr[0].status, -1);
	assert_exited(pr[1].status, 0);
	assert_exited(pr[2].status, 0);
	for (int i = 0; i < 3; i++)
		ik_spawn_close(&pr[i]);
	assert_no_children();

	assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
	assert_int_equal(ik_spawn_pipeline(pr, 3, middle, &o), -ENOENT);
	assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
	assert_int_equal(pr[1].error, -ENOENT);
	assert_true(slurp(pr[2].out, out, sizeof(out)) >= 0);
	assert_string_equal(out, "0\n");
	assert_int_equal(ik_spawn_wait_all(pr, 3, IKT_WAIT_MS), 0);
	assert_true(WIFSIGNALED(pr[0].status));
	assert_int_equal(WTERMSIG(pr[0].status), SIGPIPE);
	assert_exited(pr[2].status, 0);
	for (int i = 0; i < 3; i++)
		ik_spawn_close(&pr[i]);
	assert_no_children();
	assert_int_equal(ikt_fd_count(), n0);
}

/* Many spawns and pipelines, failed ones too: the same descriptors after */
static void
test_no_fd_leak(void **state)
{
	const char *echo[] = { "echo", "x", NULL };
	const char *cat[] = { "cat", NULL };
	const char *missing[] = { "ikt-no-such-command", NULL };
	const char *const *two[] = { echo, cat };
	const char *const *bad[] = { cat, missing };
	struct ik_spawn_opts o = { .io = { PIPE_IO, PIPE_IO, PIPE_IO } };
	struct ik_proc p, pr[2];
	int n0 = ikt_fd_count();
	char out[8];

	(void)state;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(ik_spawn(&p, echo, &o), 0);
		assert_int_equal(slurp(p.out, out, sizeof(out)), 2);
		assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
		ik_spawn_close(&p);
		assert_int_equal(ik_spawn(&p, missing, &o), -ENOENT);
		assert_int_equal(ik_spawn_pipeline(pr, 2, two, &o), 0);
		assert_int_equal(slurp(pr[1].out, out, sizeof(out)), 2);
		assert_int_equal(ik_spawn_wait_all(pr, 2, IKT_WAIT_MS), 0);
		ik_spawn_close(&pr[0]);
		ik_spawn_close(&pr[1]);
		assert_int_equal(ik_spawn_pipeline(pr, 2, bad, &o), -ENOENT);
		/* closed before the wait: the pidfd is opened again */
		ik_spawn_close(&pr[0]); /* cat sees EOF on its own stdin */
		assert_int_equal(ik_spawn_wait_all(pr, 2, IKT_WAIT_MS), 0);
		assert_exited(pr[0].status, 0);
		ik_spawn_close(&pr[0]);
		ik_spawn_close(&pr[1]);
	}
	assert_int_equal(ikt_fd_count(), n0);
	assert_no_children();
}

static void
test_bad_input(void **state)
{
	const char *ok[] = { "true", NULL };
	const char *empty[] = { NULL };
	const char *blank[] = { "", NULL };
	const char *const *argvs[] = { ok, empty };
	struct ik_spawn_opts o = { 0 };
	struct ik_proc p = { .pid = -1 }, pr[2];

	(void)state;
	assert_int_equal(ik_spawn(NULL, ok, NULL), -EINVAL);
	assert_int_equal(ik_spawn(&p, NULL, NULL), -EINVAL);
	assert_int_equal(ik_spawn(&p, empty, NULL), -EINVAL);
	assert_int_equal(ik_spawn(&p, blank, NULL), -EINVAL);
	assert_int_equal(ik_spawn_shell(&p, NULL, NULL), -EINVAL);
	o.io[1].mode = (enum ik_stdio_mode)99;
	assert_int_equal(ik_spawn(&p, ok, &o), -EINVAL);
	o.io[1] = (struct ik_stdio){ IK_STDIO_TO_STDOUT, -1 };
	assert_int_equal(ik_spawn(&p, ok, &o), -EINVAL);
	o.io[1] = (struct ik_stdio){ IK_STDIO_FD, -1 };
	assert_int_equal(ik_spawn(&p, ok, &o), -EBADF);
	o.io[1] = (struct ik_stdio){ IK_STDIO_FD, 1000 };
	assert_int_equal(ik_spawn(&p, ok, &o), -EBADF);
	o.io[1] = (struct ik_stdio){ IK_STDIO_INHERIT, -1 };
	assert_int_equal(ik_spawn_pipeline(pr, 0, argvs, &o), -EINVAL);
	assert_int_equal(ik_spawn_pipeline(pr, 2, argvs, &o), -EINVAL);
	assert_int_equal(ik_spawn_pipeline(NULL, 1, argvs, &o), -EINVAL);
	assert_int_equal(ik_spawn_wait(NULL, 0), -EINVAL);
	assert_int_equal(ik_spawn_wait(&p, 0), -ECHILD);
	assert_int_equal(ik_spawn_kill(&p, SIGTERM), -ESRCH);
	assert_no_children();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipes_in_and_out),
		cmocka_unit_test(test_stderr_modes),
		cmocka_unit_test(test_stdio_fd),
		cmocka_unit_test(test_stdio_fd_crossed),
		cmocka_unit_test(test_stdio_inherit),
		cmocka_unit_test(test_env_and_cwd),
		cmocka_unit_test(test_cannot_start),
		cmocka_unit_test(test_wait_timeout_and_kill),
		cmocka_unit_test(test_pipeline_three_stages),
		cmocka_unit_test(test_pipeline_caller_ends),
		cmocka_unit_test(test_pipeline_stage_missing),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, ikt_tmpdir_teardown);
}
