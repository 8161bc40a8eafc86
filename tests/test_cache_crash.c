/*
 * The cache against crashes and hostile bytes: a writer SIGKILLed 200 times
 * at random moments (inside sets, deletes, INCRs, evictions) while another
 * process keeps writing: the survivor never hangs, every lock recovers, the
 * check passes after each kill and no acknowledged write is lost. Random
 * bytes scribbled into the header, index, data and stripe counters give
 * IK_ECORRUPT or working calls, never a crash (ASan), and a repair; a
 * segment of another format, version or size is IK_EFORMAT.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/cache.h>
#include <ipckit/error.h>
#include <ipckit/ring.h>
#include <ipckit/shm.h>

#include "ikt.h"
#include "internal/cache.h"

static char name[64];
static ik_cache *c;
static pid_t kids[4];
static uint32_t victim_keys = 200;

static int
setup(void **state)
{
	char n[48];

	(void)state;
	ikt_name(n, sizeof(n), "cachecrash");
	snprintf(name, sizeof(name), "/%s", n);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	ik_cache_close(c);
	c = NULL;
	ik_cache_unlink(name);
	return 0;
}

static uint32_t
rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* The victim: writes forever, every kind of change, random sizes. */
static void __attribute__((noreturn))
victim(ik_cache *h, struct ikt_sync *started, uint32_t seed)
{
	static char val[1600];
	char key[16];
	int64_t r;

	memset(val, 'v', sizeof(val));
	ikt_post(started);
	for (;;) {
		uint32_t x = rnd(&seed);
		snprintf(key, sizeof(key), "v%u", x % victim_keys);
		switch (x >> 24 & 7) {
		case 0:
		case 1:
		case 2:
			ik_cache_set(h, key, strlen(key), val, 1 + x % 1500, 0,
				     0);
			break;
		case 3:
			ik_cache_set(h, key, strlen(key), val, 1 + x % 300,
				     1 + x % 50, 0);
			break;
		case 4:
			ik_cache_del(h, key, strlen(key));
			break;
		case 5:
			ik_cache_incrby(h, "vctr", 4, 1, &r);
			break;
		case 6:
			ik_cache_expire(h, key, strlen(key), 1000);
			break;
		default:
			ik_cache_get(h, key, strlen(key), val, 8);
			break;
		}
	}
}

/*
 * The survivor: overwrites 500 keys in turn and INCRs a counter, remembers
 * what was acknowledged, and checks it all back, until the parent closes
 * its pipe. Any error (a lock that timed out included) fails it.
 */
static void __attribute__((noreturn)) survivor(int stop_fd)
{
	enum { N = 500 };
	static uint32_t acked[N];
	char key[16], val[64], buf[64];
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };
	int64_t incrs = 0, r;
	ik_cache *h;

	IKT_CHECK(ik_cache_open(&h, name) == 0);
#ifndef IK__TSAN /* see DEFAULT_LOCK_MS in lib/cache.c */
	ik_cache_set_lock_timeout(h, IKT_WAIT_MS);
#endif
	for (uint32_t seq = 1;; seq++) {
		int k = (int)(seq % N);

		snprintf(key, sizeof(key), "s%d", k);
		int n = snprintf(val, sizeof(val), "%s=%u", key, seq);
		IKT_CHECK(ik_cache_set(h, key, strlen(key), val, (size_t)n, 0,
				       0) == 0);
		acked[k] = seq;
		IKT_CHECK(ik_cache_incrby(h, "sctr", 4, 1, &r) == 0);
		IKT_CHECK(r == ++incrs);
		if (seq % 64 == 0 && poll(&p, 1, 0) == 1)
			break;
	}
	for (int k = 0; k < N; k++) {
		snprintf(key, sizeof(key), "s%d", k);
		int n = snprintf(val, sizeof(val), "%s=%u", key, acked[k]);
		ssize_t got =
			ik_cache_get(h, key, strlen(key), buf, sizeof(buf));
		if (acked[k] == 0)
			continue;
		IKT_CHECK(got == n && memcmp(buf, val, (size_t)n) == 0);
	}
	ssize_t n = ik_cache_get(h, "sctr", 4, buf, sizeof(buf) - 1);
	IKT_CHECK(n > 0 && n < (ssize_t)sizeof(buf));
	buf[n] = '\0';
	if (strtoll(buf, NULL, 10) != incrs)
		fprintf(stderr, "sctr %s, acknowledged %lld\n", buf,
			(long long)incrs);
	IKT_CHECK(strtoll(buf, NULL, 10) == incrs);
	IKT_CHECK(ik_cache_check(h, 0) == 0);
	ik_cache_close(h);
	_exit(0);
}

static void
kill_rounds(int rounds, int max_delay_us, bool with_survivor)
{
	struct ik_cache_stats st;
	uint32_t seed = (uint32_t)getpid() * 2654435761u | 1;
	int stop[2] = { -1, -1 }, r;

	print_message("seed %u\n", seed);
	if (with_survivor) {
		assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
		kids[0] = fork();
		assert_true(kids[0] >= 0);
		if (kids[0] == 0) {
			close(stop[1]);
			survivor(stop[0]);
		}
		close(stop[0]);
	}
	for (int i = 0; i < rounds; i++) {
		struct ikt_sync started;
		struct timespec d = {
			0, (long)(rnd(&seed) % (uint32_t)max_delay_us) * 1000
		};

		ikt_sync_init(&started);
		kids[1] = fork();
		assert_true(kids[1] >= 0);
		if (kids[1] == 0)
			victim(c, &started, rnd(&seed) | 1);
		assert_int_equal(ikt_await(&started, IKT_WAIT_MS), 0);
		nanosleep(&d, NULL); /* fault injection, not synchronization */
		assert_int_equal(kill(kids[1], SIGKILL), 0);
		assert_int_equal(waitpid(kids[1], &r, 0), kids[1]);
		assert_true(WIFSIGNALED(r) && WTERMSIG(r) == SIGKILL);
		kids[1] = 0;
		ikt_sync_close(&started);
		/* locks every stripe: a dead holder's is repaired first */
		r = ik_cache_check(c, 0);
		if (r != 0)
			fail_msg("round %d: check %s", i, ik_strerror(r));
	}
	if (with_survivor) {
		close(stop[1]);
		ikt_assert_child_ok(kids[0]);
		kids[0] = 0;
	}
	assert_int_equal(ik_cache_stats(c, &st), 0);
	print_message("recoveries %llu evictions %llu\n",
		      (unsigned long long)st.recoveries,
		      (unsigned long long)st.evictions);
	/* the kills did land inside locked changes */
	assert_true(st.recoveries > 0);
	assert_true(st.mem_used <= st.mem_limit);
}

static void
test_sigkill_writer_200_times(void **state)
{
	(void)state;
	assert_int_equal(ik_cache_create(&c, name, 4 << 20, 4, 0), 0);
	kill_rounds(200, 3000, true);
}

/* Small and full: the kills land inside evictions too. */
static void
test_sigkill_while_evicting(void **state)
{
	struct ik_cache_stats st;

	(void)state;
	assert_int_equal(ik_cache_create(&c, name, 256 << 10, 1, 0), 0);
	victim_keys = 2000;
	kill_rounds(60, 3000, false);
	victim_keys = 200;
	assert_int_equal(ik_cache_stats(c, &st), 0);
	assert_true(st.evictions > 0);
}

/* ---- scribbling ------------------------------------------------------ */

enum region { HEADER, BUCKETS, ARENA, STRIPE_FIELDS, EVERYWHERE, NREGIONS };

static void
scribble(enum region where, uint32_t seed)
{
	unsigned char *base = (unsigned char *)ik__cache_hdr(c);
	uint32_t i = seed % c->nstripes;
	unsigned char *lo, *hi;

	switch (where) {
	case HEADER:
		lo = base;
		hi = base + sizeof(struct ik__cache_hdr);
		break;
	case BUCKETS:
		lo = (unsigned char *)ik__cache_buckets(c, i);
		hi = lo + c->nbuckets * 4;
		break;
	case ARENA:
		lo = ik__cache_arena(c, i);
		hi = lo + 8192; /* where the records are */
		break;
	case STRIPE_FIELDS: /* head, tail, keys, live: not the lock */
		lo = (unsigned char *)&ik__cache_stripe(c, i)->head;
		hi = lo + 32;
		break;
	default:
		lo = base + c->data_off;
		hi = base + c->shm.size;
		break;
	}
	for (int n = 0; n < 1 + (int)(seed >> 8) % 24; n++) {
		rnd(&seed);
		lo[seed % (uint32_t)(hi - lo)] = (unsigned char)(seed >> 24);
	}
}

/* Every call on a scribbled cache: a result or an allowed error. */
static int
on_any(const void *k, size_t kl, const void *v, size_t vl, int64_t t, void *a)
{
	(void)k, (void)v, (void)t;
	*(size_t *)a += kl + vl;
	return 0;
}

#define S_KEY "fresh", 5
#define ALLOWED(r) ((r) >= 0 || (r) == -ENOENT || (r) == IK_ECORRUPT)

static void
use_everything(ik_cache *h, bool flush)
{
	char key[16], buf[300];
	uint64_t cursor = 0;
	size_t bytes = 0;
	int64_t v;
	int r;

	for (int k = 0; k < 300; k++) {
		snprintf(key, sizeof(key), "key%d", k);
		r = (int)ik_cache_get(h, key, strlen(key), buf, sizeof(buf));
		IKT_CHECK(ALLOWED(r));
		r = ik_cache_exists(h, key, strlen(key));
		IKT_CHECK(ALLOWED(r));
		r = ik_cache_ttl(h, key, strlen(key), &v);
		IKT_CHECK(ALLOWED(r));
		if (k % 3 == 0)
			r = ik_cache_set(h, key, strlen(key), buf, 200, 0, 0);
		else if (k % 3 == 1)
			r = ik_cache_del(h, key, strlen(key));
		else
			r = ik_cache_incrby(h, key, strlen(key), 1, &v);
		IKT_CHECK(ALLOWED(r) || r == -EINVAL);
	}
	do {
		r = ik_cache_scan(h, &cursor, 50, on_any, &bytes);
		IKT_CHECK(ALLOWED(r));
	} while (r >= 0 && cursor != 0);
	IKT_CHECK(ik_cache_stats(h, &(struct ik_cache_stats){ 0 }) == 0);
	if (flush) {
		r = ik_cache_flushall(h);
		IKT_CHECK(ALLOWED(r));
	}
}

static void
test_scribbled_segment(void **state)
{
	uint32_t seed = (uint32_t)getpid() * 2246822519u | 1;
	int corrupt = 0;

	(void)state;
	print_message("seed %u\n", seed);
	for (int round = 0; round < 100; round++) {
		enum region where = (enum region)(round % NREGIONS);
		char key[16], val[200];
		pid_t pid;
		int r;

		assert_int_equal(ik_cache_create(&c, name, 512 << 10, 2, 0), 0);
		for (int k = 0; k < 300; k++) {
			snprintf(key, sizeof(key), "key%d", k);
			memset(val, 'a' + k % 26, sizeof(val));
			assert_int_equal(ik_cache_set(c, key, strlen(key), val,
						      1 + (size_t)k % 150,
						      k % 2 ? 0 : 100000, 0),
					 0);
		}
		/* the hostile process */
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			scribble(where, rnd(&seed));
			_exit(0);
		}
		ikt_assert_child_ok(pid);
		rnd(&seed);
		/* the victim: a crash here is a signal, and a failure */
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
#ifndef IK__TSAN
			ik_cache_set_lock_timeout(c, 5000);
#endif
			use_everything(c, false);
			_exit(0);
		}
		ikt_assert_child_ok(pid);
		r = ik_cache_check(c, 0);
		assert_true(r == 0 || r == IK_ECORRUPT);
		corrupt += r == IK_ECORRUPT;
		/* a new opener: refused, or working (never crashing) */
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			ik_cache *h;

			r = ik_cache_open(&h, name);
			IKT_CHECK(r == 0 || r == IK_EFORMAT || r == -EAGAIN);
			if (r == 0) {
				use_everything(h, true);
				ik_cache_close(h);
			}
			_exit(0);
		}
		ikt_assert_child_ok(pid);
		assert_true(ik_cache_check(c, IK_CACHE_REPAIR) >= 0);
		assert_int_equal(ik_cache_check(c, 0), 0);
		/* repaired: usable again, by a new opener too */
		assert_int_equal(ik_cache_set(c, S_KEY, val, 10, 0, 0), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			ik_cache *h;
			char b[16];

			IKT_CHECK(ik_cache_open(&h, name) == 0);
			IKT_CHECK(ik_cache_get(h, S_KEY, b, sizeof(b)) == 10);
			IKT_CHECK(memcmp(b, val, 10) == 0);
			ik_cache_close(h);
			_exit(0);
		}
		ikt_assert_child_ok(pid);
		ik_cache_close(c);
		c = NULL;
		assert_int_equal(ik_cache_unlink(name), 0);
	}
	/* the scribbles were noticed, not just survived */
	assert_true(corrupt > 10);
}

/* ---- other formats --------------------------------------------------- */

enum bad { MAGIC, VERSION, ZERO_MAGIC, STRIPES, TRUNCATED, TINY, RING };

static int
open_bad(enum bad what)
{
	struct ik_shm shm = IK_SHM_INIT;
	pid_t pid;
	ik_cache *h = NULL;
	int r;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik__cache_hdr *hd;
		ik_cache *m;
		ik_ring *ring;
		int fd;

		if (what == TINY) {
			IKT_CHECK(ik_shm_create(&shm, name, 100, 0) == 0);
			_exit(0);
		}
		if (what == RING) {
			IKT_CHECK(ik_ring_create(&ring, name, 1 << 16, 0) == 0);
			/* _exit without close: the name stays for the parent */
			_exit(0);
		}
		IKT_CHECK(ik_cache_create(&m, name, 1 << 20, 0, 0) == 0);
		hd = ik__cache_hdr(m);
		switch (what) {
		case MAGIC:
			hd->magic ^= 1;
			break;
		case VERSION:
			hd->version++;
			break;
		case ZERO_MAGIC:
			hd->magic = 0;
			break;
		case STRIPES:
			hd->nstripes *= 2;
			break;
		default:
			fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
			IKT_CHECK(fd >= 0 && ftruncate(fd, 512 << 10) == 0);
			close(fd);
			break;
		}
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	r = ik_cache_open(&h, name);
	assert_null(h);
	ik_cache_unlink(name);
	return r;
}

static void
test_other_format_refused(void **state)
{
	(void)state;
	assert_int_equal(open_bad(MAGIC), IK_EFORMAT);
	assert_int_equal(open_bad(VERSION), IK_EFORMAT);
	assert_int_equal(open_bad(ZERO_MAGIC), -EAGAIN);
	assert_int_equal(open_bad(STRIPES), IK_EFORMAT);
	assert_int_equal(open_bad(TRUNCATED), IK_EFORMAT);
	assert_int_equal(open_bad(TINY), IK_EFORMAT);
	assert_int_equal(open_bad(RING), IK_EFORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_sigkill_writer_200_times),
		T(test_sigkill_while_evicting),
		T(test_scribbled_segment),
		T(test_other_format_refused),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
