/*
 * Faults in the FIFO module: create-and-open with the reader/writer
 * rendezvous (a failed open must remove the FIFO it created), messages
 * both ways, a stream larger than the pipe, and EPIPE once the reader left.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/fifo.h>

#include "ikf.h"
#include "ikt.h"

#define BIG (150 * 1024)

static char path[256];
static size_t stream_len;
static struct ikt_sync go;

/*
 * The peer: once the FIFO exists (go), open it for writing (waiting for
 * the reader), then send three messages or a stream.
 */
static int
writer(void *arg)
{
	static char buf[BIG];
	ik_fifo *f;
	int rc = 0;

	(void)arg;
	if (ikt_await(&go, IKT_WAIT_MS) != 0)
		return 1;
	rc = ik_fifo_open(&f, path,
			  IK_FIFO_WRITE | (stream_len ? IK_FIFO_STREAM : 0),
			  20000);
	if (rc != 0) {
		fprintf(stderr, "writer: open: %s\n", ik_strerror(rc));
		return 1;
	}
	if (stream_len) {
		ikt_fill(buf, stream_len, 9);
		rc = ik_fifo_send(f, buf, stream_len, 20000) ==
				     (ssize_t)stream_len
			     ? 0
			     : 2;
	} else {
		for (int i = 0; i < 3 && rc == 0; i++) {
			ikt_fill(buf, 500, (uint32_t)i);
			rc = ik_fifo_send(f, buf, 500, 20000) == 500 ? 0 : 3;
		}
	}
	ik_fifo_close(f);
	return rc;
}

/*
 * Messages: create and open without waiting, then let the writer come.
 * Stream: make the FIFO, then open it waiting for the writer (rendezvous).
 */
static void
run(size_t len)
{
	static char buf[BIG];
	ik_fifo *f = NULL;
	pid_t peer;

	ikf_path(path, sizeof(path), "fifo");
	stream_len = len;
	ikt_sync_init(&go);
	peer = ikf_peer(writer, NULL);
	if (len) {
		if (IKF(ik_fifo_make(path)) < 0)
			goto out;
		ikt_post(&go);
		if (IKF(ik_fifo_open(&f, path, IK_FIFO_READ, 20000)) < 0)
			goto out;
		if (IKF(ik_fifo_recv_full(f, buf, len, 20000)) != (long)len)
			goto out;
		IKF_ASSERT(ikt_check(buf, len, 9) == 0);
	} else {
		if (IKF(ik_fifo_open(&f, path,
				     IK_FIFO_READ | IK_FIFO_CREATE |
					     IK_FIFO_EXCL | IK_FIFO_NOWAIT,
				     0)) < 0)
			goto out;
		IKF_ASSERT(ik_fifo_created(f));
		ikt_post(&go);
		for (int i = 0; i < 3; i++) {
			long r;

			/* one read(2) each: a message may come in pieces */
			for (size_t got = 0; got < 500; got += (size_t)r) {
				r = IKF(ik_fifo_recv(f, buf + got, 500 - got,
						     20000));
				if (r <= 0)
					goto out;
			}
			IKF_ASSERT(ikt_check(buf, 500, (uint32_t)i) == 0);
		}
	}
	IKF(ik_fifo_recv(f, buf, 500, 20000)); /* EOF: 0 */
out:
	/* a close that reports an error leaves the unlink to its caller */
	if (f && IKF(ik_fifo_close(f)) < 0)
		unlink(path);
	if (len)
		unlink(path);
	ikt_sync_close(&go);
	ikf_peer_end(peer);
}

static void
sc_messages(void)
{
	run(0);
}

static void
sc_stream(void)
{
	run(BIG);
}

/* make, then a server reader and a writer in this process; reader leaves. */
static void
sc_epipe(void)
{
	ik_fifo *r = NULL, *w = NULL;
	char b[100] = "hello";

	ikf_path(path, sizeof(path), "fifo");
	if (IKF(ik_fifo_make(path)) < 0)
		return;
	if (IKF(ik_fifo_open(&r, path, IK_FIFO_READ | IK_FIFO_SERVER, 0)) < 0)
		goto out;
	if (IKF(ik_fifo_open(&w, path, IK_FIFO_WRITE, 1000)) < 0)
		goto out;
	if (IKF(ik_fifo_send(w, b, sizeof(b), 1000)) < 0)
		goto out;
	if (IKF(ik_fifo_recv(r, b, sizeof(b), 1000)) != (long)sizeof(b))
		goto out;
	IKF_ASSERT(strcmp(b, "hello") == 0);
	ik_fifo_close(r);
	r = NULL;
	IKF_E(ik_fifo_send(w, b, sizeof(b), 1000), -EPIPE);
out:
	if (w)
		ik_fifo_close(w);
	if (r)
		ik_fifo_close(r);
	unlink(path);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "fifo_messages", sc_messages },
		{ "fifo_stream", sc_stream },
		{ "fifo_epipe", sc_epipe },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
