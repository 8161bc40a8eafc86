/*
 * Fault injection shim, LD_PRELOADed into the scenario programs: it wraps
 * the libc entry points libipckit uses (dlsym(RTLD_NEXT); malloc & co. via
 * __libc_*), counts the calls made while a scenario has armed it, and makes
 * the chosen one fail with an errno that call can really return (EINTR only
 * where the call blocks, EMFILE only where it makes a descriptor, ...) or,
 * for stream reads and writes, transfer half its bytes. Calls that undo
 * (close, munmap, unlink, IPC_RMID) are never failed: a failing cleanup
 * leaks by definition, which tells nothing about the code calling it.
 * Library calls made through syscall(2) are not seen (docs/FAULTS.md).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* What a function can fail with, beyond ENOMEM (which all can). */
#define K_B 0x01  /* blocks: EINTR */
#define K_F 0x02  /* makes a descriptor: EMFILE */
#define K_R 0x04  /* stream read: short */
#define K_W 0x08  /* write: EPIPE, short */
#define K_N 0x10  /* allocates kernel space: ENOSPC */
#define K_A 0x20  /* non-blocking descriptor I/O: EAGAIN */
#define K_M 0x40  /* memory allocator: ENOMEM only */
#define K_C 0x80  /* close: EINTR only, after closing (Linux semantics) */
#define K_X 0x100 /* documents no ENOMEM */

#define IKF_FUNCS(X)                     \
	X(malloc, K_M)                   \
	X(calloc, K_M)                   \
	X(realloc, K_M)                  \
	X(posix_memalign, K_M)           \
	X(open, K_F | K_N)               \
	X(openat, K_F | K_N)             \
	X(close, K_C)                    \
	X(read, K_R | K_A | K_B)         \
	X(pread, K_B)                    \
	X(readv, K_R | K_A | K_B)        \
	X(write, K_W | K_A | K_B | K_N)  \
	X(writev, K_W | K_A | K_B | K_N) \
	X(recv, K_R | K_A | K_B)         \
	X(recvmsg, K_R | K_A | K_B)      \
	X(recvfrom, K_R | K_A | K_B)     \
	X(send, K_W | K_A | K_B)         \
	X(sendmsg, K_W | K_A | K_B)      \
	X(sendto, K_W | K_A | K_B)       \
	X(socket, K_F)                   \
	X(socketpair, K_F)               \
	X(bind, K_N)                     \
	X(listen, K_X)                   \
	X(accept4, K_F | K_A | K_B)      \
	X(connect, K_A | K_B)            \
	X(getsockopt, 0)                 \
	X(setsockopt, 0)                 \
	X(getsockname, K_X)              \
	X(getpeername, K_X)              \
	X(shutdown, K_X)                 \
	X(pipe2, K_F)                    \
	X(mkfifo, K_N)                   \
	X(mkdir, K_N)                    \
	X(fstat, 0)                      \
	X(fstatat, 0)                    \
	X(stat, 0)                       \
	X(lstat, 0)                      \
	X(fchmod, 0)                     \
	X(fchown, 0)                     \
	X(linkat, K_N)                   \
	X(renameat, K_N)                 \
	X(flock, K_B | K_X)              \
	X(fcntl, 0)                      \
	X(ftruncate, K_N)                \
	X(posix_fallocate, K_N)          \
	X(fallocate, K_N)                \
	X(mmap, 0)                       \
	X(mlock, 0)                      \
	X(msync, 0)                      \
	X(shm_open, K_F | K_N)           \
	X(memfd_create, K_F)             \
	X(msgget, K_N)                   \
	X(msgsnd, K_B | K_A)             \
	X(msgrcv, K_B)                   \
	X(msgctl, 0)                     \
	X(semget, K_N)                   \
	X(semop, K_B)                    \
	X(semtimedop, K_B)               \
	X(semctl, 0)                     \
	X(shmget, K_N)                   \
	X(shmat, 0)                      \
	X(shmctl, 0)                     \
	X(mq_open, K_F | K_N)            \
	X(mq_timedsend, K_B)             \
	X(mq_timedreceive, K_B)          \
	X(mq_send, K_B)                  \
	X(mq_receive, K_B)               \
	X(mq_getattr, K_X)               \
	X(mq_setattr, K_X)               \
	X(mq_notify, 0)                  \
	X(epoll_create1, K_F)            \
	X(epoll_ctl, K_N)                \
	X(epoll_wait, K_B | K_X)         \
	X(poll, K_B)                     \
	X(eventfd, K_F)                  \
	X(signalfd, K_F)                 \
	X(timerfd_create, K_F)           \
	X(timerfd_settime, K_X)          \
	X(sigtimedwait, K_B | K_X)       \
	X(sigaction, K_X)                \
	X(kill, K_X)                     \
	X(sigqueue, K_A | K_X)           \
	X(waitpid, K_B | K_X)            \
	X(nanosleep, K_B | K_X)          \
	X(clock_nanosleep, K_B | K_X)    \
	X(sem_open, K_F | K_N)           \
	X(sem_timedwait, K_B | K_X)      \
	X(sem_clockwait, K_B | K_X)      \
	X(sem_wait, K_B | K_X)           \
	X(pthread_mutex_init, 0)         \
	X(opendir, K_F)                  \
	X(fdopendir, 0)                  \
	X(fopen, K_F)

enum {
#define X(n, k) F_##n,
	IKF_FUNCS(X)
#undef X
		F_COUNT
};

static const struct {
	const char *name;
	int kinds;
} fns[] = {
#define X(n, k) { #n, k },
	IKF_FUNCS(X)
#undef X
};

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define TRACE_MAX 65536

static atomic_int armed;
static atomic_long counted;
static pid_t armed_pid;
static long fail_at;
static int fail_err;
static int fired;
static struct ikf_hit hit;
static unsigned short trace[TRACE_MAX];
static _Thread_local int inside; /* the shim's own bookkeeping */

/* Allocations made while armed: an open-addressing set of pointers. */
#define LIVE_CAP 8192
static void *live[LIVE_CAP];
static long nlive;
static atomic_flag live_lock = ATOMIC_FLAG_INIT;

static void
lock_live(void)
{
	while (atomic_flag_test_and_set_explicit(&live_lock,
						 memory_order_acquire))
		;
}

static void
unlock_live(void)
{
	atomic_flag_clear_explicit(&live_lock, memory_order_release);
}

static size_t
slot_of(const void *p)
{
	return ((unsigned long)p >> 4) * 2654435761u % LIVE_CAP;
}

static void
live_add(void *p)
{
	lock_live();
	for (size_t i = slot_of(p), n = 0; n < LIVE_CAP;
	     i = (i + 1) % LIVE_CAP, n++)
		if (live[i] == NULL || live[i] == (void *)1) {
			live[i] = p;
			nlive++;
			break;
		}
	unlock_live();
}

/* Tombstones ((void *)1) keep probe chains intact after a removal. */
static void
live_del(void *p)
{
	if (nlive == 0 || p == NULL)
		return;
	lock_live();
	for (size_t i = slot_of(p), n = 0; n < LIVE_CAP && live[i] != NULL;
	     i = (i + 1) % LIVE_CAP, n++)
		if (live[i] == p) {
			live[i] = (void *)1;
			nlive--;
			break;
		}
	unlock_live();
}

static int
is_armed(void)
{
	return atomic_load_explicit(&armed, memory_order_relaxed) && !inside &&
	       getpid() == armed_pid;
}

int
ikf_applies(int fn, int err)
{
	int k;

	if (fn < 0 || fn >= F_COUNT)
		return 0;
	k = fns[fn].kinds;
	if (k & K_M)
		return err == ENOMEM;
	if (k & K_C)
		return err == EINTR;
	switch (err) {
	case ENOMEM:
		return !(k & K_X);
	case EINTR:
		return (k & K_B) != 0;
	case EMFILE:
		return (k & K_F) != 0;
	case ENOSPC:
		return (k & K_N) != 0;
	case EPIPE:
		return (k & K_W) != 0;
	case EAGAIN:
		return (k & K_A) != 0;
	case IKF_SHORT:
		return (k & (K_R | K_W)) != 0;
	}
	return 0;
}

/*
 * Count one call; return the errno to inject (the caller then calls
 * record(), or declines when the transfer cannot be shortened), else 0.
 */
static int
tick(int fn)
{
	long n;

	if (!is_armed())
		return 0;
	n = atomic_fetch_add(&counted, 1) + 1;
	if (n <= TRACE_MAX)
		trace[n - 1] = (unsigned short)fn;
	if (n != fail_at || !ikf_applies(fn, fail_err))
		return 0;
	return fail_err;
}

static void
record(int fn, int err, void *site)
{
	Dl_info di;

	inside++;
	fired = 1;
	hit.fn = fn;
	hit.err = err;
	hit.off = (unsigned long)site;
	hit.obj[0] = '\0';
	if (dladdr(site, &di) && di.dli_fbase) {
		hit.off = (unsigned long)site - (unsigned long)di.dli_fbase;
		snprintf(hit.obj, sizeof(hit.obj), "%s",
			 di.dli_fname ? di.dli_fname : "");
	}
	inside--;
}

void
ikf_arm(void)
{
	armed_pid = getpid();
	atomic_store(&armed, 1);
}

void
ikf_disarm(void)
{
	atomic_store(&armed, 0);
}

void
ikf_set(long at, int err)
{
	fail_at = at;
	fail_err = err;
	fired = 0;
	atomic_store(&counted, 0);
}

long
ikf_count(void)
{
	return atomic_load(&counted);
}

int
ikf_fired(struct ikf_hit *out)
{
	if (fired && out)
		*out = hit;
	return fired;
}

long
ikf_live(void)
{
	return nlive;
}

size_t
ikf_trace(unsigned short *fn, size_t cap)
{
	size_t n = (size_t)atomic_load(&counted);

	if (n > TRACE_MAX)
		n = TRACE_MAX;
	if (n > cap)
		n = cap;
	memcpy(fn, trace, n * sizeof(*fn));
	return n;
}

const char *
ikf_fn_name(int fn)
{
	return fn >= 0 && fn < F_COUNT ? fns[fn].name : "?";
}

/* The environment sets the fault for a single run (see docs/FAULTS.md). */
__attribute__((constructor)) static void
ikf_init(void)
{
	static const struct {
		const char *name;
		int err;
	} names[] = { { "EINTR", EINTR },   { "EAGAIN", EAGAIN },
		      { "ENOMEM", ENOMEM }, { "ENOSPC", ENOSPC },
		      { "EMFILE", EMFILE }, { "EPIPE", EPIPE } };
	const char *at = getenv("IKF_FAIL_AT"), *e = getenv("IKF_ERRNO");
	int err = EINTR;

	if (e)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(e, names[i].name) == 0)
				err = names[i].err;
	if (getenv("IKF_SHORT") && strcmp(getenv("IKF_SHORT"), "1") == 0)
		err = IKF_SHORT;
	ikf_set(at ? strtol(at, NULL, 10) : 0, err);
}

#define REAL(n)                         \
	static __typeof__(n) *real_##n; \
	if (!real_##n)                  \
	real_##n = (__typeof__(n) *)dlsym(RTLD_NEXT, #n)

#define SITE __builtin_return_address(0)

/* Fail with -1/errno when this call is the chosen one. */
#define FAIL_INT(n)                              \
	do {                                     \
		int e_ = tick(F_##n);            \
		if (e_ && e_ != IKF_SHORT) {     \
			record(F_##n, e_, SITE); \
			errno = e_;              \
			return -1;               \
		}                                \
	} while (0)

/* ---- memory -------------------------------------------------------------- */

void *
malloc(size_t n)
{
	void *p;

	if (tick(F_malloc)) {
		record(F_malloc, ENOMEM, SITE);
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_malloc(n);
	if (p && is_armed())
		live_add(p);
	return p;
}

void *
calloc(size_t a, size_t b)
{
	void *p;

	if (tick(F_calloc)) {
		record(F_calloc, ENOMEM, SITE);
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_calloc(a, b);
	if (p && is_armed())
		live_add(p);
	return p;
}

void *
realloc(void *old, size_t n)
{
	void *p;

	if (tick(F_realloc)) {
		record(F_realloc, ENOMEM, SITE);
		errno = ENOMEM;
		return NULL;
	}
	p = __libc_realloc(old, n);
	if (p || n == 0)
		live_del(old);
	if (p && is_armed())
		live_add(p);
	return p;
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (tick(F_posix_memalign)) {
		record(F_posix_memalign, ENOMEM, SITE);
		return ENOMEM;
	}
	p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	if (is_armed())
		live_add(p);
	*out = p;
	return 0;
}

void
free(void *p)
{
	live_del(p);
	__libc_free(p);
}

/* ---- descriptors and I/O ---------------------------------------------------
 */

static int
takes_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	REAL(open);
	if (takes_mode(flags)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	FAIL_INT(open);
	return real_open(path, flags, mode);
}

int
openat(int dir, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	REAL(openat);
	if (takes_mode(flags)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	FAIL_INT(openat);
	return real_openat(dir, path, flags, mode);
}

int
close(int fd)
{
	int rc;

	REAL(close);
	rc = real_close(fd);
	if (rc == 0 && tick(F_close)) {
		record(F_close, EINTR, SITE);
		errno = EINTR;
		return -1;
	}
	return rc;
}

/*
 * Whether a transfer of len bytes on fd may come out short: streams only
 * (pipes, FIFOs, stream sockets), and for writes to a pipe more than
 * PIPE_BUF bytes (smaller ones are atomic).
 */
static int
can_short(int fd, size_t len, int writing)
{
	struct stat st;
	int type = 0;
	socklen_t tl = sizeof(type);
	REAL(fstat);
	REAL(getsockopt);
	REAL(fcntl);

	if (len < 2 || real_fstat(fd, &st) != 0)
		return 0;
	if (S_ISFIFO(st.st_mode)) /* packet-mode pipes keep messages whole */
		return !(real_fcntl(fd, F_GETFL) & O_DIRECT) &&
		       (!writing || len > PIPE_BUF);
	if (S_ISSOCK(st.st_mode))
		return real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) ==
			       0 &&
		       type == SOCK_STREAM;
	return 0;
}

static size_t
iov_len(const struct iovec *iov, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Copy iov cut to the first want bytes into cut[] (at most 64 entries). */
static int
iov_cut(const struct iovec *iov, int n, size_t want, struct iovec *cut)
{
	int m = 0;

	for (int i = 0; i < n && i < 64 && want > 0; i++) {
		cut[m] = iov[i];
		if (cut[m].iov_len > want)
			cut[m].iov_len = want;
		want -= cut[m].iov_len;
		m++;
	}
	return m;
}

/* A regular file's read or write does not sleep: no EINTR or EAGAIN there. */
static int
regular(int fd)
{
	struct stat st;
	REAL(fstat);

	return real_fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

#define SHORT_OR_FAIL(n, fd, len, writing)                \
	int e_ = tick(F_##n), cut_ = 0;                   \
	if ((e_ == EINTR || e_ == EAGAIN) && regular(fd)) \
		e_ = 0;                                   \
	if (e_ == IKF_SHORT) {                            \
		cut_ = can_short(fd, len, writing);       \
		if (cut_)                                 \
			record(F_##n, e_, SITE);          \
	} else if (e_) {                                  \
		record(F_##n, e_, SITE);                  \
		errno = e_;                               \
		return -1;                                \
	}

ssize_t
read(int fd, void *buf, size_t len)
{
	REAL(read);
	SHORT_OR_FAIL(read, fd, len, 0);
	return real_read(fd, buf, cut_ ? len / 2 : len);
}

ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	REAL(pread);
	FAIL_INT(pread);
	return real_pread(fd, buf, len, off);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	REAL(write);
	SHORT_OR_FAIL(write, fd, len, 1);
	return real_write(fd, buf, cut_ ? len / 2 : len);
}

ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	struct iovec cut[64];
	size_t len = iov_len(iov, n);
	REAL(readv);
	SHORT_OR_FAIL(readv, fd, len, 0);
	if (cut_)
		return real_readv(fd, cut, iov_cut(iov, n, len / 2, cut));
	return real_readv(fd, iov, n);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	struct iovec cut[64];
	size_t len = iov_len(iov, n);
	REAL(writev);
	SHORT_OR_FAIL(writev, fd, len, 1);
	if (cut_)
		return real_writev(fd, cut, iov_cut(iov, n, len / 2, cut));
	return real_writev(fd, iov, n);
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	REAL(recv);
	SHORT_OR_FAIL(recv, fd, len, 0);
	return real_recv(fd, buf, cut_ ? len / 2 : len, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
	 socklen_t *fl)
{
	REAL(recvfrom);
	SHORT_OR_FAIL(recvfrom, fd, len, 0);
	return real_recvfrom(fd, buf, cut_ ? len / 2 : len, flags, from, fl);
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	REAL(send);
	SHORT_OR_FAIL(send, fd, len, 1);
	return real_send(fd, buf, cut_ ? len / 2 : len, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
       const struct sockaddr *to, socklen_t tl)
{
	REAL(sendto);
	SHORT_OR_FAIL(sendto, fd, len, 1);
	return real_sendto(fd, buf, cut_ ? len / 2 : len, flags, to, tl);
}

ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct iovec cut[64], *orig = m->msg_iov;
	size_t olen = m->msg_iovlen, len = iov_len(m->msg_iov, (int)olen);
	ssize_t rc;
	REAL(recvmsg);
	SHORT_OR_FAIL(recvmsg, fd, len, 0);
	if (!cut_)
		return real_recvmsg(fd, m, flags);
	m->msg_iov = cut;
	m->msg_iovlen = (size_t)iov_cut(orig, (int)olen, len / 2, cut);
	rc = real_recvmsg(fd, m, flags);
	m->msg_iov = orig;
	m->msg_iovlen = olen;
	return rc;
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct iovec cut[64];
	struct msghdr c;
	size_t len = iov_len(m->msg_iov, (int)m->msg_iovlen);
	REAL(sendmsg);
	SHORT_OR_FAIL(sendmsg, fd, len, 1);
	if (!cut_)
		return real_sendmsg(fd, m, flags);
	c = *m;
	c.msg_iov = cut;
	c.msg_iovlen =
		(size_t)iov_cut(m->msg_iov, (int)m->msg_iovlen, len / 2, cut);
	return real_sendmsg(fd, &c, flags);
}

/* Plain "-1 and errno" wrappers. */
#define W(ret, n, params, args)       \
	ret n params                  \
	{                             \
		REAL(n);              \
		FAIL_INT(n);          \
		return real_##n args; \
	}

W(int, socket, (int d, int t, int p), (d, t, p))
W(int, socketpair, (int d, int t, int p, int sv[2]), (d, t, p, sv))
W(int, bind, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
W(int, listen, (int fd, int n), (fd, n))
W(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int f),
  (fd, a, l, f))
W(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
W(int, getsockopt, (int fd, int lv, int o, void *v, socklen_t *l),
  (fd, lv, o, v, l))
W(int, setsockopt, (int fd, int lv, int o, const void *v, socklen_t l),
  (fd, lv, o, v, l))
W(int, getsockname, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
W(int, getpeername, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
W(int, shutdown, (int fd, int how), (fd, how))
W(int, pipe2, (int fds[2], int f), (fds, f))
W(int, mkfifo, (const char *p, mode_t m), (p, m))
W(int, mkdir, (const char *p, mode_t m), (p, m))
W(int, fstat, (int fd, struct stat *st), (fd, st))
W(int, fstatat, (int d, const char *p, struct stat *st, int f), (d, p, st, f))
W(int, stat, (const char *p, struct stat *st), (p, st))
W(int, lstat, (const char *p, struct stat *st), (p, st))
W(int, fchmod, (int fd, mode_t m), (fd, m))
W(int, fchown, (int fd, uid_t u, gid_t g), (fd, u, g))
W(int, linkat, (int a, const char *p, int b, const char *q, int f),
  (a, p, b, q, f))
W(int, renameat, (int a, const char *p, int b, const char *q), (a, p, b, q))
W(int, flock, (int fd, int op), (fd, op))
W(int, ftruncate, (int fd, off_t n), (fd, n))
W(int, fallocate, (int fd, int m, off_t o, off_t n), (fd, m, o, n))
W(int, mlock, (const void *a, size_t n), (a, n))
W(int, msync, (void *a, size_t n, int f), (a, n, f))
W(int, shm_open, (const char *n, int f, mode_t m), (n, f, m))
W(int, memfd_create, (const char *n, unsigned f), (n, f))
W(int, msgget, (key_t k, int f), (k, f))
W(int, msgsnd, (int id, const void *m, size_t n, int f), (id, m, n, f))
W(ssize_t, msgrcv, (int id, void *m, size_t n, long t, int f), (id, m, n, t, f))
W(int, semget, (key_t k, int n, int f), (k, n, f))
W(int, mq_timedsend,
  (mqd_t q, const char *b, size_t n, unsigned p, const struct timespec *t),
  (q, b, n, p, t))
W(ssize_t, mq_timedreceive,
  (mqd_t q, char *b, size_t n, unsigned *p, const struct timespec *t),
  (q, b, n, p, t))
W(int, mq_send, (mqd_t q, const char *b, size_t n, unsigned p), (q, b, n, p))
W(ssize_t, mq_receive, (mqd_t q, char *b, size_t n, unsigned *p), (q, b, n, p))
W(int, mq_getattr, (mqd_t q, struct mq_attr *a), (q, a))
W(int, mq_setattr, (mqd_t q, const struct mq_attr *a, struct mq_attr *o),
  (q, a, o))
W(int, mq_notify, (mqd_t q, const struct sigevent *e), (q, e))
W(int, epoll_create1, (int f), (f))
W(int, epoll_ctl, (int e, int op, int fd, struct epoll_event *ev),
  (e, op, fd, ev))
W(int, epoll_wait, (int e, struct epoll_event *ev, int n, int t), (e, ev, n, t))
W(int, poll, (struct pollfd * p, nfds_t n, int t), (p, n, t))
W(int, eventfd, (unsigned v, int f), (v, f))
W(int, signalfd, (int fd, const sigset_t *m, int f), (fd, m, f))
W(int, timerfd_create, (int c, int f), (c, f))
W(int, timerfd_settime,
  (int fd, int f, const struct itimerspec *n, struct itimerspec *o),
  (fd, f, n, o))
W(int, sigtimedwait,
  (const sigset_t *s, siginfo_t *i, const struct timespec *t), (s, i, t))
W(int, sigaction, (int s, const struct sigaction *a, struct sigaction *o),
  (s, a, o))
W(int, kill, (pid_t p, int s), (p, s))
W(int, sigqueue, (pid_t p, int s, const union sigval v), (p, s, v))
W(int, nanosleep, (const struct timespec *a, struct timespec *b), (a, b))
W(int, sem_timedwait, (sem_t * s, const struct timespec *t), (s, t))
W(int, sem_clockwait, (sem_t * s, clockid_t c, const struct timespec *t),
  (s, c, t))
W(int, sem_wait, (sem_t * s), (s))

/* A semop sleeps (EINTR) only for a decrement or a wait for zero. */
static int
sem_may_block(const struct sembuf *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].sem_op <= 0 && !(o[i].sem_flg & IPC_NOWAIT))
			return 1;
	return 0;
}

int
semop(int id, struct sembuf *o, size_t n)
{
	int e;

	REAL(semop);
	e = tick(F_semop);
	if (e && (e != EINTR || sem_may_block(o, n))) {
		record(F_semop, e, SITE);
		errno = e;
		return -1;
	}
	return real_semop(id, o, n);
}

int
semtimedop(int id, struct sembuf *o, size_t n, const struct timespec *t)
{
	int e;

	REAL(semtimedop);
	e = tick(F_semtimedop);
	if (e && (e != EINTR || sem_may_block(o, n))) {
		record(F_semtimedop, e, SITE);
		errno = e;
		return -1;
	}
	return real_semtimedop(id, o, n, t);
}

/* WNOHANG never sleeps, so never meets EINTR. */
pid_t
waitpid(pid_t p, int *st, int o)
{
	int e;

	REAL(waitpid);
	e = tick(F_waitpid);
	if (e && !(o & WNOHANG)) {
		record(F_waitpid, e, SITE);
		errno = e;
		return -1;
	}
	return real_waitpid(p, st, o);
}

int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	REAL(fcntl);
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	FAIL_INT(fcntl);
	return real_fcntl(fd, cmd, arg);
}

/* Removal (IPC_RMID) is never failed; everything else is. */
int
msgctl(int id, int cmd, struct msqid_ds *b)
{
	REAL(msgctl);
	if (cmd != IPC_RMID)
		FAIL_INT(msgctl);
	return real_msgctl(id, cmd, b);
}

int
shmctl(int id, int cmd, struct shmid_ds *b)
{
	REAL(shmctl);
	if (cmd != IPC_RMID)
		FAIL_INT(shmctl);
	return real_shmctl(id, cmd, b);
}

int
semctl(int id, int num, int cmd, ...)
{
	va_list ap;
	unsigned long arg;

	REAL(semctl);
	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (cmd != IPC_RMID)
		FAIL_INT(semctl);
	return real_semctl(id, num, cmd, arg);
}

/* Calls that return an error number or a special pointer. */
int
posix_fallocate(int fd, off_t off, off_t len)
{
	int e;

	REAL(posix_fallocate);
	e = tick(F_posix_fallocate);
	if (e) {
		record(F_posix_fallocate, e, SITE);
		return e;
	}
	return real_posix_fallocate(fd, off, len);
}

int
clock_nanosleep(clockid_t c, int f, const struct timespec *a,
		struct timespec *b)
{
	int e;

	REAL(clock_nanosleep);
	e = tick(F_clock_nanosleep);
	if (e) {
		record(F_clock_nanosleep, e, SITE);
		return e;
	}
	return real_clock_nanosleep(c, f, a, b);
}

int
pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	int e;

	REAL(pthread_mutex_init);
	e = tick(F_pthread_mutex_init);
	if (e) {
		record(F_pthread_mutex_init, e, SITE);
		return e;
	}
	return real_pthread_mutex_init(m, a);
}

#define WP(ret, bad, n, params, args)            \
	ret n params                             \
	{                                        \
		int e_;                          \
		REAL(n);                         \
		e_ = tick(F_##n);                \
		if (e_) {                        \
			record(F_##n, e_, SITE); \
			errno = e_;              \
			return bad;              \
		}                                \
		return real_##n args;            \
	}

WP(void *, MAP_FAILED, mmap, (void *a, size_t n, int p, int f, int fd, off_t o),
   (a, n, p, f, fd, o))
WP(void *, (void *)-1, shmat, (int id, const void *a, int f), (id, a, f))
WP(DIR *, NULL, opendir, (const char *p), (p))
WP(DIR *, NULL, fdopendir, (int fd), (fd))
WP(FILE *, NULL, fopen, (const char *p, const char *m), (p, m))

mqd_t
mq_open(const char *name, int oflag, ...)
{
	mode_t mode = 0;
	struct mq_attr *attr = NULL;
	va_list ap;
	int e;

	REAL(mq_open);
	if (oflag & O_CREAT) {
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		attr = va_arg(ap, struct mq_attr *);
		va_end(ap);
	}
	e = tick(F_mq_open);
	if (e) {
		record(F_mq_open, e, SITE);
		errno = e;
		return (mqd_t)-1;
	}
	if (oflag & O_CREAT)
		return real_mq_open(name, oflag, mode, attr);
	return real_mq_open(name, oflag);
}

sem_t *
sem_open(const char *name, int oflag, ...)
{
	mode_t mode = 0;
	unsigned value = 0;
	va_list ap;
	int e;

	REAL(sem_open);
	if (oflag & O_CREAT) {
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
		va_end(ap);
	}
	e = tick(F_sem_open);
	if (e) {
		record(F_sem_open, e, SITE);
		errno = e;
		return SEM_FAILED;
	}
	if (oflag & O_CREAT)
		return real_sem_open(name, oflag, mode, value);
	return real_sem_open(name, oflag);
}
