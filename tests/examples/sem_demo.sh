# sem_demo: parent and child take turns in a semaphore-guarded critical
# section; each prints 0..4 in order, and the set is gone afterwards.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
demo="$IKT_EXAMPLES/sem_demo"

check_run() {
	out="$ikt_tmp/out"
	expect_eq "lines" "$(wc -l <"$out" | tr -d ' ')" 12
	for who in Parent Child; do
		expect_eq "$who turns" \
			"$(sed -n "s/^$who: \([0-9]*\)\$/\1/p" "$out" | tr '\n' ' ')" \
			"0 1 2 3 4 "
	done
	id=$(sed -n 's/^sem_demo: set \([0-9][0-9]*\) removed$/\1/p' "$out")
	[ -n "$id" ] || fail "no 'set N removed' line: $(cat "$out")"
	expect_eq "created line" "$(head -n 1 "$out")" "sem_demo: set $id created"
	expect_eq "removed is last" "$(tail -n 1 "$out")" "sem_demo: set $id removed"
	if awk -v id="$id" 'NR > 1 && $2 == id { found = 1 } END { exit !found }' \
		/proc/sysvipc/sem; then
		fail "semaphore set $id left behind"
	fi
	[ ! -s "$ikt_tmp/err" ] || fail "stderr: $(cat "$ikt_tmp/err")"
}

expect_status 0 "$demo"
check_run
# the seed's pause inside the critical section, shortened
expect_status 0 "$demo" --pause 20
check_run

expect_status 2 "$demo" --pause
expect_status 2 "$demo" --pause abc
expect_status 2 "$demo" --pause -5
expect_status 2 "$demo" --bogus
grep -q '^usage: sem_demo' "$ikt_tmp/err" || fail "no usage on bad option"
echo "sem_demo ok"
