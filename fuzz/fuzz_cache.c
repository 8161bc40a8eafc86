/*
 * libFuzzer target: a cache segment scribbled by a hostile (or crashed)
 * process. A real cache with a few keys is the template; the input patches
 * bytes anywhere in it (header, stripe control blocks and locks, buckets,
 * reference bits, the item log), and the result is opened by name and put
 * through every operation. Each call must return a documented code, never
 * fault, hang or leak; after ik_cache_check(IK_CACHE_REPAIR) succeeds the
 * cache must check clean and store and return a value exactly.
 *
 * Input: byte 0 flags (bit 0: run the writing ops too), then patches
 * [offset hi][offset lo][n][n bytes], the offset taken modulo the size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ipckit/cache.h>
#include <ipckit/error.h>

#define SIZE IK_CACHE_MIN_SIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char tmpl[SIZE], *seg;
static char name[64];
static int ready;

static void
drop_name(void)
{
	shm_unlink(name);
}

/*
 * The segment under test is made once and kept mapped here; each input
 * rewrites it in place and opens it by name as any process would. Making
 * and filling a new one per input was a third of the run, in the kernel.
 * Only a crash leaves the name behind (/dev/shm/ikfz-cache-PID).
 */
static void
make_segment(void)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 || ftruncate(fd, SIZE) < 0)
		abort();
	atexit(drop_name);
	seg = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (seg == MAP_FAILED)
		abort();
	close(fd);
}

static void
make_template(void)
{
	char tname[80];
	ik_cache *c;
	int fd;

	snprintf(tname, sizeof(tname), "%s-t", name);
	if (ik_cache_create(&c, tname, SIZE, 2, 0) < 0)
		abort();
	for (int i = 0; i < 40; i++) {
		char k[16], v[48];
		int kn = snprintf(k, sizeof(k), "key%d", i);
		int vn = snprintf(v, sizeof(v), "%d", i * 7);

		if (ik_cache_set(c, k, (size_t)kn, v, (size_t)vn,
				 i % 5 == 0 ? 3600000 : 0, 0) < 0)
			abort();
	}
	ik_cache_del(c, "key3", 4); /* a dead record in the log */
	fd = shm_open(tname, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0 || pread(fd, tmpl, SIZE, 0) != SIZE)
		abort();
	close(fd);
	ik_cache_close(c);
	ik_cache_unlink(tname);
}

/* Report which call broke its contract, then crash for libFuzzer. */
static void
bad(int line, long r)
{
	fprintf(stderr, "fuzz_cache.c:%d: unexpected result %ld\n", line, r);
	abort();
}
#define BAD(r) bad(__LINE__, (long)(r))

static int
visit(const void *key, size_t klen, const void *val, size_t vlen,
      int64_t ttl_ms, void *arg)
{
	volatile unsigned char sink = 0;

	/* the copies handed out must be readable whole */
	for (size_t i = 0; i < klen; i++)
		sink ^= ((const unsigned char *)key)[i];
	for (size_t i = 0; i < vlen; i++)
		sink ^= ((const unsigned char *)val)[i];
	if (klen > IK_CACHE_KEY_MAX || vlen > SIZE || ttl_ms < -1)
		abort();
	(void)sink;
	++*(unsigned *)arg;
	return 0;
}

static int
is_common(long r)
{
	return r == -ETIMEDOUT || r == IK_ECORRUPT;
}

static void
ops(ik_cache *c, int write)
{
	char buf[256];
	ssize_t n;
	int64_t v, ttl;
	uint64_t cursor = 0;
	int r, rounds = 0;
	unsigned seen = 0;

	n = ik_cache_get(c, "key7", 4, buf, sizeof(buf));
	if (n < 0 && n != -ENOENT && !is_common(n))
		BAD(n);
	if (n > SIZE)
		BAD(n); /* a value longer than the segment */
	r = ik_cache_exists(c, "key10", 5);
	if (r != 0 && r != 1 && !is_common(r))
		BAD(r);
	r = ik_cache_ttl(c, "key5", 4, &ttl);
	if (r != 0 && r != -ENOENT && !is_common(r))
		BAD(r);
	do {
		r = ik_cache_scan(c, &cursor, 16, visit, &seen);
		if (r < 0 && r != -ENOMEM && !is_common(r))
			BAD(r);
		if (++rounds > 10000)
			abort(); /* a scan that never ends */
	} while (r >= 0 && cursor != 0);
	(void)ik_cache_dbsize(c);
	if (!write)
		return;
	r = ik_cache_set(c, "key1", 4, "new", 3, 0, 0);
	if (r != 0 && !is_common(r))
		BAD(r);
	r = ik_cache_incrby(c, "key2", 4, 5, &v);
	if (r != 0 && r != -EINVAL && r != -ERANGE && !is_common(r))
		BAD(r);
	r = ik_cache_del(c, "key4", 4);
	if (r != 0 && r != 1 && !is_common(r))
		BAD(r);
	r = ik_cache_expire(c, "key6", 4, 1000);
	if (r != 0 && r != 1 && !is_common(r))
		BAD(r);
}

static void
repaired(ik_cache *c)
{
	char buf[16];
	int r = ik_cache_check(c, IK_CACHE_REPAIR);

	/* a lock word that never frees, or one scribbled into another
	 * mutex kind: no one can lock the stripe, so no one can repair it */
	if (r == -ETIMEDOUT || r == -ENOMEM || r == IK_ECORRUPT)
		return;
	if (r < 0)
		BAD(r);
	r = ik_cache_check(c, 0);
	if (r != 0)
		BAD(r); /* repair must leave a consistent cache */
	if (ik_cache_set(c, "fuzz", 4, "value", 5, 0, 0) != 0 ||
	    ik_cache_get(c, "fuzz", 4, buf, sizeof(buf)) != 5 ||
	    memcmp(buf, "value", 5) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ik_cache *c;
	size_t off = 1;
	int r;

	if (!ready) {
		snprintf(name, sizeof(name), "/ikfz-cache-%d", (int)getpid());
		make_template();
		make_segment();
		ready = 1;
	}
	if (size == 0)
		return 0;
	memcpy(seg, tmpl, SIZE);
	while (off + 3 <= size) {
		size_t at = ((size_t)data[off] << 8 | data[off + 1]) % SIZE;
		size_t n = data[off + 2];

		off += 3;
		if (n > size - off)
			n = size - off;
		if (n > SIZE - at)
			n = SIZE - at;
		memcpy(seg + at, data + off, n);
		off += n;
	}
	r = ik_cache_open(&c, name);
	if (r < 0) {
		if (r != IK_EFORMAT && r != -EAGAIN)
			abort();
		return 0;
	}
	ik_cache_set_lock_timeout(c, 0);
	ops(c, data[0] & 1);
	repaired(c);
	ik_cache_close(c);
	return 0;
}
