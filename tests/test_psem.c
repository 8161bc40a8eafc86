/*
 * POSIX semaphores between real processes: named ones found by name in
 * another process, unnamed ones in a shared mapping carrying a stream of
 * data, monotonic timed waits across EINTR, names validated, limits.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/sem.h>

#include "ikt.h"
#include "internal/time.h"

static char names[8][300];
static int nnames;

/* "/ikt-<pid>-<tag>-<n>", unlinked in teardown */
static const char *
new_name(const char *tag)
{
	char *n = names[nnames++];

	n[0] = '/';
	ikt_name(n + 1, sizeof(names[0]) - 1, tag);
	return n;
}

static int
teardown(void **state)
{
	(void)state;
	ikt_reap_tracked();
	for (int i = 0; i < nnames; i++)
		sem_unlink(names[i]);
	nnames = 0;
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

/* Two named semaphores, opened by name in the child, alternate turns. */
static void
test_named_ping_pong(void **state)
{
	enum { ROUNDS = 200 };
	const char *ping_n = new_name("ping"), *pong_n = new_name("pong");
	volatile long *turn = shared(sizeof(*turn));
	sem_t *ping, *pong;
	char path[128];
	struct stat st;
	int fds = ikt_fd_count();
	pid_t pid;

	(void)state;
	assert_int_equal(ik_psem_create(ping_n, 0, &ping), 0);
	assert_int_equal(ik_psem_create(pong_n, 0, &pong), 0);
	/* 0600, and glibc keeps no descriptor open behind our back */
	snprintf(path, sizeof(path), "/dev/shm/sem.%s", ping_n + 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ikt_fd_count(), fds);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sem_t *a, *b;

		IKT_CHECK(ik_psem_open(ping_n, &a) == 0);
		IKT_CHECK(ik_psem_open(pong_n, &b) == 0);
		for (long i = 0; i < ROUNDS; i++) {
			IKT_CHECK(ik_psem_wait(a, IKT_WAIT_MS) == 0);
			IKT_CHECK(*turn == 2 * i + 1);
			*turn += 1;
			IKT_CHECK(ik_psem_post(b) == 0);
		}
		IKT_CHECK(ik_psem_close(a) == 0 && ik_psem_close(b) == 0);
		_exit(0);
	}
	for (long i = 0; i < ROUNDS; i++) {
		assert_int_equal(*turn, 2 * i);
		*turn += 1;
		assert_int_equal(ik_psem_post(ping), 0);
		assert_int_equal(ik_psem_wait(pong, IKT_WAIT_MS), 0);
	}
	ikt_child_ok(pid);
	assert_int_equal(*turn, 2 * ROUNDS);
	/* unlinked, the name is gone but the semaphore still works */
	assert_int_equal(ik_psem_unlink(ping_n), 0);
	assert_int_equal(ik_psem_open(ping_n, &ping), -ENOENT);
	assert_int_equal(ik_psem_post(ping), 0);
	assert_int_equal(ik_psem_getvalue(ping), 1);
	assert_int_equal(ik_psem_close(ping), 0);
	assert_int_equal(ik_psem_unlink(pong_n), 0);
	assert_int_equal(ik_psem_close(pong), 0);
	assert_int_equal(ik_psem_unlink(pong_n), -ENOENT);
	munmap((void *)turn, sizeof(*turn));
}

/* Names, existence and values: each mistake has its own error. */
static void
test_named_errors(void **state)
{
	const char *name = new_name("err");
	char longname[sizeof(names[0])];
	sem_t *s = NULL, *t = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_psem_open(name, &s), -ENOENT);
	assert_int_equal(ik_psem_create(name, 3, &s), 0);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* O_EXCL: a second creator fails, and resets nothing */
		IKT_CHECK(ik_psem_create(name, 0, &t) == -EEXIST);
		IKT_CHECK(ik_psem_open(name, &t) == 0);
		IKT_CHECK(ik_psem_getvalue(t) == 3);
		IKT_CHECK(ik_psem_trywait(t) == 0);
		_exit(0);
	}
	ikt_child_ok(pid);
	assert_int_equal(ik_psem_getvalue(s), 2);
	assert_int_equal(ik_psem_create("noslash", 0, &t), -EINVAL);
	assert_int_equal(ik_psem_create("/", 0, &t), -EINVAL);
	assert_int_equal(ik_psem_create("/a/b", 0, &t), -EINVAL);
	assert_int_equal(ik_psem_create("/..", 0, &t), -EINVAL);
	assert_int_equal(ik_psem_create("", 0, &t), -EINVAL);
	assert_int_equal(ik_psem_create(NULL, 0, &t), -EINVAL);
	assert_int_equal(ik_psem_open("/a/b", &t), -EINVAL);
	assert_int_equal(ik_psem_unlink("x"), -EINVAL);
	/* NAME_MAX (255) for "sem.<name>": 251 characters fit, 252 do not */
	snprintf(longname, sizeof(longname), "%s", new_name("long"));
	memset(longname + strlen(longname), 'x', 253 - strlen(longname));
	longname[253] = '\0';
	assert_int_equal(ik_psem_create(longname, 0, &t), -ENAMETOOLONG);
	assert_int_equal(ik_psem_open(longname, &t), -ENAMETOOLONG);
	longname[252] = '\0';
	memcpy(names[nnames - 1], longname, sizeof(longname)); /* teardown */
	assert_int_equal(ik_psem_create(longname, 0, &t), 0);
	assert_int_equal(ik_psem_close(t), 0);
	assert_int_equal(ik_psem_unlink(longname), 0);
	t = NULL;
	assert_int_equal(ik_psem_create(new_name("big"),
					(unsigned)SEM_VALUE_MAX + 1, &t),
			 -EINVAL);
	assert_int_equal(ik_psem_create(new_name("null"), 0, NULL), -EINVAL);
	assert_null(t); /* out parameters untouched on failure */
	assert_int_equal(ik_psem_close(s), 0);
	assert_int_equal(ik_psem_unlink(name), 0);
}

#define RING 8

struct ring {
	sem_t empty, full;
	unsigned head, tail;
	long slot[RING];
};

/* An unnamed pair in a MAP_SHARED mapping carries 5000 values in order. */
static void
test_unnamed_in_shared_mapping(void **state)
{
	enum { COUNT = 5000 };
	struct ring *r = shared(sizeof(*r));
	pid_t pid;

	(void)state;
	assert_int_equal(ik_psem_init(&r->empty, RING), 0);
	assert_int_equal(ik_psem_init(&r->full, 0), 0);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (long i = 0; i < COUNT; i++) {
			IKT_CHECK(ik_psem_wait(&r->empty, IKT_WAIT_MS) == 0);
			r->slot[r->head++ % RING] = i * 7 + 1;
			IKT_CHECK(ik_psem_post(&r->full) == 0);
		}
		_exit(0);
	}
	for (long i = 0; i < COUNT; i++) {
		assert_int_equal(ik_psem_wait(&r->full, IKT_WAIT_MS), 0);
		assert_int_equal(r->slot[r->tail++ % RING], i * 7 + 1);
		assert_int_equal(ik_psem_post(&r->empty), 0);
	}
	ikt_child_ok(pid);
	assert_int_equal(ik_psem_trywait(&r->full), -EAGAIN);
	assert_int_equal(ik_psem_getvalue(&r->empty), RING);
	assert_int_equal(ik_psem_destroy(&r->empty), 0);
	assert_int_equal(ik_psem_destroy(&r->full), 0);
	munmap(r, sizeof(*r));
}

/* Timed wait under SIGALRM every 20 ms: -ETIMEDOUT at the deadline, not
 * before, not restarted; then another process's post gets through. */
static void
test_timed_wait_across_eintr(void **state)
{
	sem_t *s = shared(sizeof(*s));
	struct ikt_sync timed_out;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_psem_init(s, 0), 0);
	ikt_sync_init(&timed_out);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ikt_storm storm;
		int64_t t0, el;

		IKT_CHECK(ikt_storm_start(&storm, 20) == 0);
		t0 = ik__now_ns();
		IKT_CHECK(ik_psem_wait(s, 300) == -ETIMEDOUT);
		el = ik__now_ns() - t0;
		IKT_CHECK(el >= 300 * 1000000LL);
		IKT_CHECK(el < 10000 * 1000000LL);
		IKT_CHECK(ikt_alarms > 0);
		IKT_CHECK(ik_psem_wait(s, 0) == -EAGAIN);
		ikt_post(&timed_out);
		IKT_CHECK(ik_psem_wait(s, IKT_WAIT_MS) == 0);
		ikt_storm_stop(&storm);
		_exit(0);
	}
	assert_int_equal(ikt_await(&timed_out, IKT_WAIT_MS), 0);
	assert_int_equal(ik_psem_post(s), 0);
	ikt_child_ok(pid);
	assert_int_equal(ik_psem_getvalue(s), 0);
	assert_int_equal(ik_psem_destroy(s), 0);
	ikt_sync_close(&timed_out);
	munmap(s, sizeof(*s));
}

/* The value's ceiling and NULL arguments. */
static void
test_limits_and_null(void **state)
{
	sem_t *s = shared(sizeof(*s));
	pid_t pid;

	(void)state;
	assert_int_equal(ik_psem_init(s, (unsigned)SEM_VALUE_MAX + 1), -EINVAL);
	assert_int_equal(ik_psem_init(s, SEM_VALUE_MAX - 1), 0);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_psem_post(s) == 0);
		IKT_CHECK(ik_psem_post(s) == -EOVERFLOW);
		_exit(0);
	}
	ikt_child_ok(pid);
	assert_int_equal(ik_psem_getvalue(s), SEM_VALUE_MAX);
	assert_int_equal(ik_psem_wait(NULL, 0), -EINVAL);
	assert_int_equal(ik_psem_post(NULL), -EINVAL);
	assert_int_equal(ik_psem_getvalue(NULL), -EINVAL);
	assert_int_equal(ik_psem_init(NULL, 0), -EINVAL);
	assert_int_equal(ik_psem_close(NULL), -EINVAL);
	assert_int_equal(ik_psem_destroy(s), 0);
	munmap(s, sizeof(*s));
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_named_ping_pong),
		T(test_named_errors),
		T(test_unnamed_in_shared_mapping),
		T(test_timed_wait_across_eintr),
		T(test_limits_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
