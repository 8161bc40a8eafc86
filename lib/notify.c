/*
 * Notifications over queued RT signals (see <ipckit/notify.h>). The group
 * directory <runtime>/notify/<group>/ holds one file per listener, named by
 * its pid, holding "PID STARTTIME SINCE\n", plus an optional "names" file.
 * Registrations appear atomically (written under a temporary name, then
 * linked: link fails on an existing name as O_EXCL does) and are created or
 * removed only under flock on the directory, so a sender pruning a dead
 * listener can never remove the file of a new process that got its pid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/notify.h>
#include <ipckit/runtime.h>
#include <ipckit/sig.h>

#include "internal/io.h"
#include "internal/proc.h"
#include "internal/time.h"

#define REG_MAX 128 /* bytes of a registration file */
#define NAMES_FILE "names"
#define NAMES_MAX_BYTES 65536	  /* a larger names file is refused */
#define NAMES_MAX 1024		  /* and so is one with more lines */
#define SEND_BACKOFF_MIN 20000	  /* ns: first wait on a full queue */
#define SEND_BACKOFF_MAX 20000000 /* ns: longest single wait */

struct reg {
	pid_t pid;
	uint64_t start;
	int64_t since;
};

struct names {
	struct ik_notify_name *v;
	size_t n;
};

struct ik_notify {
	int fd;	   /* signalfd */
	int dirfd; /* the group directory */
	pid_t pid;
	uint64_t start;
	char group[IK_NOTIFY_NAME_MAX + 1];
	struct names names; /* cache for ik_notify_event_name */
	struct stat names_st;
	int names_loaded;
};

/* Signals carry no group: a second listener would steal the first's. */
static pid_t listening_pid;

/* ---- names, payload ------------------------------------------------------ */

int
ik_notify_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return -EINVAL;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i == IK_NOTIFY_NAME_MAX)
			return -EINVAL;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return -EINVAL;
	}
	return 0;
}

/* Event names start with a letter, so "12" is always a number. */
static int
event_name_ok(const char *name)
{
	if (ik_notify_name_ok(name) < 0 ||
	    !((name[0] >= 'a' && name[0] <= 'z') ||
	      (name[0] >= 'A' && name[0] <= 'Z')))
		return -EINVAL;
	return 0;
}

int
ik_notify_pack(int event, int value, int *out)
{
	uint32_t u;
	int32_t s;

	if (event < 0 || event > IK_NOTIFY_EVENT_MAX || value < 0 ||
	    value > IK_NOTIFY_VALUE_MAX)
		return -ERANGE;
	u = (uint32_t)event << IK_NOTIFY_VALUE_BITS | (uint32_t)value;
	memcpy(&s, &u, sizeof(s)); /* events >= 128 set the sign bit */
	*out = s;
	return 0;
}

void
ik_notify_unpack(int payload, int *event, int *value)
{
	int32_t s = payload;
	uint32_t u;

	memcpy(&u, &s, sizeof(u));
	*event = (int)(u >> IK_NOTIFY_VALUE_BITS);
	*value = (int)(u & IK_NOTIFY_VALUE_MAX);
}

/* ---- the group directory, registrations ---------------------------------- */

/*
 * Open <runtime>/notify/<group>, checked private. Without create, a missing
 * directory is -ENOENT (and nothing is made).
 */
static int
open_group(const char *group, int create)
{
	char path[4096];
	struct stat st;
	int n, r, fd;

	if (ik_notify_name_ok(group) < 0)
		return -EINVAL;
	n = ik_runtime_path(path, sizeof(path), "notify");
	if (n < 0)
		return n;
	if (!create && lstat(path, &st) < 0)
		return -errno;
	if ((r = ik_private_dir(path)) < 0)
		return r;
	if ((size_t)n + 1 + strlen(group) + 1 > sizeof(path))
		return -ENAMETOOLONG;
	path[n] = '/';
	memcpy(path + n + 1, group, strlen(group) + 1);
	if (!create && lstat(path, &st) < 0)
		return -errno;
	if ((r = ik_private_dir(path)) < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? IK_EUNSAFE : -errno;
	return fd;
}

static int
lock_dir(int dirfd, int op)
{
	while (flock(dirfd, op) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Create-or-open the group directory and lock it. The last listener to
 * leave removes an empty directory, so a directory found unlinked once
 * locked is opened again: anything put in it would be invisible.
 */
static int
open_group_locked(const char *group)
{
	struct stat st;
	int fd, r;

	for (int tries = 0; tries < 100; tries++) {
		fd = open_group(group, 1);
		if (fd < 0)
			return fd;
		if ((r = lock_dir(fd, LOCK_EX)) < 0 ||
		    (r = fstat(fd, &st) < 0 ? -errno : 0) < 0) {
			ik__close(fd);
			return r;
		}
		if (st.st_nlink > 0)
			return fd;
		ik__close(fd);
	}
	return -EAGAIN;
}

/* starttime (field 22) of /proc/PID/stat; -ESRCH when there is no such pid */
static int
start_time(pid_t pid, uint64_t *out)
{
	return ik__proc_stat(pid, NULL, out);
}

/* "123" -> 123; -1 unless the whole name is a positive decimal pid */
static pid_t
pid_of_name(const char *name)
{
	long v = 0;

	if (name[0] < '1' || name[0] > '9')
		return -1;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000000000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v > 0 && v <= 0x3fffffff ? (pid_t)v : -1;
}

/*
 * A decimal number at *p within [lo, hi], *p moved past it. sscanf's %d
 * was used before: it wraps values out of range (4294967297 read as 1,
 * clang-tidy cert-err34-c), so a file could say one number and mean another.
 */
static int
dec(const char **p, long long lo, long long hi, long long *out)
{
	const char *s = *p;
	char *end;
	long long v;

	if (!((s[0] >= '0' && s[0] <= '9') ||
	      (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < lo || v > hi)
		return -1;
	*p = end;
	*out = v;
	return 0;
}

/*
 * Read and validate a registration file: a regular file of ours whose pid
 * matches its name. Anything else is -EBADMSG, never trusted.
 */
static int
read_reg(int dirfd, const char *name, struct reg *out)
{
	char buf[REG_MAX + 1];
	const char *p = buf;
	long long pid, start, since;
	struct stat st;
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		n = -errno;
		ik__close(fd);
		return (int)n;
	}
	do
		n = read(fd, buf, REG_MAX);
	while (n < 0 && errno == EINTR);
	ik__close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* "PID STARTTIME SINCE\n", as publish writes it */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    dec(&p, 1, INT32_MAX, &pid) < 0 || *p++ != ' ' ||
	    dec(&p, 0, LLONG_MAX, &start) < 0 || *p++ != ' ' ||
	    dec(&p, LLONG_MIN, LLONG_MAX, &since) < 0 || strcmp(p, "\n") != 0 ||
	    pid != pid_of_name(name))
		return -EBADMSG;
	out->pid = (pid_t)pid;
	out->start = (uint64_t)start;
	out->since = since;
	return 0;
}

/* Is the registered process still the one running under its pid? */
static int
reg_alive(const struct reg *g)
{
	uint64_t now;
	int r = start_time(g->pid, &now);

	if (r < 0)
		return r == -ESRCH ? 0 : r;
	return now == g->start;
}

/* Write data to the new file dirfd/name (0600, must not exist). */
static int
write_file(int dirfd, const char *name, const char *data, size_t len)
{
	struct ik__deadline d;
	ssize_t w;
	int fd, r = 0;

	fd = openat(dirfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ik__deadline_init(&d, -1);
	w = ik__write_full(fd, data, len, 0, &d, NULL);
	if (w < 0)
		r = (int)w;
	ik__close(fd);
	if (r < 0)
		unlinkat(dirfd, name, 0);
	return r;
}

/* Under the directory lock: publish our registration. */
static int
publish(int dirfd, const struct reg *me)
{
	char name[32], tmp[48], data[REG_MAX];
	struct reg old;
	int n, r;

	snprintf(name, sizeof(name), "%d", (int)me->pid);
	snprintf(tmp, sizeof(tmp), ".reg.%d", (int)me->pid);
	n = snprintf(data, sizeof(data), "%d %" PRIu64 " %" PRId64 "\n",
		     (int)me->pid, me->start, me->since);
	/* a temporary file with our pid can only be a dead process's */
	unlinkat(dirfd, tmp, 0);
	r = write_file(dirfd, tmp, data, (size_t)n);
	if (r < 0)
		return r;
	for (int tries = 0; tries < 2; tries++) {
		if (linkat(dirfd, tmp, dirfd, name, 0) == 0) {
			r = 0;
			break;
		}
		r = -errno;
		if (r != -EEXIST)
			break;
		/* a dead process with our pid left it, or it is malformed */
		if (read_reg(dirfd, name, &old) == 0 &&
		    old.start == me->start) {
			r = 0; /* ours: left by an earlier listen of ours */
			break;
		}
		if (unlinkat(dirfd, name, 0) < 0) {
			r = -errno;
			break;
		}
	}
	unlinkat(dirfd, tmp, 0);
	return r;
}

/* The group's directory, if empty (a names file keeps it). Locked. */
static void
remove_if_empty(const char *group)
{
	char path[4096];
	int n = ik_runtime_path(path, sizeof(path), "notify");

	if (n > 0 && (size_t)n + strlen(group) + 2 <= sizeof(path)) {
		path[n] = '/';
		memcpy(path + n + 1, group, strlen(group) + 1);
		rmdir(path); /* ENOTEMPTY: others still there */
	}
}

/*
 * Remove dirfd/name if it still holds the registration g, and g is stale
 * (or, with mine, if it is the caller's own), then the directory if that
 * left it empty. Under the directory lock.
 */
static int
unpublish(int dirfd, const char *group, const struct reg *g, int mine)
{
	char name[32];
	struct reg cur;
	int r;

	snprintf(name, sizeof(name), "%d", (int)g->pid);
	r = lock_dir(dirfd, LOCK_EX);
	if (r < 0)
		return r;
	r = read_reg(dirfd, name, &cur);
	if (r == 0 && (cur.pid != g->pid || cur.start != g->start))
		r = 0; /* replaced meanwhile: not ours to remove */
	else if (r == 0 && (mine || reg_alive(&cur) == 0)) {
		r = unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
		if (r == 0)
			remove_if_empty(group);
	} else if (r == -ENOENT) {
		r = 0;
	}
	lock_dir(dirfd, LOCK_UN);
	return r;
}

static int
cmp_reg(const void *a, const void *b)
{
	const struct reg *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every well-formed registration of the group, sorted by pid. */
static int
collect(int dirfd, struct reg **out, size_t *count)
{
	struct reg *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		ik__close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		struct reg g;

		if (pid_of_name(e->d_name) < 0 ||
		    read_reg(dirfd, e->d_name, &g) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = g;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_reg);
	*out = v;
	*count = n;
	return 0;
}

/* ---- listening ------------------------------------------------------------
 */

static void
drain(int fd)
{
	struct ik_siginfo si[32];

	while (ik_sig_fd_read(fd, si, 32, 0) > 0)
		;
}

int
ik_notify_listen(ik_notify **out, const char *group)
{
	sigset_t set, old;
	ik_notify *l;
	struct reg me;
	int r;

	if (out == NULL || ik_notify_name_ok(group) < 0)
		return -EINVAL;
	if (listening_pid == getpid())
		return -EBUSY;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->fd = l->dirfd = -1;
	memcpy(l->group, group, strlen(group) + 1);
	l->pid = me.pid = getpid();
	if ((r = start_time(me.pid, &me.start)) < 0)
		goto fail_free;
	me.since = (int64_t)time(NULL);
	l->start = me.start;
	/* blocked before anyone can find us: unblocked, it would kill us */
	if ((r = ik_sig_makeset(&set, IK_NOTIFY_SIGNAL, 0)) < 0 ||
	    (r = ik_sig_block(&set, &old)) < 0)
		goto fail_free;
	r = ik_sig_fd_open(&set, IK_SIGFD_NONBLOCK);
	if (r < 0)
		goto fail_mask;
	l->fd = r;
	drain(l->fd); /* left from an earlier registration of this process */
	r = open_group_locked(group);
	if (r < 0)
		goto fail_fd;
	l->dirfd = r;
	r = publish(l->dirfd, &me);
	lock_dir(l->dirfd, LOCK_UN);
	if (r < 0)
		goto fail_dir;
	listening_pid = me.pid;
	*out = l;
	return 0;

fail_dir:
	ik__close(l->dirfd);
fail_fd:
	ik__close(l->fd);
fail_mask:
	if (!sigismember(&old, IK_NOTIFY_SIGNAL)) {
		sigset_t p;

		/* a stray one would kill us once unblocked: keep it blocked */
		if (sigpending(&p) == 0 && !sigismember(&p, IK_NOTIFY_SIGNAL))
			ik_sig_setmask(&old, NULL);
	}
fail_free:
	free(l);
	return r;
}

int
ik_notify_fd(const ik_notify *l)
{
	return l ? l->fd : -EINVAL;
}

const char *
ik_notify_group(const ik_notify *l)
{
	return l ? l->group : NULL;
}

int
ik_notify_read(ik_notify *l, struct ik_notification *out, int n, int timeout_ms)
{
	struct ik_siginfo si[32];
	struct ik__deadline d;
	int r, k;

	if (l == NULL || out == NULL || n <= 0)
		return -EINVAL;
	if (n > 32)
		n = 32;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		r = ik_sig_fd_read(l->fd, si, n, ik__deadline_left_ms(&d));
		if (r < 0)
			return r;
		k = 0;
		for (int i = 0; i < r; i++) {
			/* a plain kill carries no payload: not a notification
			 */
			if (si[i].signo != IK_NOTIFY_SIGNAL ||
			    si[i].code != SI_QUEUE)
				continue;
			ik_notify_unpack(si[i].value_int, &out[k].event,
					 &out[k].value);
			out[k].sender = si[i].pid;
			out[k].uid = si[i].uid;
			k++;
		}
		if (k > 0)
			return k;
		if (ik__deadline_expired(&d))
			return -ETIMEDOUT;
	}
}

int
ik_notify_close(ik_notify *l)
{
	struct reg me;
	int r = 0;

	if (l == NULL)
		return 0;
	/* a forked child holds a copy: only the registering process removes */
	if (l->pid == getpid()) {
		me.pid = l->pid;
		me.start = l->start;
		r = unpublish(l->dirfd, l->group, &me, 1);
		listening_pid = 0;
	}
	ik__close(l->dirfd);
	ik__close(l->fd);
	free(l->names.v);
	free(l);
	return r;
}

/* ---- sending ----------------------------------------------------------------
 */

/*
 * Queue the signal through a pidfd, which pins the process once we have
 * checked it is the registered one. Without pidfds (kernels before 5.3,
 * valgrind) the pid itself is used: it is checked before every attempt,
 * but could in theory be recycled between the check and the signal.
 */
static int
send_one(const struct reg *g, int payload, const struct ik__deadline *d)
{
	struct ik__backoff b;
	siginfo_t si;
	bool checked = false;
	int pidfd, r;

	pidfd = ik__pidfd_open(g->pid);
	if (pidfd < 0 && pidfd != -ENOSYS)
		return pidfd;
	memset(&si, 0, sizeof(si));
	si.si_signo = IK_NOTIFY_SIGNAL;
	si.si_code = SI_QUEUE; /* as sigqueue(3) fills it in */
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = payload;
	ik__backoff_init(&b, SEND_BACKOFF_MIN, SEND_BACKOFF_MAX);
	for (;;) {
		long sent;

		/* a pidfd needs one check; a bare pid, one per attempt */
		if (pidfd < 0 || !checked) {
			checked = true;
			r = reg_alive(g);
			if (r <= 0) {
				r = r == 0 ? -ESRCH : r;
				break;
			}
		}
		if (pidfd >= 0)
			sent = syscall(SYS_pidfd_send_signal, pidfd,
				       IK_NOTIFY_SIGNAL, &si, 0);
		else
			sent = syscall(SYS_rt_sigqueueinfo, g->pid,
				       IK_NOTIFY_SIGNAL, &si);
		if (sent == 0) {
			r = 0;
			break;
		}
		r = -errno;
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN)
			break;
		/* the receiver's queue is full: give it time to read */
		if (ik__backoff_sleep(&b, d) < 0) {
			r = IK_ERLIMIT_SIGPENDING;
			break;
		}
	}
	ik__close(pidfd);
	return r;
}

int
ik_notify_send(const char *group, int event, int value, int timeout_ms,
	       ik_notify_report_fn report, void *arg)
{
	struct ik__deadline d;
	struct reg *v = NULL;
	size_t n = 0;
	int payload, fd, r, delivered = 0, first = 0;

	if (ik_notify_name_ok(group) < 0)
		return -EINVAL;
	if ((r = ik_notify_pack(event, value, &payload)) < 0)
		return r;
	ik__deadline_init(&d, timeout_ms);
	fd = open_group(group, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = collect(fd, &v, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		r = send_one(&v[i], payload, &d);
		if (r == -ESRCH)
			unpublish(fd, group, &v[i], 0);
		if (r == 0)
			delivered++;
		else if (r != -ESRCH && first == 0)
			first = r;
		if (report)
			report(v[i].pid, r, arg);
	}
	r = first ? first : delivered;
out:
	free(v);
	ik__close(fd);
	return r;
}

/* ---- event names ------------------------------------------------------------
 */

/* Parse a names file: "NAME NUMBER" lines, blank lines, '#' comments. */
static int
parse_names(char *buf, struct names *out)
{
	struct names t = { NULL, 0 };
	char *save = NULL, *line;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[IK_NOTIFY_NAME_MAX + 1];
		const char *p;
		long long ev;
		size_t len;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		/* NAME, blanks, NUMBER, optional blanks */
		len = strcspn(line, " \t");
		p = line + len;
		if (len > IK_NOTIFY_NAME_MAX || (*p != ' ' && *p != '\t'))
			goto bad;
		memcpy(name, line, len);
		name[len] = '\0';
		p += strspn(p, " \t");
		if (event_name_ok(name) < 0 ||
		    dec(&p, 0, IK_NOTIFY_EVENT_MAX, &ev) < 0 ||
		    p[strspn(p, " \t\r")] != '\0' || t.n == NAMES_MAX)
			goto bad;
		if (t.n % 64 == 0) {
			void *nv = realloc(t.v, (t.n + 64) * sizeof(*t.v));

			if (nv == NULL) {
				free(t.v);
				return -ENOMEM;
			}
			t.v = nv;
		}
		memcpy(t.v[t.n].name, name, len + 1);
		t.v[t.n++].event = (int)ev;
	}
	*out = t;
	return 0;
bad:
	free(t.v);
	return -EBADMSG;
}

/* Load dirfd/names (an empty table if there is none); *st its identity. */
static int
load_names(int dirfd, struct names *out, struct stat *st)
{
	char *buf;
	ssize_t n;
	int fd, r;

	fd = openat(dirfd, NAMES_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		out->v = NULL;
		out->n = 0;
		if (st)
			memset(st, 0, sizeof(*st));
		return 0;
	}
	r = fstat(fd, st ? st : &(struct stat){ 0 }) < 0 ? -errno : 0;
	buf = malloc(NAMES_MAX_BYTES + 1);
	if (r == 0 && buf == NULL)
		r = -ENOMEM;
	if (r == 0) {
		struct ik__deadline d;

		ik__deadline_init(&d, -1);
		n = ik__read_full(fd, buf, NAMES_MAX_BYTES + 1, &d, NULL);
		if (n < 0)
			r = (int)n;
		else if (n > NAMES_MAX_BYTES)
			r = -EBADMSG;
		else {
			buf[n] = '\0';
			r = parse_names(buf, out);
		}
	}
	free(buf);
	ik__close(fd);
	return r;
}

static int
lookup(const struct names *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return t->v[i].event;
	return -ENOENT;
}

int
ik_notify_name_set(const char *group, const char *name, int event)
{
	char tmp[48], *data = NULL;
	struct names t = { NULL, 0 };
	size_t len = 0, i;
	int fd, r, found = 0;

	if (ik_notify_name_ok(group) < 0 || event_name_ok(name) < 0)
		return -EINVAL;
	if (event < 0 || event > IK_NOTIFY_EVENT_MAX)
		return -ERANGE;
	fd = open_group_locked(group);
	if (fd < 0)
		return fd;
	if ((r = load_names(fd, &t, NULL)) < 0)
		goto out_unlock;
	/* a line more than readers accept would break the group's names for
	 * everyone (found by fuzz_notify) */
	if (t.n == NAMES_MAX && lookup(&t, name) < 0) {
		r = -ENOSPC;
		goto out_unlock;
	}
	data = malloc((t.n + 1) * (IK_NOTIFY_NAME_MAX + 8));
	if (data == NULL) {
		r = -ENOMEM;
		goto out_unlock;
	}
	for (i = 0; i < t.n; i++) {
		int ev = t.v[i].event;

		if (strcmp(t.v[i].name, name) == 0) {
			ev = event;
			found = 1;
		}
		len += (size_t)snprintf(data + len, IK_NOTIFY_NAME_MAX + 8,
					"%s %d\n", t.v[i].name, ev);
	}
	if (!found)
		len += (size_t)snprintf(data + len, IK_NOTIFY_NAME_MAX + 8,
					"%s %d\n", name, event);
	/* readers see the old file or the new one, never half of it */
	snprintf(tmp, sizeof(tmp), ".names.%d", (int)getpid());
	unlinkat(fd, tmp, 0);
	r = write_file(fd, tmp, data, len);
	if (r == 0 && renameat(fd, tmp, fd, NAMES_FILE) < 0) {
		r = -errno;
		unlinkat(fd, tmp, 0);
	}
out_unlock:
	lock_dir(fd, LOCK_UN);
	free(data);
	free(t.v);
	ik__close(fd);
	return r;
}

/* A group's name table (open, load, close); -ENOENT: no such group. */
static int
group_names(const char *group, struct names *t)
{
	int fd = open_group(group, 0), r;

	if (fd < 0)
		return fd;
	r = load_names(fd, t, NULL);
	ik__close(fd);
	return r;
}

int
ik_notify_names(const char *group, struct ik_notify_name *out, size_t n)
{
	struct names t = { NULL, 0 };
	int r;

	if (ik_notify_name_ok(group) < 0 || (out == NULL && n > 0))
		return -EINVAL;
	r = group_names(group, &t);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < t.n && i < n; i++)
		out[i] = t.v[i];
	r = (int)t.n;
	free(t.v);
	return r;
}

int
ik_notify_name_lookup(const char *group, const char *name)
{
	struct names t = { NULL, 0 };
	int r;

	if (ik_notify_name_ok(group) < 0 || event_name_ok(name) < 0)
		return -EINVAL;
	r = group_names(group, &t);
	if (r < 0)
		return r;
	r = lookup(&t, name);
	free(t.v);
	return r;
}

int
ik_notify_event_name(ik_notify *l, int event, char *buf, size_t len)
{
	struct stat st;
	size_t n;

	if (l == NULL || buf == NULL)
		return -EINVAL;
	if (fstatat(l->dirfd, NAMES_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return -errno;
		memset(&st, 0, sizeof(st));
	}
	/* rewritten by rename: a new inode, so this sees every change */
	if (!l->names_loaded || st.st_ino != l->names_st.st_ino ||
	    st.st_mtim.tv_nsec != l->names_st.st_mtim.tv_nsec ||
	    st.st_mtim.tv_sec != l->names_st.st_mtim.tv_sec ||
	    st.st_size != l->names_st.st_size) {
		struct names t = { NULL, 0 };
		int r = load_names(l->dirfd, &t, &l->names_st);

		if (r < 0)
			return r;
		free(l->names.v);
		l->names = t;
		l->names_loaded = 1;
	}
	for (size_t i = 0; i < l->names.n; i++) {
		if (l->names.v[i].event != event)
			continue;
		n = strlen(l->names.v[i].name);
		if (n + 1 > len)
			return -ENAMETOOLONG;
		memcpy(buf, l->names.v[i].name, n + 1);
		return (int)n;
	}
	return -ENOENT;
}

/* ---- inspecting
 * --------------------------------------------------------------- */

/* SigQ and whether sig is in ShdPnd, from /proc/PID/status. */
static void
proc_signals(struct ik_notify_entry *e, int sig)
{
	char path[64], buf[4096], *p;
	unsigned long long mask;

	e->pending = -1;
	e->sigq_queued = e->sigq_limit = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)e->pid);
	if (ik__proc_read(path, buf, sizeof(buf)) < 0)
		return;
	if ((p = strstr(buf, "\nSigQ:")) != NULL &&
	    /* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
	    sscanf(p + 6, "%ld/%ld", &e->sigq_queued, &e->sigq_limit) != 2)
		e->sigq_queued = e->sigq_limit = -1;
	if ((p = strstr(buf, "\nShdPnd:")) != NULL &&
	    /* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
	    sscanf(p + 8, "%llx", &mask) == 1)
		e->pending = (mask >> (sig - 1)) & 1;
}

int
ik_notify_list(const char *group, struct ik_notify_entry *out, size_t n)
{
	struct reg *v = NULL;
	size_t count = 0;
	int fd, r;

	if (ik_notify_name_ok(group) < 0 || (out == NULL && n > 0))
		return -EINVAL;
	fd = open_group(group, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = collect(fd, &v, &count);
	ik__close(fd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < count && i < n; i++) {
		struct ik_notify_entry *e = &out[i];

		memset(e, 0, sizeof(*e));
		e->pid = v[i].pid;
		e->start_time = v[i].start;
		e->since = v[i].since;
		e->alive = reg_alive(&v[i]) == 1;
		if (e->alive)
			proc_signals(e, IK_NOTIFY_SIGNAL);
		else
			e->pending = e->sigq_queued = e->sigq_limit = -1;
	}
	free(v);
	return (int)count;
}
