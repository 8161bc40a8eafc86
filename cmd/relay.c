/*
 * ipckit relay: move messages between two channels of any schemes, both
 * ways where both can, until either side ends.
 *
 * Method: one pump per direction holds at most one message; a pump that
 * holds one stops reading its source until the destination took it, so
 * nothing is ever buffered beyond one message per direction (back-pressure
 * reaches the sender). Everything is non-blocking on an ik_loop: sides
 * with a descriptor (ik_chan_fd) are watched for reading, or for writing
 * while their pump waits for room; sides without one (svmq, shm) are
 * polled by a timer that runs every 1 ms while messages move and backs off
 * to 50 ms when idle (at most 20 cheap wake-ups a second).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/ipckit.h>

#include "chancmd.h"
#include "cmd.h"

#define CMD "relay"
#define RAW_CHUNK 65536
#define MSG_BUF_CAP (64u << 20)
#define BATCH 64 /* messages per pump per wake-up: fairness */
#define POLL_MIN_MS 1
#define POLL_MAX_MS 50

extern const struct ik_cmd ik_cmd_relay;

struct side {
	struct ik_chan *c;
	const char *name;
	int fd; /* -1: polled by the timer */
	ik_watch *w;
	unsigned events; /* what w watches */
	bool drain;	 /* a one-way connection's back channel: read, drop */
	unsigned char *dbuf;
	size_t dcap;
	long type; /* svmq: type of the messages sent into it, or 0 */
	unsigned long long dropped;
};

struct pump {
	struct side *src, *dst;
	bool on;
	unsigned char *buf;
	size_t cap;
	ssize_t len; /* the message held, or -1 */
	struct ik_chan_meta meta;
	bool use_meta;
	unsigned long long moved;
};

struct relay {
	ik_loop *loop;
	struct side s[2];
	struct pump p[2]; /* p[0]: 1 -> 2, p[1]: 2 -> 1 */
	ik_watch *timer;
	int poll_ms, armed_ms;
	bool done;
	int status; /* exit status once done */
	int sig;
	char why[512];
};

static void relay_step(struct relay *r);

__attribute__((format(printf, 3, 4))) static void
finish(struct relay *r, int status, const char *fmt, ...)
{
	va_list ap;

	if (r->done)
		return;
	r->done = true;
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	ik_loop_stop(r->loop);
}

/* Meta for the destination: svmq type or pmq priority, where they mean
 * the same on both sides (or --typeN says what to send). */
static void
meta_for(struct pump *p, const struct ik_chan_meta *got)
{
	enum ik_scheme s = ik_chan_scheme(p->src->c);
	enum ik_scheme d = ik_chan_scheme(p->dst->c);

	memset(&p->meta, 0, sizeof(p->meta));
	p->use_meta = false;
	if (d == IK_SCHEME_SVMQ && p->dst->type > 0) {
		p->meta.type = p->dst->type;
		p->use_meta = true;
	} else if (d == IK_SCHEME_SVMQ && s == IK_SCHEME_SVMQ) {
		p->meta.type = got->type;
		p->use_meta = true;
	} else if (d == IK_SCHEME_PMQ && s == IK_SCHEME_PMQ) {
		p->meta.priority = got->priority;
		p->use_meta = true;
	}
}

static bool
is_end(const struct side *s, ssize_t n)
{
	return n == -EPIPE || (n == 0 && (ik_chan_caps(s->c) & IK_CHAN_RAW));
}

/* Move what can move without waiting; false once the relay is done. */
static bool
pump_step(struct relay *r, struct pump *p, bool *moved)
{
	for (int i = 0; i < BATCH; i++) {
		struct ik_chan_meta got = { 0 };
		ssize_t n;

		if (p->len >= 0) {
			n = ik_chan_sendm(p->dst->c, p->buf, (size_t)p->len,
					  p->use_meta ? &p->meta : NULL, 0);
			if (n == -EAGAIN)
				return true;
			if (n == -EPIPE) {
				finish(r, IK_EXIT_OK, "%s: closed",
				       p->dst->name);
				return false;
			}
			if (n == -EMSGSIZE) {
				finish(r, IK_EXIT_FAIL,
				       "a message of %zd bytes is above the "
				       "largest %s takes (%zu)",
				       p->len, p->dst->name,
				       ik_chan_maxmsg(p->dst->c));
				return false;
			}
			if (n < 0) {
				finish(r, IK_EXIT_FAIL, "%s: send: %s",
				       p->dst->name, ik_strerror((int)n));
				return false;
			}
			p->len = -1;
			p->moved++;
			*moved = true;
		}
		n = ik_chan_recvm(p->src->c, p->buf, p->cap, &got, 0);
		if (n == -EAGAIN)
			return true;
		if (is_end(p->src, n)) {
			finish(r, IK_EXIT_OK, "%s: end of stream",
			       p->src->name);
			return false;
		}
		if (n < 0) {
			finish(r, IK_EXIT_FAIL, "%s: receive: %s", p->src->name,
			       ik_strerror((int)n));
			return false;
		}
		p->len = n;
		meta_for(p, &got);
		*moved = true;
	}
	return true;
}

/* A one-way relay's back channel: read what the peer says, drop it. */
static bool
drain_step(struct relay *r, struct side *s)
{
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = ik_chan_recv(s->c, s->dbuf, s->dcap, 0);

		if (n == -EAGAIN)
			return true;
		if (is_end(s, n)) {
			finish(r, IK_EXIT_OK, "%s: end of stream", s->name);
			return false;
		}
		if (n < 0) {
			finish(r, IK_EXIT_FAIL, "%s: receive: %s", s->name,
			       ik_strerror((int)n));
			return false;
		}
		s->dropped++;
	}
	return true;
}

static void
fd_cb(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct relay *r = arg;

	(void)loop;
	(void)w;
	(void)ev;
	relay_step(r);
}

static void
timer_cb(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)loop;
	(void)w;
	(void)ev;
	relay_step(arg);
}

static void
signal_cb(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct relay *r = arg;

	(void)w;
	r->sig = ev->si.signo;
	r->done = true;
	ik_loop_stop(loop);
}

/* Watch each descriptor for what its pumps wait on; poll the rest. */
static void
rearm(struct relay *r)
{
	bool poll = false;

	for (int i = 0; i < 2; i++) {
		struct side *s = &r->s[i];
		unsigned ev = 0;

		for (int k = 0; k < 2; k++) {
			struct pump *p = &r->p[k];

			if (!p->on)
				continue;
			if (p->src == s && p->len < 0)
				ev |= IK_LOOP_READ;
			if (p->dst == s && p->len >= 0)
				ev |= IK_LOOP_WRITE;
		}
		if (s->drain)
			ev |= IK_LOOP_READ;
		if (s->fd < 0) {
			poll = poll || ev != 0;
			continue;
		}
		if (ev == s->events)
			continue;
		if (s->w != NULL && ev == 0) {
			ik_loop_remove(s->w);
			s->w = NULL;
		} else if (s->w != NULL) {
			ik_loop_fd_set(s->w, ev);
		} else if (ik_loop_fd_add(r->loop, s->fd, ev, fd_cb, r, &s->w) <
			   0) {
			s->fd = -1; /* refused (a regular file?): poll it */
			poll = true;
			ev = 0;
		}
		s->events = ev;
	}
	if (!poll && r->timer != NULL) {
		ik_loop_remove(r->timer);
		r->timer = NULL;
	} else if (poll && r->timer == NULL) {
		if (ik_loop_timer_add(r->loop, (uint64_t)r->poll_ms,
				      (uint64_t)r->poll_ms, timer_cb, r,
				      &r->timer) < 0)
			finish(r, IK_EXIT_FAIL, "timer: cannot be armed");
		r->armed_ms = r->poll_ms;
	} else if (poll && r->armed_ms != r->poll_ms) {
		ik_loop_timer_set(r->timer, (uint64_t)r->poll_ms,
				  (uint64_t)r->poll_ms);
		r->armed_ms = r->poll_ms;
	}
}

static void
relay_step(struct relay *r)
{
	bool moved = false;

	if (r->done)
		return;
	for (int k = 0; k < 2; k++)
		if (r->p[k].on && !pump_step(r, &r->p[k], &moved))
			return;
	for (int i = 0; i < 2; i++)
		if (r->s[i].drain && !drain_step(r, &r->s[i]))
			return;
	if (moved)
		r->poll_ms = POLL_MIN_MS;
	else if (r->poll_ms < POLL_MAX_MS)
		r->poll_ms = r->poll_ms * 2 < POLL_MAX_MS ? r->poll_ms * 2
							  : POLL_MAX_MS;
	rearm(r);
}

/* "listen:ADDR" listens; otherwise ADDR is dialled. */
static const char *
strip_listen(const char *a, int *listen)
{
	if (strncmp(a, "listen:", 7) == 0) {
		*listen = 1;
		return a + 7;
	}
	return a;
}

/* Room for any message of src (dst: where raw chunks go, or NULL). */
static size_t
buf_size(const struct ik_chan *src, const struct ik_chan *dst)
{
	size_t cap = ik_chan_maxmsg(src);

	if (ik_chan_caps(src) & IK_CHAN_RAW) {
		cap = RAW_CHUNK; /* no messages: chunks that dst can take */
		if (dst != NULL && ik_chan_maxmsg(dst) < cap)
			cap = ik_chan_maxmsg(dst);
	}
	return cap < MSG_BUF_CAP ? cap : MSG_BUF_CAP;
}

/* Would a svmq side read back what the relay sends into it? */
static void
check_echo(const struct side *s)
{
	char text[IK_ADDR_REST_MAX + 512];
	const char *t;
	struct ik_addr a;
	long sel = 1, sent;

	if (ik_chan_scheme(s->c) != IK_SCHEME_SVMQ ||
	    ik_chan_addr(s->c, text, sizeof(text)) < 0 ||
	    ik_addr_parse(text, &a, NULL, 0) < 0)
		return;
	if ((t = ik_addr_opt(&a, "type")) != NULL)
		sel = strtol(t, NULL, 10);
	sent = s->type > 0 ? s->type : sel > 0 ? sel : sel < 0 ? -sel : 1;
	if (sel == 0 || (sel > 0 && sent == sel) || (sel < 0 && sent <= -sel))
		ik_cc_usage(CMD,
			    "%s would read back the type-%ld messages the "
			    "relay sends into it: receive another type "
			    "(?type=N) and send with --type1/--type2, or "
			    "relay one way (-u, -U)",
			    s->name, sent);
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", no_argument, NULL, 'l' },
		{ "raw", no_argument, NULL, 'r' },
		{ "type1", required_argument, NULL, '1' },
		{ "type2", required_argument, NULL, '2' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct relay r = { .poll_ms = POLL_MIN_MS };
	int listen[2] = { 0, 0 }, raw = 0, verbose = 0, timeout_ms = -1;
	int only = 0, opt, rc;
	long type[2] = { 0, 0 };
	const char *addr[2];

	/* optind 0 re-initialises GNU getopt: main's "+" (stop at the
	 * first non-option) must not carry over; options may follow ADDR */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "lruUT:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen[0] = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 'u':
		case 'U':
			if (only != 0)
				ik_cc_usage(CMD,
					    "-u and -U exclude each other");
			only = opt == 'u' ? 1 : 2;
			break;
		case '1':
		case '2':
			type[opt - '1'] = (long)ik_cc_parse_num(
				CMD, opt == '1' ? "--type1" : "--type2", optarg,
				1, 0x7fffffff);
			break;
		case 'T':
			timeout_ms = ik_cc_parse_timeout(CMD, optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			ik_cmd_help(&ik_cmd_relay);
			return IK_EXIT_OK;
		default:
			ik_cc_usage(CMD, "bad option");
		}
	}
	if (argc - optind != 2)
		ik_cc_usage(CMD, "expected two addresses, ADDR1 ADDR2");
	for (int i = 0; i < 2; i++) {
		addr[i] = strip_listen(argv[optind + i], &listen[i]);
		ik_cc_check_addr(CMD, addr[i]);
	}

	ik_cc_signals_block();
	/* create what we listen on first, so the peers can find it; then
	 * dial; then wait for the connections */
	for (int i = 0; i < 2; i++)
		if (listen[i])
			r.s[i].c = ik_cc_listen(CMD, addr[i], raw, verbose);
	for (int i = 0; i < 2; i++)
		if (!listen[i])
			r.s[i].c = ik_cc_dial(CMD, addr[i], raw, timeout_ms);
	for (int i = 0; i < 2; i++)
		if (listen[i])
			r.s[i].c = ik_cc_accept(CMD, r.s[i].c, timeout_ms);

	for (int i = 0; i < 2; i++) {
		struct side *s = &r.s[i];

		s->name = addr[i];
		s->type = type[i];
		s->fd = ik_chan_fd(s->c);
		if (s->fd < 0)
			s->fd = -1;
		if (type[i] && ik_chan_scheme(s->c) != IK_SCHEME_SVMQ)
			ik_cc_usage(CMD, "--type%d is for a svmq: address",
				    i + 1);
	}
	for (int k = 0; k < 2; k++) {
		struct pump *p = &r.p[k];

		p->src = &r.s[k];
		p->dst = &r.s[1 - k];
		p->len = -1;
		p->on = (ik_chan_caps(p->src->c) & IK_CHAN_RECV) &&
			(ik_chan_caps(p->dst->c) & IK_CHAN_SEND) &&
			(only == 0 || only == k + 1);
	}
	if (!r.p[0].on && !r.p[1].on)
		ik_cc_usage(CMD,
			    "nothing can flow between %s and %s (see "
			    "which end of each sends)",
			    addr[0], addr[1]);
	for (int i = 0; i < 2; i++) {
		struct side *s = &r.s[i];
		int caps = ik_chan_caps(s->c);
		enum ik_scheme sch = ik_chan_scheme(s->c);

		/* the back channel of a one-way connection: its end ends us */
		s->drain =
			!r.p[i].on && (caps & IK_CHAN_RECV) && s->fd >= 0 &&
			!(caps & IK_CHAN_DGRAM) &&
			(sch == IK_SCHEME_UNIX || sch == IK_SCHEME_ABSTRACT ||
			 sch == IK_SCHEME_TCP || sch == IK_SCHEME_UNIXPACKET);
		if (s->drain) {
			s->dcap = buf_size(s->c, NULL);
			s->dbuf = malloc(s->dcap ? s->dcap : 1);
			if (s->dbuf == NULL)
				ik_cc_fail(CMD, "%s", ik_strerror(-ENOMEM));
		}
		if (r.p[0].on && r.p[1].on)
			check_echo(s);
		if (ik_chan_set_nonblock(s->c, 1) < 0)
			ik_cc_fail(CMD, "%s: non-blocking mode refused",
				   s->name);
	}
	for (int k = 0; k < 2; k++) {
		struct pump *p = &r.p[k];

		if (!p->on)
			continue;
		p->cap = buf_size(p->src->c, p->dst->c);
		p->buf = malloc(p->cap ? p->cap : 1);
		if (p->buf == NULL)
			ik_cc_fail(CMD, "%s", ik_strerror(-ENOMEM));
	}
	if ((rc = ik_loop_new(&r.loop, 0)) < 0)
		ik_cc_fail(CMD, "event loop: %s", ik_strerror(rc));
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((rc = ik_loop_signal_add(r.loop, sigs[i], signal_cb, &r,
					     NULL)) < 0)
			ik_cc_fail(CMD, "signals: %s", ik_strerror(rc));
	if (verbose)
		fprintf(stderr, "ipckit relay: %s %s %s\n", addr[0],
			r.p[0].on && r.p[1].on ? "<->"
			: r.p[0].on	       ? "->"
					       : "<-",
			addr[1]);

	relay_step(&r);
	while (!r.done && (rc = ik_loop_run(r.loop)) >= 0 && !r.done)
		;
	if (!r.done)
		finish(&r, IK_EXIT_FAIL, "event loop: %s", ik_strerror(rc));
	ik_loop_free(r.loop);
	for (int k = 0; k < 2; k++) {
		free(r.p[k].buf);
		free(r.s[k].dbuf);
	}
	if (r.sig)
		ik_cc_die_signal(r.sig);
	if (r.status != IK_EXIT_OK)
		ik_cc_fail(CMD, "%s", r.why);
	if (verbose) {
		fprintf(stderr, "ipckit relay: %s\n", r.why);
		fprintf(stderr,
			"ipckit relay: %llu messages %s -> %s, %llu %s -> "
			"%s\n",
			r.p[0].moved, addr[0], addr[1], r.p[1].moved, addr[1],
			addr[0]);
	}
	for (int i = 0; i < 2; i++)
		if (r.s[i].dropped)
			fprintf(stderr,
				"ipckit relay: %llu messages from %s had "
				"nowhere to go (dropped)\n",
				r.s[i].dropped, addr[i]);
	ik_cc_close(CMD, r.s[0].c);
	ik_cc_close(CMD, r.s[1].c);
	return IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_relay = {
	.name = "relay",
	.summary = "move messages between two channels of any schemes",
	.usage = "usage: ipckit relay [OPTIONS] [listen:]ADDR1 [listen:]ADDR2\n"
		 "\n"
		 "Move messages from each address to the other, both ways "
		 "where both ends\n"
		 "can (a fifo listener only receives, a fifo dialler only "
		 "sends), until\n"
		 "either side ends. An address prefixed with listen: is "
		 "created (bound)\n"
		 "by the relay, which accepts one connection on it; the others "
		 "are dialled.\n"
		 "\n"
		 "  -l, --listen       listen on ADDR1 (same as listen:ADDR1)\n"
		 "  -u, -U             one way only: ADDR1 to ADDR2 (-u), "
		 "ADDR2 to ADDR1 (-U)\n"
		 "  -r, --raw          ?raw=1 on byte-stream addresses (no "
		 "framing)\n"
		 "  --type1 N, --type2 N\n"
		 "                     svmq: the type of the messages sent "
		 "into ADDR1/ADDR2\n"
		 "                     (received: the address's ?type=); "
		 "needed both ways\n"
		 "  -T, --timeout T    bound the waits for the peers (dial, "
		 "accept)\n"
		 "  -v, --verbose      say where it listens, and what moved, "
		 "on stderr\n"
		 "\n"
		 "At most one message per direction is held: a slow side slows "
		 "the other.\n"
		 "Exit 0 when a side ends (end of stream, peer closed); 1 on "
		 "an error;\n"
		 "2 for a usage error or a bad address.\n",
	.run = run,
};
