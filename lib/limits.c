/*
 * IPC limits and current use (see <ipckit/limits.h>). Each row says where
 * its value comes from; use is counted from /proc/sysvipc, the mqueue mount,
 * /proc/self/status and statvfs. Nothing here is cached: limits can be
 * changed with sysctl at any time.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <ipckit/limits.h>

#include "internal/io.h"
#include "internal/proc.h"

/* Rows of /proc/sysvipc/<kind> and the sum of one column (or -1). */
static int
sysvipc_count(const char *kind, int sum_col, int64_t *rows, int64_t *sum)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", kind);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	*rows = 0;
	*sum = 0;
	if (fgets(line, sizeof(line), f) == NULL) { /* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end;

		(*rows)++;
		if (sum_col < 0)
			continue;
		for (int i = 0; i <= sum_col; i++) {
			unsigned long long v;

			while (*p == ' ')
				p++;
			v = strtoull(p, &end, 10);
			if (end == p)
				break;
			if (i == sum_col)
				*sum += (int64_t)v;
			p = end;
		}
	}
	fclose(f);
	return 0;
}

static int64_t
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int64_t n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static uint64_t
rlim(int res, int *err)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0) {
		*err = -errno;
		return 0;
	}
	return rl.rlim_cur == RLIM_INFINITY ? IK_LIMIT_UNLIMITED
					    : (uint64_t)rl.rlim_cur;
}

struct row {
	const char *name, *what, *source, *unit;
	int field; /* for proc files with several numbers */
};

static const struct row rows[] = {
	{ "kernel.msgmax", "largest System V message",
	  "/proc/sys/kernel/msgmax", "bytes", 0 },
	{ "kernel.msgmnb",
	  "default (and unprivileged maximum) bytes in a "
	  "System V queue",
	  "/proc/sys/kernel/msgmnb", "bytes", 0 },
	{ "kernel.msgmni", "System V message queues", "/proc/sys/kernel/msgmni",
	  "queues", 0 },
	{ "kernel.sem.semmsl", "semaphores in one System V set",
	  "/proc/sys/kernel/sem", "semaphores", 0 },
	{ "kernel.sem.semmns", "System V semaphores in all sets",
	  "/proc/sys/kernel/sem", "semaphores", 1 },
	{ "kernel.sem.semopm", "operations in one semop call",
	  "/proc/sys/kernel/sem", "operations", 2 },
	{ "kernel.sem.semmni", "System V semaphore sets",
	  "/proc/sys/kernel/sem", "sets", 3 },
	{ "kernel.shmmax", "largest System V segment",
	  "/proc/sys/kernel/shmmax", "bytes", 0 },
	{ "kernel.shmall", "System V shared memory in all segments",
	  "/proc/sys/kernel/shmall", "pages", 0 },
	{ "kernel.shmmni", "System V segments", "/proc/sys/kernel/shmmni",
	  "segments", 0 },
	{ "fs.mqueue.msg_max", "messages in one POSIX queue",
	  "/proc/sys/fs/mqueue/msg_max", "messages", 0 },
	{ "fs.mqueue.msgsize_max", "largest POSIX queue message",
	  "/proc/sys/fs/mqueue/msgsize_max", "bytes", 0 },
	{ "fs.mqueue.queues_max", "POSIX message queues",
	  "/proc/sys/fs/mqueue/queues_max", "queues", 0 },
	{ "fs.pipe-max-size", "largest pipe capacity (F_SETPIPE_SZ)",
	  "/proc/sys/fs/pipe-max-size", "bytes", 0 },
	{ "fs.pipe-user-pages-soft",
	  "pipe pages per user before pipes "
	  "shrink to one page",
	  "/proc/sys/fs/pipe-user-pages-soft", "pages", 0 },
	{ "net.core.somaxconn", "listen backlog",
	  "/proc/sys/net/core/somaxconn", "connections", 0 },
	{ "/dev/shm", "space for POSIX shared memory and semaphores",
	  "statvfs(/dev/shm)", "bytes", 0 },
	{ "RLIMIT_MSGQUEUE", "bytes of POSIX queues per user (ulimit -q)",
	  "getrlimit", "bytes", 0 },
	{ "RLIMIT_SIGPENDING", "queued signals per user (ulimit -i)",
	  "getrlimit", "signals", 0 },
	{ "RLIMIT_NOFILE", "open descriptors per process (ulimit -n)",
	  "getrlimit", "descriptors", 0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void
fill(size_t i, struct ik_limit *l)
{
	const struct row *r = &rows[i];
	int64_t n = -1, sum = -1;

	l->name = r->name;
	l->what = r->what;
	l->source = r->source;
	l->unit = r->unit;
	l->value = 0;
	l->used = -1;
	l->error = 0;
	l->note = NULL;
	if (r->source[0] == '/') {
		l->error = ik__proc_u64(r->source, r->field, &l->value);
	} else if (strcmp(r->name, "/dev/shm") == 0) {
		struct statvfs sv;

		if (statvfs("/dev/shm", &sv) < 0) {
			l->error = -errno;
		} else {
			l->value = (uint64_t)sv.f_blocks * sv.f_frsize;
			l->used = (int64_t)((sv.f_blocks - sv.f_bfree) *
					    sv.f_frsize);
		}
		return;
	} else if (strcmp(r->name, "RLIMIT_MSGQUEUE") == 0) {
		l->value = rlim(RLIMIT_MSGQUEUE, &l->error);
		return;
	} else if (strcmp(r->name, "RLIMIT_SIGPENDING") == 0) {
		char buf[4096], *q;

		l->value = rlim(RLIMIT_SIGPENDING, &l->error);
		/* SigQ: queued/limit, for the real uid */
		if (ik__proc_read("/proc/self/status", buf, sizeof(buf)) == 0 &&
		    (q = strstr(buf, "SigQ:")) != NULL)
			l->used = strtoll(q + 5, NULL, 10);
		return;
	} else if (strcmp(r->name, "RLIMIT_NOFILE") == 0) {
		l->value = rlim(RLIMIT_NOFILE, &l->error);
		l->used = count_dir("/proc/self/fd");
		if (l->used > 0)
			l->used--; /* the directory's own descriptor */
		return;
	}
	/* use, where the kernel shows it */
	if (strcmp(r->name, "kernel.msgmni") == 0 &&
	    sysvipc_count("msg", -1, &n, &sum) == 0)
		l->used = n;
	else if (strcmp(r->name, "kernel.sem.semmni") == 0 &&
		 sysvipc_count("sem", -1, &n, &sum) == 0)
		l->used = n;
	else if (strcmp(r->name, "kernel.sem.semmns") == 0 &&
		 sysvipc_count("sem", 3, &n, &sum) == 0)
		l->used = sum; /* column 3: nsems */
	else if (strcmp(r->name, "kernel.shmmni") == 0 &&
		 sysvipc_count("shm", -1, &n, &sum) == 0)
		l->used = n;
	else if (strcmp(r->name, "kernel.shmall") == 0 &&
		 sysvipc_count("shm", 3, &n, &sum) == 0) {
		long pg = sysconf(_SC_PAGESIZE);

		l->used = (sum + pg - 1) / pg; /* column 3: size in bytes */
	} else if (strcmp(r->name, "fs.mqueue.queues_max") == 0) {
		char m[PATH_MAX];
		int none = ik__mqueue_dir(m, sizeof(m)) < 0;

		l->used = none ? -1 : count_dir(m);
		if (none)
			l->note = "no mqueue filesystem is mounted, so POSIX "
				  "queues cannot be counted (as root: mkdir -p "
				  "/dev/mqueue && mount -t mqueue none "
				  "/dev/mqueue)";
	}
}

int
ik_limits_read(struct ik_limit *out, size_t max)
{
	for (size_t i = 0; i < NROWS && i < max; i++)
		fill(i, &out[i]);
	return (int)NROWS;
}

int
ik_limit_get(const char *name, struct ik_limit *out)
{
	struct ik_limit l;

	for (size_t i = 0; i < NROWS; i++) {
		if (strcmp(rows[i].name, name) == 0) {
			fill(i, &l);
			if (l.error < 0)
				return l.error;
			*out = l;
			return 0;
		}
	}
	return -ENOENT;
}

int
ik_limit_near(const struct ik_limit *l, unsigned pct)
{
	if (l->error < 0 || l->used < 0 || l->value == 0 ||
	    l->value == IK_LIMIT_UNLIMITED)
		return 0;
	/* value / 100 first: values near UINT64_MAX must not overflow */
	return (uint64_t)l->used >= l->value / 100 * pct;
}
