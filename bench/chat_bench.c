/*
 * chat_bench: how long one chat message takes to reach every client.
 *
 * Method: a server process and -c client processes (default 50) join one
 * room. The sender (client 0) stamps each message with CLOCK_MONOTONIC,
 * which every process of the machine shares; each client notes the delay
 * when the message arrives. The sender waits for its own echo and for every
 * client's acknowledgement (one byte on a pipe) before the next message, so
 * each message crosses an idle room. -w warm-up messages are discarded;
 * for -n messages it reports p50 and p99 of the delay to one client and of
 * the delay until the last client has it (the fan-out time).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "tool.h"

#define PROG "chat_bench"

static int nclients = 50, nmsg = 2000, warmup = 100;
static char room[64];

/*
 * A receiving client: for each message, the delay, written to res
 * (int64_t), and an ack byte to ack.
 */
static void
receiver(int id, int res, int ack, int ready)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	ik_chat_client *c;
	char name[16];
	int64_t t, d;
	int e, got = 0;

	snprintf(name, sizeof(name), "r%d", id);
	if (r == NULL)
		_exit(1);
	e = ik_chat_join(&c, room, name, NULL, 30000);
	if (e < 0)
		bench_die(PROG, "join", e);
	if (write(ready, "r", 1) != 1)
		_exit(1);
	while (got < warmup + nmsg) {
		e = ik_chat_recv(c, r, 60000);
		if (e < 0)
			bench_die(PROG, "recv", e);
		if (r->type != IK_CHAT_MSG)
			continue;
		d = bench_now_ns();
		if (sscanf(r->text, "%" SCNd64, &t) != 1)
			_exit(1);
		d -= t;
		if (write(res, &d, sizeof(d)) != sizeof(d) ||
		    write(ack, "a", 1) != 1)
			_exit(1);
		got++;
	}
	ik_chat_leave(c);
	free(r);
	_exit(0);
}

int
main(int argc, char **argv)
{
	int res[2], ack[2], ready[2], opt, e;
	int64_t *one, *all, t0;
	ik_chat_server *srv;
	ik_chat_client *c;
	pid_t spid, *pids;
	char text[64], buf[256];
	struct ik_chat_rec *r = malloc(sizeof(*r));

	while ((opt = getopt(argc, argv, "c:n:w:h")) != -1) {
		switch (opt) {
		case 'c':
			nclients = atoi(optarg);
			break;
		case 'n':
			nmsg = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		default:
			printf("usage: chat_bench [-c clients] [-n messages] "
			       "[-w warm-up]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (nclients < 1 || nmsg < 1 || warmup < 0 || r == NULL)
		return 2;
	snprintf(room, sizeof(room), "bench-%d", (int)getpid());
	if (pipe2(res, O_CLOEXEC) < 0 || pipe2(ack, O_CLOEXEC) < 0 ||
	    pipe2(ready, O_CLOEXEC) < 0)
		bench_die(PROG, "pipe", -errno);
	e = ik_chat_server_open(&srv, room, NULL);
	if (e < 0)
		bench_die(PROG, "server", e);
	spid = fork();
	if (spid == 0) {
		e = ik_chat_server_run(srv, -1);
		ik_chat_server_close(srv);
		_exit(e < 0 ? 1 : 0);
	}
	pids = calloc((size_t)nclients, sizeof(*pids));
	one = calloc((size_t)nmsg * (size_t)nclients, sizeof(*one));
	all = calloc((size_t)nmsg, sizeof(*all));
	if (pids == NULL || one == NULL || all == NULL)
		bench_die(PROG, "calloc", -ENOMEM);
	for (int i = 0; i < nclients; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			receiver(i, res[1], ack[1], ready[1]);
	}
	for (int i = 0; i < nclients; i++)
		if (read(ready[0], buf, 1) != 1)
			bench_die(PROG, "ready", -EIO);
	e = ik_chat_join(&c, room, "sender", NULL, 30000);
	if (e < 0)
		bench_die(PROG, "join", e);
	for (int m = 0; m < warmup + nmsg; m++) {
		int64_t worst = 0, d;

		t0 = bench_now_ns();
		snprintf(text, sizeof(text), "%" PRId64, t0);
		e = ik_chat_send(c, IK_CHAT_MSG, text, strlen(text), 30000);
		if (e < 0)
			bench_die(PROG, "send", e);
		for (int k = 0; k < nclients; k++) {
			if (read(ack[0], buf, 1) != 1 ||
			    read(res[0], &d, sizeof(d)) != sizeof(d))
				bench_die(PROG, "ack", -EIO);
			if (d > worst)
				worst = d;
			if (m >= warmup)
				one[(size_t)(m - warmup) * nclients + k] = d;
		}
		do /* our own echo, so our FIFO never fills */
			e = ik_chat_recv(c, r, 30000);
		while (e == 0 && r->type != IK_CHAT_MSG);
		if (e < 0)
			bench_die(PROG, "echo", e);
		if (m >= warmup)
			all[m - warmup] = worst;
	}
	ik_chat_leave(c);
	for (int i = 0; i < nclients; i++)
		waitpid(pids[i], NULL, 0);
	waitpid(spid, NULL, 0);
	ik_chat_server_close(srv); /* the parent's copy: frees memory */
	bench_sort_ns(one, (size_t)nmsg * nclients);
	bench_sort_ns(all, (size_t)nmsg);
	printf("chat fan-out, %d clients, %d messages (%d warm-up)\n", nclients,
	       nmsg, warmup);
	printf("  to one client:     p50 %8.1f us   p99 %8.1f us\n",
	       bench_pct_us(one, nmsg * nclients, 0.50),
	       bench_pct_us(one, nmsg * nclients, 0.99));
	printf("  to all %3d clients: p50 %8.1f us   p99 %8.1f us\n", nclients,
	       bench_pct_us(all, nmsg, 0.50), bench_pct_us(all, nmsg, 0.99));
	free(one);
	free(all);
	free(pids);
	free(r);
	return 0;
}
