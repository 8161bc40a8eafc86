/*
 * The fast paths of the channel receive, and that they keep every timeout
 * promise: a datagram receive with a deadline is one blocking recvmsg under
 * the kernel's SO_RCVTIMEO (set only when the timeout changes), so
 * changing timeouts, mixing them with "forever" and "no wait", and a storm
 * of signals must all still give the right message or -ETIMEDOUT at the
 * right time; a framed FIFO listener reads a blocking descriptor, and its
 * timed and non-blocking receives must still not block.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <ipckit/chan.h>

#include "ikt.h"
#include "internal/time.h"

#define T IKT_WAIT_MS
#define MS 1000000LL

/* recv with timeout ms on c must time out, not before ms nor hugely after */
static void
assert_times_out(struct ik_chan *c, int ms)
{
	char buf[64];
	int64_t t0 = ik__now_ns(), dt;

	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), ms), -ETIMEDOUT);
	dt = ik__now_ns() - t0;
	assert_true(dt >= ms * MS);
	assert_true(dt < 10000 * MS); /* very generous: a shared machine */
}

/*
 * A datagram listener (udp, unixgram) and a dialling child. The child sends
 * "m<i>" each time the parent posts; the parent receives with timeouts that
 * change from call to call, forever and 0 in between.
 */
static void
dgram_case(const char *scheme)
{
	char addr[300], path[200], buf[64];
	struct ikt_sync go;
	struct ik_chan *l;
	pid_t pid;

	ikt_path(path, sizeof(path), "dg");
	if (strcmp(scheme, "udp") == 0)
		snprintf(addr, sizeof(addr), "udp:127.0.0.1:0");
	else
		snprintf(addr, sizeof(addr), "%s:%s", scheme, path);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_true(ik_chan_addr(l, addr, sizeof(addr)) > 0);
	ikt_sync_init(&go);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_chan *c;
		char m[8];

		IKT_CHECK(ik_chan_dial(&c, addr, T, NULL, 0) == 0);
		for (int i = 0; i < 4; i++) {
			IKT_CHECK(ikt_await(&go, T) == 0);
			snprintf(m, sizeof(m), "m%d", i);
			IKT_CHECK(ik_chan_send(c, m, 2, T) == 2);
		}
		/* the listener answers the last sender: a reply comes back */
		IKT_CHECK(ik_chan_recv(c, m, sizeof(m), T) == 5);
		IKT_CHECK(memcmp(m, "reply", 5) == 0);
		ik_chan_close(c);
		_exit(0);
	}
	/* a long timeout, then a short one: the second is the one kept */
	ikt_post(&go);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), 2);
	assert_memory_equal(buf, "m0", 2);
	assert_times_out(l, 50);
	/* no wait: nothing there is -EAGAIN at once, whatever is set */
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), 0), -EAGAIN);
	/* forever after a timed receive: waits for the message */
	ikt_post(&go);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), -1), 2);
	assert_memory_equal(buf, "m1", 2);
	/* timed again, a message there: received, sender remembered */
	ikt_post(&go);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), 70), 2);
	assert_memory_equal(buf, "m2", 2);
	/* a buffer too small: kept for a bigger one, as without timeout */
	ikt_post(&go);
	assert_int_equal(ik_chan_recv(l, buf, 1, T), -EMSGSIZE);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), 30), 2);
	assert_memory_equal(buf, "m3", 2);
	assert_int_equal(ik_chan_send(l, "reply", 5, T), 5);
	ikt_child_ok(pid);
	assert_times_out(l, 30);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_sync_close(&go);
}

static void
test_udp_timeouts(void **state)
{
	(void)state;
	dgram_case("udp");
}

static void
test_unixgram_timeouts(void **state)
{
	(void)state;
	dgram_case("unixgram");
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/*
 * Signals every 10 ms (no SA_RESTART: each one is EINTR) during a timed
 * datagram receive: it still waits the whole timeout, and still gets a
 * message sent after the signals started.
 */
static void
test_dgram_timeout_survives_signals(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } }, off = { 0 };
	char addr[300], path[200], buf[16];
	struct ik_chan *l;

	(void)state;
	ikt_path(path, sizeof(path), "dgs");
	snprintf(addr, sizeof(addr), "unixgram:%s", path);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_times_out(l, 200);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(ik_chan_close(l), 0);
}

/*
 * A framed FIFO listener: timed receives time out on time, the
 * non-blocking mode does not block, ik_chan_fd polls readable for a frame,
 * and frames from a child come through with their contents.
 */
static void
test_fifo_listener_timeouts(void **state)
{
	char addr[300], path[200], buf[64];
	struct ikt_sync go;
	struct ik_chan *l;
	struct pollfd p;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "ff");
	snprintf(addr, sizeof(addr), "fifo:%s", path);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_times_out(l, 40);
	ikt_sync_init(&go);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_chan *c;

		IKT_CHECK(ik_chan_dial(&c, addr, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(c, "one", 3, -1) == 3);
		IKT_CHECK(ikt_await(&go, T) == 0);
		IKT_CHECK(ik_chan_send(c, "two", 3, T) == 3);
		IKT_CHECK(ik_chan_send(c, "three", 5, -1) == 5);
		ik_chan_close(c);
		_exit(0);
	}
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), -1), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(ik_chan_set_nonblock(l, 1), 0);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), -1), -EAGAIN);
	ikt_post(&go);
	p = (struct pollfd){ .fd = ik_chan_fd(l), .events = POLLIN };
	assert_int_equal(poll(&p, 1, T), 1);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), -1), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(ik_chan_set_nonblock(l, 0), 0);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), 5);
	assert_memory_equal(buf, "three", 5);
	ikt_child_ok(pid);
	/* every writer gone: the listener's own write end keeps it open */
	assert_times_out(l, 30);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_sync_close(&go);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_udp_timeouts,
					  ikt_tmpdir_teardown),
		cmocka_unit_test_teardown(test_unixgram_timeouts,
					  ikt_tmpdir_teardown),
		cmocka_unit_test_teardown(test_dgram_timeout_survives_signals,
					  ikt_tmpdir_teardown),
		cmocka_unit_test_teardown(test_fifo_listener_timeouts,
					  ikt_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
