/*
 * ring_bench: the ring against what bounds it, in one run, same conditions.
 *
 * Method: two processes pinned to two CPUs (sched_setaffinity) play
 * ping-pong with 64-byte messages; the parent times each round trip with
 * CLOCK_MONOTONIC (the same overhead for every row), -w warm-up round trips
 * are discarded, then -n are kept and p50/p99 reported. The machine is
 * shared and its speed drifts, so the rows are measured interleaved, in -b
 * blocks of n/b round trips each, and ratios compare the same moments. Rows:
 * the floor (one shared cache line bouncing), raw futex, raw pipe, and the ring
 * (spinning copy, spinning zero-copy, blocking on the futex). Then the
 * zero-copy round trip by message size, and one-way throughput of 64-byte
 * messages, ring against a Unix stream socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

static int rounds = 50000, warmup = 1000, cpu_a = 0, cpu_b = 1, blocks = 10;
static long tput_msgs = 2000000;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "ring_bench: cannot pin to CPU %d: %s\n", cpu,
			strerror(errno));
}

static void
die(const char *what, int err)
{
	fprintf(stderr, "ring_bench: %s: %s\n", what, ik_strerror(err));
	exit(1);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct result {
	double p50, p99; /* microseconds */
};

static struct result
summarize(int64_t *s, int n)
{
	struct result r;

	qsort(s, (size_t)n, sizeof(*s), cmp64);
	r.p50 = (double)s[n / 2] / 1000.0;
	r.p99 = (double)s[(int)((int64_t)n * 99 / 100)] / 1000.0;
	return r;
}

/*
 * One ping-pong: ping(ctx, i) in the parent, pong(ctx, i) in the child;
 * each returns 0 or fails the run.
 */
typedef void (*step_fn)(void *ctx, int i);

struct samples {
	int64_t *s;
	int n;
};

static void
pingpong(struct samples *out, void *ctx, step_fn ping, step_fn pong,
	 void (*child_init)(void *), void (*parent_init)(void *))
{
	int total = warmup + rounds / blocks, st;
	int64_t *s;
	pid_t pid;

	if (out->s == NULL)
		out->s = malloc(sizeof(*s) * (size_t)rounds);
	if (out->s == NULL)
		die("malloc", -ENOMEM);
	s = out->s + out->n;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", -errno);
	if (pid == 0) {
		pin(cpu_b);
		if (child_init)
			child_init(ctx);
		for (int i = 0; i < total; i++)
			pong(ctx, i);
		_exit(0);
	}
	pin(cpu_a);
	if (parent_init)
		parent_init(ctx);
	for (int i = 0; i < total; i++) {
		int64_t t0 = now_ns();

		ping(ctx, i);
		if (i >= warmup)
			s[i - warmup] = now_ns() - t0;
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		die("child", -ECHILD);
	out->n += rounds / blocks;
}

static void *
shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", -errno);
	return p;
}

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ---- the floor: one cache line, odd values one way, even the other ----- */

static void
floor_ping(void *ctx, int i)
{
	uint64_t *w = ctx;

	__atomic_store_n(w, 2 * (uint64_t)i + 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != 2 * (uint64_t)i + 2)
		relax();
}

static void
floor_pong(void *ctx, int i)
{
	uint64_t *w = ctx;

	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != 2 * (uint64_t)i + 1)
		relax();
	__atomic_store_n(w, 2 * (uint64_t)i + 2, __ATOMIC_RELEASE);
}

/* ---- raw futex: always sleep, always wake (two words, two lines) -------- */

static void
futex_post(uint32_t *w, uint32_t v)
{
	__atomic_store_n(w, v, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void
futex_await(uint32_t *w, uint32_t v)
{
	uint32_t cur;

	while ((cur = __atomic_load_n(w, __ATOMIC_SEQ_CST)) != v)
		syscall(SYS_futex, w, FUTEX_WAIT, cur, NULL, NULL, 0);
}

static void
futex_ping(void *ctx, int i)
{
	uint32_t *w = ctx;

	futex_post(&w[0], (uint32_t)i + 1);
	futex_await(&w[16], (uint32_t)i + 1);
}

static void
futex_pong(void *ctx, int i)
{
	uint32_t *w = ctx;

	futex_await(&w[0], (uint32_t)i + 1);
	futex_post(&w[16], (uint32_t)i + 1);
}

/* ---- raw pipes ------------------------------------------------------------
 */

struct pipes {
	int ab[2], ba[2];
};

static void
xfer(int fd, void *buf, size_t n, int out)
{
	char *p = buf;

	while (n > 0) {
		ssize_t k = out ? write(fd, p, n) : read(fd, p, n);

		if (k <= 0)
			die(out ? "write" : "read", k < 0 ? -errno : -EPIPE);
		p += k;
		n -= (size_t)k;
	}
}

static void
pipe_ping(void *ctx, int i)
{
	struct pipes *p = ctx;
	char buf[64];

	memset(buf, i, sizeof(buf));
	xfer(p->ab[1], buf, 64, 1);
	xfer(p->ba[0], buf, 64, 0);
}

static void
pipe_pong(void *ctx, int i)
{
	struct pipes *p = ctx;
	char buf[64];

	(void)i;
	xfer(p->ab[0], buf, 64, 0);
	xfer(p->ba[1], buf, 64, 1);
}

/* ---- the ring -------------------------------------------------------------
 */

struct rings {
	ik_ring *ab, *ba;
	int spin;
	size_t size; /* zero-copy message size */
	int zc;
};

static void
rings_parent(void *ctx)
{
	struct rings *x = ctx;
	int rc;

	if ((rc = ik_ring_attach(x->ab, IK_RING_PRODUCER)) < 0 ||
	    (rc = ik_ring_attach(x->ba, IK_RING_CONSUMER)) < 0)
		die("attach", rc);
	ik_ring_set_spin(x->ab, x->spin);
	ik_ring_set_spin(x->ba, x->spin);
}

static void
rings_child(void *ctx)
{
	struct rings *x = ctx;
	int rc;

	if ((rc = ik_ring_attach(x->ab, IK_RING_CONSUMER)) < 0 ||
	    (rc = ik_ring_attach(x->ba, IK_RING_PRODUCER)) < 0)
		die("attach", rc);
	ik_ring_set_spin(x->ab, x->spin);
	ik_ring_set_spin(x->ba, x->spin);
}

/* copy: send/recv 64 bytes; zero-copy: write and read in place */
static void
ring_put(struct rings *x, ik_ring *r, uint64_t stamp)
{
	size_t n = x->zc ? x->size : 64;
	uint64_t buf[8] = { stamp };
	void *p;
	int rc;

	if (!x->zc) {
		if ((rc = ik_ring_send(r, buf, 64, -1)) < 0)
			die("send", rc);
		return;
	}
	if ((rc = ik_ring_reserve(r, n, &p, -1)) < 0)
		die("reserve", rc);
	/* the first and the last word: the cost must not grow with size */
	memcpy(p, &stamp, 8);
	memcpy((char *)p + n - 8, &stamp, 8);
	if ((rc = ik_ring_commit(r, n)) < 0)
		die("commit", rc);
}

static void
ring_get(struct rings *x, ik_ring *r, uint64_t stamp)
{
	uint64_t buf[8], a, b;
	const void *p;
	ssize_t n;

	if (!x->zc) {
		if ((n = ik_ring_recv(r, buf, sizeof(buf), -1)) != 64 ||
		    buf[0] != stamp)
			die("recv", n < 0 ? (int)n : -EBADMSG);
		return;
	}
	if ((n = ik_ring_peek(r, &p, -1)) != (ssize_t)x->size)
		die("peek", n < 0 ? (int)n : -EBADMSG);
	memcpy(&a, p, 8);
	memcpy(&b, (const char *)p + n - 8, 8);
	if (a != stamp || b != stamp)
		die("peek", -EBADMSG);
	ik_ring_release(r);
}

static void
ring_ping(void *ctx, int i)
{
	struct rings *x = ctx;

	ring_put(x, x->ab, (uint64_t)i);
	ring_get(x, x->ba, (uint64_t)i);
}

static void
ring_pong(void *ctx, int i)
{
	struct rings *x = ctx;

	ring_get(x, x->ab, (uint64_t)i);
	ring_put(x, x->ba, (uint64_t)i);
}

static void
ring_run(struct samples *out, int spin, int zc, size_t size)
{
	struct rings x = { .spin = spin, .zc = zc, .size = size };
	size_t cap = 64 * 1024;
	int rc;

	while (cap / 2 - 64 < size)
		cap *= 2;
	if ((rc = ik_ring_create(&x.ab, NULL, cap, 0)) < 0 ||
	    (rc = ik_ring_create(&x.ba, NULL, cap, 0)) < 0)
		die("ik_ring_create", rc);
	pingpong(out, &x, ring_ping, ring_pong, rings_child, rings_parent);
	ik_ring_close(x.ab);
	ik_ring_close(x.ba);
}

/* ---- one-way throughput ----------------------------------------------------
 */

static double
ring_throughput(long n)
{
	ik_ring *r;
	int fd[2], rc, st;
	int64_t t0, t1;
	char c;
	pid_t pid;

	if ((rc = ik_ring_create(&r, NULL, 256 * 1024, 0)) < 0)
		die("ik_ring_create", rc);
	if (pipe2(fd, O_CLOEXEC) < 0)
		die("pipe", -errno);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint64_t buf[8];

		pin(cpu_b);
		if ((rc = ik_ring_attach(r, IK_RING_CONSUMER)) < 0)
			die("attach", rc);
		for (long i = 0; i < n; i++)
			if (ik_ring_recv(r, buf, sizeof(buf), -1) != 64 ||
			    buf[0] != (uint64_t)i)
				die("recv", -EBADMSG);
		xfer(fd[1], "k", 1, 1);
		_exit(0);
	}
	pin(cpu_a);
	if ((rc = ik_ring_attach(r, IK_RING_PRODUCER)) < 0)
		die("attach", rc);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		uint64_t buf[8] = { (uint64_t)i };

		if ((rc = ik_ring_send(r, buf, 64, -1)) < 0)
			die("send", rc);
	}
	xfer(fd[0], &c, 1, 0);
	t1 = now_ns();
	waitpid(pid, &st, 0);
	ik_ring_close(r);
	close(fd[0]);
	close(fd[1]);
	return (double)n / ((double)(t1 - t0) / 1e9);
}

static double
socket_throughput(long n)
{
	int sv[2], st;
	int64_t t0, t1;
	char buf[64], c;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", -errno);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pin(cpu_b);
		for (long i = 0; i < n; i++)
			xfer(sv[1], buf, 64, 0);
		xfer(sv[1], "k", 1, 1);
		_exit(0);
	}
	pin(cpu_a);
	memset(buf, 7, sizeof(buf));
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		xfer(sv[0], buf, 64, 1); /* one message, one system call */
	xfer(sv[0], &c, 1, 0);
	t1 = now_ns();
	waitpid(pid, &st, 0);
	close(sv[0]);
	close(sv[1]);
	return (double)n / ((double)(t1 - t0) / 1e9);
}

/* ---- main -------------------------------------------------------------------
 */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: ring_bench [-n ROUNDS] [-w WARMUP] [-c CPU_A,CPU_B] "
		"[-b BLOCKS] [-t MSGS]\n"
		"  -n  round trips measured per row (default 50000)\n"
		"  -w  warm-up round trips discarded (default 1000)\n"
		"  -b  interleaved blocks the rounds are split into (default "
		"10)\n"
		"  -c  the two CPUs to pin the processes to (default 0,1)\n"
		"  -t  messages for the one-way throughput rows (default "
		"2000000;\n"
		"      the socket row uses a tenth)\n"
		"Prints round-trip p50/p99 in microseconds for the cache-line "
		"floor, raw\nfutex, raw pipe and the ring, then zero-copy by "
		"size and throughput.\n");
}

static void
row(const char *what, struct result r, const char *vs, double base)
{
	printf("%-34s %9.2f %9.2f", what, r.p50, r.p99);
	if (vs != NULL)
		printf("   %.2fx %s", r.p50 / base, vs);
	printf("\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	static const size_t sizes[] = { 64, 4096, 65536, 1 << 20 };
	enum { FLOOR, FUTEX, PIPE, SPIN, ZC, BLOCK, NROWS };
	struct samples rows[NROWS] = { { 0 } }, bysize[4] = { { 0 } };
	struct result fl, fu;
	struct pipes p;
	void *page;
	double tr, ts;
	int c;

	while ((c = getopt_long(argc, argv, "n:w:b:c:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'b':
			blocks = atoi(optarg);
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cpu_a, &cpu_b) != 2) {
				usage(stderr);
				return 2;
			}
			break;
		case 't':
			tput_msgs = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (blocks < 1 || rounds / blocks < 100 || warmup < 0 ||
	    tput_msgs < 1000) {
		usage(stderr);
		return 2;
	}
	rounds = rounds / blocks * blocks;
	printf("ring_bench: 64-byte round trips, %d after %d warm-up per "
	       "block, %d interleaved blocks, CPUs %d,%d\n",
	       rounds, warmup, blocks, cpu_a, cpu_b);
	page = shared_page();
	if (pipe2(p.ab, O_CLOEXEC) < 0 || pipe2(p.ba, O_CLOEXEC) < 0)
		die("pipe", -errno);
	for (int b = 0; b < blocks; b++) {
		memset(page, 0, 4096);
		pingpong(&rows[FLOOR], page, floor_ping, floor_pong, NULL,
			 NULL);
		ring_run(&rows[SPIN], -1, 0, 64);
		ring_run(&rows[ZC], -1, 1, 64);
		memset(page, 0, 4096);
		pingpong(&rows[FUTEX], page, futex_ping, futex_pong, NULL,
			 NULL);
		ring_run(&rows[BLOCK], 0, 0, 64);
		pingpong(&rows[PIPE], &p, pipe_ping, pipe_pong, NULL, NULL);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
			ring_run(&bysize[k], -1, 1, sizes[k]);
	}
	munmap(page, 4096);
	close(p.ab[0]), close(p.ab[1]), close(p.ba[0]), close(p.ba[1]);

	printf("%-34s %9s %9s\n", "round trip", "p50 us", "p99 us");
	fl = summarize(rows[FLOOR].s, rows[FLOOR].n);
	fu = summarize(rows[FUTEX].s, rows[FUTEX].n);
	row("cache-line floor", fl, NULL, 0);
	row("raw futex", fu, NULL, 0);
	row("raw pipe", summarize(rows[PIPE].s, rows[PIPE].n), NULL, 0);
	row("ring, spinning, copy", summarize(rows[SPIN].s, rows[SPIN].n),
	    "floor", fl.p50);
	row("ring, spinning, zero-copy", summarize(rows[ZC].s, rows[ZC].n),
	    "floor", fl.p50);
	row("ring, blocking (futex), copy",
	    summarize(rows[BLOCK].s, rows[BLOCK].n), "raw futex", fu.p50);
	printf("zero-copy, spinning, by size:\n");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char what[64];

		snprintf(what, sizeof(what), "  %zu bytes", sizes[k]);
		row(what, summarize(bysize[k].s, bysize[k].n), "floor", fl.p50);
		free(bysize[k].s);
	}
	for (int k = 0; k < NROWS; k++)
		free(rows[k].s);

	tr = ring_throughput(tput_msgs);
	ts = socket_throughput(tput_msgs / 10);
	printf("one-way 64-byte throughput: ring %.2f M msg/s, unix stream "
	       "%.2f M msg/s: %.1fx\n",
	       tr / 1e6, ts / 1e6, tr / ts);
	return 0;
}
