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
#include <ipckit/addr.h>
#include <ipckit/limits.h>
#include <ipckit/chan.h>
#include <ipckit/pipe.h>
#include <ipckit/spawn.h>
#include <ipckit/shm.h>
#include <ipckit/msgq.h>
#include <ipckit/pmq.h>
#include <ipckit/fifo.h>
#include <ipckit/chat.h>
#include <ipckit/ring.h>
#include <ipckit/sig.h>
#include <ipckit/loop.h>
#include <ipckit/sock.h>
#include <ipckit/sem.h>
#include <ipckit/mutex.h>
#include <ipckit/obj.h>
#include <ipckit/notify.h>
#include <ipckit/cache.h>
#include <ipckit/fanout.h>
#include <ipckit/resp.h>
#include <ipckit/serve.h>

#endif
