/*
 * The RESP2 parser and encoders: requests whole, pipelined and split at
 * every byte; inline commands with quotes and escapes; every kind of
 * malformed input and every limit at and past its value; encoders' exact
 * bytes. Pure parsing: no second process needed (test_serve forks).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/resp.h>

#include "ikt.h"

static ik_resp_parser *
mk(size_t bulk, size_t req, size_t args, size_t inl)
{
	struct ik_resp_limits l = { bulk, req, args, inl };
	ik_resp_parser *p;

	assert_int_equal(ik_resp_parser_new(&p, &l), 0);
	return p;
}

static void
assert_arg(const struct ik_resp_req *r, size_t i, const char *want)
{
	assert_true(i < r->argc);
	assert_int_equal(r->argv[i].len, strlen(want));
	assert_memory_equal(r->argv[i].p, want, strlen(want));
}

/* parse the whole of s as exactly one request */
static struct ik_resp_req
one(ik_resp_parser *p, const char *s)
{
	struct ik_resp_req r;

	assert_int_equal(ik_resp_parse(p, s, strlen(s), &r),
			 (ssize_t)strlen(s));
	return r;
}

/* a macro, so that a failure names the case's line */
#define expect_error(p, s, msg)                                           \
	do {                                                              \
		struct ik_resp_req r_;                                    \
		assert_int_equal(ik_resp_parse((p), (s), strlen(s), &r_), \
				 -EPROTO);                                \
		assert_string_equal(ik_resp_parser_error(p), (msg));      \
	} while (0)

static void
test_multibulk(void **state)
{
	ik_resp_parser *p = mk(0, 0, 0, 0);
	struct ik_resp_req r;
	static const char bin[] = "*2\r\n$3\r\nGET\r\n$4\r\na\0\r\n\r\n";

	(void)state;
	r = one(p, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
	assert_int_equal(r.argc, 3);
	assert_false(r.is_inline);
	assert_arg(&r, 0, "SET");
	assert_arg(&r, 1, "key");
	assert_arg(&r, 2, "value");
	/* binary-safe: NUL and CRLF inside a bulk */
	assert_int_equal(ik_resp_parse(p, bin, sizeof(bin) - 1, &r),
			 (ssize_t)sizeof(bin) - 1);
	assert_int_equal(r.argv[1].len, 4);
	assert_memory_equal(r.argv[1].p, "a\0\r\n", 4);
	/* empty bulk; empty and null requests are consumed with argc 0 */
	r = one(p, "*1\r\n$0\r\n\r\n");
	assert_int_equal(r.argc, 1);
	assert_int_equal(r.argv[0].len, 0);
	r = one(p, "*0\r\n");
	assert_int_equal(r.argc, 0);
	r = one(p, "*-1\r\n");
	assert_int_equal(r.argc, 0);
	/* nothing at all: need more */
	assert_int_equal(ik_resp_parse(p, "", 0, &r), 0);
	ik_resp_parser_free(p);
}

/* Requests back to back in one buffer, then the same split at every byte */
static void
test_pipelined_and_split(void **state)
{
	ik_resp_parser *p = mk(0, 0, 0, 0);
	char buf[4096], moved[4096];
	size_t len = 0, off = 0;
	struct ik_resp_req r;
	int n = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"*2\r\n$4\r\nINCR\r\n$%d\r\n", i + 1);
		memset(buf + len, 'k', (size_t)i + 1);
		len += (size_t)i + 1;
		memcpy(buf + len, "\r\n", 2);
		len += 2;
	}
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "PING x\r\n");
	while (off < len) {
		ssize_t k = ik_resp_parse(p, buf + off, len - off, &r);

		assert_true(k > 0);
		if (n < 20) {
			assert_int_equal(r.argc, 2);
			assert_int_equal(r.argv[1].len, (size_t)n + 1);
		} else {
			assert_true(r.is_inline);
			assert_arg(&r, 1, "x");
		}
		off += (size_t)k;
		n++;
	}
	assert_int_equal(n, 21);
	/* byte by byte, and the bytes moved in memory between calls */
	off = 0;
	n = 0;
	for (size_t have = 1; off < len; have++) {
		size_t avail = have - off;
		ssize_t k;

		memcpy(moved + (have % 7), buf + off, avail);
		k = ik_resp_parse(p, moved + (have % 7), avail, &r);
		assert_true(k >= 0);
		if (k == 0)
			continue;
		assert_int_equal((size_t)k, avail); /* complete at last byte */
		assert_true(r.argc == 2 || r.is_inline);
		if (!r.is_inline)
			assert_memory_equal(r.argv[0].p, "INCR", 4);
		off += (size_t)k;
		n++;
	}
	assert_int_equal(n, 21);
	ik_resp_parser_free(p);
}

static void
test_inline(void **state)
{
	ik_resp_parser *p = mk(0, 0, 0, 0);
	struct ik_resp_req r;

	(void)state;
	r = one(p, "set  k\t v\r\n");
	assert_true(r.is_inline);
	assert_int_equal(r.argc, 3);
	assert_arg(&r, 0, "set");
	assert_arg(&r, 2, "v");
	r = one(p, "PING\n"); /* bare LF, as nc sends */
	assert_int_equal(r.argc, 1);
	r = one(p, "SET \"a b\\n\\x41\\\"\" 'it\\'s'\r\n");
	assert_int_equal(r.argc, 3);
	assert_arg(&r, 1, "a b\nA\"");
	assert_arg(&r, 2, "it's");
	r = one(p, "SET \"\" ''\r\n");
	assert_int_equal(r.argc, 3);
	assert_int_equal(r.argv[1].len, 0);
	r = one(p, "   \r\n");
	assert_int_equal(r.argc, 0);
	assert_int_equal(ik_resp_parse(p, "GET k", 5, &r), 0);
	expect_error(p, "GET \"k\r\n",
		     "Protocol error: unbalanced quotes in "
		     "request");
	expect_error(p, "GET 'k\r\n",
		     "Protocol error: unbalanced quotes in request");
	expect_error(p, "GET \"k\"x\r\n",
		     "Protocol error: unbalanced quotes in request");
	ik_resp_parser_free(p);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "*x\r\n", "Protocol error: invalid multibulk length" },
		{ "*\r\n", "Protocol error: invalid multibulk length" },
		{ "*01\r\n", "Protocol error: invalid multibulk length" },
		{ "*+1\r\n", "Protocol error: invalid multibulk length" },
		{ "*1 \r\n", "Protocol error: invalid multibulk length" },
		{ "*1\rx", "Protocol error: invalid multibulk length" },
		{ "*99999999999999999999999\r\n",
		  "Protocol error: invalid multibulk length" },
		{ "*11111111111111111111111111",
		  "Protocol error: invalid multibulk length" },
		{ "*1\r\n+OK\r\n", "Protocol error: expected '$', got '+'" },
		{ "*1\r\n\x01", "Protocol error: expected '$', got '?'" },
		{ "*1\r\n$-1\r\n", "Protocol error: invalid bulk length" },
		{ "*1\r\n$x\r\n", "Protocol error: invalid bulk length" },
		{ "*1\r\n$\r\n", "Protocol error: invalid bulk length" },
		{ "*1\r\n$03\r\nabc\r\n",
		  "Protocol error: invalid bulk length" },
		{ "*1\r\n$3\r\nabcd\r\n",
		  "Protocol error: bulk data not ended by CRLF" },
		{ "*1\r\n$3\r\nabc\n\r",
		  "Protocol error: bulk data not ended by CRLF" },
		{ "*1\r\n$99999999999999999999999",
		  "Protocol error: invalid bulk length" },
		{ "*2\r\n$1\r\na\r\n*1\r\n",
		  "Protocol error: expected '$', got '*'" },
	};
	ik_resp_parser *p = mk(0, 0, 0, 0);
	struct ik_resp_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(p, cases[i].in, cases[i].msg);
	/* after an error and a reset the parser is as new */
	ik_resp_parser_reset(p);
	r = one(p, "*1\r\n$4\r\nPING\r\n");
	assert_arg(&r, 0, "PING");
	ik_resp_parser_free(p);
}

static void
test_limits(void **state)
{
	ik_resp_parser *p = mk(8, 48, 4, 16);
	struct ik_resp_req r;
	char big[201];

	(void)state;
	/* bulk: 8 is fine, 9 is refused as soon as its length is read */
	r = one(p, "*1\r\n$8\r\n12345678\r\n");
	assert_int_equal(r.argv[0].len, 8);
	expect_error(p, "*1\r\n$9\r\n", "Protocol error: invalid bulk length");
	/* args: 4 is fine, 5 refused at the header */
	r = one(p, "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n");
	assert_int_equal(r.argc, 4);
	expect_error(p, "*5\r\n", "Protocol error: invalid multibulk length");
	/* whole request: 48 bytes; this one is 4 + 3 * (4 + 8 + 2) = 46 */
	r = one(p, "*3\r\n$8\r\naaaaaaaa\r\n$8\r\nbbbbbbbb\r\n$8\r\ncccccccc"
		   "\r\n");
	assert_int_equal(r.argc, 3);
	/* refused once a length says it cannot fit, before the data */
	expect_error(p,
		     "*4\r\n$8\r\naaaaaaaa\r\n$8\r\nbbbbbbbb\r\n$8\r\ncccccccc"
		     "\r\n$1\r\n",
		     "Protocol error: too big request");
	/* incomplete so far and within the limit: wait */
	assert_int_equal(
		ik_resp_parse(p, "*3\r\n$8\r\naaaaaaaa\r\n$8\r\nbb", 27, &r),
		0);
	ik_resp_parser_reset(p);
	/* inline: 16 bytes of line is fine, 17 is not, with or without LF */
	r = one(p, "PING 12345678901\r\n");
	assert_int_equal(r.argc, 2);
	expect_error(p, "PING 123456789012\n",
		     "Protocol error: too big inline request");
	memset(big, 'a', sizeof(big) - 1);
	big[200] = '\0';
	expect_error(p, big, "Protocol error: too big inline request");
	assert_int_equal(ik_resp_parse(p, big, 17, &r), 0);
	ik_resp_parser_free(p);
	/* a hostile count allocates nothing until the arguments arrive */
	p = mk(0, 0, 0, 0);
	assert_int_equal(ik_resp_parse(p, "*1048576\r\n", 10, &r), 0);
	ik_resp_parser_reset(p);
	expect_error(p, "*1048577\r\n",
		     "Protocol error: invalid multibulk length");
	ik_resp_parser_free(p);
	/* bad limits */
	{
		struct ik_resp_limits l = { .max_bulk = 100,
					    .max_request = 10 };

		assert_int_equal(ik_resp_parser_new(&p, &l), -EINVAL);
		assert_int_equal(ik_resp_parser_new(NULL, NULL), -EINVAL);
	}
}

static void
check_buf(struct ik_resp_buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->p, want, b->len);
	b->len = 0;
}

static void
test_encoders(void **state)
{
	struct ik_resp_buf b;
	char *d;

	(void)state;
	ik_resp_buf_init(&b);
	assert_int_equal(ik_resp_simple(&b, "OK"), 0);
	check_buf(&b, "+OK\r\n");
	assert_int_equal(ik_resp_simple(&b, "a\r\nb"), -EINVAL);
	assert_int_equal(b.len, 0);
	ik_resp_error(&b, "ERR bad\r\nthing");
	check_buf(&b, "-ERR bad  thing\r\n");
	ik_resp_int(&b, 0);
	ik_resp_int(&b, -42);
	ik_resp_int(&b, INT64_MIN);
	ik_resp_int(&b, INT64_MAX);
	check_buf(&b, ":0\r\n:-42\r\n:-9223372036854775808\r\n"
		      ":9223372036854775807\r\n");
	ik_resp_array(&b, 2);
	ik_resp_bulk(&b, "ab", 2);
	ik_resp_null(&b);
	ik_resp_array(&b, -5);
	ik_resp_bulk(&b, "", 0);
	check_buf(&b, "*2\r\n$2\r\nab\r\n$-1\r\n*-1\r\n$0\r\n\r\n");
	d = ik_resp_bulk_begin(&b, 3);
	assert_non_null(d);
	memcpy(d, "xyz", 3);
	ik_resp_bulk_end(&b, 3);
	check_buf(&b, "$3\r\nxyz\r\n");
	/* growth across many appends keeps every byte */
	for (int i = 0; i < 10000; i++)
		ik_resp_int(&b, i);
	assert_true(b.len > 10000 * 4);
	assert_memory_equal(b.p + b.len - 7, ":9999\r\n", 7);
	ik_resp_buf_free(&b);
	assert_null(b.p);
}

static void
test_to_int(void **state)
{
	static const char *bad[] = { "",
				     "-",
				     "+1",
				     "01",
				     "-0",
				     " 1",
				     "1 ",
				     "1a",
				     "9223372036854775808",
				     "-9223372036854775809",
				     "123456789012345678901" };
	struct ik_resp_arg a;
	int64_t v = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a.p = bad[i];
		a.len = strlen(bad[i]);
		assert_int_equal(ik_resp_to_int(&a, &v), -EINVAL);
		assert_int_equal(v, 7);
	}
	a.p = "-9223372036854775808";
	a.len = strlen(a.p);
	assert_int_equal(ik_resp_to_int(&a, &v), 0);
	assert_true(v == INT64_MIN);
	a.p = "0";
	a.len = 1;
	assert_int_equal(ik_resp_to_int(&a, &v), 0);
	assert_int_equal(v, 0);
}

/* Random bytes, random splits: never a crash, a read outside, or a hang */
static void
test_random_input(void **state)
{
	ik_resp_parser *p = mk(64, 256, 8, 64);
	unsigned char buf[300];
	uint32_t x = 12345;
	static const char alphabet[] = "*$\r\n0123456789-+ \"'\\xab";

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = 0, off = 0, lim;
		struct ik_resp_req r;

		x = x * 1103515245u + 12345u;
		lim = (x >> 8) % sizeof(buf);
		for (len = 0; len < lim; len++) {
			x = x * 1103515245u + 12345u;
			buf[len] =
				(x >> 16) & 1
					? (unsigned char)
						  alphabet[(x >> 8) %
							   (sizeof(alphabet) -
							    1)]
					: (unsigned char)(x >> 8);
		}
		ik_resp_parser_reset(p);
		while (off < len) {
			/* heap copy of exactly the bytes: ASan sees overreads
			 */
			char *h = malloc(len - off);
			ssize_t k;

			assert_non_null(h);
			memcpy(h, buf + off, len - off);
			k = ik_resp_parse(p, h, len - off, &r);
			if (k > 0)
				for (size_t i = 0; i < r.argc; i++)
					assert_true(r.argv[i].len <= 64);
			free(h);
			if (k <= 0)
				break;
			assert_true((size_t)k <= len - off);
			off += (size_t)k;
		}
	}
	ik_resp_parser_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multibulk),
		cmocka_unit_test(test_pipelined_and_split),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_encoders),
		cmocka_unit_test(test_to_int),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
