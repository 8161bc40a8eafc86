/*
 * Shared memory: POSIX named segments (shm_open), System V segments (shmget)
 * and anonymous memfd segments meant to be handed over a Unix socket. Memory
 * is reserved at creation (fallocate), so a full tmpfs is -ENOSPC then, not a
 * SIGBUS later; names are created 0600 with O_EXCL, descriptors close-on-exec.
 * The kernel orders nothing: writers and readers synchronize on their own.
 */
#ifndef IPCKIT_SHM_H
#define IPCKIT_SHM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ik_shm_kind {
	IK_SHM_NONE = 0, /* an IK_SHM_INIT handle, or a closed one */
	IK_SHM_POSIX,
	IK_SHM_SYSV,
	IK_SHM_MEMFD,
};

/*
 * Flags. Create calls take RDONLY, NOMAP, POPULATE, LOCK, UNLINK_ON_CLOSE;
 * open/attach calls take RDONLY, NOMAP, POPULATE, LOCK, ANY_OWNER;
 * ik_shm_from_fd takes RDONLY, NOMAP, POPULATE, LOCK; ik_shm_map takes
 * POPULATE, LOCK. Any other bit is -EINVAL.
 */
#define IK_SHM_RDONLY 0x01   /* open and map read-only */
#define IK_SHM_NOMAP 0x02    /* do not map now; call ik_shm_map later */
#define IK_SHM_POPULATE 0x04 /* prefault the mapping (no faults later) */
#define IK_SHM_LOCK 0x08     /* mlock the mapping (RLIMIT_MEMLOCK) */
/* ik_shm_close by the creating process also removes the name/key */
#define IK_SHM_UNLINK_ON_CLOSE 0x10
/* open: accept a segment owned by another user (default: IK_EOWNER) */
#define IK_SHM_ANY_OWNER 0x20

/* Longest POSIX name, leading '/' included (glibc's limit). */
#define IK_SHM_NAME_MAX (NAME_MAX - 1)
/* Longest memfd name (the kernel's limit). */
#define IK_SHM_MEMFD_NAME_MAX 249

/*
 * A segment and its mapping. Fields are read-only for the caller. The
 * handle is a plain value: a forked child gets a copy that maps the same
 * memory; ik_shm_close in the child releases the child's mapping and
 * descriptor only (names are removed only by the creating process).
 */
struct ik_shm {
	void *base;		 /* mapping, NULL when not mapped */
	size_t size;		 /* segment size in bytes */
	int fd;			 /* POSIX and memfd; -1 for System V */
	int id;			 /* System V shmid; -1 otherwise */
	key_t key;		 /* System V key (IPC_PRIVATE included) */
	int kind;		 /* enum ik_shm_kind */
	int prot;		 /* PROT_* of the current mapping */
	int flags;		 /* IK_SHM_* given at creation/open */
	bool created;		 /* this handle created the name or key */
	pid_t creator;		 /* pid that created it (0 if opened) */
	char name[NAME_MAX + 1]; /* POSIX "/name" or memfd name */
};

/* An empty handle: ik_shm_close on it is a no-op returning 0. */
#define IK_SHM_INIT                \
	{                          \
		.fd = -1, .id = -1 \
	}

/* What ik_shm_stat reports. Fields a kind lacks are 0. */
struct ik_shm_info {
	size_t size;
	unsigned mode;		    /* permission bits */
	uid_t uid;		    /* owner */
	unsigned long nattch;	    /* System V: processes attached */
	pid_t cpid, lpid;	    /* System V: creator, last shmat/shmdt */
	time_t atime, dtime, ctime; /* System V: last attach/detach/change */
	bool removed; /* System V: marked for removal (IPC_RMID) */
	int seals;    /* memfd: F_SEAL_* bits in force */
};

/*
 * Create the POSIX segment "name" ("/x": one leading slash, no other, at
 * most IK_SHM_NAME_MAX bytes) of size bytes, mode 0600 (less the umask),
 * O_EXCL, close-on-exec, memory reserved with posix_fallocate, then map it
 * read-write (IK_SHM_RDONLY, IK_SHM_NOMAP, IK_SHM_POPULATE, IK_SHM_LOCK and
 * IK_SHM_UNLINK_ON_CLOSE apply). Returns 0; -EINVAL (bad name, size 0,
 * unknown flag), -ENAMETOOLONG, -EEXIST (the existing segment is left
 * alone), -ENOSPC (no room: nothing is left behind), -EFBIG, or another
 * negative errno. Never blocks.
 */
int ik_shm_create(struct ik_shm *shm, const char *name, size_t size, int flags);

/*
 * Open the existing POSIX segment "name" (O_NOFOLLOW, close-on-exec,
 * read-write unless IK_SHM_RDONLY) and map it. size 0 takes the
 * segment's size as it is; otherwise it must be exactly size. Returns 0;
 * -ENOENT, -EINVAL, -ENAMETOOLONG, -ELOOP (name is a symlink), IK_EFORMAT
 * (size differs, or the segment is empty: its creator has not sized it
 * yet, retry), IK_EOWNER (another user's, unless IK_SHM_ANY_OWNER),
 * -EACCES, or another negative errno.
 */
int ik_shm_open(struct ik_shm *shm, const char *name, size_t size, int flags);

/* Remove the POSIX name. 0, -ENOENT, -EINVAL, -ENAMETOOLONG, -EACCES. */
int ik_shm_unlink(const char *name);

/*
 * Create an anonymous memfd segment (MFD_CLOEXEC | MFD_ALLOW_SEALING;
 * name, or "ipckit" when NULL, only labels it in /proc) of size bytes,
 * reserved with posix_fallocate, and map it. Pass shm->fd to another
 * process (SCM_RIGHTS or fork); seal it first (ik_shm_seal) if that
 * process must be able to trust its size. Returns 0, -EINVAL,
 * -ENAMETOOLONG, -ENOSPC, -EMFILE or another negative errno.
 */
int ik_shm_memfd(struct ik_shm *shm, const char *name, size_t size, int flags);

/*
 * Add seals (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE,
 * F_SEAL_SEAL) to a memfd segment. F_SEAL_WRITE needs every shared writable
 * mapping gone: ik_shm_unmap (or map read-only) first. Returns 0, -EINVAL
 * (not a memfd, unknown seal), -EPERM (F_SEAL_SEAL already set), -EBUSY
 * (writable mappings remain).
 */
int ik_shm_seal(struct ik_shm *shm, int seals);

/*
 * Adopt a descriptor received from another process (a memfd or any file of
 * a shared-memory file system) and map it. Before anything is mapped the
 * descriptor must be a regular file, size 0 or exactly size bytes (else
 * IK_EFORMAT), and carry every seal of required_seals (else IK_ECORRUPT):
 * a peer that can still shrink the file could make our reads SIGBUS, so
 * require at least F_SEAL_SHRINK from a peer you do not trust. On success
 * the handle owns fd; on failure the caller still does. Returns 0, -EBADF,
 * -EINVAL (not a regular file, bad flag), IK_EFORMAT, IK_ECORRUPT, -EPERM
 * (read-write map of a write-sealed memfd: use IK_SHM_RDONLY), or another
 * negative errno.
 */
int ik_shm_from_fd(struct ik_shm *shm, int fd, size_t size, int required_seals,
		   int flags);

/*
 * Create a System V segment: key is IPC_PRIVATE or a key (ftok(3)); mode
 * 0600, IPC_CREAT | IPC_EXCL. Then attach it (unless IK_SHM_NOMAP).
 * Returns 0; -EEXIST, -EINVAL (size 0), IK_ESHMMAX (size above
 * kernel.shmmax), IK_ESHMALL (total above kernel.shmall), IK_ESHMMNI (no
 * segment id left), -ENOMEM, or another negative errno. The limits are told
 * apart from the namespace's current figures: best effort under races.
 */
int ik_shm_sysv_create(struct ik_shm *shm, key_t key, size_t size, int flags);

/*
 * Open the System V segment of key and attach it; size as for
 * ik_shm_open. Returns 0, -ENOENT, -EINVAL (IPC_PRIVATE), IK_EFORMAT,
 * IK_EOWNER, -EACCES, or another negative errno.
 */
int ik_shm_sysv_open(struct ik_shm *shm, key_t key, size_t size, int flags);

/*
 * Attach the System V segment shmid (one made with IPC_PRIVATE has no key:
 * its id is what gets passed around); size as for ik_shm_open. Linux lets
 * this succeed even after the segment was marked for removal. Returns 0,
 * -EINVAL or -EIDRM (no such segment), IK_EFORMAT, IK_EOWNER, -EACCES.
 */
int ik_shm_sysv_attach(struct ik_shm *shm, int shmid, size_t size, int flags);

/*
 * Map (or attach) the whole segment: prot is PROT_READ or
 * PROT_READ | PROT_WRITE; flags IK_SHM_POPULATE, IK_SHM_LOCK. Returns 0,
 * -EBUSY (already mapped), -EINVAL, -EACCES (read-only descriptor),
 * -EPERM (seals), -ENOMEM, -EAGAIN (mlock limit) or another negative errno.
 */
int ik_shm_map(struct ik_shm *shm, int prot, int flags);

/* Unmap (or detach). 0, also when nothing was mapped. */
int ik_shm_unmap(struct ik_shm *shm);

/*
 * msync the mapping: flags 0 means MS_SYNC, else MS_SYNC or MS_ASYNC,
 * optionally | MS_INVALIDATE. Only matters for file-backed segments.
 * Returns 0, -EINVAL (not mapped, bad flags), -EBUSY, -ENOMEM.
 */
int ik_shm_sync(struct ik_shm *shm, int flags);

/*
 * Fill *info from the kernel (fstat and F_GET_SEALS; IPC_STAT for System
 * V). Returns 0, -EINVAL (empty handle), -EIDRM/-EINVAL (segment gone).
 */
int ik_shm_stat(const struct ik_shm *shm, struct ik_shm_info *info);

/*
 * Remove the segment's name now: shm_unlink for POSIX, IPC_RMID for
 * System V (the segment lives on until its last detach, then disappears;
 * its key is free at once). Mappings stay valid. A no-op for memfd.
 * Returns 0, -ENOENT, -EINVAL, -EIDRM, -EPERM.
 */
int ik_shm_remove(struct ik_shm *shm);

/*
 * Unmap, close the descriptor and, if the handle was created with
 * IK_SHM_UNLINK_ON_CLOSE by this very process, remove the name (as
 * ik_shm_remove). Everything is released even if a step fails; returns the
 * first error (a name already removed is not one). The handle is reset to
 * IK_SHM_INIT.
 */
int ik_shm_close(struct ik_shm *shm);

#ifdef __cplusplus
}
#endif
#endif
