/*
 * POSIX semaphores (see <ipckit/sem.h>). Named ones are created with
 * O_CREAT|O_EXCL and 0600; glibc builds the file aside and links it into
 * /dev/shm, so no one can see a half-initialized semaphore, and it keeps no
 * descriptor open afterwards. Timed waits use sem_clockwait on
 * CLOCK_MONOTONIC (glibc >= 2.30); with an older glibc they fall back to
 * sem_timedwait, recomputing the CLOCK_REALTIME deadline from the monotonic
 * one after every interruption so that at least the EINTR case stays right.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include <ipckit/sem.h>

#include "internal/time.h"

/* glibc stores "/name" as /dev/shm/sem.name: NAME_MAX minus "sem." */
#define PSEM_NAME_MAX (NAME_MAX - 4)

static int
check_name(const char *name)
{
	size_t len;

	if (name == NULL || name[0] != '/' || name[1] == '\0')
		return -EINVAL;
	len = strnlen(name + 1, PSEM_NAME_MAX + 1);
	if (len > PSEM_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name + 1, '/', len) != NULL || strcmp(name, "/.") == 0 ||
	    strcmp(name, "/..") == 0)
		return -EINVAL;
	return 0;
}

int
ik_psem_create(const char *name, unsigned int value, sem_t **out)
{
	sem_t *s;
	int r = check_name(name);

	if (r < 0)
		return r;
	if (out == NULL || value > SEM_VALUE_MAX)
		return -EINVAL;
	s = sem_open(name, O_CREAT | O_EXCL, S_IRUSR | S_IWUSR, value);
	if (s == SEM_FAILED) {
		r = -errno;
		/* glibc links the name in before it allocates its own
		 * bookkeeping, and leaves the name there when that fails:
		 * with O_EXCL any name there now is the one this call made */
		if (r != -EEXIST)
			sem_unlink(name);
		return r;
	}
	*out = s;
	return 0;
}

int
ik_psem_open(const char *name, sem_t **out)
{
	sem_t *s;
	int r = check_name(name);

	if (r < 0)
		return r;
	if (out == NULL)
		return -EINVAL;
	s = sem_open(name, 0);
	if (s == SEM_FAILED)
		return -errno;
	*out = s;
	return 0;
}

int
ik_psem_close(sem_t *sem)
{
	if (sem == NULL)
		return -EINVAL;
	return sem_close(sem) < 0 ? -errno : 0;
}

int
ik_psem_unlink(const char *name)
{
	int r = check_name(name);

	if (r < 0)
		return r;
	return sem_unlink(name) < 0 ? -errno : 0;
}

int
ik_psem_init(sem_t *sem, unsigned int value)
{
	if (sem == NULL || value > SEM_VALUE_MAX)
		return -EINVAL;
	return sem_init(sem, 1, value) < 0 ? -errno : 0;
}

int
ik_psem_destroy(sem_t *sem)
{
	if (sem == NULL)
		return -EINVAL;
	return sem_destroy(sem) < 0 ? -errno : 0;
}

static int
timed_wait(sem_t *sem, const struct ik__deadline *d)
{
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 30)
	struct timespec abs = ik__deadline_abs(d);

	return sem_clockwait(sem, CLOCK_MONOTONIC, &abs);
#else
	struct timespec abs = ik__deadline_abs_realtime(d);

	return sem_timedwait(sem, &abs);
#endif
}

int
ik_psem_wait(sem_t *sem, int timeout_ms)
{
	struct ik__deadline d;
	int r;

	if (sem == NULL)
		return -EINVAL;
	if (timeout_ms == 0) {
		while ((r = sem_trywait(sem)) < 0 && errno == EINTR)
			;
		return r < 0 ? -errno : 0;
	}
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		r = d.forever ? sem_wait(sem) : timed_wait(sem, &d);
		if (r == 0)
			return 0;
		if (errno == ETIMEDOUT && !ik__deadline_expired(&d))
			continue; /* only on the realtime fallback: clock moved
				   */
		if (errno != EINTR)
			return -errno;
		if (ik__deadline_expired(&d))
			return -ETIMEDOUT;
	}
}

int
ik_psem_trywait(sem_t *sem)
{
	return ik_psem_wait(sem, 0);
}

int
ik_psem_post(sem_t *sem)
{
	if (sem == NULL)
		return -EINVAL;
	return sem_post(sem) < 0 ? -errno : 0;
}

int
ik_psem_getvalue(sem_t *sem)
{
	int v;

	if (sem == NULL || sem_getvalue(sem, &v) < 0)
		return -EINVAL;
	return v;
}
