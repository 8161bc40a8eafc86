/*
 * ipckit ls: every IPC object on the machine, who made it, who uses it, and
 * whether anyone alive still does (ik_obj_list). The options it shares with
 * ipckit rm (--kind, --path, --user) are parsed here too.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ipckit/ipckit.h>

#include "cmd.h"
#include "objcmd.h"

int
ik_objcmd_kinds(const char *arg, unsigned *kinds)
{
	char buf[256], *save = NULL, *tok;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int k = ik_obj_kind_parse(tok);

		if (k < 0)
			return k;
		*kinds |= IK_OBJ_MASK(k);
	}
	return 0;
}

int
ik_objcmd_add_path(struct ik_objcmd_paths *p, const char *dir)
{
	if (p->n == IK_OBJCMD_PATHS_MAX)
		return -E2BIG;
	p->v[p->n++] = dir;
	return 0;
}

void
ik_objcmd_default_paths(const char *cmd, struct ik_objcmd_paths *p)
{
	int r = ik_runtime_dir(p->rundir, sizeof(p->rundir));

	if (r < 0)
		fprintf(stderr,
			"ipckit %s: note: runtime directory not searched: %s\n",
			cmd, ik_strerror(r));
	else
		(void)ik_objcmd_add_path(p, p->rundir);
}

void
ik_objcmd_notes(const char *cmd, const struct ik_obj_list *l, unsigned kinds)
{
	if ((l->notes & IK_OBJ_NOTE_NO_MQUEUE) &&
	    (kinds & IK_OBJ_MASK(IK_OBJ_PMQ)))
		fprintf(stderr,
			"ipckit %s: note: no mqueue filesystem is mounted, so "
			"POSIX message queues are not listed (mount one: "
			"mkdir -p /dev/mqueue && mount -t mqueue none "
			"/dev/mqueue)\n",
			cmd);
}

int
ik_objcmd_errors(const char *cmd, const struct ik_obj_list *l)
{
	int bad = 0;

	for (int k = 0; k < IK_OBJ_NKINDS; k++) {
		if (l->errors[k] == 0)
			continue;
		fprintf(stderr, "ipckit %s: cannot list %s: %s\n", cmd,
			ik_obj_kind_name(k), ik_strerror(l->errors[k]));
		bad = 1;
	}
	return bad;
}

void
ik_objcmd_describe(char *buf, size_t len, const struct ik_obj *o)
{
	if (o->kind <= IK_OBJ_SHM)
		snprintf(buf, len, "%s 0x%08x (id %d)",
			 ik_obj_kind_name(o->kind), (unsigned)o->key, o->id);
	else
		snprintf(buf, len, "%s %s", ik_obj_kind_name(o->kind), o->name);
}

static const char *
owner(const struct ik_obj *o, char *buf, size_t len)
{
	struct passwd *pw;

	if (o->uid == (uid_t)-1)
		return NULL;
	pw = getpwuid(o->uid);
	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)o->uid);
	return buf;
}

static const char *
sock_type(int t)
{
	return t == SOCK_STREAM	     ? "stream"
	       : t == SOCK_DGRAM     ? "dgram"
	       : t == SOCK_SEQPACKET ? "seqpacket"
				     : "?";
}

static void
usage_text(const struct ik_obj *o, char *buf, size_t len)
{
	switch (o->kind) {
	case IK_OBJ_MSG:
	case IK_OBJ_PMQ:
		snprintf(buf, len, "%" PRIu64 " msgs/%" PRIu64 "B", o->count,
			 o->size);
		break;
	case IK_OBJ_SEM:
		snprintf(buf, len, "%" PRIu64 " sems", o->count);
		break;
	case IK_OBJ_SHM:
		snprintf(buf, len, "%" PRIu64 "B %" PRIu64 " att", o->size,
			 o->count);
		break;
	case IK_OBJ_UNIX:
		if (o->flags & IK_OBJ_F_LISTEN)
			snprintf(buf, len, "listen %" PRIu64 " conn", o->count);
		else
			snprintf(buf, len, "%s",
				 o->flags & IK_OBJ_F_BOUND
					 ? sock_type(o->sock_type)
					 : "unbound");
		break;
	case IK_OBJ_FIFO:
		snprintf(buf, len, "%u open", o->nusers);
		break;
	default:
		snprintf(buf, len, "%" PRIu64 "B", o->size);
		break;
	}
}

static void
pids_text(const struct ik_obj *o, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (o->kind == IK_OBJ_MSG)
		snprintf(buf, len, "%d,%d", (int)o->lpid, (int)o->lrpid);
	else if (o->kind == IK_OBJ_SHM)
		snprintf(buf, len, "%d", (int)o->lpid);
	else if (o->kind == IK_OBJ_SEM)
		for (uint64_t i = 0;
		     i < o->count && i < IK_OBJ_PIDS_MAX && n + 12 < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%d",
					      i ? "," : "", (int)o->sempid[i]);
	else
		for (unsigned i = 0;
		     i < o->nusers && i < IK_OBJ_PIDS_MAX && n + 12 < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%d",
					      i ? "," : "", (int)o->users[i]);
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

static void
json_pids(const char *field, const pid_t *v, size_t n)
{
	printf(", \"%s\": [", field);
	for (size_t i = 0; i < n; i++)
		printf("%s%d", i ? ", " : "", (int)v[i]);
	printf("]");
}

static void
print_json(const struct ik_obj *o, int first)
{
	char ob[64];
	const char *own = owner(o, ob, sizeof(ob));

	printf("%s\n  {\"kind\": \"%s\", \"state\": \"%s\", \"reason\": ",
	       first ? "" : ",", ik_obj_kind_name(o->kind),
	       ik_obj_state_name(o->state));
	ik_cmd_json_str(stdout, o->reason);
	if (o->kind <= IK_OBJ_SHM) {
		printf(", \"key\": \"0x%08x\", \"id\": %d, \"name\": null",
		       (unsigned)o->key, o->id);
	} else {
		printf(", \"key\": null, \"id\": null, \"name\": ");
		ik_cmd_json_str(stdout, o->name);
	}
	printf(", \"owner\": ");
	if (own != NULL)
		ik_cmd_json_str(stdout, own);
	else
		printf("null");
	if (o->uid == (uid_t)-1)
		printf(", \"uid\": null, \"gid\": null, \"perms\": null");
	else
		printf(", \"uid\": %u, \"gid\": %u, \"cuid\": %u, \"cgid\": "
		       "%u, \"perms\": \"%04o\"",
		       (unsigned)o->uid, (unsigned)o->gid, (unsigned)o->cuid,
		       (unsigned)o->cgid, o->mode);
	printf(", \"size\": %" PRIu64, o->size);
	switch (o->kind) {
	case IK_OBJ_MSG:
		printf(", \"messages\": %" PRIu64 ", \"lspid\": %d, \"lrpid\": "
		       "%d",
		       o->count, (int)o->lpid, (int)o->lrpid);
		break;
	case IK_OBJ_SEM:
		printf(", \"nsems\": %" PRIu64, o->count);
		json_pids("sempids", o->sempid,
			  o->count < IK_OBJ_PIDS_MAX ? (size_t)o->count
						     : IK_OBJ_PIDS_MAX);
		break;
	case IK_OBJ_SHM:
		printf(", \"nattch\": %" PRIu64 ", \"cpid\": %d, \"lpid\": %d",
		       o->count, (int)o->cpid, (int)o->lpid);
		break;
	case IK_OBJ_PMQ:
		printf(", \"messages\": %" PRIu64 ", \"notify_pid\": %d",
		       o->count, (int)o->notify_pid);
		break;
	case IK_OBJ_UNIX:
		printf(", \"type\": \"%s\", \"listening\": %s, "
		       "\"connections\": "
		       "%" PRIu64 ", \"bound\": %s, \"on_disk\": %s",
		       (o->flags & IK_OBJ_F_BOUND) ? sock_type(o->sock_type)
						   : "none",
		       (o->flags & IK_OBJ_F_LISTEN) ? "true" : "false",
		       o->count, (o->flags & IK_OBJ_F_BOUND) ? "true" : "false",
		       (o->flags & IK_OBJ_F_ONDISK) ? "true" : "false");
		break;
	case IK_OBJ_FIFO:
		printf(", \"on_disk\": %s",
		       (o->flags & IK_OBJ_F_ONDISK) ? "true" : "false");
		break;
	default:
		break;
	}
	json_pids("users", o->users,
		  o->nusers < IK_OBJ_PIDS_MAX ? o->nusers : IK_OBJ_PIDS_MAX);
	printf(", \"nusers\": %u, \"removed\": %s, \"ctime\": %lld}", o->nusers,
	       (o->flags & IK_OBJ_F_REMOVED) ? "true" : "false",
	       (long long)o->ctime);
}

static void
print_row(const struct ik_obj *o)
{
	char ob[64], use[64], pids[128], id[16], perms[8], cpid[16];
	const char *own = owner(o, ob, sizeof(ob));

	usage_text(o, use, sizeof(use));
	pids_text(o, pids, sizeof(pids));
	snprintf(id, sizeof(id), o->id >= 0 ? "%d" : "-", o->id);
	snprintf(perms, sizeof(perms), o->uid == (uid_t)-1 ? "-" : "%04o",
		 o->mode);
	snprintf(cpid, sizeof(cpid), o->cpid > 0 ? "%d" : "-", (int)o->cpid);
	printf("%-5s %-10s %-8s %-5s %-16s %-7s %-15s %-7s ",
	       ik_obj_kind_name(o->kind), id, own ? own : "-", perms, use, cpid,
	       pids, ik_obj_state_name(o->state));
	if (o->kind <= IK_OBJ_SHM)
		printf("0x%08x%s\n", (unsigned)o->key,
		       (o->flags & IK_OBJ_F_REMOVED) ? " (removed)" : "");
	else
		printf("%s%s\n", o->name,
		       (o->flags & IK_OBJ_F_REMOVED) ? " (deleted)" : "");
}

static long long
parse_user(const char *s)
{
	struct passwd *pw = getpwnam(s);
	long long v;

	if (pw != NULL)
		return pw->pw_uid;
	if (ik_cmd_parse_int(s, 0, UINT32_MAX - 1, &v) == 0)
		return v;
	return -1;
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "kind", required_argument, NULL, 'k' },
		{ "stale", no_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ik_obj_query q = { .uid = -1 };
	struct ik_objcmd_paths paths = { 0 };
	struct ik_obj_list l;
	int json = 0, opt, n, bad;

	while ((opt = getopt_long(argc, argv, "jk:su:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'k':
			if (ik_objcmd_kinds(optarg, &q.kinds) < 0)
				ik_cmd_usage("ls", "unknown kind '%s' (%s)",
					     optarg, IK_OBJCMD_KINDS);
			break;
		case 's':
			q.states = 1u << IK_OBJ_STALE;
			break;
		case 'u':
			q.uid = parse_user(optarg);
			if (q.uid < 0)
				ik_cmd_usage("ls", "unknown user '%s'", optarg);
			break;
		case 'p':
			if (ik_objcmd_add_path(&paths, optarg) < 0)
				ik_cmd_usage("ls", "too many --path");
			break;
		case 'h':
			ik_cmd_help(&ik_cmd_ls);
			return IK_EXIT_OK;
		default:
			ik_cmd_usage("ls", "bad option");
		}
	}
	if (optind < argc)
		ik_cmd_usage("ls", "unexpected argument '%s'", argv[optind]);
	ik_objcmd_default_paths("ls", &paths);
	q.paths = paths.v;
	q.npaths = paths.n;
	n = ik_obj_list(&q, &l);
	if (n < 0)
		ik_cmd_fail("ls", "%s", ik_strerror(n));
	ik_objcmd_notes("ls", &l, q.kinds ? q.kinds : IK_OBJ_ALL);
	if (json) {
		printf("[");
		for (size_t i = 0; i < l.n; i++)
			print_json(&l.objs[i], i == 0);
		printf("%s]\n", l.n ? "\n" : "");
	} else {
		printf("%-5s %-10s %-8s %-5s %-16s %-7s %-15s %-7s %s\n",
		       "KIND", "ID", "OWNER", "PERMS", "USAGE", "CPID", "PIDS",
		       "STATE", "KEY/NAME");
		for (size_t i = 0; i < l.n; i++)
			print_row(&l.objs[i]);
	}
	bad = ik_objcmd_errors("ls", &l);
	ik_obj_list_free(&l);
	return bad ? IK_EXIT_FAIL : IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_ls = {
	.name = "ls",
	.summary = "list every IPC object and whether anyone still uses it",
	.usage =
		"usage: ipckit ls [--json] [--kind K[,K...]] [--stale] "
		"[--user U] [--path DIR]...\n"
		"\n"
		"Every IPC object on the machine: System V queues, semaphore "
		"sets and\n"
		"segments, POSIX queues (needs a mounted mqueue fs), shared "
		"memory and named\n"
		"semaphores, FIFOs held open, named Unix sockets, and FIFOs "
		"and socket files\n"
		"under the runtime directory and each --path. STATE is "
		"in-use (a live process\n"
		"holds or last used it), stale (creator and every known user "
		"gone) or idle\n"
		"(no evidence either way). PIDS: msg last send,receive; shm "
		"last attach;\n"
		"sem last op per semaphore; others the processes holding it.\n"
		"\n"
		"  --json       one JSON array, one object per IPC object\n"
		"  --kind K     only these kinds (repeatable): " IK_OBJCMD_KINDS
		"\n"
		"  --stale      only stale objects (see ipckit rm --stale)\n"
		"  --user U     only objects owned by user U (name or uid)\n"
		"  --path DIR   also search DIR for FIFOs and socket files "
		"(repeatable)\n",
	.run = run,
};
