/*
 * Signals: handlers installed only through sigaction (SA_RESTART chosen
 * explicitly, the previous action handed back for restoring), thread masks
 * (pthread_sigmask), sending with a queued payload, names <-> numbers, and
 * the two safe ways to receive: a signalfd returning the full siginfo (the
 * normal path: block the set in every thread, read the fd), or a self-pipe
 * whose handler only writes a byte. Nothing here changes a disposition or a
 * mask unless the call says it does.
 */
#ifndef IPCKIT_SIG_H
#define IPCKIT_SIG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Handler flags. Exactly one of IK_SIG_RESTART (slow system calls
 * interrupted by the handler are restarted: SA_RESTART) and
 * IK_SIG_NORESTART (they fail with EINTR) must be given: the choice decides
 * how the rest of the program behaves, so ipckit does not make it silently.
 */
#define IK_SIG_RESTART 0x1
#define IK_SIG_NORESTART 0x2
#define IK_SIG_NODEFER 0x4   /* SA_NODEFER: the handler may nest */
#define IK_SIG_RESETHAND 0x8 /* SA_RESETHAND: one-shot handler */
#define IK_SIG_BLOCKALL 0x10 /* block every other signal while it runs */

typedef void (*ik_sig_fn)(int sig);
typedef void (*ik_sig_info_fn)(int sig, siginfo_t *si, void *uctx);

/*
 * Install fn for sig with sigaction. ik_sig_handle gives a plain handler;
 * ik_sig_handle_info sets SA_SIGINFO and fn receives the siginfo (sender,
 * code, payload). The previous action is stored in *old (may be NULL) for
 * ik_sig_restore. Returns 0, or -EINVAL (bad or uncatchable signal, NULL fn,
 * not exactly one of RESTART/NORESTART, unknown flag). Process-wide.
 */
int ik_sig_handle(int sig, ik_sig_fn fn, int flags, struct sigaction *old);
int ik_sig_handle_info(int sig, ik_sig_info_fn fn, int flags,
		       struct sigaction *old);

/* Set sig to SIG_IGN or SIG_DFL, saving the previous action. 0 or -EINVAL. */
int ik_sig_ignore(int sig, struct sigaction *old);
int ik_sig_default(int sig, struct sigaction *old);

/* Put back an action saved by one of the calls above. 0 or -EINVAL. */
int ik_sig_restore(int sig, const struct sigaction *old);

/*
 * Opt in, once, for the whole process: set SIGPIPE to SIG_IGN and let
 * ipckit rely on it. Writes to a pipe or FIFO whose reader is gone then
 * fail with -EPIPE by themselves, and the library stops guarding each write
 * (two system calls per write: blocking SIGPIPE around it, consuming the
 * one raised). Call it early, as an application that ignores SIGPIPE
 * anyway would; never set SIGPIPE back to SIG_DFL afterwards (a handler is
 * harmless): a write to a closed pipe would kill the process. Inherited
 * across fork; exec keeps SIG_IGN (ik_spawn resets it for its children).
 * Returns 0, or a negative errno (nothing changed). Idempotent.
 */
int ik_sig_ignore_sigpipe(void);

/*
 * *set = { the signals given, ended by 0 }. Returns 0, or -EINVAL if one is
 * not a signal number (set untouched).
 */
int ik_sig_makeset(sigset_t *set, ...);

/*
 * The calling thread's mask (pthread_sigmask): block or unblock the signals
 * of set, or replace the mask. The previous mask goes to *old (may be
 * NULL). Returns 0 or a negative errno. SIGKILL and SIGSTOP are silently
 * kept unblocked by the kernel.
 */
int ik_sig_block(const sigset_t *set, sigset_t *old);
int ik_sig_unblock(const sigset_t *set, sigset_t *old);
int ik_sig_setmask(const sigset_t *set, sigset_t *old);

/* Signals pending for this thread or the process. 0 or -EINVAL. */
int ik_sig_pending(sigset_t *out);
/* 1 if sig is pending, 0 if not, -EINVAL for a bad signal number. */
int ik_sig_is_pending(int sig);

/*
 * Replace the thread's mask with *mask and sleep until a handler has run
 * (sigsuspend), then put the old mask back. Always returns -EINTR, as the
 * call only ends that way; -EFAULT for a NULL mask.
 */
int ik_sig_suspend(const sigset_t *mask);

/* What a signal carried: from a signalfd, sigwaitinfo or a handler. */
struct ik_siginfo {
	int signo;
	int code;      /* si_code: SI_USER (kill), SI_QUEUE, CLD_EXITED, ... */
	pid_t pid;     /* sender (or child, for SIGCHLD) */
	uid_t uid;     /* sender's real uid */
	int status;    /* SIGCHLD: exit status or signal */
	int value_int; /* sigqueue payload as an int */
	void *value_ptr; /* the same payload as a pointer */
};

/* Fill *out from a handler's siginfo_t (async-signal-safe). */
void ik_siginfo_from(struct ik_siginfo *out, const siginfo_t *si);

/*
 * Wait (sigtimedwait) for one of the signals of set, which must be blocked,
 * and consume it. Returns the signal number (*out filled if not NULL),
 * -ETIMEDOUT, -EINVAL. Handlers running meanwhile do not shorten or
 * stretch the wait: EINTR is retried for the remaining time.
 */
int ik_sig_wait(const sigset_t *set, int timeout_ms, struct ik_siginfo *out);

/*
 * Send sig (0 only checks that the target exists) to a process, a process
 * group, or the calling thread. Returns 0, -ESRCH, -EPERM, -EINVAL.
 */
int ik_sig_kill(pid_t pid, int sig);
int ik_sig_killpg(pid_t pgrp, int sig);
int ik_sig_raise(int sig);

/*
 * sigqueue(3): send sig with a payload the receiver finds in si_value
 * (struct ik_siginfo value_int / value_ptr). Real-time signals queue, in
 * order, up to the receiver's RLIMIT_SIGPENDING: beyond it the call fails
 * with IK_ERLIMIT_SIGPENDING (retry once the receiver has read some).
 * Standard signals do not queue: one pending instance only. Returns 0,
 * IK_ERLIMIT_SIGPENDING, -ESRCH, -EPERM, -EINVAL. Never blocks.
 */
int ik_sig_queue_int(pid_t pid, int sig, int value);
int ik_sig_queue_ptr(pid_t pid, int sig, void *value);

/*
 * Names <-> numbers. ik_sig_from_name accepts "TERM", "SIGTERM", "15",
 * "RTMIN", "RTMIN+3", "SIGRTMAX-1" in any case and returns the number, or
 * -EINVAL for anything else (unknown name, reserved or out-of-range number,
 * RT offset out of range, trailing junk). ik_sig_name writes the short name
 * ("TERM", "RTMIN+3", as kill -l prints them) and returns its length,
 * -EINVAL for a bad number or -ENAMETOOLONG if len is too small (16 bytes
 * always suffice).
 */
int ik_sig_from_name(const char *name);
int ik_sig_name(int sig, char *buf, size_t len);

/*
 * signalfd: a descriptor (O_CLOEXEC, plus O_NONBLOCK if IK_SIGFD_NONBLOCK)
 * that becomes readable when a signal of set is pending. The signals must
 * be blocked, in this thread and in every other, or they will be delivered
 * the ordinary way instead; with IK_SIGFD_BLOCK the call blocks them in the
 * calling thread (block them before creating other threads: new threads
 * inherit the mask). Without it, a signal of set that is not blocked in the
 * calling thread gives -EINVAL. Returns the descriptor or a negative errno.
 */
#define IK_SIGFD_NONBLOCK 0x1
#define IK_SIGFD_BLOCK 0x2
int ik_sig_fd_open(const sigset_t *set, int flags);

/*
 * Read up to n signals from a signalfd into out[]. Waits up to timeout_ms
 * for the first (-1 forever, 0 not at all) and returns how many were read
 * (>= 1), -ETIMEDOUT, or a negative errno.
 */
int ik_sig_fd_read(int fd, struct ik_siginfo *out, int n, int timeout_ms);

/*
 * Self-pipe, for code that needs a handler: installs, for each signal of
 * set, a handler that only writes the signal number as one byte to a
 * non-blocking, close-on-exec pipe and restores errno. *rfd receives the
 * read end (poll it, or use ik_sig_pipe_read). flags are the handler flags
 * above (RESTART or NORESTART required). One self-pipe per process: -EBUSY
 * if one is open. If the pipe is full a byte is dropped (the reader is then
 * awake anyway); standard signals coalesce in the kernel regardless.
 * Returns 0, -EBUSY, -EINVAL, or a negative errno (nothing left installed).
 */
int ik_sig_pipe_open(const sigset_t *set, int flags, int *rfd);

/* Next signal number from the self-pipe; -ETIMEDOUT, -EBADF if not open. */
int ik_sig_pipe_read(int timeout_ms);

/* Restore the previous actions, then close the pipe. 0 or -EBADF. */
int ik_sig_pipe_close(void);

#ifdef __cplusplus
}
#endif
#endif
