/*
 * Message framing over byte streams (FIFOs, stream sockets): each message is
 * a 4-byte big-endian length followed by that many bytes. The receiver
 * checks the length against its own maximum before reading a byte of the
 * body, so a hostile or broken peer cannot make it allocate or overrun
 * anything; a frame cut by a timeout is resumed by the next call, never
 * dropped or misread.
 */
#include <errno.h>
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
	f->fd = fd;
	f->io_flags = io_flags;
	f->maxmsg = maxmsg;
}

void
ik__frame_fini(struct ik__framer *f)
{
	free(f->body);
	free(f->out);
	f->body = f->out = NULL;
	f->body_got = f->out_len = f->out_off = 0;
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

ssize_t
ik__frame_send(struct ik__framer *f, const void *buf, size_t len,
	       int timeout_ms)
{
	struct ik__deadline d;
	unsigned char hdr[4];
	struct iovec iov[2];
	size_t put = 0, total = len + 4;
	ssize_t n;
	int r;

	if (len > f->maxmsg || len > UINT32_MAX)
		return -EMSGSIZE;
	r = ik__frame_flush(f, timeout_ms);
	if (r < 0)
		return r; /* nothing of this message was written */
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	iov[0] = (struct iovec){ hdr, 4 };
	iov[1] = (struct iovec){ (void *)buf, len };
	ik__deadline_init(&d, timeout_ms);
	n = ik__writev_full(f->fd, iov, 2, f->io_flags, &d, &put);
	if (n >= 0)
		return (ssize_t)len;
	if (put == 0)
		return n; /* not started: the caller may retry */
	if (n != -ETIMEDOUT && n != -EAGAIN)
		return n; /* the stream is dead anyway */
	/* started but cut short: keep the rest, it goes out first next time */
	f->out = malloc(total - put);
	if (f->out == NULL)
		return -ENOMEM;
	if (put < 4) {
		memcpy(f->out, hdr + put, 4 - put);
		memcpy(f->out + 4 - put, buf, len);
	} else {
		memcpy(f->out, (const unsigned char *)buf + (put - 4),
		       total - put);
	}
	f->out_len = total - put;
	f->out_off = 0;
	return (ssize_t)len;
}

ssize_t
ik__frame_recv(struct ik__framer *f, void *buf, size_t cap, int timeout_ms)
{
	struct ik__deadline d;
	uint32_t len;
	size_t got = 0;
	ssize_t n;

	ik__deadline_init(&d, timeout_ms);
	if (f->hdr_got < 4) {
		n = ik__read_full(f->fd, f->hdr + f->hdr_got, 4 - f->hdr_got,
				  &d, &got);
		f->hdr_got += got;
		if (n < 0)
			return n;
		if (f->hdr_got < 4)
			/* end of stream: clean between frames, else cut */
			return f->hdr_got == 0 ? -EPIPE : -EBADMSG;
	}
	len = (uint32_t)f->hdr[0] << 24 | (uint32_t)f->hdr[1] << 16 |
	      (uint32_t)f->hdr[2] << 8 | f->hdr[3];
	if (len > f->maxmsg)
		return -EBADMSG;
	if (len > cap)
		return -EMSGSIZE; /* kept: a bigger buffer gets it */
	if (f->body_got > 0)
		memcpy(buf, f->body, f->body_got);
	got = 0;
	n = ik__read_full(f->fd, (unsigned char *)buf + f->body_got,
			  len - f->body_got, &d, &got);
	if (n < 0 || (size_t)n < len - f->body_got) {
		if (n >= 0)
			return -EBADMSG; /* end of stream inside a frame */
		if (got > 0 || f->body_got > 0) {
			unsigned char *b = realloc(f->body, len ? len : 1);

			if (b == NULL)
				return -ENOMEM;
			memcpy(b, buf, f->body_got + got);
			f->body = b;
			f->body_got += got;
		}
		return n;
	}
	free(f->body);
	f->body = NULL;
	f->body_got = 0;
	f->hdr_got = 0;
	return (ssize_t)len;
}
