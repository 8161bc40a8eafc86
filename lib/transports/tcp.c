/*
 * tcp: TCP over IPv4 or IPv6, `tcp:127.0.0.1:6380`, `tcp:[::1]:0?raw=1`.
 * Framed with a 4-byte length unless raw=1 (how nc and socat talk); a
 * listener on port 0 reports the port it got through ik_chan_addr.
 */
#include "../internal/sockchan.h"

static const char *const tcp_options[] = { "backlog", "maxmsg", "raw", NULL };

const struct ik__transport ik__transport_tcp = {
	.scheme = IK_SCHEME_TCP,
	.options = tcp_options,
	IK__SOCKCHAN_OPS,
};
