/*
 * ipckit error model: every call returns zero or a count on success and a
 * negative errno value on failure (-EAGAIN, -EPIPE, ...), as the kernel and
 * libuv do. Where an errno would not say enough (which kernel limit was hit,
 * why a path was refused) ipckit adds its own codes, all below -IK_EBASE so
 * they never collide with a kernel errno (MAX_ERRNO is 4095).
 */
#ifndef IPCKIT_ERROR_H
#define IPCKIT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define IK_EBASE 5000

/*
 * X(name, offset, message): ipckit's own error codes. IK_<name> is
 * -(IK_EBASE + offset). The messages name the limit or the rule, so that
 * ik_strerror tells the user what to change. One table: the man page test
 * checks that docs/ipckit.3.scd lists each of them.
 */
#define IK_ERROR_MAP(X)                                                        \
	X(ENOTFIFO, 1, "path exists and is not a FIFO")                        \
	X(ENOTSOCK_PATH, 2, "path exists and is not a Unix socket")            \
	X(EOWNER, 3, "object is owned by another user")                        \
	X(EUNSAFE, 4,                                                          \
	  "directory is unsafe (not owned by us, a symlink, or open to "       \
	  "group/others)")                                                     \
	X(ECTRUNC, 5,                                                          \
	  "control data truncated: passed descriptors were lost (received "    \
	  "ones closed)")                                                      \
	X(EPIPE_MAX_SIZE, 6,                                                   \
	  "pipe size above fs.pipe-max-size (/proc/sys/fs/pipe-max-size)")     \
	X(EMQ_MSG_MAX, 7,                                                      \
	  "POSIX queue maxmsg above fs.mqueue.msg_max "                        \
	  "(/proc/sys/fs/mqueue/msg_max)")                                     \
	X(EMQ_MSGSIZE_MAX, 8,                                                  \
	  "POSIX queue msgsize above fs.mqueue.msgsize_max "                   \
	  "(/proc/sys/fs/mqueue/msgsize_max)")                                 \
	X(EMQ_QUEUES_MAX, 9,                                                   \
	  "too many POSIX queues: fs.mqueue.queues_max "                       \
	  "(/proc/sys/fs/mqueue/queues_max)")                                  \
	X(ERLIMIT_MSGQUEUE, 10,                                                \
	  "POSIX queue bytes above RLIMIT_MSGQUEUE (ulimit -q)")               \
	X(EMSGMAX, 11,                                                         \
	  "System V message above kernel.msgmax (/proc/sys/kernel/msgmax)")    \
	X(EMSGMNB, 12,                                                         \
	  "System V queue size above kernel.msgmnb (/proc/sys/kernel/msgmnb)") \
	X(EMSGMNI, 13,                                                         \
	  "too many System V queues: kernel.msgmni "                           \
	  "(/proc/sys/kernel/msgmni)")                                         \
	X(ESEMMSL, 14,                                                         \
	  "semaphore set larger than kernel.sem SEMMSL "                       \
	  "(/proc/sys/kernel/sem)")                                            \
	X(ESEMMNI, 15,                                                         \
	  "too many semaphore sets: kernel.sem SEMMNI (/proc/sys/kernel/sem)") \
	X(ESEMMNS, 16,                                                         \
	  "too many semaphores: kernel.sem SEMMNS (/proc/sys/kernel/sem)")     \
	X(ESEMOPM, 17,                                                         \
	  "too many operations in one semop: kernel.sem SEMOPM "               \
	  "(/proc/sys/kernel/sem)")                                            \
	X(ESHMMAX, 18,                                                         \
	  "segment larger than kernel.shmmax (/proc/sys/kernel/shmmax)")       \
	X(ESHMALL, 19,                                                         \
	  "shared memory total above kernel.shmall (/proc/sys/kernel/shmall)") \
	X(ESHMMNI, 20,                                                         \
	  "too many System V segments: kernel.shmmni "                         \
	  "(/proc/sys/kernel/shmmni)")                                         \
	X(ERLIMIT_SIGPENDING, 21,                                              \
	  "receiver's signal queue is full (RLIMIT_SIGPENDING, ulimit -i)")    \
	X(EBADADDR, 22, "malformed address")                                   \
	X(EBADSCHEME, 23,                                                      \
	  "unknown address scheme (fifo, unix, unixgram, unixpacket, "         \
	  "abstract, tcp, udp, pmq, svmq, shm)")                               \
	X(EFORMAT, 24,                                                         \
	  "shared segment has another format or version, or is truncated")     \
	X(ECORRUPT, 25,                                                        \
	  "shared data failed validation (corrupt or hostile peer)")           \
	X(ESPAWN, 26, "command could not be started")

enum ik_error {
#define IK__ERR_ENUM(name, off, msg) IK_##name = -(IK_EBASE + (off)),
	IK_ERROR_MAP(IK__ERR_ENUM)
#undef IK__ERR_ENUM
};

/*
 * A message for any value returned by an ipckit call: a negative errno,
 * one of the IK_E* codes above, or 0 ("success"). Positive errno values are
 * accepted too. Never NULL; the string is static.
 */
const char *ik_strerror(int err);

/* The symbolic name: "EPIPE", "IK_EMQ_MSG_MAX", or "E?" when unknown. */
const char *ik_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
