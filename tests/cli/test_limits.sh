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

# use: a System V queue and a 3-semaphore set made by ipcmk are counted.
# In a private IPC namespace, so that tests running alongside (ctest -j)
# cannot change the counts between the two readings.
cat >"$ikt_tmp/use.sh" <<'EOS'
set -e
used() {
	"$IKT_IPCKIT" limits --json | /usr/bin/python3 -c "import json,sys
print([r['used'] for r in json.load(sys.stdin) if r['name'] == sys.argv[1]][0])" "$1"
}
q0=$(used kernel.msgmni)
s0=$(used kernel.sem.semmns)
ipcmk -Q -p 0600 >/dev/null
ipcmk -S 3 -p 0600 >/dev/null
q1=$(used kernel.msgmni)
s1=$(used kernel.sem.semmns)
echo "$q0 $q1 $s0 $s1"
EOS
counts=$(unshare --ipc sh "$ikt_tmp/use.sh") || fail "counting in a private IPC namespace"
set -- $counts
expect_eq "queues in use after ipcmk -Q" "$2" "$(($1 + 1))"
expect_eq "semaphores in use after ipcmk -S 3" "$4" "$(($3 + 3))"
expect_eq "a fresh namespace starts empty" "$1 $3" "0 0"

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
