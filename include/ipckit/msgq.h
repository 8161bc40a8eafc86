/*
 * System V message queues (msgget, msgsnd, msgrcv, msgctl; the "svmq:"
 * scheme). The kernel keeps typed messages whole and in order of arrival,
 * bounded by the queue's msg_qbytes, until the queue is removed: it outlives
 * every process. POSIX queues ("pmq:") are another mechanism with another
 * API (names, priorities, a pollable descriptor): see <ipckit/pmq.h>.
 */
#ifndef IPCKIT_MSGQ_H
#define IPCKIT_MSGQ_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for ik_msgq_recv. */
#define IK_MSGQ_NOERROR 0x1 /* truncate a longer message (MSG_NOERROR) */
#define IK_MSGQ_EXCEPT 0x2  /* type > 0: first message NOT of that type */

/*
 * Timed waits: System V has no timed msgsnd/msgrcv, and interrupting a
 * blocked call would need a signal handler. A positive timeout therefore
 * polls with IPC_NOWAIT, sleeping on CLOCK_MONOTONIC between attempts with a
 * back-off from IK_MSGQ_POLL_MIN_NS doubling to IK_MSGQ_POLL_MAX_NS: a
 * message may wait up to IK_MSGQ_POLL_MAX_NS before a timed receiver sees
 * it, and a waiter costs at most 1e9 / IK_MSGQ_POLL_MAX_NS wake-ups per
 * second. timeout_ms = -1 uses the kernel's blocking call (no added latency).
 */
#define IK_MSGQ_POLL_MIN_NS 50000L   /* 50 us */
#define IK_MSGQ_POLL_MAX_NS 4000000L /* 4 ms */

struct ik_msgq_stat {
	key_t key;
	uid_t uid, cuid; /* owner, creator */
	gid_t gid, cgid;
	unsigned mode;	     /* permission bits */
	size_t messages;     /* msg_qnum */
	size_t bytes;	     /* bytes of message text queued */
	size_t qbytes;	     /* msg_qbytes: capacity in bytes */
	pid_t last_send_pid; /* msg_lspid, 0 if none yet */
	pid_t last_recv_pid; /* msg_lrpid, 0 if none yet */
	time_t last_send;    /* msg_stime, 0 if none yet */
	time_t last_recv;    /* msg_rtime */
	time_t last_change;  /* msg_ctime */
};

/* The kernel's limits (/proc/sys/kernel/msg{max,mnb,mni}). */
struct ik_msgq_limits {
	long msgmax; /* largest message, bytes */
	long msgmnb; /* default and unprivileged maximum msg_qbytes */
	long msgmni; /* queues in the system (IPC namespace) */
};

/*
 * A key for ik_msgq_create/open derived from an existing file and a project
 * id in 1..255 (ftok: the file's inode and device, so every process naming
 * the same file gets the same key). Returns 0 and *key, -EINVAL for a bad
 * proj_id, or the error of stat(2) on path (-ENOENT, -EACCES...).
 */
int ik_msgq_key(const char *path, int proj_id, key_t *key);

/*
 * Create a new queue: IPC_CREAT | IPC_EXCL, so an existing queue with that
 * key is never silently reused (-EEXIST). key is IPC_PRIVATE (a queue only
 * its id finds) or a key agreed with the peers. mode: permission bits, 0
 * meaning 0600. Returns 0 and *id, -EEXIST, -EINVAL (mode beyond the permission
 * bits), IK_EMSGMNI when the system has no more queues, or another negative
 * errno.
 */
int ik_msgq_create(key_t key, unsigned mode, int *id);

/*
 * Open the existing queue of key (never creates one). Returns 0 and *id,
 * -ENOENT, -EACCES, or -EINVAL for IPC_PRIVATE.
 */
int ik_msgq_open(key_t key, int *id);

/*
 * Send len bytes (0 allowed) as one message of type >= 1. The caller never
 * builds a struct msgbuf: messages up to 8 KiB are staged on the stack,
 * larger ones in one malloc. Blocks while the queue is full: timeout_ms -1
 * forever, 0 not at all (-EAGAIN, IPC_NOWAIT), > 0 by polling (see
 * IK_MSGQ_POLL_MAX_NS) then -ETIMEDOUT, never before the deadline. EINTR is
 * retried. Returns 0, -EINVAL (type < 1, bad id), IK_EMSGMAX (len above
 * kernel.msgmax), -EMSGSIZE (len above the queue's msg_qbytes: it could
 * never fit, so the call does not wait), -EIDRM (queue removed while
 * waiting), -EACCES, -ENOMEM.
 */
int ik_msgq_send(int id, long type, const void *buf, size_t len,
		 int timeout_ms);

/*
 * Receive one message into buf (len bytes), choosing by type as msgrcv does:
 * 0 the first message, > 0 the first of that type (with IK_MSGQ_EXCEPT: the
 * first of any other type), < 0 the first of the lowest type <= |type|.
 * The message's type is stored in *type_out when not NULL. A message longer
 * than len gives -E2BIG and stays queued, unless IK_MSGQ_NOERROR is given
 * (then the first len bytes are returned and the rest is lost). Blocking as
 * for ik_msgq_send: timeout_ms 0 gives -ENOMSG when nothing matches (the
 * kernel's IPC_NOWAIT answer), > 0 polls then -ETIMEDOUT. Returns the
 * message length, -E2BIG, -ENOMSG, -ETIMEDOUT, -EIDRM (queue removed while
 * waiting), -EINVAL (bad id or flags), -EACCES.
 */
ssize_t ik_msgq_recv(int id, long type, void *buf, size_t len, long *type_out,
		     int flags, int timeout_ms);

/* IPC_STAT. Returns 0 and *st, -EINVAL, -EIDRM, -EACCES. */
int ik_msgq_stat(int id, struct ik_msgq_stat *st);

/*
 * Set the queue's capacity (msg_qbytes, > 0). Raising it above
 * kernel.msgmnb needs CAP_SYS_RESOURCE: without it, IK_EMSGMNB. Returns 0,
 * IK_EMSGMNB, -EPERM (not owner or creator), -EINVAL.
 */
int ik_msgq_set_qbytes(int id, size_t qbytes);

/*
 * Remove the queue now (IPC_RMID): queued messages are discarded and
 * processes blocked on it get -EIDRM. Returns 0, -EINVAL, -EPERM.
 */
int ik_msgq_remove(int id);

/* Read the kernel limits. Returns 0 or the error of reading /proc. */
int ik_msgq_limits(struct ik_msgq_limits *lim);

#ifdef __cplusplus
}
#endif
#endif
