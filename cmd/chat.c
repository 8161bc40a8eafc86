/*
 * ipckit chat: the terminal side of a chat room over FIFOs (the room itself
 * is <ipckit/chat.h>). The first client starts the room's server as a
 * detached process (`ipckit chat --serve ROOM`). On a terminal the input
 * line is edited here, in raw mode, so that an incoming line is printed
 * above it and the line being typed is drawn again, never garbled; on plain
 * standard input, lines are read as they come and end of file leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#include "cmd.h"

extern const struct ik_cmd ik_cmd_chat;

#define JOIN_MS 15000	/* to join, starting the server if need be */
#define SEND_MS 5000	/* while the server FIFO is full */
#define DRAIN_MS 5000	/* at end of input, for our lines to come back */
#define INPUT_MAX 16384 /* an input line; the library splits long ones */

struct chat {
	ik_chat_client *c;
	ik_loop *loop;
	const char *room;
	int tty;
	struct termios saved;
	int raw;
	char line[INPUT_MAX + 1];
	size_t len;
	int esc;      /* inside an escape sequence from the keyboard */
	int unechoed; /* our lines not yet back from the server */
	int closing;  /* end of input: leave once unechoed is 0 */
	int status;   /* exit status */
	ik_watch *in_w;
};

static const char *
opt_name(void)
{
	const char *u = getenv("USER");

	return u != NULL && ik_chat_name_ok(u) == 0 ? u : "anon";
}

static int
parse_group(const char *g, gid_t *out)
{
	struct group *gr = getgrnam(g);
	long long v;

	if (gr != NULL) {
		*out = gr->gr_gid;
		return 0;
	}
	if (ik_cmd_parse_int(g, 0, 0x7fffffff, &v) < 0)
		return -EINVAL;
	*out = (gid_t)v;
	return 0;
}

/* ---- the server ------------------------------------------------------- */

static ik_chat_server *served;

static void
on_stop_signal(int sig)
{
	(void)sig;
	ik_chat_server_stop(served);
}

static int
serve(const char *room, const struct ik_chat_opts *o)
{
	sigset_t set;
	int r;

	r = ik_chat_server_open(&served, room, o);
	if (r == -EADDRINUSE)
		ik_cmd_fail("chat", "room '%s' already has a server", room);
	if (r < 0)
		ik_cmd_fail("chat", "cannot serve room '%s': %s", room,
			    ik_strerror(r));
	ik_sig_makeset(&set, SIGINT, SIGTERM, SIGHUP, 0);
	ik_sig_handle(SIGINT, on_stop_signal, IK_SIG_RESTART, NULL);
	ik_sig_handle(SIGTERM, on_stop_signal, IK_SIG_RESTART, NULL);
	ik_sig_handle(SIGHUP, on_stop_signal, IK_SIG_RESTART, NULL);
	r = ik_chat_server_run(served, -1);
	ik_sig_block(&set, NULL); /* no stop on a freed server */
	ik_chat_server_close(served);
	if (r < 0)
		ik_cmd_fail("chat", "room '%s': %s", room, ik_strerror(r));
	return IK_EXIT_OK;
}

/*
 * Start a server for the room, detached (own session, standard streams on
 * /dev/null, reparented to init by a double fork so nobody must reap it).
 * Several clients may race to do this: the room's lock lets one win.
 */
static void
spawn_server(const char *room, const struct ik_chat_opts *o)
{
	char gid[32];
	char exe[PATH_MAX];
	ssize_t n;
	pid_t pid;
	int fd, st;

	snprintf(gid, sizeof(gid), "%u", (unsigned)o->gid);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* ourselves, by the path /proc/self/exe names: exec'ing the
		 * link itself runs the wrong program under a tool that loads
		 * us (valgrind: its own binary, while it answers readlink
		 * with our path); the link itself if that path is gone */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		for (int k = n > 0 ? 0 : 1; k < 2; k++) {
			const char *prog = k == 0 ? exe : "/proc/self/exe";

			if (o->shared)
				execl(prog, "ipckit", "chat", "--serve",
				      "--group", gid, "--", room, (char *)NULL);
			else
				execl(prog, "ipckit", "chat", "--serve", "--",
				      room, (char *)NULL);
		}
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static int
join(struct chat *ch, const char *name, const struct ik_chat_opts *o)
{
	struct timespec t0, now, nap;
	long waited_ms = 0, step_ms = 10;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = ik_chat_join(&ch->c, ch->room, name, o,
				 (int)(JOIN_MS - waited_ms));
		if (r != -ECONNREFUSED)
			return r;
		spawn_server(ch->room, o);
		nap.tv_sec = 0;
		nap.tv_nsec = step_ms * 1000000;
		nanosleep(&nap, NULL); /* a retry's back-off, not a sync */
		if (step_ms < 200)
			step_ms *= 2;
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited_ms = (now.tv_sec - t0.tv_sec) * 1000 +
			    (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (waited_ms >= JOIN_MS)
			return -ETIMEDOUT;
	}
}

/* ---- the screen ------------------------------------------------------- */

static void
raw_on(struct chat *ch)
{
	struct termios t;

	if (tcgetattr(0, &ch->saved) < 0)
		return;
	t = ch->saved;
	/* keys one at a time, no echo: Ctrl-C and Ctrl-D are read as keys */
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(0, TCSAFLUSH, &t) == 0)
		ch->raw = 1;
}

static void
raw_off(struct chat *ch)
{
	if (ch->raw)
		tcsetattr(0, TCSAFLUSH, &ch->saved);
	ch->raw = 0;
}

static int
term_cols(void)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* The prompt and the end of the line being typed that fits one row. */
static void
draw_input(struct chat *ch)
{
	char prompt[IK_CHAT_NAME_MAX + 8];
	int room, cols = 0;
	size_t start = ch->len;

	if (!ch->tty)
		return;
	snprintf(prompt, sizeof(prompt), "%s> ", ik_chat_name(ch->c));
	room = term_cols() - (int)strlen(prompt) - 1;
	while (start > 0 && cols < room) {
		start--;
		if (((unsigned char)ch->line[start] & 0xc0) != 0x80)
			cols++;
	}
	while (start < ch->len &&
	       ((unsigned char)ch->line[start] & 0xc0) == 0x80)
		start++;
	printf("\r\033[K%s%.*s", prompt, (int)(ch->len - start),
	       ch->line + start);
	fflush(stdout);
}

/* Print a line above the input line, which is then drawn again. */
__attribute__((format(printf, 3, 4))) static void
show(struct chat *ch, uint64_t time_ns, const char *fmt, ...)
{
	time_t t = (time_t)(time_ns / 1000000000u);
	char stamp[16];
	struct tm tm;
	va_list ap;

	if (time_ns == 0)
		t = time(NULL);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	if (ch->tty)
		printf("\r\033[K");
	printf("%s ", stamp);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	draw_input(ch);
	fflush(stdout);
}

static void
show_rec(struct chat *ch, const struct ik_chat_rec *r)
{
	switch (r->type) {
	case IK_CHAT_MSG:
		show(ch, r->time_ns, "<%s> %s", r->name, r->text);
		break;
	case IK_CHAT_ME:
		show(ch, r->time_ns, "* %s %s", r->name, r->text);
		break;
	case IK_CHAT_JOINED:
		show(ch, r->time_ns, "-- %s joined", r->name);
		break;
	case IK_CHAT_LEFT:
		show(ch, r->time_ns, "-- %s left (%s)", r->name, r->text);
		break;
	case IK_CHAT_NICK:
		show(ch, r->time_ns, "-- %s is now known as %s", r->name,
		     r->text);
		break;
	case IK_CHAT_WHO:
		show(ch, r->time_ns, "-- here: %s", r->text);
		break;
	case IK_CHAT_ERROR:
		show(ch, r->time_ns, "!! %s", r->text);
		break;
	default:
		break;
	}
}

/* ---- the loop --------------------------------------------------------- */

static void
finish(struct chat *ch, int status)
{
	ch->status = status;
	ik_loop_stop(ch->loop);
}

static void
maybe_done(struct chat *ch)
{
	if (ch->closing && ch->unechoed <= 0)
		finish(ch, IK_EXIT_OK);
}

static void
on_room(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct chat *ch = arg;
	struct ik_chat_rec *r = malloc(sizeof(*r));
	int n;

	(void)loop;
	(void)w;
	(void)ev;
	if (r == NULL)
		return;
	for (;;) {
		n = ik_chat_recv(ch->c, r, 0);
		if (n == -ETIMEDOUT)
			break;
		if (n == -EBADMSG) {
			show(ch, 0, "!! a malformed record was skipped");
			continue;
		}
		if (n < 0) {
			show(ch, 0, "!! disconnected: %s",
			     n == -ECONNRESET ? "the room's server closed us"
					      : ik_strerror(n));
			finish(ch, IK_EXIT_FAIL);
			break;
		}
		show_rec(ch, r);
		if ((r->type == IK_CHAT_MSG || r->type == IK_CHAT_ME) &&
		    !(r->flags & IK_CHAT_F_MORE) && ik_chat_is_me(ch->c, r))
			ch->unechoed--;
	}
	free(r);
	maybe_done(ch);
}

static void
send_text(struct chat *ch, int type, const char *text, size_t len)
{
	int r = ik_chat_send(ch->c, type, text, len, SEND_MS);

	if (r == -EINVAL && type == IK_CHAT_NICK) {
		show(ch, 0, "!! not a valid nick (1-%d bytes, no spaces)",
		     IK_CHAT_NAME_MAX);
	} else if (r < 0) {
		show(ch, 0, "!! cannot send: %s", ik_strerror(r));
		if (r == -EPIPE)
			finish(ch, IK_EXIT_FAIL);
	} else if (type == IK_CHAT_MSG || type == IK_CHAT_ME) {
		ch->unechoed++;
	}
}

/* A line typed or read: a command, or a message. */
static void
submit(struct chat *ch, char *s, size_t len)
{
	size_t n;

	len = ik_chat_sanitize(s, len);
	s[len] = '\0';
	if (len == 0)
		return;
	if (s[0] != '/' || (len > 1 && s[1] == '/')) {
		n = s[0] == '/'; /* "//x" says "/x" */
		send_text(ch, IK_CHAT_MSG, s + n, len - n);
		return;
	}
	if (strcmp(s, "/quit") == 0) {
		finish(ch, IK_EXIT_OK);
	} else if (strcmp(s, "/who") == 0) {
		send_text(ch, IK_CHAT_WHO, NULL, 0);
	} else if (strncmp(s, "/me ", 4) == 0 && len > 4) {
		send_text(ch, IK_CHAT_ME, s + 4, len - 4);
	} else if (strncmp(s, "/nick ", 6) == 0 && len > 6) {
		send_text(ch, IK_CHAT_NICK, s + 6, len - 6);
	} else if (strcmp(s, "/help") == 0) {
		show(ch, 0,
		     "-- /who, /nick NAME, /me ACTION, /quit; "
		     "//text sends /text");
	} else {
		show(ch, 0, "!! unknown command %.40s (try /help)", s);
	}
}

static void
on_drain_timeout(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
		 void *arg)
{
	(void)loop;
	(void)w;
	(void)ev;
	finish(arg, IK_EXIT_OK);
}

static void
input_eof(struct chat *ch)
{
	ik_loop_remove(ch->in_w);
	ch->in_w = NULL;
	ch->closing = 1;
	/* scripts: lines sent just before the end are seen back first */
	ik_loop_timer_add(ch->loop, DRAIN_MS, 0, on_drain_timeout, ch, NULL);
	maybe_done(ch);
}

/* Plain input: whole lines, as they come. */
static void
plain_input(struct chat *ch, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			submit(ch, ch->line, ch->len);
			ch->len = 0;
		} else if (ch->len < INPUT_MAX) {
			ch->line[ch->len++] = buf[i];
		}
	}
}

/* Terminal input: one key at a time, edited here. */
static void
key(struct chat *ch, unsigned char k)
{
	if (ch->esc) { /* skip ESC [ params final, and ESC x */
		if (ch->esc == 1 && (k == '[' || k == 'O'))
			ch->esc = 2;
		else if (ch->esc == 1 || (k >= 0x40 && k <= 0x7e))
			ch->esc = 0;
		return;
	}
	switch (k) {
	case '\r':
	case '\n':
		printf("\r\033[K");
		submit(ch, ch->line, ch->len);
		ch->len = 0;
		break;
	case 0x7f:
	case 0x08: /* erase one character, not one byte */
		while (ch->len > 0 &&
		       ((unsigned char)ch->line[--ch->len] & 0xc0) == 0x80)
			;
		break;
	case 0x15: /* Ctrl-U */
		ch->len = 0;
		break;
	case 0x17: /* Ctrl-W: the word before the cursor */
		while (ch->len > 0 && ch->line[ch->len - 1] == ' ')
			ch->len--;
		while (ch->len > 0 && ch->line[ch->len - 1] != ' ')
			ch->len--;
		break;
	case 0x03: /* Ctrl-C */
		finish(ch, IK_EXIT_OK);
		return;
	case 0x04: /* Ctrl-D on an empty line */
		if (ch->len == 0) {
			finish(ch, IK_EXIT_OK);
			return;
		}
		break;
	case 0x1b:
		ch->esc = 1;
		return;
	default:
		if (k >= 0x20 && ch->len < INPUT_MAX)
			ch->line[ch->len++] = (char)k;
		break;
	}
	draw_input(ch);
}

static void
on_input(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct chat *ch = arg;
	char buf[4096];
	ssize_t n;

	(void)loop;
	(void)w;
	(void)ev;
	n = read(0, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (ch->len > 0 && !ch->tty) /* a last line without newline */
			submit(ch, ch->line, ch->len);
		ch->len = 0;
		input_eof(ch);
		return;
	}
	if (!ch->tty) {
		plain_input(ch, buf, (size_t)n);
		return;
	}
	for (ssize_t i = 0; i < n && ch->status < 0; i++)
		key(ch, (unsigned char)buf[i]);
}

static void
on_signal(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct chat *ch = arg;

	(void)loop;
	(void)w;
	if (ev->si.signo == SIGWINCH)
		draw_input(ch);
	else
		finish(ch, ev->si.signo == SIGHUP ? IK_EXIT_FAIL : IK_EXIT_OK);
}

static int
client(struct chat *ch, const char *name, const struct ik_chat_opts *o)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	int r;

	r = join(ch, name, o);
	if (r == -EUSERS)
		ik_cmd_fail("chat", "room '%s' is full", ch->room);
	if (r < 0)
		ik_cmd_fail("chat", "cannot join room '%s': %s", ch->room,
			    ik_strerror(r));
	ch->status = -1;
	r = ik_loop_new(&ch->loop, 0);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((r = ik_loop_signal_add(ch->loop, sigs[i], on_signal, ch,
					    NULL)) < 0)
			goto fail;
	r = ik_loop_fd_add(ch->loop, ik_chat_fd(ch->c), IK_LOOP_READ, on_room,
			   ch, NULL);
	if (r < 0)
		goto fail;
	/* /dev/null and regular files cannot be watched: read them at once */
	r = ik_loop_fd_add(ch->loop, 0, IK_LOOP_READ, on_input, ch, &ch->in_w);
	if (r == -EPERM)
		ch->closing = 1;
	else if (r < 0)
		goto fail;
	if (ch->tty)
		raw_on(ch);
	show(ch, 0, "-- you joined room %s as %s (/help for commands)",
	     ch->room, ik_chat_name(ch->c));
	/* records that came in the same read as our WELCOME are buffered
	 * already: the FIFO will not poll readable for them */
	if (ik_chat_pending(ch->c))
		on_room(ch->loop, NULL, NULL, ch);
	if (ch->closing) {
		char buf[4096];
		ssize_t n;

		while ((n = read(0, buf, sizeof(buf))) > 0)
			plain_input(ch, buf, (size_t)n);
		if (ch->len > 0)
			submit(ch, ch->line, ch->len);
		input_eof(ch);
	}
	while (ch->status < 0) {
		r = ik_loop_run(ch->loop);
		if (r < 0)
			goto fail;
	}
	if (ch->tty)
		printf("\r\033[K");
	raw_off(ch);
	ik_chat_leave(ch->c);
	ik_loop_free(ch->loop);
	return ch->status;
fail:
	raw_off(ch);
	ik_chat_leave(ch->c);
	ik_loop_free(ch->loop);
	ik_cmd_fail("chat", "%s", ik_strerror(r));
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "group", required_argument, NULL, 'g' },
		{ "serve", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ik_chat_opts o = { 0 };
	static struct chat ch;
	const char *name = opt_name();
	int opt, serve_mode = 0;

	optind = 0; /* a full re-init: options may follow ROOM */
	while ((opt = getopt_long(argc, argv, "n:g:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			name = optarg;
			if (ik_chat_name_ok(name) < 0)
				ik_cmd_usage("chat",
					     "bad nick '%s' (1-%d bytes, no "
					     "spaces or control characters)",
					     name, IK_CHAT_NAME_MAX);
			break;
		case 'g':
			if (parse_group(optarg, &o.gid) < 0)
				ik_cmd_usage("chat", "unknown group '%s'",
					     optarg);
			o.shared = 1;
			break;
		case 'S':
			serve_mode = 1;
			break;
		case 'h':
			ik_cmd_help(&ik_cmd_chat);
			return IK_EXIT_OK;
		default:
			ik_cmd_usage("chat", "bad option");
		}
	}
	ch.room = optind < argc ? argv[optind++] : "lobby";
	if (optind < argc)
		ik_cmd_usage("chat", "unexpected argument '%s'", argv[optind]);
	if (ik_chat_room_ok(ch.room) < 0)
		ik_cmd_usage("chat",
			     "bad room name '%s' (1-%d of A-Z a-z 0-9 . _ -, "
			     "not starting with '.')",
			     ch.room, IK_CHAT_ROOM_MAX);
	if (serve_mode)
		return serve(ch.room, &o);
	ch.tty = isatty(0) && isatty(1);
	if (!ch.tty)
		setvbuf(stdout, NULL, _IOLBF, 0);
	return client(&ch, name, &o);
}

const struct ik_cmd ik_cmd_chat = {
	.name = "chat",
	.summary = "chat with other terminals in a room over FIFOs",
	.usage =
		"usage: ipckit chat [ROOM] [--name NICK] [--group GROUP]\n"
		"       ipckit chat --serve [--group GROUP] ROOM\n"
		"\n"
		"Join ROOM (default: lobby), starting its server if none runs, "
		"and chat:\n"
		"each line typed is sent to everyone in the room, shown with "
		"the time and\n"
		"the sender's nick. Commands: /who, /nick NAME, /me ACTION, "
		"/quit, /help.\n"
		"On a terminal the line is edited while others' lines appear "
		"above it;\n"
		"from a pipe or file, each line is sent and end of input "
		"leaves.\n"
		"\n"
		"  -n, --name NICK    the nick (default: $USER)\n"
		"  -g, --group GROUP  a room shared with GROUP (in "
		"/tmp/ipckit-chat-gGID);\n"
		"                     without it a room is private to the "
		"user\n"
		"      --serve        be the room's server (normally started "
		"by the first\n"
		"                     client; it exits when the last one "
		"leaves)\n",
	.run = run,
};
