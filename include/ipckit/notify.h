/*
 * Notifications: small (event, value) messages delivered to every listener
 * of a named group with one queued real-time signal each. A listener that
 * keeps up sees every notification of a sender in the order sent (RT
 * signals queue in order); a full queue is an error naming the listener,
 * never a silent loss. Listeners register in the private runtime directory
 * (<runtime>/notify/<group>/<pid>), with their start time, so a recycled
 * pid is never signalled.
 */
#ifndef IPCKIT_NOTIFY_H
#define IPCKIT_NOTIFY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one signal every notification travels on: SIGRTMIN+4 (glibc keeps
 * the first RT signals for itself, and libraries commonly take SIGRTMIN).
 * Fixed, so that sender and listener never have to agree on anything but
 * the group.
 */
#define IK_NOTIFY_SIGNAL (SIGRTMIN + 4)

/*
 * The sigqueue payload is one 32-bit int: the event in the high 8 bits,
 * the value in the low 24. Anything outside these ranges is refused.
 */
#define IK_NOTIFY_EVENT_BITS 8
#define IK_NOTIFY_VALUE_BITS 24
#define IK_NOTIFY_EVENT_MAX ((1 << IK_NOTIFY_EVENT_BITS) - 1) /* 255 */
#define IK_NOTIFY_VALUE_MAX ((1 << IK_NOTIFY_VALUE_BITS) - 1) /* 16777215 */

/* Group and event names: [A-Za-z0-9_.-], not starting with '.'. */
#define IK_NOTIFY_NAME_MAX 64

/* One notification as a listener receives it. */
struct ik_notification {
	int event;    /* 0..IK_NOTIFY_EVENT_MAX */
	int value;    /* 0..IK_NOTIFY_VALUE_MAX */
	pid_t sender; /* the sending process, as the kernel reports it */
	uid_t uid;    /* the sender's real uid */
};

/*
 * Pack (event, value) into the signal payload, or unpack it. ik_notify_pack
 * returns 0 and *out, or -ERANGE if either does not fit.
 */
int ik_notify_pack(int event, int value, int *out);
void ik_notify_unpack(int payload, int *event, int *value);

/*
 * 0 if name is a valid group or event name, else -EINVAL (empty, longer
 * than IK_NOTIFY_NAME_MAX, a character outside [A-Za-z0-9_.-], or a
 * leading '.', which also rules out "." and "..").
 */
int ik_notify_name_ok(const char *name);

/* ---- listening --------------------------------------------------------- */

typedef struct ik_notify ik_notify;

/*
 * Register the calling process as a listener of group. Blocks
 * IK_NOTIFY_SIGNAL in the calling thread (do it before creating threads,
 * or block it in every thread: a thread with it unblocked would be killed
 * by it), opens a signalfd for it, discards notifications left pending
 * from an earlier registration, then publishes the registration file
 * (0600, in a 0700 directory, made with O_EXCL). A file left by a dead
 * process whose pid this process now has is replaced.
 * Returns 0 and *out, or -EINVAL (bad group), -EBUSY (this process already
 * listens: signals carry no group, so one registration per process),
 * IK_EUNSAFE (runtime directory), or another negative errno; nothing is
 * left registered on failure.
 */
int ik_notify_listen(ik_notify **out, const char *group);

/*
 * The listener's signalfd (non-blocking, close-on-exec): poll it or add it
 * to an ik_loop for IK_LOOP_READ, then call ik_notify_read with timeout 0.
 */
int ik_notify_fd(const ik_notify *l);

/* The group l listens to. */
const char *ik_notify_group(const ik_notify *l);

/*
 * Read up to n (at most 32 per call) notifications in arrival order into
 * out[]. Waits up to timeout_ms for the first (-1 forever, 0 not at all);
 * signals of IK_NOTIFY_SIGNAL not sent with sigqueue (a plain kill) are
 * dropped. Returns the number read (>= 1), -ETIMEDOUT, -EINVAL, or a
 * negative errno.
 */
int ik_notify_read(ik_notify *l, struct ik_notification *out, int n,
		   int timeout_ms);

/*
 * The name of event in l's group (the names file is re-read when it
 * changes) into buf. Returns its length, -ENOENT if it has none,
 * -ENAMETOOLONG if len is too small (IK_NOTIFY_NAME_MAX + 1 always does).
 */
int ik_notify_event_name(ik_notify *l, int event, char *buf, size_t len);

/*
 * Remove the registration (only if it is still this process's), close the
 * descriptor and free l. IK_NOTIFY_SIGNAL stays blocked: a sender that read
 * the registration just before it went may still signal, and an unblocked
 * RT signal would kill the process. Returns 0, or the negative errno of
 * removing the file (l is freed regardless). NULL is allowed.
 */
int ik_notify_close(ik_notify *l);

/* ---- sending ----------------------------------------------------------- */

/*
 * What happened to one listener in ik_notify_send: err is 0 (delivered),
 * -ESRCH (the process is gone, or its pid now belongs to another process:
 * the registration was removed), -EPERM (not allowed to signal it, e.g.
 * another user's process), IK_ERLIMIT_SIGPENDING (its signal queue stayed
 * full until the deadline), or another negative errno.
 */
typedef void (*ik_notify_report_fn)(pid_t pid, int err, void *arg);

/*
 * Send (event, value) to every listener of group, each checked by pid and
 * start time before it is signalled through a pidfd (so a pid recycled
 * between the check and the signal gets nothing). Flow control: when a
 * listener's queue is full (RLIMIT_SIGPENDING of its user), the send is
 * retried with a growing back-off until timeout_ms (-1 forever, 0 one
 * try) has passed, one deadline for the whole call; the listeners after it
 * still get one try each. report (may be NULL) is called once per
 * registration found. Returns the number of listeners that received it
 * (0 for a group nobody listens to) if every live one did; otherwise the
 * error of the first live listener that did not (-EPERM,
 * IK_ERLIMIT_SIGPENDING, ...): the others were still tried. -EINVAL for a
 * bad group, -ERANGE for an event or value out of range (nothing sent),
 * IK_EUNSAFE.
 */
int ik_notify_send(const char *group, int event, int value, int timeout_ms,
		   ik_notify_report_fn report, void *arg);

/* ---- event names ------------------------------------------------------- */

/*
 * Give event number event the name name in group (written to the group's
 * names file, replacing an earlier number of that name). A name must start
 * with a letter so it is never read as a number. Returns 0, -EINVAL (bad
 * group or name), -ERANGE (event), -ENOSPC (the group has its 1024 names
 * already), -EBADMSG (the names file is malformed), or a negative errno.
 */
int ik_notify_name_set(const char *group, const char *name, int event);

/*
 * The number of name in group. Returns it (>= 0), -ENOENT if the group has
 * no such name, -EINVAL, -EBADMSG (malformed names file).
 */
int ik_notify_name_lookup(const char *group, const char *name);

/* One line of a group's names file. */
struct ik_notify_name {
	char name[IK_NOTIFY_NAME_MAX + 1];
	int event;
};

/*
 * Up to n names of group into out[], in file order. Returns how many there
 * are in all (may exceed n), -EINVAL, -EBADMSG, or a negative errno; 0 for
 * a group without names.
 */
int ik_notify_names(const char *group, struct ik_notify_name *out, size_t n);

/* ---- inspecting -------------------------------------------------------- */

/* A registration and the state of its process. */
struct ik_notify_entry {
	pid_t pid;
	uint64_t start_time; /* /proc/PID/stat starttime, clock ticks */
	int64_t since;	     /* registered at, seconds since the epoch */
	int alive;	     /* 1: that process runs; 0: gone or pid reused */
	int pending;	     /* 1: IK_NOTIFY_SIGNAL pending (ShdPnd), 0, -1 */
	long sigq_queued;    /* SigQ: signals queued for its user, or -1 */
	long sigq_limit;     /* SigQ: its RLIMIT_SIGPENDING, or -1 */
};

/*
 * Up to n registrations of group into out[], sorted by pid. Nothing is
 * removed or signalled. Returns how many there are in all (may exceed n),
 * 0 for an unknown group, -EINVAL, IK_EUNSAFE, or a negative errno.
 */
int ik_notify_list(const char *group, struct ik_notify_entry *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
