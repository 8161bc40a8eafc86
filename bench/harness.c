/*
 * The harness: every measurement is one pair of fresh processes, A and B,
 * forked by a coordinator that never touches the mechanism itself. Each side
 * pins itself to its CPU, opens its end (timed: the Setup figure), then
 * either plays ping-pong (A times each round trip, after warm-up, into a
 * histogram kept in a shared page) or streams one way (A sends n messages
 * it fills, B checks every byte, A's clock stops at B's "done"). Both sides
 * carry an alarm and the coordinator reaps them, so a broken row costs a
 * bounded wait and a note, never a hang. Rows run interleaved, repetition
 * by repetition, each ipckit row next to its baseline and odd repetitions
 * backwards, so machine drift hits both sides of every ratio alike.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "bench.h"

#define CTL_TIMEOUT_MS 30000
#define CREDIT '+'

/* The coordinator's identity, for names and for atexit guards. */
static pid_t coord_pid;
static unsigned name_seq;

const struct bench_missing bench_missing_peers[] = {
#ifndef IKB_HAVE_ZMQ
	{ "zeromq", "libzmq not found at build time (libzmq3-dev)" },
#endif
#ifndef IKB_HAVE_NNG
	{ "nng", "libnng not found at build time (libnng-dev)" },
#endif
#ifndef IKB_HAVE_ICEORYX
	{ "iceoryx", "iceoryx C binding not found at build time "
		     "(libiceoryx-binding-c-dev)" },
#endif
	{ .name = NULL },
};

void
bench_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "ikb-%ld-%u-%s", (long)coord_pid, name_seq, tag);
}

int
bench_dir(char *buf, size_t len)
{
	int rc = ik_runtime_dir(buf, len);

	return rc < 0 ? rc : 0;
}

int
bench_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int
bench_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t k = read(fd, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int
ctl_byte(struct bench_end *e, char *c)
{
	struct pollfd p = { .fd = e->ctl_rx, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, CTL_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return bench_read_all(e->ctl_rx, c, 1);
}

int
bench_ctl_send(struct bench_end *e, const char *line)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	return bench_write_all(e->ctl_tx, buf, (size_t)n);
}

/* Credits of lossy streams share the pipe: lines skip them. */
int
bench_ctl_recv(struct bench_end *e, char *line, size_t len)
{
	size_t n = 0;
	char c;
	int rc;

	for (;;) {
		if ((rc = ctl_byte(e, &c)) < 0)
			return rc;
		if (c == '\n')
			break;
		if (c == CREDIT && n == 0)
			continue;
		if (n + 1 >= len)
			return -EMSGSIZE;
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

double
bench_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	for (int i = 1; i < n; i++) /* insertion sort: n <= 15 */
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
bench_spread(const double *v, int n)
{
	double lo, hi, tmp[BENCH_MAX_REPS], med;

	if (n < 2)
		return 0;
	lo = hi = v[0];
	for (int i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
		tmp[i] = v[i];
	}
	med = bench_median(tmp, n);
	return med > 0 ? (hi - lo) / med * 100 : 0;
}

/* ---- one pair of processes ------------------------------------------------
 */

enum { JOB_LAT, JOB_STREAM };

struct job {
	int mode;
	size_t size;
	long n;	    /* stream: messages (with duration: calibration) */
	int rounds; /* latency */
	int warmup;
	double rate;	 /* open loop */
	double duration; /* seconds: counts agreed after a calibration */
	int alarm_s;
};

/* The shared page: what each side reports back to the coordinator. */
struct outcome {
	int rc[2];
	char note[2][160];
	int64_t setup_ns;
	uint64_t maxmsg;
	double rate;		 /* stream: messages per second */
	struct bench_hist hist;	 /* a paired run: the raw row's */
	struct bench_hist hist2; /* a paired run: the ipckit row's */
};

static const struct bench_opts *opts;
static const struct job *cur_job; /* the pair being prepared */

void
bench_job(size_t *size, int *stream)
{
	*size = cur_job ? cur_job->size : 64;
	*stream = cur_job && cur_job->mode == JOB_STREAM;
}

/*
 * With a time budget, A times the warm-up, derives how many round trips
 * fill the budget, and tells B over the control pipe; both then run that
 * many. Clamped so a slow row still gives a histogram and a fast one a
 * bounded run.
 */
static int
agree_count(struct bench_end *e, double per_s, double duration, long lo,
	    long hi, long *n)
{
	char line[64];
	char *end;
	int rc;

	if (e->side == 0) {
		double want = per_s * duration;

		*n = want < (double)lo	 ? lo
		     : want > (double)hi ? hi
					 : (long)want;
		snprintf(line, sizeof(line), "n %ld", *n);
		return bench_ctl_send(e, line);
	}
	if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	if (strncmp(line, "n ", 2) != 0)
		return -EPROTO;
	errno = 0;
	*n = strtol(line + 2, &end, 10);
	if (errno || *end || *n < lo || *n > hi)
		return -EPROTO;
	return 0;
}

/*
 * With a time budget the measured round trips run in chunks sized from the
 * warm-up's rate; after each chunk A says "more" or "stop" over the control
 * pipe (the clock decides: a rate measured on a quiet warm-up must not let
 * a loaded machine stretch the run), and the first round trip after that
 * exchange is not recorded, so the exchange never shows in the figures.
 */
static int
chunk_end(struct bench_end *e, int64_t deadline, int *stop)
{
	char line[16];
	int rc;

	if (e->side == 0) {
		*stop = bench_now_ns() >= deadline;
		return bench_ctl_send(e, *stop ? "stop" : "more");
	}
	if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	*stop = strcmp(line, "stop") == 0;
	return *stop || strcmp(line, "more") == 0 ? 0 : -EPROTO;
}

/*
 * What one clock read costs: the gap between two back-to-back reads, the
 * least of 20 batches of 50 (an interrupt only ever adds). Any interval
 * between two samples holds that much besides what it times: the rest of
 * the first read after its sample and the start of the second before its.
 */
int64_t
bench_clock_ns(void)
{
	int64_t best = INT64_MAX;

	for (int b = 0; b < 20; b++) {
		int64_t t0 = bench_now_ns(), t;

		for (int k = 0; k < 49; k++)
			__asm__ volatile("" : : "r"(bench_now_ns()) : "memory");
		t = (bench_now_ns() - t0) / 50;
		best = t < best ? t : best;
	}
	return best;
}

/*
 * A's clock: one read per round trip. The read that ends round trip i also
 * starts i + 1 (t[i+1] - t[i]); after a control exchange the chain restarts
 * and that round trip is not recorded. Chaining halves the reads, but each
 * interval still holds one read's cost (bench_clock_ns: 30-70 ns in this
 * VM, up to half the cache-line floor), so closed-loop figures are recorded
 * net of it; the report prints that cost.
 */
static int
lat_side(const struct bench_row *r, struct bench_end *e, const struct job *j,
	 unsigned char *buf, struct outcome *out)
{
	long total = j->warmup + j->rounds, n, chunk = 0, next = -1;
	size_t len = (r->flags & BF_NOPAYLOAD) ? 0 : j->size;
	int64_t period = j->rate > 0 ? (int64_t)(1e9 / j->rate) : 0;
	int64_t start = 0, wstart = bench_now_ns(), deadline = 0, t0, clk = 0;
	int rc, stop = 0, skip = 0;

	bench_hist_reset(&out->hist);
	if (e->side == 0 && period == 0)
		clk = bench_clock_ns();
	t0 = bench_now_ns();
	for (long i = 0; i < total; i++) {
		uint64_t stamp = (uint64_t)i * 2654435761u + 1, got = 0;
		int64_t t1;

		if (i == j->warmup && j->duration > 0) {
			double per_s =
				j->rate > 0 ? j->rate
					    : (double)j->warmup * 1e9 /
						      (double)(bench_now_ns() -
							       wstart + 1);

			if ((rc = agree_count(e, per_s, j->duration, 10,
					      10000000, &n)) < 0)
				return rc;
			chunk = n / 20 > 10 ? n / 20 : 10;
			next = i + chunk;
			total = LONG_MAX;
			deadline =
				bench_now_ns() + (int64_t)(j->duration * 1e9);
			skip = 1;
		} else if (i == next) {
			if ((rc = chunk_end(e, deadline, &stop)) < 0)
				return rc;
			if (stop)
				break;
			next += chunk;
			skip = 1;
		}
		if (e->side == 1) {
			if ((rc = r->recv(e, buf, len)) < 0 ||
			    (rc = r->send(e, buf, len)) < 0)
				return rc;
			continue;
		}
		if (len >= 8)
			memcpy(buf, &stamp, 8);
		if (len >= 16)
			memcpy(buf + len - 8, &stamp, 8);
		if (skip)
			t0 = bench_now_ns();
		if (period > 0 && i >= j->warmup) {
			/* open loop: latency counts from the intended send
			 * time, so a stall delays every later message too */
			if (i == j->warmup)
				start = bench_now_ns();
			t0 = start + (int64_t)(i - j->warmup) * period;
			while (bench_now_ns() < t0)
				bench_relax();
		}
		if ((rc = r->send(e, buf, len)) < 0 ||
		    (rc = r->recv(e, buf, len)) < 0)
			return rc;
		t1 = bench_now_ns();
		if (len >= 8) {
			memcpy(&got, buf, 8);
			if (got == stamp && len >= 16)
				memcpy(&got, buf + len - 8, 8);
			if (got != stamp) {
				snprintf(e->note, sizeof(e->note),
					 "echo %ld came back altered", i);
				return -EBADMSG;
			}
		}
		if (i >= j->warmup && !skip)
			bench_hist_add(&out->hist,
				       t1 - t0 - clk > 0
					       ? (uint64_t)(t1 - t0 - clk)
					       : 1);
		skip = 0;
		t0 = t1;
	}
	return 0;
}

int
bench_pair_slot(long cycle, int block)
{
	return (int)((cycle + block) % 2);
}

/*
 * One block of n round trips on one row of a paired run. A times each
 * into h, except the first: it follows the other mechanism's block or a
 * control exchange, and so is the first of a chain (t0 read before it).
 * B echoes; h NULL records nothing (warm-up).
 */
static int
pair_block(const struct bench_row *r, struct bench_end *e, unsigned char *buf,
	   size_t len, long n, uint64_t *seq, struct bench_hist *h, int64_t clk)
{
	int64_t t0 = bench_now_ns(), t1;
	int rc;

	for (long i = 0; i < n; i++) {
		uint64_t stamp = ++*seq * 2654435761u + 1, got = 0;

		if (e->side == 1) {
			if ((rc = r->recv(e, buf, len)) < 0 ||
			    (rc = r->send(e, buf, len)) < 0)
				return rc;
			continue;
		}
		if (len >= 8)
			memcpy(buf, &stamp, 8);
		if (len >= 16)
			memcpy(buf + len - 8, &stamp, 8);
		if ((rc = r->send(e, buf, len)) < 0 ||
		    (rc = r->recv(e, buf, len)) < 0)
			return rc;
		t1 = bench_now_ns();
		if (len >= 8) {
			memcpy(&got, buf, 8);
			if (got == stamp && len >= 16)
				memcpy(&got, buf + len - 8, 8);
			if (got != stamp) {
				snprintf(e->note, sizeof(e->note),
					 "paired echo %llu came back altered",
					 (unsigned long long)*seq);
				return -EBADMSG;
			}
		}
		if (h && i > 0)
			bench_hist_add(h, t1 - t0 - clk > 0
						  ? (uint64_t)(t1 - t0 - clk)
						  : 1);
		t0 = t1;
	}
	return 0;
}

/*
 * A paired run: rows r[0] (raw) and r[1] (ours), both open in these two
 * processes. Each warms up, then cycles of two blocks of BENCH_PAIR_BLOCK
 * round trips (bench_pair_slot: raw, ours; then ours, raw; ...) until the
 * budget is spent (the clock, or each row's rounds), A saying "more" or
 * "stop" over the control pipe after every cycle. Both sides run the same
 * schedule, so B always echoes on the mechanism A sends on. Machine
 * drift slower than a cycle (a few ms) lands on both histograms alike.
 */
static int
pair_side(const struct bench_row *const *r, struct bench_end *e,
	  const struct job *j, unsigned char *buf, struct outcome *out)
{
	struct bench_hist *h[2] = { &out->hist, &out->hist2 };
	int64_t clk = 0, deadline;
	uint64_t seq = 0;
	int rc, stop = 0;
	char line[16];

	bench_hist_reset(h[0]);
	bench_hist_reset(h[1]);
	if (e[0].side == 0)
		clk = bench_clock_ns();
	for (int k = 0; k < 2; k++)
		if ((rc = pair_block(r[k], &e[k], buf, j->size, j->warmup, &seq,
				     NULL, 0)) < 0)
			return rc;
	deadline = bench_now_ns() + (int64_t)(j->duration * 1e9);
	for (long c = 0; !stop; c++) {
		for (int b = 0; b < 2; b++) {
			int k = bench_pair_slot(c, b);

			if ((rc = pair_block(r[k], &e[k], buf, j->size,
					     BENCH_PAIR_BLOCK, &seq,
					     e[0].side == 0 ? h[k] : NULL,
					     clk)) < 0)
				return rc;
		}
		if (e[0].side == 1) {
			if ((rc = bench_ctl_recv(&e[0], line, sizeof(line))) <
			    0)
				return rc;
			if (strcmp(line, "stop") != 0 &&
			    strcmp(line, "more") != 0)
				return -EPROTO;
			stop = line[0] == 's';
			continue;
		}
		stop = j->duration > 0
			       ? bench_now_ns() >= deadline
			       : h[0]->count >= (uint64_t)j->rounds &&
					 h[1]->count >= (uint64_t)j->rounds;
		if ((rc = bench_ctl_send(&e[0], stop ? "stop" : "more")) < 0)
			return rc;
	}
	return 0;
}

/*
 * The payload of every stream (and of zero-copy rows in place): word 0 is
 * the message's sequence number, word i a pattern of it (base + i * step),
 * so a stale message of an earlier lap or a torn copy fails the check. Fill
 * and check run four words at a time through the compiler's vector
 * extensions (SSE2 registers without -march), and the check has
 * no early exit: it folds every difference into one word, a branch-free
 * pass as fast as a memcpy of the message, so the stream measures the
 * mechanism and not byte loops (a byte-by-byte check ran ~1 GB/s here).
 */
typedef uint64_t bench_v2 __attribute__((vector_size(16)));

#define PAY_MUL 0x9e3779b97f4a7c15ull
#define PAY_STEP 0x2545f4914f6cdd1dull
#define PAY_V(k) ((bench_v2){ (k)*PAY_STEP, (k)*PAY_STEP })

void
bench_fill(void *buf, size_t len, uint64_t seq)
{
	unsigned char *p = buf;
	uint64_t base = seq * PAY_MUL, w = len / 8, i = 1;
	bench_v2 v0, v1;

	if (len >= 8)
		memcpy(p, &seq, 8);
	v0 = (bench_v2){ base + PAY_STEP, base + 2 * PAY_STEP };
	v1 = v0 + PAY_V(2);
	for (; i + 4 <= w; i += 4, v0 += PAY_V(4), v1 += PAY_V(4)) {
		memcpy(p + i * 8, &v0, 16);
		memcpy(p + i * 8 + 16, &v1, 16);
	}
	for (; i < w; i++) {
		uint64_t x = base + i * PAY_STEP;

		memcpy(p + i * 8, &x, 8);
	}
	for (size_t k = len < 8 ? 0 : w * 8; k < len; k++)
		p[k] = (unsigned char)(base + k * PAY_STEP);
}

int
bench_check(const void *buf, size_t len, uint64_t seq)
{
	const unsigned char *p = buf;
	uint64_t base = seq * PAY_MUL, w = len / 8, i = 1, diff = 0, x;
	bench_v2 v0, v1, g0, g1, a0 = { 0, 0 }, a1 = { 0, 0 };

	if (len >= 8) {
		memcpy(&x, p, 8);
		diff = x ^ seq;
	}
	v0 = (bench_v2){ base + PAY_STEP, base + 2 * PAY_STEP };
	v1 = v0 + PAY_V(2);
	for (; i + 4 <= w; i += 4, v0 += PAY_V(4), v1 += PAY_V(4)) {
		memcpy(&g0, p + i * 8, 16);
		memcpy(&g1, p + i * 8 + 16, 16);
		a0 |= g0 ^ v0;
		a1 |= g1 ^ v1;
	}
	a0 |= a1;
	diff |= a0[0] | a0[1];
	for (; i < w; i++) {
		memcpy(&x, p + i * 8, 8);
		diff |= x ^ (base + i * PAY_STEP);
	}
	for (size_t k = len < 8 ? 0 : w * 8; k < len; k++)
		diff |= p[k] ^ (unsigned char)(base + k * PAY_STEP);
	return diff == 0;
}

static long
batch_of(size_t size)
{
	long batch = (long)(16384 / (size ? size : 1));

	return batch < 1 ? 1 : batch > 32 ? 32 : batch;
}

/* B: receive n messages, checking every byte; the count of bad ones. */
static int
stream_in(const struct bench_row *r, struct bench_end *e, size_t size,
	  unsigned char *buf, long n, long *bad)
{
	long batch = batch_of(size);
	int rc;

	for (long i = 0; i < n; i++) {
		e->fill = (unsigned char)(i * 131 + 7);
		e->seq = (uint64_t)i;
		if ((rc = r->recv(e, buf, size)) < 0)
			return rc;
		if (!(r->flags & BF_INPLACE) && !bench_check(buf, size, e->seq))
			(*bad)++;
		if ((r->flags & BF_LOSSY) && (i + 1) % batch == 0 &&
		    (rc = bench_write_all(e->ctl_tx, (char[]){ CREDIT }, 1)) <
			    0)
			return rc;
	}
	return 0;
}

/* A: send n messages, each filled with its own byte value. */
static int
stream_out(const struct bench_row *r, struct bench_end *e, size_t size,
	   unsigned char *buf, long n)
{
	long batch = batch_of(size);
	char c;
	int rc;

	for (long i = 0; i < n; i++) {
		e->fill = (unsigned char)(i * 131 + 7);
		e->seq = (uint64_t)i;
		if (!(r->flags & BF_INPLACE))
			bench_fill(buf, size, e->seq);
		if ((rc = r->send(e, buf, size)) < 0)
			return rc;
		/* lossy: at most two batches in flight, so the receiver's
		 * socket buffer never overflows */
		if ((r->flags & BF_LOSSY) && (i + 1) % batch == 0 &&
		    i + 1 >= 2 * batch && (rc = ctl_byte(e, &c)) < 0)
			return rc;
	}
	return 0;
}

/*
 * One way, A to B. With a time budget, a calibration stream (j->n
 * messages, acknowledged by B) gives the rate, and the measured stream is
 * as long as the budget allows at that rate.
 */
static int
stream_side(const struct bench_row *r, struct bench_end *e, const struct job *j,
	    unsigned char *buf, struct outcome *out)
{
	long bad = 0, n = j->n;
	char line[64];
	int64_t t0;
	int rc;

	e->stream = 1;
	if (e->side == 1) {
		if ((rc = bench_ctl_send(e, "go")) < 0)
			return rc;
		if (j->duration > 0 &&
		    ((rc = stream_in(r, e, j->size, buf, j->n, &bad)) < 0 ||
		     (rc = bench_ctl_send(e, "cal")) < 0 ||
		     (rc = agree_count(e, 0, 0, 4, 10000000, &n)) < 0))
			return rc;
		if ((rc = stream_in(r, e, j->size, buf, n, &bad)) < 0)
			return rc;
		snprintf(line, sizeof(line), "done %ld", bad + e->bad);
		return bench_ctl_send(e, line);
	}
	if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	if (j->duration > 0) {
		t0 = bench_now_ns();
		if ((rc = stream_out(r, e, j->size, buf, j->n)) < 0 ||
		    (rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
			return rc;
		if ((rc = agree_count(e,
				      (double)j->n * 1e9 /
					      (double)(bench_now_ns() - t0 + 1),
				      j->duration, 4, 10000000, &n)) < 0)
			return rc;
	}
	t0 = bench_now_ns();
	if ((rc = stream_out(r, e, j->size, buf, n)) < 0 ||
	    (rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	out->rate = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
	if (strcmp(line, "done 0") != 0) {
		snprintf(e->note, sizeof(e->note),
			 "receiver saw corrupt payloads (%s)", line);
		return -EBADMSG;
	}
	return 0;
}

/*
 * One side: open each row in order (a paired run: raw fully, then ours,
 * the same order on both sides, so rendezvous never cross), play, close
 * in reverse. Every row whose open was called is closed: rows close what a
 * failed open left half-made.
 */
static void
side_main(const struct bench_row *const *r, int nr, struct bench_end *e,
	  const struct job *j, struct outcome *out)
{
	size_t cap = j->size > 64 ? j->size : 64;
	unsigned char *buf = NULL;
	int64_t t0;
	int rc = 0, opened = 0, ex = 0, s = e[0].side;

	alarm((unsigned)j->alarm_s);
	(void)bench_pin(0, opts->cpu[s]); /* checked up front */
	t0 = bench_now_ns();
	for (; rc == 0 && opened < nr; opened++) {
		rc = r[opened]->open(r[opened], &e[opened]);
		if (rc == 0 && e[opened].maxmsg && j->size > e[opened].maxmsg &&
		    j->mode == JOB_LAT)
			rc = -EMSGSIZE;
	}
	if (rc == 0 && s == 0) {
		out->setup_ns = bench_now_ns() - t0;
		out->maxmsg = e[0].maxmsg;
	}
	if (rc == 0 && (buf = aligned_alloc(64, (cap + 63) / 64 * 64)) == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		memset(buf, 0, cap);
		rc = nr == 2		  ? pair_side(r, e, j, buf, out)
		     : j->mode == JOB_LAT ? lat_side(r[0], e, j, buf, out)
					  : stream_side(r[0], e, j, buf, out);
	}
	while (opened-- > 0)
		r[opened]->close(&e[opened]);
	for (int k = 0; k < nr; k++)
		ex |= (r[k]->flags & BF_EXIT) != 0;
	free(buf);
	out->rc[s] = rc;
	for (int k = nr - 1; k >= 0; k--)
		if (e[k].note[0])
			memcpy(out->note[s], e[k].note, sizeof(e[k].note));
	if (ex)
		exit(rc < 0);
	_exit(rc < 0);
}

/*
 * Remove the path names of this pair (ikb-<pid>-<seq>-*) that a killed
 * side, or a peer library that does not clean up (ZeroMQ's ipc:// files),
 * left in the runtime directory.
 */
static void
remove_names(void)
{
	char dir[80], prefix[64], path[200];
	struct dirent *d;
	DIR *dp;

	if (bench_dir(dir, sizeof(dir)) < 0 || (dp = opendir(dir)) == NULL)
		return;
	snprintf(prefix, sizeof(prefix), "ikb-%ld-%u-", (long)coord_pid,
		 name_seq);
	while ((d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(path, sizeof(path), "%.80s/%.100s", dir,
				 d->d_name);
			unlink(path);
		}
	closedir(dp);
}

/* Reap pid; after grace_ms, kill it. Returns its wait status. */
static int
reap(pid_t pid, int grace_ms)
{
	int st = 0;

	for (int waited = 0;; waited++) {
		pid_t w = waitpid(pid, &st, grace_ms < 0 ? 0 : WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return st;
		if (w == 0 && waited >= grace_ms) {
			kill(pid, SIGKILL);
			grace_ms = -1;
			continue;
		}
		if (w == 0)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}

/*
 * Fork one pair for nr rows (1, or 2: a paired run, raw then ours), each
 * prepared here and cleaned up after both sides are gone.
 */
static int
run_rows(const struct bench_row *const *r, int nr, const struct job *j,
	 struct outcome *out, char *note, size_t notelen)
{
	struct outcome *sh;
	void *shared[2] = { NULL, NULL };
	int ab[2], ba[2], rc = 0, st[2], prepared = 0;
	pid_t pid[2];

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	memset(sh, 0, sizeof(*sh));
	sh->rc[0] = sh->rc[1] = -ECHILD;
	if (pipe2(ab, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out_map;
	}
	if (pipe2(ba, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out_ab;
	}
	name_seq++;
	cur_job = j;
	for (; prepared < nr; prepared++)
		if (r[prepared]->prepare &&
		    (rc = r[prepared]->prepare(r[prepared],
					       &shared[prepared])) < 0) {
			snprintf(note, notelen, "prepare: %s", ik_strerror(rc));
			goto out_prep;
		}
	fflush(NULL);
	for (int s = 1; s >= 0; s--) {
		pid[s] = fork();
		if (pid[s] < 0) {
			rc = -errno;
			if (s == 0) {
				kill(pid[1], SIGKILL);
				reap(pid[1], -1);
			}
			goto out_prep;
		}
		if (pid[s] == 0) {
			struct bench_end e[2];

			memset(e, 0, sizeof(e));
			for (int k = 0; k < nr; k++) {
				e[k].side = s;
				e[k].ctl_tx = s ? ba[1] : ab[1];
				e[k].ctl_rx = s ? ab[0] : ba[0];
				e[k].shared = shared[k];
				e[k].timeout_ms = 5000;
			}
			close(s ? ab[1] : ba[1]);
			close(s ? ba[0] : ab[0]);
			side_main(r, nr, e, j, sh);
		}
	}
	close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);
	st[0] = reap(pid[0], -1);
	/* B is done too once A is, unless it is stuck: a bounded grace; none
	 * when A failed, as B may wait on a message that never comes */
	st[1] = reap(pid[1], sh->rc[0] < 0 ? 0 : 10000);
	remove_names();
	if (sh->rc[0] < 0 && sh->rc[0] != -EPIPE && !WIFSIGNALED(st[0])) {
		/* A's own error explains the run, B was only left waiting */
		rc = sh->rc[0];
		snprintf(note, notelen, "%s%s%.150s", ik_strerror(rc),
			 sh->note[0][0] ? ": " : "", sh->note[0]);
	} else if (WIFSIGNALED(st[0]) || WIFSIGNALED(st[1])) {
		int sig =
			WIFSIGNALED(st[0]) ? WTERMSIG(st[0]) : WTERMSIG(st[1]);

		snprintf(note, notelen, "side %s killed by signal %d%s",
			 WIFSIGNALED(st[0]) ? "A" : "B", sig,
			 sig == SIGALRM ? " (timed out)" : "");
		rc = -ETIMEDOUT;
	} else if (sh->rc[0] < 0 || sh->rc[1] < 0) {
		int s = sh->rc[0] < 0 && sh->rc[0] != -EPIPE ? 0
			: sh->rc[1] < 0			     ? 1
							     : 0;

		rc = sh->rc[s];
		snprintf(note, notelen, "%s%s%s", ik_strerror(rc),
			 sh->note[s][0] ? ": " : "", sh->note[s]);
	}
	memcpy(out, sh, sizeof(*out));
	while (prepared-- > 0)
		if (r[prepared]->cleanup)
			r[prepared]->cleanup(r[prepared], shared[prepared]);
	munmap(sh, sizeof(*sh));
	return rc;
out_prep:
	while (prepared-- > 0)
		if (r[prepared]->cleanup)
			r[prepared]->cleanup(r[prepared], shared[prepared]);
	close(ba[0]), close(ba[1]);
out_ab:
	close(ab[0]), close(ab[1]);
out_map:
	munmap(sh, sizeof(*sh));
	return rc;
}

static int
run_pair(const struct bench_row *r, const struct job *j, struct outcome *out,
	 char *note, size_t notelen)
{
	return run_rows(&r, 1, j, out, note, notelen);
}

/* ---- the whole run --------------------------------------------------------
 */

static int
selected(const struct bench_row *r, const char *only)
{
	static const char *const kinds[BK_KINDS] = { "floor", "sync", "raw",
						     "ours", "peer" };
	const char *p = only;

	if (only == NULL)
		return 1;
	while (*p) {
		size_t n = strcspn(p, ",");

		if ((strlen(r->mech) == n && strncmp(p, r->mech, n) == 0) ||
		    (strlen(r->name) == n && strncmp(p, r->name, n) == 0) ||
		    (strlen(kinds[r->kind]) == n &&
		     strncmp(p, kinds[r->kind], n) == 0))
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

static const struct bench_row *const *tables(void);

/* Selected, or the baseline of a selected ipckit row (its ratio needs it). */
static int
wanted(const struct bench_row *r, const char *only)
{
	const struct bench_row *const *t = tables();
	enum bench_kind k;
	const char *m;

	if (selected(r, only))
		return 1;
	for (int j = 0; t[j]; j++)
		for (int i = 0; t[j][i].name; i++)
			if (selected(&t[j][i], only) &&
			    (m = bench_base_of(&t[j][i], &k)) != NULL &&
			    k == r->kind && strcmp(m, r->mech) == 0)
				return 1;
	return 0;
}

static const struct bench_row *const *
tables(void)
{
	static const struct bench_row *const t[] = {
		bench_rows_sync,
		bench_rows_raw_stream,
		bench_rows_raw_msg,
		bench_rows_ours,
#ifdef IKB_HAVE_ZMQ
		bench_rows_zmq,
#endif
#ifdef IKB_HAVE_NNG
		bench_rows_nng,
#endif
#ifdef IKB_HAVE_ICEORYX
		bench_rows_iceoryx,
#endif
		NULL,
	};
	return t;
}

/* Progress on a terminal only: one line, rewritten in place. */
static void
progress(const char *phase, int rep, int reps, int k, int of, const char *row)
{
	if (!opts->progress)
		return;
	fprintf(stderr, "\ripckit bench: repetition %d/%d, %s %d/%d: %s\033[K",
		rep + 1, reps, phase, k + 1, of, row);
	fflush(stderr);
}

static void
progress_done(void)
{
	if (opts->progress)
		fprintf(stderr, "\r\033[K");
}

static long
clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Messages per stream: fixed bytes, or with a budget the calibration. */
static long
stream_count(size_t size)
{
	uint64_t bytes = opts->duration > 0 && opts->stream_bytes > (4u << 20)
				 ? 4u << 20
				 : opts->stream_bytes;

	return clampl((long)(bytes / (size ? size : 1)),
		      opts->duration > 0 ? 4 : opts->stream_min,
		      opts->duration > 0 ? 4096 : opts->stream_max);
}

static void
fail_row(struct bench_result *x, int rc, const char *note)
{
	x->state = rc == -EPROTONOSUPPORT ? BR_SKIPPED : BR_FAILED;
	snprintf(x->note, sizeof(x->note), "%.150s", note);
}

int
bench_sized_rtt(const struct bench_row *r)
{
	return r->kind == BK_OURS && (strcmp(r->mech, "ring") == 0 ||
				      strcmp(r->mech, "ring-zc") == 0);
}

/* A peer named in IKB_DISABLE_PEERS ("zeromq,nng"): by the first word of
 * its name or by its mechanism. */
static int
disabled(const struct bench_row *r, const char *list)
{
	size_t w = strcspn(r->name, " ");

	if (list == NULL || r->kind != BK_PEER)
		return 0;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");

		if ((n == w && strncmp(p, r->name, n) == 0) ||
		    (n == strlen(r->mech) && strncmp(p, r->mech, n) == 0))
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/*
 * The memcpy reference, on one core (side A's CPU), in a child so the
 * coordinator's affinity stays as it is. 1 MiB blocks are copied from one
 * source into successive slots of a BENCH_MEMCPY_SPAN destination, as the
 * producer copies into the ring: the destination is never hot in this
 * core's L2 (512 KiB here) when a copy begins. Copying between two fixed
 * blocks, as before, kept both in cache and read 10-17 GB/s, a speed no
 * ring can show: its data moves between cores through a buffer larger than
 * L2. Also the cost of one clock read (bench_clock_ns), taken off every
 * closed-loop round trip. Bytes/s and ns, or a negative errno in *bps.
 */
static void
memcpy_rate(double seconds, double *bps, double *clock_ns)
{
	double *sh = mmap(NULL, 2 * sizeof(double), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	*bps = *clock_ns = -ECHILD;
	if (sh == MAP_FAILED) {
		*bps = -errno;
		return;
	}
	sh[0] = sh[1] = -ECHILD;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		*bps = -errno;
		munmap(sh, 2 * sizeof(double));
		return;
	}
	if (pid == 0) {
		size_t slots = BENCH_MEMCPY_SPAN / BENCH_MEMCPY_BLOCK;
		unsigned char *a = aligned_alloc(64, BENCH_MEMCPY_BLOCK),
			      *b = aligned_alloc(64, BENCH_MEMCPY_SPAN);
		int64_t t0, t;
		long k = 0;

		alarm(60);
		if (a == NULL || b == NULL || bench_pin(0, opts->cpu[0]) < 0)
			_exit(1);
		memset(a, 0x5a, BENCH_MEMCPY_BLOCK);
		memset(b, 0, BENCH_MEMCPY_SPAN);
		sh[1] = (double)bench_clock_ns();
		t0 = bench_now_ns();
		k = 0;
		do {
			memcpy(b + (size_t)k % slots * BENCH_MEMCPY_BLOCK, a,
			       BENCH_MEMCPY_BLOCK);
			/* the copy is used: the compiler keeps it */
			__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
			k++;
		} while ((t = bench_now_ns() - t0) < (int64_t)(seconds * 1e9) ||
			 k < 8);
		sh[0] = (double)k * BENCH_MEMCPY_BLOCK / ((double)t / 1e9);
		free(a);
		free(b);
		_exit(0);
	}
	reap(pid, -1);
	*bps = sh[0];
	*clock_ns = sh[1];
	munmap(sh, 2 * sizeof(double));
}

static void
record_lat(struct bench_result *x, const struct outcome *out)
{
	x->maxmsg = out->maxmsg;
	x->p50[x->nlat] = bench_hist_quantile(&out->hist, 0.50) / 1e3;
	x->p99[x->nlat] = bench_hist_quantile(&out->hist, 0.99) / 1e3;
	x->p999[x->nlat] = bench_hist_quantile(&out->hist, 0.999) / 1e3;
	x->max[x->nlat] = out->hist.max / 1e3;
	x->setup[x->nlat++] = out->setup_ns / 1e3;
}

static void
record_slat(struct bench_result *x, int s, const struct outcome *out)
{
	static const double q[4] = { 0.50, 0.99, 0.999, 1.0 };

	for (int k = 0; k < 4; k++)
		x->slat[s][k][x->nslat[s]] =
			bench_hist_quantile(&out->hist, q[k]) / 1e3;
	x->nslat[s]++;
}

/*
 * The order rows run in: each ipckit row right after its raw twin, so that load
 * changing during a repetition lands on both sides of a ratio alike; odd
 * repetitions run the order backwards, so neither side of a pair always goes
 * first.
 */
static int *run_order; /* NULL (no memory): the rows' own order */

static void
make_order(struct bench_result *res, int n)
{
	unsigned char *placed = calloc((size_t)n + 1, 1);
	int k = 0;

	free(run_order);
	run_order = calloc((size_t)n + 1, sizeof(*run_order));
	if (placed == NULL || run_order == NULL) {
		free(run_order);
		run_order = NULL;
		free(placed);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (placed[i])
			continue;
		run_order[k++] = i;
		placed[i] = 1;
		for (int j = i + 1; j < n; j++)
			if (!placed[j] &&
			    bench_pair_twin(res, n, &res[j]) == &res[i]) {
				run_order[k++] = j;
				placed[j] = 1;
			}
	}
	free(placed);
}

/* The k-th row to run in repetition rep: the order every pass walks. */
static struct bench_result *
nth(struct bench_result *res, int k, int n, int rep)
{
	int at = rep % 2 ? n - 1 - k : k;

	return &res[run_order != NULL ? run_order[at] : at];
}

/* A job of every pass: mode at size, the caller adds what it counts. */
static struct job
job_of(int mode, size_t size)
{
	struct job j = { .mode = mode,
			 .size = size,
			 .duration = opts->duration,
			 .alarm_s = 120 };

	return j;
}

/*
 * The paired run of ipckit row x and its raw twin b: p50 of each, and
 * their quotient, for this repetition. A failure fails the ipckit row:
 * both rows ran alone just before, so it is the pairing that broke.
 */
static void
paired_run(struct bench_result *x, struct bench_result *b, const struct job *j)
{
	const struct bench_row *r[2] = { b->row, x->row };
	struct outcome out;
	char note[200];
	double p[2];
	int rc = run_rows(r, 2, j, &out, note, sizeof(note));

	if (rc < 0) {
		char why[200];

		snprintf(why, sizeof(why), "paired with %.40s: %.140s",
			 b->row->name, note);
		fail_row(x, rc, why);
		return;
	}
	p[0] = bench_hist_quantile(&out.hist, 0.50) / 1e3;
	p[1] = bench_hist_quantile(&out.hist2, 0.50) / 1e3;
	if (p[0] <= 0 || p[1] <= 0)
		return;
	x->pair_p50[0][x->npair] = p[0];
	x->pair_p50[1][x->npair] = p[1];
	x->pair_ratio[x->npair++] = p[1] / p[0];
}

static void
latency_pass(struct bench_result *res, int n, int rep, int reps)
{
	struct job j = job_of(JOB_LAT, 64);
	struct outcome out;
	char note[200];

	j.rounds = opts->rounds;
	j.warmup = opts->warmup;
	j.rate = opts->rate;
	for (int k = 0; k < n; k++) {
		struct bench_result *x = nth(res, k, n, rep), *b;
		int rc;

		progress("round trips", rep, reps, k, n, x->row->name);
		if (x->state != BR_OK)
			continue;
		rc = run_pair(x->row, &j, &out, note, sizeof(note));
		if (rc < 0) {
			fail_row(x, rc, note);
			continue;
		}
		record_lat(x, &out);
		for (int s = 0; s < opts->nsizes; s++)
			if (opts->sizes[s] == 64 && bench_sized_rtt(x->row))
				record_slat(x, s, &out);
		if ((b = bench_pair_twin(res, n, x)) != NULL) {
			progress("paired round trips", rep, reps, k, n,
				 x->row->name);
			paired_run(x, b, &j);
		}
	}
}

/* The ring's round trip at each size: short runs (a 1 MiB round trip
 * copies 2 MiB), as many as the stream budget allows. */
static void
sized_pass(struct bench_result *res, int n, int rep, int reps)
{
	struct outcome out;
	char note[200];

	for (int s = 0; s < opts->nsizes; s++)
		for (int k = 0; k < n; k++) {
			struct bench_result *x = nth(res, k, n, rep);
			struct job j = job_of(JOB_LAT, opts->sizes[s]);

			j.rounds =
				(int)clampl((long)(opts->stream_bytes / j.size),
					    100, opts->rounds);
			j.warmup = j.rounds / 10 + 10;
			if (x->state != BR_OK || !bench_sized_rtt(x->row) ||
			    j.size == 64 || (x->maxmsg && j.size > x->maxmsg))
				continue;
			progress("round trips by size", rep, reps, k, n,
				 x->row->name);
			if (run_pair(x->row, &j, &out, note, sizeof(note)) < 0)
				continue; /* the stream pass says why */
			record_slat(x, s, &out);
		}
}

static void
stream_pass(struct bench_result *res, int n, int rep, int reps)
{
	struct outcome out;
	char note[200];

	for (int s = 0; s < opts->nsizes; s++)
		for (int k = 0; k < n; k++) {
			struct bench_result *x = nth(res, k, n, rep);
			struct job j = job_of(JOB_STREAM, opts->sizes[s]);

			j.n = stream_count(j.size);
			progress("streams", rep, reps, s * n + k,
				 opts->nsizes * n, x->row->name);
			if (x->state != BR_OK ||
			    (x->row->flags & BF_NOPAYLOAD) || x->tnote[s][0])
				continue;
			if (x->maxmsg && opts->sizes[s] > x->maxmsg) {
				snprintf(x->tnote[s], sizeof(x->tnote[s]),
					 "above its largest message (%zu B)",
					 x->maxmsg);
				continue;
			}
			if (run_pair(x->row, &j, &out, note, sizeof(note)) <
			    0) {
				snprintf(x->tnote[s], sizeof(x->tnote[s]),
					 "%.70s", note);
				continue;
			}
			x->tput[s][x->ntput[s]++] = out.rate;
		}
}

/* Not on a terminal, standard error stays empty: what the rows' processes
 * and peer libraries (iceoryx logs there) would write goes to /dev/null
 * while they run. Returns the saved descriptor, or -1. */
static int
mute_stderr(void)
{
	int saved, nul;

	if (opts->progress)
		return -1;
	fflush(stderr);
	if ((saved = fcntl(2, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	if ((nul = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0 ||
	    dup2(nul, 2) < 0) {
		if (nul >= 0)
			close(nul);
		close(saved);
		return -1;
	}
	close(nul);
	return saved;
}

static void
unmute_stderr(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, 2);
	close(saved);
}

static int
measure(struct bench_result *res, int n, struct bench_refs *ref)
{
	int reps = opts->reps > BENCH_MAX_REPS ? BENCH_MAX_REPS : opts->reps;

	for (int i = 0; i < n; i++)
		if (disabled(res[i].row, opts->disable)) {
			res[i].state = BR_SKIPPED;
			snprintf(res[i].note, sizeof(res[i].note),
				 "disabled by IKB_DISABLE_PEERS");
		}
	make_order(res, n);
	for (int rep = 0; rep < reps; rep++) {
		double bps, clk;

		latency_pass(res, n, rep, reps);
		sized_pass(res, n, rep, reps);
		progress("memcpy reference", rep, reps, 0, 1, "1 MiB blocks");
		memcpy_rate(opts->duration > 0 ? opts->duration : 0.2, &bps,
			    &clk);
		if (bps > 0)
			ref->memcpy_bps[ref->nmemcpy++] = bps;
		if (clk > 0)
			ref->clock_ns[ref->nclock++] = clk;
		stream_pass(res, n, rep, reps);
	}
	progress_done();
	/* a peer library that fails (its daemon, its pools) is reported in
	 * the table like a skipped one; only our own rows failing, or a raw
	 * baseline, makes the run a failure */
	for (int i = 0; i < n; i++)
		if (res[i].state == BR_FAILED && res[i].row->kind != BK_PEER)
			return 1;
	return 0;
}

int
bench_run(const struct bench_opts *o)
{
	const struct bench_row *const *t = tables();
	struct bench_refs ref = { 0 };
	struct bench_result *res;
	int n = 0, failed, saved, rc;

	opts = o;
	coord_pid = getpid();
	for (int k = 0; t[k]; k++)
		for (int i = 0; t[k][i].name; i++)
			n += wanted(&t[k][i], o->only);
	res = calloc((size_t)(n ? n : 1), sizeof(*res));
	if (res == NULL)
		return -ENOMEM;
	n = 0;
	for (int k = 0; t[k]; k++)
		for (int i = 0; t[k][i].name; i++)
			if (wanted(&t[k][i], o->only))
				res[n++].row = &t[k][i];
	saved = mute_stderr();
	failed = measure(res, n, &ref);
	unmute_stderr(saved);
	bench_report(stdout, o, res, n, &ref);
	fflush(stdout);
	if (o->dat_dir && (rc = bench_report_dat(o, res, n)) < 0) {
		fprintf(stderr, "ipckit bench: --dat %s: %s\n", o->dat_dir,
			ik_strerror(rc));
		failed = 1;
	}
	if (o->plot && (rc = bench_plot(o, res, n)) < 0) {
		fprintf(stderr, "ipckit bench: --plot %s: %s\n", o->plot,
			rc == -ENOENT ? "gnuplot not found (scripts/deps.sh "
					"bench installs gnuplot-nox)"
				      : ik_strerror(rc));
		failed = 1;
	}
	free(res);
	return failed;
}
