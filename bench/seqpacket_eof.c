/*
 * seqpacket_eof: what each way of telling an empty seqpacket message from
 * the end of the connection costs, next to a plain recv.
 *
 * A seqpacket recv returns 0 for both. The ways measured (each on its own
 * socketpair, 64 B ping-pong, two processes pinned to two CPUs, variants
 * taking turns in blocks of 200 round trips so that they share the
 * machine's state):
 *   recv              the raw call: cannot tell them apart (the floor)
 *   read              the same through read(2)
 *   recvfrom, len 0   sender's name, address buffer of length 0: the kernel
 *                     reports the length only (what ik_chan uses)
 *   recvfrom, name    the same with the whole name copied out
 *   recvmsg           a message header, no control data
 *   recvmsg + creds   SO_PASSCRED and the credentials block (the old way)
 * Usage: seqpacket_eof [-n BLOCKS] [-c A,B]. The machine is shared: compare
 * rows of one run, run it several times.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { V_RECV, V_READ, V_LEN0, V_NAME, V_MSG, V_CRED, NV };
enum { BLOCK = 200, MSG = 64 };

static const char *const names[NV] = {
	"recv",		  "read",    "recvfrom, len 0",
	"recvfrom, name", "recvmsg", "recvmsg + creds",
};

static int64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "seqpacket_eof: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One message the way variant v reads it; exits on a short or odd read. */
static void
take(int v, int fd, char *buf)
{
	union {
		char c[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr h;
	} cb;
	struct iovec io = { buf, MSG };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
	struct sockaddr_storage ss;
	socklen_t len = v == V_NAME ? sizeof(ss) : 0;
	ssize_t n;

	switch (v) {
	case V_RECV:
		n = recv(fd, buf, MSG, 0);
		break;
	case V_READ:
		n = read(fd, buf, MSG);
		break;
	case V_LEN0:
	case V_NAME:
		n = recvfrom(fd, buf, MSG, 0, (struct sockaddr *)&ss, &len);
		if (n >= 0 && len == 0) {
			fprintf(stderr, "seqpacket_eof: no sender name\n");
			exit(1);
		}
		break;
	case V_CRED:
		m.msg_control = cb.c;
		m.msg_controllen = sizeof(cb.c);
		/* fall through */
	default:
		n = recvmsg(fd, &m, 0);
		if (v == V_CRED && n >= 0 && CMSG_FIRSTHDR(&m) == NULL) {
			fprintf(stderr, "seqpacket_eof: no credentials\n");
			exit(1);
		}
		break;
	}
	if (n != MSG)
		die("receive");
}

static void
pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		die("sched_setaffinity");
}

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const struct sockaddr_un autobind = { .sun_family = AF_UNIX };
	int sp[NV][2], nblocks = 150, cpu[2] = { 0, 1 }, c;
	char buf[MSG] = { 1 };
	int64_t *t[NV];
	pid_t pid;

	while ((c = getopt(argc, argv, "n:c:")) != -1) {
		if (c == 'n' && (nblocks = atoi(optarg)) > 0)
			continue;
		if (c == 'c' && sscanf(optarg, "%d,%d", &cpu[0], &cpu[1]) == 2)
			continue;
		fprintf(stderr, "usage: seqpacket_eof [-n BLOCKS] [-c A,B]\n");
		return 2;
	}
	for (int v = 0; v < NV; v++) {
		int on = 1;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp[v]) < 0)
			die("socketpair");
		for (int i = 0; i < 2; i++) {
			/* the name ways need named senders (ik_chan binds) */
			if ((v == V_LEN0 || v == V_NAME) &&
			    bind(sp[v][i], (const struct sockaddr *)&autobind,
				 sizeof(sa_family_t)) < 0)
				die("bind");
			if (v == V_CRED &&
			    setsockopt(sp[v][i], SOL_SOCKET, SO_PASSCRED, &on,
				       sizeof(on)) < 0)
				die("SO_PASSCRED");
		}
		t[v] = malloc(sizeof(int64_t) * (size_t)nblocks * BLOCK);
		if (t[v] == NULL)
			die("malloc");
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(cpu[1]);
		for (int b = 0; b < nblocks; b++)
			for (int v = 0; v < NV; v++)
				for (int i = 0; i < BLOCK; i++) {
					take(v, sp[v][1], buf);
					if (send(sp[v][1], buf, MSG, 0) != MSG)
						die("send");
				}
		_exit(0);
	}
	pin(cpu[0]);
	for (int b = 0; b < nblocks; b++)
		for (int v = 0; v < NV; v++)
			for (int i = 0; i < BLOCK; i++) {
				int64_t a = now_ns();

				if (send(sp[v][0], buf, MSG, 0) != MSG)
					die("send");
				take(v, sp[v][0], buf);
				t[v][b * BLOCK + i] = now_ns() - a;
			}
	if (waitpid(pid, &c, 0) < 0 || !WIFEXITED(c) || WEXITSTATUS(c) != 0) {
		fprintf(stderr, "seqpacket_eof: the peer failed\n");
		return 1;
	}
	printf("%-16s %9s %9s %7s\n", "way", "p50 ns", "p90 ns", "vs recv");
	for (int v = 0; v < NV; v++) {
		size_t k = (size_t)nblocks * BLOCK;

		qsort(t[v], k, sizeof(int64_t), cmp);
		printf("%-16s %9lld %9lld %6.3fx\n", names[v],
		       (long long)t[v][k / 2], (long long)t[v][k * 9 / 10],
		       (double)t[v][k / 2] / (double)t[V_RECV][k / 2]);
	}
	return 0;
}
