/*
 * System V objects for ik_obj_list: the tables in /proc/sysvipc (the same
 * source as ipcs and lsipc, so ids, keys, owners and counts agree), plus
 * semctl(GETPID) for the one thing /proc lacks: each semaphore's last pid.
 * The stale rules live here, one per kind, on pid evidence only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "internal/obj.h"

/* /proc/sysvipc/shm mode bits beyond the permissions */
#define SHM_DEST_BIT 01000

static int
parse_line(struct ik_obj *o, int kind, const char *line)
{
	long long key, t[3] = { 0, 0, 0 };
	unsigned long long size = 0, count = 0, nattch = 0;
	unsigned perms, uid, gid, cuid, cgid;
	int id, cpid = 0, lpid = 0, lrpid = 0, n;

	switch (kind) {
	case IK_OBJ_MSG:
		/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
		n = sscanf(line,
			   "%lld %d %o %llu %llu %d %d %u %u %u %u %lld "
			   "%lld %lld",
			   &key, &id, &perms, &size, &count, &lpid, &lrpid,
			   &uid, &gid, &cuid, &cgid, &t[0], &t[1], &t[2]);
		if (n != 14)
			return -EIO;
		o->otime = t[0] > t[1] ? t[0] : t[1];
		o->ctime = (time_t)t[2];
		break;
	case IK_OBJ_SEM:
		/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
		n = sscanf(line, "%lld %d %o %llu %u %u %u %u %lld %lld", &key,
			   &id, &perms, &count, &uid, &gid, &cuid, &cgid, &t[0],
			   &t[1]);
		if (n != 10)
			return -EIO;
		o->otime = (time_t)t[0];
		o->ctime = (time_t)t[1];
		break;
	default:
		/* NOLINTNEXTLINE(cert-err34-c): kernel's /proc text */
		n = sscanf(line,
			   "%lld %d %o %llu %d %d %llu %u %u %u %u %lld "
			   "%lld %lld",
			   &key, &id, &perms, &size, &cpid, &lpid, &nattch,
			   &uid, &gid, &cuid, &cgid, &t[0], &t[1], &t[2]);
		if (n != 14)
			return -EIO;
		count = nattch;
		o->otime = t[0] > t[1] ? t[0] : t[1];
		o->ctime = (time_t)t[2];
		if (perms & SHM_DEST_BIT)
			o->flags |= IK_OBJ_F_REMOVED;
		break;
	}
	o->key = (key_t)key; /* printed signed: 0xf35224d5 is -212720427 */
	o->id = id;
	o->mode = perms & ACCESSPERMS;
	o->size = size;
	o->count = count;
	o->uid = uid;
	o->gid = gid;
	o->cuid = cuid;
	o->cgid = cgid;
	o->cpid = cpid;
	o->lpid = lpid;
	o->lrpid = lrpid;
	return 0;
}

static void
read_sempids(struct ik_obj *o)
{
	for (unsigned i = 0; i < o->count && i < IK_OBJ_PIDS_MAX; i++) {
		int p = semctl(o->id, (int)i, GETPID);

		o->sempid[i] = p > 0 ? p : 0;
	}
}

int
ik__obj_sysv_list(struct ik__objv *ov, int kind, const struct ik__holders *h)
{
	static const char *const files[] = { "/proc/sysvipc/msg",
					     "/proc/sysvipc/sem",
					     "/proc/sysvipc/shm" };
	char line[512];
	FILE *f = fopen(files[kind], "re");
	int r = 0;

	if (f == NULL)
		return -errno;
	if (fgets(line, sizeof(line), f) == NULL) { /* the header */
		fclose(f);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct ik_obj *o = ik__objv_push(ov, kind);

		if (o == NULL) {
			r = -ENOMEM;
			break;
		}
		if (parse_line(o, kind, line) < 0) {
			ov->n--; /* a format we do not know: skip the line */
			r = -EIO;
			continue;
		}
		if (kind == IK_OBJ_SEM)
			read_sempids(o);
		if (kind == IK_OBJ_SHM)
			ik__obj_users(o, h, 1u << IK__HOLD_SYSV, 0,
				      (ino_t)o->id);
	}
	fclose(f);
	return r;
}

static int
msg_state(struct ik_obj *o)
{
	bool s = ik__pid_alive(o->lpid, o->otime);
	bool r = ik__pid_alive(o->lrpid, o->otime);

	if (s || r) {
		ik__obj_reason(o, "last %s %d is alive",
			       s ? "sender" : "receiver",
			       s ? (int)o->lpid : (int)o->lrpid);
		return IK_OBJ_IN_USE;
	}
	if (o->lpid == 0 && o->lrpid == 0) {
		ik__obj_reason(o, "never sent to nor received from: no pid "
				  "evidence");
		return IK_OBJ_IDLE;
	}
	ik__obj_reason(o, "last sender %d and last receiver %d are gone",
		       (int)o->lpid, (int)o->lrpid);
	return IK_OBJ_STALE;
}

static int
shm_state(struct ik_obj *o)
{
	if (o->count > 0) {
		ik__obj_reason(o, "attached %llu time(s)",
			       (unsigned long long)o->count);
		return IK_OBJ_IN_USE;
	}
	if (ik__pid_alive(o->cpid, o->ctime)) {
		ik__obj_reason(o, "creator %d is alive", (int)o->cpid);
		return IK_OBJ_IN_USE;
	}
	if (ik__pid_alive(o->lpid, o->otime)) {
		ik__obj_reason(o, "last attacher %d is alive", (int)o->lpid);
		return IK_OBJ_IN_USE;
	}
	if (o->cpid == 0) {
		ik__obj_reason(o, "no creator pid: no evidence");
		return IK_OBJ_IDLE;
	}
	ik__obj_reason(o,
		       "not attached; creator %d and last attacher %d are "
		       "gone",
		       (int)o->cpid, (int)o->lpid);
	return IK_OBJ_STALE;
}

static int
sem_state(struct ik_obj *o)
{
	/* SETVAL/SETALL set sempid too but not otime: they happened <= ctime */
	time_t when = o->otime > o->ctime ? o->otime : o->ctime;
	pid_t dead = 0;

	for (unsigned i = 0; i < o->count; i++) {
		int p = semctl(o->id, (int)i, GETPID);

		if (p < 0) {
			ik__obj_reason(o, "semaphore pids unreadable (%s)",
				       strerror(errno));
			return IK_OBJ_IDLE;
		}
		if (ik__pid_alive(p, when)) {
			ik__obj_reason(o, "semaphore %u last used by %d, alive",
				       i, p);
			return IK_OBJ_IN_USE;
		}
		if (p == 0) {
			ik__obj_reason(o,
				       "semaphore %u never operated on: no "
				       "pid evidence",
				       i);
			return IK_OBJ_IDLE;
		}
		dead = p;
	}
	if (dead == 0) {
		ik__obj_reason(o, "no semaphores: no pid evidence");
		return IK_OBJ_IDLE;
	}
	ik__obj_reason(o, "every semaphore's last user is gone (e.g. %d)",
		       (int)dead);
	return IK_OBJ_STALE;
}

int
ik__obj_sysv_state(struct ik_obj *o)
{
	switch (o->kind) {
	case IK_OBJ_MSG:
		o->state = msg_state(o);
		break;
	case IK_OBJ_SEM:
		o->state = sem_state(o);
		break;
	default:
		o->state = shm_state(o);
		break;
	}
	return o->state;
}

int
ik__obj_sysv_remove(const struct ik_obj *o)
{
	int r;

	switch (o->kind) {
	case IK_OBJ_MSG:
		r = msgctl(o->id, IPC_RMID, NULL);
		break;
	case IK_OBJ_SEM:
		r = semctl(o->id, 0, IPC_RMID);
		break;
	default:
		r = shmctl(o->id, IPC_RMID, NULL);
		break;
	}
	if (r < 0)
		return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
	return 0;
}
