/*
 * The harness: every measurement is one pair of fresh processes, A and B,
 * forked by a coordinator that never touches the mechanism itself. Each side
 * pins itself to its CPU, opens its end (timed: the Setup figure), then
 * either plays ping-pong (A times each round trip, after warm-up, into a
 * histogram kept in a shared page) or streams one way (A sends n messages
 * it fills, B checks every byte, A's clock stops at B's "done"). Both sides
 * carry an alarm and the coordinator reaps them, so a broken row costs a
 * bounded wait and a note, never a hang. Rows run interleaved, repetition
 * by repetition, so machine drift hits every row alike.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
	long n;	    /* stream: messages */
	int rounds; /* latency */
	int warmup;
	double rate; /* open loop */
	int alarm_s;
};

/* The shared page: what each side reports back to the coordinator. */
struct outcome {
	int rc[2];
	char note[2][160];
	int64_t setup_ns;
	uint64_t maxmsg;
	double rate; /* stream: messages per second */
	struct bench_hist hist;
};

static const struct bench_opts *opts;

static int
lat_side(const struct bench_row *r, struct bench_end *e, const struct job *j,
	 unsigned char *buf, struct outcome *out)
{
	int total = j->warmup + j->rounds, rc;
	size_t len = (r->flags & BF_NOPAYLOAD) ? 0 : j->size;
	int64_t period = j->rate > 0 ? (int64_t)(1e9 / j->rate) : 0;
	int64_t start = 0;

	bench_hist_reset(&out->hist);
	for (int i = 0; i < total; i++) {
		uint64_t stamp = (uint64_t)i * 2654435761u + 1, got = 0;
		int64_t t0, t1;

		if (e->side == 1) {
			if ((rc = r->recv(e, buf, len)) < 0 ||
			    (rc = r->send(e, buf, len)) < 0)
				return rc;
			continue;
		}
		if (len >= 8)
			memcpy(buf, &stamp, 8);
		t0 = bench_now_ns();
		if (period > 0 && i >= j->warmup) {
			/* open loop: latency counts from the intended send
			 * time, so a stall delays every later message too */
			if (i == j->warmup)
				start = t0;
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
			if (got != stamp) {
				snprintf(e->note, sizeof(e->note),
					 "echo %d came back altered", i);
				return -EBADMSG;
			}
		}
		if (i >= j->warmup)
			bench_hist_add(&out->hist, (uint64_t)(t1 - t0));
	}
	return 0;
}

static int
all_equal(const unsigned char *p, size_t len, unsigned char v)
{
	uint64_t w = 0x0101010101010101ull * v, x;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, p + i, 8);
		if (x != w)
			return 0;
	}
	for (; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static int
stream_side(const struct bench_row *r, struct bench_end *e, const struct job *j,
	    unsigned char *buf, struct outcome *out)
{
	long batch = (long)(16384 / (j->size ? j->size : 1)), bad = 0;
	char line[64], c;
	int64_t t0;
	int rc;

	batch = batch < 1 ? 1 : batch > 32 ? 32 : batch;
	e->stream = 1;
	if (e->side == 1) {
		if ((rc = bench_ctl_send(e, "go")) < 0)
			return rc;
		for (long i = 0; i < j->n; i++) {
			e->fill = (unsigned char)(i * 131 + 7);
			if ((rc = r->recv(e, buf, j->size)) < 0)
				return rc;
			if (!(r->flags & BF_INPLACE) &&
			    !all_equal(buf, j->size, e->fill))
				bad++;
			if ((r->flags & BF_LOSSY) && (i + 1) % batch == 0 &&
			    (rc = bench_write_all(e->ctl_tx, (char[]){ CREDIT },
						  1)) < 0)
				return rc;
		}
		snprintf(line, sizeof(line), "done %ld", bad + e->bad);
		return bench_ctl_send(e, line);
	}
	if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	t0 = bench_now_ns();
	for (long i = 0; i < j->n; i++) {
		e->fill = (unsigned char)(i * 131 + 7);
		if (!(r->flags & BF_INPLACE))
			memset(buf, e->fill, j->size);
		if ((rc = r->send(e, buf, j->size)) < 0)
			return rc;
		/* lossy: at most two batches in flight, so the receiver's
		 * socket buffer never overflows */
		if ((r->flags & BF_LOSSY) && (i + 1) % batch == 0 &&
		    i + 1 >= 2 * batch && (rc = ctl_byte(e, &c)) < 0)
			return rc;
	}
	if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	out->rate = (double)j->n / ((double)(bench_now_ns() - t0) / 1e9);
	if (strcmp(line, "done 0") != 0) {
		snprintf(e->note, sizeof(e->note),
			 "receiver saw corrupt payloads (%s)", line);
		return -EBADMSG;
	}
	return 0;
}

static void
side_main(const struct bench_row *r, struct bench_end *e, const struct job *j,
	  struct outcome *out)
{
	size_t cap = j->size > 64 ? j->size : 64;
	unsigned char *buf = NULL;
	int64_t t0;
	int rc;

	alarm((unsigned)j->alarm_s);
	(void)bench_pin(0, opts->cpu[e->side]); /* checked up front */
	t0 = bench_now_ns();
	rc = r->open(r, e);
	if (rc == 0 && e->side == 0) {
		out->setup_ns = bench_now_ns() - t0;
		out->maxmsg = e->maxmsg;
	}
	if (rc == 0 && e->maxmsg && j->size > e->maxmsg && j->mode == JOB_LAT)
		rc = -EMSGSIZE;
	if (rc == 0 && (buf = aligned_alloc(64, (cap + 63) / 64 * 64)) == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		memset(buf, 0, cap);
		rc = j->mode == JOB_LAT ? lat_side(r, e, j, buf, out)
					: stream_side(r, e, j, buf, out);
	}
	r->close(e); /* rows close what a failed open left half-made */
	free(buf);
	out->rc[e->side] = rc;
	memcpy(out->note[e->side], e->note, sizeof(e->note));
	if (r->flags & BF_EXIT)
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

static int
run_pair(const struct bench_row *r, const struct job *j, struct outcome *out,
	 char *note, size_t notelen)
{
	struct outcome *sh;
	void *shared = NULL;
	int ab[2], ba[2], rc = 0, st[2];
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
	if (r->prepare && (rc = r->prepare(r, &shared)) < 0) {
		snprintf(note, notelen, "prepare: %s", ik_strerror(rc));
		goto out_ba;
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
			struct bench_end e = {
				.side = s,
				.ctl_tx = s ? ba[1] : ab[1],
				.ctl_rx = s ? ab[0] : ba[0],
				.shared = shared,
				.timeout_ms = 5000,
			};

			close(s ? ab[1] : ba[1]);
			close(s ? ba[0] : ab[0]);
			side_main(r, &e, j, sh);
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
	if (r->cleanup)
		r->cleanup(r, shared);
	munmap(sh, sizeof(*sh));
	return rc;
out_prep:
	if (r->cleanup)
		r->cleanup(r, shared);
out_ba:
	close(ba[0]), close(ba[1]);
out_ab:
	close(ab[0]), close(ab[1]);
out_map:
	munmap(sh, sizeof(*sh));
	return rc;
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

static void
progress(const char *what, int rep, int reps)
{
	if (!opts->quiet)
		fprintf(stderr, "ipckit bench: %s, repetition %d/%d\n", what,
			rep + 1, reps);
}

static long
stream_count(size_t size)
{
	long n = (long)(opts->stream_bytes / (size ? size : 1));

	return n < opts->stream_min   ? opts->stream_min
	       : n > opts->stream_max ? opts->stream_max
				      : n;
}

static void
fail_row(struct bench_result *x, int rc, const char *note)
{
	x->state = rc == -EPROTONOSUPPORT ? BR_SKIPPED : BR_FAILED;
	snprintf(x->note, sizeof(x->note), "%.150s", note);
}

int
bench_run(const struct bench_opts *o)
{
	const struct bench_row *const *t = tables();
	struct bench_result *res;
	struct outcome out;
	int n = 0, failed = 0, reps;
	char note[200];

	opts = o;
	coord_pid = getpid();
	for (int k = 0; t[k]; k++)
		for (int i = 0; t[k][i].name; i++)
			n += selected(&t[k][i], o->only);
	res = calloc((size_t)(n ? n : 1), sizeof(*res));
	if (res == NULL)
		return -ENOMEM;
	n = 0;
	for (int k = 0; t[k]; k++)
		for (int i = 0; t[k][i].name; i++)
			if (selected(&t[k][i], o->only))
				res[n++].row = &t[k][i];
	reps = o->reps > BENCH_MAX_REPS ? BENCH_MAX_REPS : o->reps;
	for (int rep = 0; rep < reps; rep++) {
		progress("round trips", rep, reps);
		for (int i = 0; i < n; i++) {
			struct bench_result *x = &res[i];
			struct job j = { JOB_LAT,   64,	     0,	 o->rounds,
					 o->warmup, o->rate, 120 };
			int rc;

			if (x->state != BR_OK)
				continue;
			rc = run_pair(x->row, &j, &out, note, sizeof(note));
			if (rc < 0) {
				fail_row(x, rc, note);
				continue;
			}
			x->maxmsg = out.maxmsg;
			x->p50[x->nlat] =
				bench_hist_quantile(&out.hist, 0.50) / 1e3;
			x->p99[x->nlat] =
				bench_hist_quantile(&out.hist, 0.99) / 1e3;
			x->p999[x->nlat] =
				bench_hist_quantile(&out.hist, 0.999) / 1e3;
			x->max[x->nlat] = out.hist.max / 1e3;
			x->setup[x->nlat++] = out.setup_ns / 1e3;
		}
		progress("streams", rep, reps);
		for (int s = 0; s < o->nsizes; s++)
			for (int i = 0; i < n; i++) {
				struct bench_result *x = &res[i];
				struct job j = { JOB_STREAM,
						 o->sizes[s],
						 stream_count(o->sizes[s]),
						 0,
						 0,
						 0,
						 120 };
				int rc;

				if (x->state != BR_OK ||
				    (x->row->flags & BF_NOPAYLOAD) ||
				    x->tnote[s][0])
					continue;
				if (x->maxmsg && o->sizes[s] > x->maxmsg) {
					snprintf(x->tnote[s],
						 sizeof(x->tnote[s]),
						 "above its largest message "
						 "(%zu B)",
						 x->maxmsg);
					continue;
				}
				rc = run_pair(x->row, &j, &out, note,
					      sizeof(note));
				if (rc < 0) {
					snprintf(x->tnote[s],
						 sizeof(x->tnote[s]), "%.70s",
						 note);
					continue;
				}
				x->tput[s][x->ntput[s]++] = out.rate;
			}
	}
	/* a peer library that fails (its daemon, its pools) is reported in
	 * the table like a skipped one; only our own rows failing, or a raw
	 * baseline, makes the run a failure */
	for (int i = 0; i < n; i++)
		failed |= res[i].state == BR_FAILED &&
			  res[i].row->kind != BK_PEER;
	bench_report(o, res, n);
	if (o->dat_dir)
		bench_report_dat(o, res, n);
	free(res);
	return failed;
}
