/*
 * ik_load: a load client for `ipckit serve` (RESP over a Unix socket). One
 * process, one epoll set, N non-blocking connections, each a closed loop of
 * SET k GET k INCR c with every reply checked byte for byte against the one
 * it must be (each connection owns its keys, so every reply is known).
 *
 * Modes:
 *   phases (default): connect all N, run until N*R requests are done in all
 *     (so a starved connection shows as a low count), again with a "slow"
 *     connection that asks for a big value now and then and never reads,
 *     then wait for the server to drop the slow one.
 *   churn (-C K -t SECONDS): each connection closes and reconnects after K
 *     requests, for SECONDS (the soak's steady load).
 * Prints key=value lines; exit 0 only if errors=0 (and, with a slow
 * client, it was dropped). Test code: printing and exiting are fine here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EXPECT_CAP 4096 /* expected reply bytes in flight per connection */
#define MAXPIPE 32

struct conn {
	int fd;
	unsigned id;
	uint64_t seq;  /* requests sent on this key set */
	uint64_t incr; /* the counter's value on the server */
	uint64_t done; /* completed in the current phase */
	/* expected reply bytes; ends[] where each pending reply ends */
	char exp[EXPECT_CAP];
	size_t elen, epos;
	size_t ends[MAXPIPE];
	uint64_t sent_ns[MAXPIPE];
	int npend, head;
	char out[EXPECT_CAP];
	size_t olen, opos;
};

static struct {
	const char *path;
	unsigned nconn, pipe, churn;
	uint64_t per_conn;
	double seconds;
	size_t big, max_output;
	int slow;
	int verbose;
} opt = { .nconn = 100, .pipe = 1, .per_conn = 30 };

static int ep;
static struct conn *conns;
static uint64_t errors, completed, reconnects;
static uint32_t *lat; /* microseconds, this phase */
static size_t nlat, latcap;
static unsigned long pid_tag;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void err(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
err(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (errors++ < 10) {
		fprintf(stderr, "ik_load: conn %u: ", c ? c->id : 0);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static int
dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt.path);
	/* blocking: a full backlog waits for the server instead of failing */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int
conn_open(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int fd = dial();

	if (fd < 0)
		return fd;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -errno;
	}
	c->fd = fd;
	c->elen = c->epos = c->olen = c->opos = 0;
	c->npend = c->head = 0;
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

static void
out_add(struct conn *c, const char *req, const char *rep)
{
	size_t rl = strlen(req), pl = strlen(rep);

	memcpy(c->out + c->olen, req, rl);
	c->olen += rl;
	memcpy(c->exp + c->elen, rep, pl);
	c->elen += pl;
	c->ends[(c->head + c->npend) % MAXPIPE] = c->elen;
	c->sent_ns[(c->head + c->npend) % MAXPIPE] = now_ns();
	c->npend++;
}

/* The next command of the SET/GET/INCR cycle, and the reply it must get. */
static void
next_request(struct conn *c)
{
	char req[256], rep[128], val[64];
	int vl;

	switch (c->seq++ % 3) {
	case 0:
		vl = snprintf(val, sizeof(val), "v%lu-%u-%llu", pid_tag, c->id,
			      (unsigned long long)c->seq);
		snprintf(req, sizeof(req),
			 "*3\r\n$3\r\nSET\r\n$%d\r\nk:%-12lu%-8u\r\n$%d\r\n%"
			 "s\r\n",
			 2 + 12 + 8, pid_tag, c->id, vl, val);
		out_add(c, req, "+OK\r\n");
		break;
	case 1:
		vl = snprintf(val, sizeof(val), "v%lu-%u-%llu", pid_tag, c->id,
			      (unsigned long long)(c->seq - 1));
		snprintf(req, sizeof(req),
			 "*2\r\n$3\r\nGET\r\n$%d\r\nk:%-12lu%-8u\r\n",
			 2 + 12 + 8, pid_tag, c->id);
		snprintf(rep, sizeof(rep), "$%d\r\n%s\r\n", vl, val);
		out_add(c, req, rep);
		break;
	default:
		snprintf(req, sizeof(req),
			 "*2\r\n$4\r\nINCR\r\n$%d\r\nc:%-12lu%-8u\r\n",
			 2 + 12 + 8, pid_tag, c->id);
		snprintf(rep, sizeof(rep), ":%llu\r\n",
			 (unsigned long long)++c->incr);
		out_add(c, req, rep);
	}
}

static void
flush(struct conn *c)
{
	while (c->opos < c->olen) {
		ssize_t n = send(c->fd, c->out + c->opos, c->olen - c->opos,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return; /* small requests: the next read will do
					 */
			err(c, "send: %s", strerror(errno));
			conn_close(c);
			return;
		}
		c->opos += (size_t)n;
	}
	c->olen = c->opos = 0;
}

static void
send_batch(struct conn *c)
{
	c->elen = c->epos = 0;
	for (unsigned i = 0; i < opt.pipe; i++)
		next_request(c);
	flush(c);
}

#define LAT_MAX (1u << 22) /* samples kept: past it, the latest overwrite */
static uint64_t nrec;

static void
record(uint64_t ns)
{
	if (nlat == LAT_MAX) { /* long churn runs: a window, bounded memory */
		lat[nrec++ % LAT_MAX] =
			(uint32_t)(ns / 1000 > UINT32_MAX ? UINT32_MAX
							  : ns / 1000);
		return;
	}
	if (nlat == latcap) {
		latcap = latcap ? latcap * 2 : 65536;
		lat = realloc(lat, latcap * sizeof(*lat));
		if (lat == NULL) {
			perror("ik_load: realloc");
			exit(2);
		}
	}
	lat[nlat++] =
		(uint32_t)(ns / 1000 > UINT32_MAX ? UINT32_MAX : ns / 1000);
}

/* Returns 1 when the batch in flight is complete. */
static int
on_readable(struct conn *c)
{
	char buf[EXPECT_CAP];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		err(c, "server closed the connection (%s), %d replies pending",
		    n == 0 ? "eof" : strerror(errno), c->npend);
		conn_close(c);
		return 0;
	}
	if (n < 0)
		return 0;
	if ((size_t)n > c->elen - c->epos ||
	    memcmp(buf, c->exp + c->epos, (size_t)n) != 0) {
		size_t k = c->elen - c->epos;

		err(c, "bad reply: got '%.*s', want '%.*s'",
		    (int)(n > 60 ? 60 : n), buf, (int)(k > 60 ? 60 : k),
		    c->exp + c->epos);
		conn_close(c);
		return 0;
	}
	c->epos += (size_t)n;
	while (c->npend > 0 && c->ends[c->head] <= c->epos) {
		record(now_ns() - c->sent_ns[c->head]);
		c->head = (c->head + 1) % MAXPIPE;
		c->npend--;
		c->done++;
		completed++;
	}
	return c->npend == 0;
}

/* ---- the slow client: big replies, never read ---------------------------
 */

static int slow_fd = -1;
static int slow_dropped;
static uint64_t slow_gets, slow_drop_at;

static int
slow_start(void)
{
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = NULL };
	char hdr[128], ok[5];
	size_t len = opt.big;
	char *v = malloc(len);
	int fd = dial(), hl;

	if (fd < 0 || v == NULL) {
		err(NULL, "slow client: %s", strerror(fd < 0 ? -fd : ENOMEM));
		return -1;
	}
	memset(v, 'x', len);
	hl = snprintf(hdr, sizeof(hdr),
		      "*3\r\n$3\r\nSET\r\n$%d\r\nbig:%-12lu\r\n$%zu\r\n",
		      4 + 12, pid_tag, len);
	/* blocking, once: store the value, read its +OK */
	if (send(fd, hdr, (size_t)hl, MSG_NOSIGNAL) != hl ||
	    send(fd, v, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, "\r\n", 2, MSG_NOSIGNAL) != 2 ||
	    recv(fd, ok, sizeof(ok), MSG_WAITALL) != 5 ||
	    memcmp(ok, "+OK\r\n", 5) != 0) {
		err(NULL, "slow client: storing %zu bytes failed", len);
		free(v);
		close(fd);
		return -1;
	}
	free(v);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	slow_fd = fd;
	return 0;
}

static void
slow_get(void)
{
	char req[64];
	int n;

	if (slow_fd < 0 || slow_dropped)
		return;
	n = snprintf(req, sizeof(req),
		     "*2\r\n$3\r\nGET\r\n$%d\r\nbig:%-12lu\r\n", 4 + 12,
		     pid_tag);
	if (send(slow_fd, req, (size_t)n, MSG_NOSIGNAL) == n)
		slow_gets++;
	else if ((errno == EPIPE || errno == ECONNRESET) && !slow_dropped) {
		slow_dropped = 1;
		slow_drop_at = completed;
	}
}

/* ---- phases --------------------------------------------------------------
 */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *tag, double secs)
{
	uint64_t *d = calloc(opt.nconn, sizeof(*d));

	if (d == NULL)
		exit(2);
	for (unsigned i = 0; i < opt.nconn; i++)
		d[i] = conns[i].done;
	qsort(d, opt.nconn, sizeof(*d), cmp_u64);
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	uint64_t total = nlat + (nrec > 0 ? nrec : 0);

	printf("%s_requests=%llu\n%s_rps=%.0f\n", tag,
	       (unsigned long long)total, tag, secs > 0 ? total / secs : 0.0);
	printf("%s_per_client_min=%llu\n%s_per_client_median=%llu\n"
	       "%s_per_client_max=%llu\n",
	       tag, (unsigned long long)d[0], tag,
	       (unsigned long long)d[opt.nconn / 2], tag,
	       (unsigned long long)d[opt.nconn - 1]);
	printf("%s_p50_us=%u\n%s_p99_us=%u\n%s_max_us=%u\n", tag,
	       nlat ? lat[nlat / 2] : 0, tag, nlat ? lat[nlat * 99 / 100] : 0,
	       tag, nlat ? lat[nlat - 1] : 0);
	free(d);
}

static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/*
 * Run until target requests are completed in all (0: until deadline_ns),
 * every connection in a closed loop. slow_every: one GET of the big value
 * per that many completed requests (0: none).
 */
static void
run_phase(uint64_t target, uint64_t deadline_ns, uint64_t slow_every)
{
	struct epoll_event evs[256];
	uint64_t start = completed, next_slow = completed + slow_every;

	for (unsigned i = 0; i < opt.nconn; i++) {
		conns[i].done = 0;
		if (conns[i].fd >= 0 && conns[i].npend == 0)
			send_batch(&conns[i]);
	}
	while (!stop_flag) {
		int n;

		if (target && completed - start >= target)
			break;
		if (deadline_ns && now_ns() >= deadline_ns)
			break;
		n = epoll_wait(ep, evs, 256, 1000);
		if (n < 0 && errno != EINTR) {
			perror("ik_load: epoll_wait");
			exit(2);
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c == NULL) { /* the slow one: the server let go */
				if (!slow_dropped)
					slow_drop_at = completed;
				slow_dropped = 1;
				epoll_ctl(ep, EPOLL_CTL_DEL, slow_fd, NULL);
				continue;
			}
			if (c->fd < 0 || !on_readable(c))
				continue;
			if (opt.churn && c->seq >= opt.churn) {
				conn_close(c);
				c->seq =
					0; /* fresh keys' cycle, same counter */
				reconnects++;
				if (conn_open(c) < 0) {
					err(c, "reconnect failed");
					continue;
				}
			}
			send_batch(c);
		}
		while (slow_every && completed >= next_slow) {
			slow_get();
			next_slow += slow_every;
		}
		for (unsigned i = 0; i < opt.nconn; i++)
			if (conns[i].fd >= 0 && conns[i].olen)
				flush(&conns[i]);
	}
}

static void
raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need) /* root may raise the hard limit too */
		rl.rlim_max = need;
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fprintf(stderr, "ik_load: RLIMIT_NOFILE %llu: %s\n",
			(unsigned long long)need, strerror(errno));
		exit(2);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: ik_load -s SOCK [-c CONNS] [-n REQS_PER_CONN] "
			"[-P PIPE]\n"
			"               [--slow BIGSIZE --max-output BYTES]\n"
			"               [-C CHURN_REQS -t SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	uint64_t t0;
	double secs;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[++i] : NULL;

		if (v == NULL)
			usage();
		if (strcmp(a, "-s") == 0)
			opt.path = v;
		else if (strcmp(a, "-c") == 0)
			opt.nconn = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "-n") == 0)
			opt.per_conn = strtoull(v, NULL, 10);
		else if (strcmp(a, "-P") == 0)
			opt.pipe = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "-C") == 0)
			opt.churn = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "-t") == 0)
			opt.seconds = strtod(v, NULL);
		else if (strcmp(a, "--slow") == 0)
			opt.big = strtoull(v, NULL, 10);
		else if (strcmp(a, "--max-output") == 0)
			opt.max_output = strtoull(v, NULL, 10);
		else
			usage();
	}
	if (opt.path == NULL || opt.nconn == 0 || opt.pipe == 0 ||
	    opt.pipe > MAXPIPE || (opt.churn && opt.seconds <= 0) ||
	    (opt.big && opt.max_output == 0))
		usage();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid_tag = (unsigned long)getpid();
	raise_nofile(opt.nconn + 64);
	ep = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc(opt.nconn, sizeof(*conns));
	if (ep < 0 || conns == NULL) {
		perror("ik_load");
		return 2;
	}
	/* every connection open before any request: N concurrent clients */
	for (unsigned i = 0; i < opt.nconn; i++) {
		int r;

		conns[i].id = i;
		conns[i].fd = -1;
		if ((r = conn_open(&conns[i])) < 0) {
			err(&conns[i], "connect: %s", strerror(-r));
			break;
		}
	}
	printf("connections=%u\n", opt.nconn);
	if (errors)
		goto out;
	if (opt.churn) {
		t0 = now_ns();
		run_phase(0, t0 + (uint64_t)(opt.seconds * 1e9), 0);
		secs = (double)(now_ns() - t0) / 1e9;
		report("churn", secs);
		printf("reconnects=%llu\n", (unsigned long long)reconnects);
		goto out;
	}
	t0 = now_ns();
	run_phase(opt.nconn * opt.per_conn, 0, 0);
	report("base", (double)(now_ns() - t0) / 1e9);
	if (opt.big) {
		/* enough GETs to pass the limit (plus socket buffers), spread
		 * over the first half of the phase */
		uint64_t gets = opt.max_output / opt.big + 16;
		uint64_t every = opt.nconn * opt.per_conn / 2 / gets;

		if (slow_start() < 0)
			goto out;
		nlat = 0;
		t0 = now_ns();
		run_phase(opt.nconn * opt.per_conn, 0, every ? every : 1);
		report("slow", (double)(now_ns() - t0) / 1e9);
		/* not dropped yet: keep asking (others idle) until it is */
		for (int k = 0; !slow_dropped && k < 100000; k++) {
			struct epoll_event ev;

			slow_get();
			if (epoll_wait(ep, &ev, 1, 10) == 1 &&
			    ev.data.ptr == NULL && !slow_dropped) {
				slow_dropped = 1;
				slow_drop_at = completed;
			}
		}
		printf("slow_gets=%llu\nslow_dropped=%d\nslow_drop_at=%llu\n",
		       (unsigned long long)slow_gets, slow_dropped,
		       (unsigned long long)slow_drop_at);
		if (!slow_dropped)
			err(NULL, "the slow client was never dropped");
	}
out:
	printf("errors=%llu\n", (unsigned long long)errors);
	for (unsigned i = 0; i < opt.nconn; i++)
		conn_close(&conns[i]);
	if (slow_fd >= 0)
		close(slow_fd);
	free(conns);
	free(lat);
	close(ep);
	return errors ? 1 : 0;
}
