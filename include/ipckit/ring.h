/*
 * ik_ring: a single-producer single-consumer ring of variable-size messages
 * in one shared-memory segment (a memfd to pass, or a /dev/shm name). Each
 * message arrives whole, once, in order; zero-copy on both sides. A waiting
 * side spins briefly, then sleeps on a futex; a crashed or closed peer gives
 * -EPIPE, and a segment written by a hostile peer gives IK_ECORRUPT, never
 * an access outside the mapping (everything read back is validated).
 */
#ifndef IPCKIT_RING_H
#define IPCKIT_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ik_ring ik_ring;

/* Roles, for ik_ring_attach (a handle may hold both, one thread each). */
#define IK_RING_PRODUCER 0x1
#define IK_RING_CONSUMER 0x2

/* Flags for ik_ring_create. */
#define IK_RING_EVENTFD 0x1 /* readiness descriptors (unnamed rings only) */

#define IK_RING_MIN_CAPACITY 4096u
#define IK_RING_MAX_CAPACITY (1u << 30)

/*
 * Create a ring of capacity bytes (a power of two between the limits above).
 * name NULL: an anonymous, sealed memfd, shared by fork or ik_ring_send_fd.
 * name "/x": a POSIX shared-memory object, created O_EXCL with mode 0600 and
 * removed again by ik_ring_close in the creating process. The handle holds
 * no role yet (see ik_ring_attach). Largest message: ik_ring_max_msg().
 * Returns 0, -EINVAL (capacity, name, flags), -EEXIST, -ENOMEM, or errno.
 */
int ik_ring_create(ik_ring **out, const char *name, size_t capacity,
		   unsigned flags);

/*
 * Open a named ring made by ik_ring_create. Returns 0, -ENOENT, IK_EOWNER
 * (another user's object), IK_EFORMAT (not a ring of this version, or
 * truncated), -EINVAL (bad name, or a ring made with IK_RING_EVENTFD, whose
 * descriptors a name cannot carry), or a negative errno.
 */
int ik_ring_open(ik_ring **out, const char *name);

/*
 * Map the ring segment behind fd (the caller keeps fd; the handle holds a
 * duplicate). Same returns as ik_ring_open.
 */
int ik_ring_open_fd(ik_ring **out, int fd);

/* Remove a ring's name; mapped handles keep working. 0 or negative errno. */
int ik_ring_unlink(const char *name);

/*
 * Claim a role (IK_RING_PRODUCER, IK_RING_CONSUMER, or both for two threads
 * of one process). Records this process's pid so the peer can tell when it
 * dies. Maps the whole segment into this process up front
 * (MADV_POPULATE_WRITE, advice only), so the first lap takes no page
 * faults: about 1 ms per 4 MiB of ring, work the first lap would do.
 * Returns 0, -EBUSY (role already claimed by someone), -EINVAL.
 * After fork, a child must not use roles its parent attached.
 */
int ik_ring_attach(ik_ring *r, int roles);

/*
 * Detach (the peer then gets -EPIPE: a consumer after draining what is
 * left), wake a sleeping peer, unlink a name this process created, unmap and
 * close. A handle inherited through fork only unmaps and closes. NULL is ok.
 */
void ik_ring_close(ik_ring *r);

/*
 * Spin this long (microseconds) before sleeping on the futex: -1 spins
 * forever (lowest latency, burns a CPU), 0 sleeps at once. Default 20.
 */
void ik_ring_set_spin(ik_ring *r, int spin_us);

int ik_ring_fd(const ik_ring *r);	   /* the segment's descriptor */
size_t ik_ring_capacity(const ik_ring *r); /* bytes of data area */
size_t ik_ring_max_msg(const ik_ring *r);  /* largest message accepted */

/*
 * Producer, zero-copy: wait for room for a len-byte message and point *buf
 * at it in the shared segment. Nothing is visible to the consumer until
 * ik_ring_commit. Blocks up to timeout_ms (-1 forever, 0 not at all).
 * Returns 0, -EMSGSIZE (len > max_msg), -EAGAIN (timeout 0, full),
 * -ETIMEDOUT, -EPIPE (consumer closed or died), -EBUSY (a reservation is
 * already open), -EBADF (not the producer), IK_ECORRUPT.
 */
int ik_ring_reserve(ik_ring *r, size_t len, void **buf, int timeout_ms);

/*
 * Publish the reserved message, trimmed to len (<= the reserved length).
 * Wakes the consumer only if it sleeps or is armed. Returns 0, -EINVAL
 * (nothing reserved, or len too big), -EBADF.
 */
int ik_ring_commit(ik_ring *r, size_t len);

/* reserve + copy + commit. Same returns as ik_ring_reserve. */
int ik_ring_send(ik_ring *r, const void *buf, size_t len, int timeout_ms);

/*
 * Consumer, zero-copy: wait for the next message and point *buf at it in
 * the shared segment (valid until ik_ring_release; a hostile producer could
 * still change its bytes, so copy what must not change). Peeking again
 * before release returns the same message. Returns its length (0 is a
 * valid message), -EAGAIN, -ETIMEDOUT, -EPIPE (producer closed or died and
 * nothing is left), -EBADF (not the consumer), IK_ECORRUPT (bad header,
 * length or index in the segment; the handle then stays broken).
 */
ssize_t ik_ring_peek(ik_ring *r, const void **buf, int timeout_ms);

/* Give the peeked message's space back. 0, -EINVAL (nothing peeked). */
int ik_ring_release(ik_ring *r);

/*
 * peek + copy + release. Returns the length, -EMSGSIZE when cap is too
 * small (the message stays in the ring), or as ik_ring_peek.
 */
ssize_t ik_ring_recv(ik_ring *r, void *buf, size_t cap, int timeout_ms);

/*
 * Event loops (rings created with IK_RING_EVENTFD): the descriptor to poll
 * for POLLIN, for this handle's single role: the consumer's becomes readable
 * when a message may be there, the producer's when room may have appeared.
 * It is signalled only when armed: ik_ring_arm drains it, then returns 1 if
 * the ring is ready now (do not poll, go on), 0 if armed (poll, then try
 * again with timeout 0). An armed peer costs one eventfd write per wake-up;
 * an unarmed one costs the other side nothing. -ENOTSUP without the flag,
 * -EINVAL unless exactly one role is attached; -EPIPE, IK_ECORRUPT.
 */
int ik_ring_event_fd(const ik_ring *r);
int ik_ring_arm(ik_ring *r);

/* Counters of one role of this handle (not shared with the peer). */
struct ik_ring_stats {
	uint64_t messages; /* committed or released */
	uint64_t bytes;	   /* payload bytes */
	uint64_t sleeps;   /* futex waits entered */
	uint64_t wakeups;  /* futex wakes issued to the peer */
};
int ik_ring_stats(const ik_ring *r, int role, struct ik_ring_stats *out);

/*
 * Hand a ring to another process over a connected Unix socket (SCM_RIGHTS:
 * the memfd plus any eventfds). The receiver gets an unattached handle.
 * recv: 0, -ETIMEDOUT, -EPROTO (not a ring message), IK_ECTRUNC, IK_EFORMAT.
 */
int ik_ring_send_fd(const ik_ring *r, int sock);
int ik_ring_recv_fd(ik_ring **out, int sock, int timeout_ms);

/*
 * Bidirectional use: two rings. create makes both and attaches this side as
 * producer of tx and consumer of rx; send passes them over sock; recv, in
 * the other process, attaches the mirror image (it sends on what we
 * receive). close closes both. Returns as the single-ring calls.
 */
struct ik_ring_pair {
	ik_ring *tx;
	ik_ring *rx;
};
int ik_ring_pair_create(struct ik_ring_pair *p, size_t capacity,
			unsigned flags);
int ik_ring_pair_send(const struct ik_ring_pair *p, int sock);
int ik_ring_pair_recv(struct ik_ring_pair *p, int sock, int timeout_ms);
void ik_ring_pair_close(struct ik_ring_pair *p);

/*
 * Segment format, version 1 (for tools and tests; fixed-width, native
 * endian). One page of header, then the data area. The geometry of line 0
 * is written once by the creator; each side then owns one position line
 * (written per message) and one control line (written only to sleep,
 * attach or close), 128 bytes apart so adjacent-line prefetch does not make
 * them share. Records start on 64-byte boundaries: a 16-byte header, then
 * the payload. A record is published by storing tag = ~position last, so the
 * consumer polls the record itself, never a shared index, and stale bytes of
 * an earlier lap never look published.
 */
#define IK_RING_MAGIC 0x31474e4952544b49ull /* "IKTRING1" */
#define IK_RING_VERSION 1u
#define IK_RING_HDR_SIZE 4096u
#define IK_RING_ALIGN 64u

enum { IK_RING_FREE = 0, IK_RING_ATTACHED = 1, IK_RING_CLOSED = 2 };
#define IK_RING_WAIT_FUTEX 0x1u /* side sleeps on its seq futex */
#define IK_RING_WAIT_EVENT 0x2u /* side is armed on its eventfd */

struct ik_ring_side {
	uint64_t pos; /* bytes committed (producer) / released (consumer) */
	uint8_t pad0[120];
	uint32_t state; /* IK_RING_FREE / ATTACHED / CLOSED */
	int32_t pid;	/* attached process */
	uint32_t wait;	/* IK_RING_WAIT_* set by this side before sleeping */
	uint32_t seq;	/* the futex this side sleeps on */
	uint8_t pad1[112];
};

struct ik_ring_shm {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size; /* IK_RING_HDR_SIZE */
	uint64_t capacity; /* data area bytes, a power of two */
	uint32_t flags;	   /* IK_RING_EVENTFD */
	uint32_t reserved;
	uint8_t pad[96];
	struct ik_ring_side prod;
	struct ik_ring_side cons;
};

#define IK_RING_REC_DATA 1u
#define IK_RING_REC_PAD 2u /* skip to the end of the data area */
struct ik_ring_rec {
	uint64_t tag; /* ~position once published */
	uint32_t len; /* payload bytes (PAD: bytes to the end minus header) */
	uint32_t kind;
};

#ifdef __cplusplus
}
#endif
#endif
