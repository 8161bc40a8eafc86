/*
 * Semaphores. System V sets (ik_sem_*): created 0600 with IPC_EXCL and
 * initialized race-free (openers wait until the creator has finished), lock
 * and counting operations use SEM_UNDO unless told otherwise so a process
 * that dies holding a lock gives it back, several operations apply all or
 * none, and timeouts survive EINTR. POSIX semaphores (ik_psem_*): named ones
 * created 0600 with O_EXCL, unnamed ones process-shared in caller memory,
 * timed waits on CLOCK_MONOTONIC.
 */
#ifndef IPCKIT_SEM_H
#define IPCKIT_SEM_H

#include <semaphore.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest value a System V semaphore holds (the kernel's SEMVMX). */
#define IK_SEM_VALUE_MAX 32767

/* Flag for ik_sem_wait/ik_sem_post: no SEM_UNDO (signalling across
 * processes, where the poster's exit must not take its posts back). */
#define IK_SEM_NOUNDO 0x1

/* ---- System V sets: create, open, remove ---------------------------- */

/*
 * Create a new set of nsems semaphores under key (IPC_PRIVATE for an
 * anonymous one) with IPC_CREAT|IPC_EXCL and permissions mode (0 means 0600).
 * Values are set from init[0..nsems-1] (NULL: all zero) and then a no-op
 * semop makes sem_otime non-zero: that is the sign ik_sem_open waits for.
 * Returns the set id (>= 0); -EEXIST if key is taken; -EINVAL for
 * nsems < 1 or a mode beyond the permission bits; -ERANGE for an init value
 * above IK_SEM_VALUE_MAX; IK_ESEMMSL, IK_ESEMMNI, IK_ESEMMNS at kernel limits.
 * On failure nothing is left behind. Never blocks.
 */
int ik_sem_create(key_t key, int nsems, const unsigned short *init, int mode);

/*
 * Open the existing set under key having at least nsems semaphores (0: any
 * size). If its creator has not finished initializing it (sem_otime == 0),
 * wait for that, polling with a backoff of at most 10 ms, for up to
 * timeout_ms (-1 forever). Returns the set id; -ENOENT if there is no such
 * set; -EINVAL if it has fewer than nsems semaphores or key is IPC_PRIVATE;
 * -EACCES; -EAGAIN (timeout_ms 0) or -ETIMEDOUT if it was not initialized in
 * time (its creator may have died: remove it); -EIDRM if it was removed
 * meanwhile.
 */
int ik_sem_open(key_t key, int nsems, int timeout_ms);

/*
 * Open the set under key, or create it (as ik_sem_create) if there is none:
 * the race between several processes doing this at once is handled, and all
 * of them see the initialized values. *created (if not NULL) is set to 1 for
 * the one process that created it, 0 for the others. Returns the set id or
 * the errors of ik_sem_create and ik_sem_open.
 */
int ik_sem_open_or_create(key_t key, int nsems, const unsigned short *init,
			  int mode, int timeout_ms, int *created);

/*
 * Remove the set now. Processes blocked on it wake up with -EIDRM. Returns 0,
 * -EINVAL (no such set), -EPERM (not creator or owner).
 */
int ik_sem_remove(int semid);

/* ---- operations ------------------------------------------------------- */

/*
 * Apply nops operations atomically: all of them or, while any would block,
 * none. Flags in each sembuf are the caller's (SEM_UNDO, IPC_NOWAIT); this
 * call adds none. Waits up to timeout_ms (-1 forever; 0 does not block),
 * keeping the deadline across EINTR. Returns 0; -EAGAIN (timeout_ms 0, or an
 * operation with IPC_NOWAIT would block); -ETIMEDOUT, never before the
 * deadline; -EIDRM if the set was removed; -EINVAL for nops 0 or a bad id;
 * IK_ESEMOPM for nops above SEMOPM; -EFBIG for a sem_num outside the set;
 * -ERANGE if a value or undo adjustment would leave 0..IK_SEM_VALUE_MAX.
 */
int ik_sem_op(int semid, const struct sembuf *ops, size_t nops, int timeout_ms);

/*
 * Binary semaphore (a lock, value 1 = free). ik_sem_lock decrements
 * semaphore num by 1 with SEM_UNDO, so if this process dies holding the lock
 * the kernel gives it back; errors as ik_sem_op. ik_sem_unlock increments it
 * with SEM_UNDO, but only if it is 0 (locked): unlocking a free lock would
 * let two holders in, so that returns -EPERM instead. Never blocks.
 */
int ik_sem_lock(int semid, unsigned short num, int timeout_ms);
int ik_sem_unlock(int semid, unsigned short num);

/*
 * Counting semaphore: take n (1..IK_SEM_VALUE_MAX) units from semaphore num,
 * waiting up to timeout_ms until they are there, or give n back (never
 * blocks). SEM_UNDO is used unless flags has IK_SEM_NOUNDO. Returns 0 or the
 * errors of ik_sem_op; -EINVAL for a bad n or unknown flags.
 */
int ik_sem_wait(int semid, unsigned short num, int n, int flags,
		int timeout_ms);
int ik_sem_post(int semid, unsigned short num, int n, int flags);

/* Wait up to timeout_ms until semaphore num is zero. Errors as ik_sem_op. */
int ik_sem_wait_zero(int semid, unsigned short num, int timeout_ms);

/* ---- values and state --------------------------------------------------- */

/*
 * Value of semaphore num (>= 0), or -EINVAL (bad id or num), -EIDRM,
 * -EACCES.
 */
int ik_sem_getval(int semid, unsigned short num);

/* Set it to value; -ERANGE outside 0..IK_SEM_VALUE_MAX. Undo adjustments
 * of that semaphore are cleared in every process (the kernel does that). */
int ik_sem_setval(int semid, unsigned short num, int value);

/*
 * Copy all values into vals (room for len). Returns the number of
 * semaphores, -ERANGE if len is smaller than that, or ik_sem_getval's
 * errors.
 */
int ik_sem_getall(int semid, unsigned short *vals, size_t len);

/* Set all values; len must equal the set's size (-EINVAL otherwise). */
int ik_sem_setall(int semid, const unsigned short *vals, size_t len);

/* Processes waiting for semaphore num to grow (ncnt) or to be 0 (zcnt), and
 * the pid of the last process that operated on it. Errors as getval. */
int ik_sem_getncnt(int semid, unsigned short num);
int ik_sem_getzcnt(int semid, unsigned short num);
int ik_sem_getpid(int semid, unsigned short num);

struct ik_sem_info {
	key_t key;
	int nsems;
	unsigned int mode; /* permission bits */
	uid_t uid, cuid;   /* owner, creator */
	gid_t gid, cgid;
	time_t otime; /* last semop (0: not yet initialized) */
	time_t ctime; /* last change by semctl */
};

/* Fill *info. Returns 0, -EINVAL, -EIDRM, -EACCES. */
int ik_sem_stat(int semid, struct ik_sem_info *info);

/* ---- POSIX semaphores --------------------------------------------------- */

/*
 * Named: name is "/" followed by 1 to 251 characters, none of them '/'
 * (-EINVAL otherwise, -ENAMETOOLONG if longer). ik_psem_create makes a new
 * one (O_CREAT|O_EXCL, mode 0600, -EEXIST if it exists) holding value;
 * ik_psem_open opens an existing one (-ENOENT). Both store the semaphore in
 * *out; glibc keeps no descriptor open. -EINVAL for value above
 * SEM_VALUE_MAX. ik_psem_close releases this process's mapping;
 * ik_psem_unlink removes the name (-ENOENT if absent), existing users keep
 * working.
 */
int ik_psem_create(const char *name, unsigned int value, sem_t **out);
int ik_psem_open(const char *name, sem_t **out);
int ik_psem_close(sem_t *sem);
int ik_psem_unlink(const char *name);

/*
 * Unnamed, process-shared: initialize *sem, which must lie in memory every
 * user maps (a MAP_SHARED mapping, a shared segment) and be initialized
 * once, before anyone uses it. ik_psem_destroy when no one waits any more.
 * Returns 0 or -EINVAL (value above SEM_VALUE_MAX).
 */
int ik_psem_init(sem_t *sem, unsigned int value);
int ik_psem_destroy(sem_t *sem);

/*
 * Take one unit, waiting up to timeout_ms (-1 forever, 0 does not block) on
 * CLOCK_MONOTONIC, so changes of the wall clock neither shorten nor stretch
 * the wait; EINTR is retried against the same deadline. Returns 0, -EAGAIN
 * (timeout_ms 0 and the value is 0), -ETIMEDOUT (never before the deadline),
 * -EINVAL. ik_psem_trywait is ik_psem_wait(sem, 0).
 */
int ik_psem_wait(sem_t *sem, int timeout_ms);
int ik_psem_trywait(sem_t *sem);

/* Give one unit back; -EOVERFLOW at SEM_VALUE_MAX. Never blocks. */
int ik_psem_post(sem_t *sem);

/* The current value (>= 0; never the number of waiters), or -EINVAL. */
int ik_psem_getvalue(sem_t *sem);

#ifdef __cplusplus
}
#endif
#endif
