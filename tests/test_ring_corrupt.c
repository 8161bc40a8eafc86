/*
 * A hostile or broken peer: another process scribbles over the ring's
 * segment (huge lengths, bad kinds and pads, bad indices, random bytes) and
 * the victim gets IK_ECORRUPT, never a crash or an access outside the
 * mapping; a segment of another format or version is IK_EFORMAT.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>

#include "ikt.h"

#define CAP 4096u

static struct ik_ring_shm *
map_fd(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static struct ik_ring_rec *
rec_at(struct ik_ring_shm *shm, uint64_t pos)
{
	return (void *)((char *)shm + IK_RING_HDR_SIZE + (pos & (CAP - 1)));
}

enum scribble {
	HUGE_LEN,
	BAD_KIND,
	LEN_PAST_END,
	BAD_PAD,
	TAIL_AHEAD,
	HEAD_AHEAD,
	HEAD_UNALIGNED,
	HEAD_BACKWARDS,
	MAGIC,
	PEER_STATE,
};

/* The hostile process: one targeted write into the live segment. */
static void
scribble(ik_ring *r, enum scribble what)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_ring_shm *shm =
			map_fd(ik_ring_fd(r), IK_RING_HDR_SIZE + CAP);

		IKT_CHECK(shm != NULL);
		switch (what) {
		case HUGE_LEN:
			rec_at(shm, 0)->len = 0xfffffff0u;
			break;
		case BAD_KIND:
			rec_at(shm, 0)->kind = 77;
			break;
		case LEN_PAST_END:
			/* within max_msg, but past the end of the data area */
			rec_at(shm, CAP - 128)->len = 1000;
			break;
		case BAD_PAD:
			rec_at(shm, CAP - 128)->kind = IK_RING_REC_PAD;
			rec_at(shm, CAP - 128)->len = 5;
			break;
		case TAIL_AHEAD:
			shm->prod.pos = 64 * 5;
			break;
		case HEAD_AHEAD:
			shm->cons.pos = 1u << 20;
			break;
		case HEAD_UNALIGNED:
			shm->cons.pos = 1;
			break;
		case HEAD_BACKWARDS:
			shm->cons.pos = 0;
			break;
		case MAGIC:
			shm->magic ^= 1;
			break;
		case PEER_STATE:
			shm->prod.state = 9;
			break;
		}
		_exit(0);
	}
	ikt_assert_child_ok(pid);
}

static ik_ring *
ring_both(void)
{
	ik_ring *r;

	assert_int_equal(ik_ring_create(&r, NULL, CAP, 0), 0);
	assert_int_equal(ik_ring_attach(r, IK_RING_PRODUCER | IK_RING_CONSUMER),
			 0);
	ik_ring_set_spin(r, 0);
	return r;
}

/* record headers the consumer is about to read */
static void
test_bad_record_headers(void **state)
{
	static const enum scribble kinds[] = { HUGE_LEN, BAD_KIND };
	const void *p;
	char buf[100] = { 0 };

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ik_ring *r = ring_both();

		assert_int_equal(ik_ring_send(r, buf, 40, 0), 0);
		scribble(r, kinds[k]);
		assert_int_equal(ik_ring_peek(r, &p, 0), IK_ECORRUPT);
		/* and it stays broken: no second look at the same lie */
		assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), 0),
				 IK_ECORRUPT);
		ik_ring_close(r);
	}
}

/* a record or pad near the end that claims to run past it */
static void
test_records_past_the_end(void **state)
{
	static const enum scribble kinds[] = { LEN_PAST_END, BAD_PAD };
	char buf[200] = { 0 };
	const void *p;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ik_ring *r = ring_both();

		/* walk to the last line of the data area */
		for (unsigned i = 0; i < CAP / 64 - 2; i++) {
			assert_int_equal(ik_ring_send(r, buf, 10, 0), 0);
			assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), 0),
					 10);
		}
		assert_int_equal(ik_ring_send(r, buf, 20, 0), 0);
		scribble(r, kinds[k]);
		assert_int_equal(ik_ring_peek(r, &p, 0), IK_ECORRUPT);
		ik_ring_close(r);
	}
}

/* the producer's published position lies: there is no such record */
static void
test_bad_tail(void **state)
{
	ik_ring *r = ring_both();
	char buf[64];

	(void)state;
	scribble(r, TAIL_AHEAD);
	assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), 0), IK_ECORRUPT);
	ik_ring_close(r);
	/* found by a blocked consumer as well, not slept on */
	r = ring_both();
	scribble(r, TAIL_AHEAD);
	assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), IKT_WAIT_MS),
			 IK_ECORRUPT);
	ik_ring_close(r);
}

/* the consumer's position lies: the producer refuses to trust it */
static void
test_bad_head(void **state)
{
	static const enum scribble kinds[] = { HEAD_AHEAD, HEAD_UNALIGNED,
					       HEAD_BACKWARDS };
	char buf[100] = { 0 };

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ik_ring *r = ring_both();
		int rc;

		/* move the real head to 4 records, so 0 is "backwards" */
		for (int i = 0; i < 4; i++) {
			assert_int_equal(ik_ring_send(r, buf, 30, 0), 0);
			assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), 0),
					 30);
		}
		/* fill so the producer has to read the head again */
		while ((rc = ik_ring_send(r, buf, 30, 0)) == 0)
			;
		assert_int_equal(rc, -EAGAIN);
		scribble(r, kinds[k]);
		assert_int_equal(ik_ring_send(r, buf, 30, 0), IK_ECORRUPT);
		assert_int_equal(ik_ring_send(r, buf, 30, IKT_WAIT_MS),
				 IK_ECORRUPT);
		ik_ring_close(r);
	}
}

static void
test_bad_magic_and_state(void **state)
{
	ik_ring *r = ring_both();
	char buf[64];

	(void)state;
	scribble(r, MAGIC);
	assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), 0), IK_ECORRUPT);
	ik_ring_close(r);

	/* a consumer alone, with a producer state that means nothing */
	assert_int_equal(ik_ring_create(&r, NULL, CAP, 0), 0);
	assert_int_equal(ik_ring_attach(r, IK_RING_CONSUMER), 0);
	ik_ring_set_spin(r, 0);
	scribble(r, PEER_STATE);
	assert_int_equal(ik_ring_recv(r, buf, sizeof(buf), IKT_WAIT_MS),
			 IK_ECORRUPT);
	ik_ring_close(r);
}

/*
 * Random bytes: a child overwrites random spans of the live segment
 * (header page and data) while messages are queued; the victim drains with
 * timeout 0 and must only ever get an intact-looking message of a sane
 * length (every byte of which it reads), -EAGAIN, -EPIPE or IK_ECORRUPT.
 * When the whole header page is random, the answer is IK_ECORRUPT.
 */
static void
test_random_scribbles(void **state)
{
	char *buf = malloc(CAP);
	int corrupt = 0;

	(void)state;
	assert_non_null(buf);
	for (uint32_t round = 0; round < 300; round++) {
		ik_ring *r = ring_both();
		pid_t pid;
		int rc = 0;

		for (uint32_t i = 0; i < round % 12; i++) {
			ikt_fill(buf, (i * 97 + round) % 200, i);
			assert_int_equal(
				ik_ring_send(r, buf, (i * 97 + round) % 200, 0),
				0);
		}
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			size_t len = IK_RING_HDR_SIZE + CAP;
			unsigned char *m = (void *)map_fd(ik_ring_fd(r), len);
			uint32_t x = round * 2654435761u + 7;

			IKT_CHECK(m != NULL);
			if (round % 10 == 0) {
				ikt_fill(m, IK_RING_HDR_SIZE, round);
				_exit(0);
			}
			for (int k = 0; k < 1 + (int)(round % 8); k++) {
				size_t off, n;

				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				off = x % len;
				x ^= x << 13, x ^= x >> 17, x ^= x << 5;
				n = 1 + x % 64;
				if (off + n > len)
					n = len - off;
				ikt_fill(m + off, n, x);
			}
			_exit(0);
		}
		ikt_assert_child_ok(pid);
		for (int k = 0; k < 40; k++) {
			const void *p;
			ssize_t n = ik_ring_peek(r, &p, 0);

			if (n < 0) {
				rc = (int)n;
				break;
			}
			assert_true((size_t)n <= ik_ring_max_msg(r));
			memcpy(buf, p, (size_t)n); /* faults if out of bounds */
			assert_int_equal(ik_ring_release(r), 0);
		}
		if (rc != -EAGAIN && rc != -EPIPE && rc != IK_ECORRUPT)
			fail_msg("round %u: %s", round, ik_strerror(rc));
		if (round % 10 == 0)
			assert_int_equal(rc, IK_ECORRUPT);
		corrupt += rc == IK_ECORRUPT;
		/* the producer is never led outside the ring either */
		rc = ik_ring_send(r, buf, 100, 0);
		assert_true(rc == 0 || rc == -EAGAIN || rc == -EPIPE ||
			    rc == IK_ECORRUPT);
		ik_ring_close(r);
	}
	assert_true(corrupt >= 30);
	free(buf);
}

/* ---- IK_EFORMAT -------------------------------------------------------- */

static int
memfd_with(const void *hdr, size_t hlen, off_t size)
{
	int fd = memfd_create("ikt-notring", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(pwrite(fd, hdr, hlen, 0), (ssize_t)hlen);
	return fd;
}

static void
test_other_format(void **state)
{
	struct ik_ring_shm good = { .magic = IK_RING_MAGIC,
				    .version = IK_RING_VERSION,
				    .hdr_size = IK_RING_HDR_SIZE,
				    .capacity = CAP };
	struct ik_ring_shm h;
	off_t full = IK_RING_HDR_SIZE + CAP;
	ik_ring *r;
	int fd;

	(void)state;
	/* the control: a well-formed header is accepted */
	fd = memfd_with(&good, sizeof(good), full);
	assert_int_equal(ik_ring_open_fd(&r, fd), 0);
	assert_int_equal(ik_ring_capacity(r), CAP);
	ik_ring_close(r);
	close(fd);

	h = good;
	h.magic = 0x1122334455667788ull;
	fd = memfd_with(&h, sizeof(h), full);
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);

	h = good;
	h.version = 2;
	fd = memfd_with(&h, sizeof(h), full);
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);

	h = good;
	h.capacity = CAP + 64; /* not a power of two */
	fd = memfd_with(&h, sizeof(h), IK_RING_HDR_SIZE + CAP + 64);
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);

	h = good;
	h.capacity = (uint64_t)1 << 40; /* larger than the file */
	fd = memfd_with(&h, sizeof(h), full);
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);

	fd = memfd_with(&good, sizeof(good), full - 1); /* truncated */
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);

	fd = memfd_with(&good, 16, 100); /* shorter than a header */
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);

	fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* not a regular file */
	assert_int_equal(ik_ring_open_fd(&r, fd), IK_EFORMAT);
	close(fd);
}

/* by name: another program's /dev/shm object is refused, and left alone */
static void
test_other_format_by_name(void **state)
{
	char tag[64], name[80];
	ik_ring *r;
	pid_t pid;
	int fd;

	(void)state;
	ikt_name(tag, sizeof(tag), "notring");
	snprintf(name, sizeof(name), "/%s", tag);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char junk[8192];

		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		IKT_CHECK(fd >= 0);
		ikt_fill(junk, sizeof(junk), 5);
		IKT_CHECK(write(fd, junk, sizeof(junk)) == sizeof(junk));
		_exit(0);
	}
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_ring_open(&r, name), IK_EFORMAT);
	assert_int_equal(ik_ring_unlink(name), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_record_headers),
		cmocka_unit_test(test_records_past_the_end),
		cmocka_unit_test(test_bad_tail),
		cmocka_unit_test(test_bad_head),
		cmocka_unit_test(test_bad_magic_and_state),
		cmocka_unit_test(test_random_scribbles),
		cmocka_unit_test(test_other_format),
		cmocka_unit_test(test_other_format_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
