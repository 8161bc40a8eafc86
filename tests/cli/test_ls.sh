# ipckit ls: objects made by other programs (ipcmk, a shell holding a FIFO,
# a python Unix server) appear with the right fields and state; filters;
# the missing mqueue mount is said on stderr; usage and runtime errors.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
py=/usr/bin/python3
ik=$IKT_IPCKIT
qid="" mid=""
cleanup() {
	set +e # ikt_cleanup's kill fails on pids already reaped
	[ -n "$qid" ] && ipcrm -q "$qid" 2>/dev/null
	[ -n "$mid" ] && ipcrm -m "$mid" 2>/dev/null
	ikt_cleanup
}
trap cleanup EXIT INT TERM

qid=$(ipcmk -Q -p 0640 | awk '{ print $NF }')
mid=$(ipcmk -M 4096 -p 0600 | awk '{ print $NF }')
me=$(id -un)
# get FILTER KEY...: field of the one object the python filter selects
get() {
	"$ik" ls --json --path "$ikt_tmp" $LS_ARGS | $py -c "import json,sys
rows = [r for r in json.load(sys.stdin) if eval(sys.argv[1])]
assert len(rows) == 1, (sys.argv[1], rows)
print(' '.join(str(rows[0][k]) for k in sys.argv[2:]))" "$@"
}
LS_ARGS="--kind msg,shm"
expect_eq "msg fields" "$(get "r['kind'] == 'msg' and r['id'] == $qid" owner perms size messages lspid lrpid state)" \
	"$me 0640 0 0 0 0 idle"
# ipcmk made the segment and exited: not attached, creator dead = stale
expect_eq "shm fields" "$(get "r['kind'] == 'shm' and r['id'] == $mid" owner perms size nattch lpid state)" \
	"$me 0600 4096 0 0 stale"
LS_ARGS="--kind shm --stale"
expect_eq "--stale shows it" "$(get "r['id'] == $mid" id)" "$mid"
LS_ARGS="--kind msg --stale"
expect_eq "--stale hides the idle queue" \
	"$("$ik" ls --json --kind msg --stale | $py -c "import json,sys
print(len([r for r in json.load(sys.stdin) if r['id'] == $qid]))")" 0
expect_eq "--user nobody-uid" "$("$ik" ls --json --user 4000000 | tr -d '\n ')" "[]"
LS_ARGS="--kind msg --user $me"
expect_eq "--user me" "$(get "r['id'] == $qid" id)" "$qid"

# a FIFO held open by another process, found on disk too
mkfifo -m 600 "$ikt_tmp/f"
sleep 600 <>"$ikt_tmp/f" >/dev/null 2>&1 &
holder=$!
ikt_pids="$ikt_pids $holder"
LS_ARGS="--kind fifo"
wait_for sh -c "'$ik' ls --json --kind fifo --path '$ikt_tmp' | grep -q '\"users\": \[$holder\]'"
expect_eq "fifo fields" "$(get "r['name'] == '$ikt_tmp/f'" owner perms on_disk users state)" \
	"$me 0600 True [$holder] in-use"

# a listening Unix socket in a python server; SIGKILL leaves a stale file
$py -c "import socket,sys,time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True); time.sleep(600)" "$ikt_tmp/s.sock" >"$ikt_tmp/srv.out" 2>&1 &
srv=$!
ikt_pids="$ikt_pids $srv"
wait_for grep -q ready "$ikt_tmp/srv.out"
LS_ARGS="--kind unix"
expect_eq "socket fields" "$(get "r['name'] == '$ikt_tmp/s.sock'" type listening bound on_disk users state)" \
	"stream True True True [$srv] in-use"
kill -9 "$srv"
wait "$srv" 2>/dev/null || true
expect_eq "dead server's socket" "$(get "r['name'] == '$ikt_tmp/s.sock'" bound on_disk state)" \
	"False True stale"
expect_status 0 "$ik" ls --stale --kind unix --path "$ikt_tmp"
grep -q "stale.*$ikt_tmp/s.sock\$" "$ikt_tmp/out" || fail "ls --stale table: $(cat "$ikt_tmp/out")"
head -1 "$ikt_tmp/out" | grep -q '^KIND ' || fail "no header"

# no mqueue fs (a private mount namespace without one): said on stderr,
# and the rest is still listed
if unshare --mount true 2>/dev/null; then
	unshare --mount sh -c 'awk "\$3 == \"mqueue\" { print \$2 }" /proc/self/mounts |
		while read -r m; do umount "$m"; done
		exec "$0" ls --kind pmq,msg' "$ik" >"$ikt_tmp/out" 2>"$ikt_tmp/err" ||
		fail "ls without mqueue: $(cat "$ikt_tmp/err")"
	grep -q "note: no mqueue filesystem is mounted" "$ikt_tmp/err" || fail "no note: $(cat "$ikt_tmp/err")"
	grep -q "0x" "$ikt_tmp/out" || fail "System V queues not listed without mqueue"
fi

expect_status 2 "$ik" ls --bogus
expect_status 2 "$ik" ls extra
expect_status 2 "$ik" ls --kind nope
expect_eq "usage line" "$(wc -l <"$ikt_tmp/err")" 1
expect_status 2 "$ik" ls --user no-such-user-ikt
expect_status 1 "$ik" ls --path "$ikt_tmp/none"
grep -q "No such file" "$ikt_tmp/err" || fail "runtime error: $(cat "$ikt_tmp/err")"
echo "ls ok"
