/*
 * Sockets, the setting up: bind with stale socket files replaced, listen,
 * accept and connect with deadlines, close that removes the socket file only
 * in the process that made it. Addresses live in sock_addr.c, data transfer
 * in sock_io.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "internal/io.h"
#include "internal/sock.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct ik_sock {
	int fd;
	enum ik_sock_kind kind;
	unsigned flags;
	/* the socket file we bound: unlinked by close, in this process only */
	pid_t owner;
	dev_t dev;
	ino_t ino;
	char path[SUN_PATH_MAX];
};

/* ---- handles ------------------------------------------------------------- */

static struct ik_sock *
sock_new(int fd, enum ik_sock_kind kind, unsigned flags)
{
	struct ik_sock *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fd = fd;
	s->kind = kind;
	s->flags = flags;
	return s;
}

static int
sock_open(int family, enum ik_sock_kind kind, int extra)
{
	int fd = socket(family, ik__sock_type(kind) | SOCK_CLOEXEC | extra, 0);

	return fd < 0 ? -errno : fd;
}

int
ik_sock_close(struct ik_sock *s)
{
	struct stat st;
	int r = 0;

	if (s == NULL)
		return 0;
	/* only the file we made: a server started since may own the path;
	 * one we cannot look at is reported, not silently left behind */
	if (s->path[0] != '\0' && s->owner == getpid()) {
		if (lstat(s->path, &st) < 0) {
			if (errno != ENOENT)
				r = -errno;
		} else if (st.st_dev == s->dev && st.st_ino == s->ino &&
			   unlink(s->path) < 0 && errno != ENOENT) {
			r = -errno;
		}
	}
	ik__close(s->fd);
	free(s);
	return r;
}

int
ik_sock_fd(const struct ik_sock *s)
{
	return s ? s->fd : -EINVAL;
}

enum ik_sock_kind
ik_sock_kind(const struct ik_sock *s)
{
	return s->kind;
}

static int
name_of(const struct ik_sock *s, struct ik_sock_addr *out, bool peer)
{
	struct ik_sock_addr a = { .kind = s->kind };
	int r;

	a.len = sizeof(a.ss);
	r = peer ? getpeername(s->fd, (struct sockaddr *)&a.ss, &a.len)
		 : getsockname(s->fd, (struct sockaddr *)&a.ss, &a.len);
	if (r < 0)
		return -errno;
	if (a.len > sizeof(a.ss))
		return -EPROTO;
	*out = a;
	return 0;
}

int
ik_sock_local_addr(const struct ik_sock *s, struct ik_sock_addr *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	return name_of(s, out, false);
}

int
ik_sock_peer_addr(const struct ik_sock *s, struct ik_sock_addr *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	return name_of(s, out, true);
}

int
ik_sock_set_nonblock(struct ik_sock *s, bool on)
{
	if (s == NULL)
		return -EINVAL;
	return ik__set_nonblock(s->fd, on);
}

int
ik_sock_shutdown(struct ik_sock *s, int how)
{
	if (s == NULL || (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR))
		return -EINVAL;
	return shutdown(s->fd, how) < 0 ? -errno : 0;
}

int
ik_sock_pair(enum ik_sock_kind kind, struct ik_sock *out[2])
{
	struct ik_sock *a, *b;
	int fd[2];

	if (!ik__sock_valid_kind(kind) || out == NULL)
		return -EINVAL;
	if (!ik__sock_is_unix(kind))
		return -EOPNOTSUPP;
	if (socketpair(AF_UNIX, ik__sock_type(kind) | SOCK_CLOEXEC, 0, fd) < 0)
		return -errno;
	a = sock_new(fd[0], kind, 0);
	b = sock_new(fd[1], kind, 0);
	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		ik__close(fd[0]);
		ik__close(fd[1]);
		return -ENOMEM;
	}
	out[0] = a;
	out[1] = b;
	return 0;
}

/* ---- bind ---------------------------------------------------------------- */

/*
 * bind failed with EADDRINUSE on a path. It is ours to replace only if it is
 * a socket file we own that nobody answers on: connect is refused. The probe
 * is non-blocking so a full backlog (a busy live server) cannot stall us. A
 * live stream server sees the probe as a connection closed at once.
 * Returns 0 when the path was removed (bind again), else the error.
 */
static int
reclaim_stale(const char *path, const struct ik_sock_addr *a, int type)
{
	struct stat st, st2;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return IK_ENOTSOCK_PATH;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	r = r == 0 ? 0 : errno;
	ik__close(fd);
	if (r != ECONNREFUSED) /* 0, EAGAIN, EPROTOTYPE: someone is there */
		return r == 0 || r == EAGAIN || r == EPROTOTYPE ||
				       r == EINPROGRESS
			       ? -EADDRINUSE
			       : -r;
	if (st.st_uid != geteuid())
		return IK_EOWNER;
	/* still the file we probed? (narrows, cannot close, the race with a
	 * server binding there meanwhile: that needs a lock file) */
	if (lstat(path, &st2) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * The socket file's mode comes from the socket inode, masked by the umask:
 * fchmod before bind makes the file 0600 from its first instant, without
 * touching the process-wide umask (which other threads share) and without
 * the window a chmod after bind would leave open.
 */
static int
bind_path(struct ik_sock *s, const struct ik_sock_addr *a, unsigned mode)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
	struct stat st;
	int r;

	if (fchmod(s->fd, mode) < 0)
		return -errno;
	for (int tries = 0;; tries++) {
		if (bind(s->fd, (const struct sockaddr *)&a->ss, a->len) == 0)
			break;
		if (errno != EADDRINUSE || tries > 0)
			return -errno;
		r = reclaim_stale(un->sun_path, a, ik__sock_type(s->kind));
		if (r < 0)
			return r;
	}
	if (lstat(un->sun_path, &st) < 0) {
		r = -errno;
		goto fail;
	}
	/* a kernel that ignored the fchmod: close the gap now */
	if ((st.st_mode & ACCESSPERMS & ~mode) &&
	    chmod(un->sun_path, mode) < 0) {
		r = -errno;
		goto fail;
	}
	memcpy(s->path, un->sun_path, sizeof(s->path));
	s->owner = getpid();
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
fail:
	unlink(un->sun_path);
	return r;
}

static int
bind_inet(struct ik_sock **out, enum ik_sock_kind kind, const char *addr,
	  unsigned flags, int extra)
{
	struct addrinfo *res, *ai;
	struct ik_sock *s = NULL;
	int fd, r, one = 1;

	r = ik__sock_lookup(kind, addr, flags, true, &res);
	if (r < 0)
		return r;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = sock_open(ai->ai_family, kind, extra);
		if (fd < 0) {
			r = fd;
			continue;
		}
		/* TCP: rebind while old connections sit in TIME_WAIT. Never
		 * for UDP, where it would let another socket share the port */
		if (kind == IK_SOCK_TCP &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) < 0) {
			r = -errno;
			ik__close(fd);
			continue;
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			s = sock_new(fd, kind, flags);
			r = s ? 0 : -ENOMEM;
			if (s == NULL)
				ik__close(fd);
			break;
		}
		r = -errno;
		ik__close(fd);
	}
	freeaddrinfo(res);
	if (s == NULL) /* r is then the last address's error */
		return r < 0 ? r : -EADDRNOTAVAIL;
	*out = s;
	return 0;
}

static int
do_bind(struct ik_sock **out, enum ik_sock_kind kind, const char *addr,
	const struct ik_sock_opts *opts, int extra)
{
	struct ik_sock_opts o = { 0 };
	struct ik_sock_addr a;
	struct ik_sock *s;
	int fd, r;

	if (opts != NULL)
		o = *opts;
	if (out == NULL || addr == NULL || !ik__sock_valid_kind(kind) ||
	    (o.mode & ~0777u) != 0)
		return -EINVAL;
	if (o.mode == 0)
		o.mode = S_IRUSR | S_IWUSR;
	if (o.flags & IK_SOCK_NONBLOCK)
		extra |= SOCK_NONBLOCK;
	if (!ik__sock_is_unix(kind))
		return bind_inet(out, kind, addr, o.flags, extra);
	r = ik_sock_resolve(kind, addr, o.flags, &a);
	if (r < 0)
		return r;
	fd = sock_open(AF_UNIX, kind, extra);
	if (fd < 0)
		return fd;
	s = sock_new(fd, kind, o.flags);
	if (s == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (ik__sock_is_abstract(kind))
		r = bind(fd, (const struct sockaddr *)&a.ss, a.len) < 0 ? -errno
									: 0;
	else
		r = bind_path(s, &a, o.mode);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	free(s);
	ik__close(fd);
	return r;
}

int
ik_sock_bind(struct ik_sock **out, enum ik_sock_kind kind, const char *addr,
	     const struct ik_sock_opts *opts)
{
	return do_bind(out, kind, addr, opts, 0);
}

int
ik_sock_listen(struct ik_sock **out, enum ik_sock_kind kind, const char *addr,
	       const struct ik_sock_opts *opts)
{
	struct ik_sock *s;
	int backlog = opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN;
	int r;

	if (ik__sock_valid_kind(kind) && ik__sock_type(kind) == SOCK_DGRAM)
		return -EOPNOTSUPP;
	r = do_bind(&s, kind, addr, opts, SOCK_NONBLOCK);
	if (r < 0)
		return r;
	if (listen(s->fd, backlog) < 0) {
		r = -errno;
		ik_sock_close(s);
		return r;
	}
	*out = s;
	return 0;
}

/* ---- accept and connect -------------------------------------------------- */

int
ik_sock_accept(struct ik_sock *srv, struct ik_sock **out, int timeout_ms)
{
	struct ik__deadline d;
	struct ik_sock *c;
	int fd, r, fl = SOCK_CLOEXEC;

	if (srv == NULL || out == NULL)
		return -EINVAL;
	if (srv->flags & IK_SOCK_NONBLOCK)
		fl |= SOCK_NONBLOCK;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		fd = accept4(srv->fd, NULL, NULL, fl);
		if (fd >= 0)
			break;
		switch (errno) {
		case EINTR:
		/* the connection died in the queue: accept(2) says retry */
		case ECONNABORTED:
		case EPROTO:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case ENETUNREACH:
			continue;
		case EAGAIN:
			if (timeout_ms == 0)
				return -EAGAIN;
			r = ik__wait_fd(srv->fd, POLLIN, &d);
			if (r < 0)
				return r;
			continue;
		default:
			return -errno;
		}
	}
	c = sock_new(fd, srv->kind, srv->flags);
	if (c == NULL) {
		ik__close(fd);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

static int
set_sndtimeo(int fd, int64_t ns)
{
	struct timeval tv = { 0, 0 };

	if (ns > 0) {
		tv.tv_sec = (time_t)(ns / 1000000000);
		tv.tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			tv.tv_usec = 1; /* 0 would mean forever */
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/*
 * A Unix connect cannot be polled for: when the backlog is full a
 * non-blocking one fails with EAGAIN at once. A blocking one waits for room
 * for SO_SNDTIMEO, so that is the deadline's carrier; it is reset after.
 */
static int
connect_unix(int fd, const struct ik_sock_addr *a, const struct ik__deadline *d,
	     int timeout_ms)
{
	int64_t left;
	int r;

	for (;;) {
		left = ik__deadline_left_ns(d);
		/* timeout 0 still makes its one attempt */
		if (!d->forever && left == 0 && timeout_ms != 0)
			return -ETIMEDOUT;
		if (timeout_ms == 0)
			r = ik__set_nonblock(fd, true);
		else
			r = set_sndtimeo(fd, left);
		if (r < 0)
			return r;
		r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
		r = r == 0 ? 0 : -errno;
		if (timeout_ms == 0) {
			ik__set_nonblock(fd, false);
			return r;
		}
		if (r != -EINTR)
			break;
	}
	set_sndtimeo(fd, 0);
	if (r == -EAGAIN || r == -EINPROGRESS)
		r = -ETIMEDOUT;
	return r;
}

/* Non-blocking connect, wait for writability, then SO_ERROR tells. */
static int
connect_inet(int fd, const struct sockaddr *sa, socklen_t len,
	     const struct ik__deadline *d, int timeout_ms)
{
	socklen_t elen = sizeof(int);
	int err = 0, r;

	if (connect(fd, sa, len) == 0)
		return 0;
	/* EINTR: the connection goes on in the background, like EINPROGRESS */
	if (errno != EINPROGRESS && errno != EINTR)
		return -errno;
	r = ik__wait_fd(fd, POLLOUT, d);
	if (r < 0)
		return r == -ETIMEDOUT && timeout_ms == 0 ? -EAGAIN : r;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -errno;
	return -err;
}

static int
dial_inet(struct ik_sock_opts *o, enum ik_sock_kind kind, const char *addr,
	  const struct ik__deadline *d, int timeout_ms, int *fdp)
{
	struct addrinfo *res, *ai;
	int fd = -1, r;

	r = ik__sock_lookup(kind, addr, o->flags, false, &res);
	if (r < 0)
		return r;
	r = -ENXIO;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = sock_open(ai->ai_family, kind, SOCK_NONBLOCK);
		if (fd < 0) {
			r = fd;
			continue;
		}
		r = connect_inet(fd, ai->ai_addr, ai->ai_addrlen, d,
				 timeout_ms);
		if (r == 0 && !(o->flags & IK_SOCK_NONBLOCK))
			r = ik__set_nonblock(fd, false);
		if (r == 0)
			break;
		ik__close(fd);
		fd = -1;
		if (r == -ETIMEDOUT || r == -EAGAIN)
			break; /* the time is spent: no other address */
	}
	freeaddrinfo(res);
	*fdp = fd;
	return r;
}

int
ik_sock_connect(struct ik_sock **out, enum ik_sock_kind kind, const char *addr,
		const struct ik_sock_opts *opts, int timeout_ms)
{
	static const sa_family_t autobind = AF_UNIX;
	struct ik_sock_opts o = { 0 };
	struct ik__deadline d;
	struct ik_sock_addr a;
	struct ik_sock *s;
	int fd = -1, r;

	if (opts != NULL)
		o = *opts;
	if (out == NULL || addr == NULL || !ik__sock_valid_kind(kind))
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	if (!ik__sock_is_unix(kind)) {
		r = dial_inet(&o, kind, addr, &d, timeout_ms, &fd);
		if (r < 0)
			return r;
	} else {
		r = ik_sock_resolve(kind, addr, o.flags, &a);
		if (r < 0)
			return r;
		fd = sock_open(AF_UNIX, kind, 0);
		if (fd < 0)
			return fd;
		/* an unbound datagram socket cannot be answered, and an
		 * unbound seqpacket socket's messages carry no sender name
		 * (by which the receiver tells an empty one from the end):
		 * take an automatic abstract name (no file to clean up) */
		if (ik__sock_type(kind) != SOCK_STREAM &&
		    bind(fd, (const struct sockaddr *)&autobind,
			 sizeof(autobind)) < 0) {
			r = -errno;
			goto fail;
		}
		r = connect_unix(fd, &a, &d, timeout_ms);
		if (r == 0 && (o.flags & IK_SOCK_NONBLOCK))
			r = ik__set_nonblock(fd, true);
		if (r < 0)
			goto fail;
	}
	s = sock_new(fd, kind, o.flags);
	if (s == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	ik__close(fd);
	return r;
}
