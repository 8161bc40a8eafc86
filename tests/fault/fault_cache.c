/*
 * Faults in the shared-memory cache: create (nothing left behind), then
 * sets, increments and deletes; afterwards the cache must pass its own
 * consistency check and a peer that opens it by name must find every
 * write that was acknowledged, and no half-written value.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ipckit/cache.h>

#include "ikf.h"
#include "ikt.h"

#define NKEY 40

static char name[64];
static bool acked[NKEY];
static long counter;

static void
key_of(char *k, int i)
{
	snprintf(k, 16, "key-%d", i);
}

static int
verify(void *arg)
{
	ik_cache *c;
	char k[16], v[600];
	int64_t n = 0;
	int rc = 0;

	(void)arg;
	if (ik_cache_open(&c, name) != 0)
		return 1;
	if (ik_cache_check(c, 0) != 0)
		rc = 2;
	for (int i = 0; i < NKEY && rc == 0; i++) {
		ssize_t r;

		key_of(k, i);
		r = ik_cache_get(c, k, strlen(k), v, sizeof(v));
		if (r == -ENOENT && !acked[i])
			continue;
		/* acknowledged: there; not: absent or whole, never torn */
		if (r != 100 + i * 10 ||
		    ikt_check(v, (size_t)r, (uint32_t)i) != 0)
			rc = 3;
	}
	if (rc == 0 &&
	    (ik_cache_incrby(c, "ctr", 3, 0, &n) != 0 || n != counter))
		rc = 4;
	ik_cache_close(c);
	return rc;
}

static void
sc_cache(void)
{
	ik_cache *c = NULL;
	char k[16], v[600];
	int64_t n;
	pid_t peer;

	ikf_name(name, sizeof(name), "cache");
	memset(acked, 0, sizeof(acked));
	counter = 0;
	if (IKF(ik_cache_create(&c, name, IK_CACHE_MIN_SIZE * 4, 2, 0)) < 0)
		return;
	for (int i = 0; i < NKEY; i++) {
		key_of(k, i);
		ikt_fill(v, 100 + (size_t)i * 10, (uint32_t)i);
		acked[i] = IKF(ik_cache_set(c, k, strlen(k), v,
					    100 + (size_t)i * 10, 0, 0)) == 0;
		if (IKF(ik_cache_incrby(c, "ctr", 3, 1, &n)) == 0)
			counter = n;
	}
	for (int i = 0; i < NKEY; i += 7) {
		key_of(k, i);
		if (IKF(ik_cache_del(c, k, strlen(k))) >= 0)
			acked[i] = false;
	}
	IKF_ASSERT(IKF(ik_cache_check(c, 0)) == 0 || ikf_errored());
	peer = ikf_peer(verify, NULL);
	ikf_peer_join(peer);
	ik_cache_close(c);
	IKF(ik_cache_unlink(name));
}

int
main(int argc, char **argv)
{
	static const struct ikf_scenario sc[] = {
		{ "cache", sc_cache },
	};

	return ikf_main(argc, argv, sc, sizeof(sc) / sizeof(sc[0]));
}
