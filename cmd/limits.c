/*
 * ipckit limits: every kernel IPC limit with its current use, and a warning
 * where use is near the limit. The library's create calls check the same
 * limits (their errors name the one to raise).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <ipckit/ipckit.h>

#include "cmd.h"

#define NEAR_PCT 80

static void
num(char *buf, size_t len, uint64_t v)
{
	if (v == IK_LIMIT_UNLIMITED)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ik_limit l[64];
	int json = 0, opt, n;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			printf("%s", "usage: ipckit limits [--json]\n");
			return IK_EXIT_OK;
		default:
			ik_cmd_usage("limits", "bad option");
		}
	}
	if (optind < argc)
		ik_cmd_usage("limits", "unexpected argument '%s'",
			     argv[optind]);
	n = ik_limits_read(l, sizeof(l) / sizeof(l[0]));
	if (n < 0)
		ik_cmd_fail("limits", "%s", ik_strerror(n));
	if (n > (int)(sizeof(l) / sizeof(l[0])))
		n = (int)(sizeof(l) / sizeof(l[0]));
	if (json) {
		printf("[");
		for (int i = 0; i < n; i++) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			ik_cmd_json_str(stdout, l[i].name);
			printf(", \"value\": ");
			if (l[i].error < 0)
				printf("null");
			else if (l[i].value == IK_LIMIT_UNLIMITED)
				printf("\"unlimited\"");
			else
				printf("%" PRIu64, l[i].value);
			printf(", \"used\": ");
			if (l[i].used < 0)
				printf("null");
			else
				printf("%" PRId64, l[i].used);
			printf(", \"unit\": ");
			ik_cmd_json_str(stdout, l[i].unit);
			printf(", \"near\": %s, \"source\": ",
			       ik_limit_near(&l[i], NEAR_PCT) ? "true"
							      : "false");
			ik_cmd_json_str(stdout, l[i].source);
			printf(", \"what\": ");
			ik_cmd_json_str(stdout, l[i].what);
			if (l[i].error < 0) {
				printf(", \"error\": ");
				ik_cmd_json_str(stdout,
						ik_strerror(l[i].error));
			}
			printf("}");
		}
		printf("\n]\n");
		return IK_EXIT_OK;
	}
	printf("%-24s %20s %20s %-11s %s\n", "LIMIT", "VALUE", "USED", "UNIT",
	       "WHAT");
	for (int i = 0; i < n; i++) {
		char v[32], u[32];

		if (l[i].error < 0)
			snprintf(v, sizeof(v), "?");
		else
			num(v, sizeof(v), l[i].value);
		if (l[i].used < 0)
			snprintf(u, sizeof(u), "-");
		else
			snprintf(u, sizeof(u), "%" PRId64, l[i].used);
		printf("%-24s %20s %20s %-11s %s\n", l[i].name, v, u, l[i].unit,
		       l[i].what);
	}
	for (int i = 0; i < n; i++) {
		if (l[i].note != NULL)
			fprintf(stderr, "ipckit limits: note: %s: %s\n",
				l[i].name, l[i].note);
		if (l[i].error < 0) {
			fprintf(stderr, "ipckit limits: %s: %s (%s)\n",
				l[i].name, ik_strerror(l[i].error),
				l[i].source);
		} else if (ik_limit_near(&l[i], NEAR_PCT)) {
			fprintf(stderr,
				"ipckit limits: warning: %s is %d%% used "
				"(%" PRId64 " of %" PRIu64 " %s)\n",
				l[i].name,
				(int)((double)l[i].used * 100 /
				      (double)l[i].value),
				l[i].used, l[i].value, l[i].unit);
		}
	}
	return IK_EXIT_OK;
}

const struct ik_cmd ik_cmd_limits = {
	.name = "limits",
	.summary = "show the kernel's IPC limits and their current use",
	.usage = "usage: ipckit limits [--json]\n"
		 "\n"
		 "Every kernel limit on IPC objects (System V queues, "
		 "semaphores and\n"
		 "segments; POSIX queues; pipes; /dev/shm; per-user "
		 "rlimits; listen backlog),\n"
		 "where it is set, and how much of it is in use. A warning "
		 "on standard error\n"
		 "marks each limit at least 80% used.\n"
		 "\n"
		 "  --json   one JSON array, one object per limit\n",
	.run = run,
};
