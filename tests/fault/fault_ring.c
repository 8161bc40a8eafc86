/*
 * Faults in the shared-memory ring: a named ring created and attached (a
 * failure leaves no segment), a producer whose failed sends are simply not
 * delivered, and a consumer (eventfd readiness) whose failed receives lose
 * nothing: the peer checks, and so do we, that every message acknowledged
 * arrives exactly once and in order.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ipckit/ring.h>

#include "ikf.h"
#include "ikt.h"

#define NMSG 300
#define STOP 0xffffffffu

static char name[64];
static ik_ring *ring;

struct msg {
	uint32_t seq;
	char body[200];
};

static size_t
msg_len(uint32_t seq)
{
	return offsetof(struct msg, body) + 1 + seq % 199;
}

static void
msg_fill(struct msg *m, uint32_t seq)
{
	m->seq = seq;
	ikt_fill(m->body, msg_len(seq) - offsetof(struct msg, body), seq);
}

/*
 * Receive until STOP: sequence numbers rise, bodies match, and at most one
 * message is missing when the producer ran with a fault (one per run: the
 * send that reported it), none when the fault was on this side.
 */
static int
consume(ik_ring *r, int armed)
{
	struct msg m;
	long last = -1, n, got = 0;

	for (;;) {
		n = armed ? IKF(ik_ring_recv(r, &m, sizeof(m), 20000))
			  : ik_ring_recv(r, &m, sizeof(m), 20000);
		if (n < 0 && armed)
			continue; /* the message is still there */
		if (n < (long)sizeof(uint32_t))
			return 1;
		if (m.seq == STOP)
			break;
		if ((long)m.seq <= last || (size_t)n != msg_len(m.seq) ||
		    ikt_check(m.body, (size_t)n - offsetof(struct msg, body),
			      m.seq) != 0)
			return 2;
		last = m.seq;
		got++;
	}
	return got < NMSG - (armed ? 0 : 1) ? 3 : 0;
}

static int
named_consumer(void *arg)
{
	ik_ring *r;
	int rc;

	if (ikt_await(arg, IKT_WAIT_MS) != 0 || ik_ring_open(&r, name) != 0)
		return 1;
	if (ik_ring_attach(r, IK_RING_CONSUMER) != 0)
		return 2;
	rc = consume(r, 0);
	ik_ring_close(r);
	return rc ? 10 + rc : 0;
}

static void
sc_named(void)
{
	struct ikt_sync go;
	struct msg m;
	pid_t peer = -1;
	uint32_t stop = STOP;

	ikf_name(name, sizeof(name), "ring");
	ring = NULL;
	ikt_sync_init(&go);
	if (IKF(ik_ring_create(&ring, name, 8192, 0)) < 0)
		goto out;
	if (IKF(ik_ring_attach(ring, IK_RING_PRODUCER)) < 0)
		goto out;
	peer = ikf_peer(named_consumer, &go);
	ikt_post(&go);
	for (uint32_t i = 0; i < NMSG; i++) {
		msg_fill(&m, i);
		IKF(ik_ring_send(ring, &m, msg_len(i), 20000));
	}
	IKF_ASSERT(ik_ring_send(ring, &stop, sizeof(stop), 20000) == 0);
	ikf_peer_join(peer);
	peer = -1;
out:
	ikf_peer_end(peer);
	ikt_sync_close(&go);
	ik_ring_close(ring);
}

/* The far side of a pair: echo every message back until the pair closes. */
static int
echo(void *arg)
{
	struct ik_ring_pair q;
	struct msg m;
	ssize_t n;

	if (ik_ring_pair_recv(&q, *(int *)arg, 20000) != 0)
		return 1;
	while ((n = ik_ring_recv(q.rx, &m, sizeof(m), 20000)) > 0)
		if (ik_ring_send(q.tx, &m, (size_t)n, 20000) != 0)
			return 2;
	ik_ring_pair_close(&q);
	return n == -EPIPE ? 0 : 3;
}

/*
 * A pair with eventfd doorbells handed over a socket; every message sent
 * comes back, a failed send is not retried (nothing went out), a failed
 * receive is (the message is still there).
 */
static void
sc_pair(void)
{
	struct ik_ring_pair p = { NULL, NULL };
	struct msg m;
	int sv[2] = { -1, -1 };
	pid_t peer = -1;
	long n;

	if (IKF(ik_ring_pair_create(&p, 8192, IK_RING_EVENTFD)) < 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		goto out;
	peer = ikf_peer(echo, &sv[1]);
	if (IKF(ik_ring_pair_send(&p, sv[0])) < 0)
		goto out;
	for (uint32_t i = 0; i < 100; i++) {
		msg_fill(&m, i);
		if (IKF(ik_ring_send(p.tx, &m, msg_len(i), 20000)) < 0)
			continue;
		do
			n = IKF(ik_ring_recv(p.rx, &m, sizeof(m), 20000));
		while (n < 0 && ikf_errored() && n != -EPIPE);
		IKF_ASSERT(n == (long)msg_len(i) && m.seq == i &&
			   ikt_check(m.body,
				     (size_t)n - offsetof(struct msg, body),
				     i) == 0);
	}
	ik_ring_pair_close(&p);
	p.tx = p.rx = NULL;
	ikf_peer_join(peer);
	peer = -1;
out:
	ikf_peer_end(peer);
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	ik_ring_pair_close(&p);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "ring_named", sc_named },
		{ "ring_pair", sc_pair },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
