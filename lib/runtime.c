/*
 * The private runtime directory (see <ipckit/runtime.h>). The checks are made
 * on the opened directory (O_NOFOLLOW|O_DIRECTORY, then fstat) so a symlink
 * swapped in between check and use is refused, not followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/runtime.h>

#include "internal/io.h"

int
ik_private_dir(const char *dir)
{
	struct stat st;
	int fd, r = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? IK_EUNSAFE : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		 (st.st_mode & 077) != 0)
		r = IK_EUNSAFE;
	ik__close(fd);
	return r;
}

static int
usable_base(const char *dir)
{
	struct stat st;

	return dir != NULL && dir[0] == '/' && stat(dir, &st) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

int
ik_runtime_dir(char *buf, size_t len)
{
	const char *env = getenv("IPCKIT_RUNTIME_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	int n, r;

	if (env != NULL && env[0] != '\0')
		n = snprintf(path, sizeof(path), "%s", env);
	else if (usable_base(xdg))
		n = snprintf(path, sizeof(path), "%s/ipckit", xdg);
	else
		n = snprintf(path, sizeof(path), "/tmp/ipckit-%u",
			     (unsigned)geteuid());
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (env == NULL || env[0] == '\0') {
		/* $XDG_RUNTIME_DIR itself must be private too */
		if (usable_base(xdg) && (r = ik_private_dir(xdg)) < 0)
			return r;
	}
	r = ik_private_dir(path);
	if (r < 0)
		return r;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, path, (size_t)n + 1);
	return n;
}

int
ik_runtime_path(char *buf, size_t len, const char *name)
{
	char dir[4096];
	int n, r;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	r = ik_runtime_dir(dir, sizeof(dir));
	if (r < 0)
		return r;
	n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}
