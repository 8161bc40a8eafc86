/*
 * Chat rooms over FIFOs: the record codec against bad input, then real
 * rooms with a server process and client processes: 20 clients at once
 * (every message to every client exactly once, in each sender's order), a
 * client killed mid-session, a client that stops reading, a stale room,
 * unsafe directories, hostile writers, nicks, and shared (group) rooms.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/chat.h>
#include <ipckit/error.h>
#include <ipckit/runtime.h>

#include "ikt.h"

static char room[64];

static int
setup(void **state)
{
	(void)state;
	ikt_name(room, sizeof(room), "room");
	return 0;
}

/* Whatever a failed test left: the room's files, its directory. */
static int
teardown(void **state)
{
	char dir[4096];

	(void)state;
	if (ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0)
		ikt_sh("rm -rf '%s'", dir);
	return 0;
}

static struct ik_chat_rec *
rec_new(int type, const char *name, const char *text)
{
	struct ik_chat_rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->type = type;
	r->pid = 1234;
	r->cid = 7;
	r->seq = 42;
	r->time_ns = 0x123456789abcdefULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->text_len = strlen(text);
	memcpy(r->text, text, r->text_len + 1);
	return r;
}

/* ---- the codec --------------------------------------------------------- */

static void
test_codec_roundtrip(void **state)
{
	struct ik_chat_rec *a = rec_new(IK_CHAT_MSG, "alice", "h\xc3\xa9llo"),
			   *b = rec_new(IK_CHAT_JOIN, "bob", ""), *out;
	uint8_t buf[2 * IK_CHAT_REC_MAX];
	ssize_t na, nb;

	(void)state;
	out = calloc(1, sizeof(*out));
	assert_non_null(out);
	na = ik_chat_encode(buf, sizeof(buf), a);
	assert_int_equal(na, IK_CHAT_HDR_SIZE + 5 + 6);
	nb = ik_chat_encode(buf + na, sizeof(buf) - (size_t)na, b);
	assert_true(nb > 0);
	/* every prefix of a stream is "need more", never an error */
	for (ssize_t i = 0; i < na; i++)
		assert_int_equal(ik_chat_decode(buf, (size_t)i, out), 0);
	assert_int_equal(ik_chat_decode(buf, (size_t)(na + nb), out), na);
	assert_int_equal(out->type, IK_CHAT_MSG);
	assert_int_equal(out->pid, 1234);
	assert_int_equal(out->cid, 7);
	assert_int_equal(out->seq, 42);
	assert_true(out->time_ns == 0x123456789abcdefULL);
	assert_string_equal(out->name, "alice");
	assert_string_equal(out->text, "h\xc3\xa9llo");
	assert_int_equal(out->text_len, 6);
	assert_int_equal(ik_chat_decode(buf + na, (size_t)nb, out), nb);
	assert_int_equal(out->type, IK_CHAT_JOIN);
	assert_string_equal(out->name, "bob");
	/* the largest text fits one record of at most PIPE_BUF */
	memset(a->text, 'x', IK_CHAT_TEXT_MAX);
	a->text_len = IK_CHAT_TEXT_MAX;
	snprintf(a->name, sizeof(a->name), "%s",
		 "abcdefghijklmnopqrstuvwxyz012345");
	na = ik_chat_encode(buf, sizeof(buf), a);
	assert_int_equal(na, IK_CHAT_REC_MAX);
	assert_int_equal(ik_chat_decode(buf, (size_t)na, out), na);
	assert_int_equal(out->text_len, IK_CHAT_TEXT_MAX);
	free(a);
	free(b);
	free(out);
}

/* Encode a valid record, corrupt one byte, expect a specific error. */
static ssize_t
decode_patched(const struct ik_chat_rec *r, size_t at, uint8_t v)
{
	uint8_t buf[IK_CHAT_REC_MAX];
	struct ik_chat_rec *out = calloc(1, sizeof(*out));
	ssize_t n = ik_chat_encode(buf, sizeof(buf), r);

	assert_true(n > (ssize_t)at);
	buf[at] = v;
	n = ik_chat_decode(buf, (size_t)n, out);
	free(out);
	return n;
}

static void
test_codec_bad_input(void **state)
{
	struct ik_chat_rec *r = rec_new(IK_CHAT_MSG, "eve", "abcdef"), *out;
	uint8_t buf[2 * IK_CHAT_REC_MAX];
	const size_t T = IK_CHAT_HDR_SIZE + 3; /* where the text starts */

	(void)state;
	out = calloc(1, sizeof(*out));
	assert_non_null(out);
	/* header fields */
	assert_int_equal(decode_patched(r, 0, 'x'), -EBADMSG);	 /* magic */
	assert_int_equal(decode_patched(r, 1, 'x'), -EBADMSG);	 /* magic */
	assert_int_equal(decode_patched(r, 2, 2), -EBADMSG);	 /* version */
	assert_int_equal(decode_patched(r, 3, 0), -EBADMSG);	 /* type */
	assert_int_equal(decode_patched(r, 3, 11), -EBADMSG);	 /* type */
	assert_int_equal(decode_patched(r, 4, 10), -EMSGSIZE);	 /* len < hdr */
	assert_int_equal(decode_patched(r, 5, 0x10), -EMSGSIZE); /* oversize */
	assert_int_equal(decode_patched(r, 5, 0xff), -EMSGSIZE);
	assert_int_equal(decode_patched(r, 6, 33), -EBADMSG);	 /* name len */
	assert_int_equal(decode_patched(r, 6, 20), -EBADMSG);	 /* > total */
	assert_int_equal(decode_patched(r, 7, 0x80), -EBADMSG);	 /* flag */
	assert_int_equal(decode_patched(r, 11, 0x80), -EBADMSG); /* pid */
	/* fields: names and text that would reach a terminal */
	assert_int_equal(decode_patched(r, IK_CHAT_HDR_SIZE, ' '), -EBADMSG);
	assert_int_equal(decode_patched(r, IK_CHAT_HDR_SIZE, '/'), -EBADMSG);
	assert_int_equal(decode_patched(r, T, 0x1b), -EBADMSG); /* ESC */
	assert_int_equal(decode_patched(r, T, 0), -EBADMSG);	/* NUL */
	assert_int_equal(decode_patched(r, T, '\n'), -EBADMSG);
	assert_int_equal(decode_patched(r, T, 0x7f), -EBADMSG);
	assert_int_equal(decode_patched(r, T, 0xc0), -EBADMSG); /* overlong */
	assert_int_equal(decode_patched(r, T, 0x80), -EBADMSG); /* stray */
	assert_int_equal(decode_patched(r, T + 5, 0xe2), -EBADMSG); /* cut */
	free(r);
	/* multi-byte rules: surrogates, C1 controls, bidi overrides */
	r = rec_new(IK_CHAT_MSG, "eve", "a\xed\xa0\x80");
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	free(r);
	r = rec_new(IK_CHAT_MSG, "eve",
		    "a\xc2\x9b"
		    "31m");
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	free(r);
	r = rec_new(IK_CHAT_MSG, "eve",
		    "gnp.\xe2\x80\xae"
		    "exe");
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	free(r);
	/* per-type rules */
	r = rec_new(IK_CHAT_JOIN, "", "");
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	free(r);
	r = rec_new(IK_CHAT_JOIN, "bob", "text");
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	free(r);
	r = rec_new(IK_CHAT_NICK, "bob", "two words");
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	free(r);
	r = rec_new(IK_CHAT_MSG, "bob", "x");
	r->type = 0;
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	r->type = IK_CHAT_MSG;
	r->flags = 0x40;
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EINVAL);
	r->flags = 0;
	/* sizes: text above the maximum, a buffer too small */
	r->text_len = IK_CHAT_TEXT_MAX + 1;
	memset(r->text, 'y', r->text_len);
	assert_int_equal(ik_chat_encode(buf, sizeof(buf), r), -EMSGSIZE);
	r->text_len = 100;
	assert_int_equal(ik_chat_encode(buf, 50, r), -EMSGSIZE);
	/* a short name leaves room for more text than allowed: refused */
	r->text_len = IK_CHAT_TEXT_MAX;
	assert_true(ik_chat_encode(buf, sizeof(buf), r) > 0);
	buf[4] = (uint8_t)(IK_CHAT_REC_MAX & 0xff);
	buf[5] = (uint8_t)(IK_CHAT_REC_MAX >> 8);
	assert_int_equal(ik_chat_decode(buf, sizeof(buf), out), -EMSGSIZE);
	/* resync: garbage, then a good record, is found again */
	r->text_len = 2;
	memset(buf, 'Z', 10);
	memcpy(buf + 3, "ic\x01", 3); /* a false start */
	assert_true(ik_chat_encode(buf + 10, sizeof(buf) - 10, r) > 0);
	assert_int_equal(ik_chat_decode(buf, 40, out), -EBADMSG);
	assert_int_equal(ik_chat_resync(buf, 40), 3);
	assert_int_equal(ik_chat_decode(buf + 3, 37, out), -EBADMSG);
	assert_int_equal(ik_chat_resync(buf + 3, 37), 7);
	assert_true(ik_chat_decode(buf + 10, 40, out) > 0);
	assert_string_equal(out->text, "yy");
	assert_int_equal(ik_chat_decode(NULL, 0, out), 0); /* nothing yet */
	assert_int_equal(ik_chat_decode(buf, 40, NULL), -EINVAL);
	free(r);
	free(out);
}

static void
test_names_sanitize_split(void **state)
{
	char s[64] = "a\tb\x1b[31m\xff\xc3\xa9";
	const char *u = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 ab"; /* 11 bytes */
	size_t n;

	(void)state;
	assert_int_equal(ik_chat_name_ok("al-ice_1"), 0);
	assert_int_equal(ik_chat_name_ok("\xc3\xa9mile"), 0);
	assert_int_equal(ik_chat_name_ok(""), -EINVAL);
	assert_int_equal(ik_chat_name_ok("a b"), -EINVAL);
	assert_int_equal(ik_chat_name_ok("/me"), -EINVAL);
	assert_int_equal(ik_chat_name_ok("abcdefghijklmnopqrstuvwxyz0123456"),
			 -EINVAL); /* 33 bytes */
	assert_int_equal(ik_chat_room_ok("lobby-2.x_y"), 0);
	assert_int_equal(ik_chat_room_ok(".."), -EINVAL);
	assert_int_equal(ik_chat_room_ok("a/b"), -EINVAL);
	assert_int_equal(ik_chat_room_ok(""), -EINVAL);
	n = ik_chat_sanitize(s, strlen(s));
	assert_int_equal(n, 11);
	assert_memory_equal(s, "a b?[31m?\xc3\xa9", 11);
	/* splits never cut a character, prefer a space near the end */
	assert_int_equal(ik_chat_split(u, 11, 11), 11);
	assert_int_equal(ik_chat_split(u, 11, 5), 4);
	assert_int_equal(ik_chat_split(u, 11, 10), 9); /* after the space */
	assert_int_equal(ik_chat_split(u, 11, 3), 2);
}

/* ---- rooms --------------------------------------------------------------- */

/* A server process for the room; the parent learns it is up by a byte. */
static pid_t
start_server(const struct ik_chat_opts *o, int want_joins)
{
	struct ikt_sync up;
	pid_t pid;

	ikt_sync_init(&up);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ik_chat_stats st;
		ik_chat_server *s;

		IKT_CHECK(ik_chat_server_open(&s, room, o) == 0);
		ikt_post(&up);
		IKT_CHECK(ik_chat_server_run(s, IKT_WAIT_MS * 4) == 0);
		ik_chat_server_stats(s, &st);
		IKT_CHECK(ik_chat_server_close(s) == 0);
		IKT_CHECK(want_joins < 0 || st.joins == (uint64_t)want_joins);
		_exit(0);
	}
	assert_int_equal(ikt_await(&up, IKT_WAIT_MS), 0);
	ikt_sync_close(&up);
	return pid;
}

/* Next record of a type, skipping others; -1 on error. */
static int
recv_type(ik_chat_client *c, struct ik_chat_rec *r, int type)
{
	int e;

	do
		e = ik_chat_recv(c, r, IKT_WAIT_MS);
	while (e == 0 && r->type != type);
	return e;
}

static void
room_gone(void)
{
	char dir[4096];
	struct stat st;

	assert_true(ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0);
	assert_int_equal(lstat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
}

enum { NCLIENTS = 20, NMSG = 40, LONG_AT = 17, LONG_LEN = 9000 };

/* Message j of sender i; LONG_AT is longer than one record. */
static size_t
make_msg(char *buf, int i, int j)
{
	int n = snprintf(buf, LONG_LEN + 1, "c%d m%d ", i, j);

	if (j == LONG_AT) {
		for (; n < LONG_LEN; n++)
			buf[n] = (char)('a' + (i + n) % 26);
		buf[n] = '\0';
	}
	return (size_t)n;
}

static void
chat_client(int i, struct ikt_sync *joined, struct ikt_sync *go,
	    struct ikt_sync *done, struct ikt_sync *leave)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	char name[16], *want = malloc(LONG_LEN + 1), *got = malloc(LONG_LEN);
	int next[NCLIENTS] = { 0 }, left = NCLIENTS * NMSG;
	uint32_t seq[NCLIENTS] = { 0 };
	size_t glen[NCLIENTS] = { 0 }, wlen;
	ik_chat_client *c;
	int s, e;
	/* pieces of a long line, per sender */
	char *part[NCLIENTS];

	IKT_CHECK(r != NULL && want != NULL && got != NULL);
	for (int k = 0; k < NCLIENTS; k++)
		IKT_CHECK((part[k] = malloc(LONG_LEN)) != NULL);
	snprintf(name, sizeof(name), "c%d", i);
	IKT_CHECK(ik_chat_join(&c, room, name, NULL, IKT_WAIT_MS) == 0);
	IKT_CHECK(strcmp(ik_chat_name(c), name) == 0);
	ikt_post(joined);
	IKT_CHECK(ikt_await(go, IKT_WAIT_MS * 2) == 0);
	for (int j = 0; j < NMSG; j++) {
		wlen = make_msg(want, i, j);
		e = ik_chat_send(c, IK_CHAT_MSG, want, wlen, IKT_WAIT_MS);
		IKT_CHECK(e == (j == LONG_AT ? 3 : 1));
	}
	while (left > 0) {
		IKT_CHECK(ik_chat_recv(c, r, IKT_WAIT_MS) == 0);
		if (r->type != IK_CHAT_MSG)
			continue;
		IKT_CHECK(sscanf(r->name, "c%d", &s) == 1);
		IKT_CHECK(s >= 0 && s < NCLIENTS);
		/* per sender: seq strictly 1, 2, 3... (no loss, no repeat) */
		IKT_CHECK(r->seq == ++seq[s]);
		IKT_CHECK(glen[s] + r->text_len <= LONG_LEN);
		memcpy(part[s] + glen[s], r->text, r->text_len);
		glen[s] += r->text_len;
		if (r->flags & IK_CHAT_F_MORE)
			continue;
		wlen = make_msg(want, s, next[s]);
		IKT_CHECK(glen[s] == wlen);
		IKT_CHECK(memcmp(part[s], want, wlen) == 0);
		glen[s] = 0;
		next[s]++;
		left--;
	}
	for (int k = 0; k < NCLIENTS; k++)
		IKT_CHECK(next[k] == NMSG);
	ikt_post(done);
	IKT_CHECK(ikt_await(leave, IKT_WAIT_MS * 2) == 0);
	/* the server reads in order: a duplicate would come before this */
	IKT_CHECK(ik_chat_send(c, IK_CHAT_WHO, NULL, 0, IKT_WAIT_MS) == 1);
	do {
		IKT_CHECK(ik_chat_recv(c, r, IKT_WAIT_MS) == 0);
		IKT_CHECK(r->type != IK_CHAT_MSG);
	} while (r->type != IK_CHAT_WHO);
	IKT_CHECK(strstr(r->text, name) != NULL);
	IKT_CHECK(ik_chat_leave(c) == 0);
	_exit(0);
}

static void
test_twenty_clients(void **state)
{
	struct ik_chat_opts o = { .queue_max = 8 << 20 };
	struct ikt_sync joined, go, done, leave;
	pid_t srv, pid[NCLIENTS];

	(void)state;
	ikt_sync_init(&joined);
	ikt_sync_init(&go);
	ikt_sync_init(&done);
	ikt_sync_init(&leave);
	srv = start_server(&o, NCLIENTS);
	for (int i = 0; i < NCLIENTS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			chat_client(i, &joined, &go, &done, &leave);
	}
	/* everyone is in before anyone speaks: all must hear everything */
	for (int i = 0; i < NCLIENTS; i++)
		assert_int_equal(ikt_await(&joined, IKT_WAIT_MS * 2), 0);
	for (int i = 0; i < NCLIENTS; i++)
		ikt_post(&go);
	for (int i = 0; i < NCLIENTS; i++)
		assert_int_equal(ikt_await(&done, IKT_WAIT_MS * 4), 0);
	for (int i = 0; i < NCLIENTS; i++)
		ikt_post(&leave);
	for (int i = 0; i < NCLIENTS; i++)
		ikt_assert_child_ok(pid[i]);
	ikt_assert_child_ok(srv);
	room_gone();
	ikt_sync_close(&joined);
	ikt_sync_close(&go);
	ikt_sync_close(&done);
	ikt_sync_close(&leave);
}

/* A client in its own process: joins as name, then runs fn. */
static pid_t
fork_client(const char *name, void (*fn)(ik_chat_client *, void *), void *arg)
{
	pid_t pid = fork();
	ik_chat_client *c;

	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chat_join(&c, room, name, NULL, IKT_WAIT_MS) == 0);
		fn(c, arg);
		ik_chat_leave(c);
		_exit(0);
	}
	return pid;
}

struct two_syncs {
	struct ikt_sync a, b;
};

static void
victim(ik_chat_client *c, void *arg)
{
	struct two_syncs *s = arg;

	IKT_CHECK(ik_chat_send(c, IK_CHAT_MSG, "before death", 12,
			       IKT_WAIT_MS) == 1);
	ikt_post(&s->a);
	ikt_await(&s->b, IKT_WAIT_MS * 10); /* killed before that */
	_exit(3);
}

static void
bystander(ik_chat_client *c, void *arg)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	struct ikt_sync *up = arg;

	IKT_CHECK(r != NULL);
	ikt_post(up);
	IKT_CHECK(recv_type(c, r, IK_CHAT_LEFT) == 0);
	IKT_CHECK(strcmp(r->name, "victim") == 0);
	IKT_CHECK(strcmp(r->text, "gone") == 0);
	IKT_CHECK(recv_type(c, r, IK_CHAT_MSG) == 0);
	IKT_CHECK(strcmp(r->name, "ann") == 0);
	IKT_CHECK(strcmp(r->text, "still here") == 0);
	free(r);
}

static void
test_client_killed_mid_session(void **state)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	struct two_syncs s;
	struct ikt_sync up;
	ik_chat_client *a;
	pid_t srv, v, b;
	char dir[4096];

	(void)state;
	ikt_sync_init(&s.a);
	ikt_sync_init(&s.b);
	ikt_sync_init(&up);
	srv = start_server(NULL, 3);
	assert_int_equal(ik_chat_join(&a, room, "ann", NULL, IKT_WAIT_MS), 0);
	b = fork_client("bob", bystander, &up);
	assert_int_equal(ikt_await(&up, IKT_WAIT_MS), 0);
	v = fork_client("victim", victim, &s);
	assert_int_equal(ikt_await(&s.a, IKT_WAIT_MS), 0);
	assert_int_equal(recv_type(a, r, IK_CHAT_MSG), 0);
	assert_string_equal(r->text, "before death");
	kill(v, SIGKILL);
	assert_int_equal(ikt_wait(v, IKT_WAIT_MS), SIGKILL);
	/* noticed with no message sent to it: its FIFO lost its reader */
	assert_int_equal(recv_type(a, r, IK_CHAT_LEFT), 0);
	assert_string_equal(r->name, "victim");
	assert_string_equal(r->text, "gone");
	assert_int_equal(
		ik_chat_send(a, IK_CHAT_MSG, "still here", 10, IKT_WAIT_MS), 1);
	assert_int_equal(recv_type(a, r, IK_CHAT_MSG), 0);
	assert_string_equal(r->text, "still here");
	ikt_assert_child_ok(b);
	/* the server removed the FIFO the dead client could not */
	assert_true(ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0);
	assert_int_not_equal(
		ikt_sh("ls '%s' | grep -q '^c\\.%d\\.'", dir, (int)v), 0);
	assert_int_equal(ik_chat_leave(a), 0);
	ikt_assert_child_ok(srv);
	room_gone();
	free(r);
	ikt_sync_close(&s.a);
	ikt_sync_close(&s.b);
	ikt_sync_close(&up);
}

/* Joins, never reads until told, then finds a prefix and end of file. */
static void
sleeper(ik_chat_client *c, void *arg)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	struct two_syncs *s = arg;
	uint32_t seq = 0;
	int e, msgs = 0;

	IKT_CHECK(r != NULL);
	ikt_post(&s->a);
	IKT_CHECK(ikt_await(&s->b, IKT_WAIT_MS * 4) == 0);
	while ((e = ik_chat_recv(c, r, IKT_WAIT_MS)) == 0) {
		if (r->type != IK_CHAT_MSG)
			continue;
		IKT_CHECK(seq == 0 || r->seq == seq + 1);
		seq = r->seq;
		msgs++;
	}
	IKT_CHECK(e == -ECONNRESET);
	IKT_CHECK(msgs > 0);
	free(r);
}

static void
test_client_stops_reading(void **state)
{
	struct ik_chat_opts o = { .queue_max = 16 * 1024 };
	struct ik_chat_rec *r = malloc(sizeof(*r));
	char msg[3000];
	struct two_syncs s;
	ik_chat_client *a;
	int sent = 0, dropped = 0;
	pid_t srv, z;

	(void)state;
	memset(msg, 'z', sizeof(msg));
	ikt_sync_init(&s.a);
	ikt_sync_init(&s.b);
	srv = start_server(&o, 2);
	assert_int_equal(ik_chat_join(&a, room, "talker", NULL, IKT_WAIT_MS),
			 0);
	z = fork_client("sleepy", sleeper, &s);
	assert_int_equal(ikt_await(&s.a, IKT_WAIT_MS), 0);
	/* every line comes back at once: the full client never blocks us */
	while (!dropped && sent < 400) {
		assert_int_equal(ik_chat_send(a, IK_CHAT_MSG, msg, sizeof(msg),
					      IKT_WAIT_MS),
				 1);
		sent++;
		do {
			assert_int_equal(ik_chat_recv(a, r, IKT_WAIT_MS), 0);
			if (r->type == IK_CHAT_LEFT) {
				assert_string_equal(r->name, "sleepy");
				assert_string_equal(r->text,
						    "dropped: not reading");
				dropped = 1;
			}
		} while (r->type != IK_CHAT_MSG);
		assert_int_equal(r->seq, sent);
	}
	assert_true(dropped);
	/* 64 KiB pipe + 16 KiB queue: dropped well before 400 lines */
	assert_true(sent < 60);
	ikt_post(&s.b);
	ikt_assert_child_ok(z);
	assert_int_equal(ik_chat_leave(a), 0);
	ikt_assert_child_ok(srv);
	room_gone();
	free(r);
	ikt_sync_close(&s.a);
	ikt_sync_close(&s.b);
}

static void
test_stale_room(void **state)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	char dir[4096], path[4200];
	ik_chat_server *s2;
	ik_chat_client *a;
	pid_t srv, dead;
	struct stat st;

	(void)state;
	srv = start_server(NULL, -1);
	kill(srv, SIGKILL);
	assert_int_equal(ikt_wait(srv, IKT_WAIT_MS), SIGKILL);
	assert_true(ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0);
	snprintf(path, sizeof(path), "%s/server", dir);
	assert_int_equal(lstat(path, &st), 0); /* the dead server's FIFO */
	/* and a dead client's */
	dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	ikt_assert_child_ok(dead);
	snprintf(path, sizeof(path), "%s/c.%d.0", dir, (int)dead);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* nobody reads the FIFO: refused at once, not a hang */
	assert_int_equal(ik_chat_join(&a, room, "ann", NULL, IKT_WAIT_MS),
			 -ECONNREFUSED);
	srv = start_server(NULL, 1);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(ik_chat_server_open(&s2, room, NULL), -EADDRINUSE);
	assert_int_equal(ik_chat_join(&a, room, "ann", NULL, IKT_WAIT_MS), 0);
	assert_int_equal(ik_chat_send(a, IK_CHAT_MSG, "hi", 2, IKT_WAIT_MS), 1);
	assert_int_equal(recv_type(a, r, IK_CHAT_MSG), 0);
	assert_string_equal(r->text, "hi");
	assert_int_equal(ik_chat_leave(a), 0);
	ikt_assert_child_ok(srv);
	room_gone();
	free(r);
}

static void
test_unsafe_room(void **state)
{
	char dir[4096], path[4200];
	ik_chat_server *s;
	ik_chat_client *c;

	(void)state;
	assert_true(ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0);
	/* a room directory others can read */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(ik_chat_server_open(&s, room, NULL), IK_EUNSAFE);
	assert_int_equal(ik_chat_join(&c, room, "ann", NULL, 0), IK_EUNSAFE);
	assert_int_equal(rmdir(dir), 0);
	/* a symlink in its place, even to a private directory */
	assert_int_equal(symlink(ikt_tmpdir(), dir), 0);
	assert_int_equal(ik_chat_server_open(&s, room, NULL), IK_EUNSAFE);
	assert_int_equal(ik_chat_join(&c, room, "ann", NULL, 0), IK_EUNSAFE);
	assert_int_equal(unlink(dir), 0);
	/* the server FIFO: a symlink to a FIFO, a regular file */
	assert_int_equal(mkdir(dir, 0700), 0);
	ikt_path(path, sizeof(path), "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/server");
	assert_int_equal(symlink(path, dir), 0);
	assert_int_equal(ik_chat_join(&c, room, "ann", NULL, 0), -ELOOP);
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(close(open(dir, O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(ik_chat_join(&c, room, "ann", NULL, 0), IK_ENOTFIFO);
	assert_int_equal(unlink(dir), 0);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(rmdir(dir), 0);
	/* bad names */
	assert_int_equal(ik_chat_join(&c, "../x", "ann", NULL, 0), -EINVAL);
	assert_int_equal(ik_chat_join(&c, room, "a b", NULL, 0), -EINVAL);
	assert_int_equal(ik_chat_server_open(&s, "", NULL), -EINVAL);
}

/* A second "ann", then garbage and a forged record, then nick changes. */
static void
newcomer(ik_chat_client *c, void *arg)
{
	struct ik_chat_rec *r = calloc(1, sizeof(*r));
	struct two_syncs *s = arg;
	uint8_t rec[IK_CHAT_REC_MAX];
	char dir[4096], path[4200];
	ssize_t n;
	int fd;

	IKT_CHECK(r != NULL);
	IKT_CHECK(strcmp(ik_chat_name(c), "ann-2") == 0);
	IKT_CHECK(ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0);
	snprintf(path, sizeof(path), "%s/server", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	IKT_CHECK(fd >= 0);
	IKT_CHECK(write(fd, "garbage\x1b[2J", 11) == 11);
	r->type = IK_CHAT_MSG; /* from a pid that is not in the room */
	r->pid = 1;
	r->text_len = 6;
	memcpy(r->text, "forged", 6);
	n = ik_chat_encode(rec, sizeof(rec), r);
	IKT_CHECK(n > 0 && write(fd, rec, (size_t)n) == n);
	close(fd);
	IKT_CHECK(ik_chat_send(c, IK_CHAT_NICK, "ann", 3, IKT_WAIT_MS) == 1);
	IKT_CHECK(recv_type(c, r, IK_CHAT_ERROR) == 0);
	IKT_CHECK(strstr(r->text, "taken") != NULL);
	IKT_CHECK(ik_chat_send(c, IK_CHAT_NICK, "bea", 3, IKT_WAIT_MS) == 1);
	IKT_CHECK(recv_type(c, r, IK_CHAT_NICK) == 0);
	IKT_CHECK(strcmp(ik_chat_name(c), "bea") == 0);
	IKT_CHECK(ik_chat_send(c, IK_CHAT_ME, "waves", 5, IKT_WAIT_MS) == 1);
	ikt_post(&s->a);
	IKT_CHECK(ikt_await(&s->b, IKT_WAIT_MS) == 0);
	free(r);
}

static void
test_nicks_me_who_and_hostile_writes(void **state)
{
	struct ik_chat_rec *r = malloc(sizeof(*r));
	struct two_syncs s;
	ik_chat_client *a;
	pid_t srv, b;

	(void)state;
	ikt_sync_init(&s.a);
	ikt_sync_init(&s.b);
	srv = start_server(NULL, 2);
	assert_int_equal(ik_chat_join(&a, room, "ann", NULL, IKT_WAIT_MS), 0);
	b = fork_client("ann", newcomer, &s);
	assert_int_equal(ikt_await(&s.a, IKT_WAIT_MS), 0);
	assert_int_equal(ik_chat_recv(a, r, IKT_WAIT_MS), 0);
	assert_int_equal(r->type, IK_CHAT_JOINED);
	assert_string_equal(r->name, "ann-2");
	/* no "forged", no garbage: the next records are the nick, the act */
	assert_int_equal(ik_chat_recv(a, r, IKT_WAIT_MS), 0);
	assert_int_equal(r->type, IK_CHAT_NICK);
	assert_string_equal(r->name, "ann-2");
	assert_string_equal(r->text, "bea");
	assert_int_equal(ik_chat_recv(a, r, IKT_WAIT_MS), 0);
	assert_int_equal(r->type, IK_CHAT_ME);
	assert_string_equal(r->name, "bea");
	assert_string_equal(r->text, "waves");
	assert_int_equal(ik_chat_send(a, IK_CHAT_WHO, NULL, 0, IKT_WAIT_MS), 1);
	assert_int_equal(recv_type(a, r, IK_CHAT_WHO), 0);
	assert_string_equal(r->text, "ann bea");
	/* a line the codec refuses is not sent at all */
	assert_int_equal(ik_chat_send(a, IK_CHAT_MSG, "\x1b[2J", 4, 0),
			 -EINVAL);
	ikt_post(&s.b);
	ikt_assert_child_ok(b);
	assert_int_equal(recv_type(a, r, IK_CHAT_LEFT), 0);
	assert_string_equal(r->text, "quit");
	assert_int_equal(ik_chat_leave(a), 0);
	ikt_assert_child_ok(srv);
	room_gone();
	free(r);
	ikt_sync_close(&s.a);
	ikt_sync_close(&s.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_bad_input),
		cmocka_unit_test(test_names_sanitize_split),
		cmocka_unit_test_setup_teardown(test_twenty_clients, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_killed_mid_session,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_stops_reading,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_room, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_room, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_nicks_me_who_and_hostile_writes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
