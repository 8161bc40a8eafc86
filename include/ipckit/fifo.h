/*
 * FIFOs (named pipes): a byte stream between unrelated processes through a
 * name in the file system. The kernel keeps each write of at most PIPE_BUF
 * bytes whole (never interleaved with other writers); larger writes may be
 * split and interleaved. Byte order is kept, message boundaries are not.
 * ipckit creates them 0600, never follows a symlink, checks the opened object
 * (a FIFO owned by the caller), and bounds the open's wait for the peer.
 */
#ifndef IPCKIT_FIFO_H
#define IPCKIT_FIFO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest message ik_fifo_send writes atomically in message mode. */
#define IK_FIFO_MSG_MAX PIPE_BUF

/* Flags for ik_fifo_open. Exactly one of READ and WRITE. */
#define IK_FIFO_READ 0x01u   /* the read end */
#define IK_FIFO_WRITE 0x02u  /* the write end */
#define IK_FIFO_CREATE 0x04u /* create it (0600) if missing */
#define IK_FIFO_EXCL 0x08u   /* with CREATE: -EEXIST if the path exists */
#define IK_FIFO_SERVER 0x10u /* with READ: keep a write end, never see EOF */
#define IK_FIFO_STREAM 0x20u /* with WRITE: byte stream, any length */
/*
 * With READ (not SERVER): return at once, without waiting for a writer.
 * Reads then wait for data; end of file (0) comes only after a writer has
 * come and gone, never before the first one arrives (Linux FIFO poll
 * semantics), which is what a `cat < fifo` style reader needs.
 */
#define IK_FIFO_NOWAIT 0x40u

typedef struct ik_fifo ik_fifo;

/*
 * Create a FIFO at path with mode 0600 (less if the umask says so). A path
 * without '/' is a name in the private runtime directory (ik_runtime_path).
 * Returns 1 if it was created, 0 if a FIFO owned by the caller was already
 * there (nothing is changed then), or: IK_ENOTFIFO (something else is
 * there), -EISDIR (a directory), -ELOOP (a symlink, never followed, even to
 * a FIFO), IK_EOWNER (another user's FIFO), -EINVAL, -ENAMETOOLONG, or the
 * errno of mkfifo/lstat. Never blocks. Whoever gets 1 should unlink it.
 */
int ik_fifo_make(const char *path);

/*
 * Open one end of the FIFO at path (a bare name is resolved in the runtime
 * directory). The path is opened with O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK and
 * the opened descriptor is checked with fstat (a FIFO, owned by the caller),
 * so a swap after the path checks is caught. Errors of ik_fifo_make apply,
 * plus -ENOENT (missing, no IK_FIFO_CREATE), -EEXIST (IK_FIFO_EXCL),
 * -ESTALE (the path was replaced by another FIFO of ours while opening),
 * -EINVAL (bad flags: exactly one of READ/WRITE; SERVER only with READ,
 * STREAM only with WRITE, EXCL only with CREATE), -ENOMEM.
 *
 * The rendezvous, bounded by timeout_ms (-1 forever, 0 one try):
 * - WRITE waits until some process has the FIFO open for reading. The
 *   kernel offers no wake-up for this, so the open is retried on ENXIO with
 *   a back-off from 1 ms doubling to 50 ms: a waiting writer wakes at most
 *   ~20 times a second and may start up to 50 ms after the reader came.
 * - READ waits until a writer has written data or come and gone (poll on
 *   the non-blocking descriptor): a writer that opened but has not written
 *   yet is not seen.
 * - READ|SERVER does not wait: it also opens a write end of its own (as
 *   TLPI's fifo_seqnum_server does), so writers can come and go without the
 *   reader ever seeing end of file.
 * Expiry gives -ETIMEDOUT; signals (EINTR) do not shorten or extend it.
 * With IK_FIFO_CREATE the handle remembers whether this call created the
 * FIFO; if so ik_fifo_close removes it, and a failed open removes it too.
 * On success *out is the new handle and 0 is returned.
 */
int ik_fifo_open(ik_fifo **out, const char *path, unsigned flags,
		 int timeout_ms);

/*
 * Close the handle (NULL is fine). If it created the FIFO and the path
 * still names that same FIFO, the path is unlinked. Returns 0, or the
 * negative errno of that unlink (the handle is freed in any case).
 */
int ik_fifo_close(ik_fifo *f);

/*
 * Write a message. Message mode (default): len <= IK_FIFO_MSG_MAX or
 * -EMSGSIZE; the message is written whole and never interleaved with other
 * writers' messages, or not at all. IK_FIFO_STREAM: any length, written in
 * full with partial writes completed (pieces may interleave with other
 * writers'). Returns len, -EPIPE if no reader is left (the process gets no
 * SIGPIPE), -ETIMEDOUT if the pipe stayed full until the deadline (in stream
 * mode a short count instead when part was written), -EBADF on a read
 * handle, or another negative errno.
 */
ssize_t ik_fifo_send(ik_fifo *f, const void *buf, size_t len, int timeout_ms);

/*
 * Read what is there, at most len bytes, waiting up to timeout_ms for the
 * first byte. Returns the count (>= 1), 0 at end of file (every writer has
 * closed; never for a SERVER handle), -ETIMEDOUT, -EBADF on a write handle,
 * or another negative errno. len 0 returns 0 at once.
 */
ssize_t ik_fifo_recv(ik_fifo *f, void *buf, size_t len, int timeout_ms);

/*
 * Read exactly len bytes (one fixed-size record) within timeout_ms. Returns
 * len; a shorter count if end of file or the deadline came after part of it
 * arrived (the next call then says 0 or -ETIMEDOUT); -ETIMEDOUT if nothing
 * came; or the errors of ik_fifo_recv.
 */
ssize_t ik_fifo_recv_full(ik_fifo *f, void *buf, size_t len, int timeout_ms);

/*
 * The descriptor (non-blocking, close-on-exec; owned by the handle), for
 * poll/epoll: POLLIN on a read handle, POLLOUT on a write handle.
 */
int ik_fifo_fd(const ik_fifo *f);

/* The resolved path the handle was opened with. */
const char *ik_fifo_path(const ik_fifo *f);

/* Whether this handle created the FIFO (and so will remove it on close). */
bool ik_fifo_created(const ik_fifo *f);

#ifdef __cplusplus
}
#endif
#endif
