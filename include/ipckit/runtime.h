/*
 * The private runtime directory where ipckit keeps named objects (FIFOs,
 * socket files, registrations): $IPCKIT_RUNTIME_DIR if set, else
 * $XDG_RUNTIME_DIR/ipckit, else /tmp/ipckit-<uid>. It is created 0700 and,
 * every time it is used, checked to be a real directory (not a symlink)
 * owned by the caller with no group or other access; anything else is
 * IK_EUNSAFE, never silently used.
 */
#ifndef IPCKIT_RUNTIME_H
#define IPCKIT_RUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write the runtime directory's path into buf (creating and checking it).
 * Returns the path length, -ENAMETOOLONG if buf is too small, IK_EUNSAFE, or
 * another negative errno.
 */
int ik_runtime_dir(char *buf, size_t len);

/*
 * buf = "<runtime dir>/<name>" (name must not contain '/'); same returns as
 * ik_runtime_dir, plus -EINVAL for a bad name.
 */
int ik_runtime_path(char *buf, size_t len, const char *name);

/*
 * Create dir (mode 0700) if missing and check it is safe: a directory, not
 * a symlink, owned by the effective uid, no group/other permissions.
 */
int ik_private_dir(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
