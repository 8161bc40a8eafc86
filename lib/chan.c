/*
 * The channel layer: parse the address, find the transport registered for
 * its scheme, check its options, dispatch. No per-scheme code lives here
 * (see lib/internal/transport.h for the contract).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/chan.h>
#include <ipckit/error.h>

#include "internal/transport.h"

#define IK__TRANSPORT(name) \
	extern const struct ik__transport ik__transport_##name;
#include "transports/list.h"
#undef IK__TRANSPORT

static const struct ik__transport *const transports[] = {
#define IK__TRANSPORT(name) &ik__transport_##name,
#include "transports/list.h"
#undef IK__TRANSPORT
	NULL,
};

int
ik__chan_bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return IK_EBADADDR;
}

static const struct ik__transport *
find(enum ik_scheme s)
{
	for (size_t i = 0; transports[i] != NULL; i++)
		if (transports[i]->scheme == s)
			return transports[i];
	return NULL;
}

/* Parse, look up and check options; on success *out is a fresh handle. */
static int
prepare(struct ik_chan **out, const char *text, char *err, size_t errlen)
{
	const struct ik__transport *t;
	struct ik_chan *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	r = ik_addr_parse(text, &c->addr, err, errlen);
	if (r < 0)
		goto fail;
	t = find(c->addr.scheme);
	if (t == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
				 "%s: no transport for scheme '%s' in this "
				 "build",
				 text, ik_scheme_name(c->addr.scheme));
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	r = ik_addr_check_opts(&c->addr, t->options, err, errlen);
	if (r < 0)
		goto fail;
	c->t = t;
	*out = c;
	return 0;
fail:
	free(c);
	return r;
}

/* listen and dial: a fresh handle, the transport's end in it, handed out. */
static int
open_end(struct ik_chan **out, const char *addr, bool listen, int timeout_ms,
	 char *err, size_t errlen)
{
	struct ik_chan *c = NULL;
	int r;

	if (out == NULL || addr == NULL)
		return -EINVAL;
	r = prepare(&c, addr, err, errlen);
	if (r < 0)
		return r;
	r = listen ? c->t->listen(c, err, errlen)
		   : c->t->dial(c, timeout_ms, err, errlen);
	if (r < 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

int
ik_chan_listen(struct ik_chan **out, const char *addr, char *err, size_t errlen)
{
	return open_end(out, addr, true, -1, err, errlen);
}

int
ik_chan_dial(struct ik_chan **out, const char *addr, int timeout_ms, char *err,
	     size_t errlen)
{
	return open_end(out, addr, false, timeout_ms, err, errlen);
}

static int
eff_timeout(const struct ik_chan *c, int timeout_ms)
{
	return c->nonblock ? 0 : timeout_ms;
}

/*
 * Lower layers (deadline waits, FIFO reads) report an expired zero timeout
 * as -ETIMEDOUT; the channel contract says -EAGAIN for "would block", so
 * an event loop can tell "try later" from "waited and gave up".
 */
static ssize_t
would_block(ssize_t r, int timeout_ms)
{
	return timeout_ms == 0 && r == -ETIMEDOUT ? -EAGAIN : r;
}

int
ik_chan_accept(struct ik_chan *l, struct ik_chan **out, int timeout_ms)
{
	struct ik_chan *c;
	int r;

	if (l == NULL || out == NULL)
		return -EINVAL;
	if (l->t->accept == NULL || !(l->caps & IK_CHAN_ACCEPT))
		return -EOPNOTSUPP;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->t = l->t;
	c->addr = l->addr;
	timeout_ms = eff_timeout(l, timeout_ms);
	r = (int)would_block(l->t->accept(l, c, timeout_ms), timeout_ms);
	if (r < 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

ssize_t
ik_chan_sendm(struct ik_chan *c, const void *buf, size_t len,
	      const struct ik_chan_meta *meta, int timeout_ms)
{
	if (c == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	if (!(c->caps & IK_CHAN_SEND))
		return -EOPNOTSUPP;
	if (c->broken)
		return -EBADMSG;
	if (len > c->maxmsg)
		return -EMSGSIZE;
	timeout_ms = eff_timeout(c, timeout_ms);
	return would_block(c->t->send(c, buf, len, meta, timeout_ms),
			   timeout_ms);
}

ssize_t
ik_chan_recvm(struct ik_chan *c, void *buf, size_t cap,
	      struct ik_chan_meta *meta, int timeout_ms)
{
	ssize_t n;

	if (c == NULL || (buf == NULL && cap > 0))
		return -EINVAL;
	if (!(c->caps & IK_CHAN_RECV))
		return -EOPNOTSUPP;
	if (c->broken)
		return -EBADMSG;
	timeout_ms = eff_timeout(c, timeout_ms);
	n = would_block(c->t->recv(c, buf, cap, meta, timeout_ms), timeout_ms);
	if (n == -EBADMSG)
		c->broken = true;
	return n;
}

ssize_t
ik_chan_send(struct ik_chan *c, const void *buf, size_t len, int timeout_ms)
{
	return ik_chan_sendm(c, buf, len, NULL, timeout_ms);
}

ssize_t
ik_chan_recv(struct ik_chan *c, void *buf, size_t cap, int timeout_ms)
{
	return ik_chan_recvm(c, buf, cap, NULL, timeout_ms);
}

int
ik_chan_caps(const struct ik_chan *c)
{
	return c->caps;
}

size_t
ik_chan_maxmsg(const struct ik_chan *c)
{
	return c->maxmsg;
}

int
ik_chan_fd(const struct ik_chan *c)
{
	return c->t->fd(c);
}

int
ik_chan_set_nonblock(struct ik_chan *c, int on)
{
	int r = 0;

	if (c->t->set_nonblock != NULL)
		r = c->t->set_nonblock(c, on != 0);
	if (r == 0)
		c->nonblock = on != 0;
	return r;
}

int
ik_chan_addr(const struct ik_chan *c, char *buf, size_t len)
{
	if (c->t->addr != NULL)
		return c->t->addr(c, buf, len);
	return ik_addr_format(&c->addr, buf, len);
}

enum ik_scheme
ik_chan_scheme(const struct ik_chan *c)
{
	return c->addr.scheme;
}

int
ik_chan_close(struct ik_chan *c)
{
	int r;

	if (c == NULL)
		return 0;
	r = c->t->close(c);
	free(c);
	return r;
}
