/*
 * Descriptor I/O shared by the modules: waits that honour a deadline across
 * EINTR, reads and writes completed across partial transfers, and writes that
 * report -EPIPE instead of letting SIGPIPE kill the process.
 *
 * SIGPIPE on pipes and FIFOs (where MSG_NOSIGNAL does not exist): the writing
 * thread blocks SIGPIPE around the write; if the write failed with EPIPE, the
 * SIGPIPE it raised is consumed with sigtimedwait before the old mask is
 * restored (unless one was pending before: that one is the caller's). Only the
 * calling thread's mask is touched, and only for the duration of the call,
 * so the process's disposition stays the caller's business. An application
 * that opted in with ik_sig_ignore_sigpipe (SIGPIPE is SIG_IGN for good) is
 * spared those two system calls per write.
 */
#ifndef IK_INTERNAL_IO_H
#define IK_INTERNAL_IO_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "time.h"

/* Flags for ik__write_full. */
#define IK__IO_SOCKET 0x1 /* fd is a socket: use send(MSG_NOSIGNAL) */

/*
 * Wait until fd is ready for events (POLLIN/POLLOUT) or the deadline passes.
 * Returns 0 when ready (including POLLHUP/POLLERR: the next call will tell),
 * -ETIMEDOUT, or another negative errno.
 */
int ik__wait_fd(int fd, short events, const struct ik__deadline *d);

/*
 * Read exactly len bytes unless end of file comes first. Returns the number
 * read (< len only at EOF), -ETIMEDOUT if the deadline passed first (bytes
 * already read are then reported through *got when got is not NULL), or a
 * negative errno. Works on blocking and non-blocking descriptors.
 */
ssize_t ik__read_full(int fd, void *buf, size_t len,
		      const struct ik__deadline *d, size_t *got);

/*
 * Write all len bytes. Returns len, -EPIPE when the reader is gone (no
 * signal), -ETIMEDOUT (bytes already written reported through *put), or a
 * negative errno. Sockets (IK__IO_SOCKET) are written with MSG_DONTWAIT
 * and polled on EAGAIN, so a deadline holds even on a blocking socket. On
 * a blocking pipe or FIFO a timed write polls and then writes only what the
 * pipe has room for; only another writer taking that room in between can
 * make such a write overrun its deadline.
 */
ssize_t ik__write_full(int fd, const void *buf, size_t len, int flags,
		       const struct ik__deadline *d, size_t *put);

/*
 * Gather-write all iov bytes (the array is not modified). Same returns as
 * ik__write_full, with the total written through *put.
 */
ssize_t ik__writev_full(int fd, const struct iovec *iov, int iovcnt, int flags,
			const struct ik__deadline *d, size_t *put);

/*
 * Set by ik_sig_ignore_sigpipe once SIGPIPE is SIG_IGN for good: writes then
 * go straight out, as the kernel turns a SIGPIPE into nothing but EPIPE.
 */
extern atomic_bool ik__sigpipe_ignored;

/* Scoped SIGPIPE suppression for one thread; see the comment above. */
struct ik__sigpipe {
	sigset_t old;
	bool blocked;	     /* our block took effect */
	bool caller_blocked; /* the caller had SIGPIPE blocked already */
	bool was_pending;    /* ... and one was pending: the caller's */
};
void ik__sigpipe_block(struct ik__sigpipe *g);
void ik__sigpipe_restore(struct ik__sigpipe *g, bool got_epipe);

/* close(2) that keeps errno and ignores EINTR (Linux closes the fd anyway). */
void ik__close(int fd);

/* Set or clear O_NONBLOCK. */
int ik__set_nonblock(int fd, bool on);

#endif
