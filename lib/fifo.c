/*
 * FIFOs (see <ipckit/fifo.h>). Every descriptor is opened non-blocking so
 * that each wait, the rendezvous included, is a poll or a retry under one
 * deadline; the path is checked with lstat before opening (so a device or
 * regular file is never opened at all) and the descriptor with fstat after
 * (so a swap in between is caught).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/fifo.h>
#include <ipckit/runtime.h>

#include "internal/io.h"

/* Back-off of a writer waiting for a reader (see ik_fifo_open). */
#define BACKOFF_MIN_NS 1000000LL
#define BACKOFF_MAX_NS 50000000LL

#define ALL_FLAGS                                                       \
	(IK_FIFO_READ | IK_FIFO_WRITE | IK_FIFO_CREATE | IK_FIFO_EXCL | \
	 IK_FIFO_SERVER | IK_FIFO_STREAM | IK_FIFO_NOWAIT)

struct ik_fifo {
	int fd;
	int keep_fd; /* SERVER: our own write end, so no EOF between writers */
	unsigned flags;
	bool created;
	dev_t dev; /* identity of the opened FIFO, for the unlink on close */
	ino_t ino;
	char *path;
};

/* A bare name lives in the private runtime directory. */
static int
resolve(char *buf, size_t len, const char *path)
{
	size_t n;

	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	if (strchr(path, '/') == NULL)
		return ik_runtime_path(buf, len, path);
	n = strlen(path);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	return (int)n;
}

/* What is acceptable to open: a FIFO of ours. Shared by lstat and fstat. */
static int
check_stat(const struct stat *st)
{
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISFIFO(st->st_mode))
		return IK_ENOTFIFO;
	if (st->st_uid != geteuid())
		return IK_EOWNER;
	return 0;
}

static int
check_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	return check_stat(&st);
}

/* Create, or accept an existing FIFO of ours: 1 created, 0 reused. */
static int
make(const char *path, bool excl)
{
	int r;

	if (mkfifo(path, 0600) == 0)
		return 1;
	if (errno != EEXIST)
		return -errno;
	if (excl)
		return -EEXIST;
	r = check_path(path);
	return r < 0 ? r : 0;
}

int
ik_fifo_make(const char *path)
{
	char p[PATH_MAX];
	int r = resolve(p, sizeof(p), path);

	if (r < 0)
		return r;
	return make(p, false);
}

/* Open and check what was opened; st receives its identity. */
static int
open_checked(const char *path, int oflags, struct stat *st)
{
	int fd, r;

	do
		fd = open(path, oflags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		r = -errno;
		goto fail;
	}
	r = check_stat(st);
	if (r < 0)
		goto fail;
	return fd;
fail:
	ik__close(fd);
	return r;
}

/*
 * A writer's open fails with ENXIO while there is no reader, and nothing
 * can be waited on for a reader's arrival, so retry with a back-off.
 */
static int
open_writer(const char *path, struct stat *st, const struct ik__deadline *d)
{
	struct ik__backoff b;
	int fd, r;

	ik__backoff_init(&b, BACKOFF_MIN_NS, BACKOFF_MAX_NS);
	for (;;) {
		fd = open_checked(path, O_WRONLY, st);
		if (fd != -ENXIO)
			return fd;
		r = ik__backoff_sleep(&b, d);
		if (r < 0)
			return r;
	}
}

static int
open_reader(ik_fifo *f, struct stat *st, const struct ik__deadline *d)
{
	struct stat wst;

	f->fd = open_checked(f->path, O_RDONLY, st);
	if (f->fd < 0)
		return f->fd;
	if (f->flags & IK_FIFO_NOWAIT)
		return 0;
	if (!(f->flags & IK_FIFO_SERVER))
		return ik__wait_fd(f->fd, POLLIN, d);
	/* our own reader is there, so this open cannot meet ENXIO */
	f->keep_fd = open_checked(f->path, O_WRONLY, &wst);
	if (f->keep_fd < 0)
		return f->keep_fd;
	if (wst.st_dev != st->st_dev || wst.st_ino != st->st_ino)
		return -ESTALE; /* the path was replaced between the opens */
	return 0;
}

/*
 * Only the creator removes the FIFO, and only if the path still names the
 * FIFO it made: never a replacement someone else put there since.
 */
static int
remove_if_ours(const ik_fifo *f)
{
	struct stat st;

	if (!f->created)
		return 0;
	/* gone already is fine; not knowing is an error the caller sees */
	if (lstat(f->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st.st_dev != f->dev || st.st_ino != f->ino)
		return 0;
	return unlink(f->path) < 0 ? -errno : 0;
}

static bool
valid_flags(unsigned fl)
{
	bool rd = fl & IK_FIFO_READ, wr = fl & IK_FIFO_WRITE;

	if ((fl & ~ALL_FLAGS) != 0 || rd == wr)
		return false;
	if ((fl & IK_FIFO_SERVER) && !rd)
		return false;
	if ((fl & IK_FIFO_STREAM) && !wr)
		return false;
	if ((fl & IK_FIFO_NOWAIT) && (!rd || (fl & IK_FIFO_SERVER)))
		return false;
	if ((fl & IK_FIFO_EXCL) && !(fl & IK_FIFO_CREATE))
		return false;
	return true;
}

int
ik_fifo_open(ik_fifo **out, const char *path, unsigned flags, int timeout_ms)
{
	struct ik__deadline d;
	char p[PATH_MAX];
	struct stat st;
	ik_fifo *f;
	int r;

	if (out == NULL || !valid_flags(flags))
		return -EINVAL;
	r = resolve(p, sizeof(p), path);
	if (r < 0)
		return r;
	ik__deadline_init(&d, timeout_ms);
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->fd = f->keep_fd = -1;
	f->flags = flags;
	f->path = strdup(p);
	if (f->path == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (flags & IK_FIFO_CREATE)
		r = make(p, flags & IK_FIFO_EXCL);
	else
		r = check_path(p);
	if (r < 0)
		goto fail;
	if (r == 1) {
		/* remember what we made: only that is ever removed */
		if (lstat(p, &st) < 0) {
			/* we made it an instant ago and cannot tell it
			 * apart now: removing it beats leaving it behind */
			r = -errno;
			unlink(p);
			goto fail;
		}
		f->created = true;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	if (flags & IK_FIFO_WRITE)
		r = f->fd = open_writer(p, &st, &d);
	else
		r = open_reader(f, &st, &d);
	if (r < 0)
		goto fail;
	if (f->created && (st.st_dev != f->dev || st.st_ino != f->ino)) {
		r = -ESTALE; /* ours was replaced before we opened it */
		goto fail;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	*out = f;
	return 0;
fail:
	remove_if_ours(f);
	ik__close(f->keep_fd);
	ik__close(f->fd);
	free(f->path);
	free(f);
	return r;
}

int
ik_fifo_close(ik_fifo *f)
{
	int r;

	if (f == NULL)
		return 0;
	r = remove_if_ours(f);
	ik__close(f->keep_fd);
	ik__close(f->fd);
	free(f->path);
	free(f);
	return r;
}

ssize_t
ik_fifo_send(ik_fifo *f, const void *buf, size_t len, int timeout_ms)
{
	struct ik__deadline d;
	size_t put = 0;
	ssize_t r;

	if (f == NULL || (buf == NULL && len > 0) || len > SSIZE_MAX)
		return -EINVAL;
	if (!(f->flags & IK_FIFO_WRITE))
		return -EBADF;
	/* a non-blocking write of <= PIPE_BUF is all or nothing (EAGAIN),
	 * so a message is never split, even when the deadline ends it */
	if (!(f->flags & IK_FIFO_STREAM) && len > IK_FIFO_MSG_MAX)
		return -EMSGSIZE;
	if (len == 0)
		return 0;
	ik__deadline_init(&d, timeout_ms);
	r = ik__write_full(f->fd, buf, len, 0, &d, &put);
	if (r == -ETIMEDOUT && put > 0)
		return (ssize_t)put;
	return r;
}

ssize_t
ik_fifo_recv(ik_fifo *f, void *buf, size_t len, int timeout_ms)
{
	struct ik__deadline d;
	ssize_t n;
	int r;

	if (f == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	if (!(f->flags & IK_FIFO_READ))
		return -EBADF;
	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		n = read(f->fd, buf, len);
		if (n > 0 || (n == 0 && !(f->flags & IK_FIFO_NOWAIT)))
			return n;
		if (n == 0) {
			/* NOWAIT: read says 0 also before any writer came;
			 * poll says POLLHUP only once one came and went */
			struct pollfd p = { .fd = f->fd, .events = POLLIN };

			if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
				return 0;
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN) {
			return -errno;
		}
		r = ik__wait_fd(f->fd, POLLIN, &d);
		if (r < 0)
			return r;
	}
}

ssize_t
ik_fifo_recv_full(ik_fifo *f, void *buf, size_t len, int timeout_ms)
{
	struct ik__deadline d;
	size_t got = 0;
	ssize_t r;

	if (f == NULL || (buf == NULL && len > 0) || len > SSIZE_MAX)
		return -EINVAL;
	if (!(f->flags & IK_FIFO_READ))
		return -EBADF;
	ik__deadline_init(&d, timeout_ms);
	if (f->flags & IK_FIFO_NOWAIT) {
		/* no writer yet reads as end of file: wait for one first */
		r = ik__wait_fd(f->fd, POLLIN, &d);
		if (r < 0)
			return r;
	}
	r = ik__read_full(f->fd, buf, len, &d, &got);
	if (r == -ETIMEDOUT && got > 0)
		return (ssize_t)got;
	return r;
}

int
ik_fifo_fd(const ik_fifo *f)
{
	return f == NULL ? -EINVAL : f->fd;
}

const char *
ik_fifo_path(const ik_fifo *f)
{
	return f == NULL ? NULL : f->path;
}

bool
ik_fifo_created(const ik_fifo *f)
{
	return f != NULL && f->created;
}
