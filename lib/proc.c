/* /proc readers and capability checks (see lib/internal/proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal/io.h"
#include "internal/proc.h"

int
ik__proc_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	ik__close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int
ik__proc_u64(const char *path, int field, uint64_t *out)
{
	char buf[256], *p, *end;
	int r = ik__proc_read(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	p = buf;
	for (int i = 0;; i++) {
		unsigned long long v;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return -ENODATA;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (end == p || errno)
			return -EIO;
		if (i == field) {
			*out = v;
			return 0;
		}
		p = end;
	}
}

int
ik__proc_long(const char *path, long *out)
{
	char buf[64], *end;
	long v;
	int r = ik__proc_read(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf)
		return -EIO;
	*out = v;
	return 0;
}

bool
ik__has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (cap < 0 || cap >= 64 || syscall(SYS_capget, &h, d) != 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

int
ik__proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long v;
	int r;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = ik__proc_read(path, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* the command name may hold spaces and ')': skip to the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0')
		return -EIO;
	if (state != NULL)
		*state = p[2];
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -EIO;
	}
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (errno != 0 || end == p + 1)
		return -EIO;
	if (start != NULL)
		*start = v;
	return 0;
}

int
ik__proc_alive(pid_t pid, uint64_t start)
{
	uint64_t now;
	char st;
	int r;

	if (pid <= 0)
		return 0;
	/* kill first: it is what decides whether we may signal it at all */
	if (kill(pid, 0) < 0 && errno != EPERM)
		return errno == ESRCH ? 0 : -errno;
	r = ik__proc_stat(pid, &st, &now);
	if (r < 0)
		return r == -ESRCH ? 0 : r;
	/* Z: exited, waiting for its parent; X: being torn down */
	if (st == 'Z' || st == 'X')
		return 0;
	return start == 0 || now == start;
}

bool
ik__have_pidfd(void)
{
	/* 0 unknown, 1 yes, 2 no; racing first calls reach the same answer */
	static int mode;
	int m = __atomic_load_n(&mode, __ATOMIC_RELAXED);

	if (m == 0) {
		const char *e = getenv("IPCKIT_NO_PIDFD");
		int fd = -1;

		if (e == NULL || *e == '\0')
			fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		/* only ENOSYS means "none here"; EMFILE and the like pass */
		m = fd < 0 && (errno == ENOSYS || (e != NULL && *e != '\0'))
			    ? 2
			    : 1;
		ik__close(fd);
		__atomic_store_n(&mode, m, __ATOMIC_RELAXED);
	}
	return m == 1;
}

int
ik__pidfd_open(pid_t pid)
{
	int fd;

	if (!ik__have_pidfd())
		return -ENOSYS;
	fd = (int)syscall(SYS_pidfd_open, pid, 0); /* always O_CLOEXEC */
	return fd < 0 ? -errno : fd;
}

/* The first mqueue mount of /proc/self/mounts, octal escapes decoded. */
int
ik__mqueue_dir(char *dir, size_t len)
{
	char line[PATH_MAX + 256], mnt[PATH_MAX], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	int r = -ENOENT;

	if (f == NULL)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t j = 0;

		if (sscanf(line, "%*s %4095s %63s", mnt, type) != 2 ||
		    strcmp(type, "mqueue") != 0)
			continue;
		for (size_t i = 0; mnt[i] != '\0' && j + 1 < len; i++) {
			unsigned c;

			if (mnt[i] == '\\' &&
			    /* NOLINTNEXTLINE(cert-err34-c): 3 octal digits */
			    sscanf(mnt + i + 1, "%3o", &c) == 1) {
				dir[j++] = (char)c;
				i += 3;
			} else {
				dir[j++] = mnt[i];
			}
		}
		dir[j] = '\0';
		r = 0;
	}
	fclose(f);
	return r;
}
