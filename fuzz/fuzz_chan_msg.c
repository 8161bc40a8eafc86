/*
 * libFuzzer target: the channel receive path of the message schemes
 * (seqpacket connections, datagram listeners) facing a hostile peer. The
 * peer is a raw socket of ours; the input is a list of messages it sends,
 * each with a receive buffer size and optionally a descriptor attached
 * (SCM_RIGHTS, which a channel never expects). Every message must come out
 * exactly as sent, or as -EMSGSIZE (kept for a bigger buffer when it fits
 * maxmsg, dropped when it fits no buffer the call could use) or for its
 * descriptors (IK_ECTRUNC, the descriptor closed); no descriptor leaks.
 *
 * Input: byte 0 picks the scheme (bit 0); then records of
 *   [flags][len lo][len hi][payload...]: flags bit 0 attach a descriptor,
 *   bits 1-2 the receive buffer (maxmsg, len, len - 1, 16).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ipckit/chan.h>
#include <ipckit/error.h>

#define MAXMSG 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pair {
	struct ik_chan *listener, *rx; /* rx: what we receive on */
	int peer;		       /* the hostile end */
	int dgram;
};

static struct pair pairs[2];
static int ready;
static dev_t null_rdev;
static int null_base; /* /dev/null descriptors we started with */
static unsigned char rbuf[MAXMSG * 2];

static void
abstract_addr(struct sockaddr_un *sa, socklen_t *len, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path + 1, name, strlen(name));
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(name));
}

static void
setup(struct pair *p, int dgram)
{
	char name[64], addr[160], err[256];
	struct sockaddr_un sa;
	socklen_t salen;

	snprintf(name, sizeof(name), "ikfz-%d-%s", (int)getpid(),
		 dgram ? "dg" : "pkt");
	snprintf(addr, sizeof(addr), "abstract:%s?maxmsg=%d&type=%s", name,
		 MAXMSG, dgram ? "dgram" : "seqpacket");
	if (ik_chan_listen(&p->listener, addr, err, sizeof(err)) < 0) {
		fprintf(stderr, "listen %s: %s\n", addr, err);
		abort();
	}
	p->dgram = dgram;
	p->peer =
		socket(AF_UNIX,
		       (dgram ? SOCK_DGRAM : SOCK_SEQPACKET) | SOCK_CLOEXEC, 0);
	abstract_addr(&sa, &salen, name);
	if (p->peer < 0 || connect(p->peer, (struct sockaddr *)&sa, salen) < 0)
		abort();
	if (dgram)
		p->rx = p->listener;
	else if (ik_chan_accept(p->listener, &p->rx, 5000) < 0)
		abort();
}

/* How many of our descriptors are /dev/null, what the peer passes?
 * (libFuzzer opens descriptors of its own, so only those are counted.) */
static int
dev_null_open(void)
{
	struct stat st;
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int found = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) &&
		    fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		    st.st_rdev == null_rdev)
			found++;
	}
	closedir(d);
	return found;
}

static int
send_msg(int sock, const uint8_t *buf, size_t len, int with_fd)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	int fd = -1;
	ssize_t n;

	if (with_fd) {
		struct cmsghdr *c;

		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			abort();
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (fd >= 0)
		close(fd);
	if (n >= 0 && (size_t)n != len)
		abort(); /* a message socket sends all or nothing */
	return n < 0 ? -1 : 0;
}

/* Receive one sent message as the documented contract says it arrives. */
static void
expect(struct pair *p, const uint8_t *msg, size_t len, int with_fd,
       unsigned bufsel)
{
	size_t caps[4] = { MAXMSG, len, len ? len - 1 : 0, 16 };
	size_t cap = caps[bufsel];
	ssize_t n = ik_chan_recv(p->rx, rbuf, cap, 0);

	/* a buffer of maxmsg or more takes what fits it, a smaller one is
	 * backed by a stage of maxmsg bytes */
	size_t limit = cap < MAXMSG ? MAXMSG : cap;

	if (with_fd && n == IK_ECTRUNC)
		return; /* refused whole, descriptor closed */
	if (len > limit) {
		if (n != -EMSGSIZE)
			abort(); /* cannot be kept: dropped */
		return;
	}
	if (len > cap) {
		if (n != -EMSGSIZE)
			abort(); /* kept: a bigger buffer gets it */
		n = ik_chan_recv(p->rx, rbuf, MAXMSG, 0);
	}
	if (n != (ssize_t)len || memcmp(rbuf, msg, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pair *p;
	size_t off = 1;
	int sent = 0, fds_sent = 0;

	if (!ready) {
		struct stat st;

		if (stat("/dev/null", &st) < 0)
			abort();
		null_rdev = st.st_rdev;
		setup(&pairs[0], 0);
		setup(&pairs[1], 1);
		null_base = dev_null_open();
		ready = 1;
	}
	if (size == 0)
		return 0;
	p = &pairs[data[0] & 1];
	while (off + 3 <= size && sent < 64) {
		unsigned flags = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;

		off += 3;
		len %= MAXMSG + 64; /* a few above maxmsg too */
		if (len > size - off)
			len = size - off;
		if (send_msg(p->peer, data + off, len, flags & 1) < 0)
			break; /* the socket buffer is full: stop here */
		fds_sent |= flags & 1;
		expect(p, data + off, len, flags & 1, (flags >> 1) & 3);
		off += len;
		sent++;
	}
	if (ik_chan_recv(p->rx, rbuf, sizeof(rbuf), 0) != -EAGAIN)
		abort(); /* nothing left over, nothing invented */
	if (fds_sent && dev_null_open() != null_base)
		abort(); /* a descriptor the peer passed was kept open */
	return 0;
}
