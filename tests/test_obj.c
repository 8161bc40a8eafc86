/*
 * ik_obj: objects of every kind made by forked children appear with the
 * right owner, permissions, sizes and pids; the state follows the processes
 * (in-use while a child lives, stale once it is SIGKILLed, idle without
 * evidence); removal refuses what a live process uses and re-checks first.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ipckit/ipckit.h>

#include "ikt.h"
#include "internal/io.h"
#include "internal/obj.h"

/* ---- what a test made, removed in teardown even after a failed assert ---- */

enum { MAXV = 16 };
static int made_msg[MAXV], made_sem[MAXV], made_shm[MAXV];
static int nmsg, nsem, nshm;
static char made_name[MAXV][128]; /* POSIX shm ("/x"), sem ("S/x") */
static int nname;
static pid_t kids[MAXV];
static int nkids;
static char mq_mnt[256];

static int
setup(void **state)
{
	(void)state;
	nmsg = nsem = nshm = nname = nkids = 0;
	mq_mnt[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	ikt_reap_tracked();
	(void)state;
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	for (int i = 0; i < nmsg; i++)
		msgctl(made_msg[i], IPC_RMID, NULL);
	for (int i = 0; i < nsem; i++)
		semctl(made_sem[i], 0, IPC_RMID);
	for (int i = 0; i < nshm; i++)
		shmctl(made_shm[i], IPC_RMID, NULL);
	for (int i = 0; i < nname; i++) {
		if (made_name[i][0] == 'S')
			sem_unlink(made_name[i] + 1);
		else if (made_name[i][0] == 'Q')
			mq_unlink(made_name[i] + 1);
		else
			shm_unlink(made_name[i]);
	}
	if (mq_mnt[0] != '\0') {
		umount2(mq_mnt, MNT_DETACH);
		rmdir(mq_mnt);
	}
	ikt_tmpdir_cleanup();
	return 0;
}

/* ---- children: report values through a pipe, then live until released ---- */

struct kid {
	pid_t pid;
	struct ikt_sync ready, done;
};

static void
kid_start(struct kid *k)
{
	ikt_sync_init(&k->ready);
	ikt_sync_init(&k->done);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid > 0)
		kids[nkids++] = k->pid;
}

/* In the child: send n ints, wait to be released, exit 0. */
static void
kid_report_and_wait(struct kid *k, const int *v, size_t n)
{
	struct ik__deadline d;

	ik__deadline_init(&d, IKT_WAIT_MS);
	IKT_CHECK(ik__write_full(k->ready.wr, v, n * sizeof(int), 0, &d,
				 NULL) == (ssize_t)(n * sizeof(int)));
	IKT_CHECK(ikt_await(&k->done, IKT_WAIT_MS) == 0);
	_exit(0);
}

static void
kid_read(struct kid *k, int *v, size_t n)
{
	struct ik__deadline d;

	ik__deadline_init(&d, IKT_WAIT_MS);
	assert_int_equal(
		ik__read_full(k->ready.rd, v, n * sizeof(int), &d, NULL),
		(ssize_t)(n * sizeof(int)));
}

static void
forget(pid_t pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = kids[--nkids];
}

static void
kid_release(struct kid *k)
{
	forget(k->pid);
	ikt_post(&k->done);
	ikt_assert_child_ok(k->pid);
	ikt_sync_close(&k->ready);
	ikt_sync_close(&k->done);
}

static void
kid_kill(struct kid *k)
{
	forget(k->pid);
	assert_int_equal(kill(k->pid, SIGKILL), 0);
	assert_true(ikt_wait(k->pid, IKT_WAIT_MS) != -1);
	ikt_sync_close(&k->ready);
	ikt_sync_close(&k->done);
}

/* ---- listing helpers ------------------------------------------------------
 */

static struct ik_obj_list cur;

static void
list(unsigned kinds, unsigned states, const char *path)
{
	const char *paths[1] = { path };
	struct ik_obj_query q = { .kinds = kinds, .states = states, .uid = -1 };

	if (path != NULL) {
		q.paths = paths;
		q.npaths = 1;
	}
	ik_obj_list_free(&cur);
	assert_true(ik_obj_list(&q, &cur) >= 0);
}

static struct ik_obj *
find(int kind, int id, const char *name)
{
	for (size_t i = 0; i < cur.n; i++) {
		struct ik_obj *o = &cur.objs[i];

		if (o->kind == kind && (id < 0 || o->id == id) &&
		    (name == NULL || strcmp(o->name, name) == 0))
			return o;
	}
	return NULL;
}

static bool
has_user(const struct ik_obj *o, pid_t pid)
{
	for (unsigned i = 0; i < o->nusers && i < IK_OBJ_PIDS_MAX; i++)
		if (o->users[i] == pid)
			return true;
	return false;
}

/* A child's System V trio: a queue with 2 messages, an attached segment
 * holding a pattern, a 3-semaphore set set to 1,2,3. */
static void
sysv_trio_child(struct kid *k)
{
	struct ik_shm shm = IK_SHM_INIT;
	unsigned short vals[3] = { 1, 2, 3 };
	int v[3]; /* indexed by kind: msg, sem, shm */

	IKT_CHECK(ik_msgq_create(IPC_PRIVATE, 0600, &v[IK_OBJ_MSG]) == 0);
	IKT_CHECK(ik_msgq_send(v[IK_OBJ_MSG], 1, "hello", 5, 0) == 0);
	IKT_CHECK(ik_msgq_send(v[IK_OBJ_MSG], 2, "world!", 6, 0) == 0);
	IKT_CHECK(ik_shm_sysv_create(&shm, IPC_PRIVATE, 8192, 0) == 0);
	ikt_fill(shm.base, 8192, 42);
	v[IK_OBJ_SHM] = shm.id;
	v[IK_OBJ_SEM] = semget(IPC_PRIVATE, 3, IPC_CREAT | IPC_EXCL | 0600);
	IKT_CHECK(v[IK_OBJ_SEM] >= 0);
	IKT_CHECK(semctl(v[IK_OBJ_SEM], 0, SETALL, vals) == 0);
	kid_report_and_wait(k, v, 3);
}

static void
note_sysv(const int *v)
{
	made_msg[nmsg++] = v[IK_OBJ_MSG];
	made_shm[nshm++] = v[IK_OBJ_SHM];
	made_sem[nsem++] = v[IK_OBJ_SEM];
}

/* ---- tests -------------------------------------------------------------- */

static void
test_sysv_fields(void **state)
{
	struct ik_shm shm = IK_SHM_INIT;
	struct ik_obj *o;
	struct kid k;
	char buf[16];
	long type;
	int v[3];

	(void)state;
	kid_start(&k);
	if (k.pid == 0)
		sysv_trio_child(&k);
	kid_read(&k, v, 3);
	note_sysv(v);

	list(IK_OBJ_MASK(IK_OBJ_MSG) | IK_OBJ_MASK(IK_OBJ_SEM) |
		     IK_OBJ_MASK(IK_OBJ_SHM),
	     0, NULL);
	assert_non_null(o = find(IK_OBJ_MSG, v[0], NULL));
	assert_int_equal(o->uid, geteuid());
	assert_int_equal(o->cuid, geteuid());
	assert_int_equal(o->mode, 0600);
	assert_int_equal(o->key, IPC_PRIVATE);
	assert_int_equal(o->count, 2);
	assert_int_equal(o->size, 11);
	assert_int_equal(o->lpid, k.pid);
	assert_int_equal(o->lrpid, 0);
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_non_null(strstr(o->reason, "sender"));

	assert_non_null(o = find(IK_OBJ_SHM, v[IK_OBJ_SHM], NULL));
	assert_int_equal(o->size, 8192);
	assert_int_equal(o->count, 1);
	assert_int_equal(o->cpid, k.pid);
	assert_int_equal(o->mode, 0600);
	assert_true(has_user(o, k.pid)); /* found in its /proc/PID/maps */
	assert_int_equal(o->state, IK_OBJ_IN_USE);

	assert_non_null(o = find(IK_OBJ_SEM, v[IK_OBJ_SEM], NULL));
	assert_int_equal(o->count, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(o->sempid[i], k.pid);
	assert_int_equal(o->state, IK_OBJ_IN_USE);

	/* real data: the parent reads what the child put there */
	assert_int_equal(ik_shm_sysv_attach(&shm, v[IK_OBJ_SHM], 8192, 0), 0);
	assert_int_equal(ikt_check(shm.base, 8192, 42), 0);
	assert_int_equal(ik_shm_close(&shm), 0);
	assert_int_equal(ik_msgq_recv(v[0], 0, buf, sizeof(buf), &type, 0, 0),
			 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(type, 1);

	list(IK_OBJ_MASK(IK_OBJ_MSG), 0, NULL);
	assert_non_null(o = find(IK_OBJ_MSG, v[0], NULL));
	assert_int_equal(o->count, 1);
	assert_int_equal(o->size, 6);
	assert_int_equal(o->lrpid, getpid());
	assert_true(ik_obj_match(o, "0x0")); /* IPC_PRIVATE */
	snprintf(buf, sizeof(buf), "%d", v[0]);
	assert_true(ik_obj_match(o, buf));
	kid_release(&k);
}

static void
test_stale_after_sigkill_live_survives(void **state)
{
	struct kid dead, live;
	struct ik_obj *o, now;
	struct shmid_ds ds;
	int d[3], l[3];

	(void)state;
	kid_start(&dead);
	if (dead.pid == 0)
		sysv_trio_child(&dead);
	kid_read(&dead, d, 3);
	note_sysv(d);
	kid_start(&live);
	if (live.pid == 0)
		sysv_trio_child(&live);
	kid_read(&live, l, 3);
	note_sysv(l);
	kid_kill(&dead);

	list(IK_OBJ_MASK(IK_OBJ_MSG) | IK_OBJ_MASK(IK_OBJ_SEM) |
		     IK_OBJ_MASK(IK_OBJ_SHM),
	     1u << IK_OBJ_STALE, NULL);
	for (int k = IK_OBJ_MSG; k <= IK_OBJ_SHM; k++) {
		assert_non_null(o = find(k, d[k], NULL));
		assert_int_equal(o->state, IK_OBJ_STALE);
		assert_null(find(k, l[k], NULL));
	}
	o = find(IK_OBJ_SHM, d[IK_OBJ_SHM], NULL);
	assert_int_equal(o->count, 0); /* the kill detached it */
	assert_int_equal(o->cpid, dead.pid);
	assert_non_null(strstr(o->reason, "gone"));

	/* dry run: everything checked, nothing removed */
	for (int k = IK_OBJ_MSG; k <= IK_OBJ_SHM; k++)
		assert_int_equal(ik_obj_remove(find(k, d[k], NULL),
					       IK_OBJ_RM_STALE | IK_OBJ_RM_DRY,
					       NULL),
				 0);
	assert_int_equal(shmctl(d[IK_OBJ_SHM], IPC_STAT, &ds), 0);
	for (int k = IK_OBJ_MSG; k <= IK_OBJ_SHM; k++) {
		o = find(k, d[k], NULL);
		assert_int_equal(ik_obj_remove(o, IK_OBJ_RM_STALE, &now), 0);
		assert_int_equal(now.id, d[k]);
		/* removed: a second time it is gone */
		assert_int_equal(ik_obj_remove(o, 0, NULL), -ENOENT);
	}
	assert_int_equal(shmctl(d[IK_OBJ_SHM], IPC_STAT, &ds), -1);
	assert_int_equal(msgctl(d[IK_OBJ_MSG], IPC_STAT, NULL), -1);

	/* the live child's objects are refused, with the reason */
	list(IK_OBJ_MASK(IK_OBJ_MSG) | IK_OBJ_MASK(IK_OBJ_SEM) |
		     IK_OBJ_MASK(IK_OBJ_SHM),
	     0, NULL);
	for (int k = IK_OBJ_MSG; k <= IK_OBJ_SHM; k++) {
		o = find(k, l[k], NULL);
		assert_non_null(o);
		assert_int_equal(o->state, IK_OBJ_IN_USE);
		memset(&now, 0, sizeof(now));
		assert_int_equal(ik_obj_remove(o, 0, &now), -EBUSY);
		assert_int_equal(now.state, IK_OBJ_IN_USE);
		assert_true(now.reason[0] != '\0');
	}
	assert_int_equal(shmctl(l[IK_OBJ_SHM], IPC_STAT, &ds), 0);
	kid_release(&live);
}

/* no pid evidence is idle, never stale; one semaphore untouched too */
static void
test_idle_without_evidence(void **state)
{
	struct ik_obj *o;
	struct kid k;
	int q, s, dummy;

	(void)state;
	assert_int_equal(ik_msgq_create(IPC_PRIVATE, 0600, &q), 0);
	made_msg[nmsg++] = q;
	s = semget(IPC_PRIVATE, 2, IPC_CREAT | IPC_EXCL | 0600);
	assert_true(s >= 0);
	made_sem[nsem++] = s;
	kid_start(&k);
	if (k.pid == 0) {
		int none = 0;

		IKT_CHECK(semctl(s, 0, SETVAL, 5) == 0); /* sem 1 untouched */
		kid_report_and_wait(&k, &none, 1);
	}
	kid_read(&k, &dummy, 1);
	kid_release(&k);
	list(IK_OBJ_MASK(IK_OBJ_MSG) | IK_OBJ_MASK(IK_OBJ_SEM), 0, NULL);
	assert_non_null(o = find(IK_OBJ_MSG, made_msg[0], NULL));
	assert_int_equal(o->state, IK_OBJ_IDLE);
	assert_int_equal(ik_obj_remove(o, IK_OBJ_RM_STALE, NULL), -EBUSY);
	assert_non_null(o = find(IK_OBJ_SEM, s, NULL));
	assert_int_equal(o->sempid[0], k.pid);
	assert_int_equal(o->sempid[1], 0);
	assert_int_equal(o->state, IK_OBJ_IDLE);
	assert_non_null(strstr(o->reason, "semaphore 1"));
	/* idle may be removed when named (nobody alive uses it) */
	assert_int_equal(ik_obj_remove(o, 0, NULL), 0);
	assert_int_equal(semctl(s, 0, GETVAL), -1);
}

static void
test_posix_shm_and_sem(void **state)
{
	char shm_name[64], sem_name[64], path[128];
	struct ik_shm shm = IK_SHM_INIT;
	struct ik_obj *o;
	struct kid k;
	int dummy;

	(void)state;
	shm_name[0] = sem_name[0] = '/';
	ikt_name(shm_name + 1, sizeof(shm_name) - 1, "pshm");
	ikt_name(sem_name + 1, sizeof(sem_name) - 1, "psem");
	snprintf(made_name[nname++], sizeof(made_name[0]), "%s", shm_name);
	snprintf(made_name[nname++], sizeof(made_name[0]), "S%s", sem_name);
	kid_start(&k);
	if (k.pid == 0) {
		sem_t *s;
		int none = 0;

		IKT_CHECK(ik_shm_create(&shm, shm_name, 4096, 0) == 0);
		ikt_fill(shm.base, 4096, 9);
		s = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 1);
		IKT_CHECK(s != SEM_FAILED);
		kid_report_and_wait(&k, &none, 1);
	}
	kid_read(&k, &dummy, 1);
	list(IK_OBJ_MASK(IK_OBJ_PSHM) | IK_OBJ_MASK(IK_OBJ_PSEM), 0, NULL);
	assert_non_null(o = find(IK_OBJ_PSHM, -1, shm_name));
	assert_int_equal(o->size, 4096);
	assert_int_equal(o->mode, 0600);
	assert_int_equal(o->uid, geteuid());
	assert_true(has_user(o, k.pid));
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_true(ik_obj_match(o, shm_name + 1));
	assert_int_equal(ik_obj_remove(o, 0, NULL), -EBUSY);
	assert_non_null(o = find(IK_OBJ_PSEM, -1, sem_name));
	assert_int_equal(o->mode, 0600);
	assert_true(has_user(o, k.pid)); /* sem_open maps the file */
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_null(find(IK_OBJ_PSHM, -1, sem_name)); /* not both kinds */

	assert_int_equal(ik_shm_open(&shm, shm_name, 4096, 0), 0);
	assert_int_equal(ikt_check(shm.base, 4096, 9), 0);
	assert_int_equal(ik_shm_close(&shm), 0);
	kid_release(&k);

	/* creator gone, but a POSIX name records no creator: idle */
	list(IK_OBJ_MASK(IK_OBJ_PSHM) | IK_OBJ_MASK(IK_OBJ_PSEM), 0, NULL);
	assert_non_null(o = find(IK_OBJ_PSHM, -1, shm_name));
	assert_int_equal(o->nusers, 0);
	assert_int_equal(o->state, IK_OBJ_IDLE);
	assert_int_equal(ik_obj_remove(o, IK_OBJ_RM_STALE, NULL), -EBUSY);
	assert_int_equal(ik_obj_remove(o, 0, NULL), 0);
	snprintf(path, sizeof(path), "/dev/shm%s", shm_name);
	assert_int_equal(access(path, F_OK), -1);
	assert_non_null(o = find(IK_OBJ_PSEM, -1, sem_name));
	assert_int_equal(o->state, IK_OBJ_IDLE);
	assert_int_equal(ik_obj_remove(o, 0, NULL), 0);
	snprintf(path, sizeof(path), "/dev/shm/sem.%s", sem_name + 1);
	assert_int_equal(access(path, F_OK), -1);
}

/*
 * An ipckit ring records who attached: a ring whose producer and consumer
 * were both killed is stale (and removable as such); while a side lives it
 * is in use, even when nobody maps it any more.
 */
static void
test_ring_sides_are_evidence(void **state)
{
	char name[64];
	struct ikt_sync made, attached;
	struct ik_obj *o;
	pid_t prod, cons;

	(void)state;
	name[0] = '/';
	ikt_name(name + 1, sizeof(name) - 1, "ring");
	snprintf(made_name[nname++], sizeof(made_name[0]), "%s", name);
	ikt_sync_init(&made);
	ikt_sync_init(&attached);
	prod = ikt_fork();
	assert_true(prod >= 0);
	if (prod == 0) {
		ik_ring *r;

		IKT_CHECK(ik_ring_create(&r, name, 4096, 0) == 0);
		IKT_CHECK(ik_ring_attach(r, IK_RING_PRODUCER) == 0);
		ikt_post(&made);
		pause(); /* until killed: no close, the sides stay recorded */
		_exit(0);
	}
	assert_int_equal(ikt_await(&made, IKT_WAIT_MS), 0);
	cons = ikt_fork();
	assert_true(cons >= 0);
	if (cons == 0) {
		ik_ring *r;

		IKT_CHECK(ik_ring_open(&r, name) == 0);
		IKT_CHECK(ik_ring_attach(r, IK_RING_CONSUMER) == 0);
		ikt_post(&attached);
		pause();
		_exit(0);
	}
	assert_int_equal(ikt_await(&attached, IKT_WAIT_MS), 0);
	list(IK_OBJ_MASK(IK_OBJ_PSHM), 0, NULL);
	assert_non_null(o = find(IK_OBJ_PSHM, -1, name));
	assert_int_equal(o->state, IK_OBJ_IN_USE); /* mapped by both */
	ikt_child_killed(prod);
	list(IK_OBJ_MASK(IK_OBJ_PSHM), 0, NULL);
	assert_non_null(o = find(IK_OBJ_PSHM, -1, name));
	assert_int_equal(o->state, IK_OBJ_IN_USE); /* the consumer lives */
	ikt_child_killed(cons);
	list(IK_OBJ_MASK(IK_OBJ_PSHM), 0, NULL);
	assert_non_null(o = find(IK_OBJ_PSHM, -1, name));
	assert_int_equal(o->state, IK_OBJ_STALE);
	assert_non_null(strstr(o->reason, "ipckit ring"));
	assert_int_equal(ik_obj_remove(o, IK_OBJ_RM_STALE, NULL), 0);
	list(IK_OBJ_MASK(IK_OBJ_PSHM), 0, NULL);
	assert_null(find(IK_OBJ_PSHM, -1, name));
	ikt_sync_close(&made);
	ikt_sync_close(&attached);
}

static void
test_fifo_held_and_on_disk(void **state)
{
	char dir[256], path[300], other[300], buf[8];
	struct ik_obj *o;
	struct kid k;
	int fd, dummy;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/fifos", ikt_tmpdir());
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/in", dir);
	snprintf(other, sizeof(other), "%s/elsewhere", ikt_tmpdir());
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mkfifo(other, 0640), 0);
	kid_start(&k);
	if (k.pid == 0) {
		int rd = open(path, O_RDONLY | O_CLOEXEC);
		int keep = open(other, O_RDWR | O_CLOEXEC);

		IKT_CHECK(rd >= 0 && keep >= 0);
		IKT_CHECK(read(rd, buf, 4) == 4 && memcmp(buf, "ping", 4) == 0);
		kid_report_and_wait(&k, &rd, 1);
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ping", 4), 4);
	kid_read(&k, &dummy, 1);
	close(fd);

	list(IK_OBJ_MASK(IK_OBJ_FIFO), 0, dir);
	assert_non_null(o = find(IK_OBJ_FIFO, -1, path));
	assert_true(o->flags & IK_OBJ_F_ONDISK);
	assert_int_equal(o->mode, 0600);
	assert_int_equal(o->uid, geteuid());
	assert_int_equal(o->nusers, 1);
	assert_int_equal(o->users[0], k.pid);
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_int_equal(ik_obj_remove(o, 0, NULL), -EBUSY);
	/* held open, outside the paths searched: still listed */
	assert_non_null(o = find(IK_OBJ_FIFO, -1, other));
	assert_false(o->flags & IK_OBJ_F_ONDISK);
	assert_int_equal(o->mode, 0640);
	assert_true(has_user(o, k.pid));
	kid_release(&k);

	list(IK_OBJ_MASK(IK_OBJ_FIFO), 0, dir);
	assert_null(find(IK_OBJ_FIFO, -1, other)); /* nobody holds it */
	assert_non_null(o = find(IK_OBJ_FIFO, -1, path));
	assert_int_equal(o->nusers, 0);
	assert_int_equal(o->state, IK_OBJ_IDLE);
	assert_int_equal(ik_obj_remove(o, IK_OBJ_RM_STALE, NULL), -EBUSY);
	assert_int_equal(ik_obj_remove(o, 0, NULL), 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_unix_killed_server_is_stale(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char abs_name[64], at_name[80], buf[4];
	struct ik_obj *o;
	struct kid k;
	struct stat st;
	int c, dummy;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/srv.sock", ikt_tmpdir());
	ikt_name(abs_name, sizeof(abs_name), "abs");
	snprintf(at_name, sizeof(at_name), "@%s", abs_name);
	kid_start(&k);
	if (k.pid == 0) {
		struct sockaddr_un ab = { .sun_family = AF_UNIX };
		int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int g = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int a;

		memcpy(ab.sun_path + 1, abs_name, strlen(abs_name));
		IKT_CHECK(l >= 0 && g >= 0);
		IKT_CHECK(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		IKT_CHECK(listen(l, 4) == 0);
		IKT_CHECK(bind(g, (struct sockaddr *)&ab,
			       (socklen_t)(offsetof(struct sockaddr_un,
						    sun_path) +
					   1 + strlen(abs_name))) == 0);
		ikt_post(&k.ready);
		a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		IKT_CHECK(a >= 0);
		IKT_CHECK(read(a, buf, 2) == 2 && memcmp(buf, "hi", 2) == 0);
		IKT_CHECK(write(a, "ok", 2) == 2);
		kid_report_and_wait(&k, &a, 1);
	}
	assert_int_equal(ikt_await(&k.ready, IKT_WAIT_MS), 0);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(c, "hi", 2), 2);
	assert_int_equal(read(c, buf, 2), 2);
	assert_memory_equal(buf, "ok", 2);
	kid_read(&k, &dummy, 1);

	list(IK_OBJ_MASK(IK_OBJ_UNIX), 0, ikt_tmpdir());
	assert_non_null(o = find(IK_OBJ_UNIX, -1, sa.sun_path));
	assert_int_equal(
		o->flags & (IK_OBJ_F_BOUND | IK_OBJ_F_LISTEN | IK_OBJ_F_ONDISK),
		IK_OBJ_F_BOUND | IK_OBJ_F_LISTEN | IK_OBJ_F_ONDISK);
	assert_int_equal(o->sock_type, SOCK_STREAM);
	assert_int_equal(o->count, 1); /* the accepted connection */
	assert_true(has_user(o, k.pid));
	assert_int_equal(o->uid, geteuid());
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_int_equal(ik_obj_remove(o, 0, NULL), -EBUSY);
	assert_non_null(o = find(IK_OBJ_UNIX, -1, at_name));
	assert_int_equal(o->sock_type, SOCK_DGRAM);
	assert_true(has_user(o, k.pid));
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_true(ik_obj_match(o, at_name));

	kid_kill(&k);
	close(c);
	list(IK_OBJ_MASK(IK_OBJ_UNIX), 1u << IK_OBJ_STALE, ikt_tmpdir());
	assert_non_null(o = find(IK_OBJ_UNIX, -1, sa.sun_path));
	assert_int_equal(o->flags & (IK_OBJ_F_BOUND | IK_OBJ_F_ONDISK),
			 IK_OBJ_F_ONDISK);
	assert_int_equal(o->state, IK_OBJ_STALE);
	assert_null(find(IK_OBJ_UNIX, -1, at_name)); /* gone with it */
	assert_int_equal(ik_obj_remove(o, IK_OBJ_RM_STALE, NULL), 0);
	assert_int_equal(lstat(sa.sun_path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_pmq_on_a_mounted_mqueue(void **state)
{
	char name[64], tmpl[64];
	struct ik_obj *o;
	struct kid k;
	int dummy;

	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/mqXXXXXX", ikt_tmpdir());
	assert_non_null(mkdtemp(tmpl));
	if (mount("none", tmpl, "mqueue", 0, NULL) < 0) {
		rmdir(tmpl);
		skip(); /* needs root (CAP_SYS_ADMIN) */
	}
	snprintf(mq_mnt, sizeof(mq_mnt), "%s", tmpl);
	name[0] = '/';
	ikt_name(name + 1, sizeof(name) - 1, "pmq");
	snprintf(made_name[nname++], sizeof(made_name[0]), "Q%s", name);
	kid_start(&k);
	if (k.pid == 0) {
		mqd_t q;
		int none = 0;

		IKT_CHECK(ik_pmq_create(name, O_RDWR, 0600, NULL, &q) == 0);
		IKT_CHECK(ik_pmq_send(q, "abc", 3, 0, 0) == 0);
		IKT_CHECK(ik_pmq_send(q, "defgh", 5, 1, 0) == 0);
		kid_report_and_wait(&k, &none, 1);
	}
	kid_read(&k, &dummy, 1);
	list(IK_OBJ_MASK(IK_OBJ_PMQ), 0, NULL);
	assert_int_equal(cur.notes & IK_OBJ_NOTE_NO_MQUEUE, 0);
	assert_non_null(o = find(IK_OBJ_PMQ, -1, name));
	assert_int_equal(o->count, 2);
	assert_int_equal(o->size, 8);
	assert_int_equal(o->mode, 0600);
	assert_true(has_user(o, k.pid));
	assert_int_equal(o->state, IK_OBJ_IN_USE);
	assert_int_equal(ik_obj_remove(o, 0, NULL), -EBUSY);
	kid_release(&k);
	list(IK_OBJ_MASK(IK_OBJ_PMQ), 0, NULL);
	assert_non_null(o = find(IK_OBJ_PMQ, -1, name));
	assert_int_equal(o->state, IK_OBJ_IDLE);
	assert_int_equal(ik_obj_remove(o, 0, NULL), 0);
	assert_int_equal(mq_unlink(name), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_bad_input(void **state)
{
	struct ik_obj_query q = { .uid = -1 };
	struct ik_obj_list l;
	struct ik_obj o = { .kind = IK_OBJ_MSG, .id = -5 };
	char p[300], link[300];
	const char *paths[1] = { p };

	(void)state;
	assert_int_equal(ik_obj_list(NULL, &l), -EINVAL);
	assert_int_equal(ik_obj_list(&q, NULL), -EINVAL);
	q.kinds = 1u << 20;
	assert_int_equal(ik_obj_list(&q, &l), -EINVAL);
	q.kinds = 0;
	q.states = 8;
	assert_int_equal(ik_obj_list(&q, &l), -EINVAL);
	q.states = 0;
	q.npaths = 1; /* paths NULL */
	assert_int_equal(ik_obj_list(&q, &l), -EINVAL);
	q.paths = paths;
	q.kinds = IK_OBJ_MASK(IK_OBJ_FIFO);
	snprintf(p, sizeof(p), "%s/none", ikt_tmpdir());
	assert_int_equal(ik_obj_list(&q, &l), -ENOENT);
	snprintf(link, sizeof(link), "%s/link", ikt_tmpdir());
	assert_int_equal(symlink(ikt_tmpdir(), link), 0);
	snprintf(p, sizeof(p), "%s", link);
	assert_int_equal(ik_obj_list(&q, &l), -ELOOP);
	snprintf(p, sizeof(p), "/dev/null");
	assert_int_equal(ik_obj_list(&q, &l), -ENOTDIR);

	assert_int_equal(ik_obj_remove(&o, 0x100, NULL), -EINVAL);
	assert_int_equal(ik_obj_remove(NULL, 0, NULL), -EINVAL);
	assert_int_equal(ik_obj_refresh(&o), -ENOENT);
	assert_int_equal(ik_obj_remove(&o, 0, NULL), -ENOENT);
	o.kind = 99;
	assert_int_equal(ik_obj_refresh(&o), -EINVAL);

	assert_int_equal(ik_obj_kind_parse("pshm"), IK_OBJ_PSHM);
	assert_int_equal(ik_obj_kind_parse("bogus"), -EINVAL);
	assert_int_equal(ik_obj_kind_parse(NULL), -EINVAL);
	assert_string_equal(ik_obj_kind_name(IK_OBJ_UNIX), "unix");
	assert_string_equal(ik_obj_kind_name(-1), "?");
	assert_string_equal(ik_obj_state_name(IK_OBJ_STALE), "stale");
	assert_string_equal(ik_obj_state_name(7), "?");

	o.kind = IK_OBJ_SHM;
	o.id = 42;
	o.key = 0x1a2b;
	assert_true(ik_obj_match(&o, "42"));
	assert_true(ik_obj_match(&o, "0x1a2b"));
	assert_true(ik_obj_match(&o, "0x00001A2B"));
	assert_false(ik_obj_match(&o, "0x"));
	assert_false(ik_obj_match(&o, "0x1a2bg"));
	assert_false(ik_obj_match(&o, "42x"));
	assert_false(ik_obj_match(&o, "-42"));
	assert_false(ik_obj_match(&o, ""));
	assert_false(ik_obj_match(&o, NULL));
	o.kind = IK_OBJ_PSHM;
	snprintf(o.name, sizeof(o.name), "/x");
	assert_true(ik_obj_match(&o, "/x"));
	assert_true(ik_obj_match(&o, "x"));
	assert_false(ik_obj_match(&o, "/y"));
	ik_obj_list_free(NULL);
}

/* pid reuse and zombies: the liveness test never trusts a bare pid */
static void
test_pid_alive(void **state)
{
	pid_t pid;

	(void)state;
	assert_true(ik__pid_alive(getpid(), 0));
	assert_true(ik__pid_alive(getpid(), time(NULL)));
	/* an event in 1970: this process started later, so it reused the pid */
	assert_false(ik__pid_alive(getpid(), 1000));
	assert_false(ik__pid_alive(0, 0));
	assert_false(ik__pid_alive(-1, 0));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* a zombie until reaped: holds nothing, counts as gone */
	{
		siginfo_t si;

		assert_int_equal(
			waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	}
	assert_false(ik__pid_alive(pid, 0));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_false(ik__pid_alive(pid, 0));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sysv_fields),
		T(test_stale_after_sigkill_live_survives),
		T(test_idle_without_evidence),
		T(test_posix_shm_and_sem),
		T(test_ring_sides_are_evidence),
		T(test_fifo_held_and_on_disk),
		T(test_unix_killed_server_is_stale),
		T(test_pmq_on_a_mounted_mqueue),
		T(test_bad_input),
		T(test_pid_alive),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	ik_obj_list_free(&cur);
	return r;
}
