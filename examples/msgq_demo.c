/*
 * msgq_demo: the seed's System V message queue example on ipckit. The parent
 * sends one type-1 message, the child receives it. Unlike the seed, the
 * queue is private (IPC_PRIVATE, mode 0600) instead of the well-known key
 * 1234 that any process could open, and it is removed on every path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/msgq.h>

#define TEXT "Hello via message queue!"

static int
child(int id)
{
	char text[128];
	long type = 0;
	ssize_t n;

	/* -1: wait as long as it takes, like the seed's msgrcv */
	n = ik_msgq_recv(id, 1, text, sizeof(text) - 1, &type, 0, -1);
	if (n < 0) {
		fprintf(stderr, "msgq_demo: receive: %s\n",
			ik_strerror((int)n));
		return 1;
	}
	text[n] = '\0';
	printf("Child received (type %ld): %s\n", type, text);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(void)
{
	int id, r, st, status = 0;
	pid_t pid;

	r = ik_msgq_create(IPC_PRIVATE, 0600, &id);
	if (r < 0) {
		fprintf(stderr, "msgq_demo: create: %s\n", ik_strerror(r));
		return 1;
	}
	fflush(stdout); /* nothing buffered may be written twice after fork */
	pid = fork();
	if (pid < 0) {
		perror("msgq_demo: fork");
		ik_msgq_remove(id);
		return 1;
	}
	if (pid == 0)
		_exit(child(id));

	printf("Parent sending: %s\n", TEXT);
	fflush(stdout);
	/* the terminating NUL travels too, as in the seed */
	r = ik_msgq_send(id, 1, TEXT, sizeof(TEXT), -1);
	if (r < 0) {
		fprintf(stderr, "msgq_demo: send: %s\n", ik_strerror(r));
		status = 1;
		/* the child would wait forever: removing the queue wakes it */
	}
	if (status != 0)
		ik_msgq_remove(id);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("msgq_demo: waitpid");
			status = 1;
			break;
		}
	}
	if (status == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		status = 1;
	if (status == 0) {
		r = ik_msgq_remove(id);
		if (r < 0) {
			fprintf(stderr, "msgq_demo: remove: %s\n",
				ik_strerror(r));
			return 1;
		}
		printf("Queue %d removed\n", id);
	}
	return status;
}
