#!/bin/sh
# Run ctest for each build dir given, show its output, and end with one
# plain line adding up every suite: "tests: N passed, M failed".
# Exit non-zero if any suite failed. Usage: ctest-summary.sh DIR[:REGEX]...
# (REGEX: run only the tests it matches, plus the suite bookends)
set -u
pass=0
failed=0
status=0
for arg in "$@"; do
	dir=${arg%%:*}
	set --
	[ "$dir" != "$arg" ] && set -- -R "${arg#*:}|suite_begin|suite_end"
	log=$(mktemp)
	ctest --test-dir "$dir" --output-on-failure -j "${JOBS:-2}" "$@" 2>&1 | tee "$log"
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "ctest-summary: no summary from $dir" >&2
		status=1
		continue
	fi
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
	t=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
	pass=$((pass + t - f))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || status=1
done
echo "tests: $pass passed, $failed failed"
exit $status
