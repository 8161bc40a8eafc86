/*
 * Faults in the POSIX message queue module: create with attributes (a
 * failure leaves no queue name), messages with priorities both ways with
 * a peer that opens the queue by name, close and unlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <ipckit/pmq.h>

#include "ikf.h"
#include "ikt.h"

static char down[64], up[64];

/* /dev/mqueue may not be mounted for the leak scan: ask mq_open. */
static void
gone(const char *name)
{
	mqd_t q;

	IKF_ASSERT(ik_pmq_open(name, O_RDONLY, &q) == -ENOENT);
}

static int
echo(void *arg)
{
	mqd_t in, out;
	char b[1024];
	unsigned prio;
	int rc = 0;

	(void)arg;
	if (ik_pmq_open(down, O_RDONLY, &in) != 0)
		return 1;
	if (ik_pmq_open(up, O_WRONLY, &out) != 0)
		return 1;
	for (int i = 0; i < 3 && rc == 0; i++) {
		ssize_t n = ik_pmq_recv(in, b, sizeof(b), &prio, 20000);

		if (n <= 0 || ik_pmq_send(out, b, (size_t)n, prio, 20000) != 0)
			rc = 2;
	}
	ik_pmq_close(in);
	ik_pmq_close(out);
	return rc;
}

static void
sc_echo(void)
{
	struct ik_pmq_attr a = { .maxmsg = 4, .msgsize = 1024 };
	mqd_t d = (mqd_t)-1, u = (mqd_t)-1;
	char b[1024];
	unsigned prio;
	pid_t peer = -1;

	ikf_name(down, sizeof(down), "down");
	ikf_name(up, sizeof(up), "up");
	if (IKF(ik_pmq_create(down, O_WRONLY, 0, &a, &d)) < 0)
		return;
	if (IKF(ik_pmq_create(up, O_RDONLY, 0, &a, &u)) < 0)
		goto out;
	peer = ikf_peer(echo, NULL);
	for (int i = 0; i < 3; i++) {
		size_t n = 1 + (size_t)i * 500;

		ikt_fill(b, n, (uint32_t)i);
		if (IKF(ik_pmq_send(d, b, n, (unsigned)i, 20000)) < 0)
			goto out;
		if (IKF(ik_pmq_recv(u, b, sizeof(b), &prio, 20000)) != (long)n)
			goto out;
		IKF_ASSERT(prio == (unsigned)i &&
			   ikt_check(b, n, (uint32_t)i) == 0);
	}
out:
	ikf_peer_end(peer);
	if (d != (mqd_t)-1)
		IKF(ik_pmq_close(d));
	if (u != (mqd_t)-1)
		IKF(ik_pmq_close(u));
	if (d != (mqd_t)-1)
		IKF(ik_pmq_unlink(down));
	if (u != (mqd_t)-1)
		IKF(ik_pmq_unlink(up));
	gone(down);
	gone(up);
}

/* A full queue times out; getattr sees the messages; a bad name fails. */
static void
sc_full(void)
{
	struct ik_pmq_attr a = { .maxmsg = 2, .msgsize = 64 };
	mqd_t q;
	char n[64];

	ikf_name(n, sizeof(n), "full");
	if (IKF(ik_pmq_create(n, O_RDWR, 0, &a, &q)) < 0)
		return;
	for (int i = 0; i < 2; i++)
		if (IKF(ik_pmq_send(q, "abc", 3, 0, 100)) < 0)
			goto out;
	IKF_E(ik_pmq_send(q, "abc", 3, 0, 50), -ETIMEDOUT);
	if (IKF(ik_pmq_getattr(q, &a)) < 0)
		goto out;
	IKF_ASSERT(a.curmsgs == 2);
	IKF_E(ik_pmq_create("no/slash", O_RDWR, 0, &a, &q), -EINVAL);
out:
	ik_pmq_close(q);
	ik_pmq_unlink(n);
	gone(n);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "pmq_echo", sc_echo },
		{ "pmq_full", sc_full },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
