/*
 * ik_notify and `ipckit notify listen` between real processes: 10,000
 * notifications reach a listener whose signal queue holds only 16, every
 * line exact and in order (the sender's back-off is the flow control);
 * several listeners of a group all receive and groups stay apart; a dead
 * listener or a recycled pid is pruned, never signalled; EPERM and a full
 * queue are reported naming the listener; SIGTERM/SIGINT remove the
 * registration; bad input gives its own error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ipckit/error.h>
#include <ipckit/notify.h>
#include <ipckit/sig.h>
#include <ipckit/spawn.h>

#include "ikt.h"
#include "internal/time.h"

#define NOBODY 65534

static char rtdir[256];

static int
setup(void **state)
{
	(void)state;
	return ikt_runtime_setup(rtdir, sizeof(rtdir));
}

static int
teardown(void **state)
{
	(void)state;
	ikt_sh("rm -rf '%s'", rtdir);
	return 0;
}

static void
reg_path(char *buf, size_t len, const char *group, pid_t pid)
{
	snprintf(buf, len, "%s/notify/%s/%d", rtdir, group, (int)pid);
}

static int
registered(const char *group, pid_t pid)
{
	char p[512];

	reg_path(p, sizeof(p), group, pid);
	return access(p, F_OK) == 0;
}

/* starttime of /proc/PID/stat, as a registration records it */
static unsigned long long
start_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p)
		p++; /* the space before field 3 */
	for (int f = 3; p && f < 22; f++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

/* A file in the registration format pointing at pid with start time st. */
static void
fake_reg(const char *group, pid_t pid, unsigned long long st)
{
	char p[512];

	reg_path(p, sizeof(p), group, pid);
	assert_int_equal(
		ikt_sh("mkdir -p -m 700 '%s/notify/%s' && umask 077 && "
		       "echo '%d %llu 0' > '%s'",
		       rtdir, group, (int)pid, st, p),
		0);
}

/* ---- lines from a pipe, each wait bounded ---- */

struct lines {
	int fd;
	char buf[8192];
	size_t len;
};

static int
next_line(struct lines *l, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		ssize_t n;

		if (nl != NULL) {
			size_t k = (size_t)(nl - l->buf) + 1;

			if (k >= cap)
				return -1;
			memcpy(out, l->buf, k);
			out[k] = '\0';
			memmove(l->buf, l->buf + k, l->len - k);
			l->len -= k;
			return 0;
		}
		if (l->len == sizeof(l->buf) || poll(&p, 1, IKT_WAIT_MS) <= 0)
			return -1;
		n = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n <= 0)
			return -1;
		l->len += (size_t)n;
	}
}

/* `ipckit notify listen --group G`, its stdout a pipe, once registered */
static void
spawn_listener(struct ik_proc *p, const char *group)
{
	const char *argv[] = {
		getenv("IKT_IPCKIT"), "notify", "listen", "--group", group, NULL
	};
	struct ik_spawn_opts o;

	assert_non_null(argv[0]);
	memset(&o, 0, sizeof(o));
	o.io[1].mode = IK_STDIO_PIPE;
	assert_int_equal(ik_spawn(p, argv, &o), 0);
	/* in its loop's wait means registered: that comes first */
	assert_int_equal(
		ikt_await_syscall(p->pid, SYS_epoll_wait, SYS_epoll_pwait), 0);
	assert_true(registered(group, p->pid));
}

static void
stop_listener(struct ik_proc *p, int sig, const char *group)
{
	pid_t pid = p->pid;

	assert_int_equal(ik_spawn_kill(p, sig), 0);
	assert_int_equal(ik_spawn_wait(p, IKT_WAIT_MS), 0);
	assert_true(WIFEXITED(p->status));
	assert_int_equal(WEXITSTATUS(p->status), 0);
	assert_false(registered(group, pid));
	ik_spawn_close(p);
}

/* ---- tests ---- */

static void
test_pack_and_names(void **state)
{
	char longname[IK_NOTIFY_NAME_MAX + 2];
	int p, ev, val;

	(void)state;
	assert_int_equal(ik_notify_pack(255, IK_NOTIFY_VALUE_MAX, &p), 0);
	ik_notify_unpack(p, &ev, &val);
	assert_int_equal(ev, 255);
	assert_int_equal(val, 16777215);
	assert_int_equal(ik_notify_pack(7, 0, &p), 0);
	assert_int_equal(p, 7 << 24);
	p = 12345;
	assert_int_equal(ik_notify_pack(256, 0, &p), -ERANGE);
	assert_int_equal(ik_notify_pack(-1, 0, &p), -ERANGE);
	assert_int_equal(ik_notify_pack(0, -1, &p), -ERANGE);
	assert_int_equal(ik_notify_pack(0, 1 << 24, &p), -ERANGE);
	assert_int_equal(p, 12345); /* untouched on failure */
	assert_int_equal(ik_notify_name_ok("build-2.x_y"), 0);
	assert_int_equal(ik_notify_name_ok(""), -EINVAL);
	assert_int_equal(ik_notify_name_ok("."), -EINVAL);
	assert_int_equal(ik_notify_name_ok(".."), -EINVAL);
	assert_int_equal(ik_notify_name_ok("a/b"), -EINVAL);
	assert_int_equal(ik_notify_name_ok("a b"), -EINVAL);
	assert_int_equal(ik_notify_name_ok(NULL), -EINVAL);
	memset(longname, 'x', IK_NOTIFY_NAME_MAX + 1);
	longname[IK_NOTIFY_NAME_MAX + 1] = '\0';
	assert_int_equal(ik_notify_name_ok(longname), -EINVAL);
	longname[IK_NOTIFY_NAME_MAX] = '\0';
	assert_int_equal(ik_notify_name_ok(longname), 0);
}

/*
 * The main case: 10,000 notifications to the command's listener,
 * whose queue (RLIMIT_SIGPENDING 16) is far smaller, so the sender must
 * wait for it; every line exact, in order.
 */
static void
test_ten_thousand_lines(void **state)
{
	const int N = 10000;
	struct rlimit rl = { 16, 16 };
	struct lines l = { 0 };
	struct ik_proc p;
	char line[128], want[128];
	pid_t sender;

	(void)state;
	spawn_listener(&p, "bulk");
	assert_int_equal(prlimit(p.pid, RLIMIT_SIGPENDING, &rl, NULL), 0);
	sender = fork();
	assert_true(sender >= 0);
	if (sender == 0) {
		for (int i = 0; i < N; i++)
			IKT_CHECK(ik_notify_send("bulk", i % 256, i * 1601,
						 IKT_WAIT_MS, NULL, NULL) == 1);
		_exit(0);
	}
	l.fd = p.out;
	for (int i = 0; i < N; i++) {
		if (next_line(&l, line, sizeof(line)) < 0)
			fail_msg("line %d did not come", i);
		snprintf(want, sizeof(want), "%d %d %d\n", i % 256, i * 1601,
			 (int)sender);
		if (strcmp(line, want) != 0)
			fail_msg("line %d: got '%s', want '%s'", i, line, want);
	}
	ikt_assert_child_ok(sender);
	stop_listener(&p, SIGTERM, "bulk");
}

/* A library listener in a child: reads n, checks order, reports back. */
static pid_t
lib_listener(const char *group, int n, int event, struct ikt_sync *ready)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_notification m[32];
		ik_notify *l;
		int got = 0;

		IKT_CHECK(ik_notify_listen(&l, group) == 0);
		ikt_post(ready);
		while (got < n) {
			int k = ik_notify_read(l, m, 32, IKT_WAIT_MS);

			IKT_CHECK(k >= 1);
			for (int i = 0; i < k; i++, got++) {
				IKT_CHECK(m[i].event == event);
				IKT_CHECK(m[i].value == got);
				IKT_CHECK(m[i].sender == getppid());
				IKT_CHECK(m[i].uid == getuid());
			}
		}
		IKT_CHECK(got == n);
		IKT_CHECK(ik_notify_close(l) == 0);
		_exit(0);
	}
	return pid;
}

static void
test_group_fanout_isolated(void **state)
{
	struct ikt_sync ready;
	pid_t a[3], b;

	(void)state;
	ikt_sync_init(&ready);
	for (int i = 0; i < 3; i++)
		a[i] = lib_listener("alpha", 200, 5, &ready);
	/* b expects one notification, event 9: any of alpha's would fail it */
	b = lib_listener("beta", 1, 9, &ready);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	for (int v = 0; v < 200; v++)
		assert_int_equal(
			ik_notify_send("alpha", 5, v, IKT_WAIT_MS, NULL, NULL),
			3);
	for (int i = 0; i < 3; i++)
		ikt_assert_child_ok(a[i]);
	assert_int_equal(ik_notify_send("beta", 9, 0, IKT_WAIT_MS, NULL, NULL),
			 1);
	ikt_assert_child_ok(b);
	/* all gone, and each removed its own registration */
	assert_int_equal(ik_notify_list("alpha", NULL, 0), 0);
	assert_int_equal(ik_notify_list("beta", NULL, 0), 0);
	assert_int_equal(ik_notify_send("nobody-here", 1, 1, 0, NULL, NULL), 0);
	ikt_sync_close(&ready);
}

struct seen {
	pid_t pid[8];
	int err[8];
	int n;
};

static void
record(pid_t pid, int err, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->pid[s->n] = pid;
		s->err[s->n] = err;
	}
	s->n++;
}

static void
test_dead_and_recycled_pruned(void **state)
{
	struct ikt_sync ready, go;
	struct seen s = { 0 };
	pid_t dead, innocent;

	(void)state;
	ikt_sync_init(&ready);
	ikt_sync_init(&go);
	dead = lib_listener("g", 1, 0, &ready);
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	assert_int_equal(kill(dead, SIGKILL), 0);
	assert_int_not_equal(ikt_wait(dead, IKT_WAIT_MS), -1);
	assert_true(registered("g", dead));
	/*
	 * A live process whose pid a stale file names, with another start
	 * time: the signal's default action would kill it if it were sent.
	 */
	innocent = fork();
	assert_true(innocent >= 0);
	if (innocent == 0) {
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		_exit(0);
	}
	fake_reg("g", innocent, start_of(innocent) + 1);
	assert_int_equal(ik_notify_send("g", 1, 2, IKT_WAIT_MS, record, &s), 0);
	assert_int_equal(s.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(s.err[i], -ESRCH);
		assert_true(s.pid[i] == dead || s.pid[i] == innocent);
	}
	assert_int_not_equal(s.pid[0], s.pid[1]);
	assert_false(registered("g", dead));
	assert_false(registered("g", innocent));
	ikt_post(&go);
	ikt_assert_child_ok(innocent); /* exited normally: never signalled */
	ikt_sync_close(&ready);
	ikt_sync_close(&go);
}

/*
 * EPERM: the sender runs as nobody and owns the runtime directory; the
 * registration names a live root process with its true start time.
 */
static void
test_eperm_reported(void **state)
{
	char dir[] = "/tmp/ikt-notify-XXXXXX";
	struct ikt_sync go;
	pid_t victim, sender;
	int st, vst;

	(void)state;
	if (getuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
	ikt_sync_init(&go);
	victim = fork();
	assert_true(victim >= 0);
	if (victim == 0) {
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		_exit(0);
	}
	sender = fork();
	assert_true(sender >= 0);
	if (sender == 0) {
		struct seen s = { 0 };
		char path[256];
		FILE *f;
		int r;

		IKT_CHECK(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
		IKT_CHECK(setenv("IPCKIT_RUNTIME_DIR", dir, 1) == 0);
		/* the group directory, made the library's way */
		IKT_CHECK(ik_notify_name_set("p", "ping", 1) == 0);
		snprintf(path, sizeof(path), "%s/notify/p/%d", dir,
			 (int)victim);
		f = fopen(path, "wx");
		IKT_CHECK(f != NULL);
		fprintf(f, "%d %llu 0\n", (int)victim, start_of(victim));
		IKT_CHECK(fclose(f) == 0);
		r = ik_notify_send("p", 1, 0, IKT_WAIT_MS, record, &s);
		IKT_CHECK(r == -EPERM);
		IKT_CHECK(s.n == 1 && s.pid[0] == victim && s.err[0] == -EPERM);
		IKT_CHECK(access(path, F_OK) == 0); /* not pruned: it lives */
		_exit(0);
	}
	st = ikt_wait(sender, IKT_WAIT_MS);
	ikt_post(&go);
	vst = ikt_wait(victim, IKT_WAIT_MS);
	ikt_sh("rm -rf '%s'", dir);
	ikt_sync_close(&go);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* alive until told, and never signalled */
	assert_true(WIFEXITED(vst) && WEXITSTATUS(vst) == 0);
}

/*
 * Full queue: the listener allows 8 pending signals and reads none until
 * told. The sender's failure names it, a timed send waits its deadline
 * out, and what was accepted then arrives complete and in order.
 */
static void
test_full_queue_named(void **state)
{
	struct ikt_sync ready, go;
	struct seen s = { 0 };
	int sent = 0, r;
	int64_t t0;
	pid_t l;

	(void)state;
	ikt_sync_init(&ready);
	ikt_sync_init(&go);
	l = fork();
	assert_true(l >= 0);
	if (l == 0) {
		struct rlimit rl = { 8, 8 };
		struct ik_notification m[32];
		ik_notify *n;
		int got = 0, k;

		/*
		 * Queued signals count against the receiver's real user, all
		 * its processes: as root's, other tests' signals would come
		 * and go in our 8 slots. Real uid nobody, effective root (so
		 * the runtime directory is still ours).
		 */
		if (getuid() == 0)
			IKT_CHECK(setresuid(NOBODY, 0, 0) == 0);
		IKT_CHECK(setrlimit(RLIMIT_SIGPENDING, &rl) == 0);
		IKT_CHECK(ik_notify_listen(&n, "full") == 0);
		ikt_post(&ready);
		IKT_CHECK(ikt_await(&go, IKT_WAIT_MS) == 0);
		while ((k = ik_notify_read(n, m, 32, 0)) > 0)
			for (int i = 0; i < k; i++, got++)
				IKT_CHECK(m[i].value == got && m[i].event == 3);
		IKT_CHECK(k == -ETIMEDOUT);
		IKT_CHECK(got <= 8);
		ik_notify_close(n);
		_exit(got);
	}
	assert_int_equal(ikt_await(&ready, IKT_WAIT_MS), 0);
	while ((r = ik_notify_send("full", 3, sent, 0, record, &s)) == 1) {
		sent++;
		s.n = 0;
		assert_true(sent <= 8);
	}
	assert_int_equal(r, IK_ERLIMIT_SIGPENDING);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.pid[0], l);
	assert_int_equal(s.err[0], IK_ERLIMIT_SIGPENDING);
	/* with a deadline it waits for room, and gives up no sooner */
	t0 = ik__now_ns();
	assert_int_equal(ik_notify_send("full", 3, 99, 300, NULL, NULL),
			 IK_ERLIMIT_SIGPENDING);
	assert_true(ik__now_ns() - t0 >= 300 * 1000000LL);
	ikt_post(&go);
	r = ikt_wait(l, IKT_WAIT_MS);
	assert_true(WIFEXITED(r));
	assert_int_equal(WEXITSTATUS(r), sent); /* all accepted, in order */
	ikt_sync_close(&ready);
	ikt_sync_close(&go);
}

/* The registration, the signal mask, one listener per process, ls. */
static void
test_listen_lifecycle_and_ls(void **state)
{
	struct ik_notify_entry e[4];
	struct ik_notification m;
	struct ikt_sync ready;
	ik_notify *l, *l2;
	char path[512];
	struct stat st;
	sigset_t mask;
	pid_t child;

	(void)state;
	assert_int_equal(ik_notify_listen(&l, "life"), 0);
	assert_int_equal(ik_notify_listen(&l2, "other"), -EBUSY);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
	assert_true(sigismember(&mask, IK_NOTIFY_SIGNAL));
	reg_path(path, sizeof(path), "life", getpid());
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/notify/life", rtdir);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_string_equal(ik_notify_group(l), "life");

	/* a plain kill is not a notification; a child's sigqueue is */
	ikt_sync_init(&ready);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		IKT_CHECK(kill(getppid(), IK_NOTIFY_SIGNAL) == 0);
		IKT_CHECK(ik_notify_send("life", 200, 4242, IKT_WAIT_MS, NULL,
					 NULL) == 1);
		_exit(0);
	}
	ikt_assert_child_ok(child);
	/* pending, unread: ls shows it */
	assert_int_equal(ik_notify_list("life", e, 4), 1);
	assert_int_equal(e[0].pid, getpid());
	assert_int_equal(e[0].alive, 1);
	assert_int_equal(e[0].pending, 1);
	assert_true(e[0].sigq_queued >= 1 && e[0].sigq_limit >= 1);
	assert_int_equal(ik_notify_read(l, &m, 1, IKT_WAIT_MS), 1);
	assert_int_equal(m.event, 200);
	assert_int_equal(m.value, 4242);
	assert_int_equal(m.sender, child);
	assert_int_equal(ik_notify_read(l, &m, 1, 0), -ETIMEDOUT);
	assert_int_equal(ik_notify_list("life", e, 4), 1);
	assert_int_equal(e[0].pending, 0);

	assert_int_equal(ik_notify_close(l), 0);
	reg_path(path, sizeof(path), "life", getpid());
	assert_int_equal(access(path, F_OK), -1);
	/* the last listener out removes the empty group directory */
	snprintf(path, sizeof(path), "%s/notify/life", rtdir);
	assert_int_equal(access(path, F_OK), -1);
	/* again, now that the first is closed */
	assert_int_equal(ik_notify_listen(&l, "other"), 0);
	assert_int_equal(ik_notify_close(l), 0);
	assert_int_equal(ik_notify_close(NULL), 0);
	ikt_sync_close(&ready);
}

static void
test_event_names(void **state)
{
	struct ik_notify_name v[4];
	char name[IK_NOTIFY_NAME_MAX + 1], path[512];
	ik_notify *l;

	(void)state;
	assert_int_equal(ik_notify_name_lookup("n", "start"), -ENOENT);
	assert_int_equal(ik_notify_name_set("n", "start", 1), 0);
	assert_int_equal(ik_notify_name_set("n", "stop", 2), 0);
	assert_int_equal(ik_notify_name_lookup("n", "stop"), 2);
	assert_int_equal(ik_notify_listen(&l, "n"), 0);
	assert_int_equal(ik_notify_event_name(l, 2, name, sizeof(name)), 4);
	assert_string_equal(name, "stop");
	assert_int_equal(ik_notify_event_name(l, 3, name, sizeof(name)),
			 -ENOENT);
	assert_int_equal(ik_notify_event_name(l, 2, name, 4), -ENAMETOOLONG);
	/* renamed: the listener sees the change */
	assert_int_equal(ik_notify_name_set("n", "stop", 3), 0);
	assert_int_equal(ik_notify_event_name(l, 3, name, sizeof(name)), 4);
	assert_int_equal(ik_notify_event_name(l, 2, name, sizeof(name)),
			 -ENOENT);
	assert_int_equal(ik_notify_names("n", v, 4), 2);
	assert_string_equal(v[0].name, "start");
	assert_int_equal(v[1].event, 3);
	/* bad names, numbers */
	assert_int_equal(ik_notify_name_set("n", "1abc", 1), -EINVAL);
	assert_int_equal(ik_notify_name_set("n", "a/b", 1), -EINVAL);
	assert_int_equal(ik_notify_name_set("n", "ok", 256), -ERANGE);
	assert_int_equal(ik_notify_name_set("../n", "ok", 1), -EINVAL);
	/* a malformed names file is refused, not half-read */
	snprintf(path, sizeof(path), "%s/notify/n/names", rtdir);
	assert_int_equal(ikt_sh("echo 'start 1\nbad line here' > '%s'", path),
			 0);
	assert_int_equal(ik_notify_name_lookup("n", "start"), -EBADMSG);
	assert_int_equal(ik_notify_event_name(l, 1, name, sizeof(name)),
			 -EBADMSG);
	assert_int_equal(ikt_sh("printf 'x 300\n' > '%s'", path), 0);
	assert_int_equal(ik_notify_names("n", v, 4), -EBADMSG);
	assert_int_equal(ik_notify_close(l), 0);
}

static void
test_bad_input(void **state)
{
	struct ik_notification m;
	char path[512];
	ik_notify *l = (ik_notify *)&m;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(ik_notify_send("", 1, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ik_notify_send("..", 1, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ik_notify_send("a/b", 1, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ik_notify_send(NULL, 1, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ik_notify_send("g", 256, 1, 0, NULL, NULL), -ERANGE);
	assert_int_equal(ik_notify_send("g", 1, -1, 0, NULL, NULL), -ERANGE);
	assert_int_equal(ik_notify_send("g", 1, 1 << 24, 0, NULL, NULL),
			 -ERANGE);
	assert_int_equal(ik_notify_listen(NULL, "g"), -EINVAL);
	assert_int_equal(ik_notify_listen(&l, "."), -EINVAL);
	assert_ptr_equal(l, (ik_notify *)&m); /* untouched */
	assert_int_equal(ik_notify_read(NULL, &m, 1, 0), -EINVAL);
	assert_int_equal(ik_notify_list("a/b", NULL, 0), -EINVAL);

	/* junk in the group directory is skipped, never signalled */
	assert_int_equal(ik_notify_name_set("junk", "x", 1), 0);
	snprintf(path, sizeof(path), "%s/notify/junk", rtdir);
	assert_int_equal(
		ikt_sh("cd '%s' && echo garbage > 12345 && "
		       "echo '%d 1 0' > 99999 && ln -s /proc/self/stat "
		       "%d && echo '1 1' > .reg.5",
		       path, (int)getppid(), (int)getppid()),
		0);
	assert_int_equal(ik_notify_send("junk", 1, 1, 0, record, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(ik_notify_list("junk", NULL, 0), 0);

	/* an unsafe runtime directory is refused */
	assert_int_equal(chmod(rtdir, 0755), 0);
	assert_int_equal(ik_notify_send("g", 1, 1, 0, NULL, NULL), IK_EUNSAFE);
	assert_int_equal(ik_notify_listen(&l, "g"), IK_EUNSAFE);
	assert_int_equal(chmod(rtdir, 0700), 0);
}

/* The command's listener ends cleanly on SIGINT and SIGTERM alike. */
static void
test_cli_signals_unregister(void **state)
{
	struct ik_proc p;

	(void)state;
	spawn_listener(&p, "sigs");
	stop_listener(&p, SIGINT, "sigs");
	spawn_listener(&p, "sigs");
	stop_listener(&p, SIGTERM, "sigs");
	assert_int_equal(ik_notify_list("sigs", NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_and_names),
		cmocka_unit_test_setup_teardown(test_ten_thousand_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_group_fanout_isolated,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_and_recycled_pruned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_eperm_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_listen_lifecycle_and_ls,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cli_signals_unregister,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
