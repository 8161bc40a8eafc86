#!/bin/sh
# The soak (`make soak`): for SOAK_SECONDS (default 600) keep three loads
# running at once, and every SOAK_INTERVAL seconds (default 5) record the
# RSS (VmRSS) and descriptor count of each long-lived process into a CSV:
#   serve    ipckit serve (one worker): ik_load's 200 connections
#            pipelining 4 SET/GET/INCR each, every one reconnecting after
#            60 requests (all replies checked)
#   ring-*   tests/ik_ring_stream: producer and consumer streaming checked
#            messages of 8..4000 bytes through a 64 KiB ik_ring
#   chat-*   a room's server and one client staying in it, while other
#            clients join, say a line, ask /who and leave, four at a time
# Verdict: FLAT if, for every process, private memory (RssAnon) and
# descriptors at the end are within the tolerance of their values right
# after the warm-up (the first fifth of the run), and every load finished
# without an error. VmRSS is recorded too, but it also counts the pages of
# the shared cache segment a process has touched, which grow up to the
# segment's size (64M here) as the cache fills: bounded, not a leak.
# Usage: scripts/soak.sh [BUILD_DIR]  (env: SOAK_SECONDS, SOAK_INTERVAL,
# SOAK_CSV (default BUILD_DIR/soak.csv), SOAK_RSS_TOL_KB (default 2048),
# SOAK_FD_TOL (default 2)). Leaves nothing behind.
set -eu
build=${1:-build}
secs=${SOAK_SECONDS:-600}
step=${SOAK_INTERVAL:-5}
csv=${SOAK_CSV:-$build/soak.csv}
rss_tol=${SOAK_RSS_TOL_KB:-2048}
fd_tol=${SOAK_FD_TOL:-2}
ik=$build/ipckit
for f in "$ik" "$build/tests/ik_load" "$build/tests/ik_ring_stream"; do
	[ -x "$f" ] || { echo "soak: $f missing (build first)" >&2; exit 2; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/ik-soak-XXXXXX")
export IPCKIT_RUNTIME_DIR="$dir/run"
mkdir -m 700 "$IPCKIT_RUNTIME_DIR"
cache="soak-$$"
room="soak-$$"
sock="$dir/s.sock"
pids=""
cleanup() {
	set +e
	exec 3>&- 2>/dev/null
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	"$ik" cache "$cache" destroy 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
waitfor() { # waitfor SECONDS CMD...
	t=$(($1 * 20)); shift
	until "$@" 2>/dev/null; do
		t=$((t - 1)); [ $t -gt 0 ] || { echo "soak: timed out: $*" >&2; exit 1; }
		sleep 0.05
	done
}

# server and its load
"$ik" cache "$cache" create --size 64M
"$ik" serve --cache "$cache" --listen "unix:$sock" 2>"$dir/serve.log" &
serve=$!
pids="$pids $serve"
waitfor 10 grep -q "serving cache" "$dir/serve.log"
"$build/tests/ik_load" -s "$sock" -c 200 -P 4 -C 60 -t "$((secs + 120))" >"$dir/load.out" 2>&1 &
load=$!
pids="$pids $load"

# ring
"$build/tests/ik_ring_stream" -t "$((secs + 120))" >"$dir/ring.out" 2>&1 &
ring=$!
pids="$pids $ring"
waitfor 10 grep -q "consumer=" "$dir/ring.out"
ring_c=$(sed -n 's/.*consumer=\([0-9]*\).*/\1/p' "$dir/ring.out")

# chat: a client that stays (its input a FIFO held open), the room's server
mkfifo "$dir/host.in"
"$ik" chat "$room" --name host <"$dir/host.in" >"$dir/host.out" 2>&1 &
host=$!
pids="$pids $host"
exec 3>"$dir/host.in"
waitfor 20 grep -q "you joined room $room" "$dir/host.out"
chatsrv=$(pgrep -f -- "chat --serve.* $room\$" | head -1)
[ -n "$chatsrv" ] || { echo "soak: no chat server found" >&2; exit 1; }
end=$(($(date +%s) + secs))
(
	i=0 bad=0
	while [ "$(date +%s)" -lt "$end" ]; do
		for k in 1 2 3 4; do
			printf 'line %d from u%d\n/who\n' "$i" "$k" |
				timeout 60 "$ik" chat "$room" --name "u$k" >"$dir/c$k.out" 2>&1 &
		done
		for k in 1 2 3 4; do
			wait %$k 2>/dev/null || true
		done
		# each must have seen its own line come back
		for k in 1 2 3 4; do
			grep -q "<u$k> line $i from u$k" "$dir/c$k.out" || bad=$((bad + 1))
		done
		i=$((i + 1))
	done
	echo "sessions=$((i * 4)) failed=$bad" >"$dir/chat.out"
) &
chatload=$!
pids="$pids $chatload"

# sampling
echo "t,proc,pid,rss_kb,rss_anon_kb,rss_shmem_kb,fds" >"$csv"
t0=$(date +%s)
sample() {
	t=$(($(date +%s) - t0))
	for pp in "serve:$serve" "ring-producer:$ring" "ring-consumer:$ring_c" \
		"chat-server:$chatsrv" "chat-host:$host"; do
		p=${pp#*:}
		m=$(awk '/^(VmRSS|RssAnon|RssShmem)/ { printf "%s,", $2 }' \
			"/proc/$p/status" 2>/dev/null) || m=""
		fds=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
		echo "$t,${pp%%:*},$p,${m:-gone,gone,gone,}$fds" >>"$csv"
	done
}
while [ "$(date +%s)" -lt "$end" ]; do
	sample
	sleep "$step"
done
sample

# stop, collect, judge
wait "$chatload" || true
kill -TERM "$load" "$ring"
wait "$load" || true
wait "$ring" || true
exec 3>&-
wait "$host" || true
kill -TERM "$serve"
wait "$serve" || true
pids=""
echo "serve:  $(tr '\n' ' ' <"$dir/load.out")"
echo "ring:   $(tr '\n' ' ' <"$dir/ring.out")"
echo "chat:   $(cat "$dir/chat.out")"
ok=1
grep -q '^errors=0$' "$dir/load.out" || { echo "soak: serve load errors" >&2; ok=0; }
grep -q 'errors=0' "$dir/ring.out" || { echo "soak: ring errors" >&2; ok=0; }
grep -q 'failed=0' "$dir/chat.out" || { echo "soak: chat sessions failed" >&2; ok=0; }
grep -q 'dropped\|accept:' "$dir/serve.log" && { echo "soak: serve log: $(cat "$dir/serve.log")" >&2; ok=0; }
echo "samples every ${step}s for ${secs}s in $csv; warm-up: the first fifth"
awk -F, -v warm=$((secs / 5)) -v rt="$rss_tol" -v ft="$fd_tol" '
NR == 1 { next }
{
	if (!($2 in first)) { order[n++] = $2; first[$2] = $4; fa[$2] = $5; ffd[$2] = $7 }
	if ($4 == "gone") { gone[$2] = 1; next }
	if ($1 >= warm && !($2 in base)) { base[$2] = $4; ba[$2] = $5; bfd[$2] = $7 }
	last[$2] = $4; la[$2] = $5; ls[$2] = $6; lfd[$2] = $7
	if ($5 > maxa[$2]) maxa[$2] = $5
}
END {
	printf "%-14s %8s %8s %8s %8s %8s %8s %8s %4s %4s %4s  %s\n", "process",
		"rss_s", "rss_w", "rss_e", "anon_s", "anon_w", "anon_e", "shm_e",
		"fd_s", "fd_w", "fd_e", "verdict"
	bad = 0
	for (i = 0; i < n; i++) {
		p = order[i]
		v = "flat"
		if (gone[p]) v = "DIED"
		else if (la[p] - ba[p] > rt || lfd[p] - bfd[p] > ft) v = "GROWING"
		if (v != "flat") bad = 1
		printf "%-14s %8s %8s %8s %8s %8s %8s %8s %4s %4s %4s  %s\n", p,
			first[p], base[p], last[p], fa[p], ba[p], la[p], ls[p],
			ffd[p], bfd[p], lfd[p], v
	}
	exit bad
}' "$csv" || ok=0
if [ $ok = 1 ]; then echo "soak: FLAT"; else echo "soak: NOT FLAT (see above)"; exit 1; fi
