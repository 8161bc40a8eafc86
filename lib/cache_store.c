/*
 * The cache's storage (see lib/internal/cache.h for the layout): each
 * stripe's arena is a circular log. A write appends a record at the head
 * and marks the one it replaces dead; room is made at the tail, where dead
 * records are skipped and live ones either evicted or, when read since
 * they were last passed (a bit in the reference bitmap), copied to the
 * head once: CLOCK ("second chance") without a separate list to maintain.
 * A log is also what makes a crash harmless: records in [tail, head) are
 * always complete, so a stripe whose writer died is rebuilt from its log
 * (the later of two live copies of a key wins), whatever was half done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ipckit/error.h>

#include "internal/cache.h"

_Static_assert(sizeof(struct ik__cache_stripe) == IK__CACHE_STRIPE_SIZE,
	       "stripe control block size");
_Static_assert(sizeof(struct ik__cache_hdr) <= IK__CACHE_HDR_SIZE,
	       "header size");

int64_t
ik__cache_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SipHash-1-3: keys may come from remote clients, so a keyed hash. */
#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

uint64_t
ik__cache_hash(const uint64_t seed[2], const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t v0 = 0x736f6d6570736575ull ^ seed[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ seed[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ seed[0];
	uint64_t v3 = 0x7465646279746573ull ^ seed[1];
	uint64_t b = (uint64_t)len << 56, m;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&m, p, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < len; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t
bucket_of(const ik_cache *c, uint32_t hash)
{
	return (uint32_t)(((uint64_t)hash * c->nbuckets) >> 32);
}

static uint32_t
stripe_of(const ik_cache *c, uint64_t h)
{
	return (uint32_t)(h >> 32) & (c->nstripes - 1);
}

void
ik__cache_locate(const ik_cache *c, const void *key, size_t klen,
		 struct ik__cache_loc *loc)
{
	uint64_t h = ik__cache_hash(c->seed, key, klen);

	loc->hash = (uint32_t)h;
	loc->stripe = stripe_of(c, h);
	loc->bucket = bucket_of(c, loc->hash);
}

#define ALIGN64(x) (((x) + 63) & ~(uint64_t)63)

static uint64_t
refbits_bytes(uint64_t arena)
{
	return ALIGN64((arena / 8 + 63) / 64 * 8);
}

/*
 * A pure function of (size, nstripes), so that an opener recomputes it
 * and refuses a header that disagrees. Per stripe: one bucket head (4
 * bytes) per 128 arena bytes and one reference bit per 8: 67/64 of the
 * arena.
 */
int
ik__cache_layout(uint64_t size, uint32_t nstripes, struct ik__cache_hdr *out)
{
	uint64_t data_off, stride, arena, nb;

	if (nstripes == 0 || nstripes > IK_CACHE_MAX_STRIPES ||
	    (nstripes & (nstripes - 1)) || size < IK_CACHE_MIN_SIZE)
		return -EINVAL;
	data_off =
		IK__CACHE_HDR_SIZE + (uint64_t)nstripes * IK__CACHE_STRIPE_SIZE;
	if (size <= data_off)
		return -EINVAL;
	stride = ((size - data_off) / nstripes) & ~(uint64_t)63;
	arena = (stride / 67 * 64) & ~(uint64_t)63;
	for (;;) {
		nb = arena / 128 ? arena / 128 : 1;
		if (arena < 4096)
			return -EINVAL;
		if (ALIGN64(nb * 4) + refbits_bytes(arena) + arena <= stride)
			break;
		arena -= 64;
	}
	/* offsets are stored as u32 counts of 8 bytes */
	if (arena / 8 >= UINT32_MAX || nb > UINT32_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->version = IK__CACHE_VERSION;
	out->hdr_size = IK__CACHE_HDR_SIZE;
	out->size = size;
	out->nstripes = nstripes;
	out->nbuckets = (uint32_t)nb;
	out->arena = arena;
	out->stride = stride;
	out->data_off = data_off;
	out->mutex_size = sizeof(ik_mutex);
	out->clock_id = CLOCK_BOOTTIME;
	return 0;
}

void
ik__shm_read(void *dst, const unsigned char *src, size_t n)
{
	unsigned char *d = dst;
	uint64_t w;

	for (; n > 0 && ((uintptr_t)src & 7); n--)
		*d++ = IK__LD(src++);
	for (; n >= 8; n -= 8, src += 8, d += 8) {
		w = IK__LD((const uint64_t *)(const void *)src);
		memcpy(d, &w, 8);
	}
	for (; n > 0; n--)
		*d++ = IK__LD(src++);
}

void
ik__shm_write(unsigned char *dst, const void *src, size_t n)
{
	const unsigned char *s = src;
	uint64_t w;

	for (; n > 0 && ((uintptr_t)dst & 7); n--)
		IK__ST(dst++, *s++);
	for (; n >= 8; n -= 8, dst += 8, s += 8) {
		memcpy(&w, s, 8);
		IK__ST((uint64_t *)(void *)dst, w);
	}
	for (; n > 0; n--)
		IK__ST(dst++, *s++);
}

bool
ik__shm_equal(const unsigned char *shm, const void *key, size_t n)
{
	unsigned char buf[64];
	const unsigned char *k = key;

	while (n > 0) {
		size_t m = n < sizeof(buf) ? n : sizeof(buf);

		ik__shm_read(buf, shm, m);
		if (memcmp(buf, k, m) != 0)
			return false;
		shm += m;
		k += m;
		n -= m;
	}
	return true;
}

static bool
shm_shm_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned char buf[64];

	while (n > 0) {
		size_t m = n < sizeof(buf) ? n : sizeof(buf);

		ik__shm_read(buf, b, m);
		if (!ik__shm_equal(a, buf, m))
			return false;
		a += m;
		b += m;
		n -= m;
	}
	return true;
}

/*
 * The record a link points at, validated: inside the arena, a LIVE record
 * whose key and value fit in its size. NULL when the link is corrupt.
 */
static unsigned char *
rec_at(const ik_cache *c, unsigned char *a, uint32_t e, uint64_t *off)
{
	uint64_t o = (uint64_t)(e - 1) * 8;
	unsigned char *r;
	uint32_t size;

	if (o > c->arena - IK__REC_MIN)
		return NULL;
	r = a + o;
	size = IK__LD(IK__F32(r, IK__REC_SIZE));
	if (size < IK__REC_MIN || (size & 7) || size > c->arena - o ||
	    IK__LD(IK__F16(r, IK__REC_STATE)) != IK__REC_LIVE ||
	    (uint64_t)IK__REC_HDR + IK__LD(IK__F16(r, IK__REC_KLEN)) +
			    IK__LD(IK__F32(r, IK__REC_VLEN)) >
		    size)
		return NULL;
	*off = o;
	return r;
}

int64_t
ik__cache_find(const ik_cache *c, const struct ik__cache_loc *loc,
	       const void *key, size_t klen, int64_t skip, uint32_t **pred)
{
	uint32_t *link = &ik__cache_buckets(c, loc->stripe)[loc->bucket];
	unsigned char *a = ik__cache_arena(c, loc->stripe), *r;
	uint64_t limit = c->arena / IK__REC_MIN + 1, off;
	uint32_t e;

	for (uint64_t n = 0; n < limit; n++) {
		e = IK__LD(link);
		if (e == 0)
			return -ENOENT;
		r = rec_at(c, a, e, &off);
		if (r == NULL)
			return IK_ECORRUPT;
		if ((int64_t)off != skip &&
		    IK__LD(IK__F32(r, IK__REC_HASH)) == loc->hash &&
		    IK__LD(IK__F16(r, IK__REC_KLEN)) == klen &&
		    ik__shm_equal(r + IK__REC_HDR, key, klen)) {
			if (pred != NULL)
				*pred = link;
			return (int64_t)off;
		}
		link = IK__F32(r, IK__REC_NEXT);
	}
	return IK_ECORRUPT; /* a cycle */
}

/* The link that points at the record at off, or NULL. */
static uint32_t *
find_link(const ik_cache *c, uint32_t i, uint32_t bucket, uint64_t off)
{
	uint32_t *link = &ik__cache_buckets(c, i)[bucket];
	unsigned char *a = ik__cache_arena(c, i), *r;
	uint64_t limit = c->arena / IK__REC_MIN + 1, o;
	uint32_t e;

	for (uint64_t n = 0; n < limit; n++) {
		e = IK__LD(link);
		if (e == 0)
			return NULL;
		if ((uint64_t)(e - 1) * 8 == off)
			return link;
		r = rec_at(c, a, e, &o);
		if (r == NULL)
			return NULL;
		link = IK__F32(r, IK__REC_NEXT);
	}
	return NULL;
}

static void
ref_clear(const ik_cache *c, uint32_t i, uint64_t off)
{
	uint64_t *w = &ik__cache_refbits(c, i)[off / 8 / 64];
	uint64_t bit = 1ull << (off / 8 % 64), v = IK__LD(w);

	if (v & bit)
		__atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED);
}

static bool
ref_test(const ik_cache *c, uint32_t i, uint64_t off)
{
	return IK__LD(&ik__cache_refbits(c, i)[off / 8 / 64]) &
	       (1ull << (off / 8 % 64));
}

/* The arena's end from p on is too short for a record: skip it. */
static void
write_pad(unsigned char *a, uint64_t p, uint64_t rem)
{
	if (rem >= IK__REC_MIN) {
		IK__ST(IK__F32(a + p, IK__REC_SIZE), (uint32_t)rem);
		IK__ST(IK__F16(a + p, IK__REC_STATE), IK__REC_PAD);
	}
}

static void
copy_rec(unsigned char *dst, const unsigned char *src, uint32_t size)
{
	for (uint32_t j = 0; j < size; j += 8)
		IK__ST(IK__F64(dst, j), IK__LD(IK__F64(src, j)));
}

/*
 * Free the tail until a record of size bytes fits at the head with
 * item_max bytes to spare (the room a second chance needs to copy a record
 * forward). Every store
 * is ordered so that a crash leaves [tail, head) a valid log.
 */
static int
make_room(ik_cache *c, uint32_t i, uint64_t size)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, i);
	unsigned char *a = ik__cache_arena(c, i), *r, *n;
	uint64_t arena = c->arena, head = IK__LD(&st->head);
	uint64_t tail = IK__LD(&st->tail), budget = arena, tp, trem, hp, hrem;
	uint64_t pad, need;
	uint32_t rs, *link;
	uint16_t state;
	int64_t now = 0;

	if (head < tail || head - tail > arena || ((head | tail) & 7))
		return IK_ECORRUPT;
	for (;;) {
		/* the record goes at the head, after a pad if it would wrap */
		hrem = arena - head % arena;
		need = size + (hrem < size ? hrem : 0) + c->item_max;
		if (arena - (head - tail) >= need)
			break;
		if (head == tail)
			return IK_ECORRUPT;
		tp = tail % arena;
		trem = arena - tp;
		if (trem < IK__REC_MIN) {
			IK__ST(&st->tail, tail += trem);
			continue;
		}
		r = a + tp;
		rs = IK__LD(IK__F32(r, IK__REC_SIZE));
		state = IK__LD(IK__F16(r, IK__REC_STATE));
		if (state == IK__REC_PAD && rs == trem) {
			IK__ST(&st->tail, tail += trem);
			continue;
		}
		if ((state != IK__REC_LIVE && state != IK__REC_DEAD) ||
		    rs < IK__REC_MIN || (rs & 7) || rs > trem ||
		    rs > head - tail)
			return IK_ECORRUPT;
		if (state == IK__REC_DEAD) {
			IK__ST(&st->tail, tail += rs);
			continue;
		}
		link = find_link(c, i,
				 bucket_of(c, IK__LD(IK__F32(r, IK__REC_HASH))),
				 tp);
		if (link == NULL)
			return IK_ECORRUPT;
		uint64_t exp = IK__LD(IK__F64(r, IK__REC_EXPIRE));
		if (exp != 0 && now == 0)
			now = ik__cache_now();
		hp = head % arena;
		hrem = arena - hp;
		pad = hrem < rs ? hrem : 0;
		/*
		 * Copied forward instead of evicted: a record read since the
		 * hand last passed (second chance), and any record while a
		 * quarter of the log or more is dead (overwritten, deleted):
		 * compaction then frees at least one byte per three copied.
		 */
		if ((exp == 0 || (int64_t)exp > now) &&
		    (ref_test(c, i, tp) ||
		     IK__LD(&st->live) + need <= arena - arena / 4) &&
		    budget >= rs && arena - (head - tail) >= pad + rs) {
			if (pad) {
				write_pad(a, hp, hrem);
				IK__ST(&st->head, head += pad);
				hp = 0;
			}
			n = a + hp;
			copy_rec(n, r, rs);
			ref_clear(c, i, hp);
			ref_clear(c, i, tp);
			IK__ST(&st->head, head += rs);
			IK__ST(link, (uint32_t)(hp / 8 + 1));
			IK__ST(IK__F16(r, IK__REC_STATE), IK__REC_DEAD);
			IK__ST(&st->tail, tail += rs);
			budget -= rs;
			continue;
		}
		IK__ST(link, IK__LD(IK__F32(r, IK__REC_NEXT)));
		IK__ST(IK__F16(r, IK__REC_STATE), IK__REC_DEAD);
		IK__ST(&st->tail, tail += rs);
		IK__ST(&st->keys, IK__LD(&st->keys) - 1);
		IK__ST(&st->live, IK__LD(&st->live) - rs);
		if (exp != 0 && (int64_t)exp <= now)
			IK__ADD(&st->expired, 1);
		else
			IK__ADD(&st->evictions, 1);
	}
	return 0;
}

int64_t
ik__cache_append(ik_cache *c, const struct ik__cache_loc *loc, const void *key,
		 size_t klen, const void *val, size_t vlen, uint64_t expire)
{
	uint32_t i = loc->stripe, *bucket;
	struct ik__cache_stripe *st = ik__cache_stripe(c, i);
	unsigned char *a = ik__cache_arena(c, i), *r;
	uint64_t size = (IK__REC_HDR + klen + vlen + 7) & ~(uint64_t)7;
	uint64_t head, p, rem;
	int err;

	if (klen > IK_CACHE_KEY_MAX || size > c->item_max)
		return -EMSGSIZE;
	err = make_room(c, i, size);
	if (err < 0)
		return err;
	head = IK__LD(&st->head);
	p = head % c->arena;
	rem = c->arena - p;
	if (rem < size) {
		write_pad(a, p, rem);
		IK__ST(&st->head, head += rem);
		p = 0;
	}
	r = a + p;
	bucket = &ik__cache_buckets(c, i)[loc->bucket];
	IK__ST(IK__F64(r, IK__REC_EXPIRE), expire);
	IK__ST(IK__F32(r, IK__REC_SIZE), (uint32_t)size);
	IK__ST(IK__F16(r, IK__REC_STATE), IK__REC_LIVE);
	IK__ST(IK__F16(r, IK__REC_KLEN), (uint16_t)klen);
	IK__ST(IK__F32(r, IK__REC_NEXT), IK__LD(bucket));
	IK__ST(IK__F32(r, IK__REC_HASH), loc->hash);
	IK__ST(IK__F32(r, IK__REC_VLEN), (uint32_t)vlen);
	ik__shm_write(r + IK__REC_HDR, key, klen);
	ik__shm_write(r + IK__REC_HDR + klen, val, vlen);
	ref_clear(c, i, p);
	/* complete before it enters the log: a crash now leaves it outside */
	IK__ST(&st->head, head + size);
	IK__ST(bucket, (uint32_t)(p / 8 + 1));
	IK__ST(&st->keys, IK__LD(&st->keys) + 1);
	IK__ST(&st->live, IK__LD(&st->live) + size);
	return (int64_t)p;
}

void
ik__cache_drop(ik_cache *c, uint32_t i, uint32_t *pred, uint64_t off)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, i);
	unsigned char *r = ik__cache_arena(c, i) + off;

	IK__ST(pred, IK__LD(IK__F32(r, IK__REC_NEXT)));
	IK__ST(IK__F16(r, IK__REC_STATE), IK__REC_DEAD);
	IK__ST(&st->keys, IK__LD(&st->keys) - 1);
	IK__ST(&st->live, IK__LD(&st->live) - IK__LD(IK__F32(r, IK__REC_SIZE)));
}

void
ik__cache_write_begin(ik_cache *c, uint32_t i)
{
	uint32_t *seq = &ik__cache_stripe(c, i)->seq;

	IK__ST(seq, IK__LD(seq) + 1);
	IK__FENCE_REL();
}

void
ik__cache_write_end(ik_cache *c, uint32_t i)
{
	uint32_t *seq = &ik__cache_stripe(c, i)->seq;

	__atomic_store_n(seq, IK__LD(seq) + 1, __ATOMIC_RELEASE);
}

int
ik__cache_lock(ik_cache *c, uint32_t i)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, i);
	uint32_t seq;
	int r = ik_mutex_lock(&st->lock, c->lock_ms);

	/* our code always makes a dead holder's mutex consistent again, and
	 * never locks a stripe it holds: any other broken state (a foreign
	 * kind, an owner that is us) is a scribbled lock word */
	if (r == -ENOTRECOVERABLE || r == -EINVAL || r == -EDEADLK)
		return IK_ECORRUPT;
	/* a lock timeout of 0 tries once, and ik_mutex reports that as
	 * -EBUSY; ik_cache promises -ETIMEDOUT whatever the timeout */
	if (r == -EBUSY)
		return -ETIMEDOUT;
	if (r < 0)
		return r;
	seq = IK__LD(&st->seq);
	/* an odd sequence under a free lock: a writer died mid-change */
	if (r == IK_MUTEX_OWNERDEAD || (seq & 1)) {
		if (!(seq & 1))
			ik__cache_write_begin(c, i);
		ik__cache_rebuild(c, i);
		IK__ADD(&st->recoveries, 1);
		ik__cache_write_end(c, i);
		if (r == IK_MUTEX_OWNERDEAD)
			ik_mutex_consistent(&st->lock);
	}
	return 0;
}

void
ik__cache_unlock(ik_cache *c, uint32_t i)
{
	ik_mutex_unlock(&ik__cache_stripe(c, i)->lock);
}

/* The hash of a key stored in the segment (copied out first). */
static bool
key_hash_ok(const ik_cache *c, uint32_t i, const unsigned char *r,
	    unsigned char *buf)
{
	uint16_t klen = IK__LD(IK__F16(r, IK__REC_KLEN));
	uint64_t h;

	if (buf == NULL) /* no memory to check with: trust the stored hash */
		return true;
	ik__shm_read(buf, r + IK__REC_HDR, klen);
	h = ik__cache_hash(c->seed, buf, klen);
	return (uint32_t)h == IK__LD(IK__F32(r, IK__REC_HASH)) &&
	       stripe_of(c, h) == i;
}

/*
 * One step of a log walk from pos: the record there, validated. Returns
 * its length (to skip), or 0 when the log is invalid from pos on. *r is
 * NULL for a pad.
 */
static uint64_t
log_step(const ik_cache *c, unsigned char *a, uint64_t pos, uint64_t head,
	 unsigned char **r)
{
	uint64_t p = pos % c->arena, rem = c->arena - p;
	uint32_t size;
	uint16_t state;

	*r = NULL;
	if (rem < IK__REC_MIN)
		return rem;
	size = IK__LD(IK__F32(a + p, IK__REC_SIZE));
	state = IK__LD(IK__F16(a + p, IK__REC_STATE));
	if (state == IK__REC_PAD)
		return size == rem ? rem : 0;
	if ((state != IK__REC_LIVE && state != IK__REC_DEAD) ||
	    size < IK__REC_MIN || (size & 7) || size > rem ||
	    size > head - pos ||
	    (uint64_t)IK__REC_HDR + IK__LD(IK__F16(a + p, IK__REC_KLEN)) +
			    IK__LD(IK__F32(a + p, IK__REC_VLEN)) >
		    size)
		return 0;
	*r = a + p;
	return size;
}

void
ik__cache_rebuild(ik_cache *c, uint32_t i)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, i);
	unsigned char *a = ik__cache_arena(c, i), *r, *o;
	uint32_t *b = ik__cache_buckets(c, i), *link, e, bucket;
	uint64_t head = IK__LD(&st->head), tail = IK__LD(&st->tail);
	uint64_t pos, len, keys = 0, live = 0, off;
	unsigned char *buf = malloc(IK_CACHE_KEY_MAX + 1);
	int64_t now = ik__cache_now();

	if (head < tail || head - tail > c->arena || ((head | tail) & 7)) {
		head = tail = 0; /* nothing in it can be trusted */
		IK__ST(&st->tail, tail);
		IK__ST(&st->head, head);
	}
	for (uint32_t j = 0; j < c->nbuckets; j++)
		IK__ST(&b[j], 0);
	for (pos = tail; pos < head; pos += len) {
		len = log_step(c, a, pos, head, &r);
		if (len == 0) { /* cut the log where it stops making sense */
			IK__ST(&st->head, head = pos);
			break;
		}
		if (r == NULL ||
		    IK__LD(IK__F16(r, IK__REC_STATE)) != IK__REC_LIVE)
			continue;
		uint64_t exp = IK__LD(IK__F64(r, IK__REC_EXPIRE));
		if (!key_hash_ok(c, i, r, buf) ||
		    (exp != 0 && (int64_t)exp <= now)) {
			IK__ST(IK__F16(r, IK__REC_STATE), IK__REC_DEAD);
			continue;
		}
		/* an older live copy of the same key loses */
		uint16_t klen = IK__LD(IK__F16(r, IK__REC_KLEN));
		uint32_t hash = IK__LD(IK__F32(r, IK__REC_HASH));
		bucket = bucket_of(c, hash);
		for (link = &b[bucket]; (e = IK__LD(link)) != 0;
		     link = IK__F32(o, IK__REC_NEXT)) {
			if (rec_at(c, a, e, &off) == NULL)
				break;
			o = a + off;
			if (IK__LD(IK__F32(o, IK__REC_HASH)) == hash &&
			    IK__LD(IK__F16(o, IK__REC_KLEN)) == klen &&
			    shm_shm_equal(o + IK__REC_HDR, r + IK__REC_HDR,
					  klen)) {
				IK__ST(link, IK__LD(IK__F32(o, IK__REC_NEXT)));
				IK__ST(IK__F16(o, IK__REC_STATE), IK__REC_DEAD);
				keys--;
				live -= IK__LD(IK__F32(o, IK__REC_SIZE));
				break;
			}
		}
		IK__ST(IK__F32(r, IK__REC_NEXT), IK__LD(&b[bucket]));
		IK__ST(&b[bucket], (uint32_t)((pos % c->arena) / 8 + 1));
		keys++;
		live += len;
	}
	IK__ST(&st->keys, keys);
	IK__ST(&st->live, live);
	free(buf);
}

int
ik__cache_verify(ik_cache *c, uint32_t i)
{
	struct ik__cache_stripe *st = ik__cache_stripe(c, i);
	unsigned char *a = ik__cache_arena(c, i), *r, *o;
	uint32_t *b = ik__cache_buckets(c, i), *link, e;
	uint64_t head = IK__LD(&st->head), tail = IK__LD(&st->tail);
	uint64_t pos, len, keys = 0, live = 0, seen = 0, off, o2, nbits;
	uint64_t *starts;
	unsigned char *buf;
	int err = IK_ECORRUPT;

	if (head < tail || head - tail > c->arena || ((head | tail) & 7))
		return IK_ECORRUPT;
	nbits = c->arena / 8;
	starts = calloc((nbits + 63) / 64, 8);
	buf = malloc(IK_CACHE_KEY_MAX + 1);
	if (starts == NULL || buf == NULL) {
		err = -ENOMEM;
		goto out;
	}
	for (pos = tail; pos < head; pos += len) {
		len = log_step(c, a, pos, head, &r);
		if (len == 0)
			goto out;
		if (r == NULL ||
		    IK__LD(IK__F16(r, IK__REC_STATE)) != IK__REC_LIVE)
			continue;
		if (!key_hash_ok(c, i, r, buf))
			goto out;
		off = (uint64_t)(r - a) / 8;
		starts[off / 64] |= 1ull << (off % 64);
		keys++;
		live += len;
	}
	/* every chain entry is a live record of the log, reached once, in
	 * its own bucket, with no other live copy of its key in the chain */
	for (uint32_t j = 0; j < c->nbuckets; j++) {
		for (link = &b[j]; (e = IK__LD(link)) != 0;
		     link = IK__F32(r, IK__REC_NEXT)) {
			r = rec_at(c, a, e, &off);
			if (r == NULL ||
			    !(starts[off / 8 / 64] & (1ull << (off / 8 % 64))))
				goto out;
			starts[off / 8 / 64] &= ~(1ull << (off / 8 % 64));
			if (bucket_of(c, IK__LD(IK__F32(r, IK__REC_HASH))) != j)
				goto out;
			uint16_t klen = IK__LD(IK__F16(r, IK__REC_KLEN));
			for (uint32_t *l2 = &b[j]; IK__LD(l2) != e;
			     l2 = IK__F32(o, IK__REC_NEXT)) {
				o = rec_at(c, a, IK__LD(l2), &o2);
				if (o == NULL)
					goto out;
				if (IK__LD(IK__F16(o, IK__REC_KLEN)) == klen &&
				    shm_shm_equal(o + IK__REC_HDR,
						  r + IK__REC_HDR, klen))
					goto out;
			}
			seen++;
		}
	}
	if (seen == keys && IK__LD(&st->keys) == keys &&
	    IK__LD(&st->live) == live)
		err = 0;
out:
	free(starts);
	free(buf);
	return err;
}
