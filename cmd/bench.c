/*
 * ipckit bench: every mechanism measured in one run, next to its raw
 * system calls, the notification primitives, the hardware floor and the
 * peer libraries that are installed.
 *
 * Method (bench/harness.c): each figure comes from a fresh pair of
 * processes pinned to two CPUs (--cpus, default 0,1). Round trips: 64-byte
 * ping-pong, warm-up discarded, every round trip timed into a log-linear
 * histogram (p50, p99, p99.9, max); --rate N sends on a fixed schedule and
 * times from the intended send (coordinated omission). Throughput: one way,
 * the sender fills every payload, the receiver checks every byte. Rows run
 * interleaved, repetition by repetition; the median of --reps is shown
 * with the spread. Capacity and persistence are measured (bench/probe.c).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "../bench/bench.h"
#include "cmd.h"

static const char usage[] =
	"usage: ipckit bench [--quick | --full] [--only LIST] [--cpus A,B]\n"
	"                    [--duration S] [--reps N] [--rounds N] [--rate "
	"N]\n"
	"                    [--sizes LIST] [--json | --csv] [--plot FILE]\n"
	"                    [--dat DIR]\n"
	"Measure every IPC mechanism: round-trip latency (p50, p99, p99.9,\n"
	"max) and one-way throughput by message size, for ipckit's channels,\n"
	"the raw system calls underneath, synchronization primitives, the\n"
	"cache-line floor, memcpy and installed peer libraries (ZeroMQ, nng,\n"
	"iceoryx). Progress goes to standard error when it is a terminal.\n"
	"  --quick        few rounds, one repetition (for tests; figures "
	"rough)\n"
	"  --full         more rounds and repetitions (several minutes more)\n"
	"  --only LIST    rows by mechanism (unix,pmq,...), name, or kind\n"
	"                 (floor, sync, raw, ours, peer), comma-separated;\n"
	"                 an ipckit row brings its baseline along\n"
	"  --cpus A,B     the two CPUs the processes are pinned to (0,1)\n"
	"  --duration S   time budget per figure in seconds (e.g. 0.2): round\n"
	"                 trips and stream lengths follow from a calibration\n"
	"  --reps N       repetitions per figure, median shown (default 3)\n"
	"  --rounds N     round trips per repetition (default 10000)\n"
	"  --rate N       open loop: N round trips per second, latency from\n"
	"                 the intended send time\n"
	"  --sizes LIST   throughput sizes (default 64,4K,64K,1M)\n"
	"  --json         every figure as JSON (schema in ipckit(1))\n"
	"  --csv          every figure as CSV, one line per row and size\n"
	"  --plot FILE    draw FILE.svg or FILE.png with gnuplot\n"
	"  --dat DIR      also write gnuplot data files into DIR\n"
	"IKB_DISABLE_PEERS=zeromq,nng,... skips those peers (reported).\n";

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n > k && strcmp(s + n - k, suf) == 0;
}

static int
parse_sizes(struct bench_opts *o, const char *s)
{
	char buf[256], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	o->nsizes = 0;
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (o->nsizes == BENCH_MAX_SIZES ||
		    ik_cmd_parse_size(t, &v) < 0 || v == 0 || v > (64u << 20))
			return -EINVAL;
		o->sizes[o->nsizes++] = (size_t)v;
	}
	return o->nsizes ? 0 : -EINVAL;
}

static int
run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'F' },
		{ "only", required_argument, NULL, 'o' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'R' },
		{ "sizes", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "dat", required_argument, NULL, 'd' },
		{ "duration", required_argument, NULL, 'D' },
		{ "csv", no_argument, NULL, 'C' },
		{ "plot", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.cpu = { 0, 1 },
		.reps = 3,
		.rounds = 10000,
		.warmup = 1000,
		.sizes = { 64, 4096, 65536, 1 << 20 },
		.nsizes = 4,
		.stream_bytes = 32u << 20,
		.stream_min = 32,
		.stream_max = 20000,
		.duration = 0.1,
	};
	long long v;
	int opt, reps = -1, rounds = -1, quiet = 0;
	double duration = 0;
	char *end;
	cpu_set_t set;

	while ((opt = getopt_long(argc, argv, "qFo:c:r:n:R:s:jd:D:Cp:Qh", lo,
				  NULL)) != -1) {
		switch (opt) {
		case 'q':
			o.reps = 1, o.rounds = 500, o.warmup = 50;
			o.stream_bytes = 256u << 10;
			o.stream_min = 4, o.stream_max = 200;
			o.duration = 0.02;
			break;
		case 'F':
			o.reps = 5, o.rounds = 50000, o.warmup = 2000;
			o.stream_bytes = 256u << 20;
			o.stream_min = 128, o.stream_max = 200000;
			o.duration = 0.5;
			break;
		case 'o':
			o.only = optarg;
			break;
		case 'c':
			/* NOLINTNEXTLINE(cert-err34-c): user's option */
			if (sscanf(optarg, "%d,%d", &o.cpu[0], &o.cpu[1]) !=
				    2 ||
			    o.cpu[0] < 0 || o.cpu[1] < 0 ||
			    o.cpu[0] >= CPU_SETSIZE || o.cpu[1] >= CPU_SETSIZE)
				ik_cmd_usage("bench", "--cpus wants A,B");
			break;
		case 'r':
			if (ik_cmd_parse_int(optarg, 1, BENCH_MAX_REPS, &v) < 0)
				ik_cmd_usage("bench", "--reps: 1 to %d",
					     BENCH_MAX_REPS);
			reps = (int)v;
			break;
		case 'n':
			if (ik_cmd_parse_int(optarg, 10, 10000000, &v) < 0)
				ik_cmd_usage("bench", "--rounds: 10 to 10^7");
			rounds = (int)v;
			break;
		case 'R':
			if (ik_cmd_parse_int(optarg, 1, 10000000, &v) < 0)
				ik_cmd_usage("bench", "--rate: 1 to 10^7 /s");
			o.rate = (double)v;
			break;
		case 's':
			if (parse_sizes(&o, optarg) < 0)
				ik_cmd_usage("bench",
					     "--sizes: up to %d sizes, 1 B to "
					     "64 MiB, e.g. 64,4K,1M",
					     BENCH_MAX_SIZES);
			break;
		case 'j':
			o.json = 1;
			break;
		case 'd':
			o.dat_dir = optarg;
			break;
		case 'Q': /* kept for scripts: not a terminal is quiet anyway */
			quiet = 1;
			break;
		case 'D':
			errno = 0;
			duration = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(duration >= 0.001 && duration <= 600))
				ik_cmd_usage(
					"bench",
					"--duration: 0.001 to 600 seconds");
			break;
		case 'C':
			o.csv = 1;
			break;
		case 'p':
			o.plot = optarg;
			break;
		case 'h':
			printf("%s", usage);
			return IK_EXIT_OK;
		default:
			ik_cmd_usage("bench", "bad option (see 'ipckit help "
					      "bench')");
		}
	}
	if (optind < argc)
		ik_cmd_usage("bench", "unexpected argument '%s'", argv[optind]);
	if (o.json && o.csv)
		ik_cmd_usage("bench", "--json or --csv, not both");
	if (o.plot && !has_suffix(o.plot, ".svg") &&
	    !has_suffix(o.plot, ".png"))
		ik_cmd_usage("bench", "--plot wants FILE.svg or FILE.png");
	/* before minutes of measuring, not after */
	if (o.plot && !bench_have_gnuplot())
		ik_cmd_fail("bench",
			    "--plot: gnuplot not found (scripts/deps.sh bench "
			    "installs gnuplot-nox)");
	/* a time budget per figure by default, so that the run's length does
	 * not depend on how loaded the machine is; --rounds asks for counts */
	if (duration > 0 && rounds > 0)
		ik_cmd_usage("bench", "--duration or --rounds, not both");
	if (duration > 0)
		o.duration = duration;
	if (rounds > 0)
		o.duration = 0;
	/* the budget is calibrated on the warm-up: a short one, as a loaded
	 * machine can make every round trip cost a scheduling delay */
	if (o.duration > 0)
		o.warmup = o.warmup < 10 ? 10 : o.warmup > 200 ? 200 : o.warmup;
	o.progress = !quiet && isatty(2);
	o.disable = getenv("IKB_DISABLE_PEERS");
	if (reps > 0)
		o.reps = reps;
	if (rounds > 0)
		o.rounds = rounds;
	if (sched_getaffinity(0, sizeof(set), &set) < 0 ||
	    !CPU_ISSET(o.cpu[0], &set) || !CPU_ISSET(o.cpu[1], &set))
		ik_cmd_fail("bench", "cannot run on CPUs %d,%d (see --cpus)",
			    o.cpu[0], o.cpu[1]);
	if (o.cpu[0] == o.cpu[1] && o.progress)
		fprintf(stderr,
			"ipckit bench: note: both sides on CPU %d: "
			"spinning rows will crawl\n",
			o.cpu[0]);
	return bench_run(&o) == 0 ? IK_EXIT_OK : IK_EXIT_FAIL;
}

const struct ik_cmd ik_cmd_bench = {
	"bench",
	"measure every mechanism: latency, throughput, capacity",
	usage,
	run,
};
