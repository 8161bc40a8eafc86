/*
 * The server's connections. Each read is parsed in place, every complete
 * request in it executed, and all their replies leave in one send: that is
 * what makes pipelining cheap. A client is dropped alone when it breaks the
 * protocol, leaves more than max_output bytes of replies unread, or stays
 * silent past the idle timeout; clients sit in a list ordered by last
 * activity, so the idle check looks only at the ones that may have expired.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal/io.h"
#include "internal/serve.h"
#include "internal/time.h"

#define RBUF_MIN 4096
/* A client's buffers above this size are given back once drained. */
#define KEEP_MAX (64u << 10)

static void logf_(ik_serve *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
logf_(ik_serve *s, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (s->o.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->o.log(s->o.log_arg, line);
}

/* ---- the activity list ---------------------------------------------------
 */

static void
unlink_client(ik_serve *s, struct ik__client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	c->prev = c->next = NULL;
}

static void
append_client(ik_serve *s, struct ik__client *c)
{
	c->prev = s->tail;
	c->next = NULL;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
}

static void
touch(ik_serve *s, struct ik__client *c)
{
	if (s->o.idle_timeout_ms <= 0)
		return;
	c->last_ns = ik__now_ns();
	if (s->tail != c) {
		unlink_client(s, c);
		append_client(s, c);
	}
}

static void
client_free(struct ik__client *c)
{
	ik_serve *s = c->srv;

	unlink_client(s, c);
	s->st.clients--;
	ik_loop_remove(c->w);
	ik__close(c->fd);
	ik_resp_parser_free(c->parser);
	ik_resp_buf_free(&c->out);
	free(c->rbuf);
	free(c->name);
	free(c);
	if (s->draining && s->st.clients == 0)
		ik_loop_stop(s->loop);
}

static void
watch_events(struct ik__client *c, unsigned ev)
{
	if (c->events != ev && ik_loop_fd_set(c->w, ev) == 0)
		c->events = ev;
}

/*
 * Send what is pending. Returns 0 when the client stays, -1 when it was
 * freed (peer gone, or closing and all sent).
 */
static int
flush_out(struct ik__client *c)
{
	while (c->opos < c->out.len) {
		ssize_t n =
			send(c->fd, c->out.p + c->opos, c->out.len - c->opos,
			     MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->opos += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			watch_events(c, c->closing
						? IK_LOOP_WRITE
						: IK_LOOP_READ | IK_LOOP_WRITE);
			return 0;
		}
		client_free(c); /* EPIPE, ECONNRESET: nobody to answer */
		return -1;
	}
	c->out.len = c->opos = 0;
	if (c->out.cap > KEEP_MAX)
		ik_resp_buf_free(&c->out);
	if (c->closing) {
		client_free(c);
		return -1;
	}
	watch_events(c, IK_LOOP_READ);
	return 0;
}

/* Parse and run every complete request in the read buffer. */
static void
process(struct ik__client *c)
{
	ik_serve *s = c->srv;
	struct ik_resp_req req;

	while (!c->closing && c->rpos < c->rlen) {
		ssize_t n = ik_resp_parse(c->parser, c->rbuf + c->rpos,
					  c->rlen - c->rpos, &req);

		if (n == 0)
			break;
		if (n < 0) {
			const char *why =
				n == -EPROTO ? ik_resp_parser_error(c->parser)
					     : "ERR out of memory";

			ik_resp_error(&c->out, why);
			if (n == -EPROTO) {
				s->st.protocol_errors++;
				logf_(s, "client %llu: %s; closing",
				      (unsigned long long)c->id, why);
			}
			c->closing = true;
			break;
		}
		c->rpos += (size_t)n;
		if (req.argc > 0) {
			s->st.commands++;
			ik__serve_exec(c, &req);
		}
		/* a client that does not read: stop making replies for it */
		if (c->out.len - c->opos > s->o.max_output)
			break;
	}
	if (c->rpos == c->rlen) {
		c->rpos = c->rlen = 0;
		if (c->rcap > KEEP_MAX) {
			free(c->rbuf);
			c->rbuf = NULL;
			c->rcap = 0;
		}
	} else if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
}

/* Room to read into: double up to the request limit (plus one read). */
static int
rbuf_room(struct ik__client *c)
{
	size_t ncap, lim = c->srv->o.limits.max_request + RBUF_MIN;
	char *nb;

	if (c->rcap - c->rlen >= RBUF_MIN / 4 && c->rbuf)
		return 0;
	ncap = c->rcap ? c->rcap * 2 : RBUF_MIN;
	if (ncap > lim)
		ncap = lim;
	if (ncap <= c->rlen)
		return -ENOBUFS; /* the parser refuses such a request first */
	nb = realloc(c->rbuf, ncap);
	if (nb == NULL)
		return -ENOMEM;
	c->rbuf = nb;
	c->rcap = ncap;
	return 0;
}

static void
on_client(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct ik__client *c = arg;
	ik_serve *s = c->srv;

	(void)loop;
	(void)w;
	if ((ev->events & IK_LOOP_READ) && !c->closing) {
		ssize_t n;

		if (rbuf_room(c) < 0) {
			client_free(c);
			return;
		}
		n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(c);
			return;
		}
		if (n > 0) {
			c->rlen += (size_t)n;
			touch(s, c);
			process(c);
		}
		if (c->out.len - c->opos > s->o.max_output) {
			s->st.output_drops++;
			logf_(s,
			      "client %llu: %zu reply bytes unread "
			      "(limit %zu); closing",
			      (unsigned long long)c->id, c->out.len - c->opos,
			      s->o.max_output);
			client_free(c);
			return;
		}
	} else if (ev->events & (IK_LOOP_HUP | IK_LOOP_ERR) &&
		   !(ev->events & IK_LOOP_WRITE)) {
		client_free(c);
		return;
	}
	flush_out(c);
}

/* ---- accepting -----------------------------------------------------------
 */

static void
reject(ik_serve *s, int fd)
{
	static const char msg[] = "-ERR max number of clients reached\r\n";

	/* best effort: a fresh socket's buffer always has room for this */
	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0;
	ik__close(fd);
	s->st.rejected++;
}

static int
client_new(ik_serve *s, int fd)
{
	struct ik__client *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL)
		return -ENOMEM;
	c->srv = s;
	c->fd = fd;
	r = ik_resp_parser_new(&c->parser, &s->o.limits);
	if (r < 0)
		goto fail;
	r = ik_loop_fd_add(s->loop, fd, IK_LOOP_READ, on_client, c, &c->w);
	if (r < 0)
		goto fail;
	c->events = IK_LOOP_READ;
	c->id = ++s->next_id;
	c->last_ns = ik__now_ns();
	append_client(s, c);
	s->st.clients++;
	s->st.accepted++;
	return 0;
fail:
	ik_resp_parser_free(c->parser);
	free(c);
	return r;
}

static void
on_listen(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	ik_serve *s = arg;
	int one = 1;

	(void)loop;
	(void)w;
	/* a bounded batch: other workers and clients get their turn */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(ev->fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		bool tcp = false;
		int r;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE etc. persist while level-triggered accept
			 * retries: one line per streak, not one per try
			 * (ik_load under ulimit -n 1024 logged 150k lines) */
			if (errno != EAGAIN && errno != s->accept_errno) {
				s->accept_errno = errno;
				logf_(s, "accept: %s", strerror(errno));
			}
			/* out of descriptors, the pending connection would
			 * keep the listener readable and this loop spinning:
			 * spend the spare one to take it and turn it away
			 * (as libuv does), then put the spare back */
			if ((errno == EMFILE || errno == ENFILE) &&
			    s->spare_fd >= 0) {
				ik__close(s->spare_fd);
				fd = accept4(ev->fd, NULL, NULL,
					     SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd >= 0)
					reject(s, fd);
				s->spare_fd =
					open("/dev/null", O_RDONLY | O_CLOEXEC);
			}
			return;
		}
		s->accept_errno = 0;
		if (s->st.clients >= s->o.max_clients) {
			reject(s, fd);
			continue;
		}
		for (int j = 0; j < s->nlsn; j++)
			if (s->lsn[j].w == w)
				tcp = s->lsn[j].tcp;
		if (tcp) /* replies are batched already: never wait on Nagle */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		r = client_new(s, fd);
		if (r < 0) {
			logf_(s, "new client: %s", strerror(-r));
			ik__close(fd);
		}
	}
}

/* ---- timers --------------------------------------------------------------
 */

static void
on_idle(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	ik_serve *s = arg;
	int64_t cutoff = ik__now_ns() - (int64_t)s->o.idle_timeout_ms * 1000000;

	(void)loop;
	(void)w;
	(void)ev;
	/* NOLINTBEGIN(clang-analyzer-unix.Malloc): client_free unlinks the
	 * client first; the analyzer cannot see the list head move on */
	while (s->head && s->head->last_ns <= cutoff) {
		s->st.idle_drops++;
		client_free(s->head);
	}
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
}

static void
on_drain_timeout(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
		 void *arg)
{
	ik_serve *s = arg;

	(void)w;
	(void)ev;
	s->drain_w = NULL; /* one-shot: gone after this callback */
	if (s->st.clients > 0)
		logf_(s, "shutdown: closing %llu clients not yet flushed",
		      (unsigned long long)s->st.clients);
	/* NOLINTBEGIN(clang-analyzer-unix.Malloc): client_free unlinks the
	 * client first; the analyzer cannot see the list head move on */
	while (s->head)
		client_free(s->head);
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
	ik_loop_stop(loop);
}

/* ---- API -----------------------------------------------------------------
 */

int
ik_serve_new(ik_serve **out, ik_loop *loop, ik_cache *cache,
	     const struct ik_serve_opts *opts)
{
	ik_serve *s;
	ik_resp_parser *probe;
	int r;

	if (out == NULL || loop == NULL || cache == NULL)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->loop = loop;
	s->cache = cache;
	if (opts)
		s->o = *opts;
	if (s->o.max_clients == 0)
		s->o.max_clients = IK_SERVE_MAX_CLIENTS;
	if (s->o.max_output == 0)
		s->o.max_output = IK_SERVE_MAX_OUTPUT;
	if (s->o.limits.max_request == 0)
		s->o.limits.max_request = IK_RESP_MAX_REQUEST;
	r = -EINVAL;
	if (s->o.idle_timeout_ms < 0)
		goto fail;
	/* the limits are checked once here, not per client */
	r = ik_resp_parser_new(&probe, &s->o.limits);
	if (r < 0)
		goto fail;
	ik_resp_parser_free(probe);
	if (s->o.idle_timeout_ms > 0) {
		uint64_t every = (uint64_t)s->o.idle_timeout_ms / 4 + 1;

		r = ik_loop_timer_add(loop, every, every, on_idle, s,
				      &s->idle_w);
		if (r < 0)
			goto fail;
	}
	/* a descriptor kept in reserve: see on_listen */
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	s->start_ns = ik__now_ns();
	*out = s;
	return 0;
fail:
	free(s);
	return r;
}

int
ik_serve_listen(ik_serve *s, struct ik_sock *lsn)
{
	enum ik_sock_kind k;
	int r, type;
	socklen_t len = sizeof(type);

	if (s == NULL || lsn == NULL || s->draining)
		return -EINVAL;
	k = ik_sock_kind(lsn);
	if (getsockopt(ik_sock_fd(lsn), SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return -EINVAL;
	if (s->nlsn == IK__SERVE_MAX_LISTEN)
		return -ENOSPC;
	r = ik_sock_set_nonblock(lsn, true);
	if (r < 0)
		return r;
	r = ik_loop_fd_add(s->loop, ik_sock_fd(lsn), IK_LOOP_READ, on_listen, s,
			   &s->lsn[s->nlsn].w);
	if (r < 0)
		return r;
	s->lsn[s->nlsn].sock = lsn;
	s->lsn[s->nlsn].tcp = k == IK_SOCK_TCP;
	s->nlsn++;
	return 0;
}

int
ik_serve_shutdown(ik_serve *s, int timeout_ms)
{
	struct ik__client *c, *next;

	if (s == NULL)
		return -EINVAL;
	if (s->draining)
		return 0;
	s->draining = true;
	for (int i = 0; i < s->nlsn; i++)
		ik_loop_remove(s->lsn[i].w);
	s->nlsn = 0;
	if (s->idle_w) {
		ik_loop_remove(s->idle_w);
		s->idle_w = NULL;
	}
	for (c = s->head; c; c = next) {
		next = c->next;
		c->closing = true;
		if (c->opos == c->out.len)
			client_free(c);
		else
			watch_events(c, IK_LOOP_WRITE);
	}
	if (s->st.clients == 0) {
		ik_loop_stop(s->loop);
		return 0;
	}
	if (timeout_ms >= 0 &&
	    ik_loop_timer_add(s->loop, (uint64_t)timeout_ms, 0,
			      on_drain_timeout, s, &s->drain_w) < 0) {
		/* no timer: do not wait unbounded */
		/* NOLINTBEGIN(clang-analyzer-unix.Malloc): client_free unlinks
		 * the client first; the analyzer cannot see the list head move
		 * on */
		while (s->head)
			client_free(s->head);
		/* NOLINTEND(clang-analyzer-unix.Malloc) */
		ik_loop_stop(s->loop);
	}
	return 0;
}

int
ik_serve_stats(const ik_serve *s, struct ik_serve_stats *st)
{
	if (s == NULL || st == NULL)
		return -EINVAL;
	*st = s->st;
	return 0;
}

void
ik_serve_free(ik_serve *s)
{
	if (s == NULL)
		return;
	s->draining = false; /* freeing is not a shutdown: no loop stop */
	/* NOLINTBEGIN(clang-analyzer-unix.Malloc): client_free unlinks the
	 * client first; the analyzer cannot see the list head move on */
	while (s->head)
		client_free(s->head);
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
	for (int i = 0; i < s->nlsn; i++)
		ik_loop_remove(s->lsn[i].w);
	if (s->idle_w)
		ik_loop_remove(s->idle_w);
	if (s->drain_w)
		ik_loop_remove(s->drain_w);
	ik__close(s->spare_fd);
	free(s->scratch);
	free(s);
}
