/*
 * Small helpers shared by the benchmark harness (bench/harness.c) and the
 * stand-alone bench programs (notify_bench, chat_bench, cache_bench): the
 * clock, pinning, sorted-sample percentiles, and dying with a message.
 */
#ifndef IKBENCH_TOOL_H
#define IKBENCH_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);
/* SIGPIPE ignored (the raw rows, like the ik_chan ones): 0 or -errno. */
int bench_ignore_sigpipe(void);

/* Pin pid (0: the caller) to cpu. 0, or a negative errno. */
int bench_pin(pid_t pid, int cpu);

/* Sort samples ascending, for bench_pct_us. */
void bench_sort_ns(int64_t *v, size_t n);

/* The p-quantile (0..1, nearest rank) of n sorted samples, in us. */
double bench_pct_us(const int64_t *sorted, size_t n, double p);

/* "PROG: WHAT: <ik_strerror(err)>" on stderr, then exit(1). */
__attribute__((noreturn)) void bench_die(const char *prog, const char *what,
					 int err);

#endif
