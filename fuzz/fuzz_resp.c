/*
 * libFuzzer target: RESP requests as a hostile client sends them. The input
 * is parsed whole, then again fed in pieces whose sizes come from the input
 * (the incremental path, with the buffer moved between calls), under small
 * limits. Both ways must agree request by request; every argument must lie
 * inside the buffer and within max_bulk; errors are -EPROTO only. Each
 * reply is then encoded (echoing the arguments) to run the encoders too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/resp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ik_resp_limits lim = {
	.max_bulk = 512, .max_request = 2048, .max_args = 64, .max_inline = 256
};

static void
check_req(const struct ik_resp_req *r, const char *buf, size_t len)
{
	struct ik_resp_buf out;

	ik_resp_buf_init(&out);
	if (r->argc > lim.max_args)
		abort();
	ik_resp_array(&out, (int64_t)r->argc);
	for (size_t i = 0; i < r->argc; i++) {
		const struct ik_resp_arg *a = &r->argv[i];
		int64_t v;

		if (a->len > lim.max_bulk)
			abort();
		/* multibulk arguments point into buf; inline ones are copies */
		if (!r->is_inline && (a->p < buf || a->p + a->len > buf + len))
			abort();
		if (ik_resp_to_int(a, &v) == 0)
			ik_resp_int(&out, v);
		else
			ik_resp_bulk(&out, a->p, a->len);
	}
	ik_resp_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ik_resp_parser *whole, *split;
	struct ik_resp_req r1, r2;
	size_t off = 0, k = 0;
	char *buf;

	if (size > 8192 || ik_resp_parser_new(&whole, &lim) < 0)
		return 0;
	if (ik_resp_parser_new(&split, &lim) < 0) {
		ik_resp_parser_free(whole);
		return 0;
	}
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	while (off < size) {
		ssize_t n = ik_resp_parse(whole, buf + off, size - off, &r1);
		size_t have = 0;
		ssize_t m = 0;

		if (n < 0 && n != -EPROTO)
			abort();
		if (n <= 0)
			break;
		if ((size_t)n > size - off)
			abort();
		check_req(&r1, buf + off, size - off);
		/* the same request in pieces, each call on a fresh copy */
		while (have < (size_t)n) {
			size_t step = 1 + (data[k++ % size] % 7);
			char *piece;

			have = have + step > size - off ? size - off
							: have + step;
			piece = malloc(have);
			if (piece == NULL)
				abort();
			memcpy(piece, buf + off, have);
			m = ik_resp_parse(split, piece, have, &r2);
			if (m != 0) {
				if (m != n || r2.argc != r1.argc)
					abort();
				check_req(&r2, piece, have);
				free(piece);
				break;
			}
			free(piece);
		}
		if (m != n)
			abort();
		off += (size_t)n;
	}
	free(buf);
	ik_resp_parser_free(whole);
	ik_resp_parser_free(split);
	return 0;
}
