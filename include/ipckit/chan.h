/*
 * Channels: one message interface over every mechanism, chosen by address
 * (<ipckit/addr.h>): fifo, unix, unixgram, unixpacket, abstract, tcp, udp,
 * pmq, svmq, shm. Message boundaries are kept everywhere: byte streams
 * (fifo, unix, abstract, tcp) carry each message behind a 4-byte big-endian
 * length, unless the address says `?raw=1`, in which case bytes pass as they
 * come (how plain tools such as socat, nc and cat interoperate).
 *
 * listen = the side that creates (or binds) the object and later removes it;
 * dial = the side that opens (or connects to) an existing one. Where the
 * mechanism has connections (unix, unixpacket, abstract, tcp) a listener
 * hands them out with ik_chan_accept; elsewhere the listening handle itself
 * carries messages. One-way mechanisms (fifo: listener reads, dialer writes)
 * return -EOPNOTSUPP in the other direction: a request/reply pair over them
 * is two channels (two FIFOs, two queues, or one System V queue with two
 * message types: svmq:KEY?type=1 one way and ?type=2 the other).
 */
#ifndef IPCKIT_CHAN_H
#define IPCKIT_CHAN_H

#include <stddef.h>
#include <sys/types.h>

#include <ipckit/addr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ik_chan;

/* What a handle can do (ik_chan_caps). */
enum {
	IK_CHAN_SEND = 1 << 0,	  /* ik_chan_send works */
	IK_CHAN_RECV = 1 << 1,	  /* ik_chan_recv works */
	IK_CHAN_ACCEPT = 1 << 2,  /* a listener of connections */
	IK_CHAN_STREAM = 1 << 3,  /* a byte stream underneath (framed) */
	IK_CHAN_RAW = 1 << 4,	  /* ?raw=1: no framing */
	IK_CHAN_DGRAM = 1 << 5,	  /* connectionless: no peer to lose */
	IK_CHAN_ZEROCOPY = 1 << 6 /* shm: the ring's reserve/peek exist */
};

/* Per-message metadata for the mechanisms that have it. */
struct ik_chan_meta {
	long type;	   /* svmq: message type (> 0); 0 = the address's */
	unsigned priority; /* pmq: priority */
};

/*
 * Create/bind the object named by addr. err (may be NULL) receives one line
 * saying what was wrong on failure. Returns 0 and *out, or a negative
 * errno / IK_E* code (IK_EBADADDR, IK_EBADSCHEME for a bad address).
 */
int ik_chan_listen(struct ik_chan **out, const char *addr, char *err,
		   size_t errlen);

/* Open/connect to an existing object, waiting up to timeout_ms for it. */
int ik_chan_dial(struct ik_chan **out, const char *addr, int timeout_ms,
		 char *err, size_t errlen);

/*
 * Wait up to timeout_ms for a connection on a listener (IK_CHAN_ACCEPT).
 * -EOPNOTSUPP on channels without connections.
 */
int ik_chan_accept(struct ik_chan *l, struct ik_chan **out, int timeout_ms);

/*
 * Send one message of len bytes (len may be 0). Returns len, -EMSGSIZE
 * above ik_chan_maxmsg, -EAGAIN when non-blocking and full, -ETIMEDOUT,
 * -EPIPE when the other side is gone, -EOPNOTSUPP for a receive-only handle.
 */
ssize_t ik_chan_send(struct ik_chan *c, const void *buf, size_t len,
		     int timeout_ms);

/*
 * Receive one message into buf. Returns its length; -EMSGSIZE when it does
 * not fit in cap (the message is kept for a later call with a bigger buffer,
 * on every transport; raw streams have no messages and return what fits).
 * A message above the channel's maxmsg is the peer breaking the contract:
 * on framed streams it is -EBADMSG (below); on datagram and seqpacket
 * sockets the kernel truncates it, and it is reported -EMSGSIZE and lost;
 * a buffer of maxmsg bytes or more always receives any message that fits;
 * -EPIPE when the other side has closed (end of stream; raw streams return
 * 0 instead); -EBADMSG for a malformed frame (the connection is then
 * unusable: close it); -EAGAIN, -ETIMEDOUT; -EOPNOTSUPP for send-only.
 */
ssize_t ik_chan_recv(struct ik_chan *c, void *buf, size_t cap, int timeout_ms);

/* The same, with metadata (svmq type, pmq priority); meta may be NULL. */
ssize_t ik_chan_sendm(struct ik_chan *c, const void *buf, size_t len,
		      const struct ik_chan_meta *meta, int timeout_ms);
ssize_t ik_chan_recvm(struct ik_chan *c, void *buf, size_t cap,
		      struct ik_chan_meta *meta, int timeout_ms);

/* IK_CHAN_* bits. */
int ik_chan_caps(const struct ik_chan *c);

/* The largest message this channel carries. */
size_t ik_chan_maxmsg(const struct ik_chan *c);

/*
 * A descriptor that polls readable (events = POLLIN) when a message or a
 * connection may be waiting, for <ipckit/loop.h>. Readiness is a hint: the
 * following non-blocking recv may still return -EAGAIN. -EOPNOTSUPP where
 * the mechanism offers none (svmq; shm, whose named rings have no eventfd).
 */
int ik_chan_fd(const struct ik_chan *c);

/* Non-blocking mode for every later call (timeouts then mean 0). */
int ik_chan_set_nonblock(struct ik_chan *c, int on);

/* The canonical address (tcp:HOST:0 listeners show the bound port). */
int ik_chan_addr(const struct ik_chan *c, char *buf, size_t len);

/* The scheme of the channel. */
enum ik_scheme ik_chan_scheme(const struct ik_chan *c);

/*
 * Close; a listener removes the object it created (FIFO, socket file,
 * queue, segment). Returns 0 or the first error met while cleaning up.
 */
int ik_chan_close(struct ik_chan *c);

#ifdef __cplusplus
}
#endif
#endif
