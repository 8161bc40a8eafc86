/*
 * Faults in the socket module: a Unix stream server (listen, accept, a
 * transfer larger than the socket buffers, both ways), TCP on the loopback,
 * datagrams, and descriptor passing (received descriptors must never leak,
 * also when the call fails after recvmsg took them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/sock.h>

#include "ikf.h"
#include "ikt.h"

#define BIG (256 * 1024)

static char addr[256];
static enum ik_sock_kind kind;
static char out[BIG], in[BIG];

/* Client peer: connect, send BIG, read it back. */
static int
client(void *arg)
{
	struct ik_sock *s;
	int rc = 0;

	(void)arg;
	if (ik_sock_connect(&s, kind, addr, NULL, 20000) != 0)
		return 1;
	ikt_fill(out, BIG, 3);
	if (ik_sock_send(s, out, BIG, 20000) != BIG)
		rc = 2;
	else if (ik_sock_recv(s, in, BIG, 20000) != BIG ||
		 ikt_check(in, BIG, 3) != 0)
		rc = 3;
	ik_sock_close(s);
	return rc;
}

static void
server(enum ik_sock_kind k, const char *a)
{
	struct ik_sock *srv = NULL, *c = NULL;
	struct ik_sock_addr la;
	pid_t peer = -1;

	kind = k;
	if (IKF(ik_sock_listen(&srv, k, a, NULL)) < 0)
		return;
	if (IKF(ik_sock_local_addr(srv, &la)) < 0 ||
	    IKF(ik_sock_format(&la, addr, sizeof(addr))) < 0)
		goto out;
	peer = ikf_peer(client, NULL);
	if (IKF(ik_sock_accept(srv, &c, 20000)) < 0)
		goto out;
	if (IKF(ik_sock_recv(c, in, BIG, 20000)) != BIG)
		goto out;
	IKF_ASSERT(ikt_check(in, BIG, 3) == 0);
	if (IKF(ik_sock_send(c, in, BIG, 20000)) != BIG)
		goto out;
out:
	if (c)
		IKF(ik_sock_close(c));
	if (IKF(ik_sock_close(srv)) < 0 && k == IK_SOCK_UNIX_STREAM)
		unlink(a); /* a close that reports an error leaves it to us */
	ikf_peer_end(peer);
}

static void
sc_unix(void)
{
	char p[256];

	ikf_path(p, sizeof(p), "sock");
	server(IK_SOCK_UNIX_STREAM, p);
}

static void
sc_tcp(void)
{
	server(IK_SOCK_TCP, "127.0.0.1:0");
}

static int
dgram_peer(void *arg)
{
	struct ik_sock *s;
	struct ik_sock_addr from;
	char b[1000];
	ssize_t n;
	int rc = 0;

	(void)arg;
	if (ik_sock_bind(&s, IK_SOCK_UNIX_DGRAM, addr, NULL) != 0)
		return 1;
	ikt_post((struct ikt_sync *)arg);
	for (int i = 0; i < 3 && rc == 0; i++) {
		n = ik_sock_recvfrom(s, b, sizeof(b), &from, 20000);
		if (n != 700 || ik_sock_sendto(s, b, 700, &from, 20000) != 700)
			rc = 2;
	}
	ik_sock_close(s);
	return rc;
}

static void
sc_dgram(void)
{
	struct ik_sock *s = NULL;
	struct ik_sock_addr to;
	struct ikt_sync ready;
	char me[256], b[1000];
	pid_t peer;

	ikf_path(addr, sizeof(addr), "peer");
	ikf_path(me, sizeof(me), "me");
	ikt_sync_init(&ready);
	peer = ikf_peer(dgram_peer, &ready);
	if (ikt_await(&ready, IKT_WAIT_MS) != 0)
		IKF_ASSERT(!"peer bound");
	if (IKF(ik_sock_bind(&s, IK_SOCK_UNIX_DGRAM, me, NULL)) < 0)
		goto out;
	if (IKF(ik_sock_resolve(IK_SOCK_UNIX_DGRAM, addr, 0, &to)) < 0)
		goto out;
	for (int i = 0; i < 3; i++) {
		ikt_fill(b, 700, (uint32_t)i);
		if (IKF(ik_sock_sendto(s, b, 700, &to, 20000)) != 700)
			goto out;
		memset(b, 0, sizeof(b));
		if (IKF(ik_sock_recvfrom(s, b, sizeof(b), NULL, 20000)) != 700)
			goto out;
		IKF_ASSERT(ikt_check(b, 700, (uint32_t)i) == 0);
	}
out:
	if (s && IKF(ik_sock_close(s)) < 0)
		unlink(me);
	if (!s)
		unlink(me);
	ikt_sync_close(&ready);
	ikf_peer_end(peer);
	unlink(addr); /* a killed peer leaves its socket file */
}

static struct ik_sock *pair[2];

/* Take two descriptors, send back two of our own (a pipe's ends). */
static int
fds_peer(void *arg)
{
	int got[4], p[2], n = 0;
	size_t nfds = 4;
	char b[16];

	(void)arg;
	ik_sock_close(pair[0]);
	n = (int)ik_sock_recv_fds(pair[1], b, 5, got, &nfds, 20000);
	/* one recvmsg: the rest of a short send comes after */
	if (n <= 0 || nfds != 2 ||
	    (n < 5 &&
	     ik_sock_recv(pair[1], b + n, (size_t)(5 - n), 20000) != 5 - n) ||
	    memcmp(b, "hello", 5) != 0)
		return 1;
	/* got[1] is the parent's pipe write end: prove it is the one */
	if (write(got[1], "ping", 4) != 4)
		return 2;
	close(got[0]);
	close(got[1]);
	if (pipe(p) != 0)
		return 3;
	n = (int)ik_sock_send_fds(pair[1], "fds", 3, p, 2, 20000);
	close(p[0]);
	close(p[1]);
	return n == 3 ? 0 : 4;
}

static void
sc_fds(void)
{
	int mine[2] = { -1, -1 }, got[4];
	long n;
	size_t nfds = 4;
	char b[16];
	pid_t peer = -1;

	pair[0] = pair[1] = NULL;
	if (IKF(ik_sock_pair(IK_SOCK_UNIX_STREAM, pair)) < 0)
		return;
	if (pipe(mine) != 0)
		goto out;
	peer = ikf_peer(fds_peer, NULL);
	ik_sock_close(pair[1]);
	pair[1] = NULL;
	if (IKF(ik_sock_send_fds(pair[0], "hello", 5, mine, 2, 20000)) != 5)
		goto out;
	IKF_ASSERT(read(mine[0], b, 4) == 4 && memcmp(b, "ping", 4) == 0);
	n = IKF(ik_sock_recv_fds(pair[0], b, 3, got, &nfds, 20000));
	if (n <= 0)
		goto out;
	/* one recvmsg: the fds come with the first byte, the rest after */
	if (n < 3 &&
	    IKF(ik_sock_recv(pair[0], b + n, (size_t)(3 - n), 20000)) != 3 - n)
		nfds = 0; /* checked below */
	IKF_ASSERT(nfds == 2);
	if (nfds == 2) {
		IKF_ASSERT(write(got[1], "pong", 4) == 4);
		IKF_ASSERT(read(got[0], b, 4) == 4 &&
			   memcmp(b, "pong", 4) == 0);
		close(got[0]);
		close(got[1]);
	}
out:
	if (mine[0] >= 0) {
		close(mine[0]);
		close(mine[1]);
	}
	ik_sock_close(pair[0]);
	ik_sock_close(pair[1]);
	ikf_peer_end(peer);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "sock_unix", sc_unix },
		{ "sock_tcp", sc_tcp },
		{ "sock_dgram", sc_dgram },
		{ "sock_fds", sc_fds },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
