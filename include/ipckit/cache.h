/*
 * A key-value cache in one shared-memory segment, read and written directly
 * by every process that maps it (no system call on a hit). The memory cap is
 * fixed at creation; when full, the least recently used keys go first
 * (CLOCK). A process killed at any moment leaves no lock held and no stripe
 * corrupt; data read from the segment is validated before it is trusted.
 */
#ifndef IPCKIT_CACHE_H
#define IPCKIT_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ik_cache ik_cache;

/* Smallest segment ik_cache_create accepts. */
#define IK_CACHE_MIN_SIZE (64u * 1024)
/* Most stripes (independent locks and memory pools) a cache can have. */
#define IK_CACHE_MAX_STRIPES 256u
/* Longest key (values are bounded by ik_cache_stats' item_max). */
#define IK_CACHE_KEY_MAX 65535u

/* ik_cache_set flags (Redis SET NX / XX / KEEPTTL). */
#define IK_CACHE_NX 0x1	     /* only if the key does not exist */
#define IK_CACHE_XX 0x2	     /* only if the key exists */
#define IK_CACHE_KEEPTTL 0x4 /* keep the key's current time to live */

/* ik_cache_check flags. */
#define IK_CACHE_REPAIR 0x1 /* rebuild the stripes that fail the check */

/*
 * Create the cache "name" (a POSIX shared-memory name "/x", mode 0600,
 * O_EXCL) of size bytes in all (header, index and data; at least
 * IK_CACHE_MIN_SIZE), split into stripes (a power of two up to
 * IK_CACHE_MAX_STRIPES; 0 picks one stripe per 2 MiB, at most 32). A NULL
 * name makes an anonymous cache (memfd) shared with children by fork.
 * flags must be 0. The name stays until ik_cache_unlink. Returns 0;
 * -EINVAL, -ENAMETOOLONG, -EEXIST, -ENOSPC, -ENOMEM or another negative
 * errno. Nothing is left behind on failure.
 */
int ik_cache_create(ik_cache **out, const char *name, size_t size,
		    unsigned stripes, unsigned flags);

/*
 * Open the existing cache "name". Returns 0; -ENOENT, -EINVAL, IK_EFORMAT
 * (another format or version, another C library's mutex layout, or a
 * truncated segment), -EAGAIN (its creator is still initializing it: retry),
 * IK_EOWNER, -EACCES, or another negative errno.
 */
int ik_cache_open(ik_cache **out, const char *name);

/* Remove the name (mappings stay valid). 0, -ENOENT, -EINVAL, -EACCES. */
int ik_cache_unlink(const char *name);

/*
 * Unmap and free the handle (NULL is a no-op). The cache and its name stay.
 * A forked child may use its parent's handle, and close its copy.
 */
void ik_cache_close(ik_cache *c);

/*
 * How long an operation waits for a stripe's lock (default 10000 ms; -1
 * forever). A lock held longer than that (a stopped process, a scribbled
 * lock word) makes the operation return -ETIMEDOUT instead of hanging.
 */
void ik_cache_set_lock_timeout(ik_cache *c, int timeout_ms);

/*
 * Store key -> val. ttl_ms > 0 sets a time to live, 0 none (or keeps the
 * current one with IK_CACHE_KEEPTTL). Returns 0 when stored; -EEXIST (NX
 * and the key exists), -ENOENT (XX and it does not), -EMSGSIZE (key longer
 * than IK_CACHE_KEY_MAX or item larger than item_max), -EINVAL, -ETIMEDOUT
 * (lock), IK_ECORRUPT. Evicts the least recently used keys to make room.
 */
int ik_cache_set(ik_cache *c, const void *key, size_t klen, const void *val,
		 size_t vlen, int64_t ttl_ms, unsigned flags);

/*
 * Copy the value of key into buf (at most cap bytes). Returns the value's
 * full length: a result above cap means the copy was truncated (call again
 * with a larger buffer). -ENOENT if missing or expired, -EINVAL,
 * -ETIMEDOUT, IK_ECORRUPT. Readers take no lock unless a writer keeps
 * changing the stripe; buf's contents are unspecified after an error.
 */
ssize_t ik_cache_get(ik_cache *c, const void *key, size_t klen, void *buf,
		     size_t cap);

/*
 * Zero-copy read: *val points at the value inside the segment. The pointer
 * always stays inside the mapping (reading it never faults), but another
 * process may reuse the bytes at any time: they are the value only if
 * ik_cache_peek_valid(c, ticket) returns 1 AFTER you have finished reading
 * them (copy, parse or send first, validate last; on 0, peek again).
 * Returns the value's length with *val and *ticket set; -ENOENT, -EINVAL,
 * -ETIMEDOUT, IK_ECORRUPT.
 */
ssize_t ik_cache_peek(ik_cache *c, const void *key, size_t klen,
		      const void **val, uint64_t *ticket);
int ik_cache_peek_valid(ik_cache *c, uint64_t ticket);

/* Remove key. Returns 1 if it was there, 0 if not; -EINVAL, -ETIMEDOUT,
 * IK_ECORRUPT. */
int ik_cache_del(ik_cache *c, const void *key, size_t klen);

/* 1 if key exists (and has not expired), 0 if not; errors as for del. */
int ik_cache_exists(ik_cache *c, const void *key, size_t klen);

/*
 * Add delta to the decimal integer stored at key (a missing key counts as
 * 0; the time to live is kept) and store *result. Returns 0; -EINVAL (the
 * value is not a decimal integer of at most 20 characters), -ERANGE
 * (overflow: the value is unchanged), -ETIMEDOUT, IK_ECORRUPT.
 */
int ik_cache_incrby(ik_cache *c, const void *key, size_t klen, int64_t delta,
		    int64_t *result);

/*
 * Set key's time to live to ttl_ms; a ttl_ms <= 0 deletes it (as Redis's
 * EXPIRE). Returns 1 if the key exists, 0 if not; errors as for del.
 */
int ik_cache_expire(ik_cache *c, const void *key, size_t klen, int64_t ttl_ms);

/*
 * *ttl_ms = milliseconds left (rounded up), or -1 when the key has no time
 * to live. Returns 0; -ENOENT if missing; errors as for del.
 */
int ik_cache_ttl(ik_cache *c, const void *key, size_t klen, int64_t *ttl_ms);

/* Remove key's time to live: 1 if it had one, 0 if not or missing. */
int ik_cache_persist(ik_cache *c, const void *key, size_t klen);

/*
 * Number of keys (a key whose time to live has passed counts until it is
 * touched or reclaimed, as in Redis). Exact when no one writes.
 */
int64_t ik_cache_dbsize(ik_cache *c);

/* Remove every key. Returns 0, -ETIMEDOUT, IK_ECORRUPT. */
int ik_cache_flushall(ik_cache *c);

/*
 * Called by ik_cache_scan with copies of one entry (ttl_ms -1: none).
 * Returning non-zero stops the scan after this entry.
 */
typedef int (*ik_cache_scan_fn)(const void *key, size_t klen, const void *val,
				size_t vlen, int64_t ttl_ms, void *arg);

/*
 * Visit about count entries from *cursor (start at 0), calling fn outside
 * every lock, and set *cursor to where to go on (0 when the scan is over).
 * A key present for the whole scan is visited at least once; one added or
 * removed meanwhile may or may not be (Redis's SCAN guarantee). Returns the
 * number visited; -EINVAL, -ENOMEM, -ETIMEDOUT, IK_ECORRUPT.
 */
int ik_cache_scan(ik_cache *c, uint64_t *cursor, size_t count,
		  ik_cache_scan_fn fn, void *arg);

struct ik_cache_stats {
	uint64_t keys;	     /* as ik_cache_dbsize */
	uint64_t hits;	     /* reads that found their key */
	uint64_t misses;     /* reads that did not */
	uint64_t evictions;  /* live keys dropped to make room */
	uint64_t expired;    /* keys removed because their time ran out */
	uint64_t recoveries; /* stripes rebuilt after a holder died */
	uint64_t mem_used;   /* header + index + data in use (dead included) */
	uint64_t mem_live;   /* bytes of the items that are live */
	uint64_t mem_limit;  /* the segment's size: the cap */
	uint64_t item_max;   /* largest item: 28 bytes + key + value */
	uint32_t stripes;
};

/* Fill *st (counters are read without locks). Returns 0 or -EINVAL. */
int ik_cache_stats(ik_cache *c, struct ik_cache_stats *st);

/*
 * Check every stripe's consistency (header, log, index, counters), taking
 * each stripe's lock (which rebuilds a stripe whose holder died). Returns 0
 * when consistent; IK_ECORRUPT otherwise, or with IK_CACHE_REPAIR the
 * number of stripes it rebuilt (the items a corrupt stripe lost are gone).
 * -ETIMEDOUT, -ENOMEM, -EINVAL.
 */
int ik_cache_check(ik_cache *c, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
