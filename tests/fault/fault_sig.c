/*
 * Faults in the signal module: a signalfd opened and read while a peer
 * queues signals with values, a timed wait that must time out, and the
 * self-pipe: every signal queued arrives once, with its value.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <ipckit/sig.h>

#include "ikf.h"
#include "ikt.h"

static int
sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		if (ik_sig_queue_int(getppid(), SIGRTMIN + 1, 100 + i) != 0)
			return 1;
	return 0;
}

static void
sc_signalfd(void)
{
	struct ik_siginfo si[4];
	sigset_t set, old;
	int fd = -1, got = 0;
	pid_t peer = -1;
	long n;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	if (IKF(ik_sig_block(&set, &old)) < 0)
		return;
	fd = (int)IKF(ik_sig_fd_open(&set, 0));
	if (fd < 0)
		goto out;
	peer = ikf_peer(sender, NULL);
	while (got < 3) {
		n = IKF(ik_sig_fd_read(fd, si, 4, 20000));
		if (n < 0 && ikf_errored())
			continue; /* queued signals stay queued */
		if (n <= 0)
			break;
		for (long i = 0; i < n; i++, got++)
			IKF_ASSERT(si[i].signo == SIGRTMIN + 1 &&
				   si[i].value_int == 100 + got);
	}
	IKF_ASSERT(got == 3);
	IKF_E(ik_sig_wait(&set, 20, si), -ETIMEDOUT);
	ikf_peer_join(peer);
	peer = -1;
out:
	ikf_peer_end(peer);
	if (fd >= 0)
		close(fd);
	ik_sig_setmask(&old, NULL);
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "sig_signalfd", sc_signalfd },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
