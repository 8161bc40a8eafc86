/*
 * The seed's "shared memory with semaphores" on ipckit: a producer and a
 * consumer process exchange records through a ring of slots in a System V
 * segment, guarded by three System V semaphores (the classic bounded
 * buffer): EMPTY counts free slots, FULL counts filled ones, and LOCK guards
 * the indices. Both sides compute a checksum of what passed; the consumer
 * checks every record's sequence number and length, since data read from
 * shared memory is validated before it is trusted. The segment and the set
 * are removed at the end.
 *
 * usage: shm_demo [-v] [-n RECORDS] [-s SLOTS]     (defaults 1000, 8)
 *        -v: say which segment and semaphore set were made (on stderr)
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#define PAYLOAD 120

enum { EMPTY, FULL, LOCK };

struct record {
	uint32_t seq;
	uint32_t len; /* bytes of data used, <= PAYLOAD */
	unsigned char data[PAYLOAD];
};

struct segment {
	uint32_t head, tail; /* next slot to write, to read (under LOCK) */
	uint32_t slots;
	struct record rec[]; /* slots of them */
};

/* FNV-1a over the records' bytes, the same on both sides */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void
make_record(struct record *r, uint32_t seq)
{
	r->seq = seq;
	r->len = 1 + seq % PAYLOAD;
	for (uint32_t i = 0; i < r->len; i++)
		r->data[i] = (unsigned char)(seq * 31 + i);
}

static int
produce(struct segment *s, int semid, uint32_t n, uint64_t *sum)
{
	struct record r;
	int e;

	for (uint32_t seq = 0; seq < n; seq++) {
		make_record(&r, seq);
		*sum = fnv(*sum, r.data, r.len);
		/* a free slot (counting: no undo), then the index lock */
		if ((e = ik_sem_wait(semid, EMPTY, 1, IK_SEM_NOUNDO, -1)) < 0 ||
		    (e = ik_sem_lock(semid, LOCK, -1)) < 0)
			return e;
		s->rec[s->head] = r;
		s->head = (s->head + 1) % s->slots;
		if ((e = ik_sem_unlock(semid, LOCK)) < 0 ||
		    (e = ik_sem_post(semid, FULL, 1, IK_SEM_NOUNDO)) < 0)
			return e;
	}
	return 0;
}

static int
consume(struct segment *s, int semid, uint32_t n, uint64_t *sum)
{
	struct record r;
	uint32_t slots = s->slots;
	int e;

	for (uint32_t seq = 0; seq < n; seq++) {
		uint32_t tail;

		if ((e = ik_sem_wait(semid, FULL, 1, IK_SEM_NOUNDO, -1)) < 0 ||
		    (e = ik_sem_lock(semid, LOCK, -1)) < 0)
			return e;
		tail = s->tail;
		if (tail >= slots) { /* never index with an unchecked value */
			ik_sem_unlock(semid, LOCK);
			return -EBADMSG;
		}
		r = s->rec[tail];
		s->tail = (tail + 1) % slots;
		if ((e = ik_sem_unlock(semid, LOCK)) < 0 ||
		    (e = ik_sem_post(semid, EMPTY, 1, IK_SEM_NOUNDO)) < 0)
			return e;
		if (r.seq != seq || r.len == 0 || r.len > PAYLOAD)
			return -EBADMSG;
		*sum = fnv(*sum, r.data, r.len);
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: shm_demo [-v] [-n RECORDS] [-s SLOTS]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct ik_shm shm = IK_SHM_INIT;
	unsigned short init[3];
	uint64_t sum = 1469598103934665603ull;
	long n = 1000, slots = 8;
	struct segment *s;
	int opt, semid, r, st, ret = 0, verbose = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "vn:s:")) != -1) {
		char *end;
		long v;

		if (opt == 'v') {
			verbose = 1;
			continue;
		}
		if (opt != 'n' && opt != 's')
			return usage();
		errno = 0;
		v = strtol(optarg, &end, 10);
		if (errno || *end != '\0' || v < 1 || v > 1000000)
			return usage();
		if (opt == 'n')
			n = v;
		else if (v <= IK_SEM_VALUE_MAX)
			slots = v;
		else
			return usage();
	}
	if (optind != argc)
		return usage();

	r = ik_shm_sysv_create(&shm, IPC_PRIVATE,
			       sizeof(*s) + (size_t)slots * sizeof(s->rec[0]),
			       0);
	if (r < 0) {
		fprintf(stderr, "shm_demo: segment: %s\n", ik_strerror(r));
		return 1;
	}
	/* gone as soon as both processes have detached, even if we crash */
	ik_shm_remove(&shm);
	s = shm.base;
	s->slots = (uint32_t)slots;
	init[EMPTY] = (unsigned short)slots;
	init[FULL] = 0;
	init[LOCK] = 1;
	semid = ik_sem_create(IPC_PRIVATE, 3, init, 0);
	if (semid < 0) {
		fprintf(stderr, "shm_demo: semaphores: %s\n",
			ik_strerror(semid));
		ik_shm_close(&shm);
		return 1;
	}

	if (verbose)
		fprintf(stderr, "shm_demo: segment %d, semaphore set %d\n",
			shm.id, semid);
	pid = fork();
	if (pid < 0) {
		perror("shm_demo: fork");
		ret = 1;
		goto out;
	}
	if (pid == 0) {
		r = consume(s, semid, (uint32_t)n, &sum);
		if (r < 0) {
			fprintf(stderr, "shm_demo: consumer: %s\n",
				ik_strerror(r));
			_exit(1);
		}
		printf("Consumer: %ld records, checksum %016llx\n", n,
		       (unsigned long long)sum);
		fflush(stdout);
		_exit(0);
	}
	r = produce(s, semid, (uint32_t)n, &sum);
	if (r < 0) {
		fprintf(stderr, "shm_demo: producer: %s\n", ik_strerror(r));
		kill(pid, SIGTERM);
		ret = 1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ret = 1;
	printf("Producer: %ld records, checksum %016llx\n", n,
	       (unsigned long long)sum);
out:
	if ((r = ik_sem_remove(semid)) < 0) {
		fprintf(stderr, "shm_demo: remove semaphores: %s\n",
			ik_strerror(r));
		ret = 1;
	}
	ik_shm_close(&shm);
	return ret;
}
