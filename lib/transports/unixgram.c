/*
 * unixgram: Unix datagram sockets, `unixgram:/path?maxmsg=64K&mode=0600`.
 * Connectionless: the listener binds the path and receives from anyone; its
 * send answers the last sender. A dialler connects, bound to an automatic
 * abstract name so that it can be answered. Boundaries are the kernel's.
 */
#include "../internal/sockchan.h"

static const char *const unixgram_options[] = { "maxmsg", "mode", NULL };

const struct ik__transport ik__transport_unixgram = {
	.scheme = IK_SCHEME_UNIXGRAM,
	.options = unixgram_options,
	IK__SOCKCHAN_OPS,
};
