/*
 * Socket addresses: (kind, text) to sockaddr and back. Unix paths and
 * abstract names are checked against sun_path's size and never truncated;
 * "host:port" and "[v6]:port" go through getaddrinfo (or only numeric
 * parsing with IK_SOCK_NUMERIC), ports checked to be 0..65535.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "internal/sock.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

int
ik__sock_type(enum ik_sock_kind kind)
{
	switch (kind) {
	case IK_SOCK_UNIX_DGRAM:
	case IK_SOCK_ABSTRACT_DGRAM:
	case IK_SOCK_UDP:
		return SOCK_DGRAM;
	case IK_SOCK_UNIX_SEQPACKET:
	case IK_SOCK_ABSTRACT_SEQPACKET:
		return SOCK_SEQPACKET;
	default:
		return SOCK_STREAM;
	}
}

static int
resolve_unix(enum ik_sock_kind kind, const char *text, struct ik_sock_addr *a)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
	size_t n = strlen(text);
	size_t off = ik__sock_is_abstract(kind) ? 1 : 0;

	if (n == 0)
		return IK_EBADADDR;
	/* paths keep their NUL inside sun_path; abstract names need none */
	if (n + off + (off ? 0 : 1) > SUN_PATH_MAX)
		return -ENAMETOOLONG;
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path + off, text, n);
	/* an abstract name is exactly its bytes: the length says where it ends
	 */
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + off + n +
			     (off ? 0 : 1));
	return 0;
}

static int
gai_to_errno(int e)
{
	switch (e) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
	case EAI_ADDRFAMILY:
		return -ENXIO;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	default:
		return IK_EBADADDR;
	}
}

/*
 * Split "host:port" / "[v6]:port" into host (may be empty) and port, then
 * getaddrinfo. The caller frees *res.
 */
int
ik__sock_lookup(enum ik_sock_kind kind, const char *text, unsigned flags,
		bool passive, struct addrinfo **res)
{
	struct addrinfo hints = { 0 };
	char host[256];
	const char *port, *colon;
	size_t hlen;
	int e;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL || end[1] != ':')
			return IK_EBADADDR;
		hlen = (size_t)(end - text - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return IK_EBADADDR;
		memcpy(host, text + 1, hlen);
		port = end + 2;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text)))
			return IK_EBADADDR; /* v6 needs brackets */
		hlen = (size_t)(colon - text);
		if (hlen >= sizeof(host))
			return IK_EBADADDR;
		memcpy(host, text, hlen);
		port = colon + 1;
	}
	if (port[0] == '\0')
		return IK_EBADADDR;
	host[hlen] = '\0';
	if (strspn(port, "0123456789") == strlen(port)) {
		/* NOLINTNEXTLINE(cert-err34-c): <= 5 digits, checked */
		if (strlen(port) > 5 || atoi(port) > 65535)
			return IK_EBADADDR;
	} else if (flags & IK_SOCK_NUMERIC) {
		return IK_EBADADDR;
	}
	hints.ai_socktype = ik__sock_type(kind);
	hints.ai_protocol = kind == IK_SOCK_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
	if (flags & IK_SOCK_NUMERIC)
		hints.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
	/* loopback-only hosts have no configured address for AI_ADDRCONFIG */
	if (hlen > 0)
		hints.ai_flags &= ~AI_ADDRCONFIG;
	errno = 0;
	e = getaddrinfo(hlen ? host : NULL, port, &hints, res);
	/* with DNS ruled out, a host that is no number is malformed text */
	if (e == EAI_NONAME && (flags & IK_SOCK_NUMERIC))
		return IK_EBADADDR;
	return e ? gai_to_errno(e) : 0;
}

static void
fill_inet(struct ik_sock_addr *a, enum ik_sock_kind kind,
	  const struct addrinfo *ai)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->len = ai->ai_addrlen;
	memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
}

int
ik_sock_resolve(enum ik_sock_kind kind, const char *text, unsigned flags,
		struct ik_sock_addr *out)
{
	struct ik_sock_addr a = { .kind = kind };
	struct addrinfo *res;
	int r;

	if (!ik__sock_valid_kind(kind) || text == NULL || out == NULL)
		return -EINVAL;
	if (ik__sock_is_unix(kind)) {
		r = resolve_unix(kind, text, &a);
		if (r < 0)
			return r;
		*out = a;
		return 0;
	}
	r = ik__sock_lookup(kind, text, flags, false, &res);
	if (r < 0)
		return r;
	fill_inet(out, kind, res);
	freeaddrinfo(res);
	return 0;
}

static int
format_unix(const struct ik_sock_addr *a, char *buf, size_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
	size_t off = offsetof(struct sockaddr_un, sun_path), n;
	const char *p = un->sun_path;

	if (a->len < off || a->len > sizeof(*un))
		return IK_EBADADDR;
	n = a->len - off;
	if (n > 0 && p[0] == '\0') { /* abstract: exactly n - 1 bytes */
		p++;
		n--;
		if (memchr(p, '\0', n) != NULL)
			return IK_EBADADDR;
	} else {
		n = strnlen(p, n);
	}
	if (n >= len)
		return -ENOSPC;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return (int)n;
}

int
ik_sock_format(const struct ik_sock_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	unsigned port;
	int n;

	if (a == NULL || buf == NULL)
		return -EINVAL;
	switch (a->ss.ss_family) {
	case AF_UNIX:
		return format_unix(a, buf, len);
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)&a->ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		n = snprintf(buf, len, "%s:%u", host, port);
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)&a->ss;
		size_t h;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		h = strlen(host);
		if (in6->sin6_scope_id != 0)
			snprintf(host + h, sizeof(host) - h, "%%%u",
				 (unsigned)in6->sin6_scope_id);
		port = ntohs(in6->sin6_port);
		n = snprintf(buf, len, "[%s]:%u", host, port);
		break;
	}
	default:
		return IK_EBADADDR;
	}
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}
