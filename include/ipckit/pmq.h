/*
 * POSIX message queues (mq_open and friends; the "pmq:" scheme). A named
 * kernel queue of at most maxmsg messages of at most msgsize bytes each,
 * delivered highest priority first and FIFO within a priority; on Linux the
 * queue descriptor is a file descriptor that poll(2) and epoll understand.
 * System V queues ("svmq:", typed messages, keys) are another mechanism with
 * another API: see <ipckit/msgq.h>.
 */
#ifndef IPCKIT_PMQ_H
#define IPCKIT_PMQ_H

#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Highest priority + 1 (the kernel's MQ_PRIO_MAX). */
#define IK_PMQ_PRIO_MAX 32768u

struct ik_pmq_attr {
	long maxmsg;   /* capacity in messages */
	long msgsize;  /* largest message in bytes */
	long curmsgs;  /* ik_pmq_getattr only: messages queued now */
	bool nonblock; /* ik_pmq_getattr only: descriptor is O_NONBLOCK */
};

/* The limits that ik_pmq_create checks before asking the kernel. */
struct ik_pmq_limits {
	long msg_max;	      /* /proc/sys/fs/mqueue/msg_max */
	long msgsize_max;     /* /proc/sys/fs/mqueue/msgsize_max */
	long queues_max;      /* /proc/sys/fs/mqueue/queues_max */
	long msg_default;     /* maxmsg when attr is NULL */
	long msgsize_default; /* msgsize when attr is NULL */
	long rlimit_bytes;    /* RLIMIT_MSGQUEUE soft limit, -1 unlimited */
};

/*
 * Bytes a queue charges against RLIMIT_MSGQUEUE (the kernel's accounting on
 * 64-bit Linux: the message text plus 48 bytes of bookkeeping per message
 * and per priority level in use), or -1 on overflow.
 */
long long ik_pmq_bytes(long maxmsg, long msgsize);

/*
 * Create the queue name ("/" followed by 1..255 characters, no other "/",
 * not "." or ".."), with O_CREAT | O_EXCL (an existing queue gives -EEXIST)
 * and O_CLOEXEC. oflag: O_RDONLY, O_WRONLY or O_RDWR, optionally O_NONBLOCK.
 * mode: permission bits, 0 meaning 0600 (the umask applies). attr NULL takes
 * the system defaults. Before the call, unless the caller has
 * CAP_SYS_RESOURCE, maxmsg and msgsize are checked against the /proc limits,
 * and always the queue's bytes (ik_pmq_bytes) against RLIMIT_MSGQUEUE.
 * Returns 0 and *q, -EINVAL (bad name, flags, or attr <= 0), -ENAMETOOLONG,
 * -EEXIST, IK_EMQ_MSG_MAX, IK_EMQ_MSGSIZE_MAX, IK_EMQ_QUEUES_MAX,
 * IK_ERLIMIT_MSGQUEUE (this queue, or the user's queues together, above the
 * limit), -EMFILE (no descriptor left), -EACCES.
 */
int ik_pmq_create(const char *name, int oflag, unsigned mode,
		  const struct ik_pmq_attr *attr, mqd_t *q);

/*
 * Open an existing queue (never creates one). oflag as for ik_pmq_create.
 * Returns 0 and *q, -ENOENT, -EACCES, -EINVAL, -ENAMETOOLONG, -EMFILE.
 */
int ik_pmq_open(const char *name, int oflag, mqd_t *q);

/*
 * Send len bytes (len <= msgsize) with priority prio (< IK_PMQ_PRIO_MAX).
 * Blocks while the queue is full: timeout_ms -1 forever, 0 not at all,
 * > 0 until the deadline. On an O_NONBLOCK descriptor it never blocks.
 * Returns 0, -EAGAIN (full and timeout 0 or O_NONBLOCK), -ETIMEDOUT,
 * -EMSGSIZE (len > msgsize), -EINVAL (prio), -EBADF (not open for writing).
 *
 * The deadline is kept on CLOCK_MONOTONIC across EINTR; mq_timedsend only
 * knows CLOCK_REALTIME, so each kernel wait is given the monotonic time left
 * converted to a realtime instant. A realtime jump forward is harmless (the
 * call waits again for what is left); a jump backward during a kernel wait
 * lengthens that wait by the jump. Callers that must be immune poll
 * ik_pmq_fd with their own monotonic timeout and use timeout 0.
 */
int ik_pmq_send(mqd_t q, const void *buf, size_t len, unsigned prio,
		int timeout_ms);

/*
 * Receive the oldest message of the highest priority into buf, whose len
 * must be at least the queue's msgsize (else -EMSGSIZE, as the kernel
 * requires). *prio, when not NULL, gets its priority. Blocking and the clock
 * as for ik_pmq_send. Returns the message length, -EAGAIN, -ETIMEDOUT,
 * -EMSGSIZE, -EBADF.
 */
ssize_t ik_pmq_recv(mqd_t q, void *buf, size_t len, unsigned *prio,
		    int timeout_ms);

/*
 * The descriptor to poll: POLLIN when a message is queued, POLLOUT when
 * there is room. It is q itself (on Linux an mqd_t is a file descriptor);
 * do not close it with close(2), use ik_pmq_close.
 */
int ik_pmq_fd(mqd_t q);

/* mq_getattr. Returns 0 and *attr (every field), -EBADF. */
int ik_pmq_getattr(mqd_t q, struct ik_pmq_attr *attr);

/*
 * mq_setattr: O_NONBLOCK is the only attribute an open queue can change.
 * Returns 0, -EBADF.
 */
int ik_pmq_set_nonblock(mqd_t q, bool on);

/*
 * Ask for signal signo (with value as si_value, si_code SI_MESGQ) when a
 * message arrives on the empty queue and no receiver is blocked. One-shot:
 * register again after each notification. The caller chooses the signal
 * and how to take it (block it and use signalfd or sigwaitinfo, or its own
 * handler); the library installs nothing. Returns 0, -EBUSY (another
 * process is registered), -EINVAL (bad signal), -EBADF.
 */
int ik_pmq_notify_signal(mqd_t q, int signo, union sigval value);

/*
 * Like ik_pmq_notify_signal, but fn(value) runs on a new thread made by the
 * C library (attr may be NULL). Returns 0, -EBUSY, -EBADF, -ENOMEM.
 */
int ik_pmq_notify_thread(mqd_t q, void (*fn)(union sigval), union sigval value,
			 const pthread_attr_t *attr);

/* Remove this process's registration. Returns 0, -EBADF. */
int ik_pmq_notify_cancel(mqd_t q);

/* Close the descriptor (the queue lives on). Returns 0, -EBADF. */
int ik_pmq_close(mqd_t q);

/*
 * Remove the name; the queue itself goes when the last descriptor is
 * closed. Returns 0, -ENOENT, -EACCES, -EINVAL, -ENAMETOOLONG.
 */
int ik_pmq_unlink(const char *name);

/* Read the limits. Returns 0 or the error of reading /proc. */
int ik_pmq_limits(struct ik_pmq_limits *lim);

#ifdef __cplusplus
}
#endif
#endif
