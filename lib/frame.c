/*
 * Message framing over byte streams (FIFOs, stream sockets): each message is
 * a 4-byte big-endian length followed by that many bytes. The receiver
 * checks the length against its own maximum before it uses it, so a hostile
 * or broken peer cannot make it allocate or overrun anything; a frame cut by
 * a timeout is resumed by the next call, never dropped or misread. Frames
 * are read through a buffer (one read() for a small frame, where reading
 * the length first took two); see lib/internal/transport.h for how
 * readiness stays exact when frames wait in that buffer.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "internal/io.h"
#include "internal/transport.h"

void
ik__frame_init(struct ik__framer *f, int fd, int io_flags, size_t maxmsg)
{
	memset(f, 0, sizeof(*f));
	f->evfd = f->epfd = -1;
	f->fd = fd;
	f->io_flags = io_flags;
	f->maxmsg = maxmsg;
}

void
ik__frame_fini(struct ik__framer *f)
{
	free(f->rbuf);
	free(f->body);
	free(f->out);
	ik__close(f->evfd);
	ik__close(f->epfd);
	f->rbuf = f->body = f->out = NULL;
	f->evfd = f->epfd = -1;
	f->roff = f->rlen = f->body_got = f->out_len = f->out_off = 0;
	f->in_body = false;
}

int
ik__frame_flush(struct ik__framer *f, int timeout_ms)
{
	struct ik__deadline d;
	size_t put = 0;
	ssize_t n;

	if (f->out == NULL)
		return 0;
	ik__deadline_init(&d, timeout_ms);
	n = ik__write_full(f->fd, f->out + f->out_off, f->out_len - f->out_off,
			   f->io_flags, &d, &put);
	f->out_off += put;
	if (n < 0)
		return (int)n;
	free(f->out);
	f->out = NULL;
	f->out_len = f->out_off = 0;
	return 0;
}

/*
 * Write iov (a frame, or raw bytes) after any remainder of an earlier call.
 * Once the first byte is out the rest must follow, or the stream is
 * corrupt: if a timeout cuts it short, the unwritten rest is kept and goes
 * out first next time, and the call counts as done. Returns 0 (all of it
 * written or kept), or the error with nothing of this call written.
 */
static int
send_iov(struct ik__framer *f, const struct iovec *iov, int n, int timeout_ms)
{
	struct ik__deadline d;
	size_t put = 0, total = 0, o = 0;
	ssize_t w;
	int r;

	r = ik__frame_flush(f, timeout_ms);
	if (r < 0)
		return r;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	ik__deadline_init(&d, timeout_ms);
	w = ik__writev_full(f->fd, iov, n, f->io_flags, &d, &put);
	if (w >= 0)
		return 0;
	if (put == 0)
		return (int)w; /* not started: the caller may retry */
	if (w != -ETIMEDOUT && w != -EAGAIN)
		return (int)w; /* the stream is dead anyway */
	f->out = malloc(total - put);
	if (f->out == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) { /* copy what is left, piece by piece */
		const unsigned char *b = iov[i].iov_base;
		size_t len = iov[i].iov_len, skip = put > len ? len : put;

		put -= skip;
		memcpy(f->out + o, b + skip, len - skip);
		o += len - skip;
	}
	f->out_len = o;
	f->out_off = 0;
	return 0;
}

ssize_t
ik__frame_send(struct ik__framer *f, const void *buf, size_t len,
	       int timeout_ms)
{
	unsigned char hdr[4];
	struct iovec iov[2];
	int r;

	if (len > f->maxmsg || len > UINT32_MAX)
		return -EMSGSIZE;
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	iov[0] = (struct iovec){ hdr, 4 };
	iov[1] = (struct iovec){ (void *)buf, len };
	r = send_iov(f, iov, 2, timeout_ms);
	return r < 0 ? r : (ssize_t)len;
}

ssize_t
ik__frame_send_raw(struct ik__framer *f, const void *buf, size_t len,
		   int timeout_ms)
{
	struct iovec iov = { (void *)buf, len };
	int r = send_iov(f, &iov, 1, timeout_ms);

	return r < 0 ? r : (ssize_t)len;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A complete frame (or a header already known to be bad) is buffered. */
static bool
frame_buffered(const struct ik__framer *f)
{
	size_t avail = f->rlen - f->roff;
	uint32_t len;

	if (f->in_body || avail < 4)
		return false;
	len = be32(f->rbuf + f->roff);
	return len > f->maxmsg || 4 + (size_t)len <= avail;
}

/* Keep the eventfd readable exactly while frame_buffered() holds. */
static void
update_ready(struct ik__framer *f)
{
	bool want = frame_buffered(f);
	uint64_t v = 1;

	if (f->evfd < 0 || want == f->ev_on)
		return;
	if (want) {
		if (write(f->evfd, &v, sizeof(v)) == sizeof(v))
			f->ev_on = true;
	} else if (read(f->evfd, &v, sizeof(v)) == sizeof(v) ||
		   errno == EAGAIN) {
		f->ev_on = false;
	}
}

int
ik__frame_ready_fd(struct ik__framer *f)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int r;

	if (f->epfd >= 0)
		return f->epfd;
	f->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (f->evfd < 0 || f->epfd < 0)
		goto fail;
	ev.data.fd = f->fd;
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0)
		goto fail;
	ev.data.fd = f->evfd;
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->evfd, &ev) < 0)
		goto fail;
	f->ev_on = false;
	update_ready(f);
	return f->epfd;
fail:
	r = -errno;
	ik__close(f->evfd);
	ik__close(f->epfd);
	f->evfd = f->epfd = -1;
	return r;
}

size_t
ik__frame_held(const struct ik__framer *f)
{
	return (f->rlen - f->roff) + (f->in_body ? f->body_got : 0);
}

/* One read of whatever is there (up to len), waiting until the deadline. */
static ssize_t
read_some(struct ik__framer *f, void *p, size_t len,
	  const struct ik__deadline *d)
{
	bool sock = f->io_flags & IK__IO_SOCKET;
	ssize_t n;
	int r;

	for (;;) {
		if (!sock && !d->forever) {
			r = ik__wait_fd(f->fd, POLLIN, d);
			if (r < 0)
				return r;
		}
		/* no deadline: one blocking call, as a plain read would be
		 * (trying first and polling after costs three in a
		 * ping-pong, where the data is never there yet) */
		if (sock)
			n = recv(f->fd, p, len, d->forever ? 0 : MSG_DONTWAIT);
		else
			n = read(f->fd, p, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (!d->forever && ik__deadline_expired(d))
			return -ETIMEDOUT;
		r = ik__wait_fd(f->fd, POLLIN, d);
		if (r < 0)
			return r;
	}
}

/* A frame too big for the buffer: its body straight into buf. */
static ssize_t
recv_body(struct ik__framer *f, unsigned char *buf, size_t cap,
	  const struct ik__deadline *d)
{
	size_t k, got = 0;
	ssize_t n;

	if (f->body_len > cap)
		return -EMSGSIZE; /* kept: a bigger buffer gets it */
	if (f->body_got > 0)
		memcpy(buf, f->body, f->body_got);
	k = f->rlen - f->roff;
	if (k > f->body_len - f->body_got)
		k = f->body_len - f->body_got;
	memcpy(buf + f->body_got, f->rbuf + f->roff, k);
	f->roff += k;
	f->body_got += k;
	n = ik__read_full(f->fd, buf + f->body_got, f->body_len - f->body_got,
			  d, &got);
	f->body_got += got;
	if (n >= 0 && f->body_got < f->body_len)
		return -EBADMSG; /* end of stream inside a frame */
	if (n < 0) {
		/* keep what arrived: the caller's buffer may change */
		if (f->body == NULL && (f->body = malloc(f->body_len)) == NULL)
			return -ENOMEM;
		memcpy(f->body, buf, f->body_got);
		return n;
	}
	free(f->body);
	f->body = NULL;
	f->in_body = false;
	return (ssize_t)f->body_len;
}

static ssize_t
recv_frame(struct ik__framer *f, unsigned char *buf, size_t cap,
	   const struct ik__deadline *d)
{
	size_t avail;
	uint32_t len;
	ssize_t n;

	if (f->in_body)
		return recv_body(f, buf, cap, d);
	if (f->rbuf == NULL && (f->rbuf = malloc(IK__FRAME_RBUF)) == NULL)
		return -ENOMEM;
	for (;;) {
		avail = f->rlen - f->roff;
		if (avail >= 4) {
			len = be32(f->rbuf + f->roff);
			if (len > f->maxmsg)
				return -EBADMSG;
			if (len > cap)
				return -EMSGSIZE; /* kept */
			if (4 + (size_t)len <= avail) {
				memcpy(buf, f->rbuf + f->roff + 4, len);
				f->roff += 4 + (size_t)len;
				return (ssize_t)len;
			}
			if (4 + (size_t)len > IK__FRAME_RBUF) {
				f->roff += 4;
				f->in_body = true;
				f->body_len = len;
				f->body_got = 0;
				return recv_body(f, buf, cap, d);
			}
		}
		/* more bytes needed: make room at the end, then read */
		if (f->roff > 0) {
			memmove(f->rbuf, f->rbuf + f->roff, avail);
			f->roff = 0;
			f->rlen = avail;
		}
		n = read_some(f, f->rbuf + f->rlen, IK__FRAME_RBUF - f->rlen,
			      d);
		if (n < 0)
			return n;
		if (n == 0) /* end of stream: clean between frames, else cut */
			return f->rlen == 0 ? -EPIPE : -EBADMSG;
		f->rlen += (size_t)n;
	}
}

ssize_t
ik__frame_recv(struct ik__framer *f, void *buf, size_t cap, int timeout_ms)
{
	struct ik__deadline d;
	ssize_t n;

	ik__deadline_init(&d, timeout_ms);
	n = recv_frame(f, buf, cap, &d);
	update_ready(f);
	return n;
}
