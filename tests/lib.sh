# Shell helpers for tests/{examples,cli,interop}/*.sh (sourced, POSIX sh).
# Every wait is bounded: `timeout` around each program, polls on conditions.
set -u
IKT_T=${IKT_T:-60}
ikt_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ikt-$$-XXXXXX")
ikt_pids=""
ikt_cleanup() {
	# SIGTERM first: a `timeout` wrapper passes it on to the program it
	# runs, where SIGKILL would leave that program orphaned and running
	for p in $ikt_pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $ikt_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 40 ]; do
			i=$((i + 1))
			sleep 0.05
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$ikt_tmp"
	[ -z "${ikt_wrapdir:-}" ] || rm -rf "$ikt_wrapdir"
}
trap ikt_cleanup EXIT INT TERM

# IKT_WRAP (a command prefix, e.g. "valgrind --error-exitcode=99 ..."): every
# run of ipckit or of an example goes through it. Wrapper scripts stand in
# for the binaries, so the tests need no change; exec keeps the pid.
# The stand-ins live outside the private TMPDIR, readable by all (they hold
# a command line, nothing else): a test may run one as another user
# (cli/test_notify sends as nobody through setpriv).
if [ -n "${IKT_WRAP:-}" ]; then
	ikt_wrapdir=$(mktemp -d /tmp/ikt-wrap-$$-XXXXXX)
	mkdir "$ikt_wrapdir/examples"
	chmod go+rx "$ikt_wrapdir" "$ikt_wrapdir/examples"
	# (valgrind writes temp files in TMPDIR, which such a user cannot),
	# or with another PATH (examples/pipe_exec): the wrapper by full path
	ikt_w=${IKT_WRAP%% *}
	ikt_w="$(command -v "$ikt_w" || echo "$ikt_w")${IKT_WRAP#"$ikt_w"}"
	ikt_wrap() { # REAL STANDIN
		printf '#!/bin/sh\n[ -w "${TMPDIR:-/tmp}" ] || export TMPDIR=/tmp\nexec %s "%s" "$@"\n' \
			"$ikt_w" "$1" >"$2"
		chmod go+rx,u+x "$2"
	}
	if [ -n "${IKT_IPCKIT:-}" ]; then
		ikt_wrap "$IKT_IPCKIT" "$ikt_wrapdir/ipckit"
		IKT_IPCKIT=$ikt_wrapdir/ipckit
	fi
	for ikt_b in "${IKT_EXAMPLES:-/nonexistent}"/*; do
		[ -f "$ikt_b" ] && [ -x "$ikt_b" ] &&
			ikt_wrap "$ikt_b" "$ikt_wrapdir/examples/${ikt_b##*/}"
	done
	IKT_EXAMPLES=$ikt_wrapdir/examples
	export IKT_IPCKIT IKT_EXAMPLES
fi

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
note() {
	[ "${IKT_VERBOSE:-0}" = 1 ] && printf '%s\n' "$*"
	return 0
}
# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got [$2], want [$3]"
}
# expect_status WANT CMD...: run CMD (bounded), check its exit status
expect_status() {
	ikt_want=$1
	shift
	set +e
	timeout "$IKT_T" "$@" >"$ikt_tmp/out" 2>"$ikt_tmp/err"
	got=$?
	set -e
	[ "$got" = "$ikt_want" ] || fail "$* exited $got, want $ikt_want; stderr: $(cat "$ikt_tmp/err")"
}
# wait_for CMD...: poll until CMD succeeds, at most IKT_T seconds
wait_for() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $((IKT_T * 20)) ] && fail "timed out waiting for: $*"
		sleep 0.05
	done
}

# Background programs (for scripts that start ipckit and its peers):
# ikt_term_all SIGTERMs every one and waits for it (a timeout(1) wrapper
# passes the signal on, so each ipckit removes what it made), then cleans
# up. Such scripts: trap 'set +e; ikt_term_all' EXIT INT TERM
ikt_term_all() {
	for p in $ikt_pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $ikt_pids; do wait "$p" 2>/dev/null; done
	ikt_cleanup
}
# start_bg NAME CMD...: CMD (bounded) in the background, its output in
# $ikt_tmp/NAME.out, stderr in $ikt_tmp/NAME.err (emptied first), standard
# input from the file $ikt_in (/dev/null when empty); its pid in $pid_NAME
start_bg() {
	n=$1
	shift
	: >"$ikt_tmp/$n.err"
	timeout "$IKT_T" "$@" <"${ikt_in:-/dev/null}" >"$ikt_tmp/$n.out" 2>"$ikt_tmp/$n.err" &
	bg=$!
	ikt_pids="$ikt_pids $bg"
	eval "pid_$n=$bg"
}
# finish NAME WANT: wait for NAME, check its exit status
finish() {
	eval "p=\$pid_$1"
	set +e
	wait "$p"
	st=$?
	set -e
	[ "$st" = "$2" ] || fail "$1 exited $st, want $2; stderr: $(cat "$ikt_tmp/$1.err")"
}
# port_of NAME: the port NAME (an ipckit -v on tcp:127.0.0.1:0) listens on
port_of() { sed -n 's/^ipckit [a-z]*: listening on tcp:127\.0\.0\.1:\([0-9]*\).*$/\1/p' "$ikt_tmp/$1.err"; }
# ikt_cache_trap NAME: at exit, destroy the cache NAME, then clean up
ikt_cache_trap() {
	ikt_cache=$1
	trap 'set +e; "$IKT_IPCKIT" cache "$ikt_cache" destroy 2>/dev/null; ikt_cleanup' EXIT INT TERM
}
# ikt_serve_cache NAME SIZE ARGS...: make the cache NAME (destroyed at
# exit) and serve it in the background: ipckit serve --cache NAME ARGS,
# stderr in $ikt_tmp/log, its pid in $srv
ikt_serve_cache() {
	ikt_cache_trap "$1"
	"$IKT_IPCKIT" cache "$1" create --size "$2"
	ikt_c=$1
	shift 2
	"$IKT_IPCKIT" serve --cache "$ikt_c" "$@" 2>"$ikt_tmp/log" &
	srv=$!
	ikt_pids="$ikt_pids $srv"
}
