/*
 * ik_ring_stream: the soak's ring load. A producer and a consumer process
 * stream variable-size messages through one anonymous ik_ring until SIGTERM
 * (or -t SECONDS); each message carries its sequence number and a pattern
 * derived from it, and the consumer checks both. Prints "producer=PID
 * consumer=PID" first (the soak samples both), and at the end
 * "sent=N received=N errors=N"; exit 0 only if every message arrived
 * intact and in order. Test code: printing and signal handlers are fine.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/error.h>
#include <ipckit/ring.h>

#define MAXLEN 4000

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static size_t
len_of(uint64_t seq)
{
	return 8 + (size_t)(seq * 2654435761u % (MAXLEN - 8));
}

static void
fill(unsigned char *m, uint64_t seq, size_t len)
{
	memcpy(m, &seq, 8);
	for (size_t i = 8; i < len; i++)
		m[i] = (unsigned char)(seq + i * 31);
}

static int
consume(ik_ring *r, int report_fd)
{
	static unsigned char m[MAXLEN], want[MAXLEN];
	uint64_t next = 0, errors = 0;
	char line[128];
	int n;

	for (;;) {
		ssize_t len = ik_ring_recv(r, m, sizeof(m), 1000);
		uint64_t seq;

		if (len == -ETIMEDOUT)
			continue;
		if (len == -EPIPE)
			break; /* the producer closed: all is drained */
		if (len < 8) {
			fprintf(stderr, "ring_stream: recv: %s\n",
				len < 0 ? ik_strerror((int)len) : "short");
			errors++;
			break;
		}
		memcpy(&seq, m, 8);
		fill(want, next, len_of(next));
		if (seq != next || (size_t)len != len_of(next) ||
		    memcmp(m, want, (size_t)len) != 0) {
			if (errors++ < 5)
				fprintf(stderr,
					"ring_stream: message %llu: got seq "
					"%llu, %zd bytes\n",
					(unsigned long long)next,
					(unsigned long long)seq, len);
			next = seq;
		}
		next++;
	}
	n = snprintf(line, sizeof(line), "received=%llu errors=%llu\n",
		     (unsigned long long)next, (unsigned long long)errors);
	if (write(report_fd, line, (size_t)n) != n)
		errors++;
	return errors ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static unsigned char m[MAXLEN];
	struct sigaction sa = { .sa_handler = on_term };
	double secs =
		argc > 2 && strcmp(argv[1], "-t") == 0 ? atof(argv[2]) : 0;
	struct timespec t0, t;
	uint64_t seq = 0;
	int rp[2], r, status;
	char rep[128] = "";
	ssize_t got;
	ik_ring *ring;
	pid_t pid;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((r = ik_ring_create(&ring, NULL, 1u << 16, 0)) < 0 ||
	    pipe(rp) < 0) {
		fprintf(stderr, "ring_stream: %s\n", ik_strerror(r));
		return 2;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(rp[0]);
		if (ik_ring_attach(ring, IK_RING_CONSUMER) < 0)
			_exit(2);
		r = consume(ring, rp[1]);
		ik_ring_close(ring);
		_exit(r);
	}
	close(rp[1]);
	if ((r = ik_ring_attach(ring, IK_RING_PRODUCER)) < 0) {
		fprintf(stderr, "ring_stream: attach: %s\n", ik_strerror(r));
		return 2;
	}
	printf("producer=%ld consumer=%ld\n", (long)getpid(), (long)pid);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		size_t len = len_of(seq);

		fill(m, seq, len);
		r = ik_ring_send(ring, m, len, 1000);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0) {
			fprintf(stderr, "ring_stream: send: %s\n",
				ik_strerror(r));
			break;
		}
		seq++;
		if (secs > 0 && (seq & 1023) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec >= secs)
				break;
		}
	}
	ik_ring_close(ring); /* the consumer drains, then gets -EPIPE */
	got = read(rp[0], rep, sizeof(rep) - 1);
	rep[got > 0 ? got : 0] = '\0';
	close(rp[0]);
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	printf("sent=%llu %s", (unsigned long long)seq, rep);
	return r < 0 && r != -ETIMEDOUT	  ? 1
	       : !WIFEXITED(status)	  ? 1
	       : WEXITSTATUS(status) != 0 ? 1
					  : strstr(rep, "errors=0") == NULL;
}
