/*
 * ikf: the fault-injection driver shared by the scenario programs
 * (tests/fault/fault_<module>.c). A scenario runs library calls inside
 * IKF(...), which arms the shim around exactly that call. The driver runs
 * each scenario once to count the calls, then once per (call, errno) in a
 * forked child, and checks every run: no crash or hang, the faulted call
 * returned a negative errno (or succeeded for EINTR and short transfers),
 * and afterwards no descriptor, allocation, child or IPC object is left.
 */
#ifndef IKF_H
#define IKF_H

#include <stdbool.h>
#include <sys/types.h>

#include "shim.h"

struct ikf_scenario {
	const char *name;
	void (*run)(void);
};

/* Run the scenarios (all, or those named in argv); exit status 0 = clean. */
int ikf_main(int argc, char **argv, const struct ikf_scenario *sc, size_t n);

/* Run expr with the shim armed; evaluates to its result, as a long. */
#define IKF(expr) (ikf__arm(), ikf__done((long)(expr), 0, #expr, __LINE__))
/* The same for a call that must fail with err (< 0) when nothing is injected.
 */
#define IKF_E(expr, err) \
	(ikf__arm(), ikf__done((long)(expr), (err), #expr, __LINE__))
void ikf__arm(void);
long ikf__done(long rc, long expect, const char *what, int line);

/* A check on data or state; a failure is a finding. */
#define IKF_ASSERT(c) ikf__assert((c), #c, __LINE__)
void ikf__assert(bool ok, const char *what, int line);

/* A fault fired in this run and a call reported it as an error. */
bool ikf_errored(void);

/* Names and keys owned by this run: they carry its pid (leak check). */
void ikf_name(char *buf, size_t len, const char *tag); /* "/ikf-<pid>-tag" */
void ikf_path(char *buf, size_t len, const char *tag); /* in the tmpdir */
key_t ikf_key(int i);				       /* 0 <= i < 16 */

/*
 * A peer process: ikf_peer forks (the child runs fn(arg) unarmed and
 * _exits with its return value); ikf_peer_end waits for it, requiring
 * exit 0 unless the run errored (then it is killed: it may be waiting
 * for what the failed call never sent).
 */
pid_t ikf_peer(int (*fn)(void *), void *arg);
void ikf_peer_end(pid_t pid);
/* Wait for a peer that must succeed whatever happened here (exit 0). */
void ikf_peer_join(pid_t pid);
/* The peer was reaped by the code under test (a child watcher). */
void ikf_peer_reaped(pid_t pid);

#endif
