/* ikf: the fault-injection driver (see ikf.h and docs/FAULTS.md). */
#include "ikf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ikt.h"

enum { O_NOTFIRED, O_RETURNED, O_RETRIED, O_ABSORBED, O_NOUT };
static const char *const outname[O_NOUT] = { "not fired", "returned", "retried",
					     "absorbed" };

struct report {
	int outcome;
	long count;
	long rc; /* what the faulted call returned */
	struct ikf_hit hit;
};

/* ---- state of one run (in the forked child) ------------------------------ */

static const char *cur_sc;
static long cur_at;
static int cur_err;
static int problems;
static bool errored;
static bool fired_before;
static struct report rep;
static char tmpdir[PATH_MAX];
static pid_t peers[8];
static int npeers;

static const char *
errname(int e)
{
	switch (e) {
	case EINTR:
		return "EINTR";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case ENOSPC:
		return "ENOSPC";
	case EMFILE:
		return "EMFILE";
	case EPIPE:
		return "EPIPE";
	case IKF_SHORT:
		return "SHORT";
	}
	return "none";
}

static int
errparse(const char *s)
{
	static const int all[] = { EINTR,  EAGAIN, ENOMEM,   ENOSPC,
				   EMFILE, EPIPE,  IKF_SHORT };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, errname(all[i])) == 0)
			return all[i];
	return 0;
}

__attribute__((format(printf, 1, 2))) static void
problem(const char *fmt, ...)
{
	va_list ap;

	problems++;
	fprintf(stderr, "FINDING %s at=%ld errno=%s", cur_sc, cur_at,
		errname(cur_err));
	if (rep.outcome != O_NOTFIRED)
		fprintf(stderr, " (%s in %s+0x%lx)", ikf_fn_name(rep.hit.fn),
			rep.hit.obj, rep.hit.off);
	fprintf(stderr, ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
ikf__arm(void)
{
	fired_before = ikf_fired(NULL);
	ikf_arm();
}

long
ikf__done(long rc, long expect, const char *what, int line)
{
	struct ikf_hit h;
	bool retry;

	ikf_disarm();
	if (!ikf_fired(&h) || fired_before) {
		if (expect == 0 && rc < 0)
			problem("line %d: %s: %s without a fault", line, what,
				strerror((int)-rc));
		if (expect < 0 && rc != expect)
			problem("line %d: %s: %ld, not %s", line, what, rc,
				strerror((int)-expect));
		return rc;
	}
	rep.hit = h;
	rep.rc = rc;
	retry = h.err == EINTR || h.err == IKF_SHORT;
	if (expect < 0 && rc == expect) {
		rep.outcome = retry ? O_RETRIED : O_ABSORBED;
	} else if (rc >= 0) {
		if (expect < 0)
			problem("line %d: %s: %ld, not an error", line, what,
				rc);
		rep.outcome = retry ? O_RETRIED : O_ABSORBED;
	} else {
		rep.outcome = O_RETURNED;
		errored = true;
		if (retry)
			problem("line %d: %s: %s not retried (%s)", line, what,
				errname(h.err), strerror((int)-rc));
	}
	return rc;
}

void
ikf__assert(bool ok, const char *what, int line)
{
	if (!ok)
		problem("line %d: check failed: %s", line, what);
}

bool
ikf_errored(void)
{
	return errored;
}

void
ikf_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/ikf-%d-%s", (int)getpid(), tag);
}

void
ikf_path(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "%s/ikf-%d-%s", tmpdir, (int)getpid(), tag);
}

static long key_base(pid_t pid);

key_t
ikf_key(int i)
{
	return (key_t)(key_base(getpid()) | (i & 15));
}

pid_t
ikf_peer(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	if (pid > 0 && npeers < 8)
		peers[npeers++] = pid;
	return pid;
}

static void
peer_wait(pid_t pid, bool must)
{
	int st;

	if (pid <= 0)
		return;
	for (int i = 0; i < npeers; i++)
		if (peers[i] == pid)
			peers[i] = peers[--npeers];
	if (!must)
		kill(pid, SIGKILL);
	st = ikt_wait(pid, IKT_WAIT_MS);
	if (!must)
		return;
	if (st == -1)
		problem("peer %d hung", (int)pid);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		problem("peer %d: %s %d", (int)pid,
			WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

void
ikf_peer_end(pid_t pid)
{
	peer_wait(pid, !errored);
}

void
ikf_peer_reaped(pid_t pid)
{
	for (int i = 0; i < npeers; i++)
		if (peers[i] == pid)
			peers[i] = peers[--npeers];
}

void
ikf_peer_join(pid_t pid)
{
	peer_wait(pid, true);
}

/* ---- leak checks ------------------------------------------------------------
 */

#define FDMAX 1024

static void
fd_set_of(unsigned char *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(set, 0, FDMAX);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd >= 0 && fd < FDMAX &&
		    fd != dirfd(d))
			set[fd] = 1;
	}
	closedir(d);
}

/* Entries of dir whose name holds tag: reported (if report) and removed. */
static bool report = true;

static void
scan_dir(const char *dir, const char *tag, const char *kind)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strstr(e->d_name, tag))
			continue;
		if (report)
			problem("%s left behind: %s/%s", kind, dir, e->d_name);
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) != 0)
			ikt_sh("rm -rf '%s'", p);
	}
	closedir(d);
}

static long
key_base(pid_t pid)
{
	return 0x4b000000L | (((long)pid & 0xfffff) << 4);
}

static void
scan_sysv(const char *file, int kind, pid_t pid)
{
	FILE *f = fopen(file, "r");
	char line[512];
	long key, id;
	long lo = key_base(pid), hi = lo + 15;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%ld %ld", &key, &id) == 2 && key >= lo &&
		    key <= hi) {
			if (report)
				problem("System V object left behind: %s key "
					"0x%lx",
					file, key);
			if (kind == 0)
				msgctl((int)id, IPC_RMID, NULL);
			else if (kind == 1)
				semctl((int)id, 0, IPC_RMID);
			else
				shmctl((int)id, IPC_RMID, NULL);
		}
	fclose(f);
}

/* Names and keys of run pid: reported as findings when report is set. */
static void
remove_objects(pid_t pid)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "ikf-%d-", (int)pid);
	scan_dir("/dev/shm", tag, "shared memory");
	scan_dir("/dev/mqueue", tag, "message queue");
	scan_dir(tmpdir, tag, "file");
	scan_sysv("/proc/sysvipc/msg", 0, pid);
	scan_sysv("/proc/sysvipc/sem", 1, pid);
	scan_sysv("/proc/sysvipc/shm", 2, pid);
}

static void
check_leaks(const unsigned char *fds0)
{
	unsigned char fds1[FDMAX];
	char link[64], target[PATH_MAX];
	int st;
	pid_t p;

	if (ikf_live() != 0)
		problem("%ld allocations made in library calls not freed",
			ikf_live());
	fd_set_of(fds1);
	for (int fd = 0; fd < FDMAX; fd++) {
		ssize_t n;

		if (fds1[fd] == fds0[fd])
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		problem("descriptor %d %s (%s)", fd,
			fds1[fd] ? "leaked" : "closed by mistake", target);
	}
	for (int i = 0; i < npeers; i++) {
		problem("peer %d not waited for", (int)peers[i]);
		kill(peers[i], SIGKILL);
	}
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		problem("child %d left behind", (int)p);
	remove_objects(getpid());
}

/* ---- the driver ------------------------------------------------------------
 */

#define TRACE_CAP 65536
static unsigned short trace[TRACE_CAP];

/* In a fresh child: one run, report (and trace) to wfd, exit 0 if clean. */
static void
child_run(const struct ikf_scenario *sc, long at, int err, int wfd)
{
	unsigned char fds0[FDMAX];
	size_t n;

	cur_sc = sc->name;
	cur_at = at;
	cur_err = err;
	fd_set_of(fds0);
	fds0[wfd] = 1;
	ikf_set(at, err);
	sc->run();
	ikf_disarm();
	rep.count = ikf_count();
	if (at > 0 && ikf_fired(&rep.hit) && rep.outcome == O_NOTFIRED)
		problem("fault fired outside IKF()");
	check_leaks(fds0);
	(void)!write(wfd, &rep, sizeof(rep));
	if (at == 0) {
		n = ikf_trace(trace, TRACE_CAP);
		(void)!write(wfd, &n, sizeof(n));
		(void)!write(wfd, trace, n * sizeof(trace[0]));
	}
	_exit(problems ? 1 : 0);
}

static size_t
read_all(int fd, void *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got < cap && poll(&p, 1, timeout_ms) == 1) {
		ssize_t r = read(fd, (char *)buf + got, cap - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

struct tally {
	long runs, out[O_NOUT], fail;
	long nsites;
	struct {
		int fn;
		unsigned long off;
	} sites[4096];
};

static void
add_site(struct tally *t, const struct ikf_hit *h)
{
	for (long i = 0; i < t->nsites; i++)
		if (t->sites[i].fn == h->fn && t->sites[i].off == h->off)
			return;
	if (t->nsites < 4096) {
		t->sites[t->nsites].fn = h->fn;
		t->sites[t->nsites].off = h->off;
		t->nsites++;
	}
}

static int timeout_ms = 60000;
static bool verbose;

/* One forked run; 0 if clean. The report and trace come back through rep. */
static int
one(const struct ikf_scenario *sc, long at, int err, struct report *r,
    size_t *ntrace)
{
	int p[2], st;
	pid_t pid;
	size_t got;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child_run(sc, at, err, p[1]);
	}
	close(p[1]);
	memset(r, 0, sizeof(*r));
	got = read_all(p[0], r, sizeof(*r), timeout_ms);
	if (ntrace) {
		*ntrace = 0;
		if (read_all(p[0], ntrace, sizeof(*ntrace), timeout_ms) !=
		    sizeof(*ntrace))
			*ntrace = 0;
		if (*ntrace > TRACE_CAP)
			*ntrace = TRACE_CAP;
		*ntrace = read_all(p[0], trace, *ntrace * sizeof(trace[0]),
				   timeout_ms) /
			  sizeof(trace[0]);
	}
	close(p[0]);
	st = ikt_wait(pid, got == sizeof(*r) ? timeout_ms : 1000);
	if (st == -1 || got != sizeof(*r) || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr,
			"FAIL %s at=%ld errno=%s: %s (reproduce: %s %s %ld "
			"%s)\n",
			sc->name, at, errname(err),
			st == -1	    ? "hung (killed)"
			: WIFSIGNALED(st)   ? strsignal(WTERMSIG(st))
			: got != sizeof(*r) ? "no report"
					    : "findings above",
			program_invocation_short_name, sc->name, at,
			errname(err));
		/* a killed run could not clean up: its names carry its pid */
		report = false;
		remove_objects(pid);
		report = true;
		return -1;
	}
	return 0;
}

static int
run_scenario(const struct ikf_scenario *sc, const int *errs, int nerr,
	     long only_at)
{
	static struct tally t;
	struct report r;
	size_t ntrace;
	long n;

	memset(&t, 0, sizeof(t));
	if (one(sc, 0, 0, &r, &ntrace) != 0) {
		fprintf(stderr, "%s: FAILS WITHOUT A FAULT\n", sc->name);
		return 1;
	}
	n = r.count;
	if (verbose)
		for (size_t i = 0; i < ntrace; i++)
			printf("call %s %zu %s\n", sc->name, i + 1,
			       ikf_fn_name(trace[i]));
	for (long k = only_at ? only_at : 1; k <= (only_at ? only_at : n); k++)
		for (int e = 0; e < nerr; e++) {
			if ((size_t)k <= ntrace &&
			    !ikf_applies(trace[k - 1], errs[e]))
				continue;
			t.runs++;
			if (one(sc, k, errs[e], &r, NULL) != 0) {
				t.fail++;
				continue;
			}
			t.out[r.outcome]++;
			if (r.outcome != O_NOTFIRED)
				add_site(&t, &r.hit);
			if (verbose && r.outcome != O_NOTFIRED)
				printf("site %s %s %s+0x%lx %s rc=%ld\n",
				       sc->name, ikf_fn_name(r.hit.fn),
				       r.hit.obj, r.hit.off, outname[r.outcome],
				       r.rc);
		}
	printf("%-16s %4ld calls %5ld runs: %ld returned, %ld retried, "
	       "%ld absorbed, %ld not fired; %ld sites; %ld FAILED\n",
	       sc->name, n, t.runs, t.out[O_RETURNED], t.out[O_RETRIED],
	       t.out[O_ABSORBED], t.out[O_NOTFIRED], t.nsites, t.fail);
	fflush(stdout);
	return t.fail ? 1 : 0;
}

/*
 * prog [scenario [at [errno]]]: no argument runs every scenario at every
 * call with every errno of IKF_ERRNOS (default: all); the rest narrow it
 * down, which is how a failure is reproduced.
 */
int
ikf_main(int argc, char **argv, const struct ikf_scenario *sc, size_t n)
{
	int errs[8], nerr = 0, fails = 0;
	char list[128], *save = NULL;
	const char *base = getenv("TMPDIR");
	long at = argc > 2 ? atol(argv[2]) : 0;

	if (!ikf_arm) {
		fprintf(stderr, "%s: run with LD_PRELOAD=libikfault.so\n",
			argv[0]);
		return 2;
	}
	snprintf(list, sizeof(list), "%s",
		 argc > 3		? argv[3]
		 : getenv("IKF_ERRNOS") ? getenv("IKF_ERRNOS")
					: "EINTR,EAGAIN,ENOMEM,ENOSPC,EMFILE,"
					  "EPIPE,SHORT");
	for (char *s = strtok_r(list, ",", &save); s && nerr < 8;
	     s = strtok_r(NULL, ",", &save))
		if (errparse(s))
			errs[nerr++] = errparse(s);
	if (getenv("IKF_TIMEOUT_MS"))
		timeout_ms = atoi(getenv("IKF_TIMEOUT_MS"));
	verbose = getenv("IKF_VERBOSE") != NULL;
	if (!base || !*base)
		base = "/tmp";
	mkdir(base, 0700);
	snprintf(tmpdir, sizeof(tmpdir), "%s/ikf-d%d-XXXXXX", base,
		 (int)getpid());
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		if (argc < 2 || strcmp(argv[1], sc[i].name) == 0)
			fails += run_scenario(&sc[i], errs, nerr, at);
	rmdir(tmpdir);
	return fails ? 1 : 0;
}
