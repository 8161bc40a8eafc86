/* Shared between lib/sock.c and lib/sock_addr.c: kinds to socket types and
 * address lookup (getaddrinfo for tcp/udp, sockaddr_un for the others). */
#ifndef IK_INTERNAL_SOCK_H
#define IK_INTERNAL_SOCK_H

#include <netdb.h>
#include <stdbool.h>
#include <sys/types.h>

#include <ipckit/sock.h>

int ik__sock_type(enum ik_sock_kind kind);
int ik__sock_lookup(enum ik_sock_kind kind, const char *text, unsigned flags,
		    bool passive, struct addrinfo **res);

static inline bool
ik__sock_valid_kind(enum ik_sock_kind kind)
{
	return kind >= IK_SOCK_UNIX_STREAM && kind <= IK_SOCK_UDP;
}

/* Unix domain: on a path or abstract (the enum lists those first). */
static inline bool
ik__sock_is_unix(enum ik_sock_kind kind)
{
	return kind <= IK_SOCK_ABSTRACT_SEQPACKET;
}

static inline bool
ik__sock_is_abstract(enum ik_sock_kind kind)
{
	return kind >= IK_SOCK_ABSTRACT_STREAM &&
	       kind <= IK_SOCK_ABSTRACT_SEQPACKET;
}

/* One message and whether it carried its sender's address (sock_io.c). */
ssize_t ik__sock_recv_named(struct ik_sock *s, void *buf, size_t len,
			    bool *named, int timeout_ms);

#endif
