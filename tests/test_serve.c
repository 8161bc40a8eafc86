/*
 * The Redis-protocol server with real processes: a forked server (or two,
 * sharing the listening socket and an anonymous cache) and forked clients
 * speaking raw RESP over Unix sockets. Replies are checked byte for byte and
 * the cache is read back directly by the parent. Limits (max clients,
 * output backlog, idle timeout, malformed input), graceful shutdown with
 * replies still in flight, and a worker killed while a client writes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <ipckit/cache.h>
#include <ipckit/error.h>
#include <ipckit/loop.h>
#include <ipckit/serve.h>
#include <ipckit/sock.h>

#include "ikt.h"

struct fixture {
	ik_cache *cache;
	struct ik_sock *lsn;
	char path[108];
	pid_t srv[2];
};

static struct fixture F;

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	/* anonymous: shared with the forked servers, nothing left behind */
	assert_int_equal(ik_cache_create(&F.cache, NULL, 32u << 20, 1, 0), 0);
	ikt_path(F.path, sizeof(F.path), "srv");
	assert_int_equal(
		ik_sock_listen(&F.lsn, IK_SOCK_UNIX_STREAM, F.path, NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++)
		if (F.srv[i] > 0)
			kill(F.srv[i], SIGKILL);
	ikt_reap_tracked();
	ik_sock_close(F.lsn);
	ik_cache_close(F.cache);
	ikt_tmpdir_cleanup();
	return 0;
}

static void
on_term(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)loop;
	(void)w;
	(void)ev;
	ik_serve_shutdown(arg, IKT_WAIT_MS);
}

/* A server process on the fixture's socket; SIGTERM stops it gracefully. */
static pid_t
start_server(const struct ik_serve_opts *o)
{
	pid_t pid = ikt_fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		ik_loop *loop;
		ik_serve *s;

		IKT_CHECK(ik_loop_new(&loop, 0) == 0);
		IKT_CHECK(ik_serve_new(&s, loop, F.cache, o) == 0);
		IKT_CHECK(ik_serve_listen(s, F.lsn) == 0);
		IKT_CHECK(ik_loop_signal_add(loop, SIGTERM, on_term, s, NULL) ==
			  0);
		IKT_CHECK(ik_loop_run(loop) == 1);
		ik_serve_free(s);
		ik_loop_free(loop);
		_exit(0);
	}
	return pid;
}

/* SIGTERM server i: it must stop gracefully (exit 0) and is forgotten. */
static void
stop_server(int i)
{
	kill(F.srv[i], SIGTERM);
	ikt_child_ok(F.srv[i]);
	F.srv[i] = 0;
}

static struct ik_sock *
client(void)
{
	struct ik_sock *s;
	int r = ik_sock_connect(&s, IK_SOCK_UNIX_STREAM, F.path, NULL,
				IKT_WAIT_MS);

	return r == 0 ? s : NULL;
}

static bool
say(struct ik_sock *s, const char *req)
{
	size_t n = strlen(req);

	return ik_sock_send(s, req, n, IKT_WAIT_MS) == (ssize_t)n;
}

/* Read exactly strlen(want) bytes and compare. */
static bool
hear(struct ik_sock *s, const char *want)
{
	size_t n = strlen(want);
	char *got = malloc(n + 1);
	bool ok;

	if (got == NULL)
		return false;
	ok = ik_sock_recv(s, got, n, IKT_WAIT_MS) == (ssize_t)n &&
	     memcmp(got, want, n) == 0;
	if (!ok)
		fprintf(stderr, "wanted [%s], got [%.*s]\n", want, (int)n, got);
	free(got);
	return ok;
}

/* A PING answered: the server has taken this connection and is serving. */
static bool
ping(struct ik_sock *s)
{
	return say(s, "PING\r\n") && hear(s, "+PONG\r\n");
}

/* The server closed: reading gives end of stream (or a reset). */
static bool
hear_eof(struct ik_sock *s)
{
	char c;
	ssize_t n = ik_sock_recv(s, &c, 1, IKT_WAIT_MS);

	return n == 0 || n == -ECONNRESET;
}

static void
test_commands(void **state)
{
	pid_t cl;
	char buf[64];
	int64_t ttl;

	(void)state;
	F.srv[0] = start_server(NULL);
	/* a value stored through the library, read back over the socket */
	assert_int_equal(ik_cache_set(F.cache, "lib", 3, "from-lib", 8, 0, 0),
			 0);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *s = client();

		IKT_CHECK(s != NULL);
		IKT_CHECK(say(s, "*1\r\n$4\r\nPING\r\n"));
		IKT_CHECK(hear(s, "+PONG\r\n"));
		IKT_CHECK(say(s, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
				 "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
				 "*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n"
				 "*2\r\n$3\r\nGET\r\n$3\r\nlib\r\n"));
		IKT_CHECK(hear(s, "+OK\r\n$5\r\nhello\r\n$-1\r\n$8\r\nfrom-lib"
				  "\r\n"));
		/* NX/XX, EX/PX, TTL, PERSIST */
		IKT_CHECK(say(s, "SET k other NX\r\nSET n v XX\r\n"
				 "SET k v2 XX EX 100\r\nTTL k\r\nPTTL n\r\n"
				 "PERSIST k\r\nTTL k\r\nSET k v NX XX\r\n"
				 "SET k v EX 0\r\nSET k v EX\r\n"));
		IKT_CHECK(hear(s, "$-1\r\n$-1\r\n+OK\r\n:100\r\n:-2\r\n:1\r\n"
				  ":-1\r\n-ERR syntax error\r\n-ERR invalid "
				  "expire time in 'set' command\r\n-ERR "
				  "syntax error\r\n"));
		/* counters */
		IKT_CHECK(say(s,
			      "INCR c\r\nINCRBY c 41\r\nDECR c\r\n"
			      "DECRBY c -10\r\nINCR k\r\nINCRBY c x\r\n"
			      "SET big 9223372036854775807\r\nINCR big\r\n"));
		IKT_CHECK(hear(s, ":1\r\n:42\r\n:41\r\n:51\r\n-ERR value is "
				  "not an integer or out of range\r\n-ERR "
				  "value is not an integer or out of range\r\n"
				  "+OK\r\n-ERR increment or decrement would "
				  "overflow\r\n"));
		/* several keys */
		IKT_CHECK(say(s, "MSET a 1 b 2\r\nMGET a x b\r\nEXISTS a b x "
				 "a\r\nDEL a x\r\nMSET a\r\n"));
		IKT_CHECK(hear(s, "+OK\r\n*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
				  ":3\r\n:1\r\n-ERR wrong number of arguments "
				  "for 'mset' command\r\n"));
		/* connection commands */
		IKT_CHECK(say(s, "ECHO \"a b\"\r\nPING hi\r\nSELECT 0\r\n"
				 "SELECT 1\r\nCLIENT GETNAME\r\n"
				 "CLIENT SETNAME me\r\nCLIENT GETNAME\r\n"
				 "GET\r\nNOSUCH x y\r\n"));
		IKT_CHECK(hear(s, "$3\r\na b\r\n$2\r\nhi\r\n+OK\r\n-ERR DB "
				  "index is out of range\r\n$-1\r\n+OK\r\n"
				  "$2\r\nme\r\n-ERR wrong number of arguments "
				  "for 'get' command\r\n-ERR unknown command "
				  "'NOSUCH', with args beginning with: 'x' "
				  "'y' \r\n"));
		/* EXPIRE, then QUIT: +OK and the end of the connection */
		IKT_CHECK(say(s, "SET e v\r\nEXPIRE e 50\r\nEXPIRE none 5\r\n"
				 "QUIT\r\nPING\r\n"));
		IKT_CHECK(hear(s, "+OK\r\n:1\r\n:0\r\n+OK\r\n"));
		IKT_CHECK(hear_eof(s));
		ik_sock_close(s);
		_exit(0);
	}
	ikt_child_ok(cl);
	/* what the client wrote, read by this process from the segment */
	assert_int_equal(ik_cache_get(F.cache, "c", 1, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "51", 2);
	assert_int_equal(ik_cache_get(F.cache, "k", 1, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "v2", 2);
	assert_int_equal(ik_cache_ttl(F.cache, "e", 1, &ttl), 0);
	assert_true(ttl > 40000 && ttl <= 50000);
	assert_int_equal(ik_cache_exists(F.cache, "a", 1), 0);
	stop_server(0);
}

/* INFO, DBSIZE, COMMAND, CONFIG GET, FLUSHALL: the shapes clients expect */
static void
test_info_and_admin(void **state)
{
	pid_t cl;

	(void)state;
	F.srv[0] = start_server(NULL);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *s = client();
		char buf[4096];
		ssize_t n;

		IKT_CHECK(s != NULL);
		IKT_CHECK(say(s, "SET a 1\r\nSET b 2\r\nDBSIZE\r\n"));
		IKT_CHECK(hear(s, "+OK\r\n+OK\r\n:2\r\n"));
		IKT_CHECK(say(s, "INFO keyspace\r\n"));
		IKT_CHECK(hear(
			s,
			"$44\r\n# "
			"Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n\r\n"));
		IKT_CHECK(say(s, "INFO\r\n"));
		n = ik_sock_recv_some(s, buf, sizeof(buf) - 1, IKT_WAIT_MS);
		IKT_CHECK(n > 0);
		buf[n] = '\0';
		IKT_CHECK(strstr(buf, "# Memory\r\nused_memory:") != NULL);
		IKT_CHECK(strstr(buf, "maxmemory:33554432\r\n") != NULL);
		IKT_CHECK(strstr(buf, "connected_clients:1\r\n") != NULL);
		IKT_CHECK(say(s, "CONFIG GET appendonly\r\nCOMMAND DOCS\r\n"
				 "COMMAND COUNT\r\nFLUSHALL\r\nDBSIZE\r\n"));
		IKT_CHECK(hear(s,
			       "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n*0\r\n"
			       ":25\r\n+OK\r\n:0\r\n"));
		ik_sock_close(s);
		_exit(0);
	}
	ikt_child_ok(cl);
	stop_server(0);
}

/* 4 processes x 50 connections, interleaved pipelined INCRs: exact total */
static void
test_many_clients(void **state)
{
	enum { PROCS = 4, CONNS = 50, ROUNDS = 20 };
	pid_t cl[PROCS];
	char buf[32];

	(void)state;
	F.srv[0] = start_server(NULL);
	for (int p = 0; p < PROCS; p++) {
		cl[p] = ikt_fork();
		if (cl[p] == 0) {
			struct ik_sock *s[CONNS];

			for (int i = 0; i < CONNS; i++)
				IKT_CHECK((s[i] = client()) != NULL);
			for (int r = 0; r < ROUNDS; r++) {
				for (int i = 0; i < CONNS; i++)
					IKT_CHECK(say(s[i], "INCR n\r\nPING\r\n"
							    "INCRBY n 2\r\n"));
				for (int i = 0; i < CONNS; i++) {
					char rep[64];
					ssize_t k = ik_sock_recv(s[i], rep, 1,
								 IKT_WAIT_MS);

					IKT_CHECK(k == 1 && rep[0] == ':');
					/* ":N\r\n+PONG\r\n:M\r\n": to the end
					 */
					for (int lines = 0; lines < 3;) {
						IKT_CHECK(
							ik_sock_recv(
								s[i], rep, 1,
								IKT_WAIT_MS) ==
							1);
						lines += rep[0] == '\n';
					}
				}
			}
			for (int i = 0; i < CONNS; i++)
				ik_sock_close(s[i]);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++)
		ikt_child_ok(cl[p]);
	assert_int_equal(ik_cache_get(F.cache, "n", 1, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "12000", 5); /* 4*50*20*3 */
	stop_server(0);
}

/* Byte by byte, and a big value split over many reads */
static void
test_split_and_big(void **state)
{
	enum { BIG = 300000 };
	pid_t cl;

	(void)state;
	F.srv[0] = start_server(NULL);
	cl = ikt_fork();
	if (cl == 0) {
		static const char req[] =
			"*3\r\n$3\r\nSET\r\n$2\r\nkk\r\n$3\r\nabc\r\n"
			"GET kk\r\n*2\r\n$3\r\nGET\r\n$2\r\nkk\r\n";
		struct ik_sock *s = client();
		char *big = malloc(BIG), *back = malloc(BIG);
		char hdr[64];
		int hl;

		IKT_CHECK(s != NULL && big && back);
		for (size_t i = 0; i < sizeof(req) - 1; i++)
			IKT_CHECK(ik_sock_send(s, req + i, 1, IKT_WAIT_MS) ==
				  1);
		IKT_CHECK(hear(s, "+OK\r\n$3\r\nabc\r\n$3\r\nabc\r\n"));
		ikt_fill(big, BIG, 3);
		hl = snprintf(hdr, sizeof(hdr),
			      "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n", BIG);
		IKT_CHECK(ik_sock_send(s, hdr, (size_t)hl, IKT_WAIT_MS) == hl);
		IKT_CHECK(ik_sock_send(s, big, BIG, IKT_WAIT_MS) == BIG);
		IKT_CHECK(say(s, "\r\nGET big\r\n"));
		IKT_CHECK(hear(s, "+OK\r\n$300000\r\n"));
		IKT_CHECK(ik_sock_recv(s, back, BIG, IKT_WAIT_MS) == BIG);
		IKT_CHECK(ikt_check(back, BIG, 3) == 0);
		IKT_CHECK(hear(s, "\r\n"));
		ik_sock_close(s);
		_exit(0);
	}
	ikt_child_ok(cl);
	stop_server(0);
}

/* Malformed input: an error, that connection closed, the others fine */
static void
test_protocol_error(void **state)
{
	struct ik_serve_opts o = { .limits = { .max_bulk = 1024,
					       .max_request = 2048 } };
	pid_t cl;

	(void)state;
	F.srv[0] = start_server(&o);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *good = client(), *bad;

		IKT_CHECK(good != NULL);
		IKT_CHECK(say(good, "SET k v\r\n"));
		IKT_CHECK(hear(good, "+OK\r\n"));
		static const char *const cases[][2] = {
			{ "*1\r\n+x\r\n", "-Protocol error: expected '$', got "
					  "'+'\r\n" },
			{ "*x\r\n", "-Protocol error: invalid multibulk "
				    "length\r\n" },
			{ "*1\r\n$1025\r\n", "-Protocol error: invalid bulk "
					     "length\r\n" },
			{ "PING \"x\r\n", "-Protocol error: unbalanced quotes "
					  "in request\r\n" },
			/* a reply to what came before, then the error */
			{ NULL,
			  "+PONG\r\n-Protocol error: too big request\r\n" },
		};
		/* two bulks of 1024 cannot fit in 2048 with their framing */
		char toobig[1200];
		int tl = snprintf(toobig, sizeof(toobig),
				  "PING\r\n*3\r\n$1024\r\n%01024d\r\n$1024\r\n",
				  0);

		IKT_CHECK(tl > 0 && (size_t)tl < sizeof(toobig));
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			IKT_CHECK((bad = client()) != NULL);
			IKT_CHECK(ping(bad));
			IKT_CHECK(say(bad, cases[i][0] ? cases[i][0] : toobig));
			IKT_CHECK(hear(bad, cases[i][1]));
			IKT_CHECK(hear_eof(bad));
			ik_sock_close(bad);
			IKT_CHECK(say(good, "GET k\r\n"));
			IKT_CHECK(hear(good, "$1\r\nv\r\n"));
		}
		ik_sock_close(good);
		_exit(0);
	}
	ikt_child_ok(cl);
	stop_server(0);
}

static void
test_max_clients(void **state)
{
	struct ik_serve_opts o = { .max_clients = 3 };
	pid_t cl;

	(void)state;
	F.srv[0] = start_server(&o);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *s[3], *extra;

		for (int i = 0; i < 3; i++) {
			IKT_CHECK((s[i] = client()) != NULL);
			/* a reply proves the server has taken it */
			IKT_CHECK(ping(s[i]));
		}
		IKT_CHECK((extra = client()) != NULL);
		IKT_CHECK(
			hear(extra, "-ERR max number of clients reached\r\n"));
		IKT_CHECK(hear_eof(extra));
		ik_sock_close(extra);
		/* the three still work; once one leaves, a newcomer fits */
		for (int i = 0; i < 3; i++) {
			IKT_CHECK(ping(s[i]));
		}
		IKT_CHECK(say(s[0], "QUIT\r\n"));
		IKT_CHECK(hear(s[0], "+OK\r\n"));
		IKT_CHECK(hear_eof(s[0]));
		ik_sock_close(s[0]);
		IKT_CHECK((extra = client()) != NULL);
		IKT_CHECK(ping(extra));
		_exit(0);
	}
	ikt_child_ok(cl);
	stop_server(0);
}

/*
 * A client that sends GETs of a 32 KiB value and never reads: dropped
 * once 256 KiB of replies wait for it; another client is unaffected.
 */
static void
test_output_limit(void **state)
{
	struct ik_serve_opts o = { .max_output = 256 << 10 };
	enum { VAL = 32 << 10, GETS = 2000 };
	char *val = malloc(VAL);
	pid_t cl;

	(void)state;
	assert_non_null(val);
	memset(val, 'v', VAL);
	assert_int_equal(ik_cache_set(F.cache, "v", 1, val, VAL, 0, 0), 0);
	free(val);
	F.srv[0] = start_server(&o);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *greedy = client(), *other = client();
		size_t total = 0;
		char buf[65536];
		ssize_t n;

		IKT_CHECK(greedy && other);
		for (int i = 0; i < GETS; i++) {
			/* the server may drop us while we are still sending */
			if (!say(greedy, "GET v\r\n"))
				break;
		}
		IKT_CHECK(ping(other));
		/* now read: what was sent before the drop, then the end */
		while ((n = ik_sock_recv_some(greedy, buf, sizeof(buf),
					      IKT_WAIT_MS)) > 0)
			total += (size_t)n;
		IKT_CHECK(n == 0 || n == -ECONNRESET);
		IKT_CHECK(total < (size_t)GETS * VAL);
		IKT_CHECK(say(other, "GET v\r\n"));
		IKT_CHECK(hear(other, "$32768\r\n"));
		_exit(0);
	}
	ikt_child_ok(cl);
	stop_server(0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An idle client is closed after the timeout, not before */
static void
test_idle_timeout(void **state)
{
	struct ik_serve_opts o = { .idle_timeout_ms = 300 };
	pid_t cl;

	(void)state;
	F.srv[0] = start_server(&o);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *s = client();
		int64_t t0;

		IKT_CHECK(s != NULL);
		/* before the last thing the server hears from us: its idle
		 * clock starts later, so a slow wake-up here cannot make the
		 * close look early */
		t0 = now_ms();
		IKT_CHECK(ping(s));
		IKT_CHECK(hear_eof(s));
		IKT_CHECK(now_ms() - t0 >= 300);
		_exit(0);
	}
	ikt_child_ok(cl);
	stop_server(0);
}

/*
 * SIGTERM while 4 MiB of replies are still queued for a client: all of them
 * arrive, then the end of the stream; the server exits 0.
 */
static void
test_graceful_shutdown(void **state)
{
	enum { VAL = 64 << 10, GETS = 64 };
	struct ikt_sync sy;
	char *val = malloc(VAL);
	pid_t cl;

	(void)state;
	assert_non_null(val);
	ikt_fill(val, VAL, 9);
	assert_int_equal(ik_cache_set(F.cache, "v", 1, val, VAL, 0, 0), 0);
	free(val);
	ikt_sync_init(&sy);
	F.srv[0] = start_server(NULL);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *s = client();
		char *back = malloc(VAL);
		char req[GETS * 7 + 1];

		IKT_CHECK(s != NULL && back != NULL);
		for (int i = 0; i < GETS; i++)
			memcpy(req + i * 7, "GET v\r\n", 7);
		req[GETS * 7] = '\0';
		IKT_CHECK(say(s, req));
		/* the first reply proves the server has read the requests */
		IKT_CHECK(hear(s, "$65536\r\n"));
		ikt_post(&sy);
		for (int i = 0; i < GETS; i++) {
			if (i > 0)
				IKT_CHECK(hear(s, "$65536\r\n"));
			IKT_CHECK(ik_sock_recv(s, back, VAL, IKT_WAIT_MS) ==
				  VAL);
			IKT_CHECK(ikt_check(back, VAL, 9) == 0);
			IKT_CHECK(hear(s, "\r\n"));
		}
		IKT_CHECK(hear_eof(s));
		_exit(0);
	}
	assert_int_equal(ikt_await(&sy, IKT_WAIT_MS), 0);
	kill(F.srv[0], SIGTERM);
	ikt_child_ok(cl);
	ikt_child_ok(F.srv[0]); /* exit 0: the loop ended by the shutdown */
	F.srv[0] = 0;
	ikt_sync_close(&sy);
}

/* The pid of the server process behind s, from INFO's process_id. */
static pid_t
server_pid(struct ik_sock *s)
{
	char buf[2048], *p;
	ssize_t n;

	if (!say(s, "INFO server\r\n"))
		return -1;
	n = ik_sock_recv_some(s, buf, sizeof(buf) - 1, IKT_WAIT_MS);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "process_id:");
	return p ? (pid_t)atol(p + 11) : -1;
}

/*
 * Two server processes on one socket and one cache; the one serving a
 * client that keeps INCRementing is SIGKILLed. The client reconnects (to
 * the survivor); the counter holds every acknowledged INCR, and at most the
 * one that was in flight more; the cache stays consistent.
 */
static void
test_worker_death(void **state)
{
	enum { TOTAL = 3000 };
	int pfd[2];
	pid_t cl, victim = 0;
	char buf[32];
	ssize_t n;
	int st;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	F.srv[0] = start_server(NULL);
	F.srv[1] = start_server(NULL);
	cl = ikt_fork();
	if (cl == 0) {
		struct ik_sock *s = NULL;
		long ok = 0, lost = 0;

		close(pfd[0]);
		while (ok < TOTAL) {
			char rep[32];
			size_t k = 0;

			if (s == NULL)
				IKT_CHECK((s = client()) != NULL);
			if (ok == 200 && lost == 0) {
				pid_t sp = server_pid(s);

				IKT_CHECK(sp > 0);
				IKT_CHECK(write(pfd[1], &sp, sizeof(sp)) ==
					  sizeof(sp));
			}
			if (say(s, "INCR n\r\n")) {
				while (k < sizeof(rep) - 1 &&
				       ik_sock_recv(s, rep + k, 1,
						    IKT_WAIT_MS) == 1 &&
				       rep[k++] != '\n')
					;
			}
			if (k == 0 || rep[k - 1] != '\n') {
				lost++; /* our server died under us */
				ik_sock_close(s);
				s = NULL;
				continue;
			}
			IKT_CHECK(rep[0] == ':');
			ok++;
		}
		ik_sock_close(s);
		/* 1: one INCR may have landed without an answer */
		_exit(lost == 1 ? 1 : 90 + (int)(lost > 9 ? 9 : lost));
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &victim, sizeof(victim)), sizeof(victim));
	close(pfd[0]);
	assert_true(victim == F.srv[0] || victim == F.srv[1]);
	ikt_child_killed(victim);
	if (victim == F.srv[1]) {
		F.srv[1] = F.srv[0];
	}
	F.srv[0] = 0;
	st = ikt_wait(cl, IKT_WAIT_MS);
	ikt_untrack(cl);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1); /* it lost its server once */
	n = ik_cache_get(F.cache, "n", 1, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(atol(buf) == TOTAL || atol(buf) == TOTAL + 1);
	assert_int_equal(ik_cache_check(F.cache, 0), 0);
	stop_server(1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_commands),	   T(test_info_and_admin),
		T(test_many_clients),	   T(test_split_and_big),
		T(test_protocol_error),	   T(test_max_clients),
		T(test_output_limit),	   T(test_idle_timeout),
		T(test_graceful_shutdown), T(test_worker_death),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
