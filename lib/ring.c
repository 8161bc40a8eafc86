/*
 * The shared-memory SPSC ring (see <ipckit/ring.h> for the segment format).
 *
 * Trust: every value read back from the segment (record headers, the peer's
 * position, states, pids) comes from a process that may be hostile or dead.
 * Geometry is copied into the private handle once, at open; each side keeps
 * its own position privately and only publishes it; everything else is read
 * once into a local (relaxed atomics, no double fetch) and checked against
 * the private geometry before use.
 *
 * Speed: the consumer polls the record at its own position, whose header
 * shares a line with the first 48 payload bytes, and prefetches the next
 * lines in the same poll, so the payload's lines cross between the cores
 * together instead of one after another. The producer reads the consumer's
 * position only when its cached copy says the ring is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>
#include <ipckit/shm.h>

#include "internal/io.h"
#include "internal/proc.h"
#include "internal/time.h"

enum { P = 0, C = 1 }; /* side index: producer, consumer */

#define REC_HDR ((uint64_t)sizeof(struct ik_ring_rec))
#define DEFAULT_SPIN_NS (20 * 1000)
/* A sleeping side looks at its peer's liveness this often. */
#define SLICE_NS (50 * 1000000LL)

/* Private state of one role; its own cache line, one thread at a time. */
struct side {
	uint64_t pos;	   /* our position (authoritative, never read back) */
	uint64_t peer_pos; /* producer: last validated consumer position */
	uint64_t cur;	   /* position of the reserved / peeked record */
	uint32_t cur_len;  /* its payload length */
	uint32_t cur_pad;  /* producer: pad bytes before it */
	bool pending;	   /* a reservation / peek is open */
	int peer_pidfd;
	int32_t peer_pid;
	int64_t spin_ns; /* -1 forever */
	int err;	 /* sticky IK_ECORRUPT */
	struct ik_ring_stats st;
} __attribute__((aligned(64)));

struct ik_ring {
	struct side s[2];
	struct ik_ring_shm *shm;
	unsigned char *data;
	size_t map_len;
	uint64_t cap, mask, max_msg; /* private copy of the geometry */
	uint32_t flags;
	int fd;
	int efd[2]; /* doorbells: efd[P] polled by producer, efd[C] by consumer
		     */
	unsigned roles;
	pid_t owner;   /* process that attached the roles */
	pid_t creator; /* process that created the name */
	char name[NAME_MAX + 1];
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/*
 * Full barrier between our publishing store and our load of the peer's wait
 * word (the Dekker pair at wait_ready). Not a seq_cst store or exchange on
 * the published word: a locked operation there waits until the payload
 * stores before it have drained, by which time the spinning peer has pulled
 * the line back, so the line crosses twice. A plain store joins the payload
 * stores in one visit. On x86 a locked no-op on our own stack is the fence
 * gcc emits; clang emits mfence, measured ~3x the cost of the whole round
 * trip's budget here, so it is spelled out.
 */
static inline void
full_fence(void)
{
#if defined(__x86_64__)
	__asm__ volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline struct ik_ring_side *
shm_side(const ik_ring *r, int i)
{
	return i == P ? &r->shm->prod : &r->shm->cons;
}

static inline uint64_t
align_up(uint64_t n)
{
	return (n + IK_RING_ALIGN - 1) & ~(uint64_t)(IK_RING_ALIGN - 1);
}

static int
futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	/* not FUTEX_PRIVATE_FLAG: the word lives in memory shared by processes
	 */
	return (int)syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void
efd_signal(int fd)
{
	uint64_t one = 1;

	/* EAGAIN only if the counter is saturated: it is readable anyway */
	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/*
 * Wake side i if it sleeps or is armed. The caller has just published and
 * issued full_fence(); this load of i's wait word is the other half of the
 * Dekker pair described at wait_ready(). The common case (nobody waiting) is
 * one load of a line nobody writes, so it stays cached.
 */
static void
wake_side(ik_ring *r, int i, bool always)
{
	struct ik_ring_side *ss = shm_side(r, i);
	uint32_t w;

	if (!always && __atomic_load_n(&ss->wait, __ATOMIC_SEQ_CST) == 0)
		return;
	w = __atomic_exchange_n(&ss->wait, 0, __ATOMIC_SEQ_CST);
	if (w & IK_RING_WAIT_FUTEX) {
		__atomic_fetch_add(&ss->seq, 1, __ATOMIC_SEQ_CST);
		futex(&ss->seq, FUTEX_WAKE, 1, NULL);
		r->s[!i].st.wakeups++;
	}
	if ((w & IK_RING_WAIT_EVENT) && r->efd[i] >= 0)
		efd_signal(r->efd[i]);
}

/*
 * Is the peer of side i still there? 1 yes (or not attached yet: wait for
 * it), 0 closed or dead, IK_ECORRUPT. A pidfd is used, not kill(pid, 0): it
 * also sees an exited but unreaped child, and is immune to pid reuse once
 * opened (it is opened at the first check, ideally while the peer lives).
 * Without pidfds (kernel < 5.3, valgrind, seccomp) the pid is looked at
 * each time, a zombie counting as dead; only a recycled pid fools that.
 */
static int
peer_alive(ik_ring *r, int i)
{
	struct ik_ring_side *ps = shm_side(r, !i);
	struct side *s = &r->s[i];
	uint32_t st = __atomic_load_n(&ps->state, __ATOMIC_SEQ_CST);
	int32_t pid = __atomic_load_n(&ps->pid, __ATOMIC_RELAXED);
	struct pollfd pfd;

	if (st == IK_RING_FREE)
		return 1;
	if (st == IK_RING_CLOSED)
		return 0;
	if (st != IK_RING_ATTACHED || pid <= 0)
		return IK_ECORRUPT;
	if (s->peer_pid != 0 && pid != s->peer_pid)
		return IK_ECORRUPT; /* a role is claimed once, never re-owned */
	if (s->peer_pidfd < 0) {
		int fd = ik__pidfd_open(pid);

		if (fd == -ESRCH)
			return 0;
		if (fd < 0) {
			int alive = ik__proc_alive(pid, 0);

			s->peer_pid = pid;
			/* /proc unreadable: kill(pid, 0) found it at least */
			return alive < 0 ? 1 : alive;
		}
		s->peer_pidfd = fd;
		s->peer_pid = pid;
	}
	pfd.fd = s->peer_pidfd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1 ? 0 : 1;
}

/* ---- readiness tests: >0 ready, 0 not yet, <0 error --------------------- */

/*
 * Consumer: decode the record at our position. Pads (written by the producer
 * when a record would not fit before the end) are skipped. On the slow path
 * (before sleeping) the shared header is also checked, so that a scribbled
 * segment is reported instead of being waited on forever.
 */
static int
cons_ready(ik_ring *r, bool slow)
{
	struct side *s = &r->s[C];
	uint64_t pos = s->pos, tail = 0;

	/* tail first: it is stored after the tags it covers */
	if (slow)
		tail = __atomic_load_n(&r->shm->prod.pos, __ATOMIC_ACQUIRE);
	for (int hops = 0; hops < 2; hops++) {
		uint64_t off = pos & r->mask;
		struct ik_ring_rec *rec = (void *)(r->data + off);
		uint32_t len, kind;

		/* the payload's second line travels with the header line, not
		 * after it (a prefetch further ahead measured slower) */
		__builtin_prefetch((char *)rec + 64);
		if (__atomic_load_n(&rec->tag, __ATOMIC_SEQ_CST) != ~pos)
			break;
		len = __atomic_load_n(&rec->len, __ATOMIC_RELAXED);
		kind = __atomic_load_n(&rec->kind, __ATOMIC_RELAXED);
		if (kind == IK_RING_REC_PAD) {
			if (off == 0 || len != r->cap - off - REC_HDR)
				return IK_ECORRUPT;
			pos += r->cap - off;
			continue;
		}
		if (kind != IK_RING_REC_DATA || len > r->max_msg ||
		    off + REC_HDR + len > r->cap)
			return IK_ECORRUPT;
		s->pos = pos; /* the pad, if any, is released with the record */
		s->cur = pos;
		s->cur_len = len;
		return 1;
	}
	if (slow) {
		if (__atomic_load_n(&r->shm->magic, __ATOMIC_RELAXED) !=
		    IK_RING_MAGIC)
			return IK_ECORRUPT;
		/* a tail beyond us with no record at our position is a lie;
		 * one behind us lags by at most the record being published */
		if (tail > pos || pos - tail > r->cap || tail % IK_RING_ALIGN)
			return IK_ECORRUPT;
	}
	if (__atomic_load_n(&r->shm->prod.state, __ATOMIC_SEQ_CST) ==
	    IK_RING_CLOSED) {
		/* closing comes after the last commit: look once more */
		if (__atomic_load_n(
			    &((struct ik_ring_rec *)(r->data + (pos & r->mask)))
				     ->tag,
			    __ATOMIC_SEQ_CST) == ~pos)
			return cons_ready(r, false);
		return -EPIPE;
	}
	return 0;
}

/* Producer: room for the open request (cur_len, cur_pad computed)? */
static int
prod_ready(ik_ring *r, bool slow)
{
	struct side *s = &r->s[P];
	uint64_t need = s->cur_pad + align_up(REC_HDR + s->cur_len);
	uint64_t head;

	(void)slow;
	if (__atomic_load_n(&r->shm->cons.state, __ATOMIC_RELAXED) ==
	    IK_RING_CLOSED)
		return -EPIPE;
	if (r->cap - (s->pos - s->peer_pos) >= need)
		return 1;
	head = __atomic_load_n(&r->shm->cons.pos, __ATOMIC_SEQ_CST);
	if (head < s->peer_pos || head > s->pos || head % IK_RING_ALIGN)
		return IK_ECORRUPT;
	s->peer_pos = head;
	return r->cap - (s->pos - head) >= need;
}

typedef int (*ready_fn)(ik_ring *, bool);

/*
 * Consumer's spin: one load of the header line it waits for (plus the
 * prefetch of the next line), decoded by cons_ready only once it changed.
 */
static inline bool
record_moved(const ik_ring *r)
{
	uint64_t pos = r->s[C].pos;
	const unsigned char *rec = r->data + (pos & r->mask);

	__builtin_prefetch(rec + 64);
	return __atomic_load_n((const uint64_t *)rec, __ATOMIC_RELAXED) == ~pos;
}

/*
 * Wait until ready(r) or the deadline. First spin (bounded by spin_ns; the
 * consumer polls only its header line between full checks, so it sees the
 * tag move a few instructions sooner), then sleep on our futex in slices,
 * checking the peer's liveness when a slice ends.
 *
 * No lost wake-up: the sleeper reads its seq, sets its wait bit (seq_cst),
 * then re-tests readiness (seq_cst loads); the waker publishes (release
 * store of a tag, or of its position), issues full_fence(), then loads the
 * wait bit (seq_cst); a seq_cst fence orders the store before it against
 * the seq_cst operations after it in S (C11 7.17.3). In the single total order
 * of seq_cst operations one of the two comes second and sees the other: either
 * the sleeper finds the data, or the waker finds the bit, bumps seq and wakes;
 * a bump that lands before FUTEX_WAIT makes the kernel's value check fail
 * (EAGAIN), so the sleeper never sleeps through it.
 */
static int
wait_ready(ik_ring *r, int i, ready_fn ready, const struct ik__deadline *d)
{
	struct ik_ring_side *me = shm_side(r, i);
	struct side *s = &r->s[i];
	int64_t now = ik__now_ns(), spin_end = now + s->spin_ns;
	int64_t last_check = now;
	int rc;

	while (s->spin_ns != 0) {
		rc = ready(r, false);
		if (rc != 0)
			return rc;
		for (int k = 0; k < 64; k++) {
			if (i == P || record_moved(r)) {
				rc = ready(r, false);
				if (rc != 0)
					return rc;
			}
			cpu_relax();
		}
		now = ik__now_ns();
		if (!d->forever && now >= d->end_ns)
			goto timeout;
		if (s->spin_ns >= 0 && now >= spin_end)
			break;
		if (now - last_check > SLICE_NS) {
			last_check = now;
			rc = peer_alive(r, i);
			if (rc <= 0)
				goto gone;
			rc = ready(r, true);
			if (rc != 0)
				return rc;
		}
	}
	for (;;) {
		uint32_t seq = __atomic_load_n(&me->seq, __ATOMIC_SEQ_CST);
		int64_t left = ik__deadline_left_ns(d);
		struct timespec ts;

		__atomic_fetch_or(&me->wait, IK_RING_WAIT_FUTEX,
				  __ATOMIC_SEQ_CST);
		rc = ready(r, true);
		if (rc != 0)
			break;
		if (left == 0)
			goto timeout;
		if (left < 0 || left > SLICE_NS)
			left = SLICE_NS;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		s->st.sleeps++;
		if (futex(&me->seq, FUTEX_WAIT, seq, &ts) < 0 &&
		    errno == ETIMEDOUT) {
			rc = peer_alive(r, i);
			if (rc <= 0)
				goto gone;
		}
		/* EINTR, EAGAIN, a wake-up: test again, deadline unchanged */
	}
	__atomic_fetch_and(&me->wait, ~IK_RING_WAIT_FUTEX, __ATOMIC_SEQ_CST);
	return rc;
timeout:
	__atomic_fetch_and(&me->wait, ~IK_RING_WAIT_FUTEX, __ATOMIC_SEQ_CST);
	rc = ready(r, true);
	return rc != 0 ? rc : -ETIMEDOUT;
gone:
	__atomic_fetch_and(&me->wait, ~IK_RING_WAIT_FUTEX, __ATOMIC_SEQ_CST);
	if (rc < 0)
		return rc;
	/* a dead producer may have left messages: those are still good */
	rc = ready(r, true);
	return rc != 0 ? rc : -EPIPE;
}

static int
run_wait(ik_ring *r, int i, ready_fn ready, int timeout_ms)
{
	struct ik__deadline d;
	int rc = ready(r, false);

	if (rc == 0) {
		if (timeout_ms == 0) {
			rc = ready(r, true);
			return rc != 0 ? rc : -EAGAIN;
		}
		ik__deadline_init(&d, timeout_ms);
		rc = wait_ready(r, i, ready, &d);
	}
	if (rc == IK_ECORRUPT)
		r->s[i].err = rc;
	return rc < 0 ? rc : 0;
}

/* ---- producer ------------------------------------------------------------ */

int
ik_ring_reserve(ik_ring *r, size_t len, void **buf, int timeout_ms)
{
	struct side *s;
	uint64_t off;
	int rc;

	if (r == NULL || buf == NULL)
		return -EINVAL;
	if (!(r->roles & IK_RING_PRODUCER))
		return -EBADF;
	s = &r->s[P];
	if (s->err)
		return s->err;
	if (s->pending)
		return -EBUSY;
	if (len > r->max_msg)
		return -EMSGSIZE;
	off = s->pos & r->mask;
	s->cur_len = (uint32_t)len;
	s->cur_pad = off + align_up(REC_HDR + len) > r->cap
			     ? (uint32_t)(r->cap - off)
			     : 0;
	rc = run_wait(r, P, prod_ready, timeout_ms);
	if (rc < 0)
		return rc;
	s->cur = s->pos + s->cur_pad;
	s->pending = true;
	*buf = r->data + (s->cur & r->mask) + REC_HDR;
	return 0;
}

int
ik_ring_commit(ik_ring *r, size_t len)
{
	struct ik_ring_rec *rec;
	struct side *s;

	if (r == NULL)
		return -EINVAL;
	if (!(r->roles & IK_RING_PRODUCER))
		return -EBADF;
	s = &r->s[P];
	if (!s->pending || len > s->cur_len)
		return -EINVAL;
	if (s->cur_pad) {
		rec = (void *)(r->data + (s->pos & r->mask));
		__atomic_store_n(&rec->len, s->cur_pad - (uint32_t)REC_HDR,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&rec->kind, IK_RING_REC_PAD, __ATOMIC_RELAXED);
		__atomic_store_n(&rec->tag, ~s->pos, __ATOMIC_RELEASE);
	}
	rec = (void *)(r->data + (s->cur & r->mask));
	__atomic_store_n(&rec->len, (uint32_t)len, __ATOMIC_RELAXED);
	__atomic_store_n(&rec->kind, IK_RING_REC_DATA, __ATOMIC_RELAXED);
	/* publish in the same visit to the line as the header and payload */
	__atomic_store_n(&rec->tag, ~s->cur, __ATOMIC_RELEASE);
	s->pos = s->cur + align_up(REC_HDR + len);
	s->pending = false;
	s->st.messages++;
	s->st.bytes += len;
	/* for the consumer's consistency check and for tools only */
	__atomic_store_n(&r->shm->prod.pos, s->pos, __ATOMIC_RELEASE);
	full_fence(); /* the tag before the wait-bit load in wake_side */
	wake_side(r, C, false);
	return 0;
}

int
ik_ring_send(ik_ring *r, const void *buf, size_t len, int timeout_ms)
{
	void *p;
	int rc;

	if (buf == NULL && len > 0)
		return -EINVAL;
	rc = ik_ring_reserve(r, len, &p, timeout_ms);
	if (rc < 0)
		return rc;
	if (len > 0)
		memcpy(p, buf, len);
	return ik_ring_commit(r, len);
}

/* ---- consumer ------------------------------------------------------------ */

ssize_t
ik_ring_peek(ik_ring *r, const void **buf, int timeout_ms)
{
	struct side *s;
	int rc;

	if (r == NULL || buf == NULL)
		return -EINVAL;
	if (!(r->roles & IK_RING_CONSUMER))
		return -EBADF;
	s = &r->s[C];
	if (s->err)
		return s->err;
	if (!s->pending) {
		rc = run_wait(r, C, cons_ready, timeout_ms);
		if (rc < 0)
			return rc;
		s->pending = true;
	}
	*buf = r->data + (s->cur & r->mask) + REC_HDR;
	return (ssize_t)s->cur_len;
}

int
ik_ring_release(ik_ring *r)
{
	struct side *s;

	if (r == NULL)
		return -EINVAL;
	if (!(r->roles & IK_RING_CONSUMER))
		return -EBADF;
	s = &r->s[C];
	if (!s->pending)
		return -EINVAL;
	s->pos = s->cur + align_up(REC_HDR + s->cur_len);
	s->pending = false;
	s->st.messages++;
	s->st.bytes += s->cur_len;
	__atomic_store_n(&r->shm->cons.pos, s->pos, __ATOMIC_RELEASE);
	full_fence(); /* the position before the wait-bit load in wake_side */
	wake_side(r, P, false);
	return 0;
}

ssize_t
ik_ring_recv(ik_ring *r, void *buf, size_t cap, int timeout_ms)
{
	const void *p;
	ssize_t n;

	if (buf == NULL && cap > 0)
		return -EINVAL;
	n = ik_ring_peek(r, &p, timeout_ms);
	if (n < 0)
		return n;
	if ((size_t)n > cap)
		return -EMSGSIZE;
	if (n > 0)
		memcpy(buf, p, (size_t)n);
	ik_ring_release(r);
	return n;
}

/* ---- event loop ------------------------------------------------------------
 */

static int
single_role(const ik_ring *r)
{
	if (r->roles == IK_RING_PRODUCER)
		return P;
	if (r->roles == IK_RING_CONSUMER)
		return C;
	return -1;
}

int
ik_ring_event_fd(const ik_ring *r)
{
	int i;

	if (r == NULL)
		return -EINVAL;
	if (!(r->flags & IK_RING_EVENTFD))
		return -ENOTSUP;
	i = single_role(r);
	return i < 0 ? -EINVAL : r->efd[i];
}

int
ik_ring_arm(ik_ring *r)
{
	struct ik_ring_side *me;
	uint64_t v;
	int i, rc;

	if (r == NULL)
		return -EINVAL;
	if (!(r->flags & IK_RING_EVENTFD))
		return -ENOTSUP;
	i = single_role(r);
	if (i < 0)
		return -EINVAL;
	if (r->s[i].err)
		return r->s[i].err;
	if (r->s[i].pending)
		return 1;
	me = shm_side(r, i);
	while (read(r->efd[i], &v, sizeof(v)) < 0 && errno == EINTR)
		;
	/* same Dekker pair as the futex: set the bit, then look */
	__atomic_fetch_or(&me->wait, IK_RING_WAIT_EVENT, __ATOMIC_SEQ_CST);
	if (i == P) {
		/* ready for at least the largest record: anything fits */
		r->s[P].cur_len = (uint32_t)r->max_msg;
		r->s[P].cur_pad = 0;
		rc = prod_ready(r, true);
	} else {
		rc = cons_ready(r, true);
	}
	if (rc == 0) {
		int alive = peer_alive(r, i);

		if (alive < 0)
			rc = alive;
		else if (alive == 0 && i == C)
			rc = cons_ready(r, true);
		if (alive == 0 && rc == 0)
			rc = -EPIPE;
	}
	if (rc != 0)
		__atomic_fetch_and(&me->wait, ~IK_RING_WAIT_EVENT,
				   __ATOMIC_SEQ_CST);
	if (rc == IK_ECORRUPT)
		r->s[i].err = rc;
	return rc < 0 ? rc : rc > 0;
}

/* ---- life cycle ------------------------------------------------------------
 */

static int
valid_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '/' && n > 1 && n <= NAME_MAX &&
	       strchr(name + 1, '/') == NULL;
}

/*
 * Make and map the segment through ik_shm (0600, O_EXCL, memory reserved
 * up front so a full tmpfs is -ENOSPC here, never SIGBUS later). A memfd
 * is sealed against resizing, so a peer cannot make our accesses fault.
 * The ring keeps the descriptor and the mapping; the ik_shm handle is only
 * the way there.
 */
static int
segment_create(const char *name, size_t size, int *fdp, void **mapp)
{
	struct ik_shm s = IK_SHM_INIT;
	int rc;

	if (name == NULL)
		rc = ik_shm_memfd(&s, "ipckit-ring", size, 0);
	else
		rc = ik_shm_create(&s, name, size, 0);
	if (rc < 0)
		return rc;
	if (name == NULL && (rc = ik_shm_seal(&s, F_SEAL_SHRINK | F_SEAL_GROW |
							  F_SEAL_SEAL)) < 0) {
		ik_shm_close(&s);
		return rc;
	}
	*fdp = s.fd;
	*mapp = s.base;
	return 0;
}

static ik_ring *
handle_new(void)
{
	ik_ring *r;

	if (posix_memalign((void **)&r, 64, sizeof(*r)) != 0)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->fd = r->efd[0] = r->efd[1] = -1;
	for (int i = 0; i < 2; i++) {
		r->s[i].peer_pidfd = -1;
		r->s[i].spin_ns = DEFAULT_SPIN_NS;
	}
	return r;
}

static void
handle_free(ik_ring *r)
{
	if (r->shm != NULL)
		munmap(r->shm, r->map_len);
	if (r->fd >= 0)
		ik__close(r->fd);
	for (int i = 0; i < 2; i++) {
		if (r->efd[i] >= 0)
			ik__close(r->efd[i]);
		if (r->s[i].peer_pidfd >= 0)
			ik__close(r->s[i].peer_pidfd);
	}
	free(r);
}

static void
set_geometry(ik_ring *r, uint64_t cap, uint32_t flags)
{
	r->cap = cap;
	r->mask = cap - 1;
	/* half the ring: a record plus the pad before it always fit */
	r->max_msg = cap / 2 - REC_HDR;
	r->flags = flags;
	r->data = (unsigned char *)r->shm + IK_RING_HDR_SIZE;
}

int
ik_ring_create(ik_ring **out, const char *name, size_t capacity, unsigned flags)
{
	size_t size = IK_RING_HDR_SIZE + capacity;
	ik_ring *r;
	void *map = NULL;
	int rc;

	if (out == NULL || capacity < IK_RING_MIN_CAPACITY ||
	    capacity > IK_RING_MAX_CAPACITY || (capacity & (capacity - 1)) ||
	    (flags & ~(unsigned)IK_RING_EVENTFD) ||
	    (name != NULL && (!valid_name(name) || (flags & IK_RING_EVENTFD))))
		return -EINVAL;
	r = handle_new();
	if (r == NULL)
		return -ENOMEM;
	if (flags & IK_RING_EVENTFD) {
		for (int i = 0; i < 2; i++) {
			r->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (r->efd[i] < 0) {
				rc = -errno;
				goto fail;
			}
		}
	}
	rc = segment_create(name, size, &r->fd, &map);
	if (rc < 0)
		goto fail;
	r->shm = map;
	r->map_len = size;
	/* fresh tmpfs pages are zero: positions 0, sides FREE, no tags */
	r->shm->version = IK_RING_VERSION;
	r->shm->hdr_size = IK_RING_HDR_SIZE;
	r->shm->capacity = capacity;
	r->shm->flags = flags;
	__atomic_store_n(&r->shm->magic, IK_RING_MAGIC, __ATOMIC_RELEASE);
	set_geometry(r, capacity, flags);
	if (name != NULL) {
		memcpy(r->name, name, strlen(name) + 1);
		r->creator = getpid();
	}
	*out = r;
	return 0;
fail:
	handle_free(r);
	return rc;
}

/* Map fd (owned by the new handle on success) after checking its format. */
static int
open_owned_fd(ik_ring **out, int fd, int efd_p, int efd_c)
{
	struct ik_ring_shm hdr;
	struct stat st;
	ik_ring *r;
	void *map;
	int rc;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)IK_RING_HDR_SIZE)
		return IK_EFORMAT;
	if (st.st_uid != geteuid())
		return IK_EOWNER;
	if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return IK_EFORMAT;
	if (hdr.magic != IK_RING_MAGIC || hdr.version != IK_RING_VERSION ||
	    hdr.hdr_size != IK_RING_HDR_SIZE ||
	    hdr.capacity < IK_RING_MIN_CAPACITY ||
	    hdr.capacity > IK_RING_MAX_CAPACITY ||
	    (hdr.capacity & (hdr.capacity - 1)) ||
	    (hdr.flags & ~(uint32_t)IK_RING_EVENTFD) ||
	    (uint64_t)st.st_size != IK_RING_HDR_SIZE + hdr.capacity)
		return IK_EFORMAT;
	if ((hdr.flags & IK_RING_EVENTFD) && (efd_p < 0 || efd_c < 0))
		return -EINVAL;
	/* eventfds passed with a ring that has none would be owned by no one
	 * (fuzz_ring_pass: a peer could leak our descriptors) */
	if (!(hdr.flags & IK_RING_EVENTFD) && (efd_p >= 0 || efd_c >= 0))
		return -EPROTO;
	r = handle_new();
	if (r == NULL)
		return -ENOMEM;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		free(r);
		return rc;
	}
	r->shm = map;
	r->map_len = (size_t)st.st_size;
	r->fd = fd;
	/* geometry from the copy we validated, never re-read from the map */
	set_geometry(r, hdr.capacity, hdr.flags);
	if (hdr.flags & IK_RING_EVENTFD) {
		r->efd[P] = efd_p;
		r->efd[C] = efd_c;
	}
	*out = r;
	return 0;
}

int
ik_ring_open(ik_ring **out, const char *name)
{
	int fd, rc;

	if (out == NULL || name == NULL || !valid_name(name))
		return -EINVAL;
	fd = shm_open(name, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0)
		return -errno;
	rc = open_owned_fd(out, fd, -1, -1);
	if (rc < 0)
		ik__close(fd);
	return rc;
}

int
ik_ring_open_fd(ik_ring **out, int fd)
{
	int dup, rc;

	if (out == NULL || fd < 0)
		return -EINVAL;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	rc = open_owned_fd(out, dup, -1, -1);
	if (rc < 0)
		ik__close(dup);
	return rc;
}

int
ik_ring_unlink(const char *name)
{
	if (name == NULL || !valid_name(name))
		return -EINVAL;
	return shm_unlink(name) < 0 ? -errno : 0;
}

int
ik_ring_attach(ik_ring *r, int roles)
{
	int done = 0;

	if (r == NULL || roles <= 0 ||
	    (roles & ~(IK_RING_PRODUCER | IK_RING_CONSUMER)) ||
	    (r->roles & (unsigned)roles))
		return -EINVAL;
	if (r->roles != 0 && r->owner != getpid())
		return -EINVAL;
	for (int i = 0; i < 2; i++) {
		struct ik_ring_side *ss = shm_side(r, i);
		uint32_t expect = IK_RING_FREE;

		if (!(roles & (1 << i)))
			continue;
		/* the pid is visible before the state that vouches for it */
		if (__atomic_load_n(&ss->state, __ATOMIC_SEQ_CST) !=
		    IK_RING_FREE)
			goto busy;
		__atomic_store_n(&ss->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
		if (!__atomic_compare_exchange_n(
			    &ss->state, &expect, IK_RING_ATTACHED, false,
			    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			goto busy;
		done |= 1 << i;
	}
	/*
	 * Map the whole segment into this process's page tables now. Pages
	 * mapped before fork are not inherited (a shared mapping's entries
	 * are refilled by faults), so without this the first lap of the ring
	 * takes a fault on every page it reaches, in each process: at 4 KiB
	 * a message that is one or two per message, several microseconds
	 * each in a VM. Only advice: an old kernel (EINVAL) or a segment
	 * truncated under us still works, it just faults as it goes.
	 */
	if (r->roles == 0)
		(void)madvise(r->shm, r->map_len, MADV_POPULATE_WRITE);
	r->roles |= (unsigned)roles;
	r->owner = getpid();
	/* open the peer's pidfd now, while it is most likely alive */
	for (int i = 0; i < 2; i++)
		if (done & (1 << i))
			(void)peer_alive(r, i);
	return 0;
busy:
	for (int i = 0; i < 2; i++)
		if (done & (1 << i))
			__atomic_store_n(&shm_side(r, i)->state, IK_RING_FREE,
					 __ATOMIC_SEQ_CST);
	return -EBUSY;
}

void
ik_ring_close(ik_ring *r)
{
	if (r == NULL)
		return;
	if (r->roles != 0 && r->owner == getpid()) {
		for (int i = 0; i < 2; i++) {
			if (!(r->roles & (1u << i)))
				continue;
			__atomic_store_n(&shm_side(r, i)->state, IK_RING_CLOSED,
					 __ATOMIC_SEQ_CST);
			wake_side(r, !i, true);
		}
	}
	if (r->name[0] != '\0' && r->creator == getpid())
		shm_unlink(r->name);
	handle_free(r);
}

void
ik_ring_set_spin(ik_ring *r, int spin_us)
{
	if (r == NULL)
		return;
	for (int i = 0; i < 2; i++)
		r->s[i].spin_ns = spin_us < 0 ? -1 : (int64_t)spin_us * 1000;
}

int
ik_ring_fd(const ik_ring *r)
{
	return r == NULL ? -EINVAL : r->fd;
}

size_t
ik_ring_capacity(const ik_ring *r)
{
	return r == NULL ? 0 : (size_t)r->cap;
}

size_t
ik_ring_max_msg(const ik_ring *r)
{
	return r == NULL ? 0 : (size_t)r->max_msg;
}

int
ik_ring_stats(const ik_ring *r, int role, struct ik_ring_stats *out)
{
	if (r == NULL || out == NULL ||
	    (role != IK_RING_PRODUCER && role != IK_RING_CONSUMER))
		return -EINVAL;
	*out = r->s[role == IK_RING_PRODUCER ? P : C].st;
	return 0;
}

/* ---- passing rings between processes ------------------------------------ */

#define PASS_MAGIC 0x49524b50u /* "PKRI" */
#define PASS_MAX 2

struct pass_msg {
	uint32_t magic;
	uint32_t count; /* rings */
	uint32_t has_efd[PASS_MAX];
};

static int
send_rings(ik_ring *const *rings, uint32_t count, int sock)
{
	int fds[PASS_MAX * 3];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct pass_msg m = { .magic = PASS_MAGIC, .count = count };
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	int nfd = 0;
	ssize_t n;

	/* fds[] and has_efd[] hold PASS_MAX rings (cppcheck: fds may be sent
	 * uninitialised when count is 0) */
	if (count == 0 || count > PASS_MAX)
		return -EINVAL;
	for (uint32_t k = 0; k < count; k++) {
		if (rings[k] == NULL)
			return -EINVAL;
		fds[nfd++] = rings[k]->fd;
		if (rings[k]->flags & IK_RING_EVENTFD) {
			m.has_efd[k] = 1;
			fds[nfd++] = rings[k]->efd[P];
			fds[nfd++] = rings[k]->efd[C];
		}
	}
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(m)) {
		/* a stream may take part of it (the descriptors went with
		 * the first byte): the rest follows as plain bytes */
		struct ik__deadline d;

		ik__deadline_init(&d, -1);
		n = ik__write_full(sock, (char *)&m + n, sizeof(m) - (size_t)n,
				   IK__IO_SOCKET, &d, NULL);
		if (n < 0)
			return (int)n;
	}
	return 0;
}

static int
recv_rings(ik_ring **rings, uint32_t count, int sock, int timeout_ms)
{
	int fds[PASS_MAX * 3];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct pass_msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { 0 };
	struct ik__deadline d;
	struct cmsghdr *c;
	int nfd = 0, want = 0, used = 0, rc;
	uint32_t k = 0;
	ssize_t n;

	ik__deadline_init(&d, timeout_ms);
	rc = ik__wait_fd(sock, POLLIN, &d);
	if (rc < 0)
		return rc == -ETIMEDOUT && timeout_ms == 0 ? -EAGAIN : rc;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got = (int)((c->cmsg_len - CMSG_LEN(0)) /
					sizeof(int));

			if (nfd + got > (int)(sizeof(fds) / sizeof(fds[0])))
				got = (int)(sizeof(fds) / sizeof(fds[0])) - nfd;
			memcpy(fds + nfd, CMSG_DATA(c),
			       sizeof(int) * (size_t)got);
			nfd += got;
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		rc = IK_ECTRUNC;
		goto fail;
	}
	if (n == 0) {
		rc = -EPIPE;
		goto fail;
	}
	if (n < (ssize_t)sizeof(m)) {
		/* the sender's stream write came in pieces */
		ssize_t more = ik__read_full(sock, (char *)&m + n,
					     sizeof(m) - (size_t)n, &d, NULL);

		if (more < 0) {
			rc = (int)more;
			goto fail;
		}
		n += more;
	}
	if (n != (ssize_t)sizeof(m) || m.magic != PASS_MAGIC ||
	    m.count != count) {
		rc = -EPROTO;
		goto fail;
	}
	/* k counts the handles made, which fail: frees; not this loop
	 * (clang-tidy: a peer sending the wrong number of descriptors made
	 * fail: free the caller's uninitialised pointers) */
	for (uint32_t j = 0; j < count; j++)
		want += m.has_efd[j] ? 3 : 1;
	if (want != nfd) {
		rc = -EPROTO;
		goto fail;
	}
	for (k = 0; k < count; k++) {
		int efp = m.has_efd[k] ? fds[used + 1] : -1;
		int efc = m.has_efd[k] ? fds[used + 2] : -1;

		rc = open_owned_fd(&rings[k], fds[used], efp, efc);
		if (rc < 0)
			goto fail;
		used += m.has_efd[k] ? 3 : 1;
	}
	return 0;
fail:
	while (k-- > 0) {
		handle_free(rings[k]);
		rings[k] = NULL;
	}
	for (int j = used; j < nfd; j++)
		ik__close(fds[j]);
	return rc;
}

int
ik_ring_send_fd(const ik_ring *r, int sock)
{
	ik_ring *const one[1] = { (ik_ring *)r };

	return send_rings(one, 1, sock);
}

int
ik_ring_recv_fd(ik_ring **out, int sock, int timeout_ms)
{
	ik_ring *one[1];
	int rc;

	if (out == NULL)
		return -EINVAL;
	rc = recv_rings(one, 1, sock, timeout_ms);
	if (rc == 0)
		*out = one[0];
	return rc;
}

int
ik_ring_pair_create(struct ik_ring_pair *p, size_t capacity, unsigned flags)
{
	struct ik_ring_pair q = { NULL, NULL };
	int rc;

	if (p == NULL)
		return -EINVAL;
	rc = ik_ring_create(&q.tx, NULL, capacity, flags);
	if (rc < 0)
		return rc;
	rc = ik_ring_create(&q.rx, NULL, capacity, flags);
	if (rc < 0)
		goto fail;
	rc = ik_ring_attach(q.tx, IK_RING_PRODUCER);
	if (rc == 0)
		rc = ik_ring_attach(q.rx, IK_RING_CONSUMER);
	if (rc < 0)
		goto fail;
	*p = q;
	return 0;
fail:
	ik_ring_pair_close(&q);
	return rc;
}

int
ik_ring_pair_send(const struct ik_ring_pair *p, int sock)
{
	ik_ring *two[2];

	if (p == NULL)
		return -EINVAL;
	two[0] = p->tx;
	two[1] = p->rx;
	return send_rings(two, 2, sock);
}

int
ik_ring_pair_recv(struct ik_ring_pair *p, int sock, int timeout_ms)
{
	ik_ring *two[2];
	struct ik_ring_pair q;
	int rc;

	if (p == NULL)
		return -EINVAL;
	rc = recv_rings(two, 2, sock, timeout_ms);
	if (rc < 0)
		return rc;
	/* mirror image: we receive on what the sender transmits */
	q.rx = two[0];
	q.tx = two[1];
	rc = ik_ring_attach(q.rx, IK_RING_CONSUMER);
	if (rc == 0)
		rc = ik_ring_attach(q.tx, IK_RING_PRODUCER);
	if (rc < 0) {
		ik_ring_pair_close(&q);
		return rc;
	}
	*p = q;
	return 0;
}

void
ik_ring_pair_close(struct ik_ring_pair *p)
{
	if (p == NULL)
		return;
	ik_ring_close(p->tx);
	ik_ring_close(p->rx);
	p->tx = p->rx = NULL;
}
