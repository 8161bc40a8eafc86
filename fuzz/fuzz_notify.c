/*
 * libFuzzer target: the text files of ik_notify that other processes write
 * (a group's names file, a listener's registration file), read through the
 * public calls that parse them, in a private runtime directory of our own.
 * A malformed file is -EBADMSG (names) or skipped (registrations), never a
 * crash; what parses is within range, and a rewrite by ik_notify_name_set
 * keeps every name and parses again.
 *
 * Input: byte 0 selects the file (bit 0: registration, else names; bit 1:
 * also rewrite the names file); the rest is the file's content.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipckit/notify.h>

#define GROUP "fz"
#define MAXN 1100 /* above the parser's 1024-line limit */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char root[256], gdir[512];
static struct ik_notify_name names[MAXN], again[MAXN];

static void
cleanup(void)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/names", gdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%d", gdir, (int)getpid());
	unlink(p);
	rmdir(gdir);
	snprintf(p, sizeof(p), "%s/notify", root);
	rmdir(p);
	rmdir(root);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* a runtime directory is a tmpfs (XDG_RUNTIME_DIR is): a disk file
	 * system would make each input's file writes the cost of the run */
	const char *tmp = getenv("XDG_RUNTIME_DIR");
	char p[600];

	(void)argc;
	(void)argv;
	if (tmp == NULL || *tmp == '\0' || access(tmp, W_OK) < 0)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
	if (tmp == NULL && ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0'))
		tmp = "/tmp";
	snprintf(root, sizeof(root), "%s/ikfz-notify-XXXXXX", tmp);
	if (mkdtemp(root) == NULL)
		abort();
	snprintf(p, sizeof(p), "%s/notify", root);
	snprintf(gdir, sizeof(gdir), "%s/" GROUP, p);
	if (mkdir(p, 0700) < 0 || mkdir(gdir, 0700) < 0)
		abort();
	setenv("IPCKIT_RUNTIME_DIR", root, 1);
	atexit(cleanup);
	return 0;
}

static void
put(const char *name, const uint8_t *data, size_t size)
{
	char p[600];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", gdir, name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

static void
check_names(int n)
{
	for (int i = 0; i < n && i < MAXN; i++) {
		char c = names[i].name[0];

		if (ik_notify_name_ok(names[i].name) != 0 ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ||
		    names[i].event < 0 || names[i].event > IK_NOTIFY_EVENT_MAX)
			abort();
	}
	if (n > 0 &&
	    ik_notify_name_lookup(GROUP, names[0].name) != names[0].event)
		abort(); /* the first of a name wins */
}

static void
names_file(const uint8_t *data, size_t size, int rewrite)
{
	int n, m, r;

	put("names", data, size);
	n = ik_notify_names(GROUP, names, MAXN);
	if (n < 0) {
		if (n != -EBADMSG)
			abort();
		if (rewrite && ik_notify_name_set(GROUP, "fz", 7) != -EBADMSG)
			abort(); /* never replace a file it cannot read */
		return;
	}
	if (n > 1024)
		abort();
	check_names(n);
	if (!rewrite)
		return;
	r = ik_notify_name_set(GROUP, "fz", 7);
	if (r != 0) {
		/* a full table has no room for one more line */
		if (r == -ENOSPC && n == 1024)
			return;
		abort();
	}
	m = ik_notify_names(GROUP, again, MAXN);
	if (m < n || m > n + 1 || ik_notify_name_lookup(GROUP, "fz") < 0)
		abort();
	for (int i = 0; i < n; i++) /* every other name kept, in order */
		if (strcmp(names[i].name, again[i].name) != 0 ||
		    (strcmp(names[i].name, "fz") != 0 &&
		     names[i].event != again[i].event))
			abort();
}

static void
reg_file(const uint8_t *data, size_t size)
{
	struct ik_notify_entry e[2];
	char name[32];
	int n;

	snprintf(name, sizeof(name), "%d", (int)getpid());
	put(name, data, size);
	n = ik_notify_list(GROUP, e, 2);
	if (n < 0 || n > 1)
		abort();
	if (n == 1 && e[0].pid != getpid())
		abort(); /* a file may only speak for the pid it is named by */
	snprintf(name, sizeof(name), "%s/%d", gdir, (int)getpid());
	unlink(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 70000)
		return 0;
	if (data[0] & 1)
		reg_file(data + 1, size - 1);
	else
		names_file(data + 1, size - 1, data[0] & 2);
	return 0;
}
