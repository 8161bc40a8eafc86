/*
 * Monotonic deadlines. Every blocking call in ipckit takes a timeout in
 * milliseconds (-1 = wait forever, 0 = do not block), turns it into a
 * deadline once, and after each EINTR waits only for what remains, so a
 * stream of signals can neither cut a wait short nor stretch it.
 */
#ifndef IK_INTERNAL_TIME_H
#define IK_INTERNAL_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct ik__deadline {
	int64_t end_ns; /* CLOCK_MONOTONIC; meaningless when forever */
	bool forever;
};

static inline int64_t
ik__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void
ik__deadline_init(struct ik__deadline *d, int timeout_ms)
{
	d->forever = timeout_ms < 0;
	d->end_ns =
		d->forever ? 0 : ik__now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Nanoseconds left (>= 0), or -1 for forever. */
static inline int64_t
ik__deadline_left_ns(const struct ik__deadline *d)
{
	int64_t left;

	if (d->forever)
		return -1;
	left = d->end_ns - ik__now_ns();
	return left > 0 ? left : 0;
}

/*
 * Milliseconds left for poll(2): -1 forever, else rounded up so that a wait
 * never ends before the deadline (poll would then spin on a 0 timeout).
 */
static inline int
ik__deadline_left_ms(const struct ik__deadline *d)
{
	int64_t ns = ik__deadline_left_ns(d);

	if (ns < 0)
		return -1;
	if (ns > (int64_t)INT32_MAX * 1000000)
		return INT32_MAX;
	return (int)((ns + 999999) / 1000000);
}

static inline bool
ik__deadline_expired(const struct ik__deadline *d)
{
	return !d->forever && ik__deadline_left_ns(d) == 0;
}

/* The absolute CLOCK_MONOTONIC time of the deadline, for *_clockwait. */
static inline struct timespec
ik__deadline_abs(const struct ik__deadline *d)
{
	struct timespec ts;

	ts.tv_sec = d->end_ns / 1000000000;
	ts.tv_nsec = d->end_ns % 1000000000;
	return ts;
}

/* Time left as a relative timespec (for semtimedop, sigtimedwait). */
static inline struct timespec
ik__deadline_rel(const struct ik__deadline *d)
{
	struct timespec ts;
	int64_t ns = ik__deadline_left_ns(d);

	if (ns < 0)
		ns = 0;
	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	return ts;
}

/* The deadline on CLOCK_REALTIME, for calls that know no other clock. */
static inline struct timespec
ik__deadline_abs_realtime(const struct ik__deadline *d)
{
	struct timespec now, ts;
	int64_t ns = ik__deadline_left_ns(d);

	clock_gettime(CLOCK_REALTIME, &now);
	ns += (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	return ts;
}

/*
 * Exponential back-off for the few waits the kernel gives no event for (a
 * FIFO reader's arrival, a System V queue with a timeout, an object yet to
 * be created). Each sleep is the current step or what is left of the
 * deadline, whichever is shorter; the step doubles up to max.
 */
struct ik__backoff {
	int64_t step_ns, max_ns;
};

static inline void
ik__backoff_init(struct ik__backoff *b, int64_t min_ns, int64_t max_ns)
{
	b->step_ns = min_ns;
	b->max_ns = max_ns;
}

/*
 * Sleep one step (absolute CLOCK_MONOTONIC, so EINTR resumes toward the
 * same instant). Returns 0, or -ETIMEDOUT when the deadline has passed
 * (then nothing was slept: the caller's last attempt was at the deadline).
 */
int ik__backoff_sleep(struct ik__backoff *b, const struct ik__deadline *d);

#endif
