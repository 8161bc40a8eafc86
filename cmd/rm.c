/*
 * ipckit rm: remove named IPC objects, or every stale one. Each object is
 * re-read just before it is removed (ik_obj_remove) and refused if a live
 * process uses it; every removal and every refusal is reported.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ipckit/ipckit.h>

#include "cmd.h"
#include "objcmd.h"

/* Remove one object; 0 done (or would be), 1 refused or failed. */
static int
remove_one(const struct ik_obj *o, int flags)
{
	struct ik_obj *now = malloc(sizeof(*now));
	char what[PATH_MAX + 64];
	int r;

	if (now == NULL)
		ik_cmd_fail("rm", "%s", ik_strerror(-ENOMEM));
	ik_objcmd_describe(what, sizeof(what), o);
	*now = *o;
	r = ik_obj_remove(o, flags, now);
	if (r == 0) {
		printf("%s %s\n",
		       (flags & IK_OBJ_RM_DRY) ? "would remove" : "removed",
		       what);
	} else if (r == -EBUSY) {
		fprintf(stderr, "ipckit rm: refused %s: %s: %s\n", what,
			ik_obj_state_name(now->state), now->reason);
	} else {
		fprintf(stderr, "ipckit rm: cannot remove %s: %s\n", what,
			ik_strerror(r));
	}
	free(now);
	return r == 0 ? 0 : 1;
}

/* A FIFO or socket file named by path: look at just that file. */
static int
remove_file(int kind, const char *path, int flags)
{
	struct ik_obj *o = calloc(1, sizeof(*o));
	struct stat st;
	int r;

	if (o == NULL)
		ik_cmd_fail("rm", "%s", ik_strerror(-ENOMEM));
	if (lstat(path, &st) < 0) {
		fprintf(stderr, "ipckit rm: %s %s: %s\n",
			ik_obj_kind_name(kind), path, ik_strerror(-errno));
		free(o);
		return 1;
	}
	o->kind = kind;
	o->id = -1;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->flags = IK_OBJ_F_ONDISK;
	snprintf(o->name, sizeof(o->name), "%s", path);
	r = ik_obj_refresh(o);
	if (r < 0) {
		fprintf(stderr, "ipckit rm: %s %s: not a %s\n",
			ik_obj_kind_name(kind), path,
			kind == IK_OBJ_FIFO ? "FIFO" : "socket file");
		free(o);
		return 1;
	}
	r = remove_one(o, flags);
	free(o);
	return r;
}

static int
remove_named(int kind, char **specs, int n, const struct ik_obj_query *base,
	     int flags)
{
	struct ik_obj_query q = *base;
	struct ik_obj_list l;
	int bad = 0, r;

	q.kinds = IK_OBJ_MASK(kind);
	r = ik_obj_list(&q, &l);
	if (r < 0)
		ik_cmd_fail("rm", "%s", ik_strerror(r));
	ik_objcmd_notes("rm", &l, q.kinds);
	for (int i = 0; i < n; i++) {
		const char *spec = specs[i];
		int found = 0;

		if ((kind == IK_OBJ_FIFO || kind == IK_OBJ_UNIX) &&
		    spec[0] == '/') {
			bad |= remove_file(kind, spec, flags);
			continue;
		}
		if (kind <= IK_OBJ_SHM && strtoul(spec, NULL, 0) == 0 &&
		    (spec[0] == '0' && (spec[1] == 'x' || spec[1] == 'X'))) {
			fprintf(stderr,
				"ipckit rm: %s %s: key 0 is IPC_PRIVATE, "
				"shared by many objects: name the id\n",
				ik_obj_kind_name(kind), spec);
			bad = 1;
			continue;
		}
		for (size_t j = 0; j < l.n; j++) {
			if (!ik_obj_match(&l.objs[j], spec))
				continue;
			found = 1;
			bad |= remove_one(&l.objs[j], flags);
		}
		if (!found) {
			fprintf(stderr, "ipckit rm: no %s %s\n",
				ik_obj_kind_name(kind), spec);
			bad = 1;
		}
	}
	bad |= ik_objcmd_errors("rm", &l);
	ik_obj_list_free(&l);
	return bad;
}

static int
remove_stale(const struct ik_obj_query *base, int flags)
{
	struct ik_obj_query q = *base;
	struct ik_obj_list l;
	int bad, r;

	q.states = 1u << IK_OBJ_STALE;
	r = ik_obj_list(&q, &l);
	if (r < 0)
		ik_cmd_fail("rm", "%s", ik_strerror(r));
	ik_objcmd_notes("rm", &l, q.kinds ? q.kinds : IK_OBJ_ALL);
	for (size_t i = 0; i < l.n; i++) {
		/* one that came back to life since is refused, not a failure */
		(void)remove_one(&l.objs[i], flags | IK_OBJ_RM_STALE);
	}
	bad = ik_objcmd_errors("rm", &l);
	ik_obj_list_free(&l);
	return bad;
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stale", no_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "kind", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ik_obj_query q = { .uid = -1 };
	struct ik_objcmd_paths paths = { 0 };
	int stale = 0, flags = 0, opt, kind, bad;

	while ((opt = getopt_long(argc, argv, "+snk:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			stale = 1;
			break;
		case 'n':
			flags |= IK_OBJ_RM_DRY;
			break;
		case 'k':
			if (ik_objcmd_kinds(optarg, &q.kinds) < 0)
				ik_cmd_usage("rm", "unknown kind '%s' (%s)",
					     optarg, IK_OBJCMD_KINDS);
			break;
		case 'p':
			if (ik_objcmd_add_path(&paths, optarg) < 0)
				ik_cmd_usage("rm", "too many --path");
			break;
		case 'h':
			ik_cmd_help(&ik_cmd_rm);
			return IK_EXIT_OK;
		default:
			ik_cmd_usage("rm", "bad option");
		}
	}
	ik_objcmd_default_paths("rm", &paths);
	q.paths = paths.v;
	q.npaths = paths.n;
	if (stale) {
		if (optind < argc)
			ik_cmd_usage("rm", "--stale takes no names ('%s')",
				     argv[optind]);
		return remove_stale(&q, flags) ? IK_EXIT_FAIL : IK_EXIT_OK;
	}
	if (q.kinds != 0)
		ik_cmd_usage("rm", "--kind goes with --stale; name the kind "
				   "as the first argument");
	if (optind >= argc)
		ik_cmd_usage("rm", "name a KIND and objects, or --stale");
	kind = ik_obj_kind_parse(argv[optind]);
	if (kind < 0)
		ik_cmd_usage("rm", "unknown kind '%s' (%s)", argv[optind],
			     IK_OBJCMD_KINDS);
	if (optind + 1 >= argc)
		ik_cmd_usage("rm", "name at least one %s (key, id or name)",
			     argv[optind]);
	bad = remove_named(kind, argv + optind + 1, argc - optind - 1, &q,
			   flags);
	return bad ? IK_EXIT_FAIL : IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_rm = {
	.name = "rm",
	.summary = "remove IPC objects by name, or every stale one",
	.usage = "usage: ipckit rm [--dry-run] KIND KEY|ID|NAME...\n"
		 "       ipckit rm --stale [--dry-run] [--kind K[,K...]] "
		 "[--path DIR]...\n"
		 "\n"
		 "Remove the named objects of KIND (" IK_OBJCMD_KINDS "):\n"
		 "System V by key (0x1234) or id (5), POSIX by name (/name), "
		 "FIFOs and\n"
		 "socket files by path. Or remove every stale object (see "
		 "ipckit ls). Each\n"
		 "object is re-read just before removal; one a live process "
		 "uses is refused,\n"
		 "with the reason. Exit status 1 if any named object could "
		 "not be removed.\n"
		 "\n"
		 "  --stale      remove every stale object\n"
		 "  --dry-run    say what would be removed, remove nothing\n"
		 "  --kind K     with --stale: only these kinds (repeatable)\n"
		 "  --path DIR   also search DIR for FIFOs and socket files "
		 "(repeatable)\n",
	.run = run,
};
