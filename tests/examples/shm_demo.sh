# shm_demo: producer and consumer through System V shared memory guarded by
# System V semaphores; both checksums must agree, record counts exact, and
# neither the segment nor the semaphore set may be left behind.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
count() { awk 'NR > 1' "/proc/sysvipc/$1" | wc -l; }
shm0=$(count shm)
sem0=$(count sem)

for args in "" "-n 5000 -s 1" "-n 20000 -s 64"; do
	# shellcheck disable=SC2086
	expect_status 0 "$IKT_EXAMPLES/shm_demo" $args
	note "$(cat "$ikt_tmp/out")"
	n=$(echo "$args" | sed -n 's/.*-n \([0-9]*\).*/\1/p')
	[ -n "$n" ] || n=1000
	cons=$(grep '^Consumer:' "$ikt_tmp/out")
	prod=$(grep '^Producer:' "$ikt_tmp/out")
	expect_eq "consumer count" "$(echo "$cons" | awk '{ print $2 }')" "$n"
	expect_eq "producer count" "$(echo "$prod" | awk '{ print $2 }')" "$n"
	expect_eq "checksums" "$(echo "$cons" | awk '{ print $5 }')" \
		"$(echo "$prod" | awk '{ print $5 }')"
	expect_eq "lines" "$(wc -l <"$ikt_tmp/out")" 2
done
expect_status 2 "$IKT_EXAMPLES/shm_demo" -n 0
expect_status 2 "$IKT_EXAMPLES/shm_demo" -s x
expect_status 2 "$IKT_EXAMPLES/shm_demo" extra
[ "$(count shm)" -le "$shm0" ] || fail "a segment was left behind"
[ "$(count sem)" -le "$sem0" ] || fail "a semaphore set was left behind"
echo "shm_demo ok"
