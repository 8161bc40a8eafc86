/*
 * A Redis-protocol (RESP2) server for an ik_cache, on an ik_loop: many
 * non-blocking clients per process, pipelined requests answered with one
 * write per read, every client bounded (request size, output backlog, idle
 * time) so that a slow, idle or hostile client is dropped alone. Several
 * processes may serve the same cache from the same listening sockets.
 */
#ifndef IPCKIT_SERVE_H
#define IPCKIT_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <ipckit/cache.h>
#include <ipckit/loop.h>
#include <ipckit/resp.h>
#include <ipckit/sock.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ik_serve ik_serve;

#define IK_SERVE_MAX_CLIENTS 10000u	/* default max_clients */
#define IK_SERVE_MAX_OUTPUT (64u << 20) /* default max_output */

/* Options; NULL or a zero field means the default. */
struct ik_serve_opts {
	size_t max_clients;  /* more get "-ERR max number of clients reached" */
	size_t max_output;   /* reply bytes a client may leave unread */
	int idle_timeout_ms; /* close clients silent this long; 0 never */
	struct ik_resp_limits limits; /* request parsing (ik_resp(3)) */
	/* One line per notable event (no newline); the library never prints. */
	void (*log)(void *arg, const char *line);
	void *log_arg;
};

struct ik_serve_stats {
	uint64_t clients;	  /* connected now */
	uint64_t accepted;	  /* connections accepted in all */
	uint64_t rejected;	  /* refused: max_clients reached */
	uint64_t commands;	  /* commands executed */
	uint64_t protocol_errors; /* clients dropped for malformed input */
	uint64_t output_drops;	  /* clients dropped: max_output passed */
	uint64_t idle_drops;	  /* clients dropped: idle timeout */
};

/*
 * A server on loop for cache (both borrowed: they must outlive it). It
 * serves nothing until ik_serve_listen. Returns 0; -EINVAL, -ENOMEM, or a
 * negative errno (a timer could not be made).
 */
int ik_serve_new(ik_serve **out, ik_loop *loop, ik_cache *cache,
		 const struct ik_serve_opts *opts);

/*
 * Accept clients from the listening stream socket lsn (borrowed; made
 * non-blocking). Several processes may pass the same socket (inherited by
 * fork): each connection goes to one of them. Up to 16 listeners. Returns
 * 0, -EINVAL (not a stream listener), -ENOSPC, or a negative errno.
 */
int ik_serve_listen(ik_serve *s, struct ik_sock *lsn);

/*
 * Graceful stop: accept and read no more, send the replies already made,
 * close each client once flushed (or all at once after timeout_ms, -1
 * never), then ik_loop_stop the loop. Returns 0, or -EINVAL.
 */
int ik_serve_shutdown(ik_serve *s, int timeout_ms);

/* Counters of this process's server. 0 or -EINVAL. */
int ik_serve_stats(const ik_serve *s, struct ik_serve_stats *st);

/* Close every client, remove the watchers, free (NULL is a no-op). */
void ik_serve_free(ik_serve *s);

#ifdef __cplusplus
}
#endif
#endif
