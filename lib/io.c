/*
 * Internal descriptor I/O: see lib/internal/io.h for the guarantees (deadline
 * kept across EINTR, partial transfers completed, EPIPE without SIGPIPE).
 */
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/io.h"

atomic_bool ik__sigpipe_ignored;

int
ik__wait_fd(int fd, short events, const struct ik__deadline *d)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	if (fd < 0)
		return -EBADF; /* poll would skip it and just time out */
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

	/* relaxed: the flag only goes from false to true, after the
	 * disposition changed; a stale false costs two calls, nothing more */
	if (atomic_load_explicit(&ik__sigpipe_ignored, memory_order_relaxed)) {
		g->blocked = false;
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
	g->caller_blocked = g->blocked && sigismember(&g->old, SIGPIPE);
	/*
	 * Not blocked before: none can be pending (it would have been
	 * delivered), so one found after a failed write is ours: two system
	 * calls per write, the common case. Blocked by the caller: a SIGPIPE
	 * may be pending already, and that one is the caller's to keep; ask.
	 */
	g->was_pending = false;
	if (g->caller_blocked && sigpending(&pending) == 0)
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
	/* consume the SIGPIPE our write raised, so that it can never kill
	 * the process later, when the caller unblocks it */
	if (got_epipe && !g->was_pending) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	if (!g->caller_blocked)
		pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

/*
 * How many bytes a write to pipe/FIFO fd can take now without blocking,
 * asked right after POLLOUT: capacity minus what is unread, and never less
 * than PIPE_BUF, because POLLOUT means a whole free buffer slot. The floor
 * also keeps a write of at most PIPE_BUF bytes in one piece, so the atomicity
 * POSIX promises for such writes survives a timeout. A concurrent writer may
 * still take the room first; then the write blocks until the reader makes
 * room, the one case where a timed write can overrun its deadline.
 */
static size_t
pipe_room(int fd)
{
	int cap = fcntl(fd, F_GETPIPE_SZ), unread = 0;

	if (cap <= 0 || ioctl(fd, FIONREAD, &unread) < 0 || unread < 0 ||
	    cap - unread < PIPE_BUF)
		return PIPE_BUF;
	return (size_t)(cap - unread);
}

ssize_t
ik__writev_full(int fd, const struct iovec *iov, int iovcnt, int flags,
		const struct ik__deadline *d, size_t *put)
{
	struct iovec v[8];
	unsigned char small[512];
	struct ik__sigpipe g;
	size_t done = 0, total = 0;
	bool epipe = false, sock = flags & IK__IO_SOCKET;
	int i, first = 0, r = 0;
	ssize_t n;

	if (iovcnt < 0 || iovcnt > 8)
		return -EINVAL;
	for (i = 0; i < iovcnt; i++) {
		v[i] = iov[i];
		total += iov[i].iov_len;
	}
	if (iovcnt > 1 && total <= sizeof(small)) {
		/* a small frame (header + payload) goes out as one buffer:
		 * send/write of one buffer measured ~200 ns cheaper than
		 * sendmsg/writev of two, more than the copy costs */
		size_t o = 0;

		for (i = 0; i < iovcnt; i++) {
			if (v[i].iov_len > 0)
				memcpy(small + o, v[i].iov_base, v[i].iov_len);
			o += v[i].iov_len;
		}
		v[0] = (struct iovec){ small, total };
		iovcnt = 1;
	}
	if (!sock)
		ik__sigpipe_block(&g);
	while (done < total) {
		if (sock && iovcnt - first == 1) {
			n = send(fd, v[first].iov_base, v[first].iov_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		} else if (sock) {
			/* never blocks: a full socket is EAGAIN, then poll */
			struct msghdr mh = { .msg_iov = v + first,
					     .msg_iovlen =
						     (size_t)(iovcnt - first) };

			n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else if (d->forever && iovcnt - first == 1) {
			n = write(fd, v[first].iov_base, v[first].iov_len);
		} else if (d->forever) {
			n = writev(fd, v + first, iovcnt - first);
		} else {
			/* a blocking pipe write of more than there is room
			 * for would sleep past the deadline: poll, then write
			 * only what fits */
			struct iovec w[8];
			size_t room, k = 0;

			r = ik__wait_fd(fd, POLLOUT, d);
			if (r < 0)
				goto out;
			room = pipe_room(fd);
			for (i = first; i < iovcnt && room > 0; i++, k++) {
				w[k] = v[i];
				if (w[k].iov_len > room)
					w[k].iov_len = room;
				room -= w[k].iov_len;
			}
			n = writev(fd, w, (int)k);
		}
		if (n >= 0) {
			done += (size_t)n;
			/* advance over what went out */
			while (n > 0 && first < iovcnt) {
				if ((size_t)n >= v[first].iov_len) {
					n -= (ssize_t)v[first].iov_len;
					v[first].iov_len = 0;
					first++;
				} else {
					v[first].iov_base =
						(char *)v[first].iov_base + n;
					v[first].iov_len -= (size_t)n;
					n = 0;
				}
			}
			while (first < iovcnt && v[first].iov_len == 0)
				first++;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (!d->forever && ik__deadline_expired(d)) {
				r = -ETIMEDOUT;
				goto out;
			}
			r = ik__wait_fd(fd, POLLOUT, d);
			if (r < 0)
				goto out;
			continue;
		}
		r = -errno;
		epipe = errno == EPIPE;
		goto out;
	}
out:
	if (!sock)
		ik__sigpipe_restore(&g, epipe);
	if (put)
		*put = done;
	return r < 0 ? r : (ssize_t)done;
}

ssize_t
ik__write_full(int fd, const void *buf, size_t len, int flags,
	       const struct ik__deadline *d, size_t *put)
{
	struct iovec v = { (void *)buf, len };

	return ik__writev_full(fd, &v, 1, flags, d, put);
}

int
ik__backoff_sleep(struct ik__backoff *b, const struct ik__deadline *d)
{
	int64_t left = ik__deadline_left_ns(d), ns, at;
	struct timespec ts;

	if (left == 0)
		return -ETIMEDOUT;
	ns = left < 0 || b->step_ns < left ? b->step_ns : left;
	at = ik__now_ns() + ns;
	ts.tv_sec = at / 1000000000;
	ts.tv_nsec = at % 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
	b->step_ns = b->step_ns * 2 > b->max_ns ? b->max_ns : b->step_ns * 2;
	return 0;
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
