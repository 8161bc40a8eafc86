/*
 * unix: Unix domain sockets on a path, `unix:/run/app.sock?type=stream|dgram|
 * seqpacket&maxmsg=N&mode=0600&backlog=N&raw=1`. Streams (the default) are
 * framed with a 4-byte length unless raw=1; listen binds the socket file
 * (0600, a stale one replaced) and close removes it. The body is shared
 * with every socket scheme: lib/transports/sockchan.c.
 */
#include "../internal/sockchan.h"

static const char *const unix_options[] = { "backlog", "maxmsg", "mode",
					    "raw",     "type",	 NULL };

const struct ik__transport ik__transport_unix = {
	.scheme = IK_SCHEME_UNIX,
	.options = unix_options,
	IK__SOCKCHAN_OPS,
};
