/*
 * The benchmark harness behind `ipckit bench` (internal to bench/ and
 * cmd/bench.c). A row is one mechanism measured one way: ipckit's own API,
 * the raw system calls it wraps, a synchronization primitive, or a peer
 * library. Every row implements the same few hooks; the harness forks the
 * two processes, pins them, runs ping-pong or one-way streams through the
 * hooks, and records latencies in a log-linear histogram.
 */
#ifndef IK_BENCH_H
#define IK_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tool.h"

/* ---- log-linear histogram (HDR-style, < 1% relative error) ----------- */

#define BH_SUB_BITS 7
#define BH_SUB (1u << BH_SUB_BITS)
#define BH_MAX_MAG 40 /* values up to 2^41 ns (~36 min) are kept exactly */
#define BH_BUCKETS (2 * BH_SUB + (BH_MAX_MAG - BH_SUB_BITS) * BH_SUB)

struct bench_hist {
	uint64_t count, min, max;
	uint64_t b[BH_BUCKETS];
};

void bench_hist_reset(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, uint64_t ns);
/* The value at quantile q (0..1], in ns; 0 for an empty histogram. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

/* ---- rows --------------------------------------------------------------- */

enum bench_kind {
	BK_FLOOR, /* the hardware floor: one cache line */
	BK_SYNC,  /* notification primitives: no payload */
	BK_RAW,	  /* raw system calls, no library code in the path */
	BK_OURS,  /* ipckit's API */
	BK_PEER,  /* another library */
	BK_KINDS
};

#define BF_NOPAYLOAD 0x1 /* latency only: carries no bytes */
#define BF_LOSSY 0x2	 /* may drop under load: streams use credits */
#define BF_EXIT 0x4	 /* the process must leave with exit() */
#define BF_INPLACE 0x8	 /* send/recv fill and check the payload in place */

/* One process's end of a measured pair. */
struct bench_end {
	int side;	    /* 0: A (measures, sends first), 1: B (answers) */
	int ctl_tx;	    /* control pipe to the other side */
	int ctl_rx;	    /* control pipe from the other side */
	void *shared;	    /* what prepare made, inherited through fork */
	void *st;	    /* per-process state, the row's own */
	size_t maxmsg;	    /* set by open: largest message (0: unlimited) */
	int timeout_ms;	    /* bound for receives in lossy rows */
	int stream;	    /* one-way stream: bench_fill(seq) payloads */
	uint64_t seq;	    /* stream: the message's sequence number */
	unsigned char fill; /* stream: a byte per message (older rows) */
	long bad;	/* zero-copy rows count mismatches they saw in place */
	char note[160]; /* why open failed, for the report */
};

struct bench_row {
	const char *name; /* "unix (ik_chan)" */
	const char *mech; /* pairs ours with raw: "unix", "pipe", ... */
	enum bench_kind kind;
	unsigned flags;
	const void *arg; /* the row's constant (a scheme, a variant) */
	/* in the coordinator before fork: objects both sides inherit */
	int (*prepare)(const struct bench_row *r, void **shared);
	/* in each side after fork and pinning; 0, or negative errno
	 * (-EPROTONOSUPPORT: not available here, with e->note) */
	int (*open)(const struct bench_row *r, struct bench_end *e);
	int (*send)(struct bench_end *e, void *buf, size_t len);
	/* receive exactly len bytes into buf */
	int (*recv)(struct bench_end *e, void *buf, size_t len);
	void (*close)(struct bench_end *e);
	/* in the coordinator after both sides are gone */
	void (*cleanup)(const struct bench_row *r, void *shared);
};

/* Row tables, one per source file; each ends with a row whose name is NULL.
 */
extern const struct bench_row bench_rows_sync[];
extern const struct bench_row bench_rows_raw_stream[];
extern const struct bench_row bench_rows_raw_msg[];
extern const struct bench_row bench_rows_ours[];
extern const struct bench_row bench_rows_zmq[];
extern const struct bench_row bench_rows_nng[];
extern const struct bench_row bench_rows_iceoryx[];
/* Peers not built in: name and reason, for the report. */
struct bench_missing {
	const char *name, *why;
};
extern const struct bench_missing bench_missing_peers[];

/* ---- helpers for row implementations -------------------------------------
 */

/* A line over the control pipe (bounded waits: 30 s). 0 or negative errno.
 */
int bench_ctl_send(struct bench_end *e, const char *line);
int bench_ctl_recv(struct bench_end *e, char *line, size_t len);
/* A unique name: "ikb-<coordinator pid>-<seq>-<tag>". */
void bench_name(char *buf, size_t len, const char *tag);
/* The directory for path names (runtime dir); 0 or negative errno. */
int bench_dir(char *buf, size_t len);
/* Full read/write of a descriptor (EINTR and partial transfers). */
int bench_write_all(int fd, const void *buf, size_t len);
int bench_read_all(int fd, void *buf, size_t len);
static inline void
bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* The payload of streams: bench_fill writes len bytes for message seq (its
 * number in the first word, a pattern of it after); bench_check says 1 if
 * buf holds exactly that. Both word-wise, vectorised, no early exit. */
void bench_fill(void *buf, size_t len, uint64_t seq);
int bench_check(const void *buf, size_t len, uint64_t seq);

/* For prepare hooks: the message size and mode (1: one-way stream, 0:
 * round trips) of the pair being prepared, so a row can size its objects
 * to the job (the ring's capacity). */
void bench_job(size_t *size, int *stream);
/* What one clock read adds to an interval between two reads, in ns. */
int64_t bench_clock_ns(void);

/* ---- the run --------------------------------------------------------------
 */

#define BENCH_MAX_SIZES 8

struct bench_opts {
	int cpu[2];
	int reps;    /* repetitions per figure (median shown) */
	int rounds;  /* latency round trips per repetition */
	int warmup;  /* discarded round trips */
	double rate; /* open loop: round trips per second (0: closed) */
	size_t sizes[BENCH_MAX_SIZES];
	int nsizes;
	uint64_t stream_bytes; /* per throughput run (message count adapts) */
	long stream_min, stream_max;
	double duration;  /* seconds per figure (0: rounds and bytes) */
	const char *only; /* comma-separated names/mechanisms/kinds, or NULL */
	int json, csv;
	int progress;	     /* progress on stderr (it is a terminal) */
	const char *dat_dir; /* gnuplot data files, or NULL */
	const char *plot; /* FILE.svg or FILE.png drawn by gnuplot, or NULL */
	const char *disable; /* peers not to run ("zeromq,nng"), or NULL */
};

#define BENCH_MAX_REPS 15

/* What the runs of one row gave (figures in microseconds, messages/s). */
struct bench_result {
	const struct bench_row *row;
	int state; /* BR_* */
	char note[160];
	size_t maxmsg; /* 0: unlimited */
	int nlat;
	double p50[BENCH_MAX_REPS], p99[BENCH_MAX_REPS], p999[BENCH_MAX_REPS],
		max[BENCH_MAX_REPS], setup[BENCH_MAX_REPS];
	int ntput[BENCH_MAX_SIZES];
	double tput[BENCH_MAX_SIZES][BENCH_MAX_REPS];
	char tnote[BENCH_MAX_SIZES][80]; /* why a size was not measured */
	/* round trips at each of --sizes (rows bench_sized_rtt selects):
	 * p50, p99, p99.9, max in microseconds */
	int nslat[BENCH_MAX_SIZES];
	double slat[BENCH_MAX_SIZES][4][BENCH_MAX_REPS];
	/* ipckit rows with a raw twin: the paired run of each repetition
	 * (bench_pair_slot), p50 in microseconds of [0] raw and [1] ours as
	 * measured in the same two processes, and their quotient */
	int npair;
	double pair_p50[2][BENCH_MAX_REPS], pair_ratio[BENCH_MAX_REPS];
};
enum { BR_OK, BR_SKIPPED, BR_FAILED };

/* What the run measured besides the rows: the memcpy reference and the
 * cost of one clock read (each timed round trip includes one). */
struct bench_refs {
	int nmemcpy, nclock;
	double memcpy_bps[BENCH_MAX_REPS]; /* one core, 1 MiB blocks */
	double clock_ns[BENCH_MAX_REPS];   /* clock_gettime, ns a call */
};
#define BENCH_MEMCPY_BLOCK (1u << 20)
/* ... copied into successive slots of a buffer this large (larger than L2,
 * as the ring's data is): the destination is not hot when a copy begins */
#define BENCH_MEMCPY_SPAN (16u << 20)

/*
 * Paired blocks: an ipckit row and its raw twin (BK_RAW, same mech) open
 * both in one pair of processes and alternate blocks of this many round
 * trips; bench_pair_slot says which row block b (0 or 1) of cycle c runs:
 * 0 the raw row, 1 ours (raw first in even cycles, ours first in odd).
 */
#define BENCH_PAIR_BLOCK 200
int bench_pair_slot(long cycle, int block);

/* Rows whose round trip is also measured at every size of --sizes (the
 * ring, copying and zero-copy: the second should stay flat). */
int bench_sized_rtt(const struct bench_row *r);

/* Median of n values (the array is sorted in place); 0 for none. */
double bench_median(double *v, int n);
/* Spread of n values around their median, in percent: (max-min)/median. */
double bench_spread(const double *v, int n);
/* A floor spread (%) above this means the machine changed state mid-run. */
#define BENCH_STATE_SPREAD 25.0

/* Print the report (text, JSON or CSV) for n results on f. */
void bench_report(FILE *f, const struct bench_opts *o, struct bench_result *res,
		  int n, const struct bench_refs *ref);
/* gnuplot data files into o->dat_dir. 0 or negative errno. */
int bench_report_dat(const struct bench_opts *o, struct bench_result *res,
		     int n);

/* ---- export (bench/export.c) ---------------------------------------------
 */

/* gnuplot data, one line per size: bytes/s of each row with a payload. */
void bench_tput_rows(FILE *f, const struct bench_opts *o,
		     const struct bench_result *res, int n);
/* The measured row of kind k for mechanism mech, or NULL. */
struct bench_result *bench_find(struct bench_result *res, int n,
				const char *mech, enum bench_kind k);
/* The index of size in o->sizes, or -1. */
int bench_size_index(const struct bench_opts *o, size_t size);
/* The median of v[0..n) without reordering it; 0 for none. */
double bench_med(const double *v, int n);
/* The mech and kind an ipckit row is measured against (its raw twin's, or
 * for the rings and shm the floor's or futex's); NULL for other rows. */
const char *bench_base_of(const struct bench_row *r, enum bench_kind *kind);
/* The row r is measured against (its raw system calls, or for the ring
 * the floor or futex), among res; NULL when there is none. */
struct bench_result *bench_baseline(struct bench_result *res, int n,
				    const struct bench_result *r);
/* The row (not failed or skipped, measured or not yet) an ipckit row is
 * paired with: its baseline, the raw twin (BK_RAW, same mech) or, for the
 * rings and shm, the floor or futex row; NULL when there is none. */
struct bench_result *bench_pair_twin(struct bench_result *res, int n,
				     const struct bench_result *r);
/* An ipckit row's ratio to its twin from the paired runs: the median of
 * the repetitions' p50(ours) / p50(twin); -1 without paired runs. */
double bench_pair_ratio(const struct bench_result *x);
/* The figures of one row at one size; rtt[] < 0 when not measured. */
struct bench_cell {
	size_t size; /* 0: a notification row, no payload */
	double rtt_ns[4];
	double msgs_per_s, bytes_per_s; /* < 0: not measured */
	const char *note;		/* why not, or NULL */
};
/* The cells of res[i], one per size (64 B and each of --sizes); count. */
int bench_cells(const struct bench_opts *o, const struct bench_result *x,
		struct bench_cell *out, int max);
void bench_json(FILE *f, const struct bench_opts *o, struct bench_result *res,
		int n, const struct bench_refs *ref);
void bench_csv(FILE *f, const struct bench_opts *o, struct bench_result *res,
	       int n, const struct bench_refs *ref);
/* Draw the figures with gnuplot through a pipe into o->plot. 0, or a
 * negative errno (-ENOENT: no gnuplot; -EIO: gnuplot failed). */
int bench_plot(const struct bench_opts *o, struct bench_result *res, int n);
/* The rows with a round trip, fastest p50 first, as indexes into res;
 * the count (at most max). */
int bench_order(struct bench_result *res, int n, int *idx, int max);
/* The closing paragraph, generated from the figures. */
void bench_reading(char *buf, size_t len, const struct bench_opts *o,
		   struct bench_result *res, int n,
		   const struct bench_refs *ref);
/* Whether gnuplot is on PATH. */
int bench_have_gnuplot(void);

/* Run everything selected and print the report. Returns 0, or 1 when a
 * row failed (not skipped). */
int bench_run(const struct bench_opts *o);

/* ---- capacity and persistence, measured -------------------------------- */

struct bench_probe {
	const char *mech;
	char capacity[64];
	char persist[64];
};
/* Fill out[] (up to n); returns the count. */
int bench_probe_all(struct bench_probe *out, int n);

#endif
