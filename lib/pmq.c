/*
 * POSIX message queues: see <ipckit/pmq.h>. ipckit adds name validation,
 * O_EXCL + 0600 + O_CLOEXEC on create, the fs.mqueue and RLIMIT_MSGQUEUE
 * limits checked before the call with named errors (the kernel answers all of
 * them with EINVAL or EMFILE), and monotonic deadlines that survive EINTR.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/pmq.h>

#include "internal/io.h"
#include "internal/proc.h"
#include "internal/time.h"

/* Kernel bookkeeping per message (struct msg_msg) and per priority level
 * (struct posix_msg_tree_node), both 48 bytes on 64-bit Linux. */
#define MSG_OVERHEAD 48
#define PRIO_OVERHEAD 48

#define PROC_MQ "/proc/sys/fs/mqueue/"

/* "/name": one leading slash, 1..NAME_MAX characters, no other slash. */
static int
check_name(const char *name)
{
	size_t len;

	if (name == NULL || name[0] != '/')
		return -EINVAL;
	len = strnlen(name + 1, NAME_MAX + 1);
	if (len == 0 || strchr(name + 1, '/') != NULL ||
	    strcmp(name, "/.") == 0 || strcmp(name, "/..") == 0)
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int
check_oflag(int oflag)
{
	if ((oflag & ~(O_ACCMODE | O_NONBLOCK)) != 0 ||
	    (oflag & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	return 0;
}

long long
ik_pmq_bytes(long maxmsg, long msgsize)
{
	long long m = maxmsg, s = msgsize, text, tree;

	if (m <= 0 || s <= 0)
		return -1;
	if (__builtin_mul_overflow(m, s, &text))
		return -1;
	tree = m * MSG_OVERHEAD +
	       (m < IK_PMQ_PRIO_MAX ? m : IK_PMQ_PRIO_MAX) * PRIO_OVERHEAD;
	if (__builtin_add_overflow(text, tree, &text))
		return -1;
	return text;
}

int
ik_pmq_limits(struct ik_pmq_limits *lim)
{
	struct ik_pmq_limits l;
	struct rlimit rl;
	int r;

	if (lim == NULL)
		return -EINVAL;
	if ((r = ik__proc_long(PROC_MQ "msg_max", &l.msg_max)) < 0 ||
	    (r = ik__proc_long(PROC_MQ "msgsize_max", &l.msgsize_max)) < 0 ||
	    (r = ik__proc_long(PROC_MQ "queues_max", &l.queues_max)) < 0 ||
	    (r = ik__proc_long(PROC_MQ "msg_default", &l.msg_default)) < 0 ||
	    (r = ik__proc_long(PROC_MQ "msgsize_default", &l.msgsize_default)) <
		    0)
		return r;
	if (getrlimit(RLIMIT_MSGQUEUE, &rl) < 0)
		return -errno;
	l.rlimit_bytes = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX
				 ? -1
				 : (long)rl.rlim_cur;
	*lim = l;
	return 0;
}

/*
 * The kernel says EINVAL for every limit and EMFILE for both RLIMIT_NOFILE
 * and RLIMIT_MSGQUEUE: checking first is what lets the caller learn which
 * knob to turn. A privileged caller (CAP_SYS_RESOURCE) may exceed the /proc
 * limits, so for it the kernel decides and the answer is mapped afterwards.
 */
static int
precheck(const struct ik_pmq_limits *l, long maxmsg, long msgsize)
{
	long long bytes;

	if (!ik__has_cap(CAP_SYS_RESOURCE)) {
		if (maxmsg > l->msg_max)
			return IK_EMQ_MSG_MAX;
		if (msgsize > l->msgsize_max)
			return IK_EMQ_MSGSIZE_MAX;
	}
	bytes = ik_pmq_bytes(maxmsg, msgsize);
	if (bytes < 0 || (l->rlimit_bytes >= 0 && bytes > l->rlimit_bytes))
		return IK_ERLIMIT_MSGQUEUE;
	return 0;
}

static int
map_create_error(int e, const struct ik_pmq_limits *l, long maxmsg,
		 long msgsize)
{
	int fd;

	switch (e) {
	case EINVAL:
		if (maxmsg > l->msg_max)
			return IK_EMQ_MSG_MAX;
		if (msgsize > l->msgsize_max)
			return IK_EMQ_MSGSIZE_MAX;
		return -EINVAL;
	case ENOSPC:
		return IK_EMQ_QUEUES_MAX;
	case EMFILE:
		/* a free descriptor means the byte limit refused the queue
		 * (this queue fits alone: the user's other queues count) */
		fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 && errno == EBADF)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -EMFILE;
		ik__close(fd);
		return IK_ERLIMIT_MSGQUEUE;
	default:
		return -e;
	}
}

int
ik_pmq_create(const char *name, int oflag, unsigned mode,
	      const struct ik_pmq_attr *attr, mqd_t *q)
{
	struct ik_pmq_limits l;
	struct mq_attr ma = { 0 };
	mqd_t d;
	int r;

	if ((r = check_name(name)) < 0 || (r = check_oflag(oflag)) < 0)
		return r;
	if (q == NULL || (mode & ~0777u) != 0)
		return -EINVAL;
	if (attr && (attr->maxmsg <= 0 || attr->msgsize <= 0))
		return -EINVAL;
	if ((r = ik_pmq_limits(&l)) < 0)
		return r;
	/* without attr the kernel takes the defaults, capped by the maxima */
	ma.mq_maxmsg =
		attr ? attr->maxmsg
		     : (l.msg_default < l.msg_max ? l.msg_default : l.msg_max);
	ma.mq_msgsize =
		attr ? attr->msgsize
		     : (l.msgsize_default < l.msgsize_max ? l.msgsize_default
							  : l.msgsize_max);
	if ((r = precheck(&l, ma.mq_maxmsg, ma.mq_msgsize)) < 0)
		return r;
	d = mq_open(name, oflag | O_CREAT | O_EXCL | O_CLOEXEC,
		    (mode_t)(mode ? mode : 0600), attr ? &ma : NULL);
	if (d == (mqd_t)-1)
		return map_create_error(errno, &l, ma.mq_maxmsg, ma.mq_msgsize);
	*q = d;
	return 0;
}

int
ik_pmq_open(const char *name, int oflag, mqd_t *q)
{
	mqd_t d;
	int r;

	if ((r = check_name(name)) < 0 || (r = check_oflag(oflag)) < 0)
		return r;
	if (q == NULL)
		return -EINVAL;
	d = mq_open(name, oflag | O_CLOEXEC);
	if (d == (mqd_t)-1)
		return -errno;
	*q = d;
	return 0;
}

/*
 * The kernel wait's CLOCK_REALTIME instant for what is left of a monotonic
 * deadline; {0, 0} (long past) for "do not block" on a blocking descriptor.
 */
static struct timespec
kernel_deadline(const struct ik__deadline *d, int timeout_ms)
{
	struct timespec zero = { 0, 0 };

	return timeout_ms == 0 ? zero : ik__deadline_abs_realtime(d);
}

/*
 * After a failed send or receive (errno set), the tail both loops share:
 * EINTR retries; ETIMEDOUT from the kernel is "would block" with timeout 0,
 * else final only once the monotonic deadline has passed (the realtime
 * clock may have jumped forward). Returns the error to report, or 0 to
 * retry.
 */
static int
retry_after(const struct ik__deadline *d, int timeout_ms)
{
	switch (errno) {
	case EINTR:
		return 0;
	case ETIMEDOUT:
		if (timeout_ms == 0)
			return -EAGAIN;
		return ik__deadline_expired(d) ? -ETIMEDOUT : 0;
	default:
		return -errno;
	}
}

int
ik_pmq_send(mqd_t q, const void *buf, size_t len, unsigned prio, int timeout_ms)
{
	struct ik__deadline d;
	struct timespec ts;
	int r;

	if (prio >= IK_PMQ_PRIO_MAX || (buf == NULL && len > 0))
		return -EINVAL;
	if (buf == NULL) /* glibc declares the message nonnull (clang-tidy) */
		buf = "";
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		if (timeout_ms < 0) {
			r = mq_send(q, buf, len, prio);
		} else {
			ts = kernel_deadline(&d, timeout_ms);
			r = mq_timedsend(q, buf, len, prio, &ts);
		}
		if (r == 0)
			return 0;
		if ((r = retry_after(&d, timeout_ms)) < 0)
			return r;
	}
}

ssize_t
ik_pmq_recv(mqd_t q, void *buf, size_t len, unsigned *prio, int timeout_ms)
{
	struct ik__deadline d;
	struct timespec ts;
	unsigned p;
	ssize_t n;
	int r;

	if (buf == NULL)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		if (timeout_ms < 0) {
			n = mq_receive(q, buf, len, &p);
		} else {
			ts = kernel_deadline(&d, timeout_ms);
			n = mq_timedreceive(q, buf, len, &p, &ts);
		}
		if (n >= 0)
			break;
		if ((r = retry_after(&d, timeout_ms)) < 0)
			return r;
	}
	if (prio)
		*prio = p;
	return n;
}

int
ik_pmq_fd(mqd_t q)
{
	return (int)q;
}

int
ik_pmq_getattr(mqd_t q, struct ik_pmq_attr *attr)
{
	struct mq_attr ma;

	if (attr == NULL)
		return -EINVAL;
	if (mq_getattr(q, &ma) < 0)
		return -errno;
	attr->maxmsg = ma.mq_maxmsg;
	attr->msgsize = ma.mq_msgsize;
	attr->curmsgs = ma.mq_curmsgs;
	attr->nonblock = (ma.mq_flags & O_NONBLOCK) != 0;
	return 0;
}

int
ik_pmq_set_nonblock(mqd_t q, bool on)
{
	struct mq_attr ma = { 0 };

	ma.mq_flags = on ? O_NONBLOCK : 0;
	if (mq_setattr(q, &ma, NULL) < 0)
		return -errno;
	return 0;
}

static int
notify(mqd_t q, const struct sigevent *ev)
{
	if (mq_notify(q, ev) < 0)
		return -errno;
	return 0;
}

int
ik_pmq_notify_signal(mqd_t q, int signo, union sigval value)
{
	struct sigevent ev;

	if (signo <= 0 || signo > SIGRTMAX)
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = signo;
	ev.sigev_value = value;
	return notify(q, &ev);
}

int
ik_pmq_notify_thread(mqd_t q, void (*fn)(union sigval), union sigval value,
		     const pthread_attr_t *attr)
{
	struct sigevent ev;

	if (fn == NULL)
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD;
	ev.sigev_notify_function = fn;
	ev.sigev_value = value;
	/* glibc copies the attributes; it does not write through them */
	ev.sigev_notify_attributes = (pthread_attr_t *)(uintptr_t)attr;
	return notify(q, &ev);
}

int
ik_pmq_notify_cancel(mqd_t q)
{
	return notify(q, NULL);
}

int
ik_pmq_close(mqd_t q)
{
	/* Linux closes the descriptor even when close reports EINTR */
	if (mq_close(q) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

int
ik_pmq_unlink(const char *name)
{
	int r = check_name(name);

	if (r < 0)
		return r;
	if (mq_unlink(name) < 0)
		return -errno;
	return 0;
}
