/*
 * System V message queues between real processes: the seed's type-selection
 * table, E2BIG versus MSG_NOERROR, IPC_NOWAIT, the polled timeout (deadline
 * kept across EINTR), -EIDRM for blocked receivers, stat fields, a 10,000
 * message stream, the kernel.msg* limits, and every queue removed after.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/msgq.h>

#include "ikt.h"
#include "internal/time.h"

/* Queues made by the running test; teardown removes what is left. */
static int ids[8];
static int nids;

static int
new_queue(void)
{
	int id = -1;

	assert_int_equal(ik_msgq_create(IPC_PRIVATE, 0, &id), 0);
	assert_true(id >= 0);
	assert_true(nids < 8);
	ids[nids++] = id;
	return id;
}

/* Is msqid listed in /proc/sysvipc/msg? */
static bool
id_listed(int id)
{
	FILE *f = fopen("/proc/sysvipc/msg", "re");
	char line[512];
	bool found = false;
	int key, qid;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %d", &key, &qid) == 2 && qid == id)
			found = true;
	fclose(f);
	return found;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < nids; i++) {
		ik_msgq_remove(ids[i]);
		assert_false(id_listed(ids[i]));
	}
	nids = 0;
	ikt_tmpdir_cleanup();
	return 0;
}

/* Remove now (the test's own check), and let teardown skip it. */
static void
remove_queue(int id)
{
	assert_int_equal(ik_msgq_remove(id), 0);
	assert_false(id_listed(id));
	for (int i = 0; i < nids; i++)
		if (ids[i] == id)
			ids[i] = ids[--nids];
}

static void
drop_cap_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	IKT_CHECK(syscall(SYS_capget, &h, d) == 0);
	d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
	d[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
	IKT_CHECK(syscall(SYS_capset, &h, d) == 0);
}

static bool
has_cap_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	return syscall(SYS_capget, &h, d) == 0 &&
	       (d[0].effective & (1u << CAP_SYS_RESOURCE));
}

/* Receive (no wait) and check type and text. */
static void
expect_msg(int id, long sel, int flags, long want_type, const char *want)
{
	char buf[64];
	long type = 0;
	ssize_t n = ik_msgq_recv(id, sel, buf, sizeof(buf), &type, flags, 0);

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(type, want_type);
}

/* The seed's table: 0 first, > 0 first of that type, < 0 lowest <= |t|. */
static void
test_type_selection(void **state)
{
	static const struct {
		long type;
		const char *text;
	} sent[] = { { 3, "a" }, { 1, "b" }, { 2, "c" }, { 1, "d" },
		     { 5, "e" }, { 2, "f" }, { 4, "g" }, { 3, "h" } };
	char buf[8];
	int id = new_queue();
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
			IKT_CHECK(ik_msgq_send(id, sent[i].type, sent[i].text,
					       1, 0) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	expect_msg(id, 2, 0, 2, "c");		   /* first of type 2 */
	expect_msg(id, -2, 0, 1, "b");		   /* lowest <= 2 */
	expect_msg(id, 0, 0, 3, "a");		   /* first of all */
	expect_msg(id, -5, 0, 1, "d");		   /* 1 is lowest */
	expect_msg(id, 3, IK_MSGQ_EXCEPT, 5, "e"); /* first not 3 */
	expect_msg(id, -4, 0, 2, "f");		   /* lowest <= 4 */
	assert_int_equal(ik_msgq_recv(id, 1, buf, sizeof(buf), NULL, 0, 0),
			 -ENOMSG);
	assert_int_equal(ik_msgq_recv(id, -2, buf, sizeof(buf), NULL, 0, 0),
			 -ENOMSG);
	expect_msg(id, -9, 0, 3, "h"); /* 3 below 4 */
	expect_msg(id, 0, 0, 4, "g");
	assert_int_equal(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0, 0),
			 -ENOMSG);
	remove_queue(id);
}

/* Too small a buffer: -E2BIG and the message stays, unless NOERROR. */
static void
test_e2big_vs_noerror(void **state)
{
	struct ik_msgq_stat st;
	char big[100], small[10];
	long type = 0;
	int id = new_queue();
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ikt_fill(big, sizeof(big), 11);
		IKT_CHECK(ik_msgq_send(id, 7, big, sizeof(big), -1) == 0);
		ikt_fill(big, sizeof(big), 12);
		IKT_CHECK(ik_msgq_send(id, 8, big, sizeof(big), -1) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_msgq_recv(id, 0, small, sizeof(small), &type, 0,
				      IKT_WAIT_MS),
			 -E2BIG);
	assert_int_equal(type, 0); /* out-parameter untouched on failure */
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.bytes, 200);
	/* the same message, whole, into a buffer that fits */
	assert_int_equal(ik_msgq_recv(id, 0, big, sizeof(big), &type, 0, 0),
			 100);
	assert_int_equal(type, 7);
	assert_int_equal(ikt_check(big, sizeof(big), 11), 0);
	/* NOERROR: the first 10 bytes, and the rest is gone */
	assert_int_equal(ik_msgq_recv(id, 0, small, sizeof(small), &type,
				      IK_MSGQ_NOERROR, 0),
			 10);
	assert_int_equal(type, 8);
	ikt_fill(big, sizeof(big), 12);
	assert_memory_equal(small, big, sizeof(small));
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.bytes, 0);
	remove_queue(id);
}

/* IPC_NOWAIT (timeout 0): -ENOMSG on empty, -EAGAIN on full. */
static void
test_nowait_empty_and_full(void **state)
{
	struct ik_msgq_stat st;
	char buf[128];
	long type;
	int id = new_queue();
	pid_t pid;

	(void)state;
	assert_int_equal(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0, 0),
			 -ENOMSG);
	assert_int_equal(ik_msgq_set_qbytes(id, 64), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int i, r;

		for (i = 0; i < 100; i++) {
			memset(buf, 'A' + i, 16);
			r = ik_msgq_send(id, 1 + i, buf, 16, 0);
			if (r < 0)
				break;
		}
		IKT_CHECK(i == 4 && r == -EAGAIN);
		/* bigger than msg_qbytes: could never fit, never waits */
		IKT_CHECK(ik_msgq_send(id, 1, buf, 65, -1) == -EMSGSIZE);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.messages, 4);
	assert_int_equal(st.bytes, 64);
	assert_int_equal(ik_msgq_send(id, 9, "x", 1, 0), -EAGAIN);
	for (int i = 0; i < 4; i++) {
		char want[16];

		memset(want, 'A' + i, sizeof(want));
		assert_int_equal(
			ik_msgq_recv(id, 0, buf, sizeof(buf), &type, 0, 0), 16);
		assert_int_equal(type, 1 + i);
		assert_memory_equal(buf, want, 16);
	}
	remove_queue(id);
}

/*
 * A timed receive interrupted every 20 ms returns -ETIMEDOUT, not before
 * its deadline; then one woken by a child's send gets the message.
 */
static void
test_timed_recv_deadline_survives_eintr(void **state)
{
	struct ikt_storm storm;
	struct ikt_sync go;
	char buf[32];
	int64_t t0, el;
	long type = 0;
	int id = new_queue();
	pid_t pid;

	(void)state;
	assert_int_equal(ikt_storm_start(&storm, 20), 0);
	t0 = ik__now_ns();
	assert_int_equal(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0, 300),
			 -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 300 * 1000000LL);
	assert_true(el < 10000 * 1000000LL); /* a restarted full wait */
	/* the same for a timed send on a full queue */
	assert_int_equal(ik_msgq_set_qbytes(id, 8), 0);
	assert_int_equal(ik_msgq_send(id, 1, "12345678", 8, 0), 0);
	t0 = ik__now_ns();
	assert_int_equal(ik_msgq_send(id, 1, "z", 1, 200), -ETIMEDOUT);
	assert_true(ik__now_ns() - t0 >= 200 * 1000000LL);
	assert_int_equal(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0, 0), 8);

	ikt_sync_init(&go);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_msgq_send(id, 42, "wake up", 7, -1) == 0);
		_exit(0);
	}
	ikt_post(&go);
	assert_int_equal(
		ik_msgq_recv(id, 42, buf, sizeof(buf), &type, 0, IKT_WAIT_MS),
		7);
	assert_memory_equal(buf, "wake up", 7);
	assert_int_equal(type, 42);
	ikt_storm_stop(&storm);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&go);
	remove_queue(id);
}

static int handler_fd = -1;

static void
on_usr1(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(handler_fd, "s", 1) < 0) {
		/* nothing to do: the parent will time out */
	}
	errno = saved;
}

/* A receiver blocked forever (the kernel's own wait) keeps waiting across
 * a signal with a handler, and gets the message sent after it. */
static void
test_blocking_recv_survives_eintr(void **state)
{
	struct ikt_sync ready, handled;
	int id = new_queue();
	pid_t pid;

	(void)state;
	ikt_sync_init(&ready);
	ikt_sync_init(&handled);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		char buf[32];
		long type = 0;
		ssize_t n;

		sigemptyset(&sa.sa_mask);
		handler_fd = handled.wr;
		IKT_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
		ikt_post(&ready);
		n = ik_msgq_recv(id, 5, buf, sizeof(buf), &type, 0, -1);
		IKT_CHECK(n == 5 && memcmp(buf, "after", 5) == 0);
		IKT_CHECK(type == 5);
		_exit(0);
	}
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	assert_int_equal(ikt_wait_sleeping(pid), 0);
	assert_int_equal(kill(pid, SIGUSR1), 0);
	assert_int_equal(ikt_await(&handled, IKT_WAIT_MS), 0);
	assert_int_equal(ik_msgq_send(id, 5, "after", 5, 0), 0);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&ready);
	ikt_sync_close(&handled);
	remove_queue(id);
}

/* Removing the queue wakes blocked receivers, forever and timed, -EIDRM. */
static void
test_remove_gives_eidrm(void **state)
{
	struct ikt_sync ready;
	int id = new_queue();
	pid_t pid[2];

	(void)state;
	ikt_sync_init(&ready);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			char buf[16];

			ikt_post(&ready);
			IKT_CHECK(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0,
					       i == 0 ? -1 : IKT_WAIT_MS) ==
				  -EIDRM);
			_exit(0);
		}
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
		assert_int_equal(ikt_wait_sleeping(pid[i]), 0);
	}
	remove_queue(id);
	ikt_assert_child_ok(pid[0]);
	ikt_assert_child_ok(pid[1]);
	/* and the id is dead for everyone */
	assert_int_equal(ik_msgq_send(id, 1, "x", 1, 0), -EINVAL);
	ikt_sync_close(&ready);
}

/* stat: counts, bytes, the pids of the sending and receiving children. */
static void
test_stat_fields(void **state)
{
	struct ik_msgq_limits lim;
	struct ik_msgq_stat st;
	time_t t0 = time(NULL);
	int id = new_queue();
	pid_t snd, rcv;

	(void)state;
	assert_int_equal(ik_msgq_limits(&lim), 0);
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.last_send_pid, 0);
	assert_int_equal(st.last_send, 0);
	assert_int_equal(st.mode, 0600);
	assert_int_equal(st.key, IPC_PRIVATE);
	assert_int_equal(st.uid, geteuid());
	assert_int_equal(st.cuid, geteuid());
	assert_int_equal(st.qbytes, (size_t)lim.msgmnb);
	snd = fork();
	assert_true(snd >= 0);
	if (snd == 0) {
		char buf[30] = { 0 };

		for (size_t len = 10; len <= 30; len += 10)
			IKT_CHECK(ik_msgq_send(id, 1, buf, len, -1) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(snd);
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.bytes, 60);
	assert_int_equal(st.last_send_pid, snd);
	assert_int_equal(st.last_recv_pid, 0);
	assert_true(st.last_send >= t0 && st.last_send <= time(NULL));
	rcv = fork();
	assert_true(rcv >= 0);
	if (rcv == 0) {
		char buf[64];

		IKT_CHECK(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0, 0) ==
			  10);
		_exit(0);
	}
	ikt_assert_child_ok(rcv);
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.bytes, 50);
	assert_int_equal(st.last_send_pid, snd);
	assert_int_equal(st.last_recv_pid, rcv);
	assert_true(st.last_recv >= t0);
	remove_queue(id);
	assert_int_equal(ik_msgq_stat(id, &st), -EINVAL);
}

static uint64_t
fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * 1099511628211ull;
	return h;
}

/* 10,000 messages of varied sizes and types through the default 16 KiB
 * queue (so the sender really waits): order, types, contents, checksum. */
static void
test_10k_messages(void **state)
{
	enum { N = 10000, HDR = sizeof(uint32_t) };
	uint64_t sum = 1469598103934665603ull, theirs = 0;
	unsigned char buf[HDR + 600];
	int id = new_queue();
	int fd[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned char want[600];
		uint64_t h = 1469598103934665603ull;
		uint32_t seq;
		long type;
		ssize_t n;

		close(fd[0]);
		for (uint32_t i = 0; i < N; i++) {
			size_t len = (i * 37u) % 600;

			n = ik_msgq_recv(id, 0, buf, sizeof(buf), &type, 0,
					 IKT_WAIT_MS);
			IKT_CHECK(n == (ssize_t)(HDR + len));
			memcpy(&seq, buf, HDR);
			IKT_CHECK(seq == i);
			IKT_CHECK(type == 1 + (long)(i % 7));
			ikt_fill(want, len, i);
			IKT_CHECK(memcmp(buf + HDR, want, len) == 0);
			h = fnv(h, buf, (size_t)n);
		}
		IKT_CHECK(write(fd[1], &h, sizeof(h)) == sizeof(h));
		_exit(0);
	}
	close(fd[1]);
	for (uint32_t i = 0; i < N; i++) {
		size_t len = (i * 37u) % 600;

		memcpy(buf, &i, HDR);
		ikt_fill(buf + HDR, len, i);
		assert_int_equal(ik_msgq_send(id, 1 + (long)(i % 7), buf,
					      HDR + len, IKT_WAIT_MS),
				 0);
		sum = fnv(sum, buf, HDR + len);
	}
	assert_int_equal(read(fd[0], &theirs, sizeof(theirs)), sizeof(theirs));
	assert_true(theirs == sum);
	close(fd[0]);
	ikt_assert_child_ok(pid);
	remove_queue(id);
}

/* Keys: ftok on a file, IPC_EXCL on create, open by key in another process,
 * the mode asked for. */
static void
test_keys_excl_open(void **state)
{
	struct ik_msgq_stat st;
	char path[256], buf[16];
	key_t k1, k2, k3;
	int id, id2 = -1, fd;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "key");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ik_msgq_key(path, 'M', &k1), 0);
	assert_int_equal(ik_msgq_key(path, 'M', &k2), 0);
	assert_int_equal(ik_msgq_key(path, 'N', &k3), 0);
	assert_true(k1 == k2 && k1 != k3 && k1 != IPC_PRIVATE);
	assert_int_equal(ik_msgq_key(path, 0, &k2), -EINVAL);
	assert_int_equal(ik_msgq_key(path, 256, &k2), -EINVAL);
	assert_int_equal(ik_msgq_key(ikt_tmpdir(), 'M', &k2), 0);
	assert_true(k2 != k1);
	ikt_path(path, sizeof(path), "missing");
	assert_int_equal(ik_msgq_key(path, 'M', &k2), -ENOENT);

	assert_int_equal(ik_msgq_open(k1, &id), -ENOENT);
	assert_int_equal(ik_msgq_create(k1, 0640, &id), 0);
	ids[nids++] = id;
	assert_int_equal(ik_msgq_create(k1, 0, &id2), -EEXIST);
	assert_int_equal(id2, -1);
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.key, k1);
	assert_int_equal(st.mode, 0640);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cid = -1;

		IKT_CHECK(ik_msgq_open(k1, &cid) == 0 && cid == id);
		IKT_CHECK(ik_msgq_send(cid, 3, "by key", 6, -1) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_msgq_recv(id, 3, buf, sizeof(buf), NULL, 0, 0), 6);
	assert_memory_equal(buf, "by key", 6);
	remove_queue(id);
	assert_int_equal(ik_msgq_open(k1, &id), -ENOENT);
}

/* Bad input: a specific error each, and nothing queued by a refused call. */
static void
test_bad_input(void **state)
{
	struct ik_msgq_limits lim;
	char *big;
	char buf[8];
	int id = new_queue(), out = -1;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_msgq_limits(&lim), 0);
	big = calloc(1, (size_t)lim.msgmax + 2);
	assert_non_null(big);
	assert_int_equal(ik_msgq_send(id, 0, "x", 1, 0), -EINVAL);
	assert_int_equal(ik_msgq_send(id, -3, "x", 1, 0), -EINVAL);
	assert_int_equal(ik_msgq_send(id, 1, NULL, 5, 0), -EINVAL);
	assert_int_equal(ik_msgq_send(-1, 1, "x", 1, 0), -EINVAL);
	assert_int_equal(ik_msgq_send(id, 1, big, (size_t)lim.msgmax + 1, 0),
			 IK_EMSGMAX);
	assert_int_equal(ik_msgq_send(id, 1, big, SIZE_MAX, 0), IK_EMSGMAX);
	assert_int_equal(ik_msgq_send(id, 1, big, (size_t)lim.msgmax, 0), 0);
	assert_int_equal(ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, 0x100, 0),
			 -EINVAL);
	assert_int_equal(
		ik_msgq_recv(id, 0, buf, sizeof(buf), NULL, IK_MSGQ_EXCEPT, 0),
		-EINVAL);
	assert_int_equal(ik_msgq_recv(id, 0, NULL, 8, NULL, 0, 0), -EINVAL);
	assert_int_equal(ik_msgq_create(IPC_PRIVATE, 01600, &out), -EINVAL);
	assert_int_equal(ik_msgq_open(IPC_PRIVATE, &out), -EINVAL);
	assert_int_equal(out, -1);
	assert_int_equal(ik_msgq_set_qbytes(id, 0), -EINVAL);
	assert_int_equal(ik_msgq_stat(id, NULL), -EINVAL);
	assert_int_equal(ik_msgq_remove(-1), -EINVAL);
	assert_string_equal(ik_errname(IK_EMSGMAX), "IK_EMSGMAX");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* exactly the one valid message, whole */
		IKT_CHECK(ik_msgq_recv(id, 0, big, (size_t)lim.msgmax + 1, NULL,
				       0, 0) == lim.msgmax);
		IKT_CHECK(ik_msgq_recv(id, 0, big, 1, NULL, 0, 0) == -ENOMSG);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	free(big);
	remove_queue(id);
}

/* msg_qbytes: down and back for the owner; above kernel.msgmnb without
 * CAP_SYS_RESOURCE -> IK_EMSGMNB (checked in a child that drops it). */
static void
test_qbytes_and_msgmnb(void **state)
{
	struct ik_msgq_limits lim;
	struct ik_msgq_stat st;
	int id = new_queue();
	pid_t pid;

	(void)state;
	assert_int_equal(ik_msgq_limits(&lim), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		drop_cap_sys_resource();
		IKT_CHECK(ik_msgq_set_qbytes(id, (size_t)lim.msgmnb + 1) ==
			  IK_EMSGMNB);
		IKT_CHECK(ik_msgq_set_qbytes(id, 100) == 0);
		IKT_CHECK(ik_msgq_send(id, 1, "0123456789", 10, -1) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_msgq_stat(id, &st), 0);
	assert_int_equal(st.qbytes, 100);
	assert_int_equal(st.messages, 1);
	assert_int_equal(ik_msgq_set_qbytes(id, (size_t)lim.msgmnb), 0);
	if (has_cap_sys_resource()) {
		assert_int_equal(ik_msgq_set_qbytes(id, (size_t)lim.msgmnb * 2),
				 0);
		assert_int_equal(ik_msgq_stat(id, &st), 0);
		assert_int_equal(st.qbytes, (size_t)lim.msgmnb * 2);
	} else {
		assert_int_equal(ik_msgq_set_qbytes(id, (size_t)lim.msgmnb * 2),
				 IK_EMSGMNB);
	}
	remove_queue(id);
}

/*
 * kernel.msgmni and a lowered kernel.msgmax, in a child's own IPC namespace
 * (its queues die with it, and the machine's limits are not touched).
 */
static void
test_limits_in_namespace(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[101] = { 0 };
		int a = -1, b = -1;

		if (unshare(CLONE_NEWIPC) < 0)
			_exit(IKT_SKIP_EXIT);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/kernel/msgmni", 1) == 0);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/kernel/msgmax", 100) ==
			  0);
		IKT_CHECK(ik_msgq_create(IPC_PRIVATE, 0, &a) == 0);
		IKT_CHECK(ik_msgq_create(IPC_PRIVATE, 0, &b) == IK_EMSGMNI);
		IKT_CHECK(b == -1);
		IKT_CHECK(ik_msgq_send(a, 1, buf, 101, 0) == IK_EMSGMAX);
		IKT_CHECK(ik_msgq_send(a, 1, buf, 100, 0) == 0);
		IKT_CHECK(ik_msgq_remove(a) == 0);
		IKT_CHECK(ik_msgq_create(IPC_PRIVATE, 0, &b) == 0);
		IKT_CHECK(ik_msgq_remove(b) == 0);
		_exit(0);
	}
	ikt_assert_child_ok_or_skip(pid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, teardown)
		T(test_type_selection),
		T(test_e2big_vs_noerror),
		T(test_nowait_empty_and_full),
		T(test_timed_recv_deadline_survives_eintr),
		T(test_blocking_recv_survives_eintr),
		T(test_remove_gives_eidrm),
		T(test_stat_fields),
		T(test_10k_messages),
		T(test_keys_excl_open),
		T(test_bad_input),
		T(test_qbytes_and_msgmnb),
		T(test_limits_in_namespace),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
