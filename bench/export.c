/*
 * The figures for other programs: --json (one object per mechanism and
 * size, the schema documented in ipckit(1)), --csv (the same objects as
 * lines), and --plot (gnuplot fed through a pipe, data inline, no
 * temporary files). Only figures that were measured are printed: what was
 * not is null (JSON), empty (CSV) or missing (plot), never 0.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static const char *const kind_name[BK_KINDS] = { "floor", "sync", "raw", "ours",
						 "peer" };
static const char *const state_name[] = { "ok", "skipped", "failed" };

double
bench_med(const double *v, int n)
{
	double t[BENCH_MAX_REPS];

	if (n <= 0)
		return 0;
	n = n > BENCH_MAX_REPS ? BENCH_MAX_REPS : n;
	memcpy(t, v, sizeof(double) * (size_t)n);
	return bench_median(t, n);
}

struct bench_result *
bench_find(struct bench_result *res, int n, const char *mech, enum bench_kind k)
{
	for (int i = 0; i < n; i++)
		if (res[i].row->kind == k &&
		    strcmp(res[i].row->mech, mech) == 0 &&
		    res[i].state == BR_OK && res[i].nlat > 0)
			return &res[i];
	return NULL;
}

/* Rows with no raw twin are measured against what they replace: the
 * spinning rings and the shm channel against one cache line bouncing, the
 * blocking ring against a bare futex ping-pong. */
static const struct {
	const char *mech, *base;
	enum bench_kind kind;
} stand_in[] = {
	{ "ring", "floor", BK_FLOOR },
	{ "ring-zc", "floor", BK_FLOOR },
	{ "shm", "floor", BK_FLOOR },
	{ "ring-block", "futex", BK_SYNC },
};

const char *
bench_base_of(const struct bench_row *r, enum bench_kind *kind)
{
	if (r->kind != BK_OURS)
		return NULL;
	for (size_t k = 0; k < sizeof(stand_in) / sizeof(stand_in[0]); k++)
		if (strcmp(r->mech, stand_in[k].mech) == 0) {
			*kind = stand_in[k].kind;
			return stand_in[k].base;
		}
	*kind = BK_RAW;
	return r->mech;
}

struct bench_result *
bench_baseline(struct bench_result *res, int n, const struct bench_result *r)
{
	enum bench_kind k;
	const char *m = bench_base_of(r->row, &k);

	return m != NULL ? bench_find(res, n, m, k) : NULL;
}

struct bench_result *
bench_pair_twin(struct bench_result *res, int n, const struct bench_result *r)
{
	enum bench_kind k;
	const char *m = bench_base_of(r->row, &k);

	for (int i = 0; m != NULL && i < n; i++)
		if (res[i].row->kind == k && strcmp(res[i].row->mech, m) == 0 &&
		    res[i].state == BR_OK)
			return &res[i];
	return NULL;
}

double
bench_pair_ratio(const struct bench_result *x)
{
	return x->npair > 0 ? bench_med(x->pair_ratio, x->npair) : -1;
}

/* gnuplot data: one line per size, bytes/s of each row that carries a
 * payload (NaN where not measured), in the rows' order. */
void
bench_tput_rows(FILE *f, const struct bench_opts *o,
		const struct bench_result *res, int n)
{
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
					bench_med(res[i].tput[s],
						  res[i].ntput[s]) *
						(double)o->sizes[s]);
		}
		fputc('\n', f);
	}
}

int
bench_size_index(const struct bench_opts *o, size_t size)
{
	for (int s = 0; s < o->nsizes; s++)
		if (o->sizes[s] == size)
			return s;
	return -1;
}

static void
cell_at(const struct bench_opts *o, const struct bench_result *x, size_t size,
	struct bench_cell *c)
{
	int s = bench_size_index(o, size);

	memset(c, 0, sizeof(*c));
	c->size = size;
	for (int k = 0; k < 4; k++)
		c->rtt_ns[k] = -1;
	c->msgs_per_s = c->bytes_per_s = -1;
	if (x->state != BR_OK) {
		c->note = x->note;
		return;
	}
	if ((size == 64 || size == 0) && x->nlat > 0) {
		c->rtt_ns[0] = bench_med(x->p50, x->nlat) * 1e3;
		c->rtt_ns[1] = bench_med(x->p99, x->nlat) * 1e3;
		c->rtt_ns[2] = bench_med(x->p999, x->nlat) * 1e3;
		c->rtt_ns[3] = bench_med(x->max, x->nlat) * 1e3;
	} else if (s >= 0 && x->nslat[s] > 0) {
		for (int k = 0; k < 4; k++)
			c->rtt_ns[k] =
				bench_med(x->slat[s][k], x->nslat[s]) * 1e3;
	}
	if (s < 0 || size == 0)
		return;
	if (x->ntput[s] > 0) {
		c->msgs_per_s = bench_med(x->tput[s], x->ntput[s]);
		c->bytes_per_s = c->msgs_per_s * (double)size;
	} else if (x->tnote[s][0]) {
		c->note = x->tnote[s];
	}
}

int
bench_cells(const struct bench_opts *o, const struct bench_result *x,
	    struct bench_cell *out, int max)
{
	int k = 0;

	if (max < 1)
		return 0;
	if (x->row->flags & BF_NOPAYLOAD) {
		cell_at(o, x, 0, &out[k++]);
		return k;
	}
	cell_at(o, x, 64, &out[k++]);
	for (int s = 0; s < o->nsizes && k < max && x->state == BR_OK; s++)
		if (o->sizes[s] != 64)
			cell_at(o, x, o->sizes[s], &out[k++]);
	return k;
}

/*
 * ratio (RTT p50) and throughput ratio of x's cell c against its baseline
 * b. At 64 B an ipckit row paired with its baseline takes the paired
 * ratio (same processes, blocks milliseconds apart); *unpaired is always
 * the quotient of the two rows' own figures, measured apart.
 */
static int
cell_ratios(const struct bench_opts *o, const struct bench_result *x,
	    const struct bench_result *b, const struct bench_cell *c,
	    double *ratio, double *tratio, double *unpaired)
{
	struct bench_cell bc;

	int paired = 0;

	*ratio = *tratio = *unpaired = -1;
	if (b == NULL)
		return 0;
	cell_at(o, b, (b->row->flags & BF_NOPAYLOAD) ? 0 : c->size, &bc);
	if ((b->row->flags & BF_NOPAYLOAD) && c->size != 64)
		return 0;
	if (c->rtt_ns[0] > 0 && bc.rtt_ns[0] > 0)
		*ratio = *unpaired = c->rtt_ns[0] / bc.rtt_ns[0];
	if (c->size == 64 && bench_pair_ratio(x) > 0) {
		*ratio = bench_pair_ratio(x);
		paired = 1;
	}
	if (c->bytes_per_s > 0 && bc.bytes_per_s > 0)
		*tratio = c->bytes_per_s / bc.bytes_per_s;
	return paired;
}

/* ---- JSON ----------------------------------------------------------------
 */

static void
jstr(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
jnum(FILE *f, double v, int prec)
{
	if (v < 0 || !isfinite(v))
		fputs("null", f);
	else
		fprintf(f, "%.*f", prec, v);
}

static void
json_cell(FILE *f, const struct bench_opts *o, struct bench_result *res, int n,
	  struct bench_result *x, const struct bench_cell *c, int first)
{
	struct bench_result *b = bench_baseline(res, n, x);
	double ratio, tratio, unpaired;
	int paired = cell_ratios(o, x, b, c, &ratio, &tratio, &unpaired);

	fprintf(f, "%s\n    {\"mechanism\": ", first ? "" : ",");
	jstr(f, x->row->name);
	fprintf(f, ", \"mech\": ");
	jstr(f, x->row->mech);
	fprintf(f, ", \"kind\": \"%s\", \"size\": %zu, \"state\": \"%s\"",
		kind_name[x->row->kind], c->size, state_name[x->state]);
	fprintf(f, ", \"note\": ");
	jstr(f, c->note);
	if (c->rtt_ns[0] >= 0)
		fprintf(f,
			", \"rtt_ns\": {\"p50\": %.0f, \"p99\": %.0f, "
			"\"p999\": %.0f, \"max\": %.0f}",
			c->rtt_ns[0], c->rtt_ns[1], c->rtt_ns[2], c->rtt_ns[3]);
	else
		fprintf(f, ", \"rtt_ns\": null");
	fprintf(f, ", \"rtt_spread_pct\": ");
	jnum(f,
	     (c->size == 64 || c->size == 0) && x->nlat > 0
		     ? bench_spread(x->p50, x->nlat)
		     : -1,
	     1);
	fprintf(f, ", \"setup_us\": ");
	jnum(f, x->nlat > 0 ? bench_med(x->setup, x->nlat) : -1, 1);
	fprintf(f, ", \"msgs_per_s\": ");
	jnum(f, c->msgs_per_s, 1);
	fprintf(f, ", \"bytes_per_s\": ");
	jnum(f, c->bytes_per_s, 0);
	fprintf(f, ", \"baseline\": ");
	jstr(f, b ? b->row->name : NULL);
	fprintf(f, ", \"ratio\": ");
	jnum(f, ratio, 3);
	fprintf(f, ", \"ratio_paired\": %s", paired ? "true" : "false");
	fprintf(f, ", \"ratio_unpaired\": ");
	jnum(f, unpaired, 3);
	fprintf(f, ", \"tput_ratio\": ");
	jnum(f, tratio, 3);
	fprintf(f, "}");
}

void
bench_json(FILE *f, const struct bench_opts *o, struct bench_result *res, int n,
	   const struct bench_refs *ref)
{
	struct bench_probe pr[24];
	int npr = bench_probe_all(pr, 24), first = 1;
	struct bench_cell cells[BENCH_MAX_SIZES + 1];
	char reading[3072];

	fprintf(f,
		"{\n  \"schema\": 1,\n  \"config\": {\"cpus\": [%d, %d], "
		"\"reps\": %d, \"rounds\": %d, \"warmup\": %d, \"rate\": %.0f, "
		"\"duration_s\": %.3f, \"sizes\": [",
		o->cpu[0], o->cpu[1], o->reps, o->rounds, o->warmup, o->rate,
		o->duration);
	for (int s = 0; s < o->nsizes; s++)
		fprintf(f, "%s%zu", s ? ", " : "", o->sizes[s]);
	/* what one clock read costs: round trips are recorded net of it */
	fprintf(f, "]},\n  \"clock_ns\": ");
	if (ref->nclock > 0)
		fprintf(f, "%.1f", bench_med(ref->clock_ns, ref->nclock));
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"results\": [");
	for (int i = 0; i < n; i++) {
		int nc = bench_cells(o, &res[i], cells, BENCH_MAX_SIZES + 1);

		for (int k = 0; k < nc; k++, first = 0)
			json_cell(f, o, res, n, &res[i], &cells[k], first);
	}
	if (ref->nmemcpy > 0) {
		fprintf(f,
			"%s\n    {\"mechanism\": \"memcpy, one core\", "
			"\"mech\": "
			"\"memcpy\", \"kind\": \"ref\", \"size\": %u, "
			"\"state\": \"ok\", \"note\": null, \"rtt_ns\": null, "
			"\"rtt_spread_pct\": null, \"setup_us\": null, "
			"\"msgs_per_s\": %.1f, \"bytes_per_s\": %.0f, "
			"\"baseline\": null, \"ratio\": null, "
			"\"ratio_paired\": false, \"ratio_unpaired\": null, "
			"\"tput_ratio\": null}",
			first ? "" : ",", BENCH_MEMCPY_BLOCK,
			bench_med(ref->memcpy_bps, ref->nmemcpy) /
				BENCH_MEMCPY_BLOCK,
			bench_med(ref->memcpy_bps, ref->nmemcpy));
	}
	fprintf(f, "\n  ],\n  \"probes\": [");
	for (int i = 0; i < npr; i++) {
		fprintf(f, "%s\n    {\"mech\": ", i ? "," : "");
		jstr(f, pr[i].mech);
		fprintf(f, ", \"capacity\": ");
		jstr(f, pr[i].capacity);
		fprintf(f, ", \"persist\": ");
		jstr(f, pr[i].persist);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"skipped\": [");
	first = 1;
	for (int i = 0; i < n; i++) {
		if (res[i].state == BR_OK)
			continue;
		fprintf(f, "%s\n    {\"name\": ", first ? "" : ",");
		jstr(f, res[i].row->name);
		fprintf(f, ", \"state\": \"%s\", \"why\": ",
			state_name[res[i].state]);
		jstr(f, res[i].note);
		fprintf(f, "}");
		first = 0;
	}
	for (int i = 0; bench_missing_peers[i].name; i++, first = 0) {
		fprintf(f, "%s\n    {\"name\": ", first ? "" : ",");
		jstr(f, bench_missing_peers[i].name);
		fprintf(f, ", \"state\": \"skipped\", \"why\": ");
		jstr(f, bench_missing_peers[i].why);
		fprintf(f, "}");
	}
	bench_reading(reading, sizeof(reading), o, res, n, ref);
	fprintf(f, "\n  ],\n  \"reading\": ");
	jstr(f, reading);
	fprintf(f, "\n}\n");
}

/* ---- CSV -----------------------------------------------------------------
 */

static void
cstr(FILE *f, const char *s)
{
	if (s == NULL)
		return;
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('"', f);
}

static void
cnum(FILE *f, double v, int prec)
{
	fputc(',', f);
	if (v >= 0 && isfinite(v))
		fprintf(f, "%.*f", prec, v);
}

void
bench_csv(FILE *f, const struct bench_opts *o, struct bench_result *res, int n,
	  const struct bench_refs *ref)
{
	struct bench_cell cells[BENCH_MAX_SIZES + 1];

	fprintf(f, "mechanism,mech,kind,size,state,rtt_p50_ns,rtt_p99_ns,"
		   "rtt_p999_ns,rtt_max_ns,msgs_per_s,bytes_per_s,baseline,"
		   "ratio,tput_ratio,note\n");
	for (int i = 0; i < n; i++) {
		struct bench_result *x = &res[i],
				    *b = bench_baseline(res, n, x);
		int nc = bench_cells(o, x, cells, BENCH_MAX_SIZES + 1);

		for (int k = 0; k < nc; k++) {
			const struct bench_cell *c = &cells[k];
			double ratio, tratio, unpaired;

			cell_ratios(o, x, b, c, &ratio, &tratio, &unpaired);
			cstr(f, x->row->name);
			fprintf(f, ",%s,%s,%zu,%s", x->row->mech,
				kind_name[x->row->kind], c->size,
				state_name[x->state]);
			for (int q = 0; q < 4; q++)
				cnum(f, c->rtt_ns[q], 0);
			cnum(f, c->msgs_per_s, 1);
			cnum(f, c->bytes_per_s, 0);
			fputc(',', f);
			cstr(f, b ? b->row->name : NULL);
			cnum(f, ratio, 3);
			cnum(f, tratio, 3);
			fputc(',', f);
			cstr(f, c->note);
			fputc('\n', f);
		}
	}
	if (ref->nmemcpy > 0) {
		double bps = bench_med(ref->memcpy_bps, ref->nmemcpy);

		fprintf(f,
			"\"memcpy, one "
			"core\",memcpy,ref,%u,ok,,,,,%.1f,%.0f,,,,\n",
			BENCH_MEMCPY_BLOCK, bps / BENCH_MEMCPY_BLOCK, bps);
	}
}

/* ---- gnuplot -------------------------------------------------------------
 */

int
bench_have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char dir[4096];

	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");

		if (n > 0 && n < sizeof(dir) - 16) {
			memcpy(dir, p, n);
			memcpy(dir + n, "/gnuplot", sizeof("/gnuplot"));
			if (access(dir, X_OK) == 0)
				return 1;
		}
		p += n + (p[n] == ':');
	}
	return 0;
}

/* A row name inside a gnuplot double-quoted string. */
static void
gstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\\' ? '\'' : *s, f);
	fputc('"', f);
}

static void
plot_script(FILE *f, const struct bench_opts *o, struct bench_result *res,
	    int n, const char *term)
{
	int order[256], no = bench_order(res, n, order, 256), ncol = 0;

	fprintf(f, "set terminal %s size 1400,1000 noenhanced font ',9'\n",
		term);
	/* single quotes: gnuplot takes everything literally but '' */
	fprintf(f, "set output '");
	for (const char *p = o->plot; *p; p++)
		fprintf(f, *p == '\'' ? "''" : "%c", *p);
	fprintf(f, "'\n$lat << EOD\n");
	for (int k = 0; k < no; k++) {
		struct bench_result *x = &res[order[k]];

		gstr(f, x->row->name);
		fprintf(f, " %.3f %.3f\n", bench_med(x->p50, x->nlat),
			bench_med(x->p99, x->nlat));
	}
	fprintf(f, "EOD\n$tp << EOD\nsize");
	for (int i = 0; i < n; i++)
		if (res[i].state == BR_OK &&
		    !(res[i].row->flags & BF_NOPAYLOAD)) {
			fputc(' ', f);
			gstr(f, res[i].row->name);
			ncol++;
		}
	fputc('\n', f);
	bench_tput_rows(f, o, res, n);
	fprintf(f,
		"EOD\nset multiplot layout 2,1\n"
		"set title 'Round trip, 64 B ping-pong, p50 and p99 "
		"(microseconds, log scale), fastest first'\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.8 border -1\n"
		"set logscale y\nset ylabel 'us'\n"
		"set xtics rotate by -40 scale 0\nset bmargin 8\n"
		"set key top left\n"
		"plot $lat using 2:xtic(1) title 'p50', '' using 3 title "
		"'p99'\n"
		"unset style\nset bmargin\n"
		"set title 'One-way throughput by message size (bytes/s, log "
		"scales)'\n"
		"set logscale xy\nset xlabel 'message size (bytes)'\n"
		"set ylabel 'bytes/s'\nset xtics auto rotate by 0 scale 1\n"
		"set key outside right\n");
	if (ncol > 0)
		fprintf(f,
			"plot for [i=2:%d] $tp using 1:i with linespoints "
			"title columnhead(i)\n",
			ncol + 1);
	fprintf(f, "unset multiplot\n");
}

int
bench_plot(const struct bench_opts *o, struct bench_result *res, int n)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	size_t len = strlen(o->plot);
	const char *term;
	FILE *f;
	int st;

	if (len > 4 && strcmp(o->plot + len - 4, ".svg") == 0)
		term = "svg dynamic";
	else if (len > 4 && strcmp(o->plot + len - 4, ".png") == 0)
		term = "pngcairo";
	else
		return -EINVAL;
	if (!bench_have_gnuplot())
		return -ENOENT;
	fflush(NULL);
	if ((f = popen("gnuplot", "we")) == NULL)
		return errno ? -errno : -ENOMEM;
	/* gnuplot dying early must give an error here, not kill us */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	plot_script(f, o, res, n, term);
	st = pclose(f);
	sigaction(SIGPIPE, &old, NULL);
	if (st < 0)
		return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return -ENOENT;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}
