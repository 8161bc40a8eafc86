/*
 * fifo_server: the seed's FIFO reader made a server. It creates the FIFO
 * (0600, refusing anything already at the path), prints every line it
 * receives as "Received: <line>", serves any number of clients one after
 * another (its own write end means no EOF between them), and removes the
 * FIFO when it stops: after -n COUNT messages, a "quit" line, or SIGINT or
 * SIGTERM (taken through a signalfd, after draining what was already sent).
 *
 * usage: fifo_server [-n COUNT] [PATH]   (default: fifo_demo in the
 * ipckit runtime directory)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#define DEFAULT_NAME "fifo_demo"

struct server {
	ik_fifo *fifo;
	char buf[2 * IK_FIFO_MSG_MAX];
	size_t have;
	bool skipping; /* inside a line too long to be a client's message */
	long count, max;
	bool done;
};

static void
usage(void)
{
	fprintf(stderr, "usage: fifo_server [-n COUNT] [PATH]\n");
	exit(2);
}

static void
handle_line(struct server *s, const char *line, size_t len)
{
	printf("Received: %.*s\n", (int)len, line);
	s->count++;
	if ((len == 4 && memcmp(line, "quit", 4) == 0) ||
	    (s->max > 0 && s->count >= s->max))
		s->done = true;
}

/* Split what arrived into lines; a partial line waits for the rest. */
static void
consume(struct server *s)
{
	char *nl;
	size_t len;

	while (!s->done && (nl = memchr(s->buf, '\n', s->have)) != NULL) {
		len = (size_t)(nl - s->buf);
		if (s->skipping)
			s->skipping = false;
		else
			handle_line(s, s->buf, len);
		s->have -= len + 1;
		memmove(s->buf, nl + 1, s->have);
	}
	if (s->have == sizeof(s->buf)) {
		/* clients send whole lines of at most IK_FIFO_MSG_MAX bytes */
		fprintf(stderr, "fifo_server: discarding an over-long line\n");
		s->have = 0;
		s->skipping = true;
	}
}

/* Read what is there without blocking. 0, or a negative error. */
static int
drain(struct server *s)
{
	ssize_t n;

	while (!s->done) {
		n = ik_fifo_recv(s->fifo, s->buf + s->have,
				 sizeof(s->buf) - s->have, 0);
		if (n == -ETIMEDOUT)
			return 0;
		if (n <= 0)
			return n == 0 ? -EIO : (int)n; /* no EOF: we hold a
							  write end */
		s->have += (size_t)n;
		consume(s);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct server s;
	struct pollfd p[2];
	const char *path = DEFAULT_NAME;
	sigset_t stop;
	char *end;
	int opt, r, sfd, status = 0;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			usage();
		s.max = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || s.max < 1)
			usage();
	}
	if (argc - optind > 1)
		usage();
	if (optind < argc)
		path = argv[optind];

	/* signals become readable events; blocked before the FIFO exists,
	 * so there is no moment in which they would kill us and leave it */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0 ||
	    (sfd = signalfd(-1, &stop, SFD_CLOEXEC)) < 0) {
		perror("fifo_server: signalfd");
		return 1;
	}
	r = ik_fifo_open(&s.fifo, path,
			 IK_FIFO_READ | IK_FIFO_CREATE | IK_FIFO_EXCL |
				 IK_FIFO_SERVER,
			 0);
	if (r < 0) {
		fprintf(stderr, "fifo_server: %s: %s%s\n", path, ik_strerror(r),
			r == -EEXIST ? " (another server running? if not, "
				       "remove it)"
				     : "");
		close(sfd);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("Listening on %s\n", ik_fifo_path(s.fifo));

	p[0] = (struct pollfd){ .fd = ik_fifo_fd(s.fifo), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	while (!s.done) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("fifo_server: poll");
			status = 1;
			break;
		}
		/* data first: what a client already sent is not lost */
		r = drain(&s);
		if (r < 0) {
			fprintf(stderr, "fifo_server: %s\n", ik_strerror(r));
			status = 1;
			break;
		}
		if (p[1].revents & POLLIN)
			break;
	}
	printf("Served %ld messages\n", s.count);
	r = ik_fifo_close(s.fifo);
	if (r < 0) {
		fprintf(stderr, "fifo_server: removing %s: %s\n", path,
			ik_strerror(r));
		status = 1;
	}
	close(sfd);
	return status;
}
