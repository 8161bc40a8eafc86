/*
 * The report: first the comparison in the seed's shape (one row per
 * mechanism, fastest round trip first, ratio to its baseline, measured
 * persistence and capacity), the ring's round trip by size, then the
 * detailed tables (the seed's own table, round trips, throughput by size,
 * ratios), what was skipped and why, and last a paragraph reading the
 * figures. --json and --csv (bench/export.c) carry the same figures.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static FILE *out;

static const char *const kind_name[BK_KINDS] = { "floor", "sync", "raw", "ours",
						 "peer" };

static void
fmt_size(char *buf, size_t len, size_t v)
{
	if (v >= (1u << 20) && v % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", v >> 20);
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%zu KiB", v >> 10);
	else
		snprintf(buf, len, "%zu B", v);
}

static void
fmt_rate(char *buf, size_t len, double bytes_per_s)
{
	if (bytes_per_s >= 1e9)
		snprintf(buf, len, "%.2f GB/s", bytes_per_s / 1e9);
	else
		snprintf(buf, len, "%.0f MB/s", bytes_per_s / 1e6);
}

/* ---- the seed's table -------------------------------------------------- */

struct seed_line {
	const char *mechanism, *mech, *usage;
	enum bench_kind kind;
};

static const struct seed_line seed[] = {
	{ "Pipe", "pipe", "ik_pipe_open, related processes", BK_OURS },
	{ "FIFO", "fifo", "fifo:/path", BK_OURS },
	{ "Signals", "signal", "ik_sig (notification only)", BK_SYNC },
	{ "Msg Queue (POSIX)", "pmq", "pmq:/name", BK_OURS },
	{ "Msg Queue (SysV)", "svmq", "svmq:KEY", BK_OURS },
	{ "Shared Mem (ring)", "ring", "ik_ring / shm:/name", BK_OURS },
	{ "Semaphore (SysV)", "svsem", "notification only", BK_SYNC },
	{ "Semaphore (POSIX)", "psem", "notification only", BK_SYNC },
	{ "Socket (Unix)", "unix", "unix:/path", BK_OURS },
	{ "Socket (TCP)", "tcp", "tcp:HOST:PORT", BK_OURS },
};

static void
seed_table(const struct bench_opts *o, struct bench_result *res, int n,
	   const struct bench_probe *pr, int npr)
{
	int s4 = bench_size_index(o, 4096);

	fprintf(out,
		"IPC comparison, measured (round trip p50 at 64 B; throughput "
		"at 4 KiB; setup = open on one side, rendezvous included)\n");
	fprintf(out, "%-19s %-22s %-10s %-22s %-26s %s\n", "Mechanism",
		"Speed (RTT, 4 KiB)", "Setup", "Persist", "Capacity", "Usage");
	for (size_t k = 0; k < sizeof(seed) / sizeof(seed[0]); k++) {
		struct bench_result *x =
			bench_find(res, n, seed[k].mech, seed[k].kind);
		char speed[48] = "-", setup[16] = "-", tp[24] = "";
		const char *persist = "-", *cap = "-";

		if (x == NULL && seed[k].kind == BK_OURS)
			x = bench_find(res, n, seed[k].mech, BK_RAW);
		if (x != NULL) {
			snprintf(setup, sizeof(setup), "%.0f us",
				 bench_med(x->setup, x->nlat));
			if (s4 >= 0 && x->ntput[s4] > 0)
				fmt_rate(tp, sizeof(tp),
					 bench_med(x->tput[s4], x->ntput[s4]) *
						 4096);
			snprintf(speed, sizeof(speed), "%.1f us%s%s",
				 bench_med(x->p50, x->nlat), tp[0] ? ", " : "",
				 tp);
		}
		for (int i = 0; i < npr; i++)
			if (strcmp(pr[i].mech, seed[k].mech) == 0) {
				persist = pr[i].persist;
				cap = pr[i].capacity;
			}
		fprintf(out, "%-19s %-22s %-10s %-22s %-26s %s\n",
			seed[k].mechanism, speed, setup, persist, cap,
			seed[k].usage);
	}
}

/* ---- detailed tables --------------------------------------------------- */

static void
latency_table(struct bench_result *res, int n)
{
	fprintf(out, "\nRound trip, 64 B ping-pong, microseconds (median of "
		     "repetitions; spread of p50)\n");
	fprintf(out, "%-28s %-5s %8s %8s %8s %9s %7s %8s\n", "row", "kind",
		"p50", "p99", "p99.9", "max", "spread", "setup");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i];

		if (x->state != BR_OK || x->nlat == 0)
			continue;
		fprintf(out,
			"%-28s %-5s %8.2f %8.2f %8.2f %9.1f %6.0f%% %8.0f\n",
			x->row->name, kind_name[x->row->kind],
			bench_med(x->p50, x->nlat), bench_med(x->p99, x->nlat),
			bench_med(x->p999, x->nlat), bench_med(x->max, x->nlat),
			bench_spread(x->p50, x->nlat),
			bench_med(x->setup, x->nlat));
	}
}

static void
tput_table(const struct bench_opts *o, struct bench_result *res, int n)
{
	char h[32]; /* "%zu MiB" of any size_t */

	fprintf(out,
		"\nOne-way throughput, messages/s (and bytes/s), median of "
		"repetitions\n%-28s",
		"row");
	for (int s = 0; s < o->nsizes; s++) {
		fmt_size(h, sizeof(h), o->sizes[s]);
		fprintf(out, " %21s", h);
	}
	fprintf(out, "\n");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i];

		if (x->state != BR_OK || (x->row->flags & BF_NOPAYLOAD))
			continue;
		fprintf(out, "%-28s", x->row->name);
		for (int s = 0; s < o->nsizes; s++) {
			char cell[40], r[24];
			double m;

			if (x->ntput[s] == 0) {
				fprintf(out, " %21s", "-");
				continue;
			}
			m = bench_med(x->tput[s], x->ntput[s]);
			fmt_rate(r, sizeof(r), m * (double)o->sizes[s]);
			snprintf(cell, sizeof(cell), "%.3gM %s", m / 1e6, r);
			fprintf(out, " %21s", cell);
		}
		fprintf(out, "\n");
	}
}

/* ---- ratios ---------------------------------------------------------------
 */

struct ratio {
	const char *what;
	const char *a, *b; /* mechs */
	enum bench_kind ka, kb;
	int tput; /* compare throughput at 64 B instead of latency */
};

static const struct ratio ratios[] = {
	{ "ring spinning vs cache-line floor (RTT p50)", "ring", "floor",
	  BK_OURS, BK_FLOOR, 0 },
	{ "ring blocking vs raw futex (RTT p50)", "ring-block", "futex",
	  BK_OURS, BK_SYNC, 0 },
	{ "ring vs unix stream (64 B throughput)", "ring", "unix", BK_OURS,
	  BK_OURS, 1 },
};

static int
ratio_value(const struct bench_opts *o, struct bench_result *res, int n,
	    const char *a, enum bench_kind ka, const char *b,
	    enum bench_kind kb, int tput, double *v)
{
	struct bench_result *x = bench_find(res, n, a, ka),
			    *y = bench_find(res, n, b, kb);
	int s = bench_size_index(o, 64);

	if (y == NULL && kb == BK_OURS) /* until that transport lands */
		y = bench_find(res, n, b, BK_RAW);

	if (x == NULL || y == NULL)
		return -1;
	if (!tput) {
		*v = bench_med(x->p50, x->nlat) / bench_med(y->p50, y->nlat);
		return 0;
	}
	if (s < 0 || x->ntput[s] == 0 || y->ntput[s] == 0)
		return -1;
	*v = bench_med(x->tput[s], x->ntput[s]) /
	     bench_med(y->tput[s], y->ntput[s]);
	return 0;
}

static void
ratio_list(const struct bench_opts *o, struct bench_result *res, int n)
{
	double v;

	/* ours vs raw, same mechanism */
	for (int i = 0; i < n; i++) {
		const struct bench_row *r = res[i].row;
		char what[96];

		if (r->kind != BK_OURS ||
		    ratio_value(o, res, n, r->mech, BK_OURS, r->mech, BK_RAW, 0,
				&v) < 0)
			continue;
		snprintf(what, sizeof(what), "%s vs raw %s (RTT p50)", r->name,
			 r->mech);
		if (bench_pair_ratio(&res[i]) > 0)
			fprintf(out, "  %-52s %6.2fx paired, %.2fx apart\n",
				what, bench_pair_ratio(&res[i]), v);
		else
			fprintf(out, "  %-52s %6.2fx\n", what, v);
	}
	for (size_t k = 0; k < sizeof(ratios) / sizeof(ratios[0]); k++) {
		const struct ratio *q = &ratios[k];

		struct bench_result *x = bench_find(res, n, q->a, q->ka);

		if (ratio_value(o, res, n, q->a, q->ka, q->b, q->kb, q->tput,
				&v) < 0)
			continue;
		if (!q->tput && bench_pair_ratio(x) > 0)
			fprintf(out, "  %-52s %6.2fx paired, %.2fx apart\n",
				q->what, bench_pair_ratio(x), v);
		else
			fprintf(out, "  %-52s %6.2fx\n", q->what, v);
	}
}

/* ---- the main table ------------------------------------------------------
 */

int
bench_order(struct bench_result *res, int n, int *idx, int max)
{
	int k = 0;

	for (int i = 0; i < n && k < max; i++) {
		double p;
		int j;

		if (res[i].state != BR_OK || res[i].nlat == 0)
			continue;
		p = bench_med(res[i].p50, res[i].nlat);
		for (j = k; j > 0 && bench_med(res[idx[j - 1]].p50,
					       res[idx[j - 1]].nlat) > p;
		     j--)
			idx[j] = idx[j - 1];
		idx[j] = i;
		k++;
	}
	return k;
}

static void
fmt_us(char *buf, size_t len, double us)
{
	if (us >= 1000)
		snprintf(buf, len, "%.2f ms", us / 1000);
	else
		snprintf(buf, len, "%.*f us", us < 10 ? 2 : 1, us);
}

static void
fmt_short(char *buf, size_t len, size_t v)
{
	if (v >= (1u << 20) && v % (1u << 20) == 0)
		snprintf(buf, len, "%zuM", v >> 20);
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%zuK", v >> 10);
	else
		snprintf(buf, len, "%zu", v);
}

/* The probe (capacity, persistence) that describes a row's mechanism. */
static const struct bench_probe *
probe_of(const struct bench_row *r, const struct bench_probe *pr, int npr)
{
	size_t w = strcspn(r->mech, "-");

	if (r->kind == BK_PEER || r->kind == BK_FLOOR)
		return NULL;
	for (int i = 0; i < npr; i++)
		if (strcmp(pr[i].mech, r->mech) == 0 ||
		    (strlen(pr[i].mech) == w &&
		     strncmp(pr[i].mech, r->mech, w) == 0) ||
		    (strcmp(r->mech, "shm") == 0 &&
		     strcmp(pr[i].mech, "ring") == 0))
			return &pr[i];
	return NULL;
}

static char
mark(const struct bench_row *r)
{
	return r->kind == BK_FLOOR ? '^' : r->kind == BK_PEER ? '*' : ' ';
}

#define MAIN_FMT "%c %-26s %10s %10s %15s %16s %6s  %-23s %s\n"

static void
main_table(const struct bench_opts *o, struct bench_result *res, int n,
	   const struct bench_refs *ref, const struct bench_probe *pr, int npr)
{
	int idx[256], k = bench_order(res, n, idx, 256);
	size_t small = o->sizes[0], large = o->sizes[0];
	char hs[40], hl[40], a[24];

	for (int s = 0; s < o->nsizes; s++) {
		small = o->sizes[s] < small ? o->sizes[s] : small;
		large = o->sizes[s] > large ? o->sizes[s] : large;
	}
	fmt_short(a, sizeof(a), small);
	snprintf(hs, sizeof(hs), "Small (%s)", a);
	fmt_short(a, sizeof(a), large);
	snprintf(hl, sizeof(hl), "Large (%s)", a);
	fprintf(out,
		"IPC comparison, fastest round trip first (RTT: 64 B "
		"ping-pong, median of %d; small: messages/s,\nlarge: bytes/s, "
		"one way; ratio: RTT p50 / its baseline's; ^ hardware floor, "
		"* peer library, = reference)\n",
		o->reps);
	fprintf(out, MAIN_FMT, ' ', "Mechanism", "RTT p50", "RTT p99", hs, hl,
		"Ratio", "Persists", "Capacity");
	for (int j = 0; j < k; j++) {
		struct bench_result *x = &res[idx[j]], *b;
		const struct bench_probe *p = probe_of(x->row, pr, npr);
		char p50[24], p99[24], sm[32] = "-", lg[64] = "-", ra[16] = "-";
		int ss = -1, sl = -1;

		fmt_us(p50, sizeof(p50), bench_med(x->p50, x->nlat));
		fmt_us(p99, sizeof(p99), bench_med(x->p99, x->nlat));
		for (int s = 0; s < o->nsizes; s++) {
			if (x->ntput[s] == 0)
				continue;
			if (ss < 0 || o->sizes[s] < o->sizes[ss])
				ss = s;
			if (sl < 0 || o->sizes[s] > o->sizes[sl])
				sl = s;
		}
		if (ss >= 0 && o->sizes[ss] == small)
			snprintf(sm, sizeof(sm), "%.3gM msg/s",
				 bench_med(x->tput[ss], x->ntput[ss]) / 1e6);
		if (sl >= 0) {
			char r[24], z[24];

			fmt_rate(r, sizeof(r),
				 bench_med(x->tput[sl], x->ntput[sl]) *
					 (double)o->sizes[sl]);
			fmt_short(z, sizeof(z), o->sizes[sl]);
			snprintf(lg, sizeof(lg), "%s%s%s", r,
				 o->sizes[sl] == large ? "" : " @",
				 o->sizes[sl] == large ? "" : z);
		}
		if ((b = bench_baseline(res, n, x)) != NULL)
			snprintf(ra, sizeof(ra), "%.2fx",
				 bench_pair_ratio(x) > 0
					 ? bench_pair_ratio(x)
					 : bench_med(x->p50, x->nlat) /
						   bench_med(b->p50, b->nlat));
		fprintf(out, MAIN_FMT, mark(x->row), x->row->name, p50, p99, sm,
			lg, ra, p ? p->persist : "-", p ? p->capacity : "-");
	}
	if (ref->nmemcpy > 0) {
		char r[24];

		fmt_rate(r, sizeof(r),
			 bench_med(ref->memcpy_bps, ref->nmemcpy));
		fprintf(out, MAIN_FMT, '=', "memcpy, one core (1M blocks)", "-",
			"-", "-", r, "-", "-", "-");
	}
	if (ref->nclock > 0)
		fprintf(out,
			"Clock: one read costs %.0f ns; round trips are timed "
			"by one read each (chained), net of that cost.\n",
			bench_med(ref->clock_ns, ref->nclock));
	for (int i = 0; i < n; i++)
		if (res[i].state != BR_OK)
			fprintf(out, "%c %-26s %s: %.100s\n", mark(res[i].row),
				res[i].row->name,
				res[i].state == BR_SKIPPED ? "skipped"
							   : "FAILED",
				res[i].note);
	for (int i = 0; bench_missing_peers[i].name; i++)
		fprintf(out, "* %-26s skipped: not built\n",
			bench_missing_peers[i].name);
	fprintf(out,
		"Baselines: each ipckit row against its raw system "
		"calls, paired (both in the same two processes,\n"
		"alternating blocks of %d round trips); the spinning and "
		"zero-copy rings and shm against the floor,\nthe blocking "
		"ring against a raw futex.\n",
		BENCH_PAIR_BLOCK);
}

/* The ring's round trip by size: zero-copy moves no bytes, so it should
 * stay flat while the copying ring grows with the size. */
static void
sized_table(const struct bench_opts *o, struct bench_result *res, int n)
{
	int any = 0;
	char h[32]; /* "%zu MiB" of any size_t */

	for (int i = 0; i < n; i++)
		for (int s = 0; s < o->nsizes; s++)
			any |= res[i].nslat[s] > 0;
	if (!any)
		return;
	fprintf(out,
		"\nRing round trip by message size, p50 (zero-copy should "
		"stay flat; a copying round trip is four copies: into and "
		"out of each ring)\n"
		"%-28s",
		"row");
	for (int s = 0; s < o->nsizes; s++) {
		fmt_size(h, sizeof(h), o->sizes[s]);
		fprintf(out, " %10s", h);
	}
	fprintf(out, "\n");
	for (int i = 0; i < n; i++) {
		if (res[i].state != BR_OK || !bench_sized_rtt(res[i].row))
			continue;
		fprintf(out, "%-28s", res[i].row->name);
		for (int s = 0; s < o->nsizes; s++) {
			char c[24] = "-";

			if (res[i].nslat[s] > 0)
				fmt_us(c, sizeof(c),
				       bench_med(res[i].slat[s][0],
						 res[i].nslat[s]));
			fprintf(out, " %10s", c);
		}
		fprintf(out, "\n");
	}
}
/* ---- the reading ---------------------------------------------------------
 */

__attribute__((format(printf, 3, 4))) static void
add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static double
p50_of(const struct bench_result *x)
{
	return bench_med(x->p50, x->nlat);
}

/* The row of mech with kind k (any kind when k is BK_KINDS). */
static struct bench_result *
row_of(struct bench_result *res, int n, const char *mech, enum bench_kind k)
{
	for (int i = 0; i < n; i++)
		if ((k == BK_KINDS || res[i].row->kind == k) &&
		    strcmp(res[i].row->mech, mech) == 0 &&
		    res[i].state == BR_OK && res[i].nlat > 0)
			return &res[i];
	return NULL;
}

static double
tput_at(const struct bench_opts *o, const struct bench_result *x, size_t size)
{
	int s = bench_size_index(o, size);

	return x && s >= 0 && x->ntput[s] > 0
		       ? bench_med(x->tput[s], x->ntput[s]) * (double)size
		       : -1;
}

static void
read_ring_sizes(char *buf, size_t len, const struct bench_opts *o,
		const struct bench_result *x, const char *what)
{
	double lo = -1, hi = -1;
	int k = 0;

	if (x == NULL)
		return;
	for (int s = 0; s < o->nsizes; s++) {
		double v;

		if (x->nslat[s] == 0)
			continue;
		v = bench_med(x->slat[s][0], x->nslat[s]);
		lo = lo < 0 || v < lo ? v : lo;
		hi = v > hi ? v : hi;
		k++;
	}
	if (k >= 2 && lo > 0)
		add(buf, len,
		    " %s round trip p50 over %d sizes: %.2f to %.2f us "
		    "(%.1fx)%s",
		    what, k, lo, hi, hi / lo,
		    strcmp(x->row->mech, "ring-zc") == 0
			    ? (hi / lo < 2 ? ", flat;" : ", not flat;")
			    : ".");
}

/*
 * The floor is the steadiest row there is: when its p50 moved a lot between
 * repetitions, the machine changed state during the run (this VM's host
 * moves the vCPUs), and figures taken at different moments do not compare.
 */
static void
floor_moved(char *buf, size_t len, const struct bench_result *floor)
{
	double lo, hi;
	char a[24], b[24];

	if (floor == NULL || floor->nlat < 2 ||
	    bench_spread(floor->p50, floor->nlat) <= BENCH_STATE_SPREAD)
		return;
	lo = hi = floor->p50[0];
	for (int i = 1; i < floor->nlat; i++) {
		lo = floor->p50[i] < lo ? floor->p50[i] : lo;
		hi = floor->p50[i] > hi ? floor->p50[i] : hi;
	}
	fmt_us(a, sizeof(a), lo);
	fmt_us(b, sizeof(b), hi);
	add(buf, len,
	    " The machine changed state during this run: the cache-line "
	    "floor's p50 went from %s to %s across the repetitions, so rows "
	    "measured at different moments do not compare; the paired ratios "
	    "do (both rows of a pair share each moment).",
	    a, b);
}

void
bench_reading(char *buf, size_t len, const struct bench_opts *o,
	      struct bench_result *res, int n, const struct bench_refs *ref)
{
	int idx[256], k = bench_order(res, n, idx, 256), nr = 0, first = -1;
	struct bench_result *ring = row_of(res, n, "ring", BK_OURS),
			    *floor = row_of(res, n, "floor", BK_FLOOR),
			    *floor2 = row_of(res, n, "floor-2line", BK_FLOOR),
			    *floordir = row_of(res, n, "floor-dir", BK_FLOOR),
			    *slot = row_of(res, n, "floor-slot", BK_FLOOR),
			    *pipe = row_of(res, n, "pipe", BK_RAW),
			    *fastpeer = NULL, *fastours = NULL, *worst = NULL;
	double lo = 0, hi = 0, r;
	char a[24], b[24];

	buf[0] = '\0';
	if (pipe == NULL)
		pipe = row_of(res, n, "pipe", BK_OURS);
	for (int j = 0; j < k; j++) {
		struct bench_result *x = &res[idx[j]];

		if (x->row->kind == BK_FLOOR)
			continue;
		if (first < 0)
			first = idx[j];
		if (x->row->kind == BK_PEER && fastpeer == NULL)
			fastpeer = x;
		if (x->row->kind == BK_OURS && fastours == NULL)
			fastours = x;
	}
	if (first < 0) {
		add(buf, len,
		    floor ? "Only floors were measured."
			  : "Nothing was measured.");
	} else {
		struct bench_result *f = &res[first], *l = &res[idx[k - 1]];

		fmt_us(a, sizeof(a), p50_of(f));
		fmt_us(b, sizeof(b), p50_of(l));
		add(buf, len, "Fastest here: %s (%s round trip)", f->row->name,
		    a);
		if (floor)
			add(buf, len, ", %.2fx the cache-line floor",
			    p50_of(f) / p50_of(floor));
		add(buf, len, "; slowest: %s (%s).", l->row->name, b);
	}
	floor_moved(buf, len, floor);
	if (ring && pipe)
		add(buf, len,
		    " Shared memory (the spinning ring) is %.0fx faster a "
		    "round trip than %s",
		    p50_of(pipe) / p50_of(ring), pipe->row->name);
	if (ring && pipe && tput_at(o, ring, 64) > 0 &&
	    tput_at(o, pipe, 64) > 0)
		add(buf, len, " and carries %.1fx its 64 B messages/s",
		    tput_at(o, ring, 64) / tput_at(o, pipe, 64));
	if (ring && pipe)
		add(buf, len, ".");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i], *base;

		if (x->row->kind != BK_OURS || x->state != BR_OK ||
		    x->nlat == 0 ||
		    (base = bench_baseline(res, n, x)) == NULL ||
		    base->row->kind != BK_RAW)
			continue;
		r = bench_pair_ratio(x) > 0 ? bench_pair_ratio(x)
					    : p50_of(x) / p50_of(base);
		if (nr == 0 || r < lo)
			lo = r;
		if (nr == 0 || r > hi) {
			hi = r;
			worst = x;
		}
		nr++;
	}
	if (nr > 0)
		add(buf, len,
		    " ipckit over its raw system calls: %.2fx to %.2fx round "
		    "trip p50 across %d rows (most: %s).",
		    lo, hi, nr, worst->row->name);
	if (ring && floor2 && floordir)
		add(buf, len,
		    " Against the floors that move a 64 B message's lines as "
		    "two one-way rings must (each direction on lines of its "
		    "own: the fair bounds), the spinning ring is "
		    "%.2fx the two-line floor and %.2fx the floor with a line "
		    "per direction.",
		    p50_of(ring) / p50_of(floor2),
		    p50_of(ring) / p50_of(floordir));
	if (slot && floor)
		add(buf, len,
		    " Any 64 B exchange needs two lines (the payload fills "
		    "one): the least one can cost, one slot shared both ways, "
		    "is %.2fx the one-line floor here.",
		    p50_of(slot) / p50_of(floor));
	if (fastpeer && fastours) {
		fmt_us(a, sizeof(a), p50_of(fastpeer));
		add(buf, len,
		    " Fastest peer: %s (%s), %.1fx ipckit's fastest row (%s).",
		    fastpeer->row->name, a, p50_of(fastpeer) / p50_of(fastours),
		    fastours->row->name);
	}
	if (ref->nmemcpy > 0 && tput_at(o, ring, 1u << 20) > 0) {
		double m = bench_med(ref->memcpy_bps, ref->nmemcpy);

		fmt_rate(a, sizeof(a), tput_at(o, ring, 1u << 20));
		fmt_rate(b, sizeof(b), m);
		add(buf, len,
		    " At 1 MiB the copying ring moves %s, %.2fx one core's "
		    "memcpy of 1 MiB blocks through 16 MiB (%s; target >= "
		    "0.5x).",
		    a, tput_at(o, ring, 1u << 20) / m, b);
	}
	read_ring_sizes(buf, len, o, row_of(res, n, "ring-zc", BK_OURS),
			"Zero-copy ring");
	read_ring_sizes(buf, len, o, ring, "copying ring");
	for (int i = 0, nf = 0; i < n; i++)
		if (res[i].state == BR_FAILED)
			add(buf, len, "%s %s (%.60s)",
			    nf++ ? "," : " Failed:", res[i].row->name,
			    res[i].note);
	if (strchr(buf, '(') && buf[strlen(buf) - 1] == ')')
		add(buf, len, ".");
}

/* Words of s on lines of at most width columns. */
static void
wrap(const char *s, int width)
{
	int col = 0;

	while (*s) {
		size_t w = strcspn(s, " ");

		if (col > 0 && col + 1 + (int)w > width) {
			fputc('\n', out);
			col = 0;
		} else if (col > 0) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)w, s);
		col += (int)w;
		s += w;
		while (*s == ' ')
			s++;
	}
	fputc('\n', out);
}

/* ---- the whole report ----------------------------------------------------
 */

void
bench_report(FILE *f, const struct bench_opts *o, struct bench_result *res,
	     int n, const struct bench_refs *ref)
{
	struct bench_probe pr[24];
	char reading[3072];
	int npr;

	out = f;
	if (o->json) {
		bench_json(f, o, res, n, ref);
		return;
	}
	if (o->csv) {
		bench_csv(f, o, res, n, ref);
		return;
	}
	npr = bench_probe_all(pr, 24);
	main_table(o, res, n, ref, pr, npr);
	sized_table(o, res, n);
	fprintf(out, "\nDetails\n\n");
	seed_table(o, res, n, pr, npr);
	latency_table(res, n);
	tput_table(o, res, n);
	fprintf(out, "\nRatios (shown, not asserted)\n");
	ratio_list(o, res, n);
	fprintf(out, "\nSkipped or failed\n");
	for (int i = 0; i < n; i++) {
		if (res[i].state != BR_OK)
			fprintf(out, "  %-28s %s: %s\n", res[i].row->name,
				res[i].state == BR_SKIPPED ? "skipped"
							   : "FAILED",
				res[i].note);
		for (int s = 0; s < o->nsizes; s++)
			if (res[i].state == BR_OK && res[i].tnote[s][0])
				fprintf(out, "  %-28s %zu B not measured: %s\n",
					res[i].row->name, o->sizes[s],
					res[i].tnote[s]);
	}
	for (int i = 0; bench_missing_peers[i].name; i++)
		fprintf(out, "  %-28s skipped: %s\n",
			bench_missing_peers[i].name,
			bench_missing_peers[i].why);
	bench_reading(reading, sizeof(reading), o, res, n, ref);
	fprintf(out, "\nReading\n");
	wrap(reading, 76);
}

/* gnuplot input: latency.dat (row p50 p99) and throughput.dat (a column of
 * bytes/s per row, a line per size). */
int
bench_report_dat(const struct bench_opts *o, struct bench_result *res, int n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/latency.dat", o->dat_dir);
	if ((f = fopen(path, "we")) == NULL)
		return -errno;
	fprintf(f, "# row p50_us p99_us\n");
	for (int i = 0; i < n; i++)
		if (res[i].state == BR_OK && res[i].nlat > 0)
			fprintf(f, "\"%s\" %.3f %.3f\n", res[i].row->name,
				bench_med(res[i].p50, res[i].nlat),
				bench_med(res[i].p99, res[i].nlat));
	if (fclose(f) != 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/throughput.dat", o->dat_dir);
	if ((f = fopen(path, "we")) == NULL)
		return -errno;
	fprintf(f, "size");
	for (int i = 0; i < n; i++)
		if (res[i].state == BR_OK &&
		    !(res[i].row->flags & BF_NOPAYLOAD))
			fprintf(f, " \"%s\"", res[i].row->name);
	fprintf(f, "\n");
	bench_tput_rows(f, o, res, n);
	return fclose(f) != 0 ? -errno : 0;
}
