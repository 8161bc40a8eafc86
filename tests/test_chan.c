/*
 * The channel matrix: every transport of this build, each direction it
 * allows, message sizes 0, 1, 4 KiB and the transport's maximum (checked
 * byte for byte), maximum + 1 refused, a message too big for the receive
 * buffer kept for a bigger one, timeouts, and a dead peer. Adding a
 * transport = adding a row to `cases`.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <ipckit/chan.h>
#include <ipckit/error.h>

#include "ikt.h"
#include "internal/time.h"

enum { L2D = 1, D2L = 2 }; /* directions: listener -> dialer and back */

struct scase {
	const char *scheme;
	const char *fmt; /* %s: a unique name (path or /name) */
	int dirs;
	bool conns;	 /* listener hands out connections */
	bool peer_death; /* recv sees -EPIPE when the peer is gone */
	bool keeps;	 /* a too-big message waits for a bigger buffer */
	bool path;	 /* %s is a filesystem path (else "/ikt-...") */
	bool hello;	 /* datagram listener: learns its peer from a first
			    message before it can answer */
};

#define C(...)              \
	{                   \
		__VA_ARGS__ \
	}
static const struct scase cases[] = {
	C("pmq", "pmq:%s?maxmsg=4&msgsize=8K", L2D | D2L, false, false, true,
	  false, false),
	C("svmq", "svmq:private", L2D | D2L, false, false, true, false, false),
	C("fifo", "fifo:%s", D2L, false, false, true, true, false),
	C("fifo-big", "fifo:%s?maxmsg=1M", D2L, false, false, true, true,
	  false),
	C("unix", "unix:%s", L2D | D2L, true, true, true, true, false),
	C("unix-small", "unix:%s?maxmsg=64K", L2D | D2L, true, true, true, true,
	  false),
	C("abstract", "abstract:%s", L2D | D2L, true, true, true, false, false),
	C("abstract-pkt", "abstract:%s?type=seqpacket", L2D | D2L, true, true,
	  true, false, false),
	C("unixpacket", "unixpacket:%s", L2D | D2L, true, true, true, true,
	  false),
	C("unixpacket-big", "unixpacket:%s?maxmsg=128K", L2D | D2L, true, true,
	  true, true, false),
	C("unixgram", "unixgram:%s", L2D | D2L, false, false, true, true, true),
	C("unix-dgram", "unix:%s?type=dgram", L2D | D2L, false, false, true,
	  true, true),
	C("tcp4", "tcp:127.0.0.1:0", L2D | D2L, true, true, true, false, false),
	C("tcp6", "tcp:[::1]:0", L2D | D2L, true, true, true, false, false),
	C("tcp4-small", "tcp:127.0.0.1:0?maxmsg=8K", L2D | D2L, true, true,
	  true, false, false),
	C("udp4", "udp:127.0.0.1:0", L2D | D2L, false, false, true, false,
	  true),
	C("udp6", "udp:[::1]:0", L2D | D2L, false, false, true, false, true),
	C("shm", "shm:%s", L2D | D2L, false, true, true, false, false),
	C("shm-small", "shm:%s?size=8K&spin=0", L2D | D2L, false, true, true,
	  false, false),
};
#undef C

#define NSIZES 4
#define CAP_MAX (4u << 20)

static size_t
size_at(int i, size_t max)
{
	static const size_t s[NSIZES] = { 0, 1, 4096, 0 };

	if (i == NSIZES - 1)
		return max < CAP_MAX ? max : CAP_MAX;
	return s[i] < max ? s[i] : max;
}

static void
make_addr(const struct scase *c, char *buf, size_t len)
{
	char name[200];

	if (c->path) {
		ikt_path(name, sizeof(name), c->scheme);
	} else {
		name[0] = '/';
		ikt_name(name + 1, sizeof(name) - 1, c->scheme);
	}
	/* fmt is a table entry, not a literal: substitute %s by hand */
	{
		const char *at = strstr(c->fmt, "%s");

		if (at == NULL)
			snprintf(buf, len, "%s", c->fmt);
		else
			snprintf(buf, len, "%.*s%s%s", (int)(at - c->fmt),
				 c->fmt, name, at + 2);
	}
}

/* send the size table, each message filled from its index */
static int
send_all(struct ik_chan *ch, unsigned char *buf)
{
	size_t max = ik_chan_maxmsg(ch);

	for (int i = 0; i < NSIZES; i++) {
		size_t n = size_at(i, max);

		ikt_fill(buf, n, (uint32_t)i);
		if (ik_chan_send(ch, buf, n, IKT_WAIT_MS) != (ssize_t)n)
			return -1;
	}
	return 0;
}

static int
recv_all(struct ik_chan *ch, unsigned char *buf, bool keeps)
{
	size_t max = ik_chan_maxmsg(ch);

	for (int i = 0; i < NSIZES; i++) {
		size_t n = size_at(i, max);
		ssize_t r;

		if (keeps && n > 16) {
			/* too small a buffer: refused, and kept */
			if (ik_chan_recv(ch, buf, 16, IKT_WAIT_MS) != -EMSGSIZE)
				return -1;
		}
		memset(buf, 0xee, n);
		r = ik_chan_recv(ch, buf, CAP_MAX, IKT_WAIT_MS);
		if (r != (ssize_t)n || ikt_check(buf, n, (uint32_t)i) != 0) {
			fprintf(stderr, "message %d: got %zd want %zu (%s)\n",
				i, r, n, r < 0 ? ik_strerror((int)r) : "data");
			return -1;
		}
	}
	return 0;
}

static void
run_case(const struct scase *c, int dir)
{
	unsigned char *buf = malloc(CAP_MAX);
	struct ik_chan *l, *d, *io;
	char addr[512], dial_addr[512], err[256];
	struct ikt_sync done;
	pid_t pid;
	int r;

	assert_non_null(buf);
	make_addr(c, addr, sizeof(addr));
	r = ik_chan_listen(&l, addr, err, sizeof(err));
	if (r < 0)
		fail_msg("%s: listen: %s (%s)", addr, ik_strerror(r), err);
	assert_true(ik_chan_addr(l, dial_addr, sizeof(dial_addr)) > 0);
	ikt_sync_init(&done);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&d, dial_addr, IKT_WAIT_MS, err,
				       sizeof(err)) == 0);
		if (c->hello && dir == L2D)
			IKT_CHECK(ik_chan_send(d, "hi", 2, IKT_WAIT_MS) == 2);
		if (dir == L2D)
			IKT_CHECK(recv_all(d, buf, c->keeps) == 0);
		else
			IKT_CHECK(send_all(d, buf) == 0);
		/* stay until the parent has everything (queues outlive us,
		 * connections must not be cut before the data is read) */
		IKT_CHECK(ikt_await(&done, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_chan_close(d) == 0);
		_exit(0);
	}
	io = l;
	if (c->conns) {
		r = ik_chan_accept(l, &io, IKT_WAIT_MS);
		if (r < 0)
			fail_msg("%s: accept: %s", addr, ik_strerror(r));
	}
	if (c->hello && dir == L2D) {
		/* nobody to answer yet, then the first sender */
		assert_int_equal(ik_chan_send(io, "x", 1, 0), -EDESTADDRREQ);
		assert_int_equal(ik_chan_recv(io, buf, CAP_MAX, IKT_WAIT_MS),
				 2);
		assert_memory_equal(buf, "hi", 2);
	}
	/* max + 1 is refused before anything moves */
	{
		size_t max = ik_chan_maxmsg(io);

		if (max < CAP_MAX && (dir & L2D))
			assert_int_equal(ik_chan_send(io, buf, max + 1, 0),
					 -EMSGSIZE);
	}
	if (dir == L2D)
		assert_int_equal(send_all(io, buf), 0);
	else
		assert_int_equal(recv_all(io, buf, c->keeps), 0);
	if (dir == D2L) {
		/* all read: an empty channel times out, not before the
		 * deadline (in the other direction a queue's listener would
		 * read its own messages back) */
		int64_t t0 = ik__now_ns();

		assert_int_equal(ik_chan_recv(io, buf, CAP_MAX, 60),
				 -ETIMEDOUT);
		assert_true(ik__now_ns() - t0 >= 60 * 1000000LL);
	}
	ikt_post(&done);
	ikt_assert_child_ok(pid);
	if (c->peer_death)
		assert_int_equal(ik_chan_recv(io, buf, CAP_MAX, IKT_WAIT_MS),
				 -EPIPE);
	if (io != l)
		assert_int_equal(ik_chan_close(io), 0);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_sync_close(&done);
	free(buf);
}

static void
test_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].dirs & L2D)
			run_case(&cases[i], L2D);
		if (cases[i].dirs & D2L)
			run_case(&cases[i], D2L);
	}
}

/* dialing what does not exist waits for it, then says it is not there */
static void
test_dial_nothing(void **state)
{
	struct ik_chan *c;
	char addr[256], err[256];
	int64_t t0;

	(void)state;
	snprintf(addr, sizeof(addr), "pmq:/ikt-%d-nothing", (int)getpid());
	t0 = ik__now_ns();
	assert_int_equal(ik_chan_dial(&c, addr, 100, err, sizeof(err)),
			 -ENOENT);
	assert_true(ik__now_ns() - t0 >= 100 * 1000000LL);
	assert_int_equal(
		ik_chan_dial(&c, "svmq:0x7fffabcd", 0, err, sizeof(err)),
		-ENOENT);
}

static void
refused(const char *addr, int code, const char *needle)
{
	struct ik_chan *c;
	char err[512] = "";
	int r = ik_chan_listen(&c, addr, err, sizeof(err));

	if (r != code || strstr(err, needle) == NULL)
		fail_msg("%s: got %s '%s', want %s '%s'", addr, ik_errname(r),
			 err, ik_errname(code), needle);
}

static void
test_bad_addresses(void **state)
{
	(void)state;
	refused("bogus:/x", IK_EBADSCHEME, "valid: fifo");
	refused("pmq:/x?colour=blue", IK_EBADADDR,
		"unknown option 'colour' for pmq");
	refused("pmq:/x?prio=99999999", IK_EBADADDR, "prio");
	refused("svmq:0x1234?id=3", IK_EBADADDR, "id=");
	refused("svmq:/nonexistent/ikt?proj=1", -ENOENT, "ftok");
	refused("svmq:/tmp?proj=300", IK_EBADADDR, "proj");
}

/* svmq: two types on one queue make a request/reply pair */
static void
test_svmq_two_types(void **state)
{
	struct ik_chan *req, *rep, *creq, *crep;
	char a1[256], a2[256], buf[64];
	pid_t pid;
	key_t key = (key_t)(0x1c000000 | (getpid() & 0xffffff));

	(void)state;
	snprintf(a1, sizeof(a1), "svmq:0x%x?type=1", (unsigned)key);
	snprintf(a2, sizeof(a2), "svmq:0x%x?type=2", (unsigned)key);
	assert_int_equal(ik_chan_listen(&req, a1, NULL, 0), 0);
	assert_int_equal(ik_chan_dial(&rep, a2, 0, NULL, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* server: answers each request, upper-cased */
		IKT_CHECK(ik_chan_dial(&creq, a1, IKT_WAIT_MS, NULL, 0) == 0);
		IKT_CHECK(ik_chan_dial(&crep, a2, IKT_WAIT_MS, NULL, 0) == 0);
		for (int i = 0; i < 3; i++) {
			ssize_t n = ik_chan_recv(creq, buf, sizeof(buf),
						 IKT_WAIT_MS);

			IKT_CHECK(n == 4);
			for (int k = 0; k < n; k++)
				buf[k] = (char)(buf[k] - 32);
			IKT_CHECK(ik_chan_send(crep, buf, (size_t)n,
					       IKT_WAIT_MS) == n);
		}
		ik_chan_close(creq);
		ik_chan_close(crep);
		_exit(0);
	}
	for (int i = 0; i < 3; i++) {
		char q[5] = "abc0";

		q[3] = (char)('a' + i);
		assert_int_equal(ik_chan_send(req, q, 4, IKT_WAIT_MS), 4);
		assert_int_equal(
			ik_chan_recv(rep, buf, sizeof(buf), IKT_WAIT_MS), 4);
		q[0] = 'A', q[1] = 'B', q[2] = 'C', q[3] = (char)('A' + i);
		assert_memory_equal(buf, q, 4);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_chan_close(rep), 0);
	assert_int_equal(ik_chan_close(req), 0); /* removes the queue */
	assert_int_equal(ik_chan_dial(&rep, a2, 0, NULL, 0), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_dial_nothing),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_svmq_two_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
