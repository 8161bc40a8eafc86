#!/bin/sh
# Run ctest for each build dir given, show its output, and end with one
# plain line adding up every suite: "tests: N passed, M failed".
# Exit non-zero if any suite failed. Usage: ctest-summary.sh ARG...
#   DIR[:REGEX]           the suite of build DIR (REGEX: only the tests it
#                         matches, plus the suite bookends)
#   valgrind:DIR[:REGEX]  the same with every ipckit and example run under
#                         $VALGRIND (through IKT_WRAP, tests/lib.sh), one
#                         log per process in DIR/valgrind/; a test counts as
#                         failed if any of its processes logged an error;
#                         $VALGRIND_EXCLUDE (a regex) names tests left out
set -u
pass=0
failed=0
status=0
for arg in "$@"; do
	vg=
	case $arg in valgrind:*)
		vg=1
		arg=${arg#valgrind:}
		;;
	esac
	dir=${arg%%:*}
	set --
	[ "$dir" != "$arg" ] && set -- -R "${arg#*:}|suite_begin|suite_end"
	log=$(mktemp)
	if [ -n "$vg" ]; then
		vgdir=$(cd "$dir" && pwd)/valgrind
		rm -rf "$vgdir" && mkdir -p "$vgdir"
		# some commands run as nobody (setpriv, test_notify's EPERM
		# case): like /tmp, anyone may add a log, only to their own
		chmod 1777 "$vgdir"
		start=$(date +%s)
		IKT_WRAP="${VALGRIND:?VALGRIND: the valgrind command} --log-file=$vgdir/%p.log" \
			IKT_T=${IKT_T:-600} \
			ctest --test-dir "$dir" --output-on-failure -j "${JOBS:-2}" "$@" \
			${VALGRIND_EXCLUDE:+-E "$VALGRIND_EXCLUDE"} 2>&1 | tee "$log"
	else
		ctest --test-dir "$dir" --output-on-failure -j "${JOBS:-2}" "$@" 2>&1 | tee "$log"
	fi
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "ctest-summary: no summary from $dir" >&2
		status=1
		continue
	fi
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
	t=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
	if [ -n "$vg" ]; then
		# memcheck's verdict, whatever the test's own: errors, or
		# definitely/indirectly lost blocks (still reachable ones are
		# stdio buffers and the like, not counted)
		bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]|^==[0-9]+== [A-Z]' \
			"$vgdir"/*.log 2>/dev/null)
		n=$(ls "$vgdir" | wc -l)
		if [ -n "$bad" ]; then
			echo "valgrind: errors in:"
			echo "$bad"
			nb=$(echo "$bad" | wc -l)
			# each such process fails the run; counted once each,
			# on top of the tests (they may have passed regardless)
			f=$((f + nb))
			t=$((t + nb))
		fi
		[ "$n" -gt 0 ] || {
			echo "valgrind: no process was checked" >&2
			f=$((f + 1))
			t=$((t + 1))
		}
		echo "valgrind: $n processes checked, $(echo "$bad" | grep -c .) with errors, $(($(date +%s) - start)) s"
	fi
	pass=$((pass + t - f))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || status=1
done
echo "tests: $pass passed, $failed failed"
exit $status
