/*
 * The floor and the notification primitives, raw: what any message passing
 * between two processes costs at least. The floor is two processes bouncing
 * a counter through one shared cache line (no kernel at all); the others
 * wake a sleeping peer through the kernel: futex, eventfd, a System V
 * semaphore, a process-shared POSIX semaphore, a queued real-time signal.
 * Each direction has its own object, so a side never consumes its own post.
 */
#include <errno.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define PAGE 4096

/* A shared page: the floor's line, futex words, semaphores. */
static int
page_prepare(const struct bench_row *r, void **shared)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	(void)r;
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, PAGE);
	*shared = p;
	return 0;
}

static void
page_cleanup(const struct bench_row *r, void *shared)
{
	(void)r;
	if (shared)
		munmap(shared, PAGE);
}

/* Per-side state: a count of what was sent and received. */
struct ctr {
	uint64_t sent, got;
};

static int
ctr_open(const struct bench_row *r, struct bench_end *e)
{
	(void)r;
	e->st = calloc(1, sizeof(struct ctr));
	return e->st ? 0 : -ENOMEM;
}

static void
ctr_close(struct bench_end *e)
{
	free(e->st);
	e->st = NULL;
}

/* ---- floor: A writes odd values, B even ones, in one word ------------- */

static int
floor_send(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;
	uint64_t *w = e->shared;

	(void)buf, (void)len;
	__atomic_store_n(w, 2 * c->sent + 1 + (uint64_t)e->side,
			 __ATOMIC_RELEASE);
	c->sent++;
	return 0;
}

static int
floor_recv(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;
	uint64_t *w = e->shared;
	uint64_t want = 2 * c->got + 2 - (uint64_t)e->side;

	(void)buf, (void)len;
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != want)
		bench_relax();
	c->got++;
	return 0;
}

/* ---- the floor with a line per direction --------------------------------
 * What two one-way channels (a ring each way) pay at least: each side
 * writes only its own line and polls the peer's. On the machines measured
 * this costs well over the one-line floor (each round trip moves two lines,
 * and each write must first take its line back from the polling peer), so
 * it, not the one-line floor, bounds what a pair of rings can reach.
 */

/* Direction d's lines: payload, signal, ack; 128 bytes apart so that
 * adjacent-line prefetch does not pair them. */
#define DIR_BASE(e, d) ((unsigned char *)(e)->shared + 1024 * (d))
#define DIR_SIG(e, d) ((uint64_t *)(DIR_BASE(e, d) + 128))
#define DIR_ACK(e, d) ((uint64_t *)(DIR_BASE(e, d) + 256))

static int
fdir_send(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;

	(void)buf, (void)len;
	__atomic_store_n(DIR_SIG(e, e->side), ++c->sent, __ATOMIC_RELEASE);
	return 0;
}

static int
fdir_recv(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;

	(void)buf, (void)len;
	c->got++;
	while (__atomic_load_n(DIR_SIG(e, !e->side), __ATOMIC_ACQUIRE) !=
	       c->got)
		bench_relax();
	return 0;
}

/* ---- two-line floor: a 64-byte payload line, then a signal line ---------
 * The least any message with a 64-byte payload and a separate commit word
 * can cost: the receiver polls the signal line and prefetches the payload
 * line in the same poll, so both cross together. One-way streams wait for
 * the receiver's acknowledgement before reusing the single slot.
 */

static int
f2_open(const struct bench_row *r, struct bench_end *e)
{
	int rc = ctr_open(r, e);

	e->maxmsg = 64;
	return rc;
}

static int
f2_send(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;

	if (len > 64)
		return -EMSGSIZE;
	if (e->stream)
		while (__atomic_load_n(DIR_ACK(e, !e->side),
				       __ATOMIC_ACQUIRE) != c->sent)
			bench_relax();
	memcpy(DIR_BASE(e, e->side), buf, len);
	__atomic_store_n(DIR_SIG(e, e->side), ++c->sent, __ATOMIC_RELEASE);
	return 0;
}

static int
f2_recv(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;
	const unsigned char *p = DIR_BASE(e, !e->side);

	if (len > 64)
		return -EMSGSIZE;
	c->got++;
	for (;;) {
		__builtin_prefetch(p);
		if (__atomic_load_n(DIR_SIG(e, !e->side), __ATOMIC_ACQUIRE) ==
		    c->got)
			break;
		bench_relax();
	}
	memcpy(buf, p, len);
	if (e->stream) /* the ack lives in our direction's block */
		__atomic_store_n(DIR_ACK(e, e->side), c->got, __ATOMIC_RELEASE);
	return 0;
}

/* ---- one-slot floor: both directions share a payload and a signal line ---
 * The least a 64-byte message can cost either way, by any design: one
 * slot that the reply overwrites (so each line goes back and forth as the
 * one-line floor's does), the signal word in its own line (a 64-byte
 * payload and a commit mark cannot share one), the payload line prefetched
 * in the same poll. Two one-way rings cannot do better than this; where
 * this is well above the one-line floor, so must they be. One-way streams
 * wait for the receiver's acknowledgement (the signal line's second word).
 */
#define SLOT_SIG(e) ((uint64_t *)(e)->shared)
#define SLOT_ACK(e) ((uint64_t *)(e)->shared + 1)
#define SLOT_DATA(e) ((unsigned char *)(e)->shared + 128)

static int
slot_send(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;

	if (len > 64)
		return -EMSGSIZE;
	if (e->stream)
		while (__atomic_load_n(SLOT_ACK(e), __ATOMIC_ACQUIRE) !=
		       c->sent)
			bench_relax();
	memcpy(SLOT_DATA(e), buf, len);
	__atomic_store_n(SLOT_SIG(e), 2 * c->sent + 1 + (uint64_t)e->side,
			 __ATOMIC_RELEASE);
	c->sent++;
	return 0;
}

static int
slot_recv(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;
	uint64_t want =
		e->stream ? 2 * c->got + 1 : 2 * c->got + 2 - (uint64_t)e->side;

	if (len > 64)
		return -EMSGSIZE;
	for (;;) {
		__builtin_prefetch(SLOT_DATA(e));
		if (__atomic_load_n(SLOT_SIG(e), __ATOMIC_ACQUIRE) == want)
			break;
		bench_relax();
	}
	memcpy(buf, SLOT_DATA(e), len);
	c->got++;
	if (e->stream)
		__atomic_store_n(SLOT_ACK(e), c->got, __ATOMIC_RELEASE);
	return 0;
}

/* ---- futex: one word per direction, 128 bytes apart --------------------
 */

static uint32_t *
fword(struct bench_end *e, int dir)
{
	return (uint32_t *)e->shared + 32 * dir;
}

static int
futex_send(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;
	uint32_t *w = fword(e, e->side);

	(void)buf, (void)len;
	__atomic_store_n(w, (uint32_t)++c->sent, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
	return 0;
}

static int
futex_recv(struct bench_end *e, void *buf, size_t len)
{
	struct ctr *c = e->st;
	uint32_t *w = fword(e, !e->side), cur, want = (uint32_t)++c->got;

	(void)buf, (void)len;
	while ((cur = __atomic_load_n(w, __ATOMIC_SEQ_CST)) != want)
		syscall(SYS_futex, w, FUTEX_WAIT, cur, NULL, NULL, 0);
	return 0;
}

/* ---- eventfd: two counters, made before fork ------------------------------
 */

static int
efd_prepare(const struct bench_row *r, void **shared)
{
	int *fd = malloc(2 * sizeof(int));

	(void)r;
	if (fd == NULL)
		return -ENOMEM;
	fd[0] = eventfd(0, EFD_CLOEXEC);
	fd[1] = eventfd(0, EFD_CLOEXEC);
	if (fd[0] < 0 || fd[1] < 0) {
		int rc = -errno;

		if (fd[0] >= 0)
			close(fd[0]);
		free(fd);
		return rc;
	}
	*shared = fd;
	return 0;
}

static void
efd_cleanup(const struct bench_row *r, void *shared)
{
	int *fd = shared;

	(void)r;
	if (fd) {
		close(fd[0]);
		close(fd[1]);
		free(fd);
	}
}

static int
efd_send(struct bench_end *e, void *buf, size_t len)
{
	uint64_t one = 1;

	(void)buf, (void)len;
	return bench_write_all(((int *)e->shared)[e->side], &one, 8);
}

static int
efd_recv(struct bench_end *e, void *buf, size_t len)
{
	uint64_t v;

	(void)buf, (void)len;
	return bench_read_all(((int *)e->shared)[!e->side], &v, 8);
}

static int
nop_open(const struct bench_row *r, struct bench_end *e)
{
	(void)r, (void)e;
	return 0;
}

static void
nop_close(struct bench_end *e)
{
	(void)e;
}

/* ---- System V semaphore set of two ----------------------------------------
 */

static int
svsem_prepare(const struct bench_row *r, void **shared)
{
	int *id = malloc(sizeof(int));

	(void)r;
	if (id == NULL)
		return -ENOMEM;
	*id = semget(IPC_PRIVATE, 2, IPC_CREAT | IPC_EXCL | S_IRUSR | S_IWUSR);
	if (*id < 0) {
		int rc = -errno;

		free(id);
		return rc;
	}
	*shared = id;
	return 0;
}

static void
svsem_cleanup(const struct bench_row *r, void *shared)
{
	(void)r;
	if (shared) {
		semctl(*(int *)shared, 0, IPC_RMID);
		free(shared);
	}
}

static int
svsem_op(struct bench_end *e, unsigned short num, short op)
{
	struct sembuf b = { .sem_num = num, .sem_op = op };

	while (semop(*(int *)e->shared, &b, 1) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int
svsem_send(struct bench_end *e, void *buf, size_t len)
{
	(void)buf, (void)len;
	return svsem_op(e, (unsigned short)e->side, 1);
}

static int
svsem_recv(struct bench_end *e, void *buf, size_t len)
{
	(void)buf, (void)len;
	return svsem_op(e, (unsigned short)!e->side, -1);
}

/* ---- POSIX semaphores, unnamed, process-shared, in the shared page ------ */

static int
psem_prepare(const struct bench_row *r, void **shared)
{
	sem_t *s;
	int rc = page_prepare(r, shared);

	if (rc < 0)
		return rc;
	s = *shared;
	if (sem_init(&s[0], 1, 0) < 0 || sem_init(&s[1], 1, 0) < 0) {
		rc = -errno;
		page_cleanup(r, *shared);
		return rc;
	}
	return 0;
}

static int
psem_send(struct bench_end *e, void *buf, size_t len)
{
	(void)buf, (void)len;
	return sem_post((sem_t *)e->shared + e->side) < 0 ? -errno : 0;
}

static int
psem_recv(struct bench_end *e, void *buf, size_t len)
{
	(void)buf, (void)len;
	while (sem_wait((sem_t *)e->shared + !e->side) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* ---- a queued real-time signal, taken synchronously (no handler) ------- */

struct sigside {
	pid_t peer;
	sigset_t set;
};

static int
rtsig_open(const struct bench_row *r, struct bench_end *e)
{
	struct sigside *s = calloc(1, sizeof(*s));
	char line[32];
	int rc;

	(void)r;
	if (s == NULL)
		return -ENOMEM;
	e->st = s;
	sigemptyset(&s->set);
	sigaddset(&s->set, SIGRTMIN + 1);
	/* blocked before the peer can know our pid: never lost */
	if ((rc = sigprocmask(SIG_BLOCK, &s->set, NULL)) != 0)
		return -errno;
	snprintf(line, sizeof(line), "%ld", (long)getpid());
	if ((rc = bench_ctl_send(e, line)) < 0 ||
	    (rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	s->peer = (pid_t)atol(line);
	return s->peer > 0 ? 0 : -EPROTO;
}

static int
rtsig_send(struct bench_end *e, void *buf, size_t len)
{
	struct sigside *s = e->st;

	(void)buf, (void)len;
	return sigqueue(s->peer, SIGRTMIN + 1, (union sigval){ 0 }) < 0 ? -errno
									: 0;
}

static int
rtsig_recv(struct bench_end *e, void *buf, size_t len)
{
	struct sigside *s = e->st;

	(void)buf, (void)len;
	while (sigwaitinfo(&s->set, NULL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

const struct bench_row bench_rows_sync[] = {
	{ "cache-line floor", "floor", BK_FLOOR, BF_NOPAYLOAD, NULL,
	  page_prepare, ctr_open, floor_send, floor_recv, ctr_close,
	  page_cleanup },
	{ "floor, a line per direction", "floor-dir", BK_FLOOR, BF_NOPAYLOAD,
	  NULL, page_prepare, ctr_open, fdir_send, fdir_recv, ctr_close,
	  page_cleanup },
	{ "two-line floor, 64 B", "floor-2line", BK_FLOOR, 0, NULL,
	  page_prepare, f2_open, f2_send, f2_recv, ctr_close, page_cleanup },
	{ "one-slot floor, 64 B", "floor-slot", BK_FLOOR, 0, NULL, page_prepare,
	  f2_open, slot_send, slot_recv, ctr_close, page_cleanup },
	{ "futex", "futex", BK_SYNC, BF_NOPAYLOAD, NULL, page_prepare, ctr_open,
	  futex_send, futex_recv, ctr_close, page_cleanup },
	{ "eventfd", "eventfd", BK_SYNC, BF_NOPAYLOAD, NULL, efd_prepare,
	  nop_open, efd_send, efd_recv, nop_close, efd_cleanup },
	{ "System V semaphore", "svsem", BK_SYNC, BF_NOPAYLOAD, NULL,
	  svsem_prepare, nop_open, svsem_send, svsem_recv, nop_close,
	  svsem_cleanup },
	{ "POSIX semaphore", "psem", BK_SYNC, BF_NOPAYLOAD, NULL, psem_prepare,
	  nop_open, psem_send, psem_recv, nop_close, page_cleanup },
	{ "real-time signal", "signal", BK_SYNC, BF_NOPAYLOAD, NULL, NULL,
	  rtsig_open, rtsig_send, rtsig_recv, ctr_close, NULL },
	{ .name = NULL },
};
