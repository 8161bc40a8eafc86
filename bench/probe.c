/*
 * The seed's "Capacity" and "Persist" columns, measured rather than
 * quoted: capacity by filling a fresh object without blocking until the
 * kernel refuses; persistence by letting a child create the object (and put
 * something in it), exit, and looking for it and its contents afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Write into fd (non-blocking) until it is full; the bytes or count. */
static long
fill(int fd, size_t chunk, int count_msgs)
{
	char buf[4096] = { 0 };
	long n = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		ssize_t k = send(fd, buf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k < 0 && errno == ENOTSOCK)
			k = write(fd, buf, chunk);
		if (k <= 0)
			break;
		n += count_msgs ? 1 : k;
		if (n > (1L << 30))
			break;
	}
	return n;
}

static void
bytes(char *buf, size_t len, long v, const char *how)
{
	if (v % 1024 == 0)
		snprintf(buf, len, "%ld KiB %s", v / 1024, how);
	else
		snprintf(buf, len, "%ld B %s", v, how);
}

/* Run fn in a child that exits right after; 0 if it exited 0. */
static int
in_child(int (*fn)(void *), void *arg)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn(arg) < 0);
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static int
mk_fifo(void *path)
{
	int fd;

	if (mkfifo(path, S_IRUSR | S_IWUSR) < 0)
		return -errno;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 || write(fd, "x", 1) != 1 ? -errno : 0;
}

static int
mk_sock(void *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	memcpy(un.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
	    listen(fd, 1) < 0)
		return -errno;
	return 0;
}

/* The creator is gone: connecting to its file must be refused. */
static int
refused(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0 || strlen(path) >= sizeof(un.sun_path))
		return 0;
	memcpy(un.sun_path, path, strlen(path) + 1);
	if (fd < 0)
		return 0;
	rc = connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0 &&
	     errno == ECONNREFUSED;
	close(fd);
	return rc;
}

static int
mk_pmq(void *name)
{
	mqd_t q = mq_open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			  S_IRUSR | S_IWUSR, NULL);

	return q == (mqd_t)-1 || mq_send(q, "x", 1, 0) < 0 ? -errno : 0;
}

static int
mk_svmq(void *id)
{
	struct {
		long type;
		char c;
	} m = { 1, 'x' };

	*(int *)id = msgget(IPC_PRIVATE, IPC_CREAT | S_IRUSR | S_IWUSR);
	if (*(int *)id < 0)
		return -errno;
	return msgsnd(*(int *)id, &m, 1, 0) < 0 ? -errno : 0;
}

static int
mk_shm(void *name)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			  S_IRUSR | S_IWUSR);

	if (fd < 0 || ftruncate(fd, 4096) < 0 || write(fd, "x", 1) != 1)
		return -errno;
	return 0;
}

static int
mk_svsem(void *id)
{
	*(int *)id = semget(IPC_PRIVATE, 1, IPC_CREAT | S_IRUSR | S_IWUSR);
	if (*(int *)id < 0 || semctl(*(int *)id, 0, SETVAL, 5) < 0)
		return -errno;
	return 0;
}

static int
mk_psem(void *name)
{
	sem_t *s = sem_open(name, O_CREAT | O_EXCL, S_IRUSR | S_IWUSR, 3);

	return s == SEM_FAILED ? -errno : 0;
}

/* Real-time signals a process may have queued (RLIMIT_SIGPENDING, shared
 * by the user): queue to ourselves, blocked, until refused. */
static int
count_signals(void *out)
{
	sigset_t set;
	long n = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (n < 1000000 &&
	       sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ 0 }) == 0)
		n++;
	return bench_write_all(*(int *)out, &n, sizeof(n));
}

static struct bench_probe *
add(struct bench_probe *out, int *k, int n, const char *mech)
{
	struct bench_probe *p = *k < n ? &out[(*k)++] : NULL;

	if (p) {
		p->mech = mech;
		snprintf(p->capacity, sizeof(p->capacity), "-");
		snprintf(p->persist, sizeof(p->persist), "-");
	}
	return p;
}

int
bench_probe_all(struct bench_probe *out, int n)
{
	struct bench_probe *p;
	char dir[80], name[64], path[160], c;
	int k = 0, fd[2], id = -1;
	struct stat st;
	long v;

	if (bench_dir(dir, sizeof(dir)) < 0)
		snprintf(dir, sizeof(dir), "/tmp");
	if ((p = add(out, &k, n, "pipe")) && pipe2(fd, O_CLOEXEC) == 0) {
		bytes(p->capacity, sizeof(p->capacity), fill(fd[1], 4096, 0),
		      "buffered");
		snprintf(p->persist, sizeof(p->persist), "no (no name)");
		close(fd[0]), close(fd[1]);
	}
	if ((p = add(out, &k, n, "fifo"))) {
		bench_name(name, sizeof(name), "pf");
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (in_child(mk_fifo, path) == 0) {
			int f = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

			snprintf(p->persist, sizeof(p->persist),
				 "name yes, data %s",
				 f >= 0 && read(f, &c, 1) == 1 ? "yes" : "no");
			if (f >= 0) {
				bytes(p->capacity, sizeof(p->capacity),
				      fill(f, 4096, 0), "buffered");
				close(f);
			}
			unlink(path);
		}
	}
	if ((p = add(out, &k, n, "unix"))) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) ==
		    0) {
			bytes(p->capacity, sizeof(p->capacity),
			      fill(fd[0], 4096, 0), "buffered");
			close(fd[0]), close(fd[1]);
		}
		bench_name(name, sizeof(name), "ps");
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (in_child(mk_sock, path) == 0) {
			snprintf(p->persist, sizeof(p->persist), "%s",
				 lstat(path, &st) == 0 && refused(path)
					 ? "file stays, refuses"
					 : "no");
			unlink(path);
		}
	}
	if ((p = add(out, &k, n, "unixgram")) &&
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fd) == 0) {
		snprintf(p->capacity, sizeof(p->capacity), "%ld msgs of 64 B",
			 fill(fd[0], 64, 1));
		snprintf(p->persist, sizeof(p->persist), "as unix");
		close(fd[0]), close(fd[1]);
	}
	if ((p = add(out, &k, n, "pmq"))) {
		name[0] = '/';
		bench_name(name + 1, sizeof(name) - 1, "pq");
		if (in_child(mk_pmq, name) == 0) {
			mqd_t q =
				mq_open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			struct mq_attr a;
			char *m;

			if (q != (mqd_t)-1 && mq_getattr(q, &a) == 0 &&
			    (m = calloc(1, (size_t)a.mq_msgsize)) != NULL) {
				snprintf(p->persist, sizeof(p->persist),
					 "yes, data %s",
					 mq_receive(q, m, (size_t)a.mq_msgsize,
						    NULL) == 1
						 ? "yes"
						 : "no");
				for (v = 0; mq_send(q, m, 64, 0) == 0; v++)
					;
				snprintf(p->capacity, sizeof(p->capacity),
					 "%ld msgs of <= %ld B", v,
					 a.mq_msgsize);
				free(m);
			}
			if (q != (mqd_t)-1)
				mq_close(q);
			mq_unlink(name);
		} else {
			snprintf(p->persist, sizeof(p->persist),
				 "(cannot create)");
		}
	}
	if ((p = add(out, &k, n, "svmq"))) {
		int *sid = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (sid != MAP_FAILED) {
			*sid = -1;
			if (in_child(mk_svmq, sid) == 0) {
				struct {
					long type;
					char c[64];
				} m = { 1, { 0 } };
				struct msqid_ds ds;

				id = *sid;
				snprintf(p->persist, sizeof(p->persist),
					 "yes, data %s",
					 msgrcv(id, &m, 64, 0, IPC_NOWAIT) == 1
						 ? "yes"
						 : "no");
				for (v = 0; msgsnd(id, &m, 64, IPC_NOWAIT) == 0;
				     v++)
					;
				if (msgctl(id, IPC_STAT, &ds) == 0)
					snprintf(p->capacity,
						 sizeof(p->capacity),
						 "%ld msgs of 64 B (%lu B)", v,
						 (unsigned long)ds.msg_qbytes);
			}
			if (*sid >= 0)
				msgctl(*sid, IPC_RMID, NULL);
			munmap(sid, 4096);
		}
	}
	if ((p = add(out, &k, n, "ring"))) {
		name[0] = '/';
		bench_name(name + 1, sizeof(name) - 1, "ph");
		snprintf(p->capacity, sizeof(p->capacity),
			 "chosen (4 KiB..1 GiB ring)");
		if (in_child(mk_shm, name) == 0) {
			int f = shm_open(name, O_RDONLY | O_CLOEXEC, 0);

			snprintf(p->persist, sizeof(p->persist), "yes, data %s",
				 f >= 0 && read(f, &c, 1) == 1 && c == 'x'
					 ? "yes"
					 : "no");
			if (f >= 0)
				close(f);
			shm_unlink(name);
		}
	}
	if ((p = add(out, &k, n, "svsem"))) {
		int *sid = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (sid != MAP_FAILED) {
			*sid = -1;
			if (in_child(mk_svsem, sid) == 0) {
				int val = semctl(*sid, 0, GETVAL);

				snprintf(p->persist, sizeof(p->persist),
					 "yes, value %s",
					 val == 5 ? "kept" : "lost");
				/* the largest value SETVAL takes (SEMVMX) */
				for (v = 1; v < 1 << 30; v = 2 * v + 1)
					if (semctl(*sid, 0, SETVAL,
						   (int)(2 * v + 1)) < 0)
						break;
				snprintf(p->capacity, sizeof(p->capacity),
					 "counter <= %ld", v);
			}
			if (*sid >= 0)
				semctl(*sid, 0, IPC_RMID);
			munmap(sid, 4096);
		}
	}
	if ((p = add(out, &k, n, "psem"))) {
		name[0] = '/';
		bench_name(name + 1, sizeof(name) - 1, "pm");
		if (in_child(mk_psem, name) == 0) {
			sem_t *s = sem_open(name, 0);
			int val = -1;

			if (s != SEM_FAILED) {
				sem_getvalue(s, &val);
				sem_close(s);
			}
			snprintf(p->persist, sizeof(p->persist),
				 "yes (named), value %s",
				 val == 3 ? "kept" : "lost");
			sem_unlink(name);
		}
		snprintf(p->capacity, sizeof(p->capacity), "counter <= %d",
			 SEM_VALUE_MAX);
	}
	if ((p = add(out, &k, n, "signal")) && pipe2(fd, O_CLOEXEC) == 0) {
		if (in_child(count_signals, &fd[1]) == 0 &&
		    bench_read_all(fd[0], &v, sizeof(v)) == 0)
			snprintf(p->capacity, sizeof(p->capacity),
				 "%ld queued, no payload", v);
		snprintf(p->persist, sizeof(p->persist), "no");
		close(fd[0]), close(fd[1]);
	}
	return k;
}
