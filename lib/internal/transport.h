/*
 * The contract between lib/chan.c and lib/transports/<scheme>.c. A transport
 * is one file defining one `const struct ik__transport`, listed once in
 * lib/transports/list.h. chan.c validates arguments, applies the
 * non-blocking flag and the generic option list, and dispatches; all
 * per-scheme knowledge lives in the transport.
 */
#ifndef IK_INTERNAL_TRANSPORT_H
#define IK_INTERNAL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ipckit/addr.h>
#include <ipckit/chan.h>

#include "time.h"

struct ik_chan {
	const struct ik__transport *t;
	struct ik_addr addr;
	int caps;      /* IK_CHAN_* */
	size_t maxmsg; /* largest message */
	bool nonblock; /* every call behaves as timeout 0 */
	bool broken;   /* a framing error was seen: only close is left */
	void *priv;    /* the transport's state */
};

struct ik__transport {
	enum ik_scheme scheme;
	/* address options this transport understands (NULL-terminated);
	 * chan.c refuses any other */
	const char *const *options;
	/* fill c->caps, c->maxmsg, c->priv; on failure leave nothing behind */
	int (*listen)(struct ik_chan *c, char *err, size_t errlen);
	int (*dial)(struct ik_chan *c, int timeout_ms, char *err,
		    size_t errlen);
	/* NULL when the mechanism has no connections */
	int (*accept)(struct ik_chan *l, struct ik_chan *c, int timeout_ms);
	ssize_t (*send)(struct ik_chan *c, const void *buf, size_t len,
			const struct ik_chan_meta *meta, int timeout_ms);
	ssize_t (*recv)(struct ik_chan *c, void *buf, size_t cap,
			struct ik_chan_meta *meta, int timeout_ms);
	int (*fd)(const struct ik_chan *c);
	/* NULL when the transport needs nothing beyond c->nonblock */
	int (*set_nonblock)(struct ik_chan *c, bool on);
	/* optional: the canonical address (bound port); NULL uses c->addr */
	int (*addr)(const struct ik_chan *c, char *buf, size_t len);
	int (*close)(struct ik_chan *c);
};

/*
 * A dialler waits for the object its listener has yet to create by trying
 * again 1 ms later, backing off to 50 ms: one pace for every transport.
 */
static inline void
ik__dial_backoff_init(struct ik__backoff *b)
{
	ik__backoff_init(b, 1000000, 50000000);
}

/* Write one line to err (if any) and return IK_EBADADDR. */
__attribute__((format(printf, 3, 4))) int ik__chan_bad(char *err, size_t errlen,
						       const char *fmt, ...);

/*
 * Length-prefixed framing over a byte-stream descriptor, shared by the
 * stream transports: a 4-byte big-endian length, then the bytes.
 */
#define IK__FRAME_RBUF 65536 /* read buffer: one read() per small frame */

struct ik__framer {
	int fd;
	int io_flags;  /* IK__IO_SOCKET for sockets */
	size_t maxmsg; /* frames longer than this are -EBADMSG */
	/*
	 * Receive side. Small frames are read through a buffer, so a frame
	 * usually costs one read(); bytes already read are never dropped,
	 * whatever the timeouts. A frame too big for the buffer goes straight
	 * to the caller's memory; if a timeout cuts it, what arrived is kept
	 * in body for the next call.
	 */
	unsigned char *rbuf;
	size_t roff, rlen; /* buffered bytes are rbuf[roff..rlen) */
	bool in_body;	   /* a big frame's body is under way */
	size_t body_len, body_got;
	unsigned char *body;
	/*
	 * Readiness: buffered frames leave nothing readable in the kernel, so
	 * once a caller asks for a descriptor (ik__frame_ready_fd) it gets an
	 * epoll set of the stream and an eventfd kept readable exactly while
	 * a complete frame waits in the buffer.
	 */
	int evfd, epfd;
	bool ev_on;
	/* send side: once a frame's first byte is written the rest must
	 * follow, or the stream is corrupt; a remainder left by a timeout is
	 * kept here and written first by the next send (or flush) */
	unsigned char *out;
	size_t out_len, out_off;
};

void ik__frame_init(struct ik__framer *f, int fd, int io_flags, size_t maxmsg);
ssize_t ik__frame_send(struct ik__framer *f, const void *buf, size_t len,
		       int timeout_ms);
ssize_t ik__frame_recv(struct ik__framer *f, void *buf, size_t cap,
		       int timeout_ms);
/* Raw streams: bytes with no frame, the same promise about a cut write. */
ssize_t ik__frame_send_raw(struct ik__framer *f, const void *buf, size_t len,
			   int timeout_ms);
/* Write out a remainder kept by a timed-out send. */
int ik__frame_flush(struct ik__framer *f, int timeout_ms);
/* A descriptor that polls readable when a frame may be received (above). */
int ik__frame_ready_fd(struct ik__framer *f);
/* Bytes received and held for later calls (for tests). */
size_t ik__frame_held(const struct ik__framer *f);
/* Free the buffers and descriptors (the stream belongs to the caller). */
void ik__frame_fini(struct ik__framer *f);

#endif
