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

#endif
