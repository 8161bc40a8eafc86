/*
 * The address grammar (see <ipckit/addr.h>): `scheme:rest[?k=v&...]`.
 * Percent-escapes are decoded in rest and in option values; the canonical
 * form re-encodes only what the grammar reserves ('%', '?', '&', '=', '#',
 * controls and space), so `ik_addr_format(ik_addr_parse(x))` is stable.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ipckit/addr.h>
#include <ipckit/error.h>

static const char *const scheme_names[IK_SCHEME_COUNT] = {
	[IK_SCHEME_FIFO] = "fifo",
	[IK_SCHEME_UNIX] = "unix",
	[IK_SCHEME_UNIXGRAM] = "unixgram",
	[IK_SCHEME_UNIXPACKET] = "unixpacket",
	[IK_SCHEME_ABSTRACT] = "abstract",
	[IK_SCHEME_TCP] = "tcp",
	[IK_SCHEME_UDP] = "udp",
	[IK_SCHEME_PMQ] = "pmq",
	[IK_SCHEME_SVMQ] = "svmq",
	[IK_SCHEME_SHM] = "shm",
};

const char *
ik_scheme_name(enum ik_scheme s)
{
	if ((unsigned)s >= IK_SCHEME_COUNT)
		return NULL;
	return scheme_names[s];
}

int
ik_scheme_from_name(const char *name)
{
	for (int i = 0; i < IK_SCHEME_COUNT; i++)
		if (strcasecmp(name, scheme_names[i]) == 0)
			return i;
	return -1;
}

const char *
ik_scheme_list(void)
{
	return "fifo, unix, unixgram, unixpacket, abstract, tcp, udp, pmq, "
	       "svmq, shm";
}

__attribute__((format(printf, 4, 5))) static int
bad(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode src[0..n) into dst (size cap). -1 bad escape, -2 too long. */
static int
decode(char *dst, size_t cap, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = hexval((unsigned char)src[i + 1]);
			l = hexval((unsigned char)src[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			if (c == 0)
				return -1; /* no NUL inside a C string */
			i += 2;
		}
		if (o + 1 >= cap)
			return -2;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
reserved(int c)
{
	return c == '%' || c == '?' || c == '&' || c == '=' || c == '#' ||
	       c <= ' ' || c == 0x7f;
}

/* Append s to buf, escaping reserved bytes; tracks the would-be length. */
static void
put_escaped(char *buf, size_t len, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[3];
		size_t k = 1;

		tmp[0] = (char)c;
		if (reserved(c)) {
			tmp[0] = '%';
			tmp[1] = hex[c >> 4];
			tmp[2] = hex[c & 15];
			k = 3;
		}
		for (size_t j = 0; j < k; j++, (*o)++)
			if (*o + 1 < len)
				buf[*o] = tmp[j];
	}
}

static void
put_raw(char *buf, size_t len, size_t *o, const char *s)
{
	for (; *s; s++, (*o)++)
		if (*o + 1 < len)
			buf[*o] = *s;
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno || v < 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
check_inet(struct ik_addr *a, const char *text, char *err, size_t errlen)
{
	const char *r = a->rest, *colon;
	size_t hl;

	if (r[0] == '[') {
		const char *close = strchr(r, ']');

		if (close == NULL)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: missing ']' after an IPv6 host", text);
		if (close[1] != ':')
			return bad(IK_EBADADDR, err, errlen,
				   "%s: expected ':PORT' after ']'", text);
		hl = (size_t)(close - r - 1);
		if (hl == 0 || hl >= sizeof(a->host))
			return bad(IK_EBADADDR, err, errlen,
				   "%s: bad IPv6 host", text);
		memcpy(a->host, r + 1, hl);
		a->host[hl] = '\0';
		if (strchr(a->host, ':') == NULL)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: brackets are for IPv6 hosts", text);
		colon = close + 1;
	} else {
		colon = strrchr(r, ':');
		if (colon == NULL)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: expected HOST:PORT", text);
		hl = (size_t)(colon - r);
		if (memchr(r, ':', hl) != NULL)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: an IPv6 host needs brackets: "
				   "[::1]:PORT",
				   text);
		if (hl == 0 || hl >= sizeof(a->host))
			return bad(IK_EBADADDR, err, errlen,
				   "%s: missing or too long host", text);
		memcpy(a->host, r, hl);
		a->host[hl] = '\0';
	}
	if (parse_port(colon + 1, &a->port) < 0)
		return bad(IK_EBADADDR, err, errlen,
			   "%s: port '%s' is not a number in 0-65535", text,
			   colon + 1);
	return 0;
}

static int
check_qname(const char *r, const char *text, char *err, size_t errlen)
{
	size_t n = strlen(r);

	if (r[0] != '/' || n < 2 || strchr(r + 1, '/') != NULL)
		return bad(IK_EBADADDR, err, errlen,
			   "%s: the name must be '/' followed by a name "
			   "without '/' (e.g. /jobs)",
			   text);
	if (n - 1 > NAME_MAX)
		return bad(IK_EBADADDR, err, errlen,
			   "%s: name longer than %d bytes", text, NAME_MAX);
	return 0;
}

static int
check_svmq(struct ik_addr *a, const char *text, char *err, size_t errlen)
{
	char *end;
	long long v;

	if (strcasecmp(a->rest, "private") == 0) {
		a->key = 0;
		return 0;
	}
	if (a->rest[0] == '/') {
		a->key_from_path = 1;
		return 0;
	}
	errno = 0;
	v = strtoll(a->rest, &end, 0);
	if (a->rest[0] == '\0' || *end != '\0' || errno)
		return bad(IK_EBADADDR, err, errlen,
			   "%s: the key must be a number (0x1234, 4660), "
			   "'private', or a path for ftok",
			   text);
	/* key_t is an int; accept 0..0xffffffff written unsigned too */
	if (v < INT32_MIN || v > (long long)UINT32_MAX)
		return bad(IK_EBADADDR, err, errlen,
			   "%s: key out of range (32 bits)", text);
	if (v == 0)
		return bad(IK_EBADADDR, err, errlen,
			   "%s: key 0 is IPC_PRIVATE: write 'private'", text);
	a->key = (int32_t)(uint32_t)v;
	return 0;
}

static int
check_rest(struct ik_addr *a, const char *text, char *err, size_t errlen)
{
	const char *r = a->rest;

	if (r[0] == '\0')
		return bad(IK_EBADADDR, err, errlen, "%s: nothing after '%s:'",
			   text, scheme_names[a->scheme]);
	switch (a->scheme) {
	case IK_SCHEME_FIFO:
	case IK_SCHEME_UNIX:
	case IK_SCHEME_UNIXGRAM:
	case IK_SCHEME_UNIXPACKET:
		if (strlen(r) >= 108 &&
		    a->scheme != IK_SCHEME_FIFO) /* sizeof sun_path */
			return bad(IK_EBADADDR, err, errlen,
				   "%s: path longer than a Unix socket "
				   "allows (107 bytes)",
				   text);
		return 0;
	case IK_SCHEME_ABSTRACT:
		if (strlen(r) > 106)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: abstract name longer than 106 bytes",
				   text);
		return 0;
	case IK_SCHEME_TCP:
	case IK_SCHEME_UDP:
		return check_inet(a, text, err, errlen);
	case IK_SCHEME_PMQ:
	case IK_SCHEME_SHM:
		return check_qname(r, text, err, errlen);
	case IK_SCHEME_SVMQ:
		return check_svmq(a, text, err, errlen);
	default:
		return bad(IK_EBADSCHEME, err, errlen, "%s: bad scheme", text);
	}
}

static int
optcmp(const void *x, const void *y)
{
	const struct ik_addr_opt *a = x, *b = y;

	return strcmp(a->key, b->key);
}

static int
parse_opts(struct ik_addr *a, const char *q, const char *text, char *err,
	   size_t errlen)
{
	while (*q != '\0') {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		struct ik_addr_opt *o;
		size_t kl;

		if (n == 0) { /* tolerate "a=1&&b=2" and a trailing '&' */
			q += amp ? 1 : 0;
			continue;
		}
		if (a->nopts == IK_ADDR_MAX_OPTS)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: more than %d options", text,
				   IK_ADDR_MAX_OPTS);
		o = &a->opts[a->nopts];
		kl = eq ? (size_t)(eq - q) : n;
		if (kl == 0)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: option with an empty name", text);
		if (kl >= sizeof(o->key))
			return bad(IK_EBADADDR, err, errlen,
				   "%s: option name too long", text);
		for (size_t i = 0; i < kl; i++)
			if (!isalnum((unsigned char)q[i]) && q[i] != '_' &&
			    q[i] != '-')
				return bad(IK_EBADADDR, err, errlen,
					   "%s: bad character in option name "
					   "'%.*s'",
					   text, (int)kl, q);
		memcpy(o->key, q, kl);
		o->key[kl] = '\0';
		for (size_t i = 0; i < kl; i++)
			o->key[i] = (char)tolower((unsigned char)o->key[i]);
		if (ik_addr_opt(a, o->key) != NULL)
			return bad(IK_EBADADDR, err, errlen,
				   "%s: option '%s' given twice", text, o->key);
		if (eq == NULL) {
			memcpy(o->value, "1", 2); /* bare flag: "?nonblock" */
		} else {
			int r = decode(o->value, sizeof(o->value), eq + 1,
				       n - kl - 1);

			if (r < 0)
				return bad(IK_EBADADDR, err, errlen,
					   r == -2 ? "%s: value of '%s' too "
						     "long"
						   : "%s: bad %%-escape in "
						     "'%s'",
					   text, o->key);
		}
		a->nopts++;
		q += n + (amp ? 1 : 0);
	}
	qsort(a->opts, (size_t)a->nopts, sizeof(a->opts[0]), optcmp);
	return 0;
}

int
ik_addr_parse(const char *text, struct ik_addr *out, char *err, size_t errlen)
{
	struct ik_addr *a;
	const char *colon, *q;
	char scheme[16];
	size_t sl, rl;
	int s, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL || out == NULL)
		return -EINVAL;
	colon = strchr(text, ':');
	sl = colon ? (size_t)(colon - text) : 0;
	if (colon == NULL || sl == 0 || sl >= sizeof(scheme))
		return bad(IK_EBADSCHEME, err, errlen,
			   "%s: expected SCHEME:ADDRESS with SCHEME one of "
			   "%s",
			   text, ik_scheme_list());
	memcpy(scheme, text, sl);
	scheme[sl] = '\0';
	s = ik_scheme_from_name(scheme);
	if (s < 0)
		return bad(IK_EBADSCHEME, err, errlen,
			   "%s: unknown scheme '%s' (valid: %s)", text, scheme,
			   ik_scheme_list());
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	a->scheme = (enum ik_scheme)s;
	q = strchr(colon + 1, '?');
	rl = q ? (size_t)(q - colon - 1) : strlen(colon + 1);
	r = decode(a->rest, sizeof(a->rest), colon + 1, rl);
	if (r < 0) {
		r = bad(IK_EBADADDR, err, errlen,
			r == -2 ? "%s: address too long"
				: "%s: bad %%-escape (want %%XX, not %%00)",
			text);
		goto out;
	}
	r = check_rest(a, text, err, errlen);
	if (r == 0 && q != NULL)
		r = parse_opts(a, q + 1, text, err, errlen);
	if (r == 0)
		*out = *a;
out:
	free(a);
	return r;
}

int
ik_addr_format(const struct ik_addr *a, char *buf, size_t len)
{
	size_t o = 0;

	if (a == NULL || (unsigned)a->scheme >= IK_SCHEME_COUNT)
		return -EINVAL;
	put_raw(buf, len, &o, scheme_names[a->scheme]);
	put_raw(buf, len, &o, ":");
	if (a->scheme == IK_SCHEME_SVMQ && !a->key_from_path) {
		char k[16];

		if (a->key == 0)
			snprintf(k, sizeof(k), "private");
		else
			snprintf(k, sizeof(k), "0x%x", (unsigned)a->key);
		put_raw(buf, len, &o, k);
	} else if ((a->scheme == IK_SCHEME_TCP || a->scheme == IK_SCHEME_UDP) &&
		   a->host[0] != '\0') {
		char p[8];

		if (strchr(a->host, ':') != NULL) {
			put_raw(buf, len, &o, "[");
			put_escaped(buf, len, &o, a->host);
			put_raw(buf, len, &o, "]");
		} else {
			put_escaped(buf, len, &o, a->host);
		}
		snprintf(p, sizeof(p), ":%u", (unsigned)a->port);
		put_raw(buf, len, &o, p);
	} else {
		put_escaped(buf, len, &o, a->rest);
	}
	for (int i = 0; i < a->nopts; i++) {
		put_raw(buf, len, &o, i == 0 ? "?" : "&");
		put_escaped(buf, len, &o, a->opts[i].key);
		put_raw(buf, len, &o, "=");
		put_escaped(buf, len, &o, a->opts[i].value);
	}
	if (len > 0)
		buf[o < len ? o : len - 1] = '\0';
	return o > INT_MAX ? -EOVERFLOW : (int)o;
}

const char *
ik_addr_opt(const struct ik_addr *a, const char *key)
{
	for (int i = 0; i < a->nopts; i++)
		if (strcmp(a->opts[i].key, key) == 0)
			return a->opts[i].value;
	return NULL;
}

struct ik_unit {
	const char *suffix;
	uint64_t mult;
};

static int
scale(uint64_t v, const char *suffix, const struct ik_unit *u, size_t nu,
      uint64_t *out)
{
	for (size_t i = 0; i < nu; i++) {
		if (strcasecmp(suffix, u[i].suffix) == 0) {
			if (u[i].mult != 0 && v > UINT64_MAX / u[i].mult)
				return -ERANGE;
			*out = v * u[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

static int
opt_number(const struct ik_addr *a, const char *key, const struct ik_unit *u,
	   size_t nu, uint64_t *out, const char *what, char *err, size_t errlen)
{
	const char *v = ik_addr_opt(a, key);
	unsigned long long n;
	char *end;

	if (v == NULL)
		return 1;
	if (*v < '0' || *v > '9')
		goto fail;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || scale(n, end, u, nu, out) < 0)
		goto fail;
	return 0;
fail:
	return bad(IK_EBADADDR, err, errlen, "option %s=%s: expected %s", key,
		   v, what);
}

int
ik_addr_opt_u64(const struct ik_addr *a, const char *key, uint64_t *out,
		char *err, size_t errlen)
{
	static const struct ik_unit u[] = { { "", 1 } };

	return opt_number(a, key, u, 1, out, "a non-negative integer", err,
			  errlen);
}

int
ik_addr_opt_size(const struct ik_addr *a, const char *key, uint64_t *out,
		 char *err, size_t errlen)
{
	static const struct ik_unit u[] = {
		{ "", 1 },	     { "b", 1 },
		{ "k", 1ull << 10 }, { "kib", 1ull << 10 },
		{ "m", 1ull << 20 }, { "mib", 1ull << 20 },
		{ "g", 1ull << 30 }, { "gib", 1ull << 30 },
	};

	return opt_number(a, key, u, sizeof(u) / sizeof(u[0]), out,
			  "a size (e.g. 4096, 64K, 1M)", err, errlen);
}

int
ik_addr_opt_ms(const struct ik_addr *a, const char *key, int64_t *out,
	       char *err, size_t errlen)
{
	static const struct ik_unit u[] = {
		{ "", 1 },
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
	};
	uint64_t v = 0; /* set by opt_number when it returns 0 */
	int r = opt_number(a, key, u, sizeof(u) / sizeof(u[0]), &v,
			   "a duration (e.g. 500, 500ms, 2s)", err, errlen);

	if (r == 0) {
		if (v > INT64_MAX)
			return bad(IK_EBADADDR, err, errlen,
				   "option %s: duration too long", key);
		*out = (int64_t)v;
	}
	return r;
}

int
ik_addr_opt_mode(const struct ik_addr *a, const char *key, unsigned *out,
		 char *err, size_t errlen)
{
	const char *v = ik_addr_opt(a, key);
	unsigned long m;
	char *end;

	if (v == NULL)
		return 1;
	errno = 0;
	m = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno || m > 07777)
		return bad(IK_EBADADDR, err, errlen,
			   "option %s=%s: expected an octal mode (e.g. 0600)",
			   key, v);
	*out = (unsigned)m;
	return 0;
}

int
ik_addr_opt_bool(const struct ik_addr *a, const char *key, int *out, char *err,
		 size_t errlen)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	const char *v = ik_addr_opt(a, key);

	if (v == NULL)
		return 1;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return bad(IK_EBADADDR, err, errlen,
		   "option %s=%s: expected 1/0, true/false, yes/no or on/off",
		   key, v);
}

int
ik_addr_check_opts(const struct ik_addr *a, const char *const *keys, char *err,
		   size_t errlen)
{
	for (int i = 0; i < a->nopts; i++) {
		size_t k;
		char list[512];
		size_t o = 0;

		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], a->opts[i].key) == 0)
				break;
		if (keys[k] != NULL)
			continue;
		list[0] = '\0';
		for (k = 0; keys[k] != NULL && o < sizeof(list); k++)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s%s", k ? ", " : "", keys[k]);
		return bad(IK_EBADADDR, err, errlen,
			   "unknown option '%s' for %s: (valid: %s)",
			   a->opts[i].key, scheme_names[a->scheme],
			   keys[0] ? list : "none");
	}
	return 0;
}
