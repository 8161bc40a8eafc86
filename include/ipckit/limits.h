/*
 * The kernel's IPC limits and how much of each is in use, read from /proc,
 * statvfs and getrlimit. The create calls of the other modules check the
 * same limits and return an IK_E* code naming the one to raise; this module
 * is how a program (or `ipckit limits`) shows them all.
 */
#ifndef IPCKIT_LIMITS_H
#define IPCKIT_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IK_LIMIT_UNLIMITED UINT64_MAX

struct ik_limit {
	const char *name;   /* "kernel.msgmni", "RLIMIT_SIGPENDING", ... */
	const char *what;   /* one line: what it bounds */
	const char *source; /* where it was read: "/proc/sys/kernel/msgmni" */
	const char *unit;   /* "queues", "bytes", "pages", ... */
	uint64_t value;	    /* IK_LIMIT_UNLIMITED for no limit */
	int64_t used;	    /* current use in the same unit; -1 unknown */
	int error;	    /* 0, or why value could not be read (-errno) */
	const char *note;   /* why used is unknown, when it could be known */
};

/*
 * Read every limit into out[0..max). Returns the number of limits known
 * (which may exceed max: only max are written), or a negative errno. A
 * limit that cannot be read has error set, not a failed call.
 */
int ik_limits_read(struct ik_limit *out, size_t max);

/*
 * One limit by name (as in struct ik_limit.name). Returns 0, -ENOENT for
 * an unknown name, or the error reading it.
 */
int ik_limit_get(const char *name, struct ik_limit *out);

/* Used is at least pct percent of value (and both are known). */
int ik_limit_near(const struct ik_limit *l, unsigned pct);

#ifdef __cplusplus
}
#endif
#endif
