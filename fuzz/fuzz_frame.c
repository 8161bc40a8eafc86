/*
 * libFuzzer target: stream framing as read from a hostile peer. The input is
 * written into one end of a socketpair and read back as frames with a small
 * buffer and maximum: every call returns a length within bounds or an error;
 * no overrun, no leak.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal/io.h"
#include "internal/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ik__framer f;
	struct ik__deadline d;
	unsigned char buf[512];
	int sv[2];

	if (size > 64 * 1024 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	ik__deadline_init(&d, 1000);
	if (ik__write_full(sv[0], data, size, IK__IO_SOCKET, &d, NULL) !=
	    (ssize_t)size)
		abort();
	close(sv[0]);
	ik__frame_init(&f, sv[1], IK__IO_SOCKET, 1024);
	for (;;) {
		/* vary the buffer size from the data so -EMSGSIZE paths run */
		size_t cap = size ? data[0] % sizeof(buf) + 1 : sizeof(buf);
		ssize_t n = ik__frame_recv(&f, buf, cap, 1000);

		if (n == -EMSGSIZE) {
			n = ik__frame_recv(&f, buf, sizeof(buf), 1000);
			if (n == -EMSGSIZE) /* 512 < len <= 1024 */
				break;
		}
		if (n < 0) {
			if (n != -EPIPE && n != -EBADMSG)
				abort();
			break;
		}
		if ((size_t)n > sizeof(buf))
			abort();
	}
	ik__frame_fini(&f);
	close(sv[1]);
	return 0;
}
