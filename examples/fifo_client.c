/*
 * fifo_client: the seed's FIFO writer on ipckit. It sends its message as
 * one line, written whole (a line of at most IK_FIFO_MSG_MAX bytes never
 * mixes with other clients' lines), and prints "Sent: <message>". Unlike the
 * seed it does not create the FIFO (the server owns it) and it waits for a
 * reader for at most TIMEOUT_MS instead of forever.
 *
 * usage: fifo_client [-p PATH] [-t TIMEOUT_MS] [MESSAGE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipckit/ipckit.h>

static void
usage(void)
{
	fprintf(stderr,
		"usage: fifo_client [-p PATH] [-t TIMEOUT_MS] [MESSAGE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = "fifo_demo", *msg = "Hello via FIFO!";
	long timeout_ms = 10000;
	char line[IK_FIFO_MSG_MAX + 1], *end;
	size_t len;
	ik_fifo *f;
	ssize_t n;
	int opt, r;

	while ((opt = getopt(argc, argv, "p:t:")) != -1) {
		switch (opt) {
		case 'p':
			path = optarg;
			break;
		case 't':
			timeout_ms = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' ||
			    timeout_ms < -1 || timeout_ms > 86400000)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	if (optind < argc)
		msg = argv[optind];
	len = strlen(msg);
	if (memchr(msg, '\n', len) != NULL) {
		fprintf(stderr, "fifo_client: the message must be one line\n");
		return 2;
	}
	if (len + 1 > IK_FIFO_MSG_MAX) {
		fprintf(stderr, "fifo_client: message longer than %d bytes\n",
			IK_FIFO_MSG_MAX - 1);
		return 2;
	}
	memcpy(line, msg, len);
	line[len++] = '\n';

	r = ik_fifo_open(&f, path, IK_FIFO_WRITE, (int)timeout_ms);
	if (r < 0) {
		fprintf(stderr, "fifo_client: %s: %s%s\n", path, ik_strerror(r),
			r == -ETIMEDOUT ? " (no server is reading)" : "");
		return 1;
	}
	n = ik_fifo_send(f, line, len, (int)timeout_ms);
	r = ik_fifo_close(f);
	if (n != (ssize_t)len) {
		fprintf(stderr, "fifo_client: send: %s\n",
			ik_strerror(n < 0 ? (int)n : -EIO));
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "fifo_client: close: %s\n", ik_strerror(r));
		return 1;
	}
	printf("Sent: %s\n", msg);
	return 0;
}
