/*
 * Every IPC object on the machine: System V queues, semaphore sets and
 * segments, POSIX queues, shared memory and named semaphores, FIFOs and Unix
 * sockets, with who made and who uses them and whether anyone alive still
 * does. A listing is a snapshot of objects that come and go while it is
 * taken; removal therefore re-reads the object just before removing it.
 */
#ifndef IPCKIT_OBJ_H
#define IPCKIT_OBJ_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ik_obj_kind {
	IK_OBJ_MSG,  /* System V message queue */
	IK_OBJ_SEM,  /* System V semaphore set */
	IK_OBJ_SHM,  /* System V shared memory segment */
	IK_OBJ_PMQ,  /* POSIX message queue (needs a mounted mqueue fs) */
	IK_OBJ_PSHM, /* POSIX shared memory (/dev/shm/NAME) */
	IK_OBJ_PSEM, /* POSIX named semaphore (/dev/shm/sem.NAME) */
	IK_OBJ_FIFO, /* named pipe */
	IK_OBJ_UNIX, /* named Unix socket: a path or an abstract name */
	IK_OBJ_NKINDS
};
#define IK_OBJ_MASK(kind) (1u << (kind))
#define IK_OBJ_ALL ((1u << IK_OBJ_NKINDS) - 1)

/*
 * IN_USE: a live process holds, maps or last used it. STALE: the creator
 * and every known user are gone, on evidence (ik_obj(3) gives the rule per
 * kind). IDLE: neither: no live user seen, but no proof that nobody will
 * come back (no pids recorded, or not readable).
 */
enum ik_obj_state { IK_OBJ_IDLE, IK_OBJ_IN_USE, IK_OBJ_STALE };

/* ik_obj.flags */
#define IK_OBJ_F_REMOVED 0x1 /* shm marked for removal; FIFO unlinked */
#define IK_OBJ_F_LISTEN 0x2  /* unix: a listening socket */
#define IK_OBJ_F_ONDISK 0x4  /* fifo/unix: found as a file under a path */
#define IK_OBJ_F_BOUND 0x8   /* unix: a socket is bound (/proc/net/unix) */

#define IK_OBJ_PIDS_MAX 16

/*
 * One object. Fields a kind lacks are 0 (pids, counts) or -1 (id).
 * About 4.5 KiB (the name holds a whole path).
 */
struct ik_obj {
	int kind;	     /* enum ik_obj_kind */
	int state;	     /* enum ik_obj_state */
	char reason[160];    /* why that state, in words */
	char name[PATH_MAX]; /* "/name", a path, "@abstract"; "" System V */
	key_t key;	     /* System V key (0 = IPC_PRIVATE) */
	int id;		     /* System V id, else -1 */
	dev_t dev;	     /* files (FIFO, socket file, /dev/shm, */
	ino_t ino;	     /* mqueue): device and inode */
	ino_t sock_ino;	     /* unix: the bound socket's inode */
	uid_t uid, cuid;     /* owner, creator (files: owner twice) */
	gid_t gid, cgid;
	unsigned mode;	  /* permission bits (07777) */
	unsigned flags;	  /* IK_OBJ_F_* */
	uint64_t size;	  /* bytes: queued (msg, pmq) or size (others) */
	uint64_t count;	  /* msg/pmq: messages; sem: nsems; shm: nattch;
			     unix: connections accepted and open */
	int sock_type;	  /* unix: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	pid_t cpid;	  /* shm: creator */
	pid_t lpid;	  /* shm: last shmat/shmdt; msg: last msgsnd */
	pid_t lrpid;	  /* msg: last msgrcv */
	pid_t notify_pid; /* pmq: registered for mq_notify */
	/* sem: last semop pid of semaphores 0..IK_OBJ_PIDS_MAX-1 (GETPID) */
	pid_t sempid[IK_OBJ_PIDS_MAX];
	/* live processes holding it open or mapped (/proc/PID/fd, maps) */
	pid_t users[IK_OBJ_PIDS_MAX];
	unsigned nusers; /* all of them; users[] holds the first ones */
	time_t ctime;	 /* last change (System V ctime, file ctime) */
	time_t otime;	 /* last operation: msg send/recv, sem op, shm
			    attach/detach (the latest); 0 if never */
};

/* What to list. A zeroed query (with uid = -1) lists everything. */
struct ik_obj_query {
	unsigned kinds;		  /* IK_OBJ_MASK bits; 0 = all kinds */
	unsigned states;	  /* 1u << IK_OBJ_STALE, ...; 0 = any */
	long long uid;		  /* only this owner; -1 = any */
	const char *const *paths; /* directories searched for FIFOs and */
	size_t npaths;		  /* socket files (recursively, 8 deep) */
};

/* ik_obj_list.notes */
#define IK_OBJ_NOTE_NO_MQUEUE 0x1 /* no mqueue fs mounted: no POSIX queues */

struct ik_obj_list {
	struct ik_obj *objs;
	size_t n;
	unsigned notes; /* IK_OBJ_NOTE_* */
	/* per kind: 0, or why it could not be listed (e.g. -EACCES) */
	int errors[IK_OBJ_NKINDS];
};

/*
 * Take a snapshot of the objects the query selects into *out (free it with
 * ik_obj_list_free). A kind that cannot be read is skipped and its error
 * recorded in out->errors; the rest is still listed. Objects are ordered by
 * kind, then id, then name. Reads /proc and the kernel's IPC tables; never
 * blocks on another process (socket files are probed with a non-blocking
 * connect, see ik_obj(3)). Returns the number of objects, -EINVAL (bad
 * query), -ENOMEM, or the error opening one of q->paths (-ENOENT,
 * -ENOTDIR, -EACCES, -ELOOP for a symlink).
 */
int ik_obj_list(const struct ik_obj_query *q, struct ik_obj_list *out);

/* Free a listing (safe on a zeroed one). */
void ik_obj_list_free(struct ik_obj_list *l);

/*
 * Re-read one object from the kernel and /proc now and recompute its
 * state. The object must still be the same one: same id, key and creator
 * (System V), same device and inode (files), same socket inode (unix).
 * Returns 0 and updates *o; -ENOENT (gone or replaced: *o unchanged).
 */
int ik_obj_refresh(struct ik_obj *o);

/* ik_obj_remove flags */
#define IK_OBJ_RM_STALE 0x1 /* remove only if still stale */
#define IK_OBJ_RM_DRY 0x2   /* check everything, remove nothing */

/*
 * Remove the object (IPC_RMID, mq_unlink, unlink) after re-reading it
 * (ik_obj_refresh) and refusing if a live process uses it. Files are
 * unlinked only if the name still leads to the same inode. *now (may be
 * NULL) receives the re-read object, whose reason says why on refusal.
 * Returns 0 (removed, or would be with IK_OBJ_RM_DRY); -EBUSY (in use, or
 * no longer stale with IK_OBJ_RM_STALE); -ENOENT (gone or replaced);
 * -EOPNOTSUPP (a Unix socket with no file: only closing it removes it);
 * -EPERM/-EACCES; -EINVAL (bad flags).
 */
int ik_obj_remove(const struct ik_obj *o, int flags, struct ik_obj *now);

/*
 * Whether o is what spec names: System V "0x1a2b" (a key, hex) or "42" (an
 * id); POSIX "/name" or "name"; FIFO or socket: its path; abstract socket:
 * "@name".
 */
bool ik_obj_match(const struct ik_obj *o, const char *spec);

/* "msg", "sem", "shm", "pmq", "pshm", "psem", "fifo", "unix"; "?" */
const char *ik_obj_kind_name(int kind);
/* The kind for a name above, or -EINVAL. */
int ik_obj_kind_parse(const char *name);
/* "idle", "in-use", "stale"; "?" */
const char *ik_obj_state_name(int state);

#ifdef __cplusplus
}
#endif
#endif
