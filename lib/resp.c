/*
 * RESP2 parser and encoders. The parser keeps, between calls, only offsets
 * into the request (where the next element starts, which arguments are
 * done), so a request that arrives a byte at a time costs linear work and
 * the caller may move its buffer. Every number a client sends is checked
 * against the limits before it sizes anything: a "*1000000" costs nothing
 * until the arguments actually arrive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipckit/resp.h>

struct ik_resp_parser {
	struct ik_resp_limits lim;
	long long want; /* declared argument count; -1: header not read */
	size_t got;	/* arguments complete */
	size_t pos;	/* offset of the next element in the request */
	size_t cap;	/* room in off[] and argv[] */
	size_t *off;
	struct ik_resp_arg *argv;
	char *scratch; /* inline arguments, unescaped */
	size_t scratch_cap;
	char err[96];
};

int
ik_resp_parser_new(ik_resp_parser **out, const struct ik_resp_limits *lim)
{
	ik_resp_parser *p;

	if (out == NULL)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	if (lim)
		p->lim = *lim;
	if (p->lim.max_bulk == 0)
		p->lim.max_bulk = IK_RESP_MAX_BULK;
	if (p->lim.max_request == 0)
		p->lim.max_request = IK_RESP_MAX_REQUEST;
	if (p->lim.max_args == 0)
		p->lim.max_args = IK_RESP_MAX_ARGS;
	if (p->lim.max_inline == 0)
		p->lim.max_inline = IK_RESP_MAX_INLINE;
	if (p->lim.max_bulk > p->lim.max_request ||
	    p->lim.max_args > SIZE_MAX / sizeof(struct ik_resp_arg)) {
		free(p);
		return -EINVAL;
	}
	p->want = -1;
	*out = p;
	return 0;
}

void
ik_resp_parser_free(ik_resp_parser *p)
{
	if (p == NULL)
		return;
	free(p->off);
	free(p->argv);
	free(p->scratch);
	free(p);
}

void
ik_resp_parser_reset(ik_resp_parser *p)
{
	if (p == NULL)
		return;
	p->want = -1;
	p->got = 0;
	p->pos = 0;
}

const char *
ik_resp_parser_error(const ik_resp_parser *p)
{
	return p ? p->err : "";
}

static ssize_t
proto_error(ik_resp_parser *p, const char *what)
{
	snprintf(p->err, sizeof(p->err), "Protocol error: %s", what);
	ik_resp_parser_reset(p);
	return -EPROTO;
}

/* Redis's string2ll: optional '-', no leading zeros, no '+', <= 20 chars. */
static int
to_ll(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0, lim;
	bool neg = false;
	size_t i = 0;

	if (n == 0 || n > 20)
		return -EINVAL;
	if (n == 1 && s[0] == '0') {
		*out = 0;
		return 0;
	}
	if (s[0] == '-') {
		neg = true;
		i = 1;
		if (n == 1)
			return -EINVAL;
	}
	if (s[i] < '1' || s[i] > '9')
		return -EINVAL;
	lim = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (lim - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

int
ik_resp_to_int(const struct ik_resp_arg *a, int64_t *out)
{
	long long v;

	if (a == NULL || out == NULL || to_ll(a->p, a->len, &v) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Room for one more argument, growing by doubling up to max_args. */
static int
grow(ik_resp_parser *p)
{
	size_t ncap;
	size_t *noff;
	struct ik_resp_arg *nargv;

	if (p->got < p->cap)
		return 0;
	if (p->cap >= p->lim.max_args)
		return -E2BIG;
	ncap = p->cap ? p->cap * 2 : 16;
	if (ncap > p->lim.max_args)
		ncap = p->lim.max_args;
	noff = realloc(p->off, ncap * sizeof(*noff));
	if (noff == NULL)
		return -ENOMEM;
	p->off = noff;
	nargv = realloc(p->argv, ncap * sizeof(*nargv));
	if (nargv == NULL)
		return -ENOMEM;
	p->argv = nargv;
	p->cap = ncap;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/*
 * Split one inline line as redis-cli and Redis's sdssplitargs do: words
 * separated by blanks, "double quotes" with \n \r \t \b \a \xHH escapes,
 * 'single quotes' with \' only; a closing quote must end the word.
 */
static ssize_t
parse_inline(ik_resp_parser *p, const char *buf, size_t len,
	     struct ik_resp_req *req)
{
	const char *nl = memchr(buf, '\n', len);
	const char *s, *end;
	size_t linelen, w = 0;
	int r;

	/* the limit is on the line itself, without its CR LF */
	if (nl == NULL) {
		if (len > p->lim.max_inline + 1)
			return proto_error(p, "too big inline request");
		return 0;
	}
	linelen = (size_t)(nl - buf);
	if (linelen > 0 && buf[linelen - 1] == '\r')
		linelen--;
	if (linelen > p->lim.max_inline)
		return proto_error(p, "too big inline request");
	if (linelen > p->scratch_cap) {
		char *ns = realloc(p->scratch, linelen);

		if (ns == NULL)
			return -ENOMEM;
		p->scratch = ns;
		p->scratch_cap = linelen;
	}
	p->got = 0;
	s = buf;
	end = buf + linelen;
	for (;;) {
		size_t start;

		while (s < end && is_space(*s))
			s++;
		if (s == end)
			break;
		start = w;
		if (*s == '"' || *s == '\'') {
			char q = *s++;
			bool closed = false;

			while (s < end) {
				if (q == '"' && *s == '\\' && end - s >= 4 &&
				    s[1] == 'x' && hexval(s[2]) >= 0 &&
				    hexval(s[3]) >= 0) {
					p->scratch[w++] =
						(char)(hexval(s[2]) * 16 +
						       hexval(s[3]));
					s += 4;
				} else if (q == '"' && *s == '\\' &&
					   end - s >= 2) {
					char c = s[1];

					p->scratch[w++] = c == 'n'   ? '\n'
							  : c == 'r' ? '\r'
							  : c == 't' ? '\t'
							  : c == 'b' ? '\b'
							  : c == 'a' ? '\a'
								     : c;
					s += 2;
				} else if (q == '\'' && *s == '\\' &&
					   end - s >= 2 && s[1] == '\'') {
					p->scratch[w++] = '\'';
					s += 2;
				} else if (*s == q) {
					s++;
					if (s < end && !is_space(*s))
						goto unbalanced;
					closed = true;
					break;
				} else {
					p->scratch[w++] = *s++;
				}
			}
			if (!closed)
				goto unbalanced;
		} else {
			while (s < end && !is_space(*s))
				p->scratch[w++] = *s++;
		}
		r = grow(p);
		if (r == -E2BIG)
			return proto_error(p, "too many arguments in inline "
					      "request");
		if (r < 0) {
			p->got = 0;
			return r;
		}
		p->off[p->got] = start;
		p->argv[p->got].len = w - start;
		p->got++;
	}
	for (size_t i = 0; i < p->got; i++)
		p->argv[i].p = p->scratch + p->off[i];
	req->argc = p->got;
	req->argv = p->argv;
	req->is_inline = true;
	p->got = 0;
	return (ssize_t)(nl - buf) + 1;
unbalanced:
	return proto_error(p, "unbalanced quotes in request");
}

/* Where "\r\n" ends the number starting at from (at most max chars). */
static const char *
find_cr(const char *from, const char *end, size_t max)
{
	size_t n = (size_t)(end - from);

	return memchr(from, '\r', n < max + 1 ? n : max + 1);
}

ssize_t
ik_resp_parse(ik_resp_parser *p, const char *buf, size_t len,
	      struct ik_resp_req *req)
{
	const char *end = buf + len, *cr;
	long long n;

	if (p == NULL || req == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	if (len == 0)
		return 0; /* nothing new: still waiting for more */
	if (p->want < 0) {
		if (buf[0] != '*')
			return parse_inline(p, buf, len, req);
		cr = find_cr(buf + 1, end, 20);
		if (cr == NULL) {
			if (len > 22)
				return proto_error(p,
						   "invalid multibulk length");
			return 0;
		}
		if (cr + 1 == end)
			return 0;
		if (cr[1] != '\n' ||
		    to_ll(buf + 1, (size_t)(cr - buf - 1), &n) < 0 ||
		    n > (long long)p->lim.max_args)
			return proto_error(p, "invalid multibulk length");
		if (n <= 0) { /* Redis ignores empty and null requests */
			req->argc = 0;
			req->argv = p->argv;
			req->is_inline = false;
			return cr + 2 - buf;
		}
		p->want = n;
		p->got = 0;
		p->pos = (size_t)(cr + 2 - buf);
	}
	while (p->got < (size_t)p->want) {
		const char *s = buf + p->pos;
		size_t ds;

		if (s >= end)
			goto more;
		if (*s != '$') {
			char what[40];

			snprintf(what, sizeof(what), "expected '$', got '%c'",
				 *s >= 0x20 && *s < 0x7f ? *s : '?');
			return proto_error(p, what);
		}
		cr = find_cr(s + 1, end, 20);
		if (cr == NULL) {
			if (end - s > 22)
				return proto_error(p, "invalid bulk length");
			goto more;
		}
		if (cr + 1 == end)
			goto more;
		if (cr[1] != '\n' ||
		    to_ll(s + 1, (size_t)(cr - s - 1), &n) < 0 || n < 0 ||
		    (unsigned long long)n > p->lim.max_bulk)
			return proto_error(p, "invalid bulk length");
		ds = (size_t)(cr + 2 - buf);
		if (ds > p->lim.max_request ||
		    (size_t)n + 2 > p->lim.max_request - ds)
			return proto_error(p, "too big request");
		if ((size_t)n + 2 > len - ds)
			goto more;
		if (buf[ds + (size_t)n] != '\r' ||
		    buf[ds + (size_t)n + 1] != '\n')
			return proto_error(p, "bulk data not ended by CRLF");
		if (grow(p) < 0)
			return -ENOMEM;
		p->off[p->got] = ds;
		p->argv[p->got].len = (size_t)n;
		p->got++;
		p->pos = ds + (size_t)n + 2;
	}
	for (size_t i = 0; i < p->got; i++)
		p->argv[i].p = buf + p->off[i];
	req->argc = p->got;
	req->argv = p->argv;
	req->is_inline = false;
	n = (long long)p->pos;
	ik_resp_parser_reset(p);
	return (ssize_t)n;
more:
	if (len >= p->lim.max_request)
		return proto_error(p, "too big request");
	return 0;
}

/* ---- encoders ------------------------------------------------------------
 */

void
ik_resp_buf_init(struct ik_resp_buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

void
ik_resp_buf_free(struct ik_resp_buf *b)
{
	free(b->p);
	ik_resp_buf_init(b);
}

int
ik_resp_buf_reserve(struct ik_resp_buf *b, size_t n)
{
	size_t ncap;
	char *np;

	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len < n)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return -ENOMEM;
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
ik_resp_raw(struct ik_resp_buf *b, const void *p, size_t n)
{
	if (ik_resp_buf_reserve(b, n) < 0)
		return -ENOMEM;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

size_t
ik_resp_fmt_int(char *buf, int64_t v)
{
	char tmp[21];
	size_t n = 0, i = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[i++] = '-';
	while (n)
		buf[i++] = tmp[--n];
	return i;
}

/* c, the decimal v, CRLF. */
static int
prefixed_int(struct ik_resp_buf *b, char c, int64_t v)
{
	if (ik_resp_buf_reserve(b, 24) < 0)
		return -ENOMEM;
	b->p[b->len++] = c;
	b->len += ik_resp_fmt_int(b->p + b->len, v);
	b->p[b->len++] = '\r';
	b->p[b->len++] = '\n';
	return 0;
}

int
ik_resp_simple(struct ik_resp_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (memchr(s, '\r', n) || memchr(s, '\n', n))
		return -EINVAL;
	if (ik_resp_buf_reserve(b, n + 3) < 0)
		return -ENOMEM;
	b->p[b->len++] = '+';
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = '\r';
	b->p[b->len++] = '\n';
	return 0;
}

int
ik_resp_error(struct ik_resp_buf *b, const char *msg)
{
	size_t n = strlen(msg);

	if (ik_resp_buf_reserve(b, n + 3) < 0)
		return -ENOMEM;
	b->p[b->len++] = '-';
	for (size_t i = 0; i < n; i++)
		b->p[b->len++] =
			msg[i] == '\r' || msg[i] == '\n' ? ' ' : msg[i];
	b->p[b->len++] = '\r';
	b->p[b->len++] = '\n';
	return 0;
}

int
ik_resp_int(struct ik_resp_buf *b, int64_t v)
{
	return prefixed_int(b, ':', v);
}

int
ik_resp_array(struct ik_resp_buf *b, int64_t n)
{
	return prefixed_int(b, '*', n < 0 ? -1 : n);
}

int
ik_resp_null(struct ik_resp_buf *b)
{
	return ik_resp_raw(b, "$-1\r\n", 5);
}

char *
ik_resp_bulk_begin(struct ik_resp_buf *b, size_t n)
{
	size_t save = b->len;

	if (n > INT64_MAX || ik_resp_buf_reserve(b, n + 26) < 0)
		return NULL;
	if (prefixed_int(b, '$', (int64_t)n) < 0) {
		b->len = save;
		return NULL;
	}
	return b->p + b->len;
}

void
ik_resp_bulk_end(struct ik_resp_buf *b, size_t n)
{
	b->len += n;
	b->p[b->len++] = '\r';
	b->p[b->len++] = '\n';
}

int
ik_resp_bulk(struct ik_resp_buf *b, const void *p, size_t n)
{
	char *d = ik_resp_bulk_begin(b, n);

	if (d == NULL)
		return -ENOMEM;
	if (n)
		memcpy(d, p, n);
	ik_resp_bulk_end(b, n);
	return 0;
}
