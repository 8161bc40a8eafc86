/*
 * System V semaphore sets (see <ipckit/sem.h>). The classic initialization
 * race (semget creates the set, a second process uses its zero values before
 * the creator's SETALL) is closed with TLPI's sem_otime technique: the
 * creator initializes, then performs a no-op semop; sem_otime stays 0 until
 * then, and openers wait for it to change.
 */
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include <ipckit/error.h>
#include <ipckit/sem.h>

#include "internal/time.h"

union ik__semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

/* Longest pause between two looks at an uninitialized set's sem_otime. */
#define OPEN_POLL_MAX_NS 10000000

/*
 * ENOSPC from semget means one of two system-wide limits; SEM_INFO reports
 * the namespace's use and its /proc/sys/kernel/sem limits, which tells which.
 */
static int
enospc_code(int nsems)
{
	struct seminfo si;
	union ik__semun arg = { .info = &si };

	if (semctl(0, 0, SEM_INFO, arg) < 0)
		return -ENOSPC;
	if (si.semusz >= si.semmni)
		return IK_ESEMMNI;
	if ((long long)si.semaem + nsems > si.semmns)
		return IK_ESEMMNS;
	return -ENOSPC; /* freed meanwhile: say what the kernel said */
}

static int
create_error(int err, int nsems)
{
	struct seminfo si;
	union ik__semun arg = { .info = &si };

	if (err == ENOSPC)
		return enospc_code(nsems);
	if (err == EINVAL && semctl(0, 0, IPC_INFO, arg) >= 0 &&
	    nsems > si.semmsl)
		return IK_ESEMMSL;
	return -err;
}

int
ik_sem_create(key_t key, int nsems, const unsigned short *init, int mode)
{
	struct sembuf noop[2];
	union ik__semun arg;
	int id, r;

	if (nsems < 1 || (mode & ~ACCESSPERMS) != 0)
		return -EINVAL;
	if (mode == 0)
		mode = S_IRUSR | S_IWUSR;
	for (int i = 0; init != NULL && i < nsems; i++)
		if (init[i] > IK_SEM_VALUE_MAX)
			return -ERANGE;
	id = semget(key, nsems, IPC_CREAT | IPC_EXCL | mode);
	if (id < 0)
		return create_error(errno, nsems);
	if (init != NULL) {
		/* SETALL does not write; the union just has no const member */
		arg.array = (unsigned short *)init;
		if (semctl(id, 0, SETALL, arg) < 0) {
			r = -errno;
			goto fail;
		}
	}
	/*
	 * The no-op that publishes the set: two opposite steps on semaphore 0
	 * in one call, ordered so that neither can block or overflow.
	 */
	if (init != NULL && init[0] > 0) {
		noop[0] = (struct sembuf){ 0, -1, IPC_NOWAIT };
		noop[1] = (struct sembuf){ 0, 1, IPC_NOWAIT };
	} else {
		noop[0] = (struct sembuf){ 0, 1, IPC_NOWAIT };
		noop[1] = (struct sembuf){ 0, -1, IPC_NOWAIT };
	}
	if (semop(id, noop, 2) < 0) {
		r = -errno;
		goto fail;
	}
	return id;
fail:
	semctl(id, 0, IPC_RMID);
	return r;
}

static void
pause_ns(int64_t ns)
{
	struct timespec ts = { ns / 1000000000, ns % 1000000000 };

	nanosleep(&ts, NULL); /* an early wake-up only means an early look */
}

int
ik_sem_open(key_t key, int nsems, int timeout_ms)
{
	struct ik__deadline d;
	struct semid_ds ds;
	union ik__semun arg = { .buf = &ds };
	int64_t step = 100000, left;
	int id;

	if (key == IPC_PRIVATE || nsems < 0)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	id = semget(key, nsems, 0);
	if (id < 0)
		return -errno;
	for (;;) {
		if (semctl(id, 0, IPC_STAT, arg) < 0)
			return errno == EINVAL ? -EIDRM : -errno;
		if (ds.sem_otime != 0)
			return id;
		if (ik__deadline_expired(&d))
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
		left = ik__deadline_left_ns(&d);
		pause_ns(left >= 0 && left < step ? left : step);
		if (step < OPEN_POLL_MAX_NS)
			step *= 2;
	}
}

int
ik_sem_open_or_create(key_t key, int nsems, const unsigned short *init,
		      int mode, int timeout_ms, int *created)
{
	struct ik__deadline d;
	int id;

	if (key == IPC_PRIVATE)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		id = ik_sem_create(key, nsems, init, mode);
		if (id >= 0) {
			if (created != NULL)
				*created = 1;
			return id;
		}
		if (id != -EEXIST)
			return id;
		id = ik_sem_open(key, nsems, ik__deadline_left_ms(&d));
		if (id >= 0) {
			if (created != NULL)
				*created = 0;
			return id;
		}
		/* removed between our two calls: try to create it again */
		if (id != -ENOENT && id != -EIDRM)
			return id;
		if (ik__deadline_expired(&d))
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
	}
}

int
ik_sem_remove(int semid)
{
	return semctl(semid, 0, IPC_RMID) < 0 ? -errno : 0;
}

static int
has_nowait(const struct sembuf *ops, size_t nops)
{
	for (size_t i = 0; i < nops; i++)
		if (ops[i].sem_flg & IPC_NOWAIT)
			return 1;
	return 0;
}

int
ik_sem_op(int semid, const struct sembuf *ops, size_t nops, int timeout_ms)
{
	struct ik__deadline d;
	struct timespec ts;
	int expired = timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;

	if (ops == NULL || nops == 0)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	for (;;) {
		ts = ik__deadline_rel(&d);
		/* semtimedop only reads the operations */
		if (semtimedop(semid, (struct sembuf *)ops, nops,
			       d.forever ? NULL : &ts) == 0)
			return 0;
		switch (errno) {
		case EINTR:
			if (ik__deadline_expired(&d))
				return expired;
			continue; /* with what is left of the deadline */
		case EAGAIN:
			if (has_nowait(ops, nops))
				return -EAGAIN;
			if (ik__deadline_expired(&d))
				return expired;
			continue; /* the kernel's clock ran ahead of ours */
		case E2BIG:
			return IK_ESEMOPM;
		default:
			return -errno;
		}
	}
}

int
ik_sem_lock(int semid, unsigned short num, int timeout_ms)
{
	struct sembuf op = { num, -1, SEM_UNDO };

	return ik_sem_op(semid, &op, 1, timeout_ms);
}

int
ik_sem_unlock(int semid, unsigned short num)
{
	/* "is 0" and "+1" in one step: a free lock is never unlocked again */
	struct sembuf ops[2] = { { num, 0, IPC_NOWAIT }, { num, 1, SEM_UNDO } };
	int r = ik_sem_op(semid, ops, 2, 0);

	return r == -EAGAIN ? -EPERM : r;
}

static int
counting_op(int semid, unsigned short num, int n, int flags, int timeout_ms)
{
	struct sembuf op = { num, 0, 0 };
	int sign = n < 0 ? -1 : 1;

	if (n == 0 || n * sign > IK_SEM_VALUE_MAX || (flags & ~IK_SEM_NOUNDO))
		return -EINVAL;
	op.sem_op = (short)n;
	op.sem_flg = (flags & IK_SEM_NOUNDO) ? 0 : SEM_UNDO;
	return ik_sem_op(semid, &op, 1, timeout_ms);
}

int
ik_sem_wait(int semid, unsigned short num, int n, int flags, int timeout_ms)
{
	if (n < 1)
		return -EINVAL;
	return counting_op(semid, num, -n, flags, timeout_ms);
}

int
ik_sem_post(int semid, unsigned short num, int n, int flags)
{
	if (n < 1)
		return -EINVAL;
	return counting_op(semid, num, n, flags, 0);
}

int
ik_sem_wait_zero(int semid, unsigned short num, int timeout_ms)
{
	struct sembuf op = { num, 0, 0 };

	return ik_sem_op(semid, &op, 1, timeout_ms);
}

static int
ctl(int semid, unsigned short num, int cmd)
{
	int r = semctl(semid, num, cmd);

	return r < 0 ? -errno : r;
}

int
ik_sem_getval(int semid, unsigned short num)
{
	return ctl(semid, num, GETVAL);
}

int
ik_sem_getncnt(int semid, unsigned short num)
{
	return ctl(semid, num, GETNCNT);
}

int
ik_sem_getzcnt(int semid, unsigned short num)
{
	return ctl(semid, num, GETZCNT);
}

int
ik_sem_getpid(int semid, unsigned short num)
{
	return ctl(semid, num, GETPID);
}

int
ik_sem_setval(int semid, unsigned short num, int value)
{
	union ik__semun arg = { .val = value };

	if (value < 0 || value > IK_SEM_VALUE_MAX)
		return -ERANGE;
	return semctl(semid, num, SETVAL, arg) < 0 ? -errno : 0;
}

int
ik_sem_stat(int semid, struct ik_sem_info *info)
{
	struct semid_ds ds;
	union ik__semun arg = { .buf = &ds };

	if (info == NULL)
		return -EINVAL;
	if (semctl(semid, 0, IPC_STAT, arg) < 0)
		return -errno;
	info->key = ds.sem_perm.__key;
	info->nsems = (int)ds.sem_nsems;
	info->mode = ds.sem_perm.mode & ACCESSPERMS;
	info->uid = ds.sem_perm.uid;
	info->gid = ds.sem_perm.gid;
	info->cuid = ds.sem_perm.cuid;
	info->cgid = ds.sem_perm.cgid;
	info->otime = ds.sem_otime;
	info->ctime = ds.sem_ctime;
	return 0;
}

int
ik_sem_getall(int semid, unsigned short *vals, size_t len)
{
	struct ik_sem_info si;
	union ik__semun arg = { .array = vals };
	int r = ik_sem_stat(semid, &si);

	if (r < 0)
		return r;
	if (vals == NULL || len < (size_t)si.nsems)
		return -ERANGE;
	if (semctl(semid, 0, GETALL, arg) < 0)
		return -errno;
	return si.nsems;
}

int
ik_sem_setall(int semid, const unsigned short *vals, size_t len)
{
	struct ik_sem_info si;
	union ik__semun arg = { .array = (unsigned short *)vals };
	int r = ik_sem_stat(semid, &si);

	if (r < 0)
		return r;
	if (vals == NULL || len != (size_t)si.nsems)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (vals[i] > IK_SEM_VALUE_MAX)
			return -ERANGE;
	return semctl(semid, 0, SETALL, arg) < 0 ? -errno : 0;
}
