/*
 * libFuzzer target: a ring segment written by a hostile peer. The input
 * becomes the segment (header overlay + data area) in a memfd; we open it
 * and play one side until an error. Opening either refuses the geometry
 * (IK_EFORMAT, -EINVAL) or every later call returns a documented code;
 * a message handed out always lies inside the data area, peeking twice
 * gives the same message, and nothing is read outside the mapping.
 *
 * Input: byte 0 flags, then up to sizeof(struct ik_ring_shm) header bytes,
 * then up to CAP data bytes.
 *   0x01 raw header (else magic/version/sizes forced valid)
 *   0x02 keep the flags word (else 0)
 *   0x04 keep our side's state (else FREE, so attach works)
 *   0x08 the peer's pid is ours (alive)
 *   0x10 stamp a valid tag on each record (only len/kind lie)
 *   0x20 peer's position = the end of the stamped records
 *   0x40 play the producer (the consumer is the hostile peer)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>

#define CAP IK_RING_MIN_CAPACITY
#define SEG (IK_RING_HDR_SIZE + CAP)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static unsigned char seg[SEG];

static uint64_t
align64(uint64_t n)
{
	return (n + IK_RING_ALIGN - 1) & ~(uint64_t)(IK_RING_ALIGN - 1);
}

/* Give each record in the data area a published tag, walking as a
 * well-behaved producer would; returns the position after the last. */
static uint64_t
stamp(unsigned char *d)
{
	uint64_t pos = 0;

	while (pos + sizeof(struct ik_ring_rec) <= CAP) {
		struct ik_ring_rec rec;

		memcpy(&rec, d + pos, sizeof(rec));
		rec.tag = ~pos;
		memcpy(d + pos, &rec, sizeof(rec));
		if (rec.kind == IK_RING_REC_PAD)
			return CAP;
		if (rec.len > CAP)
			break;
		pos += align64(sizeof(rec) + rec.len);
	}
	return pos;
}

static void
check_ret(long r, int producer)
{
	if (r == -EAGAIN || r == -EPIPE || r == IK_ECORRUPT)
		return;
	if (producer && r == -EMSGSIZE)
		return;
	abort(); /* an undocumented result */
}

static void
consume(ik_ring *r)
{
	const void *p, *p2;
	unsigned char copy[CAP];
	ssize_t n, n2;

	for (unsigned i = 0; i < 2 * CAP / IK_RING_ALIGN + 4; i++) {
		n = ik_ring_peek(r, &p, 0);
		if (n < 0) {
			check_ret(n, 0);
			/* a corrupt ring stays broken */
			if (n == IK_ECORRUPT && ik_ring_peek(r, &p, 0) != n)
				abort();
			return;
		}
		if ((size_t)n > ik_ring_max_msg(r) ||
		    (size_t)n > CAP - sizeof(struct ik_ring_rec))
			abort();
		memcpy(copy, p, (size_t)n); /* faults if outside the map */
		n2 = ik_ring_peek(r, &p2, 0);
		if (n2 != n || p2 != p || memcmp(copy, p2, (size_t)n) != 0)
			abort();
		if (ik_ring_release(r) != 0)
			abort();
	}
	abort(); /* more records than can fit: the positions went round */
}

static void
produce(ik_ring *r, const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < 2 * CAP / IK_RING_ALIGN + 4; i++) {
		size_t len = size ? data[i % size] * 8u : 1;
		void *buf;
		int rc = ik_ring_reserve(r, len, &buf, 0);

		if (rc < 0) {
			check_ret(rc, 1);
			return;
		}
		memset(buf, 0x5a, len);
		if (ik_ring_commit(r, len) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ik_ring_shm h;
	unsigned flags, role;
	size_t hn, dn;
	ik_ring *r;
	int rc;

	if (size == 0)
		return 0;
	if (memfd < 0) {
		memfd = memfd_create("fuzz_ring", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, SEG) < 0)
			abort();
	}
	flags = data[0];
	data++;
	size--;
	memset(seg, 0, sizeof(seg));
	hn = size < sizeof(h) ? size : sizeof(h);
	memset(&h, 0, sizeof(h));
	memcpy(&h, data, hn);
	dn = size - hn < CAP ? size - hn : CAP;
	memcpy(seg + IK_RING_HDR_SIZE, data + hn, dn);

	role = flags & 0x40 ? IK_RING_PRODUCER : IK_RING_CONSUMER;
	if (!(flags & 0x01)) {
		h.magic = IK_RING_MAGIC;
		h.version = IK_RING_VERSION;
		h.hdr_size = IK_RING_HDR_SIZE;
		h.capacity = CAP;
	}
	if (!(flags & 0x02))
		h.flags = 0;
	if (!(flags & 0x04)) {
		if (role == IK_RING_CONSUMER)
			h.cons.state = IK_RING_FREE;
		else
			h.prod.state = IK_RING_FREE;
	}
	if (flags & 0x08) {
		if (role == IK_RING_CONSUMER)
			h.prod.pid = (int32_t)getpid();
		else
			h.cons.pid = (int32_t)getpid();
	}
	if (flags & 0x10) {
		uint64_t end = stamp(seg + IK_RING_HDR_SIZE);

		if (flags & 0x20)
			h.prod.pos = end;
	}
	memcpy(seg, &h, sizeof(h));
	if (pwrite(memfd, seg, sizeof(seg), 0) != (ssize_t)sizeof(seg))
		abort();

	rc = ik_ring_open_fd(&r, memfd);
	if (rc < 0) {
		if (rc != IK_EFORMAT && rc != -EINVAL)
			abort();
		return 0;
	}
	ik_ring_set_spin(r, 0);
	rc = ik_ring_attach(r, (int)role);
	if (rc == 0) {
		if (role == IK_RING_CONSUMER)
			consume(r);
		else
			produce(r, data + hn, size - hn);
	} else if (rc != -EBUSY) {
		abort();
	}
	ik_ring_close(r);
	return 0;
}
