/*
 * Faults in the System V message queue module: create (a failure leaves
 * no queue), messages of several types both ways with a peer that opens
 * the queue by key, and removal.
 */
#include <errno.h>
#include <sys/msg.h>

#include <ipckit/msgq.h>

#include "ikf.h"
#include "ikt.h"

static key_t key;

/* Echo three messages of type 1 back as type 2. */
static int
echo(void *arg)
{
	char b[2000];
	long type;
	int id;

	(void)arg;
	if (ik_msgq_open(key, &id) != 0)
		return 1;
	for (int i = 0; i < 3; i++) {
		ssize_t n = ik_msgq_recv(id, 1, b, sizeof(b), &type, 0, 20000);

		if (n <= 0 || type != 1 ||
		    ik_msgq_send(id, 2, b, (size_t)n, 20000) != 0)
			return 2;
	}
	return 0;
}

static void
sc_echo(void)
{
	char b[2000];
	long type = 0;
	int id = -1;
	pid_t peer = -1;

	key = ikf_key(0);
	if (IKF(ik_msgq_create(key, 0, &id)) < 0)
		return;
	peer = ikf_peer(echo, NULL);
	for (int i = 0; i < 3; i++) {
		size_t n = 10 + (size_t)i * 700;

		ikt_fill(b, n, (uint32_t)i);
		if (IKF(ik_msgq_send(id, 1, b, n, 20000)) < 0)
			goto out;
		if (IKF(ik_msgq_recv(id, 2, b, sizeof(b), &type, 0, 20000)) !=
		    (long)n)
			goto out;
		IKF_ASSERT(type == 2 && ikt_check(b, n, (uint32_t)i) == 0);
	}
out:
	ikf_peer_end(peer);
	IKF(ik_msgq_remove(id));
}

/* A full queue: send with a timeout must give -ETIMEDOUT, no more. */
static void
sc_full(void)
{
	struct ik_msgq_stat st;
	char b[1024] = "x";
	int id = -1;

	key = ikf_key(1);
	if (IKF(ik_msgq_create(key, 0, &id)) < 0)
		return;
	if (IKF(ik_msgq_set_qbytes(id, 2048)) < 0)
		goto out;
	for (int i = 0; i < 2; i++)
		if (IKF(ik_msgq_send(id, 1, b, sizeof(b), 100)) < 0)
			goto out;
	IKF_E(ik_msgq_send(id, 1, b, sizeof(b), 50), -ETIMEDOUT);
	if (IKF(ik_msgq_stat(id, &st)) < 0)
		goto out;
	IKF_ASSERT(st.messages == 2 && st.qbytes == 2048);
out:
	IKF(ik_msgq_remove(id));
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "msgq_echo", sc_echo },
		{ "msgq_full", sc_full },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
