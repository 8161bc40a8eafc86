/*
 * SIGKILL at random points in a busy chat room: clients that flood the
 * room are killed after a random number of their messages went round (0:
 * during their join), twenty times; the server survives every one, the
 * survivor receives every record whole (writes are atomic: a kill cannot
 * tear one), each victim's messages in order, and every message of its own
 * that ik_chat_send acknowledged. Then the server itself is killed while
 * clients talk: they get -ECONNRESET, not a hang, and a new server takes
 * over the stale room.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/chat.h>

#include "ikt.h"

#define KILLS 20

static char room[64];

static int
teardown(void **state)
{
	char dir[4096];

	(void)state;
	ikt_reap_tracked();
	if (ik_chat_room_dir(dir, sizeof(dir), room, NULL) > 0)
		ikt_sh("rm -rf '%s'", dir);
	return 0;
}

static pid_t
start_server(void)
{
	struct ikt_sync up;
	pid_t pid;

	ikt_sync_init(&up);
	pid = ikt_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ik_chat_server *s;

		IKT_CHECK(ik_chat_server_open(&s, room, NULL) == 0);
		ikt_post(&up);
		IKT_CHECK(ik_chat_server_run(s, IKT_WAIT_MS * 4) == 0);
		IKT_CHECK(ik_chat_server_close(s) == 0);
		_exit(0);
	}
	assert_int_equal(ikt_await(&up, IKT_WAIT_MS), 0);
	ikt_sync_close(&up);
	return pid;
}

/* Join and send "v<i> <seq>" as fast as the room takes them, until killed. */
static pid_t
flooder(int i)
{
	pid_t pid = ikt_fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		ik_chat_client *c;
		char name[16], text[64];

		snprintf(name, sizeof(name), "v%d", i);
		IKT_CHECK(ik_chat_join(&c, room, name, NULL, IKT_WAIT_MS) == 0);
		for (unsigned n = 0;; n++) {
			int len = snprintf(text, sizeof(text), "v%d %u", i, n);

			if (ik_chat_send(c, IK_CHAT_MSG, text, (size_t)len,
					 IKT_WAIT_MS) != 1)
				_exit(3); /* the server is gone */
			(void)ik_chat_pending(c);
			while (ik_chat_pending(c) > 0) {
				struct ik_chat_rec r;

				(void)ik_chat_recv(c, &r, 0);
			}
		}
	}
	return pid;
}

struct seen {
	long next[KILLS]; /* next "v<i> <n>" expected from victim i */
	int mine;	  /* own messages received back */
};

/* One record: a victim's message must be the next of its sequence. */
static void
check_rec(struct seen *s, const struct ik_chat_rec *r)
{
	int i;
	long n;

	if (r->type != IK_CHAT_MSG || r->name[0] != 'v')
		return;
	assert_int_equal(sscanf(r->text, "v%d %ld", &i, &n), 2);
	assert_true(i >= 0 && i < KILLS);
	assert_int_equal(atoi(r->name + 1), i); /* from whom it says */
	assert_int_equal(n, s->next[i]);
	s->next[i]++;
}

/* Receive until our own message "ack <k>" is back. */
static void
await_own(ik_chat_client *a, struct seen *s, int k)
{
	struct ik_chat_rec r;
	char want[32];

	snprintf(want, sizeof(want), "ack %d", k);
	for (;;) {
		assert_int_equal(ik_chat_recv(a, &r, IKT_WAIT_MS), 0);
		check_rec(s, &r);
		if (r.type == IK_CHAT_MSG && ik_chat_is_me(a, &r)) {
			assert_string_equal(r.text, want);
			s->mine++;
			return;
		}
	}
}

static void
test_clients_killed_at_random(void **state)
{
	struct seen s;
	struct ik_chat_rec r;
	ik_chat_client *a;
	pid_t srv, v;
	char text[32];

	(void)state;
	memset(&s, 0, sizeof(s));
	srand((unsigned)getpid());
	srv = start_server();
	assert_int_equal(ik_chat_join(&a, room, "ann", NULL, IKT_WAIT_MS), 0);
	for (int i = 0; i < KILLS; i++) {
		int after = rand() % 6; /* 0: during its join */

		v = flooder(i);
		while (s.next[i] < after) {
			assert_int_equal(ik_chat_recv(a, &r, IKT_WAIT_MS), 0);
			check_rec(&s, &r);
		}
		ikt_child_killed(v);
		/* the room goes on: what we send is acknowledged and comes
		 * back, after whatever the victim got out before it died */
		snprintf(text, sizeof(text), "ack %d", i);
		assert_int_equal(ik_chat_send(a, IK_CHAT_MSG, text,
					      strlen(text), IKT_WAIT_MS),
				 1);
		await_own(a, &s, i);
	}
	assert_int_equal(s.mine, KILLS);
	assert_int_equal(ik_chat_leave(a), 0);
	ikt_untrack(srv);
	ikt_assert_child_ok(srv); /* it ran through all of it */
}

static void
test_server_killed_mid_traffic(void **state)
{
	struct ik_chat_rec r;
	ik_chat_client *a;
	pid_t srv, v;
	int e;

	(void)state;
	srv = start_server();
	assert_int_equal(ik_chat_join(&a, room, "ann", NULL, IKT_WAIT_MS), 0);
	v = flooder(0);
	/* a few of its messages went round: the server is busy */
	for (int n = 0; n < 3;) {
		assert_int_equal(ik_chat_recv(a, &r, IKT_WAIT_MS), 0);
		n += r.type == IK_CHAT_MSG;
	}
	ikt_child_killed(srv);
	/* the survivor drains what was sent, then learns the server is gone */
	while ((e = ik_chat_recv(a, &r, IKT_WAIT_MS)) == 0)
		;
	assert_int_equal(e, -ECONNRESET);
	ik_chat_leave(a);
	/* the flooder's next write finds no reader: it fails and exits */
	e = ikt_wait(v, IKT_WAIT_MS);
	ikt_untrack(v);
	assert_true(e != -1 && WIFEXITED(e) && WEXITSTATUS(e) == 3);
	/* a new server replaces the dead one's stale room */
	srv = start_server();
	assert_int_equal(ik_chat_join(&a, room, "bob", NULL, IKT_WAIT_MS), 0);
	assert_int_equal(ik_chat_send(a, IK_CHAT_MSG, "back", 4, IKT_WAIT_MS),
			 1);
	do
		assert_int_equal(ik_chat_recv(a, &r, IKT_WAIT_MS), 0);
	while (r.type != IK_CHAT_MSG);
	assert_string_equal(r.text, "back");
	assert_int_equal(ik_chat_leave(a), 0);
	ikt_untrack(srv);
	ikt_assert_child_ok(srv);
}

static int
setup(void **state)
{
	(void)state;
	ikt_name(room, sizeof(room), "kill");
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clients_killed_at_random,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_killed_mid_traffic,
						setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
