# ipckit rm, in private IPC, mount and network namespaces (so --stale can
# only ever see this test's objects, never another test's): stale objects
# go, live and idle ones stay, refusals say why, --dry-run removes nothing.
if [ -z "${IKT_IN_NS:-}" ]; then
	if ! unshare --ipc --mount --net --fork true 2>/dev/null; then
		echo "skip: needs unshare (root)"
		exit 0
	fi
	IKT_IN_NS=1 exec unshare --ipc --mount --net --fork sh "$0"
fi
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
# ikt_cleanup's kill fails on pids already reaped: not under set -e
trap 'set +e; ikt_cleanup' EXIT INT TERM
py=/usr/bin/python3
ik=$IKT_IPCKIT
mount -t tmpfs -o mode=1777 tmpfs /dev/shm

# a segment attached by a live process
$py -c "import ctypes,time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
i = libc.shmget(0, 4096, 0o1600)
assert i >= 0 and libc.shmat(i, None, 0) not in (None, ctypes.c_void_p(-1).value)
print(i, flush=True); time.sleep(600)" >"$ikt_tmp/live.id" 2>/dev/null &
ikt_pids="$ikt_pids $!"
wait_for grep -q . "$ikt_tmp/live.id"
live=$(cat "$ikt_tmp/live.id")
# a segment whose creator (ipcmk) is gone and nobody attached: stale
dead=$(ipcmk -M 4096 -p 0600 | awk '{ print $NF }')
# a queue nobody ever used: idle, no evidence
qkey=0x1d$$
qkey=$(printf '0x%08x' $((qkey & 0x7fffffff)))
$py -c "import ctypes,sys
assert ctypes.CDLL(None).msgget(int(sys.argv[1], 16), 0o3600) >= 0" "$qkey"
qid=$(ipcs -q | awk -v k="$qkey" '$1 == k { print $2 }')
# a live server and a killed one
srv() {
	$py -c "import socket,sys,time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True); time.sleep(600)" "$1" >"$1.out" 2>&1 &
	ikt_pids="$ikt_pids $!"
	wait_for grep -q ready "$1.out"
}
# exists KIND ID: the kernel still has it (ipcs -i exits 0 either way)
exists() {
	awk -v i="$2" 'NR > 1 && $2 == i { f = 1 } END { exit !f }' /proc/sysvipc/"$1"
}
srv "$ikt_tmp/live.sock"
srv "$ikt_tmp/dead.sock"
set -- $ikt_pids
kill -9 "$3"
wait "$3" 2>/dev/null || true

expect_status 0 "$ik" rm --stale --dry-run --path "$ikt_tmp"
expect_eq "dry run" "$(sort "$ikt_tmp/out")" "$(printf '%s\n' \
	"would remove shm $(ipcs -m | awk -v i="$dead" '$2 == i { print $1 }') (id $dead)" \
	"would remove unix $ikt_tmp/dead.sock" | sort)"
[ -S "$ikt_tmp/dead.sock" ] || fail "--dry-run removed the socket file"
exists shm "$dead" || fail "--dry-run removed the segment"

expect_status 0 "$ik" rm --stale --path "$ikt_tmp"
grep -q "^removed shm 0x[0-9a-f]* (id $dead)\$" "$ikt_tmp/out" || fail "report: $(cat "$ikt_tmp/out")"
grep -q "^removed unix $ikt_tmp/dead.sock\$" "$ikt_tmp/out" || fail "report: $(cat "$ikt_tmp/out")"
expect_eq "removed count" "$(wc -l <"$ikt_tmp/out")" 2
! exists shm "$dead" || fail "stale segment survived"
[ ! -e "$ikt_tmp/dead.sock" ] || fail "stale socket file survived"
exists shm "$live" || fail "live segment removed"
[ -S "$ikt_tmp/live.sock" ] || fail "live socket removed"
exists msg "$qid" || fail "idle queue removed by --stale"

# named: in-use refused with the reason, exit 1
expect_status 1 "$ik" rm shm "$live"
grep -q "refused shm .*(id $live): in-use: attached 1 time" "$ikt_tmp/err" || fail "$(cat "$ikt_tmp/err")"
expect_status 1 "$ik" rm unix "$ikt_tmp/live.sock"
grep -q "refused unix $ikt_tmp/live.sock: in-use" "$ikt_tmp/err" || fail "$(cat "$ikt_tmp/err")"
# named idle: removed, by key
expect_status 0 "$ik" rm --dry-run msg "$qkey"
exists msg "$qid" || fail "--dry-run removed the queue"
expect_status 0 "$ik" rm msg "$qkey"
expect_eq "report" "$(cat "$ikt_tmp/out")" "removed msg $qkey (id $qid)"
! exists msg "$qid" || fail "queue survived"
# POSIX shared memory by name (this namespace's own /dev/shm)
(umask 077 && echo data >/dev/shm/ikt-rm)
expect_status 0 "$ik" rm pshm ikt-rm
expect_eq "pshm report" "$(cat "$ikt_tmp/out")" "removed pshm /ikt-rm"
[ ! -e /dev/shm/ikt-rm ] || fail "pshm survived"
# one missing among several: the rest is done, exit 1
ipcmk -M 4096 -p 0600 >/dev/null
d2=$(ipcs -m | awk -v l="$live" '$2 ~ /^[0-9]+$/ && $2 != l { print $2 }')
expect_status 1 "$ik" rm shm 0x7eadbeef "$d2"
grep -q "no shm 0x7eadbeef" "$ikt_tmp/err" || fail "$(cat "$ikt_tmp/err")"
grep -q "removed shm .*(id $d2)" "$ikt_tmp/out" || fail "$(cat "$ikt_tmp/out")"

expect_status 2 "$ik" rm
expect_status 2 "$ik" rm bogus 1
expect_status 2 "$ik" rm msg
expect_status 2 "$ik" rm --stale 0x1
expect_status 2 "$ik" rm --kind msg 0x1
expect_status 2 "$ik" rm --stale --kind nope
expect_eq "usage line" "$(wc -l <"$ikt_tmp/err")" 1
echo "rm ok"
