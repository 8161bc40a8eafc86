/*
 * ZeroMQ PAIR sockets over ipc:// and tcp://. Each side creates its context
 * after fork and pinning, so its I/O thread starts on that side's CPU. A
 * binds (tcp port 0: the bound endpoint is read back), B connects.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../bench.h"

struct zside {
	void *ctx, *sock;
};

static int
zerr(struct bench_end *e, const char *what)
{
	int rc = -zmq_errno();

	snprintf(e->note, sizeof(e->note), "%s: %s", what, zmq_strerror(-rc));
	return rc < 0 ? rc : -EIO;
}

static int
z_open(const struct bench_row *r, struct bench_end *e)
{
	struct zside *z = calloc(1, sizeof(*z));
	char ep[256], dir[80], name[64];
	size_t len = sizeof(ep);
	int rc, tcp = strcmp(r->arg, "tcp") == 0;

	if ((e->st = z) == NULL)
		return -ENOMEM;
	if ((z->ctx = zmq_ctx_new()) == NULL)
		return zerr(e, "zmq_ctx_new");
	if ((z->sock = zmq_socket(z->ctx, ZMQ_PAIR)) == NULL)
		return zerr(e, "zmq_socket");
	if (e->side == 0) {
		if (tcp) {
			snprintf(ep, sizeof(ep), "tcp://127.0.0.1:*");
		} else {
			if ((rc = bench_dir(dir, sizeof(dir))) < 0)
				return rc;
			bench_name(name, sizeof(name), "zq");
			snprintf(ep, sizeof(ep), "ipc://%.80s/%.40s", dir,
				 name);
		}
		if (zmq_bind(z->sock, ep) < 0)
			return zerr(e, "zmq_bind");
		if (zmq_getsockopt(z->sock, ZMQ_LAST_ENDPOINT, ep, &len) < 0)
			return zerr(e, "ZMQ_LAST_ENDPOINT");
		if ((rc = bench_ctl_send(e, ep)) < 0 ||
		    (rc = bench_ctl_recv(e, ep, sizeof(ep))) < 0)
			return rc;
	} else {
		if ((rc = bench_ctl_recv(e, ep, sizeof(ep))) < 0)
			return rc;
		if (zmq_connect(z->sock, ep) < 0)
			return zerr(e, "zmq_connect");
		if ((rc = bench_ctl_send(e, "connected")) < 0)
			return rc;
	}
	e->maxmsg = 0;
	return 0;
}

static int
z_send(struct bench_end *e, void *buf, size_t len)
{
	struct zside *z = e->st;

	while (zmq_send(z->sock, buf, len, 0) < 0)
		if (zmq_errno() != EINTR)
			return -zmq_errno();
	return 0;
}

static int
z_recv(struct bench_end *e, void *buf, size_t len)
{
	struct zside *z = e->st;
	int n;

	while ((n = zmq_recv(z->sock, buf, len, 0)) < 0)
		if (zmq_errno() != EINTR)
			return -zmq_errno();
	return (size_t)n == len ? 0 : -EBADMSG;
}

static void
z_close(struct bench_end *e)
{
	struct zside *z = e->st;
	int linger = 0;

	if (z == NULL)
		return;
	if (z->sock) {
		zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_close(z->sock);
	}
	if (z->ctx)
		zmq_ctx_term(z->ctx);
	free(z);
	e->st = NULL;
}

const struct bench_row bench_rows_zmq[] = {
	{ "zeromq PAIR ipc://", "zmq-ipc", BK_PEER, 0, "ipc", NULL, z_open,
	  z_send, z_recv, z_close, NULL },
	{ "zeromq PAIR tcp://", "zmq-tcp", BK_PEER, 0, "tcp", NULL, z_open,
	  z_send, z_recv, z_close, NULL },
	{ .name = NULL },
};
