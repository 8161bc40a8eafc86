/*
 * ik_fanout: the record splitter against a naive model (every mode, every
 * way of cutting the stream), then whole runs with real workers (tr, cat,
 * sh) fed by a producer process and read by a consumer process: ordered
 * output equal to the sequential run, unordered output as intact records,
 * records longer than every buffer, latency without batching waits, worker
 * failures of each kind, a vanished reader, a stop request, bad options.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ipckit/fanout.h>

#include "ikt.h"

/* ---- splitter --------------------------------------------------------- */

/* Record ends in the stream model: byte i ends a record. */
static bool
ends_here(enum ik_fanout_mode m, size_t block, const char *s, size_t i)
{
	if (m == IK_FANOUT_BLOCK)
		return (i + 1) % block == 0;
	return s[i] == (m == IK_FANOUT_NUL ? '\0' : '\n');
}

static void
test_split_lines(void **state)
{
	struct ik_fanout_split s;
	size_t k;

	(void)state;
	assert_int_equal(ik_fanout_split_init(&s, IK_FANOUT_LINES, 0), 0);
	assert_int_equal(
		ik_fanout_split_scan(&s, "ab\ncd\nef", 8, SIZE_MAX, &k), 6);
	assert_int_equal(k, 2);
	assert_int_equal(ik_fanout_split_scan(&s, "ab\ncd\nef", 8, 1, &k), 3);
	assert_int_equal(k, 1);
	assert_int_equal(ik_fanout_split_scan(&s, "abc", 3, SIZE_MAX, &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(ik_fanout_split_scan(&s, "a\n", 2, 0, &k), 0);
	/* the fast path (no count wanted) agrees */
	assert_int_equal(
		ik_fanout_split_scan(&s, "ab\ncd\nef", 8, SIZE_MAX, NULL), 6);
	assert_int_equal(ik_fanout_split_feed(&s, "ab\ncd\nef", 8), 2);
	assert_int_equal(s.pos, 2);
	assert_int_equal(ik_fanout_split_feed(&s, "gh", 2), 0);
	assert_int_equal(s.pos, 4);
	assert_int_equal(ik_fanout_split_feed(&s, "\n\n", 2), 2);
	assert_int_equal(s.pos, 0);
	/* NUL records may hold newlines */
	assert_int_equal(ik_fanout_split_init(&s, IK_FANOUT_NUL, 0), 0);
	assert_int_equal(ik_fanout_split_scan(&s, "a\nb\0c", 5, SIZE_MAX, &k),
			 4);
	assert_int_equal(k, 1);
}

static void
test_split_blocks(void **state)
{
	struct ik_fanout_split s;
	char b[64] = { 0 };
	size_t k;

	(void)state;
	assert_int_equal(ik_fanout_split_init(&s, IK_FANOUT_BLOCK, 10), 0);
	assert_int_equal(ik_fanout_split_scan(&s, b, 35, SIZE_MAX, &k), 30);
	assert_int_equal(k, 3);
	assert_int_equal(ik_fanout_split_scan(&s, b, 35, 2, &k), 20);
	assert_int_equal(ik_fanout_split_feed(&s, b, 7), 0);
	assert_int_equal(s.pos, 7);
	/* the current block ends 3 bytes in */
	assert_int_equal(ik_fanout_split_scan(&s, b, 2, SIZE_MAX, &k), 0);
	assert_int_equal(ik_fanout_split_scan(&s, b, 25, SIZE_MAX, &k), 23);
	assert_int_equal(k, 3);
	assert_int_equal(ik_fanout_split_feed(&s, b, 25), 3);
	assert_int_equal(s.pos, 2);
}

static void
test_split_bad_input(void **state)
{
	struct ik_fanout_split s;

	(void)state;
	assert_int_equal(ik_fanout_split_init(&s, IK_FANOUT_BLOCK, 0), -EINVAL);
	assert_int_equal(ik_fanout_split_init(&s, (enum ik_fanout_mode)7, 1),
			 -EINVAL);
	assert_int_equal(ik_fanout_split_init(NULL, IK_FANOUT_LINES, 0),
			 -EINVAL);
}

/*
 * Random streams cut at random places: every scan answer and every feed
 * count agrees with the byte-by-byte model, whatever the cuts.
 */
static void
test_split_matches_model(void **state)
{
	static const enum ik_fanout_mode modes[] = { IK_FANOUT_LINES,
						     IK_FANOUT_NUL,
						     IK_FANOUT_BLOCK };
	char buf[512];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		enum ik_fanout_mode m = modes[round % 3];
		size_t block = 1 + (size_t)(rand_r(&seed) % 40);
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf));
		size_t at = 0, total = 0, want_total = 0;
		struct ik_fanout_split s;

		for (size_t i = 0; i < len; i++) {
			int r = rand_r(&seed) % 8;

			buf[i] = r == 0 ? '\n' : r == 1 ? '\0' : 'x';
			want_total += ends_here(m, block, buf, i);
		}
		assert_int_equal(ik_fanout_split_init(&s, m, block), 0);
		while (at < len) {
			size_t cut = 1 + (size_t)rand_r(&seed) % (len - at);
			size_t max = 1 + (size_t)rand_r(&seed) % 5, k, n;
			size_t want_n = 0, want_k = 0, want_last = 0;

			/* the model, with the stream position of this piece */
			for (size_t i = 0; i < cut; i++) {
				if (!ends_here(m, block, buf, at + i))
					continue;
				want_last = i + 1;
				if (want_k < max) {
					want_k++;
					want_n = i + 1;
				}
			}
			if (m == IK_FANOUT_BLOCK)
				assert_int_equal(s.pos, at % block);
			n = ik_fanout_split_scan(&s, buf + at, cut, max, &k);
			assert_int_equal(n, want_n);
			assert_int_equal(k, want_k);
			n = ik_fanout_split_scan(&s, buf + at, cut, SIZE_MAX,
						 NULL);
			assert_int_equal(n, want_last);
			total += ik_fanout_split_feed(&s, buf + at, cut);
			at += cut;
		}
		assert_int_equal(total, want_total);
	}
}

/* ---- runs ---------------------------------------------------------------- */

/* An unlinked temporary file: nothing to clean up, whatever happens. */
static int
tmpfile_fd(void)
{
	char path[256];
	int fd;

	ikt_path(path, sizeof(path), "fanout");
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/*
 * A producer process writing buf `times` times (-1: until the pipe is
 * closed) to a new pipe; *fd gets the read end.
 */
static pid_t
producer(const char *buf, size_t len, int times, int *fd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t done = 0;
		ssize_t n;

		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		for (int t = 0; times < 0 || t < times; t++) {
			for (done = 0; done < len; done += (size_t)n) {
				n = write(p[1], buf + done, len - done);
				if (n < 0 && errno == EINTR)
					n = 0;
				else if (n <= 0)
					_exit(3); /* the run stopped reading */
			}
		}
		_exit(0);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/*
 * A consumer process copying a new pipe into file fd; *wfd the write end.
 * It closes `other` (the input's read end), so that only the run holds it.
 */
static pid_t
consumer(int file, int other, int *wfd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char b[65536];
		ssize_t n;

		close(p[1]);
		close(other);
		while ((n = read(p[0], b, sizeof(b))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			IKT_CHECK(n > 0);
			IKT_CHECK(write(file, b, (size_t)n) == n);
		}
		_exit(0);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

struct run {
	struct ik_fanout_opts o;
	struct ik_fanout_result res;
	struct ik_fanout_worker w[8];
	char *out;
	size_t outlen;
	int r;
	int prod_status;
};

/*
 * Run o over input: a producer process writes it, the workers transform it,
 * a consumer process collects the output through a pipe (or, with
 * to_file, the run writes the file itself); out is NUL-terminated.
 */
static void
run_fanout(struct run *rn, const char *input, size_t len, bool to_file)
{
	int file = tmpfile_fd(), in, wfd = -1;
	pid_t prod = producer(input, len, 1, &in), cons = -1;
	struct stat sb;

	if (to_file)
		wfd = file;
	else
		cons = consumer(file, in, &wfd);
	rn->o.in_fd = in;
	rn->o.out_fd = wfd;
	if (rn->o.stop_fd == 0)
		rn->o.stop_fd = -1;
	rn->res.workers = rn->w;
	rn->r = ik_fanout_run(&rn->o, &rn->res);
	close(in);
	if (!to_file) {
		close(wfd);
		ikt_assert_child_ok(cons);
	}
	rn->prod_status = ikt_wait(prod, IKT_WAIT_MS);
	assert_int_equal(fstat(file, &sb), 0);
	rn->outlen = (size_t)sb.st_size;
	rn->out = malloc(rn->outlen + 1);
	assert_non_null(rn->out);
	assert_int_equal(pread(file, rn->out, rn->outlen, 0),
			 (ssize_t)rn->outlen);
	rn->out[rn->outlen] = '\0';
	close(file);
}

/* Every worker of the run has been reaped: none is left running. */
static void
assert_workers_gone(const struct run *rn)
{
	for (unsigned i = 0; i < rn->o.workers; i++) {
		assert_true(rn->w[i].pid > 0);
		assert_int_not_equal(rn->w[i].status, -1);
		assert_int_equal(kill(rn->w[i].pid, 0), -1);
		assert_int_equal(errno, ESRCH);
	}
}

/* Lines of varied length (empty ones too), each unique: "<i>:<letters>". */
static char *
make_lines(size_t n, size_t *len)
{
	char *b = malloc(n * 80 + 1), *p = b;

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		size_t l = (i * 7919) % 60;

		if (i % 97 == 0) { /* an empty record */
			*p++ = '\n';
			continue;
		}
		p += snprintf(p, 24, "%zu:", i);
		for (size_t j = 0; j < l; j++)
			*p++ = (char)('a' + (i + j) % 26);
		*p++ = '\n';
	}
	*len = (size_t)(p - b);
	return b;
}

static void
toupper_ascii(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char)(s[i] - 'a' + 'A');
}

/* --ordered through 3 tr workers == tr over the whole input */
static void
test_ordered_equals_sequential(void **state)
{
	const char *argv[] = { "tr", "a-z", "A-Z", NULL };
	struct run rn = { .o = { .argv = argv,
				 .workers = 3,
				 .flags = IK_FANOUT_ORDERED,
				 .batch = 4096 } };
	size_t len;
	char *in = make_lines(60000, &len), *want = malloc(len);

	(void)state;
	memcpy(want, in, len);
	toupper_ascii(want, len);
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, 0);
	assert_int_equal(rn.prod_status, 0);
	assert_int_equal(rn.outlen, len);
	assert_memory_equal(rn.out, want, len);
	assert_int_equal(rn.res.failed, -1);
	assert_int_equal(rn.res.records_in, 60000);
	assert_int_equal(rn.res.bytes_in, len);
	assert_int_equal(rn.res.bytes_out, len);
	/* small batches: the work was really shared */
	for (int i = 0; i < 3; i++) {
		assert_true(rn.w[i].records_in > 0);
		assert_int_equal(rn.w[i].records_in, rn.w[i].records_out);
		assert_int_equal(rn.w[i].fail, IK_FANOUT_OK);
	}
	assert_workers_gone(&rn);
	free(in);
	free(want);
	free(rn.out);
}

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split s (NUL-terminated) at delim into a sorted array of strings. */
static char **
sorted_records(char *s, size_t len, char delim, size_t *n)
{
	char **v = malloc((len + 1) * sizeof(*v));
	size_t k = 0, start = 0;

	assert_non_null(v);
	for (size_t i = 0; i < len; i++)
		if (s[i] == delim) {
			s[i] = '\0';
			v[k++] = s + start;
			start = i + 1;
		}
	assert_int_equal(start, len); /* the last record was terminated */
	qsort(v, k, sizeof(*v), cmp_lines);
	*n = k;
	return v;
}

/*
 * out holds the same delim-ended records as in, each intact, in any order
 * (out is cut up in place). Returns how many.
 */
static size_t
assert_same_records(const char *in, char *out, size_t len)
{
	char *copy = malloc(len), **a, **b;
	size_t n1, n2;

	assert_non_null(copy);
	memcpy(copy, in, len);
	a = sorted_records(copy, len, '\n', &n1);
	b = sorted_records(out, len, '\n', &n2);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++)
		assert_string_equal(a[i], b[i]);
	free(a);
	free(b);
	free(copy);
	return n1;
}

/* unordered cat: the same records, each intact, in some order */
static void
test_unordered_records_intact(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct run rn = { .o = { .argv = argv, .workers = 4, .batch = 1000 } };
	size_t len;
	char *in = make_lines(50000, &len);

	(void)state;
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, 0);
	assert_int_equal(rn.outlen, len);
	assert_same_records(in, rn.out, len);
	assert_workers_gone(&rn);
	free(in);
	free(rn.out);
}

/* -0: records holding newlines, in order, through tr */
static void
test_nul_records_ordered(void **state)
{
	const char *argv[] = { "tr", "a-z", "A-Z", NULL };
	struct run rn = { .o = { .argv = argv,
				 .workers = 2,
				 .mode = IK_FANOUT_NUL,
				 .flags = IK_FANOUT_ORDERED,
				 .batch = 512 } };
	size_t len;
	char *in = make_lines(20000, &len), *want;

	(void)state;
	/* every third newline becomes a record end: records span lines */
	for (size_t i = 0, k = 0; i < len; i++)
		if (in[i] == '\n' && ++k % 3 == 0)
			in[i] = '\0';
	in[len - 1] = '\0';
	want = malloc(len);
	memcpy(want, in, len);
	toupper_ascii(want, len);
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, 0);
	assert_int_equal(rn.outlen, len);
	assert_memory_equal(rn.out, want, len);
	assert_true(rn.w[0].records_in > 0 && rn.w[1].records_in > 0);
	free(in);
	free(want);
	free(rn.out);
}

/*
 * --block: every 1000-byte output block is one intact input block (each
 * carries its number), all of them once, and the short last block too.
 */
static void
test_blocks_intact(void **state)
{
	enum { B = 1000, NB = 3000, TAIL = 123 };
	const char *argv[] = { "cat", NULL };
	struct run rn = { .o = { .argv = argv,
				 .workers = 3,
				 .mode = IK_FANOUT_BLOCK,
				 .block = B,
				 .batch = 3 * B + 500 } };
	size_t len = (size_t)NB * B + TAIL, seen_tail = 0;
	char *in = malloc(len), *seen = calloc(NB, 1);

	(void)state;
	for (size_t i = 0; i < len; i++)
		in[i] = (char)('a' + (i / B + i) % 26);
	for (size_t b = 0; b < NB; b++)
		snprintf(in + b * B, 10, "%08zu", b);
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, 0);
	assert_int_equal(rn.outlen, len);
	assert_int_equal(rn.res.records_in, NB + 1);
	for (size_t at = 0; at < len;) {
		size_t b;

		if (rn.out[at] < '0' || rn.out[at] > '9') {
			/* only the short last block has no number */
			assert_true(at + TAIL <= len);
			assert_memory_equal(rn.out + at, in + (size_t)NB * B,
					    TAIL);
			seen_tail++;
			at += TAIL;
			continue;
		}
		assert_true(sscanf(rn.out + at, "%8zu", &b) == 1);
		assert_true(b < NB);
		assert_false(seen[b]);
		assert_memory_equal(rn.out + at, in + b * B, B);
		seen[b] = 1;
		at += B;
	}
	assert_int_equal(seen_tail, 1);
	for (size_t b = 0; b < NB; b++)
		assert_true(seen[b]);
	free(in);
	free(seen);
	free(rn.out);
}

/*
 * Records far longer than every buffer (4 KiB here) stream through whole,
 * never interleaved with others, in both modes.
 */
static void
test_long_records_stream(void **state)
{
	const char *argv[] = { "cat", NULL };
	enum { NREC = 40 };
	size_t len = 0, l;
	char *in = malloc(NREC * 70000);

	(void)state;
	for (int i = 0; i < NREC; i++) {
		l = i % 3 == 0 ? 60000 + (size_t)i : 10 + (size_t)i;
		len += (size_t)snprintf(in + len, 16, "%d:", i);
		for (size_t j = 0; j < l; j++)
			in[len++] = (char)('a' + (i + (int)j) % 26);
		in[len++] = '\n';
	}
	for (int ordered = 0; ordered < 2; ordered++) {
		struct run rn = { .o = { .argv = argv,
					 .workers = 3,
					 .bufsize = 4096,
					 .batch = 4096 } };

		if (ordered)
			rn.o.flags = IK_FANOUT_ORDERED;
		run_fanout(&rn, in, len, false);
		assert_int_equal(rn.r, 0);
		assert_int_equal(rn.outlen, len);
		if (ordered) {
			assert_memory_equal(rn.out, in, len);
		} else {
			assert_int_equal(assert_same_records(in, rn.out, len),
					 NREC);
		}
		free(rn.out);
	}
	free(in);
}

/* the last record lacks its newline: it is still one record, kept as is */
static void
test_unterminated_last_record(void **state)
{
	const char *argv[] = { "tr", "a-z", "A-Z", NULL };
	struct run rn = { .o = { .argv = argv,
				 .workers = 2,
				 .flags = IK_FANOUT_ORDERED,
				 .batch = 4 } };

	(void)state;
	run_fanout(&rn, "ab\ncd\nef", 8, true);
	assert_int_equal(rn.r, 0);
	assert_string_equal(rn.out, "AB\nCD\nEF");
	assert_int_equal(rn.res.records_in, 3);
	free(rn.out);
}

/*
 * Unordered, the input's last record has no newline: it comes out last,
 * as it was, instead of running into the record written after it.
 */
static void
test_unterminated_tail_comes_last(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct run rn = { .o = { .argv = argv, .workers = 3, .batch = 64 } };
	size_t len, n;
	char *in = make_lines(3000, &len), **v;

	(void)state;
	in = realloc(in, len + 5);
	memcpy(in + len, "tail", 4);
	len += 4;
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, 0);
	assert_int_equal(rn.outlen, len);
	assert_memory_equal(rn.out + len - 5, "\ntail", 5);
	rn.out[len - 4] = '\0';
	v = sorted_records(rn.out, len - 4, '\n', &n);
	assert_int_equal(n, 3000);
	free(v);
	free(in);
	free(rn.out);
}

/*
 * Latency: a producer sends one line and waits for its answer before the
 * next. A fan-out that held records back to fill a batch would stall (and
 * the producer would give up after IKT_WAIT_MS, failing the test).
 */
static void
test_no_batching_delay(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct ik_fanout_opts o = { .argv = argv,
				    .workers = 2,
				    .flags = IK_FANOUT_ORDERED,
				    .stop_fd = -1 };
	struct ik_fanout_result res = { 0 };
	struct ikt_sync ack;
	int in[2], out[2];
	pid_t prod, cons;

	(void)state;
	ikt_sync_init(&ack);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	prod = fork();
	assert_true(prod >= 0);
	if (prod == 0) {
		char line[32];

		close(in[0]);
		close(out[0]);
		close(out[1]);
		for (int i = 0; i < 200; i++) {
			int l = snprintf(line, sizeof(line), "ping %d\n", i);

			IKT_CHECK(write(in[1], line, (size_t)l) == l);
			IKT_CHECK(ikt_await(&ack, IKT_WAIT_MS) == 0);
		}
		_exit(0);
	}
	cons = fork();
	assert_true(cons >= 0);
	if (cons == 0) {
		char got[32], want[32];
		FILE *f;

		close(in[0]);
		close(in[1]);
		close(out[1]);
		f = fdopen(out[0], "r");
		IKT_CHECK(f != NULL);
		for (int i = 0; i < 200; i++) {
			snprintf(want, sizeof(want), "ping %d\n", i);
			IKT_CHECK(fgets(got, sizeof(got), f) != NULL);
			IKT_CHECK(strcmp(got, want) == 0);
			ikt_post(&ack);
		}
		IKT_CHECK(fgets(got, sizeof(got), f) == NULL);
		_exit(0);
	}
	close(in[1]);
	close(out[0]);
	o.in_fd = in[0];
	o.out_fd = out[1];
	assert_int_equal(ik_fanout_run(&o, &res), 0);
	close(in[0]);
	close(out[1]);
	ikt_assert_child_ok(prod);
	ikt_assert_child_ok(cons);
	ikt_sync_close(&ack);
	assert_int_equal(res.records_in, 200);
}

/* a worker exiting 3 stops the run: its index and status are reported */
static void
test_worker_exit_status(void **state)
{
	const char *argv[] = { "sh", "-c", "read x; exit 3", NULL };
	struct run rn = { .o = { .argv = argv, .workers = 2 } };
	size_t len;
	char *in = make_lines(200000, &len);

	(void)state;
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, -ECHILD);
	assert_true(rn.res.failed == 0 || rn.res.failed == 1);
	assert_int_equal(rn.w[rn.res.failed].fail, IK_FANOUT_EXIT);
	assert_true(WIFEXITED(rn.w[rn.res.failed].status));
	assert_int_equal(WEXITSTATUS(rn.w[rn.res.failed].status), 3);
	assert_workers_gone(&rn);
	/* the run stopped reading: the producer met a closed pipe */
	assert_true(WIFSIGNALED(rn.prod_status) ||
		    WEXITSTATUS(rn.prod_status) == 3);
	free(in);
	free(rn.out);
}

/* a worker killed by a signal is a failure with that signal */
static void
test_worker_killed(void **state)
{
	const char *argv[] = { "sh", "-c", "read x; kill -USR1 $$", NULL };
	struct run rn = { .o = { .argv = argv, .workers = 1 } };
	size_t len;
	char *in = make_lines(200000, &len);

	(void)state;
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, -ECHILD);
	assert_int_equal(rn.res.failed, 0);
	assert_true(WIFSIGNALED(rn.w[0].status));
	assert_int_equal(WTERMSIG(rn.w[0].status), SIGUSR1);
	free(in);
	free(rn.out);
}

/* exit 0 before the end of its input: "early", also a failure */
static void
test_worker_exits_early(void **state)
{
	const char *argv[] = { "sh", "-c", "read x; echo \"$x\"", NULL };
	struct run rn = { .o = { .argv = argv, .workers = 1 } };
	size_t len;
	char *in = make_lines(200000, &len); /* more than every buffer */

	(void)state;
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, -ECHILD);
	assert_int_equal(rn.w[0].fail, IK_FANOUT_EARLY);
	assert_true(WIFEXITED(rn.w[0].status));
	assert_int_equal(WEXITSTATUS(rn.w[0].status), 0);
	free(in);
	free(rn.out);
}

/* ordered: two answers per record, or too few, are protocol failures */
static void
test_ordered_protocol_failures(void **state)
{
	const char *extra[] = { "sed", "p", NULL };
	const char *shortv[] = { "sh", "-c",
				 "read x; echo \"$x\"; exec cat >/dev/null",
				 NULL };
	const char *in = "a\nb\nc\nd\n";
	struct run r1 = {
		.o = { .argv = extra, .workers = 2, .flags = IK_FANOUT_ORDERED }
	};
	struct run r2 = { .o = { .argv = shortv,
				 .workers = 1,
				 .flags = IK_FANOUT_ORDERED } };

	(void)state;
	run_fanout(&r1, in, strlen(in), false);
	assert_int_equal(r1.r, -ECHILD);
	assert_int_equal(r1.w[r1.res.failed].fail, IK_FANOUT_EXTRA);
	assert_workers_gone(&r1);
	run_fanout(&r2, in, strlen(in), false);
	assert_int_equal(r2.r, -ECHILD);
	assert_int_equal(r2.w[0].fail, IK_FANOUT_SHORT);
	/* what it did answer came out, in order */
	assert_string_equal(r2.out, "a\n");
	free(r1.out);
	free(r2.out);
}

/*
 * keep-going: one worker fails on record "boom"; the run goes on without
 * it, every other record comes out, and the failure is still reported.
 */
static void
test_keep_going(void **state)
{
	const char *argv[] = {
		"sh", "-c",
		"while read -r x; do [ \"$x\" = boom ] && exit 4; "
		"echo \"$x\"; done",
		NULL
	};
	struct run rn = { .o = { .argv = argv,
				 .workers = 3,
				 .flags = IK_FANOUT_ORDERED |
					  IK_FANOUT_KEEP_GOING,
				 .batch = 16 } };
	char in[4096];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 300; i++)
		len += (size_t)snprintf(in + len, sizeof(in) - len, "%s\n",
					i == 100 ? "boom" : "r");
	run_fanout(&rn, in, len, false);
	assert_int_equal(rn.r, -ECHILD);
	assert_int_equal(rn.w[rn.res.failed].fail, IK_FANOUT_EXIT);
	assert_int_equal(WEXITSTATUS(rn.w[rn.res.failed].status), 4);
	/* the others finished normally */
	for (int i = 0; i < 3; i++)
		if (i != rn.res.failed) {
			assert_int_equal(rn.w[i].fail, IK_FANOUT_OK);
			assert_int_equal(rn.w[i].status, 0);
		}
	/* every record came out but the lost ones ("boom" among them) */
	assert_true(rn.res.records_lost >= 1);
	assert_int_equal(rn.outlen / 2 + rn.res.records_lost, 300);
	assert_null(strstr(rn.out, "boom"));
	assert_workers_gone(&rn);
	free(rn.out);
}

/*
 * The reader of the output goes away (`| head -1`): -EPIPE, no SIGPIPE
 * (at SIG_DFL it would kill this process), workers stopped and reaped.
 */
static void
test_reader_gone(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct ik_fanout_opts o = { .argv = argv, .workers = 2, .stop_fd = -1 };
	struct ik_fanout_worker w[2];
	struct ik_fanout_result res = { .workers = w };
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigset_t pending;
	static const char yes[] = "y\n";
	int in, out[2];
	pid_t prod, cons;

	(void)state;
	assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	cons = fork();
	assert_true(cons >= 0);
	if (cons == 0) {
		char c[2];

		close(out[1]);
		IKT_CHECK(read(out[0], c, 2) == 2 && c[0] == 'y');
		_exit(0);
	}
	close(out[0]);
	prod = producer(yes, sizeof(yes) - 1, -1, &in);
	o.in_fd = in;
	o.out_fd = out[1];
	assert_int_equal(ik_fanout_run(&o, &res), -EPIPE);
	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, SIGPIPE));
	close(in);
	close(out[1]);
	ikt_assert_child_ok(cons);
	ikt_wait(prod, IKT_WAIT_MS);
	for (int i = 0; i < 2; i++) {
		assert_int_not_equal(w[i].status, -1);
		assert_int_equal(kill(w[i].pid, 0), -1);
	}
	sigaction(SIGPIPE, &old, NULL);
}

/*
 * Run o with a stop pipe: a helper process (feeding `feed` first when not
 * NULL, and expecting it back) reads 6 bytes of output, then asks to stop,
 * keeping the input open so that only the stop can end the run. The run
 * must return -EINTR; o's fds are closed again on return.
 */
static void
run_until_stopped(struct ik_fanout_opts *o, struct ik_fanout_result *res,
		  const char *feed)
{
	int in[2], out[2], stop[2];
	pid_t helper;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		char c[6];

		close(in[0]);
		close(out[1]);
		close(stop[0]);
		if (feed)
			IKT_CHECK(write(in[1], feed, 6) == 6);
		IKT_CHECK(read(out[0], c, 6) == 6);
		if (feed)
			IKT_CHECK(memcmp(c, feed, 6) == 0);
		IKT_CHECK(write(stop[1], "x", 1) == 1);
		/* until the run has let go of the input */
		while (read(out[0], c, 1) > 0)
			;
		_exit(0);
	}
	close(in[1]);
	close(out[0]);
	close(stop[1]);
	o->in_fd = in[0];
	o->out_fd = out[1];
	o->stop_fd = stop[0];
	assert_int_equal(ik_fanout_run(o, res), -EINTR);
	close(out[1]);
	ikt_assert_child_ok(helper);
	close(in[0]);
	close(stop[0]);
}

/*
 * stop_fd turning readable (a signalfd in the command) stops the run with
 * -EINTR: workers get SIGTERM and are reaped; the input is left unread.
 */
static void
test_stop_request(void **state)
{
	const char *argv[] = { "cat", NULL };
	struct ik_fanout_opts o = { .argv = argv, .workers = 3 };
	struct ik_fanout_worker w[3];
	struct ik_fanout_result res = { .workers = w };

	(void)state;
	/* feeds one line, waits for it on the output, then asks to stop */
	run_until_stopped(&o, &res, "hello\n");
	for (int i = 0; i < 3; i++) {
		assert_true(WIFSIGNALED(w[i].status));
		assert_int_equal(WTERMSIG(w[i].status), SIGTERM);
		assert_int_equal(kill(w[i].pid, 0), -1);
	}
	assert_int_equal(res.records_in, 1);
}

/* a worker deaf to SIGTERM and to end of file is killed after the grace */
static void
test_stop_kills_stubborn_worker(void **state)
{
	const char *argv[] = { "sh", "-c",
			       "trap '' TERM; echo ready; cat; exec sleep 600",
			       NULL };
	struct ik_fanout_opts o = { .argv = argv,
				    .workers = 1,
				    .grace_ms = 200 };
	struct ik_fanout_worker w[1];
	struct ik_fanout_result res = { .workers = w };

	(void)state;
	/* the trap is set once "ready" comes out */
	run_until_stopped(&o, &res, NULL);
	assert_true(WIFSIGNALED(w[0].status));
	assert_int_equal(WTERMSIG(w[0].status), SIGKILL);
}

static void
assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_bad_options(void **state)
{
	const char *cat[] = { "cat", NULL };
	const char *none[] = { "ikt-no-such-program-anywhere", NULL };
	const char *empty[] = { NULL };
	struct ik_fanout_opts ok = { .argv = cat,
				     .workers = 2,
				     .in_fd = 0,
				     .out_fd = 1,
				     .stop_fd = -1 };
	struct ik_fanout_opts o;
	struct ik_fanout_result res = { .failed = 42 };
	int fds = ikt_fd_count();

	(void)state;
	assert_int_equal(ik_fanout_run(NULL, &res), -EINVAL);
	o = ok, o.argv = NULL;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL);
	o = ok, o.argv = empty;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL);
	o = ok, o.workers = 0;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL);
	o = ok, o.workers = IK_FANOUT_MAX_WORKERS + 1;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL);
	o = ok, o.flags = 0x100;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL);
	o = ok, o.mode = IK_FANOUT_BLOCK;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL); /* block 0 */
	o = ok, o.bufsize = 100;
	assert_int_equal(ik_fanout_run(&o, &res), -EINVAL);
	o = ok, o.in_fd = 999;
	assert_int_equal(ik_fanout_run(&o, &res), -EBADF);
	o = ok, o.stop_fd = 998;
	assert_int_equal(ik_fanout_run(&o, &res), -EBADF);
	/* not startable: the error, and the first worker gone again */
	o = ok, o.argv = none;
	assert_int_equal(ik_fanout_run(&o, &res), -ENOENT);
	assert_int_equal(res.failed, 42); /* untouched */
	assert_no_children();
	assert_int_equal(ikt_fd_count(), fds);
	assert_string_equal(ik_fanout_fail_str(IK_FANOUT_EARLY),
			    "exited before the end of its input");
}

/* output to a regular file, input from one: plain reads and writes */
static void
test_files_both_ways(void **state)
{
	const char *argv[] = { "tr", "a-z", "A-Z", NULL };
	struct ik_fanout_opts o = { .argv = argv,
				    .workers = 2,
				    .flags = IK_FANOUT_ORDERED,
				    .stop_fd = -1 };
	size_t len;
	char *in = make_lines(30000, &len), *got = malloc(len + 1);
	int fin = tmpfile_fd(), fout = tmpfile_fd();

	(void)state;
	assert_int_equal(write(fin, in, len), (ssize_t)len);
	assert_int_equal(lseek(fin, 0, SEEK_SET), 0);
	o.in_fd = fin;
	o.out_fd = fout;
	assert_int_equal(ik_fanout_run(&o, NULL), 0);
	assert_int_equal(pread(fout, got, len + 1, 0), (ssize_t)len);
	toupper_ascii(in, len);
	assert_memory_equal(got, in, len);
	close(fin);
	close(fout);
	free(in);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_lines),
		cmocka_unit_test(test_split_blocks),
		cmocka_unit_test(test_split_bad_input),
		cmocka_unit_test(test_split_matches_model),
		cmocka_unit_test(test_ordered_equals_sequential),
		cmocka_unit_test(test_unordered_records_intact),
		cmocka_unit_test(test_nul_records_ordered),
		cmocka_unit_test(test_blocks_intact),
		cmocka_unit_test(test_long_records_stream),
		cmocka_unit_test(test_unterminated_last_record),
		cmocka_unit_test(test_unterminated_tail_comes_last),
		cmocka_unit_test(test_no_batching_delay),
		cmocka_unit_test(test_worker_exit_status),
		cmocka_unit_test(test_worker_killed),
		cmocka_unit_test(test_worker_exits_early),
		cmocka_unit_test(test_ordered_protocol_failures),
		cmocka_unit_test(test_keep_going),
		cmocka_unit_test(test_reader_gone),
		cmocka_unit_test(test_stop_request),
		cmocka_unit_test(test_stop_kills_stubborn_worker),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_files_both_ways),
	};

	return cmocka_run_group_tests(tests, NULL, ikt_tmpdir_teardown);
}
