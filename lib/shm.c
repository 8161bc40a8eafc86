/*
 * Shared memory segments: POSIX (shm_open), System V (shmget) and memfd,
 * behind one handle. See include/ipckit/shm.h for the guarantees. Sizes
 * are reserved with posix_fallocate rather than ftruncate: ftruncate on a
 * tmpfs only sets the length, and a full /dev/shm then kills the first
 * process to touch a missing page with SIGBUS, long after creation said yes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/shm.h>

#include "internal/io.h"

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define MODE_0600 (S_IRUSR | S_IWUSR)
#define MAP_ONLY_FLAGS (IK_SHM_POPULATE | IK_SHM_LOCK)
#define FD_FLAGS (IK_SHM_RDONLY | IK_SHM_NOMAP | MAP_ONLY_FLAGS)
/* removing on close is the creator's business only (see ik_shm_close) */
#define CREATE_FLAGS (FD_FLAGS | IK_SHM_UNLINK_ON_CLOSE)
#define OPEN_FLAGS (FD_FLAGS | IK_SHM_ANY_OWNER)
#define KNOWN_SEALS                                                 \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
	 F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

/*
 * "/name": one leading slash and no other, not "." or "..", short enough
 * for every glibc (older ones refuse a component of NAME_MAX - 1 bytes).
 */
static int
check_name(const char *name)
{
	size_t len;

	if (name == NULL || name[0] != '/')
		return -EINVAL;
	len = strlen(name);
	if (len > IK_SHM_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 1 || strchr(name + 1, '/') != NULL ||
	    strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0)
		return -EINVAL;
	return 0;
}

/* Reserve every page now, so that running out is -ENOSPC here. */
static int
reserve(int fd, size_t size)
{
	int r;

	if ((uint64_t)size > (uint64_t)INT64_MAX)
		return -EFBIG;
	do
		r = posix_fallocate(fd, 0, (off_t)size);
	while (r == EINTR);
	return -r;
}

/* A size read from the kernel against the one the caller expects. */
static int
check_size(uint64_t actual, size_t want, size_t *out)
{
	if (actual == 0)
		return IK_EFORMAT;
	if (actual > SIZE_MAX)
		return -EFBIG;
	if (want != 0 && actual != want)
		return IK_EFORMAT;
	*out = (size_t)actual;
	return 0;
}

static int
prot_of(int flags)
{
	return flags & IK_SHM_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
}

static void
init_handle(struct ik_shm *s, int kind, int flags)
{
	*s = (struct ik_shm)IK_SHM_INIT;
	s->kind = kind;
	s->flags = flags;
}

/* Map unless IK_SHM_NOMAP, then hand the handle out. */
static int
finish(struct ik_shm *out, struct ik_shm *s)
{
	int r = 0;

	if (!(s->flags & IK_SHM_NOMAP))
		r = ik_shm_map(s, prot_of(s->flags), s->flags & MAP_ONLY_FLAGS);
	if (r == 0)
		*out = *s;
	return r;
}

int
ik_shm_create(struct ik_shm *shm, const char *name, size_t size, int flags)
{
	struct ik_shm s;
	int r;

	if (shm == NULL || size == 0 || (flags & ~CREATE_FLAGS))
		return -EINVAL;
	r = check_name(name);
	if (r < 0)
		return r;
	init_handle(&s, IK_SHM_POSIX, flags);
	/* glibc and musl add O_NOFOLLOW | O_CLOEXEC too; say it anyway */
	s.fd = shm_open(name,
			O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			MODE_0600);
	if (s.fd < 0)
		return -errno;
	s.created = true;
	s.creator = getpid();
	s.size = size;
	memcpy(s.name, name, strlen(name) + 1);
	r = reserve(s.fd, size);
	if (r < 0)
		goto fail;
	r = finish(shm, &s);
	if (r < 0)
		goto fail;
	return 0;
fail:
	/* O_EXCL made the name ours, so it is ours to take back */
	shm_unlink(name);
	ik__close(s.fd);
	return r;
}

/* Owner and size checks shared by the open paths; fills s->size. */
static int
check_opened(struct ik_shm *s, uid_t uid, uint64_t actual, size_t want)
{
	if (uid != geteuid() && !(s->flags & IK_SHM_ANY_OWNER))
		return IK_EOWNER;
	return check_size(actual, want, &s->size);
}

int
ik_shm_open(struct ik_shm *shm, const char *name, size_t size, int flags)
{
	struct ik_shm s;
	struct stat st;
	int r;

	if (shm == NULL || (flags & ~OPEN_FLAGS))
		return -EINVAL;
	r = check_name(name);
	if (r < 0)
		return r;
	init_handle(&s, IK_SHM_POSIX, flags);
	s.fd = shm_open(name,
			(flags & IK_SHM_RDONLY ? O_RDONLY : O_RDWR) |
				O_NOFOLLOW | O_CLOEXEC,
			0);
	if (s.fd < 0)
		return -errno;
	memcpy(s.name, name, strlen(name) + 1);
	if (fstat(s.fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	r = S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (r == 0)
		r = check_opened(&s, st.st_uid, (uint64_t)st.st_size, size);
	if (r == 0)
		r = finish(shm, &s);
	if (r < 0)
		goto fail;
	return 0;
fail:
	ik__close(s.fd);
	return r;
}

int
ik_shm_unlink(const char *name)
{
	int r = check_name(name);

	if (r < 0)
		return r;
	return shm_unlink(name) < 0 ? -errno : 0;
}

int
ik_shm_memfd(struct ik_shm *shm, const char *name, size_t size, int flags)
{
	struct ik_shm s;
	int r;

	if (name == NULL)
		name = "ipckit";
	if (shm == NULL || size == 0 || (flags & ~CREATE_FLAGS))
		return -EINVAL;
	if (strlen(name) > IK_SHM_MEMFD_NAME_MAX)
		return -ENAMETOOLONG;
	init_handle(&s, IK_SHM_MEMFD, flags);
	s.fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s.fd < 0)
		return -errno;
	s.created = true;
	s.creator = getpid();
	s.size = size;
	memcpy(s.name, name, strlen(name) + 1);
	r = reserve(s.fd, size);
	if (r == 0)
		r = finish(shm, &s);
	if (r < 0)
		ik__close(s.fd);
	return r;
}

int
ik_shm_seal(struct ik_shm *shm, int seals)
{
	if (shm == NULL || shm->kind != IK_SHM_MEMFD || seals == 0 ||
	    (seals & ~KNOWN_SEALS))
		return -EINVAL;
	return fcntl(shm->fd, F_ADD_SEALS, seals) < 0 ? -errno : 0;
}

int
ik_shm_from_fd(struct ik_shm *shm, int fd, size_t size, int required_seals,
	       int flags)
{
	struct ik_shm s;
	struct stat st;
	int r, seals;

	if (shm == NULL || (required_seals & ~KNOWN_SEALS) ||
	    (flags & ~FD_FLAGS))
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* seals first: only under SHRINK/GROW does the size stay as read */
	if (required_seals != 0) {
		seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0 || (seals & required_seals) != required_seals)
			return IK_ECORRUPT;
		if (fstat(fd, &st) < 0)
			return -errno;
	}
	init_handle(&s, IK_SHM_MEMFD, flags);
	r = check_size((uint64_t)st.st_size, size, &s.size);
	if (r < 0)
		return r;
	s.fd = fd;
	return finish(shm, &s);
}

/* ENOSPC and EINVAL from shmget say too little: find out which limit. */
static int
sysv_error(int err, size_t size)
{
	struct shminfo lim;
	struct shm_info use;
	unsigned long pages;
	long page = sysconf(_SC_PAGESIZE);

	if (err != EINVAL && err != ENOSPC)
		return -err;
	if (shmctl(0, IPC_INFO, (struct shmid_ds *)(void *)&lim) < 0)
		return -err;
	if (err == EINVAL)
		return size > lim.shmmax ? IK_ESHMMAX : -EINVAL;
	if (shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&use) < 0)
		return -err;
	/* the kernel checks shmall before it looks for a free id */
	pages = size / (unsigned long)page + (size % (unsigned long)page != 0);
	if (use.shm_tot + pages > lim.shmall || use.shm_tot + pages < pages)
		return IK_ESHMALL;
	if ((unsigned long)use.used_ids >= lim.shmmni)
		return IK_ESHMMNI;
	return -err;
}

int
ik_shm_sysv_create(struct ik_shm *shm, key_t key, size_t size, int flags)
{
	struct ik_shm s;
	int r;

	if (shm == NULL || size == 0 || (flags & ~CREATE_FLAGS))
		return -EINVAL;
	init_handle(&s, IK_SHM_SYSV, flags);
	s.id = shmget(key, size, IPC_CREAT | IPC_EXCL | MODE_0600);
	if (s.id < 0)
		return sysv_error(errno, size);
	s.key = key;
	s.size = size;
	s.created = true;
	s.creator = getpid();
	r = finish(shm, &s);
	if (r < 0)
		shmctl(s.id, IPC_RMID, NULL);
	return r;
}

int
ik_shm_sysv_attach(struct ik_shm *shm, int shmid, size_t size, int flags)
{
	struct ik_shm s;
	struct shmid_ds ds;
	int r;

	if (shm == NULL || shmid < 0 || (flags & ~OPEN_FLAGS))
		return -EINVAL;
	init_handle(&s, IK_SHM_SYSV, flags);
	if (shmctl(shmid, IPC_STAT, &ds) < 0)
		return -errno;
	s.id = shmid;
	s.key = ds.shm_perm.__key;
	r = check_opened(&s, ds.shm_perm.uid, ds.shm_segsz, size);
	if (r < 0)
		return r;
	return finish(shm, &s);
}

int
ik_shm_sysv_open(struct ik_shm *shm, key_t key, size_t size, int flags)
{
	int id;

	if (shm == NULL || key == IPC_PRIVATE || (flags & ~OPEN_FLAGS))
		return -EINVAL;
	id = shmget(key, 0, 0);
	if (id < 0)
		return -errno;
	return ik_shm_sysv_attach(shm, id, size, flags);
}

int
ik_shm_map(struct ik_shm *shm, int prot, int flags)
{
	void *p;
	int r;

	if (shm == NULL || shm->kind == IK_SHM_NONE ||
	    (flags & ~MAP_ONLY_FLAGS) ||
	    (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE)))
		return -EINVAL;
	if (shm->base != NULL)
		return -EBUSY;
	if (shm->kind == IK_SHM_SYSV) {
		p = shmat(shm->id, NULL, prot & PROT_WRITE ? 0 : SHM_RDONLY);
		if (p == (void *)-1)
			return -errno;
		/* shmat has no MAP_POPULATE; errors here are only advice */
		if (flags & IK_SHM_POPULATE)
			madvise(p, shm->size,
				prot & PROT_WRITE ? MADV_POPULATE_WRITE
						  : MADV_POPULATE_READ);
	} else {
		p = mmap(NULL, shm->size, prot,
			 MAP_SHARED |
				 (flags & IK_SHM_POPULATE ? MAP_POPULATE : 0),
			 shm->fd, 0);
		if (p == MAP_FAILED)
			return -errno;
	}
	shm->base = p;
	shm->prot = prot;
	if ((flags & IK_SHM_LOCK) && mlock(p, shm->size) < 0) {
		r = -errno;
		ik_shm_unmap(shm);
		return r;
	}
	return 0;
}

int
ik_shm_unmap(struct ik_shm *shm)
{
	int r = 0;

	if (shm == NULL)
		return -EINVAL;
	if (shm->base == NULL)
		return 0;
	if (shm->kind == IK_SHM_SYSV)
		r = shmdt(shm->base);
	else
		r = munmap(shm->base, shm->size);
	r = r < 0 ? -errno : 0;
	shm->base = NULL;
	shm->prot = 0;
	return r;
}

int
ik_shm_sync(struct ik_shm *shm, int flags)
{
	if (flags == 0)
		flags = MS_SYNC;
	if (shm == NULL || shm->base == NULL ||
	    (flags & ~(MS_SYNC | MS_ASYNC | MS_INVALIDATE)))
		return -EINVAL;
	return msync(shm->base, shm->size, flags) < 0 ? -errno : 0;
}

int
ik_shm_stat(const struct ik_shm *shm, struct ik_shm_info *info)
{
	struct ik_shm_info in = { 0 };
	struct shmid_ds ds;
	struct stat st;

	if (shm == NULL || info == NULL || shm->kind == IK_SHM_NONE)
		return -EINVAL;
	if (shm->kind == IK_SHM_SYSV) {
		if (shmctl(shm->id, IPC_STAT, &ds) < 0)
			return -errno;
		in.size = ds.shm_segsz;
		in.mode = ds.shm_perm.mode & ACCESSPERMS;
		in.uid = ds.shm_perm.uid;
		in.nattch = ds.shm_nattch;
		in.cpid = ds.shm_cpid;
		in.lpid = ds.shm_lpid;
		in.atime = ds.shm_atime;
		in.dtime = ds.shm_dtime;
		in.ctime = ds.shm_ctime;
		in.removed = (ds.shm_perm.mode & SHM_DEST) != 0;
	} else {
		if (fstat(shm->fd, &st) < 0)
			return -errno;
		in.size = (size_t)st.st_size;
		in.mode = st.st_mode & 07777;
		in.uid = st.st_uid;
		in.seals = fcntl(shm->fd, F_GET_SEALS);
		if (in.seals < 0)
			in.seals = 0;
	}
	*info = in;
	return 0;
}

int
ik_shm_remove(struct ik_shm *shm)
{
	if (shm == NULL)
		return -EINVAL;
	switch (shm->kind) {
	case IK_SHM_POSIX:
		return ik_shm_unlink(shm->name);
	case IK_SHM_SYSV:
		return shmctl(shm->id, IPC_RMID, NULL) < 0 ? -errno : 0;
	case IK_SHM_MEMFD:
		return 0;
	default:
		return -EINVAL;
	}
}

int
ik_shm_close(struct ik_shm *shm)
{
	int r, e;

	if (shm == NULL)
		return -EINVAL;
	r = ik_shm_unmap(shm);
	/* only the creating process: a forked child's copy must not unlink */
	if (shm->kind != IK_SHM_NONE && shm->created &&
	    (shm->flags & IK_SHM_UNLINK_ON_CLOSE) && shm->creator == getpid()) {
		e = ik_shm_remove(shm);
		if (e == -ENOENT || e == -EIDRM ||
		    (e == -EINVAL && shm->kind == IK_SHM_SYSV))
			e = 0;
		if (r == 0)
			r = e;
	}
	if (shm->fd >= 0)
		ik__close(shm->fd);
	*shm = (struct ik_shm)IK_SHM_INIT;
	return r;
}
