#!/bin/sh
# Run libFuzzer targets on their corpora (fuzz/corpus/<target>, grown in
# place) and print one line of figures per target for docs/FUZZ.md.
# Usage: fuzz/run.sh FUZZ_DIR [TARGET...]   (default: every fuzz_* there)
# Environment:
#   FUZZ_RUNS     executions per target (e.g. 10000000); when set it wins
#   FUZZ_SECONDS  else the time per target (default 60)
#   FUZZ_JOBS     targets run side by side (default 1); each target is one
#                 process, so its count is libFuzzer's own, not an estimate
#   FUZZ_FLAGS    extra libFuzzer flags (default -max_len=10000 -timeout=60: a hang,
#                 with room for a SCHED_IDLE process starved a while)
#   FUZZ_LOGS     where the full logs go (default FUZZ_DIR/logs)
#   FUZZ_IDLE     1 (default): run the fuzzers SCHED_IDLE (chrt -i 0), so a
#                 long run takes only CPU time nothing else wants, builds and
#                 test suites (with their timeouts) included; 0: as started
# Exit status: non-zero if any target crashed, hung, leaked or fell short.
set -u
dir=${1:?usage: fuzz/run.sh FUZZ_DIR [TARGET...]}
shift
src=$(cd "$(dirname "$0")" && pwd)
logs=${FUZZ_LOGS:-$dir/logs}
mkdir -p "$logs"
[ $# -gt 0 ] || set -- $(cd "$dir" && ls fuzz_* 2>/dev/null)
[ $# -gt 0 ] || { echo "fuzz/run.sh: no fuzzers in $dir" >&2; exit 1; }

one() {
	t=$1
	corpus=$src/corpus/$t
	log=$logs/$t.log
	mkdir -p "$corpus"
	if [ -n "${FUZZ_RUNS:-}" ]; then
		limit="-runs=$FUZZ_RUNS"
	else
		limit="-max_total_time=${FUZZ_SECONDS:-60}"
	fi
	idle=
	[ "${FUZZ_IDLE:-1}" = 1 ] && command -v chrt >/dev/null && idle="chrt -i 0"
	start=$(date +%s)
	# crash-, leak- and timeout- files land next to the log
	(cd "$logs" && $idle "$dir/$t" $limit ${FUZZ_FLAGS:--max_len=10000 -timeout=60} \
		-print_final_stats=1 "$corpus") >"$log" 2>&1
	st=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	files=$(ls "$corpus" | wc -l)
	bad=$(grep -c -E '^==[0-9]+==ERROR|^SUMMARY|ALARM|deadly signal' "$log")
	verdict=ok
	[ "$st" -eq 0 ] && [ "$bad" -eq 0 ] || verdict="FAILED (exit $st, see $log)"
	if [ -n "${FUZZ_RUNS:-}" ] && [ "${execs:-0}" -lt "$FUZZ_RUNS" ]; then
		verdict="SHORT (${execs:-0} < $FUZZ_RUNS, see $log)"
	fi
	printf '| %s | %s | %s s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" \
		"$secs" "$files" "${cov:-?}" "${ft:-?}" "$verdict"
	[ "$verdict" = ok ]
}

echo "| target | executions | wall time | corpus files | cov | ft | result |"
echo "|---|---|---|---|---|---|---|"
status=0
if [ "${FUZZ_JOBS:-1}" -le 1 ]; then
	for t in "$@"; do one "$t" || status=1; done
else
	# side by side: each target's row is printed when it ends
	pids=""
	running=0
	for t in "$@"; do
		one "$t" &
		pids="$pids $!"
		running=$((running + 1))
		if [ $running -ge "$FUZZ_JOBS" ]; then
			# POSIX sh has no wait -n: wait for the oldest
			set -- $pids
			wait "$1" || status=1
			shift
			pids="$*"
			running=$((running - 1))
		fi
	done
	for p in $pids; do wait "$p" || status=1; done
fi
exit $status
