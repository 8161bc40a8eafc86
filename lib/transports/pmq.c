/*
 * pmq: POSIX message queues as channels. `pmq:/name?maxmsg=N&msgsize=B&
 * mode=0600&prio=P`. listen creates the queue (O_EXCL) and unlinks it on
 * close; dial opens an existing one, waiting for it to appear. Both ends
 * can send and receive. Message boundaries and priorities are the kernel's;
 * the readiness descriptor is the queue descriptor itself.
 *
 * The kernel refuses a receive buffer smaller than msgsize, so a smaller
 * caller buffer receives through a staging buffer; a message that does not
 * fit is kept there (-EMSGSIZE) and handed to the next call, never lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/error.h>
#include <ipckit/pmq.h>

#include "../internal/io.h"
#include "../internal/transport.h"

struct pmq {
	mqd_t q;
	bool owner;	/* created it: unlinks on close */
	unsigned prio;	/* default send priority */
	size_t msgsize; /* the queue's, read back after open */
	unsigned char *stage;
	ssize_t staged; /* length of a message kept in stage, or -1 */
	unsigned staged_prio;
};

static const char *const pmq_options[] = { "maxmsg", "msgsize", "mode", "prio",
					   NULL };

static int
setup(struct ik_chan *c, struct pmq *p, char *err, size_t errlen)
{
	struct ik_pmq_attr a;
	uint64_t v = 0;
	int r;

	r = ik_addr_opt_u64(&c->addr, "prio", &v, err, errlen);
	if (r < 0)
		return r;
	if (v >= IK_PMQ_PRIO_MAX)
		return ik__chan_bad(err, errlen, "pmq: prio must be below %u",
				    IK_PMQ_PRIO_MAX);
	p->prio = (unsigned)v;
	r = ik_pmq_getattr(p->q, &a);
	if (r < 0)
		return r;
	p->msgsize = (size_t)a.msgsize;
	p->staged = -1;
	c->caps = IK_CHAN_SEND | IK_CHAN_RECV;
	c->maxmsg = p->msgsize;
	c->priv = p;
	return 0;
}

static int
pmq_listen(struct ik_chan *c, char *err, size_t errlen)
{
	struct ik_pmq_attr a = { 0 }, *ap = NULL;
	struct pmq *p;
	uint64_t maxmsg = 0, msgsize = 0;
	unsigned mode = 0600;
	int r;

	if ((r = ik_addr_opt_u64(&c->addr, "maxmsg", &maxmsg, err, errlen)) <
		    0 ||
	    (r = ik_addr_opt_size(&c->addr, "msgsize", &msgsize, err, errlen)) <
		    0 ||
	    (r = ik_addr_opt_mode(&c->addr, "mode", &mode, err, errlen)) < 0)
		return r;
	if (maxmsg > LONG_MAX || msgsize > LONG_MAX)
		return ik__chan_bad(err, errlen, "pmq: maxmsg/msgsize too big");
	if (maxmsg || msgsize) {
		struct ik_pmq_limits l;

		r = ik_pmq_limits(&l);
		if (r < 0)
			return r;
		a.maxmsg = maxmsg ? (long)maxmsg : l.msg_default;
		a.msgsize = msgsize ? (long)msgsize : l.msgsize_default;
		ap = &a;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	r = ik_pmq_create(c->addr.rest, O_RDWR, mode, ap, &p->q);
	if (r < 0)
		goto fail;
	p->owner = true;
	r = setup(c, p, err, errlen);
	if (r < 0)
		goto fail_q;
	return 0;
fail_q:
	ik_pmq_close(p->q);
	ik_pmq_unlink(c->addr.rest);
fail:
	free(p);
	return r;
}

/*
 * A dialler may repeat the creator's sizes (both sides often share one
 * address string): they must then match the queue's, or the two programs
 * disagree about the queue and the dialler is told so.
 */
static int
check_sizes(struct ik_chan *c, struct pmq *p, char *err, size_t errlen)
{
	struct ik_pmq_attr a;
	uint64_t maxmsg = 0, msgsize = 0;
	int r;

	if ((r = ik_addr_opt_u64(&c->addr, "maxmsg", &maxmsg, err, errlen)) <
		    0 ||
	    (r = ik_addr_opt_size(&c->addr, "msgsize", &msgsize, err, errlen)) <
		    0 ||
	    (r = ik_pmq_getattr(p->q, &a)) < 0)
		return r;
	if ((maxmsg && maxmsg != (uint64_t)a.maxmsg) ||
	    (msgsize && msgsize != (uint64_t)a.msgsize))
		return ik__chan_bad(
			err, errlen,
			"pmq:%s exists with maxmsg=%ld&msgsize=%ld, "
			"not what the address says",
			c->addr.rest, a.maxmsg, a.msgsize);
	return 0;
}

static int
pmq_dial(struct ik_chan *c, int timeout_ms, char *err, size_t errlen)
{
	struct ik__deadline d;
	struct ik__backoff b;
	struct pmq *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	ik__deadline_init(&d, timeout_ms);
	ik__dial_backoff_init(&b);
	/* a queue not created yet is waited for, like a peer to connect to */
	while ((r = ik_pmq_open(c->addr.rest, O_RDWR, &p->q)) == -ENOENT &&
	       ik__backoff_sleep(&b, &d) == 0)
		;
	if (r < 0)
		goto fail;
	r = setup(c, p, err, errlen);
	if (r == 0)
		r = check_sizes(c, p, err, errlen);
	if (r < 0) {
		ik_pmq_close(p->q);
		goto fail;
	}
	return 0;
fail:
	free(p);
	return r;
}

static ssize_t
pmq_send(struct ik_chan *c, const void *buf, size_t len,
	 const struct ik_chan_meta *meta, int timeout_ms)
{
	struct pmq *p = c->priv;
	int r;

	r = ik_pmq_send(p->q, buf, len, meta ? meta->priority : p->prio,
			timeout_ms);
	return r < 0 ? r : (ssize_t)len;
}

static ssize_t
deliver(struct pmq *p, void *buf, size_t cap, struct ik_chan_meta *meta)
{
	ssize_t n = p->staged;

	if ((size_t)n > cap)
		return -EMSGSIZE; /* still kept */
	memcpy(buf, p->stage, (size_t)n);
	if (meta)
		meta->priority = p->staged_prio;
	p->staged = -1;
	return n;
}

static ssize_t
pmq_recv(struct ik_chan *c, void *buf, size_t cap, struct ik_chan_meta *meta,
	 int timeout_ms)
{
	struct pmq *p = c->priv;
	unsigned prio = 0;
	ssize_t n;

	if (p->staged >= 0)
		return deliver(p, buf, cap, meta);
	if (cap >= p->msgsize) { /* the common case: straight in */
		n = ik_pmq_recv(p->q, buf, cap, &prio, timeout_ms);
		if (n >= 0 && meta)
			meta->priority = prio;
		return n;
	}
	if (p->stage == NULL && (p->stage = malloc(p->msgsize)) == NULL)
		return -ENOMEM;
	n = ik_pmq_recv(p->q, p->stage, p->msgsize, &prio, timeout_ms);
	if (n < 0)
		return n;
	p->staged = n;
	p->staged_prio = prio;
	return deliver(p, buf, cap, meta);
}

static int
pmq_fd(const struct ik_chan *c)
{
	const struct pmq *p = c->priv;

	return ik_pmq_fd(p->q);
}

static int
pmq_close(struct ik_chan *c)
{
	struct pmq *p = c->priv;
	int r = ik_pmq_close(p->q);

	if (p->owner) {
		int u = ik_pmq_unlink(c->addr.rest);

		if (r == 0)
			r = u;
	}
	free(p->stage);
	free(p);
	return r;
}

const struct ik__transport ik__transport_pmq = {
	.scheme = IK_SCHEME_PMQ,
	.options = pmq_options,
	.listen = pmq_listen,
	.dial = pmq_dial,
	.send = pmq_send,
	.recv = pmq_recv,
	.fd = pmq_fd,
	.close = pmq_close,
};
