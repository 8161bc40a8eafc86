/*
 * Fan-out over pipes (see include/ipckit/fanout.h): one poll loop moves
 * records from the input to per-worker buffers (whole records, a batch per
 * turn), from there into the workers' stdin pipes, and from their stdout
 * pipes to the output. Every buffer has a fixed size and a full one simply
 * stops the reading that feeds it, so memory is bounded and a slow reader
 * downstream slows the whole chain (back-pressure) instead of growing it.
 *
 * Order: a FIFO of (worker, records) chunks, in input order. In ordered mode
 * output is taken only from the worker of the head chunk, as many records
 * as it owes for that chunk. Unordered, any worker with whole records ready
 * may write them; a record longer than a buffer still streams through, the
 * output then staying with its worker until the record ends.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/fanout.h>
#include <ipckit/spawn.h>

#include "internal/io.h"
#include "internal/time.h"

#define DEF_BATCH (64 * 1024)
#define DEF_BUFSIZE (256 * 1024)
#define DEF_GRACE_MS 5000

/* ---- record splitter -------------------------------------------------- */

int
ik_fanout_split_init(struct ik_fanout_split *s, enum ik_fanout_mode mode,
		     size_t block)
{
	if (s == NULL)
		return -EINVAL;
	switch (mode) {
	case IK_FANOUT_LINES:
	case IK_FANOUT_NUL:
		break;
	case IK_FANOUT_BLOCK:
		if (block == 0)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	s->mode = mode;
	s->block = block;
	s->pos = 0;
	return 0;
}

size_t
ik_fanout_split_scan(const struct ik_fanout_split *s, const void *buf,
		     size_t len, size_t max_rec, size_t *nrec)
{
	const char *b = buf, *q;
	size_t end = 0, k = 0, first, whole;
	int delim = s->mode == IK_FANOUT_NUL ? '\0' : '\n';

	if (len == 0 || max_rec == 0)
		goto out;
	if (s->mode == IK_FANOUT_BLOCK) {
		/* pos < block always holds; the first record ends sooner */
		first = s->block - s->pos;
		if (len < first)
			goto out;
		whole = 1 + (len - first) / s->block;
		k = whole < max_rec ? whole : max_rec;
		end = first + (k - 1) * s->block;
		goto out;
	}
	if (nrec == NULL && max_rec == SIZE_MAX) {
		q = memrchr(b, delim, len);
		end = q ? (size_t)(q - b) + 1 : 0;
		goto out;
	}
	while (k < max_rec && end < len &&
	       (q = memchr(b + end, delim, len - end)) != NULL) {
		end = (size_t)(q - b) + 1;
		k++;
	}
out:
	if (nrec)
		*nrec = k;
	return end;
}

size_t
ik_fanout_split_feed(struct ik_fanout_split *s, const void *buf, size_t len)
{
	size_t k, end = ik_fanout_split_scan(s, buf, len, SIZE_MAX, &k);

	if (k == 0)
		s->pos += len;
	else
		s->pos = len - end;
	return k;
}

const char *
ik_fanout_fail_str(enum ik_fanout_fail f)
{
	switch (f) {
	case IK_FANOUT_OK:
		return "ok";
	case IK_FANOUT_EXIT:
		return "failed";
	case IK_FANOUT_EARLY:
		return "exited before the end of its input";
	case IK_FANOUT_EXTRA:
		return "answered more records than it was given";
	case IK_FANOUT_SHORT:
		return "ended with records unanswered";
	}
	return "unknown failure";
}

/* ---- buffers ------------------------------------------------------------ */

struct buf {
	char *p;
	size_t off, len, cap; /* data is p[off .. off+len) */
};

static char *
buf_data(struct buf *b)
{
	return b->p + b->off;
}

/*
 * Room at the tail. The data moves to the front once that frees half the
 * buffer, or when nothing else would leave any room at all.
 */
static size_t
buf_room(struct buf *b)
{
	if (b->off > 0 && (b->off >= b->cap / 2 || b->off + b->len == b->cap)) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	return b->cap - b->off - b->len;
}

static void
buf_drop(struct buf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

/* ---- the run ------------------------------------------------------------ */

struct worker {
	struct ik_proc p;
	struct buf pend;	       /* records on their way to its stdin */
	struct buf out;		       /* its output on its way out */
	struct ik_fanout_split osplit; /* where its output stands */
	struct ik_fanout_worker st;
	uint64_t owed; /* ordered: records given, not yet answered */
	bool reaped, out_eof, epipe;
};

struct chunk {
	unsigned w;
	uint64_t need; /* records the worker still owes for this chunk */
};

struct fan {
	const struct ik_fanout_opts *o;
	struct ik_fanout_result *res;
	struct worker *w;
	unsigned n;
	size_t batch;
	bool ordered, keep_going;

	struct buf in;
	struct ik_fanout_split isplit;
	bool in_eof;
	int cur;	 /* worker taking input this turn, or -1 */
	size_t cur_sent; /* bytes it was given this turn */

	int owner;     /* worker whose output is being written, or -1 */
	size_t commit; /* bytes of owner's output decided, unwritten */
	unsigned rr;   /* unordered: next worker to look at first */
	int out_kind;  /* 0 plain write, 1 pipe/FIFO, 2 socket */

	struct chunk *q;
	size_t qhead, qlen, qcap;

	int err;    /* set once: the run ends with it */
	bool epipe; /* a write of ours met EPIPE (SIGPIPE to consume) */
};

static bool
usable(const struct worker *w)
{
	return w->p.in >= 0 && w->st.fail == IK_FANOUT_OK && !w->epipe;
}

static bool
any_usable(const struct fan *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (usable(&f->w[i]))
			return true;
	return false;
}

static void
finish(struct fan *f, int err)
{
	if (f->err == 0)
		f->err = err;
}

/*
 * Worker i failed. Without keep-going this ends the run; with it, the
 * worker gets no more input, and (ordered) what it owes is counted lost
 * when its output ends.
 */
static void
fail_worker(struct fan *f, unsigned i, enum ik_fanout_fail why)
{
	struct worker *w = &f->w[i];

	if (w->st.fail != IK_FANOUT_OK)
		return;
	w->st.fail = why;
	if (f->res->failed < 0)
		f->res->failed = (int)i;
	if (!f->keep_going) {
		finish(f, -ECHILD);
		return;
	}
	ik__close(w->p.in);
	w->p.in = -1;
	w->pend.len = w->pend.off = 0;
	if (why == IK_FANOUT_EXTRA) {
		/* its output can no longer be matched to records: keep only
		 * what was already decided */
		ik__close(w->p.out);
		w->p.out = -1;
		w->out_eof = true;
		w->out.len = f->owner == (int)i ? f->commit : 0;
		if (w->out.len == 0)
			w->out.off = 0;
		w->osplit.pos = 0;
		ik_spawn_kill(&w->p, SIGTERM);
	}
}

static int
chunk_push(struct fan *f, unsigned wi, uint64_t k)
{
	struct chunk *nq;
	size_t ncap;

	if (f->qlen > 0) {
		struct chunk *t = &f->q[(f->qhead + f->qlen - 1) % f->qcap];

		if (t->w == wi) {
			t->need += k;
			return 0;
		}
	}
	if (f->qlen == f->qcap) {
		ncap = f->qcap ? f->qcap * 2 : 64;
		nq = malloc(ncap * sizeof(*nq));
		if (nq == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < f->qlen; i++)
			nq[i] = f->q[(f->qhead + i) % f->qcap];
		free(f->q);
		f->q = nq;
		f->qcap = ncap;
		f->qhead = 0;
	}
	f->q[(f->qhead + f->qlen) % f->qcap] = (struct chunk){ wi, k };
	f->qlen++;
	return 0;
}

/* Move n input bytes holding `started` new records to the current worker. */
static void
give(struct fan *f, size_t n, uint64_t started)
{
	struct worker *w = &f->w[f->cur];

	buf_room(&w->pend);
	memcpy(w->pend.p + w->pend.off + w->pend.len, buf_data(&f->in), n);
	w->pend.len += n;
	buf_drop(&f->in, n);
	w->st.bytes_in += n;
	w->st.records_in += started;
	f->res->bytes_in += n;
	f->res->records_in += started;
	f->cur_sent += n;
	if (f->ordered && started > 0) {
		w->owed += started;
		if (chunk_push(f, (unsigned)f->cur, started) < 0)
			finish(f, -ENOMEM);
	}
}

/* The worker with the most room for input, looking after cur first. */
static int
pick(struct fan *f)
{
	int best = -1;
	size_t best_room = 0;

	for (unsigned k = 1; k <= f->n; k++) {
		unsigned i = (unsigned)(f->cur + (int)k) % f->n;
		size_t room;

		if (!usable(&f->w[i]))
			continue;
		room = buf_room(&f->w[i].pend);
		if (room > best_room) {
			best = (int)i;
			best_room = room;
		}
	}
	return best;
}

/* Hand buffered input to workers, whole records per turn where possible. */
static void
dispatch(struct fan *f)
{
	struct ik_fanout_split *s = &f->isplit;
	size_t n, k, room, win;

	while (f->in.len > 0 && f->err == 0) {
		if (s->pos > 0) {
			/* the rest of a record goes where its start went */
			struct worker *w = &f->w[f->cur];

			n = ik_fanout_split_scan(s, buf_data(&f->in), f->in.len,
						 1, &k);
			if (!usable(w)) { /* lost with its worker */
				if (n == 0)
					n = f->in.len;
				ik_fanout_split_feed(s, buf_data(&f->in), n);
				buf_drop(&f->in, n);
				continue;
			}
			room = buf_room(&w->pend);
			if (room == 0)
				return;
			win = n > 0 && n <= room
				      ? n
				      : (f->in.len < room ? f->in.len : room);
			ik_fanout_split_feed(s, buf_data(&f->in), win);
			give(f, win, 0);
			if (f->in_eof && f->in.len == 0)
				s->pos = 0; /* end of file ended it */
			continue;
		}
		if (f->cur < 0 || !usable(&f->w[f->cur]) ||
		    f->cur_sent >= f->batch ||
		    buf_room(&f->w[f->cur].pend) == 0) {
			int next = pick(f);

			if (next < 0)
				return;
			f->cur = next;
			f->cur_sent = 0;
		}
		room = buf_room(&f->w[f->cur].pend);
		win = f->in.len;
		if (win > room)
			win = room;
		if (win > f->batch - f->cur_sent)
			win = f->batch - f->cur_sent;
		n = ik_fanout_split_scan(s, buf_data(&f->in), win, SIZE_MAX,
					 &k);
		if (n > 0) {
			give(f, n, k);
			continue;
		}
		if (win < f->in.len && f->cur_sent > 0) {
			f->cur_sent = f->batch; /* no whole record fits: next */
			continue;
		}
		if (win == f->in.len && !f->in_eof && f->in.len < f->in.cap)
			return; /* the record's end is still to be read */
		/* a record longer than what fits, or the input's last one
		 * without its terminator: it streams to this worker */
		ik_fanout_split_feed(s, buf_data(&f->in), win);
		give(f, win, 1);
		if (f->in_eof && f->in.len == 0)
			s->pos = 0; /* end of file ended it */
	}
}

/* Write what is waiting for worker i; close its stdin once input is done. */
static void
feed_worker(struct fan *f, unsigned i)
{
	struct worker *w = &f->w[i];
	ssize_t r;

	while (w->p.in >= 0 && w->pend.len > 0) {
		r = write(w->p.in, buf_data(&w->pend), w->pend.len);
		if (r > 0) {
			buf_drop(&w->pend, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r < 0 && errno == EPIPE) {
			/* judged when it is reaped: exit 0 means "early" */
			w->epipe = f->epipe = true;
			w->pend.len = w->pend.off = 0;
			ik__close(w->p.in);
			w->p.in = -1;
			return;
		}
		finish(f, r < 0 ? -errno : -EIO);
		return;
	}
	if (w->p.in >= 0 && w->pend.len == 0 && f->in_eof && f->in.len == 0) {
		ik__close(w->p.in);
		w->p.in = -1;
	}
}

static void
read_worker(struct fan *f, unsigned i)
{
	struct worker *w = &f->w[i];
	size_t room = buf_room(&w->out);
	ssize_t r;

	if (w->p.out < 0 || room == 0)
		return;
	do
		r = read(w->p.out, w->out.p + w->out.off + w->out.len, room);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		w->out.len += (size_t)r;
		if (f->ordered && w->owed == 0)
			fail_worker(f, i, IK_FANOUT_EXTRA);
		return;
	}
	if (r < 0 && errno == EAGAIN)
		return;
	if (r < 0) {
		finish(f, -errno);
		return;
	}
	ik__close(w->p.out);
	w->p.out = -1;
	w->out_eof = true;
}

static void
reap_worker(struct fan *f, unsigned i)
{
	struct worker *w = &f->w[i];
	int st;

	if (w->reaped || ik_spawn_wait(&w->p, 0) < 0)
		return;
	w->reaped = true;
	st = w->st.status = w->p.status;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_worker(f, i, IK_FANOUT_EXIT);
	else if (w->epipe || w->p.in >= 0)
		fail_worker(f, i, IK_FANOUT_EARLY);
}

/* Write up to f->commit bytes of the owner's output; 0 or -EAGAIN. */
static int
write_out(struct fan *f)
{
	struct worker *w = &f->w[f->owner];
	struct ik__deadline now;
	size_t put = 0;
	ssize_t r;

	while (f->commit > 0) {
		if (f->out_kind == 0) {
			r = write(f->o->out_fd, buf_data(&w->out), f->commit);
			if (r < 0 && errno == EINTR)
				continue;
			r = r < 0 ? -errno : r;
			put = r > 0 ? (size_t)r : 0;
		} else {
			/* a zero deadline: as much as the pipe takes now */
			ik__deadline_init(&now, 0);
			r = ik__write_full(f->o->out_fd, buf_data(&w->out),
					   f->commit,
					   f->out_kind == 2 ? IK__IO_SOCKET : 0,
					   &now, &put);
		}
		buf_drop(&w->out, put);
		f->commit -= put;
		w->st.bytes_out += put;
		f->res->bytes_out += put;
		if (r == -ETIMEDOUT || r == -EAGAIN || r == 0)
			return -EAGAIN;
		if (r < 0) {
			finish(f, (int)r);
			return (int)r;
		}
	}
	return 0;
}

/*
 * Unordered: could anything but a final unterminated record still come
 * from a worker other than self? *tails tells if one holds such a record.
 */
static bool
others_pending(struct fan *f, unsigned self, bool *tails)
{
	*tails = false;
	for (unsigned i = 0; i < f->n; i++) {
		struct worker *x = &f->w[i];

		if (i == self || (x->out_eof && x->out.len == 0))
			continue;
		if (!x->out_eof ||
		    ik_fanout_split_scan(&x->osplit, buf_data(&x->out),
					 x->out.len, SIZE_MAX, NULL) > 0)
			return true;
		*tails = true;
	}
	return false;
}

/*
 * A worker's output ended without a terminator while more output is to
 * follow: add one, or the next record would run into it. Blocks have no
 * terminator (a short block just stays short). True if one was added.
 */
static bool
terminate_tail(struct fan *f, struct worker *w)
{
	if (f->o->mode == IK_FANOUT_BLOCK || buf_room(&w->out) == 0)
		return false;
	w->out.p[w->out.off + w->out.len++] =
		f->o->mode == IK_FANOUT_NUL ? '\0' : '\n';
	return true;
}

/* Unordered: choose whose output goes next and how much; false if none. */
static bool
choose_any(struct fan *f)
{
	for (unsigned k = 0; k < f->n; k++) {
		unsigned i = (f->rr + k) % f->n;
		struct worker *w = &f->w[i];
		size_t n;

		if (w->out.len == 0)
			continue;
		n = ik_fanout_split_scan(&w->osplit, buf_data(&w->out),
					 w->out.len, SIZE_MAX, NULL);
		if (n == 0 && w->out.len < w->out.cap && !w->out_eof)
			continue; /* wait for the end of the record */
		if (n == 0 && w->out_eof) {
			bool tails;

			/* the input's last record, unterminated: last out */
			if (others_pending(f, i, &tails))
				continue;
			if (tails)
				terminate_tail(f, w);
			n = w->out.len;
			w->osplit.pos = 0;
		} else if (n == 0) {
			n = w->out.len;
			ik_fanout_split_feed(&w->osplit, buf_data(&w->out), n);
		} else {
			w->osplit.pos = 0;
		}
		f->owner = (int)i;
		f->commit = n;
		f->rr = i + 1;
		return true;
	}
	return false;
}

/* Unordered, owner mid-record: the rest of that record; false to wait. */
static bool
continue_record(struct fan *f)
{
	struct worker *w = &f->w[f->owner];
	size_t n;

	if (w->osplit.pos == 0)
		return false;
	if (w->out.len == 0) {
		bool tails;

		if (!w->out_eof)
			return false;
		w->osplit.pos = 0; /* end of file ended it */
		if ((others_pending(f, (unsigned)f->owner, &tails) || tails) &&
		    terminate_tail(f, w)) {
			f->commit = 1;
			return true;
		}
		return false;
	}
	n = ik_fanout_split_scan(&w->osplit, buf_data(&w->out), w->out.len, 1,
				 NULL);
	if (n == 0)
		n = w->out.len;
	ik_fanout_split_feed(&w->osplit, buf_data(&w->out), n);
	f->commit = n;
	return true;
}

/* Ordered: the head chunk's worker answers; false to wait. */
static bool
choose_head(struct fan *f)
{
	while (f->qlen > 0) {
		struct chunk *c = &f->q[f->qhead];
		struct worker *w = &f->w[c->w];
		size_t n, k;

		if (c->need == 0) {
			f->qhead = (f->qhead + 1) % f->qcap;
			f->qlen--;
			continue;
		}
		if (w->out.len > 0) {
			n = ik_fanout_split_scan(&w->osplit, buf_data(&w->out),
						 w->out.len, c->need, &k);
			if (k < c->need) /* all of it belongs to this chunk */
				n = w->out.len;
			ik_fanout_split_feed(&w->osplit, buf_data(&w->out), n);
			c->need -= k;
			w->owed -= k;
			w->st.records_out += k;
			f->owner = (int)c->w;
			f->commit = n;
			if (w->owed == 0 && w->out.len > n)
				fail_worker(f, c->w, IK_FANOUT_EXTRA);
			return true;
		}
		if (!w->out_eof)
			return false;
		if (w->osplit.pos > 0) { /* end of file ended the record */
			w->osplit.pos = 0;
			c->need--;
			w->owed--;
			w->st.records_out++;
			if ((c->need > 0 || f->qlen > 1 || !f->in_eof ||
			     f->in.len > 0) &&
			    terminate_tail(f, w)) {
				f->owner = (int)c->w;
				f->commit = 1;
				return true;
			}
			continue;
		}
		if (!w->reaped)
			return false; /* its exit status says more than "short"
				       */
		if (w->st.fail == IK_FANOUT_OK)
			fail_worker(f, c->w, IK_FANOUT_SHORT);
		if (f->err)
			return false;
		f->res->records_lost += c->need;
		w->owed -= c->need;
		c->need = 0;
	}
	return false;
}

static void
emit(struct fan *f)
{
	while (f->err == 0) {
		if (f->owner >= 0 && f->commit > 0 && write_out(f) < 0)
			return;
		if (f->owner >= 0 && !f->ordered && continue_record(f))
			continue;
		if (f->owner >= 0 && !f->ordered && f->w[f->owner].osplit.pos)
			return; /* mid-record: nobody else may write */
		f->owner = -1;
		if (!(f->ordered ? choose_head(f) : choose_any(f)))
			return;
	}
}

static void
read_input(struct fan *f)
{
	size_t room = buf_room(&f->in);
	ssize_t r;

	if (room == 0 || f->in_eof)
		return;
	do
		r = read(f->o->in_fd, f->in.p + f->in.off + f->in.len, room);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		f->in.len += (size_t)r;
	else if (r == 0)
		f->in_eof = true;
	else if (errno != EAGAIN)
		finish(f, -errno);
}

static bool
all_done(const struct fan *f)
{
	if (!f->in_eof || f->in.len > 0 || f->owner >= 0 || f->qlen > 0)
		return false;
	for (unsigned i = 0; i < f->n; i++)
		if (!f->w[i].reaped || !f->w[i].out_eof || f->w[i].out.len)
			return false;
	return true;
}

/* End the run early: SIGTERM, close every pipe, SIGKILL after grace. */
static void
stop_workers(struct fan *f)
{
	struct ik__deadline d;
	int grace = f->o->grace_ms ? f->o->grace_ms : DEF_GRACE_MS;

	/* SIGTERM before the pipes close: a worker seeing end of file
	 * first would take it for the normal end and finish its output */
	for (unsigned i = 0; i < f->n; i++) {
		if (!f->w[i].reaped)
			ik_spawn_kill(&f->w[i].p, SIGTERM);
		ik__close(f->w[i].p.in);
		ik__close(f->w[i].p.out);
		f->w[i].p.in = f->w[i].p.out = -1;
	}
	ik__deadline_init(&d, grace);
	for (unsigned i = 0; i < f->n; i++) {
		struct worker *w = &f->w[i];
		int left = ik__deadline_left_ms(&d);

		if (w->reaped)
			continue;
		if (ik_spawn_wait(&w->p, left) == -ETIMEDOUT) {
			ik_spawn_kill(&w->p, SIGKILL);
			ik_spawn_wait(&w->p, -1);
		}
		w->reaped = true;
		w->st.status = w->p.status;
	}
}

/* One poll round: wait for anything that can move, then move it. */
static void
poll_round(struct fan *f, struct pollfd *pf, int *who)
{
	int np = 0;
	const int STOP = -1, IN = -2, OUT = -3;

#define ADD(fd_, ev_, tag_)                                               \
	do {                                                              \
		pf[np] = (struct pollfd){ .fd = (fd_), .events = (ev_) }; \
		who[np++] = (tag_);                                       \
	} while (0)

	if (f->o->stop_fd >= 0)
		ADD(f->o->stop_fd, POLLIN, STOP);
	if (!f->in_eof && f->in.len < f->in.cap)
		ADD(f->o->in_fd, POLLIN, IN);
	if (f->owner >= 0 && f->commit > 0)
		ADD(f->o->out_fd, POLLOUT, OUT);
	for (unsigned i = 0; i < f->n; i++) {
		struct worker *w = &f->w[i];

		/* tags: 3i stdin, 3i+1 stdout, 3i+2 pidfd */
		if (w->p.in >= 0 && w->pend.len > 0)
			ADD(w->p.in, POLLOUT, (int)(3 * i));
		if (w->p.out >= 0 && w->out.len < w->out.cap)
			ADD(w->p.out, POLLIN, (int)(3 * i + 1));
		if (!w->reaped)
			ADD(w->p.pidfd, POLLIN, (int)(3 * i + 2));
	}
#undef ADD
	if (np == (f->o->stop_fd >= 0)) {
		/* nothing can move any more: a bug, not a reason to hang */
		finish(f, -EDEADLK);
		return;
	}
	if (poll(pf, (nfds_t)np, -1) < 0) {
		if (errno != EINTR)
			finish(f, -errno);
		return;
	}
	/* a stop wins over whatever else is ready (a ^C kills workers too) */
	for (int k = 0; k < np; k++)
		if (who[k] == STOP && pf[k].revents) {
			finish(f, -EINTR);
			return;
		}
	for (int k = 0; k < np && f->err == 0; k++) {
		if (pf[k].revents == 0)
			continue;
		if (pf[k].revents & POLLNVAL) {
			finish(f, -EBADF);
			return;
		}
		if (who[k] == IN)
			read_input(f);
		else if (who[k] >= 0 && who[k] % 3 == 0)
			feed_worker(f, (unsigned)who[k] / 3);
		else if (who[k] >= 0 && who[k] % 3 == 1)
			read_worker(f, (unsigned)who[k] / 3);
	}
	/* exits last: output that came before the end has been read */
	for (int k = 0; k < np && f->err == 0; k++)
		if (who[k] >= 0 && who[k] % 3 == 2 && pf[k].revents)
			reap_worker(f, (unsigned)who[k] / 3);
}

static int
check_opts(const struct ik_fanout_opts *o)
{
	struct ik_fanout_split s;
	struct stat sb;

	if (o == NULL || o->argv == NULL || o->argv[0] == NULL ||
	    o->argv[0][0] == '\0' || o->workers == 0 ||
	    o->workers > IK_FANOUT_MAX_WORKERS ||
	    (o->flags &
	     ~(unsigned)(IK_FANOUT_ORDERED | IK_FANOUT_KEEP_GOING)) ||
	    o->grace_ms < -1)
		return -EINVAL;
	if (ik_fanout_split_init(&s, o->mode, o->block) < 0)
		return -EINVAL;
	if (o->bufsize != 0 && o->bufsize < 4096)
		return -EINVAL;
	if (fstat(o->in_fd, &sb) < 0 || fstat(o->out_fd, &sb) < 0)
		return -EBADF;
	if (o->stop_fd >= 0 && fstat(o->stop_fd, &sb) < 0)
		return -EBADF;
	return 0;
}

static int
out_kind(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return 0;
	if (S_ISFIFO(sb.st_mode))
		return 1;
	if (S_ISSOCK(sb.st_mode))
		return 2;
	return 0; /* files, /dev/null, terminals: a plain write */
}

static void
free_fan(struct fan *f)
{
	for (unsigned i = 0; f->w && i < f->n; i++) {
		ik_spawn_close(&f->w[i].p);
		free(f->w[i].pend.p);
		free(f->w[i].out.p);
	}
	free(f->w);
	free(f->in.p);
	free(f->q);
}

int
ik_fanout_run(const struct ik_fanout_opts *o, struct ik_fanout_result *res)
{
	const struct ik_spawn_opts so = {
		.io = { { IK_STDIO_PIPE, -1 },
			{ IK_STDIO_PIPE, -1 },
			{ IK_STDIO_INHERIT, -1 } },
		.flags = IK_SPAWN_NONBLOCK,
	};
	struct ik_fanout_result local;
	struct fan f = { 0 };
	struct pollfd *pf = NULL;
	struct ik__sigpipe g;
	size_t bufsize;
	int64_t t0;
	int *who = NULL, r;

	if ((r = check_opts(o)) < 0)
		return r;
	bufsize = o->bufsize ? o->bufsize : DEF_BUFSIZE;
	f.o = o;
	f.n = o->workers;
	f.batch = o->batch ? o->batch : DEF_BATCH;
	if (f.batch > bufsize)
		f.batch = bufsize;
	f.ordered = o->flags & IK_FANOUT_ORDERED;
	f.keep_going = o->flags & IK_FANOUT_KEEP_GOING;
	f.cur = f.owner = -1;
	f.out_kind = out_kind(o->out_fd);
	f.res = &local;
	memset(&local, 0, sizeof(local));
	local.failed = -1;
	ik_fanout_split_init(&f.isplit, o->mode, o->block);

	f.w = calloc(f.n, sizeof(*f.w));
	f.in.p = malloc(bufsize);
	f.in.cap = bufsize;
	pf = calloc(3 * (size_t)f.n + 3, sizeof(*pf));
	who = calloc(3 * (size_t)f.n + 3, sizeof(*who));
	r = -ENOMEM;
	if (f.w == NULL || f.in.p == NULL || pf == NULL || who == NULL)
		goto fail;
	for (unsigned i = 0; i < f.n; i++) {
		struct worker *w = &f.w[i];

		w->p.pid = w->p.pidfd = w->p.in = w->p.out = w->p.err = -1;
		w->reaped = true; /* until started */
		w->pend.p = malloc(bufsize);
		w->out.p = malloc(bufsize);
		if (w->pend.p == NULL || w->out.p == NULL)
			goto fail;
		w->pend.cap = w->out.cap = bufsize;
		ik_fanout_split_init(&w->osplit, o->mode, o->block);
	}

	t0 = ik__now_ns();
	for (unsigned i = 0; i < f.n; i++) {
		r = ik_spawn(&f.w[i].p, o->argv, &so);
		if (r < 0)
			goto fail;
		f.w[i].reaped = false;
		f.w[i].st.pid = f.w[i].p.pid;
		f.w[i].st.status = -1;
	}

	/* our writes to workers and to out_fd report EPIPE, never SIGPIPE */
	ik__sigpipe_block(&g);
	while (f.err == 0 && !all_done(&f)) {
		dispatch(&f);
		for (unsigned i = 0; i < f.n && f.err == 0; i++)
			feed_worker(&f, i);
		emit(&f);
		if (f.err == 0 && (!f.in_eof || f.in.len > 0) &&
		    !any_usable(&f) && local.failed >= 0)
			finish(&f, -ECHILD); /* keep-going, but nobody left */
		if (f.err == 0 && !all_done(&f))
			poll_round(&f, pf, who);
	}
	if (f.err == 0 && local.failed >= 0)
		f.err = -ECHILD;
	if (f.err != 0)
		stop_workers(&f);
	ik__sigpipe_restore(&g, f.epipe);
	local.elapsed_ns = ik__now_ns() - t0;
	if (res != NULL) {
		local.workers = res->workers;
		if (local.workers != NULL)
			for (unsigned i = 0; i < f.n; i++)
				local.workers[i] = f.w[i].st;
		*res = local;
	}
	r = f.err;
	free_fan(&f);
	free(pf);
	free(who);
	return r;
fail:
	/* a worker could not be started: the others must not linger */
	if (f.w != NULL)
		stop_workers(&f);
	free_fan(&f);
	free(pf);
	free(who);
	return r;
}
