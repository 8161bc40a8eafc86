/*
 * ipckit: one command for every IPC mechanism of the system. This file only
 * dispatches: each subcommand lives in cmd/<name>.c and is listed in
 * `commands` below.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <ipckit/ipckit.h>

#include "cmd.h"

#define IK__CMD_EXTERN(name) extern const struct ik_cmd ik_cmd_##name;
IK_COMMANDS(IK__CMD_EXTERN)
#undef IK__CMD_EXTERN

static const struct ik_cmd *const commands[] = {
#define IK__CMD_ENTRY(name) &ik_cmd_##name,
	IK_COMMANDS(IK__CMD_ENTRY)
#undef IK__CMD_ENTRY
		NULL,
};

static void
print_help(FILE *f)
{
	fprintf(f,
		"usage: ipckit [--help] [--version] COMMAND [ARGS...]\n"
		"\n"
		"Inter-process communication toolkit: pipes, FIFOs, signals, "
		"message queues,\n"
		"semaphores, shared memory and sockets.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; commands[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "show help for a command");
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f, "\nRun 'ipckit help COMMAND' for a command's options; "
		   "'man ipckit' for more.\n");
}

static const struct ik_cmd *
find(const char *name)
{
	for (size_t i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int
print_version(void)
{
	printf("ipckit %s (library %s)\n", IK_VERSION_STRING, ik_version());
	return IK_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ik_cmd *c;
	int opt;

	/* a vanished reader is an EPIPE each command already handles; this
	 * also spares the library its per-write SIGPIPE guard (ik_sig(3)).
	 * On failure the guard simply stays. */
	(void)ik_sig_ignore_sigpipe();

	/* stop at the first non-option: the rest belongs to the subcommand */
	while ((opt = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_help(stdout);
			return IK_EXIT_OK;
		case 'V':
			return print_version();
		default:
			fprintf(stderr, "ipckit: see 'ipckit --help'\n");
			return IK_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return IK_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "version") == 0)
		return print_version();
	if (strcmp(argv[0], "help") == 0) {
		if (argc < 2) {
			print_help(stdout);
			return IK_EXIT_OK;
		}
		if (strcmp(argv[1], "help") == 0 ||
		    strcmp(argv[1], "version") == 0) {
			print_help(stdout);
			return IK_EXIT_OK;
		}
		c = find(argv[1]);
		if (c == NULL)
			ik_cmd_usage(NULL, "unknown command '%s'", argv[1]);
		ik_cmd_help(c);
		return IK_EXIT_OK;
	}
	c = find(argv[0]);
	if (c == NULL)
		ik_cmd_usage(NULL, "unknown command '%s'", argv[0]);
	optind = 1; /* subcommands parse their own argv from scratch */
	return c->run(argc, argv);
}
