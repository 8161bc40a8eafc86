/*
 * nng pair1 sockets over ipc:// and tcp://. nng starts threads, and a
 * process with nng's threads must not fork: each side opens its socket
 * after the harness forked it, in a process that never forks again. A
 * listens (tcp port 0: the bound port is read back), B dials.
 */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <stdlib.h>
#include <string.h>

#include "../bench.h"

struct nside {
	nng_socket s;
	int open;
};

static int
nerr(struct bench_end *e, const char *what, int rv)
{
	snprintf(e->note, sizeof(e->note), "%s: %s", what, nng_strerror(rv));
	return -EIO;
}

static int
n_open(const struct bench_row *r, struct bench_end *e)
{
	struct nside *n = calloc(1, sizeof(*n));
	char url[256], dir[80], name[64];
	int rv, rc, port, tcp = strcmp(r->arg, "tcp") == 0;
	nng_listener l;

	if ((e->st = n) == NULL)
		return -ENOMEM;
	if ((rv = nng_pair1_open(&n->s)) != 0)
		return nerr(e, "nng_pair1_open", rv);
	n->open = 1;
	/* a lost peer ends the row after a bounded wait, not never */
	nng_socket_set_ms(n->s, NNG_OPT_RECVTIMEO, 30000);
	nng_socket_set_ms(n->s, NNG_OPT_SENDTIMEO, 30000);
	nng_socket_set_size(n->s, NNG_OPT_RECVMAXSZ, 0); /* no limit */
	if (e->side == 0) {
		if (tcp) {
			snprintf(url, sizeof(url), "tcp://127.0.0.1:0");
		} else {
			if ((rc = bench_dir(dir, sizeof(dir))) < 0)
				return rc;
			bench_name(name, sizeof(name), "nq");
			snprintf(url, sizeof(url), "ipc://%.80s/%.40s", dir,
				 name);
		}
		if ((rv = nng_listen(n->s, url, &l, 0)) != 0)
			return nerr(e, "nng_listen", rv);
		if (tcp) {
			if ((rv = nng_listener_get_int(
				     l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0)
				return nerr(e, "bound port", rv);
			snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
		}
		if ((rc = bench_ctl_send(e, url)) < 0 ||
		    (rc = bench_ctl_recv(e, url, sizeof(url))) < 0)
			return rc;
	} else {
		if ((rc = bench_ctl_recv(e, url, sizeof(url))) < 0)
			return rc;
		if ((rv = nng_dial(n->s, url, NULL, 0)) != 0)
			return nerr(e, "nng_dial", rv);
		if ((rc = bench_ctl_send(e, "connected")) < 0)
			return rc;
	}
	return 0;
}

static int
n_send(struct bench_end *e, void *buf, size_t len)
{
	struct nside *n = e->st;
	int rv = nng_send(n->s, buf, len, 0);

	return rv == 0 ? 0 : rv == NNG_ETIMEDOUT ? -ETIMEDOUT : -EIO;
}

static int
n_recv(struct bench_end *e, void *buf, size_t len)
{
	struct nside *n = e->st;
	size_t sz = len;
	int rv = nng_recv(n->s, buf, &sz, 0);

	if (rv != 0)
		return rv == NNG_ETIMEDOUT ? -ETIMEDOUT : -EIO;
	return sz == len ? 0 : -EBADMSG;
}

static void
n_close(struct bench_end *e)
{
	struct nside *n = e->st;

	if (n == NULL)
		return;
	if (n->open)
		nng_close(n->s);
	free(n);
	e->st = NULL;
}

const struct bench_row bench_rows_nng[] = {
	{ "nng pair1 ipc://", "nng-ipc", BK_PEER, 0, "ipc", NULL, n_open,
	  n_send, n_recv, n_close, NULL },
	{ "nng pair1 tcp://", "nng-tcp", BK_PEER, 0, "tcp", NULL, n_open,
	  n_send, n_recv, n_close, NULL },
	{ .name = NULL },
};
