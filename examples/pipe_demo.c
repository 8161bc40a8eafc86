/*
 * The seed's basic pipe: the parent sends a line to its child through an
 * anonymous pipe. Unlike the seed, the pipe is close-on-exec, the write is
 * completed (and cannot kill us with SIGPIPE), and the child reads until the
 * parent closes its end, so a message split across reads still arrives whole.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

int
main(void)
{
	const char msg[] = "Hello through pipe!";
	char buf[100];
	int fd[2], r, st;
	ssize_t n;
	pid_t pid;

	r = ik_pipe_open(fd, 0);
	if (r < 0) {
		fprintf(stderr, "pipe_demo: pipe: %s\n", ik_strerror(r));
		return 1;
	}
	fflush(stdout); /* nothing buffered may be printed twice */
	pid = fork();
	if (pid < 0) {
		perror("pipe_demo: fork");
		ik_pipe_close(fd);
		return 1;
	}
	if (pid == 0) {
		close(fd[1]); /* or we would never see end of file */
		n = ik_pipe_read(fd[0], buf, sizeof(buf) - 1, -1, NULL);
		close(fd[0]);
		if (n < 0) {
			fprintf(stderr, "pipe_demo: child: %s\n",
				ik_strerror((int)n));
			_exit(1);
		}
		buf[n] = '\0';
		printf("Child received: %s\n", buf);
		fflush(stdout);
		_exit(0);
	}
	close(fd[0]);
	printf("Parent sending: %s\n", msg);
	fflush(stdout); /* before the child can print */
	n = ik_pipe_write(fd[1], msg, strlen(msg), -1, NULL);
	close(fd[1]);
	if (n < 0)
		fprintf(stderr, "pipe_demo: write: %s\n", ik_strerror((int)n));
	while (waitpid(pid, &st, 0) < 0) {
		perror("pipe_demo: waitpid");
		return 1;
	}
	if (n < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 1;
	return 0;
}
