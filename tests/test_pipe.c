/*
 * ik_pipe_*: real data between forked processes; EPIPE without death by
 * SIGPIPE; short reads; non-blocking and timed behaviour; capacity and its
 * ceiling; packet mode and atomic messages; descriptors not inherited.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/pipe.h>
#include <ipckit/spawn.h>

#include "ikt.h"
#include "internal/time.h"

static uint64_t
fnv1a(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* 1 MiB parent -> child; the child sends back its checksum of what came */
static void
test_mib_with_checksum(void **state)
{
	enum { LEN = 1 << 20 };
	char *buf = malloc(LEN);
	int down[2], up[2];
	uint64_t sum = 0;
	pid_t pid;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(ik_pipe_open(down, 0), 0);
	assert_int_equal(ik_pipe_open(up, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		IKT_CHECK(ik_pipe_read(down[0], buf, LEN, IKT_WAIT_MS, NULL) ==
			  LEN);
		/* and then end of file, not more */
		IKT_CHECK(ik_pipe_read(down[0], buf, 1, IKT_WAIT_MS, NULL) ==
			  0);
		sum = fnv1a(buf, LEN);
		IKT_CHECK(ik_pipe_write(up[1], &sum, sizeof(sum), IKT_WAIT_MS,
					NULL) == sizeof(sum));
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	ikt_fill(buf, LEN, 42);
	assert_int_equal(ik_pipe_write(down[1], buf, LEN, -1, NULL), LEN);
	close(down[1]);
	assert_int_equal(
		ik_pipe_read(up[0], &sum, sizeof(sum), IKT_WAIT_MS, NULL),
		sizeof(sum));
	assert_true(sum == fnv1a(buf, LEN));
	close(up[0]);
	ikt_assert_child_ok(pid);
	free(buf);
}

/*
 * The reader process exits; a writer process with SIGPIPE at SIG_DFL gets
 * -EPIPE, survives, and has no SIGPIPE left pending.
 */
static void
test_reader_gone_epipe(void **state)
{
	struct ikt_sync gone;
	int fd[2], st;
	pid_t reader, writer;

	(void)state;
	assert_int_equal(ik_pipe_open(fd, 0), 0);
	ikt_sync_init(&gone);
	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		char c;

		close(fd[1]);
		IKT_CHECK(ik_pipe_read(fd[0], &c, 1, IKT_WAIT_MS, NULL) == 1);
		IKT_CHECK(c == 'a');
		_exit(0);
	}
	writer = fork();
	assert_true(writer >= 0);
	if (writer == 0) {
		struct sigaction sa = { .sa_handler = SIG_DFL };
		static char big[100000];
		sigset_t pending;
		size_t done = 1;

		close(fd[0]);
		IKT_CHECK(sigaction(SIGPIPE, &sa, NULL) == 0);
		IKT_CHECK(ik_pipe_write(fd[1], "a", 1, IKT_WAIT_MS, NULL) == 1);
		IKT_CHECK(ikt_await(&gone, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_pipe_write(fd[1], big, sizeof(big), IKT_WAIT_MS,
					&done) == -EPIPE);
		IKT_CHECK(done == 0);
		IKT_CHECK(ik_pipe_send(fd[1], "m", 1, 0) == -EPIPE);
		IKT_CHECK(sigpending(&pending) == 0);
		IKT_CHECK(!sigismember(&pending, SIGPIPE));
		_exit(0);
	}
	close(fd[0]);
	close(fd[1]);
	ikt_assert_child_ok(reader);
	ikt_post(&gone);
	st = ikt_wait(writer, IKT_WAIT_MS);
	assert_int_not_equal(st, -1);
	if (WIFSIGNALED(st))
		fail_msg("writer killed by signal %d", WTERMSIG(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	ikt_sync_close(&gone);
}

/* The writer dies after 300 of 1000 bytes: a short read of exactly those */
static void
test_peer_closes_mid_message(void **state)
{
	char buf[1000], big[IK_PIPE_MSG_MAX];
	size_t done = 0;
	int fd[2];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pipe_open(fd, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		ikt_fill(buf, 300, 3);
		IKT_CHECK(ik_pipe_write(fd[1], buf, 300, IKT_WAIT_MS, NULL) ==
			  300);
		_exit(0);
	}
	close(fd[1]);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(
		ik_pipe_read(fd[0], buf, sizeof(buf), IKT_WAIT_MS, &done), 300);
	assert_int_equal(done, 300);
	assert_int_equal(ikt_check(buf, 300, 3), 0);
	assert_int_equal(ik_pipe_read(fd[0], buf, sizeof(buf), 0, NULL), 0);
	assert_int_equal(ik_pipe_recv(fd[0], big, sizeof(big), 0), 0);
	close(fd[0]);
	ikt_assert_child_ok(pid);
}

/*
 * Non-blocking ends: -EAGAIN on an empty or full pipe; what was accepted
 * before the pipe filled is exactly what the reading process gets.
 */
static void
test_nonblock_eagain(void **state)
{
	static char chunk[4096];
	struct ikt_sync full;
	size_t total = 0, done;
	ssize_t r;
	char c;
	int fd[2];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pipe_open(fd, IK_PIPE_NONBLOCK), 0);
	assert_true(fcntl(fd[0], F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd[1], F_GETFL) & O_NONBLOCK);
	assert_int_equal(read(fd[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(ik_pipe_recv(fd[0], chunk, sizeof(chunk), 0), -EAGAIN);
	assert_int_equal(ik_pipe_read(fd[0], &c, 1, 0, NULL), -EAGAIN);
	ikt_sync_init(&full);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t got = 0;
		ssize_t n;
		uint64_t want;

		close(fd[1]);
		IKT_CHECK(ikt_await(&full, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_pipe_read(full.rd, &want, sizeof(want),
				       IKT_WAIT_MS, NULL) == sizeof(want));
		while ((n = ik_pipe_recv(fd[0], chunk, sizeof(chunk),
					 IKT_WAIT_MS)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				IKT_CHECK(chunk[i] == (char)((got + i) % 251));
			got += (size_t)n;
		}
		IKT_CHECK(n == 0);
		IKT_CHECK(got == want);
		_exit(0);
	}
	close(fd[0]);
	for (;;) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (char)((total + i) % 251);
		r = ik_pipe_write(fd[1], chunk, sizeof(chunk), 0, &done);
		total += done;
		if (r < 0)
			break;
	}
	/* a partial write is a timeout, an untouched pipe "would block" */
	assert_true(r == -EAGAIN || r == -ETIMEDOUT);
	assert_int_equal(ik_pipe_write(fd[1], chunk, 1, 0, &done), -EAGAIN);
	assert_int_equal(done, 0);
	assert_int_equal(write(fd[1], chunk, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(total >= 4096);
	ikt_post(&full);
	uint64_t t = total;
	assert_int_equal(write(full.wr, &t, sizeof(t)), sizeof(t));
	close(fd[1]);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&full);
}

/*
 * Capacity: set, read back, used by a second process; above the ceiling the
 * clear error, for root as for everyone; shrinking below the contents -EBUSY.
 */
static void
test_capacity(void **state)
{
	ssize_t max = ik_pipe_max_size();
	static char buf[1 << 16];
	int fd[2], sz;
	pid_t pid;

	(void)state;
	assert_true(max >= 4096);
	assert_int_equal(ik_pipe_open(fd, IK_PIPE_NONBLOCK_WR), 0);
	assert_true(ik_pipe_size(fd[0]) > 0);
	/* rounded up to a power of two pages */
	assert_int_equal(ik_pipe_set_size(fd[1], 3 * 4096), 4 * 4096);
	assert_int_equal(ik_pipe_size(fd[0]), 4 * 4096);
	assert_int_equal(ik_pipe_set_size(fd[1], (size_t)max + 1),
			 IK_EPIPE_MAX_SIZE);
	assert_int_equal(ik_pipe_set_size(fd[1], (size_t)1 << 40),
			 IK_EPIPE_MAX_SIZE);
	assert_int_equal(ik_pipe_size(fd[0]), 4 * 4096);
	assert_int_equal(ik_pipe_set_size(fd[1], 0), -EINVAL);
	/* exactly the capacity fits, not a byte more */
	ikt_fill(buf, 4 * 4096, 9);
	assert_int_equal(ik_pipe_write(fd[1], buf, 4 * 4096, 0, NULL),
			 4 * 4096);
	assert_int_equal(ik_pipe_write(fd[1], buf, 1, 0, NULL), -EAGAIN);
	assert_int_equal(ik_pipe_set_size(fd[1], 4096), -EBUSY);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[1]);
		IKT_CHECK(ik_pipe_size(fd[0]) == 4 * 4096);
		IKT_CHECK(ik_pipe_read(fd[0], buf, sizeof(buf), IKT_WAIT_MS,
				       NULL) == 4 * 4096);
		IKT_CHECK(ikt_check(buf, 4 * 4096, 9) == 0);
		_exit(0);
	}
	close(fd[0]);
	close(fd[1]);
	ikt_assert_child_ok(pid);
	/* the largest allowed size works */
	assert_int_equal(ik_pipe_open(fd, 0), 0);
	sz = ik_pipe_set_size(fd[0], (size_t)max);
	assert_int_equal(sz, max);
	ik_pipe_close(fd);
	assert_int_equal(fd[0], -1);
	assert_int_equal(ik_pipe_size(-1), -EBADF);
}

/* Packet mode: each send is one recv, sizes and contents intact */
static void
test_packet_boundaries(void **state)
{
	static const size_t sizes[] = { 1, 100, 4096, 17, 4095, 2 };
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	char buf[IK_PIPE_MSG_MAX];
	int fd[2];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pipe_open(fd, IK_PIPE_PACKET), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		for (size_t i = 0; i < N; i++) {
			ikt_fill(buf, sizes[i], (uint32_t)i);
			IKT_CHECK(ik_pipe_send(fd[1], buf, sizes[i],
					       IKT_WAIT_MS) ==
				  (ssize_t)sizes[i]);
		}
		_exit(0);
	}
	close(fd[1]);
	/* all messages queued first: boundaries must not depend on timing */
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_pipe_recv(fd[0], buf, 100, 0), -EINVAL);
	for (size_t i = 0; i < N; i++) {
		memset(buf, 0, sizeof(buf));
		assert_int_equal(
			ik_pipe_recv(fd[0], buf, sizeof(buf), IKT_WAIT_MS),
			sizes[i]);
		assert_int_equal(ikt_check(buf, sizes[i], (uint32_t)i), 0);
	}
	assert_int_equal(ik_pipe_recv(fd[0], buf, sizeof(buf), IKT_WAIT_MS), 0);
	close(fd[0]);
}

/*
 * Two writer processes send PIPE_BUF-sized messages, each filled with its
 * own byte, into one stream pipe: every 4096-byte unit read is one message.
 */
static void
test_atomic_messages_two_writers(void **state)
{
	enum { MSGS = 300 };
	char buf[IK_PIPE_MSG_MAX];
	int fd[2], count[2] = { 0, 0 };
	pid_t pid[2];

	(void)state;
	assert_int_equal(ik_pipe_open(fd, 0), 0);
	for (int w = 0; w < 2; w++) {
		pid[w] = fork();
		assert_true(pid[w] >= 0);
		if (pid[w] == 0) {
			close(fd[0]);
			memset(buf, 'A' + w, sizeof(buf));
			for (int i = 0; i < MSGS; i++)
				IKT_CHECK(ik_pipe_send(fd[1], buf, sizeof(buf),
						       IKT_WAIT_MS) ==
					  sizeof(buf));
			_exit(0);
		}
	}
	close(fd[1]);
	for (;;) {
		ssize_t n = ik_pipe_read(fd[0], buf, sizeof(buf), IKT_WAIT_MS,
					 NULL);
		if (n == 0)
			break;
		assert_int_equal(n, sizeof(buf));
		assert_true(buf[0] == 'A' || buf[0] == 'B');
		for (size_t i = 1; i < sizeof(buf); i++)
			if (buf[i] != buf[0])
				fail_msg("message interleaved at byte %zu", i);
		count[buf[0] - 'A']++;
	}
	assert_int_equal(count[0], MSGS);
	assert_int_equal(count[1], MSGS);
	assert_int_equal(ik_pipe_send(-1, buf, IK_PIPE_MSG_MAX + 1, 0),
			 -EMSGSIZE);
	assert_int_equal(ik_pipe_send(-1, buf, 0, 0), -EINVAL);
	close(fd[0]);
	ikt_assert_child_ok(pid[0]);
	ikt_assert_child_ok(pid[1]);
}

/*
 * A timed read with a live but silent writer process, interrupted by a
 * signal every 10 ms: it neither returns early nor much later, and a read
 * under the same signal storm still gets the data once the writer sends.
 */
static void
test_eintr_timed_read(void **state)
{
	struct ikt_storm storm;
	struct ikt_sync go;
	int64_t t0, el;
	char buf[5];
	int fd[2];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_pipe_open(fd, 0), 0);
	ikt_sync_init(&go);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_pipe_write(fd[1], "hello", 5, IKT_WAIT_MS, NULL) ==
			  5);
		_exit(0);
	}
	close(fd[1]);
	assert_int_equal(ikt_storm_start(&storm, 10), 0);
	t0 = ik__now_ns();
	assert_int_equal(ik_pipe_read(fd[0], buf, 5, 300, NULL), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(ikt_alarms > 0);
	assert_true(el >= 300 * 1000000LL);
	/* generous bound: a restarted full timeout would never end */
	assert_true(el < 10000 * 1000000LL);
	ikt_post(&go);
	assert_int_equal(ik_pipe_read(fd[0], buf, 5, IKT_WAIT_MS, NULL), 5);
	assert_memory_equal(buf, "hello", 5);
	ikt_storm_stop(&storm);
	close(fd[0]);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&go);
}

/*
 * A timed write on a blocking descriptor whose reader is alive but not
 * reading: -ETIMEDOUT at the deadline (no write(2) blocks past it), and
 * `done` is exactly what the reader then finds in the pipe.
 */
static void
test_timed_write_blocking_fd(void **state)
{
	enum { LEN = 1 << 20 };
	char *buf = malloc(LEN);
	struct ikt_sync go;
	size_t done = 0;
	int64_t t0, el;
	int fd[2];
	pid_t pid;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(ik_pipe_open(fd, 0), 0);
	ikt_sync_init(&go);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t want;

		close(fd[1]);
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		IKT_CHECK(read(go.rd, &want, sizeof(want)) == sizeof(want));
		IKT_CHECK(ik_pipe_read(fd[0], buf, LEN, IKT_WAIT_MS, NULL) ==
			  (ssize_t)want);
		IKT_CHECK(ikt_check(buf, want, 5) == 0);
		_exit(0);
	}
	close(fd[0]);
	ikt_fill(buf, LEN, 5);
	t0 = ik__now_ns();
	assert_int_equal(ik_pipe_write(fd[1], buf, LEN, 200, &done),
			 -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 200 * 1000000LL);
	assert_true(el < 10000 * 1000000LL);
	assert_true(done > 0 && done < LEN);
	ikt_post(&go);
	uint64_t d64 = done;
	assert_int_equal(write(go.wr, &d64, sizeof(d64)), sizeof(d64));
	close(fd[1]);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&go);
	free(buf);
}

static bool
has_fd(const char *listing, int fd)
{
	char want[16];
	const char *p = listing;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "%d", fd);
	while ((p = strstr(p, want)) != NULL) {
		if ((p == listing || p[-1] == ' ') && (p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

/*
 * The child lists its descriptors: ik_pipe_open's ends never reach it, even
 * with IK_SPAWN_KEEP_FDS, while a plain pipe() does (and only then).
 */
static void
test_cloexec_not_inherited(void **state)
{
	const char *argv[] = { "/bin/sh", "-c",
			       "cd /proc/self/fd && echo '' * ''", NULL };
	struct ik_spawn_opts o = { .io[1] = { IK_STDIO_PIPE, -1 } };
	struct ik_proc p;
	char out[1024];
	ssize_t n;
	int ik[2], plain[2], filler[20];

	(void)state;
	/* push our pipes above the numbers the child's shell will use */
	for (int i = 0; i < 20; i++)
		assert_true((filler[i] = open("/dev/null",
					      O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(ik_pipe_open(ik, IK_PIPE_PACKET | IK_PIPE_NONBLOCK),
			 0);
	assert_int_equal(pipe(plain), 0);
	for (int i = 0; i < 20; i++)
		close(filler[i]);
	assert_true(fcntl(ik[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(ik[1], F_GETFD) & FD_CLOEXEC);
	for (int keep = 0; keep < 2; keep++) {
		o.flags = keep ? IK_SPAWN_KEEP_FDS : 0;
		assert_int_equal(ik_spawn(&p, argv, &o), 0);
		n = ik_pipe_read(p.out, out, sizeof(out) - 1, IKT_WAIT_MS,
				 NULL);
		assert_true(n > 0);
		out[n] = '\0';
		assert_int_equal(ik_spawn_wait(&p, IKT_WAIT_MS), 0);
		ik_spawn_close(&p);
		assert_true(has_fd(out, 0) && has_fd(out, 1) && has_fd(out, 2));
		assert_false(has_fd(out, ik[0]));
		assert_false(has_fd(out, ik[1]));
		assert_int_equal(has_fd(out, plain[0]), keep);
		assert_int_equal(has_fd(out, plain[1]), keep);
	}
	close(plain[0]);
	close(plain[1]);
	ik_pipe_close(ik);
}

static void
test_bad_input(void **state)
{
	char path[256], c, big[IK_PIPE_MSG_MAX];
	int fd[2] = { -7, -7 }, f;

	(void)state;
	assert_int_equal(ik_pipe_open(NULL, 0), -EINVAL);
	assert_int_equal(ik_pipe_open(fd, 0x100), -EINVAL);
	assert_int_equal(fd[0], -7); /* untouched on failure */
	assert_int_equal(ik_pipe_size(-1), -EBADF);
	assert_int_equal(ik_pipe_set_size(-1, 4096), -EBADF);
	ikt_path(path, sizeof(path), "notpipe");
	f = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(f >= 0);
	assert_int_equal(ik_pipe_size(f), -EBADF);
	assert_int_equal(ik_pipe_set_size(f, 4096), -EBADF);
	close(f);
	unlink(path);
	assert_int_equal(ik_pipe_read(-1, &c, 1, 0, NULL), -EBADF);
	assert_int_equal(ik_pipe_write(-1, &c, 1, 0, NULL), -EBADF);
	assert_int_equal(ik_pipe_write(-1, &c, 1, -1, NULL), -EBADF);
	assert_int_equal(ik_pipe_recv(-1, big, sizeof(big), 0), -EBADF);
	assert_int_equal(ik_pipe_recv(-1, NULL, sizeof(big), 0), -EINVAL);
	assert_int_equal(ik_pipe_recv(-1, big, IK_PIPE_MSG_MAX - 1, 0),
			 -EINVAL);
	assert_int_equal(ik_pipe_read(-1, NULL, 1, 0, NULL), -EINVAL);
	ik_pipe_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mib_with_checksum),
		cmocka_unit_test(test_reader_gone_epipe),
		cmocka_unit_test(test_peer_closes_mid_message),
		cmocka_unit_test(test_nonblock_eagain),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_packet_boundaries),
		cmocka_unit_test(test_atomic_messages_two_writers),
		cmocka_unit_test(test_eintr_timed_read),
		cmocka_unit_test(test_timed_write_blocking_fd),
		cmocka_unit_test(test_cloexec_not_inherited),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, ikt_tmpdir_teardown);
}
