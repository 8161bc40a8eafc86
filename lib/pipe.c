/*
 * Anonymous pipes (see include/ipckit/pipe.h): pipe2 with close-on-exec
 * always, capacity bounded by fs.pipe-max-size, full transfers and atomic
 * messages on top of the deadline-aware I/O of lib/internal/io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/pipe.h>

#include "internal/io.h"

_Static_assert(IK_PIPE_MSG_MAX == PIPE_BUF, "IK_PIPE_MSG_MAX is PIPE_BUF");

#define IK__PIPE_FLAGS (IK_PIPE_NONBLOCK | IK_PIPE_PACKET)

int
ik_pipe_open(int fds[2], int flags)
{
	int fd[2];
	int r;

	if (fds == NULL || (flags & ~IK__PIPE_FLAGS) != 0)
		return -EINVAL;
	if (pipe2(fd, O_CLOEXEC | ((flags & IK_PIPE_PACKET) ? O_DIRECT : 0)) <
	    0)
		return -errno;
	/* O_NONBLOCK belongs to each end's own open file description, so the
	 * two ends can differ; set here, before anyone else sees them. */
	if ((flags & IK_PIPE_NONBLOCK_RD) &&
	    (r = ik__set_nonblock(fd[0], true)) < 0)
		goto fail;
	if ((flags & IK_PIPE_NONBLOCK_WR) &&
	    (r = ik__set_nonblock(fd[1], true)) < 0)
		goto fail;
	fds[0] = fd[0];
	fds[1] = fd[1];
	return 0;
fail:
	ik__close(fd[0]);
	ik__close(fd[1]);
	return r;
}

void
ik_pipe_close(int fds[2])
{
	if (fds == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		ik__close(fds[i]);
		fds[i] = -1;
	}
}

int
ik_pipe_size(int fd)
{
	int r = fcntl(fd, F_GETPIPE_SZ);

	return r < 0 ? -errno : r;
}

ssize_t
ik_pipe_max_size(void)
{
	char buf[32];
	struct ik__deadline d;
	ssize_t n;
	char *end;
	long long v;
	int fd;

	fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ik__deadline_init(&d, -1);
	n = ik__read_full(fd, buf, sizeof(buf) - 1, &d, NULL);
	ik__close(fd);
	if (n < 0)
		return n;
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf || v <= 0 || v > SSIZE_MAX)
		return -EIO;
	return (ssize_t)v;
}

int
ik_pipe_set_size(int fd, size_t size)
{
	ssize_t max;
	int r;

	if (size == 0)
		return -EINVAL;
	max = ik_pipe_max_size();
	if (max < 0)
		return (int)max;
	if (size > (size_t)max || size > INT_MAX)
		return IK_EPIPE_MAX_SIZE;
	r = fcntl(fd, F_SETPIPE_SZ, (int)size);
	if (r >= 0)
		return r;
	r = -errno;
	/* the sysctl may have been lowered since we read it */
	if (r == -EPERM && ik_pipe_max_size() < (ssize_t)size)
		return IK_EPIPE_MAX_SIZE;
	return r;
}

/* A deadline ran out: "would block" when the caller asked not to block. */
static ssize_t
timed_out(int timeout_ms, size_t moved)
{
	return timeout_ms == 0 && moved == 0 ? -EAGAIN : -ETIMEDOUT;
}

ssize_t
ik_pipe_read(int fd, void *buf, size_t len, int timeout_ms, size_t *done)
{
	struct ik__deadline d;
	size_t got = 0;
	ssize_t r;

	if (buf == NULL && len > 0)
		return -EINVAL;
	if (fd < 0) /* poll(2) would skip it and report a timeout */
		return -EBADF;
	ik__deadline_init(&d, timeout_ms);
	r = ik__read_full(fd, buf, len, &d, &got);
	if (done)
		*done = got;
	if (r == -ETIMEDOUT)
		return timed_out(timeout_ms, got);
	return r;
}

ssize_t
ik_pipe_write(int fd, const void *buf, size_t len, int timeout_ms, size_t *done)
{
	struct ik__deadline d;
	size_t put = 0;
	ssize_t r;

	if (buf == NULL && len > 0)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	/* the io layer keeps the deadline on a blocking pipe too: it writes
	 * only what the pipe has room for after each poll */
	ik__deadline_init(&d, timeout_ms);
	r = ik__write_full(fd, buf, len, 0, &d, &put);
	if (done)
		*done = put;
	if (r == -ETIMEDOUT)
		return timed_out(timeout_ms, put);
	return r;
}

ssize_t
ik_pipe_send(int fd, const void *msg, size_t len, int timeout_ms)
{
	struct ik__deadline d;
	size_t put = 0;
	ssize_t r;

	if (msg == NULL || len == 0)
		return -EINVAL;
	if (len > IK_PIPE_MSG_MAX)
		return -EMSGSIZE;
	if (fd < 0)
		return -EBADF;
	ik__deadline_init(&d, timeout_ms);
	/* len <= PIPE_BUF: the kernel moves it in one piece or not at all,
	 * so the full-write loop makes exactly one successful write(2). */
	r = ik__write_full(fd, msg, len, 0, &d, &put);
	if (r == -ETIMEDOUT)
		return timed_out(timeout_ms, put);
	return r;
}

ssize_t
ik_pipe_recv(int fd, void *buf, size_t cap, int timeout_ms)
{
	struct ik__deadline d;
	ssize_t n;
	int r;

	/* The read end does not show O_DIRECT (the kernel keeps it on the
	 * write end only), so every caller must be ready for a full packet. */
	if (buf == NULL || cap < IK_PIPE_MSG_MAX)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		r = ik__wait_fd(fd, POLLIN, &d);
		if (r == -ETIMEDOUT)
			return timed_out(timeout_ms, 0);
		if (r < 0)
			return r;
		n = read(fd, buf, cap);
		if (n >= 0)
			return n;
		/* EAGAIN: another reader took the data first */
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		if (ik__deadline_expired(&d))
			return timed_out(timeout_ms, 0);
	}
}
