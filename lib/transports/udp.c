/*
 * udp: UDP over IPv4 or IPv6, `udp:127.0.0.1:9000?maxmsg=65507`. One message
 * per datagram (at most 65507 bytes); the listener answers the last sender.
 * Delivery is not guaranteed: datagrams may be lost when a buffer is full.
 */
#include "../internal/sockchan.h"

static const char *const udp_options[] = { "maxmsg", NULL };

const struct ik__transport ik__transport_udp = {
	.scheme = IK_SCHEME_UDP,
	.options = udp_options,
	IK__SOCKCHAN_OPS,
};
