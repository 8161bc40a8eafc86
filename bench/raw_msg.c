/*
 * Raw message baselines: Unix datagram and seqpacket sockets, UDP over
 * loopback, POSIX and System V message queues. One system call per message
 * each way. Each side owns the object it receives on (a bound socket, a
 * queue) and sends to the peer's, as ipckit's channels are paired.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "tool.h"

struct mside {
	int fd;	 /* socket */
	int lfd; /* seqpacket listener */
	mqd_t in, out;
	int qin, qout; /* System V queue ids */
	char *tmp;     /* queues: one message of the largest size */
	size_t tmplen;
	char path[108]; /* what this side created */
	char qname[64];
};

static struct mside *
mside_new(struct bench_end *e)
{
	/* NULL (reported as -ENOMEM) also if SIGPIPE cannot be ignored */
	struct mside *m =
		bench_ignore_sigpipe() == 0 ? calloc(1, sizeof(*m)) : NULL;

	if (m) {
		m->fd = m->lfd = m->qin = m->qout = -1;
		m->in = m->out = (mqd_t)-1;
	}
	e->st = m;
	return m;
}

static void
mside_close(struct bench_end *e)
{
	struct mside *m = e->st;

	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->path[0])
		unlink(m->path);
	if (m->in != (mqd_t)-1)
		mq_close(m->in);
	if (m->out != (mqd_t)-1)
		mq_close(m->out);
	if (m->qname[0])
		mq_unlink(m->qname);
	if (m->qin >= 0)
		msgctl(m->qin, IPC_RMID, NULL);
	free(m->tmp);
	free(m);
	e->st = NULL;
}

/* ---- sockets ---------------------------------------------------------------
 */

static int
unix_addr(struct sockaddr_un *un, const char *path)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(un->sun_path))
		return -ENAMETOOLONG;
	memcpy(un->sun_path, path, strlen(path) + 1);
	return 0;
}

/* unixgram and udp: bind our own, tell the peer, connect to the peer's. */
static int
dgram_open(const struct bench_row *r, struct bench_end *e)
{
	int udp = strcmp(r->mech, "udp") == 0, rc;
	struct mside *m = mside_new(e);
	struct sockaddr_un un;
	struct sockaddr_in in = { .sin_family = AF_INET };
	socklen_t len = sizeof(in);
	char dir[80], name[64], line[160];
	struct timeval tv = { .tv_sec = e->timeout_ms / 1000 };

	if (m == NULL)
		return -ENOMEM;
	m->fd = socket(udp ? AF_INET : AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		return -errno;
	if (udp) {
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(m->fd, (struct sockaddr *)&in, sizeof(in)) < 0 ||
		    getsockname(m->fd, (struct sockaddr *)&in, &len) < 0)
			return -errno;
		snprintf(line, sizeof(line), "%u", ntohs(in.sin_port));
		/* a lost datagram must end the row, not hang it */
		setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		e->maxmsg = 65507;
	} else {
		if ((rc = bench_dir(dir, sizeof(dir))) < 0)
			return rc;
		bench_name(name, sizeof(name), e->side ? "rgb" : "rga");
		snprintf(line, sizeof(line), "%s/%s", dir, name);
		if ((rc = unix_addr(&un, line)) < 0)
			return rc;
		if (bind(m->fd, (struct sockaddr *)&un, sizeof(un)) < 0)
			return -errno;
		snprintf(m->path, sizeof(m->path), "%.107s", line);
	}
	if ((rc = bench_ctl_send(e, line)) < 0 ||
	    (rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	if (udp) {
		in.sin_port = htons((uint16_t)atoi(line));
		rc = connect(m->fd, (struct sockaddr *)&in, sizeof(in));
	} else {
		if ((rc = unix_addr(&un, line)) < 0)
			return rc;
		rc = connect(m->fd, (struct sockaddr *)&un, sizeof(un));
	}
	return rc < 0 ? -errno : 0;
}

static int
seqpacket_open(const struct bench_row *r, struct bench_end *e)
{
	struct mside *m = mside_new(e);
	struct sockaddr_un un;
	char dir[80], name[64], line[160];
	int rc;

	(void)r;
	if (m == NULL)
		return -ENOMEM;
	if (e->side == 0) {
		if ((rc = bench_dir(dir, sizeof(dir))) < 0)
			return rc;
		bench_name(name, sizeof(name), "rp");
		snprintf(line, sizeof(line), "%s/%s", dir, name);
		if ((rc = unix_addr(&un, line)) < 0)
			return rc;
		m->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (m->lfd < 0 ||
		    bind(m->lfd, (struct sockaddr *)&un, sizeof(un)) < 0)
			return -errno;
		snprintf(m->path, sizeof(m->path), "%.107s", line);
		if (listen(m->lfd, 1) < 0)
			return -errno;
		if ((rc = bench_ctl_send(e, line)) < 0)
			return rc;
		m->fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);
		return m->fd < 0 ? -errno : 0;
	}
	if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0 ||
	    (rc = unix_addr(&un, line)) < 0)
		return rc;
	m->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || connect(m->fd, (struct sockaddr *)&un, sizeof(un)) < 0)
		return -errno;
	return 0;
}

static int
sock_send(struct bench_end *e, void *buf, size_t len)
{
	ssize_t n = send(((struct mside *)e->st)->fd, buf, len, MSG_NOSIGNAL);

	return n < 0 ? -errno : (size_t)n == len ? 0 : -EMSGSIZE;
}

static int
sock_recv(struct bench_end *e, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(((struct mside *)e->st)->fd, buf, len, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return (size_t)n == len ? 0 : n == 0 ? -EPIPE : -EBADMSG;
}

/* ---- POSIX queues: each side creates the queue it reads ------------------ */

static int
pmq_open(const struct bench_row *r, struct bench_end *e)
{
	struct mside *m = mside_new(e);
	struct mq_attr a;
	char peer[64];
	int rc;

	(void)r;
	if (m == NULL)
		return -ENOMEM;
	m->qname[0] = '/';
	bench_name(m->qname + 1, sizeof(m->qname) - 1, e->side ? "rqb" : "rqa");
	m->in = mq_open(m->qname, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			S_IRUSR | S_IWUSR, NULL); /* the system's defaults */
	if (m->in == (mqd_t)-1) {
		rc = -errno;
		m->qname[0] = '\0';
		return rc;
	}
	if (mq_getattr(m->in, &a) < 0)
		return -errno;
	e->maxmsg = (size_t)a.mq_msgsize;
	m->tmplen = e->maxmsg;
	if ((m->tmp = malloc(m->tmplen)) == NULL)
		return -ENOMEM;
	if ((rc = bench_ctl_send(e, m->qname)) < 0 ||
	    (rc = bench_ctl_recv(e, peer, sizeof(peer))) < 0)
		return rc;
	m->out = mq_open(peer, O_WRONLY | O_CLOEXEC);
	return m->out == (mqd_t)-1 ? -errno : 0;
}

static int
pmq_send(struct bench_end *e, void *buf, size_t len)
{
	struct mside *m = e->st;

	while (mq_send(m->out, buf, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int
pmq_recv(struct bench_end *e, void *buf, size_t len)
{
	struct mside *m = e->st;
	ssize_t n;

	/* mq_receive wants room for the queue's largest message */
	while ((n = mq_receive(m->in, m->tmp, m->tmplen, NULL)) < 0)
		if (errno != EINTR)
			return -errno;
	if ((size_t)n != len)
		return -EBADMSG;
	memcpy(buf, m->tmp, len);
	return 0;
}

/* ---- System V queues: each side creates the queue it reads --------------- */

static long
msgmax(void)
{
	FILE *f = fopen("/proc/sys/kernel/msgmax", "re");
	long v = 8192;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 8192;
		fclose(f);
	}
	return v;
}

static int
svmq_open(const struct bench_row *r, struct bench_end *e)
{
	struct mside *m = mside_new(e);
	char line[32];
	int rc;

	(void)r;
	if (m == NULL)
		return -ENOMEM;
	m->qin = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | S_IRUSR | S_IWUSR);
	if (m->qin < 0)
		return -errno;
	e->maxmsg = (size_t)msgmax();
	m->tmplen = sizeof(long) + e->maxmsg;
	if ((m->tmp = malloc(m->tmplen)) == NULL)
		return -ENOMEM;
	snprintf(line, sizeof(line), "%d", m->qin);
	if ((rc = bench_ctl_send(e, line)) < 0 ||
	    (rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	m->qout = atoi(line);
	return 0;
}

static int
svmq_send(struct bench_end *e, void *buf, size_t len)
{
	struct mside *m = e->st;
	long one = 1;

	if (len > e->maxmsg)
		return -EMSGSIZE;
	memcpy(m->tmp, &one, sizeof(one)); /* the API wants mtype first */
	memcpy(m->tmp + sizeof(long), buf, len);
	while (msgsnd(m->qout, m->tmp, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int
svmq_recv(struct bench_end *e, void *buf, size_t len)
{
	struct mside *m = e->st;
	ssize_t n;

	while ((n = msgrcv(m->qin, m->tmp, e->maxmsg, 0, 0)) < 0)
		if (errno != EINTR)
			return -errno;
	if ((size_t)n != len)
		return -EBADMSG;
	memcpy(buf, m->tmp + sizeof(long), len);
	return 0;
}

const struct bench_row bench_rows_raw_msg[] = {
	{ "unixgram (raw)", "unixgram", BK_RAW, 0, NULL, NULL, dgram_open,
	  sock_send, sock_recv, mside_close, NULL },
	{ "unixpacket (raw)", "unixpacket", BK_RAW, 0, NULL, NULL,
	  seqpacket_open, sock_send, sock_recv, mside_close, NULL },
	{ "udp (raw)", "udp", BK_RAW, BF_LOSSY, NULL, NULL, dgram_open,
	  sock_send, sock_recv, mside_close, NULL },
	{ "pmq (raw)", "pmq", BK_RAW, 0, NULL, NULL, pmq_open, pmq_send,
	  pmq_recv, mside_close, NULL },
	{ "svmq (raw)", "svmq", BK_RAW, 0, NULL, NULL, svmq_open, svmq_send,
	  svmq_recv, mside_close, NULL },
	{ .name = NULL },
};
