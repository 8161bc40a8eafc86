/*
 * ipckit recv: messages out of any channel, by address, one per line on
 * standard output (or as hex, or as JSON objects with their metadata), or
 * with --raw bytes as they come. End of stream ends it cleanly (exit 0)
 * unless -n asked for more messages than came.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "chancmd.h"
#include "cmd.h"

#define CMD "recv"
#define RAW_BUF 65536
#define MSG_BUF_CAP (64u << 20) /* the most one message may take here */

extern const struct ik_cmd ik_cmd_recv;

enum format { TEXT, RAW, HEX, JSON };

/* Is buf[0..len) UTF-8 without NUL (so a JSON string can carry it)? */
static int
is_text(const unsigned char *b, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = b[i], need;
		unsigned long cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((b[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (b[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += need + 1;
	}
	return 1;
}

static void
base64(FILE *f, const unsigned char *b, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)b[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)b[i + 1] << 8;
		if (i + 2 < len)
			v |= b[i + 2];
		fputc(tab[v >> 18 & 63], f);
		fputc(tab[v >> 12 & 63], f);
		fputc(i + 1 < len ? tab[v >> 6 & 63] : '=', f);
		fputc(i + 2 < len ? tab[v & 63] : '=', f);
	}
}

/* buf has room for one more byte than len (the JSON string's NUL). */
static void
print_msg(enum format fmt, enum ik_scheme sch, unsigned char *buf, size_t len,
	  const struct ik_chan_meta *meta)
{
	switch (fmt) {
	case RAW:
		fwrite(buf, 1, len, stdout);
		break;
	case TEXT:
		fwrite(buf, 1, len, stdout);
		putchar('\n');
		break;
	case HEX:
		for (size_t i = 0; i < len; i++)
			printf("%02x", buf[i]);
		putchar('\n');
		break;
	case JSON:
		printf("{\"length\": %zu", len);
		if (sch == IK_SCHEME_SVMQ)
			printf(", \"type\": %ld", meta->type);
		if (sch == IK_SCHEME_PMQ)
			printf(", \"priority\": %u", meta->priority);
		if (is_text(buf, len)) {
			buf[len] = '\0';
			printf(", \"data\": ");
			ik_cmd_json_str(stdout, (const char *)buf);
		} else {
			printf(", \"base64\": \"");
			base64(stdout, buf, len);
			putchar('"');
		}
		printf("}\n");
		break;
	}
}

/*
 * Has the reader of our standard output gone? A pipe's write end polls
 * POLLERR once its last reader closed, a socket POLLHUP; a file or a
 * terminal never does. Asked before each receive, so `recv | head -1`
 * leaves the next messages in the channel instead of losing one.
 */
static int
stdout_gone(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

#define GONE (-100000) /* not an errno: stdout's reader left */
#define WATCH_MS 100

/*
 * ik_cc_recv in steps of WATCH_MS, looking at our standard output between
 * them: a reader that left (| head -1) ends us before we take a message
 * off the channel that could no longer be written anywhere. Only one that
 * arrives within a step of the reader leaving is taken, and reported.
 */
static ssize_t
recv_watching_stdout(struct ik_chan *c, void *buf, size_t cap,
		     struct ik_chan_meta *meta, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? -1 : ik_cmd_now_ms() + timeout_ms;

	for (;;) {
		int64_t left = end < 0 ? WATCH_MS : end - ik_cmd_now_ms();
		ssize_t n;

		if (stdout_gone())
			return GONE;
		if (left < 0)
			left = 0;
		n = ik_cc_recv(c, buf, cap, meta,
			       (int)(left < WATCH_MS ? left : WATCH_MS));
		if (n != -ETIMEDOUT || (end >= 0 && ik_cmd_now_ms() >= end))
			return n;
	}
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", no_argument, NULL, 'l' },
		{ "raw", no_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "hex", no_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int listen = 0, raw = 0, verbose = 0, timeout_ms = -1, opt;
	enum format fmt = TEXT;
	unsigned long long want = 0, got = 0;
	struct ik_chan *c;
	unsigned char *buf;
	const char *addr;
	size_t cap;
	int caps;

	/* optind 0 re-initialises GNU getopt: main's "+" (stop at the
	 * first non-option) must not carry over; options may follow ADDR */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "lrn:xjT:vh", opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'l':
			listen = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 'n':
			want = (unsigned long long)ik_cc_parse_num(
				CMD, "-n", optarg, 1, 1LL << 62);
			break;
		case 'x':
			fmt = HEX;
			break;
		case 'j':
			fmt = JSON;
			break;
		case 'T':
			timeout_ms = ik_cc_parse_timeout(CMD, optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			ik_cmd_help(&ik_cmd_recv);
			return IK_EXIT_OK;
		default:
			ik_cc_usage(CMD, "bad option");
		}
	}
	if (optind >= argc)
		ik_cc_usage(CMD, "missing ADDR");
	addr = argv[optind++];
	if (optind < argc)
		ik_cc_usage(CMD, "unexpected argument '%s'", argv[optind]);

	ik_cc_signals_block();
	c = ik_cc_open(CMD, addr, listen, raw, timeout_ms, verbose);
	caps = ik_chan_caps(c);
	if (!(caps & IK_CHAN_RECV))
		ik_cc_usage(CMD,
			    "%s: this end only sends (a %s dialler writes; "
			    "recv --listen reads)",
			    addr, ik_scheme_name(ik_chan_scheme(c)));
	if (!ik_cc_owner(c))
		ik_cc_signals_unblock(); /* nothing of ours to remove */
	if (fmt == TEXT && (raw || (caps & IK_CHAN_RAW)))
		fmt = RAW;
	cap = ik_chan_maxmsg(c);
	if (caps & IK_CHAN_RAW)
		cap = RAW_BUF; /* no messages: what one read gives */
	else if (cap > MSG_BUF_CAP)
		cap = MSG_BUF_CAP;
	buf = malloc(cap + 1);
	if (buf == NULL)
		ik_cc_fail(CMD, "%s", ik_strerror(-ENOMEM));

	while (want == 0 || got < want) {
		struct ik_chan_meta meta = { 0 };
		ssize_t n;

		n = recv_watching_stdout(c, buf, cap, &meta, timeout_ms);
		if (n == GONE)
			break;

		if (n == -EPIPE || (n == 0 && (caps & IK_CHAN_RAW)))
			break; /* the end of the stream */
		if (n < 0) {
			free(buf);
			if (n == -ETIMEDOUT)
				ik_cc_fail(CMD,
					   "%s: timed out waiting for a "
					   "message (%llu received)",
					   addr, got);
			if (n == -EMSGSIZE)
				ik_cc_fail(CMD,
					   "%s: a message above %zu bytes "
					   "(the most recv holds)",
					   addr, cap);
			if (n == -EBADMSG)
				ik_cc_fail(CMD,
					   "%s: malformed frame from the peer "
					   "(a raw stream? try --raw)",
					   addr);
			if (n == -EIDRM)
				ik_cc_fail(CMD, "%s: the queue was removed",
					   addr);
			ik_cc_fail(CMD, "%s: %s", addr, ik_strerror((int)n));
		}
		print_msg(fmt, ik_chan_scheme(c), buf, (size_t)n, &meta);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			int e = errno;

			free(buf);
			/* say so: this message left the channel for nowhere */
			if (e == EPIPE)
				ik_cc_fail(CMD,
					   "standard output closed: message "
					   "%llu received but not written",
					   got + 1);
			ik_cc_fail(CMD, "standard output: %s", strerror(e));
		}
		got++;
	}
	free(buf);
	if (want && got < want)
		ik_cc_fail(CMD, "%s: end of stream after %llu of %llu messages",
			   addr, got, want);
	ik_cc_close(CMD, c);
	return IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_recv = {
	.name = "recv",
	.summary = "receive messages from any channel by address",
	.usage =
		"usage: ipckit recv [OPTIONS] ADDR\n"
		"\n"
		"Print each message received on ADDR followed by a newline "
		"(see ik_chan(3)\n"
		"for addresses), until the end of the stream or -n messages.\n"
		"\n"
		"  -l, --listen       create/bind ADDR instead of opening an "
		"existing one;\n"
		"                     connection schemes accept one "
		"connection\n"
		"  -r, --raw          bytes as they come, no newline added; on "
		"byte streams\n"
		"                     (fifo, unix, abstract, tcp) no framing: "
		"?raw=1\n"
		"  -n, --count N      stop after N messages\n"
		"  -x, --hex          each message as lower-case hex on a "
		"line\n"
		"  -j, --json         each message as a JSON object: length, "
		"type (svmq),\n"
		"                     priority (pmq), and data (a JSON string) "
		"for UTF-8 text\n"
		"                     or base64 for anything else\n"
		"  -T, --timeout T    the longest wait for each message (and "
		"for the peer)\n"
		"  -v, --verbose      say where it listens, on stderr\n"
		"\n"
		"Exit 0 at the end of the stream or after -n messages; 1 on "
		"an error, on\n"
		"--timeout expiry, or when the stream ends before -n "
		"messages; 2 for a\n"
		"usage error or a bad address.\n",
	.run = run,
};
