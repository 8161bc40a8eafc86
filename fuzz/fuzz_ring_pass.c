/*
 * libFuzzer target: a ring handed over a Unix socket by a hostile peer
 * (ik_ring_recv_fd, ik_ring_pair_recv). The input shapes the message (magic,
 * ring count, which rings claim eventfds, its length) and the descriptors
 * attached (real ring segments, eventfds, /dev/null). Every refusal is a
 * documented code, frees nothing it did not make, and closes every
 * descriptor received; a success gives handles that close cleanly.
 *
 * Input: [flags][count][efd bits][nfds][fd kinds][len], flags bit 0 a bad
 * magic, bit 1 the pair call (else single), bit 2 use the count byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>

#define PASS_MAGIC 0x49524b50u /* lib/ring.c's "PKRI" */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Every descriptor number below FD_WINDOW, open or not: a received
 * descriptor that is kept (or one of ours closed twice) changes the map.
 * fcntl per number is far cheaper than reading /proc/self/fd each input.
 */
#define FD_WINDOW 64
static unsigned char base[FD_WINDOW];
static int have_base;

static void
fd_map(unsigned char *m, int hi)
{
	for (int fd = 0; fd < hi; fd++)
		m[fd] = fcntl(fd, F_GETFD) >= 0;
}

/*
 * The fixture, made once: one ring segment per descriptor slot (a pair
 * call takes two) and a /dev/null to copy. Each input gets its own copies
 * of the descriptors and segments reset to how ik_ring_create left them,
 * so the receiver sees exactly what a fresh ring would give it.
 */
#define SEG (IK_RING_HDR_SIZE + IK_RING_MIN_CAPACITY)
static ik_ring *rings[6];
static unsigned char *maps[6], pristine[6][SEG];
static int devnull = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < 6; i++) {
		if (ik_ring_create(&rings[i], NULL, IK_RING_MIN_CAPACITY, 0) <
		    0)
			abort();
		maps[i] = mmap(NULL, SEG, PROT_READ | PROT_WRITE, MAP_SHARED,
			       ik_ring_fd(rings[i]), 0);
		if (maps[i] == MAP_FAILED)
			abort();
		memcpy(pristine[i], maps[i], SEG);
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		abort();
	return 0;
}

static int
make_fd(unsigned kind, int slot)
{
	switch (kind % 3) {
	case 0:
		memcpy(maps[slot], pristine[slot], SEG);
		return fcntl(ik_ring_fd(rings[slot]), F_DUPFD_CLOEXEC, 0);
	case 1: /* fresh: a doorbell's count must not carry over */
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	default:
		return fcntl(devnull, F_DUPFD_CLOEXEC, 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t msg[4];
	unsigned char b[6] = { 0 };
	int fds[6], nfd, sv[2], pair, rc, hi;
	unsigned char now[FD_WINDOW];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(fds))];
	} u;
	struct iovec iov;
	struct msghdr m = { 0 };

	if (!have_base) {
		fd_map(base, FD_WINDOW);
		have_base = 1;
	}
	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	pair = (b[0] & 2) != 0;
	msg[0] = b[0] & 1 ? PASS_MAGIC ^ 1 : PASS_MAGIC;
	msg[1] = b[0] & 4 ? b[1] : (pair ? 2u : 1u);
	msg[2] = b[2] & 1;
	msg[3] = (b[2] >> 1) & 1;
	nfd = b[3] % 7;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	hi = sv[0] > sv[1] ? sv[0] : sv[1];
	for (int i = 0; i < nfd; i++) {
		/* a claimed ring's first descriptor is usually a segment */
		fds[i] = make_fd(b[4] >> i & 1 ? (unsigned)i + 1 : 0, i);
		if (fds[i] < 0 || fds[i] >= FD_WINDOW)
			abort(); /* past the window the leak check looks at */
		hi = fds[i] > hi ? fds[i] : hi;
	}
	iov.iov_base = msg;
	iov.iov_len = b[5] % 24 < sizeof(msg) ? b[5] % 24 : sizeof(msg);
	if (b[5] & 0x80)
		iov.iov_len = sizeof(msg);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (nfd > 0) {
		struct cmsghdr *c;

		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
	}
	if (iov.iov_len > 0 && sendmsg(sv[0], &m, MSG_NOSIGNAL) < 0)
		abort();
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	close(sv[0]); /* an empty message: the receiver sees the end */

	if (pair) {
		/* poisoned: a failed call must not touch what it did not fill
		 */
		struct ik_ring_pair p = { (ik_ring *)(uintptr_t)8,
					  (ik_ring *)(uintptr_t)8 };

		rc = ik_ring_pair_recv(&p, sv[1], 0);
		if (rc == 0)
			ik_ring_pair_close(&p);
	} else {
		ik_ring *r = (ik_ring *)(uintptr_t)8;

		rc = ik_ring_recv_fd(&r, sv[1], 0);
		if (rc == 0)
			ik_ring_close(r);
		else if (r != (ik_ring *)(uintptr_t)8)
			abort(); /* out-parameters only on success */
	}
	if (rc != 0 && rc != -EPROTO && rc != -EPIPE && rc != IK_ECTRUNC &&
	    rc != IK_EFORMAT && rc != -EINVAL && rc != -EBUSY &&
	    rc != -EAGAIN) {
		fprintf(stderr, "fuzz_ring_pass: unexpected %d\n", rc);
		abort();
	}
	close(sv[1]);
	/* what the receiver got took the lowest free numbers: those we had
	 * just used, and a few more if the library moved them */
	hi = hi + 8 < FD_WINDOW ? hi + 8 : FD_WINDOW;
	fd_map(now, hi);
	if (memcmp(now, base, (size_t)hi) != 0)
		abort(); /* a descriptor the peer passed was kept */
	return 0;
}
