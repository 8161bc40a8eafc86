/*
 * Robust process-shared mutexes for shared memory. The mutex survives the
 * death of its holder: the next locker is told (IK_MUTEX_OWNERDEAD), owns
 * the lock, and must repair the data it guards and call ik_mutex_consistent
 * before unlocking; if it does not, the mutex turns unusable
 * (-ENOTRECOVERABLE for everyone) rather than hand out damaged data.
 */
#ifndef IPCKIT_MUTEX_H
#define IPCKIT_MUTEX_H

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Place it in memory every user maps (MAP_SHARED, a shared segment); the
 * layout is pthread's, so all users must run the same libc.
 */
typedef struct ik_mutex {
	pthread_mutex_t m;
} ik_mutex;

/*
 * Positive return of ik_mutex_lock: the lock is yours, its previous holder
 * died holding it, and the data it guards may be half-updated.
 */
#define IK_MUTEX_OWNERDEAD 1

#if defined(__GNUC__)
#define IK__MUST_CHECK __attribute__((warn_unused_result))
#else
#define IK__MUST_CHECK
#endif

/*
 * Initialize *m as process-shared, robust and error-checking (relocking by
 * the holder is -EDEADLK, unlocking by another is -EPERM, instead of a hang
 * or silent damage). Exactly one process does it, before the others use it.
 * Returns 0, -EINVAL, -ENOMEM, -EAGAIN.
 */
int ik_mutex_init(ik_mutex *m);

/*
 * Destroy a mutex no one holds or waits for (also a -ENOTRECOVERABLE one,
 * before ik_mutex_init makes it usable again). Returns 0 or -EINVAL; glibc
 * does not detect a held robust mutex, so that is the caller's to ensure.
 */
int ik_mutex_destroy(ik_mutex *m);

/*
 * Lock, waiting up to timeout_ms (-1 forever, 0 does not block) measured on
 * CLOCK_MONOTONIC. Returns
 *   0                    the lock is yours;
 *   IK_MUTEX_OWNERDEAD   the lock is yours, the previous holder died: repair
 *                        the data, ik_mutex_consistent, then ik_mutex_unlock
 *                        (unlocking without it makes the mutex unusable);
 *   -EBUSY               timeout_ms 0 and the mutex is held;
 *   -ETIMEDOUT           not before the deadline;
 *   -ENOTRECOVERABLE     a previous OWNERDEAD was not made consistent: the
 *                        data is suspect; destroy and init again;
 *   -EDEADLK             you already hold it;
 *   -EINVAL              m is NULL, or not a mutex ik_mutex_init made (its
 *                        kind word was overwritten: glibc would abort on
 *                        some kinds, so it is refused before the call).
 * The result must be checked (the compiler warns when it is not).
 */
IK__MUST_CHECK int ik_mutex_lock(ik_mutex *m, int timeout_ms);

/* ik_mutex_lock(m, 0). */
IK__MUST_CHECK int ik_mutex_trylock(ik_mutex *m);

/*
 * After IK_MUTEX_OWNERDEAD and the repair: mark the mutex usable again (you
 * still hold it). Returns 0, or -EINVAL if it is not in that state or not
 * yours.
 */
int ik_mutex_consistent(ik_mutex *m);

/* Returns 0, -EPERM (not the holder), -EINVAL. */
int ik_mutex_unlock(ik_mutex *m);

#ifdef __cplusplus
}
#endif
#endif
