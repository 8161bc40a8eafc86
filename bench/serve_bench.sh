#!/bin/sh
# ipckit serve against redis-server 7 (Debian), side by side in one run:
# redis-benchmark with the same flags over a Unix socket to each, at -P 1
# and -P 16, and a table of requests/s with the ratio ipckit / redis.
# Usage: bench/serve_bench.sh [IPCKIT] [-n REQUESTS] [-c CLIENTS] [-w WORKERS]
# (IPCKIT defaults to build/ipckit). Needs redis-server and redis-benchmark
# (scripts/deps.sh bench). Leaves nothing behind: both servers are stopped
# by pid and the cache is destroyed.
set -eu
ik=build/ipckit
n=200000
c=50
w=1
[ $# -gt 0 ] && [ "${1#-}" = "$1" ] && { ik=$1; shift; }
while [ $# -gt 0 ]; do
	case "$1" in
	-n) n=$2; shift 2 ;;
	-c) c=$2; shift 2 ;;
	-w) w=$2; shift 2 ;;
	*) echo "usage: $0 [IPCKIT] [-n N] [-c CLIENTS] [-w WORKERS]" >&2; exit 2 ;;
	esac
done
for p in redis-server redis-benchmark redis-cli; do
	command -v $p >/dev/null || { echo "$0: $p missing (scripts/deps.sh bench)" >&2; exit 1; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/serve-bench-XXXXXX")
cache="servebench-$$"
rpid="" ipid=""
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	[ -n "$ipid" ] && kill "$ipid" 2>/dev/null && wait "$ipid" 2>/dev/null
	"$ik" cache "$cache" destroy 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
	--save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
rpid=$!
"$ik" cache "$cache" create --size 256M
"$ik" serve --cache "$cache" --listen "unix:$dir/ik.sock" --workers "$w" 2>"$dir/ik.log" &
ipid=$!
for s in redis ik; do
	i=0
	until redis-cli -s "$dir/$s.sock" ping 2>/dev/null | grep -q PONG; do
		i=$((i + 1))
		[ $i -gt 400 ] && { echo "$0: $s did not start" >&2; exit 1; }
		sleep 0.05
	done
done

# one -q run: "SET: 123.45 requests per second, ..." -> "SET 123.45"
rps() {
	redis-benchmark -s "$1" -t set,get,incr,mset -n "$n" -c "$c" -P "$2" -q 2>&1 |
		tr '\r' '\n' | sed -n 's/^\([A-Z]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p'
}
printf 'redis-benchmark -n %s -c %s, Unix socket; ipckit serve --workers %s; %s\n' \
	"$n" "$c" "$w" "$(redis-server --version | cut -d' ' -f1-3)"
printf '%-6s %4s %14s %14s %7s\n' test P redis-server ipckit-serve ratio
for P in 1 16; do
	# alternate the order so neither always runs on a warmer machine
	rps "$dir/redis.sock" "$P" >"$dir/r$P"
	rps "$dir/ik.sock" "$P" >"$dir/i$P"
	rps "$dir/ik.sock" "$P" >"$dir/i$P.b"
	rps "$dir/redis.sock" "$P" >"$dir/r$P.b"
	# same test order in every file; the better of two runs each (noise
	# on a shared machine only ever slows a run down)
	paste -d' ' "$dir/r$P" "$dir/r$P.b" "$dir/i$P" "$dir/i$P.b" |
		awk -v P="$P" '$1 == $3 && $1 == $5 && $1 == $7 {
		r = ($2 > $4) ? $2 : $4; i = ($6 > $8) ? $6 : $8;
		printf "%-6s %4s %14.0f %14.0f %6.2fx\n", $1, P, r, i, i / r }'
done
