/*
 * The seed's SIGINT handler, done safely with ik_sig: the handler only
 * stores the signal number in a volatile sig_atomic_t, and main does the
 * printing (printf in a handler, as the seed has it, can deadlock or
 * corrupt stdio if the signal lands inside another printf). SIGINT stays
 * blocked except inside ik_sig_suspend, so it cannot slip in between
 * testing the flag and going to sleep; the seed's sleep(1) polling goes.
 */
#include <stdio.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

static volatile sig_atomic_t received;

static void
on_sigint(int sig)
{
	received = sig;
}

static int
failed(const char *what, int r)
{
	fprintf(stderr, "signal_demo: %s: %s\n", what, ik_strerror(r));
	return 1;
}

int
main(void)
{
	struct sigaction old;
	sigset_t intset, oldmask, waitmask;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach a pipe at once */
	r = ik_sig_makeset(&intset, SIGINT, 0);
	if (r < 0)
		return failed("sigset", r);
	r = ik_sig_block(&intset, &oldmask);
	if (r < 0)
		return failed("block SIGINT", r);
	r = ik_sig_handle(SIGINT, on_sigint, IK_SIG_RESTART, &old);
	if (r < 0)
		return failed("install handler", r);

	printf("Process PID: %d\n", (int)getpid());
	printf("Press Ctrl+C to send SIGINT...\n");
	printf("Waiting for signal...\n");
	waitmask = oldmask;
	sigdelset(&waitmask, SIGINT);
	while (!received)
		ik_sig_suspend(&waitmask); /* returns once a handler ran */
	printf("Received signal %d\n", (int)received);

	r = ik_sig_restore(SIGINT, &old);
	if (r < 0)
		return failed("restore handler", r);
	r = ik_sig_setmask(&oldmask, NULL);
	if (r < 0)
		return failed("restore mask", r);
	printf("Signal handled, exiting.\n");
	return 0;
}
