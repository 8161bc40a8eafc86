/*
 * RESP2, the Redis protocol: an incremental request parser that reads in
 * place from the caller's buffer (arguments point into it, no copy, no
 * allocation per request once warm) and validates every count and length a
 * client sends against limits, and reply encoders that append to one
 * growable buffer (so that a batch of pipelined replies leaves in one write).
 */
#ifndef IPCKIT_RESP_H
#define IPCKIT_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of struct ik_resp_limits (Redis's, except a smaller bulk). */
#define IK_RESP_MAX_BULK (64u << 20)	 /* one argument */
#define IK_RESP_MAX_REQUEST (128u << 20) /* one whole request */
#define IK_RESP_MAX_ARGS (1024u * 1024)	 /* arguments in one request */
#define IK_RESP_MAX_INLINE (64u << 10)	 /* one inline (telnet) line */

/* Limits; a zero field takes its default. */
struct ik_resp_limits {
	size_t max_bulk;
	size_t max_request;
	size_t max_args;
	size_t max_inline;
};

/* One argument: len bytes at p (not NUL-terminated). */
struct ik_resp_arg {
	const char *p;
	size_t len;
};

/* A parsed request: argv[0..argc) stay valid until the next parse call. */
struct ik_resp_req {
	size_t argc;
	const struct ik_resp_arg *argv;
	bool is_inline; /* came as a telnet-style line */
};

typedef struct ik_resp_parser ik_resp_parser;

/* Make a parser (lim may be NULL). 0, -EINVAL (a limit of 0 after
 * defaults, or max_bulk > max_request), -ENOMEM. */
int ik_resp_parser_new(ik_resp_parser **out, const struct ik_resp_limits *lim);
/* Free it (NULL is a no-op). */
void ik_resp_parser_free(ik_resp_parser *p);
/* Forget a half-parsed request (after the connection changed hands). */
void ik_resp_parser_reset(ik_resp_parser *p);

/*
 * Parse one request from buf[0..len), the bytes not consumed yet. Returns
 * the number of bytes the request took (> 0) with *req set; 0 when more
 * bytes are needed (call again with the same bytes plus more: they may
 * have moved in memory, the parser keeps offsets, not pointers, so a split
 * request is never re-scanned from its start); -EPROTO on malformed input
 * (ik_resp_parser_error then says why, in Redis's words, and the parser
 * must be reset before reuse). Empty requests (an empty inline line,
 * "*0", "*-1") are consumed and skipped. Never reads outside buf, never
 * allocates more than the arguments actually sent need.
 */
ssize_t ik_resp_parse(ik_resp_parser *p, const char *buf, size_t len,
		      struct ik_resp_req *req);

/* The last -EPROTO's message, "Protocol error: ..." ("" if none). */
const char *ik_resp_parser_error(const ik_resp_parser *p);

/* ---- replies -------------------------------------------------------------
 * A growable buffer; every encoder appends one reply and returns 0 or
 * -ENOMEM (the buffer is then unchanged). Fields are public: a caller may
 * write into p + len after ik_resp_buf_reserve, or roll len back to undo.
 */
struct ik_resp_buf {
	char *p;
	size_t len, cap;
};

/* Empty buffer (no allocation yet); ik_resp_buf_free releases it. */
void ik_resp_buf_init(struct ik_resp_buf *b);
void ik_resp_buf_free(struct ik_resp_buf *b);
/* Make room for n more bytes. 0 or -ENOMEM. */
int ik_resp_buf_reserve(struct ik_resp_buf *b, size_t n);
/* Append raw bytes. */
int ik_resp_raw(struct ik_resp_buf *b, const void *p, size_t n);

/* "+s\r\n"; s must hold no CR or LF (-EINVAL). */
int ik_resp_simple(struct ik_resp_buf *b, const char *s);
/* "-msg\r\n": msg starts with the code ("ERR ..."); CR/LF become spaces. */
int ik_resp_error(struct ik_resp_buf *b, const char *msg);
/* ":v\r\n" */
int ik_resp_int(struct ik_resp_buf *b, int64_t v);
/* "$n\r\n<bytes>\r\n" */
int ik_resp_bulk(struct ik_resp_buf *b, const void *p, size_t n);
/* "$-1\r\n": a missing value. */
int ik_resp_null(struct ik_resp_buf *b);
/* "*n\r\n" to begin an array of n replies; n < 0 gives "*-1\r\n". */
int ik_resp_array(struct ik_resp_buf *b, int64_t n);

/*
 * Zero-copy bulk: append "$n\r\n", reserve n + 2 bytes and return where the
 * n value bytes go (write them, then call ik_resp_bulk_end). NULL on
 * -ENOMEM (buffer unchanged).
 */
char *ik_resp_bulk_begin(struct ik_resp_buf *b, size_t n);
void ik_resp_bulk_end(struct ik_resp_buf *b, size_t n);

/* Decimal text of v into buf (at least 21 bytes); returns its length. */
size_t ik_resp_fmt_int(char *buf, int64_t v);

/*
 * Parse a whole argument as a decimal int64 the way Redis does (optional
 * '-', no '+', no spaces, no leading zeros, at most 20 characters). Returns
 * 0 and *out; -EINVAL otherwise (*out untouched).
 */
int ik_resp_to_int(const struct ik_resp_arg *a, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
