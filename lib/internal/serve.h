/*
 * Shared between lib/serve.c (connections, buffers, limits) and
 * lib/serve_cmd.c (the Redis commands on the cache).
 */
#ifndef IK_INTERNAL_SERVE_H
#define IK_INTERNAL_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include <ipckit/serve.h>

#define IK__SERVE_MAX_LISTEN 16

struct ik__client {
	struct ik_serve *srv;
	struct ik__client *prev, *next; /* least recently active first */
	ik_watch *w;
	int fd;
	unsigned events; /* what w watches now */
	bool closing;	 /* read no more; close once the replies are out */
	ik_resp_parser *parser;
	char *rbuf; /* requests; rpos..rlen not consumed yet */
	size_t rlen, rpos, rcap;
	struct ik_resp_buf out; /* replies; opos..len not sent yet */
	size_t opos;
	int64_t last_ns;
	uint64_t id;
	char *name; /* CLIENT SETNAME */
};

struct ik_serve {
	ik_loop *loop;
	ik_cache *cache;
	struct ik_serve_opts o;
	struct {
		struct ik_sock *sock;
		ik_watch *w;
		bool tcp;
	} lsn[IK__SERVE_MAX_LISTEN];
	int nlsn;
	struct ik__client *head, *tail;
	ik_watch *idle_w, *drain_w;
	int spare_fd; /* /dev/null, given up to turn a client away on EMFILE */
	bool draining;
	int accept_errno; /* the last accept error, logged once */
	struct ik_serve_stats st;
	uint64_t next_id;
	int64_t start_ns;
	char *scratch; /* GET's fallback copy when peeking keeps failing */
	size_t scratch_cap;
};

/* Run one request, appending its reply to c->out. */
void ik__serve_exec(struct ik__client *c, const struct ik_resp_req *req);

#endif
