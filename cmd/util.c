/* Helpers shared by the ipckit subcommands: exits, help, number parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd.h"

void
ik_cmd_vline(const char *cmd, int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "ipckit%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	vfprintf(stderr, fmt, ap);
	if (status == IK_EXIT_USAGE)
		fprintf(stderr, " (see 'ipckit help%s%s')", cmd ? " " : "",
			cmd ? cmd : "");
	fputc('\n', stderr);
}

void
ik_cmd_exit(const char *cmd, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ik_cmd_vline(cmd, status, fmt, ap);
	va_end(ap);
	exit(status);
}

int64_t
ik_cmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ik_cmd_help(const struct ik_cmd *c)
{
	fputs(c->usage, stdout);
}

int
ik_cmd_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
ik_cmd_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "", 1 },
		{ "b", 1 },
		{ "k", 1ull << 10 },
		{ "kb", 1000 },
		{ "kib", 1ull << 10 },
		{ "m", 1ull << 20 },
		{ "mb", 1000000 },
		{ "mib", 1ull << 20 },
		{ "g", 1ull << 30 },
		{ "gb", 1000000000 },
		{ "gib", 1ull << 30 },
	};
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -ERANGE;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

int
ik_cmd_parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		{ "", 1000 },	 { "s", 1000 },	 { "ms", 1 },
		{ "us", 0.001 }, { "m", 60000 }, { "h", 3600000 },
	};
	char *end;
	double v;

	if (s == NULL || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || v < 0)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ms = v * units[i].mult;

			if (ms > 9.2e15)
				return -ERANGE;
			*out = (int64_t)(ms + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

void
ik_cmd_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
