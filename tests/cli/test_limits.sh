# ipckit limits: values agree with /proc, use follows objects that another
# program (util-linux ipcmk) creates, --json is valid JSON, usage errors.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
py=/usr/bin/python3

expect_status 0 "$IKT_IPCKIT" limits
for k in msgmax msgmnb msgmni shmmni; do
	want=$(cat /proc/sys/kernel/$k)
	got=$(awk -v n="kernel.$k" '$1 == n { print $2 }' "$ikt_tmp/out")
	expect_eq "kernel.$k" "$got" "$want"
done
want=$(awk '{ print $4 }' /proc/sys/kernel/sem)
got=$(awk '$1 == "kernel.sem.semmni" { print $2 }' "$ikt_tmp/out")
expect_eq semmni "$got" "$want"
want=$(cat /proc/sys/fs/pipe-max-size)
got=$(awk '$1 == "fs.pipe-max-size" { print $2 }' "$ikt_tmp/out")
expect_eq pipe-max-size "$got" "$want"

# use: a System V queue and a 3-semaphore set made by ipcmk are counted
used() {
	"$IKT_IPCKIT" limits --json | $py -c "import json,sys
print([r['used'] for r in json.load(sys.stdin) if r['name'] == sys.argv[1]][0])" "$1"
}
q0=$(used kernel.msgmni)
s0=$(used kernel.sem.semmns)
qid=$(ipcmk -Q -p 0600 | awk '{ print $NF }')
sid=$(ipcmk -S 3 -p 0600 | awk '{ print $NF }')
q1=$(used kernel.msgmni)
s1=$(used kernel.sem.semmns)
ipcrm -q "$qid"
ipcrm -s "$sid"
expect_eq "queues in use after ipcmk -Q" "$q1" "$((q0 + 1))"
expect_eq "semaphores in use after ipcmk -S 3" "$s1" "$((s0 + 3))"

# JSON: one array, one object per limit, the fields every row has
"$IKT_IPCKIT" limits --json | $py -c "import json,sys
rows = json.load(sys.stdin)
assert isinstance(rows, list) and len(rows) >= 15, rows
for r in rows:
    assert set(['name','value','used','unit','near','source','what']) <= set(r), r
" || fail "limits --json"
expect_status 2 "$IKT_IPCKIT" limits --bogus
expect_status 2 "$IKT_IPCKIT" limits extra
echo "limits ok"
