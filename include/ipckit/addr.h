/*
 * One address grammar for every mechanism: `scheme:rest[?key=value&...]`,
 * parsed in one place and printed back canonically (scheme in lower case,
 * options sorted by key, reserved bytes percent-encoded). Parsing checks the
 * form of `rest` for its scheme; what each option means is up to the
 * transport that uses the address.
 *
 *   fifo:/run/user/1000/jobs            unix:/run/app.sock   abstract:app
 *   unixgram:/p   unixpacket:/p         tcp:127.0.0.1:6380   tcp:[::1]:6380
 *   udp:localhost:9000                  pmq:/jobs?maxmsg=10&msgsize=8192
 *   svmq:0x1234?type=2   svmq:private   svmq:/etc/app?proj=7
 *   shm:/bench?size=1M
 */
#ifndef IPCKIT_ADDR_H
#define IPCKIT_ADDR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ik_scheme {
	IK_SCHEME_FIFO,
	IK_SCHEME_UNIX,
	IK_SCHEME_UNIXGRAM,
	IK_SCHEME_UNIXPACKET,
	IK_SCHEME_ABSTRACT,
	IK_SCHEME_TCP,
	IK_SCHEME_UDP,
	IK_SCHEME_PMQ,
	IK_SCHEME_SVMQ,
	IK_SCHEME_SHM,
	IK_SCHEME_COUNT
};

#define IK_ADDR_MAX_OPTS 16
#define IK_ADDR_REST_MAX 1024
#define IK_ADDR_KEY_MAX 32
#define IK_ADDR_VALUE_MAX 256

struct ik_addr_opt {
	char key[IK_ADDR_KEY_MAX];
	char value[IK_ADDR_VALUE_MAX];
};

struct ik_addr {
	enum ik_scheme scheme;
	/* decoded: a path, an abstract name, "host:port", a queue name, a key
	 */
	char rest[IK_ADDR_REST_MAX];
	/* tcp/udp: host without brackets, and port; others: "" and 0 */
	char host[256];
	uint16_t port;
	/*
	 * svmq: the key when rest is a number or "private" (IPC_PRIVATE, 0);
	 * when rest is a path, key_from_path is 1 and the key is ftok(rest,
	 * proj option, default 1), computed where the queue is opened.
	 */
	int32_t key;
	int key_from_path;
	int nopts;
	struct ik_addr_opt opts[IK_ADDR_MAX_OPTS]; /* sorted by key */
};

/*
 * Parse text into *out. Returns 0, IK_EBADSCHEME (unknown or missing scheme)
 * or IK_EBADADDR (anything else malformed). When err is not NULL it
 * receives one line saying what was wrong, e.g.
 * "tcp:127.0.0.1:99999: port out of range (0-65535)"; for an unknown scheme
 * the line lists the valid ones.
 */
int ik_addr_parse(const char *text, struct ik_addr *out, char *err,
		  size_t errlen);

/*
 * The canonical text of an address. Returns its length (like snprintf: the
 * length it would have when buf is too small), or a negative errno.
 */
int ik_addr_format(const struct ik_addr *a, char *buf, size_t len);

/* "fifo", "unix", ...; NULL for an invalid value. */
const char *ik_scheme_name(enum ik_scheme s);
/* The scheme named by name (case-insensitive), or -1. */
int ik_scheme_from_name(const char *name);
/* "fifo, unix, unixgram, ..." for messages. */
const char *ik_scheme_list(void);

/* The value of option key, or NULL when absent. */
const char *ik_addr_opt(const struct ik_addr *a, const char *key);

/*
 * Typed option readers: 0 when present and valid (*out written), 1 when
 * absent (*out untouched), IK_EBADADDR when malformed (err explains).
 * Sizes take K/M/G suffixes (powers of two); durations ms/s/m suffixes
 * (no suffix: milliseconds); modes are octal.
 */
int ik_addr_opt_u64(const struct ik_addr *a, const char *key, uint64_t *out,
		    char *err, size_t errlen);
int ik_addr_opt_size(const struct ik_addr *a, const char *key, uint64_t *out,
		     char *err, size_t errlen);
int ik_addr_opt_ms(const struct ik_addr *a, const char *key, int64_t *out,
		   char *err, size_t errlen);
int ik_addr_opt_mode(const struct ik_addr *a, const char *key, unsigned *out,
		     char *err, size_t errlen);
int ik_addr_opt_bool(const struct ik_addr *a, const char *key, int *out,
		     char *err, size_t errlen);

/*
 * Check that every option of a is one of the NULL-terminated keys; if not,
 * IK_EBADADDR with err naming the unknown option and listing the valid ones.
 */
int ik_addr_check_opts(const struct ik_addr *a, const char *const *keys,
		       char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
