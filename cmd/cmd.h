/*
 * The ipckit command: one file per subcommand (cmd/<name>.c) exporting one
 * `const struct ik_cmd`, listed in cmd/main.c. Conventions for every
 * subcommand: getopt_long; usage errors exit 2 with one line on stderr
 * ("ipckit CMD: ..."); runtime errors exit 1 with a line naming the error
 * (ik_strerror); success exits 0.
 */
#ifndef IPCKIT_CMD_H
#define IPCKIT_CMD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Every subcommand, in the order `ipckit --help` lists them: X(name) refers
 * to `const struct ik_cmd ik_cmd_<name>` in cmd/<name>.c. Adding a command
 * is adding its file and one line here.
 */
#define IK_COMMANDS(X) \
	X(bench)       \
	X(limits)      \
	X(ls)          \
	X(rm)          \
	X(notify)      \
	X(chat)        \
	X(cache)       \
	X(fanout)      \
	X(send)        \
	X(recv)        \
	X(relay)       \
	X(serve)

struct ik_cmd {
	const char *name;
	const char *summary; /* one line for `ipckit --help` */
	const char *usage;   /* full help text for `ipckit help NAME` */
	int (*run)(int argc, char **argv);
};

/* Exit statuses. */
#define IK_EXIT_OK 0
#define IK_EXIT_FAIL 1
#define IK_EXIT_USAGE 2

/*
 * Print "ipckit CMD: message" to stderr and exit with status; a usage error
 * (exit 2) adds where the help is. ik_cmd_usage and ik_cmd_fail (exit 1)
 * name the two.
 */
__attribute__((noreturn, format(printf, 3, 4))) void
ik_cmd_exit(const char *cmd, int status, const char *fmt, ...);
#define ik_cmd_usage(cmd, ...) ik_cmd_exit(cmd, IK_EXIT_USAGE, __VA_ARGS__)
#define ik_cmd_fail(cmd, ...) ik_cmd_exit(cmd, IK_EXIT_FAIL, __VA_ARGS__)
/* That line alone, for wrappers that clean up before they exit. */
__attribute__((format(printf, 3, 0))) void
ik_cmd_vline(const char *cmd, int status, const char *fmt, va_list ap);

/* CLOCK_MONOTONIC in milliseconds, for the commands' sliced waits. */
int64_t ik_cmd_now_ms(void);

/* Print a subcommand's help text to stdout. */
void ik_cmd_help(const struct ik_cmd *c);

/*
 * Parse "64M", "4KiB", "1G", "512" (bytes) into *out. Returns 0 or -EINVAL
 * (-ERANGE on overflow).
 */
int ik_cmd_parse_size(const char *s, uint64_t *out);
/* Parse "1.5s", "200ms", "10" (seconds), "2m" into milliseconds. */
int ik_cmd_parse_duration_ms(const char *s, int64_t *out);
/* Parse a decimal integer in [min, max]. */
int ik_cmd_parse_int(const char *s, long long min, long long max,
		     long long *out);

/* Write s as a JSON string (quoted, escaped) to f. */
void ik_cmd_json_str(FILE *f, const char *s);

#endif
