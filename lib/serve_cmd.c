/*
 * The Redis commands, mapped one to one onto ik_cache calls. Replies use
 * Redis's own words, so that clients and scripts written for Redis read
 * them. Multi-key commands (MSET, DEL, EXISTS, MGET) run key by key: the
 * cache has no cross-key transaction, so another process may see an MSET
 * half done (each key on its own is always whole).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/version.h>

#include "internal/serve.h"
#include "internal/time.h"

typedef const struct ik_resp_arg arg_t;

#define OUT (&c->out)

static void
reply_ok(struct ik__client *c)
{
	ik_resp_raw(OUT, "+OK\r\n", 5);
}

static void errorf(struct ik__client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
errorf(struct ik__client *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ik_resp_error(OUT, msg);
}

/* A cache failure other than the ones each command expects. */
static void
cache_error(struct ik__client *c, int r)
{
	if (r == -EMSGSIZE)
		errorf(c, "ERR key or value too large for the cache");
	else if (r == -ENOMEM)
		errorf(c, "OOM out of memory");
	else
		errorf(c, "ERR cache: %s", ik_strerror(r));
}

static bool
eq(arg_t *a, const char *lit)
{
	size_t n = strlen(lit);

	return a->len == n && strncasecmp(a->p, lit, n) == 0;
}

/* An argument as a short C string for messages (cut, control bytes '?'). */
static const char *
show(arg_t *a, char *buf, size_t cap)
{
	size_t n = a->len < cap - 1 ? a->len : cap - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] = a->p[i] >= 0x20 && a->p[i] < 0x7f ? a->p[i] : '?';
	buf[n] = '\0';
	return buf;
}

/* ---- strings -------------------------------------------------------------
 */

/*
 * Append key's value as a bulk reply: copied straight from the segment into
 * the reply buffer, then validated; a value changed under us is copied
 * again, and after a few tries read through the locked path.
 */
static void
get_into(struct ik__client *c, arg_t *key)
{
	ik_cache *cache = c->srv->cache;
	ik_serve *s = c->srv;
	const void *v;
	uint64_t ticket;
	ssize_t n;

	for (int tries = 0; tries < 4; tries++) {
		size_t save = OUT->len;
		char *d;

		n = ik_cache_peek(cache, key->p, key->len, &v, &ticket);
		if (n == -ENOENT) {
			ik_resp_null(OUT);
			return;
		}
		if (n < 0) {
			cache_error(c, (int)n);
			return;
		}
		d = ik_resp_bulk_begin(OUT, (size_t)n);
		if (d == NULL) {
			cache_error(c, -ENOMEM);
			return;
		}
		memcpy(d, v, (size_t)n);
		if (ik_cache_peek_valid(cache, ticket)) {
			ik_resp_bulk_end(OUT, (size_t)n);
			return;
		}
		OUT->len = save;
	}
	for (;;) {
		n = ik_cache_get(cache, key->p, key->len, s->scratch,
				 s->scratch_cap);
		if (n < 0 || (size_t)n <= s->scratch_cap)
			break;
		char *nb = realloc(s->scratch, (size_t)n);

		if (nb == NULL) {
			cache_error(c, -ENOMEM);
			return;
		}
		s->scratch = nb;
		s->scratch_cap = (size_t)n;
	}
	if (n == -ENOENT)
		ik_resp_null(OUT);
	else if (n < 0)
		cache_error(c, (int)n);
	else
		ik_resp_bulk(OUT, s->scratch, (size_t)n);
}

static void
cmd_get(struct ik__client *c, size_t argc, arg_t *argv)
{
	(void)argc;
	get_into(c, &argv[1]);
}

static void
cmd_mget(struct ik__client *c, size_t argc, arg_t *argv)
{
	ik_resp_array(OUT, (int64_t)argc - 1);
	for (size_t i = 1; i < argc; i++)
		get_into(c, &argv[i]);
}

/* seconds (or ms) from a client, as milliseconds > 0; -1 if invalid */
static int64_t
expire_ms(arg_t *a, bool seconds)
{
	int64_t v;

	if (ik_resp_to_int(a, &v) < 0 || v <= 0 ||
	    (seconds && v > INT64_MAX / 1000))
		return -1;
	return seconds ? v * 1000 : v;
}

static void
cmd_set(struct ik__client *c, size_t argc, arg_t *argv)
{
	unsigned flags = 0;
	int64_t ttl = 0;
	int r;

	for (size_t i = 3; i < argc; i++) {
		bool more = i + 1 < argc;

		if (eq(&argv[i], "NX") && !(flags & IK_CACHE_XX)) {
			flags |= IK_CACHE_NX;
		} else if (eq(&argv[i], "XX") && !(flags & IK_CACHE_NX)) {
			flags |= IK_CACHE_XX;
		} else if (eq(&argv[i], "KEEPTTL") && ttl == 0) {
			flags |= IK_CACHE_KEEPTTL;
		} else if ((eq(&argv[i], "EX") || eq(&argv[i], "PX")) && more &&
			   ttl == 0 && !(flags & IK_CACHE_KEEPTTL)) {
			ttl = expire_ms(&argv[i + 1], eq(&argv[i], "EX"));
			if (ttl < 0) {
				errorf(c, "ERR invalid expire time in 'set' "
					  "command");
				return;
			}
			i++;
		} else {
			errorf(c, "ERR syntax error");
			return;
		}
	}
	r = ik_cache_set(c->srv->cache, argv[1].p, argv[1].len, argv[2].p,
			 argv[2].len, ttl, flags);
	if (r == 0)
		reply_ok(c);
	else if (r == -EEXIST || r == -ENOENT)
		ik_resp_null(OUT); /* NX / XX not met */
	else
		cache_error(c, r);
}

static void
cmd_mset(struct ik__client *c, size_t argc, arg_t *argv)
{
	if (argc % 2 == 0) {
		errorf(c, "ERR wrong number of arguments for 'mset' command");
		return;
	}
	for (size_t i = 1; i < argc; i += 2) {
		int r = ik_cache_set(c->srv->cache, argv[i].p, argv[i].len,
				     argv[i + 1].p, argv[i + 1].len, 0, 0);

		if (r < 0) {
			cache_error(c, r);
			return;
		}
	}
	reply_ok(c);
}

static void
incr_by(struct ik__client *c, arg_t *key, int64_t by)
{
	int64_t v;
	int r = ik_cache_incrby(c->srv->cache, key->p, key->len, by, &v);

	if (r == 0)
		ik_resp_int(OUT, v);
	else if (r == -EINVAL)
		errorf(c, "ERR value is not an integer or out of range");
	else if (r == -ERANGE)
		errorf(c, "ERR increment or decrement would overflow");
	else
		cache_error(c, r);
}

static void
cmd_incr(struct ik__client *c, size_t argc, arg_t *argv)
{
	(void)argc;
	incr_by(c, &argv[1], eq(&argv[0], "DECR") ? -1 : 1);
}

static void
cmd_incrby(struct ik__client *c, size_t argc, arg_t *argv)
{
	int64_t by;

	(void)argc;
	if (ik_resp_to_int(&argv[2], &by) < 0) {
		errorf(c, "ERR value is not an integer or out of range");
		return;
	}
	if (eq(&argv[0], "DECRBY")) {
		if (by == INT64_MIN) {
			errorf(c, "ERR decrement would overflow");
			return;
		}
		by = -by;
	}
	incr_by(c, &argv[1], by);
}

/* DEL and EXISTS: the number of keys among the arguments (repeats count). */
static void
cmd_del(struct ik__client *c, size_t argc, arg_t *argv)
{
	bool del = eq(&argv[0], "DEL");
	int64_t n = 0;

	for (size_t i = 1; i < argc; i++) {
		int r = del ? ik_cache_del(c->srv->cache, argv[i].p,
					   argv[i].len)
			    : ik_cache_exists(c->srv->cache, argv[i].p,
					      argv[i].len);

		if (r < 0) {
			cache_error(c, r);
			return;
		}
		n += r;
	}
	ik_resp_int(OUT, n);
}

/* ---- time to live --------------------------------------------------------
 */

static void
cmd_expire(struct ik__client *c, size_t argc, arg_t *argv)
{
	bool seconds = eq(&argv[0], "EXPIRE");
	int64_t v;
	int r;

	(void)argc;
	if (ik_resp_to_int(&argv[2], &v) < 0) {
		errorf(c, "ERR value is not an integer or out of range");
		return;
	}
	if (seconds && (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)) {
		errorf(c, "ERR invalid expire time in '%s' command",
		       seconds ? "expire" : "pexpire");
		return;
	}
	r = ik_cache_expire(c->srv->cache, argv[1].p, argv[1].len,
			    seconds ? v * 1000 : v);
	if (r < 0)
		cache_error(c, r);
	else
		ik_resp_int(OUT, r);
}

static void
cmd_ttl(struct ik__client *c, size_t argc, arg_t *argv)
{
	int64_t ms;
	int r;

	(void)argc;
	r = ik_cache_ttl(c->srv->cache, argv[1].p, argv[1].len, &ms);
	if (r == -ENOENT)
		ik_resp_int(OUT, -2);
	else if (r < 0)
		cache_error(c, r);
	else if (ms < 0)
		ik_resp_int(OUT, -1);
	else /* Redis rounds TTL to the nearest second */
		ik_resp_int(OUT, eq(&argv[0], "PTTL") ? ms : (ms + 500) / 1000);
}

static void
cmd_persist(struct ik__client *c, size_t argc, arg_t *argv)
{
	int r = ik_cache_persist(c->srv->cache, argv[1].p, argv[1].len);

	(void)argc;
	if (r < 0)
		cache_error(c, r);
	else
		ik_resp_int(OUT, r);
}

/* ---- the keyspace --------------------------------------------------------
 */

static void
cmd_dbsize(struct ik__client *c, size_t argc, arg_t *argv)
{
	(void)argc;
	(void)argv;
	ik_resp_int(OUT, ik_cache_dbsize(c->srv->cache));
}

static void
cmd_flushall(struct ik__client *c, size_t argc, arg_t *argv)
{
	int r;

	if (argc == 2 && !eq(&argv[1], "ASYNC") && !eq(&argv[1], "SYNC")) {
		errorf(c, "ERR syntax error");
		return;
	}
	r = ik_cache_flushall(c->srv->cache);
	if (r < 0)
		cache_error(c, r);
	else
		reply_ok(c);
}

static void
human(char *buf, size_t cap, uint64_t v)
{
	if (v >= 1u << 30)
		snprintf(buf, cap, "%.2fG", (double)v / (1u << 30));
	else if (v >= 1u << 20)
		snprintf(buf, cap, "%.2fM", (double)v / (1u << 20));
	else
		snprintf(buf, cap, "%.2fK", (double)v / 1024);
}

struct ttl_count {
	uint64_t n;
	double sum_ms;
};

static int
count_ttl(const void *k, size_t kl, const void *v, size_t vl, int64_t ttl,
	  void *arg)
{
	struct ttl_count *t = arg;

	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	if (ttl >= 0) {
		t->n++;
		t->sum_ms += (double)ttl;
	}
	return 0;
}

static void
cmd_info(struct ik__client *c, size_t argc, arg_t *argv)
{
	ik_serve *s = c->srv;
	struct ik_cache_stats cs;
	char text[2048], h1[32], h2[32];
	size_t n = 0;
	bool all = argc < 2 || eq(&argv[1], "all") || eq(&argv[1], "default") ||
		   eq(&argv[1], "everything");
	int r = ik_cache_stats(s->cache, &cs);

#define WANT(sec) (all || eq(&argv[1], sec))
#define ADD(...)                                                            \
	do {                                                                \
		int k_ = snprintf(text + n, sizeof(text) - n, __VA_ARGS__); \
		if (k_ > 0 && (size_t)k_ < sizeof(text) - n)                \
			n += (size_t)k_;                                    \
	} while (0)
	if (r < 0) {
		cache_error(c, r);
		return;
	}
	if (WANT("server"))
		ADD("# Server\r\nredis_version:7.0.0\r\nipckit_version:%s\r\n"
		    "redis_mode:standalone\r\nos:Linux\r\n"
		    "multiplexing_api:epoll\r\nprocess_id:%ld\r\n"
		    "uptime_in_seconds:%lld\r\n\r\n",
		    ik_version(), (long)getpid(),
		    (long long)((ik__now_ns() - s->start_ns) / 1000000000));
	if (WANT("clients"))
		ADD("# Clients\r\nconnected_clients:%" PRIu64
		    "\r\nmaxclients:%zu\r\n\r\n",
		    s->st.clients, s->o.max_clients);
	if (WANT("memory")) {
		human(h1, sizeof(h1), cs.mem_used);
		human(h2, sizeof(h2), cs.mem_limit);
		ADD("# Memory\r\nused_memory:%" PRIu64
		    "\r\nused_memory_human:%s\r\n"
		    "used_memory_dataset:%" PRIu64 "\r\nmaxmemory:%" PRIu64
		    "\r\nmaxmemory_human:%s\r\n"
		    "maxmemory_policy:allkeys-lru\r\n\r\n",
		    cs.mem_used, h1, cs.mem_live, cs.mem_limit, h2);
	}
	if (WANT("stats"))
		ADD("# Stats\r\ntotal_connections_received:%" PRIu64
		    "\r\ntotal_commands_processed:%" PRIu64
		    "\r\nrejected_connections:%" PRIu64
		    "\r\nexpired_keys:%" PRIu64 "\r\nevicted_keys:%" PRIu64
		    "\r\nkeyspace_hits:%" PRIu64 "\r\nkeyspace_misses:%" PRIu64
		    "\r\n\r\n",
		    s->st.accepted, s->st.commands, s->st.rejected, cs.expired,
		    cs.evictions, cs.hits, cs.misses);
	if (WANT("keyspace")) {
		ADD("# Keyspace\r\n");
		/* clients parse all three fields; expires costs a scan */
		struct ttl_count t = { 0, 0 };
		uint64_t cur = 0;

		do {
			if (ik_cache_scan(s->cache, &cur, 4096, count_ttl, &t) <
			    0)
				break;
		} while (cur != 0);
		if (cs.keys > 0)
			ADD("db0:keys=%" PRIu64 ",expires=%" PRIu64
			    ",avg_ttl=%.0f\r\n",
			    cs.keys, t.n, t.n ? t.sum_ms / (double)t.n : 0.0);
	}
#undef ADD
#undef WANT
	ik_resp_bulk(OUT, text, n);
}

/* ---- connection ----------------------------------------------------------
 */

static void
cmd_ping(struct ik__client *c, size_t argc, arg_t *argv)
{
	if (argc > 2)
		errorf(c, "ERR wrong number of arguments for 'ping' command");
	else if (argc == 2)
		ik_resp_bulk(OUT, argv[1].p, argv[1].len);
	else
		ik_resp_raw(OUT, "+PONG\r\n", 7);
}

static void
cmd_echo(struct ik__client *c, size_t argc, arg_t *argv)
{
	(void)argc;
	ik_resp_bulk(OUT, argv[1].p, argv[1].len);
}

static void
cmd_select(struct ik__client *c, size_t argc, arg_t *argv)
{
	int64_t db;

	(void)argc;
	if (ik_resp_to_int(&argv[1], &db) < 0)
		errorf(c, "ERR value is not an integer or out of range");
	else if (db != 0)
		errorf(c, "ERR DB index is out of range");
	else
		reply_ok(c);
}

static void
cmd_quit(struct ik__client *c, size_t argc, arg_t *argv)
{
	(void)argc;
	(void)argv;
	reply_ok(c);
	c->closing = true;
}

static void
cmd_client(struct ik__client *c, size_t argc, arg_t *argv)
{
	if (eq(&argv[1], "SETNAME") && argc == 3) {
		char *name;

		for (size_t i = 0; i < argv[2].len; i++)
			if (argv[2].p[i] <= ' ' || argv[2].p[i] >= 0x7f) {
				errorf(c, "ERR Client names cannot contain "
					  "spaces, newlines or special "
					  "characters.");
				return;
			}
		name = NULL;
		if (argv[2].len > 0 &&
		    (name = strndup(argv[2].p, argv[2].len)) == NULL) {
			cache_error(c, -ENOMEM);
			return;
		}
		free(c->name);
		c->name = name;
		reply_ok(c);
	} else if (eq(&argv[1], "GETNAME") && argc == 2) {
		if (c->name)
			ik_resp_bulk(OUT, c->name, strlen(c->name));
		else
			ik_resp_null(OUT);
	} else if (eq(&argv[1], "ID") && argc == 2) {
		ik_resp_int(OUT, (int64_t)c->id);
	} else if (eq(&argv[1], "SETINFO") && argc == 4) {
		reply_ok(c); /* newer clients announce themselves */
	} else {
		char b[64];

		errorf(c,
		       "ERR unknown subcommand or wrong number of arguments "
		       "for 'client|%s' command",
		       show(&argv[1], b, sizeof(b)));
	}
}

/* CONFIG GET for the few settings clients and redis-benchmark ask about. */
static void
cmd_config(struct ik__client *c, size_t argc, arg_t *argv)
{
	static const char *const known[][2] = {
		{ "save", "" },
		{ "appendonly", "no" },
		{ "databases", "1" },
	};
	int64_t n = 0;

	if (!eq(&argv[1], "GET") || argc != 3) {
		errorf(c, "ERR CONFIG supports only GET parameter here");
		return;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		n += eq(&argv[2], known[i][0]) || eq(&argv[2], "*");
	ik_resp_array(OUT, n * 2);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (eq(&argv[2], known[i][0]) || eq(&argv[2], "*")) {
			ik_resp_bulk(OUT, known[i][0], strlen(known[i][0]));
			ik_resp_bulk(OUT, known[i][1], strlen(known[i][1]));
		}
}

static void cmd_command(struct ik__client *c, size_t argc, arg_t *argv);

/* ---- dispatch ------------------------------------------------------------
 */

struct cmd {
	const char *name;
	int arity; /* Redis's: n exactly, -n at least n (name included) */
	void (*fn)(struct ik__client *c, size_t argc, arg_t *argv);
	const char *flags; /* for COMMAND: "write", "readonly", "fast" */
};

/* The hot ones first: lookup is a short linear scan. */
static const struct cmd cmds[] = {
	{ "get", 2, cmd_get, "readonly" },
	{ "set", -3, cmd_set, "write" },
	{ "incr", 2, cmd_incr, "write" },
	{ "mset", -3, cmd_mset, "write" },
	{ "mget", -2, cmd_mget, "readonly" },
	{ "ping", -1, cmd_ping, "fast" },
	{ "del", -2, cmd_del, "write" },
	{ "exists", -2, cmd_del, "readonly" },
	{ "decr", 2, cmd_incr, "write" },
	{ "incrby", 3, cmd_incrby, "write" },
	{ "decrby", 3, cmd_incrby, "write" },
	{ "expire", 3, cmd_expire, "write" },
	{ "pexpire", 3, cmd_expire, "write" },
	{ "ttl", 2, cmd_ttl, "readonly" },
	{ "pttl", 2, cmd_ttl, "readonly" },
	{ "persist", 2, cmd_persist, "write" },
	{ "echo", 2, cmd_echo, "fast" },
	{ "dbsize", 1, cmd_dbsize, "readonly" },
	{ "flushall", -1, cmd_flushall, "write" },
	{ "info", -1, cmd_info, "loading" },
	{ "select", 2, cmd_select, "fast" },
	{ "client", -2, cmd_client, "admin" },
	{ "config", -2, cmd_config, "admin" },
	{ "command", -1, cmd_command, "loading" },
	{ "quit", -1, cmd_quit, "fast" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
cmd_command(struct ik__client *c, size_t argc, arg_t *argv)
{
	if (argc >= 2 && eq(&argv[1], "COUNT")) {
		ik_resp_int(OUT, (int64_t)NCMDS);
		return;
	}
	if (argc >= 2 && eq(&argv[1], "DOCS")) {
		ik_resp_array(OUT, 0); /* redis-cli then uses its own help */
		return;
	}
	if (argc >= 2) {
		char b[64];

		errorf(c, "ERR unknown subcommand '%s'. Try COMMAND HELP.",
		       show(&argv[1], b, sizeof(b)));
		return;
	}
	/* name, arity, flags, first key, last key, step */
	ik_resp_array(OUT, (int64_t)NCMDS);
	for (size_t i = 0; i < NCMDS; i++) {
		bool keys = strcmp(cmds[i].flags, "write") == 0 ||
			    strcmp(cmds[i].flags, "readonly") == 0;
		bool multi = cmds[i].arity < 0 && keys;

		ik_resp_array(OUT, 6);
		ik_resp_bulk(OUT, cmds[i].name, strlen(cmds[i].name));
		ik_resp_int(OUT, cmds[i].arity);
		ik_resp_array(OUT, 1);
		ik_resp_simple(OUT, cmds[i].flags);
		ik_resp_int(OUT, keys ? 1 : 0);
		ik_resp_int(OUT, !keys ? 0 : multi ? -1 : 1);
		ik_resp_int(OUT,
			    keys ? (strcmp(cmds[i].name, "mset") ? 1 : 2) : 0);
	}
}

void
ik__serve_exec(struct ik__client *c, const struct ik_resp_req *req)
{
	arg_t *argv = req->argv;
	size_t argc = req->argc;

	for (size_t i = 0; i < NCMDS; i++) {
		const struct cmd *k = &cmds[i];

		if (!eq(&argv[0], k->name))
			continue;
		if ((k->arity > 0 && argc != (size_t)k->arity) ||
		    (k->arity < 0 && argc < (size_t)-k->arity)) {
			errorf(c,
			       "ERR wrong number of arguments for '%s' command",
			       k->name);
			return;
		}
		k->fn(c, argc, argv);
		return;
	}
	/* Redis 7's wording, with the first arguments quoted */
	char name[64], b[3][48], msg[256];
	size_t n = 0;

	n += (size_t)snprintf(msg, sizeof(msg),
			      "ERR unknown command '%s', with args beginning "
			      "with: ",
			      show(&argv[0], name, sizeof(name)));
	for (size_t i = 1; i < argc && i <= 3 && n < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "'%s' ",
				      show(&argv[i], b[i - 1], sizeof(b[0])));
	ik_resp_error(OUT, msg);
}
