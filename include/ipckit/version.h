/* ipckit version: compile-time macros and the version of the library linked. */
#ifndef IPCKIT_VERSION_H
#define IPCKIT_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define IK_VERSION_MAJOR 0
#define IK_VERSION_MINOR 1
#define IK_VERSION_PATCH 0
#define IK_VERSION_STRING "0.1.0"

/* The version string of the library actually linked ("0.1.0"). */
const char *ik_version(void);

#ifdef __cplusplus
}
#endif
#endif
