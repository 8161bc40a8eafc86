/*
 * Robust process-shared mutexes (see <ipckit/mutex.h>). The kernel walks a
 * dying thread's robust list and marks the mutexes it held; pthread then
 * reports EOWNERDEAD to the next locker. ipckit turns that into a positive
 * return, so "r < 0 means failure" code still holds the lock it got, and if
 * that code ignores the death, the unlock without ik_mutex_consistent makes
 * the mutex ENOTRECOVERABLE: the damage is reported, not spread.
 */
#include <errno.h>

#include <ipckit/mutex.h>

#include "internal/time.h"

int
ik_mutex_init(ik_mutex *m)
{
	pthread_mutexattr_t a;
	int r;

	if (m == NULL)
		return -EINVAL;
	r = pthread_mutexattr_init(&a);
	if (r != 0)
		return -r;
	if ((r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) ||
	    (r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) ||
	    (r = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK)))
		goto out;
	r = pthread_mutex_init(&m->m, &a);
out:
	pthread_mutexattr_destroy(&a);
	return -r;
}

int
ik_mutex_destroy(ik_mutex *m)
{
	if (m == NULL)
		return -EINVAL;
	return -pthread_mutex_destroy(&m->m);
}

/*
 * ThreadSanitizer (gcc 12) does not intercept pthread_mutex_clocklock and
 * then reports every unlock as misuse: TSan builds take the wall-clock call.
 */
#if defined(__SANITIZE_THREAD__)
#define IK__NO_CLOCKLOCK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IK__NO_CLOCKLOCK 1
#endif
#endif

#ifdef __GLIBC__
/*
 * A mutex lives in memory other processes can write. glibc trusts the
 * mutex's kind word: scribbled into a priority-inheritance or -protection
 * kind, a lock call reaches an assert() and aborts the caller (found by
 * fuzz_cache). So the kind must be the one ik_mutex_init writes, taken from
 * a mutex made here once (glibc's layout; other C libraries skip the test).
 */
static int
kind_ok(const ik_mutex *m)
{
	static int want = -1;
	int k = __atomic_load_n(&want, __ATOMIC_RELAXED);

	if (k < 0) {
		ik_mutex ref;

		if (ik_mutex_init(&ref) < 0)
			return 1; /* cannot tell: let pthread decide */
		k = ref.m.__data.__kind;
		ik_mutex_destroy(&ref);
		__atomic_store_n(&want, k, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&m->m.__data.__kind, __ATOMIC_RELAXED) == k;
}
#else
static int
kind_ok(const ik_mutex *m)
{
	(void)m;
	return 1;
}
#endif

static int
timed_lock(ik_mutex *m, const struct ik__deadline *d)
{
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 30) && !defined(IK__NO_CLOCKLOCK)
	struct timespec abs = ik__deadline_abs(d);

	return pthread_mutex_clocklock(&m->m, CLOCK_MONOTONIC, &abs);
#else
	/* an old glibc: the wall clock, re-derived on each retry below */
	struct timespec abs = ik__deadline_abs_realtime(d);

	return pthread_mutex_timedlock(&m->m, &abs);
#endif
}

int
ik_mutex_lock(ik_mutex *m, int timeout_ms)
{
	struct ik__deadline d;
	int r;

	if (m == NULL || !kind_ok(m))
		return -EINVAL;
	if (timeout_ms < 0) {
		r = pthread_mutex_lock(&m->m);
	} else {
		/*
		 * Not pthread_mutex_trylock for timeout 0: glibc (2.36 at
		 * least) returns ENOTRECOVERABLE from it but leaves the lock
		 * word set to the caller, wedging the mutex for everyone. A
		 * timed lock with a deadline already due tries once, cleanly.
		 */
		ik__deadline_init(&d, timeout_ms);
		do
			r = timed_lock(m, &d);
		while ((r == ETIMEDOUT && !ik__deadline_expired(&d)) ||
		       r == EINTR);
		if (r == ETIMEDOUT && timeout_ms == 0)
			r = EBUSY;
	}
	if (r == EOWNERDEAD)
		return IK_MUTEX_OWNERDEAD;
	return -r;
}

int
ik_mutex_trylock(ik_mutex *m)
{
	return ik_mutex_lock(m, 0);
}

int
ik_mutex_consistent(ik_mutex *m)
{
	if (m == NULL)
		return -EINVAL;
	return -pthread_mutex_consistent(&m->m);
}

int
ik_mutex_unlock(ik_mutex *m)
{
	if (m == NULL)
		return -EINVAL;
	return -pthread_mutex_unlock(&m->m);
}
