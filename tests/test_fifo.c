/*
 * FIFOs between real processes: whole PIPE_BUF records under concurrent
 * writers, a server that outlives its writers, refusal of anything that is
 * not the caller's own FIFO, bounded rendezvous in both directions, -EMSGSIZE,
 * -EPIPE without SIGPIPE, and deadlines that survive EINTR.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/fifo.h>
#include <ipckit/runtime.h>

#include "ikt.h"
#include "internal/time.h"

#define MS 1000000LL
#define R IK_FIFO_READ
#define W IK_FIFO_WRITE

/* a path in the runtime directory, removed in teardown if a test fails */
static char rundir_path[4096];

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

#define AWAIT_POLL(pid) ikt_await_syscall((pid), SYS_poll, SYS_ppoll)
#define AWAIT_NAP(pid) \
	ikt_await_syscall((pid), SYS_nanosleep, SYS_clock_nanosleep)

struct rec {
	uint32_t writer, seq;
	unsigned char data[IK_FIFO_MSG_MAX - 8];
};

/*
 * Writers released together each send PIPE_BUF-sized records as fast as
 * they can; every record must arrive whole, once, in its writer's order.
 */
static void
test_many_writers_records_whole(void **state)
{
	enum { WRITERS = 4, RECS = 400 };
	uint32_t next[WRITERS] = { 0 };
	static struct rec rec;
	struct ikt_sync go;
	pid_t pid[WRITERS];
	char path[256];
	ik_fifo *srv, *w;

	(void)state;
	assert_int_equal(sizeof(rec), IK_FIFO_MSG_MAX);
	ikt_path(path, sizeof(path), "mw");
	assert_int_equal(
		ik_fifo_open(&srv, path,
			     R | IK_FIFO_CREATE | IK_FIFO_EXCL | IK_FIFO_SERVER,
			     0),
		0);
	ikt_sync_init(&go);
	for (int i = 0; i < WRITERS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] != 0)
			continue;
		IKT_CHECK(ik_fifo_open(&w, path, W, IKT_WAIT_MS) == 0);
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		for (uint32_t s = 0; s < RECS; s++) {
			rec.writer = (uint32_t)i;
			rec.seq = s;
			ikt_fill(rec.data, sizeof(rec.data),
				 (uint32_t)i << 16 | s);
			IKT_CHECK(ik_fifo_send(w, &rec, sizeof(rec),
					       IKT_WAIT_MS) == sizeof(rec));
		}
		IKT_CHECK(ik_fifo_close(w) == 0);
		_exit(0);
	}
	for (int i = 0; i < WRITERS; i++)
		ikt_post(&go);
	for (int n = 0; n < WRITERS * RECS; n++) {
		memset(&rec, 0, sizeof(rec));
		assert_int_equal(
			ik_fifo_recv_full(srv, &rec, sizeof(rec), IKT_WAIT_MS),
			sizeof(rec));
		assert_true(rec.writer < WRITERS);
		assert_int_equal(rec.seq, next[rec.writer]);
		assert_int_equal(ikt_check(rec.data, sizeof(rec.data),
					   rec.writer << 16 | rec.seq),
				 0);
		next[rec.writer]++;
	}
	for (int i = 0; i < WRITERS; i++)
		ikt_assert_child_ok(pid[i]);
	/* nothing more, and no EOF although every writer has gone */
	assert_int_equal(ik_fifo_recv(srv, &rec, 1, 0), -ETIMEDOUT);
	ikt_sync_close(&go);
	assert_int_equal(ik_fifo_close(srv), 0);
	assert_false(exists(path));
}

/* a SERVER reader sees each writer's data and never EOF in between */
static void
test_server_survives_writers(void **state)
{
	char path[256], want[32], buf[64];
	ik_fifo *srv, *w;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "srv");
	assert_int_equal(ik_fifo_open(&srv, path,
				      R | IK_FIFO_CREATE | IK_FIFO_SERVER, 0),
			 0);
	for (int round = 0; round < 5; round++) {
		snprintf(want, sizeof(want), "round %d\n", round);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			IKT_CHECK(ik_fifo_open(&w, path, W, IKT_WAIT_MS) == 0);
			IKT_CHECK(ik_fifo_send(w, want, strlen(want), -1) ==
				  (ssize_t)strlen(want));
			IKT_CHECK(ik_fifo_close(w) == 0);
			_exit(0);
		}
		ikt_assert_child_ok(pid); /* the writer came and went */
		memset(buf, 0, sizeof(buf));
		assert_int_equal(
			ik_fifo_recv(srv, buf, sizeof(buf), IKT_WAIT_MS),
			strlen(want));
		assert_string_equal(buf, want);
		assert_int_equal(ik_fifo_recv(srv, buf, sizeof(buf), 0),
				 -ETIMEDOUT);
	}
	assert_int_equal(ik_fifo_close(srv), 0);
}

/*
 * The contrast: a plain reader gets EOF when its writer leaves. The FIFO is
 * made with ik_fifo_make, so neither handle owns it and neither removes it.
 */
static void
test_plain_reader_eof_opener_keeps_path(void **state)
{
	char path[256], buf[16];
	ik_fifo *r, *w;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "plain");
	assert_int_equal(ik_fifo_make(path), 1);
	assert_int_equal(ik_fifo_make(path), 0); /* ours already: reused */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_fifo_open(&w, path, W, IKT_WAIT_MS) == 0);
		IKT_CHECK(!ik_fifo_created(w));
		IKT_CHECK(ik_fifo_send(w, "bye", 3, IKT_WAIT_MS) == 3);
		IKT_CHECK(ik_fifo_close(w) == 0);
		IKT_CHECK(exists(path));
		_exit(0);
	}
	assert_int_equal(ik_fifo_open(&r, path, R, IKT_WAIT_MS), 0);
	assert_false(ik_fifo_created(r));
	assert_int_equal(ik_fifo_recv_full(r, buf, 3, IKT_WAIT_MS), 3);
	assert_memory_equal(buf, "bye", 3);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_fifo_recv(r, buf, sizeof(buf), IKT_WAIT_MS), 0);
	assert_int_equal(ik_fifo_close(r), 0);
	assert_true(exists(path));
	assert_int_equal(unlink(path), 0);
}

/* the creator removes the FIFO; openers, reusers and replacements do not */
static void
test_creator_unlinks_opener_does_not(void **state)
{
	char path[256], old[300], buf[8];
	ik_fifo *srv, *again, *w;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "own");
	assert_int_equal(ik_fifo_open(&srv, path,
				      R | IK_FIFO_CREATE | IK_FIFO_SERVER, 0),
			 0);
	assert_true(ik_fifo_created(srv));
	assert_string_equal(ik_fifo_path(srv), path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_fifo_open(&w, path, W | IK_FIFO_CREATE,
				       IKT_WAIT_MS) == 0);
		IKT_CHECK(!ik_fifo_created(w));
		IKT_CHECK(ik_fifo_send(w, "hi", 2, IKT_WAIT_MS) == 2);
		IKT_CHECK(ik_fifo_close(w) == 0);
		IKT_CHECK(exists(path));
		_exit(0);
	}
	assert_int_equal(ik_fifo_recv_full(srv, buf, 2, IKT_WAIT_MS), 2);
	assert_memory_equal(buf, "hi", 2);
	ikt_assert_child_ok(pid);
	/* a second reader in the creator's own process does not own it */
	assert_int_equal(ik_fifo_open(&again, path,
				      R | IK_FIFO_CREATE | IK_FIFO_SERVER, 0),
			 0);
	assert_false(ik_fifo_created(again));
	assert_int_equal(ik_fifo_close(again), 0);
	assert_true(exists(path));
	assert_int_equal(ik_fifo_close(srv), 0);
	assert_false(exists(path));

	/* replaced behind the creator's back: the replacement stays */
	assert_int_equal(ik_fifo_open(&srv, path,
				      R | IK_FIFO_CREATE | IK_FIFO_SERVER, 0),
			 0);
	snprintf(old, sizeof(old), "%s.old", path);
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ik_fifo_close(srv), 0);
	assert_true(exists(path));
	assert_true(exists(old));
	unlink(path);
	unlink(old);
}

static const unsigned open_variants[] = {
	R | IK_FIFO_SERVER, R, W, R | IK_FIFO_CREATE | IK_FIFO_SERVER,
	W | IK_FIFO_CREATE,
};

/* every way of opening, and ik_fifo_make, refuse path with error want */
static void
assert_refused(const char *path, int want)
{
	ik_fifo *sentinel = (ik_fifo *)&sentinel, *f;

	for (size_t i = 0; i < sizeof(open_variants) / sizeof(open_variants[0]);
	     i++) {
		f = sentinel;
		assert_int_equal(ik_fifo_open(&f, path, open_variants[i], 0),
				 want);
		assert_ptr_equal(f, sentinel); /* out untouched on failure */
	}
	assert_int_equal(ik_fifo_make(path), want);
}

/* a regular file, a directory and a symlink to a FIFO: each its own error */
static void
test_refuses_what_is_not_a_fifo(void **state)
{
	char file[256], dir[256], target[256], link[256], dangling[256];
	struct stat st;
	char buf[8];
	int fd, nfd;

	(void)state;
	ikt_path(file, sizeof(file), "file");
	ikt_path(dir, sizeof(dir), "dir");
	ikt_path(target, sizeof(target), "target");
	ikt_path(link, sizeof(link), "link");
	ikt_path(dangling, sizeof(dangling), "dangling");
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkfifo(target, 0600), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(symlink("/nonexistent/fifo", dangling), 0);
	nfd = ikt_fd_count();

	assert_refused(file, IK_ENOTFIFO);
	assert_refused(dir, -EISDIR);
	assert_refused(link, -ELOOP);
	assert_refused(dangling, -ELOOP);

	/* nothing was changed, nothing leaked */
	assert_int_equal(ikt_fd_count(), nfd);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "keep", 4);
	close(fd);
	assert_int_equal(lstat(target, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(file);
	rmdir(dir);
	unlink(link);
	unlink(dangling);
	unlink(target);
}

/* another user's FIFO (root chowns one to nobody) is IK_EOWNER */
static void
test_refuses_other_users_fifo(void **state)
{
	char path[256];
	struct stat st;

	(void)state;
	if (geteuid() != 0)
		skip();
	ikt_path(path, sizeof(path), "nobody");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_refused(path, IK_EOWNER);
	assert_int_equal(
		ik_fifo_open(&(ik_fifo *){ NULL }, path,
			     R | IK_FIFO_CREATE | IK_FIFO_EXCL | IK_FIFO_SERVER,
			     0),
		-EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(unlink(path), 0);
}

static void
test_bad_arguments(void **state)
{
	static const unsigned bad[] = {
		0,
		R | W,
		W | IK_FIFO_SERVER,
		R | IK_FIFO_STREAM,
		R | IK_FIFO_EXCL,
		R | 0x1000,
	};
	char path[256], missing[256], *lng;
	ik_fifo *f = NULL;
	char c;
	int nfd = ikt_fd_count();

	(void)state;
	ikt_path(path, sizeof(path), "bad");
	ikt_path(missing, sizeof(missing), "missing");
	assert_int_equal(ik_fifo_make(path), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ik_fifo_open(&f, path, bad[i], 0), -EINVAL);
	assert_int_equal(ik_fifo_open(NULL, path, R, 0), -EINVAL);
	assert_int_equal(ik_fifo_open(&f, NULL, R, 0), -EINVAL);
	assert_int_equal(ik_fifo_open(&f, "", R, 0), -EINVAL);
	assert_int_equal(ik_fifo_make(NULL), -EINVAL);
	assert_int_equal(ik_fifo_make(".."), -EINVAL);
	assert_int_equal(ik_fifo_open(&f, missing, R | IK_FIFO_SERVER, 0),
			 -ENOENT);
	assert_int_equal(ik_fifo_open(&f, missing, W, 0), -ENOENT);
	assert_false(exists(missing));
	assert_int_equal(
		ik_fifo_open(&f, path, W | IK_FIFO_CREATE | IK_FIFO_EXCL, 0),
		-EEXIST);
	lng = malloc(8192);
	assert_non_null(lng);
	memset(lng, 'a', 8191);
	lng[0] = '/';
	lng[8191] = '\0';
	assert_int_equal(ik_fifo_open(&f, lng, R, 0), -ENAMETOOLONG);
	assert_int_equal(ik_fifo_make(lng), -ENAMETOOLONG);
	free(lng);
	assert_null(f);
	/* NULL handles and the wrong direction */
	assert_int_equal(ik_fifo_close(NULL), 0);
	assert_int_equal(ik_fifo_send(NULL, "x", 1, 0), -EINVAL);
	assert_int_equal(ik_fifo_recv(NULL, &c, 1, 0), -EINVAL);
	assert_int_equal(ik_fifo_recv_full(NULL, &c, 1, 0), -EINVAL);
	assert_int_equal(ik_fifo_fd(NULL), -EINVAL);
	assert_null(ik_fifo_path(NULL));
	assert_int_equal(ik_fifo_open(&f, path, R | IK_FIFO_SERVER, 0), 0);
	assert_int_equal(ik_fifo_send(f, "x", 1, 0), -EBADF);
	assert_int_equal(ik_fifo_recv(f, NULL, 1, 0), -EINVAL);
	assert_int_equal(ik_fifo_recv(f, &c, 0, 0), 0);
	assert_int_equal(ik_fifo_close(f), 0);
	assert_int_equal(ikt_fd_count(), nfd);
	assert_int_equal(unlink(path), 0);
}

/* no reader: the writer's open ends at the deadline, not before */
static void
test_write_open_times_out(void **state)
{
	ik_fifo *sentinel = (ik_fifo *)&sentinel, *f = sentinel;
	char path[256], fresh[256];
	int nfd = ikt_fd_count();
	int64_t t0, el;

	(void)state;
	ikt_path(path, sizeof(path), "wto");
	ikt_path(fresh, sizeof(fresh), "wfresh");
	assert_int_equal(ik_fifo_make(path), 1);
	t0 = ik__now_ns();
	assert_int_equal(ik_fifo_open(&f, path, W, 300), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 300 * MS);
	assert_true(el < 10000 * MS);
	assert_ptr_equal(f, sentinel);
	assert_int_equal(ik_fifo_open(&f, path, W, 0), -ETIMEDOUT);
	/* the FIFO this failed call created is removed again */
	assert_int_equal(ik_fifo_open(&f, fresh, W | IK_FIFO_CREATE, 50),
			 -ETIMEDOUT);
	assert_false(exists(fresh));
	assert_true(exists(path));
	assert_int_equal(ikt_fd_count(), nfd);
	assert_int_equal(unlink(path), 0);
}

/* no writer: the reader's open ends at the deadline, not before */
static void
test_read_open_times_out(void **state)
{
	ik_fifo *sentinel = (ik_fifo *)&sentinel, *f = sentinel;
	char path[256], fresh[256];
	int nfd = ikt_fd_count();
	int64_t t0, el;

	(void)state;
	ikt_path(path, sizeof(path), "rto");
	ikt_path(fresh, sizeof(fresh), "rfresh");
	assert_int_equal(ik_fifo_make(path), 1);
	t0 = ik__now_ns();
	assert_int_equal(ik_fifo_open(&f, path, R, 300), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 300 * MS);
	assert_true(el < 10000 * MS);
	assert_ptr_equal(f, sentinel);
	assert_int_equal(ik_fifo_open(&f, path, R, 0), -ETIMEDOUT);
	assert_int_equal(ik_fifo_open(&f, fresh, R | IK_FIFO_CREATE, 50),
			 -ETIMEDOUT);
	assert_false(exists(fresh));
	assert_int_equal(ikt_fd_count(), nfd);
	assert_int_equal(unlink(path), 0);
}

/*
 * The writer arrives while the reader waits in its open, and the reader
 * arrives while the writer sleeps in its back-off: both opens complete.
 */
static void
test_rendezvous_both_ways(void **state)
{
	char path[256], buf[32];
	ik_fifo *r, *w;
	pid_t parent = getpid(), pid;

	(void)state;
	ikt_path(path, sizeof(path), "rdv");
	assert_int_equal(ik_fifo_make(path), 1);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(AWAIT_POLL(parent) == 0);
		IKT_CHECK(ik_fifo_open(&w, path, W, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_fifo_send(w, "late writer", 11, IKT_WAIT_MS) ==
			  11);
		IKT_CHECK(ik_fifo_close(w) == 0);
		_exit(0);
	}
	assert_int_equal(ik_fifo_open(&r, path, R, IKT_WAIT_MS), 0);
	assert_int_equal(ik_fifo_recv_full(r, buf, 11, IKT_WAIT_MS), 11);
	assert_memory_equal(buf, "late writer", 11);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_fifo_close(r), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(AWAIT_NAP(parent) == 0);
		IKT_CHECK(ik_fifo_open(&r, path, R | IK_FIFO_SERVER, 0) == 0);
		IKT_CHECK(ik_fifo_recv_full(r, buf, 11, IKT_WAIT_MS) == 11);
		IKT_CHECK(memcmp(buf, "late reader", 11) == 0);
		IKT_CHECK(ik_fifo_close(r) == 0);
		_exit(0);
	}
	assert_int_equal(ik_fifo_open(&w, path, W, IKT_WAIT_MS), 0);
	assert_int_equal(ik_fifo_send(w, "late reader", 11, IKT_WAIT_MS), 11);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_fifo_close(w), 0);
	assert_int_equal(unlink(path), 0);
}

/*
 * Message mode refuses PIPE_BUF + 1 and writes nothing of it; stream mode
 * carries 1 MiB through the 64 KiB pipe intact.
 */
static void
test_msgsize_and_stream(void **state)
{
	enum { BIG = 1 << 20 };
	char path[256];
	char *buf = malloc(BIG);
	ik_fifo *srv, *w;
	pid_t pid;

	(void)state;
	assert_non_null(buf);
	ikt_path(path, sizeof(path), "size");
	assert_int_equal(ik_fifo_open(&srv, path,
				      R | IK_FIFO_CREATE | IK_FIFO_SERVER, 0),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ikt_fill(buf, BIG, 1);
		IKT_CHECK(ik_fifo_open(&w, path, W, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_fifo_send(w, buf, IK_FIFO_MSG_MAX + 1,
				       IKT_WAIT_MS) == -EMSGSIZE);
		IKT_CHECK(ik_fifo_send(w, buf, BIG, IKT_WAIT_MS) == -EMSGSIZE);
		IKT_CHECK(ik_fifo_send(w, buf, IK_FIFO_MSG_MAX, IKT_WAIT_MS) ==
			  IK_FIFO_MSG_MAX);
		IKT_CHECK(ik_fifo_close(w) == 0);
		ikt_fill(buf, BIG, 2);
		IKT_CHECK(ik_fifo_open(&w, path, W | IK_FIFO_STREAM,
				       IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_fifo_send(w, buf, BIG, IKT_WAIT_MS) == BIG);
		IKT_CHECK(ik_fifo_close(w) == 0);
		_exit(0);
	}
	assert_int_equal(
		ik_fifo_recv_full(srv, buf, IK_FIFO_MSG_MAX, IKT_WAIT_MS),
		IK_FIFO_MSG_MAX);
	assert_int_equal(ikt_check(buf, IK_FIFO_MSG_MAX, 1), 0);
	memset(buf, 0, BIG);
	assert_int_equal(ik_fifo_recv_full(srv, buf, BIG, IKT_WAIT_MS), BIG);
	assert_int_equal(ikt_check(buf, BIG, 2), 0);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_fifo_recv(srv, buf, 1, 0), -ETIMEDOUT);
	assert_int_equal(ik_fifo_close(srv), 0);
	free(buf);
}

/* the reader exits: the writer gets -EPIPE and lives on, nothing pending */
static void
test_reader_gone_epipe(void **state)
{
	struct sigaction sa = { .sa_handler = SIG_DFL }, old;
	char path[256], buf[8];
	sigset_t pending;
	ik_fifo *r, *w;
	pid_t pid;

	(void)state;
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	ikt_path(path, sizeof(path), "epipe");
	assert_int_equal(ik_fifo_make(path), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_fifo_open(&r, path, R, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_fifo_recv_full(r, buf, 5, IKT_WAIT_MS) == 5);
		IKT_CHECK(memcmp(buf, "first", 5) == 0);
		_exit(0); /* without closing: the kernel closes it */
	}
	assert_int_equal(ik_fifo_open(&w, path, W, IKT_WAIT_MS), 0);
	assert_int_equal(ik_fifo_send(w, "first", 5, IKT_WAIT_MS), 5);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_fifo_send(w, "second", 6, IKT_WAIT_MS), -EPIPE);
	assert_int_equal(ik_fifo_send(w, "third", 5, -1), -EPIPE);
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	assert_int_equal(ik_fifo_close(w), 0);
	assert_int_equal(unlink(path), 0);
	sigaction(SIGPIPE, &old, NULL);
}

static int note_fd = -1;
static volatile sig_atomic_t hits;

static void
on_signal(int sig)
{
	int saved = errno;
	char c = 's';

	(void)sig;
	hits++;
	if (note_fd >= 0 && write(note_fd, &c, 1) < 0) {
		/* the test sees the missing byte */
	}
	errno = saved;
}

/*
 * Signals land while the reader sleeps in its timed receive: it neither
 * returns -EINTR nor early, and still returns the data that comes after.
 */
static void
test_timed_read_survives_eintr(void **state)
{
	enum { SIGNALS = 5 };
	/* no SA_RESTART: each signal interrupts the wait with EINTR */
	struct sigaction sa = { .sa_handler = on_signal }, o1, o2;
	struct itimerspec its = { { 0, 20 * MS }, { 0, 20 * MS } };
	const char msg[] = "after signals";
	pid_t parent = getpid(), pid;
	char path[256], buf[32];
	struct ikt_sync note;
	ik_fifo *srv, *w;
	int64_t t0, el;
	timer_t t;

	(void)state;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &o1), 0);
	assert_int_equal(sigaction(SIGUSR1, &sa, &o2), 0);
	ikt_path(path, sizeof(path), "eintr");
	assert_int_equal(ik_fifo_open(&srv, path,
				      R | IK_FIFO_CREATE | IK_FIFO_SERVER, 0),
			 0);

	/* a timer every 20 ms: the 300 ms deadline holds across them */
	hits = 0;
	assert_int_equal(timer_create(CLOCK_MONOTONIC, NULL, &t), 0);
	assert_int_equal(timer_settime(t, 0, &its, NULL), 0);
	t0 = ik__now_ns();
	assert_int_equal(ik_fifo_recv(srv, buf, sizeof(buf), 300), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	timer_delete(t);
	assert_true(hits > 0);
	assert_true(el >= 300 * MS);
	assert_true(el < 10000 * MS);

	/* a peer signals us exactly while we sleep in poll, then writes */
	ikt_sync_init(&note);
	note_fd = note.wr;
	hits = 0;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < SIGNALS; i++) {
			IKT_CHECK(AWAIT_POLL(parent) == 0);
			IKT_CHECK(kill(parent, SIGUSR1) == 0);
			IKT_CHECK(ikt_await(&note, IKT_WAIT_MS) == 0);
		}
		IKT_CHECK(AWAIT_POLL(parent) == 0);
		IKT_CHECK(ik_fifo_open(&w, path, W, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_fifo_send(w, msg, sizeof(msg), IKT_WAIT_MS) ==
			  sizeof(msg));
		IKT_CHECK(ik_fifo_close(w) == 0);
		_exit(0);
	}
	assert_int_equal(ik_fifo_recv_full(srv, buf, sizeof(msg), IKT_WAIT_MS),
			 sizeof(msg));
	assert_string_equal(buf, msg);
	ikt_assert_child_ok(pid);
	assert_int_equal(hits, SIGNALS);
	note_fd = -1;
	ikt_sync_close(&note);
	sigaction(SIGALRM, &o1, NULL);
	sigaction(SIGUSR1, &o2, NULL);
	assert_int_equal(ik_fifo_close(srv), 0);
}

/*
 * A bare name lives in the runtime directory; the FIFO is 0600 even with
 * umask 0; descriptors are close-on-exec and non-blocking.
 */
static void
test_runtime_dir_mode_cloexec(void **state)
{
	char name[64], want[4096], buf[16];
	struct stat st;
	ik_fifo *srv, *w;
	mode_t um;
	pid_t pid;
	int fd;

	(void)state;
	ikt_name(name, sizeof(name), "rt");
	assert_true(ik_runtime_path(want, sizeof(want), name) > 0);
	snprintf(rundir_path, sizeof(rundir_path), "%s", want);
	um = umask(0);
	assert_int_equal(
		ik_fifo_open(&srv, name,
			     R | IK_FIFO_CREATE | IK_FIFO_EXCL | IK_FIFO_SERVER,
			     0),
		0);
	umask(um);
	assert_string_equal(ik_fifo_path(srv), want);
	assert_int_equal(lstat(want, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	fd = ik_fifo_fd(srv);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_fifo_open(&w, name, W, IKT_WAIT_MS) == 0);
		IKT_CHECK(strcmp(ik_fifo_path(w), want) == 0);
		fd = ik_fifo_fd(w);
		IKT_CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		IKT_CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
		IKT_CHECK(ik_fifo_recv(w, buf, 1, 0) == -EBADF);
		IKT_CHECK(ik_fifo_send(w, "by name", 7, IKT_WAIT_MS) == 7);
		IKT_CHECK(ik_fifo_close(w) == 0);
		_exit(0);
	}
	assert_int_equal(ik_fifo_recv_full(srv, buf, 7, IKT_WAIT_MS), 7);
	assert_memory_equal(buf, "by name", 7);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_fifo_close(srv), 0);
	assert_false(exists(want));
	rundir_path[0] = '\0';
}

static int
teardown(void **state)
{
	(void)state;
	if (rundir_path[0] != '\0')
		unlink(rundir_path);
	rundir_path[0] = '\0';
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_many_writers_records_whole,
					  teardown),
		cmocka_unit_test_teardown(test_server_survives_writers,
					  teardown),
		cmocka_unit_test_teardown(
			test_plain_reader_eof_opener_keeps_path, teardown),
		cmocka_unit_test_teardown(test_creator_unlinks_opener_does_not,
					  teardown),
		cmocka_unit_test_teardown(test_refuses_what_is_not_a_fifo,
					  teardown),
		cmocka_unit_test_teardown(test_refuses_other_users_fifo,
					  teardown),
		cmocka_unit_test_teardown(test_bad_arguments, teardown),
		cmocka_unit_test_teardown(test_write_open_times_out, teardown),
		cmocka_unit_test_teardown(test_read_open_times_out, teardown),
		cmocka_unit_test_teardown(test_rendezvous_both_ways, teardown),
		cmocka_unit_test_teardown(test_msgsize_and_stream, teardown),
		cmocka_unit_test_teardown(test_reader_gone_epipe, teardown),
		cmocka_unit_test_teardown(test_timed_read_survives_eintr,
					  teardown),
		cmocka_unit_test_teardown(test_runtime_dir_mode_cloexec,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, ikt_tmpdir_teardown);
}
