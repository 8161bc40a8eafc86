/*
 * Faults in the channel layer, one scenario per scheme family: a listener
 * (and its accepted connection) receiving from a dialling peer. A failed
 * receive must lose nothing (the next one gets the message, whole), and a
 * failed listen must leave no socket file, FIFO, queue or segment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ipckit/chan.h>

#include "ikf.h"
#include "ikt.h"

#define NMSG 3

static char addr[300];

static size_t
len_of(int i)
{
	return 1 + (size_t)i * 1500;
}

static int
dialler(void *arg)
{
	struct ik_chan *c;
	char b[5000], err[128];
	int rc = 0;

	(void)arg;
	if (ik_chan_dial(&c, addr, 20000, err, sizeof(err)) != 0) {
		fprintf(stderr, "dial %s: %s\n", addr, err);
		return 1;
	}
	for (int i = 0; i < NMSG && rc == 0; i++) {
		ikt_fill(b, len_of(i), (uint32_t)i);
		if (ik_chan_send(c, b, len_of(i), 20000) != (ssize_t)len_of(i))
			rc = 2;
	}
	ik_chan_close(c);
	return rc;
}

static void
run(const char *scheme, const char *rest, const char *query)
{
	struct ik_chan *l = NULL, *c = NULL, *rx;
	char b[5000], err[128];
	pid_t peer = -1;
	long n;

	snprintf(addr, sizeof(addr), "%s:%s%s", scheme, rest, query);
	if (IKF(ik_chan_listen(&l, addr, err, sizeof(err))) < 0)
		return;
	/* a port 0 listener knows its port only now */
	if (IKF(ik_chan_addr(l, addr, sizeof(addr))) < 0)
		goto out;
	peer = ikf_peer(dialler, NULL);
	rx = l;
	if (ik_chan_caps(l) & IK_CHAN_ACCEPT) {
		if (IKF(ik_chan_accept(l, &c, 20000)) < 0)
			goto out;
		rx = c;
	}
	for (int i = 0; i < NMSG; i++) {
		do
			n = IKF(ik_chan_recv(rx, b, sizeof(b), 20000));
		while (n < 0 && ikf_errored() && n != -ETIMEDOUT &&
		       n != -EPIPE);
		if (n < 0)
			goto out;
		IKF_ASSERT(n == (long)len_of(i) &&
			   ikt_check(b, len_of(i), (uint32_t)i) == 0);
	}
	ik_chan_close(c);
	c = NULL;
	ik_chan_close(l);
	l = NULL;
	ikf_peer_join(peer);
	peer = -1;
out:
	ikf_peer_end(peer);
	ik_chan_close(c);
	ik_chan_close(l);
}

static void
path_run(const char *scheme)
{
	char p[256];

	ikf_path(p, sizeof(p), "chan");
	run(scheme, p, "");
}

static void
name_run(const char *scheme, const char *query)
{
	char p[64];

	ikf_name(p, sizeof(p), "chan");
	run(scheme, p, query);
}

static void
sc_unix(void)
{
	path_run("unix");
}

static void
sc_unixpacket(void)
{
	path_run("unixpacket");
}

static void
sc_unixgram(void)
{
	path_run("unixgram");
}

static void
sc_tcp(void)
{
	run("tcp", "127.0.0.1:0", "");
}

static void
sc_fifo(void)
{
	path_run("fifo");
}

static void
sc_pmq(void)
{
	name_run("pmq", "?maxmsg=4&msgsize=8192");
}

static void
sc_svmq(void)
{
	char k[32];

	snprintf(k, sizeof(k), "0x%x", (unsigned)ikf_key(0));
	run("svmq", k, "");
}

static void
sc_shm(void)
{
	name_run("shm", "?size=64K");
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "chan_unix", sc_unix },
		{ "chan_unixpacket", sc_unixpacket },
		{ "chan_unixgram", sc_unixgram },
		{ "chan_tcp", sc_tcp },
		{ "chan_fifo", sc_fifo },
		{ "chan_pmq", sc_pmq },
		{ "chan_svmq", sc_svmq },
		{ "chan_shm", sc_shm },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
