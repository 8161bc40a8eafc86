/*
 * The bench's own logic, never its timings: the log-linear histogram's
 * percentiles against known data (constant, uniform, two-point, values on
 * bucket edges), the median and spread of repetitions, and how the report
 * orders rows, picks each row's baseline and splits a row into one cell
 * per size (what --json and --csv print), and the streams' payload fill
 * and check. Pure computation: no IPC, so no second process.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/bench.h"
#include "ikt.h"

/* |got - want| <= want / 128: the histogram's promise (< 0.8%). */
static void
assert_near(uint64_t got, uint64_t want)
{
	double err = fabs((double)got - (double)want);

	if (err > (double)want / 128.0)
		fail_msg("got %llu, want %llu (+-%.2f)",
			 (unsigned long long)got, (unsigned long long)want,
			 (double)want / 128.0);
}

static void
test_empty_is_zero(void **state)
{
	struct bench_hist h;

	(void)state;
	bench_hist_reset(&h);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 0);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 0);
}

static void
test_constant(void **state)
{
	static struct bench_hist h;

	(void)state;
	bench_hist_reset(&h);
	for (int i = 0; i < 1000; i++)
		bench_hist_add(&h, 12345);
	/* one value: every quantile is that value, exactly (min/max clamp) */
	assert_int_equal(bench_hist_quantile(&h, 0.5), 12345);
	assert_int_equal(bench_hist_quantile(&h, 0.99), 12345);
	assert_int_equal(bench_hist_quantile(&h, 0.999), 12345);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 12345);
	assert_int_equal(h.count, 1000);
}

static void
test_uniform_small_is_exact(void **state)
{
	static struct bench_hist h;

	(void)state;
	/* below 2 * BH_SUB every value has its own bucket: nearest rank */
	bench_hist_reset(&h);
	for (uint64_t v = 1; v <= 200; v++)
		bench_hist_add(&h, v);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 100);
	assert_int_equal(bench_hist_quantile(&h, 0.99), 198);
	assert_int_equal(bench_hist_quantile(&h, 0.005), 1);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 200);
}

static void
test_uniform_large(void **state)
{
	static struct bench_hist h;

	(void)state;
	bench_hist_reset(&h);
	for (uint64_t v = 1; v <= 100000; v++)
		bench_hist_add(&h, v * 10);
	assert_near(bench_hist_quantile(&h, 0.5), 500000);
	assert_near(bench_hist_quantile(&h, 0.99), 990000);
	assert_near(bench_hist_quantile(&h, 0.999), 999000);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 1000000);
	assert_int_equal(h.min, 10);
}

static void
test_two_point(void **state)
{
	static struct bench_hist h;

	(void)state;
	bench_hist_reset(&h);
	for (int i = 0; i < 900; i++)
		bench_hist_add(&h, 1000);
	for (int i = 0; i < 100; i++)
		bench_hist_add(&h, 1000000);
	assert_near(bench_hist_quantile(&h, 0.5), 1000);
	/* the 900th of 1000 values is still the low one, the 901st not */
	assert_near(bench_hist_quantile(&h, 0.90), 1000);
	assert_near(bench_hist_quantile(&h, 0.901), 1000000);
	assert_near(bench_hist_quantile(&h, 0.99), 1000000);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 1000000);
}

/* A value alone in the middle of {1, v, far above}: the median reads v's
 * bucket back, within the promised error, on either side of every edge. */
static void
test_bucket_edges(void **state)
{
	static struct bench_hist h;
	uint64_t edges[] = { 255,	 256,
			     257,	 383,
			     384,	 511,
			     512,	 513,
			     1023,	 1024,
			     1025,	 4096,
			     65535,	 65536,
			     1u << 20,	 (1ull << 20) + 1,
			     1ull << 30, (1ull << 40) - 1,
			     1ull << 40, (1ull << 41) - 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		uint64_t v = edges[i];

		bench_hist_reset(&h);
		bench_hist_add(&h, 1);
		bench_hist_add(&h, v);
		bench_hist_add(&h, 1ull << 42);
		assert_near(bench_hist_quantile(&h, 0.5), v);
		assert_int_equal(bench_hist_quantile(&h, 1.0), 1ull << 42);
	}
	/* a sweep over every magnitude, 1.1x apart */
	for (double d = 300; d < 1e12; d *= 1.1) {
		bench_hist_reset(&h);
		bench_hist_add(&h, 1);
		bench_hist_add(&h, (uint64_t)d);
		bench_hist_add(&h, 1ull << 42);
		assert_near(bench_hist_quantile(&h, 0.5), (uint64_t)d);
	}
}

static void
test_beyond_range_is_clamped(void **state)
{
	static struct bench_hist h;

	(void)state;
	/* past 2^41 ns values share the last bucket; max stays exact */
	bench_hist_reset(&h);
	bench_hist_add(&h, 1ull << 50);
	bench_hist_add(&h, 1ull << 45);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 1ull << 50);
	assert_true(bench_hist_quantile(&h, 0.5) >= 1ull << 45);
	assert_true(bench_hist_quantile(&h, 0.5) <= 1ull << 50);
}

static void
test_median_and_spread(void **state)
{
	double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 };
	double keep[] = { 9, 1, 5 }, sp[] = { 90, 110, 100 };

	(void)state;
	assert_true(bench_median(odd, 3) == 2);
	assert_true(bench_median(even, 4) == 2.5);
	assert_true(bench_median(NULL, 0) == 0);
	/* bench_med leaves its input as it was */
	assert_true(bench_med(keep, 3) == 5);
	assert_true(keep[0] == 9 && keep[1] == 1 && keep[2] == 5);
	assert_true(fabs(bench_spread(sp, 3) - 20.0) < 1e-9);
	assert_true(bench_spread(sp, 1) == 0);
}

/* ---- the report's logic on made-up rows ---------------------------------
 */

static int
nop_open(const struct bench_row *r, struct bench_end *e)
{
	(void)r, (void)e;
	return 0;
}

static const struct bench_row rows[] = {
	{ "unix (raw)", "unix", BK_RAW, 0, NULL, NULL, nop_open, NULL, NULL,
	  NULL, NULL },
	{ "unix (ik_chan)", "unix", BK_OURS, 0, NULL, NULL, nop_open, NULL,
	  NULL, NULL, NULL },
	{ "cache-line floor", "floor", BK_FLOOR, BF_NOPAYLOAD, NULL, NULL,
	  nop_open, NULL, NULL, NULL, NULL },
	{ "ring, zero-copy", "ring-zc", BK_OURS, 0, NULL, NULL, nop_open, NULL,
	  NULL, NULL, NULL },
	{ "zeromq PAIR ipc://", "zmq-ipc", BK_PEER, 0, NULL, NULL, nop_open,
	  NULL, NULL, NULL, NULL },
	{ "pmq (ik_chan)", "pmq", BK_OURS, 0, NULL, NULL, nop_open, NULL, NULL,
	  NULL, NULL },
};

static void
lat(struct bench_result *x, double p50)
{
	x->nlat = 1;
	x->p50[0] = p50;
	x->p99[0] = p50 * 2;
	x->p999[0] = p50 * 3;
	x->max[0] = p50 * 4;
}

static void
test_order_baseline_cells(void **state)
{
	static struct bench_result res[6];
	struct bench_opts o = { .nsizes = 2, .sizes = { 64, 4096 } };
	struct bench_cell c[BENCH_MAX_SIZES + 1];
	int idx[6], k;

	(void)state;
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 6; i++)
		res[i].row = &rows[i];
	lat(&res[0], 10); /* unix raw */
	lat(&res[1], 12); /* unix ours */
	lat(&res[2], 0.5);
	lat(&res[3], 0.6);
	lat(&res[4], 50);
	res[5].state = BR_SKIPPED;
	snprintf(res[5].note, sizeof(res[5].note), "no pmq here");
	res[1].ntput[1] = 1;
	res[1].tput[1][0] = 1000; /* messages/s at 4 KiB */
	res[1].ntput[0] = 0;
	snprintf(res[1].tnote[0], sizeof(res[1].tnote[0]), "refused");

	k = bench_order(res, 6, idx, 6);
	assert_int_equal(k, 5); /* the skipped row has no round trip */
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 3);
	assert_int_equal(idx[2], 0);
	assert_int_equal(idx[3], 1);
	assert_int_equal(idx[4], 4);

	assert_ptr_equal(bench_baseline(res, 6, &res[1]), &res[0]);
	assert_ptr_equal(bench_baseline(res, 6, &res[3]), &res[2]);
	assert_null(bench_baseline(res, 6, &res[0])); /* raw: none */
	assert_null(bench_baseline(res, 6, &res[4])); /* peer: none */
	assert_null(bench_baseline(res, 6, &res[5])); /* no pmq (raw) */

	/* ours: 64 B (round trip, no throughput: its note) and 4 KiB */
	assert_int_equal(bench_cells(&o, &res[1], c, BENCH_MAX_SIZES + 1), 2);
	assert_int_equal(c[0].size, 64);
	assert_true(c[0].rtt_ns[0] == 12000 && c[0].rtt_ns[3] == 48000);
	assert_true(c[0].msgs_per_s < 0);
	assert_string_equal(c[0].note, "refused");
	assert_int_equal(c[1].size, 4096);
	assert_true(c[1].rtt_ns[0] < 0);
	assert_true(c[1].msgs_per_s == 1000 &&
		    c[1].bytes_per_s == 1000.0 * 4096);
	/* a notification row: one cell, size 0 */
	assert_int_equal(bench_cells(&o, &res[2], c, BENCH_MAX_SIZES + 1), 1);
	assert_int_equal(c[0].size, 0);
	assert_true(c[0].rtt_ns[0] == 500);
	/* a skipped row: one cell, no figures, the reason */
	assert_int_equal(bench_cells(&o, &res[5], c, BENCH_MAX_SIZES + 1), 1);
	assert_true(c[0].rtt_ns[0] < 0 && c[0].bytes_per_s < 0);
	assert_string_equal(c[0].note, "no pmq here");
}

/*
 * Paired runs: the block schedule runs each row once a cycle, raw first in
 * even cycles and ours first in odd ones; an ipckit row's twin is its
 * baseline (its raw row; for a ring, the floor) even before anything is
 * measured (the run order needs it then), never a failed row, and a raw,
 * floor or peer row has none; the ratio is the median of the
 * repetitions' and takes over the 64 B ratio (CSV shows it), the other
 * sizes keep the quotient of the rows' own figures.
 */
static void
test_pairing(void **state)
{
	static struct bench_result res[6];
	struct bench_opts o = { .nsizes = 1, .sizes = { 64 } };
	struct bench_refs ref = { 0 };
	char *text = NULL, *line;
	size_t len = 0;
	FILE *f;

	(void)state;
	for (long c = 0; c < 6; c++) {
		assert_int_equal(bench_pair_slot(c, 0), c % 2);
		assert_int_equal(bench_pair_slot(c, 1), 1 - c % 2);
	}
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 6; i++)
		res[i].row = &rows[i];
	/* nothing measured yet */
	assert_ptr_equal(bench_pair_twin(res, 6, &res[1]), &res[0]);
	assert_null(bench_pair_twin(res, 6, &res[0])); /* raw: none */
	assert_null(bench_pair_twin(res, 6, &res[2])); /* floor: none */
	assert_null(bench_pair_twin(res, 6, &res[4])); /* peer: none */
	assert_ptr_equal(bench_pair_twin(res, 6, &res[3]), &res[2]); /* ring */
	assert_null(bench_pair_twin(res, 6, &res[5])); /* no pmq (raw) */
	res[0].state = BR_FAILED;
	assert_null(bench_pair_twin(res, 6, &res[1]));
	res[0].state = BR_OK;
	res[2].state = BR_SKIPPED;
	assert_null(bench_pair_twin(res, 6, &res[3]));
	res[2].state = BR_OK;

	assert_true(bench_pair_ratio(&res[1]) < 0);
	res[1].npair = 3;
	res[1].pair_ratio[0] = 1.25;
	res[1].pair_ratio[1] = 0.5;
	res[1].pair_ratio[2] = 1.0;
	assert_true(bench_pair_ratio(&res[1]) == 1.0);
	assert_true(res[1].pair_ratio[0] == 1.25); /* not reordered */

	lat(&res[0], 10);
	lat(&res[1], 12); /* apart: 1.2x; paired: 1.0x */
	assert_non_null(f = open_memstream(&text, &len));
	bench_csv(f, &o, res, 2, &ref);
	assert_int_equal(fclose(f), 0);
	line = strstr(text, "\n\"unix (ik_chan)\",");
	assert_non_null(line);
	assert_non_null(strstr(line, ",\"unix (raw)\",1.000,"));
	free(text);

	res[1].npair = 0; /* no paired run: the rows' own figures */
	text = NULL;
	assert_non_null(f = open_memstream(&text, &len));
	bench_csv(f, &o, res, 2, &ref);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, ",\"unix (raw)\",1.200,"));
	free(text);
}

/*
 * The reading says when the floor moved between repetitions (the machine
 * changed state mid-run), with the two figures, and says nothing when the
 * floor held still.
 */
static void
test_reading_floor_moved(void **state)
{
	static struct bench_result res[6];
	struct bench_opts o = { .nsizes = 1, .sizes = { 64 } };
	struct bench_refs ref = { 0 };
	static const double moved[] = { 0.12, 0.45, 0.46 };
	static const double still[] = { 0.45, 0.46, 0.45 };
	char buf[4096];

	(void)state;
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 6; i++)
		res[i].row = &rows[i];
	res[5].state = BR_SKIPPED; /* one unmeasured row: ignored */
	lat(&res[0], 10);
	lat(&res[1], 11);
	res[2].nlat = 3;
	memcpy(res[2].p50, moved, sizeof(moved));
	bench_reading(buf, sizeof(buf), &o, res, 6, &ref);
	assert_non_null(strstr(buf, "changed state"));
	assert_non_null(strstr(buf, "from 0.12 us to 0.46 us"));
	memcpy(res[2].p50, still, sizeof(still));
	bench_reading(buf, sizeof(buf), &o, res, 6, &ref);
	assert_null(strstr(buf, "changed state"));
	assert_non_null(strstr(buf, "Fastest here: unix (raw)"));
}

/*
 * The streams' payload: every length from 0 to 300 and some odd large ones
 * round-trip through fill and check; one changed byte anywhere, a message
 * of another sequence number, or a stale one (previous lap) fails.
 */
static void
test_payload_fill_check(void **state)
{
	static const size_t big[] = { 4096, 4099, 65536 + 5, 1u << 20 };
	unsigned char *b = malloc((1u << 20) + 64);

	(void)state;
	assert_non_null(b);
	for (size_t len = 0; len <= 300; len++) {
		/* misaligned too: records put payloads on 16-byte offsets */
		unsigned char *p = b + (len % 3) * 5;

		bench_fill(p, len, 1000 + len);
		assert_true(bench_check(p, len, 1000 + len));
		if (len == 0)
			continue;
		assert_false(bench_check(p, len, 999 + len));
		for (size_t i = 0; i < len; i++) {
			p[i] ^= 0x10;
			if (bench_check(p, len, 1000 + len))
				fail_msg("len %zu: byte %zu flipped, not seen",
					 len, i);
			p[i] ^= 0x10;
		}
	}
	for (size_t k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
		size_t len = big[k];

		bench_fill(b, len, 7);
		assert_true(bench_check(b, len, 7));
		b[len - 1] ^= 1;
		assert_false(bench_check(b, len, 7));
		b[len - 1] ^= 1;
		b[len / 2] ^= 0x80;
		assert_false(bench_check(b, len, 7));
		b[len / 2] ^= 0x80;
		/* the same bytes but another message's number */
		memcpy(b, &(uint64_t){ 8 }, 8);
		assert_false(bench_check(b, len, 8));
	}
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_zero),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_uniform_small_is_exact),
		cmocka_unit_test(test_uniform_large),
		cmocka_unit_test(test_two_point),
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_beyond_range_is_clamped),
		cmocka_unit_test(test_median_and_spread),
		cmocka_unit_test(test_order_baseline_cells),
		cmocka_unit_test(test_pairing),
		cmocka_unit_test(test_reading_floor_moved),
		cmocka_unit_test(test_payload_fill_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
