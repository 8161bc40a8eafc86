/*
 * ipckit fanout: stream records from stdin to N long-lived workers over
 * pipes and collect their output (parallel --pipe, but streaming). The
 * work is ik_fanout_run's; this file parses options, turns SIGINT/SIGTERM
 * into a readable signalfd the run watches, and maps results to statuses.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "cmd.h"

#define USAGE                                                          \
	"usage: ipckit fanout [-j N] [--ordered] [-0 | --block SIZE] " \
	"[--keep-going]\n"                                             \
	"                     [--batch SIZE] [--stats] [--] CMD [ARGS...]\n"

static void
print_stats(const struct ik_fanout_result *r, unsigned n)
{
	double s = (double)r->elapsed_ns / 1e9;
	struct rusage ru;

	if (s <= 0)
		s = 1e-9;
	for (unsigned i = 0; i < n; i++) {
		const struct ik_fanout_worker *w = &r->workers[i];

		fprintf(stderr,
			"ipckit fanout: worker %u (pid %d): %" PRIu64
			" records, %" PRIu64 " bytes in, %" PRIu64
			" bytes out; %.0f records/s, %.1f MB/s in\n",
			i, (int)w->pid, w->records_in, w->bytes_in,
			w->bytes_out, (double)w->records_in / s,
			(double)w->bytes_in / s / 1e6);
	}
	fprintf(stderr,
		"ipckit fanout: total: %" PRIu64 " records, %" PRIu64
		" bytes in, %" PRIu64 " bytes out in %.3f s; %.0f records/s, "
		"%.1f MB/s in\n",
		r->records_in, r->bytes_in, r->bytes_out, s,
		(double)r->records_in / s, (double)r->bytes_in / s / 1e6);
	/* the proof of bounded memory, whatever the input size */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(stderr, "ipckit fanout: max RSS %ld KiB\n",
			ru.ru_maxrss);
	if (r->records_lost)
		fprintf(stderr, "ipckit fanout: %" PRIu64 " records lost\n",
			r->records_lost);
}

/* Report the failed worker; its status becomes ours. */
static int
worker_failed(const struct ik_fanout_result *r, const char *cmd)
{
	const struct ik_fanout_worker *w = &r->workers[r->failed];
	char sig[16];
	int st = w->status;

	if (w->fail == IK_FANOUT_EXIT && WIFSIGNALED(st)) {
		if (ik_sig_name(WTERMSIG(st), sig, sizeof(sig)) < 0)
			snprintf(sig, sizeof(sig), "%d", WTERMSIG(st));
		fprintf(stderr,
			"ipckit fanout: worker %d (pid %d, %s) killed by "
			"signal %s\n",
			r->failed, (int)w->pid, cmd, sig);
		return 128 + WTERMSIG(st);
	}
	if (w->fail == IK_FANOUT_EXIT && WIFEXITED(st)) {
		fprintf(stderr,
			"ipckit fanout: worker %d (pid %d, %s) exited with "
			"status %d\n",
			r->failed, (int)w->pid, cmd, WEXITSTATUS(st));
		return WEXITSTATUS(st);
	}
	fprintf(stderr, "ipckit fanout: worker %d (pid %d, %s) %s\n", r->failed,
		(int)w->pid, cmd, ik_fanout_fail_str(w->fail));
	return IK_EXIT_FAIL;
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "ordered", no_argument, NULL, 'k' },
		{ "null", no_argument, NULL, '0' },
		{ "block", required_argument, NULL, 'b' },
		{ "batch", required_argument, NULL, 'B' },
		{ "keep-going", no_argument, NULL, 'K' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ik_fanout_opts fo = { .in_fd = 0, .out_fd = 1, .stop_fd = -1 };
	struct ik_fanout_result res = { 0 };
	struct ik_siginfo si;
	sigset_t set;
	long long jobs;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t size;
	int opt, stats = 0, r, status;

	fo.workers = ncpu > 0 ? (unsigned)ncpu : 1;
	while ((opt = getopt_long(argc, argv, "+j:k0b:B:Ksh", opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'j':
			if (ik_cmd_parse_int(optarg, 1, IK_FANOUT_MAX_WORKERS,
					     &jobs) < 0)
				ik_cmd_usage("fanout",
					     "-j wants 1..%d workers, not '%s'",
					     IK_FANOUT_MAX_WORKERS, optarg);
			fo.workers = (unsigned)jobs;
			break;
		case 'k':
			fo.flags |= IK_FANOUT_ORDERED;
			break;
		case '0':
			if (fo.mode == IK_FANOUT_BLOCK)
				ik_cmd_usage("fanout", "-0 and --block exclude "
						       "each other");
			fo.mode = IK_FANOUT_NUL;
			break;
		case 'b':
			if (fo.mode == IK_FANOUT_NUL)
				ik_cmd_usage("fanout", "-0 and --block exclude "
						       "each other");
			if (ik_cmd_parse_size(optarg, &size) < 0 || size == 0 ||
			    size > SIZE_MAX / 2)
				ik_cmd_usage("fanout", "bad --block size '%s'",
					     optarg);
			fo.mode = IK_FANOUT_BLOCK;
			fo.block = (size_t)size;
			break;
		case 'B':
			if (ik_cmd_parse_size(optarg, &size) < 0 || size == 0 ||
			    size > (1u << 30))
				ik_cmd_usage("fanout", "bad --batch size '%s'",
					     optarg);
			fo.batch = (size_t)size;
			break;
		case 'K':
			fo.flags |= IK_FANOUT_KEEP_GOING;
			break;
		case 's':
			stats = 1;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return IK_EXIT_OK;
		default:
			ik_cmd_usage("fanout", "bad option");
		}
	}
	if (optind >= argc)
		ik_cmd_usage("fanout", "no worker command given");
	fo.argv = (const char *const *)(argv + optind);
	/* a batch larger than the default buffer needs a larger buffer */
	if (fo.batch > 256 * 1024)
		fo.bufsize = fo.batch;

	res.workers = calloc(fo.workers, sizeof(*res.workers));
	if (res.workers == NULL)
		ik_cmd_fail("fanout", "%s", ik_strerror(-ENOMEM));
	/* ^C and kill arrive through a descriptor the run watches; the
	 * workers start with an empty mask (ik_spawn) and get their own ^C */
	if ((r = ik_sig_makeset(&set, SIGINT, SIGTERM, SIGHUP, 0)) < 0 ||
	    (fo.stop_fd = ik_sig_fd_open(&set, IK_SIGFD_BLOCK |
						       IK_SIGFD_NONBLOCK)) < 0)
		ik_cmd_fail("fanout", "signals: %s",
			    ik_strerror(r < 0 ? r : fo.stop_fd));

	r = ik_fanout_run(&fo, &res);
	if (stats && r != -EINVAL && r != -EBADF && r != -ENOMEM &&
	    res.elapsed_ns > 0)
		print_stats(&res, fo.workers);
	switch (r) {
	case 0:
		status = IK_EXIT_OK;
		break;
	case -EPIPE: /* our reader left (| head): a normal way to end */
		status = IK_EXIT_OK;
		break;
	case -ECHILD:
		status = worker_failed(&res, fo.argv[0]);
		break;
	case -EINTR:
		status = 128 + SIGTERM;
		if (ik_sig_fd_read(fo.stop_fd, &si, 1, 0) == 1)
			status = 128 + si.signo;
		break;
	case -ENOENT:
	case -EACCES:
	case -ENOEXEC:
		fprintf(stderr, "ipckit fanout: cannot start '%s': %s\n",
			fo.argv[0], ik_strerror(r));
		status = r == -ENOENT ? 127 : 126;
		break;
	default:
		fprintf(stderr, "ipckit fanout: %s\n", ik_strerror(r));
		status = IK_EXIT_FAIL;
	}
	close(fo.stop_fd);
	free(res.workers);
	return status;
}

const struct ik_cmd ik_cmd_fanout = {
	.name = "fanout",
	.summary = "stream stdin's records to N worker processes over pipes",
	.usage = USAGE
	"\n"
	"Reads records from standard input and streams them, whole records\n"
	"in batches, to N long-lived copies of CMD, each reading its standard\n"
	"input; their output goes to standard output, whole records at a "
	"time.\n"
	"Memory stays bounded: a busy worker or a slow reader slows the "
	"input.\n"
	"\n"
	"  -j, --jobs N       workers (default: the number of CPUs)\n"
	"  -k, --ordered      output in input order: each worker must write\n"
	"                     exactly one output record per input record\n"
	"  -0, --null         records end with NUL, not newline\n"
	"  --block SIZE       records are SIZE bytes (4K, 1M...); the last\n"
	"                     may be shorter\n"
	"  --batch SIZE       most bytes given to one worker per turn (64K)\n"
	"  --keep-going       a failed worker does not stop the others\n"
	"  --stats            records/s and bytes/s per worker on stderr\n"
	"\n"
	"Exit: 0, or a failed worker's status (128+N if killed by signal N),\n"
	"1 on errors, 2 on usage errors, 127/126 if CMD cannot be started,\n"
	"128+N when stopped by signal N (INT, TERM, HUP). A closed standard\n"
	"output ends the run quietly with 0.\n",
	.run = run,
};
