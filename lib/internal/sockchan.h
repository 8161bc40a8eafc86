/*
 * The socket channel transports (unix, abstract, unixgram, unixpacket, tcp,
 * udp) share one body, lib/transports/sockchan.c: each scheme file is only
 * its option list and this ops table. What differs between schemes (socket
 * kind, framing, defaults) follows from c->addr, so the body needs no
 * per-scheme hooks.
 */
#ifndef IK_INTERNAL_SOCKCHAN_H
#define IK_INTERNAL_SOCKCHAN_H

#include "transport.h"

int ik__sockchan_listen(struct ik_chan *c, char *err, size_t errlen);
int ik__sockchan_dial(struct ik_chan *c, int timeout_ms, char *err,
		      size_t errlen);
int ik__sockchan_accept(struct ik_chan *l, struct ik_chan *c, int timeout_ms);
ssize_t ik__sockchan_send(struct ik_chan *c, const void *buf, size_t len,
			  const struct ik_chan_meta *meta, int timeout_ms);
ssize_t ik__sockchan_recv(struct ik_chan *c, void *buf, size_t cap,
			  struct ik_chan_meta *meta, int timeout_ms);
int ik__sockchan_fd(const struct ik_chan *c);
int ik__sockchan_addr(const struct ik_chan *c, char *buf, size_t len);
int ik__sockchan_close(struct ik_chan *c);

/* The ops every socket scheme shares; the scheme adds .scheme, .options. */
#define IK__SOCKCHAN_OPS                                          \
	.listen = ik__sockchan_listen, .dial = ik__sockchan_dial, \
	.accept = ik__sockchan_accept, .send = ik__sockchan_send, \
	.recv = ik__sockchan_recv, .fd = ik__sockchan_fd,         \
	.addr = ik__sockchan_addr, .close = ik__sockchan_close

/* Defaults (also in ik_chan(3)). */
#define IK__SOCKCHAN_STREAM_MAX (16u << 20) /* framed stream message */
#define IK__SOCKCHAN_UNIX_MAX (64u << 10)   /* unixgram, unixpacket */
#define IK__SOCKCHAN_UDP_MAX 65507u	    /* 64 KiB - IP and UDP headers */

#endif
