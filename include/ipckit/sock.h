/*
 * Sockets: Unix domain (stream, datagram, seqpacket; on a path or in the
 * abstract namespace) and TCP/UDP over IPv4 and IPv6. Stream calls move all
 * the bytes asked for or fail; datagram and seqpacket calls move exactly one
 * message and never truncate silently. Every descriptor is close-on-exec,
 * socket files are made 0600 and removed by the process that bound them, and
 * a send to a vanished peer returns -EPIPE instead of raising SIGPIPE.
 */
#ifndef IPCKIT_SOCK_H
#define IPCKIT_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What to open, and how the address text is read:
 *   UNIX_*      a filesystem path ("/run/user/1000/app.sock")
 *   ABSTRACT_*  a Linux abstract-namespace name, without the leading NUL
 *               ("app"); it vanishes with the last socket bound to it
 *   TCP, UDP    "host:port", "[v6addr]:port"; an empty host (":8080") is the
 *               wildcard address for bind and the loopback for connect
 */
enum ik_sock_kind {
	IK_SOCK_UNIX_STREAM,
	IK_SOCK_UNIX_DGRAM,
	IK_SOCK_UNIX_SEQPACKET,
	IK_SOCK_ABSTRACT_STREAM,
	IK_SOCK_ABSTRACT_DGRAM,
	IK_SOCK_ABSTRACT_SEQPACKET,
	IK_SOCK_TCP,
	IK_SOCK_UDP,
};

/* A resolved address, as ik_sock_resolve and the *_addr calls fill it. */
struct ik_sock_addr {
	enum ik_sock_kind kind;
	socklen_t len;
	struct sockaddr_storage ss;
};

/* Flags of struct ik_sock_opts and ik_sock_resolve. */
#define IK_SOCK_NUMERIC 0x1  /* host and port must be numeric: no DNS */
#define IK_SOCK_NONBLOCK 0x2 /* the socket (and accepted ones) O_NONBLOCK */

/* Most descriptors one message may carry (the kernel's SCM_MAX_FD). */
#define IK_SOCK_MAX_FDS 253

/* Options; a NULL pointer means all defaults. */
struct ik_sock_opts {
	int backlog;   /* listen backlog; <= 0 means SOMAXCONN */
	unsigned mode; /* socket file permissions; 0 means 0600 */
	unsigned flags;
};

/* A process's credentials, as the kernel vouches for them. */
struct ik_sock_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

struct ik_sock;

/*
 * Resolve (kind, text) into *out (getaddrinfo for TCP/UDP: the first
 * result). Returns 0; IK_EBADADDR for malformed text or a port out of range;
 * -ENAMETOOLONG when a path or name does not fit sun_path (never truncated);
 * -ENXIO for an unknown host, -EAGAIN for a temporary DNS failure; -EINVAL
 * for a bad kind. Does not block except on DNS (use IK_SOCK_NUMERIC).
 */
int ik_sock_resolve(enum ik_sock_kind kind, const char *text, unsigned flags,
		    struct ik_sock_addr *out);

/*
 * Write the text ik_sock_resolve accepts for a's kind: a path, an abstract
 * name, "1.2.3.4:80" or "[::1]:80" ("" for an unnamed Unix socket). Returns
 * the length, -ENOSPC if buf is too small, IK_EBADADDR if a cannot be
 * written as text (an abstract name holding a NUL byte, an unknown family).
 */
int ik_sock_format(const struct ik_sock_addr *a, char *buf, size_t len);

/*
 * Bind a socket of any kind without listening (a datagram server, or a
 * stream socket to listen on later). For a Unix path: a leftover socket file
 * whose server is gone (connect is refused) and that we own is replaced; a
 * path with a live socket behind it is -EADDRINUSE; a path that is not a
 * socket is IK_ENOTSOCK_PATH; a stale socket of another user is IK_EOWNER.
 * The file is created with opts->mode (0600) and unlinked by ik_sock_close
 * in this process only. TCP listeners set SO_REUSEADDR; UDP never does.
 */
int ik_sock_bind(struct ik_sock **out, enum ik_sock_kind kind, const char *addr,
		 const struct ik_sock_opts *opts);

/*
 * ik_sock_bind, then listen(2). -EOPNOTSUPP for datagram kinds. The
 * listening descriptor is always non-blocking: ik_sock_accept waits in poll,
 * so a connection taken by another process never blocks it past its
 * deadline. Port 0 picks a free port; read it back with ik_sock_local_addr.
 */
int ik_sock_listen(struct ik_sock **out, enum ik_sock_kind kind,
		   const char *addr, const struct ik_sock_opts *opts);

/*
 * Accept one connection, waiting up to timeout_ms (-1 forever, 0 not at
 * all). Returns 0 and *out, -ETIMEDOUT, -EAGAIN (timeout 0, nobody
 * waiting), or a negative errno. Connections the network aborted before
 * they were accepted are skipped.
 */
int ik_sock_accept(struct ik_sock *srv, struct ik_sock **out, int timeout_ms);

/*
 * Connect to addr within timeout_ms. TCP tries each resolved address in turn
 * (non-blocking connect, poll, SO_ERROR); Unix sockets wait for room in a
 * full listen backlog. A Unix datagram or seqpacket socket is first bound to
 * an automatic abstract name, so that the peer can answer it (datagram) and
 * its messages carry a sender name (seqpacket). Returns 0, -ECONNREFUSED,
 * -ENOENT (no such socket file), -ETIMEDOUT, -EAGAIN (timeout 0, backlog
 * full), the errors of ik_sock_resolve, or another negative errno.
 */
int ik_sock_connect(struct ik_sock **out, enum ik_sock_kind kind,
		    const char *addr, const struct ik_sock_opts *opts,
		    int timeout_ms);

/*
 * A connected pair of Unix sockets (socketpair) for a Unix or abstract kind;
 * -EOPNOTSUPP for TCP and UDP.
 */
int ik_sock_pair(enum ik_sock_kind kind, struct ik_sock *out[2]);

/*
 * Close the socket and free the handle (NULL is accepted). The socket file
 * is unlinked only by the process that bound it, and only while the path
 * still names that same file. Returns 0 or the unlink error.
 */
int ik_sock_close(struct ik_sock *s);

/* The descriptor (still owned by the handle) and the kind. */
int ik_sock_fd(const struct ik_sock *s);
enum ik_sock_kind ik_sock_kind(const struct ik_sock *s);

/* getsockname / getpeername into *out. 0 or a negative errno. */
int ik_sock_local_addr(const struct ik_sock *s, struct ik_sock_addr *out);
int ik_sock_peer_addr(const struct ik_sock *s, struct ik_sock_addr *out);

/* Set or clear O_NONBLOCK. Timeouts of the calls below work either way. */
int ik_sock_set_nonblock(struct ik_sock *s, bool on);

/* shutdown(2): how is SHUT_RD, SHUT_WR or SHUT_RDWR. */
int ik_sock_shutdown(struct ik_sock *s, int how);

/*
 * Send. Stream kinds: all len bytes (partial sends completed), returns len.
 * Other kinds: one message of len bytes, -EMSGSIZE if too big for the
 * socket. -EPIPE when the peer is gone (never SIGPIPE), -ETIMEDOUT when the
 * deadline passed (a stream may then hold part of the data: drop it),
 * -EAGAIN with timeout 0 and no room, or a negative errno.
 */
ssize_t ik_sock_send(struct ik_sock *s, const void *buf, size_t len,
		     int timeout_ms);

/*
 * Receive. Stream kinds: len bytes, fewer only at end of stream (0 at once
 * means the peer closed). Other kinds: one message, returns its length;
 * -EMSGSIZE if it was longer than len (the message is consumed: the kernel
 * keeps no rest). -ETIMEDOUT, -EAGAIN (timeout 0), -ECONNRESET, or a
 * negative errno. Descriptors sent along are closed by the kernel; use
 * ik_sock_recv_fds to take them.
 */
ssize_t ik_sock_recv(struct ik_sock *s, void *buf, size_t len, int timeout_ms);

/*
 * Like ik_sock_recv, but on a stream returns as soon as at least one byte is
 * there (up to len); 0 means end of stream.
 */
ssize_t ik_sock_recv_some(struct ik_sock *s, void *buf, size_t len,
			  int timeout_ms);

/* One datagram to / from an explicit address (from may be NULL). */
ssize_t ik_sock_sendto(struct ik_sock *s, const void *buf, size_t len,
		       const struct ik_sock_addr *to, int timeout_ms);
ssize_t ik_sock_recvfrom(struct ik_sock *s, void *buf, size_t len,
			 struct ik_sock_addr *from, int timeout_ms);

/*
 * Send len bytes with nfds descriptors (SCM_RIGHTS; 1..IK_SOCK_MAX_FDS) over
 * a Unix socket; the receiver gets its own duplicates. On a stream the
 * descriptors travel with the first byte, so len must be >= 1. Returns len,
 * -EBADF if one of fds is not open, -EINVAL for bad counts, -EOPNOTSUPP on
 * TCP/UDP, or the errors of ik_sock_send.
 */
ssize_t ik_sock_send_fds(struct ik_sock *s, const void *buf, size_t len,
			 const int *fds, size_t nfds, int timeout_ms);

/*
 * Receive one message (on a stream: one recvmsg, at least one byte) and the
 * descriptors sent with it, close-on-exec. *nfds is the room in fds on
 * entry and the number received on return. If the descriptors did not all
 * fit (more than *nfds, or the kernel truncated the control data) every one
 * that arrived is closed and IK_ECTRUNC returned: none leaks, none is
 * silently lost. Otherwise the errors of ik_sock_recv.
 */
ssize_t ik_sock_recv_fds(struct ik_sock *s, void *buf, size_t len, int *fds,
			 size_t *nfds, int timeout_ms);

/* SO_PEERCRED: who was at the other end when the connection was made. */
int ik_sock_peer_cred(const struct ik_sock *s, struct ik_sock_cred *out);

/*
 * SO_PASSCRED: have the kernel attach the sender's credentials to each
 * message (SCM_CREDENTIALS). Set it before the peer sends.
 */
int ik_sock_set_passcred(struct ik_sock *s, bool on);

/*
 * Receive like ik_sock_recv_fds with no room for descriptors, and the
 * sender's credentials into *cred: pid 0 when the message came without
 * them (SO_PASSCRED was off when it was sent).
 */
ssize_t ik_sock_recv_cred(struct ik_sock *s, void *buf, size_t len,
			  struct ik_sock_cred *cred, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
