/*
 * ipckit cache: create, use, inspect and remove a shared-memory cache
 * (ik_cache(3)) from the shell. Options may follow the action anywhere;
 * "--" ends them, so a value or an INCR amount may start with '-'. A get of
 * a missing key exits 1 ("not found"), so that `if ipckit cache c get k`
 * works in scripts; del prints how many keys it removed (0 is no error).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/ipckit.h>

#include "cmd.h"

#define CMD "cache"
#define USAGE                                                           \
	"usage: ipckit cache NAME create [--size SIZE] [--stripes N]\n" \
	"       ipckit cache NAME set KEY VALUE [--ttl DURATION] "      \
	"[--nx|--xx]\n"                                                 \
	"       ipckit cache NAME get KEY\n"                            \
	"       ipckit cache NAME del KEY\n"                            \
	"       ipckit cache NAME incr KEY [N]\n"                       \
	"       ipckit cache NAME stats [--json]\n"                     \
	"       ipckit cache NAME dump\n"                               \
	"       ipckit cache NAME check [--repair]\n"                   \
	"       ipckit cache NAME destroy\n"

struct opts {
	const char *pos[4];
	int npos;
	uint64_t size;
	long long stripes;
	int64_t ttl_ms;
	unsigned set_flags;
	bool json, repair;
};

static void
parse(int argc, char **argv, struct opts *o)
{
	bool opts_done = false;

	o->size = 64u << 20;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (opts_done || strncmp(a, "--", 2) != 0) {
			if (o->npos == 4)
				ik_cmd_usage(CMD, "unexpected argument '%s'",
					     a);
			o->pos[o->npos++] = a;
		} else if (strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "--repair") == 0) {
			o->repair = true;
		} else if (strcmp(a, "--nx") == 0) {
			o->set_flags |= IK_CACHE_NX;
		} else if (strcmp(a, "--xx") == 0) {
			o->set_flags |= IK_CACHE_XX;
		} else if (strcmp(a, "--size") == 0 && v) {
			if (ik_cmd_parse_size(v, &o->size) < 0)
				ik_cmd_usage(CMD, "bad size '%s'", v);
			i++;
		} else if (strcmp(a, "--stripes") == 0 && v) {
			if (ik_cmd_parse_int(v, 1, IK_CACHE_MAX_STRIPES,
					     &o->stripes) < 0)
				ik_cmd_usage(CMD, "bad stripe count '%s'", v);
			i++;
		} else if (strcmp(a, "--ttl") == 0 && v) {
			if (ik_cmd_parse_duration_ms(v, &o->ttl_ms) < 0 ||
			    o->ttl_ms <= 0)
				ik_cmd_usage(CMD, "bad duration '%s'", v);
			i++;
		} else {
			ik_cmd_usage(CMD, "bad option '%s'", a);
		}
	}
}

/* "x" and "/x" both name the segment "/x". */
static void
shm_name(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, "%s%s", name[0] == '/' ? "" : "/", name) >=
	    (int)len)
		ik_cmd_usage(CMD, "name too long");
}

static ik_cache *
open_or_fail(const char *name)
{
	ik_cache *c;
	int r = ik_cache_open(&c, name);

	if (r < 0)
		ik_cmd_fail(CMD, "%s: %s", name, ik_strerror(r));
	return c;
}

/* Bytes as dump prints them: C escapes for anything not plain. */
static void
put_escaped(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\\\", stdout);
		else if (p[i] == '\t')
			fputs("\\t", stdout);
		else if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
}

static int
dump_one(const void *k, size_t kl, const void *v, size_t vl, int64_t ttl,
	 void *arg)
{
	(void)arg;
	put_escaped(k, kl);
	putchar('\t');
	put_escaped(v, vl);
	printf("\t%" PRId64 "\n", ttl);
	return 0;
}

static void
stats(ik_cache *c, bool json)
{
	struct ik_cache_stats s;
	int r = ik_cache_stats(c, &s);

	if (r < 0)
		ik_cmd_fail(CMD, "stats: %s", ik_strerror(r));
#define F(x)            \
	{               \
#x, s.x \
	}
	const struct {
		const char *name;
		uint64_t v;
	} f[] = { F(keys),	F(hits),       F(misses),   F(evictions),
		  F(expired),	F(recoveries), F(mem_used), F(mem_live),
		  F(mem_limit), F(item_max),   F(stripes) };
#undef F
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (json)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "{", f[i].name,
			       f[i].v);
		else
			printf("%-11s %" PRIu64 "\n", f[i].name, f[i].v);
	}
	if (json)
		printf("}\n");
}

static int
run(int argc, char **argv)
{
	struct opts o = { 0 };
	char name[IK_SHM_NAME_MAX + 2];
	const char *act;
	ik_cache *c;
	int r;

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(USAGE, stdout);
		return IK_EXIT_OK;
	}
	if (argc < 3)
		ik_cmd_usage(CMD, "need NAME and an action");
	shm_name(name, sizeof(name), argv[1]);
	act = argv[2];
	parse(argc - 3, argv + 3, &o);
#define NEED(n)                                                               \
	do {                                                                  \
		if (o.npos != (n))                                            \
			ik_cmd_usage(CMD, "%s takes %d argument%s", act, (n), \
				     (n) == 1 ? "" : "s");                    \
	} while (0)
	if (strcmp(act, "create") == 0) {
		NEED(0);
		r = ik_cache_create(&c, name, o.size, (unsigned)o.stripes, 0);
		if (r == -EINVAL)
			ik_cmd_usage(CMD,
				     "size must be at least %u bytes, "
				     "stripes a power of two",
				     IK_CACHE_MIN_SIZE);
		if (r < 0)
			ik_cmd_fail(CMD, "%s: %s", name, ik_strerror(r));
	} else if (strcmp(act, "destroy") == 0) {
		NEED(0);
		r = ik_cache_unlink(name);
		if (r < 0)
			ik_cmd_fail(CMD, "%s: %s", name, ik_strerror(r));
		return IK_EXIT_OK;
	} else if (strcmp(act, "set") == 0) {
		NEED(2);
		if ((o.set_flags & IK_CACHE_NX) && (o.set_flags & IK_CACHE_XX))
			ik_cmd_usage(CMD, "--nx and --xx exclude each other");
		c = open_or_fail(name);
		r = ik_cache_set(c, o.pos[0], strlen(o.pos[0]), o.pos[1],
				 strlen(o.pos[1]), o.ttl_ms, o.set_flags);
		if (r == -EEXIST || r == -ENOENT)
			ik_cmd_fail(CMD, "%s: %s", o.pos[0],
				    r == -EEXIST ? "exists" : "not found");
		if (r < 0)
			ik_cmd_fail(CMD, "set %s: %s", o.pos[0],
				    ik_strerror(r));
	} else if (strcmp(act, "get") == 0) {
		struct ik_cache_stats s;
		char *buf;
		ssize_t n;

		NEED(1);
		c = open_or_fail(name);
		if (ik_cache_stats(c, &s) < 0 ||
		    (buf = malloc(s.item_max)) == NULL)
			ik_cmd_fail(CMD, "get: out of memory");
		n = ik_cache_get(c, o.pos[0], strlen(o.pos[0]), buf,
				 s.item_max);
		if (n == -ENOENT)
			ik_cmd_fail(CMD, "%s: not found", o.pos[0]);
		if (n < 0)
			ik_cmd_fail(CMD, "get %s: %s", o.pos[0],
				    ik_strerror((int)n));
		fwrite(buf, 1, (size_t)n, stdout);
		putchar('\n');
		free(buf);
	} else if (strcmp(act, "del") == 0) {
		NEED(1);
		c = open_or_fail(name);
		r = ik_cache_del(c, o.pos[0], strlen(o.pos[0]));
		if (r < 0)
			ik_cmd_fail(CMD, "del %s: %s", o.pos[0],
				    ik_strerror(r));
		printf("%d\n", r);
	} else if (strcmp(act, "incr") == 0) {
		long long by = 1;
		int64_t v;

		if (o.npos != 1 && o.npos != 2)
			ik_cmd_usage(CMD, "incr takes KEY [N]");
		if (o.npos == 2 &&
		    ik_cmd_parse_int(o.pos[1], INT64_MIN, INT64_MAX, &by) < 0)
			ik_cmd_usage(CMD, "bad increment '%s'", o.pos[1]);
		c = open_or_fail(name);
		r = ik_cache_incrby(c, o.pos[0], strlen(o.pos[0]), by, &v);
		if (r == -EINVAL)
			ik_cmd_fail(CMD, "%s: value is not an integer",
				    o.pos[0]);
		if (r < 0)
			ik_cmd_fail(CMD, "incr %s: %s", o.pos[0],
				    ik_strerror(r));
		printf("%" PRId64 "\n", v);
	} else if (strcmp(act, "stats") == 0) {
		NEED(0);
		c = open_or_fail(name);
		stats(c, o.json);
	} else if (strcmp(act, "dump") == 0) {
		uint64_t cursor = 0;

		NEED(0);
		c = open_or_fail(name);
		do {
			r = ik_cache_scan(c, &cursor, 1000, dump_one, NULL);
			if (r < 0)
				ik_cmd_fail(CMD, "dump: %s", ik_strerror(r));
		} while (cursor != 0);
	} else if (strcmp(act, "check") == 0) {
		NEED(0);
		c = open_or_fail(name);
		r = ik_cache_check(c, o.repair ? IK_CACHE_REPAIR : 0);
		if (r < 0)
			ik_cmd_fail(CMD, "%s: %s", name, ik_strerror(r));
		if (o.repair)
			printf("repaired %d part%s\n", r, r == 1 ? "" : "s");
		else
			printf("consistent\n");
	} else {
		ik_cmd_usage(CMD, "unknown action '%s'", act);
	}
	ik_cache_close(c);
	if (fflush(stdout) != 0)
		ik_cmd_fail(CMD, "write error");
	return IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_cache = {
	.name = "cache",
	.summary = "create, use and inspect a shared-memory key-value cache",
	.usage = USAGE
	"\n"
	"A key-value cache in one POSIX shared-memory segment (/dev/shm/NAME)\n"
	"of a fixed size, shared by every process that opens it; least "
	"recently\n"
	"used keys are evicted when it is full. See ik_cache(3).\n"
	"\n"
	"  create      make it: --size (default 64M), --stripes (a power of "
	"two)\n"
	"  set         store VALUE; --ttl 10s|500ms expires it, --nx only if "
	"new,\n"
	"              --xx only if it exists (exit 1 when not stored)\n"
	"  get         print the value; exit 1 with \"not found\" if missing\n"
	"  del         remove KEY; prints 1, or 0 if it was not there\n"
	"  incr        add N (default 1) to an integer value; prints the "
	"result\n"
	"  stats       counters and memory; --json for one JSON object\n"
	"  dump        every entry: KEY<TAB>VALUE<TAB>TTL_MS (-1: none), "
	"escaped\n"
	"  check       verify consistency (exit 1 if corrupt); --repair "
	"rebuilds\n"
	"  destroy     remove the name (processes using it keep their "
	"mapping)\n",
	.run = run,
};
