#!/bin/sh
# Fan-out throughput, same input, same run: ipckit fanout against GNU
# parallel --pipe and xargs -P doing the equivalent work with N workers, and
# one process alone as the baseline. Run by hand (never in the tests: the
# machine is shared); scripts/deps.sh bench installs parallel.
#
#   bench/fanout_bench.sh [IPCKIT] [MIB] [JOBS]
#     IPCKIT  the ipckit binary (default build/ipckit)
#     MIB     input size in MiB (default 256): lines of 55 bytes
#     JOBS    workers (default 2)
#
# Equivalent work, per worker kind:
#   cat            fanout -- cat | parallel --pipe cat | xargs printf '%s\n'
#   tr a-z A-Z     fanout -- tr  | parallel --pipe tr  | xargs sh -c 'printf | tr'
# xargs cannot feed a worker's stdin, so its workers get the records as
# arguments (one process per ~128 KiB of records, its default command size);
# that is the closest xargs comes to the same job. Output goes to a counter
# (wc -c) so every tool's output is checked for size and none is discarded.
set -eu
IPCKIT=${1:-build/ipckit}
MIB=${2:-256}
J=${3:-2}
command -v parallel >/dev/null || { echo "needs GNU parallel (scripts/deps.sh bench)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fanout-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
in=$tmp/in
yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c $((MIB * 1048576)) >"$in"
# whole lines only, so every tool sees the same records
bytes=$(($(wc -c <"$in") / 55 * 55))
truncate -s "$bytes" "$in"

now() { date +%s.%N; }
# run NAME CMD...: time CMD < input > counter, print MB/s, check the size
run() {
	name=$1
	shift
	t0=$(now)
	"$@" <"$in" | wc -c >"$tmp/n"
	t1=$(now)
	got=$(cat "$tmp/n")
	awk -v n="$name" -v a="$t0" -v b="$t1" -v s="$bytes" -v g="$got" 'BEGIN {
		printf "%-34s %8.3f s %9.1f MB/s%s\n", n, b - a, s / (b - a) / 1e6,
			g == s ? "" : "   WRONG SIZE " g }'
}

echo "input: $bytes bytes ($MIB MiB, 55-byte lines), $J workers, $(nproc) CPUs"
for w in cat tr; do
	case $w in
	cat) cmd="cat"; xcmd="printf %s\\n"; one="cat" ;;
	tr) cmd="tr a-z A-Z"; one="tr a-z A-Z" ;;
	esac
	echo "== worker: $cmd"
	# shellcheck disable=SC2086
	run "one process: $one" $one
	# shellcheck disable=SC2086
	run "ipckit fanout -j $J" "$IPCKIT" fanout -j "$J" -- $cmd
	# shellcheck disable=SC2086
	run "ipckit fanout -j $J --ordered" "$IPCKIT" fanout -j "$J" --ordered -- $cmd
	# shellcheck disable=SC2086
	run "parallel --pipe -j $J" parallel --pipe -j "$J" $cmd
	# shellcheck disable=SC2086
	run "parallel --pipe -j $J --block 10M" parallel --pipe -j "$J" --block 10M $cmd
	if [ $w = cat ]; then
		run "xargs -P $J printf" xargs -d '\n' -P "$J" printf '%s\n'
	else
		run "xargs -P $J sh -c 'printf|tr'" xargs -d '\n' -P "$J" \
			sh -c 'printf "%s\n" "$@" | tr a-z A-Z' sh
	fi
done
