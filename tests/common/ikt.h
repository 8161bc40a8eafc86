/*
 * ikt: shared helpers for ipckit's tests. Every IPC test forks real
 * processes; children report failure through their exit status (cmocka's
 * asserts belong to the parent), names carry the pid, and waits are bounded
 * by a deadline on a condition (a pipe byte, a pidfd), never by sleeps.
 */
#ifndef IKT_H
#define IKT_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Generous bound for any wait in a test: the machine is shared and noisy. */
#define IKT_WAIT_MS 30000

/* "ikt-<pid>-<tag>-<n>": unique per process and call. */
void ikt_name(char *buf, size_t len, const char *tag);

/* A private temporary directory for this process, made on first use. */
const char *ikt_tmpdir(void);
/* "<tmpdir>/<ikt_name(tag)>" */
void ikt_path(char *buf, size_t len, const char *tag);
/* Remove the temporary directory and everything in it (call in teardown). */
void ikt_tmpdir_cleanup(void);
/* A cmocka teardown (of a test or a group): the children a failed test
 * left (ikt_fork) are killed and reaped, then the directory removed. */
int ikt_tmpdir_teardown(void **state);

/* In a forked child: on failure print where and exit 99. */
#define IKT_CHECK(cond)                                                    \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: child check failed: %s\n", \
				__FILE__, __LINE__, #cond);                \
			_exit(99);                                         \
		}                                                          \
	} while (0)

/*
 * Wait for pid with a deadline; on timeout kill it (SIGKILL), reap it and
 * return -1. Otherwise the wait status.
 */
int ikt_wait(pid_t pid, int timeout_ms);

/* Wait status st of child pid must be a normal exit with status 0. */
#define ikt_assert_status_ok(st, pid)                               \
	do {                                                        \
		assert_int_not_equal((st), -1);                     \
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)         \
			fail_msg("child %d: %s %d", (int)(pid),     \
				 WIFEXITED(st) ? "exit" : "signal", \
				 WIFEXITED(st) ? WEXITSTATUS(st)    \
					       : WTERMSIG(st));     \
	} while (0)

/* Parent side: the child must have exited with status 0. */
#define ikt_assert_child_ok(pid)                            \
	do {                                                \
		int ikt_st_ = ikt_wait((pid), IKT_WAIT_MS); \
		ikt_assert_status_ok(ikt_st_, (pid));       \
	} while (0)

/*
 * The exit status by which a child says the machine cannot run its part
 * (no IPC namespace, a read-only /proc/sys): the parent skips the test.
 */
#define IKT_SKIP_EXIT 77

/* ikt_assert_child_ok, but a child exiting IKT_SKIP_EXIT skips the test. */
#define ikt_assert_child_ok_or_skip(pid)                    \
	do {                                                \
		int ikt_st_ = ikt_wait((pid), IKT_WAIT_MS); \
		if (WIFEXITED(ikt_st_) &&                   \
		    WEXITSTATUS(ikt_st_) == IKT_SKIP_EXIT)  \
			skip();                             \
		ikt_assert_status_ok(ikt_st_, (pid));       \
	} while (0)

/*
 * Tracked children: forked with ikt_fork, reaped by ikt_reap_tracked (call
 * it in teardown) even when an assertion failed before the test reaped
 * them, so no child outlives its test. ikt_child_ok and ikt_child_killed
 * untrack before reaping: a reaped pid may be reused at once.
 */
pid_t ikt_fork(void);
void ikt_untrack(pid_t pid);
void ikt_reap_tracked(void);
#define ikt_child_ok(pid)                 \
	do {                              \
		ikt_untrack(pid);         \
		ikt_assert_child_ok(pid); \
	} while (0)
/* SIGKILL pid and check that is how it died. */
void ikt_child_killed(pid_t pid);

/*
 * A one-shot rendezvous between two processes: a pipe. ikt_post writes one
 * byte, ikt_await reads one (returns 0, or -1 on timeout/EOF).
 */
struct ikt_sync {
	int rd, wr;
};
void ikt_sync_init(struct ikt_sync *s);
void ikt_post(struct ikt_sync *s);
int ikt_await(struct ikt_sync *s, int timeout_ms);
void ikt_sync_close(struct ikt_sync *s);

/* Fill buf with a pattern derived from seed; check it back. */
void ikt_fill(void *buf, size_t len, uint32_t seed);
int ikt_check(const void *buf, size_t len, uint32_t seed);

/*
 * Poll /proc/<pid>/stat until the process is asleep (state S: blocked in a
 * call), at most IKT_WAIT_MS. 0, or -1 on timeout or if it is gone. How a
 * test knows a child has reached a blocking call before acting on it.
 */
int ikt_wait_sleeping(pid_t pid);

/*
 * The system call thread tid (a pid, or a thread's id: /proc/<tid> names
 * both) is blocked in, from /proc/<tid>/syscall: its number, -1 when it is
 * running, -2 when it is gone.
 */
long ikt_syscall_of(pid_t tid);

/*
 * Wait, at most IKT_WAIT_MS, until tid is blocked in system call a or b
 * (-1 for none). 0, or -1 on timeout. How a test acts exactly while a peer
 * waits (to deliver EINTR, to arrive during a poll) without sleeping.
 */
int ikt_await_syscall(pid_t tid, long a, long b);

/*
 * Write "<v>\n" to a /proc/sys file in one write (a sysctl, in a child's
 * own IPC namespace). 0, or -1.
 */
int ikt_write_sysctl(const char *path, long v);

/*
 * A private runtime directory for this test (made under ikt_tmpdir, mode
 * 0700, its path in dir) exported as IPCKIT_RUNTIME_DIR, so that
 * registrations never meet other tests'. 0, or -1. For cmocka setups.
 */
int ikt_runtime_setup(char *dir, size_t len);

/*
 * A storm of SIGALRM every period_ms, without SA_RESTART, so that every
 * blocking call of this process sees EINTR: how a test checks that a
 * deadline is kept across interruptions. ikt_alarms counts the signals
 * (from 0 at the start). 0, or -1. ikt_storm_stop ends it and puts the
 * old SIGALRM action back.
 */
struct ikt_storm {
	timer_t t;
	struct sigaction old;
};
extern volatile sig_atomic_t ikt_alarms;
int ikt_storm_start(struct ikt_storm *s, int period_ms);
void ikt_storm_stop(struct ikt_storm *s);

/* Count of open descriptors of this process (for leak checks). */
int ikt_fd_count(void);

/* Run a shell command line (tests only), return its wait status. */
int ikt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
