/*
 * The address grammar: every scheme parsed and printed back canonically,
 * options typed, and each kind of malformed address refused with a message
 * that says what was wrong.
 */
#include <string.h>

#include <ipckit/addr.h>
#include <ipckit/error.h>

#include "ikt.h"

static void
roundtrip(const char *in, const char *canon)
{
	struct ik_addr a, b;
	char out[2048], err[256], out2[2048];
	int r = ik_addr_parse(in, &a, err, sizeof(err));

	if (r != 0)
		fail_msg("%s: %s (%s)", in, ik_errname(r), err);
	assert_int_equal(ik_addr_format(&a, out, sizeof(out)),
			 (int)strlen(canon));
	assert_string_equal(out, canon);
	/* the canonical form is a fixed point */
	assert_int_equal(ik_addr_parse(out, &b, err, sizeof(err)), 0);
	assert_int_equal(ik_addr_format(&b, out2, sizeof(out2)),
			 (int)strlen(canon));
	assert_string_equal(out2, canon);
}

static void
test_schemes_roundtrip(void **state)
{
	(void)state;
	roundtrip("fifo:/run/user/1000/jobs", "fifo:/run/user/1000/jobs");
	roundtrip("UNIX:/run/app.sock", "unix:/run/app.sock");
	roundtrip("unixgram:rel/path", "unixgram:rel/path");
	roundtrip("unixpacket:/p?mode=0600", "unixpacket:/p?mode=0600");
	roundtrip("abstract:app", "abstract:app");
	roundtrip("tcp:127.0.0.1:6380", "tcp:127.0.0.1:6380");
	roundtrip("tcp:[::1]:6380", "tcp:[::1]:6380");
	roundtrip("udp:localhost:0", "udp:localhost:0");
	roundtrip("pmq:/jobs?msgsize=8192&maxmsg=10",
		  "pmq:/jobs?maxmsg=10&msgsize=8192");
	roundtrip("svmq:0x1234?type=2", "svmq:0x1234?type=2");
	roundtrip("svmq:4660", "svmq:0x1234");
	roundtrip("svmq:private", "svmq:private");
	roundtrip("svmq:/etc/passwd?proj=7", "svmq:/etc/passwd?proj=7");
	roundtrip("shm:/bench?size=1M", "shm:/bench?size=1M");
	/* escapes decoded, reserved bytes re-encoded, others left alone */
	roundtrip("unix:/a%20b%3fc", "unix:/a%20b%3Fc");
	roundtrip("fifo:/x?Nonblock", "fifo:/x?nonblock=1");
	roundtrip("fifo:/x?a=1&&b=2&", "fifo:/x?a=1&b=2");
}

static void
test_fields(void **state)
{
	struct ik_addr a;

	(void)state;
	assert_int_equal(ik_addr_parse("tcp:[fe80::1%25eth0]:80", &a, NULL, 0),
			 0);
	assert_int_equal(a.scheme, IK_SCHEME_TCP);
	assert_string_equal(a.host, "fe80::1%eth0");
	assert_int_equal(a.port, 80);
	assert_int_equal(ik_addr_parse("svmq:0xffffffff", &a, NULL, 0), 0);
	assert_int_equal(a.key, -1);
	assert_int_equal(ik_addr_parse("svmq:private", &a, NULL, 0), 0);
	assert_int_equal(a.key, 0);
	assert_int_equal(a.key_from_path, 0);
	assert_int_equal(ik_addr_parse("svmq:/tmp?proj=3", &a, NULL, 0), 0);
	assert_int_equal(a.key_from_path, 1);
	assert_int_equal(ik_addr_parse("unix:/p", &a, NULL, 0), 0);
	assert_string_equal(a.rest, "/p");
	assert_int_equal(a.nopts, 0);
}

static void
test_typed_options(void **state)
{
	struct ik_addr a;
	uint64_t u;
	int64_t ms;
	unsigned mode;
	int b;
	char err[256];

	(void)state;
	assert_int_equal(ik_addr_parse("shm:/r?size=64K&timeout=2s&mode=0640&"
				       "spin=yes&count=12&bad=12x",
				       &a, NULL, 0),
			 0);
	assert_int_equal(ik_addr_opt_size(&a, "size", &u, NULL, 0), 0);
	assert_int_equal(u, 65536);
	assert_int_equal(ik_addr_opt_ms(&a, "timeout", &ms, NULL, 0), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(ik_addr_opt_mode(&a, "mode", &mode, NULL, 0), 0);
	assert_int_equal(mode, 0640);
	assert_int_equal(ik_addr_opt_bool(&a, "spin", &b, NULL, 0), 0);
	assert_int_equal(b, 1);
	assert_int_equal(ik_addr_opt_u64(&a, "count", &u, NULL, 0), 0);
	assert_int_equal(u, 12);
	assert_int_equal(ik_addr_opt_u64(&a, "absent", &u, NULL, 0), 1);
	assert_int_equal(ik_addr_opt_size(&a, "bad", &u, err, sizeof(err)),
			 IK_EBADADDR);
	assert_non_null(strstr(err, "bad=12x"));
	assert_int_equal(ik_addr_opt_mode(&a, "count", &mode, err, sizeof(err)),
			 0); /* "12" is valid octal */
	assert_int_equal(ik_addr_opt_bool(&a, "count", &b, err, sizeof(err)),
			 IK_EBADADDR);
	{
		static const char *const keys[] = { "size", "timeout", NULL };

		assert_int_equal(ik_addr_check_opts(&a, keys, err, sizeof(err)),
				 IK_EBADADDR);
		assert_non_null(strstr(err, "valid: size, timeout"));
	}
}

static void
refused(const char *in, int code, const char *needle)
{
	struct ik_addr a;
	char err[512];
	int r = ik_addr_parse(in, &a, err, sizeof(err));

	if (r != code)
		fail_msg("%s: got %s, want %s (%s)", in, ik_errname(r),
			 ik_errname(code), err);
	if (strstr(err, needle) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", in, err, needle);
}

static void
test_bad_addresses(void **state)
{
	char longp[200];

	(void)state;
	refused("nocolon", IK_EBADSCHEME, "fifo, unix");
	refused(":/x", IK_EBADSCHEME, "SCHEME:ADDRESS");
	refused("http://x", IK_EBADSCHEME, "unknown scheme 'http'");
	refused("unix:", IK_EBADADDR, "nothing after 'unix:'");
	refused("tcp:127.0.0.1", IK_EBADADDR, "HOST:PORT");
	refused("tcp:127.0.0.1:99999", IK_EBADADDR, "0-65535");
	refused("tcp:127.0.0.1:http", IK_EBADADDR, "0-65535");
	refused("tcp:::1:80", IK_EBADADDR, "brackets");
	refused("tcp:[::1:80", IK_EBADADDR, "missing ']'");
	refused("tcp:[::1]80", IK_EBADADDR, "':PORT'");
	refused("tcp::80", IK_EBADADDR, "host");
	refused("pmq:jobs", IK_EBADADDR, "'/' followed by");
	refused("pmq:/a/b", IK_EBADADDR, "'/' followed by");
	refused("shm:/", IK_EBADADDR, "'/' followed by");
	refused("svmq:12abc", IK_EBADADDR, "must be a number");
	refused("svmq:0", IK_EBADADDR, "private");
	refused("svmq:0x1ffffffff", IK_EBADADDR, "32 bits");
	refused("unix:/a%zz", IK_EBADADDR, "%-escape");
	refused("unix:/a%00b", IK_EBADADDR, "%-escape");
	refused("unix:/a%2", IK_EBADADDR, "%-escape");
	refused("fifo:/x?=1", IK_EBADADDR, "empty name");
	refused("fifo:/x?a=1&a=2", IK_EBADADDR, "twice");
	refused("fifo:/x?a b=1", IK_EBADADDR, "bad character");
	memset(longp, 'a', sizeof(longp));
	longp[0] = 'u', longp[1] = 'n', longp[2] = 'i', longp[3] = 'x';
	longp[4] = ':', longp[5] = '/';
	longp[sizeof(longp) - 1] = '\0';
	refused(longp, IK_EBADADDR, "107 bytes");
}

static void
test_format_truncates_safely(void **state)
{
	struct ik_addr a;
	char small[8];

	(void)state;
	assert_int_equal(ik_addr_parse("unix:/run/app.sock", &a, NULL, 0), 0);
	assert_int_equal(ik_addr_format(&a, small, sizeof(small)), 18);
	assert_string_equal(small, "unix:/r");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schemes_roundtrip),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_typed_options),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_format_truncates_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
