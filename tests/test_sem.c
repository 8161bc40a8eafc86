/*
 * System V semaphore sets between real processes: mutual exclusion, SEM_UNDO
 * giving back the lock of a killed holder (and IK_SEM_NOUNDO keeping a
 * signaller's posts), the creation race, atomic multi-operation semop,
 * timeouts across EINTR, EIDRM on removal, counting semaphores, values and
 * state, and the kernel limits reported by name.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/sem.h>

#include "ikt.h"
#include "internal/time.h"

/* Objects of the running test, removed in teardown even after a failure. */
static int ids[16];
static int nids;

static int
track(int id)
{
	if (id >= 0 && nids < (int)(sizeof(ids) / sizeof(ids[0])))
		ids[nids++] = id;
	return id;
}

/* A reaped pid may be reused by anyone: forget it before waiting for it. */
static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < nids; i++)
		semctl(ids[i], 0, IPC_RMID);
	ikt_reap_tracked();
	nids = 0;
	return 0;
}

static void *
shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* A key of our own: the pid in the middle, a counter below. */
static key_t
test_key(void)
{
	static unsigned n;

	return (key_t)(0x5e000000u ^ ((unsigned)getpid() << 4) ^ n++);
}

/* Poll a semaphore's state (ncnt, zcnt, ...) until it reads want. */
static int
wait_for(int (*get)(int, unsigned short), int id, unsigned short num, int want)
{
	struct timespec ms = { 0, 1000000 };
	int64_t end = ik__now_ns() + (int64_t)IKT_WAIT_MS * 1000000;
	int v;

	while ((v = get(id, num)) != want) {
		if (v < 0 || ik__now_ns() > end)
			return v < 0 ? v : -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
	return 0;
}

static void
reap_all(pid_t *p, int n)
{
	for (int i = 0; i < n; i++)
		ikt_child_ok(p[i]);
}

struct counter {
	volatile long n;
	volatile int inside;
	volatile int overlap;
};

/* 4 processes, a read-yield-write increment: only the lock keeps it exact */
static void
test_mutual_exclusion(void **state)
{
	enum { PROCS = 4, ITERS = 1500 };
	struct counter *c = shared(sizeof(*c));
	unsigned short one = 1;
	pid_t p[PROCS];
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 1, &one, 0));
	assert_true(id >= 0);
	for (int i = 0; i < PROCS; i++) {
		p[i] = ikt_fork();
		assert_true(p[i] >= 0);
		if (p[i] > 0)
			continue;
		for (int k = 0; k < ITERS; k++) {
			long v;

			IKT_CHECK(ik_sem_lock(id, 0, IKT_WAIT_MS) == 0);
			if (c->inside)
				c->overlap = 1;
			c->inside = 1;
			v = c->n;
			if (k % 16 == 0)
				sched_yield();
			c->n = v + 1;
			c->inside = 0;
			IKT_CHECK(ik_sem_unlock(id, 0) == 0);
		}
		_exit(0);
	}
	reap_all(p, PROCS);
	assert_int_equal(c->n, PROCS * ITERS);
	assert_int_equal(c->overlap, 0);
	assert_int_equal(ik_sem_getval(id, 0), 1);
	munmap(c, sizeof(*c));
}

/* The holder is SIGKILLed inside the critical section; SEM_UNDO frees it. */
static void
test_killed_holder_releases(void **state)
{
	struct counter *c = shared(sizeof(*c));
	unsigned short one = 1;
	struct ikt_sync held;
	pid_t holder, waiter;
	int id, st;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 1, &one, 0));
	assert_true(id >= 0);
	ikt_sync_init(&held);
	holder = ikt_fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		IKT_CHECK(ik_sem_lock(id, 0, IKT_WAIT_MS) == 0);
		c->n = 1;
		ikt_post(&held);
		for (;;)
			pause();
	}
	assert_int_equal(ikt_await(&held, IKT_WAIT_MS), 0);
	assert_int_equal(ik_sem_getval(id, 0), 0);
	assert_int_equal(ik_sem_lock(id, 0, 0), -EAGAIN);
	waiter = ikt_fork();
	assert_true(waiter >= 0);
	if (waiter == 0) {
		IKT_CHECK(ik_sem_lock(id, 0, IKT_WAIT_MS) == 0);
		IKT_CHECK(c->n == 1);
		c->n = 2;
		IKT_CHECK(ik_sem_unlock(id, 0) == 0);
		_exit(0);
	}
	assert_int_equal(wait_for(ik_sem_getncnt, id, 0, 1), 0);
	assert_int_equal(c->n, 1); /* the waiter is still blocked */
	assert_int_equal(kill(holder, SIGKILL), 0);
	ikt_untrack(holder);
	st = ikt_wait(holder, IKT_WAIT_MS);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ikt_child_ok(waiter);
	assert_int_equal(c->n, 2);
	assert_int_equal(ik_sem_getval(id, 0), 1);
	ikt_sync_close(&held);
	munmap(c, sizeof(*c));
}

/* Signalling: a post made with IK_SEM_NOUNDO outlives its poster; a post
 * with the default SEM_UNDO is taken back when the poster exits. */
static void
test_noundo_post_survives_exit(void **state)
{
	struct counter *c = shared(sizeof(*c));
	pid_t a, b;
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 1, NULL, 0));
	assert_true(id >= 0);
	a = ikt_fork();
	assert_true(a >= 0);
	if (a == 0) {
		c->n = 4242; /* the data the post announces */
		IKT_CHECK(ik_sem_post(id, 0, 1, IK_SEM_NOUNDO) == 0);
		_exit(0);
	}
	ikt_child_ok(a);
	b = ikt_fork();
	assert_true(b >= 0);
	if (b == 0) {
		IKT_CHECK(ik_sem_post(id, 0, 5, 0) == 0);
		IKT_CHECK(ik_sem_getval(id, 0) == 6);
		_exit(0);
	}
	ikt_child_ok(b);
	assert_int_equal(ik_sem_getval(id, 0), 1); /* b's 5 were undone */
	assert_int_equal(ik_sem_wait(id, 0, 1, IK_SEM_NOUNDO, IKT_WAIT_MS), 0);
	assert_int_equal(c->n, 4242);
	assert_int_equal(ik_sem_getval(id, 0), 0);
	munmap(c, sizeof(*c));
}

/* 8 processes race to create-or-open one key: one creates, all see 3, 7. */
static void
test_init_race(void **state)
{
	enum { PROCS = 8 };
	struct race {
		int created;
		int id[PROCS];
	} *r = shared(sizeof(*r));
	unsigned short init[2] = { 3, 7 };
	struct ikt_sync go;
	key_t key = test_key();
	pid_t p[PROCS];

	(void)state;
	ikt_sync_init(&go);
	for (int i = 0; i < PROCS; i++) {
		p[i] = ikt_fork();
		assert_true(p[i] >= 0);
		if (p[i] > 0)
			continue;
		unsigned short v[2] = { 0, 0 };
		struct ik_sem_info si;
		int created = -1, id;

		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		id = ik_sem_open_or_create(key, 2, init, 0, IKT_WAIT_MS,
					   &created);
		IKT_CHECK(id >= 0);
		IKT_CHECK(created == 0 || created == 1);
		if (created)
			__atomic_fetch_add(&r->created, 1, __ATOMIC_SEQ_CST);
		r->id[i] = id;
		IKT_CHECK(ik_sem_getall(id, v, 2) == 2);
		IKT_CHECK(v[0] == 3 && v[1] == 7);
		IKT_CHECK(ik_sem_stat(id, &si) == 0 && si.otime != 0);
		IKT_CHECK(si.key == key && si.nsems == 2);
		_exit(0);
	}
	for (int i = 0; i < PROCS; i++)
		ikt_post(&go);
	reap_all(p, PROCS);
	track(r->id[0]);
	assert_int_equal(r->created, 1);
	for (int i = 1; i < PROCS; i++)
		assert_int_equal(r->id[i], r->id[0]);
	assert_int_equal(ik_sem_remove(r->id[0]), 0);
	ikt_sync_close(&go);
	munmap(r, sizeof(*r));
}

/* An opener waits while the creator has not published the set. */
static void
test_open_waits_for_creator(void **state)
{
	struct counter *c = shared(sizeof(*c));
	unsigned short init[2] = { 5, 9 };
	struct sembuf noop[2] = { { 0, -1, 0 }, { 0, 1, 0 } };
	union {
		int val;
		unsigned short *array;
	} arg = { .array = init };
	struct ikt_sync ready;
	key_t key = test_key();
	pid_t pid;
	int id;

	(void)state;
	/* a creator caught between semget and its initialization */
	id = track(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
	assert_true(id >= 0);
	ikt_sync_init(&ready);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned short v[2];
		int64_t t0 = ik__now_ns();

		IKT_CHECK(ik_sem_open(key, 2, 0) == -EAGAIN);
		IKT_CHECK(ik_sem_open(key, 2, 200) == -ETIMEDOUT);
		IKT_CHECK(ik__now_ns() - t0 >= 200 * 1000000LL);
		ikt_post(&ready);
		IKT_CHECK(ik_sem_open(key, 2, IKT_WAIT_MS) == id);
		/* not before the creator was done */
		IKT_CHECK(__atomic_load_n(&c->n, __ATOMIC_SEQ_CST) == 1);
		IKT_CHECK(ik_sem_getall(id, v, 2) == 2);
		IKT_CHECK(v[0] == 5 && v[1] == 9);
		_exit(0);
	}
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	assert_int_equal(semctl(id, 0, SETALL, arg), 0);
	/* a store the child sees before semop publishes the set (the
	 * system call orders it; the atomic says so to the compiler) */
	__atomic_store_n(&c->n, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(semop(id, noop, 2), 0);
	ikt_child_ok(pid);
	ikt_sync_close(&ready);
	munmap(c, sizeof(*c));
}

/* Two operations in one call: none applies while one of them would block. */
static void
test_multi_op_atomic(void **state)
{
	struct counter *c = shared(sizeof(*c));
	unsigned short init[2] = { 1, 0 };
	struct sembuf both[2] = { { 0, -1, 0 }, { 1, -1, 0 } };
	struct sembuf nowait[2] = { { 0, -1, 0 }, { 1, -1, IPC_NOWAIT } };
	pid_t pid;
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 2, init, 0));
	assert_true(id >= 0);
	assert_int_equal(ik_sem_op(id, nowait, 2, IKT_WAIT_MS), -EAGAIN);
	assert_int_equal(ik_sem_getval(id, 0), 1);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sem_op(id, both, 2, IKT_WAIT_MS) == 0);
		c->n = 1;
		_exit(0);
	}
	assert_int_equal(wait_for(ik_sem_getncnt, id, 1, 1), 0);
	assert_int_equal(ik_sem_getval(id, 0), 1); /* not half applied */
	assert_int_equal(c->n, 0);
	assert_int_equal(ik_sem_post(id, 1, 1, IK_SEM_NOUNDO), 0);
	ikt_child_ok(pid);
	assert_int_equal(c->n, 1);
	assert_int_equal(ik_sem_getval(id, 0), 0);
	assert_int_equal(ik_sem_getval(id, 1), 0);
	munmap(c, sizeof(*c));
}

/* A timed lock under a storm of signals ends at its deadline, not before,
 * not restarted; then a post from another process still gets through. */
static void
test_timeout_across_eintr(void **state)
{
	struct ikt_sync timed_out;
	pid_t pid;
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 1, NULL, 0));
	assert_true(id >= 0);
	ikt_sync_init(&timed_out);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ikt_storm storm;
		int64_t t0, el;

		IKT_CHECK(ikt_storm_start(&storm, 20) == 0);
		t0 = ik__now_ns();

		IKT_CHECK(ik_sem_lock(id, 0, 300) == -ETIMEDOUT);
		el = ik__now_ns() - t0;
		IKT_CHECK(el >= 300 * 1000000LL);
		IKT_CHECK(el < 10000 * 1000000LL);
		IKT_CHECK(ikt_alarms > 0);
		IKT_CHECK(ik_sem_lock(id, 0, 0) == -EAGAIN);
		ikt_post(&timed_out);
		IKT_CHECK(ik_sem_wait(id, 0, 2, 0, IKT_WAIT_MS) == 0);
		ikt_storm_stop(&storm);
		_exit(0);
	}
	assert_int_equal(ikt_await(&timed_out, IKT_WAIT_MS), 0);
	assert_int_equal(ik_sem_post(id, 0, 2, IK_SEM_NOUNDO), 0);
	ikt_child_ok(pid);
	/* the child's SEM_UNDO wait was undone at its exit: the 2 are back */
	assert_int_equal(ik_sem_getval(id, 0), 2);
	ikt_sync_close(&timed_out);
}

/* Removing the set wakes its waiter with -EIDRM. */
static void
test_remove_wakes_waiter(void **state)
{
	pid_t pid;
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 1, NULL, 0));
	assert_true(id >= 0);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sem_lock(id, 0, IKT_WAIT_MS) == -EIDRM);
		_exit(0);
	}
	assert_int_equal(wait_for(ik_sem_getncnt, id, 0, 1), 0);
	assert_int_equal(ik_sem_remove(id), 0);
	ikt_child_ok(pid);
	assert_int_equal(ik_sem_getval(id, 0), -EINVAL);
	assert_int_equal(ik_sem_remove(id), -EINVAL);
}

/* N = 3 resources: three holders get one each, the fourth waits for a
 * release. */
static void
test_counting(void **state)
{
	enum { N = 3 };
	struct counter *c = shared(sizeof(*c));
	unsigned short init = N;
	struct ikt_sync acq, rel[N];
	pid_t p[N + 1];
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 1, &init, 0));
	assert_true(id >= 0);
	ikt_sync_init(&acq);
	for (int i = 0; i <= N; i++) {
		if (i < N)
			ikt_sync_init(&rel[i]);
		else
			assert_int_equal(wait_for(ik_sem_getval, id, 0, 0), 0);
		p[i] = ikt_fork();
		assert_true(p[i] >= 0);
		if (p[i] > 0)
			continue;
		IKT_CHECK(ik_sem_wait(id, 0, 1, 0, IKT_WAIT_MS) == 0);
		IKT_CHECK(__atomic_add_fetch(&c->n, 1, __ATOMIC_SEQ_CST) <= N);
		ikt_post(&acq);
		if (i < N)
			IKT_CHECK(ikt_await(&rel[i], IKT_WAIT_MS) == 0);
		__atomic_sub_fetch(&c->n, 1, __ATOMIC_SEQ_CST);
		IKT_CHECK(ik_sem_post(id, 0, 1, 0) == 0);
		_exit(0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(ikt_await(&acq, IKT_WAIT_MS), 0);
	assert_int_equal(wait_for(ik_sem_getncnt, id, 0, 1), 0);
	assert_int_equal(ikt_await(&acq, 0), -1); /* the fourth waits */
	assert_int_equal(c->n, N);
	assert_int_equal(ik_sem_wait(id, 0, 1, 0, 0), -EAGAIN);
	ikt_post(&rel[0]);
	assert_int_equal(ikt_await(&acq, IKT_WAIT_MS), 0);
	for (int i = 1; i < N; i++)
		ikt_post(&rel[i]);
	reap_all(p, N + 1);
	assert_int_equal(c->n, 0);
	assert_int_equal(ik_sem_getval(id, 0), N);
	for (int i = 0; i < N; i++)
		ikt_sync_close(&rel[i]);
	ikt_sync_close(&acq);
	munmap(c, sizeof(*c));
}

/* get/set one and all, ncnt, zcnt, the last pid, stat. */
static void
test_values_and_state(void **state)
{
	unsigned short init[3] = { 1, 2, 3 }, v[3], set[3] = { 4, 5, 6 };
	struct ik_sem_info si;
	pid_t a, b;
	int id;

	(void)state;
	id = track(ik_sem_create(IPC_PRIVATE, 3, init, 0));
	assert_true(id >= 0);
	assert_int_equal(ik_sem_getall(id, v, 3), 3);
	assert_memory_equal(v, init, sizeof(v));
	assert_int_equal(ik_sem_getall(id, v, 2), -ERANGE);
	assert_int_equal(ik_sem_setall(id, set, 2), -EINVAL);
	assert_int_equal(ik_sem_setall(id, set, 3), 0);
	assert_int_equal(ik_sem_setval(id, 1, 10), 0);
	assert_int_equal(ik_sem_getval(id, 1), 10);
	assert_int_equal(ik_sem_setval(id, 1, IK_SEM_VALUE_MAX + 1), -ERANGE);
	assert_int_equal(ik_sem_setval(id, 1, -1), -ERANGE);
	assert_int_equal(ik_sem_stat(id, &si), 0);
	assert_int_equal(si.nsems, 3);
	assert_int_equal(si.mode, 0600);
	assert_int_equal(si.uid, geteuid());
	assert_int_equal(si.cuid, geteuid());
	assert_true(si.otime != 0);

	a = ikt_fork();
	assert_true(a >= 0);
	if (a == 0) {
		IKT_CHECK(ik_sem_wait(id, 2, 2, IK_SEM_NOUNDO, 0) == 0);
		_exit(0);
	}
	ikt_child_ok(a);
	assert_int_equal(ik_sem_getpid(id, 2), a);
	assert_int_equal(ik_sem_getval(id, 2), 4);
	b = ikt_fork();
	assert_true(b >= 0);
	if (b == 0) {
		IKT_CHECK(ik_sem_wait_zero(id, 2, IKT_WAIT_MS) == 0);
		_exit(0);
	}
	assert_int_equal(wait_for(ik_sem_getzcnt, id, 2, 1), 0);
	assert_int_equal(ik_sem_getncnt(id, 2), 0);
	assert_int_equal(ik_sem_wait(id, 2, 4, IK_SEM_NOUNDO, 0), 0);
	ikt_child_ok(b);
	assert_int_equal(ik_sem_getzcnt(id, 2), 0);
	/* the last operation on it was b's, completed after our wait */
	assert_int_equal(ik_sem_getpid(id, 2), b);
}

static long
kernel_sem(int field)
{
	long v[4];
	FILE *f = fopen("/proc/sys/kernel/sem", "r");

	assert_non_null(f);
	assert_int_equal(
		fscanf(f, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]), 4);
	fclose(f);
	return v[field];
}

/* Bad input and limits, each with its own error. */
static void
test_bad_input_and_limits(void **state)
{
	unsigned short big = IK_SEM_VALUE_MAX + 1, one = 1;
	long semmsl = kernel_sem(0), semopm = kernel_sem(2);
	struct sembuf *ops, far = { 5, -1, 0 };
	key_t key = test_key();
	int id, gone;

	(void)state;
	assert_int_equal(ik_sem_create(IPC_PRIVATE, 0, NULL, 0), -EINVAL);
	assert_int_equal(ik_sem_create(IPC_PRIVATE, 1, NULL, 01000), -EINVAL);
	assert_int_equal(ik_sem_create(IPC_PRIVATE, 1, &big, 0), -ERANGE);
	assert_int_equal(ik_sem_create(IPC_PRIVATE, (int)semmsl + 1, NULL, 0),
			 IK_ESEMMSL);
	assert_non_null(strstr(ik_strerror(IK_ESEMMSL), "SEMMSL"));
	assert_int_equal(ik_sem_open(key, 1, 0), -ENOENT);
	assert_int_equal(ik_sem_open(IPC_PRIVATE, 1, 0), -EINVAL);

	id = track(ik_sem_create(key, 1, &one, 0));
	assert_true(id >= 0);
	assert_int_equal(ik_sem_create(key, 1, NULL, 0), -EEXIST);
	assert_int_equal(ik_sem_open(key, 2, 0), -EINVAL); /* too small */
	assert_int_equal(ik_sem_open(key, 0, 0), id);

	ops = calloc((size_t)semopm + 1, sizeof(*ops));
	assert_non_null(ops);
	assert_int_equal(ik_sem_op(id, ops, (size_t)semopm + 1, 0), IK_ESEMOPM);
	free(ops);
	assert_int_equal(ik_sem_op(id, NULL, 1, 0), -EINVAL);
	assert_int_equal(ik_sem_op(id, &far, 0, 0), -EINVAL);
	assert_int_equal(ik_sem_op(id, &far, 1, 0), -EFBIG);
	assert_int_equal(ik_sem_getval(id, 5), -EINVAL);
	assert_int_equal(ik_sem_wait(id, 0, 0, 0, 0), -EINVAL);
	assert_int_equal(ik_sem_wait(id, 0, IK_SEM_VALUE_MAX + 1, 0, 0),
			 -EINVAL);
	assert_int_equal(ik_sem_post(id, 0, 1, 0x80), -EINVAL);
	assert_int_equal(ik_sem_stat(id, NULL), -EINVAL);
	/* unlocking a free lock would admit two holders */
	assert_int_equal(ik_sem_unlock(id, 0), -EPERM);
	assert_int_equal(ik_sem_getval(id, 0), 1);
	assert_int_equal(ik_sem_setval(id, 0, IK_SEM_VALUE_MAX), 0);
	assert_int_equal(ik_sem_post(id, 0, 1, IK_SEM_NOUNDO), -ERANGE);

	gone = ik_sem_create(IPC_PRIVATE, 1, NULL, 0);
	assert_true(gone >= 0);
	assert_int_equal(ik_sem_remove(gone), 0);
	assert_int_equal(ik_sem_lock(gone, 0, 0), -EINVAL);
	assert_int_equal(ik_sem_getval(-1, 0), -EINVAL);
}

/*
 * ENOSPC told apart: in a child's own IPC namespace, where root may lower
 * kernel.sem without touching the machine's, fill SEMMNS, then SEMMNI.
 * The namespace, and the sets in it, vanish with the child.
 */
static void
test_system_limits_in_namespace(void **state)
{
	pid_t pid;

	(void)state;
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sembuf ops[5] = { { 0 } };
		FILE *f;
		int a, b;

		if (unshare(CLONE_NEWIPC) < 0)
			_exit(IKT_SKIP_EXIT);
		f = fopen("/proc/sys/kernel/sem", "w");
		/* SEMMSL 250, SEMMNS 5, SEMOPM 4, SEMMNI 3 */
		if (f == NULL || fputs("250 5 4 3\n", f) < 0 || fclose(f) != 0)
			_exit(IKT_SKIP_EXIT);
		IKT_CHECK(ik_sem_create(IPC_PRIVATE, 251, NULL, 0) ==
			  IK_ESEMMSL);
		IKT_CHECK((a = ik_sem_create(IPC_PRIVATE, 2, NULL, 0)) >= 0);
		IKT_CHECK(ik_sem_op(a, ops, 5, 0) == IK_ESEMOPM);
		IKT_CHECK((b = ik_sem_create(IPC_PRIVATE, 2, NULL, 0)) >= 0);
		IKT_CHECK(ik_sem_create(IPC_PRIVATE, 2, NULL, 0) == IK_ESEMMNS);
		IKT_CHECK(ik_sem_create(IPC_PRIVATE, 1, NULL, 0) >= 0);
		IKT_CHECK(ik_sem_create(IPC_PRIVATE, 1, NULL, 0) == IK_ESEMMNI);
		/* a failed create left nothing: 3 sets, 5 semaphores */
		IKT_CHECK(ik_sem_remove(b) == 0);
		IKT_CHECK(ik_sem_create(IPC_PRIVATE, 2, NULL, 0) >= 0);
		_exit(0);
	}
	ikt_untrack(pid);
	/* skipped without CAP_SYS_ADMIN or with a read-only /proc/sys */
	ikt_assert_child_ok_or_skip(pid);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mutual_exclusion),
		T(test_killed_holder_releases),
		T(test_noundo_post_survives_exit),
		T(test_init_race),
		T(test_open_waits_for_creator),
		T(test_multi_op_atomic),
		T(test_timeout_across_eintr),
		T(test_remove_wakes_waiter),
		T(test_counting),
		T(test_values_and_state),
		T(test_bad_input_and_limits),
		T(test_system_limits_in_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
