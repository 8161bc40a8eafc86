# msgq_demo: the seed's exchange (parent sends type 1, child receives it),
# exact output, and the queue it made is gone from /proc/sysvipc/msg.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e

expect_status 0 "$IKT_EXAMPLES/msgq_demo"
[ -s "$ikt_tmp/err" ] && fail "stderr not empty: $(cat "$ikt_tmp/err")"
id=$(sed -n 's/^Queue \([0-9][0-9]*\) removed$/\1/p' "$ikt_tmp/out")
[ -n "$id" ] || fail "no 'Queue N removed' line: $(cat "$ikt_tmp/out")"
expect_eq "output" "$(cat "$ikt_tmp/out")" "Parent sending: Hello via message queue!
Child received (type 1): Hello via message queue!
Queue $id removed"
# column 2 of /proc/sysvipc/msg is the msqid
if awk -v id="$id" 'NR > 1 && $2 == id { found = 1 } END { exit !found }' /proc/sysvipc/msg; then
	fail "queue $id is still in /proc/sysvipc/msg"
fi
echo "msgq_demo ok"
