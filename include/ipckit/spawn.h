/*
 * Starting programs with their standard streams wired to pipes, files or
 * /dev/null, and pipelines of them (the shell's `ls -l | wc -l`), on
 * posix_spawnp: no shell unless asked for, a program that cannot be started
 * is an error returned to the caller (never a child that exits 127), the
 * child gets only its three streams, and each child is tracked by a pidfd so
 * waits take a timeout and signals never reach a recycled pid.
 */
#ifndef IPCKIT_SPAWN_H
#define IPCKIT_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one standard stream of the child is connected to. */
enum ik_stdio_mode {
	IK_STDIO_INHERIT = 0, /* the caller's own stream of the same number */
	IK_STDIO_PIPE,	      /* a new pipe; the caller's end in ik_proc */
	IK_STDIO_NULL,	      /* /dev/null */
	IK_STDIO_FD,	      /* a descriptor of the caller (ik_stdio.fd) */
	IK_STDIO_TO_STDOUT, /* stderr only: wherever the child's stdout goes */
};

struct ik_stdio {
	enum ik_stdio_mode mode;
	int fd; /* for IK_STDIO_FD */
};

/* Flags of ik_spawn_opts. */
#define IK_SPAWN_KEEP_FDS 0x1 /* do not close descriptors >= 3 in the child */
#define IK_SPAWN_NONBLOCK 0x2 /* the caller's pipe ends are O_NONBLOCK */

/* All fields zero (or a NULL opts pointer): inherit everything. */
struct ik_spawn_opts {
	struct ik_stdio io[3]; /* stdin, stdout, stderr */
	char *const *envp;     /* environment; NULL: the caller's environ */
	const char *cwd;       /* working directory; NULL: the caller's */
	int flags;	       /* IK_SPAWN_* */
};

/* A started child. Members are -1 when unused. */
struct ik_proc {
	pid_t pid;  /* -1 once reaped, or for a stage that did not start */
	int pidfd;  /* the child's pidfd (close-on-exec) */
	int in;	    /* write end to the child's stdin (IK_STDIO_PIPE) */
	int out;    /* read end of its stdout (IK_STDIO_PIPE) */
	int err;    /* read end of its stderr (IK_STDIO_PIPE) */
	int status; /* wait status (WIFEXITED...) once reaped, else -1 */
	int error;  /* pipeline stages: 0, or why this stage did not start */
};

/*
 * Start argv[0] (searched in the caller's PATH when it has no '/') with
 * arguments argv (NULL-terminated) and the streams, environment and working
 * directory of opts. Descriptors other than 0-2 are closed in the child
 * unless IK_SPAWN_KEEP_FDS; signal dispositions are reset to default and the
 * signal mask emptied, so the child starts as if from a clean shell.
 * Returns 0 and fills *p, or: -ENOENT / -EACCES / -ENOEXEC ... (the errno of
 * the failed exec: the program could not be started), -ENOENT / -ENOTDIR /
 * -EACCES for opts->cwd (checked before anything starts), -EINVAL (empty
 * argv, unknown mode, IK_STDIO_TO_STDOUT on stdin or stdout), -EBADF (an
 * IK_STDIO_FD that is not open), -EMFILE. On failure nothing is left behind.
 * Not for processes with SIGCHLD ignored (the kernel would reap the child).
 */
int ik_spawn(struct ik_proc *p, const char *const argv[],
	     const struct ik_spawn_opts *opts);

/*
 * The explicit shell: start /bin/sh -c cmdline. Only here does a shell
 * parse anything; quoting cmdline is the caller's business. Returns as
 * ik_spawn.
 */
int ik_spawn_shell(struct ik_proc *p, const char *cmdline,
		   const struct ik_spawn_opts *opts);

/*
 * Wait up to timeout_ms (-1 forever, 0 poll) for the child to end, then
 * reap it: p->status holds the wait status, p->pid becomes -1 and the pidfd
 * is closed. Returns 0, -ETIMEDOUT (the child still runs; wait again or
 * kill it), -ECHILD if already reaped, or another negative errno. The pipe
 * ends stay open: close them with ik_spawn_close. Waiting for a child whose
 * stdout pipe nobody reads can wait forever: read first, or use a timeout.
 */
int ik_spawn_wait(struct ik_proc *p, int timeout_ms);

/*
 * Send sig to the child through its pidfd (never to a recycled pid).
 * Returns 0, -ESRCH once reaped, -EINVAL for a bad signal.
 */
int ik_spawn_kill(struct ik_proc *p, int sig);

/*
 * Close the caller's pipe ends and the pidfd. Does not wait: a child not
 * reaped stays a zombie until ik_spawn_wait (which still works after this
 * call) or the caller's own waitpid reaps it.
 */
void ik_spawn_close(struct ik_proc *p);

/*
 * Start a pipeline of n commands, stage i's stdout feeding stage i+1's
 * stdin. opts->io[0] is the first stage's stdin, opts->io[1] the last
 * stage's stdout (IK_STDIO_PIPE gives procs[0].in / procs[n-1].out), and
 * opts->io[2] every stage's stderr; envp, cwd and flags apply to every
 * stage. Every pipe end is closed in the caller and in each child except
 * the two a stage uses, so EOF and EPIPE always arrive.
 *
 * procs[i] is filled for every stage, also when some did not start:
 * procs[i].error tells why (and procs[i].pid is -1); the other stages run
 * on, see end of file or EPIPE where the missing stage would have been, and
 * must be reaped with ik_spawn_wait_all. Returns 0 when every stage started,
 * the error of the first stage that did not, or (with nothing started and
 * procs untouched) -EINVAL / -EMFILE / the errors of ik_spawn for opts.
 */
int ik_spawn_pipeline(struct ik_proc *procs, size_t n,
		      const char *const *const argvs[],
		      const struct ik_spawn_opts *opts);

/*
 * Wait for every started stage of procs within one deadline. Returns 0 when
 * all are reaped (status in each), -ETIMEDOUT if some still run (those that
 * ended are reaped), or another negative errno.
 */
int ik_spawn_wait_all(struct ik_proc *procs, size_t n, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
