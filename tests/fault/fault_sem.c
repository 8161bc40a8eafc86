/*
 * Faults in the semaphore modules: a System V set created with values (a
 * failure leaves no set), a lock handed between two processes, a wait
 * that times out; a named POSIX semaphore posted by a peer.
 */
#include <errno.h>
#include <semaphore.h>
#include <sys/sem.h>

#include <ipckit/sem.h>

#include "ikf.h"
#include "ikt.h"

static int semid;
static char name[64];

/*
 * Wait for sem 1, bump the counter (sem 2) under the lock (sem 0). The
 * hand-offs go without SEM_UNDO: they must outlive the process.
 */
static int
worker(void *arg)
{
	(void)arg;
	if (ik_sem_wait(semid, 1, 1, IK_SEM_NOUNDO, 20000) != 0)
		return 1;
	if (ik_sem_lock(semid, 0, 20000) != 0)
		return 2;
	if (ik_sem_post(semid, 2, 1, IK_SEM_NOUNDO) != 0)
		return 3;
	return ik_sem_unlock(semid, 0) == 0 ? 0 : 4;
}

static void
sc_sysv(void)
{
	unsigned short init[3] = { 1, 0, 0 }, vals[3];
	pid_t peer = -1;

	semid = (int)IKF(ik_sem_create(ikf_key(0), 3, init, 0));
	if (semid < 0)
		return;
	peer = ikf_peer(worker, NULL);
	if (IKF(ik_sem_lock(semid, 0, 20000)) < 0)
		goto out;
	if (IKF(ik_sem_post(semid, 1, 1, IK_SEM_NOUNDO)) < 0)
		goto unlock;
	if (IKF(ik_sem_unlock(semid, 0)) < 0)
		goto out;
	if (IKF(ik_sem_wait(semid, 2, 1, IK_SEM_NOUNDO, 20000)) < 0)
		goto out;
	ikf_peer_end(peer); /* it unlocks after its post */
	peer = -1;
	if (IKF(ik_sem_getall(semid, vals, 3)) < 0)
		goto out;
	IKF_ASSERT(vals[0] == 1 && vals[1] == 0 && vals[2] == 0);
	IKF_E(ik_sem_wait(semid, 2, 1, IK_SEM_NOUNDO, 50), -ETIMEDOUT);
	goto out;
unlock:
	ik_sem_unlock(semid, 0);
out:
	ikf_peer_end(peer);
	IKF(ik_sem_remove(semid));
}

static int
poster(void *arg)
{
	sem_t *s;

	(void)arg;
	if (ik_psem_open(name, &s) != 0)
		return 1;
	if (ik_psem_post(s) != 0)
		return 2;
	return ik_psem_close(s) == 0 ? 0 : 3;
}

static void
sc_posix(void)
{
	sem_t *s = NULL;
	pid_t peer = -1;

	ikf_name(name, sizeof(name), "psem");
	if (IKF(ik_psem_create(name, 0, &s)) < 0)
		return;
	peer = ikf_peer(poster, NULL);
	if (IKF(ik_psem_wait(s, 20000)) < 0)
		goto out;
	IKF_ASSERT(ik_psem_getvalue(s) == 0);
	IKF_E(ik_psem_wait(s, 50), -ETIMEDOUT);
out:
	ikf_peer_end(peer);
	IKF(ik_psem_close(s));
	IKF(ik_psem_unlink(name));
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "sem_sysv", sc_sysv },
		{ "sem_posix", sc_posix },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
