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
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>

#define PASS_MAGIC 0x49524b50u /* lib/ring.c's "PKRI" */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Descriptors of the kinds we pass, counted in /proc/self/fd (libFuzzer
 * keeps descriptors of its own, so only ours are looked for). */
static int
ours_open(void)
{
	char path[64], target[128];
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		ssize_t k;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		k = readlink(path, target, sizeof(target) - 1);
		if (k <= 0)
			continue;
		target[k] = '\0';
		if (strstr(target, "memfd:ipckit") ||
		    strstr(target, "eventfd") || strstr(target, "/dev/null"))
			n++;
	}
	closedir(d);
	return n;
}

static int base = -1;

static int
make_fd(unsigned kind, ik_ring **keep)
{
	switch (kind % 3) {
	case 0: {
		ik_ring *r;

		if (ik_ring_create(&r, NULL, IK_RING_MIN_CAPACITY, 0) < 0)
			abort();
		*keep = r;
		return fcntl(ik_ring_fd(r), F_DUPFD_CLOEXEC, 0);
	}
	case 1:
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	default:
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t msg[4];
	unsigned char b[6] = { 0 };
	int fds[6], nfd, sv[2], pair, rc;
	ik_ring *made[6] = { NULL };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(fds))];
	} u;
	struct iovec iov;
	struct msghdr m = { 0 };

	if (base < 0)
		base = ours_open();
	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	pair = (b[0] & 2) != 0;
	msg[0] = b[0] & 1 ? PASS_MAGIC ^ 1 : PASS_MAGIC;
	msg[1] = b[0] & 4 ? b[1] : (pair ? 2u : 1u);
	msg[2] = b[2] & 1;
	msg[3] = (b[2] >> 1) & 1;
	nfd = b[3] % 7;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	for (int i = 0; i < nfd; i++) {
		/* a claimed ring's first descriptor is usually a segment */
		fds[i] = make_fd(b[4] >> i & 1 ? (unsigned)i + 1 : 0, &made[i]);
		if (fds[i] < 0)
			abort();
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
	for (int i = 0; i < nfd; i++) {
		close(fds[i]);
		ik_ring_close(made[i]);
	}
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
	if (ours_open() != base)
		abort(); /* a descriptor the peer passed was kept */
	return 0;
}
