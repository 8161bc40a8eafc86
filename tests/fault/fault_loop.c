/*
 * Faults in the event loop: creating it and adding descriptor, timer,
 * signal and child watchers (a failed add leaves no watcher, descriptor or
 * blocked signal behind), then running it until a peer's byte, a timer,
 * a signal and the peer's exit have all been delivered.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/loop.h>

#include "ikf.h"
#include "ikt.h"

static int seen;
static int fds[2];

static void
on_fd(ik_loop *l, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	char c;

	(void)l, (void)ev, (void)arg;
	ikf_disarm(); /* our own read is not under test */
	if (read(fds[0], &c, 1) == 1 && c == 'x')
		seen |= 1;
	ikf_arm();
	ik_loop_remove(w);
}

static void
on_timer(ik_loop *l, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)l, (void)arg;
	if (ev->expirations >= 1)
		seen |= 2;
	ik_loop_remove(w);
}

static void
on_signal(ik_loop *l, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)l, (void)arg;
	if (ev->si.signo == SIGUSR1)
		seen |= 4;
	ik_loop_remove(w);
}

static void
on_child(ik_loop *l, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	(void)w, (void)arg;
	if (WIFEXITED(ev->status) && WEXITSTATUS(ev->status) == 7)
		seen |= 8;
	ik_loop_stop(l);
}

static int
peer(void *arg)
{
	(void)arg;
	if (write(fds[1], "x", 1) != 1 || kill(getppid(), SIGUSR1) != 0)
		return 1;
	return 7;
}

static void
sc_loop(void)
{
	ik_loop *l = NULL;
	sigset_t set, old;
	pid_t pid = -1;

	seen = 0;
	fds[0] = fds[1] = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (pipe(fds) != 0)
		goto out;
	if (IKF(ik_loop_new(&l, 0)) < 0)
		goto out;
	if (IKF(ik_loop_fd_add(l, fds[0], IK_LOOP_READ, on_fd, NULL, NULL)) < 0)
		goto out;
	if (IKF(ik_loop_timer_add(l, 1, 0, on_timer, NULL, NULL)) < 0)
		goto out;
	if (IKF(ik_loop_signal_add(l, SIGUSR1, on_signal, NULL, NULL)) < 0)
		goto out;
	pid = ikf_peer(peer, NULL);
	if (IKF(ik_loop_child_add(l, pid, on_child, NULL, NULL)) < 0)
		goto out;
	while (seen != 15)
		if (IKF(ik_loop_run_once(l, 20000)) < 0 && !ikf_errored())
			break;
	IKF_ASSERT(seen == 15);
	if (seen & 8) {
		ikf_peer_reaped(pid); /* by the loop */
		pid = -1;
	}
out:
	if (pid > 0)
		ikf_peer_end(pid);
	if (l)
		IKF(ik_loop_free(l));
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	/* a SIGUSR1 the loop never took is still pending: drop it */
	signal(SIGUSR1, SIG_IGN);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "loop", sc_loop },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
