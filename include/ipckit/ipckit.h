/*
 * ipckit: inter-process communication for Linux, every mechanism of the
 * classic toolbox made safe by default. This umbrella header includes every
 * module; each module's header can also be included on its own.
 */
#ifndef IPCKIT_IPCKIT_H
#define IPCKIT_IPCKIT_H

#include <ipckit/version.h>
#include <ipckit/error.h>
#include <ipckit/runtime.h>
#include <ipckit/sem.h>
#include <ipckit/mutex.h>

#endif
