/*
 * The shared-memory cache between real processes: values written by one
 * process read by another; SET's NX/XX/KEEPTTL, INCRBY, EXPIRE/TTL/PERSIST;
 * four processes (and, for ThreadSanitizer, four threads) hammering
 * overlapping keys with exact INCR totals and never a torn value; TTL
 * expiry across processes; eviction under a small cap keeping recently used
 * keys; SCAN visiting every key once; zero-copy peek; stats; bad input.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <ipckit/cache.h>
#include <ipckit/error.h>
#include <ipckit/shm.h>

#include "ikt.h"
#include "internal/time.h"

static char name[64];
static ik_cache *c;

static int
setup(void **state)
{
	char n[48];

	(void)state;
	ikt_name(n, sizeof(n), "cache");
	snprintf(name, sizeof(name), "/%s", n);
	return 0;
}

/* Whatever a test made is removed here, also after a failed assertion. */
static int
teardown(void **state)
{
	(void)state;
	ik_cache_close(c);
	c = NULL;
	ik_cache_unlink(name);
	return 0;
}

static void
mk(size_t size, unsigned stripes)
{
	assert_int_equal(ik_cache_create(&c, name, size, stripes, 0), 0);
}

#define S(x) x, strlen(x)

static int
get_str(ik_cache *h, const char *key, char *buf, size_t cap)
{
	ssize_t n = ik_cache_get(h, key, strlen(key), buf, cap - 1);

	if (n >= 0 && (size_t)n < cap)
		buf[n] = '\0';
	return (int)n;
}

/* A child opens the cache by name and writes; the parent reads. */
static void
test_set_get_across_processes(void **state)
{
	struct ikt_sync done;
	char buf[256];
	pid_t pid;

	(void)state;
	mk(1 << 20, 0);
	ikt_sync_init(&done);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ik_cache *h;

		IKT_CHECK(ik_cache_open(&h, name) == 0);
		IKT_CHECK(ik_cache_set(h, S("greeting"), S("hello"), 0, 0) ==
			  0);
		IKT_CHECK(ik_cache_set(h, S("gone"), S("x"), 0, 0) == 0);
		IKT_CHECK(ik_cache_set(h, "", 0, S("empty key"), 0, 0) == 0);
		IKT_CHECK(ik_cache_set(h, S("empty"), "", 0, 0, 0) == 0);
		ik_cache_close(h);
		ikt_post(&done);
		_exit(0);
	}
	assert_int_equal(ikt_await(&done, IKT_WAIT_MS), 0);
	ikt_assert_child_ok(pid);
	assert_int_equal(get_str(c, "greeting", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(ik_cache_get(c, "", 0, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "empty key", 9);
	assert_int_equal(get_str(c, "empty", buf, sizeof(buf)), 0);
	assert_int_equal(ik_cache_exists(c, S("gone")), 1);
	assert_int_equal(ik_cache_del(c, S("gone")), 1);
	assert_int_equal(ik_cache_del(c, S("gone")), 0);
	assert_int_equal(ik_cache_exists(c, S("gone")), 0);
	assert_int_equal(get_str(c, "gone", buf, sizeof(buf)), -ENOENT);
	/* a short buffer: the full length back, a truncated copy */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ik_cache_get(c, S("greeting"), buf, 3), 5);
	assert_memory_equal(buf, "hel\0", 4);
	assert_int_equal(ik_cache_dbsize(c), 3);
	/* overwrite: one key, the new value */
	assert_int_equal(ik_cache_set(c, S("greeting"), S("bonjour"), 0, 0), 0);
	assert_int_equal(get_str(c, "greeting", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "bonjour");
	assert_int_equal(ik_cache_dbsize(c), 3);
	assert_int_equal(ik_cache_check(c, 0), 0);
	ikt_sync_close(&done);
}

static void
test_set_options_and_incr(void **state)
{
	char buf[64];
	int64_t v, ttl;
	pid_t pid;

	(void)state;
	mk(1 << 20, 0);
	assert_int_equal(ik_cache_set(c, S("k"), S("1"), 0, IK_CACHE_XX),
			 -ENOENT);
	assert_int_equal(ik_cache_set(c, S("k"), S("1"), 0, IK_CACHE_NX), 0);
	assert_int_equal(ik_cache_set(c, S("k"), S("2"), 0, IK_CACHE_NX),
			 -EEXIST);
	assert_int_equal(ik_cache_set(c, S("k"), S("3"), 0, IK_CACHE_XX), 0);
	assert_int_equal(get_str(c, "k", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "3");
	/* KEEPTTL keeps it, a plain SET clears it (as Redis) */
	assert_int_equal(ik_cache_set(c, S("t"), S("a"), 100000, 0), 0);
	assert_int_equal(ik_cache_set(c, S("t"), S("b"), 0, IK_CACHE_KEEPTTL),
			 0);
	assert_int_equal(ik_cache_ttl(c, S("t"), &ttl), 0);
	assert_true(ttl > 0 && ttl <= 100000);
	assert_int_equal(ik_cache_set(c, S("t"), S("c"), 0, 0), 0);
	assert_int_equal(ik_cache_ttl(c, S("t"), &ttl), 0);
	assert_int_equal(ttl, -1);
	/* INCRBY in another process; results seen here */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int64_t r;

		IKT_CHECK(ik_cache_incrby(c, S("n"), 5, &r) == 0 && r == 5);
		IKT_CHECK(ik_cache_incrby(c, S("n"), -7, &r) == 0 && r == -2);
		IKT_CHECK(ik_cache_set(c, S("big"), S("9223372036854775806"), 0,
				       0) == 0);
		IKT_CHECK(ik_cache_incrby(c, S("big"), 1, &r) == 0 &&
			  r == INT64_MAX);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(get_str(c, "n", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "-2");
	v = 0;
	assert_int_equal(ik_cache_incrby(c, S("big"), 1, &v), -ERANGE);
	assert_int_equal(v, 0); /* not written on failure */
	assert_int_equal(get_str(c, "big", buf, sizeof(buf)), 19);
	assert_string_equal(buf, "9223372036854775807");
	assert_int_equal(
		ik_cache_set(c, S("min"), S("-9223372036854775808"), 0, 0), 0);
	assert_int_equal(ik_cache_incrby(c, S("min"), -1, &v), -ERANGE);
	assert_int_equal(ik_cache_incrby(c, S("min"), 1, &v), 0);
	assert_int_equal(v, INT64_MIN + 1);
	static const char *const bad[] = { "abc",
					   "1x",
					   "",
					   "-",
					   " 1",
					   "99999999999999999999",
					   "123456789012345678901" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ik_cache_set(c, S("s"), S(bad[i]), 0, 0), 0);
		assert_int_equal(ik_cache_incrby(c, S("s"), 1, &v), -EINVAL);
		assert_int_equal(get_str(c, "s", buf, sizeof(buf)),
				 (int)strlen(bad[i]));
	}
	/* INCR keeps the time to live */
	assert_int_equal(ik_cache_set(c, S("ct"), S("10"), 100000, 0), 0);
	assert_int_equal(ik_cache_incrby(c, S("ct"), 1, &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(ik_cache_ttl(c, S("ct"), &ttl), 0);
	assert_true(ttl > 0);
	assert_int_equal(ik_cache_check(c, 0), 0);
}

/*
 * A child sets keys with a time to live; the parent sees them, then waits
 * (polling, bounded) until they are gone, never earlier than their TTL.
 */
static void
test_ttl_expiry_across_processes(void **state)
{
	enum { TTL = 300 };
	struct ikt_sync done;
	char buf[16];
	int64_t t0, ttl;
	pid_t pid;

	(void)state;
	mk(1 << 20, 0);
	ikt_sync_init(&done);
	t0 = ik__now_ns();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_cache_set(c, S("short"), S("v"), TTL, 0) == 0);
		IKT_CHECK(ik_cache_set(c, S("later"), S("v"), 0, 0) == 0);
		IKT_CHECK(ik_cache_expire(c, S("later"), TTL) == 1);
		IKT_CHECK(ik_cache_set(c, S("kept"), S("v"), TTL, 0) == 0);
		IKT_CHECK(ik_cache_persist(c, S("kept")) == 1);
		IKT_CHECK(ik_cache_persist(c, S("kept")) == 0);
		IKT_CHECK(ik_cache_expire(c, S("nokey"), TTL) == 0);
		ikt_post(&done);
		_exit(0);
	}
	assert_int_equal(ikt_await(&done, IKT_WAIT_MS), 0);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_cache_ttl(c, S("short"), &ttl), 0);
	assert_true(ttl >= 0 && ttl <= TTL);
	assert_int_equal(ik_cache_ttl(c, S("kept"), &ttl), 0);
	assert_int_equal(ttl, -1);
	assert_int_equal(ik_cache_ttl(c, S("nokey"), &ttl), -ENOENT);
	for (;;) {
		int a = get_str(c, "short", buf, sizeof(buf));
		int b = ik_cache_exists(c, S("later"));

		if (a == -ENOENT && b == 0)
			break;
		assert_true(a == 1 || a == -ENOENT);
		assert_true(ik__now_ns() - t0 < (int64_t)IKT_WAIT_MS * 1000000);
		sched_yield();
	}
	/* gone, and not before its time */
	assert_true(ik__now_ns() - t0 >= (int64_t)TTL * 1000000);
	assert_int_equal(get_str(c, "kept", buf, sizeof(buf)), 1);
	assert_int_equal(ik_cache_ttl(c, S("short"), &ttl), -ENOENT);
	/* touched expired keys are reclaimed, and counted */
	struct ik_cache_stats st;
	assert_int_equal(ik_cache_stats(c, &st), 0);
	assert_int_equal(st.keys, 1);
	assert_int_equal(st.expired, 2);
	/* a non-positive EXPIRE deletes at once */
	assert_int_equal(ik_cache_expire(c, S("kept"), 0), 1);
	assert_int_equal(ik_cache_exists(c, S("kept")), 0);
	assert_int_equal(ik_cache_check(c, 0), 0);
	ikt_sync_close(&done);
}

/* ---- four processes (or threads) on overlapping keys -------------------- */

enum { WORKERS = 4, KEYS = 64, COUNTERS = 4, ROUNDS = 20000 };

/*
 * A value names its key and writer and carries a checksum of its bytes,
 * so a reader can tell any torn or misplaced value.
 */
static size_t
make_value(char *buf, int key, int writer, uint32_t seq)
{
	size_t len = 24 + (seq * 7 + (uint32_t)writer * 13) % 200;
	uint32_t sum = 0;

	memset(buf, 'a' + (int)(seq % 26), len);
	snprintf(buf, 24, "%03d:%d:%010u", key, writer, seq);
	buf[20] = '|';
	for (size_t i = 0; i < len - 4; i++)
		sum = sum * 31 + (unsigned char)buf[i];
	memcpy(buf + len - 4, &sum, 4);
	return len;
}

static int
value_ok(const char *buf, size_t len, int key)
{
	uint32_t sum = 0, got;
	int k;

	if (len < 24 || len > 224 || sscanf(buf, "%03d:", &k) != 1 || k != key)
		return 0;
	for (size_t i = 0; i < len - 4; i++)
		sum = sum * 31 + (unsigned char)buf[i];
	memcpy(&got, buf + len - 4, 4);
	return got == sum;
}

/* One worker's share: returns 0, or the line of the first failure. */
static int
hammer(ik_cache *h, int w, int rounds)
{
	char key[16], val[256], buf[256];
	uint32_t x = 2463534242u * (uint32_t)(w + 1);
	int64_t r;

	for (int i = 0; i < rounds; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		int k = (int)(x % KEYS), op = (int)(x >> 8) % 10;
		snprintf(key, sizeof(key), "key%d", k);
		if (op < 4) {
			size_t n = make_value(val, k, w, (uint32_t)i);
			if (ik_cache_set(h, key, strlen(key), val, n, 0, 0))
				return __LINE__;
		} else if (op < 8) {
			ssize_t n = ik_cache_get(h, key, strlen(key), buf,
						 sizeof(buf));
			if (n == -ENOENT)
				continue;
			if (n < 0 || !value_ok(buf, (size_t)n, k))
				return __LINE__;
		} else if (op < 9) {
			if (ik_cache_del(h, key, strlen(key)) < 0)
				return __LINE__;
		} else {
			snprintf(key, sizeof(key), "ctr%d",
				 (int)(x >> 20) % COUNTERS);
			if (ik_cache_incrby(h, key, strlen(key), 1, &r) < 0 ||
			    r <= 0)
				return __LINE__;
		}
	}
	return 0;
}

/* Expected INCRs per worker: replay its generator. */
static int64_t
incrs_of(int w, int rounds)
{
	uint32_t x = 2463534242u * (uint32_t)(w + 1);
	int64_t n = 0;

	for (int i = 0; i < rounds; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if ((int)(x >> 8) % 10 >= 9)
			n++;
	}
	return n;
}

static void
check_totals(int rounds)
{
	int64_t want = 0, got = 0;
	char key[16], buf[32];

	for (int w = 0; w < WORKERS; w++)
		want += incrs_of(w, rounds);
	for (int k = 0; k < COUNTERS; k++) {
		snprintf(key, sizeof(key), "ctr%d", k);
		if (get_str(c, key, buf, sizeof(buf)) > 0)
			got += strtoll(buf, NULL, 10);
	}
	assert_true(want > 0);
	assert_int_equal(got, want);
	for (int k = 0; k < KEYS; k++) {
		snprintf(key, sizeof(key), "key%d", k);
		ssize_t n = ik_cache_get(c, key, strlen(key), buf, 0);
		assert_true(n == -ENOENT || (n >= 24 && n <= 224));
	}
	assert_int_equal(ik_cache_check(c, 0), 0);
}

static void
test_four_processes_hammer(void **state)
{
	struct ik_cache_stats st;
	pid_t pid[WORKERS];

	(void)state;
	/* 4 stripes, and small: eviction runs during the storm too */
	mk(256 << 10, 4);
	for (int w = 0; w < WORKERS; w++) {
		pid[w] = fork();
		assert_true(pid[w] >= 0);
		if (pid[w] == 0) {
			ik_cache *h;
			int line;

			IKT_CHECK(ik_cache_open(&h, name) == 0);
			line = hammer(h, w, ROUNDS);
			if (line)
				fprintf(stderr, "worker %d: line %d\n", w,
					line);
			IKT_CHECK(line == 0);
			ik_cache_close(h);
			_exit(0);
		}
	}
	for (int w = 0; w < WORKERS; w++)
		ikt_assert_child_ok(pid[w]);
	check_totals(ROUNDS);
	assert_int_equal(ik_cache_stats(c, &st), 0);
	assert_true(st.hits > 0 && st.misses > 0);
	assert_true(st.mem_used <= st.mem_limit);
}

struct worker {
	int w, line;
};

static void *
hammer_thread(void *arg)
{
	struct worker *wk = arg;

	wk->line = hammer(c, wk->w, ROUNDS / 4);
	return NULL;
}

/* The same with threads of one process: what ThreadSanitizer can see. */
static void
test_four_threads_hammer(void **state)
{
	struct worker wk[WORKERS];
	pthread_t t[WORKERS];
	pid_t pid;

	(void)state;
	mk(256 << 10, 4);
	for (int w = 0; w < WORKERS; w++) {
		wk[w].w = w;
		assert_int_equal(
			pthread_create(&t[w], NULL, hammer_thread, &wk[w]), 0);
	}
	for (int w = 0; w < WORKERS; w++) {
		pthread_join(t[w], NULL);
		assert_int_equal(wk[w].line, 0);
	}
	check_totals(ROUNDS / 4);
	/* and another process sees the same counters */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ik_cache *h;

		IKT_CHECK(ik_cache_open(&h, name) == 0);
		IKT_CHECK(ik_cache_check(h, 0) == 0);
		IKT_CHECK(ik_cache_exists(h, S("ctr0")) == 1);
		ik_cache_close(h);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
}

/*
 * Eviction under a small cap: a child keeps 16 keys hot while writing 20x
 * the cache's size in new keys. The cache stays within its cap, evicts,
 * and the hot keys survive while the oldest cold ones are gone.
 */
static void
test_eviction_keeps_hot_keys(void **state)
{
	enum { HOT = 16 };
	struct ik_cache_stats st;
	char key[32], buf[256];
	int cold;
	pid_t pid;

	(void)state;
	mk(128 << 10, 1);
	assert_int_equal(ik_cache_stats(c, &st), 0);
	cold = (int)(st.mem_limit * 20 / 150);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char v[100];
		ik_cache *h;

		IKT_CHECK(ik_cache_open(&h, name) == 0);
		for (int i = 0; i < HOT; i++) {
			snprintf(key, sizeof(key), "hot%d", i);
			memset(v, 'h', sizeof(v));
			IKT_CHECK(ik_cache_set(h, key, strlen(key), v,
					       sizeof(v), 0, 0) == 0);
		}
		for (int i = 0; i < cold; i++) {
			snprintf(key, sizeof(key), "cold%d", i);
			memset(v, 'c', sizeof(v));
			IKT_CHECK(ik_cache_set(h, key, strlen(key), v,
					       sizeof(v), 0, 0) == 0);
			if (i % 64 == 0)
				for (int j = 0; j < HOT; j++) {
					snprintf(key, sizeof(key), "hot%d", j);
					IKT_CHECK(ik_cache_get(h, key,
							       strlen(key), v,
							       sizeof(v)) ==
						  sizeof(v));
				}
		}
		ik_cache_close(h);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_cache_stats(c, &st), 0);
	assert_true(st.evictions > 0);
	assert_true(st.mem_used <= st.mem_limit);
	assert_true(st.mem_live <= st.mem_limit);
	assert_true(st.keys > 100 && st.keys < (uint64_t)cold / 10);
	for (int j = 0; j < HOT; j++) {
		snprintf(key, sizeof(key), "hot%d", j);
		assert_int_equal(ik_cache_get(c, key, strlen(key), buf, 100),
				 100);
		assert_int_equal(buf[0], 'h');
	}
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "cold%d", i);
		assert_int_equal(ik_cache_exists(c, key, strlen(key)), 0);
	}
	snprintf(key, sizeof(key), "cold%d", cold - 1);
	assert_int_equal(ik_cache_exists(c, key, strlen(key)), 1);
	assert_int_equal(ik_cache_check(c, 0), 0);
}

struct seen {
	unsigned char hit[2000];
	int dup, bad, n;
};

static int
on_entry(const void *key, size_t klen, const void *val, size_t vlen,
	 int64_t ttl, void *arg)
{
	struct seen *s = arg;
	char k[32], v[32];
	int i;

	snprintf(k, sizeof(k), "%.*s", (int)klen, (const char *)key);
	snprintf(v, sizeof(v), "%.*s", (int)vlen, (const char *)val);
	if (sscanf(k, "k%d", &i) != 1 || i < 0 || i >= 2000 ||
	    strcmp(v + 1, k) != 0 || v[0] != 'v' || ttl != (i % 2 ? -1 : ttl) ||
	    (i % 2 == 0 && ttl <= 0)) {
		s->bad++;
		return 0;
	}
	if (s->hit[i]++)
		s->dup++;
	s->n++;
	return 0;
}

/* A child fills the cache; the parent scans it in small steps. */
static void
test_scan_visits_every_key_once(void **state)
{
	static struct seen s;
	uint64_t cursor = 0;
	int calls = 0, r;
	pid_t pid;

	(void)state;
	mk(4 << 20, 4);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char k[16], v[16];

		for (int i = 0; i < 2000; i++) {
			snprintf(k, sizeof(k), "k%d", i);
			snprintf(v, sizeof(v), "vk%d", i);
			IKT_CHECK(ik_cache_set(c, k, strlen(k), v, strlen(v),
					       i % 2 ? 0 : 100000, 0) == 0);
		}
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	memset(&s, 0, sizeof(s));
	do {
		r = ik_cache_scan(c, &cursor, 10, on_entry, &s);
		assert_true(r >= 0);
		calls++;
	} while (cursor != 0);
	assert_true(calls > 100);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.dup, 0);
	assert_int_equal(s.n, 2000);
	assert_int_equal(ik_cache_dbsize(c), 2000);
	assert_int_equal(ik_cache_flushall(c), 0);
	assert_int_equal(ik_cache_dbsize(c), 0);
	cursor = 0;
	memset(&s, 0, sizeof(s));
	do
		assert_true(ik_cache_scan(c, &cursor, 100, on_entry, &s) >= 0);
	while (cursor != 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ik_cache_check(c, 0), 0);
}

/* Zero-copy: valid until another process writes to the stripe. */
static void
test_peek_zero_copy(void **state)
{
	const void *p;
	uint64_t ticket;
	ssize_t n;
	pid_t pid;

	(void)state;
	mk(1 << 20, 1);
	assert_int_equal(ik_cache_set(c, S("z"), S("zero-copy"), 0, 0), 0);
	n = ik_cache_peek(c, S("z"), &p, &ticket);
	assert_int_equal(n, 9);
	assert_memory_equal(p, "zero-copy", 9);
	assert_int_equal(ik_cache_peek_valid(c, ticket), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_cache_set(c, S("other"), S("x"), 0, 0) == 0);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	/* one stripe: the child's write invalidates the ticket */
	assert_int_equal(ik_cache_peek_valid(c, ticket), 0);
	n = ik_cache_peek(c, S("z"), &p, &ticket);
	assert_int_equal(n, 9);
	assert_memory_equal(p, "zero-copy", 9);
	assert_int_equal(ik_cache_peek_valid(c, ticket), 1);
	assert_int_equal(ik_cache_peek(c, S("none"), &p, &ticket), -ENOENT);
	assert_int_equal(ik_cache_peek_valid(c, (uint64_t)99 << 32), -EINVAL);
}

static void
test_stats_count_hits_and_misses(void **state)
{
	struct ik_cache_stats st;
	char buf[8];
	pid_t pid;

	(void)state;
	mk(1 << 20, 2);
	assert_int_equal(ik_cache_set(c, S("a"), S("1"), 0, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			IKT_CHECK(ik_cache_get(c, S("a"), buf, 8) == 1);
		IKT_CHECK(ik_cache_get(c, S("b"), buf, 8) == -ENOENT);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_cache_stats(c, &st), 0);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.keys, 1);
	assert_int_equal(st.stripes, 2);
	assert_int_equal(st.mem_limit, 1 << 20);
	assert_true(st.mem_live >= 32 && st.mem_used > st.mem_live);
	assert_true(st.item_max > 1000);
	assert_int_equal(st.evictions, 0);
}

static void
test_bad_input(void **state)
{
	ik_cache *h = NULL;
	struct ik_cache_stats st;
	char *big;
	int64_t v;

	(void)state;
	assert_int_equal(ik_cache_create(NULL, name, 1 << 20, 0, 0), -EINVAL);
	assert_int_equal(ik_cache_create(&h, name, 1000, 0, 0), -EINVAL);
	assert_int_equal(ik_cache_create(&h, name, 1 << 20, 3, 0), -EINVAL);
	assert_int_equal(ik_cache_create(&h, name, 1 << 20, 512, 0), -EINVAL);
	assert_int_equal(ik_cache_create(&h, name, 1 << 20, 0, 0x80), -EINVAL);
	assert_int_equal(ik_cache_create(&h, "noslash", 1 << 20, 0, 0),
			 -EINVAL);
	assert_null(h);
	assert_int_equal(ik_cache_open(&h, name), -ENOENT);
	assert_int_equal(ik_cache_open(&h, NULL), -EINVAL);
	mk(1 << 20, 0);
	assert_int_equal(ik_cache_create(&h, name, 1 << 20, 0, 0), -EEXIST);
	assert_int_equal(ik_cache_set(c, NULL, 3, S("v"), 0, 0), -EINVAL);
	assert_int_equal(ik_cache_set(c, S("k"), NULL, 3, 0, 0), -EINVAL);
	assert_int_equal(ik_cache_set(c, S("k"), S("v"), -1, 0), -EINVAL);
	assert_int_equal(
		ik_cache_set(c, S("k"), S("v"), 0, IK_CACHE_NX | IK_CACHE_XX),
		-EINVAL);
	assert_int_equal(ik_cache_set(c, S("k"), S("v"), 0, 0x100), -EINVAL);
	assert_int_equal(ik_cache_stats(c, &st), 0);
	big = calloc(1, st.item_max + IK_CACHE_KEY_MAX + 2);
	assert_non_null(big);
	assert_int_equal(
		ik_cache_set(c, big, IK_CACHE_KEY_MAX + 1, S("v"), 0, 0),
		-EMSGSIZE);
	assert_int_equal(ik_cache_set(c, S("k"), big, st.item_max, 0, 0),
			 -EMSGSIZE);
	/* the largest item that fits does fit */
	assert_int_equal(
		ik_cache_set(c, S("k"), big, st.item_max - 28 - 1, 0, 0), 0);
	free(big);
	assert_int_equal(ik_cache_get(c, S("k"), NULL, 5), -EINVAL);
	assert_int_equal(ik_cache_get(NULL, S("k"), NULL, 0), -EINVAL);
	assert_int_equal(ik_cache_incrby(c, S("k"), 1, NULL), -EINVAL);
	assert_int_equal(ik_cache_incrby(c, S("k"), 1, &v), -EINVAL);
	assert_int_equal(ik_cache_ttl(c, S("k"), NULL), -EINVAL);
	assert_int_equal(
		ik_cache_scan(c, &(uint64_t){ 1ull << 40 }, 1, on_entry, NULL),
		-EINVAL);
	assert_int_equal(ik_cache_check(c, 0x80), -EINVAL);
	assert_int_equal(ik_cache_dbsize(NULL), -EINVAL);
	ik_cache_close(NULL);
}

/* An anonymous cache is shared with a child through fork alone. */
static void
test_anonymous_cache(void **state)
{
	ik_cache *a;
	char buf[8];
	pid_t pid;

	(void)state;
	assert_int_equal(ik_cache_create(&a, NULL, 1 << 20, 0, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_cache_set(a, S("anon"), S("yes"), 0, 0) == 0);
		ik_cache_close(a);
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_cache_get(a, S("anon"), buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "yes", 3);
	ik_cache_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_set_get_across_processes),
		T(test_set_options_and_incr),
		T(test_ttl_expiry_across_processes),
		T(test_four_processes_hammer),
		T(test_four_threads_hammer),
		T(test_eviction_keeps_hot_keys),
		T(test_scan_visits_every_key_once),
		T(test_peek_zero_copy),
		T(test_stats_count_hits_and_misses),
		T(test_bad_input),
		T(test_anonymous_cache),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
