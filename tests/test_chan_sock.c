/*
 * The socket channel transports beyond the matrix (tests/test_chan.c):
 * malformed frames from a raw peer break that connection only, raw mode
 * passes bytes as they come and framed mode puts the documented header on
 * the wire, non-blocking mode with ik_chan_fd polled for readiness, a
 * killed peer on each connection scheme, empty seqpacket messages read
 * after the sender closed (named and nameless senders), canonical addresses,
 * datagram listeners answering the right sender, and bad options.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ipckit/chan.h>
#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "ikt.h"
#include "internal/time.h"

#define T IKT_WAIT_MS

/* fmt with its %s (if any) replaced by a fresh path or abstract name. */
static void
mkaddr(char *buf, size_t len, const char *fmt)
{
	const char *at = strstr(fmt, "%s");
	char name[200];

	if (at == NULL) {
		snprintf(buf, len, "%s", fmt);
		return;
	}
	if (strncmp(fmt, "abstract:", 9) == 0)
		ikt_name(name, sizeof(name), "abs");
	else
		ikt_path(name, sizeof(name), "sock");
	snprintf(buf, len, "%.*s%s%s", (int)(at - fmt), fmt, name, at + 2);
}

static struct ik_chan *
listen_on(const char *fmt, char *canon, size_t len)
{
	struct ik_chan *l;
	char addr[300], err[256] = "";
	int r;

	mkaddr(addr, sizeof(addr), fmt);
	r = ik_chan_listen(&l, addr, err, sizeof(err));
	if (r < 0)
		fail_msg("%s: %s (%s)", addr, ik_strerror(r), err);
	assert_true(ik_chan_addr(l, canon, len) > 0);
	return l;
}

/* The rest of a canonical address ("127.0.0.1:4242", a path): ik_sock's. */
static void
rest_of(const char *canon, char *rest, size_t len)
{
	struct ik_addr a;

	assert_int_equal(ik_addr_parse(canon, &a, NULL, 0), 0);
	assert_true(strlen(a.rest) < len);
	memcpy(rest, a.rest, strlen(a.rest) + 1);
}

/* Wait until fd polls for events; poll is the condition, not a sleep. */
static int
ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, T) == 1 ? 0 : -1;
}

/* ---- malformed frames ---------------------------------------------------- */

static void
malformed(const char *fmt, enum ik_sock_kind kind)
{
	static const unsigned char cut[2] = { 0, 0 };
	static const unsigned char huge[4] = { 0, 0, 0x10, 0 }; /* 4096 */
	struct ik_chan *l, *c, *d;
	struct ik_sock *s;
	char canon[300], rest[300], buf[64];
	struct ikt_sync seen;
	pid_t pid;

	l = listen_on(fmt, canon, sizeof(canon));
	assert_int_equal(ik_chan_maxmsg(l), 1024);
	rest_of(canon, rest, sizeof(rest));
	ikt_sync_init(&seen);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a frame cut inside its length, then end of stream */
		IKT_CHECK(ik_sock_connect(&s, kind, rest, NULL, T) == 0);
		IKT_CHECK(ik_sock_send(s, cut, 2, T) == 2);
		ik_sock_close(s);
		/* a length beyond the listener's maxmsg; stays connected,
		 * so the error cannot come from the end of the stream */
		IKT_CHECK(ik_sock_connect(&s, kind, rest, NULL, T) == 0);
		IKT_CHECK(ik_sock_send(s, huge, 4, T) == 4);
		/* then a well-behaved client is still served */
		IKT_CHECK(ik_chan_dial(&d, canon, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(d, "good", 4, T) == 4);
		IKT_CHECK(ikt_await(&seen, T) == 0);
		ik_sock_close(s);
		IKT_CHECK(ik_chan_close(d) == 0);
		_exit(0);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), -EBADMSG);
	/* the connection is unusable now, both ways */
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), -EBADMSG);
	assert_int_equal(ik_chan_send(c, "x", 1, T), -EBADMSG);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), -EBADMSG);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), 4);
	assert_memory_equal(buf, "good", 4);
	ikt_post(&seen);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_sync_close(&seen);
}

static void
test_malformed_frames(void **state)
{
	(void)state;
	malformed("tcp:127.0.0.1:0?maxmsg=1K", IK_SOCK_TCP);
	malformed("unix:%s?maxmsg=1K", IK_SOCK_UNIX_STREAM);
	malformed("abstract:%s?maxmsg=1K", IK_SOCK_ABSTRACT_STREAM);
}

/* ---- raw mode and the wire format ---------------------------------------- */

static void
test_raw_bytes(void **state)
{
	struct ik_chan *l, *c;
	struct ik_sock *s;
	char canon[300], rest[300], buf[64];
	struct ikt_sync half;
	size_t got = 0;
	pid_t pid;

	(void)state;
	l = listen_on("unix:%s?raw=1", canon, sizeof(canon));
	assert_int_equal(ik_chan_caps(l), IK_CHAN_ACCEPT);
	rest_of(canon, rest, sizeof(rest));
	ikt_sync_init(&half);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* a plain socket peer, as socat would be */
		IKT_CHECK(ik_sock_connect(&s, IK_SOCK_UNIX_STREAM, rest, NULL,
					  T) == 0);
		IKT_CHECK(ik_sock_send(s, "hello ", 6, T) == 6);
		IKT_CHECK(ikt_await(&half, T) == 0);
		IKT_CHECK(ik_sock_send(s, "world", 5, T) == 5);
		IKT_CHECK(ik_sock_recv(s, buf, 3, T) == 3);
		IKT_CHECK(memcmp(buf, "abc", 3) == 0);
		ik_sock_close(s);
		_exit(0);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	assert_int_equal(ik_chan_caps(c), IK_CHAN_SEND | IK_CHAN_RECV |
						  IK_CHAN_STREAM | IK_CHAN_RAW);
	/* what has arrived, no more: the second half is not sent yet */
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), 6);
	assert_memory_equal(buf, "hello ", 6);
	ikt_post(&half);
	while (got < 5) {
		ssize_t n = ik_chan_recv(c, buf + got, sizeof(buf) - got, T);

		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(ik_chan_send(c, "abc", 3, T), 3);
	ikt_assert_child_ok(pid);
	/* raw end of stream: 0, as read(2) says it */
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), 0);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_sync_close(&half);
}

/* A framed message on the wire: 4-byte big-endian length, then the bytes. */
static void
test_frame_on_wire(void **state)
{
	static const unsigned char want[] = { 0,   0, 0, 3, 'x', 'y',
					      'z', 0, 0, 0, 0 };
	struct ik_chan *l, *c;
	struct ik_sock *s;
	char canon[300], rest[300];
	unsigned char buf[sizeof(want)];
	pid_t pid;

	(void)state;
	l = listen_on("tcp:127.0.0.1:0", canon, sizeof(canon));
	rest_of(canon, rest, sizeof(rest));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(&s, IK_SOCK_TCP, rest, NULL, T) == 0);
		IKT_CHECK(ik_sock_recv(s, buf, sizeof(buf), T) ==
			  (ssize_t)sizeof(buf));
		IKT_CHECK(memcmp(buf, want, sizeof(want)) == 0);
		/* and a frame written by hand is read back as a message */
		IKT_CHECK(ik_sock_send(s, want, 7, T) == 7);
		ik_sock_close(s);
		_exit(0);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	assert_int_equal(ik_chan_send(c, "xyz", 3, T), 3);
	assert_int_equal(ik_chan_send(c, "", 0, T), 0);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), 3);
	assert_memory_equal(buf, "xyz", 3);
	ikt_assert_child_ok(pid);
	/* a clean close between frames: -EPIPE */
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), -EPIPE);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
}

/* ---- non-blocking mode and readiness ------------------------------------- */

static const char *const pollable[] = {
	"unix:%s",	   "abstract:%s", "unixpacket:%s",   "unixgram:%s",
	"tcp:127.0.0.1:0", "tcp:[::1]:0", "udp:127.0.0.1:0",
};

/* Poll, then receive without blocking; readiness is only a hint. */
static ssize_t
recv_ready(struct ik_chan *c, char *buf, size_t cap)
{
	int64_t end = ik__now_ns() + (int64_t)T * 1000000;
	ssize_t n;

	do {
		if (ready(ik_chan_fd(c), POLLIN) < 0)
			return -ETIMEDOUT;
		n = ik_chan_recv(c, buf, cap, -1);
	} while (n == -EAGAIN && ik__now_ns() < end);
	return n;
}

static void
nonblock_one(const char *fmt)
{
	struct ik_chan *l, *c, *d;
	char canon[300], buf[16];
	bool conns;
	pid_t pid;

	l = listen_on(fmt, canon, sizeof(canon));
	conns = ik_chan_caps(l) & IK_CHAN_ACCEPT;
	assert_true(ik_chan_fd(l) >= 0);
	assert_int_equal(ik_chan_set_nonblock(l, 1), 0);
	if (conns)
		assert_int_equal(ik_chan_accept(l, &c, -1), -EAGAIN);
	else
		assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), -1),
				 -EAGAIN);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&d, canon, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_set_nonblock(d, 1) == 0);
		/* nothing yet: at once, whatever the timeout says */
		IKT_CHECK(ik_chan_recv(d, buf, sizeof(buf), -1) == -EAGAIN);
		IKT_CHECK(ik_chan_send(d, "ping", 4, -1) == 4);
		IKT_CHECK(recv_ready(d, buf, sizeof(buf)) == 4);
		IKT_CHECK(memcmp(buf, "pong", 4) == 0);
		IKT_CHECK(ik_chan_close(d) == 0);
		_exit(0);
	}
	c = l;
	if (conns) {
		int r;

		assert_int_equal(ready(ik_chan_fd(l), POLLIN), 0);
		while ((r = ik_chan_accept(l, &c, -1)) == -EAGAIN)
			assert_int_equal(ready(ik_chan_fd(l), POLLIN), 0);
		assert_int_equal(r, 0);
		assert_int_equal(ik_chan_set_nonblock(c, 1), 0);
	}
	assert_int_equal(recv_ready(c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(ik_chan_send(c, "pong", 4, -1), 4);
	ikt_assert_child_ok(pid);
	if (c != l)
		assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
}

static void
test_nonblock_poll(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pollable) / sizeof(pollable[0]); i++)
		nonblock_one(pollable[i]);
}

/* A full stream in non-blocking mode: -EAGAIN, and no frame is cut. */
static void
test_nonblock_full(void **state)
{
	struct ik_chan *l, *c, *d;
	char canon[300], msg[1000], buf[1000];
	long sent = 0;
	ssize_t r;

	(void)state;
	memset(msg, 'm', sizeof(msg));
	l = listen_on("unix:%s", canon, sizeof(canon));
	assert_int_equal(ik_chan_dial(&d, canon, T, NULL, 0), 0);
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	assert_int_equal(ik_chan_set_nonblock(d, 1), 0);
	while ((r = ik_chan_send(d, msg, sizeof(msg), -1)) == sizeof(msg))
		sent++;
	assert_int_equal(r, -EAGAIN);
	assert_true(sent > 0);
	/* every message that send accepted arrives whole: the last may
	 * have been cut by the full socket, its rest kept for the next send */
	for (long i = 0; i < sent - 1; i++)
		assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T),
				 sizeof(msg));
	assert_int_equal(ik_chan_send(d, "", 0, -1), 0);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), sizeof(msg));
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), 0);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(ik_chan_close(d), 0);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
}

/* ---- a killed peer ------------------------------------------------------- */

static void
dead_one(const char *fmt)
{
	struct ik_chan *l, *c, *d;
	char canon[300], buf[16];
	ssize_t r = 0;
	int st;
	pid_t pid;

	l = listen_on(fmt, canon, sizeof(canon));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&d, canon, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(d, "last", 4, T) == 4);
		raise(SIGKILL); /* no close: the kernel tears it down */
		_exit(98);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), 4);
	assert_memory_equal(buf, "last", 4);
	st = ikt_wait(pid, T);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(ik_chan_recv(c, buf, sizeof(buf), T), -EPIPE);
	/* TCP: the first send only provokes the RST; wait for it, then */
	for (int i = 0; i < 3; i++) {
		r = ik_chan_send(c, "x", 1, T);
		if (r != 1)
			break;
		/* the hang-up shows as readable: recv would say -EPIPE */
		assert_int_equal(ready(ik_chan_fd(c), POLLIN), 0);
	}
	assert_int_equal(r, -EPIPE);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
}

static void
test_dead_peer(void **state)
{
	(void)state;
	dead_one("unix:%s");
	dead_one("abstract:%s");
	dead_one("unixpacket:%s");
	dead_one("abstract:%s?type=seqpacket");
	dead_one("tcp:127.0.0.1:0");
	dead_one("tcp:[::1]:0");
}

/* ---- seqpacket: empty messages just before the end ---------------------- */

/*
 * A seqpacket recv returns 0 both for an empty message and for the end of
 * the connection. Each test below sends "a" and two empty messages and
 * closes before the other side reads anything: the end is already there
 * when the empty messages are read, and neither may be lost or mistaken.
 */
static int
read_empties(struct ik_chan *c)
{
	char buf[16];

	if (ik_chan_recv(c, buf, sizeof(buf), T) != 1 || buf[0] != 'a')
		return -1;
	if (ik_chan_recv(c, buf, sizeof(buf), T) != 0 ||
	    ik_chan_recv(c, buf, sizeof(buf), T) != 0)
		return -1;
	if (ik_chan_recv(c, buf, sizeof(buf), T) != -EPIPE)
		return -1;
	return ik_chan_recv(c, buf, sizeof(buf), T) == -EPIPE ? 0 : -1;
}

static void
send_empties(struct ik_chan *c)
{
	IKT_CHECK(ik_chan_send(c, "a", 1, T) == 1);
	IKT_CHECK(ik_chan_send(c, "", 0, T) == 0);
	IKT_CHECK(ik_chan_send(c, "", 0, T) == 0);
	IKT_CHECK(ik_chan_close(c) == 0);
}

/* The length of the peer's name: offsetof(sun_path) when it has none. */
static socklen_t
peer_name_len(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
	return len;
}

static void
empties_one(const char *fmt)
{
	struct ik_chan *l, *c, *d;
	struct ikt_sync go;
	char canon[300];
	pid_t pid;

	l = listen_on(fmt, canon, sizeof(canon));
	/* dialer -> listener */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&d, canon, T, NULL, 0) == 0);
		send_empties(d);
		_exit(0);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	ikt_assert_child_ok(pid); /* closed before anything is read */
	/* the dialer has a name, so the fast way is the one tested here */
	assert_true(peer_name_len(ik_chan_fd(c)) >
		    offsetof(struct sockaddr_un, sun_path));
	assert_int_equal(read_empties(c), 0);
	assert_int_equal(ik_chan_close(c), 0);
	/* listener -> dialer */
	ikt_sync_init(&go);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&d, canon, T, NULL, 0) == 0);
		IKT_CHECK(ikt_await(&go, T) == 0);
		IKT_CHECK(read_empties(d) == 0);
		IKT_CHECK(ik_chan_close(d) == 0);
		_exit(0);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	send_empties(c);
	ikt_post(&go);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&go);
	assert_int_equal(ik_chan_close(l), 0);
}

/* A raw client that never bound: its messages carry no name. */
static void
empties_nameless(const char *fmt, enum ik_sock_kind kind)
{
	struct ik_chan *l, *c;
	struct ik_sock_addr a;
	char canon[300], rest[300];
	pid_t pid;

	l = listen_on(fmt, canon, sizeof(canon));
	rest_of(canon, rest, sizeof(rest));
	assert_int_equal(ik_sock_resolve(kind, rest, 0, &a), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		IKT_CHECK(fd >= 0);
		IKT_CHECK(connect(fd, (struct sockaddr *)&a.ss, a.len) == 0);
		IKT_CHECK(send(fd, "a", 1, 0) == 1);
		IKT_CHECK(send(fd, "", 0, 0) == 0);
		IKT_CHECK(send(fd, "", 0, 0) == 0);
		IKT_CHECK(close(fd) == 0);
		_exit(0);
	}
	assert_int_equal(ik_chan_accept(l, &c, T), 0);
	ikt_assert_child_ok(pid);
	assert_int_equal(peer_name_len(ik_chan_fd(c)),
			 offsetof(struct sockaddr_un, sun_path));
	assert_int_equal(read_empties(c), 0);
	assert_int_equal(ik_chan_close(c), 0);
	assert_int_equal(ik_chan_close(l), 0);
}

static void
test_seqpacket_empty_then_end(void **state)
{
	(void)state;
	empties_one("unixpacket:%s");
	empties_one("abstract:%s?type=seqpacket");
	empties_nameless("unixpacket:%s", IK_SOCK_UNIX_SEQPACKET);
	empties_nameless("abstract:%s?type=seqpacket",
			 IK_SOCK_ABSTRACT_SEQPACKET);
}

/* ---- addresses ----------------------------------------------------------- */

static void
canon_one(const char *given, const char *prefix, const char *suffix)
{
	struct ik_chan *l, *c, *d;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char canon[300], want[300], again[300];
	unsigned port;

	l = listen_on(given, canon, sizeof(canon));
	assert_int_equal(
		getsockname(ik_chan_fd(l), (struct sockaddr *)&ss, &sl), 0);
	port = ntohs(ss.ss_family == AF_INET
			     ? ((struct sockaddr_in *)&ss)->sin_port
			     : ((struct sockaddr_in6 *)&ss)->sin6_port);
	assert_int_not_equal(port, 0);
	snprintf(want, sizeof(want), "%s%u%s", prefix, port, suffix);
	assert_string_equal(canon, want);
	if (ik_chan_caps(l) & IK_CHAN_ACCEPT) {
		/* the canonical text dials, and connections show it too */
		assert_int_equal(ik_chan_dial(&d, canon, T, NULL, 0), 0);
		assert_int_equal(ik_chan_accept(l, &c, T), 0);
		assert_true(ik_chan_addr(c, again, sizeof(again)) > 0);
		assert_string_equal(again, want);
		assert_int_equal(ik_chan_close(c), 0);
		assert_int_equal(ik_chan_close(d), 0);
	}
	assert_int_equal(ik_chan_close(l), 0);
}

static void
test_canonical_addr(void **state)
{
	struct ik_chan *l;
	char path[200], addr[300], canon[300];
	struct stat st;

	(void)state;
	canon_one("tcp:127.0.0.1:0", "tcp:127.0.0.1:", "");
	canon_one("tcp:[::1]:0?maxmsg=8K", "tcp:[::1]:", "?maxmsg=8K");
	canon_one("udp:127.0.0.1:0", "udp:127.0.0.1:", "");
	canon_one("TCP:127.0.0.1:0?raw=1", "tcp:127.0.0.1:", "?raw=1");
	/* a path is its own canonical form; close removes the file */
	ikt_path(path, sizeof(path), "canon");
	snprintf(addr, sizeof(addr), "unixgram:%s?mode=0600", path);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_true(ik_chan_addr(l, canon, sizeof(canon)) > 0);
	assert_string_equal(canon, addr);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ik_chan_scheme(l), IK_SCHEME_UNIXGRAM);
	assert_int_equal(ik_chan_close(l), 0);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* ---- datagram listeners answer the last sender --------------------------- */

static void
answers_one(const char *fmt)
{
	struct ik_chan *l, *a, *b;
	char canon[300], buf[16];
	pid_t pid;

	l = listen_on(fmt, canon, sizeof(canon));
	assert_int_equal(ik_chan_caps(l),
			 IK_CHAN_SEND | IK_CHAN_RECV | IK_CHAN_DGRAM);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&a, canon, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_dial(&b, canon, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(a, "A", 1, T) == 1);
		IKT_CHECK(ik_chan_recv(a, buf, sizeof(buf), T) == 4);
		IKT_CHECK(memcmp(buf, "to A", 4) == 0);
		IKT_CHECK(ik_chan_send(b, "B", 1, T) == 1);
		IKT_CHECK(ik_chan_recv(b, buf, sizeof(buf), T) == 4);
		IKT_CHECK(memcmp(buf, "to B", 4) == 0);
		/* A got its answer only */
		IKT_CHECK(ik_chan_recv(a, buf, sizeof(buf), 0) == -EAGAIN);
		IKT_CHECK(ik_chan_close(a) == 0);
		IKT_CHECK(ik_chan_close(b) == 0);
		_exit(0);
	}
	for (int i = 0; i < 2; i++) {
		char who = (char)('A' + i), reply[5] = "to ?";

		assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), 1);
		assert_int_equal(buf[0], who);
		reply[3] = who;
		assert_int_equal(ik_chan_send(l, reply, 4, T), 4);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_chan_close(l), 0);
}

static void
test_dgram_answers_sender(void **state)
{
	(void)state;
	answers_one("unixgram:%s");
	answers_one("abstract:%s?type=dgram");
	answers_one("udp:127.0.0.1:0");
	answers_one("udp:[::1]:0");
}

/* ---- bad options and missing listeners ----------------------------------- */

static void
refused(const char *fmt, int code, const char *needle)
{
	struct ik_chan *c;
	char addr[300], err[512] = "";
	int r;

	mkaddr(addr, sizeof(addr), fmt);
	r = ik_chan_listen(&c, addr, err, sizeof(err));
	if (r == 0)
		ik_chan_close(c);
	if (r != code || strstr(err, needle) == NULL)
		fail_msg("%s: got %s '%s', want %s '%s'", addr, ik_errname(r),
			 err, ik_errname(code), needle);
}

static void
test_bad_options(void **state)
{
	(void)state;
	refused("unix:%s?type=bogus", IK_EBADADDR, "type=bogus");
	refused("unix:%s?type=dgram&raw=1", IK_EBADADDR, "raw=1 needs");
	refused("unixpacket:%s?raw=1", IK_EBADADDR, "unknown option 'raw'");
	refused("unixgram:%s?backlog=4", IK_EBADADDR,
		"unknown option 'backlog'");
	refused("unix:%s?type=dgram&backlog=4", IK_EBADADDR, "backlog");
	refused("unix:%s?mode=0x1", IK_EBADADDR, "mode");
	refused("abstract:%s?mode=0600", IK_EBADADDR, "unknown option 'mode'");
	refused("tcp:127.0.0.1:0?raw=1&maxmsg=1K", IK_EBADADDR,
		"maxmsg means nothing");
	refused("tcp:127.0.0.1:0?maxmsg=8G", IK_EBADADDR, "4 GiB");
	refused("tcp:127.0.0.1:0?raw=maybe", IK_EBADADDR, "raw");
	refused("tcp:127.0.0.1:0?backlog=99999999999", IK_EBADADDR, "backlog");
	refused("udp:127.0.0.1:0?maxmsg=65508", IK_EBADADDR, "65507");
	refused("udp:127.0.0.1:0?raw=1", IK_EBADADDR, "unknown option 'raw'");
	/* beyond any send buffer the system allows (net.core.wmem_max) */
	refused("unixgram:%s?maxmsg=1G", IK_EBADADDR, "send buffer");
}

static void
test_dial_missing(void **state)
{
	struct ik_chan *c;
	char addr[300];
	int64_t t0;

	(void)state;
	mkaddr(addr, sizeof(addr), "unix:%s");
	assert_int_equal(ik_chan_dial(&c, addr, 0, NULL, 0), -ENOENT);
	/* a timeout is a wait for the listener to appear */
	t0 = ik__now_ns();
	assert_int_equal(ik_chan_dial(&c, addr, 100, NULL, 0), -ENOENT);
	assert_true(ik__now_ns() - t0 >= 100 * 1000000LL);
	mkaddr(addr, sizeof(addr), "abstract:%s");
	assert_int_equal(ik_chan_dial(&c, addr, 0, NULL, 0), -ECONNREFUSED);
}

/* A dialler waiting for its listener gets it when it comes. */
static void
test_dial_waits(void **state)
{
	struct ik_chan *l, *d;
	char addr[300], buf[8];
	struct ikt_sync up;
	pid_t pid;

	(void)state;
	mkaddr(addr, sizeof(addr), "unix:%s");
	ikt_sync_init(&up);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ikt_post(&up); /* about to dial: the listener is not there */
		IKT_CHECK(ik_chan_dial(&d, addr, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_recv(d, buf, sizeof(buf), T) == 2);
		IKT_CHECK(memcmp(buf, "up", 2) == 0);
		IKT_CHECK(ik_chan_close(d) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&up, T), 0);
	assert_int_equal(ik_chan_listen(&l, addr, NULL, 0), 0);
	assert_int_equal(ik_chan_accept(l, &d, T), 0);
	assert_int_equal(ik_chan_send(d, "up", 2, T), 2);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_chan_close(d), 0);
	assert_int_equal(ik_chan_close(l), 0);
	ikt_sync_close(&up);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_frames),
		cmocka_unit_test(test_raw_bytes),
		cmocka_unit_test(test_frame_on_wire),
		cmocka_unit_test(test_nonblock_poll),
		cmocka_unit_test(test_nonblock_full),
		cmocka_unit_test(test_dead_peer),
		cmocka_unit_test(test_seqpacket_empty_then_end),
		cmocka_unit_test(test_canonical_addr),
		cmocka_unit_test(test_dgram_answers_sender),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_dial_missing),
		cmocka_unit_test(test_dial_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
