# ipckit ls agrees with util-linux: ipcs -q/-m/-s (and -p) and lsipc --json,
# field by field (ids, keys, owners, perms, sizes, counts, pids), for System
# V objects this test made; and the POSIX queue listing on a temporarily
# mounted mqueue fs. Runs in a private IPC and mount namespace: everything
# it sees is its own, and all of it dies with the namespace.
if [ -z "${IKT_IN_NS:-}" ]; then
	if ! unshare --ipc --mount --fork true 2>/dev/null; then
		echo "skip: needs unshare (root)"
		exit 0
	fi
	IKT_IN_NS=1 exec unshare --ipc --mount --fork sh "$0"
fi
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
# ikt_cleanup's kill fails on pids already reaped: not under set -e
trap 'set +e; ikt_cleanup' EXIT INT TERM
py=/usr/bin/python3
ik=$IKT_IPCKIT

qid=$(ipcmk -Q -p 0640 | awk '{ print $NF }')
mid=$(ipcmk -M 8192 -p 0600 | awk '{ print $NF }')
sid=$(ipcmk -S 3 -p 0604 | awk '{ print $NF }')
# two messages from a process that then exits; the segment held attached
$py -c "import ctypes,sys
libc = ctypes.CDLL(None)
for t, m in ((1, b'hello'), (2, b'world, again')):
    buf = ctypes.create_string_buffer(8 + len(m))
    ctypes.c_long.from_buffer(buf).value = t
    buf[8:8 + len(m)] = m
    assert libc.msgsnd(int(sys.argv[1]), buf, len(m), 0) == 0" "$qid"
$py -c "import ctypes,sys,time
libc = ctypes.CDLL(None); libc.shmat.restype = ctypes.c_void_p
assert libc.shmat(int(sys.argv[1]), None, 0) != ctypes.c_void_p(-1).value
print('ready', flush=True); time.sleep(600)" "$mid" >"$ikt_tmp/att" 2>/dev/null &
ikt_pids="$ikt_pids $!"
wait_for grep -q ready "$ikt_tmp/att"

"$ik" ls --json --kind msg,shm,sem >"$ikt_tmp/ik.json"
for o in q m s; do
	ipcs -$o >"$ikt_tmp/ipcs-$o"
	lsipc -$o --json --bytes --notruncate >"$ikt_tmp/lsipc-$o.json"
done
ipcs -q -p >"$ikt_tmp/ipcs-qp"
ipcs -m -p >"$ikt_tmp/ipcs-mp"
$py - "$ikt_tmp" "$qid" "$mid" "$sid" <<'PY'
import json, sys
d, qid, mid, sid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ik = json.load(open(d + "/ik.json"))

def one(kind, i):
    rows = [r for r in ik if r["kind"] == kind and r["id"] == i]
    assert len(rows) == 1, (kind, i, ik)
    return rows[0]

def table(name, key):
    rows = {}
    for line in open(d + "/" + name):
        f = line.split()
        if len(f) > key and f[key].isdigit():
            rows[int(f[key])] = f
    return rows

def rwx(s):  # lsipc "rw-r-----" -> 0o640
    return sum(1 << (8 - i) for i, c in enumerate(s) if c != "-")

def check(what, got, want):
    if str(got) != str(want):
        sys.exit("FAIL: %s: ipckit %r, other %r" % (what, got, want))

n = 0
for kind, i, opt, cols in (("msg", qid, "q", ("size", "messages")),
                           ("shm", mid, "m", ("size", "nattch")),
                           ("sem", sid, "s", ("nsems",))):
    r = one(kind, i)
    # ipcs -q: key msqid owner perms used-bytes messages; -m: key shmid
    # owner perms bytes nattch; -s: key semid owner perms nsems
    f = table("ipcs-" + opt, 1)[i]
    check(kind + " key", r["key"], f[0])
    check(kind + " owner", r["owner"], f[2])
    check(kind + " perms", int(r["perms"], 8), int(f[3], 8))
    for k, c in enumerate(cols):
        check(kind + " " + c, r[c], f[4 + k])
    l = [x for x in list(json.load(open(d + "/lsipc-%s.json" % opt)).values())[0]
         if int(x["id"]) == i]
    assert len(l) == 1, l
    l = l[0]
    check(kind + " lsipc key", r["key"], l["key"])
    check(kind + " lsipc owner", r["owner"], l["owner"])
    check(kind + " lsipc perms", int(r["perms"], 8), rwx(l["perms"]))
    lmap = {"size": "usedbytes" if kind == "msg" else "size",
            "messages": "msgs", "nattch": "nattch", "nsems": "nsems"}
    for c in cols:
        check(kind + " lsipc " + c, r[c], l[lmap[c]])
    if kind == "msg":
        check("msg lsipc lspid", r["lspid"], l["lspid"])
        check("msg lsipc lrpid", r["lrpid"], l["lrpid"])
        p = table("ipcs-qp", 0)[i]  # msqid owner lspid lrpid
        check("msg ipcs lspid", r["lspid"], p[2])
        check("msg ipcs lrpid", r["lrpid"], p[3])
        check("msg contents counted", (r["messages"], r["size"]), (2, 17))
    if kind == "shm":
        check("shm lsipc cpid", r["cpid"], l["cpid"])
        check("shm lsipc lpid", r["lpid"], l["lpid"])
        p = table("ipcs-mp", 0)[i]  # shmid owner cpid lpid
        check("shm ipcs cpid", r["cpid"], p[2])
        check("shm ipcs lpid", r["lpid"], p[3])
        check("shm attached", (r["nattch"], r["state"]), (1, "in-use"))
    n += 1
print("compared", n, "objects")
PY

# POSIX queues: listed from a temporarily mounted mqueue fs
mnt="$ikt_tmp/mq"
mkdir "$mnt"
mount -t mqueue none "$mnt"
(umask 077 && : >"$mnt/ikt-q")
sleep 600 <"$mnt/ikt-q" >/dev/null 2>&1 &
holder=$!
ikt_pids="$ikt_pids $holder"
wait_for sh -c "'$ik' ls --json --kind pmq | grep -q '\"users\": \[$holder\]'"
"$ik" ls --json --kind pmq | $py -c "import json,os,sys
r = [x for x in json.load(sys.stdin) if x['name'] == '/ikt-q']
assert len(r) == 1, r
st = os.stat(sys.argv[1])
assert r[0]['uid'] == st.st_uid and int(r[0]['perms'], 8) == st.st_mode & 0o7777, r
assert r[0]['messages'] == 0 and r[0]['state'] == 'in-use', r" "$mnt/ikt-q" ||
	fail "pmq listing"
expect_status 1 "$ik" rm pmq /ikt-q
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
expect_status 0 "$ik" rm pmq /ikt-q
expect_eq "pmq removed" "$(cat "$ikt_tmp/out")" "removed pmq /ikt-q"
[ ! -e "$mnt/ikt-q" ] || fail "queue still there"
umount "$mnt"
echo "ipcs interop ok"
