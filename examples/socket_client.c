/*
 * The seed's socket client on ipckit: connect (with a timeout), send
 * "Hello", close the sending half so the server sees where the message
 * ends, and print the answer ("Client received: Hi").
 *
 *   socket_client [-u PATH | -t HOST:PORT] [MESSAGE]
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

#define TIMEOUT_MS 5000

static int
usage(void)
{
	fprintf(stderr,
		"usage: socket_client [-u PATH | -t HOST:PORT] [MESSAGE]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	enum ik_sock_kind kind = IK_SOCK_UNIX_STREAM;
	const char *addr = NULL, *msg = "Hello", *step;
	char path[256], reply[256];
	struct ik_sock *c;
	ssize_t n;
	int opt, r;

	while ((opt = getopt(argc, argv, "u:t:")) != -1) {
		switch (opt) {
		case 'u':
			kind = IK_SOCK_UNIX_STREAM;
			addr = optarg;
			break;
		case 't':
			kind = IK_SOCK_TCP;
			addr = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind + 1 < argc)
		return usage();
	if (optind < argc)
		msg = argv[optind];
	if (addr == NULL) {
		r = ik_runtime_path(path, sizeof(path), "socket_server.sock");
		if (r < 0) {
			fprintf(stderr, "socket_client: runtime dir: %s\n",
				ik_strerror(r));
			return 1;
		}
		addr = path;
	}

	r = ik_sock_connect(&c, kind, addr, NULL, TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "socket_client: %s: %s\n", addr,
			ik_strerror(r));
		return 1;
	}
	step = "send";
	n = ik_sock_send(c, msg, strlen(msg), TIMEOUT_MS);
	if (n >= 0) {
		step = "shutdown";
		n = ik_sock_shutdown(c, SHUT_WR);
	}
	if (n >= 0) {
		step = "receive";
		n = ik_sock_recv(c, reply, sizeof(reply) - 1, TIMEOUT_MS);
	}
	if (n < 0) {
		fprintf(stderr, "socket_client: %s: %s\n", step,
			ik_strerror((int)n));
		ik_sock_close(c);
		return 1;
	}
	for (ssize_t i = 0; i < n; i++)
		if (!isprint((unsigned char)reply[i]))
			reply[i] = '.';
	reply[n] = '\0';
	printf("Client received: %s\n", reply);
	ik_sock_close(c);
	return 0;
}
