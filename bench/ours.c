/*
 * ipckit's own rows, through the public API only. Channels are measured
 * generically over ik_chan addresses, one row per scheme: A listens; if the
 * scheme has connections, B dials and A accepts one connection used both
 * ways; otherwise each side listens on the channel it receives from and
 * dials the other's (two FIFOs, two queues, two bound sockets). A scheme
 * whose transport is not built gives -EPROTONOSUPPORT at listen: the row is
 * skipped with a note. Pipes are no scheme: ik_pipe is measured directly,
 * and so is the shared-memory ring (spinning, blocking, zero-copy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "bench.h"

struct cside {
	struct ik_chan *l, *in, *out; /* in/out may be the same connection */
};

/* Where each scheme listens; NAME is replaced by a unique name. */
static int
chan_addr(const char *scheme, const char *tag, char *buf, size_t len)
{
	char dir[80], name[64];
	int rc;

	bench_name(name, sizeof(name), tag);
	if (strcmp(scheme, "tcp") == 0 || strcmp(scheme, "udp") == 0) {
		snprintf(buf, len, "%s:127.0.0.1:0", scheme);
	} else if (strcmp(scheme, "abstract") == 0) {
		snprintf(buf, len, "abstract:%s", name);
	} else if (strcmp(scheme, "pmq") == 0 || strcmp(scheme, "shm") == 0) {
		snprintf(buf, len, "%s:/%s", scheme, name);
	} else if (strcmp(scheme, "svmq") == 0) {
		/* a key of our own: pid and sequence, never 0 (private) */
		unsigned h = 2166136261u;

		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		snprintf(buf, len, "svmq:0x%x",
			 (h & 0x0fffffffu) | 0x10000000u);
	} else {
		if ((rc = bench_dir(dir, sizeof(dir))) < 0)
			return rc;
		/* one writer per FIFO here: frames may exceed PIPE_BUF */
		snprintf(buf, len, "%s:%s/%s%s", scheme, dir, name,
			 strcmp(scheme, "fifo") == 0 ? "?maxmsg=1M" : "");
	}
	return 0;
}

static int
chan_open(const struct bench_row *r, struct bench_end *e)
{
	struct cside *c = calloc(1, sizeof(*c));
	char addr[300], err[200] = "", line[320];
	int rc;

	if ((e->st = c) == NULL)
		return -ENOMEM;
	/* as an application that ignores SIGPIPE would (the raw rows too) */
	if ((rc = ik_sig_ignore_sigpipe()) < 0)
		return rc;
	if (e->side == 0) {
		if ((rc = chan_addr(r->arg, "ca", addr, sizeof(addr))) < 0)
			return rc;
		if ((rc = ik_chan_listen(&c->l, addr, err, sizeof(err))) < 0) {
			snprintf(e->note, sizeof(e->note), "%.150s",
				 rc == -EPROTONOSUPPORT
					 ? "transport not in this build"
					 : err);
			bench_ctl_send(e, "!");
			return rc;
		}
		line[0] = ik_chan_caps(c->l) & IK_CHAN_ACCEPT ? 'C' : 'D';
		line[1] = ' ';
		if ((rc = ik_chan_addr(c->l, line + 2, sizeof(line) - 2)) < 0 ||
		    (rc = bench_ctl_send(e, line)) < 0)
			return rc;
		if (line[0] == 'C') {
			if ((rc = ik_chan_accept(c->l, &c->in, 30000)) < 0)
				return rc;
			c->out = c->in;
		} else {
			c->in = c->l;
			c->l = NULL;
			if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
				return rc;
			if ((rc = ik_chan_dial(&c->out, line, 30000, err,
					       sizeof(err))) < 0) {
				snprintf(e->note, sizeof(e->note), "%.150s",
					 err);
				return rc;
			}
		}
	} else {
		if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
			return rc;
		if (line[0] == '!')
			return -EPROTONOSUPPORT;
		if ((rc = ik_chan_dial(&c->out, line + 2, 30000, err,
				       sizeof(err))) < 0) {
			snprintf(e->note, sizeof(e->note), "%.150s", err);
			return rc;
		}
		if (line[0] == 'C') {
			c->in = c->out;
		} else {
			if ((rc = chan_addr(r->arg, "cb", addr, sizeof(addr))) <
				    0 ||
			    (rc = ik_chan_listen(&c->in, addr, err,
						 sizeof(err))) < 0) {
				snprintf(e->note, sizeof(e->note), "%.150s",
					 err);
				return rc;
			}
			if ((rc = ik_chan_addr(c->in, line, sizeof(line))) <
				    0 ||
			    (rc = bench_ctl_send(e, line)) < 0)
				return rc;
		}
	}
	e->maxmsg = ik_chan_maxmsg(c->out);
	if (ik_chan_maxmsg(c->in) < e->maxmsg)
		e->maxmsg = ik_chan_maxmsg(c->in);
	return 0;
}

static int
chan_send(struct bench_end *e, void *buf, size_t len)
{
	ssize_t n = ik_chan_send(((struct cside *)e->st)->out, buf, len, -1);

	return n < 0 ? (int)n : 0;
}

static int
chan_recv(struct bench_end *e, void *buf, size_t len)
{
	struct cside *c = e->st;
	/* bounded where the raw row is (udp: SO_RCVTIMEO), blocking where
	 * it blocks (unixgram is reliable: raw waits forever too) */
	int lossy = ik_chan_scheme(c->in) == IK_SCHEME_UDP;
	ssize_t n = ik_chan_recv(c->in, buf, len, lossy ? e->timeout_ms : -1);

	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EBADMSG;
}

static void
chan_close(struct bench_end *e)
{
	struct cside *c = e->st;

	if (c == NULL)
		return;
	if (c->out && c->out != c->in)
		ik_chan_close(c->out);
	if (c->in)
		ik_chan_close(c->in);
	if (c->l)
		ik_chan_close(c->l);
	free(c);
	e->st = NULL;
}

/* ---- ik_pipe: two pipes made before fork -------------------------------- */

static int
ikpipe_prepare(const struct bench_row *r, void **shared)
{
	int *fd = malloc(4 * sizeof(int)), rc;

	(void)r;
	if (fd == NULL)
		return -ENOMEM;
	if ((rc = ik_pipe_open(fd, 0)) < 0) {
		free(fd);
		return rc;
	}
	if ((rc = ik_pipe_open(fd + 2, 0)) < 0) {
		ik_pipe_close(fd);
		free(fd);
		return rc;
	}
	*shared = fd;
	return 0;
}

static void
ikpipe_cleanup(const struct bench_row *r, void *shared)
{
	(void)r;
	if (shared) {
		ik_pipe_close(shared);
		ik_pipe_close((int *)shared + 2);
		free(shared);
	}
}

static int
ikpipe_open(const struct bench_row *r, struct bench_end *e)
{
	(void)r, (void)e;
	return ik_sig_ignore_sigpipe();
}

static int
ikpipe_send(struct bench_end *e, void *buf, size_t len)
{
	int *fd = e->shared;
	ssize_t n = ik_pipe_write(e->side ? fd[3] : fd[1], buf, len, -1, NULL);

	return n < 0 ? (int)n : 0;
}

static int
ikpipe_recv(struct bench_end *e, void *buf, size_t len)
{
	int *fd = e->shared;
	ssize_t n = ik_pipe_read(e->side ? fd[0] : fd[2], buf, len, -1, NULL);

	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EPIPE;
}

static void
nop_close(struct bench_end *e)
{
	(void)e;
}

/* ---- the ring: two anonymous rings made before fork ---------------------- */

enum { RING_SPIN, RING_BLOCK, RING_ZC };

/*
 * The ring is sized to the job, as a user would size it. Round trips have
 * one message in flight: the smallest ring that takes it (at least 64 KiB),
 * so its lines stay in cache instead of rotating through megabytes. A
 * stream wants both sides busy at once: at least 8 records in flight (at
 * least 4 MiB), so a record plus the pad before it at the wrap never makes
 * the producer wait for the consumer's last message. 1 MiB messages: a
 * 4 MiB ring for round trips, 16 MiB for streams (4 MiB, ~2 in flight,
 * measured 0.5-0.9 GB/s here; 16 MiB 1.0-1.3 GB/s, same run).
 */
static size_t
ring_cap(void)
{
	size_t size, rec, cap;
	int stream;

	bench_job(&size, &stream);
	rec = (size + 16 + 63) / 64 * 64; /* header, 64-byte records */
	cap = stream ? 4u << 20 : 64u << 10;
	while (cap / 2 - 16 < size || (stream && cap < 8 * rec))
		cap *= 2;
	return cap;
}

static int
ring_prepare(const struct bench_row *r, void **shared)
{
	ik_ring **x = calloc(2, sizeof(*x));
	size_t cap = ring_cap();
	int rc;

	(void)r;
	if (x == NULL)
		return -ENOMEM;
	if ((rc = ik_ring_create(&x[0], NULL, cap, 0)) < 0) {
		free(x);
		return rc;
	}
	if ((rc = ik_ring_create(&x[1], NULL, cap, 0)) < 0) {
		ik_ring_close(x[0]);
		free(x);
		return rc;
	}
	*shared = x;
	return 0;
}

static void
ring_cleanup(const struct bench_row *r, void *shared)
{
	ik_ring **x = shared;

	(void)r;
	if (x) {
		ik_ring_close(x[0]);
		ik_ring_close(x[1]);
		free(x);
	}
}

/* ring 0 carries A to B, ring 1 B to A */
static int
ring_open(const struct bench_row *r, struct bench_end *e)
{
	ik_ring **x = e->shared;
	int variant = *(const int *)r->arg, rc;

	if ((rc = ik_ring_attach(x[e->side], IK_RING_PRODUCER)) < 0 ||
	    (rc = ik_ring_attach(x[!e->side], IK_RING_CONSUMER)) < 0)
		return rc;
	ik_ring_set_spin(x[0], variant == RING_BLOCK ? 0 : -1);
	ik_ring_set_spin(x[1], variant == RING_BLOCK ? 0 : -1);
	/* what the row carries: ring_cap() makes a ring for the job */
	e->maxmsg = IK_RING_MAX_CAPACITY / 2 - 16;
	return 0;
}

static ik_ring *
ring_tx(struct bench_end *e)
{
	return ((ik_ring **)e->shared)[e->side];
}

static ik_ring *
ring_rx(struct bench_end *e)
{
	return ((ik_ring **)e->shared)[!e->side];
}

static int
ring_send(struct bench_end *e, void *buf, size_t len)
{
	return ik_ring_send(ring_tx(e), buf, len, -1);
}

static int
ring_recv(struct bench_end *e, void *buf, size_t len)
{
	ssize_t n = ik_ring_recv(ring_rx(e), buf, len, -1);

	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EBADMSG;
}

/*
 * Zero-copy: the sender writes the payload in place (a stream fills it
 * all; a round trip writes the stamp), the receiver reads it in place.
 */
static int
zc_send(struct bench_end *e, void *buf, size_t len)
{
	void *p;
	int rc = ik_ring_reserve(ring_tx(e), len, &p, -1);

	if (rc < 0)
		return rc;
	if (e->stream)
		bench_fill(p, len, e->seq);
	else if (len >= 8)
		memcpy(p, buf, 8);
	return ik_ring_commit(ring_tx(e), len);
}

static int
zc_recv(struct bench_end *e, void *buf, size_t len)
{
	const unsigned char *p;
	ssize_t n = ik_ring_peek(ring_rx(e), (const void **)&p, -1);

	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -EBADMSG;
	if (e->stream) {
		e->bad += !bench_check(p, len, e->seq);
	} else if (len >= 8) {
		memcpy(buf, p, 8);
	}
	return ik_ring_release(ring_rx(e));
}

static const int v_spin = RING_SPIN, v_block = RING_BLOCK, v_zc = RING_ZC;

#define CHAN(s)                                                               \
	{                                                                     \
		s " (ik_chan)", s, BK_OURS, 0, s, NULL, chan_open, chan_send, \
			chan_recv, chan_close, NULL                           \
	}

const struct bench_row bench_rows_ours[] = {
	{ "pipe (ik_pipe)", "pipe", BK_OURS, 0, NULL, ikpipe_prepare,
	  ikpipe_open, ikpipe_send, ikpipe_recv, nop_close, ikpipe_cleanup },
	CHAN("fifo"),
	CHAN("unix"),
	CHAN("unixgram"),
	CHAN("unixpacket"),
	CHAN("abstract"),
	CHAN("tcp"),
	{ "udp (ik_chan)", "udp", BK_OURS, BF_LOSSY, "udp", NULL, chan_open,
	  chan_send, chan_recv, chan_close, NULL },
	CHAN("pmq"),
	CHAN("svmq"),
	CHAN("shm"),
	{ "ring, spinning", "ring", BK_OURS, 0, &v_spin, ring_prepare,
	  ring_open, ring_send, ring_recv, nop_close, ring_cleanup },
	{ "ring, blocking", "ring-block", BK_OURS, 0, &v_block, ring_prepare,
	  ring_open, ring_send, ring_recv, nop_close, ring_cleanup },
	{ "ring, zero-copy", "ring-zc", BK_OURS, BF_INPLACE, &v_zc,
	  ring_prepare, ring_open, zc_send, zc_recv, nop_close, ring_cleanup },
	{ .name = NULL },
};
