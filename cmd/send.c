/*
 * ipckit send: messages into any channel, by address. Each MESSAGE argument
 * is one message; without arguments each line of standard input (its
 * newline removed) is one, or with --raw each --size bytes of it. With
 * --listen the command creates the object (accepting one connection where
 * the scheme has them); a queue or ring it created is removed only once the
 * peer has taken every message (see ik_cc_linger).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "chancmd.h"
#include "cmd.h"

#define CMD "send"

extern const struct ik_cmd ik_cmd_send;
#define RAW_SIZE_DEFAULT 65536
#define LINE_MAX_CAP (64u << 20) /* never hold more than this for a line */

struct sender {
	struct ik_chan *c;
	const struct ik_chan_meta *meta;
	int timeout_ms;
	long long count;
	size_t maxmsg;
	unsigned long long sent, bytes;
};

static void
send_one(struct sender *s, const void *buf, size_t len)
{
	for (long long i = 0; i < s->count; i++) {
		ssize_t n = ik_cc_send(s->c, buf, len, s->meta, s->timeout_ms);

		if (n == -EMSGSIZE)
			ik_cc_fail(CMD,
				   "%s: message %llu (%zu bytes) is above the "
				   "channel's largest (%zu bytes)",
				   ik_cc_name(s->c), s->sent + 1, len,
				   s->maxmsg);
		if (n == -EPIPE)
			ik_cc_fail(CMD,
				   "%s: the receiver went away after %llu "
				   "messages",
				   ik_cc_name(s->c), s->sent);
		if (n < 0)
			ik_cc_fail(CMD, "%s: message %llu: %s",
				   ik_cc_name(s->c), s->sent + 1,
				   ik_strerror((int)n));
		s->sent++;
		s->bytes += len;
	}
}

/* Read up to len bytes, fewer only at end of input. */
static ssize_t
read_chunk(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(STDIN_FILENO, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void
send_chunks(struct sender *s, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	ssize_t n;

	if (buf == NULL)
		ik_cc_fail(CMD, "%s", ik_strerror(-ENOMEM));
	while ((n = read_chunk(buf, size)) > 0)
		send_one(s, buf, (size_t)n);
	free(buf);
	if (n < 0)
		ik_cc_fail(CMD, "standard input: %s", ik_strerror((int)n));
}

static void
send_lines(struct sender *s)
{
	size_t cap = s->maxmsg < LINE_MAX_CAP ? s->maxmsg : LINE_MAX_CAP;
	size_t len = 0, room = 4096;
	unsigned long long line = 1;
	char *buf = malloc(room);
	int ch;

	if (buf == NULL)
		ik_cc_fail(CMD, "%s", ik_strerror(-ENOMEM));
	while ((ch = getchar()) != EOF) {
		if (ch == '\n') {
			send_one(s, buf, len);
			len = 0;
			line++;
			continue;
		}
		if (len == cap) {
			free(buf);
			ik_cc_fail(CMD,
				   "standard input, line %llu: longer than "
				   "the channel's largest message (%zu bytes)",
				   line, cap);
		}
		if (len == room) {
			char *b;

			room = room * 2 < cap ? room * 2 : cap;
			b = realloc(buf, room);
			if (b == NULL) {
				free(buf);
				ik_cc_fail(CMD, "%s", ik_strerror(-ENOMEM));
			}
			buf = b;
		}
		buf[len++] = (char)ch;
	}
	if (ferror(stdin)) {
		free(buf);
		ik_cc_fail(CMD, "standard input: read error");
	}
	if (len > 0) /* a last line without its newline */
		send_one(s, buf, len);
	free(buf);
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", no_argument, NULL, 'l' },
		{ "raw", no_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "type", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sender s = { .timeout_ms = -1, .count = 1 };
	struct ik_chan_meta meta = { 0 };
	int listen = 0, raw = 0, verbose = 0, opt, r;
	int have_type = 0, have_prio = 0;
	uint64_t size = 0;
	const char *addr;
	enum ik_scheme sch;
	long left;

	/* optind 0 re-initialises GNU getopt: main's "+" (stop at the
	 * first non-option) must not carry over; options may follow ADDR */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "lrs:c:t:p:T:vh", opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'l':
			listen = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 's':
			if (ik_cmd_parse_size(optarg, &size) < 0 || size == 0)
				ik_cc_usage(CMD,
					    "--size '%s': expected a size "
					    "such as 4096 or 64K",
					    optarg);
			break;
		case 'c':
			s.count = ik_cc_parse_num(CMD, "--count", optarg, 0,
						  1LL << 40);
			break;
		case 't':
			meta.type = (long)ik_cc_parse_num(CMD, "--type", optarg,
							  1, 0x7fffffff);
			have_type = 1;
			break;
		case 'p':
			meta.priority = (unsigned)ik_cc_parse_num(
				CMD, "--priority", optarg, 0, 32767);
			have_prio = 1;
			break;
		case 'T':
			s.timeout_ms = ik_cc_parse_timeout(CMD, optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			ik_cmd_help(&ik_cmd_send);
			return IK_EXIT_OK;
		default:
			ik_cc_usage(CMD, "bad option");
		}
	}
	if (optind >= argc)
		ik_cc_usage(CMD, "missing ADDR");
	addr = argv[optind++];
	if (size && !raw)
		ik_cc_usage(CMD, "--size goes with --raw");

	ik_cc_signals_block();
	s.c = ik_cc_open(CMD, addr, listen, raw, s.timeout_ms, verbose);
	sch = ik_chan_scheme(s.c);
	if (!(ik_chan_caps(s.c) & IK_CHAN_SEND))
		ik_cc_usage(CMD,
			    "%s: this end only receives (a %s listener reads; "
			    "send dials it)",
			    addr, ik_scheme_name(sch));
	if (have_type && sch != IK_SCHEME_SVMQ)
		ik_cc_usage(CMD, "--type is for svmq: addresses");
	if (have_prio && sch != IK_SCHEME_PMQ)
		ik_cc_usage(CMD, "--priority is for pmq: addresses");
	/* a pmq meta always carries a priority: only pass one when asked */
	s.meta = have_type || have_prio ? &meta : NULL;
	s.maxmsg = ik_chan_maxmsg(s.c);
	if (size > s.maxmsg)
		ik_cc_usage(CMD,
			    "--size %llu is above the channel's largest "
			    "message (%zu bytes)",
			    (unsigned long long)size, s.maxmsg);
	if (raw && size == 0)
		size = s.maxmsg < RAW_SIZE_DEFAULT ? s.maxmsg
						   : RAW_SIZE_DEFAULT;
	if (!ik_cc_owner(s.c))
		ik_cc_signals_unblock(); /* nothing of ours to remove */

	if (optind < argc) {
		for (long long i = 0, n = s.count; i < n; i++) {
			s.count = 1;
			for (int a = optind; a < argc; a++)
				send_one(&s, argv[a], strlen(argv[a]));
			s.count = n;
		}
	} else if (raw) {
		send_chunks(&s, (size_t)size);
	} else {
		send_lines(&s);
	}

	if (verbose)
		fprintf(stderr,
			"ipckit send: sent %llu messages (%llu bytes) "
			"to %s\n",
			s.sent, s.bytes, addr);
	if (ik_cc_owner(s.c) &&
	    (sch == IK_SCHEME_PMQ || sch == IK_SCHEME_SVMQ ||
	     sch == IK_SCHEME_SHM)) {
		r = ik_cc_linger(s.c, s.timeout_ms, &left);
		if (r == -ETIMEDOUT)
			ik_cc_fail(CMD,
				   "%s: timed out waiting for the receiver "
				   "(%ld messages not taken; removed)",
				   addr, left);
		if (r < 0)
			ik_cc_fail(CMD, "%s: %s", addr, ik_strerror(r));
	}
	ik_cc_close(CMD, s.c);
	return IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_send = {
	.name = "send",
	.summary = "send messages to any channel by address",
	.usage = "usage: ipckit send [OPTIONS] ADDR [MESSAGE...]\n"
		 "\n"
		 "Send each MESSAGE as one message to ADDR (fifo:, unix:, "
		 "unixgram:,\n"
		 "unixpacket:, abstract:, tcp:, udp:, pmq:, svmq:, shm:; see "
		 "ik_chan(3)),\n"
		 "or else each line of standard input without its newline.\n"
		 "\n"
		 "  -l, --listen       create/bind ADDR instead of opening an "
		 "existing one;\n"
		 "                     connection schemes accept one "
		 "connection; a queue or\n"
		 "                     ring is removed once its messages are "
		 "taken\n"
		 "  -r, --raw          send standard input in chunks of --size "
		 "bytes; on byte\n"
		 "                     streams (fifo, unix, abstract, tcp) no "
		 "framing: ?raw=1\n"
		 "  -s, --size N       chunk size for --raw (default 64K, or "
		 "the largest message)\n"
		 "  -c, --count N      send every message N times\n"
		 "  -t, --type N       svmq: the message type (default the "
		 "address's)\n"
		 "  -p, --priority P   pmq: the message priority\n"
		 "  -T, --timeout T    bound every wait (peer, room in the "
		 "channel); -1 forever\n"
		 "  -v, --verbose      say where it listens and what was sent, "
		 "on stderr\n"
		 "\n"
		 "Exit 0 when every message was sent; 1 on an error (timeout, "
		 "receiver gone);\n"
		 "2 for a usage error or a bad address.\n",
	.run = run,
};
