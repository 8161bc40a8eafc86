/*
 * abstract: Linux abstract-namespace Unix sockets, `abstract:name?type=...`,
 * as unix: but with no file: the name vanishes with the last socket bound
 * to it, so there is nothing to clean up and no mode (any local process
 * in the network namespace can connect, whatever its user).
 */
#include "../internal/sockchan.h"

static const char *const abstract_options[] = { "backlog", "maxmsg", "raw",
						"type", NULL };

const struct ik__transport ik__transport_abstract = {
	.scheme = IK_SCHEME_ABSTRACT,
	.options = abstract_options,
	IK__SOCKCHAN_OPS,
};
