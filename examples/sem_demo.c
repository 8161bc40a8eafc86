/*
 * The seed's binary-semaphore example on ipckit: a parent and a child each
 * enter a critical section guarded by one System V semaphore five times and
 * print inside it. The lock uses SEM_UNDO, so a process killed inside the
 * section would not leave the other blocked; the set is removed at the end.
 *
 * usage: sem_demo [--pause MS]   (time spent inside the section, default 0)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

static int
usage(void)
{
	fprintf(stderr, "usage: sem_demo [--pause MS]\n");
	return 2;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Five turns in the critical section; 0 or the first error. */
static int
turns(int semid, const char *who, long pause)
{
	int r;

	for (int i = 0; i < 5; i++) {
		r = ik_sem_lock(semid, 0, -1);
		if (r < 0)
			return r;
		/* flushed inside the section, so lines never interleave */
		printf("%s: %d\n", who, i);
		fflush(stdout);
		pause_ms(pause);
		r = ik_sem_unlock(semid, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned short one = 1; /* binary semaphore, initially free */
	long pause = 0;
	int semid, r, st, ret = 0;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "--pause") == 0) {
		char *end;

		errno = 0;
		pause = strtol(argv[2], &end, 10);
		if (errno != 0 || end == argv[2] || *end != '\0' || pause < 0 ||
		    pause > 60000)
			return usage();
	} else if (argc != 1) {
		return usage();
	}

	semid = ik_sem_create(IPC_PRIVATE, 1, &one, 0);
	if (semid < 0) {
		fprintf(stderr, "sem_demo: create: %s\n", ik_strerror(semid));
		return 1;
	}
	printf("sem_demo: set %d created\n", semid);
	fflush(stdout); /* or the child would print it again */

	pid = fork();
	if (pid < 0) {
		perror("sem_demo: fork");
		ik_sem_remove(semid);
		return 1;
	}
	if (pid == 0) {
		r = turns(semid, "Child", pause);
		if (r < 0)
			fprintf(stderr, "sem_demo: child: %s\n",
				ik_strerror(r));
		_exit(r < 0 ? 1 : 0);
	}

	r = turns(semid, "Parent", pause);
	if (r < 0) {
		fprintf(stderr, "sem_demo: parent: %s\n", ik_strerror(r));
		ret = 1;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("sem_demo: waitpid");
			st = 1;
			break;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sem_demo: child failed\n");
		ret = 1;
	}
	r = ik_sem_remove(semid);
	if (r < 0) {
		fprintf(stderr, "sem_demo: remove: %s\n", ik_strerror(r));
		return 1;
	}
	printf("sem_demo: set %d removed\n", semid);
	return ret;
}
