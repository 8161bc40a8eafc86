/*
 * cache_bench: the shared-memory cache against redis-server on the same
 * machine, same keys ("key:%012d", 16 bytes) and 100-byte values.
 *
 * Method. GET rate: one process, -k keys loaded, then -n GETs of keys in a
 * shuffled order (copying ik_cache_get into a buffer), timed with
 * CLOCK_MONOTONIC, best of -r runs (the machine is shared: the best run is
 * the least disturbed). Memory per key: the smallest segment (tried in 2%
 * steps downward) that holds -m keys with no eviction, divided by -m: all
 * of it counts, header, index and slack included.
 * With --redis, redis-server is started on a Unix socket in a private
 * directory (--save '' --appendonly no), measured with redis-benchmark -c 1
 * -t get (-n requests, best of -r), loaded with -m SETs through
 * redis-cli --pipe, and INFO's used_memory (minus the empty server's) is
 * divided by DBSIZE; then it is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "tool.h"

#define PROG "cache_bench"

static long nkeys = 100000, ngets = 5000000, memkeys = 1000000, runs = 3;

static void
key_of(char *k, long i)
{
	snprintf(k, 24, "key:%012ld", i);
}

static void
load(ik_cache *c, long n)
{
	char k[24], v[100];
	int r;

	memset(v, 'x', sizeof(v));
	for (long i = 0; i < n; i++) {
		key_of(k, i);
		r = ik_cache_set(c, k, 16, v, sizeof(v), 0, 0);
		if (r < 0)
			bench_die(PROG, "set", r);
	}
}

static double
get_rate(void)
{
	char(*keys)[24] = malloc((size_t)nkeys * 24), buf[128];
	uint32_t x = 12345;
	double best = 0;
	ik_cache *c;
	int r;

	if (keys == NULL)
		bench_die(PROG, "malloc", -ENOMEM);
	r = ik_cache_create(&c, NULL, (size_t)nkeys * 400 + (8 << 20), 0, 0);
	if (r < 0)
		bench_die(PROG, "create", r);
	load(c, nkeys);
	for (long i = 0; i < nkeys; i++)
		key_of(keys[i], i);
	for (long i = nkeys - 1; i > 0; i--) { /* shuffle */
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		long j = (long)(x % (uint32_t)(i + 1));
		char t[24];
		memcpy(t, keys[i], 24);
		memcpy(keys[i], keys[j], 24);
		memcpy(keys[j], t, 24);
	}
	for (long run = 0; run < runs; run++) {
		int64_t t0 = bench_now_ns();
		for (long i = 0; i < ngets; i++)
			if (ik_cache_get(c, keys[i % nkeys], 16, buf,
					 sizeof(buf)) != 100)
				bench_die(PROG, "get", -EIO);
		double rate =
			(double)ngets * 1e9 / (double)(bench_now_ns() - t0);
		if (rate > best)
			best = rate;
	}
	ik_cache_close(c);
	free(keys);
	return best;
}

static double
mem_per_key(void)
{
	struct ik_cache_stats st;
	size_t size = (size_t)memkeys * 180, fit = 0;
	ik_cache *c;
	int r;

	for (;; size -= size / 50) {
		r = ik_cache_create(&c, NULL, size, 0, 0);
		if (r < 0)
			bench_die(PROG, "create", r);
		load(c, memkeys);
		ik_cache_stats(c, &st);
		ik_cache_close(c);
		if (st.evictions > 0 || st.keys != (uint64_t)memkeys)
			break;
		fit = size;
	}
	if (fit == 0)
		bench_die("cache_bench",
			  "no size tried holds the keys: start higher",
			  -ENOSPC);
	return (double)fit / (double)memkeys;
}

/* ---- redis-server ------------------------------------------------------ */

static char dir[64], sock[96];
static pid_t server;

static void
stop_redis(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = 0;
	}
	if (sock[0])
		unlink(sock);
	if (dir[0])
		rmdir(dir);
}

static int
start_redis(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cache_bench-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -errno;
	snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
	server = fork();
	if (server < 0)
		return -errno;
	if (server == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execlp("redis-server", "redis-server", "--port", "0",
		       "--unixsocket", sock, "--save", "", "--appendonly", "no",
		       "--dir", dir, "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) { /* up to 10 s for the socket */
		struct stat st;
		struct timespec d = { 0, 10000000 };

		if (stat(sock, &st) == 0)
			return 0;
		if (waitpid(server, NULL, WNOHANG) == server) {
			server = 0;
			return -ENOENT;
		}
		nanosleep(&d, NULL);
	}
	return -ETIMEDOUT;
}

/*
 * Run a command line; copy out the first line that contains want (at its
 * start if at_start), or the first line at all if want is NULL.
 */
static int
run_capture(const char *cmd, const char *want, bool at_start, char *out,
	    size_t len)
{
	char line[512];
	FILE *f = popen(cmd, "r");
	int found = 0;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!found &&
		    (want == NULL || (at_start ? strstr(line, want) == line
					       : strstr(line, want) != NULL))) {
			snprintf(out, len, "%s", line);
			found = 1;
		}
	return pclose(f) == 0 && found ? 0 : -EIO;
}

static double
redis_used_memory(void)
{
	char cmd[256], line[256];

	snprintf(cmd, sizeof(cmd), "redis-cli -s %s info memory", sock);
	if (run_capture(cmd, "used_memory:", true, line, sizeof(line)) < 0)
		return -1;
	return strtod(line + strlen("used_memory:"), NULL);
}

static void
bench_redis(double *rate, double *per_key)
{
	char cmd[512], line[512];
	double before, after, keys;
	FILE *f;

	*rate = *per_key = -1;
	if (start_redis() < 0) {
		fprintf(stderr, "cache_bench: redis-server did not start\n");
		stop_redis();
		return;
	}
	for (long run = 0; run < runs; run++) {
		snprintf(cmd, sizeof(cmd),
			 "redis-benchmark -s %s -t get -c 1 -n %ld -d 100 -q",
			 sock, ngets / 50 > 100000 ? 100000 : ngets / 50);
		/* -q ends with "\rGET: N requests per second, ..." */
		if (run_capture(cmd, "requests per second", false, line,
				sizeof(line)) < 0)
			continue;
		char *end = strstr(line, " requests per second"), *p = end;
		while (p != NULL && p > line && p[-1] != ':')
			p--;
		double r = p != NULL && p > line ? strtod(p, NULL) : -1;
		if (r > *rate)
			*rate = r;
	}
	before = redis_used_memory();
	snprintf(cmd, sizeof(cmd), "redis-cli -s %s --pipe >/dev/null", sock);
	f = popen(cmd, "w");
	if (f != NULL) {
		char v[101];

		memset(v, 'x', 100);
		v[100] = '\0';
		for (long i = 0; i < memkeys; i++)
			fprintf(f,
				"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012ld\r\n"
				"$100\r\n%s\r\n",
				i, v);
		pclose(f);
	}
	after = redis_used_memory();
	snprintf(cmd, sizeof(cmd), "redis-cli -s %s dbsize", sock);
	keys = run_capture(cmd, NULL, false, line, sizeof(line)) == 0
		       ? strtod(line, NULL)
		       : 0;
	if (keys > 0 && before >= 0 && after > before)
		*per_key = (after - before) / keys;
	stop_redis();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "redis", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double rate, per_key, rrate = -1, rper = -1;
	int opt, redis = 0;

	while ((opt = getopt_long(argc, argv, "k:n:m:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			nkeys = atol(optarg);
			break;
		case 'n':
			ngets = atol(optarg);
			break;
		case 'm':
			memkeys = atol(optarg);
			break;
		case 'r':
			runs = atol(optarg);
			break;
		case 'R':
			redis = 1;
			break;
		default:
			printf("usage: cache_bench [-k KEYS] [-n GETS] [-m "
			       "MEMKEYS] [-r RUNS] [--redis]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (nkeys < 1 || ngets < 1 || memkeys < 1000 || runs < 1) {
		fprintf(stderr, "cache_bench: bad numbers\n");
		return 2;
	}
	rate = get_rate();
	per_key = mem_per_key();
	if (redis)
		bench_redis(&rrate, &rper);
	printf("%-34s %14s %14s\n", "", "ik_cache", "redis-server");
	printf("%-34s %14.0f %14.0f\n", "GET/s, one client (best run)", rate,
	       rrate);
	printf("%-34s %14.1f %14.1f\n", "bytes per key (16 B key, 100 B val)",
	       per_key, rper);
	if (rrate > 0)
		printf("GET ratio %.1fx (target >= 20x); memory ratio %.2f "
		       "(target <= 1)\n",
		       rate / rrate, per_key / rper);
	return 0;
}
