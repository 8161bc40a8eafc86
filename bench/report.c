/*
 * The report: the seed's comparison table with measured figures in place
 * of its words, then the detailed tables (round trips, throughput by size),
 * the ratios the project promises (shown, never asserted), and what was
 * skipped and why. --json prints the same figures as one object.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char *const kind_name[BK_KINDS] = { "floor", "sync", "raw", "ours",
						 "peer" };

static double
med(const double *v, int n)
{
	double t[BENCH_MAX_REPS];

	memcpy(t, v, sizeof(double) * (size_t)n);
	return bench_median(t, n);
}

static struct bench_result *
find(struct bench_result *res, int n, const char *mech, enum bench_kind k)
{
	for (int i = 0; i < n; i++)
		if (res[i].row->kind == k &&
		    strcmp(res[i].row->mech, mech) == 0 &&
		    res[i].state == BR_OK && res[i].nlat > 0)
			return &res[i];
	return NULL;
}

static int
size_index(const struct bench_opts *o, size_t size)
{
	for (int s = 0; s < o->nsizes; s++)
		if (o->sizes[s] == size)
			return s;
	return -1;
}

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
	int s4 = size_index(o, 4096);

	printf("IPC comparison, measured (round trip p50 at 64 B; throughput "
	       "at 4 KiB; setup = open on one side, rendezvous included)\n");
	printf("%-19s %-22s %-10s %-22s %-26s %s\n", "Mechanism",
	       "Speed (RTT, 4 KiB)", "Setup", "Persist", "Capacity", "Usage");
	for (size_t k = 0; k < sizeof(seed) / sizeof(seed[0]); k++) {
		struct bench_result *x =
			find(res, n, seed[k].mech, seed[k].kind);
		char speed[48] = "-", setup[16] = "-", tp[24] = "";
		const char *persist = "-", *cap = "-";

		if (x == NULL && seed[k].kind == BK_OURS)
			x = find(res, n, seed[k].mech, BK_RAW);
		if (x != NULL) {
			snprintf(setup, sizeof(setup), "%.0f us",
				 med(x->setup, x->nlat));
			if (s4 >= 0 && x->ntput[s4] > 0)
				fmt_rate(tp, sizeof(tp),
					 med(x->tput[s4], x->ntput[s4]) * 4096);
			snprintf(speed, sizeof(speed), "%.1f us%s%s",
				 med(x->p50, x->nlat), tp[0] ? ", " : "", tp);
		}
		for (int i = 0; i < npr; i++)
			if (strcmp(pr[i].mech, seed[k].mech) == 0) {
				persist = pr[i].persist;
				cap = pr[i].capacity;
			}
		printf("%-19s %-22s %-10s %-22s %-26s %s\n", seed[k].mechanism,
		       speed, setup, persist, cap, seed[k].usage);
	}
}

/* ---- detailed tables --------------------------------------------------- */

static void
latency_table(struct bench_result *res, int n)
{
	printf("\nRound trip, 64 B ping-pong, microseconds (median of "
	       "repetitions; spread of p50)\n");
	printf("%-28s %-5s %8s %8s %8s %9s %7s %8s\n", "row", "kind", "p50",
	       "p99", "p99.9", "max", "spread", "setup");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i];

		if (x->state != BR_OK || x->nlat == 0)
			continue;
		printf("%-28s %-5s %8.2f %8.2f %8.2f %9.1f %6.0f%% %8.0f\n",
		       x->row->name, kind_name[x->row->kind],
		       med(x->p50, x->nlat), med(x->p99, x->nlat),
		       med(x->p999, x->nlat), med(x->max, x->nlat),
		       bench_spread(x->p50, x->nlat), med(x->setup, x->nlat));
	}
}

static void
tput_table(const struct bench_opts *o, struct bench_result *res, int n)
{
	char h[24];

	printf("\nOne-way throughput, messages/s (and bytes/s), median of "
	       "repetitions\n%-28s",
	       "row");
	for (int s = 0; s < o->nsizes; s++) {
		fmt_size(h, sizeof(h), o->sizes[s]);
		printf(" %21s", h);
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i];

		if (x->state != BR_OK || (x->row->flags & BF_NOPAYLOAD))
			continue;
		printf("%-28s", x->row->name);
		for (int s = 0; s < o->nsizes; s++) {
			char cell[40], r[24];
			double m;

			if (x->ntput[s] == 0) {
				printf(" %21s", "-");
				continue;
			}
			m = med(x->tput[s], x->ntput[s]);
			fmt_rate(r, sizeof(r), m * (double)o->sizes[s]);
			snprintf(cell, sizeof(cell), "%.3gM %s", m / 1e6, r);
			printf(" %21s", cell);
		}
		printf("\n");
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
	    enum bench_kind kb, int tput, double *out)
{
	struct bench_result *x = find(res, n, a, ka), *y = find(res, n, b, kb);
	int s = size_index(o, 64);

	if (y == NULL && kb == BK_OURS) /* until that transport lands */
		y = find(res, n, b, BK_RAW);

	if (x == NULL || y == NULL)
		return -1;
	if (!tput) {
		*out = med(x->p50, x->nlat) / med(y->p50, y->nlat);
		return 0;
	}
	if (s < 0 || x->ntput[s] == 0 || y->ntput[s] == 0)
		return -1;
	*out = med(x->tput[s], x->ntput[s]) / med(y->tput[s], y->ntput[s]);
	return 0;
}

static void
ratio_list(const struct bench_opts *o, struct bench_result *res, int n, FILE *f,
	   int json)
{
	int first = 1;
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
		if (json) {
			fprintf(f,
				"%s\n    {\"what\": \"%s\", \"ratio\": %.3f}",
				first ? "" : ",", what, v);
		} else {
			fprintf(f, "  %-52s %6.2fx\n", what, v);
		}
		first = 0;
	}
	for (size_t k = 0; k < sizeof(ratios) / sizeof(ratios[0]); k++) {
		const struct ratio *q = &ratios[k];

		if (ratio_value(o, res, n, q->a, q->ka, q->b, q->kb, q->tput,
				&v) < 0)
			continue;
		if (json)
			fprintf(f,
				"%s\n    {\"what\": \"%s\", \"ratio\": %.3f}",
				first ? "" : ",", q->what, v);
		else
			fprintf(f, "  %-52s %6.2fx\n", q->what, v);
		first = 0;
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static double
fin(double v)
{
	return isfinite(v) ? v : 0;
}

static void
json(const struct bench_opts *o, struct bench_result *res, int n,
     const struct bench_probe *pr, int npr)
{
	printf("{\n  \"config\": {\"cpus\": [%d, %d], \"reps\": %d, "
	       "\"rounds\": %d, \"warmup\": %d, \"rate\": %.0f, \"sizes\": [",
	       o->cpu[0], o->cpu[1], o->reps, o->rounds, o->warmup, o->rate);
	for (int s = 0; s < o->nsizes; s++)
		printf("%s%zu", s ? ", " : "", o->sizes[s]);
	printf("]},\n  \"rows\": [");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i];

		printf("%s\n    {\"name\": ", i ? "," : "");
		json_str(x->row->name);
		printf(", \"mech\": ");
		json_str(x->row->mech);
		printf(", \"kind\": \"%s\", \"state\": \"%s\"",
		       kind_name[x->row->kind],
		       x->state == BR_OK	? "ok"
		       : x->state == BR_SKIPPED ? "skipped"
						: "failed");
		if (x->note[0]) {
			printf(", \"note\": ");
			json_str(x->note);
		}
		if (x->nlat > 0)
			printf(", \"latency_us\": {\"p50\": %.3f, \"p99\": "
			       "%.3f, \"p999\": %.3f, \"max\": %.3f, "
			       "\"spread_pct\": %.1f, \"reps\": %d}, "
			       "\"setup_us\": %.1f",
			       med(x->p50, x->nlat), med(x->p99, x->nlat),
			       med(x->p999, x->nlat), med(x->max, x->nlat),
			       fin(bench_spread(x->p50, x->nlat)), x->nlat,
			       med(x->setup, x->nlat));
		if (x->maxmsg)
			printf(", \"maxmsg\": %zu", x->maxmsg);
		if (x->row->flags & BF_NOPAYLOAD) {
			printf("}");
			continue;
		}
		printf(", \"throughput\": [");
		for (int s = 0, f = 1; s < o->nsizes; s++) {
			if (x->ntput[s] == 0 && !x->tnote[s][0])
				continue;
			printf("%s{\"size\": %zu", f ? "" : ", ", o->sizes[s]);
			f = 0;
			if (x->ntput[s] > 0) {
				double m = med(x->tput[s], x->ntput[s]);

				printf(", \"msgs_per_s\": %.1f, "
				       "\"bytes_per_s\": "
				       "%.1f, \"spread_pct\": %.1f",
				       m, m * (double)o->sizes[s],
				       fin(bench_spread(x->tput[s],
							x->ntput[s])));
			} else {
				printf(", \"note\": ");
				json_str(x->tnote[s]);
			}
			printf("}");
		}
		printf("]}");
	}
	printf("\n  ],\n  \"probes\": [");
	for (int i = 0; i < npr; i++) {
		printf("%s\n    {\"mech\": ", i ? "," : "");
		json_str(pr[i].mech);
		printf(", \"capacity\": ");
		json_str(pr[i].capacity);
		printf(", \"persist\": ");
		json_str(pr[i].persist);
		printf("}");
	}
	printf("\n  ],\n  \"ratios\": [");
	ratio_list(o, res, n, stdout, 1);
	printf("\n  ],\n  \"peers_not_built\": [");
	for (int i = 0; bench_missing_peers[i].name; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(bench_missing_peers[i].name);
		printf(", \"why\": ");
		json_str(bench_missing_peers[i].why);
		printf("}");
	}
	printf("]\n}\n");
}

void
bench_report(const struct bench_opts *o, struct bench_result *res, int n)
{
	struct bench_probe pr[24];
	int npr = bench_probe_all(pr, 24);

	if (o->json) {
		json(o, res, n, pr, npr);
		return;
	}
	seed_table(o, res, n, pr, npr);
	latency_table(res, n);
	tput_table(o, res, n);
	printf("\nRatios (shown, not asserted)\n");
	ratio_list(o, res, n, stdout, 0);
	printf("\nCapacity and persistence, measured\n");
	for (int i = 0; i < npr; i++)
		printf("  %-12s capacity %-28s persists: %s\n", pr[i].mech,
		       pr[i].capacity, pr[i].persist);
	printf("\nSkipped or failed\n");
	for (int i = 0; i < n; i++) {
		if (res[i].state != BR_OK)
			printf("  %-28s %s: %s\n", res[i].row->name,
			       res[i].state == BR_SKIPPED ? "skipped"
							  : "FAILED",
			       res[i].note);
		for (int s = 0; s < o->nsizes; s++)
			if (res[i].state == BR_OK && res[i].tnote[s][0])
				printf("  %-28s %zu B not measured: %s\n",
				       res[i].row->name, o->sizes[s],
				       res[i].tnote[s]);
	}
	for (int i = 0; bench_missing_peers[i].name; i++)
		printf("  %-28s skipped: %s\n", bench_missing_peers[i].name,
		       bench_missing_peers[i].why);
}

/* gnuplot input: latency.dat (row p50 p99) and throughput.dat (a column of
 * bytes/s per row, a line per size). */
void
bench_report_dat(const struct bench_opts *o, struct bench_result *res, int n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/latency.dat", o->dat_dir);
	if ((f = fopen(path, "we")) == NULL) {
		fprintf(stderr, "ipckit bench: %s: cannot write\n", path);
		return;
	}
	fprintf(f, "# row p50_us p99_us\n");
	for (int i = 0; i < n; i++)
		if (res[i].state == BR_OK && res[i].nlat > 0)
			fprintf(f, "\"%s\" %.3f %.3f\n", res[i].row->name,
				med(res[i].p50, res[i].nlat),
				med(res[i].p99, res[i].nlat));
	fclose(f);
	snprintf(path, sizeof(path), "%s/throughput.dat", o->dat_dir);
	if ((f = fopen(path, "we")) == NULL) {
		fprintf(stderr, "ipckit bench: %s: cannot write\n", path);
		return;
	}
	fprintf(f, "size");
	for (int i = 0; i < n; i++)
		if (res[i].state == BR_OK &&
		    !(res[i].row->flags & BF_NOPAYLOAD))
			fprintf(f, " \"%s\"", res[i].row->name);
	fprintf(f, "\n");
	for (int s = 0; s < o->nsizes; s++) {
		fprintf(f, "%zu", o->sizes[s]);
		for (int i = 0; i < n; i++) {
			if (res[i].state != BR_OK ||
			    (res[i].row->flags & BF_NOPAYLOAD))
				continue;
			if (res[i].ntput[s] == 0)
				fprintf(f, " NaN");
			else
				fprintf(f, " %.0f",
					med(res[i].tput[s], res[i].ntput[s]) *
						(double)o->sizes[s]);
		}
		fprintf(f, "\n");
	}
	fclose(f);
}
