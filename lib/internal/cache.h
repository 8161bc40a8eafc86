/*
 * The shared cache's segment layout and the helpers lib/cache.c (the API)
 * and lib/cache_store.c (layout, log, eviction, rebuild, check) share.
 *
 * Segment: one page of header, then one control block per stripe, then per
 * stripe: bucket heads (u32), a reference bitmap (1 bit per 8 data bytes)
 * and a data arena used as a circular log of 8-aligned item records.
 * Everything another process can change concurrently is accessed with
 * relaxed atomics (plain moves on x86/arm64), so a torn read is detected by
 * the stripe's sequence lock, never undefined behaviour, and TSan agrees.
 */
#ifndef IK_INTERNAL_CACHE_H
#define IK_INTERNAL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ipckit/cache.h>
#include <ipckit/mutex.h>
#include <ipckit/shm.h>

#define IK__CACHE_MAGIC 0x31454843414b4931ull /* "1IKACHE1" */
#define IK__CACHE_VERSION 1u
#define IK__CACHE_HDR_SIZE 4096u
#define IK__CACHE_STRIPE_SIZE 256u

struct ik__cache_hdr {
	uint64_t magic; /* written last by the creator */
	uint32_t version, hdr_size;
	uint64_t size; /* the segment's size */
	uint32_t nstripes, nbuckets;
	uint64_t arena;	 /* data bytes per stripe */
	uint64_t stride; /* bytes per stripe's data region */
	uint64_t data_off;
	uint64_t seed[2]; /* hash key (SipHash), random per cache */
	uint32_t mutex_size, clock_id;
};

/* One per stripe, IK__CACHE_STRIPE_SIZE bytes, one cache line per role. */
struct ik__cache_stripe {
	ik_mutex lock;
	char pad0[64 - sizeof(ik_mutex) % 64];
	uint32_t seq; /* odd while a writer changes the stripe */
	char pad1[60];
	/* written under the lock */
	uint64_t head, tail; /* log positions (bytes, monotonic) */
	uint64_t keys, live;
	uint64_t evictions, expired, recoveries;
	char pad2[8];
	/* written by readers too */
	uint64_t hits, misses;
	char pad3[48];
};

/*
 * An item record at an 8-aligned offset of its stripe's arena. expire
 * comes first so that EXPIRE/PERSIST are one atomic 64-bit store (no torn
 * value if the writer is killed). A tail of the arena shorter than
 * IK__REC_MIN is an implicit pad: records never wrap.
 */
#define IK__REC_EXPIRE 0 /* u64: CLOCK_BOOTTIME ns, 0 none */
#define IK__REC_SIZE 8	 /* u32: whole record, multiple of 8 */
#define IK__REC_STATE 12 /* u16 */
#define IK__REC_KLEN 14	 /* u16 */
#define IK__REC_NEXT 16	 /* u32: next in bucket (offset / 8 + 1), 0 end */
#define IK__REC_HASH 20	 /* u32: low half of the key's hash */
#define IK__REC_VLEN 24	 /* u32 */
#define IK__REC_HDR 28
#define IK__REC_MIN 32

#define IK__REC_LIVE 0x4c56u /* "VL" */
#define IK__REC_DEAD 0x4444u /* "DD" */
#define IK__REC_PAD 0x4150u  /* "PA" */

struct ik_cache {
	struct ik_shm shm;
	unsigned char *base;
	uint32_t nstripes, nbuckets;
	uint64_t arena, stride, data_off;
	uint64_t item_max; /* largest record, also the room kept free */
	uint64_t seed[2];
	int lock_ms;
};

/*
 * Atomics on shared memory (see the comment at the top). The sequence lock
 * needs fences between the data and the sequence; ThreadSanitizer does not
 * model fences, so under it every data access carries the ordering itself
 * (acquire loads, release stores), which is also correct, only slower.
 */
#if defined(__SANITIZE_THREAD__)
#define IK__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IK__TSAN 1
#endif
#endif
#ifdef IK__TSAN
#define IK__LD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define IK__ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define IK__FENCE_ACQ() ((void)0)
#define IK__FENCE_REL() ((void)0)
#else
#define IK__LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define IK__ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define IK__FENCE_ACQ() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define IK__FENCE_REL() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#define IK__ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* A record's fields, by offset (IK__REC_*). */
#define IK__F16(r, f) ((uint16_t *)(void *)((r) + (f)))
#define IK__F32(r, f) ((uint32_t *)(void *)((r) + (f)))
#define IK__F64(r, f) ((uint64_t *)(void *)((r) + (f)))

static inline struct ik__cache_hdr *
ik__cache_hdr(const ik_cache *c)
{
	return (struct ik__cache_hdr *)(void *)c->base;
}

static inline struct ik__cache_stripe *
ik__cache_stripe(const ik_cache *c, uint32_t i)
{
	return (struct ik__cache_stripe
			*)(void *)(c->base + IK__CACHE_HDR_SIZE +
				   (size_t)i * IK__CACHE_STRIPE_SIZE);
}

static inline uint32_t *
ik__cache_buckets(const ik_cache *c, uint32_t i)
{
	return (uint32_t *)(void *)(c->base + c->data_off + i * c->stride);
}

static inline uint64_t *
ik__cache_refbits(const ik_cache *c, uint32_t i)
{
	size_t b = ((size_t)c->nbuckets * 4 + 63) & ~(size_t)63;

	return (uint64_t *)(void *)(c->base + c->data_off + i * c->stride + b);
}

static inline unsigned char *
ik__cache_arena(const ik_cache *c, uint32_t i)
{
	return c->base + c->data_off + (i + 1) * c->stride - c->arena;
}

/* Where a record lives, for the store's functions. */
struct ik__cache_loc {
	uint32_t stripe, bucket;
	uint32_t hash; /* low half, stored in records */
};

void ik__cache_locate(const ik_cache *c, const void *key, size_t klen,
		      struct ik__cache_loc *loc);
uint64_t ik__cache_hash(const uint64_t seed[2], const void *key, size_t len);

/* Layout of a segment of size bytes with nstripes stripes; 0 or -EINVAL. */
int ik__cache_layout(uint64_t size, uint32_t nstripes,
		     struct ik__cache_hdr *out);

/* Copies between process memory and the segment, word-atomic. */
void ik__shm_read(void *dst, const unsigned char *src, size_t n);
void ik__shm_write(unsigned char *dst, const void *src, size_t n);
bool ik__shm_equal(const unsigned char *shm, const void *key, size_t n);

/*
 * Look key up in stripe loc->stripe. Returns the record's arena offset
 * (>= 0) and, through *pred, the chain link that points at it; -ENOENT;
 * IK_ECORRUPT when a link or record fails validation. A record at offset
 * skip (-1: none) is passed over. Lock-free callers must validate the
 * result with the stripe's sequence.
 */
int64_t ik__cache_find(const ik_cache *c, const struct ik__cache_loc *loc,
		       const void *key, size_t klen, int64_t skip,
		       uint32_t **pred);

/* Under the lock: append a LIVE record (evicting as needed), link it. */
int64_t ik__cache_append(ik_cache *c, const struct ik__cache_loc *loc,
			 const void *key, size_t klen, const void *val,
			 size_t vlen, uint64_t expire);
/* Under the lock: unlink the record at off (via pred) and mark it dead. */
void ik__cache_drop(ik_cache *c, uint32_t stripe, uint32_t *pred, uint64_t off);

/* Lock stripe i (rebuilding it if its holder died); 0 or a negative. */
int ik__cache_lock(ik_cache *c, uint32_t i);
void ik__cache_unlock(ik_cache *c, uint32_t i);
/* Mark a locked stripe as being changed / done (the sequence lock). */
void ik__cache_write_begin(ik_cache *c, uint32_t i);
void ik__cache_write_end(ik_cache *c, uint32_t i);

/* Under the lock: rebuild stripe i's index and counters from its log. */
void ik__cache_rebuild(ik_cache *c, uint32_t i);
/* Under the lock: 0 if stripe i is consistent, IK_ECORRUPT, -ENOMEM. */
int ik__cache_verify(ik_cache *c, uint32_t i);

int64_t ik__cache_now(void);

#endif
