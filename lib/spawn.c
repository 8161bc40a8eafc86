/*
 * Spawning and pipelines (see include/ipckit/spawn.h) on posix_spawnp:
 * glibc's vfork-style spawn reports a failed exec as an error return, so a
 * missing program is the caller's error, not a child that exits 127. Every
 * descriptor made here is close-on-exec and at least 3, so the child's three
 * dup2 actions cannot overwrite one another's source.
 *
 * Without pidfds (kernels before 5.3, valgrind: see ik__have_pidfd) the
 * child is waited for with waitpid and signalled by pid, which is safe as
 * long as it is not reaped; p->pidfd is then the read end of a pipe whose
 * write end only the child holds (as fd 3, or its own number with
 * IK_SPAWN_KEEP_FDS), so it still turns readable when the child ends for
 * callers that poll it (ik_fanout) -- or later, if the child handed it on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/pipe.h>
#include <ipckit/spawn.h>

#include "internal/io.h"
#include "internal/proc.h"
#include "internal/time.h"

extern char **environ;

static const struct ik_spawn_opts no_opts;

static void
proc_init(struct ik_proc *p)
{
	p->pid = -1;
	p->pidfd = p->in = p->out = p->err = -1;
	p->status = -1;
	p->error = 0;
}

/* A private copy of fd numbered 3 or more, close-on-exec. */
static int
dup_high(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	return r < 0 ? -errno : r;
}

/* Move a descriptor we own above 2 (a caller may have closed stdin). */
static int
own_high(int fd)
{
	int r;

	if (fd >= 3)
		return fd;
	r = dup_high(fd);
	ik__close(fd);
	return r;
}

static int
check_io(const struct ik_stdio io[3])
{
	for (int i = 0; i < 3; i++) {
		switch (io[i].mode) {
		case IK_STDIO_INHERIT:
		case IK_STDIO_PIPE:
		case IK_STDIO_NULL:
			break;
		case IK_STDIO_FD:
			if (io[i].fd < 0 || fcntl(io[i].fd, F_GETFD) < 0)
				return -EBADF;
			break;
		case IK_STDIO_TO_STDOUT:
			if (i != 2)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int
check_argv(const char *const argv[])
{
	return argv == NULL || argv[0] == NULL || argv[0][0] == '\0' ? -EINVAL
								     : 0;
}

/* The working directory, opened and checked before anything starts, so a
 * bad cwd is not mistaken for a missing program. */
static int
open_cwd(const char *cwd)
{
	int fd;

	if (cwd == NULL)
		return -1;
	fd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* fchdir needs search permission, which O_PATH did not check */
	if (faccessat(fd, ".", X_OK, AT_EACCESS) < 0) {
		int r = -errno;

		ik__close(fd);
		return r;
	}
	return fd;
}

/* Prepare the child's side of stream i: *cfd to dup2 onto i (-1: leave). */
static int
stream_setup(const struct ik_stdio *io, int i, int flags, int *cfd, int *pfd)
{
	int fds[2], r;

	*cfd = *pfd = -1;
	switch (io->mode) {
	case IK_STDIO_PIPE:
		r = ik_pipe_open(fds, 0);
		if (r < 0)
			return r;
		/* stdin: the child reads, we write */
		*pfd = i == 0 ? fds[1] : fds[0];
		*cfd = own_high(i == 0 ? fds[0] : fds[1]);
		if (*cfd < 0) {
			r = *cfd;
			goto fail;
		}
		if ((flags & IK_SPAWN_NONBLOCK) &&
		    (r = ik__set_nonblock(*pfd, true)) < 0)
			goto fail;
		return 0;
	case IK_STDIO_NULL:
		r = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (r < 0)
			return -errno;
		*cfd = own_high(r);
		return *cfd < 0 ? *cfd : 0;
	case IK_STDIO_FD:
		*cfd = dup_high(io->fd);
		return *cfd < 0 ? *cfd : 0;
	default:
		return 0;
	}
fail:
	ik__close(*cfd);
	ik__close(*pfd);
	*cfd = *pfd = -1;
	return r;
}

/*
 * posix_spawnp reports a failed exec as an error only because its vfork
 * child shares our memory; where vfork runs as a fork (valgrind, qemu-user)
 * the child would exit 127 instead. So the program is looked for first,
 * as execvp will (PATH, relative to the child's working directory): only a
 * "no" is trusted (-ENOENT, or -EACCES when a candidate cannot be run);
 * the exec itself has the last word on everything else.
 */
static int
find_program(const char *file, int cwdfd)
{
	int at = cwdfd >= 0 ? cwdfd : AT_FDCWD;
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	bool denied = false;

	if (strchr(file, '/') != NULL)
		return faccessat(at, file, X_OK, AT_EACCESS) < 0 ? -errno : 0;
	if (path == NULL)
		path = "/bin:/usr/bin"; /* glibc's default, confstr(_CS_PATH) */
	for (p = path;; p = end + 1) {
		int n;

		end = strchrnul(p, ':');
		/* an empty entry is the working directory */
		n = end == p ? snprintf(buf, sizeof(buf), "%s", file)
			     : snprintf(buf, sizeof(buf), "%.*s/%s",
					(int)(end - p), p, file);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			if (faccessat(at, buf, X_OK, AT_EACCESS) == 0)
				return 0;
			denied |= errno == EACCES;
		}
		if (*end == '\0')
			break;
	}
	return denied ? -EACCES : -ENOENT;
}

/* The no-pidfd stand-in: *rd ours, *wr for the child, both close-on-exec,
 * *wr above 3 so that dup2 onto the child's fd 3 is a real copy. */
static int
death_pipe(int *rd, int *wr)
{
	int fds[2], r;

	if ((r = ik_pipe_open(fds, 0)) < 0)
		return r;
	*rd = own_high(fds[0]);
	*wr = fcntl(fds[1], F_DUPFD_CLOEXEC, 4);
	r = *wr < 0 ? -errno : 0;
	ik__close(fds[1]);
	if (*rd < 0 || r < 0) {
		r = *rd < 0 ? *rd : r;
		ik__close(*rd);
		ik__close(*wr);
		*rd = *wr = -1;
	}
	return r;
}

static int
run(pid_t *pid, const char *const argv[], const int cfd[3], bool err_to_out,
    const struct ik_spawn_opts *o, int cwdfd, int deathfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t set;
	int r;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return -r;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	for (int i = 0; i < 3 && r == 0; i++)
		if (cfd[i] >= 0)
			r = posix_spawn_file_actions_adddup2(&fa, cfd[i], i);
	if (r == 0 && err_to_out)
		r = posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (r == 0 && cwdfd >= 0)
		r = posix_spawn_file_actions_addfchdir_np(&fa, cwdfd);
	/* the no-pidfd exit signal: dup2 also clears close-on-exec (glibc
	 * does so even for the same number, Austin Group issue 411) */
	if (r == 0 && deathfd >= 0)
		r = posix_spawn_file_actions_adddup2(
			&fa, deathfd,
			o->flags & IK_SPAWN_KEEP_FDS ? deathfd : 3);
	if (r == 0 && !(o->flags & IK_SPAWN_KEEP_FDS))
		r = posix_spawn_file_actions_addclosefrom_np(
			&fa, deathfd >= 0 ? 4 : 3);
	/* The child starts clean: a caller that blocks signals for signalfd
	 * or ignores SIGPIPE must not pass that on to `yes | head`. */
	sigemptyset(&set);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&at, &set);
	sigfillset(&set);
	if (r == 0)
		r = posix_spawnattr_setsigdefault(&at, &set);
	if (r == 0)
		r = posix_spawnattr_setflags(
			&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (r == 0)
		r = posix_spawnp(pid, argv[0], &fa, &at, (char *const *)argv,
				 o->envp ? o->envp : environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

/* Start one process with io already validated; *out written on success. */
static int
spawn_one(struct ik_proc *out, const char *const argv[],
	  const struct ik_stdio io[3], const struct ik_spawn_opts *o, int cwdfd)
{
	struct ik_proc p;
	int cfd[3] = { -1, -1, -1 }, pfd[3] = { -1, -1, -1 };
	int dfd = -1, r, st;

	proc_init(&p);
	if ((r = find_program(argv[0], cwdfd)) < 0)
		return r;
	for (int i = 0; i < 3; i++) {
		r = stream_setup(&io[i], i, o->flags, &cfd[i], &pfd[i]);
		if (r < 0)
			goto fail;
	}
	if (!ik__have_pidfd() && (r = death_pipe(&p.pidfd, &dfd)) < 0)
		goto fail;
	r = run(&p.pid, argv, cfd, io[2].mode == IK_STDIO_TO_STDOUT, o, cwdfd,
		dfd);
	ik__close(dfd); /* now the child's alone */
	if (r < 0)
		goto fail;
	/* Not reaped yet, so the pid cannot have been recycled. */
	if (p.pidfd < 0 && (p.pidfd = ik__pidfd_open(p.pid)) < 0) {
		r = p.pidfd;
		kill(p.pid, SIGKILL);
		while (waitpid(p.pid, &st, 0) < 0 && errno == EINTR)
			;
		goto fail;
	}
	for (int i = 0; i < 3; i++)
		ik__close(cfd[i]);
	p.in = pfd[0];
	p.out = pfd[1];
	p.err = pfd[2];
	*out = p;
	return 0;
fail:
	for (int i = 0; i < 3; i++) {
		ik__close(cfd[i]);
		ik__close(pfd[i]);
	}
	ik__close(p.pidfd);
	return r;
}

int
ik_spawn(struct ik_proc *p, const char *const argv[],
	 const struct ik_spawn_opts *opts)
{
	const struct ik_spawn_opts *o = opts ? opts : &no_opts;
	int cwdfd, r;

	if (p == NULL || check_argv(argv) < 0)
		return -EINVAL;
	if ((r = check_io(o->io)) < 0)
		return r;
	cwdfd = open_cwd(o->cwd);
	if (o->cwd != NULL && cwdfd < 0)
		return cwdfd;
	r = spawn_one(p, argv, o->io, o, cwdfd);
	ik__close(cwdfd);
	return r;
}

int
ik_spawn_shell(struct ik_proc *p, const char *cmdline,
	       const struct ik_spawn_opts *opts)
{
	const char *argv[] = { "/bin/sh", "-c", cmdline, NULL };

	if (cmdline == NULL)
		return -EINVAL;
	return ik_spawn(p, argv, opts);
}

/*
 * Without a pidfd nothing tells us when a child ends (SIGCHLD is the
 * caller's), and the death pipe may be held open by a grandchild: waitpid,
 * blocking when there is no deadline, else polled with a growing sleep.
 */
static int
wait_nopidfd(pid_t pid, int timeout_ms, const struct ik__deadline *d, int *st)
{
	struct ik__backoff b;
	pid_t r;

	ik__backoff_init(&b, 200 * 1000, 20 * 1000 * 1000);
	for (;;) {
		r = waitpid(pid, st, timeout_ms < 0 ? 0 : WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 0 && ik__backoff_sleep(&b, d) < 0)
			return -ETIMEDOUT;
	}
}

int
ik_spawn_wait(struct ik_proc *p, int timeout_ms)
{
	struct ik__deadline d;
	int r, st;

	if (p == NULL)
		return -EINVAL;
	if (p->pid <= 0)
		return -ECHILD;
	ik__deadline_init(&d, timeout_ms);
	if (!ik__have_pidfd()) {
		r = wait_nopidfd(p->pid, timeout_ms, &d, &st);
		if (r < 0)
			return r;
		goto reaped;
	}
	/* closed by ik_spawn_close before the wait: the child is not reaped,
	 * so its pid is still its own and a new pidfd is safe */
	if (p->pidfd < 0 && (p->pidfd = ik__pidfd_open(p->pid)) < 0)
		return p->pidfd;
	/* the pidfd turns readable when the child ends */
	r = ik__wait_fd(p->pidfd, POLLIN, &d);
	if (r < 0)
		return r;
	while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
reaped:
	p->status = st;
	p->pid = -1;
	ik__close(p->pidfd);
	p->pidfd = -1;
	return 0;
}

int
ik_spawn_kill(struct ik_proc *p, int sig)
{
	if (p == NULL)
		return -EINVAL;
	if (p->pid <= 0 || p->pidfd < 0)
		return -ESRCH;
	/* not reaped (pid > 0), so the pid is still the child's */
	if (!ik__have_pidfd())
		return kill(p->pid, sig) < 0 ? -errno : 0;
	return pidfd_send_signal(p->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

void
ik_spawn_close(struct ik_proc *p)
{
	if (p == NULL)
		return;
	ik__close(p->in);
	ik__close(p->out);
	ik__close(p->err);
	ik__close(p->pidfd);
	p->in = p->out = p->err = p->pidfd = -1;
}

int
ik_spawn_pipeline(struct ik_proc *procs, size_t n,
		  const char *const *const argvs[],
		  const struct ik_spawn_opts *opts)
{
	const struct ik_spawn_opts *o = opts ? opts : &no_opts;
	struct ik_stdio io[3];
	int(*pipes)[2] = NULL;
	int cwdfd = -1, first = 0, r;

	if (procs == NULL || argvs == NULL || n == 0 ||
	    o->io[1].mode == IK_STDIO_TO_STDOUT)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (check_argv(argvs[i]) < 0)
			return -EINVAL;
	if ((r = check_io(o->io)) < 0)
		return r;
	if (n > 1) {
		pipes = calloc(n - 1, sizeof(*pipes));
		if (pipes == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i + 1 < n; i++)
		pipes[i][0] = pipes[i][1] = -1;
	for (size_t i = 0; i + 1 < n; i++)
		if ((r = ik_pipe_open(pipes[i], 0)) < 0)
			goto fail;
	cwdfd = open_cwd(o->cwd);
	if (o->cwd != NULL && cwdfd < 0) {
		r = cwdfd;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		io[0] = i == 0 ? o->io[0]
			       : (struct ik_stdio){ IK_STDIO_FD,
						    pipes[i - 1][0] };
		io[1] = i == n - 1
				? o->io[1]
				: (struct ik_stdio){ IK_STDIO_FD, pipes[i][1] };
		io[2] = o->io[2];
		r = spawn_one(&procs[i], argvs[i], io, o, cwdfd);
		if (r < 0) {
			proc_init(&procs[i]);
			procs[i].error = r;
			if (first == 0)
				first = r;
		}
		/* Drop our copies at once: the neighbours' EOF and EPIPE
		 * depend on this stage's ends existing only in this stage. */
		if (i > 0)
			ik_pipe_close(pipes[i - 1]);
		if (i + 1 < n) {
			ik__close(pipes[i][1]);
			pipes[i][1] = -1;
		}
	}
	ik__close(cwdfd);
	free(pipes);
	return first;
fail:
	for (size_t i = 0; i + 1 < n; i++)
		ik_pipe_close(pipes[i]);
	free(pipes);
	return r;
}

int
ik_spawn_wait_all(struct ik_proc *procs, size_t n, int timeout_ms)
{
	struct ik__deadline d;
	int r, first = 0;

	if (procs == NULL && n > 0)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	for (size_t i = 0; i < n; i++) {
		if (procs[i].pid <= 0)
			continue;
		r = ik_spawn_wait(&procs[i], ik__deadline_left_ms(&d));
		/* keep reaping the others: some may be done already */
		if (r == -ETIMEDOUT)
			ik__deadline_init(&d, 0);
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}
