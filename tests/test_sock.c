/*
 * Sockets between real processes: every kind echoes data through a child,
 * 1 MiB crosses a stream intact, message boundaries hold and a short buffer
 * is an error, socket files are 0600, replaced when stale and defended when
 * live, and every fault (nothing listening, timeouts, a peer that vanishes)
 * gives its own error without a hang or a signal.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/sock.h>

#include "ikt.h"
#include "internal/time.h"

#define T IKT_WAIT_MS

static pid_t
xfork(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	return pid;
}

static bool
kind_is_stream(enum ik_sock_kind k)
{
	return k == IK_SOCK_UNIX_STREAM || k == IK_SOCK_ABSTRACT_STREAM ||
	       k == IK_SOCK_TCP;
}

static bool
kind_is_dgram(enum ik_sock_kind k)
{
	return k == IK_SOCK_UNIX_DGRAM || k == IK_SOCK_ABSTRACT_DGRAM ||
	       k == IK_SOCK_UDP;
}

static bool
kind_is_abstract(enum ik_sock_kind k)
{
	return k >= IK_SOCK_ABSTRACT_STREAM && k <= IK_SOCK_ABSTRACT_SEQPACKET;
}

/* An address for kind: a fresh path, a fresh abstract name, or inet. */
static void
make_addr(enum ik_sock_kind k, const char *inet, char *buf, size_t len)
{
	if (inet != NULL)
		snprintf(buf, len, "%s", inet);
	else if (kind_is_abstract(k))
		ikt_name(buf, len, "abs");
	else
		ikt_path(buf, len, "sock");
}

/*
 * Open the server side (listen, or bind for datagrams) and return the
 * address a client should use, read back from the socket: port 0 becomes
 * the real port, and ik_sock_format is exercised on every kind.
 */
static int
serve(enum ik_sock_kind k, const char *addr, struct ik_sock **srv, char *out,
      size_t len)
{
	struct ik_sock_addr a;
	int r = kind_is_dgram(k) ? ik_sock_bind(srv, k, addr, NULL)
				 : ik_sock_listen(srv, k, addr, NULL);

	if (r < 0)
		return r;
	assert_int_equal(ik_sock_local_addr(*srv, &a), 0);
	assert_int_equal(a.kind, k);
	assert_true(ik_sock_format(&a, out, len) > 0);
	return 0;
}

static const size_t echo_sizes[] = { 1, 100, 5000 };

static void
echo_client(enum ik_sock_kind k, const char *addr)
{
	static char buf[8192], back[8192];
	struct ik_sock *c;

	IKT_CHECK(ik_sock_connect(&c, k, addr, NULL, T) == 0);
	for (unsigned i = 0; i < 3; i++) {
		size_t n = echo_sizes[i];

		ikt_fill(buf, n, i + 1);
		IKT_CHECK(ik_sock_send(c, buf, n, T) == (ssize_t)n);
		memset(back, 0, sizeof(back));
		/* a message kind must return exactly one message's length */
		IKT_CHECK(ik_sock_recv(c, back,
				       kind_is_stream(k) ? n : sizeof(back),
				       T) == (ssize_t)n);
		IKT_CHECK(ikt_check(back, n, i + 1) == 0);
	}
	IKT_CHECK(ik_sock_close(c) == 0);
	_exit(0);
}

static void
echo_server(enum ik_sock_kind k, struct ik_sock *srv)
{
	static char buf[65536];
	struct ik_sock_addr from;
	struct ik_sock *c;
	ssize_t n;

	if (kind_is_dgram(k)) {
		for (unsigned i = 0; i < 3; i++) {
			n = ik_sock_recvfrom(srv, buf, sizeof(buf), &from, T);
			assert_int_equal(n, echo_sizes[i]);
			assert_int_equal(
				ik_sock_sendto(srv, buf, (size_t)n, &from, T),
				n);
		}
		return;
	}
	assert_int_equal(ik_sock_accept(srv, &c, T), 0);
	assert_int_equal(ik_sock_kind(c), k);
	if (kind_is_stream(k)) {
		while ((n = ik_sock_recv_some(c, buf, sizeof(buf), T)) > 0)
			assert_int_equal(ik_sock_send(c, buf, (size_t)n, T), n);
		assert_int_equal(n, 0);
	} else {
		for (unsigned i = 0; i < 3; i++) {
			n = ik_sock_recv(c, buf, sizeof(buf), T);
			assert_int_equal(n, echo_sizes[i]);
			assert_int_equal(ik_sock_send(c, buf, (size_t)n, T), n);
		}
		assert_int_equal(ik_sock_recv(c, buf, sizeof(buf), T), 0);
	}
	assert_int_equal(ik_sock_close(c), 0);
}

struct kind_case {
	enum ik_sock_kind kind;
	const char *inet;
};

static void
test_echo(void **state)
{
	const struct kind_case *kc = *state;
	struct ik_sock *srv;
	char addr[128], real[128];
	struct stat st;
	pid_t pid;
	int r;

	make_addr(kc->kind, kc->inet, addr, sizeof(addr));
	r = serve(kc->kind, addr, &srv, real, sizeof(real));
	if (kc->inet != NULL && (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT))
		skip(); /* no IPv6 on this machine */
	assert_int_equal(r, 0);
	if (kc->inet == NULL && !kind_is_abstract(kc->kind))
		assert_string_equal(real, addr);
	pid = xfork();
	if (pid == 0)
		echo_client(kc->kind, real);
	echo_server(kc->kind, srv);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_sock_close(srv), 0);
	if (kc->inet == NULL && !kind_is_abstract(kc->kind))
		assert_int_equal(lstat(addr, &st), -1); /* unlinked */
}

/* FNV-1a: the trailer lets the receiver check the bytes it got. */
static uint64_t
fnv(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *c++) * 1099511628211ull;
	return h;
}

static void
test_stream_1mib(void **state)
{
	enum { LEN = 1 << 20 };
	const struct kind_case *kc = *state;
	struct ik_sock *srv, *c;
	char addr[128], real[128];
	unsigned char *buf = malloc(LEN);
	uint64_t sum;
	pid_t pid;

	assert_non_null(buf);
	make_addr(kc->kind, kc->inet, addr, sizeof(addr));
	assert_int_equal(serve(kc->kind, addr, &srv, real, sizeof(real)), 0);
	pid = xfork();
	if (pid == 0) {
		ikt_fill(buf, LEN, 42);
		sum = fnv(buf, LEN);
		IKT_CHECK(ik_sock_connect(&c, kc->kind, real, NULL, T) == 0);
		IKT_CHECK(ik_sock_send(c, buf, LEN, T) == LEN);
		IKT_CHECK(ik_sock_send(c, &sum, sizeof(sum), T) == sizeof(sum));
		ik_sock_close(c);
		_exit(0);
	}
	assert_int_equal(ik_sock_accept(srv, &c, T), 0);
	memset(buf, 0, LEN);
	assert_int_equal(ik_sock_recv(c, buf, LEN, T), LEN);
	assert_int_equal(ik_sock_recv(c, &sum, sizeof(sum), T), sizeof(sum));
	assert_true(sum == fnv(buf, LEN));
	assert_int_equal(ikt_check(buf, LEN, 42), 0);
	assert_int_equal(ik_sock_recv(c, buf, 1, T), 0); /* then EOF */
	ik_sock_close(c);
	ik_sock_close(srv);
	ikt_assert_child_ok(pid);
	free(buf);
}

/*
 * Five messages queued before the reader reads: each receive returns one,
 * whole, even with a large buffer; then a message longer than the buffer is
 * -EMSGSIZE, not a quiet prefix, and the next message is intact.
 */
static void
test_boundaries_and_emsgsize(void **state)
{
	const struct kind_case *kc = *state;
	struct ik_sock *srv, *c, *conn = NULL;
	struct ikt_sync sent;
	char addr[128], real[128], buf[512];
	pid_t pid;

	make_addr(kc->kind, kc->inet, addr, sizeof(addr));
	assert_int_equal(serve(kc->kind, addr, &srv, real, sizeof(real)), 0);
	ikt_sync_init(&sent);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(&c, kc->kind, real, NULL, T) == 0);
		for (unsigned i = 1; i <= 5; i++) {
			ikt_fill(buf, i, i);
			IKT_CHECK(ik_sock_send(c, buf, i, T) == (ssize_t)i);
		}
		ikt_fill(buf, 300, 9);
		IKT_CHECK(ik_sock_send(c, buf, 300, T) == 300);
		IKT_CHECK(ik_sock_send(c, "end", 3, T) == 3);
		ikt_post(&sent);
		ik_sock_close(c);
		_exit(0);
	}
	if (!kind_is_dgram(kc->kind))
		assert_int_equal(ik_sock_accept(srv, &conn, T), 0);
	else
		conn = srv;
	assert_int_equal(ikt_await(&sent, T), 0);
	for (unsigned i = 1; i <= 5; i++) {
		memset(buf, 0, sizeof(buf));
		assert_int_equal(ik_sock_recv(conn, buf, sizeof(buf), T), i);
		assert_int_equal(ikt_check(buf, i, i), 0);
	}
	assert_int_equal(ik_sock_recv(conn, buf, 100, T), -EMSGSIZE);
	assert_int_equal(ik_sock_recv(conn, buf, sizeof(buf), T), 3);
	assert_memory_equal(buf, "end", 3);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&sent);
	if (conn != srv)
		ik_sock_close(conn);
	ik_sock_close(srv);
}

/* A server killed without closing leaves its file: the next one takes it. */
static void
test_stale_path_replaced(void **state)
{
	struct ik_sock *srv, *c;
	struct stat st;
	char path[128], b = 0;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "stale");
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_listen(&srv, IK_SOCK_UNIX_STREAM, path,
					 NULL) == 0);
		_exit(0); /* "crash": no ik_sock_close */
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(
		ik_sock_connect(&c, IK_SOCK_UNIX_STREAM, path, NULL, T),
		-ECONNREFUSED);
	assert_int_equal(ik_sock_listen(&srv, IK_SOCK_UNIX_STREAM, path, NULL),
			 0);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(&c, IK_SOCK_UNIX_STREAM, path, NULL,
					  T) == 0);
		IKT_CHECK(ik_sock_send(c, "s", 1, T) == 1);
		_exit(0);
	}
	assert_int_equal(ik_sock_accept(srv, &c, T), 0);
	assert_int_equal(ik_sock_recv(c, &b, 1, T), 1);
	assert_int_equal(b, 's');
	ik_sock_close(c);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_sock_close(srv), 0);
	assert_int_equal(lstat(path, &st), -1);
}

/*
 * A live server's path is defended, whatever kind the newcomer asks for,
 * and it keeps working; a child closing its inherited copy of the listener
 * does not remove the file, only the creator does.
 */
static void
test_live_path_in_use(void **state)
{
	static const enum ik_sock_kind kinds[] = { IK_SOCK_UNIX_STREAM,
						   IK_SOCK_UNIX_SEQPACKET,
						   IK_SOCK_UNIX_DGRAM };
	struct ik_sock *srv, *other, *c;
	struct ikt_sync ready, done;
	struct stat st, st2;
	char path[128], b = 0;
	ssize_t r;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "live");
	ikt_sync_init(&ready);
	ikt_sync_init(&done);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_listen(&srv, IK_SOCK_UNIX_STREAM, path,
					 NULL) == 0);
		ikt_post(&ready);
		/* the stream probes come as connections that end without a
		 * byte; the parent's real one says 'R' */
		for (int probes = 0;; probes++) {
			IKT_CHECK(probes <= 2);
			IKT_CHECK(ik_sock_accept(srv, &c, T) == 0);
			r = ik_sock_recv(c, &b, 1, T);
			if (r == 1)
				break;
			IKT_CHECK(r == 0);
			ik_sock_close(c);
		}
		IKT_CHECK(b == 'R');
		IKT_CHECK(ik_sock_send(c, "L", 1, T) == 1);
		ik_sock_close(c);
		IKT_CHECK(ikt_await(&done, T) == 0);
		IKT_CHECK(ik_sock_close(srv) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&ready, T), 0);
	assert_int_equal(lstat(path, &st), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(ik_sock_bind(&other, kinds[i], path, NULL),
				 -EADDRINUSE);
	assert_int_equal(
		ik_sock_listen(&other, IK_SOCK_UNIX_STREAM, path, NULL),
		-EADDRINUSE);
	assert_int_equal(lstat(path, &st2), 0);
	assert_true(st.st_ino == st2.st_ino);
	/* the probes' connections were taken and dropped; a real one works */
	assert_int_equal(
		ik_sock_connect(&c, IK_SOCK_UNIX_STREAM, path, NULL, T), 0);
	assert_int_equal(ik_sock_send(c, "R", 1, T), 1);
	assert_int_equal(ik_sock_recv(c, &b, 1, T), 1);
	assert_int_equal(b, 'L');
	ik_sock_close(c);
	ikt_post(&done);
	ikt_assert_child_ok(pid);
	assert_int_equal(lstat(path, &st), -1);
	ikt_sync_close(&ready);
	ikt_sync_close(&done);

	/* inherited copy closed in a child: the file stays */
	assert_int_equal(ik_sock_listen(&srv, IK_SOCK_UNIX_STREAM, path, NULL),
			 0);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_close(srv) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(ik_sock_close(srv), 0);
	assert_int_equal(lstat(path, &st), -1);
}

static void
test_not_a_socket_and_too_long(void **state)
{
	struct ik_sock *s;
	char path[256], link[128], buf[8] = { 0 };
	size_t dir;
	FILE *f;

	(void)state;
	ikt_path(path, sizeof(path), "file");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	assert_int_equal(ik_sock_listen(&s, IK_SOCK_UNIX_STREAM, path, NULL),
			 IK_ENOTSOCK_PATH);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep"); /* untouched */
	/* a symlink is not followed, not removed */
	ikt_path(link, sizeof(link), "link");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ik_sock_bind(&s, IK_SOCK_UNIX_DGRAM, link, NULL),
			 IK_ENOTSOCK_PATH);
	assert_int_equal(access(link, F_OK), 0);
	unlink(link);
	unlink(path);

	/* 107 bytes + NUL fit sun_path; 108 do not, and are not cut */
	snprintf(path, sizeof(path), "%s/", ikt_tmpdir());
	dir = strlen(path);
	memset(path + dir, 'p', 107 - dir);
	path[107] = '\0';
	assert_int_equal(ik_sock_listen(&s, IK_SOCK_UNIX_STREAM, path, NULL),
			 0);
	ik_sock_close(s);
	path[107] = 'p';
	path[108] = '\0';
	assert_int_equal(ik_sock_listen(&s, IK_SOCK_UNIX_STREAM, path, NULL),
			 -ENAMETOOLONG);
	assert_int_equal(
		ik_sock_connect(&s, IK_SOCK_UNIX_STREAM, path, NULL, T),
		-ENAMETOOLONG);
	path[107] = '\0';
	assert_int_equal(access(path, F_OK), -1); /* nothing made */
	/* abstract: 107 name bytes after the leading NUL */
	memset(path, 'a', 108);
	path[108] = '\0';
	assert_int_equal(
		ik_sock_listen(&s, IK_SOCK_ABSTRACT_STREAM, path, NULL),
		-ENAMETOOLONG);
}

static void
test_socket_file_mode(void **state)
{
	struct ik_sock_opts o = { .mode = 0660 };
	struct ik_sock *srv, *c;
	char path[128], b = 0;
	struct stat st;
	mode_t old;
	pid_t pid;

	(void)state;
	old = umask(0); /* the default must not rely on the umask */
	ikt_path(path, sizeof(path), "mode");
	assert_int_equal(ik_sock_listen(&srv, IK_SOCK_UNIX_STREAM, path, NULL),
			 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(&c, IK_SOCK_UNIX_STREAM, path, NULL,
					  T) == 0);
		IKT_CHECK(ik_sock_send(c, "m", 1, T) == 1);
		_exit(0);
	}
	assert_int_equal(ik_sock_accept(srv, &c, T), 0);
	assert_int_equal(ik_sock_recv(c, &b, 1, T), 1);
	assert_int_equal(b, 'm');
	ik_sock_close(c);
	ikt_assert_child_ok(pid);
	ik_sock_close(srv);
	assert_int_equal(ik_sock_bind(&srv, IK_SOCK_UNIX_DGRAM, path, &o), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	ik_sock_close(srv);
	o.mode = 01777;
	assert_int_equal(ik_sock_bind(&srv, IK_SOCK_UNIX_DGRAM, path, &o),
			 -EINVAL);
	umask(old);
}

static void
test_connect_to_nothing(void **state)
{
	struct ik_sock *s, *hold;
	struct ik_sock_addr a;
	char path[128], name[64], port[64];
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "none");
	assert_int_equal(
		ik_sock_connect(&s, IK_SOCK_UNIX_STREAM, path, NULL, T),
		-ENOENT);
	ikt_name(name, sizeof(name), "none");
	assert_int_equal(
		ik_sock_connect(&s, IK_SOCK_ABSTRACT_SEQPACKET, name, NULL, T),
		-ECONNREFUSED);
	/* a port held (bound, not listening) by another process */
	assert_int_equal(ik_sock_bind(&hold, IK_SOCK_TCP, "127.0.0.1:0", NULL),
			 0);
	assert_int_equal(ik_sock_local_addr(hold, &a), 0);
	assert_true(ik_sock_format(&a, port, sizeof(port)) > 0);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(&s, IK_SOCK_TCP, port, NULL, T) ==
			  -ECONNREFUSED);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	ik_sock_close(hold);
}

/*
 * A listener that never accepts, in a child: once its backlog is full a
 * connect waits and gives up at its deadline, not before, and timeout 0
 * does not wait at all.
 */
static void
test_connect_timeout(void **state)
{
	const struct kind_case *kc = *state;
	struct ik_sock_opts o = { .backlog = 1 };
	struct ik_sock *srv, *held[32];
	struct ik_sock_addr a;
	struct ikt_sync ready, done;
	char addr[128];
	unsigned n = 0;
	int64_t t0, el;
	pid_t pid;
	int r = 0;

	make_addr(kc->kind, kc->inet, addr, sizeof(addr));
	ikt_sync_init(&ready);
	ikt_sync_init(&done);
	/* bound here so the address is known; only the child listens */
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_listen(&srv, kc->kind, addr, &o) == 0);
		IKT_CHECK(ik_sock_local_addr(srv, &a) == 0);
		IKT_CHECK(ik_sock_format(&a, addr, sizeof(addr)) > 0);
		IKT_CHECK(write(ready.wr, addr, sizeof(addr)) == sizeof(addr));
		IKT_CHECK(ikt_await(&done, T) == 0);
		ik_sock_close(srv);
		_exit(0);
	}
	assert_int_equal(read(ready.rd, addr, sizeof(addr)), sizeof(addr));
	/* fill the backlog: each connect gets 1 s, the last one times out */
	while (n < 32) {
		t0 = ik__now_ns();
		r = ik_sock_connect(&held[n], kc->kind, addr, NULL, 1000);
		el = ik__now_ns() - t0;
		if (r < 0)
			break;
		n++;
	}
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(n >= 1 && n < 32);
	assert_true(el >= 1000 * 1000000LL);
	assert_true(el < 20000 * 1000000LL);
	if (kc->kind != IK_SOCK_TCP) /* a TCP SYN is simply in flight */
		assert_int_equal(
			ik_sock_connect(&held[n], kc->kind, addr, NULL, 0),
			-EAGAIN);
	ikt_post(&done);
	ikt_assert_child_ok(pid);
	while (n > 0)
		ik_sock_close(held[--n]);
	ikt_sync_close(&ready);
	ikt_sync_close(&done);
}

static void
test_accept_timeout(void **state)
{
	struct ik_sock *srv, *c;
	struct ikt_sync go;
	char path[128], b = 0;
	int64_t t0, el;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "acc");
	assert_int_equal(ik_sock_listen(&srv, IK_SOCK_UNIX_STREAM, path, NULL),
			 0);
	ikt_sync_init(&go);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ikt_await(&go, T) == 0);
		IKT_CHECK(ik_sock_connect(&c, IK_SOCK_UNIX_STREAM, path, NULL,
					  T) == 0);
		IKT_CHECK(ik_sock_send(c, "a", 1, T) == 1);
		_exit(0);
	}
	assert_int_equal(ik_sock_accept(srv, &c, 0), -EAGAIN);
	t0 = ik__now_ns();
	assert_int_equal(ik_sock_accept(srv, &c, 200), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 200 * 1000000LL);
	assert_true(el < 20000 * 1000000LL);
	ikt_post(&go);
	assert_int_equal(ik_sock_accept(srv, &c, T), 0);
	assert_int_equal(ik_sock_recv(c, &b, 1, T), 1);
	assert_int_equal(b, 'a');
	ikt_assert_child_ok(pid); /* child gone: EOF, not a timeout */
	assert_int_equal(ik_sock_recv(c, &b, 1, 200), 0);
	ik_sock_close(c);
	ik_sock_close(srv);
	ikt_sync_close(&go);
}

/* A receive with a deadline and nothing coming. */
static void
test_recv_timeout(void **state)
{
	struct ik_sock *p[2];
	struct ikt_sync done;
	char b;
	int64_t t0, el;
	pid_t pid;

	(void)state;
	assert_int_equal(ik_sock_pair(IK_SOCK_UNIX_SEQPACKET, p), 0);
	ikt_sync_init(&done);
	pid = xfork();
	if (pid == 0) { /* holds its end open, sends nothing */
		ik_sock_close(p[0]);
		IKT_CHECK(ikt_await(&done, T) == 0);
		IKT_CHECK(ik_sock_send(p[1], "z", 1, T) == 1);
		_exit(0);
	}
	ik_sock_close(p[1]);
	assert_int_equal(ik_sock_recv(p[0], &b, 1, 0), -EAGAIN);
	t0 = ik__now_ns();
	assert_int_equal(ik_sock_recv(p[0], &b, 1, 250), -ETIMEDOUT);
	el = ik__now_ns() - t0;
	assert_true(el >= 250 * 1000000LL);
	ikt_post(&done);
	assert_int_equal(ik_sock_recv(p[0], &b, 1, T), 1);
	assert_int_equal(b, 'z');
	ikt_assert_child_ok(pid);
	ik_sock_close(p[0]);
	ikt_sync_close(&done);
}

/* The peer sends 40 of the 100 bytes the reader wants, then dies. */
static void
test_peer_closes_mid_message(void **state)
{
	const struct kind_case *kc = *state;
	struct ik_sock *srv, *c;
	char addr[128], real[128], buf[100];
	pid_t pid;

	make_addr(kc->kind, kc->inet, addr, sizeof(addr));
	assert_int_equal(serve(kc->kind, addr, &srv, real, sizeof(real)), 0);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_connect(&c, kc->kind, real, NULL, T) == 0);
		ikt_fill(buf, 40, 5);
		IKT_CHECK(ik_sock_send(c, buf, 40, T) == 40);
		_exit(0);
	}
	assert_int_equal(ik_sock_accept(srv, &c, T), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ik_sock_recv(c, buf, sizeof(buf), T), 40);
	assert_int_equal(ikt_check(buf, 40, 5), 0);
	assert_int_equal(ik_sock_recv(c, buf, sizeof(buf), T), 0);
	ikt_assert_child_ok(pid);
	ik_sock_close(c);
	ik_sock_close(srv);
}

/*
 * The reader is gone: sends fail with -EPIPE (TCP may say -ECONNRESET
 * first), the default SIGPIPE disposition is in force and we live on.
 */
static void
test_epipe_peer_gone(void **state)
{
	const struct kind_case *kc = *state;
	struct sigaction sa = { .sa_handler = SIG_DFL }, old;
	struct ik_sock *srv, *c, *conn;
	char addr[128], real[128], buf[4096] = { 0 };
	sigset_t pending;
	ssize_t r = 0;
	pid_t pid;

	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	make_addr(kc->kind, kc->inet, addr, sizeof(addr));
	assert_int_equal(serve(kc->kind, addr, &srv, real, sizeof(real)), 0);
	pid = xfork();
	if (pid == 0) {
		IKT_CHECK(ik_sock_accept(srv, &conn, T) == 0);
		IKT_CHECK(ik_sock_recv(conn, buf, 1, T) == 1);
		_exit(0);
	}
	assert_int_equal(ik_sock_connect(&c, kc->kind, real, NULL, T), 0);
	assert_int_equal(ik_sock_send(c, "x", 1, T), 1);
	ikt_assert_child_ok(pid);
	ik_sock_close(srv);
	for (int i = 0; i < 100 && r >= 0; i++)
		r = ik_sock_send(c, buf, sizeof(buf), T);
	if (kc->kind == IK_SOCK_TCP && r == -ECONNRESET)
		r = ik_sock_send(c, buf, sizeof(buf), T);
	assert_int_equal(r, -EPIPE);
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	ik_sock_close(c);
	sigaction(SIGPIPE, &old, NULL);
}

static void
test_resolve_and_format(void **state)
{
	static const char *bad[] = {
		"",	    "127.0.0.1", "::1:80",   "[::1]80", "[]:80",
		"1.2.3.4:", "h:65536",	 "h:123456", "[::1:80", "1.2.3.4:-1"
	};
	struct ik_sock_addr a;
	struct ik_sock *s;
	char buf[128];

	(void)state;
	assert_int_equal(ik_sock_resolve(IK_SOCK_TCP, "127.0.0.1:6380",
					 IK_SOCK_NUMERIC, &a),
			 0);
	assert_int_equal(ik_sock_format(&a, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "127.0.0.1:6380");
	assert_int_equal(
		ik_sock_resolve(IK_SOCK_UDP, "[::1]:53", IK_SOCK_NUMERIC, &a),
		0);
	assert_true(ik_sock_format(&a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "[::1]:53");
	assert_int_equal(ik_sock_format(&a, buf, 5), -ENOSPC);
	assert_int_equal(ik_sock_resolve(IK_SOCK_ABSTRACT_DGRAM, "app", 0, &a),
			 0);
	assert_int_equal(ik_sock_format(&a, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "app");
	assert_int_equal(
		ik_sock_resolve(IK_SOCK_UNIX_STREAM, "/run/x.sock", 0, &a), 0);
	assert_int_equal(ik_sock_format(&a, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "/run/x.sock");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ik_sock_resolve(IK_SOCK_TCP, bad[i],
						 IK_SOCK_NUMERIC, &a),
				 IK_EBADADDR);
	assert_int_equal(ik_sock_resolve(IK_SOCK_TCP, "localhost:http",
					 IK_SOCK_NUMERIC, &a),
			 IK_EBADADDR);
	assert_int_equal(ik_sock_resolve(IK_SOCK_TCP, "name.example:80",
					 IK_SOCK_NUMERIC, &a),
			 IK_EBADADDR);
	assert_int_equal(ik_sock_resolve(IK_SOCK_UNIX_STREAM, "", 0, &a),
			 IK_EBADADDR);
	assert_int_equal(ik_sock_resolve((enum ik_sock_kind)99, "x", 0, &a),
			 -EINVAL);
	assert_int_equal(ik_sock_listen(&s, IK_SOCK_UDP, "127.0.0.1:0", NULL),
			 -EOPNOTSUPP);
	assert_int_equal(ik_sock_listen(&s, IK_SOCK_UNIX_DGRAM, "/x", NULL),
			 -EOPNOTSUPP);
	assert_int_equal(ik_sock_pair(IK_SOCK_TCP, (struct ik_sock *[2]){ 0 }),
			 -EOPNOTSUPP);
	assert_int_equal(ik_sock_shutdown(NULL, SHUT_WR), -EINVAL);
	assert_int_equal(ik_sock_close(NULL), 0);
}

/* shutdown(SHUT_WR): the peer sees the end, and can still answer. */
static void
test_shutdown_half_close(void **state)
{
	struct ik_sock *p[2];
	char buf[16];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_sock_pair(IK_SOCK_UNIX_STREAM, p), 0);
	pid = xfork();
	if (pid == 0) {
		ik_sock_close(p[0]);
		IKT_CHECK(ik_sock_recv(p[1], buf, sizeof(buf), T) == 3);
		IKT_CHECK(memcmp(buf, "req", 3) == 0);
		IKT_CHECK(ik_sock_send(p[1], "resp", 4, T) == 4);
		_exit(0);
	}
	ik_sock_close(p[1]);
	assert_int_equal(ik_sock_send(p[0], "req", 3, T), 3);
	assert_int_equal(ik_sock_shutdown(p[0], SHUT_WR), 0);
	assert_int_equal(ik_sock_set_nonblock(p[0], true), 0);
	assert_int_equal(ik_sock_recv(p[0], buf, sizeof(buf), T), 4);
	assert_memory_equal(buf, "resp", 4);
	assert_int_equal(ik_sock_send(p[0], "x", 1, T), -EPIPE);
	ikt_assert_child_ok(pid);
	ik_sock_close(p[0]);
}

#define KC(name, k, inet) static const struct kind_case name = { k, inet }
KC(k_unix, IK_SOCK_UNIX_STREAM, NULL);
KC(k_unixgram, IK_SOCK_UNIX_DGRAM, NULL);
KC(k_unixpacket, IK_SOCK_UNIX_SEQPACKET, NULL);
KC(k_abs, IK_SOCK_ABSTRACT_STREAM, NULL);
KC(k_absgram, IK_SOCK_ABSTRACT_DGRAM, NULL);
KC(k_abspacket, IK_SOCK_ABSTRACT_SEQPACKET, NULL);
KC(k_tcp4, IK_SOCK_TCP, "127.0.0.1:0");
KC(k_tcp6, IK_SOCK_TCP, "[::1]:0");
KC(k_udp4, IK_SOCK_UDP, "127.0.0.1:0");
KC(k_udp6, IK_SOCK_UDP, "[::1]:0");

#define CASE(fn, kc)                              \
	cmocka_unit_test_prestate_setup_teardown( \
		fn, NULL, ikt_tmpdir_teardown, (void *)&(kc))

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_echo, k_unix),
		CASE(test_echo, k_unixgram),
		CASE(test_echo, k_unixpacket),
		CASE(test_echo, k_abs),
		CASE(test_echo, k_absgram),
		CASE(test_echo, k_abspacket),
		CASE(test_echo, k_tcp4),
		CASE(test_echo, k_tcp6),
		CASE(test_echo, k_udp4),
		CASE(test_echo, k_udp6),
		CASE(test_stream_1mib, k_unix),
		CASE(test_stream_1mib, k_tcp4),
		CASE(test_boundaries_and_emsgsize, k_unixgram),
		CASE(test_boundaries_and_emsgsize, k_unixpacket),
		CASE(test_boundaries_and_emsgsize, k_abspacket),
		CASE(test_boundaries_and_emsgsize, k_udp4),
		CASE(test_stale_path_replaced, k_unix),
		CASE(test_live_path_in_use, k_unix),
		CASE(test_not_a_socket_and_too_long, k_unix),
		CASE(test_socket_file_mode, k_unix),
		CASE(test_connect_to_nothing, k_unix),
		CASE(test_connect_timeout, k_unix),
		CASE(test_connect_timeout, k_abspacket),
		CASE(test_connect_timeout, k_tcp4),
		CASE(test_accept_timeout, k_unix),
		CASE(test_recv_timeout, k_unixpacket),
		CASE(test_peer_closes_mid_message, k_unix),
		CASE(test_peer_closes_mid_message, k_tcp4),
		CASE(test_epipe_peer_gone, k_unix),
		CASE(test_epipe_peer_gone, k_tcp4),
		CASE(test_resolve_and_format, k_unix),
		CASE(test_shutdown_half_close, k_unix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
