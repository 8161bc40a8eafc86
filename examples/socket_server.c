/*
 * The seed's socket server on ipckit: listen, accept a client, print what it
 * sent ("Server received: Hello"), answer "Hi", and serve the next one until
 * SIGTERM/SIGINT (taken through a signalfd: no handler runs in the middle of
 * anything) or until -n clients were served. The socket file is 0600 and
 * removed on the way out.
 *
 *   socket_server [-u PATH | -t HOST:PORT] [-n COUNT]
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#define CLIENT_TIMEOUT_MS 5000

static int
usage(void)
{
	fprintf(stderr,
		"usage: socket_server [-u PATH | -t HOST:PORT] [-n COUNT]\n");
	return 2;
}

/*
 * One client: its message up to end of stream, then the answer. Returns 0
 * when it was served, -1 for a connection that said nothing (such as the
 * probe of a second server checking whether this one is alive).
 */
static int
serve_one(struct ik_sock *c)
{
	char msg[256];
	ssize_t n;

	n = ik_sock_recv(c, msg, sizeof(msg) - 1, CLIENT_TIMEOUT_MS);
	if (n < 0) {
		fprintf(stderr, "socket_server: receive: %s\n",
			ik_strerror((int)n));
		return -1;
	}
	if (n == 0)
		return -1;
	/* the bytes come from another process: print only printable ones */
	for (ssize_t i = 0; i < n; i++)
		if (!isprint((unsigned char)msg[i]))
			msg[i] = '.';
	msg[n] = '\0';
	printf("Server received: %s\n", msg);
	n = ik_sock_send(c, "Hi", 2, CLIENT_TIMEOUT_MS);
	if (n < 0)
		fprintf(stderr, "socket_server: send: %s\n",
			ik_strerror((int)n));
	return 0;
}

int
main(int argc, char **argv)
{
	enum ik_sock_kind kind = IK_SOCK_UNIX_STREAM;
	const char *addr = NULL;
	char path[256], shown[256], *end;
	struct ik_sock *srv, *c;
	struct ik_sock_addr bound;
	struct pollfd p[2];
	sigset_t stop;
	long count = -1, served = 0;
	int opt, sfd, r, status = 0;

	while ((opt = getopt(argc, argv, "u:t:n:")) != -1) {
		switch (opt) {
		case 'u':
			kind = IK_SOCK_UNIX_STREAM;
			addr = optarg;
			break;
		case 't':
			kind = IK_SOCK_TCP;
			addr = optarg;
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (count <= 0 || *end != '\0')
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (addr == NULL) {
		r = ik_runtime_path(path, sizeof(path), "socket_server.sock");
		if (r < 0) {
			fprintf(stderr, "socket_server: runtime dir: %s\n",
				ik_strerror(r));
			return 1;
		}
		addr = path;
	}

	/* block the stop signals first, so none is lost before the fd */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0) {
		perror("socket_server: sigprocmask");
		return 1;
	}
	sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sfd < 0) {
		perror("socket_server: signalfd");
		return 1;
	}
	r = ik_sock_listen(&srv, kind, addr, NULL);
	if (r < 0) {
		fprintf(stderr, "socket_server: %s: %s\n", addr,
			ik_strerror(r));
		close(sfd);
		return 1;
	}
	r = ik_sock_local_addr(srv, &bound);
	if (r >= 0)
		r = ik_sock_format(&bound, shown, sizeof(shown));
	if (r < 0) {
		fprintf(stderr, "socket_server: address: %s\n", ik_strerror(r));
		status = 1;
		goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("Server listening on %s\n", shown);

	p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = ik_sock_fd(srv), .events = POLLIN };
	while (count < 0 || served < count) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("socket_server: poll");
			status = 1;
			break;
		}
		if (p[0].revents & POLLIN)
			break; /* SIGTERM or SIGINT */
		if (!(p[1].revents & POLLIN))
			continue;
		r = ik_sock_accept(srv, &c, 0);
		if (r == -EAGAIN)
			continue; /* it went away before we took it */
		if (r < 0) {
			fprintf(stderr, "socket_server: accept: %s\n",
				ik_strerror(r));
			status = 1;
			break;
		}
		if (serve_one(c) == 0)
			served++;
		ik_sock_close(c);
	}
	printf("Server stopped after %ld client(s)\n", served);
out:
	r = ik_sock_close(srv);
	if (r < 0) {
		fprintf(stderr, "socket_server: close: %s\n", ik_strerror(r));
		status = 1;
	}
	close(sfd);
	return status;
}
