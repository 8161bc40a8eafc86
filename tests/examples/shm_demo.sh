# shm_demo: producer and consumer through System V shared memory guarded by
# System V semaphores; both checksums must agree, record counts exact, and
# neither the segment nor the semaphore set may be left behind.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
# is System V object id of kind (shm, sem) still there?
exists() { awk -v id="$2" 'NR > 1 && $2 == id { f = 1 } END { exit !f }' "/proc/sysvipc/$1"; }

for args in "" "-n 5000 -s 1" "-n 20000 -s 64"; do
	# shellcheck disable=SC2086
	expect_status 0 "$IKT_EXAMPLES/shm_demo" -v $args
	ids=$(sed -n 's/^shm_demo: segment \([0-9]*\), semaphore set \([0-9]*\)$/\1 \2/p' "$ikt_tmp/err")
	[ -n "$ids" ] || fail "no ids on stderr: $(cat "$ikt_tmp/err")"
	set -- $ids
	exists shm "$1" && fail "segment $1 left behind"
	exists sem "$2" && fail "semaphore set $2 left behind"
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
echo "shm_demo ok"
