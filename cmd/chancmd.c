/*
 * Shared by ipckit send, recv and relay (see chancmd.h). Signals are
 * blocked rather than caught: the library retries EINTR by design, so a
 * handler's flag would only be seen when a wait ends; a pending signal is
 * instead looked for between slices of every wait, and the command closes
 * its channels (removing what it created) before it dies of the signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "chancmd.h"
#include "cmd.h"

#define SLICE_MS 200
#define MAX_OPEN 4

static struct {
	struct ik_chan *c;
	char name[IK_ADDR_REST_MAX + 64];
	int owner;
} open_chans[MAX_OPEN];

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static void
close_all(void)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		if (open_chans[i].c != NULL)
			ik_chan_close(open_chans[i].c);
		open_chans[i].c = NULL;
	}
}

void
ik_cc_signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		sigaddset(&set, stop_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

void
ik_cc_signals_unblock(void)
{
	sigset_t set;

	ik_cc_signals_check();
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		sigaddset(&set, stop_sigs[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void
ik_cc_die_signal(int sig)
{
	struct sigaction sa;
	sigset_t set;

	close_all();
	fflush(stdout);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL); /* the pending one kills us */
	raise(sig);
	_exit(128 + sig);
}

void
ik_cc_signals_check(void)
{
	sigset_t pend;

	if (sigpending(&pend) < 0)
		return;
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		if (sigismember(&pend, stop_sigs[i]) == 1)
			ik_cc_die_signal(stop_sigs[i]);
}

void
ik_cc_exit(const char *cmd, int status, const char *fmt, ...)
{
	va_list ap;

	close_all();
	if (status != IK_EXIT_USAGE)
		fflush(stdout);
	va_start(ap, fmt);
	ik_cmd_vline(cmd, status, fmt, ap);
	va_end(ap);
	exit(status);
}

int
ik_cc_parse_timeout(const char *cmd, const char *s)
{
	int64_t ms;

	if (strcmp(s, "-1") == 0)
		return -1;
	if (ik_cmd_parse_duration_ms(s, &ms) < 0)
		ik_cc_usage(cmd,
			    "--timeout '%s': expected a duration such as "
			    "500ms, 2s or -1 (forever)",
			    s);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

long long
ik_cc_parse_num(const char *cmd, const char *opt, const char *s, long long min,
		long long max)
{
	long long v;

	if (ik_cmd_parse_int(s, min, max, &v) < 0)
		ik_cc_usage(cmd,
			    "%s '%s': expected an integer from %lld to %lld",
			    opt, s, min, max);
	return v;
}

/* The next slice of a wait that ends at end (-1: never). */
static int
slice(int64_t end)
{
	int64_t left;

	if (end < 0)
		return SLICE_MS;
	left = end - ik_cmd_now_ms();
	if (left <= 0)
		return 0;
	return left < SLICE_MS ? (int)left : SLICE_MS;
}

static int64_t
deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : ik_cmd_now_ms() + timeout_ms;
}

static int
expired(int64_t end)
{
	return end >= 0 && ik_cmd_now_ms() >= end;
}

static int
is_stream_scheme(const struct ik_addr *a)
{
	const char *t = ik_addr_opt(a, "type");

	switch (a->scheme) {
	case IK_SCHEME_FIFO:
	case IK_SCHEME_TCP:
		return 1;
	case IK_SCHEME_UNIX:
	case IK_SCHEME_ABSTRACT:
		return t == NULL || strcmp(t, "stream") == 0;
	default:
		return 0;
	}
}

__attribute__((noreturn)) static void
bad_addr(const char *cmd, const char *addr, const char *err, int r)
{
	close_all();
	fprintf(stderr, "ipckit %s: %s\n", cmd, err[0] ? err : ik_strerror(r));
	(void)addr;
	exit(IK_EXIT_USAGE);
}

static void
remember(struct ik_chan *c, const char *cmd, const char *name, int owner)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		if (open_chans[i].c == NULL) {
			open_chans[i].c = c;
			snprintf(open_chans[i].name, sizeof(open_chans[i].name),
				 "%s", name);
			open_chans[i].owner = owner;
			return;
		}
	}
	ik_chan_close(c);
	ik_cc_fail(cmd, "too many channels open");
}

static int
slot(const struct ik_chan *c)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_chans[i].c == c)
			return i;
	return -1;
}

const char *
ik_cc_name(const struct ik_chan *c)
{
	int i = slot(c);

	return i < 0 ? "?" : open_chans[i].name;
}

int
ik_cc_owner(const struct ik_chan *c)
{
	int i = slot(c);

	return i < 0 ? 0 : open_chans[i].owner;
}

void
ik_cc_close(const char *cmd, struct ik_chan *c)
{
	char name[sizeof(open_chans[0].name)];
	int i = slot(c), r;

	snprintf(name, sizeof(name), "%s", ik_cc_name(c));
	if (i >= 0)
		open_chans[i].c = NULL;
	r = ik_chan_close(c);
	if (r < 0)
		ik_cc_fail(cmd, "%s: close: %s", name, ik_strerror(r));
}

/* The address text to open: addr, with ?raw=1 added on byte streams. */
static void
prepare(const char *cmd, const char *addr, int raw, char *text, size_t len)
{
	char err[512] = "";
	struct ik_addr a;
	int r;

	r = ik_addr_parse(addr, &a, err, sizeof(err));
	if (r < 0)
		bad_addr(cmd, addr, err, r);
	snprintf(text, len, "%s", addr);
	if (raw && is_stream_scheme(&a) && ik_addr_opt(&a, "raw") == NULL)
		snprintf(text, len, "%s%sraw=1", addr,
			 strchr(addr, '?') ? "&" : "?");
}

__attribute__((noreturn)) static void
open_failed(const char *cmd, const char *addr, int r, const char *err)
{
	if (r == IK_EBADADDR || r == IK_EBADSCHEME ||
	    (r == -EPROTONOSUPPORT && err[0]))
		bad_addr(cmd, addr, err, r);
	if (r == -ETIMEDOUT || r == -ENOENT || r == -ECONNREFUSED ||
	    r == -ENXIO)
		ik_cc_fail(cmd, "%s: nobody there to dial (%s)", addr,
			   ik_strerror(r));
	ik_cc_fail(cmd, "%s: %s%s%s", addr, ik_strerror(r), err[0] ? ": " : "",
		   err);
}

void
ik_cc_check_addr(const char *cmd, const char *addr)
{
	char text[IK_ADDR_REST_MAX + 512];

	prepare(cmd, addr, 0, text, sizeof(text));
}

struct ik_chan *
ik_cc_listen(const char *cmd, const char *addr, int raw, int verbose)
{
	char text[IK_ADDR_REST_MAX + 512], err[512] = "";
	struct ik_chan *l = NULL;
	int r;

	prepare(cmd, addr, raw, text, sizeof(text));
	r = ik_chan_listen(&l, text, err, sizeof(err));
	if (r < 0)
		open_failed(cmd, addr, r, err);
	remember(l, cmd, addr, 1);
	if (verbose) {
		char canon[IK_ADDR_REST_MAX + 512];

		if (ik_chan_addr(l, canon, sizeof(canon)) < 0)
			snprintf(canon, sizeof(canon), "%s", addr);
		fprintf(stderr, "ipckit %s: listening on %s\n", cmd, canon);
	}
	return l;
}

struct ik_chan *
ik_cc_accept(const char *cmd, struct ik_chan *l, int timeout_ms)
{
	char name[sizeof(open_chans[0].name)];
	int64_t end = deadline(timeout_ms);
	struct ik_chan *c = NULL;
	int r;

	if (!(ik_chan_caps(l) & IK_CHAN_ACCEPT))
		return l;
	snprintf(name, sizeof(name), "%s", ik_cc_name(l));
	do {
		ik_cc_signals_check();
		r = ik_chan_accept(l, &c, slice(end));
	} while ((r == -ETIMEDOUT || r == -EAGAIN) && !expired(end));
	if (r < 0)
		ik_cc_fail(cmd, "%s: accept: %s", name,
			   ik_strerror(r == -EAGAIN ? -ETIMEDOUT : r));
	/* one connection: the listener (and its socket file) can go */
	ik_cc_close(cmd, l);
	remember(c, cmd, name, 0);
	return c;
}

struct ik_chan *
ik_cc_dial(const char *cmd, const char *addr, int raw, int timeout_ms)
{
	char text[IK_ADDR_REST_MAX + 512], err[512] = "";
	int64_t end = deadline(timeout_ms);
	struct ik_chan *c = NULL;
	int r;

	prepare(cmd, addr, raw, text, sizeof(text));
	/* a dial waits for its peer: in slices, to see signals */
	do {
		ik_cc_signals_check();
		r = ik_chan_dial(&c, text, slice(end), err, sizeof(err));
	} while ((r == -ETIMEDOUT || r == -ENOENT || r == -ECONNREFUSED ||
		  r == -ENXIO) &&
		 !expired(end));
	if (r < 0)
		open_failed(cmd, addr, r, err);
	remember(c, cmd, addr, 0);
	return c;
}

struct ik_chan *
ik_cc_open(const char *cmd, const char *addr, int listen, int raw,
	   int timeout_ms, int verbose)
{
	if (!listen)
		return ik_cc_dial(cmd, addr, raw, timeout_ms);
	return ik_cc_accept(cmd, ik_cc_listen(cmd, addr, raw, verbose),
			    timeout_ms);
}

ssize_t
ik_cc_send(struct ik_chan *c, const void *buf, size_t len,
	   const struct ik_chan_meta *meta, int timeout_ms)
{
	int64_t end = deadline(timeout_ms);
	ssize_t n;

	if (ik_chan_caps(c) & IK_CHAN_STREAM)
		return ik_chan_sendm(c, buf, len, meta, timeout_ms);
	for (;;) {
		ik_cc_signals_check();
		n = ik_chan_sendm(c, buf, len, meta, slice(end));
		if (n != -ETIMEDOUT && n != -EAGAIN)
			return n;
		if (expired(end))
			return -ETIMEDOUT;
	}
}

ssize_t
ik_cc_recv(struct ik_chan *c, void *buf, size_t cap, struct ik_chan_meta *meta,
	   int timeout_ms)
{
	int64_t end = deadline(timeout_ms);
	ssize_t n;

	for (;;) {
		ik_cc_signals_check();
		n = ik_chan_recvm(c, buf, cap, meta, slice(end));
		if (n != -ETIMEDOUT && n != -EAGAIN)
			return n;
		if (expired(end))
			return -ETIMEDOUT;
	}
}

/* Messages still in the queue behind c; -1 when it cannot be told. */
static long
queued(const struct ik_chan *c)
{
	char text[IK_ADDR_REST_MAX + 512];
	struct ik_addr a;
	long n = -1;

	if (ik_chan_addr(c, text, sizeof(text)) < 0 ||
	    ik_addr_parse(text, &a, NULL, 0) < 0)
		return -1;
	if (a.scheme == IK_SCHEME_SVMQ) {
		struct ik_msgq_stat st;
		const char *idopt = ik_addr_opt(&a, "id");
		key_t key = (key_t)a.key;
		uint64_t proj = 1;
		int id = -1;

		if (idopt != NULL) {
			uint64_t v;

			if (ik_addr_opt_u64(&a, "id", &v, NULL, 0) < 0 ||
			    v > INT32_MAX)
				return -1;
			id = (int)v;
		} else {
			if (a.key_from_path &&
			    (ik_addr_opt_u64(&a, "proj", &proj, NULL, 0) < 0 ||
			     ik_msgq_key(a.rest, (int)proj, &key) < 0))
				return -1;
			if (ik_msgq_open(key, &id) < 0)
				return -1;
		}
		if (ik_msgq_stat(id, &st) == 0)
			n = (long)st.messages;
	} else if (a.scheme == IK_SCHEME_PMQ) {
		struct ik_pmq_attr at;
		mqd_t q;

		if (ik_pmq_open(a.rest, O_RDONLY, &q) < 0)
			return -1;
		if (ik_pmq_getattr(q, &at) == 0)
			n = at.curmsgs;
		ik_pmq_close(q);
	}
	return n;
}

int
ik_cc_linger(struct ik_chan *c, int timeout_ms, long *left)
{
	int64_t end = deadline(timeout_ms);
	struct timespec pause = { 0, 1000000 };
	char sink[256];
	ssize_t n;

	*left = -1;
	if (ik_chan_scheme(c) == IK_SCHEME_SHM) {
		/* a ring has no count to read: wait for the peer to close
		 * (anything it sends back is not ours to print: dropped) */
		for (;;) {
			int64_t left_ms = end < 0 ? -1 : end - ik_cmd_now_ms();

			n = ik_cc_recv(
				c, sink, sizeof(sink), NULL,
				end < 0 ? -1
					: (int)(left_ms > 0 ? left_ms : 0));
			if (n == -EPIPE)
				return 0;
			if (n < 0)
				return (int)n;
		}
	}
	/* a queue has no wake-up for "emptied": poll, backing off to 50ms */
	while ((*left = queued(c)) > 0) {
		if (expired(end))
			return -ETIMEDOUT;
		ik_cc_signals_check();
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 50000000)
			pause.tv_nsec *= 2;
	}
	return 0;
}
