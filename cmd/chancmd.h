/*
 * What ipckit send, recv and relay share: opening a channel by address
 * (listen or dial, accepting one connection where the scheme has them),
 * waits cut into slices so that SIGINT, SIGTERM and SIGHUP still end the
 * command after it has removed what it created, and the exits that close
 * every open channel first.
 */
#ifndef IPCKIT_CMD_CHANCMD_H
#define IPCKIT_CMD_CHANCMD_H

#include <stddef.h>
#include <sys/types.h>

#include <ipckit/chan.h>

#include "cmd.h"

/*
 * Block SIGINT, SIGTERM and SIGHUP: they stay pending until a sliced wait
 * (or relay's signalfd) sees them, so a channel that created a named object
 * is always closed, and the object removed, before the command ends.
 */
void ik_cc_signals_block(void);
/* If one of them is pending: close every channel, then die of it. */
void ik_cc_signals_check(void);
/*
 * Once nothing named is held (a dialled channel, an accepted connection):
 * let the signals act at once again, also inside a long stream send.
 */
void ik_cc_signals_unblock(void);
/* Close every channel and die of sig (exit status 128 + sig). */
__attribute__((noreturn)) void ik_cc_die_signal(int sig);

/* Close every open channel (a failure flushes stdout), then ik_cmd_exit. */
__attribute__((noreturn, format(printf, 3, 4))) void
ik_cc_exit(const char *cmd, int status, const char *fmt, ...);
#define ik_cc_fail(cmd, ...) ik_cc_exit(cmd, IK_EXIT_FAIL, __VA_ARGS__)
#define ik_cc_usage(cmd, ...) ik_cc_exit(cmd, IK_EXIT_USAGE, __VA_ARGS__)

/* --timeout: a duration ("500ms", "2s", "-1" forever) in ms; exits 2. */
int ik_cc_parse_timeout(const char *cmd, const char *s);
/* A number option in [min, max]; exits 2 naming opt. */
long long ik_cc_parse_num(const char *cmd, const char *opt, const char *s,
			  long long min, long long max);

/*
 * Open addr: create/bind it (listen) or open/connect to it (dial, waiting
 * up to timeout_ms for it). raw adds ?raw=1 on byte-stream addresses. On
 * schemes with connections a listener accepts one (up to timeout_ms) and
 * is closed at once, so its socket file is gone while the connection
 * lives. verbose prints "ipckit CMD: listening on CANONICAL" on stderr once
 * the object exists (tcp port 0 shows the port). A bad address exits 2
 * with the parser's line; anything else exits 1 naming the error.
 */
struct ik_chan *ik_cc_open(const char *cmd, const char *addr, int listen,
			   int raw, int timeout_ms, int verbose);
/* Exit 2 with the parser's line if addr is malformed (before any open). */
void ik_cc_check_addr(const char *cmd, const char *addr);
/* The steps of ik_cc_open, for relay (listen both sides, then accept). */
struct ik_chan *ik_cc_listen(const char *cmd, const char *addr, int raw,
			     int verbose);
/* l itself when it has no connections; else the one accepted (l closed). */
struct ik_chan *ik_cc_accept(const char *cmd, struct ik_chan *l,
			     int timeout_ms);
struct ik_chan *ik_cc_dial(const char *cmd, const char *addr, int raw,
			   int timeout_ms);
/* Close c (opened by ik_cc_open); a failure to clean up exits 1. */
void ik_cc_close(const char *cmd, struct ik_chan *c);
/* The address c was opened with, for messages. */
const char *ik_cc_name(const struct ik_chan *c);
/* Did this command create c's object (listen on a non-connection scheme)? */
int ik_cc_owner(const struct ik_chan *c);

/*
 * ik_chan_sendm / ik_chan_recvm waiting up to timeout_ms in slices, so a
 * pending signal is seen within a fraction of a second. Message-atomic
 * channels only for sends: a cut raw or framed stream send is never
 * retried (streams are sent in one call: nothing named is held then).
 * Returns what the channel returned; -ETIMEDOUT once timeout_ms is over.
 */
ssize_t ik_cc_send(struct ik_chan *c, const void *buf, size_t len,
		   const struct ik_chan_meta *meta, int timeout_ms);
ssize_t ik_cc_recv(struct ik_chan *c, void *buf, size_t cap,
		   struct ik_chan_meta *meta, int timeout_ms);

/*
 * After `send --listen` on a queue or ring (pmq, svmq, shm), whose close
 * removes the object: wait up to timeout_ms for the peer to take every
 * message (queues: until empty; shm: until the peer closes). 0, or
 * -ETIMEDOUT with *left the messages still queued (-1 unknown).
 */
int ik_cc_linger(struct ik_chan *c, int timeout_ms, long *left);

#endif
