/*
 * iceoryx 2.0 (C binding), publish/subscribe with loaned samples: the
 * sender loans a chunk in shared memory, writes the payload in place and
 * publishes it; the receiver busy-polls take, reads in place, releases.
 * Two topics make a round trip. The bench starts its own iox-roudi (log
 * level warning) the first time, and stops it by pid when it exits. Each
 * side waits until its publisher and subscriber are connected before the
 * first message, and leaves with exit() so the runtime deregisters (after
 * _exit RouDi would evict it only seconds later).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdbool.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>

#include "../bench.h"

#define ROUDI_SOCKET "/tmp/roudi" /* where RouDi listens once it is up */

static pid_t roudi_pid = -1, roudi_owner = -1;

static void
roudi_stop(void)
{
	if (roudi_pid > 0 && getpid() == roudi_owner) {
		kill(roudi_pid, SIGTERM);
		waitpid(roudi_pid, NULL, 0);
		roudi_pid = -1;
	}
}

/* The socket file is there but nothing is bound to it (connect refused). */
static bool
roudi_stale(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return false;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", ROUDI_SOCKET);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	r = r < 0 ? errno : 0;
	close(fd);
	return r == ECONNREFUSED;
}

/*
 * Start iox-roudi as our child, its output to /dev/null (its banner would
 * land in the middle of the report), and bound to our life: a bench killed
 * before its atexit (SIGKILL, a timeout) must not leave a RouDi that makes
 * every later run fail with "address in use".
 */
static int
spawn_roudi(char **argv)
{
	pid_t parent = getpid();
	int ok[2], err = 0;
	ssize_t n;

	if (pipe2(ok, O_CLOEXEC) < 0)
		return -errno;
	roudi_pid = fork();
	if (roudi_pid < 0) {
		err = -errno;
		close(ok[0]);
		close(ok[1]);
		return err;
	}
	if (roudi_pid == 0) {
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		if (nul >= 0) {
			dup2(nul, 1);
			dup2(nul, 2);
		}
		execvp(argv[0], argv);
		err = errno;
		(void)!write(ok[1], &err, sizeof(err));
		_exit(127);
	}
	close(ok[1]);
	/* the exec closes ok[1]: end of file; a failed exec sends errno */
	do
		n = read(ok[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(ok[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(roudi_pid, NULL, 0);
		return err == ENOENT ? -EPROTONOSUPPORT : -err;
	}
	return 0;
}

static int
roudi_start(const struct bench_row *r, void **shared)
{
	char *argv[] = { "iox-roudi", "-l", "warning", NULL };
	struct stat st;
	int rc;

	(void)r, (void)shared;
	if (roudi_pid > 0)
		return 0;
	if (lstat(ROUDI_SOCKET, &st) == 0) {
		if (!roudi_stale())
			return -EADDRINUSE; /* a running RouDi: not ours */
		/* left by a RouDi that was killed: it would refuse to start */
		unlink(ROUDI_SOCKET);
		unlink(ROUDI_SOCKET ".lock");
	}
	rc = spawn_roudi(argv);
	if (rc < 0) {
		roudi_pid = -1;
		return rc;
	}
	roudi_owner = getpid();
	atexit(roudi_stop);
	for (int i = 0; i < 1000; i++) { /* up to 10 s */
		if (lstat(ROUDI_SOCKET, &st) == 0)
			return 0;
		if (waitpid(roudi_pid, NULL, WNOHANG) == roudi_pid) {
			roudi_pid = -1;
			return -ECHILD;
		}
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return -ETIMEDOUT;
}

struct iside {
	iox_pub_storage_t ps;
	iox_sub_storage_t ss;
	iox_pub_t pub;
	iox_sub_t sub;
};

static int
x_open(const struct bench_row *r, struct bench_end *e)
{
	struct iside *x = calloc(1, sizeof(*x));
	char name[64], inst[64], line[16];
	iox_pub_options_t po;
	iox_sub_options_t so;
	int rc;

	(void)r;
	if ((e->st = x) == NULL)
		return -ENOMEM;
	iox_set_loglevel(Iceoryx_LogLevel_Warn);
	bench_name(name, sizeof(name), e->side ? "b" : "a");
	bench_name(inst, sizeof(inst), "x");
	iox_runtime_init(name);
	iox_pub_options_init(&po);
	po.historyCapacity = 0;
	po.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
	iox_sub_options_init(&so);
	so.queueCapacity = 256;
	so.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
	x->pub = iox_pub_init(&x->ps, "ipckit", inst, e->side ? "ba" : "ab",
			      &po);
	x->sub = iox_sub_init(&x->ss, "ipckit", inst, e->side ? "ab" : "ba",
			      &so);
	for (int i = 0;; i++) { /* connected both ways, within 10 s */
		if (iox_pub_has_subscribers(x->pub) &&
		    iox_sub_get_subscription_state(x->sub) ==
			    SubscribeState_SUBSCRIBED)
			break;
		if (i == 10000) {
			snprintf(e->note, sizeof(e->note),
				 "publisher and subscriber never connected");
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	if ((rc = bench_ctl_send(e, "up")) < 0 ||
	    (rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
		return rc;
	return 0;
}

static int
x_send(struct bench_end *e, void *buf, size_t len)
{
	struct iside *x = e->st;
	void *p;
	enum iox_AllocationResult a =
		iox_pub_loan_chunk(x->pub, &p, (uint32_t)len);

	if (a != AllocationResult_SUCCESS) {
		snprintf(e->note, sizeof(e->note), "loan of %zu B refused (%d)",
			 len, (int)a);
		return -ENOMEM;
	}
	if (e->stream)
		bench_fill(p, len, e->seq);
	else if (len >= 8)
		memcpy(p, buf, 8);
	iox_pub_publish_chunk(x->pub, p);
	return 0;
}

static int
x_recv(struct bench_end *e, void *buf, size_t len)
{
	struct iside *x = e->st;
	const unsigned char *p;
	int64_t deadline = bench_now_ns() + 30 * (int64_t)1000000000;

	while (iox_sub_take_chunk(x->sub, (const void **)&p) !=
	       ChunkReceiveResult_SUCCESS) {
		if (bench_now_ns() > deadline)
			return -ETIMEDOUT;
		bench_relax();
	}
	if (e->stream) {
		e->bad += !bench_check(p, len, e->seq);
	} else if (len >= 8) {
		memcpy(buf, p, 8);
	}
	iox_sub_release_chunk(x->sub, p);
	return 0;
}

static void
x_close(struct bench_end *e)
{
	struct iside *x = e->st;

	if (x == NULL)
		return;
	if (x->pub)
		iox_pub_deinit(x->pub);
	if (x->sub)
		iox_sub_deinit(x->sub);
	free(x);
	e->st = NULL;
}

const struct bench_row bench_rows_iceoryx[] = {
	{ "iceoryx pub/sub, loaned", "iceoryx", BK_PEER, BF_EXIT | BF_INPLACE,
	  NULL, roudi_start, x_open, x_send, x_recv, x_close, NULL },
	{ .name = NULL },
};
