/*
 * Small readers for /proc and /proc/sys values and the caller's
 * capabilities, shared by the modules that check kernel limits before
 * calling the kernel (msgq, pmq, sem, shm, limits).
 */
#ifndef IK_INTERNAL_PROC_H
#define IK_INTERNAL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read a small file whole into buf (NUL-terminated). 0 or -errno. */
int ik__proc_read(const char *path, char *buf, size_t len);

/* The field-th (0-based) whitespace-separated unsigned number of a file. */
int ik__proc_u64(const char *path, int field, uint64_t *out);

/* The first number of a file, signed. 0, -errno, or -EIO if malformed. */
int ik__proc_long(const char *path, long *out);

/* Whether the calling thread has capability cap in its effective set. */
bool ik__has_cap(int cap);

/*
 * The directory of the first mqueue filesystem mounted (octal escapes of
 * /proc/self/mounts decoded) into dir. 0, -ENOENT when none is mounted.
 */
int ik__mqueue_dir(char *dir, size_t len);

/*
 * The state letter (field 3) and start time (field 22, clock ticks after
 * boot) of /proc/PID/stat; either pointer may be NULL. 0, -ESRCH when there
 * is no such process, -EIO if the file is malformed, or -errno.
 */
int ik__proc_stat(pid_t pid, char *state, uint64_t *start);

/*
 * Is pid running: it exists, is not a zombie (exited, not yet reaped, as a
 * pidfd would see it) and, when start is not 0, it is still the process
 * that started at that time (not a recycled pid). 1 yes, 0 no, -errno.
 * Without a pidfd this is racy by nature: the answer may be stale at once.
 */
int ik__proc_alive(pid_t pid, uint64_t start);

/*
 * Whether pidfds can be had: false on kernels before 5.3, under valgrind
 * 3.19, and whenever the environment variable IPCKIT_NO_PIDFD is set to a
 * non-empty value (read once, at the first call), which is how the suite
 * runs the fallbacks on a kernel with pidfds. The answer never changes.
 */
bool ik__have_pidfd(void);

/* pidfd_open(pid, 0): a close-on-exec pidfd, or -errno (-ENOSYS: none). */
int ik__pidfd_open(pid_t pid);

#endif
