/*
 * Faults in the pipe module: creation, messages (one write each), and a
 * stream larger than the pipe (partial transfers, a peer echoing back),
 * and a write to a pipe whose reader is gone (-EPIPE, no signal).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/pipe.h>

#include "ikf.h"
#include "ikt.h"

#define BIG (200 * 1024)

struct duplex {
	int down[2], up[2]; /* parent -> peer, peer -> parent */
	size_t len;	    /* 0: messages, else a stream of len bytes */
};

static int
echo(void *arg)
{
	struct duplex *d = arg;
	static char buf[BIG];
	ssize_t n;

	close(d->down[1]);
	close(d->up[0]);
	if (d->len == 0) {
		for (int i = 0; i < 3; i++) {
			n = ik_pipe_recv(d->down[0], buf, sizeof(buf), 10000);
			if (n <= 0 ||
			    ik_pipe_send(d->up[1], buf, (size_t)n, 10000) != n)
				return 1;
		}
		return 0;
	}
	n = ik_pipe_read(d->down[0], buf, d->len, 10000, NULL);
	if (n != (ssize_t)d->len)
		return 2;
	return ik_pipe_write(d->up[1], buf, d->len, 10000, NULL) == n ? 0 : 3;
}

static void
run(size_t len, int flags)
{
	struct duplex d = { { -1, -1 }, { -1, -1 }, len };
	static char out[BIG], in[BIG];
	pid_t peer = -1;

	if (IKF(ik_pipe_open(d.down, flags)) < 0)
		return;
	if (IKF(ik_pipe_open(d.up, flags)) < 0)
		goto out;
	peer = ikf_peer(echo, &d);
	close(d.down[0]);
	close(d.up[1]);
	d.down[0] = d.up[1] = -1;
	if (len == 0) {
		for (int i = 0; i < 3; i++) {
			size_t n = 100 + (size_t)i * 1000;
			ssize_t r;

			ikt_fill(out, n, (uint32_t)i);
			if (IKF(ik_pipe_send(d.down[1], out, n, 10000)) < 0)
				goto out;
			/* a stream pipe may hand a message over in pieces */
			for (size_t got = 0; got < n; got += (size_t)r) {
				r = IKF(ik_pipe_recv(d.up[0], in + got,
						     sizeof(in) - got, 10000));
				if (r <= 0)
					goto out;
				IKF_ASSERT(flags == 0 || (size_t)r == n);
			}
			IKF_ASSERT(ikt_check(in, n, (uint32_t)i) == 0);
		}
	} else {
		ikt_fill(out, len, 7);
		if (IKF(ik_pipe_write(d.down[1], out, len, 10000, NULL)) !=
		    (long)len)
			goto out;
		if (IKF(ik_pipe_read(d.up[0], in, len, 10000, NULL)) !=
		    (long)len)
			goto out;
		IKF_ASSERT(ikt_check(in, len, 7) == 0);
	}
out:
	ik_pipe_close(d.down);
	ik_pipe_close(d.up);
	ikf_peer_end(peer);
}

static void
sc_messages(void)
{
	run(0, 0);
}

static void
sc_packets(void)
{
	run(0, IK_PIPE_PACKET);
}

static void
sc_stream(void)
{
	run(BIG, 0);
}

/* The reader is gone: -EPIPE, and SIGPIPE (default action) never kills. */
static void
sc_epipe(void)
{
	int fds[2];
	char b[64] = "x";
	if (IKF(ik_pipe_open(fds, 0)) < 0)
		return;
	close(fds[0]);
	IKF_E(ik_pipe_send(fds[1], b, sizeof(b), 1000), -EPIPE);
	close(fds[1]);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "pipe_messages", sc_messages },
		{ "pipe_packets", sc_packets },
		{ "pipe_stream", sc_stream },
		{ "pipe_epipe", sc_epipe },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
