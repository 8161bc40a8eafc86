/*
 * Event loop on epoll: descriptor readiness, monotonic timers (timerfd),
 * signals (signalfd), child exits (pidfd, or SIGCHLD + waitpid on kernels
 * without it) and deferred callbacks. One loop per thread, no global state;
 * only ik_loop_stop may be called from another thread or a signal handler.
 * Any watcher may be removed from inside any callback, its own included:
 * memory is freed after the batch, and events of removed watchers skipped.
 */
#ifndef IPCKIT_LOOP_H
#define IPCKIT_LOOP_H

#include <stdint.h>
#include <sys/types.h>

#include <ipckit/sig.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ik_loop ik_loop;
typedef struct ik_watch ik_watch;

/* Descriptor events (ik_loop_fd_add, ik_loop_event.events). */
#define IK_LOOP_READ 0x1
#define IK_LOOP_WRITE 0x2
#define IK_LOOP_EDGE 0x4 /* in requests only: edge-triggered (EPOLLET) */
#define IK_LOOP_HUP 0x8	 /* reported: peer closed (EPOLLHUP/EPOLLRDHUP) */
#define IK_LOOP_ERR 0x10 /* reported: error condition (EPOLLERR) */

/* What happened, for the callback; only the fields of its kind are set. */
struct ik_loop_event {
	int fd;		      /* fd watcher: the descriptor */
	unsigned events;      /* fd watcher: IK_LOOP_READ|WRITE|HUP|ERR */
	uint64_t expirations; /* timer: expirations since last callback */
	struct ik_siginfo si; /* signal watcher: what arrived */
	pid_t pid;	      /* child watcher: the child */
	int status;	      /* child watcher: wait status (WIFEXITED...) */
};

typedef void (*ik_loop_cb)(ik_loop *loop, ik_watch *w,
			   const struct ik_loop_event *ev, void *arg);

/*
 * Create a loop (epoll and eventfd descriptors, close-on-exec). Flags:
 * IK_LOOP_NO_PIDFD watches children with SIGCHLD + waitpid even where
 * pidfd_open works (the fallback otherwise chosen on -ENOSYS; mainly for
 * testing it). Returns 0 and *out, or a negative errno.
 */
#define IK_LOOP_NO_PIDFD 0x1
int ik_loop_new(ik_loop **out, unsigned flags);

/*
 * Free the loop, its watchers and every descriptor it created (not the
 * descriptors given to ik_loop_fd_add). -EBUSY if called from one of its
 * callbacks; 0 otherwise (NULL is allowed).
 */
int ik_loop_free(ik_loop *loop);

/*
 * Run until ik_loop_stop or until no watcher is left. Returns 1 when
 * stopped, 0 when nothing was left to watch, or a negative errno.
 */
int ik_loop_run(ik_loop *loop);

/*
 * One iteration: run deferred callbacks queued before it, wait up to
 * timeout_ms for events (not at all if deferred callbacks are queued), call
 * their callbacks. EINTR is retried for the remaining time. Returns the
 * number of callbacks called (0 on timeout) or a negative errno.
 */
int ik_loop_run_once(ik_loop *loop, int timeout_ms);

/*
 * Make ik_loop_run return 1 after the current iteration. Async-signal-safe
 * and thread-safe (it writes to an eventfd and keeps errno). A stop
 * requested while the loop is not running ends its next run: none is lost.
 */
void ik_loop_stop(ik_loop *loop);

/*
 * Watch fd for IK_LOOP_READ and/or IK_LOOP_WRITE. Level-triggered by
 * default: the callback runs every iteration while the condition holds, so
 * reading part of the data is fine. With IK_LOOP_EDGE it runs once per
 * change: the callback must read or write until EAGAIN (fd non-blocking) or
 * it will not hear of that data again. HUP and ERR are always reported.
 * One watcher per fd per loop (-EEXIST); regular files give -EPERM. Remove
 * the watcher before closing fd. Returns 0 and *out (may be NULL), or a
 * negative errno.
 */
int ik_loop_fd_add(ik_loop *loop, int fd, unsigned events, ik_loop_cb cb,
		   void *arg, ik_watch **out);
/* Change the events of an fd watcher. 0, -EINVAL, or a negative errno. */
int ik_loop_fd_set(ik_watch *w, unsigned events);

/*
 * Timer on CLOCK_MONOTONIC: first after after_ms, then every interval_ms
 * (0 = one-shot). It never fires early. A one-shot timer is removed
 * automatically after its callback. ev->expirations counts periods missed
 * if the loop was late. Returns 0 and *out (may be NULL), or negative errno.
 */
int ik_loop_timer_add(ik_loop *loop, uint64_t after_ms, uint64_t interval_ms,
		      ik_loop_cb cb, void *arg, ik_watch **out);
/* Re-arm a live timer watcher. 0, -EINVAL, or a negative errno. */
int ik_loop_timer_set(ik_watch *w, uint64_t after_ms, uint64_t interval_ms);

/*
 * Call cb for each arrival of sig, with the full siginfo. The loop reads
 * signals through a signalfd: this call blocks sig in the calling thread
 * (the loop's), and it stays blocked after the watcher is removed (a pending
 * instance would otherwise take its default action). Other threads must
 * block it too, or receive it themselves. Several watchers of one signal
 * are all called. Returns 0, -EINVAL (bad or uncatchable signal), or errno.
 */
int ik_loop_signal_add(ik_loop *loop, int sig, ik_loop_cb cb, void *arg,
		       ik_watch **out);

/*
 * Call cb once when child pid exits, with its wait status; the loop reaps
 * it (waitpid). Removed automatically after the callback. The status is -1
 * if someone else reaped the child first. -ECHILD if pid is not an unreaped
 * child of this process. With the SIGCHLD fallback, SIGCHLD
 * is blocked in the calling thread, and it must not be ignored (SIG_IGN
 * makes the kernel reap children itself).
 */
int ik_loop_child_add(ik_loop *loop, pid_t pid, ik_loop_cb cb, void *arg,
		      ik_watch **out);

/*
 * Call cb at the start of the next iteration, in the order queued (a
 * callback queued from a deferred callback waits for the iteration after).
 * Removed automatically after it ran; until then ik_loop_remove cancels it.
 */
int ik_loop_defer(ik_loop *loop, ik_loop_cb cb, void *arg, ik_watch **out);

/*
 * Remove any watcher, from anywhere in the loop's thread, including inside
 * its own callback or another's (its events still queued in the current
 * batch are skipped). The handle is invalid afterwards; so is the handle of
 * a one-shot watcher once its callback has returned. Returns 0, or -EINVAL
 * for NULL.
 */
int ik_loop_remove(ik_watch *w);

/* Number of live watchers (what keeps ik_loop_run going). */
int ik_loop_count(const ik_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
