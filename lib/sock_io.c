/*
 * Sockets, the data: streams completed across partial transfers, one message
 * per call otherwise with truncation reported, descriptors and credentials
 * over Unix sockets. Every transfer uses MSG_DONTWAIT and waits in poll, so
 * its deadline holds whether the socket is blocking or not (a blocking send
 * after POLLOUT could otherwise sleep past it), and MSG_NOSIGNAL, so a
 * vanished peer is -EPIPE, never SIGPIPE.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "internal/io.h"
#include "internal/sock.h"

/* Room for the most descriptors a message can carry plus credentials. */
union ctl {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * IK_SOCK_MAX_FDS) +
		 CMSG_SPACE(sizeof(struct ucred))];
};

static bool
is_stream(const struct ik_sock *s)
{
	enum ik_sock_kind k = ik_sock_kind(s);

	return k == IK_SOCK_UNIX_STREAM || k == IK_SOCK_ABSTRACT_STREAM ||
	       k == IK_SOCK_TCP;
}

static bool
is_unix(const struct ik_sock *s)
{
	return ik_sock_kind(s) <= IK_SOCK_ABSTRACT_SEQPACKET;
}

/*
 * After a transfer failed (errno set): 0 to try again, interrupted or now
 * ready, or the error to return. msg_out and msg_in share this tail, only
 * reached when the first try did not move a message.
 */
static inline int
retry_after(int fd, short events, const struct ik__deadline *d, int timeout_ms)
{
	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN)
		return -errno;
	if (timeout_ms == 0)
		return -EAGAIN;
	return ik__wait_fd(fd, events, d);
}

/* One sendmsg, waiting for room until the deadline. */
static ssize_t
msg_out(int fd, const struct msghdr *m, const struct ik__deadline *d,
	int timeout_ms)
{
	ssize_t n;
	int r;

	for (;;) {
		/* one buffer, no control data: sendto, which measured ~100 ns
		 * cheaper than sendmsg (no header or vector to copy in) */
		if (m->msg_iovlen == 1 && m->msg_controllen == 0)
			n = sendto(fd, m->msg_iov->iov_base,
				   m->msg_iov->iov_len,
				   MSG_NOSIGNAL | MSG_DONTWAIT, m->msg_name,
				   m->msg_namelen);
		else
			n = sendmsg(fd, m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		r = retry_after(fd, POLLOUT, d, timeout_ms);
		if (r < 0)
			return r;
	}
}

/* One recvmsg, waiting for data until the deadline. */
static ssize_t
msg_in(int fd, struct msghdr *m, int flags, const struct ik__deadline *d,
       int timeout_ms)
{
	ssize_t n;
	int r;

	for (;;) {
		/* no deadline: one blocking call (trying, then polling, then
		 * trying again costs three when the data is not there yet) */
		int f = flags | (timeout_ms < 0 ? 0 : MSG_DONTWAIT);

		if (m->msg_iovlen == 1 && m->msg_control == NULL) {
			/* one buffer, no control data: recvfrom (cheaper than
			 * recvmsg, as for sendto); MSG_TRUNC then returns the
			 * datagram's real length, which callers compare */
			socklen_t alen = m->msg_namelen;

			n = recvfrom(fd, m->msg_iov->iov_base,
				     m->msg_iov->iov_len, f, m->msg_name,
				     m->msg_name != NULL ? &alen : NULL);
			if (n >= 0) {
				m->msg_namelen = m->msg_name != NULL ? alen : 0;
				m->msg_flags =
					(flags & MSG_TRUNC) &&
							(size_t)n >
								m->msg_iov
									->iov_len
						? MSG_TRUNC
						: 0;
				return n;
			}
		} else {
			n = recvmsg(fd, m, f | MSG_CMSG_CLOEXEC);
		}
		if (n >= 0)
			return n;
		r = retry_after(fd, POLLIN, d, timeout_ms);
		if (r < 0)
			return r;
	}
}

/*
 * Send all of m's single iovec on a stream; control data (descriptors) go
 * with the first piece only.
 */
static ssize_t
send_all(int fd, struct msghdr *m, const struct ik__deadline *d, int timeout_ms)
{
	size_t len = m->msg_iov->iov_len, done = 0;
	char *base = m->msg_iov->iov_base;
	ssize_t n;

	while (done < len) {
		m->msg_iov->iov_base = base + done;
		m->msg_iov->iov_len = len - done;
		n = msg_out(fd, m, d, timeout_ms);
		if (n < 0)
			return n == -EAGAIN && done > 0 ? -ETIMEDOUT : n;
		done += (size_t)n;
		m->msg_control = NULL;
		m->msg_controllen = 0;
	}
	return (ssize_t)done;
}

ssize_t
ik_sock_send(struct ik_sock *s, const void *buf, size_t len, int timeout_ms)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ik__deadline d;

	if (s == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	if (is_stream(s))
		return send_all(ik_sock_fd(s), &m, &d, timeout_ms);
	return msg_out(ik_sock_fd(s), &m, &d, timeout_ms);
}

ssize_t
ik_sock_sendto(struct ik_sock *s, const void *buf, size_t len,
	       const struct ik_sock_addr *to, int timeout_ms)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ik__deadline d;

	if (s == NULL || to == NULL || (buf == NULL && len > 0) ||
	    to->len > sizeof(to->ss))
		return -EINVAL;
	if (is_stream(s))
		return -EOPNOTSUPP;
	m.msg_name = (void *)&to->ss;
	m.msg_namelen = to->len;
	ik__deadline_init(&d, timeout_ms);
	return msg_out(ik_sock_fd(s), &m, &d, timeout_ms);
}

/*
 * Plain receive. Streams: until len bytes or end of stream (or the first
 * bytes, when !all). Messages: one, with MSG_TRUNC so that the kernel
 * reports a message longer than the buffer instead of cutting it quietly.
 */
static ssize_t
recv_plain(struct ik_sock *s, void *buf, size_t len, bool all,
	   struct ik_sock_addr *from, int timeout_ms)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ik_sock_addr a = { .kind = ik_sock_kind(s) };
	struct ik__deadline d;
	size_t done = 0;
	ssize_t n;

	if (buf == NULL && len > 0)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	if (!is_stream(s)) {
		if (from != NULL) {
			m.msg_name = &a.ss;
			m.msg_namelen = sizeof(a.ss);
		}
		n = msg_in(ik_sock_fd(s), &m, MSG_TRUNC, &d, timeout_ms);
		if (n < 0)
			return n;
		if ((m.msg_flags & MSG_TRUNC) || (size_t)n > len)
			return -EMSGSIZE;
		if (from != NULL) {
			a.len = m.msg_namelen;
			*from = a;
		}
		return n;
	}
	while (done < len) {
		iov.iov_base = (char *)buf + done;
		iov.iov_len = len - done;
		n = msg_in(ik_sock_fd(s), &m, 0, &d, timeout_ms);
		if (n < 0)
			return n == -EAGAIN && done > 0 ? -ETIMEDOUT : n;
		if (n == 0)
			break;
		done += (size_t)n;
		if (!all)
			break;
	}
	if (from != NULL && ik_sock_peer_addr(s, &a) == 0)
		*from = a;
	return (ssize_t)done;
}

ssize_t
ik_sock_recv(struct ik_sock *s, void *buf, size_t len, int timeout_ms)
{
	if (s == NULL)
		return -EINVAL;
	return recv_plain(s, buf, len, true, NULL, timeout_ms);
}

ssize_t
ik_sock_recv_some(struct ik_sock *s, void *buf, size_t len, int timeout_ms)
{
	if (s == NULL)
		return -EINVAL;
	return recv_plain(s, buf, len, false, NULL, timeout_ms);
}

ssize_t
ik_sock_recvfrom(struct ik_sock *s, void *buf, size_t len,
		 struct ik_sock_addr *from, int timeout_ms)
{
	if (s == NULL)
		return -EINVAL;
	return recv_plain(s, buf, len, false, from, timeout_ms);
}

/*
 * One message, and whether it carried its sender's address: recvfrom with an
 * address buffer of length 0, so the kernel copies no address but reports
 * the length it had, and that length is 0 when no message was taken. On a
 * seqpacket socket whose peer has a name this tells an empty message (named)
 * from the end of the connection (not), for two user copies where
 * credentials over recvmsg cost a message header and a control block.
 */
ssize_t
ik__sock_recv_named(struct ik_sock *s, void *buf, size_t len, bool *named,
		    int timeout_ms)
{
	struct iovec iov = { buf, len };
	struct sockaddr_storage ss; /* never written: its length is 0 */
	struct msghdr m = { .msg_name = &ss,
			    .msg_namelen = 0,
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct ik__deadline d;
	ssize_t n;

	if (s == NULL || named == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	n = msg_in(ik_sock_fd(s), &m, MSG_TRUNC, &d, timeout_ms);
	if (n < 0)
		return n;
	if ((m.msg_flags & MSG_TRUNC) || (size_t)n > len)
		return -EMSGSIZE;
	*named = m.msg_namelen > 0;
	return n;
}

/* ---- descriptors and credentials ----------------------------------------- */

ssize_t
ik_sock_send_fds(struct ik_sock *s, const void *buf, size_t len, const int *fds,
		 size_t nfds, int timeout_ms)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ik__deadline d;
	struct cmsghdr *c;
	union ctl u;

	if (s == NULL || fds == NULL || nfds == 0 || nfds > IK_SOCK_MAX_FDS ||
	    (buf == NULL && len > 0))
		return -EINVAL;
	if (!is_unix(s))
		return -EOPNOTSUPP;
	/* on a stream, descriptors ride on a byte: without one they vanish */
	if (is_stream(s) && len == 0)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	m.msg_control = u.buf;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	ik__deadline_init(&d, timeout_ms);
	if (is_stream(s))
		return send_all(ik_sock_fd(s), &m, &d, timeout_ms);
	return msg_out(ik_sock_fd(s), &m, &d, timeout_ms);
}

static void
close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ik__close(fds[i]);
}

/*
 * One recvmsg with room for every descriptor the kernel may hand over, so
 * that none is lost in the kernel unseen: those beyond the caller's room
 * are counted, closed, and turn the call into IK_ECTRUNC.
 */
static ssize_t
recv_ctl(struct ik_sock *s, void *buf, size_t len, int *fds, size_t *nfds,
	 struct ik_sock_cred *cred, int timeout_ms)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ik_sock_cred cr = { 0, (uid_t)-1, (gid_t)-1 };
	int got[IK_SOCK_MAX_FDS];
	size_t room = nfds ? *nfds : 0, n = 0, extra = 0;
	struct ik__deadline d;
	struct cmsghdr *c;
	union ctl u;
	ssize_t r;

	if (buf == NULL && len > 0)
		return -EINVAL;
	if (!is_unix(s))
		return -EOPNOTSUPP;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	ik__deadline_init(&d, timeout_ms);
	r = msg_in(ik_sock_fd(s), &m, is_stream(s) ? 0 : MSG_TRUNC, &d,
		   timeout_ms);
	if (r < 0)
		return r;
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_len < CMSG_LEN(0))
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
				if (n < room && n < IK_SOCK_MAX_FDS) {
					got[n++] = fd;
				} else {
					ik__close(fd);
					extra++;
				}
			}
		} else if (c->cmsg_type == SCM_CREDENTIALS &&
			   c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			cr.pid = uc.pid;
			cr.uid = uc.uid;
			cr.gid = uc.gid;
		}
	}
	if (extra > 0 || (m.msg_flags & MSG_CTRUNC)) {
		close_all(got, n);
		return IK_ECTRUNC;
	}
	if (!is_stream(s) && ((m.msg_flags & MSG_TRUNC) || (size_t)r > len)) {
		close_all(got, n);
		return -EMSGSIZE;
	}
	if (nfds != NULL) {
		memcpy(fds, got, n * sizeof(int));
		*nfds = n;
	}
	if (cred != NULL)
		*cred = cr;
	return r;
}

ssize_t
ik_sock_recv_fds(struct ik_sock *s, void *buf, size_t len, int *fds,
		 size_t *nfds, int timeout_ms)
{
	if (s == NULL || nfds == NULL || (fds == NULL && *nfds > 0))
		return -EINVAL;
	return recv_ctl(s, buf, len, fds, nfds, NULL, timeout_ms);
}

ssize_t
ik_sock_recv_cred(struct ik_sock *s, void *buf, size_t len,
		  struct ik_sock_cred *cred, int timeout_ms)
{
	if (s == NULL || cred == NULL)
		return -EINVAL;
	return recv_ctl(s, buf, len, NULL, NULL, cred, timeout_ms);
}

int
ik_sock_peer_cred(const struct ik_sock *s, struct ik_sock_cred *out)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (s == NULL || out == NULL)
		return -EINVAL;
	if (!is_unix(s))
		return -EOPNOTSUPP;
	if (getsockopt(ik_sock_fd(s), SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	if (len != sizeof(uc))
		return -EPROTO;
	out->pid = uc.pid;
	out->uid = uc.uid;
	out->gid = uc.gid;
	return 0;
}

int
ik_sock_set_passcred(struct ik_sock *s, bool on)
{
	int v = on;

	if (s == NULL)
		return -EINVAL;
	if (!is_unix(s))
		return -EOPNOTSUPP;
	if (setsockopt(ik_sock_fd(s), SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)) <
	    0)
		return -errno;
	return 0;
}
