/*
 * The fault shim's control interface (tests/fault/shim.c, LD_PRELOADed).
 * Calls are counted only between ikf_arm and ikf_disarm, and only in the
 * process that armed: peers forked by a scenario run unharmed. The Nth
 * counted call fails with the chosen errno (or transfers half its bytes).
 * Declared weak so a scenario program started without the shim can say so.
 */
#ifndef IKF_SHIM_H
#define IKF_SHIM_H

#include <stddef.h>

/* "errno" for a short transfer instead of a failure. */
#define IKF_SHORT 10000

struct ikf_hit {
	int fn;		   /* function id (ikf_fn_name) */
	int err;	   /* what was injected */
	unsigned long off; /* call site: return address - object base */
	char obj[256];	   /* the object the call site is in */
};

void ikf_arm(void) __attribute__((weak));
void ikf_disarm(void) __attribute__((weak));
/* Fail counted call number at (1-based; 0: count only) with err. */
void ikf_set(long at, int err) __attribute__((weak));
long ikf_count(void) __attribute__((weak));
/* 1 and *out filled when the fault fired since ikf_set, else 0. */
int ikf_fired(struct ikf_hit *out) __attribute__((weak));
/* Allocations made while armed and not freed yet. */
long ikf_live(void) __attribute__((weak));
/* Function ids of the counted calls, in order (at most cap). */
size_t ikf_trace(unsigned short *fn, size_t cap) __attribute__((weak));
const char *ikf_fn_name(int fn) __attribute__((weak));
/* Whether err can be injected into function fn at all. */
int ikf_applies(int fn, int err) __attribute__((weak));

#endif
