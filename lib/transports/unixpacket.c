/*
 * unixpacket: Unix seqpacket sockets, `unixpacket:/path?maxmsg=64K`:
 * connections (listen, accept, dial) whose message boundaries the kernel
 * keeps, so no framing. Same as unix:/path?type=seqpacket.
 */
#include "../internal/sockchan.h"

static const char *const unixpacket_options[] = { "backlog", "maxmsg", "mode",
						  NULL };

const struct ik__transport ik__transport_unixpacket = {
	.scheme = IK_SCHEME_UNIXPACKET,
	.options = unixpacket_options,
	IK__SOCKCHAN_OPS,
};
