/*
 * Internal descriptor I/O: see lib/internal/io.h for the guarantees (deadline
 * kept across EINTR, partial transfers completed, EPIPE without SIGPIPE).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal/io.h"

int
ik__wait_fd(int fd, short events, const struct ik__deadline *d)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&p, 1, ik__deadline_left_ms(d));
		if (r > 0) {
			if (p.revents & POLLNVAL)
				return -EBADF;
			return 0;
		}
		if (r == 0) {
			/* poll rounds to ms; do not report early */
			if (ik__deadline_expired(d))
				return -ETIMEDOUT;
			continue;
		}
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t
ik__read_full(int fd, void *buf, size_t len, const struct ik__deadline *d,
	      size_t *got)
{
	char *p = buf;
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		if (!d->forever) {
			r = ik__wait_fd(fd, POLLIN, d);
			if (r < 0)
				goto fail;
		}
		n = read(fd, p + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (d->forever) {
				r = ik__wait_fd(fd, POLLIN, d);
				if (r < 0)
					goto fail;
			} else if (ik__deadline_expired(d)) {
				r = -ETIMEDOUT;
				goto fail;
			}
			continue;
		}
		r = -errno;
		goto fail;
	}
	if (got)
		*got = done;
	return (ssize_t)done;
fail:
	if (got)
		*got = done;
	return r;
}

void
ik__sigpipe_block(struct ik__sigpipe *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
	g->was_pending = false;
	if (g->blocked && sigpending(&pending) == 0)
		g->was_pending = sigismember(&pending, SIGPIPE);
}

void
ik__sigpipe_restore(struct ik__sigpipe *g, bool got_epipe)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set;
	int saved = errno;

	if (!g->blocked)
		return;
	if (got_epipe && !g->was_pending) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

ssize_t
ik__write_full(int fd, const void *buf, size_t len, int flags,
	       const struct ik__deadline *d, size_t *put)
{
	const char *p = buf;
	struct ik__sigpipe g;
	size_t done = 0;
	bool epipe = false;
	ssize_t n;
	int r = 0;

	if (!(flags & IK__IO_SOCKET))
		ik__sigpipe_block(&g);
	while (done < len) {
		if (!d->forever) {
			r = ik__wait_fd(fd, POLLOUT, d);
			if (r < 0)
				goto out;
		}
		if (flags & IK__IO_SOCKET)
			n = send(fd, p + done, len - done, MSG_NOSIGNAL);
		else
			n = write(fd, p + done, len - done);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (d->forever) {
				r = ik__wait_fd(fd, POLLOUT, d);
				if (r < 0)
					goto out;
			} else if (ik__deadline_expired(d)) {
				r = -ETIMEDOUT;
				goto out;
			}
			continue;
		}
		r = -errno;
		epipe = errno == EPIPE;
		goto out;
	}
out:
	if (!(flags & IK__IO_SOCKET))
		ik__sigpipe_restore(&g, epipe);
	if (put)
		*put = done;
	return r < 0 ? r : (ssize_t)done;
}

void
ik__close(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

int
ik__set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) < 0)
		return -errno;
	return 0;
}
