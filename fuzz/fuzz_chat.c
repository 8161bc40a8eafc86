/*
 * libFuzzer target: chat records as read from a FIFO any local writer can
 * fill. The input is a byte stream decoded as the server and clients do
 * (decode; on error resync; on a partial record stop). Every decoded record
 * must encode back to exactly the bytes it came from (decode is as strict as
 * encode), every error is one of the documented two, resync always makes
 * progress within the buffer, and the text helpers keep their promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/chat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text_helpers(const uint8_t *data, size_t size)
{
	char text[IK_CHAT_REC_MAX + 1];
	size_t len = size < IK_CHAT_REC_MAX ? size : IK_CHAT_REC_MAX;
	size_t n, max, cut;

	memcpy(text, data, len);
	n = ik_chat_sanitize(text, len);
	if (n > len)
		abort();
	/* what sanitize leaves must be sendable: encode accepts it */
	if (n <= IK_CHAT_TEXT_MAX) {
		struct ik_chat_rec r = { .type = IK_CHAT_MSG, .text_len = n };
		unsigned char rec[IK_CHAT_REC_MAX];

		memcpy(r.name, "fuzz", 5);
		memcpy(r.text, text, n);
		if (ik_chat_encode(rec, sizeof(rec), &r) < 0)
			abort();
	}
	max = size ? data[0] + 1u : 1u;
	cut = ik_chat_split(text, n, max);
	if (n <= max ? cut != n : (cut > max || cut == 0))
		abort();
	text[len] = '\0';
	(void)ik_chat_name_ok(text);
	(void)ik_chat_room_ok(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	check_text_helpers(data, size);
	while (off < size) {
		struct ik_chat_rec rec;
		unsigned char again[IK_CHAT_REC_MAX];
		ssize_t n = ik_chat_decode(data + off, size - off, &rec);
		size_t skip;

		if (n == 0)
			break; /* a partial record: wait for more */
		if (n > 0) {
			ssize_t m;

			if ((size_t)n > size - off || n > IK_CHAT_REC_MAX ||
			    n < IK_CHAT_HDR_SIZE ||
			    rec.text_len > IK_CHAT_TEXT_MAX ||
			    strlen(rec.name) > IK_CHAT_NAME_MAX ||
			    memchr(rec.text, '\0', rec.text_len) != NULL)
				abort();
			m = ik_chat_encode(again, sizeof(again), &rec);
			if (m != n || memcmp(again, data + off, (size_t)n) != 0)
				abort();
			off += (size_t)n;
			continue;
		}
		if (n != -EBADMSG && n != -EMSGSIZE)
			abort();
		skip = ik_chat_resync(data + off, size - off);
		if (skip == 0 || skip > size - off)
			abort();
		off += skip;
	}
	return 0;
}
