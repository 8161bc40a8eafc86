/*
 * notify_bench: what a notification costs, next to the raw signal it rides.
 *
 * Method: the bench (pinned to CPU A) and one peer (pinned to CPU B) take
 * turns; the bench times each turn with CLOCK_MONOTONIC, discards -w
 * warm-up turns, keeps -n and reports p50/p99/max. Rows:
 *   raw ping-pong    sigqueue -> sigwaitinfo -> sigqueue back: round trip
 *                    (one-way ~ half of it)
 *   raw sig+pipe     sigqueue -> sigwaitinfo -> a line written to a pipe the
 *                    bench reads: the floor of the rows below
 *   ik_notify        ik_notify_send -> ik_notify_read -> a line to the pipe
 *   ipckit listen    ik_notify_send -> `ipckit notify listen` prints the line
 *                    -> the bench reads it from its stdout pipe
 * The machine is shared: run it several times and compare rows of one run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "tool.h"

#define PROG "notify_bench"

static int rounds = 20000, warmup = 1000, cpu_a = 0, cpu_b = 1;
static char ipckit_path[PATH_MAX];

static void
pin_or_say(pid_t pid, int cpu)
{
	int r = bench_pin(pid, cpu);

	if (r < 0)
		fprintf(stderr, "notify_bench: cannot pin to CPU %d: %s\n", cpu,
			ik_strerror(r));
}

static void
report(const char *row, int64_t *t, int n)
{
	bench_sort_ns(t, (size_t)n);
	printf("%-16s %9.2f %9.2f %9.2f\n", row, t[n / 2] / 1000.0,
	       t[(int64_t)n * 99 / 100] / 1000.0, t[n - 1] / 1000.0);
}

/* read one line (ends in '\n') from fd; 0 or -1 */
static int
read_line(int fd)
{
	char c;
	ssize_t r;

	do {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
	} while (c != '\n');
	return 0;
}

enum mode { RAW_PINGPONG, RAW_PIPE, LIB };

/* The peer for the first three rows. */
static void
peer(enum mode m, int out, const char *group, int n)
{
	sigset_t set;
	siginfo_t si;
	ik_notify *l = NULL;
	struct ik_notification nt;
	char line[64];
	int k;

	pin_or_say(0, cpu_b);
	if (m == LIB) {
		if (ik_notify_listen(&l, group) < 0)
			_exit(2);
		if (write(out, "r\n", 2) != 2)
			_exit(2);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	for (int i = 0; i < n; i++) {
		if (m == LIB) {
			if (ik_notify_read(l, &nt, 1, -1) != 1)
				_exit(3);
			k = snprintf(line, sizeof(line), "%d %d %d\n", nt.event,
				     nt.value, (int)nt.sender);
		} else {
			if (sigwaitinfo(&set, &si) < 0)
				_exit(3);
			k = snprintf(line, sizeof(line), "0 %d %d\n",
				     si.si_value.sival_int, (int)si.si_pid);
		}
		if (m == RAW_PINGPONG) {
			if (ik_sig_queue_int(getppid(), SIGRTMIN, i) < 0)
				_exit(4);
		} else if (write(out, line, (size_t)k) != k) {
			_exit(4);
		}
	}
	ik_notify_close(l);
	_exit(0);
}

static void
row(const char *name, enum mode m, int64_t *t)
{
	char group[64];
	int fd[2], n = rounds + warmup;
	sigset_t set;
	pid_t pid;

	snprintf(group, sizeof(group), "bench-%d", (int)getpid());
	if (pipe2(fd, O_CLOEXEC) < 0)
		bench_die(PROG, "pipe", -errno);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	pid = fork();
	if (pid < 0)
		bench_die(PROG, "fork", -errno);
	if (pid == 0)
		peer(m, fd[1], group, n);
	close(fd[1]);
	if (m == LIB && read_line(fd[0]) < 0)
		bench_die(PROG, "peer did not start", -EPIPE);
	for (int i = 0; i < n; i++) {
		int64_t t0 = bench_now_ns();
		int r;

		if (m == LIB)
			r = ik_notify_send(group, 1, i, -1, NULL, NULL);
		else
			r = ik_sig_queue_int(pid, SIGRTMIN, i);
		if (r < 0)
			bench_die(PROG, "send", r);
		if (m == RAW_PINGPONG)
			r = sigwaitinfo(&set, NULL) < 0 ? -errno : 0;
		else
			r = read_line(fd[0]);
		if (r < 0)
			bench_die(PROG, "reply", r);
		if (i >= warmup)
			t[i - warmup] = bench_now_ns() - t0;
	}
	close(fd[0]);
	waitpid(pid, NULL, 0);
	report(name, t, rounds);
}

static void
row_cli(int64_t *t)
{
	char group[64];
	const char *argv[] = { ipckit_path, "notify", "listen",
			       "--group",   group,    NULL };
	struct ik_spawn_opts o;
	struct ik_proc p;
	struct ik_notify_entry e;
	int r;

	snprintf(group, sizeof(group), "bench-cli-%d", (int)getpid());
	memset(&o, 0, sizeof(o));
	o.io[1].mode = IK_STDIO_PIPE;
	if ((r = ik_spawn(&p, argv, &o)) < 0)
		bench_die(PROG, ipckit_path, r);
	pin_or_say(p.pid, cpu_b);
	/* registered: the only condition to wait for, and it has no event */
	for (int64_t end = bench_now_ns() + 10000000000LL;
	     ik_notify_list(group, &e, 1) < 1;) {
		if (bench_now_ns() > end)
			bench_die("notify_bench",
				  "ipckit notify listen did not register",
				  -ETIMEDOUT);
		sched_yield();
	}
	for (int i = 0; i < rounds + warmup; i++) {
		int64_t t0 = bench_now_ns();

		if ((r = ik_notify_send(group, 1, i, -1, NULL, NULL)) != 1)
			bench_die(PROG, "send", r < 0 ? r : -ESRCH);
		if (read_line(p.out) < 0)
			bench_die(PROG, "listener output", -EPIPE);
		if (i >= warmup)
			t[i - warmup] = bench_now_ns() - t0;
	}
	ik_spawn_kill(&p, SIGTERM);
	ik_spawn_wait(&p, -1);
	ik_spawn_close(&p);
	report("ipckit listen", t, rounds);
}

int
main(int argc, char **argv)
{
	sigset_t set;
	int64_t *t;
	int opt;

	/* build/bench/notify_bench -> build/ipckit */
	snprintf(ipckit_path, sizeof(ipckit_path), "%s", argv[0]);
	if (strrchr(ipckit_path, '/') != NULL)
		*strrchr(ipckit_path, '/') = '\0';
	else
		snprintf(ipckit_path, sizeof(ipckit_path), ".");
	if (strlen(ipckit_path) + sizeof("/../ipckit") > sizeof(ipckit_path))
		return 2;
	strncat(ipckit_path, "/../ipckit",
		sizeof(ipckit_path) - strlen(ipckit_path) - 1);
	while ((opt = getopt(argc, argv, "n:w:a:b:i:h")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'a':
			cpu_a = atoi(optarg);
			break;
		case 'b':
			cpu_b = atoi(optarg);
			break;
		case 'i':
			snprintf(ipckit_path, sizeof(ipckit_path), "%s",
				 optarg);
			break;
		default:
			printf("usage: notify_bench [-n rounds] [-w warmup] "
			       "[-a cpu] [-b cpu] [-i path/to/ipckit]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || warmup < 0)
		return 2;
	t = calloc((size_t)rounds, sizeof(*t));
	if (t == NULL)
		bench_die(PROG, "calloc", -ENOMEM);
	/* the raw rows' replies and the peers' signal: never default action */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pin_or_say(0, cpu_a);
	printf("%d rounds (after %d warm-up), CPUs %d and %d; microseconds\n",
	       rounds, warmup, cpu_a, cpu_b);
	printf("%-16s %9s %9s %9s\n", "row", "p50", "p99", "max");
	row("raw ping-pong", RAW_PINGPONG, t);
	row("raw sig+pipe", RAW_PIPE, t);
	row("ik_notify", LIB, t);
	row_cli(t);
	free(t);
	return 0;
}
