/*
 * What only Unix sockets carry: descriptors (SCM_RIGHTS) and credentials
 * (SO_PEERCRED, SCM_CREDENTIALS), between real processes. Descriptors
 * arrive close-on-exec and usable; when they cannot all be delivered none
 * leaks; the credentials are the sending child's.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "ikt.h"

#define T IKT_WAIT_MS

static pid_t
xfork(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	return pid;
}

/* Listen on a fresh path, fork a child that connects (it gets *child). */
static pid_t
connected(enum ik_sock_kind k, struct ik_sock **parent, struct ik_sock **child)
{
	struct ik_sock *srv;
	char path[128];
	pid_t pid;

	ikt_path(path, sizeof(path), "fds");
	assert_int_equal(ik_sock_listen(&srv, k, path, NULL), 0);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(child, k, path, NULL, T) == 0);
		return 0; /* the child leaves srv to the parent */
	}
	assert_int_equal(ik_sock_accept(srv, parent, T), 0);
	ik_sock_close(srv);
	return pid;
}

/*
 * Child: three pipes, a different text in each, the read ends sent in one
 * message. Parent: three new descriptors, close-on-exec, each reading the
 * text of its pipe.
 */
static void
test_pass_three_fds(void **state)
{
	enum ik_sock_kind k = *(enum ik_sock_kind *)*state;
	static const char *text[3] = { "alpha", "beta", "gamma" };
	struct ik_sock *me, *peer;
	int fds[4] = { -1, -1, -1, -1 }, before;
	size_t n = 4;
	char buf[16];
	pid_t pid;

	before = ikt_fd_count();
	pid = connected(k, &me, &peer);
	if (pid == 0) {
		int rd[3], p[2];

		for (int i = 0; i < 3; i++) {
			IKT_CHECK(pipe2(p, O_CLOEXEC) == 0);
			IKT_CHECK(write(p[1], text[i], strlen(text[i])) ==
				  (ssize_t)strlen(text[i]));
			close(p[1]);
			rd[i] = p[0];
		}
		IKT_CHECK(ik_sock_send_fds(peer, "F", 1, rd, 3, T) == 1);
		/* the sender's copies can go: the receiver has its own */
		for (int i = 0; i < 3; i++)
			close(rd[i]);
		IKT_CHECK(ik_sock_send(peer, "after", 5, T) == 5);
		_exit(0);
	}
	assert_int_equal(ik_sock_recv_fds(me, buf, 1, fds, &n, T), 1);
	assert_int_equal(buf[0], 'F');
	assert_int_equal(n, 3);
	assert_int_equal(fds[3], -1);
	ikt_assert_child_ok(pid);
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(text[i]);

		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(read(fds[i], buf, sizeof(buf)), len);
		assert_memory_equal(buf, text[i], len);
		close(fds[i]);
	}
	/* the stream goes on after the message that carried them */
	assert_int_equal(ik_sock_recv(me, buf, 5, T), 5);
	assert_memory_equal(buf, "after", 5);
	ik_sock_close(me);
	assert_int_equal(ikt_fd_count(), before);
}

/* The most a message may carry, all arriving; one more is refused. */
static void
test_pass_max_fds(void **state)
{
	static int many[IK_SOCK_MAX_FDS + 1], got[IK_SOCK_MAX_FDS];
	struct ik_sock *p[2];
	size_t n = IK_SOCK_MAX_FDS;
	char b;
	pid_t pid;
	int before = ikt_fd_count();

	(void)state;
	assert_int_equal(ik_sock_pair(IK_SOCK_UNIX_DGRAM, p), 0);
	pid = xfork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		IKT_CHECK(fd >= 0);
		for (int i = 0; i <= IK_SOCK_MAX_FDS; i++)
			many[i] = fd;
		IKT_CHECK(ik_sock_send_fds(p[1], "x", 1, many,
					   IK_SOCK_MAX_FDS + 1, T) == -EINVAL);
		IKT_CHECK(ik_sock_send_fds(p[1], "x", 1, many, 0, T) ==
			  -EINVAL);
		IKT_CHECK(ik_sock_send_fds(p[1], "m", 1, many, IK_SOCK_MAX_FDS,
					   T) == 1);
		_exit(0);
	}
	assert_int_equal(ik_sock_recv_fds(p[0], &b, 1, got, &n, T), 1);
	assert_int_equal(b, 'm');
	assert_int_equal(n, IK_SOCK_MAX_FDS);
	for (size_t i = 0; i < n; i++) {
		assert_true(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		close(got[i]);
	}
	ikt_assert_child_ok(pid);
	ik_sock_close(p[0]);
	ik_sock_close(p[1]);
	assert_int_equal(ikt_fd_count(), before);
}

/* A closed descriptor is -EBADF for the sender; the link survives it. */
static void
test_pass_closed_fd(void **state)
{
	enum ik_sock_kind k = *(enum ik_sock_kind *)*state;
	struct ik_sock *me, *peer, *tcp;
	char buf[8];
	pid_t pid;

	pid = connected(k, &me, &peer);
	if (pid == 0) {
		int fds[2] = { open("/dev/null", O_RDONLY | O_CLOEXEC), -1 };
		int p[2];

		IKT_CHECK(fds[0] >= 0);
		IKT_CHECK(pipe2(p, O_CLOEXEC) == 0);
		fds[1] = p[0];
		close(p[0]);
		close(p[1]);
		IKT_CHECK(ik_sock_send_fds(peer, "bad", 3, fds, 2, T) ==
			  -EBADF);
		IKT_CHECK(ik_sock_send_fds(peer, "", 0, fds, 1, T) ==
			  (k == IK_SOCK_UNIX_STREAM ? -EINVAL : 0));
		IKT_CHECK(ik_sock_send(peer, "ok", 2, T) == 2);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	if (k != IK_SOCK_UNIX_STREAM) { /* the empty message, one fd */
		int fd = -1;
		size_t n = 1;

		assert_int_equal(
			ik_sock_recv_fds(me, buf, sizeof(buf), &fd, &n, T), 0);
		assert_int_equal(n, 1);
		assert_true(fd > 2);
		close(fd);
	}
	assert_int_equal(ik_sock_recv(me, buf, 2, T), 2);
	assert_memory_equal(buf, "ok", 2);
	ik_sock_close(me);
	/* and descriptors do not cross TCP */
	assert_int_equal(ik_sock_bind(&tcp, IK_SOCK_TCP, "127.0.0.1:0", NULL),
			 0);
	assert_int_equal(ik_sock_send_fds(tcp, "x", 1, (int[]){ 0 }, 1, T),
			 -EOPNOTSUPP);
	ik_sock_close(tcp);
}

static void
send_three(struct ik_sock *peer, const char *msg)
{
	int fds[3];

	for (int i = 0; i < 3; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		IKT_CHECK(fds[i] >= 0);
	}
	IKT_CHECK(ik_sock_send_fds(peer, msg, strlen(msg), fds, 3, T) ==
		  (ssize_t)strlen(msg));
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

/*
 * Three descriptors sent, room for one: IK_ECTRUNC, and every descriptor
 * that arrived is closed again (the count of open ones is unchanged).
 * Also when plain ik_sock_recv takes such a message, and when the
 * receiver's RLIMIT_NOFILE makes the kernel itself drop some (MSG_CTRUNC).
 */
static void
test_truncated_control(void **state)
{
	enum ik_sock_kind k = *(enum ik_sock_kind *)*state;
	struct ik_sock *me, *peer;
	struct ikt_sync go;
	int fds[1] = { -1 }, before;
	size_t n = 1;
	char buf[8];
	pid_t pid;

	ikt_sync_init(&go);
	before = ikt_fd_count();
	pid = connected(k, &me, &peer);
	if (pid == 0) {
		send_three(peer, "A");
		send_three(peer, "B");
		IKT_CHECK(ikt_await(&go, T) == 0);
		send_three(peer, "C");
		_exit(0);
	}
	assert_int_equal(ik_sock_recv_fds(me, buf, 1, fds, &n, T), IK_ECTRUNC);
	assert_int_equal(n, 1); /* untouched on failure */
	assert_int_equal(fds[0], -1);
	assert_int_equal(ikt_fd_count(), before + 1); /* only `me` */
	/* fds not asked for: the kernel closes them, the data arrives */
	assert_int_equal(ik_sock_recv(me, buf, 1, T), 1);
	assert_int_equal(buf[0], 'B');
	assert_int_equal(ikt_fd_count(), before + 1);

	pid_t rcv = xfork();
	if (rcv == 0) {
		int three[3], lowest, count;
		size_t m = 3;
		struct rlimit rl, low;

		/* descriptors are numbered from the lowest free one: a limit
		 * just above it leaves room for exactly one to arrive */
		lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
		IKT_CHECK(lowest >= 0);
		close(lowest);
		count = ikt_fd_count();
		IKT_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
		low = rl;
		low.rlim_cur = (rlim_t)lowest + 1;
		IKT_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
		ikt_post(&go);
		IKT_CHECK(ik_sock_recv_fds(me, buf, 1, three, &m, T) ==
			  IK_ECTRUNC);
		IKT_CHECK(m == 3);
		IKT_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
		IKT_CHECK(ikt_fd_count() == count);
		IKT_CHECK(fcntl(lowest, F_GETFD) == -1); /* closed again */
		_exit(0);
	}
	ikt_assert_child_ok(rcv);
	ikt_assert_child_ok(pid);
	ik_sock_close(me);
	assert_int_equal(ikt_fd_count(), before);
	ikt_sync_close(&go);
}

/* SO_PEERCRED on both ends: each sees the other process. */
static void
test_peer_cred(void **state)
{
	struct ik_sock *me, *peer;
	struct ik_sock_cred c;
	pid_t parent = getpid(), pid;
	char b;

	(void)state;
	pid = connected(IK_SOCK_UNIX_STREAM, &me, &peer);
	if (pid == 0) {
		IKT_CHECK(ik_sock_peer_cred(peer, &c) == 0);
		IKT_CHECK(c.pid == parent);
		IKT_CHECK(c.uid == geteuid() && c.gid == getegid());
		IKT_CHECK(ik_sock_send(peer, "c", 1, T) == 1);
		_exit(0);
	}
	assert_int_equal(ik_sock_peer_cred(me, &c), 0);
	assert_int_equal(c.pid, pid);
	assert_int_equal(c.uid, geteuid());
	assert_int_equal(c.gid, getegid());
	assert_int_equal(ik_sock_recv(me, &b, 1, T), 1);
	ikt_assert_child_ok(pid);
	ik_sock_close(me);
}

/*
 * SCM_CREDENTIALS: with SO_PASSCRED on, each message says who sent it,
 * checked by the kernel; without, pid 0 says "unknown".
 */
static void
test_scm_credentials(void **state)
{
	enum ik_sock_kind k = *(enum ik_sock_kind *)*state;
	struct ik_sock *p[2];
	struct ik_sock_cred c = { .pid = -1 };
	struct ikt_sync go;
	char buf[8];
	pid_t pid;

	assert_int_equal(ik_sock_pair(k, p), 0);
	ikt_sync_init(&go);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_send(p[1], "one", 3, T) == 3);
		IKT_CHECK(ikt_await(&go, T) == 0);
		IKT_CHECK(ik_sock_send(p[1], "two", 3, T) == 3);
		_exit(0);
	}
	/* "one" was read without SO_PASSCRED on */
	assert_int_equal(ik_sock_recv_cred(p[0], buf, 3, &c, T), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(c.pid, 0);
	assert_int_equal(ik_sock_set_passcred(p[0], true), 0);
	ikt_post(&go);
	assert_int_equal(ik_sock_recv_cred(p[0], buf, 3, &c, T), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(c.pid, pid);
	assert_int_equal(c.uid, geteuid());
	assert_int_equal(c.gid, getegid());
	ikt_assert_child_ok(pid);
	ik_sock_close(p[0]);
	ik_sock_close(p[1]);
	ikt_sync_close(&go);
}

static const enum ik_sock_kind k_stream = IK_SOCK_UNIX_STREAM;
static const enum ik_sock_kind k_packet = IK_SOCK_UNIX_SEQPACKET;
static const enum ik_sock_kind k_dgram = IK_SOCK_UNIX_DGRAM;

#define CASE(fn, k)                               \
	cmocka_unit_test_prestate_setup_teardown( \
		fn, NULL, ikt_tmpdir_teardown, (void *)&(k))

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_pass_three_fds, k_stream),
		CASE(test_pass_three_fds, k_packet),
		CASE(test_pass_max_fds, k_dgram),
		CASE(test_pass_closed_fd, k_stream),
		CASE(test_pass_closed_fd, k_packet),
		CASE(test_truncated_control, k_stream),
		CASE(test_truncated_control, k_packet),
		CASE(test_peer_cred, k_stream),
		CASE(test_scm_credentials, k_stream),
		CASE(test_scm_credentials, k_dgram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
