/*
 * Objects with names in a file system, for ik_obj_list: POSIX queues (the
 * mqueue mount), POSIX shared memory and named semaphores (/dev/shm), FIFOs
 * (held open, from /proc/PID/fd, or found under the query's directories) and
 * Unix sockets (/proc/net/unix, plus socket files under those directories).
 * Holders come from the one /proc pass of obj.c, matched by device+inode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ipckit/ring.h>

#include "internal/io.h"
#include "internal/obj.h"
#include "internal/proc.h"

#define SHM_DIR "/dev/shm"
#define UNIX_ACCEPTCON 0x10000 /* __SO_ACCEPTCON in /proc/net/unix Flags */
#define UNIX_CONNECTED 3       /* SS_CONNECTED in the St column */
#define WALK_DEPTH_MAX 8

static void
fill_stat(struct ik_obj *o, const struct stat *st)
{
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	o->uid = o->cuid = st->st_uid;
	o->gid = o->cgid = st->st_gid;
	o->mode = st->st_mode & 07777;
	o->ctime = st->st_ctime;
}

static int
list_pmq(struct ik__objv *ov, const char *dir, const struct ik__holders *h)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		struct mq_attr a;
		struct stat st;
		struct ik_obj *o;
		char buf[256];
		unsigned long long qsize = 0;
		int fd, npid = 0;
		ssize_t n;

		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode))
			continue;
		o = ik__objv_push(ov, IK_OBJ_PMQ);
		if (o == NULL) {
			closedir(d);
			return -ENOMEM;
		}
		snprintf(o->name, sizeof(o->name), "/%s", e->d_name);
		fill_stat(o, &st);
		ik__obj_users(o, h, 1u << IK__HOLD_FD, st.st_dev, st.st_ino);
		/* a file of the mqueue fs is a queue descriptor too */
		fd = openat(dirfd(d), e->d_name,
			    O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
			if (sscanf(buf,
				   "QSIZE:%llu NOTIFY:%*d SIGNO:%*d "
				   "NOTIFY_PID:%d",
				   &qsize, &npid) >= 1)
				o->size = qsize;
			o->notify_pid = npid;
		}
		if (mq_getattr((mqd_t)fd, &a) == 0)
			o->count = (uint64_t)a.mq_curmsgs;
		ik__close(fd);
	}
	closedir(d);
	return 0;
}

static int
list_devshm(struct ik__objv *ov, unsigned kinds, const struct ik__holders *h)
{
	DIR *d = opendir(SHM_DIR);
	struct dirent *e;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		bool sem = strncmp(e->d_name, "sem.", 4) == 0;
		int kind = sem ? IK_OBJ_PSEM : IK_OBJ_PSHM;
		struct stat st;
		struct ik_obj *o;

		if (e->d_name[0] == '.' || !(kinds & IK_OBJ_MASK(kind)) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
			    0 ||
		    !S_ISREG(st.st_mode))
			continue;
		o = ik__objv_push(ov, kind);
		if (o == NULL) {
			closedir(d);
			return -ENOMEM;
		}
		snprintf(o->name, sizeof(o->name), "/%s",
			 e->d_name + (sem ? 4 : 0));
		fill_stat(o, &st);
		o->size = (uint64_t)st.st_size;
		ik__obj_users(o, h, (1u << IK__HOLD_FD) | (1u << IK__HOLD_MAP),
			      st.st_dev, st.st_ino);
	}
	closedir(d);
	return 0;
}

static struct ik_obj *
find_file(struct ik__objv *ov, int kind, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < ov->n; i++)
		if (ov->v[i].kind == kind && ov->v[i].dev == dev &&
		    ov->v[i].ino == ino && (ov->v[i].dev | ov->v[i].ino))
			return &ov->v[i];
	return NULL;
}

/* FIFOs some process holds open, wherever they are (or were). */
static int
list_held_fifos(struct ik__objv *ov, const struct ik__holders *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct ik__holder *x = &h->v[i];
		struct ik_obj *o;
		char *del;

		if (x->how != IK__HOLD_FD || !x->fifo ||
		    find_file(ov, IK_OBJ_FIFO, x->dev, x->ino) != NULL)
			continue;
		o = ik__objv_push(ov, IK_OBJ_FIFO);
		if (o == NULL)
			return -ENOMEM;
		snprintf(o->name, sizeof(o->name), "%s", x->path);
		del = strstr(o->name, " (deleted)");
		if (del != NULL && del[10] == '\0') {
			*del = '\0';
			o->flags |= IK_OBJ_F_REMOVED;
		}
		o->dev = x->dev;
		o->ino = x->ino;
		o->uid = o->cuid = x->uid;
		o->gid = o->cgid = x->gid;
		o->mode = x->mode & 07777;
		o->ctime = x->ctime;
		ik__obj_users(o, h, 1u << IK__HOLD_FD, x->dev, x->ino);
	}
	return 0;
}

static int
unix_line(struct ik__objv *ov, size_t first, const char *line, int pass,
	  const struct ik__holders *h)
{
	unsigned flags, type, st;
	unsigned long long ino;
	char path[256];
	struct ik_obj *o;

	path[0] = '\0';
	/* paths with spaces are cut short: then matched by inode only */
	/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
	if (sscanf(line, "%*s %*s %*s %x %x %x %llu %255s", &flags, &type, &st,
		   &ino, path) < 5 ||
	    path[0] == '\0')
		return 0; /* unnamed: a socketpair end or a client */
	if ((st == UNIX_CONNECTED) != (pass == 1))
		return 0;
	if (pass == 1) {
		/* accepted connections carry the listener's name */
		for (size_t i = first; i < ov->n; i++)
			if (ov->v[i].kind == IK_OBJ_UNIX &&
			    (ov->v[i].flags & IK_OBJ_F_LISTEN) &&
			    strcmp(ov->v[i].name, path) == 0)
				ov->v[i].count++;
		return 0;
	}
	o = ik__objv_push(ov, IK_OBJ_UNIX);
	if (o == NULL)
		return -ENOMEM;
	snprintf(o->name, sizeof(o->name), "%s", path);
	o->sock_ino = (ino_t)ino;
	o->sock_type = (int)type;
	o->flags = IK_OBJ_F_BOUND |
		   ((flags & UNIX_ACCEPTCON) ? IK_OBJ_F_LISTEN : 0);
	o->uid = o->cuid = (uid_t)-1;
	o->gid = o->cgid = (gid_t)-1;
	ik__obj_users(o, h, 1u << IK__HOLD_SOCK, 0, (ino_t)ino);
	if (o->nusers > 0) {
		char pp[64];
		struct stat ps;

		/* the socket has no owner of its own: its holder's */
		snprintf(pp, sizeof(pp), "/proc/%d", (int)o->users[0]);
		if (stat(pp, &ps) == 0) {
			o->uid = o->cuid = ps.st_uid;
			o->gid = o->cgid = ps.st_gid;
		}
	}
	return 0;
}

static int
list_unix(struct ik__objv *ov, const struct ik__holders *h)
{
	char line[512];
	FILE *f = fopen("/proc/net/unix", "re");
	size_t first = ov->n;
	int r = 0;

	if (f == NULL)
		return -errno;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -EIO;
	}
	/* pass 0: bound sockets; pass 1: connections accepted on them */
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		rewind(f);
		if (fgets(line, sizeof(line), f) == NULL)
			break;
		while (r == 0 && fgets(line, sizeof(line), f) != NULL)
			r = unix_line(ov, first, line, pass, h);
	}
	fclose(f);
	return r;
}

static int
add_disk_entry(struct ik__objv *ov, unsigned kinds, const char *path,
	       const struct stat *st, const struct ik__holders *h)
{
	struct ik_obj *o = NULL;

	if (S_ISFIFO(st->st_mode) && (kinds & IK_OBJ_MASK(IK_OBJ_FIFO))) {
		o = find_file(ov, IK_OBJ_FIFO, st->st_dev, st->st_ino);
		if (o == NULL) {
			o = ik__objv_push(ov, IK_OBJ_FIFO);
			if (o == NULL)
				return -ENOMEM;
			ik__obj_users(o, h, 1u << IK__HOLD_FD, st->st_dev,
				      st->st_ino);
		}
	} else if (S_ISSOCK(st->st_mode) &&
		   (kinds & IK_OBJ_MASK(IK_OBJ_UNIX))) {
		for (size_t i = 0; i < ov->n && o == NULL; i++)
			if (ov->v[i].kind == IK_OBJ_UNIX &&
			    !(ov->v[i].flags & IK_OBJ_F_ONDISK) &&
			    strcmp(ov->v[i].name, path) == 0)
				o = &ov->v[i];
		if (o == NULL &&
		    find_file(ov, IK_OBJ_UNIX, st->st_dev, st->st_ino) != NULL)
			return 0; /* already found under another --path */
		if (o == NULL && (o = ik__objv_push(ov, IK_OBJ_UNIX)) == NULL)
			return -ENOMEM;
	} else {
		return 0;
	}
	snprintf(o->name, sizeof(o->name), "%s", path);
	fill_stat(o, st);
	o->flags |= IK_OBJ_F_ONDISK;
	o->flags &= ~(unsigned)IK_OBJ_F_REMOVED;
	return 0;
}

static int
walk(struct ik__objv *ov, unsigned kinds, int dfd, char *path, size_t plen,
     dev_t dev, int depth, const struct ik__holders *h)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int r = 0;

	if (d == NULL) {
		ik__close(dfd);
		return -errno;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		int n;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		n = snprintf(path + plen, PATH_MAX - plen, "%s%s",
			     path[plen - 1] == '/' ? "" : "/", e->d_name);
		if (n < 0 || (size_t)n >= PATH_MAX - plen)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			/* like find -xdev: never wander into /proc or /sys */
			if (depth <= 0 || st.st_dev != dev)
				continue;
			sub = openat(dirfd(d), e->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
			if (sub >= 0)
				(void)walk(ov, kinds, sub, path,
					   plen + (size_t)n, dev, depth - 1, h);
		} else {
			r = add_disk_entry(ov, kinds, path, &st, h);
		}
		path[plen] = '\0';
	}
	closedir(d);
	return r == -ENOMEM ? r : 0;
}

int
ik__obj_file_list(struct ik__objv *ov, unsigned kinds,
		  const struct ik_obj_query *q, int depth,
		  const struct ik__holders *h, unsigned *notes, int *errors)
{
	char dir[PATH_MAX];
	int r;

	if (kinds & IK_OBJ_MASK(IK_OBJ_PMQ)) {
		r = ik__mqueue_dir(dir, sizeof(dir));
		if (r == -ENOENT)
			*notes |= IK_OBJ_NOTE_NO_MQUEUE;
		else if (r == 0)
			r = list_pmq(ov, dir, h);
		if (r == -ENOMEM)
			return r;
		errors[IK_OBJ_PMQ] = r == -ENOENT ? 0 : r;
	}
	if (kinds & (IK_OBJ_MASK(IK_OBJ_PSHM) | IK_OBJ_MASK(IK_OBJ_PSEM))) {
		r = list_devshm(ov, kinds, h);
		if (r == -ENOMEM)
			return r;
		if (kinds & IK_OBJ_MASK(IK_OBJ_PSHM))
			errors[IK_OBJ_PSHM] = r;
		if (kinds & IK_OBJ_MASK(IK_OBJ_PSEM))
			errors[IK_OBJ_PSEM] = r;
	}
	if ((kinds & IK_OBJ_MASK(IK_OBJ_FIFO)) &&
	    (r = list_held_fifos(ov, h)) < 0)
		return r;
	if (kinds & IK_OBJ_MASK(IK_OBJ_UNIX)) {
		r = list_unix(ov, h);
		if (r == -ENOMEM)
			return r;
		errors[IK_OBJ_UNIX] = r;
	}
	if (!(kinds & (IK_OBJ_MASK(IK_OBJ_FIFO) | IK_OBJ_MASK(IK_OBJ_UNIX))))
		return 0;
	for (size_t i = 0; i < q->npaths; i++) {
		char path[PATH_MAX];
		struct stat st;
		size_t len;
		int fd;

		if (q->paths[i] == NULL || q->paths[i][0] == '\0')
			return -EINVAL;
		len = strlen(q->paths[i]);
		if (len >= PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(path, q->paths[i], len + 1);
		fd = open(path,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			/* say why: O_NOFOLLOW|O_DIRECTORY on a link is ENOTDIR
			 */
			if (r == -ENOTDIR && lstat(path, &st) == 0 &&
			    S_ISLNK(st.st_mode))
				r = -ELOOP;
			return r;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			ik__close(fd);
			return r;
		}
		r = walk(ov, kinds, fd, path, len, st.st_dev,
			 depth < WALK_DEPTH_MAX ? depth : WALK_DEPTH_MAX, h);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A socket file that /proc/net/unix does not name: ask the kernel. connect
 * on a file with no socket behind it is ECONNREFUSED; a bound socket of
 * another type answers EPROTOTYPE. Through an O_PATH descriptor so the
 * inode probed is the one listed, whatever the path length.
 */
static int
probe_socket_file(const struct ik_obj *o, int *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int pfd, s, r;

	pfd = open(o->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0) {
		*err = errno;
		return -1;
	}
	if (fstat(pfd, &st) < 0 || st.st_dev != o->dev || st.st_ino != o->ino) {
		ik__close(pfd);
		*err = ENOENT;
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", pfd);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		*err = errno;
		ik__close(pfd);
		return -1;
	}
	r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	*err = r == 0 ? 0 : errno;
	ik__close(s);
	ik__close(pfd);
	return 0;
}

/*
 * An ipckit ring (<ipckit/ring.h>) records the pid of each side that
 * attached: evidence a foreign segment lacks. Nobody maps it (checked by the
 * caller), and every side that ever attached is dead: stale. Returns the
 * state set, or -1 when the segment is not a ring (or cannot be read).
 */
static int
ring_state(struct ik_obj *o)
{
	struct ik_ring_shm h;
	char path[PATH_MAX];
	const struct ik_ring_side *side[2];
	int fd, known = 0;
	ssize_t n;

	if (snprintf(path, sizeof(path), "/dev/shm%s", o->name) >=
	    (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	n = pread(fd, &h, sizeof(h), 0);
	ik__close(fd);
	if (n != (ssize_t)sizeof(h) || h.magic != IK_RING_MAGIC ||
	    h.version != IK_RING_VERSION)
		return -1;
	side[0] = &h.prod;
	side[1] = &h.cons;
	for (int i = 0; i < 2; i++) {
		if (side[i]->state == IK_RING_FREE || side[i]->pid <= 0)
			continue;
		known++;
		if (ik__pid_alive(side[i]->pid, o->ctime)) {
			ik__obj_reason(o, "ipckit ring: its %s, pid %d, lives",
				       i ? "consumer" : "producer",
				       (int)side[i]->pid);
			return o->state = IK_OBJ_IN_USE;
		}
	}
	if (known == 0) {
		ik__obj_reason(o, "ipckit ring no side has attached to: no "
				  "evidence");
		return o->state = IK_OBJ_IDLE;
	}
	ik__obj_reason(o,
		       "ipckit ring: unmapped, and every process that "
		       "attached to it (pids %d, %d) is gone",
		       (int)h.prod.pid, (int)h.cons.pid);
	return o->state = IK_OBJ_STALE;
}

int
ik__obj_file_state(struct ik_obj *o)
{
	int err;

	if (o->nusers > 0) {
		ik__obj_reason(o,
			       "held open or mapped by %d process(es), e.g. %d",
			       o->nusers, (int)o->users[0]);
		return o->state = IK_OBJ_IN_USE;
	}
	switch (o->kind) {
	case IK_OBJ_PMQ:
		if (ik__pid_alive(o->notify_pid, 0)) {
			ik__obj_reason(o, "pid %d waits for mq_notify",
				       (int)o->notify_pid);
			return o->state = IK_OBJ_IN_USE;
		}
		/* fall through */
	case IK_OBJ_PSHM:
		if (ring_state(o) >= 0)
			return o->state;
		/* fall through */
	case IK_OBJ_PSEM:
		ik__obj_reason(o, "nobody holds or maps it; no creator pid is "
				  "recorded: no evidence");
		return o->state = IK_OBJ_IDLE;
	case IK_OBJ_FIFO:
		ik__obj_reason(o, "nobody holds it open; a FIFO records no "
				  "creator, so it is never called stale");
		return o->state = IK_OBJ_IDLE;
	default:
		break;
	}
	if (o->flags & IK_OBJ_F_BOUND) {
		ik__obj_reason(o, "bound, by a process we may not inspect");
		return o->state = IK_OBJ_IDLE;
	}
	if (probe_socket_file(o, &err) < 0) {
		ik__obj_reason(o, "cannot probe: %s", strerror(err));
		return o->state = IK_OBJ_IDLE;
	}
	if (err == ECONNREFUSED) {
		ik__obj_reason(o, "no socket is bound to it (not in "
				  "/proc/net/unix, connect refused)");
		return o->state = IK_OBJ_STALE;
	}
	if (err == 0 || err == EPROTOTYPE || err == EAGAIN ||
	    err == EINPROGRESS) {
		ik__obj_reason(o,
			       "a socket answers on it (%s) from outside "
			       "this network namespace",
			       err ? strerror(err) : "connected");
		return o->state = IK_OBJ_IN_USE;
	}
	ik__obj_reason(o, "cannot probe: connect: %s", strerror(err));
	return o->state = IK_OBJ_IDLE;
}

static int
remove_at(const char *dir, const char *base, dev_t dev, ino_t ino)
{
	struct stat st;
	int dfd, r = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else if (st.st_dev != dev || st.st_ino != ino)
		r = -ENOENT; /* replaced since it was listed */
	else if (unlinkat(dfd, base, 0) < 0)
		r = -errno;
	ik__close(dfd);
	return r;
}

int
ik__obj_file_remove(const struct ik_obj *o)
{
	char dir[PATH_MAX], base[NAME_MAX + 8], *slash;
	int r;

	switch (o->kind) {
	case IK_OBJ_PMQ:
		r = ik__mqueue_dir(dir, sizeof(dir));
		if (r < 0)
			return r;
		return remove_at(dir, o->name + 1, o->dev, o->ino);
	case IK_OBJ_PSHM:
	case IK_OBJ_PSEM:
		snprintf(base, sizeof(base), "%s%s",
			 o->kind == IK_OBJ_PSEM ? "sem." : "", o->name + 1);
		return remove_at(SHM_DIR, base, o->dev, o->ino);
	default:
		break;
	}
	if (!(o->flags & IK_OBJ_F_ONDISK))
		return o->kind == IK_OBJ_UNIX ? -EOPNOTSUPP : -ENOENT;
	snprintf(dir, sizeof(dir), "%s", o->name);
	slash = strrchr(dir, '/');
	if (slash == NULL || strlen(slash + 1) > NAME_MAX)
		return -ENOENT;
	snprintf(base, sizeof(base), "%s", slash + 1);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return remove_at(dir, base, o->dev, o->ino);
}
