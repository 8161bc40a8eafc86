/*
 * shm: the shared-memory ring (<ipckit/ring.h>) as a channel,
 * `shm:/name?size=1M&spin=20`. One listener and one dialler: listen creates
 * two rings, /name.0 (listener to dialler) and /name.1 (back), 0600 and
 * O_EXCL, and removes both names on close; dial opens them, waiting for them
 * to appear. Each ring has one producer and one consumer, so a second
 * dialler is -EBUSY. Messages up to ik_ring_max_msg (half the size, less a
 * record header); a closed or dead peer is -EPIPE (the ring watches its
 * pid). Named rings carry no eventfd, so ik_chan_fd is -EOPNOTSUPP: poll
 * with timeouts, or use ik_ring directly with a memfd pair.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>

#include "../internal/time.h"
#include "../internal/transport.h"

#define SHM_DEFAULT_SIZE (1u << 20)
#define SHM_MAX_SPIN_US 1000000u

struct shmchan {
	ik_ring *tx, *rx;
};

static const char *const shm_options[] = { "size", "spin", NULL };

/* The two ring names: /name.0 carries listener -> dialler, /name.1 back. */
static int
ring_names(const struct ik_chan *c, char names[2][NAME_MAX + 1], char *err,
	   size_t errlen)
{
	for (int i = 0; i < 2; i++) {
		int n = snprintf(names[i], NAME_MAX + 1, "%s.%d", c->addr.rest,
				 i);

		if (n < 0 || n > NAME_MAX - 1) /* ik_shm_create's limit */
			return ik__chan_bad(err, errlen,
					    "shm:%s: name too long (at most "
					    "%d bytes: two more are added)",
					    c->addr.rest, NAME_MAX - 3);
	}
	return 0;
}

/* size (0 when absent) and spin (-1 when absent) from the address. */
static int
options(const struct ik_chan *c, uint64_t *size, int *spin, char *err,
	size_t errlen)
{
	uint64_t s = 0, sp = 0;
	int r;

	if ((r = ik_addr_opt_size(&c->addr, "size", &s, err, errlen)) < 0)
		return r;
	if (r == 0 && (s < IK_RING_MIN_CAPACITY || s > IK_RING_MAX_CAPACITY ||
		       (s & (s - 1)) != 0))
		return ik__chan_bad(err, errlen,
				    "shm: size=%llu: a power of two from 4K "
				    "to 1G",
				    (unsigned long long)s);
	if ((r = ik_addr_opt_u64(&c->addr, "spin", &sp, err, errlen)) < 0)
		return r;
	if (r == 0 && sp > SHM_MAX_SPIN_US)
		return ik__chan_bad(err, errlen,
				    "shm: spin=%llu: at most %u microseconds",
				    (unsigned long long)sp, SHM_MAX_SPIN_US);
	*size = s;
	*spin = r == 0 ? (int)sp : -1;
	return 0;
}

static int
setup(struct ik_chan *c, struct shmchan *p, int spin)
{
	if (spin >= 0) {
		ik_ring_set_spin(p->tx, spin);
		ik_ring_set_spin(p->rx, spin);
	}
	c->caps = IK_CHAN_SEND | IK_CHAN_RECV | IK_CHAN_ZEROCOPY;
	c->maxmsg = ik_ring_max_msg(p->tx);
	c->priv = p;
	return 0;
}

static int
shm_listen(struct ik_chan *c, char *err, size_t errlen)
{
	char names[2][NAME_MAX + 1];
	struct shmchan *p;
	uint64_t size;
	int spin, r;

	if ((r = options(c, &size, &spin, err, errlen)) < 0 ||
	    (r = ring_names(c, names, err, errlen)) < 0)
		return r;
	if (size == 0)
		size = SHM_DEFAULT_SIZE;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	if ((r = ik_ring_create(&p->tx, names[0], size, 0)) < 0)
		goto fail;
	if ((r = ik_ring_create(&p->rx, names[1], size, 0)) < 0 ||
	    (r = ik_ring_attach(p->tx, IK_RING_PRODUCER)) < 0 ||
	    (r = ik_ring_attach(p->rx, IK_RING_CONSUMER)) < 0)
		goto fail;
	return setup(c, p, spin);
fail:
	/* the rings' close removes the names this process created */
	ik_ring_close(p->rx);
	ik_ring_close(p->tx);
	free(p);
	return r;
}

/*
 * Open one ring, waiting for it: until the listener has created it, the
 * name is missing (-ENOENT) or the segment is not yet initialised
 * (IK_EFORMAT); both pass once it is made.
 */
static int
open_wait(ik_ring **out, const char *name, const struct ik__deadline *d)
{
	struct ik__backoff b;
	int r;

	ik__dial_backoff_init(&b);
	while (((r = ik_ring_open(out, name)) == -ENOENT || r == IK_EFORMAT) &&
	       ik__backoff_sleep(&b, d) == 0)
		;
	return r;
}

static int
shm_dial(struct ik_chan *c, int timeout_ms, char *err, size_t errlen)
{
	char names[2][NAME_MAX + 1];
	struct ik__deadline d;
	struct shmchan *p;
	uint64_t size;
	int spin, r;

	if ((r = options(c, &size, &spin, err, errlen)) < 0 ||
	    (r = ring_names(c, names, err, errlen)) < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	ik__deadline_init(&d, timeout_ms);
	if ((r = open_wait(&p->rx, names[0], &d)) < 0 ||
	    (r = open_wait(&p->tx, names[1], &d)) < 0)
		goto fail;
	/* a size in the dialler's address must be the listener's */
	if (size != 0 && (ik_ring_capacity(p->rx) != size ||
			  ik_ring_capacity(p->tx) != size)) {
		r = ik__chan_bad(err, errlen,
				 "shm:%s exists with size=%zu, not what the "
				 "address says",
				 c->addr.rest, ik_ring_capacity(p->rx));
		goto fail;
	}
	if ((r = ik_ring_attach(p->rx, IK_RING_CONSUMER)) < 0 ||
	    (r = ik_ring_attach(p->tx, IK_RING_PRODUCER)) < 0)
		goto fail;
	return setup(c, p, spin);
fail:
	ik_ring_close(p->tx);
	ik_ring_close(p->rx);
	free(p);
	return r;
}

static ssize_t
shm_send(struct ik_chan *c, const void *buf, size_t len,
	 const struct ik_chan_meta *meta, int timeout_ms)
{
	struct shmchan *p = c->priv;
	int r;

	(void)meta;
	r = ik_ring_send(p->tx, buf, len, timeout_ms);
	return r < 0 ? r : (ssize_t)len;
}

static ssize_t
shm_recv(struct ik_chan *c, void *buf, size_t cap, struct ik_chan_meta *meta,
	 int timeout_ms)
{
	struct shmchan *p = c->priv;

	(void)meta;
	return ik_ring_recv(p->rx, buf, cap, timeout_ms);
}

static int
shm_fd(const struct ik_chan *c)
{
	(void)c;
	return -EOPNOTSUPP; /* named rings have no eventfd (see ik_ring(3)) */
}

static int
shm_close(struct ik_chan *c)
{
	struct shmchan *p = c->priv;

	/* receiving side first: a peer that sees our sending side closed
	 * (recv -EPIPE) then finds its sends refused too, never accepted
	 * into a ring nobody reads */
	ik_ring_close(p->rx);
	ik_ring_close(p->tx);
	free(p);
	return 0;
}

const struct ik__transport ik__transport_shm = {
	.scheme = IK_SCHEME_SHM,
	.options = shm_options,
	.listen = shm_listen,
	.dial = shm_dial,
	.send = shm_send,
	.recv = shm_recv,
	.fd = shm_fd,
	.close = shm_close,
};
