/*
 * Faults in the shared-memory module: POSIX, System V and memfd segments
 * created, mapped and written by one process and checked by a peer that
 * opens them; a failed create leaves no segment, no mapping, no fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include <ipckit/shm.h>

#include "ikf.h"
#include "ikt.h"

#define SIZE (256 * 1024)

static char name[64];
static struct ik_shm seg;

static int
reader(void *arg)
{
	struct ik_shm s = IK_SHM_INIT;
	int kind = *(int *)arg, rc;

	if (kind == 0)
		rc = ik_shm_open(&s, name, SIZE, IK_SHM_RDONLY);
	else if (kind == 1)
		rc = ik_shm_sysv_attach(&s, seg.id, SIZE, IK_SHM_RDONLY);
	else
		rc = ik_shm_from_fd(&s, seg.fd, SIZE, 0, IK_SHM_RDONLY);
	if (rc != 0)
		return 1;
	rc = ikt_check(s.base, SIZE, 5) == 0 ? 0 : 2;
	ik_shm_close(&s);
	return rc;
}

static void
run(int kind)
{
	pid_t peer;
	long rc;

	seg = (struct ik_shm)IK_SHM_INIT;
	ikf_name(name, sizeof(name), "shm");
	if (kind == 0)
		rc = IKF(ik_shm_create(&seg, name, SIZE, 0));
	else if (kind == 1)
		rc = IKF(ik_shm_sysv_create(&seg, ikf_key(0), SIZE, 0));
	else
		rc = IKF(ik_shm_memfd(&seg, "ikf", SIZE, 0));
	if (rc < 0)
		return;
	ikt_fill(seg.base, SIZE, 5);
	if (kind == 2 &&
	    IKF(ik_shm_seal(&seg, F_SEAL_SHRINK | F_SEAL_GROW)) < 0)
		goto out;
	peer = ikf_peer(reader, &kind);
	ikf_peer_end(peer);
	if (IKF(ik_shm_sync(&seg, MS_SYNC)) < 0)
		goto out;
out:
	if (kind != 2)
		IKF(ik_shm_remove(&seg));
	IKF(ik_shm_close(&seg));
}

static void
sc_posix(void)
{
	run(0);
}

static void
sc_sysv(void)
{
	run(1);
}

static void
sc_memfd(void)
{
	run(2);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "shm_posix", sc_posix },
		{ "shm_sysv", sc_sysv },
		{ "shm_memfd", sc_memfd },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
