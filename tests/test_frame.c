/*
 * Stream framing between two processes: every message arrives whole and in
 * order whatever the chunking, frames cut by timeouts are resumed, and
 * malformed frames (truncated, too long) are errors, never misreads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ikt.h"
#include "internal/io.h"
#include "internal/transport.h"

#define MAXMSG (1u << 20)

static void
put_raw(int fd, const void *p, size_t n)
{
	struct ik__deadline d;

	ik__deadline_init(&d, IKT_WAIT_MS);
	IKT_CHECK(ik__write_full(fd, p, n, IK__IO_SOCKET, &d, NULL) ==
		  (ssize_t)n);
}

/* child echoes 300 messages of varied sizes (0 .. 200 KiB) back */
static void
test_echo_many_sizes(void **state)
{
	struct ik__framer f;
	int sv[2];
	char *buf = malloc(MAXMSG), *want = malloc(MAXMSG);
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		ik__frame_init(&f, sv[1], IK__IO_SOCKET, MAXMSG);
		for (;;) {
			ssize_t n =
				ik__frame_recv(&f, buf, MAXMSG, IKT_WAIT_MS);

			if (n == -EPIPE)
				_exit(0);
			IKT_CHECK(n >= 0);
			IKT_CHECK(ik__frame_send(&f, buf, (size_t)n,
						 IKT_WAIT_MS) == n);
		}
	}
	close(sv[1]);
	ik__frame_init(&f, sv[0], IK__IO_SOCKET, MAXMSG);
	for (unsigned i = 0; i < 300; i++) {
		size_t len = i == 0 ? 0 : (i * 7919u) % (200 * 1024);

		ikt_fill(want, len, i);
		assert_int_equal(ik__frame_send(&f, want, len, IKT_WAIT_MS),
				 (ssize_t)len);
		assert_int_equal(ik__frame_recv(&f, buf, MAXMSG, IKT_WAIT_MS),
				 (ssize_t)len);
		assert_int_equal(ikt_check(buf, len, i), 0);
	}
	ik__frame_fini(&f);
	close(sv[0]); /* the child sees a clean end: -EPIPE */
	ikt_assert_child_ok(pid);
	free(buf);
	free(want);
}

/* a frame cut by a timeout, in the header and in the body, is resumed */
static void
test_resume_after_timeout(void **state)
{
	struct ik__framer f;
	struct ikt_sync s1, s2;
	unsigned char msg[4 + 1000];
	char buf[2000];
	int sv[2];
	pid_t pid;

	(void)state;
	msg[0] = 0, msg[1] = 0, msg[2] = 1000 >> 8, msg[3] = 1000 & 255;
	ikt_fill(msg + 4, 1000, 42);
	ikt_sync_init(&s1);
	ikt_sync_init(&s2);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* writer: dribbles one frame in three pieces */
		close(sv[0]);
		put_raw(sv[1], msg, 2);
		IKT_CHECK(ikt_await(&s1, IKT_WAIT_MS) == 0);
		put_raw(sv[1], msg + 2, 500);
		IKT_CHECK(ikt_await(&s2, IKT_WAIT_MS) == 0);
		put_raw(sv[1], msg + 502, sizeof(msg) - 502);
		_exit(0);
	}
	close(sv[1]);
	ik__frame_init(&f, sv[0], IK__IO_SOCKET, MAXMSG);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), 50), -ETIMEDOUT);
	ikt_post(&s1);
	/* wait until the 500 bytes are there, then time out in the body */
	while (ik__frame_held(&f) < 502)
		assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), 50),
				 -ETIMEDOUT);
	ikt_post(&s2);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), IKT_WAIT_MS),
			 1000);
	assert_int_equal(ikt_check(buf, 1000, 42), 0);
	ik__frame_fini(&f);
	close(sv[0]);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&s1);
	ikt_sync_close(&s2);
}

/* too small a buffer: -EMSGSIZE and the message waits for a bigger one */
static void
test_emsgsize_keeps_message(void **state)
{
	struct ik__framer f;
	char buf[100];
	int sv[2];
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char m[64];

		close(sv[0]);
		ik__frame_init(&f, sv[1], IK__IO_SOCKET, MAXMSG);
		ikt_fill(m, sizeof(m), 5);
		IKT_CHECK(ik__frame_send(&f, m, sizeof(m), IKT_WAIT_MS) == 64);
		IKT_CHECK(ik__frame_send(&f, "tail", 4, IKT_WAIT_MS) == 4);
		_exit(0);
	}
	close(sv[1]);
	ik__frame_init(&f, sv[0], IK__IO_SOCKET, MAXMSG);
	assert_int_equal(ik__frame_recv(&f, buf, 10, IKT_WAIT_MS), -EMSGSIZE);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), IKT_WAIT_MS), 64);
	assert_int_equal(ikt_check(buf, 64, 5), 0);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), IKT_WAIT_MS), 4);
	assert_memory_equal(buf, "tail", 4);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), IKT_WAIT_MS),
			 -EPIPE);
	ik__frame_fini(&f);
	close(sv[0]);
	ikt_assert_child_ok(pid);
}

/* a peer sends raw bytes; the receiver sees what is malformed */
static void
malformed(const void *raw, size_t n, ssize_t want)
{
	struct ik__framer f;
	char buf[256];
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		put_raw(sv[1], raw, n);
		_exit(0); /* and the stream ends */
	}
	close(sv[1]);
	ik__frame_init(&f, sv[0], IK__IO_SOCKET, 1000);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), IKT_WAIT_MS),
			 want);
	ik__frame_fini(&f);
	close(sv[0]);
	ikt_assert_child_ok(pid);
}

static void
test_malformed_frames(void **state)
{
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 1, 2 };
	static const unsigned char over[] = { 0, 0, 0x03, 0xe9 }; /* 1001 */
	static const unsigned char cut_hdr[] = { 0, 0 };
	static const unsigned char cut_body[] = { 0, 0, 0, 10, 'a', 'b' };

	(void)state;
	malformed(huge, sizeof(huge), -EBADMSG);
	malformed(over, sizeof(over), -EBADMSG);
	malformed(cut_hdr, sizeof(cut_hdr), -EBADMSG);
	malformed(cut_body, sizeof(cut_body), -EBADMSG);
	malformed("", 0, -EPIPE);
}

/*
 * Sender times out with a frame half written: the rest is kept and goes out
 * first on the next send; the receiver gets every message intact, in order.
 */
static void
test_send_remainder_flushed(void **state)
{
	enum { BIG = 600 * 1024, N = 4 };
	struct ik__framer f;
	struct ikt_sync go;
	char *buf = malloc(BIG);
	int sv[2], sent = 0, cut = 0;
	pid_t pid;

	(void)state;
	ikt_sync_init(&go);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* receiver: starts reading only when told */
		close(sv[0]);
		ik__frame_init(&f, sv[1], IK__IO_SOCKET, MAXMSG);
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		for (int i = 0; i < N; i++) {
			ssize_t n = ik__frame_recv(&f, buf, BIG, IKT_WAIT_MS);

			IKT_CHECK(n == BIG);
			IKT_CHECK(ikt_check(buf, BIG, (uint32_t)i) == 0);
		}
		IKT_CHECK(ik__frame_recv(&f, buf, BIG, IKT_WAIT_MS) == -EPIPE);
		_exit(0);
	}
	close(sv[1]);
	ik__frame_init(&f, sv[0], IK__IO_SOCKET, MAXMSG);
	while (sent < N) {
		ssize_t n;

		ikt_fill(buf, BIG, (uint32_t)sent);
		n = ik__frame_send(&f, buf, BIG, 20);
		if (n == BIG) {
			cut += f.out != NULL;
			sent++;
		} else {
			/* nothing of this message went out (the previous
			 * one's remainder is still pending): retrying is
			 * right, once the peer reads */
			assert_int_equal(n, -ETIMEDOUT);
			assert_non_null(f.out);
			ikt_post(&go);
			n = ik__frame_send(&f, buf, BIG, IKT_WAIT_MS);
			assert_int_equal(n, BIG);
			sent++;
		}
		if (sent == 1)
			assert_int_equal(cut,
					 1); /* 600 KiB can't fit at once */
	}
	ikt_post(&go);
	assert_int_equal(ik__frame_flush(&f, IKT_WAIT_MS), 0);
	ik__frame_fini(&f);
	close(sv[0]);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&go);
	free(buf);
}

/*
 * Frames already read into the buffer leave nothing readable in the kernel:
 * the ready descriptor must still say so, and stop saying so once they are
 * taken (level-triggered pollers would otherwise hang or spin).
 */
static void
test_ready_fd_exact(void **state)
{
	struct pollfd p = { .events = POLLIN };
	struct ik__framer f;
	struct ikt_sync more;
	char buf[64];
	int sv[2];
	pid_t pid;

	(void)state;
	ikt_sync_init(&more);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const unsigned char two[] = { 0, 0, 0, 1, 'a',
						     0, 0, 0, 1, 'b' };
		static const unsigned char half[] = { 0, 0, 0, 2, 'c' };

		close(sv[0]);
		put_raw(sv[1], two, sizeof(two)); /* two frames at once */
		IKT_CHECK(ikt_await(&more, IKT_WAIT_MS) == 0);
		put_raw(sv[1], half, sizeof(half)); /* a frame cut short */
		IKT_CHECK(ikt_await(&more, IKT_WAIT_MS) == 0);
		put_raw(sv[1], "d", 1);
		_exit(0);
	}
	close(sv[1]);
	ik__frame_init(&f, sv[0], IK__IO_SOCKET, MAXMSG);
	p.fd = ik__frame_ready_fd(&f);
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, IKT_WAIT_MS), 1);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), IKT_WAIT_MS), 1);
	assert_int_equal(buf[0], 'a');
	/* 'b' waits in our buffer, not in the kernel: still readable */
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(poll(&p, 1, 0), 0); /* drained: not readable */
	ikt_post(&more);
	/* a frame cut short is readable (bytes in the kernel) until read;
	 * once held, it is not (nothing to hand out yet) */
	assert_int_equal(poll(&p, 1, IKT_WAIT_MS), 1);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), 0), -ETIMEDOUT);
	assert_int_equal(poll(&p, 1, 0), 0);
	ikt_post(&more);
	assert_int_equal(poll(&p, 1, IKT_WAIT_MS), 1);
	assert_int_equal(ik__frame_recv(&f, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "cd", 2);
	ik__frame_fini(&f);
	close(sv[0]);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&more);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_many_sizes),
		cmocka_unit_test(test_resume_after_timeout),
		cmocka_unit_test(test_emsgsize_keeps_message),
		cmocka_unit_test(test_malformed_frames),
		cmocka_unit_test(test_send_remainder_flushed),
		cmocka_unit_test(test_ready_fd_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
