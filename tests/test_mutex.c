/*
 * Robust process-shared mutexes between real processes: mutual exclusion,
 * a holder killed mid-update (the next locker is told, repairs, makes it
 * consistent), the ENOTRECOVERABLE fate of a mutex nobody repaired, timed
 * locks on CLOCK_MONOTONIC, and the error-checking of misuse.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/mutex.h>

#include "ikt.h"
#include "internal/time.h"

/* The guarded data keeps a == b; a holder that dies may leave a != b. */
struct guarded {
	ik_mutex m;
	volatile long a, b;
	volatile int inside, overlap;
};

static struct guarded *g;

static int
setup(void **state)
{
	(void)state;
	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return -1;
	memset(g, 0, sizeof(*g));
	return ik_mutex_init(&g->m);
}

static int
teardown(void **state)
{
	(void)state;
	ikt_reap_tracked();
	ik_mutex_destroy(&g->m);
	munmap(g, sizeof(*g));
	return 0;
}

/* A child that takes the lock, breaks the invariant, and waits to die. */
static pid_t
doomed_holder(void)
{
	struct ikt_sync held;
	pid_t pid;

	ikt_sync_init(&held);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) == 0);
		g->a++; /* ... and b never follows */
		ikt_post(&held);
		for (;;)
			pause();
	}
	assert_int_equal(ikt_await(&held, IKT_WAIT_MS), 0);
	ikt_sync_close(&held);
	return pid;
}

static void
test_mutual_exclusion(void **state)
{
	enum { PROCS = 4, ITERS = 3000 };
	pid_t p[PROCS];

	(void)state;
	for (int i = 0; i < PROCS; i++) {
		p[i] = ikt_fork();
		assert_true(p[i] >= 0);
		if (p[i] > 0)
			continue;
		for (int k = 0; k < ITERS; k++) {
			long v;

			IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) == 0);
			if (g->inside)
				g->overlap = 1;
			g->inside = 1;
			v = g->a;
			if (k % 16 == 0)
				sched_yield();
			g->a = v + 1;
			g->inside = 0;
			IKT_CHECK(ik_mutex_unlock(&g->m) == 0);
		}
		_exit(0);
	}
	for (int i = 0; i < PROCS; i++)
		ikt_child_ok(p[i]);
	assert_int_equal(g->a, PROCS * ITERS);
	assert_int_equal(g->overlap, 0);
}

/* The holder dies mid-update while another process waits for the lock: the
 * waiter gets IK_MUTEX_OWNERDEAD, repairs, marks it consistent; the next
 * locker sees an ordinary, intact mutex. */
static void
test_owner_dead_repaired(void **state)
{
	struct ikt_sync waiting;
	pid_t holder, heir, next;

	(void)state;
	holder = doomed_holder();
	ikt_sync_init(&waiting);
	heir = ikt_fork();
	assert_true(heir >= 0);
	if (heir == 0) {
		ikt_post(&waiting);
		IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) ==
			  IK_MUTEX_OWNERDEAD);
		IKT_CHECK(g->a == 1 && g->b == 0); /* the damage is visible */
		g->b = g->a;
		IKT_CHECK(ik_mutex_consistent(&g->m) == 0);
		IKT_CHECK(ik_mutex_unlock(&g->m) == 0);
		_exit(0);
	}
	/* blocked in the lock, or about to be: both must end the same way */
	assert_int_equal(ikt_await(&waiting, IKT_WAIT_MS), 0);
	assert_int_equal(ik_mutex_trylock(&g->m), -EBUSY);
	ikt_child_killed(holder);
	ikt_child_ok(heir);
	next = ikt_fork();
	assert_true(next >= 0);
	if (next == 0) {
		IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) == 0);
		IKT_CHECK(g->a == g->b);
		g->a++;
		g->b++;
		IKT_CHECK(ik_mutex_unlock(&g->m) == 0);
		_exit(0);
	}
	ikt_child_ok(next);
	assert_int_equal(ik_mutex_lock(&g->m, 0), 0);
	assert_int_equal(g->a, 2);
	assert_int_equal(g->b, 2);
	assert_int_equal(ik_mutex_unlock(&g->m), 0);
	ikt_sync_close(&waiting);
}

/* Nobody repairs: the unlock without ik_mutex_consistent poisons the mutex
 * for every process, until it is destroyed and initialized again. */
static void
test_not_made_consistent(void **state)
{
	pid_t holder, careless, other;

	(void)state;
	holder = doomed_holder();
	ikt_child_killed(holder);
	careless = ikt_fork();
	assert_true(careless >= 0);
	if (careless == 0) {
		/* the non-blocking path reports the death too */
		IKT_CHECK(ik_mutex_trylock(&g->m) == IK_MUTEX_OWNERDEAD);
		IKT_CHECK(ik_mutex_unlock(&g->m) == 0);
		_exit(0);
	}
	ikt_child_ok(careless);
	other = ikt_fork();
	assert_true(other >= 0);
	if (other == 0) {
		IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) ==
			  -ENOTRECOVERABLE);
		_exit(0);
	}
	ikt_child_ok(other);
	/* trylock first: glibc's own would leave the mutex wedged after
	 * this (the next lock would see EDEADLK, or hang in another process) */
	assert_int_equal(ik_mutex_trylock(&g->m), -ENOTRECOVERABLE);
	assert_int_equal(ik_mutex_lock(&g->m, -1), -ENOTRECOVERABLE);
	assert_int_equal(ik_mutex_lock(&g->m, 100), -ENOTRECOVERABLE);
	other = ikt_fork();
	assert_true(other >= 0);
	if (other == 0) {
		IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) ==
			  -ENOTRECOVERABLE);
		IKT_CHECK(ik_mutex_trylock(&g->m) == -ENOTRECOVERABLE);
		_exit(0);
	}
	ikt_child_ok(other);
	assert_int_equal(ik_mutex_destroy(&g->m), 0);
	assert_int_equal(ik_mutex_init(&g->m), 0);
	assert_int_equal(ik_mutex_lock(&g->m, 0), 0);
	assert_int_equal(ik_mutex_unlock(&g->m), 0);
}

/* A timed lock against a live holder, under a signal storm, ends at its
 * deadline and not before; once the holder lets go it succeeds. */
static void
test_timed_lock(void **state)
{
	struct ikt_sync timed_out, release;
	pid_t holder, waiter;

	(void)state;
	ikt_sync_init(&timed_out);
	ikt_sync_init(&release);
	holder = ikt_fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		IKT_CHECK(ik_mutex_lock(&g->m, 0) == 0);
		ikt_post(&timed_out); /* "held" */
		IKT_CHECK(ikt_await(&release, IKT_WAIT_MS) == 0);
		g->a = 77;
		IKT_CHECK(ik_mutex_unlock(&g->m) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&timed_out, IKT_WAIT_MS), 0);
	waiter = ikt_fork();
	assert_true(waiter >= 0);
	if (waiter == 0) {
		struct ikt_storm storm;
		int64_t t0, el;

		IKT_CHECK(ikt_storm_start(&storm, 20) == 0);
		IKT_CHECK(ik_mutex_trylock(&g->m) == -EBUSY);
		t0 = ik__now_ns();
		IKT_CHECK(ik_mutex_lock(&g->m, 300) == -ETIMEDOUT);
		el = ik__now_ns() - t0;
		IKT_CHECK(el >= 300 * 1000000LL);
		IKT_CHECK(el < 10000 * 1000000LL);
		IKT_CHECK(ikt_alarms > 0);
		ikt_storm_stop(&storm);
		ikt_post(&timed_out);
		IKT_CHECK(ik_mutex_lock(&g->m, IKT_WAIT_MS) == 0);
		IKT_CHECK(g->a == 77);
		IKT_CHECK(ik_mutex_unlock(&g->m) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&timed_out, IKT_WAIT_MS), 0);
	ikt_post(&release);
	ikt_child_ok(holder);
	ikt_child_ok(waiter);
	ikt_sync_close(&timed_out);
	ikt_sync_close(&release);
}

/* Misuse is reported, not a hang or silent damage. */
static void
test_misuse(void **state)
{
	pid_t pid;

	(void)state;
	assert_int_equal(ik_mutex_consistent(&g->m), -EINVAL);
	assert_int_equal(ik_mutex_lock(&g->m, -1), 0);
	assert_int_equal(ik_mutex_lock(&g->m, -1), -EDEADLK);
	assert_int_equal(ik_mutex_lock(&g->m, 50), -EDEADLK);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_mutex_unlock(&g->m) == -EPERM);
		IKT_CHECK(ik_mutex_trylock(&g->m) == -EBUSY);
		_exit(0);
	}
	ikt_child_ok(pid);
	assert_int_equal(ik_mutex_unlock(&g->m), 0);
	assert_int_equal(ik_mutex_unlock(&g->m), -EPERM);
	assert_int_equal(ik_mutex_init(NULL), -EINVAL);
	assert_int_equal(ik_mutex_lock(NULL, 0), -EINVAL);
	assert_int_equal(ik_mutex_unlock(NULL), -EINVAL);
	assert_int_equal(ik_mutex_consistent(NULL), -EINVAL);
	assert_int_equal(ik_mutex_destroy(NULL), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mutual_exclusion),
		T(test_owner_dead_repaired),
		T(test_not_made_consistent),
		T(test_timed_lock),
		T(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
