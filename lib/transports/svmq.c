/*
 * svmq: System V message queues as channels. `svmq:KEY?type=N&mode=0600&
 * qbytes=B` with KEY a number (0x1234), `private`, or a path for ftok
 * (`svmq:/etc/app?proj=7`); a private queue is dialled by its id
 * (`svmq:private?id=N`, what ik_chan_addr prints for it). listen creates the
 * queue (IPC_EXCL) and removes it on close; dial opens an existing one,
 * waiting for it to appear.
 *
 * `type` (default 1) is the type sent and the selector received with, as
 * msgrcv reads it: N > 0 that type only, 0 any, N < 0 the lowest type <= |N|
 * (then sends use |N|, or the type given in ik_chan_meta). A request/reply
 * pair on one queue is two channels: ?type=1 one way, ?type=2 the other.
 *
 * System V queues have no descriptor: ik_chan_fd returns -EOPNOTSUPP, and
 * timed waits poll with a back-off (see ik_msgq(3)). The peer's death is
 * invisible to a queue; its removal gives -EIDRM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include <ipckit/error.h>
#include <ipckit/msgq.h>

#include "../internal/io.h"
#include "../internal/transport.h"

struct svmq {
	int id;
	bool owner;
	long type; /* the receive selector */
};

static const char *const svmq_options[] = { "type", "mode", "qbytes",
					    "id",   "proj", NULL };

static int
resolve_key(const struct ik_chan *c, key_t *key, char *err, size_t errlen)
{
	uint64_t proj = 1;
	int r;

	if (!c->addr.key_from_path) {
		*key = (key_t)c->addr.key;
		return 0;
	}
	r = ik_addr_opt_u64(&c->addr, "proj", &proj, err, errlen);
	if (r < 0)
		return r;
	if (proj < 1 || proj > 255)
		return ik__chan_bad(err, errlen, "svmq: proj must be 1..255");
	r = ik_msgq_key(c->addr.rest, (int)proj, key);
	if (r < 0 && err != NULL)
		snprintf(err, errlen, "svmq: ftok(%s): %s", c->addr.rest,
			 ik_strerror(r));
	return r;
}

static int
setup(struct ik_chan *c, struct svmq *p, char *err, size_t errlen)
{
	struct ik_msgq_limits l;
	struct ik_msgq_stat st;
	const char *t = ik_addr_opt(&c->addr, "type");
	char *end;
	int r;

	p->type = 1;
	if (t != NULL) {
		p->type = strtol(t, &end, 10);
		if (*t == '\0' || *end != '\0')
			return ik__chan_bad(err, errlen,
					    "svmq: type must be an integer");
	}
	if ((r = ik_msgq_stat(p->id, &st)) < 0 || (r = ik_msgq_limits(&l)) < 0)
		return r;
	c->caps = IK_CHAN_SEND | IK_CHAN_RECV;
	c->maxmsg = (size_t)l.msgmax < st.qbytes ? (size_t)l.msgmax : st.qbytes;
	c->priv = p;
	return 0;
}

static int
svmq_listen(struct ik_chan *c, char *err, size_t errlen)
{
	struct svmq *p;
	uint64_t qbytes = 0;
	unsigned mode = 0600;
	key_t key;
	int r;

	if (ik_addr_opt(&c->addr, "id"))
		return ik__chan_bad(err, errlen,
				    "svmq: id= is for dialling an existing "
				    "queue");
	if ((r = resolve_key(c, &key, err, errlen)) < 0 ||
	    (r = ik_addr_opt_mode(&c->addr, "mode", &mode, err, errlen)) < 0 ||
	    (r = ik_addr_opt_size(&c->addr, "qbytes", &qbytes, err, errlen)) <
		    0)
		return r;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	r = ik_msgq_create(key, mode, &p->id);
	if (r < 0)
		goto fail;
	p->owner = true;
	if (qbytes > 0 && (r = ik_msgq_set_qbytes(p->id, (size_t)qbytes)) < 0)
		goto fail_q;
	r = setup(c, p, err, errlen);
	if (r < 0)
		goto fail_q;
	return 0;
fail_q:
	ik_msgq_remove(p->id);
fail:
	free(p);
	return r;
}

/* A dialler repeating the creator's mode/qbytes must match the queue. */
static int
check_creation(struct ik_chan *c, struct svmq *p, char *err, size_t errlen)
{
	struct ik_msgq_stat st;
	uint64_t qbytes = 0;
	unsigned mode = 0;
	int r;

	if ((r = ik_addr_opt_mode(&c->addr, "mode", &mode, err, errlen)) < 0 ||
	    (r = ik_addr_opt_size(&c->addr, "qbytes", &qbytes, err, errlen)) <
		    0 ||
	    (r = ik_msgq_stat(p->id, &st)) < 0)
		return r;
	if ((ik_addr_opt(&c->addr, "mode") &&
	     mode != (st.mode & ACCESSPERMS)) ||
	    (qbytes && qbytes != st.qbytes))
		return ik__chan_bad(err, errlen,
				    "svmq: the queue exists with mode=%04o&"
				    "qbytes=%zu, not what the address says",
				    st.mode & ACCESSPERMS, st.qbytes);
	return 0;
}

static int
svmq_dial(struct ik_chan *c, int timeout_ms, char *err, size_t errlen)
{
	struct ik__deadline d;
	struct ik__backoff b;
	struct svmq *p;
	uint64_t id = 0;
	key_t key = 0;
	int r;

	r = ik_addr_opt_u64(&c->addr, "id", &id, err, errlen);
	if (r < 0)
		return r;
	if (r == 1 && !c->addr.key_from_path && c->addr.key == 0)
		return ik__chan_bad(err, errlen,
				    "svmq: a private queue is dialled by id: "
				    "svmq:private?id=N");
	if (r == 1 && (r = resolve_key(c, &key, err, errlen)) < 0)
		return r;
	if (id > INT32_MAX)
		return ik__chan_bad(err, errlen, "svmq: id out of range");
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	if (ik_addr_opt(&c->addr, "id")) {
		p->id = (int)id; /* setup's stat checks it exists */
	} else {
		ik__deadline_init(&d, timeout_ms);
		ik__dial_backoff_init(&b);
		while ((r = ik_msgq_open(key, &p->id)) == -ENOENT &&
		       ik__backoff_sleep(&b, &d) == 0)
			;
		if (r < 0)
			goto fail;
	}
	r = setup(c, p, err, errlen);
	if (r == 0)
		r = check_creation(c, p, err, errlen);
	if (r < 0)
		goto fail;
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): setup gave p to c */
	return 0;
fail:
	free(p);
	return r;
}

static ssize_t
svmq_send(struct ik_chan *c, const void *buf, size_t len,
	  const struct ik_chan_meta *meta, int timeout_ms)
{
	struct svmq *p = c->priv;
	long type = p->type > 0 ? p->type : p->type < 0 ? -p->type : 1;
	int r;

	if (meta != NULL && meta->type > 0)
		type = meta->type;
	r = ik_msgq_send(p->id, type, buf, len, timeout_ms);
	if (r == IK_EMSGMAX)
		r = -EMSGSIZE;
	return r < 0 ? r : (ssize_t)len;
}

static ssize_t
svmq_recv(struct ik_chan *c, void *buf, size_t cap, struct ik_chan_meta *meta,
	  int timeout_ms)
{
	struct svmq *p = c->priv;
	long type = 0;
	ssize_t n;

	n = ik_msgq_recv(p->id, p->type, buf, cap, &type, 0, timeout_ms);
	if (n == -E2BIG)
		return -EMSGSIZE; /* it stays queued for a bigger buffer */
	if (n == -ENOMSG)
		return -EAGAIN;
	if (n >= 0 && meta != NULL)
		meta->type = type;
	return n;
}

static int
svmq_fd(const struct ik_chan *c)
{
	(void)c;
	return -EOPNOTSUPP;
}

static int
svmq_addr(const struct ik_chan *c, char *buf, size_t len)
{
	const struct svmq *p = c->priv;
	struct ik_addr a = c->addr;

	if (!a.key_from_path && a.key == 0 && ik_addr_opt(&a, "id") == NULL &&
	    a.nopts < IK_ADDR_MAX_OPTS) {
		/* a private queue is only reachable by its id: show it */
		struct ik_addr_opt *o = &a.opts[a.nopts++];

		snprintf(o->key, sizeof(o->key), "id");
		snprintf(o->value, sizeof(o->value), "%d", p->id);
		/* keep the options sorted, as the canonical form wants */
		for (int i = a.nopts - 1;
		     i > 0 && strcmp(a.opts[i - 1].key, a.opts[i].key) > 0;
		     i--) {
			struct ik_addr_opt t = a.opts[i];

			a.opts[i] = a.opts[i - 1];
			a.opts[i - 1] = t;
		}
	}
	return ik_addr_format(&a, buf, len);
}

static int
svmq_close(struct ik_chan *c)
{
	struct svmq *p = c->priv;
	int r = p->owner ? ik_msgq_remove(p->id) : 0;

	free(p);
	return r;
}

const struct ik__transport ik__transport_svmq = {
	.scheme = IK_SCHEME_SVMQ,
	.options = svmq_options,
	.listen = svmq_listen,
	.dial = svmq_dial,
	.send = svmq_send,
	.recv = svmq_recv,
	.fd = svmq_fd,
	.addr = svmq_addr,
	.close = svmq_close,
};
