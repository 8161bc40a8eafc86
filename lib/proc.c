/* /proc readers and capability checks (see lib/internal/proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
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
