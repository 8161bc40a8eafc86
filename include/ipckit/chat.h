/*
 * Chat rooms over FIFOs: one server FIFO per room, read by the room's server
 * process, and one FIFO per client that only the server writes to. Every
 * record is at most PIPE_BUF bytes, so each is written whole and never
 * interleaved with another writer's; longer lines become several records.
 * The server never blocks on a client: it queues, and drops a client whose
 * queue overflows or whose FIFO lost its reader. Records are validated on
 * every read (length, type, name, UTF-8 text without control characters).
 */
#ifndef IPCKIT_CHAT_H
#define IPCKIT_CHAT_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IK_CHAT_REC_MAX PIPE_BUF /* a whole record, header included */
#define IK_CHAT_HDR_SIZE 28
#define IK_CHAT_NAME_MAX 32 /* bytes of a nick name */
#define IK_CHAT_ROOM_MAX 64 /* bytes of a room name */
/* Text of one record; ik_chat_send splits longer text into records. */
#define IK_CHAT_TEXT_MAX (IK_CHAT_REC_MAX - IK_CHAT_HDR_SIZE - IK_CHAT_NAME_MAX)

/* Record types. C: client to server, S: server to client. */
enum ik_chat_type {
	IK_CHAT_JOIN = 1,    /* C: name = wanted nick */
	IK_CHAT_LEAVE = 2,   /* C */
	IK_CHAT_MSG = 3,     /* C, S: text; S sets name and time */
	IK_CHAT_ME = 4,	     /* C, S: text is an action ("/me waves") */
	IK_CHAT_NICK = 5,    /* C: text = new nick; S: name = old, text = new */
	IK_CHAT_WHO = 6,     /* C: request; S: text = nicks, space-separated */
	IK_CHAT_WELCOME = 7, /* S: name = the nick given, text = room name */
	IK_CHAT_JOINED = 8,  /* S: name joined */
	IK_CHAT_LEFT = 9,    /* S: name left; text = quit, gone or dropped */
	IK_CHAT_ERROR = 10,  /* S: text says what was refused */
};

/* Record flags. */
#define IK_CHAT_F_MORE 0x1 /* a piece of a longer line; more follow */

/* A decoded record; name and text are NUL-terminated. */
struct ik_chat_rec {
	int type;	  /* enum ik_chat_type */
	unsigned flags;	  /* IK_CHAT_F_* */
	uint32_t pid;	  /* the client it is from or about (0: none) */
	uint32_t cid;	  /* client number within that process */
	uint32_t seq;	  /* the sender's sequence number */
	uint64_t time_ns; /* CLOCK_REALTIME, stamped by the server */
	char name[IK_CHAT_NAME_MAX + 1];
	size_t text_len;
	char text[IK_CHAT_TEXT_MAX + 1];
};

/*
 * Encode r into buf. Returns the record's length (<= IK_CHAT_REC_MAX),
 * -EMSGSIZE if the text is longer than IK_CHAT_TEXT_MAX or buf too small,
 * -EINVAL for an unknown type or flag, a bad name (see ik_chat_name_ok) or
 * text that is not valid UTF-8 or holds control characters.
 */
ssize_t ik_chat_encode(void *buf, size_t len, const struct ik_chat_rec *r);

/*
 * Decode the record at the start of buf (len bytes available). Returns the
 * bytes it takes (> 0) and fills *out; 0 if buf holds only part of one
 * (read more); -EMSGSIZE if its length field is below the header size or
 * above IK_CHAT_REC_MAX; -EBADMSG for a bad magic, version, type, flag,
 * name or text (the same rules as ik_chat_encode). After an error, resync
 * with ik_chat_resync. *out is written only on success.
 */
ssize_t ik_chat_decode(const void *buf, size_t len, struct ik_chat_rec *out);

/*
 * Bytes to skip in a stream after a record that failed to decode: up to the
 * next possible record start after the first byte (or all of len).
 */
size_t ik_chat_resync(const void *buf, size_t len);

/*
 * 0 if name is a valid nick: 1 to IK_CHAT_NAME_MAX bytes of UTF-8, no
 * spaces, no control characters, not starting with '/'. -EINVAL otherwise.
 */
int ik_chat_name_ok(const char *name);

/*
 * 0 if room is a valid room name: 1 to IK_CHAT_ROOM_MAX bytes of
 * [A-Za-z0-9._-], not starting with '.'. -EINVAL otherwise.
 */
int ik_chat_room_ok(const char *room);

/*
 * Make len bytes of untrusted text sendable in place: tabs become spaces,
 * other control characters and invalid UTF-8 bytes become '?'. Returns the
 * new length (never more than len).
 */
size_t ik_chat_sanitize(char *text, size_t len);

/*
 * Length of the first piece of text (len bytes of UTF-8) that fits in max
 * bytes, cut at a character boundary, at a space when one is in the last
 * quarter. Returns len if it all fits, 0 only if len is 0.
 */
size_t ik_chat_split(const char *text, size_t len, size_t max);

/* Where a room lives and who may use it. Zero it for the defaults. */
struct ik_chat_opts {
	/*
	 * 0 (the default): a private room in the runtime directory
	 * (<runtime>/chat-ROOM, 0700, FIFOs 0600). Nonzero: shared with this
	 * group, in /tmp/ipckit-chat-g<gid>/ROOM (02770, FIFOs 0620, group
	 * gid), for every member of the group to join.
	 */
	int shared;
	gid_t gid;
	const char *base; /* shared rooms: another base directory than /tmp */
	unsigned max_clients; /* server: 0 = 256 */
	size_t queue_max;     /* server: bytes queued per client; 0 = 256 KiB */
	int idle_ms; /* server: how long to wait with no client; 0 = 10 s */
};

/*
 * Write the room's directory into buf. Returns its length, -EINVAL (bad
 * room), -ENAMETOOLONG, or the errors of ik_runtime_dir. Creates nothing.
 */
int ik_chat_room_dir(char *buf, size_t len, const char *room,
		     const struct ik_chat_opts *o);

typedef struct ik_chat_server ik_chat_server;

/*
 * Become the room's server: create (or check) the room directory, take its
 * lock, clear what a dead server left (its FIFO, dead clients' FIFOs), and
 * create the server FIFO. Returns 0 and *out; -EADDRINUSE if a live server
 * holds the room; IK_EUNSAFE if the directory is not ours (or, shared, not
 * the group's with no access for others); -EINVAL; or a negative errno.
 * Never blocks.
 */
int ik_chat_server_open(ik_chat_server **out, const char *room,
			const struct ik_chat_opts *o);

/*
 * Serve until the room is empty again after a client came, until no client
 * came for idle_ms, until ik_chat_server_stop, or until timeout_ms passed
 * (-1 forever). Returns 0 (room empty or idle), 1 (stopped), -ETIMEDOUT, or
 * a negative errno. Installs no signal handler.
 */
int ik_chat_server_run(ik_chat_server *s, int timeout_ms);

/* Make ik_chat_server_run return 1. Async-signal-safe. */
void ik_chat_server_stop(ik_chat_server *s);

/* Counters, for tests and logs. */
struct ik_chat_stats {
	uint64_t records; /* valid records read */
	uint64_t bad;	  /* records rejected (each resync counts one) */
	uint64_t joins, leaves, gone, dropped;
	uint64_t stale; /* files of a dead server or dead clients removed */
};
void ik_chat_server_stats(const ik_chat_server *s, struct ik_chat_stats *out);

/*
 * Close every client's FIFO (they read end of file), remove the server FIFO,
 * the lock and the room directory if empty, free s. NULL is fine. 0, or the
 * first removal error.
 */
int ik_chat_server_close(ik_chat_server *s);

typedef struct ik_chat_client ik_chat_client;

/*
 * Join room under the nick name: create this client's FIFO in the room,
 * send JOIN, and wait up to timeout_ms for the server's WELCOME (the nick
 * may come back changed, "-2" added, if it was taken; see ik_chat_name).
 * Returns 0 and *out; -ECONNREFUSED if no server runs the room (none there,
 * a dead one's FIFO, or it exited while we joined: start one and retry);
 * -ETIMEDOUT; -EINVAL (bad room or name); IK_EUNSAFE, IK_EOWNER; or a
 * negative errno. Several clients per process are allowed. Records that
 * arrived with the WELCOME may already be buffered: check ik_chat_pending
 * before waiting on ik_chat_fd.
 */
int ik_chat_join(ik_chat_client **out, const char *room, const char *name,
		 const struct ik_chat_opts *o, int timeout_ms);

/*
 * Send text (len bytes) as type IK_CHAT_MSG, IK_CHAT_ME or IK_CHAT_NICK
 * (IK_CHAT_WHO and IK_CHAT_LEAVE take no text). Longer text than
 * IK_CHAT_TEXT_MAX goes as several records, all but the last flagged
 * IK_CHAT_F_MORE. Waits up to timeout_ms while the server FIFO is full.
 * Returns the number of records sent, -EPIPE (the server is gone),
 * -ETIMEDOUT, -EINVAL (bad type, or text that ik_chat_encode refuses:
 * use ik_chat_sanitize first), or a negative errno.
 */
int ik_chat_send(ik_chat_client *c, int type, const char *text, size_t len,
		 int timeout_ms);

/*
 * Receive the next record from the server, waiting up to timeout_ms.
 * Returns 0 and *out; -ETIMEDOUT; -ECONNRESET when the server closed our
 * FIFO (it exited or dropped us); -EBADMSG for a record that failed
 * validation (skipped: call again); or a negative errno.
 */
int ik_chat_recv(ik_chat_client *c, struct ik_chat_rec *out, int timeout_ms);

/*
 * Whether a record is already buffered, so that ik_chat_recv returns at once
 * without the descriptor becoming readable: 1 or 0.
 */
int ik_chat_pending(const ik_chat_client *c);

/* The descriptor that becomes readable when records arrive (for poll). */
int ik_chat_fd(const ik_chat_client *c);

/* The nick the server knows us by (updated by ik_chat_recv on NICK). */
const char *ik_chat_name(const ik_chat_client *c);

/* Whether rec is about this client (its pid and cid): 1 or 0. */
int ik_chat_is_me(const ik_chat_client *c, const struct ik_chat_rec *rec);

/*
 * Leave: remove our FIFO, tell the server, free c (NULL is fine). Returns 0,
 * or the error of sending LEAVE (-EPIPE if the server is already gone; c is
 * freed in any case). Never blocks.
 */
int ik_chat_leave(ik_chat_client *c);

#ifdef __cplusplus
}
#endif
#endif
