/*
 * Walking the whole cache: SCAN-style iteration (copies taken under each
 * stripe's lock, the callback run outside it) and the consistency check
 * with its repair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ipckit/cache.h>
#include <ipckit/error.h>

#include "internal/cache.h"

/* A batch of copied entries: [klen u32][vlen u32][ttl i64][key][value]. */
struct batch {
	unsigned char *buf;
	size_t len, cap;
	size_t n;
};

/* klen and vlen as validated by the caller: read again from the segment
 * they could have changed since (a double fetch, found in review of a
 * clang-tidy report) and sent the copy past the mapping. */
static int
batch_add(struct batch *b, const unsigned char *r, uint32_t klen, uint32_t vlen,
	  int64_t ttl)
{
	size_t need = 16 + (size_t)klen + vlen;
	unsigned char *p;

	if (b->cap - b->len < need) {
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap - b->len < need)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (p == NULL)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	p = b->buf + b->len;
	/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): need>cap */
	memcpy(p, &klen, 4);
	memcpy(p + 4, &vlen, 4);
	memcpy(p + 8, &ttl, 8);
	ik__shm_read(p + 16, r + IK__REC_HDR, (size_t)klen + vlen);
	b->len += need;
	b->n++;
	return 0;
}

/* Under the lock: copy bucket j's live entries of stripe i. */
static int
copy_bucket(ik_cache *c, uint32_t i, uint32_t j, int64_t now, struct batch *b)
{
	unsigned char *a = ik__cache_arena(c, i), *r;
	uint32_t *link = &ik__cache_buckets(c, i)[j], e;
	uint64_t limit = c->arena / IK__REC_MIN + 1, off, size;
	uint32_t klen, vlen;
	int64_t exp, ttl;
	int err;

	for (uint64_t n = 0; (e = IK__LD(link)) != 0; n++) {
		off = (uint64_t)(e - 1) * 8;
		if (n >= limit || off > c->arena - IK__REC_MIN)
			return IK_ECORRUPT;
		r = a + off;
		size = IK__LD(IK__F32(r, IK__REC_SIZE));
		klen = IK__LD(IK__F16(r, IK__REC_KLEN));
		vlen = IK__LD(IK__F32(r, IK__REC_VLEN));
		if (size < IK__REC_MIN || (size & 7) || size > c->arena - off ||
		    IK__LD(IK__F16(r, IK__REC_STATE)) != IK__REC_LIVE ||
		    (uint64_t)IK__REC_HDR + klen + vlen > size)
			return IK_ECORRUPT;
		exp = (int64_t)IK__LD(IK__F64(r, IK__REC_EXPIRE));
		if (exp == 0 || exp > now) {
			ttl = exp == 0 ? -1 : (exp - now + 999999) / 1000000;
			err = batch_add(b, r, klen, vlen, ttl);
			if (err < 0)
				return err;
		}
		link = IK__F32(r, IK__REC_NEXT);
	}
	return 0;
}

int
ik_cache_scan(ik_cache *c, uint64_t *cursor, size_t count, ik_cache_scan_fn fn,
	      void *arg)
{
	struct batch b = { 0 };
	uint64_t total, g;
	uint32_t i, klen, vlen;
	int64_t ttl, now;
	unsigned char *p;
	int err = 0, visited = 0, stop = 0;

	if (c == NULL || cursor == NULL || fn == NULL || count == 0)
		return -EINVAL;
	total = (uint64_t)c->nstripes * c->nbuckets;
	g = *cursor;
	if (g >= total)
		return -EINVAL;
	if (count > INT32_MAX)
		count = INT32_MAX;
	while (g < total && (size_t)visited < count && !stop) {
		i = (uint32_t)(g / c->nbuckets);
		err = ik__cache_lock(c, i);
		if (err < 0)
			break;
		now = ik__cache_now();
		b.len = b.n = 0;
		do
			err = copy_bucket(c, i, (uint32_t)(g++ % c->nbuckets),
					  now, &b);
		while (err == 0 && g % c->nbuckets != 0 &&
		       b.n < count - (size_t)visited);
		ik__cache_unlock(c, i);
		if (err < 0)
			break;
		p = b.buf;
		for (size_t k = 0; k < b.n && !stop; k++) {
			memcpy(&klen, p, 4);
			memcpy(&vlen, p + 4, 4);
			memcpy(&ttl, p + 8, 8);
			stop = fn(p + 16, klen, p + 16 + klen, vlen, ttl, arg);
			p += 16 + (size_t)klen + vlen;
			visited++;
		}
	}
	free(b.buf);
	if (err < 0)
		return err;
	*cursor = g >= total || stop ? 0 : g;
	return visited;
}

/* The header against the handle's copy (taken when it was validated). */
static bool
header_ok(const ik_cache *c)
{
	struct ik__cache_hdr h;

	ik__shm_read(&h, c->base, sizeof(h));
	return h.magic == IK__CACHE_MAGIC && h.version == IK__CACHE_VERSION &&
	       h.hdr_size == IK__CACHE_HDR_SIZE && h.size == c->shm.size &&
	       h.nstripes == c->nstripes && h.nbuckets == c->nbuckets &&
	       h.arena == c->arena && h.stride == c->stride &&
	       h.data_off == c->data_off && h.seed[0] == c->seed[0] &&
	       h.seed[1] == c->seed[1] && h.mutex_size == sizeof(ik_mutex) &&
	       h.clock_id == CLOCK_BOOTTIME;
}

static void
header_repair(const ik_cache *c)
{
	struct ik__cache_hdr h;

	ik__cache_layout(c->shm.size, c->nstripes, &h);
	h.seed[0] = c->seed[0];
	h.seed[1] = c->seed[1];
	h.magic = IK__CACHE_MAGIC;
	ik__shm_write(c->base, &h, sizeof(h));
}

int
ik_cache_check(ik_cache *c, unsigned flags)
{
	int r, bad = 0, fixed = 0;

	if (c == NULL || (flags & ~IK_CACHE_REPAIR))
		return -EINVAL;
	if (!header_ok(c)) {
		bad = 1;
		if (flags & IK_CACHE_REPAIR) {
			header_repair(c);
			fixed++;
		}
	}
	for (uint32_t i = 0; i < c->nstripes; i++) {
		r = ik__cache_lock(c, i);
		if (r < 0)
			return r;
		r = ik__cache_verify(c, i);
		if (r == IK_ECORRUPT) {
			bad = 1;
			if (flags & IK_CACHE_REPAIR) {
				ik__cache_write_begin(c, i);
				ik__cache_rebuild(c, i);
				ik__cache_write_end(c, i);
				fixed++;
			}
		}
		ik__cache_unlock(c, i);
		if (r == -ENOMEM)
			return r;
	}
	if (flags & IK_CACHE_REPAIR)
		return fixed;
	return bad ? IK_ECORRUPT : 0;
}
