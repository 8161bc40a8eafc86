/*
 * What ipckit ls and ipckit rm share (defined in cmd/ls.c): the --kind and
 * --path options, the default search path, and the notes and errors of a
 * listing, so both commands say the same thing the same way.
 */
#ifndef IPCKIT_OBJCMD_H
#define IPCKIT_OBJCMD_H

#include <limits.h>
#include <stddef.h>

#include <ipckit/obj.h>

#define IK_OBJCMD_KINDS "msg, sem, shm, pmq, pshm, psem, fifo, unix"
#define IK_OBJCMD_PATHS_MAX 64

struct ik_objcmd_paths {
	const char *v[IK_OBJCMD_PATHS_MAX + 1];
	size_t n;
	char rundir[PATH_MAX];
};

extern const struct ik_cmd ik_cmd_ls;
extern const struct ik_cmd ik_cmd_rm;

/* Add a "K,K" list to *kinds: 0 or -EINVAL. */
int ik_objcmd_kinds(const char *arg, unsigned *kinds);
/* 0, or -E2BIG past IK_OBJCMD_PATHS_MAX. */
int ik_objcmd_add_path(struct ik_objcmd_paths *p, const char *dir);
/* Add the runtime directory (a note on stderr if it cannot be used). */
void ik_objcmd_default_paths(const char *cmd, struct ik_objcmd_paths *p);
/* Notes about what could not be looked at (no mqueue mount). */
void ik_objcmd_notes(const char *cmd, const struct ik_obj_list *l,
		     unsigned kinds);
/* One line per kind that could not be listed; 1 if any. */
int ik_objcmd_errors(const char *cmd, const struct ik_obj_list *l);
/* "msg 0x00001234 (id 5)", "pshm /name" */
void ik_objcmd_describe(char *buf, size_t len, const struct ik_obj *o);

#endif
