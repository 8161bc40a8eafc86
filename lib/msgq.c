/*
 * System V message queues: see <ipckit/msgq.h>. The kernel's own semantics
 * (type selection, E2BIG unless MSG_NOERROR) are kept; what ipckit adds is
 * IPC_EXCL and 0600 on create, named errors for the kernel.msg* limits, a
 * timeout System V lacks (IPC_NOWAIT polling, no signals), and EINTR retries.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/msgq.h>

#include "internal/io.h"
#include "internal/proc.h"
#include "internal/time.h"

/* Messages up to this size are staged on the stack (the default msgmax). */
#define STACK_MSG 8192

struct msgbuf_ {
	long mtype;
	char mtext[];
};

/* A struct msgbuf for len bytes: on the stack when small, else malloc'd. */
struct msgtmp {
	struct msgbuf_ *m;
	long stack[1 + STACK_MSG / sizeof(long)];
};

static int
msgtmp_get(struct msgtmp *t, size_t len)
{
	if (len <= STACK_MSG) {
		t->m = (struct msgbuf_ *)t->stack;
		return 0;
	}
	t->m = malloc(sizeof(struct msgbuf_) + len);
	return t->m ? 0 : -ENOMEM;
}

static void
msgtmp_put(struct msgtmp *t)
{
	if (t->m != (struct msgbuf_ *)t->stack)
		free(t->m);
}

/* len above kernel.msgmax? (false when the limit cannot be read) */
static bool
above_msgmax(size_t len)
{
	long max;

	return ik__proc_long("/proc/sys/kernel/msgmax", &max) == 0 &&
	       max >= 0 && len > (size_t)max;
}

/* A message that exceeds msg_qbytes would block forever: say so instead. */
static bool
never_fits(int id, size_t len)
{
	struct msqid_ds ds;

	return msgctl(id, IPC_STAT, &ds) == 0 && len > ds.msg_qbytes;
}

int
ik_msgq_key(const char *path, int proj_id, key_t *key)
{
	key_t k;

	if (path == NULL || key == NULL || proj_id < 1 || proj_id > 255)
		return -EINVAL;
	k = ftok(path, proj_id);
	if (k == (key_t)-1)
		return -errno;
	if (k == IPC_PRIVATE) /* possible in theory; would not be shared */
		return -EINVAL;
	*key = k;
	return 0;
}

int
ik_msgq_create(key_t key, unsigned mode, int *id)
{
	int q;

	if (id == NULL || (mode & ~0777u) != 0)
		return -EINVAL;
	if (mode == 0)
		mode = 0600;
	q = msgget(key, IPC_CREAT | IPC_EXCL | (int)mode);
	if (q < 0)
		return errno == ENOSPC ? IK_EMSGMNI : -errno;
	*id = q;
	return 0;
}

int
ik_msgq_open(key_t key, int *id)
{
	int q;

	if (id == NULL || key == IPC_PRIVATE)
		return -EINVAL;
	q = msgget(key, 0);
	if (q < 0)
		return -errno;
	*id = q;
	return 0;
}

/*
 * EINVAL from msgsnd/msgrcv means a bad id, a bad size, or (after the queue
 * answered earlier in the same call) that the queue was removed and its id
 * is gone: a timed waiter must report that as -EIDRM like a blocked one.
 */
static int
map_einval(bool seen, size_t len, bool sending)
{
	if (seen)
		return -EIDRM;
	if (sending && above_msgmax(len))
		return IK_EMSGMAX;
	return -EINVAL;
}

int
ik_msgq_send(int id, long type, const void *buf, size_t len, int timeout_ms)
{
	struct ik__deadline d;
	struct ik__backoff b;
	struct msgtmp t;
	bool seen = false;
	int r, e;

	if (id < 0 || type < 1 || (buf == NULL && len > 0))
		return -EINVAL;
	/* above the stack size the limit is checked before allocating it */
	if (len > (size_t)LONG_MAX - sizeof(long) ||
	    (len > STACK_MSG && above_msgmax(len)))
		return IK_EMSGMAX;
	r = msgtmp_get(&t, len);
	if (r < 0)
		return r;
	t.m->mtype = type;
	if (len > 0)
		memcpy(t.m->mtext, buf, len);
	ik__deadline_init(&d, timeout_ms);
	ik__backoff_init(&b, IK_MSGQ_POLL_MIN_NS, IK_MSGQ_POLL_MAX_NS);
	for (;;) {
		if (msgsnd(id, t.m, len, IPC_NOWAIT) == 0) {
			r = 0;
			break;
		}
		e = errno;
		if (e == EINTR)
			continue;
		if (e == EINVAL) {
			r = map_einval(seen, len, true);
			break;
		}
		if (e != EAGAIN) {
			r = -e;
			break;
		}
		if (!seen && never_fits(id, len)) {
			r = -EMSGSIZE;
			break;
		}
		seen = true;
		if (timeout_ms == 0) {
			r = -EAGAIN;
			break;
		}
		if (timeout_ms < 0) {
			while ((r = msgsnd(id, t.m, len, 0)) < 0 &&
			       errno == EINTR)
				;
			if (r < 0)
				r = errno == EINVAL ? -EIDRM : -errno;
			break;
		}
		r = ik__backoff_sleep(&b, &d);
		if (r < 0)
			break;
	}
	msgtmp_put(&t);
	return r;
}

ssize_t
ik_msgq_recv(int id, long type, void *buf, size_t len, long *type_out,
	     int flags, int timeout_ms)
{
	struct ik__deadline d;
	struct ik__backoff b;
	struct msgtmp t;
	bool seen = false;
	ssize_t n;
	int kfl = 0, r;

	if (id < 0 || (buf == NULL && len > 0) ||
	    (flags & ~(IK_MSGQ_NOERROR | IK_MSGQ_EXCEPT)) != 0 ||
	    ((flags & IK_MSGQ_EXCEPT) && type <= 0) ||
	    len > (size_t)LONG_MAX - sizeof(long))
		return -EINVAL;
	if (flags & IK_MSGQ_NOERROR)
		kfl |= MSG_NOERROR;
	if (flags & IK_MSGQ_EXCEPT)
		kfl |= MSG_EXCEPT;
	r = msgtmp_get(&t, len);
	if (r < 0)
		return r;
	ik__deadline_init(&d, timeout_ms);
	ik__backoff_init(&b, IK_MSGQ_POLL_MIN_NS, IK_MSGQ_POLL_MAX_NS);
	for (;;) {
		if (timeout_ms < 0)
			n = msgrcv(id, t.m, len, type, kfl);
		else
			n = msgrcv(id, t.m, len, type, kfl | IPC_NOWAIT);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EINVAL) {
			n = map_einval(seen, len, false);
			goto out;
		}
		if (errno != ENOMSG || timeout_ms <= 0) {
			n = -errno;
			goto out;
		}
		seen = true;
		r = ik__backoff_sleep(&b, &d);
		if (r < 0) {
			n = r;
			goto out;
		}
	}
	/* the kernel never returns more than asked; trust but check */
	if ((size_t)n > len) {
		n = -EIO;
		goto out;
	}
	if (n > 0)
		memcpy(buf, t.m->mtext, (size_t)n);
	if (type_out)
		*type_out = t.m->mtype;
out:
	msgtmp_put(&t);
	return n;
}

int
ik_msgq_stat(int id, struct ik_msgq_stat *st)
{
	struct msqid_ds ds;

	if (st == NULL || id < 0)
		return -EINVAL;
	if (msgctl(id, IPC_STAT, &ds) < 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->key = ds.msg_perm.__key;
	st->uid = ds.msg_perm.uid;
	st->gid = ds.msg_perm.gid;
	st->cuid = ds.msg_perm.cuid;
	st->cgid = ds.msg_perm.cgid;
	st->mode = ds.msg_perm.mode & ACCESSPERMS;
	st->messages = ds.msg_qnum;
	st->bytes = ds.__msg_cbytes;
	st->qbytes = ds.msg_qbytes;
	st->last_send_pid = ds.msg_lspid;
	st->last_recv_pid = ds.msg_lrpid;
	st->last_send = ds.msg_stime;
	st->last_recv = ds.msg_rtime;
	st->last_change = ds.msg_ctime;
	return 0;
}

int
ik_msgq_set_qbytes(int id, size_t qbytes)
{
	struct msqid_ds ds;
	long mnb;
	bool above;

	if (id < 0 || qbytes == 0)
		return -EINVAL;
	above = ik__proc_long("/proc/sys/kernel/msgmnb", &mnb) == 0 &&
		mnb >= 0 && qbytes > (size_t)mnb;
	if (above && !ik__has_cap(CAP_SYS_RESOURCE))
		return IK_EMSGMNB;
	if (msgctl(id, IPC_STAT, &ds) < 0)
		return -errno;
	ds.msg_qbytes = qbytes;
	if (msgctl(id, IPC_SET, &ds) == 0)
		return 0;
	/* EPERM for the owner can only be the limit (capability not in the
	 * initial user namespace, which capget cannot tell) */
	if (errno == EPERM && above &&
	    (geteuid() == ds.msg_perm.uid || geteuid() == ds.msg_perm.cuid))
		return IK_EMSGMNB;
	return -errno;
}

int
ik_msgq_remove(int id)
{
	if (id < 0)
		return -EINVAL;
	if (msgctl(id, IPC_RMID, NULL) < 0)
		return -errno;
	return 0;
}

int
ik_msgq_limits(struct ik_msgq_limits *lim)
{
	struct ik_msgq_limits l;
	int r;

	if (lim == NULL)
		return -EINVAL;
	if ((r = ik__proc_long("/proc/sys/kernel/msgmax", &l.msgmax)) < 0 ||
	    (r = ik__proc_long("/proc/sys/kernel/msgmnb", &l.msgmnb)) < 0 ||
	    (r = ik__proc_long("/proc/sys/kernel/msgmni", &l.msgmni)) < 0)
		return r;
	*lim = l;
	return 0;
}
