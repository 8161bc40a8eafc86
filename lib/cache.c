/*
 * The shared-memory cache's API (see <ipckit/cache.h> and ik_cache(3)).
 * Writers lock their stripe (a robust mutex) and bump its sequence around
 * each change; readers take no lock: they read the sequence, look up and
 * copy with atomic loads, and retry if the sequence moved (a seqlock), so
 * a hit costs no system call and readers never block one another. A
 * reader that keeps losing the race, or finds a stripe whose writer died
 * (odd sequence), takes the lock, which repairs the stripe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <ipckit/cache.h>
#include <ipckit/error.h>

#include "internal/cache.h"

/*
 * ThreadSanitizer (gcc 12) does not intercept pthread_mutex_clocklock,
 * which timed ik_mutex_lock uses, and then reports every unlock as a
 * misuse: its builds wait forever by default so that it sees the locks.
 */
#ifdef IK__TSAN
#define DEFAULT_LOCK_MS (-1)
#else
#define DEFAULT_LOCK_MS 10000
#endif
#define STRIPE_BYTES (2u << 20) /* auto stripes: one per 2 MiB ... */
#define AUTO_STRIPES_MAX 32u	/* ... up to this many */
#define OPTIMISTIC_TRIES 64
#define SET_FLAGS (IK_CACHE_NX | IK_CACHE_XX | IK_CACHE_KEEPTTL)

static void
fill_handle(ik_cache *c, const struct ik__cache_hdr *h)
{
	c->base = c->shm.base;
	c->nstripes = h->nstripes;
	c->nbuckets = h->nbuckets;
	c->arena = h->arena;
	c->stride = h->stride;
	c->data_off = h->data_off;
	c->item_max = (h->arena / 32) & ~(uint64_t)7;
	c->seed[0] = h->seed[0];
	c->seed[1] = h->seed[1];
	c->lock_ms = DEFAULT_LOCK_MS;
}

int
ik_cache_create(ik_cache **out, const char *name, size_t size, unsigned stripes,
		unsigned flags)
{
	struct ik__cache_hdr h, *sh;
	ik_cache *c;
	int r;

	if (out == NULL || flags != 0)
		return -EINVAL;
	if (stripes == 0)
		for (stripes = 1; stripes < AUTO_STRIPES_MAX &&
				  (uint64_t)stripes * 2 * STRIPE_BYTES <= size;
		     stripes *= 2)
			;
	r = ik__cache_layout(size, stripes, &h);
	if (r < 0)
		return r;
	if (getrandom(h.seed, sizeof(h.seed), 0) != sizeof(h.seed))
		return errno ? -errno : -EIO;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->shm = (struct ik_shm)IK_SHM_INIT;
	if (name != NULL)
		r = ik_shm_create(&c->shm, name, size, 0);
	else
		r = ik_shm_memfd(&c->shm, "ipckit-cache", size, 0);
	if (r < 0)
		goto fail_free;
	fill_handle(c, &h);
	/* the pages are zero: head, tail, counters and buckets start at 0 */
	for (uint32_t i = 0; i < h.nstripes; i++) {
		r = ik_mutex_init(&ik__cache_stripe(c, i)->lock);
		if (r < 0)
			goto fail;
	}
	sh = ik__cache_hdr(c);
	h.magic = 0;
	memcpy(sh, &h, sizeof(h));
	/* openers test the magic first (acquire): all else is set by then */
	__atomic_store_n(&sh->magic, IK__CACHE_MAGIC, __ATOMIC_RELEASE);
	*out = c;
	return 0;
fail:
	if (name != NULL)
		ik_shm_remove(&c->shm);
	ik_shm_close(&c->shm);
fail_free:
	free(c);
	return r;
}

/* Trust nothing in the header that the segment's own size does not back. */
static int
attach(ik_cache *c)
{
	struct ik__cache_hdr h, want;
	uint64_t magic;

	if (c->shm.size < IK__CACHE_HDR_SIZE)
		return IK_EFORMAT;
	c->base = c->shm.base;
	magic = __atomic_load_n(&ik__cache_hdr(c)->magic, __ATOMIC_ACQUIRE);
	if (magic == 0)
		return -EAGAIN;
	if (magic != IK__CACHE_MAGIC)
		return IK_EFORMAT;
	ik__shm_read(&h, c->shm.base, sizeof(h));
	if (h.version != IK__CACHE_VERSION ||
	    h.hdr_size != IK__CACHE_HDR_SIZE || h.size != c->shm.size ||
	    h.mutex_size != sizeof(ik_mutex) || h.clock_id != CLOCK_BOOTTIME ||
	    ik__cache_layout(h.size, h.nstripes, &want) < 0 ||
	    want.nbuckets != h.nbuckets || want.arena != h.arena ||
	    want.stride != h.stride || want.data_off != h.data_off)
		return IK_EFORMAT;
	fill_handle(c, &h);
	return 0;
}

int
ik_cache_open(ik_cache **out, const char *name)
{
	ik_cache *c;
	int r;

	if (out == NULL || name == NULL)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->shm = (struct ik_shm)IK_SHM_INIT;
	r = ik_shm_open(&c->shm, name, 0, 0);
	if (r < 0)
		goto fail;
	r = attach(c);
	if (r < 0) {
		ik_shm_close(&c->shm);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	free(c);
	return r;
}

int
ik_cache_unlink(const char *name)
{
	return ik_shm_unlink(name);
}

void
ik_cache_close(ik_cache *c)
{
	if (c == NULL)
		return;
	ik_shm_close(&c->shm);
	free(c);
}

void
ik_cache_set_lock_timeout(ik_cache *c, int timeout_ms)
{
	if (c != NULL)
		c->lock_ms = timeout_ms < 0 ? -1 : timeout_ms;
}

static bool
bad_key(const ik_cache *c, const void *key, size_t klen)
{
	return c == NULL || (key == NULL && klen != 0);
}

static unsigned char *
rec(const ik_cache *c, uint32_t stripe, int64_t off)
{
	return ik__cache_arena(c, stripe) + off;
}

static bool
expired(const unsigned char *r, int64_t *now)
{
	uint64_t exp = IK__LD(IK__F64(r, IK__REC_EXPIRE));

	if (exp == 0)
		return false;
	if (*now == 0)
		*now = ik__cache_now();
	return (int64_t)exp <= *now;
}

static void
touch(const ik_cache *c, uint32_t i, int64_t off)
{
	uint64_t *w = &ik__cache_refbits(c, i)[off / 8 / 64];
	uint64_t bit = 1ull << (off / 8 % 64);

	if (!(IK__LD(w) & bit))
		__atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
}

/* Under the lock: drop an expired record (found with pred). */
static void
drop_expired(ik_cache *c, const struct ik__cache_loc *loc, uint32_t *pred,
	     int64_t off)
{
	ik__cache_drop(c, loc->stripe, pred, (uint64_t)off);
	IK__ADD(&ik__cache_stripe(c, loc->stripe)->expired, 1);
}

/* A reader found the key expired: remove it now (if still so). */
static void
reclaim(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
	size_t klen)
{
	uint32_t *pred;
	int64_t off, now = 0;

	if (ik__cache_lock(c, loc->stripe) < 0)
		return;
	off = ik__cache_find(c, loc, key, klen, -1, &pred);
	if (off >= 0 && expired(rec(c, loc->stripe, off), &now)) {
		ik__cache_write_begin(c, loc->stripe);
		drop_expired(c, loc, pred, off);
		ik__cache_write_end(c, loc->stripe);
	}
	ik__cache_unlock(c, loc->stripe);
}

/* What one lookup saw. */
struct look {
	int64_t off; /* record offset, or -ENOENT / IK_ECORRUPT */
	uint32_t vlen;
	uint64_t expire;
	bool gone; /* found but expired */
};

static void
look_once(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
	  size_t klen, void *buf, size_t cap, struct look *l)
{
	unsigned char *r;
	int64_t now = 0;
	uint32_t size;

	l->off = ik__cache_find(c, loc, key, klen, -1, NULL);
	l->gone = false;
	if (l->off < 0)
		return;
	r = rec(c, loc->stripe, l->off);
	l->vlen = IK__LD(IK__F32(r, IK__REC_VLEN));
	l->expire = IK__LD(IK__F64(r, IK__REC_EXPIRE));
	/* loaded again since find checked it: a racing writer may have
	 * changed it, and the copy must stay inside the record anyway */
	size = IK__LD(IK__F32(r, IK__REC_SIZE));
	if ((uint64_t)IK__REC_HDR + klen + l->vlen > size ||
	    size > c->arena - (uint64_t)l->off) {
		l->off = IK_ECORRUPT;
		return;
	}
	l->gone = expired(r, &now);
	if (!l->gone && cap > 0)
		ik__shm_read(buf, r + IK__REC_HDR + klen,
			     l->vlen < cap ? l->vlen : cap);
}

/*
 * The read path shared by get, peek, exists and ttl: lock-free first,
 * under the lock if that keeps failing. *seq is the sequence the result
 * is valid for.
 */
static int
lookup(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
       size_t klen, void *buf, size_t cap, struct look *l, uint32_t *seq)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, loc->stripe);
	uint32_t s1;
	int r;

	for (int t = 0; t < OPTIMISTIC_TRIES; t++) {
		s1 = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		look_once(c, loc, key, klen, buf, cap, l);
		IK__FENCE_ACQ();
		if (IK__LD(&st->seq) == s1) {
			*seq = s1;
			return 0;
		}
	}
	r = ik__cache_lock(c, loc->stripe);
	if (r < 0)
		return r;
	look_once(c, loc, key, klen, buf, cap, l);
	*seq = IK__LD(&st->seq);
	ik__cache_unlock(c, loc->stripe);
	return 0;
}

/* After a lookup: the error it means, or 0 for a live hit. */
static int
settle(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
       size_t klen, const struct look *l, bool count)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, loc->stripe);

	if (l->off == IK_ECORRUPT)
		return IK_ECORRUPT;
	if (l->gone)
		reclaim(c, loc, key, klen);
	if (l->off < 0 || l->gone) {
		if (count)
			IK__ADD(&st->misses, 1);
		return -ENOENT;
	}
	if (count)
		IK__ADD(&st->hits, 1);
	touch(c, loc->stripe, l->off);
	return 0;
}

/* get, peek, exists and ttl: locate key, look it up, settle what was found. */
static int
read_key(ik_cache *c, const void *key, size_t klen, void *buf, size_t cap,
	 bool count, struct ik__cache_loc *loc, struct look *l, uint32_t *seq)
{
	int r;

	ik__cache_locate(c, key, klen, loc);
	r = lookup(c, loc, key, klen, buf, cap, l, seq);
	if (r == 0)
		r = settle(c, loc, key, klen, l, count);
	return r;
}

ssize_t
ik_cache_get(ik_cache *c, const void *key, size_t klen, void *buf, size_t cap)
{
	struct ik__cache_loc loc;
	struct look l;
	uint32_t seq;
	int r;

	if (bad_key(c, key, klen) || (buf == NULL && cap != 0))
		return -EINVAL;
	r = read_key(c, key, klen, buf, cap, true, &loc, &l, &seq);
	return r < 0 ? r : (ssize_t)l.vlen;
}

ssize_t
ik_cache_peek(ik_cache *c, const void *key, size_t klen, const void **val,
	      uint64_t *ticket)
{
	struct ik__cache_loc loc;
	struct look l;
	uint32_t seq;
	int r;

	if (bad_key(c, key, klen) || val == NULL || ticket == NULL)
		return -EINVAL;
	r = read_key(c, key, klen, NULL, 0, true, &loc, &l, &seq);
	if (r < 0)
		return r;
	*val = rec(c, loc.stripe, l.off) + IK__REC_HDR + klen;
	*ticket = (uint64_t)loc.stripe << 32 | seq;
	return (ssize_t)l.vlen;
}

int
ik_cache_peek_valid(ik_cache *c, uint64_t ticket)
{
	uint32_t i = (uint32_t)(ticket >> 32);

	if (c == NULL || i >= c->nstripes)
		return -EINVAL;
	IK__FENCE_ACQ();
	return IK__LD(&ik__cache_stripe(c, i)->seq) == (uint32_t)ticket;
}

int
ik_cache_exists(ik_cache *c, const void *key, size_t klen)
{
	struct ik__cache_loc loc;
	struct look l;
	uint32_t seq;
	int r;

	if (bad_key(c, key, klen))
		return -EINVAL;
	r = read_key(c, key, klen, NULL, 0, false, &loc, &l, &seq);
	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

int
ik_cache_ttl(ik_cache *c, const void *key, size_t klen, int64_t *ttl_ms)
{
	struct ik__cache_loc loc;
	struct look l;
	uint32_t seq;
	int64_t left;
	int r;

	if (bad_key(c, key, klen) || ttl_ms == NULL)
		return -EINVAL;
	r = read_key(c, key, klen, NULL, 0, false, &loc, &l, &seq);
	if (r < 0)
		return r;
	if (l.expire == 0) {
		*ttl_ms = -1;
	} else {
		left = (int64_t)l.expire - ik__cache_now();
		*ttl_ms = left <= 0 ? 0 : (left + 999999) / 1000000;
	}
	return 0;
}

/* now + ttl_ms on the cache's clock, saturating. */
static uint64_t
deadline(int64_t ttl_ms)
{
	int64_t now = ik__cache_now();

	if (ttl_ms > (INT64_MAX - now) / 1000000)
		return INT64_MAX;
	return (uint64_t)(now + ttl_ms * 1000000);
}

/* Lock a key's stripe and mark it changing; undone by end_write. */
static int
begin_write(ik_cache *c, const struct ik__cache_loc *loc)
{
	int r = ik__cache_lock(c, loc->stripe);

	if (r == 0)
		ik__cache_write_begin(c, loc->stripe);
	return r;
}

static int
end_write(ik_cache *c, const struct ik__cache_loc *loc, int r)
{
	ik__cache_write_end(c, loc->stripe);
	ik__cache_unlock(c, loc->stripe);
	return r;
}

/*
 * Under the lock: the live record of key (dropping it if expired), or
 * -ENOENT, or IK_ECORRUPT.
 */
static int64_t
find_live(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
	  size_t klen, uint32_t **pred)
{
	int64_t off = ik__cache_find(c, loc, key, klen, -1, pred), now = 0;

	if (off >= 0 && expired(rec(c, loc->stripe, off), &now)) {
		drop_expired(c, loc, *pred, off);
		return -ENOENT;
	}
	return off;
}

/*
 * How every write starts: lock key's stripe, mark it changing, and find its
 * live record (*off, or -ENOENT or IK_ECORRUPT). On 0 the caller ends with
 * end_write; a lock failure is returned with nothing held.
 */
static int
write_find(ik_cache *c, const void *key, size_t klen, struct ik__cache_loc *loc,
	   uint32_t **pred, int64_t *off)
{
	int r;

	ik__cache_locate(c, key, klen, loc);
	r = begin_write(c, loc);
	if (r < 0)
		return r;
	*off = find_live(c, loc, key, klen, pred);
	return 0;
}

/* Under the lock: append key's new record, then retire the old one. */
static int
replace(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
	size_t klen, const void *val, size_t vlen, uint64_t expire)
{
	uint32_t *pred;
	int64_t p = ik__cache_append(c, loc, key, klen, val, vlen, expire);
	int64_t old;

	if (p < 0)
		return (int)p;
	/* looked up again: making room may have moved or evicted it */
	old = ik__cache_find(c, loc, key, klen, p, &pred);
	if (old >= 0)
		ik__cache_drop(c, loc->stripe, pred, (uint64_t)old);
	return old == IK_ECORRUPT ? IK_ECORRUPT : 0;
}

int
ik_cache_set(ik_cache *c, const void *key, size_t klen, const void *val,
	     size_t vlen, int64_t ttl_ms, unsigned flags)
{
	struct ik__cache_loc loc;
	uint64_t expire = 0;
	uint32_t *pred;
	int64_t off;
	int r;

	if (bad_key(c, key, klen) || (val == NULL && vlen != 0) ||
	    (flags & ~SET_FLAGS) || ttl_ms < 0 ||
	    ((flags & IK_CACHE_NX) && (flags & IK_CACHE_XX)))
		return -EINVAL;
	if (klen > IK_CACHE_KEY_MAX ||
	    (uint64_t)IK__REC_HDR + klen + vlen > c->item_max)
		return -EMSGSIZE;
	if (ttl_ms > 0)
		expire = deadline(ttl_ms);
	r = write_find(c, key, klen, &loc, &pred, &off);
	if (r < 0)
		return r;
	if (off == IK_ECORRUPT)
		return end_write(c, &loc, IK_ECORRUPT);
	if ((flags & IK_CACHE_NX) && off >= 0)
		return end_write(c, &loc, -EEXIST);
	if ((flags & IK_CACHE_XX) && off < 0)
		return end_write(c, &loc, -ENOENT);
	if ((flags & IK_CACHE_KEEPTTL) && ttl_ms == 0 && off >= 0)
		expire = IK__LD(
			IK__F64(rec(c, loc.stripe, off), IK__REC_EXPIRE));
	return end_write(c, &loc,
			 replace(c, &loc, key, klen, val, vlen, expire));
}

/* A value INCR accepts: [-]digits, at most 20 characters, in range. */
static int
parse_int(const char *s, size_t n, int64_t *out)
{
	bool neg = n > 0 && s[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	size_t i = neg;

	if (n == 0 || n > 20 || i == n)
		return -EINVAL;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int
ik_cache_incrby(ik_cache *c, const void *key, size_t klen, int64_t delta,
		int64_t *result)
{
	struct ik__cache_loc loc;
	char num[24];
	uint64_t expire = 0;
	uint32_t *pred, vlen;
	int64_t off, cur = 0, res;
	unsigned char *rp;
	int r, n;

	if (bad_key(c, key, klen) || result == NULL)
		return -EINVAL;
	if (klen > IK_CACHE_KEY_MAX ||
	    (uint64_t)IK__REC_HDR + klen + 20 > c->item_max)
		return -EMSGSIZE;
	r = write_find(c, key, klen, &loc, &pred, &off);
	if (r < 0)
		return r;
	if (off == IK_ECORRUPT)
		return end_write(c, &loc, IK_ECORRUPT);
	if (off >= 0) {
		rp = rec(c, loc.stripe, off);
		vlen = IK__LD(IK__F32(rp, IK__REC_VLEN));
		expire = IK__LD(IK__F64(rp, IK__REC_EXPIRE));
		if (vlen > 20)
			return end_write(c, &loc, -EINVAL);
		ik__shm_read(num, rp + IK__REC_HDR + klen, vlen);
		if (parse_int(num, vlen, &cur) < 0)
			return end_write(c, &loc, -EINVAL);
	}
	if (__builtin_add_overflow(cur, delta, &res))
		return end_write(c, &loc, -ERANGE);
	n = snprintf(num, sizeof(num), "%lld", (long long)res);
	r = replace(c, &loc, key, klen, num, (size_t)n, expire);
	if (r == 0)
		*result = res;
	return end_write(c, &loc, r);
}

/*
 * DEL, EXPIRE and PERSIST: one atomic store of the record's expiry, or its
 * removal when the time to live is already over (DEL is EXPIRE key 0).
 */
static int
set_expire(ik_cache *c, const void *key, size_t klen, bool persist,
	   int64_t ttl_ms)
{
	struct ik__cache_loc loc;
	uint32_t *pred;
	uint64_t *exp;
	int64_t off;
	int r;

	if (bad_key(c, key, klen))
		return -EINVAL;
	r = write_find(c, key, klen, &loc, &pred, &off);
	if (r < 0)
		return r;
	if (off < 0)
		return end_write(c, &loc, off == -ENOENT ? 0 : (int)off);
	exp = IK__F64(rec(c, loc.stripe, off), IK__REC_EXPIRE);
	if (persist) {
		r = IK__LD(exp) != 0;
		IK__ST(exp, 0);
	} else if (ttl_ms <= 0) {
		ik__cache_drop(c, loc.stripe, pred, (uint64_t)off);
		r = 1;
	} else {
		IK__ST(exp, deadline(ttl_ms));
		r = 1;
	}
	return end_write(c, &loc, r);
}

int
ik_cache_del(ik_cache *c, const void *key, size_t klen)
{
	return set_expire(c, key, klen, false, 0);
}

int
ik_cache_expire(ik_cache *c, const void *key, size_t klen, int64_t ttl_ms)
{
	return set_expire(c, key, klen, false, ttl_ms);
}

int
ik_cache_persist(ik_cache *c, const void *key, size_t klen)
{
	return set_expire(c, key, klen, true, 0);
}

int64_t
ik_cache_dbsize(ik_cache *c)
{
	uint64_t n = 0;

	if (c == NULL)
		return -EINVAL;
	for (uint32_t i = 0; i < c->nstripes; i++)
		n += IK__LD(&ik__cache_stripe(c, i)->keys);
	return (int64_t)n;
}

int
ik_cache_flushall(ik_cache *c)
{
	struct ik__cache_stripe *st;
	uint32_t *b;
	int r, err = 0;

	if (c == NULL)
		return -EINVAL;
	for (uint32_t i = 0; i < c->nstripes; i++) {
		r = ik__cache_lock(c, i);
		if (r < 0) {
			err = err ? err : r;
			continue;
		}
		st = ik__cache_stripe(c, i);
		b = ik__cache_buckets(c, i);
		ik__cache_write_begin(c, i);
		for (uint32_t j = 0; j < c->nbuckets; j++)
			IK__ST(&b[j], 0);
		/* an empty log: what lies outside [tail, head) is never read */
		IK__ST(&st->tail, IK__LD(&st->head));
		IK__ST(&st->keys, 0);
		IK__ST(&st->live, 0);
		ik__cache_write_end(c, i);
		ik__cache_unlock(c, i);
	}
	return err;
}

int
ik_cache_stats(ik_cache *c, struct ik_cache_stats *out)
{
	struct ik_cache_stats s = { 0 };
	struct ik__cache_stripe *st;
	uint64_t head, tail;

	if (c == NULL || out == NULL)
		return -EINVAL;
	s.mem_used =
		c->data_off + (uint64_t)c->nstripes * (c->stride - c->arena);
	for (uint32_t i = 0; i < c->nstripes; i++) {
		st = ik__cache_stripe(c, i);
		s.keys += IK__LD(&st->keys);
		s.hits += IK__LD(&st->hits);
		s.misses += IK__LD(&st->misses);
		s.evictions += IK__LD(&st->evictions);
		s.expired += IK__LD(&st->expired);
		s.recoveries += IK__LD(&st->recoveries);
		s.mem_live += IK__LD(&st->live);
		head = IK__LD(&st->head);
		tail = IK__LD(&st->tail);
		/* unlocked: a scribbled pair must not inflate the sum */
		if (head >= tail && head - tail <= c->arena)
			s.mem_used += head - tail;
	}
	s.mem_limit = c->shm.size;
	s.item_max = c->item_max;
	s.stripes = c->nstripes;
	*out = s;
	return 0;
}
