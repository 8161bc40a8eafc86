/*
 * libFuzzer target: the fan-out record splitter, the part of ik_fanout that
 * sees untrusted input. The input picks a mode, a block size and a chunking,
 * then its bytes are fed through ik_fanout_split_scan/feed chunk by chunk and
 * checked against a byte-at-a-time model: same record ends, boundaries where
 * the model has them, and scan never past its max_rec or its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/fanout.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model: is byte i (0-based in the stream) the last of a record? */
static int
ends(enum ik_fanout_mode mode, size_t block, const uint8_t *s, size_t i,
     size_t *pos)
{
	int end;

	if (mode == IK_FANOUT_BLOCK)
		end = ++*pos == block;
	else
		end = s[i] == (mode == IK_FANOUT_LINES ? '\n' : '\0');
	if (end)
		*pos = 0;
	else if (mode != IK_FANOUT_BLOCK)
		++*pos;
	return end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ik_fanout_split s;
	enum ik_fanout_mode mode;
	size_t block, off, mpos = 0, chunk;

	if (size < 3)
		return 0;
	mode = (enum ik_fanout_mode)(data[0] % 4); /* 3: an unknown mode */
	block = data[1] % 17;			   /* 0 is refused */
	chunk = data[2] % 64 + 1;
	data += 3;
	size -= 3;
	if (ik_fanout_split_init(&s, mode, block) != 0) {
		if (mode <= IK_FANOUT_BLOCK &&
		    (mode != IK_FANOUT_BLOCK || block != 0))
			abort();
		return 0;
	}
	if (mode > IK_FANOUT_BLOCK || (mode == IK_FANOUT_BLOCK && block == 0))
		abort();
	for (off = 0; off < size; off += chunk) {
		size_t len = size - off < chunk ? size - off : chunk;
		size_t want_last = 0, want_n = 0, want_first = 0, first_n = 0;
		size_t p = mpos, got, nrec = 99, maxr;
		struct ik_fanout_split before = s;

		for (size_t i = 0; i < len; i++) {
			if (ends(mode, block, data + off, i, &p)) {
				want_n++;
				want_last = i + 1;
				if (want_first == 0)
					want_first = i + 1;
			}
		}
		/* SIZE_MAX: up to the last boundary */
		got = ik_fanout_split_scan(&s, data + off, len, SIZE_MAX,
					   &nrec);
		if (got != want_last || nrec != want_n)
			abort();
		/* without nrec: the memrchr path */
		if (ik_fanout_split_scan(&s, data + off, len, SIZE_MAX, NULL) !=
		    want_last)
			abort();
		/* 1: the end of the current record */
		got = ik_fanout_split_scan(&s, data + off, len, 1, &first_n);
		if (got != want_first || first_n != (want_n > 0))
			abort();
		/* a middle max_rec, from the input */
		maxr = data[off] % 4;
		got = ik_fanout_split_scan(&s, data + off, len, maxr, &nrec);
		if (got > len || nrec > maxr || nrec > want_n ||
		    (maxr >= want_n && got != want_last))
			abort();
		if (memcmp(&before, &s, sizeof(s)) != 0)
			abort(); /* scan must not change the state */
		if (ik_fanout_split_feed(&s, data + off, len) != want_n)
			abort();
		mpos = p;
		if (s.pos != mpos)
			abort();
	}
	return 0;
}
