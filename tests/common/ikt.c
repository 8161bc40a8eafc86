/* ikt: test helpers (see ikt.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "ikt.h"

static int64_t
ikt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char tmpdir[256];
static pid_t tmpdir_owner;

void
ikt_name(char *buf, size_t len, const char *tag)
{
	static unsigned n;

	snprintf(buf, len, "ikt-%d-%s-%u", (int)getpid(), tag, n++);
}

const char *
ikt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0] != '\0' && tmpdir_owner == getpid())
		return tmpdir;
	if (base == NULL || base[0] == '\0' || strlen(base) > 64)
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/ikt-%d-XXXXXX", base,
		 (int)getpid());
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	/* removed at exit of this process (children leave with _exit) */
	if (tmpdir_owner == 0)
		atexit(ikt_tmpdir_cleanup);
	tmpdir_owner = getpid();
	return tmpdir;
}

void
ikt_path(char *buf, size_t len, const char *tag)
{
	char name[64];

	ikt_name(name, sizeof(name), tag);
	snprintf(buf, len, "%s/%s", ikt_tmpdir(), name);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
ikt_tmpdir_cleanup(void)
{
	if (tmpdir[0] == '\0' || tmpdir_owner != getpid())
		return;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

int
ikt_wait(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int st = 0;

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r;

		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		close(pfd);
		if (r == 0) {
			fprintf(stderr, "ikt_wait: pid %d timed out, killing\n",
				(int)pid);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return st;
}

void
ikt_sync_init(struct ikt_sync *s)
{
	int fd[2];

	if (pipe2(fd, O_CLOEXEC) < 0) {
		perror("pipe2");
		abort();
	}
	s->rd = fd[0];
	s->wr = fd[1];
}

void
ikt_post(struct ikt_sync *s)
{
	char c = 'x';

	while (write(s->wr, &c, 1) < 0 && errno == EINTR)
		;
}

int
ikt_await(struct ikt_sync *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->rd, .events = POLLIN };
	char c;
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	do
		r = (int)read(s->rd, &c, 1);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

void
ikt_sync_close(struct ikt_sync *s)
{
	if (s->rd >= 0)
		close(s->rd);
	if (s->wr >= 0)
		close(s->wr);
	s->rd = s->wr = -1;
}

void
ikt_fill(void *buf, size_t len, uint32_t seed)
{
	unsigned char *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

int
ikt_check(const void *buf, size_t len, uint32_t seed)
{
	const unsigned char *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (p[i] != (unsigned char)x)
			return -1;
	}
	return 0;
}

int
ikt_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own descriptor */
}

int
ikt_sh(const char *fmt, ...)
{
	extern char **environ;
	char cmd[4096];
	char *argv[] = { "sh", "-c", cmd, NULL };
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
		return -1;
	return ikt_wait(pid, IKT_WAIT_MS);
}

int
ikt_wait_sleeping(pid_t pid)
{
	struct timespec ms = { 0, 1000000 };
	int64_t end = ikt_now_ns() + (int64_t)IKT_WAIT_MS * 1000000;
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (ikt_now_ns() < end) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 0;
		}
		nanosleep(&ms, NULL);
	}
	return -1;
}

long
ikt_syscall_of(pid_t tid)
{
	char path[64], buf[128] = { 0 };
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1; /* "running" */
	return strtol(buf, NULL, 10);
}

int
ikt_await_syscall(pid_t tid, long a, long b)
{
	const struct timespec ms = { 0, 1000000 };
	int64_t end = ikt_now_ns() + (int64_t)IKT_WAIT_MS * 1000000;

	while (ikt_now_ns() < end) {
		long nr = ikt_syscall_of(tid);

		if (nr == -2)
			return -1;
		if (nr >= 0 && (nr == a || nr == b))
			return 0;
		nanosleep(&ms, NULL);
	}
	return -1;
}

static pid_t tracked[64];
static int ntracked;

pid_t
ikt_fork(void)
{
	pid_t pid = fork();

	if (pid > 0) {
		if (ntracked == (int)(sizeof(tracked) / sizeof(tracked[0])))
			fail_msg("ikt_fork: more than %d children tracked",
				 ntracked);
		tracked[ntracked++] = pid;
	}
	return pid;
}

void
ikt_untrack(pid_t pid)
{
	for (int i = 0; i < ntracked; i++)
		if (tracked[i] == pid)
			tracked[i] = tracked[--ntracked];
}

void
ikt_reap_tracked(void)
{
	for (int i = 0; i < ntracked; i++) {
		kill(tracked[i], SIGKILL);
		while (waitpid(tracked[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
	ntracked = 0;
}

void
ikt_child_killed(pid_t pid)
{
	int st;

	assert_int_equal(kill(pid, SIGKILL), 0);
	ikt_untrack(pid);
	st = ikt_wait(pid, IKT_WAIT_MS);
	assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

int
ikt_write_sysctl(const char *path, long v)
{
	char s[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int len = snprintf(s, sizeof(s), "%ld\n", v);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, (size_t)len) == len;
	close(fd);
	return ok ? 0 : -1;
}

int
ikt_runtime_setup(char *dir, size_t len)
{
	ikt_path(dir, len, "rt");
	if (mkdir(dir, 0700) < 0)
		return -1;
	return setenv("IPCKIT_RUNTIME_DIR", dir, 1);
}

volatile sig_atomic_t ikt_alarms;

static void
ikt_on_alarm(int sig)
{
	(void)sig;
	ikt_alarms++;
}

int
ikt_storm_start(struct ikt_storm *s, int period_ms)
{
	struct sigaction sa = { .sa_handler = ikt_on_alarm }; /* no restart */
	struct timespec p = { period_ms / 1000,
			      (long)(period_ms % 1000) * 1000000 };
	struct itimerspec its = { p, p };

	sigemptyset(&sa.sa_mask);
	ikt_alarms = 0;
	if (sigaction(SIGALRM, &sa, &s->old) < 0)
		return -1;
	if (timer_create(CLOCK_MONOTONIC, NULL, &s->t) < 0)
		goto fail;
	if (timer_settime(s->t, 0, &its, NULL) < 0) {
		timer_delete(s->t);
		goto fail;
	}
	return 0;
fail:
	sigaction(SIGALRM, &s->old, NULL);
	return -1;
}

void
ikt_storm_stop(struct ikt_storm *s)
{
	timer_delete(s->t);
	sigaction(SIGALRM, &s->old, NULL);
}

int
ikt_tmpdir_teardown(void **state)
{
	(void)state;
	ikt_reap_tracked();
	ikt_tmpdir_cleanup();
	return 0;
}
