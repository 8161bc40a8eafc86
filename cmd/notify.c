/*
 * ipckit notify: signal-based notifications between processes (the seed's
 * exercise). listen, send, ls and name are thin shells over ik_notify_*; the
 * listener is an ik_loop of three things: its notification descriptor,
 * SIGINT/SIGTERM/SIGHUP (which end it cleanly, registration removed), and,
 * with --exec, the running command's pidfd.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/ipckit.h>

#include "cmd.h"

#define SEND_TIMEOUT_MS 10000
#define EXEC_STOP_MS                                          \
	5000 /* how long a running --exec command may take to \
		end after SIGTERM when the listener stops */
/* a CMD with any of these is run by /bin/sh -c, otherwise split at blanks */
#define SHELL_CHARS "|&;<>()$`\\\"'*?[#~\n"

extern char **environ;
extern const struct ik_cmd ik_cmd_notify;

/* The options of every notify subcommand; each says which it takes. */
struct opts {
	const char *group;
	const char *exec;
	int json;
	int timeout_ms;
	char **args; /* positional arguments */
	int nargs;
};

static void
parse(int argc, char **argv, const char *allowed, struct opts *o)
{
	static const struct option lopts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "exec", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ms;
	int opt, r;

	memset(o, 0, sizeof(*o));
	o->group = "default";
	o->timeout_ms = SEND_TIMEOUT_MS;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":g:jt:e:", lopts, NULL)) != -1) {
		if (opt == '?' || opt == ':' || strchr(allowed, opt) == NULL)
			ik_cmd_usage("notify", "%s: bad option '%s'", argv[0],
				     argv[optind - 1]);
		switch (opt) {
		case 'g':
			o->group = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'e':
			o->exec = optarg;
			break;
		case 't':
			r = ik_cmd_parse_duration_ms(optarg, &ms);
			if (r < 0 || ms > 0x7fffffff)
				ik_cmd_usage("notify", "bad --timeout '%s'",
					     optarg);
			o->timeout_ms = (int)ms;
			break;
		}
	}
	if (ik_notify_name_ok(o->group) < 0)
		ik_cmd_usage("notify",
			     "bad group name '%s' (letters, digits, '_', "
			     "'.', '-'; not starting with '.'; at most %d)",
			     o->group, IK_NOTIFY_NAME_MAX);
	o->args = argv + optind;
	o->nargs = argc - optind;
}

/* ---- listen ------------------------------------------------------------- */

struct listener {
	ik_notify *n;
	ik_loop *loop;
	ik_watch *nw; /* the notification fd, removed while CMD runs */
	char *const *words;
	const char *cmdline; /* run by the shell when set */
	char **envp;
	char env_buf[4][96];
	struct ik_proc child;
	int running;
	int error;	 /* why the loop stopped, if not a signal */
	int exec_failed; /* error is the command's: it could not start */
};

static void on_notify(ik_loop *loop, ik_watch *w,
		      const struct ik_loop_event *ev, void *arg);

static void
fail_stop(struct listener *L, int err)
{
	if (L->error == 0)
		L->error = err;
	ik_loop_stop(L->loop);
}

static void
event_text(struct listener *L, int event, char *buf, size_t len)
{
	if (ik_notify_event_name(L->n, event, buf, len) < 0)
		snprintf(buf, len, "%d", event);
}

static void
on_child(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct listener *L = arg;
	int r;

	(void)ev;
	ik_loop_remove(w);
	r = ik_spawn_wait(&L->child, 0);
	L->running = 0;
	if (r == 0 &&
	    !(WIFEXITED(L->child.status) && WEXITSTATUS(L->child.status) == 0))
		fprintf(stderr, "ipckit notify: command %s %d\n",
			WIFEXITED(L->child.status) ? "exited with status"
						   : "killed by signal",
			WIFEXITED(L->child.status)
				? WEXITSTATUS(L->child.status)
				: WTERMSIG(L->child.status));
	ik_spawn_close(&L->child);
	/* the next notification waits in the kernel's queue until now */
	r = ik_loop_fd_add(loop, ik_notify_fd(L->n), IK_LOOP_READ, on_notify, L,
			   &L->nw);
	if (r < 0)
		fail_stop(L, r);
}

static int
run_cmd(struct listener *L, const struct ik_notification *m)
{
	struct ik_spawn_opts o;
	int r;

	event_text(L, m->event, L->env_buf[0] + 13, sizeof(L->env_buf[0]) - 13);
	snprintf(L->env_buf[1], sizeof(L->env_buf[1]), "IPCKIT_VALUE=%d",
		 m->value);
	snprintf(L->env_buf[2], sizeof(L->env_buf[2]), "IPCKIT_SENDER=%d",
		 (int)m->sender);
	memset(&o, 0, sizeof(o));
	o.envp = L->envp;
	if (L->cmdline)
		r = ik_spawn_shell(&L->child, L->cmdline, &o);
	else
		r = ik_spawn(&L->child, (const char *const *)L->words, &o);
	if (r < 0)
		return r;
	L->running = 1;
	ik_loop_remove(L->nw);
	L->nw = NULL;
	return ik_loop_fd_add(L->loop, L->child.pidfd, IK_LOOP_READ, on_child,
			      L, NULL);
}

static void
on_notify(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct listener *L = arg;
	struct ik_notification m[32];
	char name[IK_NOTIFY_NAME_MAX + 1];
	int n, r;

	(void)loop;
	(void)w;
	(void)ev;
	/* with a command, one at a time: the rest stay queued, in order */
	n = ik_notify_read(L->n, m, L->envp ? 1 : 32, 0);
	if (n == -ETIMEDOUT || n == -EAGAIN)
		return;
	if (n < 0) {
		fail_stop(L, n);
		return;
	}
	if (L->envp) {
		r = run_cmd(L, &m[0]);
		if (r < 0) {
			L->exec_failed = !L->running;
			fail_stop(L, r);
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		event_text(L, m[i].event, name, sizeof(name));
		printf("%s %d %d\n", name, m[i].value, (int)m[i].sender);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		fail_stop(L, -EPIPE);
}

static void
on_stop(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)w;
	(void)ev;
	(void)arg;
	ik_loop_stop(loop);
}

/* environ without our variables, plus four slots for them */
static char **
make_env(struct listener *L, const char *group)
{
	size_t n = 0, k = 0;
	char **e;

	while (environ[n])
		n++;
	e = calloc(n + 5, sizeof(*e));
	if (e == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "IPCKIT_EVENT=", 13) != 0 &&
		    strncmp(environ[i], "IPCKIT_VALUE=", 13) != 0 &&
		    strncmp(environ[i], "IPCKIT_SENDER=", 14) != 0 &&
		    strncmp(environ[i], "IPCKIT_GROUP=", 13) != 0)
			e[k++] = environ[i];
	memcpy(L->env_buf[0], "IPCKIT_EVENT=", 14);
	snprintf(L->env_buf[3], sizeof(L->env_buf[3]), "IPCKIT_GROUP=%s",
		 group);
	for (int i = 0; i < 4; i++)
		e[k++] = L->env_buf[i];
	e[k] = NULL;
	return e;
}

/* Split CMD at blanks (no quoting: a CMD that needs any goes to sh). */
static char **
split_words(char *cmd)
{
	size_t n = 0;
	char **v = calloc(strlen(cmd) / 2 + 2, sizeof(*v));
	char *save = NULL;

	if (v == NULL)
		return NULL;
	for (char *w = strtok_r(cmd, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save))
		v[n++] = w;
	v[n] = NULL;
	return v;
}

static int
listen_run(const char *group, char *exec)
{
	struct listener L;
	char **words = NULL;
	int r, st = IK_EXIT_OK;

	memset(&L, 0, sizeof(L));
	L.child.pid = -1;
	if (exec != NULL) {
		if (strpbrk(exec, SHELL_CHARS) != NULL) {
			L.cmdline = exec;
		} else {
			words = split_words(exec);
			if (words == NULL)
				ik_cmd_fail("notify", "%s",
					    ik_strerror(-ENOMEM));
			if (words[0] == NULL)
				ik_cmd_usage("notify", "--exec: empty command");
			L.words = words;
		}
		L.envp = make_env(&L, group);
		if (L.envp == NULL)
			ik_cmd_fail("notify", "%s", ik_strerror(-ENOMEM));
	}
	/* a closed stdout must end us through EPIPE, registration removed */
	ik_sig_ignore(SIGPIPE, NULL);
	if ((r = ik_loop_new(&L.loop, 0)) < 0)
		ik_cmd_fail("notify", "%s", ik_strerror(r));
	/* signals first: one arriving right after registering ends us cleanly
	 */
	if ((r = ik_loop_signal_add(L.loop, SIGINT, on_stop, &L, NULL)) < 0 ||
	    (r = ik_loop_signal_add(L.loop, SIGTERM, on_stop, &L, NULL)) < 0 ||
	    (r = ik_loop_signal_add(L.loop, SIGHUP, on_stop, &L, NULL)) < 0)
		ik_cmd_fail("notify", "%s", ik_strerror(r));
	r = ik_notify_listen(&L.n, group);
	if (r < 0)
		ik_cmd_fail("notify", "listen to group '%s': %s", group,
			    ik_strerror(r));
	r = ik_loop_fd_add(L.loop, ik_notify_fd(L.n), IK_LOOP_READ, on_notify,
			   &L, &L.nw);
	if (r >= 0)
		r = ik_loop_run(L.loop);
	if (r < 0 && L.error == 0)
		L.error = r;
	if (L.running) {
		ik_spawn_kill(&L.child, SIGTERM);
		if (ik_spawn_wait(&L.child, EXEC_STOP_MS) == -ETIMEDOUT) {
			ik_spawn_kill(&L.child, SIGKILL);
			ik_spawn_wait(&L.child, -1);
		}
		ik_spawn_close(&L.child);
	}
	r = ik_notify_close(L.n);
	if (r < 0)
		fprintf(stderr, "ipckit notify: removing registration: %s\n",
			ik_strerror(r));
	ik_loop_free(L.loop);
	if (L.error == -EPIPE) {
		fprintf(stderr, "ipckit notify: standard output closed\n");
		st = IK_EXIT_FAIL;
	} else if (L.error < 0) {
		fprintf(stderr, "ipckit notify: %s%s%s\n",
			L.exec_failed ? exec : "", L.exec_failed ? ": " : "",
			ik_strerror(L.error));
		st = IK_EXIT_FAIL;
	}
	free(words);
	free(L.envp);
	return r < 0 ? IK_EXIT_FAIL : st;
}

/* ---- send --------------------------------------------------------------- */

struct tally {
	int delivered, failed, timeout_ms;
};

static void
report(pid_t pid, int err, void *arg)
{
	struct tally *t = arg;

	if (err == 0) {
		t->delivered++;
	} else if (err == -ESRCH) {
		fprintf(stderr,
			"ipckit notify: listener %d is gone: registration "
			"removed\n",
			(int)pid);
	} else if (err == -EPERM) {
		t->failed++;
		fprintf(stderr,
			"ipckit notify: listener %d: not permitted to signal "
			"it (another user's process?)\n",
			(int)pid);
	} else if (err == IK_ERLIMIT_SIGPENDING) {
		t->failed++;
		fprintf(stderr,
			"ipckit notify: listener %d: %s, still after %d ms\n",
			(int)pid, ik_strerror(err), t->timeout_ms);
	} else {
		t->failed++;
		fprintf(stderr, "ipckit notify: listener %d: %s\n", (int)pid,
			ik_strerror(err));
	}
}

static int
parse_event(const char *group, const char *s)
{
	long long v;
	int r;

	if (ik_cmd_parse_int(s, 0, IK_NOTIFY_EVENT_MAX, &v) == 0)
		return (int)v;
	if (s[0] >= '0' && s[0] <= '9')
		ik_cmd_usage("notify", "event '%s' is not a number in 0..%d", s,
			     IK_NOTIFY_EVENT_MAX);
	r = ik_notify_name_lookup(group, s);
	if (r == -ENOENT || r == -EINVAL)
		ik_cmd_usage(
			"notify",
			"unknown event '%s' in group '%s' (a number "
			"0..%d, or a name given with 'ipckit notify name')",
			s, group, IK_NOTIFY_EVENT_MAX);
	if (r < 0)
		ik_cmd_fail("notify", "event names of group '%s': %s", group,
			    ik_strerror(r));
	return r;
}

static int
send_run(const struct opts *o)
{
	struct tally t = { 0, 0, o->timeout_ms };
	long long value = 0;
	int event, r;

	if (o->nargs < 1 || o->nargs > 2)
		ik_cmd_usage("notify", "send: want EVENT [VALUE]");
	event = parse_event(o->group, o->args[0]);
	if (o->nargs == 2 &&
	    ik_cmd_parse_int(o->args[1], 0, IK_NOTIFY_VALUE_MAX, &value) < 0)
		ik_cmd_usage("notify", "value '%s' is not a number in 0..%d",
			     o->args[1], IK_NOTIFY_VALUE_MAX);
	r = ik_notify_send(o->group, event, (int)value, o->timeout_ms, report,
			   &t);
	if (r < 0 && t.failed == 0) /* nothing was tried */
		ik_cmd_fail("notify", "send to group '%s': %s", o->group,
			    ik_strerror(r));
	printf("delivered to %d listener%s\n", t.delivered,
	       t.delivered == 1 ? "" : "s");
	return t.failed ? IK_EXIT_FAIL : IK_EXIT_OK;
}

/* ---- ls, name -------------------------------------------------------------
 */

static void
print_num(long v)
{
	if (v < 0)
		printf("null");
	else
		printf("%ld", v);
}

static int
ls_run(const struct opts *o)
{
	struct ik_notify_entry *e = NULL;
	int n, cap = 0;

	if (o->nargs != 0)
		ik_cmd_usage("notify", "ls: unexpected argument '%s'",
			     o->args[0]);
	/* listeners may come and go between the calls: ask until it fits */
	while ((n = ik_notify_list(o->group, e, (size_t)cap)) > cap) {
		free(e);
		cap = n + 8;
		e = calloc((size_t)cap, sizeof(*e));
		if (e == NULL)
			ik_cmd_fail("notify", "%s", ik_strerror(-ENOMEM));
	}
	if (n < 0)
		ik_cmd_fail("notify", "group '%s': %s", o->group,
			    ik_strerror(n));
	if (!o->json)
		printf("%-8s %-5s %-7s %-13s %s\n", "PID", "ALIVE", "PENDING",
		       "SIGQ", "SINCE");
	else
		printf("[");
	for (int i = 0; i < n; i++) {
		char since[32], q[32];
		time_t t = (time_t)e[i].since;
		struct tm tm;

		if (o->json) {
			printf("%s\n  {\"pid\": %d, \"alive\": %s, "
			       "\"start_time\": %" PRIu64
			       ", \"since\": %" PRId64
			       ", \"pending\": %s, \"sigq_queued\": ",
			       i ? "," : "", (int)e[i].pid,
			       e[i].alive ? "true" : "false", e[i].start_time,
			       e[i].since,
			       e[i].pending < 0 ? "null"
			       : e[i].pending	? "true"
						: "false");
			print_num(e[i].sigq_queued);
			printf(", \"sigq_limit\": ");
			print_num(e[i].sigq_limit);
			printf("}");
			continue;
		}
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S", &tm) ==
			    0)
			snprintf(since, sizeof(since), "?");
		if (e[i].sigq_limit < 0)
			snprintf(q, sizeof(q), "-");
		else
			snprintf(q, sizeof(q), "%ld/%ld", e[i].sigq_queued,
				 e[i].sigq_limit);
		printf("%-8d %-5s %-7s %-13s %s\n", (int)e[i].pid,
		       e[i].alive ? "yes" : "no",
		       e[i].pending < 0 ? "-"
		       : e[i].pending	? "yes"
					: "no",
		       q, since);
	}
	if (o->json)
		printf("%s]\n", n ? "\n" : "");
	free(e);
	return IK_EXIT_OK;
}

static int
name_run(const struct opts *o)
{
	struct ik_notify_name v[IK_NOTIFY_EVENT_MAX + 1];
	long long ev;
	int r;

	if (o->nargs == 0) {
		r = ik_notify_names(o->group, v, sizeof(v) / sizeof(v[0]));
		if (r < 0)
			ik_cmd_fail("notify", "group '%s': %s", o->group,
				    ik_strerror(r));
		for (int i = 0; i < r && i < (int)(sizeof(v) / sizeof(v[0]));
		     i++)
			printf("%s %d\n", v[i].name, v[i].event);
		return IK_EXIT_OK;
	}
	if (o->nargs != 2)
		ik_cmd_usage("notify", "name: want NAME NUMBER");
	if (ik_cmd_parse_int(o->args[1], 0, IK_NOTIFY_EVENT_MAX, &ev) < 0)
		ik_cmd_usage("notify", "event number '%s' is not in 0..%d",
			     o->args[1], IK_NOTIFY_EVENT_MAX);
	r = ik_notify_name_set(o->group, o->args[0], (int)ev);
	if (r == -EINVAL)
		ik_cmd_usage("notify",
			     "bad event name '%s' (a letter, then letters, "
			     "digits, '_', '.', '-')",
			     o->args[0]);
	if (r < 0)
		ik_cmd_fail("notify", "group '%s': %s", o->group,
			    ik_strerror(r));
	return IK_EXIT_OK;
}

static int
run(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct opts o;

	if (sub == NULL)
		ik_cmd_usage("notify", "want listen, send, ls or name");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		ik_cmd_help(&ik_cmd_notify);
		return IK_EXIT_OK;
	}
	argc--;
	argv++;
	if (strcmp(sub, "listen") == 0) {
		parse(argc, argv, "ge", &o);
		if (o.nargs != 0)
			ik_cmd_usage("notify",
				     "listen: unexpected argument "
				     "'%s'",
				     o.args[0]);
		return listen_run(o.group, (char *)o.exec);
	}
	if (strcmp(sub, "send") == 0) {
		parse(argc, argv, "gt", &o);
		return send_run(&o);
	}
	if (strcmp(sub, "ls") == 0) {
		parse(argc, argv, "gj", &o);
		return ls_run(&o);
	}
	if (strcmp(sub, "name") == 0) {
		parse(argc, argv, "g", &o);
		return name_run(&o);
	}
	ik_cmd_usage("notify", "unknown subcommand '%s'", sub);
}

const struct ik_cmd ik_cmd_notify = {
	.name = "notify",
	.summary = "signal-based notifications: listen, send, ls, name",
	.usage =
		"usage: ipckit notify listen [--group G] [--exec CMD]\n"
		"       ipckit notify send [--group G] [--timeout D] EVENT "
		"[VALUE]\n"
		"       ipckit notify ls [--group G] [--json]\n"
		"       ipckit notify name [--group G] [NAME NUMBER]\n"
		"\n"
		"Notifications are (EVENT, VALUE) pairs sent to every listener "
		"of a group\n"
		"(default 'default') with one queued real-time signal "
		"(SIGRTMIN+4) each:\n"
		"EVENT 0..255 (or a name of the group), VALUE 0..16777215 "
		"(default 0).\n"
		"\n"
		"  listen   register, print 'EVENT VALUE SENDER_PID' per "
		"notification;\n"
		"           SIGINT/SIGTERM/SIGHUP end it and remove the "
		"registration\n"
		"  --exec CMD  run CMD per notification instead (one at a "
		"time),"
		" with\n"
		"           IPCKIT_EVENT, IPCKIT_VALUE, IPCKIT_SENDER, "
		"IPCKIT_GROUP set;\n"
		"           CMD is split at blanks, or run by /bin/sh -c if it "
		"has any of\n"
		"           | & ; < > ( ) $ ` \\ \" ' * ? [ # ~ or a newline\n"
		"  send     deliver to every live listener, print how many got "
		"it; remove\n"
		"           registrations of dead processes; exit 1 if a live "
		"one did not\n"
		"  --timeout D  wait at most D for full signal queues "
		"(default 10s)\n"
		"  ls       listeners: pid, alive, notification pending, SigQ, "
		"since\n"
		"  name     give EVENT number NUMBER the name NAME, or list "
		"the names\n",
	.run = run,
};
