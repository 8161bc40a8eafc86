/*
 * The body of the socket channel transports (see lib/internal/sockchan.h).
 *
 * Streams (unix, abstract, tcp) carry each message behind a 4-byte length
 * (ik__framer) unless ?raw=1; seqpacket keeps the kernel's boundaries, and
 * must tell an empty message from the end of the connection (a seqpacket
 * recv returns 0 for both; Linux marks neither). A peer with a name (every
 * accepted socket has its listener's; ik_sock_connect binds the dialer to an
 * automatic one) stamps it on every message it sends, so the length of the
 * sender address recvfrom reports tells them apart: two user copies more
 * than a plain recv. A peer without a name (a raw client that never bound)
 * is read the old way: the credentials the kernel attaches to every real
 * message (SO_PASSCRED), over recvmsg, about twice that cost (measured by
 * bench/seqpacket_eof.c). Datagram listeners answer the last sender. A
 * message too big for the caller's buffer is kept: when
 * cap < maxmsg its length is peeked first (MSG_PEEK | MSG_TRUNC), which
 * costs nothing when the buffer is big enough for any message.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "../internal/io.h"
#include "../internal/sock.h"
#include "../internal/sockchan.h"

struct sockchan {
	struct ik_sock *s;
	enum ik_sock_kind kind;
	bool raw;
	bool listener;
	struct ik__framer fr; /* framed streams only */
	/* datagram listener: whom a send answers */
	struct ik_sock_addr peer;
	bool have_peer;
	/* message kinds, caller's buffer below maxmsg: the message is
	 * received whole here (one system call) and kept if it does not fit */
	unsigned char *stage;
	ssize_t staged; /* length of a kept message, or -1 */
	/* seqpacket: the peer has a name, see the top of the file */
	bool named_peer;
	/* datagrams: the SO_RCVTIMEO last set on the socket, in ms (0: none)
	 * so that a timed receive is one blocking recvmsg (see dgram_timed) */
	int rcvtimeo_ms;
};

/* What the address asks for, read once by listen and dial. */
struct cfg {
	enum ik_sock_kind kind;
	bool raw;
	size_t maxmsg;
	struct ik_sock_opts so;
};

static int
sock_type(enum ik_sock_kind k)
{
	switch (k) {
	case IK_SOCK_UNIX_STREAM:
	case IK_SOCK_ABSTRACT_STREAM:
	case IK_SOCK_TCP:
		return SOCK_STREAM;
	case IK_SOCK_UNIX_SEQPACKET:
	case IK_SOCK_ABSTRACT_SEQPACKET:
		return SOCK_SEQPACKET;
	default:
		return SOCK_DGRAM;
	}
}

static bool
is_unix(enum ik_sock_kind k)
{
	return k != IK_SOCK_TCP && k != IK_SOCK_UDP;
}

static int
base_kind(enum ik_scheme s, enum ik_sock_kind *k)
{
	switch (s) {
	case IK_SCHEME_UNIX:
		*k = IK_SOCK_UNIX_STREAM;
		return 0;
	case IK_SCHEME_ABSTRACT:
		*k = IK_SOCK_ABSTRACT_STREAM;
		return 0;
	case IK_SCHEME_UNIXGRAM:
		*k = IK_SOCK_UNIX_DGRAM;
		return 0;
	case IK_SCHEME_UNIXPACKET:
		*k = IK_SOCK_UNIX_SEQPACKET;
		return 0;
	case IK_SCHEME_TCP:
		*k = IK_SOCK_TCP;
		return 0;
	case IK_SCHEME_UDP:
		*k = IK_SOCK_UDP;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ?type= on unix: and abstract: picks the socket type; the kinds of
 * <ipckit/sock.h> are ordered stream, dgram, seqpacket for both. */
static int
cfg_type(struct ik_chan *c, struct cfg *k, char *err, size_t errlen)
{
	static const char *const types[] = { "stream", "dgram", "seqpacket" };
	const char *t = ik_addr_opt(&c->addr, "type");

	if (t == NULL)
		return 0;
	for (int i = 0; i < 3; i++)
		if (strcmp(t, types[i]) == 0) {
			k->kind = (enum ik_sock_kind)((int)k->kind + i);
			return 0;
		}
	return ik__chan_bad(err, errlen,
			    "%s: type=%s: expected stream, dgram or seqpacket",
			    ik_scheme_name(c->addr.scheme), t);
}

static int
cfg_read(struct ik_chan *c, struct cfg *k, char *err, size_t errlen)
{
	const char *sch = ik_scheme_name(c->addr.scheme);
	uint64_t maxmsg = 0, backlog = 0;
	unsigned mode = 0600;
	int raw = 0, r, type;
	bool has_max;

	memset(k, 0, sizeof(*k));
	if (base_kind(c->addr.scheme, &k->kind) < 0)
		return -EINVAL;
	if ((r = cfg_type(c, k, err, errlen)) < 0 ||
	    (r = ik_addr_opt_bool(&c->addr, "raw", &raw, err, errlen)) < 0 ||
	    (r = ik_addr_opt_size(&c->addr, "maxmsg", &maxmsg, err, errlen)) <
		    0 ||
	    (r = ik_addr_opt_u64(&c->addr, "backlog", &backlog, err, errlen)) <
		    0 ||
	    (r = ik_addr_opt_mode(&c->addr, "mode", &mode, err, errlen)) < 0)
		return r;
	has_max = ik_addr_opt(&c->addr, "maxmsg") != NULL;
	type = sock_type(k->kind);
	if (raw && type != SOCK_STREAM)
		return ik__chan_bad(err, errlen,
				    "%s: raw=1 needs a stream socket (it "
				    "turns off the framing of byte streams)",
				    sch);
	if (raw && has_max)
		return ik__chan_bad(err, errlen,
				    "%s: maxmsg means nothing with raw=1 "
				    "(bytes pass as they come)",
				    sch);
	if (backlog > INT_MAX || (backlog && type == SOCK_DGRAM))
		return ik__chan_bad(err, errlen,
				    "%s: backlog=%llu: only for stream and "
				    "seqpacket listeners, at most %d",
				    sch, (unsigned long long)backlog, INT_MAX);
	if (mode & ~0777u)
		return ik__chan_bad(err, errlen,
				    "%s: mode=%o: permission bits only", sch,
				    mode);
	if (!has_max)
		maxmsg = type == SOCK_STREAM	  ? IK__SOCKCHAN_STREAM_MAX
			 : k->kind == IK_SOCK_UDP ? IK__SOCKCHAN_UDP_MAX
						  : IK__SOCKCHAN_UNIX_MAX;
	if (type == SOCK_STREAM && maxmsg > UINT32_MAX)
		return ik__chan_bad(err, errlen,
				    "%s: maxmsg above 4 GiB - 1 (the frame "
				    "length is 32 bits)",
				    sch);
	if (k->kind == IK_SOCK_UDP && maxmsg > IK__SOCKCHAN_UDP_MAX)
		return ik__chan_bad(err, errlen,
				    "udp: maxmsg above %u (64 KiB less the IP "
				    "and UDP headers)",
				    IK__SOCKCHAN_UDP_MAX);
	if (maxmsg > INT_MAX && type != SOCK_STREAM)
		return ik__chan_bad(err, errlen, "%s: maxmsg too big", sch);
	k->raw = raw;
	k->maxmsg = raw ? SIZE_MAX : (size_t)maxmsg;
	k->so.backlog = (int)backlog;
	k->so.mode = mode;
	return 0;
}

/*
 * A Unix datagram or seqpacket message must fit the sender's SO_SNDBUF (less
 * a little the kernel keeps): grow it for a large maxmsg, and refuse one the
 * system's net.core.wmem_max does not allow, at setup rather than per send.
 */
static int
fit_sndbuf(struct ik_sock *s, enum ik_sock_kind kind, size_t maxmsg,
	   const char *sch, char *err, size_t errlen)
{
	int fd = ik_sock_fd(s), have = 0, want;
	socklen_t l = sizeof(have);

	if (!is_unix(kind) || sock_type(kind) == SOCK_STREAM)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &l) < 0)
		return -errno;
	if ((size_t)have >= maxmsg + 512)
		return 0;
	want = (int)(maxmsg + 4096);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) < 0)
		return -errno;
	l = sizeof(have);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &l) < 0)
		return -errno;
	if ((size_t)have < maxmsg + 512)
		return ik__chan_bad(err, errlen,
				    "%s: maxmsg=%zu is more than the socket "
				    "send buffer allows (%d; see "
				    "net.core.wmem_max)",
				    sch, maxmsg, have);
	return 0;
}

/*
 * How a connected seqpacket socket tells an empty message from the end:
 * by the sender's name when the peer has one (*named; credentials off), by
 * credentials otherwise. A name, once bound, stays for the socket's life.
 */
static int
eof_mode(struct ik_sock *s, enum ik_sock_kind kind, bool *named)
{
	struct ik_sock_addr a;

	*named = false;
	if (sock_type(kind) != SOCK_SEQPACKET)
		return 0;
	if (ik_sock_peer_addr(s, &a) == 0 &&
	    a.len > offsetof(struct sockaddr_un, sun_path))
		*named = true;
	return ik_sock_set_passcred(s, !*named);
}

static int
caps_of(enum ik_sock_kind kind, bool raw, bool listener)
{
	int type = sock_type(kind);

	if (type == SOCK_DGRAM)
		return IK_CHAN_SEND | IK_CHAN_RECV | IK_CHAN_DGRAM;
	if (listener)
		return IK_CHAN_ACCEPT;
	if (type == SOCK_SEQPACKET)
		return IK_CHAN_SEND | IK_CHAN_RECV;
	return IK_CHAN_SEND | IK_CHAN_RECV | IK_CHAN_STREAM |
	       (raw ? IK_CHAN_RAW : 0);
}

/* Take ownership of s as c's socket. */
static int
adopt(struct ik_chan *c, struct ik_sock *s, const struct cfg *k, bool listener,
      bool named_peer)
{
	struct sockchan *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->s = s;
	p->staged = -1;
	p->kind = k->kind;
	p->raw = k->raw;
	p->listener = listener;
	p->named_peer = named_peer;
	if (sock_type(k->kind) == SOCK_STREAM && !listener)
		ik__frame_init(&p->fr, ik_sock_fd(s), IK__IO_SOCKET, k->maxmsg);
	c->caps = caps_of(k->kind, k->raw, listener);
	c->maxmsg = k->maxmsg;
	c->priv = p;
	return 0;
}

int
ik__sockchan_listen(struct ik_chan *c, char *err, size_t errlen)
{
	struct ik_sock *s = NULL;
	struct cfg k;
	int r;

	r = cfg_read(c, &k, err, errlen);
	if (r < 0)
		return r;
	if (sock_type(k.kind) == SOCK_DGRAM)
		r = ik_sock_bind(&s, k.kind, c->addr.rest, &k.so);
	else
		r = ik_sock_listen(&s, k.kind, c->addr.rest, &k.so);
	if (r < 0) {
		if (r == IK_EBADADDR)
			ik__chan_bad(err, errlen, "%s: cannot resolve '%s'",
				     ik_scheme_name(c->addr.scheme),
				     c->addr.rest);
		return r;
	}
	/* accepted seqpacket sockets inherit SO_PASSCRED from here: a
	 * nameless client's first messages may come before eof_mode runs */
	if ((r = fit_sndbuf(s, k.kind, k.maxmsg, ik_scheme_name(c->addr.scheme),
			    err, errlen)) < 0 ||
	    (sock_type(k.kind) == SOCK_SEQPACKET &&
	     (r = ik_sock_set_passcred(s, true)) < 0) ||
	    (r = adopt(c, s, &k, true, false)) < 0) {
		ik_sock_close(s);
		return r;
	}
	return 0;
}

/*
 * Connect, waiting up to the deadline for a listener that is not there yet
 * (no socket file, or nobody listening): like the other transports, dial
 * waits for the object it names.
 */
int
ik__sockchan_dial(struct ik_chan *c, int timeout_ms, char *err, size_t errlen)
{
	struct ik__deadline d;
	struct ik__backoff b;
	struct ik_sock *s = NULL;
	struct cfg k;
	bool named;
	int r;

	r = cfg_read(c, &k, err, errlen);
	if (r < 0)
		return r;
	ik__deadline_init(&d, timeout_ms);
	ik__dial_backoff_init(&b);
	for (;;) {
		int left = ik__deadline_left_ms(&d);

		/* a TCP handshake needs a moment: the last try is given a
		 * millisecond */
		r = ik_sock_connect(&s, k.kind, c->addr.rest, &k.so,
				    left == 0 ? 1 : left);
		if ((r != -ENOENT && r != -ECONNREFUSED) ||
		    ik__backoff_sleep(&b, &d) < 0)
			break;
	}
	if (r < 0)
		return r;
	if ((r = fit_sndbuf(s, k.kind, k.maxmsg, ik_scheme_name(c->addr.scheme),
			    err, errlen)) < 0 ||
	    (r = eof_mode(s, k.kind, &named)) < 0 ||
	    (r = adopt(c, s, &k, false, named)) < 0) {
		ik_sock_close(s);
		return r;
	}
	return 0;
}

int
ik__sockchan_accept(struct ik_chan *l, struct ik_chan *c, int timeout_ms)
{
	struct sockchan *lp = l->priv;
	struct ik_sock *s;
	struct cfg k = { .kind = lp->kind,
			 .raw = lp->raw,
			 .maxmsg = l->maxmsg };
	bool named;
	int r;

	r = ik_sock_accept(lp->s, &s, timeout_ms);
	if (r < 0)
		return r;
	if ((r = fit_sndbuf(s, k.kind, k.maxmsg, "", NULL, 0)) < 0 ||
	    (r = eof_mode(s, k.kind, &named)) < 0 ||
	    (r = adopt(c, s, &k, false, named)) < 0) {
		ik_sock_close(s);
		return r;
	}
	return 0;
}

/* A peer that reset the connection or refused our datagram is gone. */
static ssize_t
gone(ssize_t r)
{
	return r == -ECONNRESET || r == -ECONNREFUSED ? -EPIPE : r;
}

ssize_t
ik__sockchan_send(struct ik_chan *c, const void *buf, size_t len,
		  const struct ik_chan_meta *meta, int timeout_ms)
{
	struct sockchan *p = c->priv;
	int type = sock_type(p->kind);

	(void)meta;
	if (type == SOCK_STREAM && !p->raw)
		return gone(ik__frame_send(&p->fr, buf, len, timeout_ms));
	if (type == SOCK_STREAM)
		return gone(ik__frame_send_raw(&p->fr, buf, len, timeout_ms));
	if (type == SOCK_DGRAM && p->listener) {
		if (!p->have_peer)
			return -EDESTADDRREQ; /* nobody has written to us */
		return gone(
			ik_sock_sendto(p->s, buf, len, &p->peer, timeout_ms));
	}
	return gone(ik_sock_send(p->s, buf, len, timeout_ms));
}

/* SO_RCVTIMEO to ms (0: none), only when it differs from what is set. */
static int
set_rcvtimeo(struct sockchan *p, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	if (p->rcvtimeo_ms == ms)
		return 0;
	if (setsockopt(ik_sock_fd(p->s), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0)
		return -errno;
	p->rcvtimeo_ms = ms;
	return 0;
}

/*
 * A datagram with a deadline, in one system call: the kernel's own receive
 * timeout (set once while callers keep passing the same timeout) with a
 * blocking recvmsg, where polling took two calls (trying first, three).
 * The kernel rounds the timeout up to its tick, so it never ends early.
 * Returns the length, -ETIMEDOUT, a negative errno, or -EINTR for "not
 * done" (a signal cut the wait, or the option could not be set): the caller
 * goes on the polling way with what is left of d.
 */
static ssize_t
dgram_timed(struct sockchan *p, void *buf, size_t cap, int timeout_ms,
	    const struct ik__deadline *d)
{
	struct ik_sock_addr a = { .kind = p->kind };
	socklen_t alen = sizeof(a.ss);
	ssize_t n;

	if (set_rcvtimeo(p, timeout_ms) < 0)
		return -EINTR; /* polling still works */
	/* recvfrom, not recvmsg: one buffer, no control data (cheaper);
	 * with MSG_TRUNC it returns the datagram's real length */
	n = recvfrom(ik_sock_fd(p->s), buf, cap, MSG_TRUNC,
		     p->listener ? (struct sockaddr *)&a.ss : NULL,
		     p->listener ? &alen : NULL);
	if (n < 0) {
		if (errno == EAGAIN)
			return ik__deadline_expired(d) ? -ETIMEDOUT : -EINTR;
		return errno == EINTR ? -EINTR : gone(-errno);
	}
	if ((size_t)n > cap)
		return -EMSGSIZE; /* as ik_sock_recv: the kernel dropped it */
	if (p->listener) {
		a.len = alen;
		p->peer = a;
		p->have_peer = true;
	}
	return n;
}

/* Receive one message into buf (cap bytes), as the socket kind wants. */
static ssize_t
recv_one(struct sockchan *p, void *buf, size_t cap, int timeout_ms)
{
	struct ik_sock_addr from;
	struct ik_sock_cred cr;
	struct ik__deadline d;
	ssize_t n;

	if (sock_type(p->kind) == SOCK_DGRAM && timeout_ms > 0) {
		ik__deadline_init(&d, timeout_ms);
		n = dgram_timed(p, buf, cap, timeout_ms, &d);
		if (n != -EINTR)
			return n;
		timeout_ms = ik__deadline_left_ms(&d);
		if (timeout_ms == 0)
			return -ETIMEDOUT;
	} else if (sock_type(p->kind) == SOCK_DGRAM && timeout_ms < 0 &&
		   p->rcvtimeo_ms != 0) {
		/* no deadline: a blocking call without the kernel's timeout
		 * (if this fails, an expiry is EAGAIN and ik_sock polls) */
		set_rcvtimeo(p, 0);
	}
	if (sock_type(p->kind) == SOCK_SEQPACKET && p->named_peer) {
		bool named;

		n = ik__sock_recv_named(p->s, buf, cap, &named, timeout_ms);
		/* no sender name: not a message, the end of the connection */
		if (n == 0 && !named)
			return -EPIPE;
		return gone(n);
	}
	if (sock_type(p->kind) == SOCK_SEQPACKET) {
		n = ik_sock_recv_cred(p->s, buf, cap, &cr, timeout_ms);
		/* no credentials: not a message, the end of the connection */
		if (n == 0 && cr.pid == 0)
			return -EPIPE;
		return gone(n);
	}
	if (!p->listener)
		return gone(ik_sock_recv(p->s, buf, cap, timeout_ms));
	n = ik_sock_recvfrom(p->s, buf, cap, &from, timeout_ms);
	if (n >= 0) {
		p->peer = from;
		p->have_peer = true;
	}
	return n;
}

/*
 * A message that may not fit the caller's buffer is received whole into the
 * stage and kept there (-EMSGSIZE) for a call with a bigger buffer: one
 * system call either way, where peeking at the length first took two.
 */
static ssize_t
recv_msg(struct sockchan *p, void *buf, size_t cap, size_t maxmsg,
	 int timeout_ms)
{
	ssize_t n = p->staged;

	if (n < 0) {
		if (cap >= maxmsg)
			return recv_one(p, buf, cap, timeout_ms);
		if (p->stage == NULL && (p->stage = malloc(maxmsg)) == NULL)
			return -ENOMEM;
		n = recv_one(p, p->stage, maxmsg, timeout_ms);
		if (n < 0)
			return n;
		p->staged = n;
	}
	if ((size_t)n > cap)
		return -EMSGSIZE; /* kept */
	memcpy(buf, p->stage, (size_t)n);
	p->staged = -1;
	return n;
}

ssize_t
ik__sockchan_recv(struct ik_chan *c, void *buf, size_t cap,
		  struct ik_chan_meta *meta, int timeout_ms)
{
	struct sockchan *p = c->priv;

	(void)meta;
	if (sock_type(p->kind) != SOCK_STREAM)
		return recv_msg(p, buf, cap, c->maxmsg, timeout_ms);
	if (p->raw)
		return ik_sock_recv_some(p->s, buf, cap, timeout_ms);
	return gone(ik__frame_recv(&p->fr, buf, cap, timeout_ms));
}

int
ik__sockchan_fd(const struct ik_chan *c)
{
	struct sockchan *p = c->priv;

	/* framed: frames may wait in the framer's buffer, which the socket
	 * alone would not show */
	if (sock_type(p->kind) == SOCK_STREAM && !p->raw && !p->listener)
		return ik__frame_ready_fd(&p->fr);
	return ik_sock_fd(p->s);
}

/*
 * A tcp/udp listener on port 0, and the connections it accepts, show the
 * port the kernel picked.
 */
int
ik__sockchan_addr(const struct ik_chan *c, char *buf, size_t len)
{
	const struct sockchan *p = c->priv;
	struct ik_sock_addr a;
	struct ik_addr *copy;
	uint16_t port;
	int r;

	if (is_unix(p->kind) || c->addr.port != 0)
		return ik_addr_format(&c->addr, buf, len);
	r = ik_sock_local_addr(p->s, &a);
	if (r < 0)
		return r;
	if (a.ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&a.ss)->sin_port);
	else if (a.ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port);
	else
		return -EAFNOSUPPORT;
	copy = malloc(sizeof(*copy));
	if (copy == NULL)
		return -ENOMEM;
	*copy = c->addr;
	copy->port = port;
	if (copy->host[0] == '\0') /* the wildcard: formatted from rest */
		snprintf(copy->rest, sizeof(copy->rest), ":%u", (unsigned)port);
	r = ik_addr_format(copy, buf, len);
	free(copy);
	return r;
}

int
ik__sockchan_close(struct ik_chan *c)
{
	struct sockchan *p = c->priv;
	int r = 0, r2;

	if (sock_type(p->kind) == SOCK_STREAM && !p->listener) {
		/* a send cut by a timeout: the peer gets the rest or EOF */
		r = ik__frame_flush(&p->fr, 1000);
		ik__frame_fini(&p->fr);
		if (r == -EPIPE || r == -ECONNRESET)
			r = 0; /* nobody left to read it */
	}
	r2 = ik_sock_close(p->s);
	if (r == 0)
		r = r2;
	free(p->stage);
	free(p);
	return r;
}
