/*
 * Every IPC object on the machine (see <ipckit/obj.h>): one pass over /proc
 * to learn who holds what, the per-family listings (obj_sysv.c, obj_file.c),
 * then filtering, ordering, and removal that re-reads before it removes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ipckit/obj.h>

#include "internal/obj.h"
#include "internal/proc.h"

static const char *const kind_names[IK_OBJ_NKINDS] = {
	"msg", "sem", "shm", "pmq", "pshm", "psem", "fifo", "unix",
};

const char *
ik_obj_kind_name(int kind)
{
	return kind >= 0 && kind < IK_OBJ_NKINDS ? kind_names[kind] : "?";
}

int
ik_obj_kind_parse(const char *name)
{
	for (int k = 0; name != NULL && k < IK_OBJ_NKINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -EINVAL;
}

const char *
ik_obj_state_name(int state)
{
	switch (state) {
	case IK_OBJ_IDLE:
		return "idle";
	case IK_OBJ_IN_USE:
		return "in-use";
	case IK_OBJ_STALE:
		return "stale";
	}
	return "?";
}

void
ik__obj_reason(struct ik_obj *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
}

struct ik_obj *
ik__objv_push(struct ik__objv *ov, int kind)
{
	struct ik_obj *o;

	if (ov->n == ov->cap) {
		size_t cap = ov->cap ? ov->cap * 2 : 16;
		struct ik_obj *v = realloc(ov->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		ov->v = v;
		ov->cap = cap;
	}
	o = &ov->v[ov->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->id = -1;
	return o;
}

/* ---- pids -------------------------------------------------------------- */

static long long
boot_time(void)
{
	static _Atomic long long cached;
	long long bt = atomic_load(&cached);
	char line[256];
	FILE *f;

	if (bt > 0)
		return bt;
	f = fopen("/proc/stat", "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	fclose(f);
	if (bt > 0)
		atomic_store(&cached, bt);
	return bt > 0 ? bt : 0;
}

bool
ik__pid_alive(pid_t pid, time_t when)
{
	char path[64], buf[1024], *p, state;
	unsigned long long start = 0;
	long long bt;
	long hz;
	int r;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = ik__proc_read(path, buf, sizeof(buf));
	if (r == -ENOENT || r == -ESRCH)
		return false;
	if (r < 0) /* no /proc: the kernel still knows */
		return kill(pid, 0) == 0 || errno == EPERM;
	/* comm may hold spaces and parentheses: the last ')' ends it */
	p = strrchr(buf, ')');
	/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
	if (p == NULL || sscanf(p + 1,
				" %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				"%*u %*u %*d %*d %*d %*d %*d %*d %llu",
				&state, &start) != 2)
		return true; /* cannot tell: alive, never stale on a guess */
	if (state == 'Z' || state == 'X')
		return false;
	hz = sysconf(_SC_CLK_TCK);
	bt = boot_time();
	/*
	 * Pid reuse: a process that started after the object's event cannot
	 * be the one that made it. btime and the event times are whole
	 * seconds, so only a start more than a second later counts.
	 */
	if (when > 0 && hz > 0 && bt > 0 &&
	    bt + (long long)(start / (unsigned long long)hz) >
		    (long long)when + 1)
		return false;
	return true;
}

/* ---- who holds what ------------------------------------------------------ */

static int
hold_add(struct ik__holders *h, int how, dev_t dev, ino_t ino, pid_t pid)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct ik__holder *v = realloc(h->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n] = (struct ik__holder){
		.dev = dev, .ino = ino, .pid = pid, .how = (unsigned char)how
	};
	h->n++;
	return 0;
}

static int
scan_fds(struct ik__holders *h, int pdir, pid_t pid)
{
	int fd = openat(pdir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (fd < 0)
		return 0; /* not ours to see, or gone */
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		char target[PATH_MAX];
		unsigned long long ino;
		struct stat st;
		ssize_t n;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		/* NOLINTNEXTLINE(cert-err34-c): kernel's link text */
		if (sscanf(target, "socket:[%llu]", &ino) == 1) {
			r = hold_add(h, IK__HOLD_SOCK, 0, (ino_t)ino, pid);
			continue;
		}
		/* anonymous pipes (pipe:[ino]) and anon inodes are not named */
		if (target[0] != '/' ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode))
			continue;
		r = hold_add(h, IK__HOLD_FD, st.st_dev, st.st_ino, pid);
		if (r == 0 && S_ISFIFO(st.st_mode)) {
			struct ik__holder *x = &h->v[h->n - 1];

			x->fifo = 1;
			x->uid = st.st_uid;
			x->gid = st.st_gid;
			x->mode = st.st_mode;
			x->ctime = st.st_ctime;
			x->path = strdup(target);
			if (x->path == NULL)
				r = -ENOMEM;
		}
	}
	closedir(d);
	return r;
}

static int
scan_maps(struct ik__holders *h, int pdir, pid_t pid)
{
	int fd = openat(pdir, "maps", O_RDONLY | O_CLOEXEC);
	char line[PATH_MAX + 128];
	FILE *f;
	int r = 0;

	if (fd < 0)
		return 0;
	f = fdopen(fd, "re");
	if (f == NULL) {
		close(fd);
		return 0;
	}
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		unsigned maj, min;
		unsigned long long ino;
		int off = 0;
		char *path;

		/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino,
			   &off) != 3 ||
		    off == 0)
			continue;
		path = line + off;
		if (strncmp(path, "/dev/shm/", 9) == 0)
			r = hold_add(h, IK__HOLD_MAP, makedev(maj, min),
				     (ino_t)ino, pid);
		else if (strncmp(path, "/SYSV", 5) == 0) /* inode = shmid */
			r = hold_add(h, IK__HOLD_SYSV, 0, (ino_t)ino, pid);
	}
	fclose(f);
	return r;
}

void
ik__holders_free(struct ik__holders *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].path);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

int
ik__holders_scan(struct ik__holders *h, bool fds, bool maps)
{
	DIR *proc;
	struct dirent *e;
	int r = 0;

	memset(h, 0, sizeof(*h));
	if (!fds && !maps)
		return 0;
	proc = opendir("/proc");
	if (proc == NULL)
		return -errno;
	while (r == 0 && (e = readdir(proc)) != NULL) {
		/* NOLINTNEXTLINE(cert-err34-c): 0 for non-pids: skipped */
		pid_t pid = (pid_t)atoi(e->d_name);
		int pdir;

		if (pid <= 0)
			continue;
		pdir = openat(dirfd(proc), e->d_name,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pdir < 0)
			continue;
		if (fds)
			r = scan_fds(h, pdir, pid);
		if (r == 0 && maps)
			r = scan_maps(h, pdir, pid);
		close(pdir);
	}
	closedir(proc);
	if (r < 0)
		ik__holders_free(h);
	return r;
}

void
ik__obj_users(struct ik_obj *o, const struct ik__holders *h, unsigned hows,
	      dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct ik__holder *x = &h->v[i];
		unsigned j, shown;

		if (!(hows & (1u << x->how)) || x->ino != ino || x->dev != dev)
			continue;
		shown = o->nusers < IK_OBJ_PIDS_MAX ? o->nusers
						    : IK_OBJ_PIDS_MAX;
		for (j = 0; j < shown; j++)
			if (o->users[j] == x->pid)
				break;
		if (j < shown)
			continue;
		if (o->nusers < IK_OBJ_PIDS_MAX)
			o->users[o->nusers] = x->pid;
		o->nusers++; /* beyond the array: may count a pid twice */
	}
}

/* ---- listing ---------------------------------------------------------------
 */

static int
cmp_obj(const void *a, const void *b)
{
	const struct ik_obj *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool
wanted(const struct ik_obj_query *q, const struct ik_obj *o)
{
	if (q->uid >= 0 && (long long)o->uid != q->uid)
		return false;
	return q->states == 0 || (q->states & (1u << o->state));
}

static int
list_impl(const struct ik_obj_query *q, int depth, struct ik_obj_list *out)
{
	unsigned kinds = q->kinds ? q->kinds : IK_OBJ_ALL;
	struct ik_obj_list l = { 0 };
	struct ik__holders h;
	struct ik__objv ov = { 0 };
	size_t keep = 0;
	int r;

	if ((kinds & ~IK_OBJ_ALL) || (q->npaths > 0 && q->paths == NULL) ||
	    (q->states & ~7u))
		return -EINVAL;
	r = ik__holders_scan(
		&h,
		kinds & (IK_OBJ_MASK(IK_OBJ_PMQ) | IK_OBJ_MASK(IK_OBJ_PSHM) |
			 IK_OBJ_MASK(IK_OBJ_PSEM) | IK_OBJ_MASK(IK_OBJ_FIFO) |
			 IK_OBJ_MASK(IK_OBJ_UNIX)),
		kinds & (IK_OBJ_MASK(IK_OBJ_SHM) | IK_OBJ_MASK(IK_OBJ_PSHM) |
			 IK_OBJ_MASK(IK_OBJ_PSEM)));
	if (r < 0)
		return r;
	for (int k = IK_OBJ_MSG; k <= IK_OBJ_SHM; k++) {
		if (!(kinds & IK_OBJ_MASK(k)))
			continue;
		r = ik__obj_sysv_list(&ov, k, &h);
		if (r == -ENOMEM)
			goto fail;
		l.errors[k] = r < 0 ? r : 0;
	}
	r = ik__obj_file_list(&ov, kinds, q, depth, &h, &l.notes, l.errors);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < ov.n; i++) {
		struct ik_obj *o = &ov.v[i];

		if (o->kind <= IK_OBJ_SHM)
			ik__obj_sysv_state(o);
		else
			ik__obj_file_state(o);
		if (wanted(q, o))
			ov.v[keep++] = *o;
	}
	ov.n = keep;
	if (ov.n > 1)
		qsort(ov.v, ov.n, sizeof(ov.v[0]), cmp_obj);
	ik__holders_free(&h);
	l.objs = ov.v;
	l.n = ov.n;
	*out = l;
	return (int)(l.n > INT32_MAX ? INT32_MAX : l.n);
fail:
	free(ov.v);
	ik__holders_free(&h);
	return r;
}

int
ik_obj_list(const struct ik_obj_query *q, struct ik_obj_list *out)
{
	if (q == NULL || out == NULL)
		return -EINVAL;
	return list_impl(q, 8, out);
}

void
ik_obj_list_free(struct ik_obj_list *l)
{
	if (l == NULL)
		return;
	free(l->objs);
	l->objs = NULL;
	l->n = 0;
}

/* ---- one object: match, refresh, remove --------------------------------- */

static bool
same_object(const struct ik_obj *a, const struct ik_obj *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IK_OBJ_MSG:
	case IK_OBJ_SEM:
	case IK_OBJ_SHM:
		/* ids carry a sequence number; key and creator pin it down */
		return a->id == b->id && a->key == b->key && a->cuid == b->cuid;
	case IK_OBJ_UNIX:
		if (a->flags & IK_OBJ_F_ONDISK)
			return a->dev == b->dev && a->ino == b->ino &&
			       strcmp(a->name, b->name) == 0;
		return a->sock_ino == b->sock_ino &&
		       strcmp(a->name, b->name) == 0;
	default:
		return a->dev == b->dev && a->ino == b->ino &&
		       strcmp(a->name, b->name) == 0;
	}
}

int
ik_obj_refresh(struct ik_obj *o)
{
	struct ik_obj_query q = { .kinds = 0, .uid = -1 };
	struct ik_obj_list l;
	char dir[PATH_MAX];
	const char *paths[1];
	int r;

	if (o == NULL || o->kind < 0 || o->kind >= IK_OBJ_NKINDS)
		return -EINVAL;
	q.kinds = IK_OBJ_MASK(o->kind);
	if ((o->kind == IK_OBJ_FIFO || o->kind == IK_OBJ_UNIX) &&
	    (o->flags & IK_OBJ_F_ONDISK)) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s", o->name);
		slash = strrchr(dir, '/');
		if (slash == NULL)
			return -ENOENT;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		paths[0] = dir;
		q.paths = paths;
		q.npaths = 1;
	}
	r = list_impl(&q, 0, &l);
	if (r == -ENOTDIR || r == -ELOOP)
		r = -ENOENT;
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < l.n; i++) {
		if (same_object(o, &l.objs[i])) {
			*o = l.objs[i];
			r = 0;
			break;
		}
	}
	ik_obj_list_free(&l);
	return r;
}

int
ik_obj_remove(const struct ik_obj *o, int flags, struct ik_obj *now)
{
	struct ik_obj *cur;
	int r;

	if (o == NULL || (flags & ~(IK_OBJ_RM_STALE | IK_OBJ_RM_DRY)))
		return -EINVAL;
	cur = malloc(sizeof(*cur));
	if (cur == NULL)
		return -ENOMEM;
	*cur = *o;
	r = ik_obj_refresh(cur);
	if (r < 0)
		goto out;
	if (now != NULL)
		*now = *cur;
	if (cur->state == IK_OBJ_IN_USE ||
	    ((flags & IK_OBJ_RM_STALE) && cur->state != IK_OBJ_STALE)) {
		r = -EBUSY;
		goto out;
	}
	if (flags & IK_OBJ_RM_DRY)
		goto out;
	r = cur->kind <= IK_OBJ_SHM ? ik__obj_sysv_remove(cur)
				    : ik__obj_file_remove(cur);
out:
	free(cur);
	return r;
}

bool
ik_obj_match(const struct ik_obj *o, const char *spec)
{
	char *end;

	if (o == NULL || spec == NULL || spec[0] == '\0')
		return false;
	if (o->kind <= IK_OBJ_SHM) {
		unsigned long long v;

		errno = 0;
		if (spec[0] == '0' && (spec[1] == 'x' || spec[1] == 'X')) {
			v = strtoull(spec + 2, &end, 16);
			return spec[2] != '\0' && *end == '\0' && errno == 0 &&
			       v <= 0xffffffffull && (uint32_t)o->key == v;
		}
		v = strtoull(spec, &end, 10);
		return isdigit((unsigned char)spec[0]) && *end == '\0' &&
		       errno == 0 && v == (unsigned long long)o->id;
	}
	if (o->kind >= IK_OBJ_PMQ && o->kind <= IK_OBJ_PSEM && spec[0] != '/')
		return o->name[0] == '/' && strcmp(o->name + 1, spec) == 0;
	return strcmp(o->name, spec) == 0;
}
