/*
 * Anonymous pipes: a one-way byte stream between related processes, with
 * buffering in the kernel (64 KiB by default, settable up to
 * fs.pipe-max-size). Writes of at most PIPE_BUF (4096) bytes are atomic: they
 * never interleave with other writers' data. In packet mode (O_DIRECT) every
 * write of at most PIPE_BUF bytes is also read back as one message.
 */
#ifndef IPCKIT_PIPE_H
#define IPCKIT_PIPE_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for ik_pipe_open. Both ends are always close-on-exec. */
#define IK_PIPE_NONBLOCK_RD 0x1 /* read end O_NONBLOCK */
#define IK_PIPE_NONBLOCK_WR 0x2 /* write end O_NONBLOCK */
#define IK_PIPE_NONBLOCK (IK_PIPE_NONBLOCK_RD | IK_PIPE_NONBLOCK_WR)
#define IK_PIPE_PACKET 0x4 /* O_DIRECT: each write is read as one packet */

/* Largest message of ik_pipe_send: the kernel's atomic write size. */
#define IK_PIPE_MSG_MAX 4096

/*
 * Create a pipe: fds[0] the read end, fds[1] the write end, both
 * close-on-exec. Returns 0, -EINVAL for unknown flags (or a kernel without
 * packet mode), -EMFILE/-ENFILE, or another negative errno. fds is written
 * only on success.
 */
int ik_pipe_open(int fds[2], int flags);

/* Close both ends (those >= 0) and set them to -1. */
void ik_pipe_close(int fds[2]);

/* The pipe's capacity in bytes (F_GETPIPE_SZ), or -EBADF if fd is no pipe. */
int ik_pipe_size(int fd);

/*
 * Set the capacity (F_SETPIPE_SZ). The kernel rounds size up to a power of
 * two pages; the capacity actually set is returned. Errors: -EINVAL for 0,
 * IK_EPIPE_MAX_SIZE above /proc/sys/fs/pipe-max-size (for root too: the
 * kernel would let CAP_SYS_RESOURCE go beyond it, but a program that works
 * only as root is a trap, so ipckit holds everyone to the same ceiling;
 * raise the sysctl instead), -EBUSY if the pipe holds more data than the new
 * size, -EPERM when the user's pipe-user-pages limit is reached, -EBADF.
 */
int ik_pipe_set_size(int fd, size_t size);

/* fs.pipe-max-size in bytes, or a negative errno if it cannot be read. */
ssize_t ik_pipe_max_size(void);

/*
 * Read exactly len bytes, waiting up to timeout_ms (-1 forever, 0 not at
 * all). Returns len, or fewer when the writers closed first (a short read:
 * 0 means end of file before any byte). Errors: -ETIMEDOUT (-EAGAIN when
 * timeout_ms is 0 and nothing was read), -EBADF; never -EINTR (after a
 * signal the wait goes on for the time that remains). When done is not NULL it
 * receives the bytes transferred, also on error, since they are gone from the
 * pipe.
 */
ssize_t ik_pipe_read(int fd, void *buf, size_t len, int timeout_ms,
		     size_t *done);

/*
 * Write all len bytes, waiting up to timeout_ms. Returns len, -EPIPE when no
 * reader is left, -ETIMEDOUT (-EAGAIN for timeout_ms 0 and nothing
 * written), or another negative errno; done as for ik_pipe_read.
 *
 * SIGPIPE: the write never raises it. The calling thread blocks SIGPIPE for
 * the duration of the call and consumes the one its own write caused, so the
 * process survives even with SIGPIPE at SIG_DFL, without ipckit changing the
 * process-wide disposition (which belongs to the program).
 *
 * On a blocking descriptor with a finite timeout the data goes in pieces of
 * PIPE_BUF after each readiness check, so that no single write(2) can block
 * past the deadline; use IK_PIPE_NONBLOCK_WR for large timed writes.
 */
ssize_t ik_pipe_write(int fd, const void *buf, size_t len, int timeout_ms,
		      size_t *done);

/*
 * Message mode: write msg (1..IK_PIPE_MSG_MAX bytes) with one write(2), so
 * that it arrives whole and never interleaved with other writers' messages;
 * on a packet-mode pipe it is read back by one ik_pipe_recv. Returns len,
 * -EMSGSIZE above IK_PIPE_MSG_MAX, -EINVAL for an empty message, -EPIPE,
 * -ETIMEDOUT / -EAGAIN (timeout_ms 0) when the pipe stays full.
 */
ssize_t ik_pipe_send(int fd, const void *msg, size_t len, int timeout_ms);

/*
 * One read(2) after waiting up to timeout_ms for data. On a packet-mode pipe
 * this returns exactly one message; on a stream pipe whatever is there (up to
 * cap). Returns the byte count, 0 at end of file, -ETIMEDOUT / -EAGAIN
 * (timeout_ms 0), -EBADF. cap must be at least IK_PIPE_MSG_MAX (-EINVAL
 * otherwise): the kernel silently drops the part of a packet that does not
 * fit, and a read end cannot tell whether its writers use packet mode.
 */
ssize_t ik_pipe_recv(int fd, void *buf, size_t cap, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
