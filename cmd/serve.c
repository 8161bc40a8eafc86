/*
 * ipckit serve: a shared-memory cache (ik_cache(3)) served in the Redis
 * protocol (ik_serve(3)) on Unix and TCP sockets. With --workers N, N
 * processes accept from the same listening sockets and use the same cache;
 * a supervisor restarts a worker that dies and, on SIGTERM or SIGINT,
 * stops them all gracefully (replies already made are still sent).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>
#include <ipckit/serve.h>

#include "cmd.h"

#define CMD "serve"
#define MAX_LISTEN 8
#define MAX_WORKERS 64
#define USAGE                                                                 \
	"usage: ipckit serve --cache NAME --listen ADDR [--listen ADDR]...\n" \
	"                    [--workers N] [--size SIZE] [--max-clients N]\n" \
	"                    [--max-output SIZE] [--max-bulk SIZE] "          \
	"[--max-request SIZE]\n"                                              \
	"                    [--idle-timeout DURATION] "                      \
	"[--shutdown-timeout DURATION]\n"

struct cfg {
	const char *cache_name;
	const char *listen[MAX_LISTEN];
	int nlisten;
	long long workers;
	uint64_t size; /* create the cache if missing */
	struct ik_serve_opts so;
	int64_t shutdown_ms;
	/* made by the supervisor, inherited by the workers */
	ik_cache *cache;
	struct ik_sock *socks[MAX_LISTEN];
	char where[512];
};

static void
log_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "ipckit serve[%ld]: %s\n", (long)getpid(), line);
}

static uint64_t
size_opt(const char *v, const char *what)
{
	uint64_t n;

	if (ik_cmd_parse_size(v, &n) < 0 || n == 0 || n > SIZE_MAX / 4)
		ik_cmd_usage(CMD, "bad %s '%s'", what, v);
	return n;
}

static int64_t
duration_opt(const char *v)
{
	int64_t ms;

	if (ik_cmd_parse_duration_ms(v, &ms) < 0 || ms < 0 || ms > INT32_MAX)
		ik_cmd_usage(CMD, "bad duration '%s'", v);
	return ms;
}

static const struct {
	const char *scheme;
	enum ik_sock_kind kind;
} schemes[] = { { "unix:", IK_SOCK_UNIX_STREAM },
		{ "abstract:", IK_SOCK_ABSTRACT_STREAM },
		{ "tcp:", IK_SOCK_TCP } };
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static bool
known_scheme(const char *a)
{
	for (size_t k = 0; k < NSCHEMES; k++)
		if (strncmp(a, schemes[k].scheme, strlen(schemes[k].scheme)) ==
		    0)
			return true;
	return false;
}

static void
parse(int argc, char **argv, struct cfg *c)
{
	c->workers = 1;
	c->shutdown_ms = 5000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long long n;

		if (v == NULL)
			ik_cmd_usage(CMD, "bad or incomplete option '%s'", a);
		i++;
		if (strcmp(a, "--cache") == 0) {
			c->cache_name = v;
		} else if (strcmp(a, "--listen") == 0) {
			if (c->nlisten == MAX_LISTEN)
				ik_cmd_usage(CMD, "at most %d --listen",
					     MAX_LISTEN);
			if (!known_scheme(v))
				ik_cmd_usage(CMD,
					     "bad address '%s' (unix:PATH, "
					     "abstract:NAME, tcp:HOST:PORT)",
					     v);
			c->listen[c->nlisten++] = v;
		} else if (strcmp(a, "--workers") == 0) {
			if (ik_cmd_parse_int(v, 1, MAX_WORKERS, &c->workers) <
			    0)
				ik_cmd_usage(CMD, "--workers: 1 to %d",
					     MAX_WORKERS);
		} else if (strcmp(a, "--size") == 0) {
			c->size = size_opt(v, "size");
		} else if (strcmp(a, "--max-clients") == 0) {
			if (ik_cmd_parse_int(v, 1, 1000000, &n) < 0)
				ik_cmd_usage(CMD, "bad client count '%s'", v);
			c->so.max_clients = (size_t)n;
		} else if (strcmp(a, "--max-output") == 0) {
			c->so.max_output = size_opt(v, "size");
		} else if (strcmp(a, "--max-bulk") == 0) {
			c->so.limits.max_bulk = size_opt(v, "size");
		} else if (strcmp(a, "--max-request") == 0) {
			c->so.limits.max_request = size_opt(v, "size");
		} else if (strcmp(a, "--idle-timeout") == 0) {
			c->so.idle_timeout_ms = (int)duration_opt(v);
		} else if (strcmp(a, "--shutdown-timeout") == 0) {
			c->shutdown_ms = duration_opt(v);
		} else {
			ik_cmd_usage(CMD, "bad option '%s'", a);
		}
	}
	if (c->cache_name == NULL || c->nlisten == 0)
		ik_cmd_usage(CMD,
			     "need --cache NAME and at least one --listen");
	if (c->so.limits.max_bulk && c->so.limits.max_request &&
	    c->so.limits.max_bulk > c->so.limits.max_request)
		ik_cmd_usage(CMD, "--max-bulk is above --max-request");
	c->so.log = log_line;
}

/*
 * "unix:PATH", "abstract:NAME", "tcp:HOST:PORT" -> a listening socket. On
 * failure, the ones opened before are closed (their files removed).
 */
static void
open_listener(struct cfg *c, int i)
{
	const struct ik_sock_opts so = { .backlog = 4096,
					 .flags = IK_SOCK_NONBLOCK };
	const char *a = c->listen[i];
	struct ik_sock_addr la;
	char text[256];
	size_t used = strlen(c->where);

	for (size_t k = 0; k < NSCHEMES; k++) {
		size_t n = strlen(schemes[k].scheme);
		int r;

		if (strncmp(a, schemes[k].scheme, n) != 0)
			continue;
		r = ik_sock_listen(&c->socks[i], schemes[k].kind, a + n, &so);
		if (r < 0) {
			while (i-- > 0)
				ik_sock_close(c->socks[i]);
			ik_cmd_fail(CMD, "listen %s: %s", a, ik_strerror(r));
		}
		/* the real address: tcp port 0 picks one, say which */
		if (ik_sock_local_addr(c->socks[i], &la) < 0 ||
		    ik_sock_format(&la, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "%s", a + n);
		snprintf(c->where + used, sizeof(c->where) - used, "%s%.*s%s",
			 used ? ", " : "", (int)n, a, text);
		return;
	}
	ik_cmd_usage(CMD,
		     "bad address '%s' (unix:PATH, abstract:NAME, "
		     "tcp:HOST:PORT)",
		     a);
}

static void
open_cache(struct cfg *c)
{
	char name[IK_SHM_NAME_MAX + 2];
	int r;

	if (snprintf(name, sizeof(name), "%s%s",
		     c->cache_name[0] == '/' ? "" : "/",
		     c->cache_name) >= (int)sizeof(name))
		ik_cmd_usage(CMD, "cache name too long");
	r = ik_cache_open(&c->cache, name);
	if (r == -ENOENT && c->size > 0) {
		r = ik_cache_create(&c->cache, name, c->size, 0, 0);
		if (r == 0)
			log_line(NULL, "created the cache (remove it with "
				       "'ipckit cache NAME destroy')");
		else if (r == -EEXIST) /* another server made it meanwhile */
			r = ik_cache_open(&c->cache, name);
	}
	if (r < 0)
		ik_cmd_fail(CMD, "cache %s: %s", name, ik_strerror(r));
}

/* ---- a worker: one loop, one server --------------------------------------
 */

struct stopper {
	ik_serve *s;
	int timeout_ms;
};

static void
on_stop_signal(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
	       void *arg)
{
	struct stopper *st = arg;
	char name[16];

	(void)loop;
	(void)w;
	if (ik_sig_name(ev->si.signo, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "%d", ev->si.signo);
	fprintf(stderr, "ipckit serve[%ld]: SIG%s: stopping\n", (long)getpid(),
		name);
	ik_serve_shutdown(st->s, st->timeout_ms);
}

static int
run_worker(struct cfg *c)
{
	struct ik_serve_stats st;
	struct stopper stop;
	ik_loop *loop;
	ik_serve *s;
	int r;

	if ((r = ik_loop_new(&loop, 0)) < 0)
		ik_cmd_fail(CMD, "event loop: %s", ik_strerror(r));
	if ((r = ik_serve_new(&s, loop, c->cache, &c->so)) < 0)
		ik_cmd_fail(CMD, "server: %s", ik_strerror(r));
	for (int i = 0; i < c->nlisten; i++)
		if ((r = ik_serve_listen(s, c->socks[i])) < 0)
			ik_cmd_fail(CMD, "%s: %s", c->listen[i],
				    ik_strerror(r));
	stop.s = s;
	stop.timeout_ms = (int)c->shutdown_ms;
	if ((r = ik_loop_signal_add(loop, SIGTERM, on_stop_signal, &stop,
				    NULL)) < 0 ||
	    (r = ik_loop_signal_add(loop, SIGINT, on_stop_signal, &stop,
				    NULL)) < 0)
		ik_cmd_fail(CMD, "signals: %s", ik_strerror(r));
	r = ik_loop_run(loop); /* until the shutdown has drained */
	ik_serve_stats(s, &st);
	fprintf(stderr,
		"ipckit serve[%ld]: stopped (%" PRIu64 " clients, %" PRIu64
		" commands)\n",
		(long)getpid(), st.accepted, st.commands);
	ik_serve_free(s);
	ik_loop_free(loop);
	return r < 0 ? IK_EXIT_FAIL : IK_EXIT_OK;
}

/* ---- the supervisor of several workers -----------------------------------
 */

struct sv {
	struct cfg *cfg;
	ik_loop *loop;
	pid_t pid[MAX_WORKERS];
	int live;
	bool stopping;
	int quick_deaths; /* workers that died young, in a row */
	int64_t started_ms[MAX_WORKERS];
	int status;
};

static int
spawn_worker(struct sv *sv, int i)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) /* the supervisor's loop stays untouched in here */
		_exit(run_worker(sv->cfg));
	sv->pid[i] = pid;
	sv->started_ms[i] = ik_cmd_now_ms();
	sv->live++;
	return 0;
}

static void
stop_all(struct sv *sv)
{
	sv->stopping = true;
	for (int i = 0; i < sv->cfg->workers; i++)
		if (sv->pid[i] > 0)
			kill(sv->pid[i], SIGTERM);
	if (sv->live == 0)
		ik_loop_stop(sv->loop);
}

static void
worker_exited(struct sv *sv, pid_t pid, int status)
{
	int i;

	for (i = 0; i < sv->cfg->workers && sv->pid[i] != pid; i++)
		;
	if (i == sv->cfg->workers)
		return;
	sv->pid[i] = 0;
	sv->live--;
	if (sv->stopping) {
		if (sv->live == 0)
			ik_loop_stop(sv->loop);
		return;
	}
	if (WIFSIGNALED(status))
		fprintf(stderr,
			"ipckit serve[%ld]: worker %ld killed by signal %d; "
			"restarting it\n",
			(long)getpid(), (long)pid, WTERMSIG(status));
	else
		fprintf(stderr,
			"ipckit serve[%ld]: worker %ld exited (status %d); "
			"restarting it\n",
			(long)getpid(), (long)pid, WEXITSTATUS(status));
	sv->quick_deaths = ik_cmd_now_ms() - sv->started_ms[i] < 1000
				   ? sv->quick_deaths + 1
				   : 0;
	if (sv->quick_deaths >= 5 || spawn_worker(sv, i) < 0) {
		fprintf(stderr,
			"ipckit serve[%ld]: workers keep dying; "
			"stopping\n",
			(long)getpid());
		sv->status = IK_EXIT_FAIL;
		stop_all(sv);
	}
}

/*
 * Workers are reaped on SIGCHLD rather than with ik_loop_child_add: a pidfd
 * watcher's descriptor would be inherited by every worker forked after it,
 * which keeps it registered in our epoll set after the loop closes it.
 */
static void
on_sigchld(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
	   void *arg)
{
	int status;
	pid_t pid;

	(void)loop;
	(void)w;
	(void)ev;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		worker_exited(arg, pid, status);
}

static void
on_sv_signal(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev,
	     void *arg)
{
	struct sv *sv = arg;

	(void)loop;
	(void)w;
	fprintf(stderr, "ipckit serve[%ld]: signal %d: stopping %d workers\n",
		(long)getpid(), ev->si.signo, sv->live);
	stop_all(sv);
}

static int
supervise(struct cfg *c)
{
	static struct sv sv; /* reachable from the workers' copies too */
	int r;

	sv.cfg = c;
	if ((r = ik_loop_new(&sv.loop, 0)) < 0)
		ik_cmd_fail(CMD, "event loop: %s", ik_strerror(r));
	/* block (and watch) the stop signals before any worker exists */
	if ((r = ik_loop_signal_add(sv.loop, SIGTERM, on_sv_signal, &sv,
				    NULL)) < 0 ||
	    (r = ik_loop_signal_add(sv.loop, SIGINT, on_sv_signal, &sv, NULL)) <
		    0 ||
	    (r = ik_loop_signal_add(sv.loop, SIGCHLD, on_sigchld, &sv, NULL)) <
		    0)
		ik_cmd_fail(CMD, "signals: %s", ik_strerror(r));
	for (int i = 0; i < c->workers; i++)
		if ((r = spawn_worker(&sv, i)) < 0) {
			fprintf(stderr, "ipckit serve: worker: %s\n",
				ik_strerror(r));
			sv.status = IK_EXIT_FAIL;
			stop_all(&sv);
			break;
		}
	while (sv.live > 0 || !sv.stopping)
		if (ik_loop_run(sv.loop) < 0)
			break;
	fprintf(stderr, "ipckit serve[%ld]: stopped\n", (long)getpid());
	ik_loop_free(sv.loop);
	return sv.status;
}

/*
 * One descriptor per client: a soft limit of 1024 (a common default) would
 * leave clients past it waiting in the backlog, never served, while accept
 * fails with EMFILE. Take the hard limit, as redis-server does.
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			fprintf(stderr,
				"ipckit serve[%ld]: raising the descriptor "
				"limit: %s\n",
				(long)getpid(), strerror(errno));
	}
}

static int
run(int argc, char **argv)
{
	struct cfg c = { 0 };
	int r;

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(USAGE, stdout);
		return IK_EXIT_OK;
	}
	parse(argc, argv, &c);
	raise_nofile();
	open_cache(&c);
	for (int i = 0; i < c.nlisten; i++)
		open_listener(&c, i);
	fprintf(stderr,
		"ipckit serve[%ld]: serving cache %s on %s (%lld worker%s)\n",
		(long)getpid(), c.cache_name, c.where, c.workers,
		c.workers == 1 ? "" : "s");
	r = c.workers == 1 ? run_worker(&c) : supervise(&c);
	for (int i = 0; i < c.nlisten; i++)
		ik_sock_close(c.socks[i]);
	ik_cache_close(c.cache);
	return r;
}

const struct ik_cmd ik_cmd_serve = {
	.name = "serve",
	.summary = "serve a shared-memory cache in the Redis protocol",
	.usage = USAGE
	"\n"
	"Serves the cache NAME (ik_cache(3); made with 'ipckit cache NAME "
	"create',\n"
	"or here with --size) to Redis clients (redis-cli, redis-py, ...) "
	"on each\n"
	"ADDR: unix:PATH, abstract:NAME or tcp:HOST:PORT (port 0: any; the "
	"start\n"
	"line names it). Commands: PING ECHO GET SET(EX PX NX XX KEEPTTL) "
	"DEL EXISTS\n"
	"INCR INCRBY DECR DECRBY MGET MSET EXPIRE PEXPIRE TTL PTTL PERSIST "
	"DBSIZE\n"
	"FLUSHALL INFO COMMAND CLIENT SELECT CONFIG GET QUIT; inline "
	"commands too.\n"
	"\n"
	"  --workers N          processes sharing the sockets and the cache "
	"(1)\n"
	"  --max-clients N      per worker; more are refused (10000)\n"
	"  --max-output SIZE    unread replies before a client is dropped "
	"(64M)\n"
	"  --max-bulk SIZE      longest argument (64M)\n"
	"  --max-request SIZE   longest request (128M)\n"
	"  --idle-timeout D     drop clients silent for D (never)\n"
	"  --shutdown-timeout D on SIGTERM/SIGINT, wait at most D for "
	"replies to\n"
	"                       leave (5s)\n"
	"One line on standard error per start, stop and error.\n",
	.run = run,
};
