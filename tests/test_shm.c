/*
 * Shared memory between real processes: POSIX, System V and memfd segments
 * written by one process and checked (checksum and pattern) by another;
 * attach counts and remove-on-last-detach seen from /proc; seals enforced
 * on a descriptor received over a socket; -ENOSPC (not SIGBUS) on a tiny
 * tmpfs; named limit errors in a private IPC namespace; bad input.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/shm.h>

#include "ikt.h"

#define NH 4

/* What each test made, so that teardown removes it even after a failure. */
struct fx {
	struct ik_shm h[NH];
	char name[NH][96];
	int ids[NH];
	pid_t kid;
	int sock[2];
	struct ikt_sync a, b;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	for (int i = 0; i < NH; i++) {
		f->h[i] = (struct ik_shm)IK_SHM_INIT;
		f->ids[i] = -1;
	}
	f->sock[0] = f->sock[1] = -1;
	ikt_sync_init(&f->a);
	ikt_sync_init(&f->b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	struct shmid_ds ds;

	if (f->kid > 0) {
		kill(f->kid, SIGKILL);
		waitpid(f->kid, NULL, 0);
	}
	for (int i = 0; i < NH; i++) {
		ik_shm_close(&f->h[i]);
		if (f->name[i][0] != '\0')
			ik_shm_unlink(f->name[i]);
		/* ids are recycled: remove only what this process made */
		if (f->ids[i] >= 0 && shmctl(f->ids[i], IPC_STAT, &ds) == 0 &&
		    ds.shm_cpid == getpid())
			shmctl(f->ids[i], IPC_RMID, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (f->sock[i] >= 0)
			close(f->sock[i]);
	ikt_sync_close(&f->a);
	ikt_sync_close(&f->b);
	free(f);
	return 0;
}

/* "/ikt-<pid>-<tag>-<n>", remembered in slot i for teardown. */
static const char *
shm_name(struct fx *f, int i, const char *tag)
{
	char n[80];

	ikt_name(n, sizeof(n), tag);
	snprintf(f->name[i], sizeof(f->name[i]), "/%s", n);
	return f->name[i];
}

static pid_t
spawn(struct fx *f)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid > 0)
		f->kid = pid;
	return pid;
}

/* Reap the child (bounded); forget it first so teardown cannot kill a
 * recycled pid. */
static void
join(struct fx *f)
{
	pid_t pid = f->kid;

	f->kid = 0;
	ikt_assert_child_ok(pid);
}

/* join, for a child that exits IKT_SKIP_EXIT where it cannot run */
static void
join_or_skip(struct fx *f)
{
	pid_t pid = f->kid;

	f->kid = 0;
	ikt_assert_child_ok_or_skip(pid);
}

/* ---- payload: a header with length and FNV-1a sum, then a pattern ---- */

struct payload {
	uint64_t magic;
	uint64_t len;
	uint64_t sum;
	uint32_t seed;
};
#define MAGIC 0x69706b7473686d31ull /* "ipktshm1" */

static uint64_t
fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void
put_payload(void *base, size_t size, uint32_t seed)
{
	struct payload h = { MAGIC, size - sizeof(h), 0, seed };
	unsigned char *p = (unsigned char *)base + sizeof(h);

	ikt_fill(p, h.len, seed);
	h.sum = fnv1a(p, h.len);
	memcpy(base, &h, sizeof(h));
}

/* 0 when base holds the payload put there with seed; the length is
 * validated before it is used, as for any peer's data. */
static int
get_payload(const void *base, size_t size, uint32_t seed)
{
	const unsigned char *p =
		(const unsigned char *)base + sizeof(struct payload);
	struct payload h;

	memcpy(&h, base, sizeof(h));
	if (h.magic != MAGIC || h.seed != seed || size < sizeof(h) ||
	    h.len != size - sizeof(h))
		return -1;
	if (fnv1a(p, h.len) != h.sum)
		return -1;
	return ikt_check(p, h.len, seed);
}

/* ---- small probes ---- */

static bool
devshm_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	return access(path, F_OK) == 0;
}

/* Is the System V segment id listed in /proc/sysvipc/shm? */
static bool
sysv_listed(int id)
{
	FILE *fp = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	long key, shmid;
	bool found = false;

	if (fp == NULL)
		return false;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%ld %ld", &key, &shmid) == 2 && shmid == id)
			found = true;
	fclose(fp);
	return found;
}

/* VmLck of this process, in kB. */
static long
vm_locked_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmLck: %ld", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

/* Does a program exec'd from here see descriptor fd? (0 = it does not) */
static int
leaks_into_exec(int fd)
{
	int st = ikt_sh("test ! -e /proc/$$/fd/%d", fd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char c = 'F';
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int
recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char c;
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1 ||
	    (m.msg_flags & MSG_CTRUNC))
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* ---- POSIX ---- */

/* The creator's segment, written by a child that opens it by name. */
static void
test_posix_child_writes_parent_reads(void **state)
{
	enum { SZ = 256 * 1024 };
	struct fx *f = *state;
	const char *name = shm_name(f, 0, "posix");
	struct ik_shm *h = &f->h[0];
	struct ik_shm_info in;
	mode_t old;
	int r;

	/* umask 0: a mode of 0600 must come from the library, not the umask */
	old = umask(0);
	r = ik_shm_create(h, name, SZ, IK_SHM_UNLINK_ON_CLOSE);
	umask(old);
	assert_int_equal(r, 0);
	assert_non_null(h->base);
	assert_int_equal(h->size, SZ);
	assert_int_equal(h->kind, IK_SHM_POSIX);
	assert_true(h->created);
	assert_string_equal(h->name, name);
	assert_int_equal(ik_shm_stat(h, &in), 0);
	assert_int_equal(in.mode, 0600);
	assert_int_equal(in.uid, geteuid());
	assert_int_equal(in.size, SZ);
	assert_int_equal(leaks_into_exec(h->fd), 0);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;

		IKT_CHECK(ik_shm_open(&c, name, SZ, 0) == 0);
		IKT_CHECK(c.created == false);
		put_payload(c.base, c.size, 11);
		IKT_CHECK(ik_shm_close(&c) == 0);
		ikt_post(&f->a);
		_exit(0);
	}
	assert_int_equal(ikt_await(&f->a, IKT_WAIT_MS), 0);
	join(f);
	assert_int_equal(get_payload(h->base, h->size, 11), 0);
	/* the child's close did not remove a name it had only opened */
	assert_true(devshm_exists(name));
	assert_int_equal(ik_shm_close(h), 0);
	assert_false(devshm_exists(name));
	assert_int_equal(ik_shm_open(h, name, SZ, 0), -ENOENT);
}

/* The reverse: the parent writes, a child opens read-only and checks. */
static void
test_posix_parent_writes_child_reads(void **state)
{
	enum { SZ = 100000 }; /* not a page multiple on purpose */
	struct fx *f = *state;
	const char *name = shm_name(f, 0, "posix-rev");
	struct ik_shm *h = &f->h[0];

	assert_int_equal(ik_shm_create(h, name, SZ, IK_SHM_UNLINK_ON_CLOSE), 0);
	put_payload(h->base, h->size, 12);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;
		struct ik_shm_info in;

		/* the inherited copy of a creating handle: closing it here
		 * must not remove the name (only the creating pid does) */
		IKT_CHECK(ik_shm_close(h) == 0);
		IKT_CHECK(ik_shm_open(&c, name, 0, IK_SHM_RDONLY) == 0);
		IKT_CHECK(c.size == SZ && c.prot == PROT_READ);
		IKT_CHECK(get_payload(c.base, c.size, 12) == 0);
		IKT_CHECK(ik_shm_stat(&c, &in) == 0 && in.size == SZ);
		IKT_CHECK(ik_shm_map(&c, PROT_READ, 0) == -EBUSY);
		IKT_CHECK(ik_shm_unmap(&c) == 0 && c.base == NULL);
		IKT_CHECK(ik_shm_unmap(&c) == 0);
		/* a read-only descriptor cannot be mapped for writing */
		IKT_CHECK(ik_shm_map(&c, PROT_READ | PROT_WRITE, 0) == -EACCES);
		IKT_CHECK(ik_shm_map(&c, PROT_READ, IK_SHM_POPULATE) == 0);
		IKT_CHECK(get_payload(c.base, c.size, 12) == 0);
		IKT_CHECK(ik_shm_close(&c) == 0);
		_exit(0);
	}
	join(f);
	assert_true(devshm_exists(name));
	/* size must be what the caller expects, not merely something */
	assert_int_equal(ik_shm_open(&f->h[1], name, SZ + 1, 0), IK_EFORMAT);
	assert_int_equal(ik_shm_open(&f->h[1], name, 4096, 0), IK_EFORMAT);
}

/* O_EXCL: a second creator gets -EEXIST and the first one's data stays. */
static void
test_posix_exclusive_and_missing(void **state)
{
	enum { SZ = 64 * 1024 };
	struct fx *f = *state;
	const char *name = shm_name(f, 0, "excl");
	const char *missing = shm_name(f, 1, "missing");
	struct ik_shm *h = &f->h[0];

	assert_int_equal(ik_shm_create(h, name, SZ, IK_SHM_UNLINK_ON_CLOSE), 0);
	put_payload(h->base, h->size, 13);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;
		int fds = ikt_fd_count();

		IKT_CHECK(ik_shm_create(&c, name, SZ, 0) == -EEXIST);
		IKT_CHECK(ik_shm_create(&c, name, 4096,
					IK_SHM_UNLINK_ON_CLOSE) == -EEXIST);
		IKT_CHECK(c.kind == IK_SHM_NONE && c.fd == -1);
		IKT_CHECK(ik_shm_open(&c, missing, 0, 0) == -ENOENT);
		IKT_CHECK(ik_shm_unlink(missing) == -ENOENT);
		IKT_CHECK(ikt_fd_count() == fds);
		IKT_CHECK(ik_shm_open(&c, name, SZ, 0) == 0);
		IKT_CHECK(get_payload(c.base, c.size, 13) == 0);
		IKT_CHECK(ik_shm_close(&c) == 0);
		_exit(0);
	}
	join(f);
	/* the failed creates neither truncated nor removed the segment */
	assert_true(devshm_exists(name));
	assert_int_equal(get_payload(h->base, h->size, 13), 0);
	assert_false(devshm_exists(missing));
}

static void
test_posix_bad_names(void **state)
{
	static const char *const bad[] = { "",	   "/",	  "x",	  "noslash",
					   "/a/b", "//a", "/.",	  "/..",
					   "/a/",  "a/b", "/a/.." };
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0];
	char longest[IK_SHM_NAME_MAX + 2];
	int fds = ikt_fd_count();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ik_shm_create(h, bad[i], 4096, 0), -EINVAL);
		assert_int_equal(ik_shm_open(h, bad[i], 0, 0), -EINVAL);
		assert_int_equal(ik_shm_unlink(bad[i]), -EINVAL);
	}
	assert_int_equal(ik_shm_create(h, NULL, 4096, 0), -EINVAL);
	assert_int_equal(ik_shm_open(h, NULL, 0, 0), -EINVAL);
	assert_int_equal(ik_shm_unlink(NULL), -EINVAL);

	/* one byte too long, then exactly the longest allowed */
	snprintf(longest, sizeof(longest), "/ikt-%d-", (int)getpid());
	memset(longest + strlen(longest), 'n',
	       sizeof(longest) - 1 - strlen(longest));
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(strlen(longest), IK_SHM_NAME_MAX + 1);
	assert_int_equal(ik_shm_create(h, longest, 4096, 0), -ENAMETOOLONG);
	assert_int_equal(ik_shm_open(h, longest, 0, 0), -ENAMETOOLONG);
	longest[IK_SHM_NAME_MAX] = '\0';
	assert_int_equal(
		ik_shm_create(h, longest, 4096, IK_SHM_UNLINK_ON_CLOSE), 0);
	assert_int_equal(ik_shm_close(h), 0);
	assert_false(devshm_exists(longest));

	/* bad sizes, flags and handles */
	const char *name = shm_name(f, 0, "bad");
	assert_int_equal(ik_shm_create(h, name, 0, 0), -EINVAL);
	assert_int_equal(ik_shm_create(h, name, 4096, 0x4000), -EINVAL);
	assert_int_equal(ik_shm_create(h, name, 4096, IK_SHM_ANY_OWNER),
			 -EINVAL);
	assert_int_equal(ik_shm_create(NULL, name, 4096, 0), -EINVAL);
	assert_int_equal(ik_shm_create(h, name, SIZE_MAX, 0), -EFBIG);
	assert_false(devshm_exists(name));
	assert_int_equal(ik_shm_open(h, name, 0, IK_SHM_UNLINK_ON_CLOSE),
			 -EINVAL);
	assert_int_equal(ik_shm_map(h, PROT_READ, 0), -EINVAL);
	assert_int_equal(ik_shm_sync(h, 0), -EINVAL);
	assert_int_equal(ik_shm_remove(h), -EINVAL);
	assert_int_equal(ik_shm_close(h), 0); /* empty handle: no-op */
	assert_int_equal(ik_shm_close(NULL), -EINVAL);
	assert_int_equal(ikt_fd_count(), fds);
}

/*
 * O_NOFOLLOW: a symlink planted under the name is refused (-ELOOP), not
 * followed to whatever it points at. Descriptors do not leak into exec.
 */
static void
test_posix_nofollow_cloexec(void **state)
{
	struct fx *f = *state;
	const char *target = shm_name(f, 0, "target");
	const char *link = shm_name(f, 1, "link");
	struct ik_shm *h = &f->h[0];
	char tpath[128], lpath[128];
	int nfd;

	assert_int_equal(ik_shm_create(h, target, 8192, IK_SHM_UNLINK_ON_CLOSE),
			 0);
	put_payload(h->base, h->size, 14);
	snprintf(tpath, sizeof(tpath), "/dev/shm%s", target);
	snprintf(lpath, sizeof(lpath), "/dev/shm%s", link);
	assert_int_equal(symlink(tpath, lpath), 0);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;

		IKT_CHECK(ik_shm_open(&c, link, 0, 0) == -ELOOP);
		IKT_CHECK(ik_shm_create(&c, link, 8192, 0) == -EEXIST);
		IKT_CHECK(ik_shm_open(&c, target, 8192, 0) == 0);
		IKT_CHECK(get_payload(c.base, c.size, 14) == 0);
		IKT_CHECK(leaks_into_exec(c.fd) == 0);
		IKT_CHECK(ik_shm_close(&c) == 0);
		_exit(0);
	}
	join(f);
	/* the probe can see a descriptor that is not close-on-exec */
	nfd = dup(h->fd);
	assert_true(nfd >= 0);
	assert_int_equal(leaks_into_exec(nfd), 1);
	close(nfd);
	assert_int_equal(ik_shm_unlink(link), 0); /* removes the link only */
	assert_true(devshm_exists(target));
}

/*
 * A 64 KiB tmpfs mounted over /dev/shm in a private mount namespace (it
 * vanishes with the child). Creation that does not fit is -ENOSPC and
 * leaves no name; what does fit is fully usable by another process; and
 * the same size made with ftruncate alone really would have been a SIGBUS.
 */
static void
test_posix_enospc_not_sigbus(void **state)
{
	struct fx *f = *state;
	const char *big = shm_name(f, 0, "big");
	const char *small = shm_name(f, 1, "small");
	const char *sparse = shm_name(f, 2, "sparse");

	if (spawn(f) == 0) {
		struct ik_shm s = IK_SHM_INIT, t = IK_SHM_INIT;
		int fds, gst;
		pid_t g;

		if (unshare(CLONE_NEWNS) < 0)
			_exit(IKT_SKIP_EXIT);
		IKT_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ==
			  0);
		IKT_CHECK(mount("ikt-tiny", "/dev/shm", "tmpfs",
				MS_NOSUID | MS_NODEV,
				"size=64k,mode=1777") == 0);
		fds = ikt_fd_count();
		IKT_CHECK(ik_shm_create(&s, big, 1 << 20, 0) == -ENOSPC);
		IKT_CHECK(!devshm_exists(big));
		IKT_CHECK(ikt_fd_count() == fds);

		IKT_CHECK(ik_shm_create(&s, small, 16384, 0) == 0);
		g = fork();
		IKT_CHECK(g >= 0);
		if (g == 0) {
			IKT_CHECK(ik_shm_open(&t, small, 16384, 0) == 0);
			put_payload(t.base, t.size, 15);
			_exit(0);
		}
		IKT_CHECK(ikt_wait(g, IKT_WAIT_MS) == 0);
		IKT_CHECK(get_payload(s.base, s.size, 15) == 0);
		/* 48 KiB left: 64 KiB more does not fit */
		IKT_CHECK(ik_shm_create(&t, big, 65536, 0) == -ENOSPC);
		IKT_CHECK(!devshm_exists(big));

		/* the hazard the reservation avoids, in a grandchild */
		g = fork();
		IKT_CHECK(g >= 0);
		if (g == 0) {
			struct sigaction dfl = { .sa_handler = SIG_DFL };
			char *p;
			int fd = shm_open(sparse, O_RDWR | O_CREAT | O_EXCL,
					  0600);

			IKT_CHECK(fd >= 0);
			IKT_CHECK(ftruncate(fd, 1 << 20) == 0); /* "fits" */
			p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
			IKT_CHECK(p != MAP_FAILED);
			sigaction(SIGBUS, &dfl, NULL);
			memset(p, 1, 1 << 20);
			_exit(0); /* not reached: SIGBUS */
		}
		gst = ikt_wait(g, IKT_WAIT_MS);
		IKT_CHECK(WIFSIGNALED(gst) && WTERMSIG(gst) == SIGBUS);
		IKT_CHECK(ik_shm_close(&s) == 0);
		_exit(0);
	}
	/* skipped without CAP_SYS_ADMIN for a mount namespace */
	join_or_skip(f);
	/* all of it lived in the child's namespace */
	assert_false(devshm_exists(big));
	assert_false(devshm_exists(small));
	assert_false(devshm_exists(sparse));
}

/* ---- System V ---- */

/* Attach counts as the kernel sees them, from both processes. */
static void
test_sysv_attach_count(void **state)
{
	enum { SZ = 64 * 1024 };
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0];
	struct ik_shm_info in;
	pid_t kid;

	assert_int_equal(
		ik_shm_sysv_create(h, IPC_PRIVATE, SZ, IK_SHM_UNLINK_ON_CLOSE),
		0);
	f->ids[0] = h->id;
	assert_int_equal(h->kind, IK_SHM_SYSV);
	assert_int_equal(h->fd, -1);
	assert_int_equal(ik_shm_stat(h, &in), 0);
	assert_int_equal(in.nattch, 1);
	assert_int_equal(in.mode, 0600);
	assert_int_equal(in.size, SZ);
	assert_int_equal(in.cpid, getpid());
	assert_false(in.removed);

	kid = spawn(f);
	if (kid == 0) {
		struct ik_shm c = IK_SHM_INIT;

		/* fork shares the parent's attachment: 2 */
		IKT_CHECK(ik_shm_stat(h, &in) == 0 && in.nattch == 2);
		IKT_CHECK(ik_shm_sysv_attach(&c, h->id, SZ, 0) == 0);
		IKT_CHECK(c.base != h->base);
		IKT_CHECK(ik_shm_stat(&c, &in) == 0 && in.nattch == 3);
		put_payload(c.base, c.size, 21);
		ikt_post(&f->a);
		IKT_CHECK(ikt_await(&f->b, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_shm_close(&c) == 0);
		IKT_CHECK(ik_shm_stat(h, &in) == 0 && in.nattch == 2);
		ikt_post(&f->a);
		IKT_CHECK(ikt_await(&f->b, IKT_WAIT_MS) == 0);
		_exit(0); /* exit detaches the inherited attachment */
	}
	assert_int_equal(ikt_await(&f->a, IKT_WAIT_MS), 0);
	assert_int_equal(ik_shm_stat(h, &in), 0);
	assert_int_equal(in.nattch, 3);
	assert_int_equal(get_payload(h->base, h->size, 21), 0);
	ikt_post(&f->b);
	assert_int_equal(ikt_await(&f->a, IKT_WAIT_MS), 0);
	assert_int_equal(ik_shm_stat(h, &in), 0);
	assert_int_equal(in.nattch, 2);
	assert_int_equal(in.lpid, kid);
	ikt_post(&f->b);
	join(f);
	assert_int_equal(ik_shm_stat(h, &in), 0);
	assert_int_equal(in.nattch, 1);
	assert_true(sysv_listed(h->id));
	assert_int_equal(ik_shm_close(h), 0);
	assert_false(sysv_listed(f->ids[0]));
}

/* A key made with ftok: exclusive creation, open by key with a size. */
static void
test_sysv_key(void **state)
{
	enum { SZ = 32 * 1024 };
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0];
	char path[256];
	key_t key;
	int fd;

	ikt_path(path, sizeof(path), "key");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	key = ftok(path, 0x5a);
	assert_int_not_equal(key, -1);
	assert_int_equal(ik_shm_sysv_create(h, key, SZ, IK_SHM_UNLINK_ON_CLOSE),
			 0);
	f->ids[0] = h->id;
	assert_int_equal(h->key, key);
	assert_int_equal(ik_shm_sysv_create(&f->h[1], key, SZ, 0), -EEXIST);
	assert_int_equal(ik_shm_sysv_open(&f->h[1], IPC_PRIVATE, 0, 0),
			 -EINVAL);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;

		IKT_CHECK(ik_shm_close(h) == 0); /* the inherited copy */
		IKT_CHECK(ik_shm_sysv_open(&c, key, 2 * SZ, 0) == IK_EFORMAT);
		IKT_CHECK(ik_shm_sysv_open(&c, key, 0,
					   IK_SHM_UNLINK_ON_CLOSE) == -EINVAL);
		IKT_CHECK(ik_shm_sysv_open(&c, key, 0, 0) == 0);
		IKT_CHECK(c.size == SZ && c.key == key && !c.created);
		put_payload(c.base, c.size, 22);
		IKT_CHECK(ik_shm_close(&c) == 0);
		_exit(0);
	}
	join(f);
	/* the child's close of its copies removed nothing */
	assert_true(sysv_listed(h->id));
	assert_int_equal(get_payload(h->base, h->size, 22), 0);
	assert_int_equal(ik_shm_close(h), 0);
	assert_int_equal(ik_shm_sysv_open(h, key, 0, 0), -ENOENT);
	unlink(path);
}

/*
 * IPC_RMID while attached: the key is free at once, the segment lives on
 * for the processes still attached, and is gone after the last detach.
 */
static void
test_sysv_remove_on_last_detach(void **state)
{
	enum { SZ = 16 * 1024 };
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0];
	struct ik_shm_info in;
	int id;

	assert_int_equal(ik_shm_sysv_create(h, IPC_PRIVATE, SZ, 0), 0);
	id = f->ids[0] = h->id;
	put_payload(h->base, h->size, 23);

	if (spawn(f) == 0) {
		IKT_CHECK(ikt_await(&f->b, IKT_WAIT_MS) == 0);
		IKT_CHECK(ik_shm_stat(h, &in) == 0 && in.removed);
		IKT_CHECK(get_payload(h->base, h->size, 23) == 0);
		put_payload(h->base, h->size, 24);
		ikt_post(&f->a);
		IKT_CHECK(ikt_await(&f->b, IKT_WAIT_MS) == 0);
		/* the parent detached: this is the last attachment */
		IKT_CHECK(ik_shm_stat(h, &in) == 0 && in.nattch == 1);
		IKT_CHECK(ik_shm_unmap(h) == 0);
		_exit(0);
	}
	assert_int_equal(ik_shm_remove(h), 0);
	assert_int_equal(ik_shm_stat(h, &in), 0);
	assert_true(in.removed);
	assert_int_equal(in.nattch, 2);
	assert_true(sysv_listed(id));
	ikt_post(&f->b);
	assert_int_equal(ikt_await(&f->a, IKT_WAIT_MS), 0);
	assert_int_equal(get_payload(h->base, h->size, 24), 0);
	assert_int_equal(ik_shm_unmap(h), 0);
	assert_true(sysv_listed(id)); /* the child is still attached */
	ikt_post(&f->b);
	join(f);
	assert_false(sysv_listed(id));
	assert_true(ik_shm_stat(h, &in) == -EINVAL ||
		    ik_shm_stat(h, &in) == -EIDRM);
	assert_int_equal(ik_shm_sysv_attach(&f->h[1], id, 0, 0), -EINVAL);
	assert_int_equal(ik_shm_close(h), 0);
	f->ids[0] = -1;
}

/*
 * Limits give named errors. SIZE_MAX exceeds any shmmax; the others are
 * provoked in a private IPC namespace whose limits the child lowers, so
 * nothing of the machine's is touched and everything dies with it.
 */
static void
test_sysv_limits(void **state)
{
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0];

	assert_int_equal(ik_shm_sysv_create(h, IPC_PRIVATE, SIZE_MAX, 0),
			 IK_ESHMMAX);
	assert_non_null(strstr(ik_strerror(IK_ESHMMAX), "shmmax"));
	assert_int_equal(ik_shm_sysv_create(h, IPC_PRIVATE, 0, 0), -EINVAL);
	assert_int_equal(ik_shm_sysv_create(NULL, IPC_PRIVATE, 4096, 0),
			 -EINVAL);
	assert_int_equal(ik_shm_sysv_attach(h, -1, 0, 0), -EINVAL);
	assert_int_equal(ik_shm_sysv_attach(h, 0x7ffffff0, 0, 0), -EINVAL);
	assert_int_equal(h->kind, IK_SHM_NONE);

	if (spawn(f) == 0) {
		struct ik_shm a = IK_SHM_INIT, b = IK_SHM_INIT;
		long page = sysconf(_SC_PAGESIZE);
		pid_t g;

		if (unshare(CLONE_NEWIPC) < 0)
			_exit(IKT_SKIP_EXIT);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/kernel/shmmax",
					   1 << 20) == 0);
		IKT_CHECK(ik_shm_sysv_create(&a, IPC_PRIVATE, 2 << 20, 0) ==
			  IK_ESHMMAX);
		IKT_CHECK(ik_shm_sysv_create(&a, IPC_PRIVATE, 1 << 20,
					     IK_SHM_UNLINK_ON_CLOSE) == 0);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/kernel/shmmni", 1) == 0);
		IKT_CHECK(ik_shm_sysv_create(&b, IPC_PRIVATE, 4096, 0) ==
			  IK_ESHMMNI);
		IKT_CHECK(ik_shm_close(&a) == 0);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/kernel/shmmni", 4096) ==
			  0);
		IKT_CHECK(ikt_write_sysctl("/proc/sys/kernel/shmall", 16) == 0);
		IKT_CHECK(ik_shm_sysv_create(&b, IPC_PRIVATE, (size_t)page * 32,
					     0) == IK_ESHMALL);
		IKT_CHECK(ik_shm_sysv_create(&b, IPC_PRIVATE, (size_t)page * 8,
					     IK_SHM_UNLINK_ON_CLOSE) == 0);
		/* 8 of 16 pages used: 9 more do not fit, 8 would */
		IKT_CHECK(ik_shm_sysv_create(&a, IPC_PRIVATE, (size_t)page * 9,
					     0) == IK_ESHMALL);
		g = fork();
		IKT_CHECK(g >= 0);
		if (g == 0) {
			put_payload(b.base, b.size, 25);
			_exit(0);
		}
		IKT_CHECK(ikt_wait(g, IKT_WAIT_MS) == 0);
		IKT_CHECK(get_payload(b.base, b.size, 25) == 0);
		IKT_CHECK(ik_shm_close(&b) == 0);
		_exit(0);
	}
	/* skipped without CAP_SYS_ADMIN for an IPC namespace */
	join_or_skip(f);
}

/* ---- memfd ---- */

/* A memfd inherited by a forked child: both directions, contents checked. */
static void
test_memfd_inherited(void **state)
{
	enum { SZ = 128 * 1024 };
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0];
	char link[64], target[128];
	ssize_t n;
	int p[2];

	assert_int_equal(ik_shm_memfd(h, "ikt-memfd", SZ, 0), 0);
	assert_int_equal(h->kind, IK_SHM_MEMFD);
	assert_int_equal(leaks_into_exec(h->fd), 0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", h->fd);
	n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_non_null(strstr(target, "memfd:ikt-memfd"));
	put_payload(h->base, SZ / 2, 31);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;
		int fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 0);

		IKT_CHECK(fd >= 0);
		IKT_CHECK(ik_shm_from_fd(&c, fd, SZ + 1, 0, 0) == IK_EFORMAT);
		IKT_CHECK(fcntl(fd, F_GETFD) >= 0); /* still the caller's */
		IKT_CHECK(ik_shm_from_fd(&c, fd, SZ, 0, 0) == 0);
		IKT_CHECK(c.fd == fd && c.base != NULL);
		IKT_CHECK(get_payload(c.base, SZ / 2, 31) == 0);
		put_payload((char *)c.base + SZ / 2, SZ / 2, 32);
		IKT_CHECK(ik_shm_close(&c) == 0);
		IKT_CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
		_exit(0);
	}
	join(f);
	assert_int_equal(get_payload((char *)h->base + SZ / 2, SZ / 2, 32), 0);

	/* what from_fd refuses */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(ik_shm_from_fd(&f->h[1], p[0], 0, 0, 0), -EINVAL);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ik_shm_from_fd(&f->h[1], -1, 0, 0, 0), -EBADF);
	assert_int_equal(ik_shm_from_fd(&f->h[1], h->fd, 0, 0x4000, 0),
			 -EINVAL);
	assert_int_equal(ik_shm_from_fd(&f->h[1], h->fd, 0, 0, 0x4000),
			 -EINVAL);
	assert_int_equal(ik_shm_memfd(&f->h[1], "", 0, 0), -EINVAL);
	{
		char longname[IK_SHM_MEMFD_NAME_MAX + 2];

		memset(longname, 'm', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(ik_shm_memfd(&f->h[1], longname, 4096, 0),
				 -ENAMETOOLONG);
		longname[IK_SHM_MEMFD_NAME_MAX] = '\0';
		assert_int_equal(ik_shm_memfd(&f->h[1], longname, 4096, 0), 0);
	}
}

/*
 * Seals travel with the descriptor: the receiver (over a Unix socket)
 * checks them before trusting the size, and the kernel enforces them.
 */
static void
test_memfd_seals_over_socket(void **state)
{
	enum { SZ = 64 * 1024 };
	struct fx *f = *state;
	struct ik_shm *h = &f->h[0], *w = &f->h[1], *u = &f->h[2];
	const int size_seals = F_SEAL_SHRINK | F_SEAL_GROW;

	assert_int_equal(
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->sock),
		0);
	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT, r = IK_SHM_INIT;
		struct ik_shm_info in;
		int fd1, fd2, fd3;

		close(f->sock[0]);
		fd1 = recv_fd(f->sock[1]);
		fd2 = recv_fd(f->sock[1]);
		fd3 = recv_fd(f->sock[1]);
		IKT_CHECK(fd1 >= 0 && fd2 >= 0 && fd3 >= 0);
		IKT_CHECK(fcntl(fd1, F_GETFD) == FD_CLOEXEC);

		/* 1: size sealed, contents writable */
		IKT_CHECK(ik_shm_from_fd(&c, fd1, 0, size_seals | F_SEAL_WRITE,
					 0) == IK_ECORRUPT);
		IKT_CHECK(ik_shm_from_fd(&c, fd1, SZ, size_seals, 0) == 0);
		IKT_CHECK(get_payload(c.base, SZ / 2, 41) == 0);
		IKT_CHECK(ik_shm_stat(&c, &in) == 0);
		IKT_CHECK((in.seals & (size_seals | F_SEAL_SEAL)) ==
			  (size_seals | F_SEAL_SEAL));
		IKT_CHECK(ftruncate(fd1, 4096) < 0 && errno == EPERM);
		IKT_CHECK(ftruncate(fd1, 2 * SZ) < 0 && errno == EPERM);
		IKT_CHECK(fallocate(fd1, 0, SZ, SZ) < 0 && errno == EPERM);
		IKT_CHECK(fcntl(fd1, F_ADD_SEALS, F_SEAL_WRITE) < 0 &&
			  errno == EPERM);
		IKT_CHECK(ik_shm_stat(&c, &in) == 0 && in.size == SZ);
		put_payload((char *)c.base + SZ / 2, SZ / 2, 42);

		/* 2: write-sealed: only a read-only mapping */
		IKT_CHECK(ik_shm_from_fd(&r, fd2, SZ, size_seals | F_SEAL_WRITE,
					 0) == -EPERM);
		IKT_CHECK(ik_shm_from_fd(&r, fd2, SZ, size_seals | F_SEAL_WRITE,
					 IK_SHM_RDONLY) == 0);
		IKT_CHECK(get_payload(r.base, SZ, 43) == 0);
		IKT_CHECK(pwrite(fd2, "x", 1, 0) < 0 && errno == EPERM);
		IKT_CHECK(ik_shm_close(&r) == 0);

		/* 3: no seals at all: not to be trusted with a size */
		IKT_CHECK(ik_shm_from_fd(&r, fd3, 0, F_SEAL_SHRINK, 0) ==
			  IK_ECORRUPT);
		close(fd3);
		IKT_CHECK(ik_shm_close(&c) == 0);
		ikt_post(&f->a);
		_exit(0);
	}
	close(f->sock[1]);
	f->sock[1] = -1;

	assert_int_equal(ik_shm_memfd(h, "ikt-sealed", SZ, 0), 0);
	put_payload(h->base, SZ / 2, 41);
	assert_int_equal(ik_shm_seal(h, size_seals | F_SEAL_SEAL), 0);
	assert_int_equal(ik_shm_seal(h, F_SEAL_WRITE), -EPERM);
	assert_int_equal(send_fd(f->sock[0], h->fd), 0);

	assert_int_equal(ik_shm_memfd(w, "ikt-wsealed", SZ, 0), 0);
	put_payload(w->base, SZ, 43);
	/* a shared writable mapping is in the way of F_SEAL_WRITE */
	assert_int_equal(ik_shm_seal(w, F_SEAL_WRITE), -EBUSY);
	assert_int_equal(ik_shm_unmap(w), 0);
	assert_int_equal(ik_shm_seal(w, size_seals | F_SEAL_WRITE), 0);
	assert_int_equal(ik_shm_map(w, PROT_READ | PROT_WRITE, 0), -EPERM);
	assert_int_equal(send_fd(f->sock[0], w->fd), 0);

	assert_int_equal(ik_shm_memfd(u, NULL, 4096, 0), 0);
	assert_string_equal(u->name, "ipckit");
	assert_int_equal(send_fd(f->sock[0], u->fd), 0);

	assert_int_equal(ikt_await(&f->a, IKT_WAIT_MS), 0);
	join(f);
	assert_int_equal(get_payload((char *)h->base + SZ / 2, SZ / 2, 42), 0);
	assert_int_equal(ik_shm_seal(h, 0x4000), -EINVAL);
	assert_int_equal(ik_shm_seal(h, 0), -EINVAL);
}

/* Seals only exist on memfds; POSIX segments refuse them. */
static void
test_seal_needs_memfd(void **state)
{
	struct fx *f = *state;
	const char *name = shm_name(f, 0, "noseal");
	struct ik_shm *h = &f->h[0];
	int fd;

	assert_int_equal(ik_shm_create(h, name, 4096, IK_SHM_UNLINK_ON_CLOSE),
			 0);
	assert_int_equal(ik_shm_seal(h, F_SEAL_SHRINK), -EINVAL);
	put_payload(h->base, h->size, 51);
	/* a /dev/shm file passed on: it cannot carry the seals required */
	fd = dup(h->fd);
	assert_true(fd >= 0);
	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT;

		IKT_CHECK(ik_shm_from_fd(&c, fd, 4096, F_SEAL_SHRINK, 0) ==
			  IK_ECORRUPT);
		IKT_CHECK(ik_shm_from_fd(&c, fd, 4096, 0, IK_SHM_RDONLY) == 0);
		IKT_CHECK(get_payload(c.base, c.size, 51) == 0);
		IKT_CHECK(ik_shm_close(&c) == 0);
		_exit(0);
	}
	close(fd);
	join(f);
}

/* ---- mapping options ---- */

/* ASan intercepts mlock(2) and makes it a no-op (it would pin shadow). */
#if defined(__SANITIZE_ADDRESS__)
static const bool asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
static const bool asan = true;
#else
static const bool asan = false;
#endif
#else
static const bool asan = false;
#endif

/* NOMAP then map with POPULATE|LOCK; msync; a second process reads. */
static void
test_map_options(void **state)
{
	enum { SZ = 512 * 1024 };
	struct fx *f = *state;
	const char *name = shm_name(f, 0, "opts");
	struct ik_shm *h = &f->h[0], *v = &f->h[1];
	long before;

	assert_int_equal(ik_shm_create(h, name, SZ,
				       IK_SHM_NOMAP | IK_SHM_UNLINK_ON_CLOSE),
			 0);
	assert_null(h->base);
	assert_int_equal(ik_shm_sync(h, 0), -EINVAL);
	assert_int_equal(ik_shm_map(h, PROT_READ | PROT_EXEC, 0), -EINVAL);
	assert_int_equal(ik_shm_map(h, PROT_WRITE, 0), -EINVAL);
	assert_int_equal(ik_shm_map(h, PROT_READ, IK_SHM_NOMAP), -EINVAL);
	before = vm_locked_kb();
	assert_true(before >= 0);
	assert_int_equal(ik_shm_map(h, PROT_READ | PROT_WRITE,
				    IK_SHM_POPULATE | IK_SHM_LOCK),
			 0);
	if (!asan)
		assert_true(vm_locked_kb() >= before + SZ / 1024);
	put_payload(h->base, h->size, 61);
	assert_int_equal(ik_shm_sync(h, 0), 0);
	assert_int_equal(ik_shm_sync(h, MS_ASYNC), 0);
	assert_int_equal(ik_shm_sync(h, 0x4000), -EINVAL);

	/* System V too: attach with populate and lock */
	assert_int_equal(ik_shm_sysv_create(v, IPC_PRIVATE, SZ,
					    IK_SHM_POPULATE | IK_SHM_LOCK |
						    IK_SHM_UNLINK_ON_CLOSE),
			 0);
	f->ids[1] = v->id;
	put_payload(v->base, v->size, 62);

	if (spawn(f) == 0) {
		struct ik_shm c = IK_SHM_INIT, d = IK_SHM_INIT;

		IKT_CHECK(ik_shm_open(&c, name, SZ,
				      IK_SHM_RDONLY | IK_SHM_POPULATE) == 0);
		IKT_CHECK(get_payload(c.base, c.size, 61) == 0);
		IKT_CHECK(ik_shm_sysv_attach(&d, v->id, SZ, IK_SHM_RDONLY) ==
			  0);
		IKT_CHECK(d.prot == PROT_READ);
		IKT_CHECK(get_payload(d.base, d.size, 62) == 0);
		IKT_CHECK(ik_shm_close(&c) == 0 && ik_shm_close(&d) == 0);
		_exit(0);
	}
	join(f);
	assert_int_equal(ik_shm_close(h), 0);
	assert_int_equal(ik_shm_close(v), 0);
	assert_false(sysv_listed(f->ids[1]));
}

/* Run last: no name of this process is left in /dev/shm. */
static void
test_nothing_left_behind(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "ls -A /dev/shm | grep -q '^ikt-%d-'",
		 (int)getpid());
	assert_int_equal(WEXITSTATUS(ikt_sh("%s", cmd)), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_posix_child_writes_parent_reads),
		T(test_posix_parent_writes_child_reads),
		T(test_posix_exclusive_and_missing),
		T(test_posix_bad_names),
		T(test_posix_nofollow_cloexec),
		T(test_posix_enospc_not_sigbus),
		T(test_sysv_attach_count),
		T(test_sysv_key),
		T(test_sysv_remove_on_last_detach),
		T(test_sysv_limits),
		T(test_memfd_inherited),
		T(test_memfd_seals_over_socket),
		T(test_seal_needs_memfd),
		T(test_map_options),
		cmocka_unit_test(test_nothing_left_behind),
	};

	return cmocka_run_group_tests(tests, NULL, ikt_tmpdir_teardown);
}
