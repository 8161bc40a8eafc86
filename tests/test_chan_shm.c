/*
 * The shm channel transport beyond the matrix: a killed peer, a second
 * dialler refused, names removed by the listener's close, non-blocking mode
 * on a full and an empty ring, the missing readiness descriptor, a dialler
 * waiting for its listener, and bad options.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <ipckit/chan.h>
#include <ipckit/error.h>
#include <ipckit/ring.h>

#include "ikt.h"

#define T IKT_WAIT_MS

static void
mkaddr(char *buf, size_t len, const char *opts)
{
	char name[100];

	ikt_name(name, sizeof(name), "shm");
	snprintf(buf, len, "shm:/%s%s", name, opts);
}

static void
test_shm_basics(void **state)
{
	struct ik_chan *l, *d, *d2;
	char addr[200], buf[64];
	int fds_before = ikt_fd_count();

	(void)state;
	mkaddr(addr, sizeof(addr), "?size=8K");
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_int_equal(ik_chan_caps(l),
			 IK_CHAN_SEND | IK_CHAN_RECV | IK_CHAN_ZEROCOPY);
	assert_int_equal(ik_chan_maxmsg(l), 8192 / 2 - 16);
	assert_int_equal(ik_chan_fd(l), -EOPNOTSUPP);
	assert_int_equal(ik_chan_dial(&d, addr, T, NULL, 0), 0);
	/* one producer, one consumer per ring: a third party is refused */
	assert_int_equal(ik_chan_dial(&d2, addr, 0, NULL, 0), -EBUSY);
	assert_int_equal(ik_chan_set_nonblock(l, 1), 0);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), -EAGAIN);
	/* fill the ring: then -EAGAIN, not a wait */
	for (int i = 0;; i++) {
		ssize_t r = ik_chan_send(l, "abcd", 4, T);

		if (r == -EAGAIN) {
			assert_true(i > 10);
			break;
		}
		assert_int_equal(r, 4);
		assert_true(i < 8192);
	}
	assert_int_equal(ik_chan_recv(d, buf, 2, T), -EMSGSIZE); /* kept */
	assert_int_equal(ik_chan_recv(d, buf, sizeof(buf), T), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(ik_chan_close(d), 0);
	assert_int_equal(ik_chan_close(l), 0);
	/* both ring names are gone with the listener */
	assert_int_equal(ik_chan_dial(&d, addr, 0, NULL, 0), -ENOENT);
	assert_int_equal(ikt_fd_count(), fds_before);
}

/* A dialler killed without closing: the listener learns it from the ring. */
static void
test_shm_dead_peer(void **state)
{
	struct ik_chan *l, *d;
	char addr[200], buf[64];
	ssize_t r = 0;
	int st;
	pid_t pid;

	(void)state;
	mkaddr(addr, sizeof(addr), "?size=8K&spin=0");
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&d, addr, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(d, "last", 4, T) == 4);
		raise(SIGKILL);
		_exit(98);
	}
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), 4);
	assert_memory_equal(buf, "last", 4);
	st = ikt_wait(pid, T);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), -EPIPE);
	/* sends fill the ring, then the wait for room sees the death */
	for (int i = 0; i < 10000; i++) {
		r = ik_chan_send(l, "x", 1, T);
		if (r != 1)
			break;
	}
	assert_int_equal(r, -EPIPE);
	assert_int_equal(ik_chan_close(l), 0);
}

/* The listener closes: the dialler drains what is left, then -EPIPE. */
static void
test_shm_listener_leaves(void **state)
{
	struct ik_chan *l, *d;
	char addr[200], buf[64];
	struct ikt_sync ready, dialed;
	pid_t pid;

	(void)state;
	mkaddr(addr, sizeof(addr), "");
	ikt_sync_init(&ready);
	ikt_sync_init(&dialed);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* dial first: it waits for the rings to be made */
		ikt_post(&ready);
		IKT_CHECK(ik_chan_dial(&d, addr, T, NULL, 0) == 0);
		ikt_post(&dialed);
		IKT_CHECK(ik_chan_recv(d, buf, sizeof(buf), T) == 3);
		IKT_CHECK(memcmp(buf, "bye", 3) == 0);
		IKT_CHECK(ik_chan_recv(d, buf, sizeof(buf), T) == -EPIPE);
		IKT_CHECK(ik_chan_send(d, "x", 1, T) == -EPIPE);
		IKT_CHECK(ik_chan_close(d) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&ready, T), 0);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_int_equal(ik_chan_send(l, "bye", 3, T), 3);
	/* closing removes the names: only once the dialler has the rings */
	assert_int_equal(ikt_await(&dialed, T), 0);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&ready);
	ikt_sync_close(&dialed);
}

static void
refused(const char *addr, int code, const char *needle)
{
	struct ik_chan *c;
	char err[512] = "";
	int r = ik_chan_listen(&c, addr, err, sizeof(err));

	if (r == 0)
		ik_chan_close(c);
	if (r != code || strstr(err, needle) == NULL)
		fail_msg("%s: got %s '%s', want %s '%s'", addr, ik_errname(r),
			 err, ik_errname(code), needle);
}

static void
test_shm_bad_options(void **state)
{
	struct ik_chan *l, *d;
	char addr[300], other[300], err[256] = "";

	(void)state;
	refused("shm:/ikt-x?size=1000", IK_EBADADDR, "power of two");
	refused("shm:/ikt-x?size=2K", IK_EBADADDR, "power of two");
	refused("shm:/ikt-x?size=2G", IK_EBADADDR, "power of two");
	refused("shm:/ikt-x?spin=5000000", IK_EBADADDR, "spin");
	refused("shm:/ikt-x?spin=-1", IK_EBADADDR, "spin");
	refused("shm:/ikt-x?mode=0600", IK_EBADADDR, "unknown option 'mode'");
	memset(addr, 'n', sizeof(addr));
	memcpy(addr, "shm:/", 5);
	addr[5 + 253] = '\0'; /* 253 + '/': room for no suffix */
	refused(addr, IK_EBADADDR, "name too long");
	/* a dialler's size must be the listener's */
	mkaddr(addr, sizeof(addr), "?size=8K");
	snprintf(other, sizeof(other), "%.*s?size=16K",
		 (int)(strchr(addr, '?') - addr), addr);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_int_equal(ik_chan_dial(&d, other, 0, err, sizeof(err)),
			 IK_EBADADDR);
	assert_non_null(strstr(err, "size=8192"));
	assert_int_equal(ik_chan_close(l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shm_basics),
		cmocka_unit_test(test_shm_dead_peer),
		cmocka_unit_test(test_shm_listener_leaves),
		cmocka_unit_test(test_shm_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
