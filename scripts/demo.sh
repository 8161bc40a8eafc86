#!/bin/sh
# make demo: run each of the seed's example programs, written on libipckit,
# the way a reader of the tutorial would, showing what they print. The
# tests (tests/examples/*.sh) run the same programs and check every line.
# Usage: scripts/demo.sh BUILD_DIR
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
ex="$PWD/$build/examples"
run=$(mktemp -d "${TMPDIR:-/tmp}/ipckit-demo-XXXXXX")
export IPCKIT_RUNTIME_DIR="$run/rt"
mkdir -m 700 "$IPCKIT_RUNTIME_DIR"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$run"
}
trap cleanup EXIT INT TERM

title() { printf '\n=== %s\n' "$*"; }
# wait_for CMD...: poll until CMD succeeds (bounded: 30 s)
wait_for() {
	i=0
	until "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { echo "demo: timed out waiting for: $*" >&2; exit 1; }
		sleep 0.05
	done
}

title "pipe_demo: a parent writes, its child reads (1. Pipes)"
"$ex/pipe_demo"

title "pipe_exec: ls -l /usr/include | wc -l, with every stage's status"
"$ex/pipe_exec" /usr/include
printf '(the shell says: %s)\n' "$(ls -l /usr/include | wc -l)"

title "fifo_server + fifo_client: unrelated processes over a FIFO (2. FIFOs)"
"$ex/fifo_server" -n 3 >"$run/fifo.out" 2>&1 &
pids="$pids $!"
fpid=$!
wait_for test -p "$IPCKIT_RUNTIME_DIR/fifo_demo"
for who in alice bob carol; do
	"$ex/fifo_client" -t 5000 "Hello via FIFO from $who!"
done
wait "$fpid"
cat "$run/fifo.out"

title "signal_demo: a SIGINT handler that only sets a flag (3. Signals)"
"$ex/signal_demo" >"$run/sig.out" 2>&1 &
spid=$!
pids="$pids $spid"
wait_for grep -q "Waiting for signal" "$run/sig.out"
kill -INT "$spid"
wait "$spid"
cat "$run/sig.out"

title "sigmask_demo: SIGINT blocked, pending, then delivered"
"$ex/sigmask_demo"

title "msgq_demo: a typed message through a System V queue (4. Message queues)"
"$ex/msgq_demo"

title "sem_demo: parent and child take turns in a critical section (5. Semaphores)"
"$ex/sem_demo" --pause 50

title "shm_demo: producer and consumer through shared memory + semaphores"
"$ex/shm_demo" -n 100000 -s 16

title "socket_server + socket_client: Hello / Hi over a Unix socket (6. Sockets)"
"$ex/socket_server" -n 2 >"$run/sock.out" 2>&1 &
kpid=$!
pids="$pids $kpid"
wait_for test -S "$IPCKIT_RUNTIME_DIR/socket_server.sock"
"$ex/socket_client"
"$ex/socket_client"
wait "$kpid"
cat "$run/sock.out"
printf '\nAll of the seed'\''s examples ran. Their tests: make test.\n'
