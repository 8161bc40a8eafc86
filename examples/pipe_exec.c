/*
 * The seed's `ls -l | wc -l` on ik_spawn_pipeline: no fork and exec by
 * hand, every unused pipe end closed everywhere (so wc sees end of file),
 * a program that cannot be started reported by name, and each stage's exit
 * status checked. Usage: pipe_exec [DIR] (the directory for ls).
 */
#include <stdio.h>
#include <sys/wait.h>

#include <ipckit/ipckit.h>

int
main(int argc, char **argv)
{
	const char *ls[] = { "ls", "-l", argc > 1 ? argv[1] : NULL, NULL };
	const char *wc[] = { "wc", "-l", NULL };
	const char *const *stages[] = { ls, wc };
	struct ik_proc pr[2] = { 0 }; /* untouched if nothing starts */
	int r, status = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: pipe_exec [DIR]\n");
		return 2;
	}
	/* stdin, wc's stdout and both stderrs are ours (opts NULL) */
	r = ik_spawn_pipeline(pr, 2, stages, NULL);
	if (r < 0 && pr[0].error == 0 && pr[1].error == 0) {
		fprintf(stderr, "pipe_exec: %s\n", ik_strerror(r));
		return 1;
	}
	r = ik_spawn_wait_all(pr, 2, -1);
	if (r < 0) {
		fprintf(stderr, "pipe_exec: wait: %s\n", ik_strerror(r));
		status = 1;
	}
	for (int i = 0; i < 2; i++) {
		const char *name = stages[i][0];

		if (pr[i].error < 0) {
			fprintf(stderr, "pipe_exec: %s: %s\n", name,
				ik_strerror(pr[i].error));
			status = 1;
		} else if (pr[i].pid < 0 && WIFSIGNALED(pr[i].status)) {
			fprintf(stderr, "pipe_exec: %s: killed by signal %d\n",
				name, WTERMSIG(pr[i].status));
			status = 1;
		} else if (pr[i].pid < 0 && WEXITSTATUS(pr[i].status) != 0) {
			fprintf(stderr, "pipe_exec: %s exited with status %d\n",
				name, WEXITSTATUS(pr[i].status));
			status = 1;
		}
		ik_spawn_close(&pr[i]);
	}
	return status;
}
