/*
 * The seed's signal-masking demo on ik_sig: block SIGINT, let one arrive
 * (raised by the program itself, or sent from outside with -w SECONDS, the
 * seed's 5 s window made an option), see it pending, unblock it and see it
 * delivered. Unlike the seed, a handler is installed: with the default
 * action the delivery would kill the process before it could say so.
 *
 * usage: sigmask_demo [-w SECONDS]
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

static volatile sig_atomic_t delivered;

static void
on_sigint(int sig)
{
	(void)sig;
	delivered = 1;
}

static int
failed(const char *what, int r)
{
	fprintf(stderr, "sigmask_demo: %s: %s\n", what, ik_strerror(r));
	return 1;
}

/* Wait up to secs for SIGINT to become pending, without consuming it. */
static int
wait_pending(const sigset_t *set, long secs)
{
	struct pollfd p = { .events = POLLIN };
	int r;

	p.fd = ik_sig_fd_open(set, 0);
	if (p.fd < 0)
		return p.fd;
	do
		r = poll(&p, 1, (int)(secs * 1000));
	while (r < 0 && errno == EINTR);
	close(p.fd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction old;
	sigset_t set, oldmask;
	long secs = -1;
	char *end;
	int r, opt;

	while ((opt = getopt(argc, argv, "w:")) != -1) {
		if (opt != 'w')
			goto usage;
		secs = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || secs < 0 || secs > 3600)
			goto usage;
	}
	if (optind != argc)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);

	r = ik_sig_handle(SIGINT, on_sigint, IK_SIG_RESTART, &old);
	if (r < 0)
		return failed("install handler", r);
	r = ik_sig_makeset(&set, SIGINT, 0);
	if (r < 0)
		return failed("sigset", r);
	printf("Process PID: %d\n", (int)getpid());
	printf("Blocking SIGINT...\n");
	r = ik_sig_block(&set, &oldmask);
	if (r < 0)
		return failed("block", r);
	if (secs < 0) {
		printf("Raising SIGINT while it is blocked (it is queued)\n");
		r = ik_sig_raise(SIGINT);
		if (r < 0)
			return failed("raise", r);
	} else {
		printf("Send SIGINT within %ld s (it will be queued)\n", secs);
		r = wait_pending(&set, secs);
		if (r < 0)
			return failed("wait", r);
	}

	r = ik_sig_is_pending(SIGINT);
	if (r < 0)
		return failed("sigpending", r);
	printf(r ? "SIGINT is pending!\n" : "SIGINT is not pending.\n");
	if (delivered)
		return failed("handler ran while blocked", -EPROTO);

	printf("Unblocking SIGINT...\n");
	sigdelset(&oldmask, SIGINT);
	r = ik_sig_setmask(&oldmask, NULL);
	if (r < 0)
		return failed("unblock", r);
	/* a pending unblocked signal is delivered before sigprocmask returns */
	if (delivered)
		printf("SIGINT unblocked. Signal delivered now.\n");
	else
		printf("SIGINT unblocked. Nothing to deliver.\n");
	r = ik_sig_restore(SIGINT, &old);
	if (r < 0)
		return failed("restore handler", r);
	return 0;
usage:
	fprintf(stderr, "usage: sigmask_demo [-w SECONDS]\n");
	return 2;
}
