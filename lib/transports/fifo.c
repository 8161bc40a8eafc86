/*
 * fifo: named pipes as channels, one way: the listener creates the FIFO and
 * reads, diallers write. `fifo:/path?maxmsg=N&raw=1`.
 *
 * Framed (the default): each message is a 4-byte length and its bytes,
 * written with one writev. maxmsg defaults to PIPE_BUF - 4 so every frame is
 * one atomic pipe write and any number of writers can share the FIFO
 * without interleaving; a larger maxmsg is safe with a single writer only.
 * The listener keeps a write end of its own (ik_fifo SERVER mode), so it
 * outlives writers coming and going and never sees end of file.
 *
 * Raw (?raw=1): bytes as they come, as `cat` and shell redirections see
 * them; recv returns what one read gives and 0 once every writer has left.
 *
 * A FIFO left at the path by a dead listener (no reader) is replaced; one
 * with a live reader is -EADDRINUSE. A request/reply pair is two FIFOs.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/fifo.h>

#include "../internal/io.h"
#include "../internal/transport.h"

#define FRAME_HDR 4

struct fifo {
	ik_fifo *f;
	bool raw;
	struct ik__framer fr;
};

static const char *const fifo_options[] = { "maxmsg", "raw", NULL };

/* Either end's state, as the address's options make it; NULL and *rp set
 * to the error otherwise. */
static struct fifo *
fifo_new(struct ik_chan *c, int *rp, char *err, size_t errlen)
{
	uint64_t maxmsg = PIPE_BUF - FRAME_HDR;
	struct fifo *p;
	int raw = 0, r;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		*rp = -ENOMEM;
		return NULL;
	}
	if ((r = ik_addr_opt_bool(&c->addr, "raw", &raw, err, errlen)) < 0 ||
	    (r = ik_addr_opt_size(&c->addr, "maxmsg", &maxmsg, err, errlen)) <
		    0)
		goto fail;
	if (maxmsg > UINT32_MAX) {
		r = ik__chan_bad(err, errlen, "fifo: maxmsg above 4 GiB - 1");
		goto fail;
	}
	p->raw = raw;
	c->maxmsg = raw ? SIZE_MAX : (size_t)maxmsg;
	c->caps = IK_CHAN_STREAM | (raw ? IK_CHAN_RAW : 0);
	return p;
fail:
	free(p);
	*rp = r;
	return NULL;
}

/* Either end, once its FIFO is open: frame the descriptor, give p to c. */
static int
adopt(struct ik_chan *c, struct fifo *p, int cap)
{
	c->caps |= cap;
	ik__frame_init(&p->fr, ik_fifo_fd(p->f), 0, c->maxmsg);
	c->priv = p;
	return 0;
}

/* Is a reader on the FIFO at path right now? (a writer's open says so) */
static bool
has_reader(const char *path)
{
	ik_fifo *w;

	if (ik_fifo_open(&w, path, IK_FIFO_WRITE, 0) < 0)
		return false;
	ik_fifo_close(w);
	return true;
}

static int
fifo_listen(struct ik_chan *c, char *err, size_t errlen)
{
	const char *path = c->addr.rest;
	unsigned fl = IK_FIFO_READ | IK_FIFO_CREATE | IK_FIFO_EXCL;
	struct fifo *p;
	int r;

	if ((p = fifo_new(c, &r, err, errlen)) == NULL)
		return r;
	fl |= p->raw ? IK_FIFO_NOWAIT : IK_FIFO_SERVER;
	r = ik_fifo_open(&p->f, path, fl, 0);
	if (r == -EEXIST && ik_fifo_make(path) == 0) {
		/* our own FIFO is there: a live listener's, or a dead one's */
		if (has_reader(path)) {
			r = -EADDRINUSE;
			goto fail;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			goto fail;
		}
		r = ik_fifo_open(&p->f, path, fl, 0);
	}
	if (r < 0)
		goto fail;
	/* framed: the listener is the FIFO's only reader, so a read after
	 * POLLIN never blocks, and a blocking read lets a receive with no
	 * deadline be one read(), as a plain FIFO reader's (non-blocking it
	 * took read, EAGAIN, poll, read) */
	if (!p->raw && (r = ik__set_nonblock(ik_fifo_fd(p->f), false)) < 0) {
		ik_fifo_close(p->f);
		goto fail;
	}
	return adopt(c, p, IK_CHAN_RECV);
fail:
	free(p);
	return r;
}

static int
fifo_dial(struct ik_chan *c, int timeout_ms, char *err, size_t errlen)
{
	struct fifo *p;
	int r;

	if ((p = fifo_new(c, &r, err, errlen)) == NULL)
		return r;
	r = ik_fifo_open(&p->f, c->addr.rest, IK_FIFO_WRITE | IK_FIFO_STREAM,
			 timeout_ms);
	if (r < 0) {
		free(p);
		return r;
	}
	return adopt(c, p, IK_CHAN_SEND);
}

static ssize_t
fifo_send(struct ik_chan *c, const void *buf, size_t len,
	  const struct ik_chan_meta *meta, int timeout_ms)
{
	struct fifo *p = c->priv;

	(void)meta;
	if (p->raw)
		return ik__frame_send_raw(&p->fr, buf, len, timeout_ms);
	return ik__frame_send(&p->fr, buf, len, timeout_ms);
}

static ssize_t
fifo_recv(struct ik_chan *c, void *buf, size_t cap, struct ik_chan_meta *meta,
	  int timeout_ms)
{
	struct fifo *p = c->priv;

	(void)meta;
	if (p->raw) /* a NOWAIT reader: end of file only after a writer */
		return ik_fifo_recv(p->f, buf, cap, timeout_ms);
	return ik__frame_recv(&p->fr, buf, cap, timeout_ms);
}

static int
fifo_fd(const struct ik_chan *c)
{
	struct fifo *p = c->priv;

	/* a framed reader may hold frames in its buffer: see ik__framer */
	if (!p->raw && (c->caps & IK_CHAN_RECV))
		return ik__frame_ready_fd(&p->fr);
	return ik_fifo_fd(p->f);
}

static int
fifo_close(struct ik_chan *c)
{
	struct fifo *p = c->priv;
	int r = 0, r2;

	if (c->caps & IK_CHAN_SEND)
		r = ik__frame_flush(&p->fr, 1000);
	ik__frame_fini(&p->fr);
	r2 = ik_fifo_close(p->f);
	if (r == 0)
		r = r2;
	free(p);
	return r;
}

const struct ik__transport ik__transport_fifo = {
	.scheme = IK_SCHEME_FIFO,
	.options = fifo_options,
	.listen = fifo_listen,
	.dial = fifo_dial,
	.send = fifo_send,
	.recv = fifo_recv,
	.fd = fifo_fd,
	.close = fifo_close,
};
