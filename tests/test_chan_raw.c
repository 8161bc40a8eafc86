/*
 * Raw byte streams (?raw=1 on fifo, unix, tcp) under non-blocking sends, as
 * an event loop (ipckit relay) drives them: a send that wrote part of its
 * bytes before the pipe or socket filled must not report "nothing sent"
 * (the caller would send the written part twice) nor drop the rest. The
 * reader, another process, checks every byte of a 4 MiB pattern in order.
 * And a raw FIFO reader started before its writer waits, not sees EOF.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ipckit/chan.h>
#include <ipckit/error.h>

#include "ikt.h"

#define T IKT_WAIT_MS
#define TOTAL (4u << 20)
#define CHUNK 100000u /* above a pipe's 64 KiB: most sends are cut */

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Child: listen on addr, tell the parent, read until EOF, check it all. */
static void
reader(const char *addr, struct ikt_sync *ready)
{
	struct ik_chan *l, *c;
	char err[256];
	static unsigned char buf[65536];
	size_t at = 0;
	ssize_t n;

	IKT_CHECK(ik_chan_listen(&l, addr, err, sizeof(err)) == 0);
	ikt_post(ready);
	if (ik_chan_caps(l) & IK_CHAN_ACCEPT)
		IKT_CHECK(ik_chan_accept(l, &c, T) == 0);
	else
		c = l;
	while ((n = ik_chan_recv(c, buf, sizeof(buf), T)) > 0) {
		IKT_CHECK(at + (size_t)n <= TOTAL);
		for (ssize_t i = 0; i < n; i++)
			IKT_CHECK(buf[i] == pattern(at + (size_t)i));
		at += (size_t)n;
	}
	if (n != 0 || at != TOTAL)
		fprintf(stderr, "reader: %zd after %zu bytes\n", n, at);
	IKT_CHECK(n == 0);
	IKT_CHECK(at == TOTAL);
	if (c != l)
		IKT_CHECK(ik_chan_close(c) == 0);
	IKT_CHECK(ik_chan_close(l) == 0);
	_exit(0);
}

static void
nonblocking_stream(const char *addr)
{
	unsigned char *data = malloc(TOTAL);
	struct ikt_sync ready;
	struct ik_chan *c;
	char err[256] = "";
	size_t off = 0;
	unsigned cut = 0;
	pid_t pid;
	int r;

	assert_non_null(data);
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = pattern(i);
	ikt_sync_init(&ready);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		reader(addr, &ready);
	assert_int_equal(ikt_await(&ready, T), 0);
	r = ik_chan_dial(&c, addr, T, err, sizeof(err));
	if (r < 0)
		fail_msg("%s: %s (%s)", addr, ik_strerror(r), err);
	assert_int_equal(ik_chan_set_nonblock(c, 1), 0);
	while (off < TOTAL) {
		size_t len = TOTAL - off < CHUNK ? TOTAL - off : CHUNK;
		ssize_t n = ik_chan_send(c, data + off, len, -1);

		if (n == -EAGAIN) {
			struct pollfd p = { .fd = ik_chan_fd(c),
					    .events = POLLOUT };

			cut++;
			assert_true(poll(&p, 1, T) == 1);
			continue;
		}
		/* all of it, now or (the rest kept) with the next call */
		assert_int_equal(n, (ssize_t)len);
		off += len;
	}
	assert_true(cut > 0); /* the case under test did happen */
	assert_int_equal(ik_chan_close(c), 0);
	ikt_assert_child_ok(pid);
	ikt_sync_close(&ready);
	free(data);
}

static void
test_raw_unix_nonblocking(void **state)
{
	char path[200], addr[300];

	(void)state;
	ikt_path(path, sizeof(path), "raw");
	snprintf(addr, sizeof(addr), "unix:%s?raw=1", path);
	nonblocking_stream(addr);
}

static void
test_raw_fifo_nonblocking(void **state)
{
	char path[200], addr[300];

	(void)state;
	ikt_path(path, sizeof(path), "fifo");
	snprintf(addr, sizeof(addr), "fifo:%s?raw=1", path);
	nonblocking_stream(addr);
}

/* A raw FIFO reader that starts before any writer waits for one: no EOF. */
static void
test_raw_fifo_reader_first(void **state)
{
	char path[200], addr[300], err[256] = "", buf[16];
	struct ik_chan *l, *w;
	pid_t pid;

	(void)state;
	ikt_path(path, sizeof(path), "fifo");
	snprintf(addr, sizeof(addr), "fifo:%s?raw=1", path);
	assert_int_equal(ik_chan_listen(&l, addr, err, sizeof(err)), 0);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), 100), -ETIMEDOUT);
	assert_int_equal(ik_chan_set_nonblock(l, 1), 0);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), -1), -EAGAIN);
	assert_int_equal(ik_chan_set_nonblock(l, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		IKT_CHECK(ik_chan_dial(&w, addr, T, NULL, 0) == 0);
		IKT_CHECK(ik_chan_send(w, "hi", 2, T) == 2);
		IKT_CHECK(ik_chan_close(w) == 0);
		_exit(0);
	}
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), 2);
	assert_memory_equal(buf, "hi", 2);
	ikt_assert_child_ok(pid);
	assert_int_equal(ik_chan_recv(l, buf, sizeof(buf), T), 0);
	assert_int_equal(ik_chan_close(l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_unix_nonblocking),
		cmocka_unit_test(test_raw_fifo_nonblocking),
		cmocka_unit_test(test_raw_fifo_reader_first),
	};

	return cmocka_run_group_tests(tests, NULL, ikt_tmpdir_teardown);
}
