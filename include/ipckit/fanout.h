/*
 * Fan-out over pipes: records (lines, NUL-terminated strings or fixed-size
 * blocks) read from one descriptor are streamed to N long-lived worker
 * processes, and their output is written back whole records at a time,
 * interleaved or in input order. Memory stays bounded whatever the input
 * size (a full worker stops the reading: back-pressure), records are never
 * cut between workers, and a record of any length streams through.
 */
#ifndef IPCKIT_FANOUT_H
#define IPCKIT_FANOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the input (and, for IK_FANOUT_ORDERED, each worker's output) is cut. */
enum ik_fanout_mode {
	IK_FANOUT_LINES = 0, /* records end with '\n' */
	IK_FANOUT_NUL,	     /* records end with '\0' */
	IK_FANOUT_BLOCK, /* records are `block` bytes; the last may be short */
};

/*
 * Record splitter: the state of a byte stream between two calls (how far
 * into the current record it is). Pure computation, no I/O: the part of
 * the module that sees untrusted bytes, kept apart to be tested and fuzzed.
 */
struct ik_fanout_split {
	enum ik_fanout_mode mode;
	size_t block; /* IK_FANOUT_BLOCK: record size */
	size_t pos;   /* bytes of the current record already seen; 0: at a
			 boundary */
};

/* Set *s to the start of a stream. 0, or -EINVAL (unknown mode, block 0). */
int ik_fanout_split_init(struct ik_fanout_split *s, enum ik_fanout_mode mode,
			 size_t block);

/*
 * Look at the next len bytes of the stream (s is not changed): returns the
 * length of the longest prefix of buf that ends on a record boundary and
 * holds at most max_rec record ends (0 when none ends in buf), and stores
 * in *nrec (may be NULL) the number of records ending in that prefix.
 * max_rec 1 finds the end of the current record; SIZE_MAX the last
 * boundary in buf.
 */
size_t ik_fanout_split_scan(const struct ik_fanout_split *s, const void *buf,
			    size_t len, size_t max_rec, size_t *nrec);

/*
 * Consume len bytes of the stream: returns the number of records that
 * ended in them, and updates s->pos.
 */
size_t ik_fanout_split_feed(struct ik_fanout_split *s, const void *buf,
			    size_t len);

/* Flags of ik_fanout_opts. */
#define IK_FANOUT_ORDERED 0x1	 /* output in input order (see below) */
#define IK_FANOUT_KEEP_GOING 0x2 /* a failed worker does not stop the run */

struct ik_fanout_opts {
	const char *const
		*argv;	  /* worker command, NULL-terminated, PATH used */
	unsigned workers; /* how many, 1..IK_FANOUT_MAX_WORKERS */
	enum ik_fanout_mode mode;
	size_t block;	/* IK_FANOUT_BLOCK: record size in bytes */
	unsigned flags; /* IK_FANOUT_* */
	int in_fd;	/* records are read from here until end of file */
	int out_fd;	/* the workers' output goes here */
	int stop_fd;	/* -1, or a descriptor (e.g. a signalfd) whose turning
			   readable stops the run; it is not read */
	size_t batch;	/* most bytes handed to one worker in a row before the
			   next is chosen; 0: 64 KiB */
	size_t bufsize; /* per-worker buffer (each way); 0: 256 KiB */
	int grace_ms;	/* when stopping: SIGTERM, then SIGKILL after this
			   long; 0: 5000, -1: never SIGKILL */
};

#define IK_FANOUT_MAX_WORKERS 1024

/* Why a worker failed (ik_fanout_worker.fail). */
enum ik_fanout_fail {
	IK_FANOUT_OK = 0,
	IK_FANOUT_EXIT,	 /* exited non-zero or was killed (see status) */
	IK_FANOUT_EARLY, /* exited 0 before reading all of its input */
	IK_FANOUT_EXTRA, /* ordered: answered more records than it was given */
	IK_FANOUT_SHORT, /* ordered: ended with records unanswered */
};

struct ik_fanout_worker {
	pid_t pid;
	int status; /* wait status once reaped, else -1 */
	enum ik_fanout_fail fail;
	uint64_t records_in, bytes_in;	 /* handed to the worker */
	uint64_t records_out, bytes_out; /* written out from its output
					    (records: ordered mode only) */
};

struct ik_fanout_result {
	int failed; /* index of the first worker that failed, or -1 */
	int64_t elapsed_ns;
	uint64_t records_in, bytes_in, bytes_out;
	uint64_t records_lost; /* ordered + keep-going: never answered */
	/* the caller's array of opts->workers entries, or NULL */
	struct ik_fanout_worker *workers;
};

/*
 * Start opts->workers copies of opts->argv (stdin and stdout on pipes,
 * stderr inherited, every other descriptor closed), feed them the records
 * read from in_fd, write their output to out_fd, and reap them. Blocks
 * until the end (no timeout: it runs as long as the input does).
 *
 * Records go to one worker at a time, up to `batch` bytes of whole records
 * per turn, a turn ending early when the input has no more yet (latency
 * stays that of the input). Output is written whole records at a time:
 * without IK_FANOUT_ORDERED in the order they are ready; with it, in input
 * order, which needs every worker to answer exactly one output record (cut
 * by the same mode) per input record, in order; a worker's last output
 * record may lack its terminator.
 *
 * Returns 0 when all input was processed and every worker exited 0, or:
 * -ECHILD a worker failed (res->failed; the other workers were stopped,
 * unless IK_FANOUT_KEEP_GOING, with which the run goes on without it and
 * -ECHILD is returned at the end); -EPIPE out_fd has no reader left (the
 * workers are stopped; no SIGPIPE is raised); -EINTR stop_fd turned
 * readable (the workers are stopped); -EINVAL bad opts; the error of
 * ik_spawn when a worker could not be started (none is left running);
 * -ENOMEM, -EMFILE, or the errno of a failed read or write.
 *
 * Stopping the workers: SIGTERM, then their pipes are closed, then SIGKILL
 * after opts->grace_ms; all are reaped before the call returns.
 *
 * *res (may be NULL) is filled whenever the workers were started, whatever
 * the return; the caller's res->workers array (may be NULL) receives each
 * worker's figures. Not for processes with SIGCHLD ignored.
 */
int ik_fanout_run(const struct ik_fanout_opts *opts,
		  struct ik_fanout_result *res);

/* "exited non-zero", ... for an ik_fanout_fail; never NULL. */
const char *ik_fanout_fail_str(enum ik_fanout_fail f);

#ifdef __cplusplus
}
#endif
#endif
