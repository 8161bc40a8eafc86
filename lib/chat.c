/*
 * Chat rooms over FIFOs (see <ipckit/chat.h>): the record format, the room
 * directory, the client and the server. Every record is one write of at
 * most PIPE_BUF bytes, so the server FIFO, which all clients write, never
 * holds a torn record; each client FIFO has one writer, the server, which
 * queues per client and never waits for one.
 *
 * Wire format, little-endian, 28-byte header then name then text:
 *   0 'i' 'c'  2 version  3 type  4 u16 total length  6 u8 name length
 *   7 u8 flags  8 u32 pid  12 u32 cid  16 u32 seq  20 u64 time (ns)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ipckit/chat.h>
#include <ipckit/error.h>
#include <ipckit/fifo.h>
#include <ipckit/loop.h>
#include <ipckit/runtime.h>

#include "internal/io.h"

#define MAGIC0 'i'
#define MAGIC1 'c'
#define VERSION 1
#define TYPE_LAST IK_CHAT_ERROR
#define ALL_FLAGS IK_CHAT_F_MORE

#define DEF_MAX_CLIENTS 256
#define DEF_QUEUE_MAX (256 * 1024)
#define DEF_IDLE_MS 10000
#define INBUF (64 * 1024 + IK_CHAT_REC_MAX)

/* ---- the record format ------------------------------------------------ */

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static uint32_t
get16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
get32(const uint8_t *p)
{
	return get16(p) | get16(p + 2) << 16;
}

/*
 * Length of the UTF-8 character at s (1-4) with its code point, or 0 if it
 * is malformed, overlong, a surrogate or above U+10FFFF.
 */
static size_t
utf8_char(const uint8_t *s, size_t len, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * What may reach another user's terminal: no C0/C1 controls (escape
 * sequences), no DEL, no bidirectional overrides or line separators (text
 * that would display as something else than it is).
 */
static bool
cp_printable(uint32_t c)
{
	return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f) &&
	       !(c >= 0x2028 && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069);
}

static bool
text_ok(const char *t, size_t len, bool is_name)
{
	const uint8_t *s = (const uint8_t *)t;
	size_t i = 0, n;
	uint32_t c;

	while (i < len) {
		n = utf8_char(s + i, len - i, &c);
		if (n == 0 || !cp_printable(c) || (is_name && c == ' '))
			return false;
		i += n;
	}
	return true;
}

static bool
name_ok(const char *name, size_t len)
{
	return len > 0 && len <= IK_CHAT_NAME_MAX && name[0] != '/' &&
	       text_ok(name, len, true);
}

int
ik_chat_name_ok(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	return name_ok(name, strnlen(name, IK_CHAT_NAME_MAX + 1)) ? 0 : -EINVAL;
}

int
ik_chat_room_ok(const char *room)
{
	size_t n;

	if (room == NULL || room[0] == '\0' || room[0] == '.')
		return -EINVAL;
	n = strnlen(room, IK_CHAT_ROOM_MAX + 1);
	if (n > IK_CHAT_ROOM_MAX || strspn(room, "abcdefghijklmnopqrstuvwxyz"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						 "0123456789._-") != n)
		return -EINVAL;
	return 0;
}

/* The per-type rules, the same for encoding and decoding. */
static bool
fields_ok(int type, unsigned flags, const char *name, size_t nlen,
	  const char *text, size_t tlen)
{
	if (type < IK_CHAT_JOIN || type > TYPE_LAST || (flags & ~ALL_FLAGS))
		return false;
	if (nlen > 0 && !name_ok(name, nlen))
		return false;
	if (!text_ok(text, tlen, false))
		return false;
	switch (type) {
	case IK_CHAT_JOIN:
		return nlen > 0 && tlen == 0;
	case IK_CHAT_LEAVE:
		return tlen == 0;
	case IK_CHAT_NICK:
		return name_ok(text, tlen);
	case IK_CHAT_WELCOME:
	case IK_CHAT_JOINED:
	case IK_CHAT_LEFT:
		return nlen > 0;
	default:
		return true;
	}
}

ssize_t
ik_chat_encode(void *buf, size_t len, const struct ik_chat_rec *r)
{
	uint8_t *p = buf;
	size_t nlen, total;

	if (buf == NULL || r == NULL)
		return -EINVAL;
	nlen = strnlen(r->name, sizeof(r->name));
	if (r->text_len > IK_CHAT_TEXT_MAX)
		return -EMSGSIZE;
	if (nlen > IK_CHAT_NAME_MAX || r->pid > INT32_MAX ||
	    !fields_ok(r->type, r->flags, r->name, nlen, r->text, r->text_len))
		return -EINVAL;
	total = IK_CHAT_HDR_SIZE + nlen + r->text_len;
	if (total > len)
		return -EMSGSIZE;
	p[0] = MAGIC0;
	p[1] = MAGIC1;
	p[2] = VERSION;
	p[3] = (uint8_t)r->type;
	put16(p + 4, (uint32_t)total);
	p[6] = (uint8_t)nlen;
	p[7] = (uint8_t)r->flags;
	put32(p + 8, r->pid);
	put32(p + 12, r->cid);
	put32(p + 16, r->seq);
	put32(p + 20, (uint32_t)r->time_ns);
	put32(p + 24, (uint32_t)(r->time_ns >> 32));
	memcpy(p + IK_CHAT_HDR_SIZE, r->name, nlen);
	memcpy(p + IK_CHAT_HDR_SIZE + nlen, r->text, r->text_len);
	return (ssize_t)total;
}

ssize_t
ik_chat_decode(const void *buf, size_t len, struct ik_chat_rec *out)
{
	const uint8_t *p = buf;
	size_t total, nlen, tlen;
	const char *name, *text;

	if ((buf == NULL && len > 0) || out == NULL)
		return -EINVAL;
	/* refuse garbage as soon as the bytes that show it are there */
	if ((len > 0 && p[0] != MAGIC0) || (len > 1 && p[1] != MAGIC1) ||
	    (len > 2 && p[2] != VERSION) ||
	    (len > 3 && (p[3] < IK_CHAT_JOIN || p[3] > TYPE_LAST)))
		return -EBADMSG;
	if (len < 6)
		return 0;
	total = get16(p + 4);
	if (total < IK_CHAT_HDR_SIZE || total > IK_CHAT_REC_MAX)
		return -EMSGSIZE;
	if (len < IK_CHAT_HDR_SIZE)
		return 0;
	nlen = p[6];
	if (nlen > IK_CHAT_NAME_MAX || IK_CHAT_HDR_SIZE + nlen > total ||
	    (p[7] & ~ALL_FLAGS) || get32(p + 8) > INT32_MAX)
		return -EBADMSG;
	tlen = total - IK_CHAT_HDR_SIZE - nlen;
	if (tlen > IK_CHAT_TEXT_MAX)
		return -EMSGSIZE;
	if (len < total)
		return 0;
	name = (const char *)p + IK_CHAT_HDR_SIZE;
	text = name + nlen;
	if (!fields_ok(p[3], p[7], name, nlen, text, tlen))
		return -EBADMSG;
	out->type = p[3];
	out->flags = p[7];
	out->pid = get32(p + 8);
	out->cid = get32(p + 12);
	out->seq = get32(p + 16);
	out->time_ns = get32(p + 20) | (uint64_t)get32(p + 24) << 32;
	memcpy(out->name, name, nlen);
	out->name[nlen] = '\0';
	memcpy(out->text, text, tlen);
	out->text[tlen] = '\0';
	out->text_len = tlen;
	return (ssize_t)total;
}

size_t
ik_chat_resync(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* a candidate cut short by the end of buf is kept for the next read */
	for (size_t i = 1; i < len; i++)
		if (p[i] == MAGIC0 && (i + 1 >= len || p[i + 1] == MAGIC1) &&
		    (i + 2 >= len || p[i + 2] == VERSION))
			return i;
	return len;
}

size_t
ik_chat_sanitize(char *text, size_t len)
{
	uint8_t *s = (uint8_t *)text;
	size_t i = 0, n;
	uint32_t c;

	if (text == NULL)
		return 0;
	while (i < len) {
		n = utf8_char(s + i, len - i, &c);
		if (n == 0) {
			s[i++] = '?';
			continue;
		}
		if (c == '\t')
			s[i] = ' ';
		else if (!cp_printable(c))
			memset(s + i, '?', n);
		i += n;
	}
	return len;
}

size_t
ik_chat_split(const char *text, size_t len, size_t max)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t cut;

	if (len <= max)
		return len;
	cut = max;
	while (cut > 0 && (s[cut] & 0xc0) == 0x80)
		cut--; /* never inside a character */
	for (size_t i = cut; i > max - max / 4 && i > 0; i--)
		if (s[i - 1] == ' ')
			return i;
	return cut > 0 ? cut : max;
}

/* ---- the room directory ----------------------------------------------- */

static int
group_base(char *buf, size_t len, const struct ik_chat_opts *o)
{
	int n = snprintf(buf, len, "%s/ipckit-chat-g%u",
			 o->base != NULL ? o->base : "/tmp", (unsigned)o->gid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int
ik_chat_room_dir(char *buf, size_t len, const char *room,
		 const struct ik_chat_opts *o)
{
	char base[PATH_MAX], name[IK_CHAT_ROOM_MAX + 8];
	int n;

	if (buf == NULL || ik_chat_room_ok(room) < 0)
		return -EINVAL;
	if (o == NULL || !o->shared) {
		snprintf(name, sizeof(name), "chat-%s", room);
		return ik_runtime_path(buf, len, name);
	}
	n = group_base(base, sizeof(base), o);
	if (n < 0)
		return n;
	n = snprintf(buf, len, "%s/%s", base, room);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/*
 * A shared directory is the group's: a real directory of group gid that
 * others cannot enter. Any member may have made it (group members can chat
 * anyway); a non-member cannot give a directory that group.
 */
static int
check_dir(const char *dir, const struct ik_chat_opts *o)
{
	struct stat st;
	int fd, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? IK_EUNSAFE : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (o == NULL || !o->shared)
		r = st.st_uid == geteuid() && (st.st_mode & 077) == 0
			    ? 0
			    : IK_EUNSAFE;
	else
		r = st.st_gid == o->gid && (st.st_mode & 007) == 0 ? 0
								   : IK_EUNSAFE;
	ik__close(fd);
	return r;
}

/* Make a shared directory: 0700 first, then the group, then 02770. */
static int
make_group_dir(const char *dir, const struct ik_chat_opts *o)
{
	int fd, r = 0;

	if (mkdir(dir, 0700) < 0)
		return errno == EEXIST ? check_dir(dir, o) : -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchown(fd, (uid_t)-1, o->gid) < 0 || fchmod(fd, 02770) < 0)
		r = -errno;
	ik__close(fd);
	if (r < 0)
		rmdir(dir);
	return r < 0 ? r : check_dir(dir, o);
}

static int
make_room_dir(const char *dir, const struct ik_chat_opts *o)
{
	char base[PATH_MAX];
	int r;

	if (o == NULL || !o->shared)
		return ik_private_dir(dir); /* its parent was checked too */
	r = group_base(base, sizeof(base), o);
	if (r >= 0)
		r = make_group_dir(base, o);
	return r < 0 ? r : make_group_dir(dir, o);
}

/* A FIFO a peer made: ours, or in a shared room the group's. */
static int
peer_stat_ok(const struct stat *st, const struct ik_chat_opts *o)
{
	if (!S_ISFIFO(st->st_mode))
		return IK_ENOTFIFO;
	if (st->st_uid == geteuid())
		return 0;
	if (o != NULL && o->shared && st->st_gid == o->gid &&
	    (st->st_mode & 007) == 0)
		return 0;
	return IK_EOWNER;
}

/*
 * Open a peer's FIFO for writing, never waiting: -ENXIO when it has no
 * reader. ik_fifo_open would refuse another user's FIFO, so shared rooms
 * need this; it makes the same O_NOFOLLOW open and fstat check.
 */
static int
open_peer(const char *path, const struct ik_chat_opts *o)
{
	struct stat st;
	int fd, r;

	do
		fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = peer_stat_ok(&st, o);
	if (r < 0) {
		ik__close(fd);
		return r;
	}
	return fd;
}

/* Our own FIFO in a shared room: the group may write it, others nothing. */
static int
share_fifo(int fd, const struct ik_chat_opts *o)
{
	if (o == NULL || !o->shared)
		return 0;
	if (fchown(fd, (uid_t)-1, o->gid) < 0 || fchmod(fd, 0620) < 0)
		return -errno;
	return 0;
}

/* buf = "<dir>/<name>" */
static int
room_file(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

static int
client_path(char *buf, size_t len, const char *dir, uint32_t pid, uint32_t cid)
{
	int n = snprintf(buf, len, "%s/c.%u.%u", dir, pid, cid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* Remove path if it is a FIFO (never follows a symlink). */
static bool
unlink_fifo(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) &&
	       unlink(path) == 0;
}

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the client -------------------------------------------------------- */

struct ik_chat_client {
	ik_fifo *in; /* ours: only the server writes it */
	int out;     /* the server FIFO, write end */
	uint32_t pid, cid, seq;
	char name[IK_CHAT_NAME_MAX + 1];
	char dir[PATH_MAX];
	size_t off, have;
	uint8_t buf[INBUF];
};

static uint32_t next_cid;

static int
client_write(ik_chat_client *c, struct ik_chat_rec *r,
	     const struct ik__deadline *d)
{
	uint8_t rec[IK_CHAT_REC_MAX];
	ssize_t n;

	r->pid = c->pid;
	r->cid = c->cid;
	r->seq = c->seq;
	n = ik_chat_encode(rec, sizeof(rec), r);
	if (n < 0)
		return (int)n;
	/* <= PIPE_BUF: ik__write_full writes it whole or not at all */
	n = ik__write_full(c->out, rec, (size_t)n, 0, d, NULL);
	if (n < 0)
		return (int)n;
	c->seq++;
	return 0;
}

/* The next buffered record: 1 and *out, 0 if none is complete, or error. */
static int
take(ik_chat_client *c, struct ik_chat_rec *out)
{
	ssize_t n = ik_chat_decode(c->buf + c->off, c->have - c->off, out);

	if (n < 0) {
		c->off += ik_chat_resync(c->buf + c->off, c->have - c->off);
		return -EBADMSG;
	}
	if (n == 0)
		return 0;
	c->off += (size_t)n;
	if ((out->type == IK_CHAT_NICK || out->type == IK_CHAT_WELCOME) &&
	    ik_chat_is_me(c, out)) {
		/* both were validated as names: at most IK_CHAT_NAME_MAX */
		const char *nm =
			out->type == IK_CHAT_NICK ? out->text : out->name;

		memcpy(c->name, nm, strnlen(nm, IK_CHAT_NAME_MAX));
		c->name[strnlen(nm, IK_CHAT_NAME_MAX)] = '\0';
	}
	return 1;
}

int
ik_chat_recv(ik_chat_client *c, struct ik_chat_rec *out, int timeout_ms)
{
	struct ik__deadline d;
	int fd, r;
	ssize_t n;

	if (c == NULL || out == NULL)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	fd = ik_fifo_fd(c->in);
	for (;;) {
		r = take(c, out);
		if (r != 0)
			return r < 0 ? r : 0;
		memmove(c->buf, c->buf + c->off, c->have - c->off);
		c->have -= c->off;
		c->off = 0;
		n = read(fd, c->buf + c->have, sizeof(c->buf) - c->have);
		if (n > 0) {
			c->have += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET; /* the server closed our FIFO */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = ik__wait_fd(fd, POLLIN, &d);
		if (r < 0)
			return r;
	}
}

int
ik_chat_pending(const ik_chat_client *c)
{
	struct ik_chat_rec tmp;

	return c != NULL &&
	       ik_chat_decode(c->buf + c->off, c->have - c->off, &tmp) != 0;
}

/*
 * Wait for our WELCOME. The server FIFO's write end reports POLLERR when
 * its reader is gone: a server that exited with our JOIN unread.
 */
static int
await_welcome(ik_chat_client *c, const struct ik__deadline *d)
{
	struct ik_chat_rec *rec = malloc(sizeof(*rec));
	struct pollfd p[2];
	int r;

	if (rec == NULL)
		return -ENOMEM;
	p[0] = (struct pollfd){ .fd = ik_fifo_fd(c->in), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = c->out, .events = 0 };
	for (;;) {
		r = poll(p, 2, ik__deadline_left_ms(d));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			break;
		}
		if (r == 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (p[0].revents) {
			r = ik_chat_recv(c, rec, 0);
			if (r == -ECONNRESET)
				r = -ECONNREFUSED;
			if (r == 0 && rec->type == IK_CHAT_ERROR)
				r = -EUSERS;
			if (r == 0 && rec->type == IK_CHAT_WELCOME)
				break;
			if (r < 0 && r != -ETIMEDOUT && r != -EBADMSG)
				break;
			continue;
		}
		if (p[1].revents & (POLLERR | POLLHUP)) {
			r = -ECONNREFUSED;
			break;
		}
	}
	free(rec);
	return r;
}

int
ik_chat_join(ik_chat_client **out, const char *room, const char *name,
	     const struct ik_chat_opts *o, int timeout_ms)
{
	struct ik_chat_rec rec = { .type = IK_CHAT_JOIN };
	struct ik__deadline d;
	char path[PATH_MAX];
	ik_chat_client *c;
	int r;

	if (out == NULL || ik_chat_room_ok(room) < 0 ||
	    ik_chat_name_ok(name) < 0)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->out = -1;
	c->pid = (uint32_t)getpid();
	c->cid = __atomic_fetch_add(&next_cid, 1, __ATOMIC_RELAXED);
	r = ik_chat_room_dir(c->dir, sizeof(c->dir), room, o);
	if (r >= 0)
		r = check_dir(c->dir, o);
	if (r == -ENOENT)
		r = -ECONNREFUSED;
	if (r < 0)
		goto fail;
	r = room_file(path, sizeof(path), c->dir, "server");
	if (r >= 0)
		c->out = r = open_peer(path, o);
	if (r == -ENOENT || r == -ENXIO)
		r = -ECONNREFUSED; /* no room, or a dead server's FIFO */
	if (r < 0)
		goto fail;
	r = client_path(path, sizeof(path), c->dir, c->pid, c->cid);
	if (r < 0)
		goto fail;
	unlink_fifo(path); /* a dead process with our pid left it */
	r = ik_fifo_open(&c->in, path,
			 IK_FIFO_READ | IK_FIFO_NOWAIT | IK_FIFO_CREATE |
				 IK_FIFO_EXCL,
			 0);
	if (r < 0)
		goto fail;
	r = share_fifo(ik_fifo_fd(c->in), o);
	if (r < 0)
		goto fail;
	snprintf(rec.name, sizeof(rec.name), "%s", name);
	r = client_write(c, &rec, &d);
	if (r == -EPIPE)
		r = -ECONNREFUSED;
	if (r < 0)
		goto fail;
	r = await_welcome(c, &d);
	if (r < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	ik_fifo_close(c->in);
	ik__close(c->out);
	free(c);
	return r;
}

int
ik_chat_send(ik_chat_client *c, int type, const char *text, size_t len,
	     int timeout_ms)
{
	struct ik_chat_rec *rec;
	struct ik__deadline d;
	size_t piece;
	int r = 0, sent = 0;

	if (c == NULL || (text == NULL && len > 0))
		return -EINVAL;
	if (type != IK_CHAT_MSG && type != IK_CHAT_ME && type != IK_CHAT_NICK &&
	    type != IK_CHAT_WHO)
		return -EINVAL;
	if (type == IK_CHAT_NICK && len > IK_CHAT_NAME_MAX)
		return -EINVAL;
	if (text == NULL)
		text = "";
	/* check it all first: a refused line is not sent in part */
	if (!text_ok(text, len, false))
		return -EINVAL;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL)
		return -ENOMEM;
	ik__deadline_init(&d, timeout_ms);
	do {
		piece = ik_chat_split(text, len, IK_CHAT_TEXT_MAX);
		rec->type = type;
		rec->flags = piece < len ? IK_CHAT_F_MORE : 0;
		memcpy(rec->text, text, piece);
		rec->text_len = piece;
		r = client_write(c, rec, &d);
		if (r < 0)
			break;
		sent++;
		text += piece;
		len -= piece;
	} while (len > 0);
	free(rec);
	return r < 0 ? r : sent;
}

int
ik_chat_fd(const ik_chat_client *c)
{
	return c == NULL ? -EINVAL : ik_fifo_fd(c->in);
}

const char *
ik_chat_name(const ik_chat_client *c)
{
	return c == NULL ? NULL : c->name;
}

int
ik_chat_is_me(const ik_chat_client *c, const struct ik_chat_rec *rec)
{
	return c != NULL && rec != NULL && rec->pid == c->pid &&
	       rec->cid == c->cid;
}

int
ik_chat_leave(ik_chat_client *c)
{
	struct ik_chat_rec rec = { .type = IK_CHAT_LEAVE };
	struct ik__deadline d;
	int r;

	if (c == NULL)
		return 0;
	/*
	 * Our FIFO's name goes first, since the LEAVE may end the room (its
	 * directory must be empty then); its reader stays open until the
	 * server has the LEAVE, so that it says "quit", not "gone".
	 */
	unlink_fifo(ik_fifo_path(c->in));
	ik__deadline_init(&d, 0);
	r = client_write(c, &rec, &d);
	ik_fifo_close(c->in);
	ik__close(c->out);
	rmdir(c->dir); /* the last one out of a room its server left */
	free(c);
	return r;
}

/* ---- the server -------------------------------------------------------- */

struct member {
	struct ik_chat_server *s;
	uint32_t pid, cid;
	char name[IK_CHAT_NAME_MAX + 1];
	int fd;
	ik_watch *w;
	const char *dead; /* why it is to be dropped, or NULL */
	char *q;	  /* bytes the FIFO had no room for yet */
	size_t qlen, qcap;
};

struct ik_chat_server {
	struct ik_chat_opts o;
	char base[PATH_MAX];
	char dir[PATH_MAX], room[IK_CHAT_ROOM_MAX + 1];
	ik_loop *loop;
	ik_fifo *in;
	int lock_fd;
	struct member **m;
	size_t n;
	bool had_member, done;
	volatile sig_atomic_t stop;
	struct ik_chat_stats st;
	size_t have;
	uint8_t buf[INBUF];
};

/*
 * One write, no waiting, no SIGPIPE (the callers hold the guard): the count,
 * -EAGAIN when the FIFO is full, -EPIPE when its reader is gone.
 */
static ssize_t
write_nb(int fd, const void *p, size_t n, bool *epipe)
{
	ssize_t w;

	do
		w = write(fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w >= 0)
		return w;
	if (errno == EPIPE)
		*epipe = true;
	return -errno;
}

static void
enqueue(struct member *m, const uint8_t *p, size_t n, bool *epipe)
{
	ssize_t w;
	char *q;

	if (m->dead != NULL)
		return;
	if (m->qlen == 0) {
		w = write_nb(m->fd, p, n, epipe);
		if (w == (ssize_t)n)
			return;
		if (w < 0 && w != -EAGAIN && w != -EWOULDBLOCK) {
			m->dead = "gone";
			return;
		}
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
	if (m->qlen + n > m->s->o.queue_max) {
		m->dead = "dropped: not reading";
		m->s->st.dropped++;
		return;
	}
	if (m->qlen + n > m->qcap) {
		size_t cap = m->qcap ? m->qcap : 4096;

		while (cap < m->qlen + n)
			cap *= 2;
		q = realloc(m->q, cap);
		if (q == NULL) {
			m->dead = "dropped: out of memory";
			m->s->st.dropped++;
			return;
		}
		m->q = q;
		m->qcap = cap;
	}
	memcpy(m->q + m->qlen, p, n);
	m->qlen += n;
}

static void
flush(struct member *m, bool *epipe)
{
	ssize_t w;

	/* one reader, one writer: a partial write cannot interleave */
	while (m->qlen > 0 && m->dead == NULL) {
		w = write_nb(m->fd, m->q, m->qlen, epipe);
		if (w == -EAGAIN || w == -EWOULDBLOCK)
			return;
		if (w < 0) {
			m->dead = "gone";
			return;
		}
		memmove(m->q, m->q + w, m->qlen - (size_t)w);
		m->qlen -= (size_t)w;
	}
}

static void
send_one(struct member *m, const struct ik_chat_rec *r, bool *epipe)
{
	uint8_t rec[IK_CHAT_REC_MAX];
	ssize_t n = ik_chat_encode(rec, sizeof(rec), r);

	if (n > 0)
		enqueue(m, rec, (size_t)n, epipe);
}

static void
broadcast(ik_chat_server *s, const struct ik_chat_rec *r,
	  const struct member *except, bool *epipe)
{
	uint8_t rec[IK_CHAT_REC_MAX];
	ssize_t n = ik_chat_encode(rec, sizeof(rec), r);

	for (size_t i = 0; n > 0 && i < s->n; i++)
		if (s->m[i] != except)
			enqueue(s->m[i], rec, (size_t)n, epipe);
}

static struct member *
find(ik_chat_server *s, uint32_t pid, uint32_t cid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i]->pid == pid && s->m[i]->cid == cid)
			return s->m[i];
	return NULL;
}

static struct member *
find_name(ik_chat_server *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->m[i]->name, name) == 0)
			return s->m[i];
	return NULL;
}

static void
free_member(struct member *m)
{
	ik_loop_remove(m->w);
	ik__close(m->fd);
	free(m->q);
	free(m);
}

/*
 * Drop the members marked dead and tell the others; telling them may mark
 * more. A member whose FIFO lost its reader is gone for good: its FIFO is
 * removed here, since a killed client cannot do it.
 */
static void
sweep(ik_chat_server *s, bool *epipe)
{
	struct ik_chat_rec rec;
	char path[PATH_MAX];
	bool again = true;

	while (again) {
		again = false;
		for (size_t i = 0; i < s->n; i++) {
			struct member *m = s->m[i];

			if (m->dead == NULL)
				continue;
			memset(&rec, 0, sizeof(rec));
			rec.type = IK_CHAT_LEFT;
			rec.pid = m->pid;
			rec.cid = m->cid;
			rec.time_ns = realtime_ns();
			memcpy(rec.name, m->name, sizeof(rec.name));
			rec.text_len = strlen(m->dead);
			memcpy(rec.text, m->dead, rec.text_len);
			if (strcmp(m->dead, "gone") == 0) {
				s->st.gone++;
				if (client_path(path, sizeof(path), s->dir,
						m->pid, m->cid) >= 0 &&
				    unlink_fifo(path))
					s->st.stale++;
			} else if (strcmp(m->dead, "quit") == 0) {
				s->st.leaves++;
			}
			s->m[i] = s->m[--s->n];
			free_member(m);
			broadcast(s, &rec, NULL, epipe);
			again = true;
			break;
		}
	}
	if (s->had_member && s->n == 0) {
		s->done = true;
		ik_loop_stop(s->loop);
	}
}

static void process_input(ik_chat_server *s, bool *epipe);

static void
on_member(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct member *m = arg;
	ik_chat_server *s = m->s;
	uint32_t pid = m->pid, cid = m->cid;
	struct ik__sigpipe g;
	bool epipe = false;

	(void)loop;
	(void)w;
	ik__sigpipe_block(&g);
	if (ev->events & IK_LOOP_ERR) {
		/* the reader closed its end; a LEAVE it sent first counts */
		process_input(s, &epipe);
		m = find(s, pid, cid);
		if (m != NULL)
			m->dead = "gone";
	} else {
		flush(m, &epipe);
	}
	sweep(s, &epipe);
	ik__sigpipe_restore(&g, epipe);
}

/* A free nick: the one asked for, else with "-2", "-3"... appended. */
static void
unique_name(ik_chat_server *s, const char *want, char *out)
{
	char tail[16];

	snprintf(out, IK_CHAT_NAME_MAX + 1, "%s", want);
	for (unsigned k = 2; find_name(s, out) != NULL; k++) {
		size_t t = (size_t)snprintf(tail, sizeof(tail), "-%u", k);
		size_t keep =
			ik_chat_split(want, strlen(want), IK_CHAT_NAME_MAX - t);

		snprintf(out, IK_CHAT_NAME_MAX + 1, "%.*s%s", (int)keep, want,
			 tail);
	}
}

static void
refuse(ik_chat_server *s, const struct ik_chat_rec *r, const char *why,
       bool *epipe)
{
	struct ik_chat_rec e = { .type = IK_CHAT_ERROR };
	char path[PATH_MAX];
	uint8_t rec[IK_CHAT_REC_MAX];
	ssize_t n;
	int fd;

	if (client_path(path, sizeof(path), s->dir, r->pid, r->cid) < 0)
		return;
	fd = open_peer(path, &s->o);
	if (fd < 0)
		return;
	e.pid = r->pid;
	e.cid = r->cid;
	e.time_ns = realtime_ns();
	e.text_len = strlen(why);
	memcpy(e.text, why, e.text_len);
	n = ik_chat_encode(rec, sizeof(rec), &e);
	if (n > 0)
		write_nb(fd, rec, (size_t)n, epipe);
	ik__close(fd);
}

static void
join(ik_chat_server *s, struct ik_chat_rec *r, bool *epipe)
{
	char path[PATH_MAX];
	struct member *m, **grown;
	int fd;

	if (find(s, r->pid, r->cid) != NULL)
		return;
	if (s->n >= s->o.max_clients) {
		refuse(s, r, "room is full", epipe);
		return;
	}
	if (client_path(path, sizeof(path), s->dir, r->pid, r->cid) < 0)
		return;
	fd = open_peer(path, &s->o);
	if (fd < 0) {
		s->st.bad++; /* gone already, or not a FIFO of the room */
		return;
	}
	m = calloc(1, sizeof(*m));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	grown = realloc(s->m, (s->n + 1) * sizeof(*s->m));
	if (m == NULL || grown == NULL ||
	    ik_loop_fd_add(s->loop, fd, IK_LOOP_WRITE | IK_LOOP_EDGE, on_member,
			   m, &m->w) < 0) {
		if (grown != NULL)
			s->m = grown;
		free(m);
		ik__close(fd);
		return;
	}
	s->m = grown;
	m->s = s;
	m->fd = fd;
	m->pid = r->pid;
	m->cid = r->cid;
	unique_name(s, r->name, m->name);
	s->m[s->n++] = m;
	s->had_member = true;
	s->st.joins++;
	r->type = IK_CHAT_WELCOME;
	memcpy(r->name, m->name, sizeof(r->name));
	r->text_len = strlen(s->room);
	memcpy(r->text, s->room, r->text_len + 1);
	send_one(m, r, epipe);
	r->type = IK_CHAT_JOINED;
	r->text_len = 0;
	r->text[0] = '\0';
	broadcast(s, r, m, epipe);
}

static void
who(ik_chat_server *s, struct member *m, struct ik_chat_rec *r, bool *epipe)
{
	size_t len = 0, n;

	for (size_t i = 0; i < s->n; i++) {
		n = strlen(s->m[i]->name);
		if (len + n + 1 + 4 > IK_CHAT_TEXT_MAX) {
			memcpy(r->text + len, " ...", 4);
			len += 4;
			break;
		}
		if (len > 0)
			r->text[len++] = ' ';
		memcpy(r->text + len, s->m[i]->name, n);
		len += n;
	}
	r->text_len = len;
	r->name[0] = '\0';
	send_one(m, r, epipe);
}

static void
handle(ik_chat_server *s, struct ik_chat_rec *r, bool *epipe)
{
	struct member *m;

	r->time_ns = realtime_ns();
	if (r->type == IK_CHAT_JOIN) {
		join(s, r, epipe);
		return;
	}
	m = find(s, r->pid, r->cid);
	if (m == NULL || r->type > IK_CHAT_WHO) {
		s->st.bad++; /* not a member, or a server's record */
		return;
	}
	switch (r->type) {
	case IK_CHAT_LEAVE:
		m->dead = "quit";
		break;
	case IK_CHAT_MSG:
	case IK_CHAT_ME:
		/* the server names the sender: a client cannot pose as another
		 */
		memcpy(r->name, m->name, sizeof(r->name));
		broadcast(s, r, NULL, epipe);
		break;
	case IK_CHAT_NICK:
		if (find_name(s, r->text) != NULL) {
			struct ik_chat_rec e = *r;

			e.type = IK_CHAT_ERROR;
			e.text_len =
				(size_t)snprintf(e.text, sizeof(e.text),
						 "nick %s is taken", r->text);
			e.name[0] = '\0';
			send_one(m, &e, epipe);
			break;
		}
		memcpy(r->name, m->name, sizeof(r->name));
		broadcast(s, r, NULL, epipe);
		memcpy(m->name, r->text, r->text_len + 1);
		break;
	case IK_CHAT_WHO:
		who(s, m, r, epipe);
		break;
	}
}

/* Read what the server FIFO holds and handle every whole record. */
static void
process_input(ik_chat_server *s, bool *epipe)
{
	struct ik_chat_rec *rec = malloc(sizeof(*rec));
	size_t off = 0;
	ssize_t n;

	if (rec == NULL)
		return; /* level-triggered: tried again next iteration */
	do
		n = read(ik_fifo_fd(s->in), s->buf + s->have,
			 sizeof(s->buf) - s->have);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		s->have += (size_t)n;
	while (off < s->have) {
		n = ik_chat_decode(s->buf + off, s->have - off, rec);
		if (n == 0)
			break;
		if (n < 0) {
			s->st.bad++;
			off += ik_chat_resync(s->buf + off, s->have - off);
			continue;
		}
		off += (size_t)n;
		s->st.records++;
		handle(s, rec, epipe);
		sweep(s, epipe);
	}
	memmove(s->buf, s->buf + off, s->have - off);
	s->have -= off;
	free(rec);
}

static void
on_input(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	struct ik__sigpipe g;
	bool epipe = false;

	(void)loop;
	(void)w;
	(void)ev;
	ik__sigpipe_block(&g);
	process_input(arg, &epipe);
	ik__sigpipe_restore(&g, epipe);
}

static void
on_idle(ik_loop *loop, ik_watch *w, const struct ik_loop_event *ev, void *arg)
{
	ik_chat_server *s = arg;

	(void)w;
	(void)ev;
	if (s->n == 0) {
		s->done = true;
		ik_loop_stop(loop);
	}
}

/*
 * Take the room's lock. An exiting server unlinks the lock file while it
 * holds it, so a lock taken on a file no longer at the path is retried.
 */
static int
take_lock(ik_chat_server *s)
{
	char path[PATH_MAX];
	struct stat st, pst;
	int fd, r;

	if (room_file(path, sizeof(path), s->dir, "lock") < 0)
		return -ENAMETOOLONG;
	for (int tries = 0; tries < 8; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			goto fail;
		}
		r = IK_EOWNER;
		if (!S_ISREG(st.st_mode))
			goto fail;
		if (st.st_uid == geteuid()) {
			if (s->o.shared && share_fifo(fd, &s->o) == 0)
				fchmod(fd, 0660);
		} else if (!s->o.shared || st.st_gid != s->o.gid ||
			   (st.st_mode & 007)) {
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
			goto fail;
		}
		if (lstat(path, &pst) == 0 && pst.st_dev == st.st_dev &&
		    pst.st_ino == st.st_ino)
			return fd;
		ik__close(fd);
	}
	return -EADDRINUSE;
fail:
	ik__close(fd);
	return r;
}

/* We hold the lock, so every server FIFO here is a dead server's. */
static void
clear_stale(ik_chat_server *s)
{
	char path[PATH_MAX];
	unsigned pid, cid;
	struct dirent *e;
	DIR *d;
	int end;

	if (room_file(path, sizeof(path), s->dir, "server") >= 0 &&
	    unlink_fifo(path))
		s->st.stale++;
	d = opendir(s->dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		/* NOLINTNEXTLINE(cert-err34-c): a dead pid's name only */
		if (sscanf(e->d_name, "c.%u.%u%n", &pid, &cid, &end) != 2 ||
		    e->d_name[end] != '\0' || pid == 0 || pid > INT32_MAX)
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH &&
		    client_path(path, sizeof(path), s->dir, pid, cid) >= 0 &&
		    unlink_fifo(path))
			s->st.stale++;
	}
	closedir(d);
}

int
ik_chat_server_open(ik_chat_server **out, const char *room,
		    const struct ik_chat_opts *o)
{
	char path[PATH_MAX];
	ik_chat_server *s;
	int r;

	if (out == NULL || ik_chat_room_ok(room) < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->lock_fd = -1;
	if (o != NULL)
		s->o = *o;
	if (s->o.base != NULL) {
		snprintf(s->base, sizeof(s->base), "%s", s->o.base);
		s->o.base = s->base;
	}
	if (s->o.max_clients == 0)
		s->o.max_clients = DEF_MAX_CLIENTS;
	if (s->o.queue_max == 0)
		s->o.queue_max = DEF_QUEUE_MAX;
	if (s->o.idle_ms <= 0)
		s->o.idle_ms = DEF_IDLE_MS;
	snprintf(s->room, sizeof(s->room), "%s", room);
	r = ik_chat_room_dir(s->dir, sizeof(s->dir), room, &s->o);
	if (r < 0)
		goto fail;
	/* a client leaving a dead room may remove the directory meanwhile */
	for (int tries = 0; tries < 3; tries++) {
		r = make_room_dir(s->dir, &s->o);
		if (r >= 0)
			r = s->lock_fd = take_lock(s);
		if (r != -ENOENT)
			break;
	}
	if (r < 0)
		goto fail;
	clear_stale(s);
	r = room_file(path, sizeof(path), s->dir, "server");
	if (r < 0)
		goto fail;
	r = ik_fifo_open(&s->in, path,
			 IK_FIFO_READ | IK_FIFO_SERVER | IK_FIFO_CREATE |
				 IK_FIFO_EXCL,
			 0);
	if (r < 0)
		goto fail;
	r = share_fifo(ik_fifo_fd(s->in), &s->o);
	if (r < 0)
		goto fail;
	r = ik_loop_new(&s->loop, 0);
	if (r < 0)
		goto fail;
	r = ik_loop_fd_add(s->loop, ik_fifo_fd(s->in), IK_LOOP_READ, on_input,
			   s, NULL);
	if (r < 0)
		goto fail;
	r = ik_loop_timer_add(s->loop, (uint64_t)s->o.idle_ms, 0, on_idle, s,
			      NULL);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	ik_chat_server_close(s);
	return r;
}

int
ik_chat_server_run(ik_chat_server *s, int timeout_ms)
{
	struct ik__deadline d;
	int r;

	if (s == NULL)
		return -EINVAL;
	ik__deadline_init(&d, timeout_ms);
	while (!s->done && !s->stop) {
		if (ik__deadline_expired(&d))
			return -ETIMEDOUT;
		r = ik_loop_run_once(s->loop, ik__deadline_left_ms(&d));
		if (r < 0)
			return r;
	}
	return s->stop ? 1 : 0;
}

void
ik_chat_server_stop(ik_chat_server *s)
{
	if (s == NULL)
		return;
	s->stop = 1;
	ik_loop_stop(s->loop);
}

void
ik_chat_server_stats(const ik_chat_server *s, struct ik_chat_stats *out)
{
	if (s != NULL && out != NULL)
		*out = s->st;
}

int
ik_chat_server_close(ik_chat_server *s)
{
	char path[PATH_MAX];
	int r = 0;

	if (s == NULL)
		return 0;
	/* the path goes before the reader: a newcomer then finds no room
	 * and starts one, instead of writing to a FIFO nobody will read */
	r = ik_fifo_close(s->in);
	for (size_t i = 0; i < s->n; i++)
		free_member(s->m[i]);
	free(s->m);
	ik_loop_free(s->loop);
	if (s->lock_fd >= 0) {
		if (room_file(path, sizeof(path), s->dir, "lock") >= 0 &&
		    unlink(path) < 0 && r == 0)
			r = -errno;
		ik__close(s->lock_fd);
		rmdir(s->dir); /* clients still leaving remove it later */
		if (s->o.shared && group_base(path, sizeof(path), &s->o) >= 0)
			rmdir(path);
	}
	free(s);
	return r;
}
