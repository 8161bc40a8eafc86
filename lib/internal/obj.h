/*
 * Shared by lib/obj.c (listing, state, removal), lib/obj_sysv.c (System V
 * tables) and lib/obj_file.c (POSIX objects, FIFOs, Unix sockets): a growing
 * vector of objects, the index of who holds what (one pass over /proc), and
 * the pid liveness test that guards against pid reuse.
 */
#ifndef IK_INTERNAL_OBJ_H
#define IK_INTERNAL_OBJ_H

#include <stdbool.h>
#include <sys/types.h>

#include <ipckit/obj.h>

struct ik__objv {
	struct ik_obj *v;
	size_t n, cap;
};

/* A new zeroed object (id -1) at the end, or NULL when out of memory. */
struct ik_obj *ik__objv_push(struct ik__objv *ov, int kind);

/* How a process holds something. */
enum { IK__HOLD_FD, IK__HOLD_MAP, IK__HOLD_SOCK, IK__HOLD_SYSV };

struct ik__holder {
	dev_t dev; /* FD/MAP: the file; SYSV: 0 */
	ino_t ino; /* FD/MAP: inode; SOCK: socket inode; SYSV: shmid */
	pid_t pid;
	unsigned char how;
	unsigned char fifo; /* FD: the file is a named FIFO */
	char *path;	    /* FD of a FIFO: the link's target */
	uid_t uid;	    /* FD of a FIFO: the file's owner, mode, ctime */
	gid_t gid;
	mode_t mode;
	time_t ctime;
};

struct ik__holders {
	struct ik__holder *v;
	size_t n, cap;
};

/*
 * One pass over /proc/[0-9]*: descriptors (fds) and/or mappings (maps).
 * Processes we may not inspect are skipped (their holds are unknown, which
 * is why nothing is called stale on the absence of holders alone).
 */
int ik__holders_scan(struct ik__holders *h, bool fds, bool maps);
void ik__holders_free(struct ik__holders *h);

/* Add every holder of (dev, ino) held in a way of hows (1 << IK__HOLD_*). */
void ik__obj_users(struct ik_obj *o, const struct ik__holders *h, unsigned hows,
		   dev_t dev, ino_t ino);

/*
 * Whether pid is a live process (not a zombie) that may have acted at time
 * `when` (wall clock, 0 = unknown): a process started after `when` is a
 * later one that reused the pid, so the one that acted is dead.
 */
bool ik__pid_alive(pid_t pid, time_t when);

/* Per-family listing into ov; state is computed by the caller. */
int ik__obj_sysv_list(struct ik__objv *ov, int kind,
		      const struct ik__holders *h);
int ik__obj_sysv_state(struct ik_obj *o);
int ik__obj_sysv_remove(const struct ik_obj *o);

int ik__obj_file_list(struct ik__objv *ov, unsigned kinds,
		      const struct ik_obj_query *q, int depth,
		      const struct ik__holders *h, unsigned *notes,
		      int *errors);
int ik__obj_file_state(struct ik_obj *o);
int ik__obj_file_remove(const struct ik_obj *o);

/* snprintf into o->reason. */
void ik__obj_reason(struct ik_obj *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
