# ipckit cache: every action from the shell, across separate processes (each
# command is one), exit codes 0/1/2, JSON stats, dump escaping, TTL expiry,
# concurrent INCRs from several shells, and nothing left in /dev/shm.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
n="ikt-$$-clicache"
cleanup() {
	"$IKT_IPCKIT" cache "$n" destroy 2>/dev/null || true
	ikt_cleanup
}
trap cleanup EXIT INT TERM
ipc() { "$IKT_IPCKIT" cache "$n" "$@"; }

expect_status 0 "$IKT_IPCKIT" cache "$n" create --size 2M
[ -e "/dev/shm/$n" ] || fail "create made no /dev/shm/$n"
mode=$(stat -c %a "/dev/shm/$n")
expect_eq "segment mode" "$mode" 600
expect_status 1 "$IKT_IPCKIT" cache "$n" create
grep -q "File exists" "$ikt_tmp/err" || fail "create twice: $(cat "$ikt_tmp/err")"

expect_status 0 "$IKT_IPCKIT" cache "$n" set greeting "hello world"
expect_status 0 "$IKT_IPCKIT" cache "$n" get greeting
expect_eq "get" "$(cat "$ikt_tmp/out")" "hello world"
expect_status 1 "$IKT_IPCKIT" cache "$n" get missing
expect_eq "missing key" "$(cat "$ikt_tmp/err")" "ipckit cache: missing: not found"
[ -s "$ikt_tmp/out" ] && fail "get of a missing key printed to stdout"

# NX / XX
expect_status 1 "$IKT_IPCKIT" cache "$n" set greeting x --nx
grep -q "exists" "$ikt_tmp/err" || fail "--nx: $(cat "$ikt_tmp/err")"
expect_status 1 "$IKT_IPCKIT" cache "$n" set newkey x --xx
expect_status 0 "$IKT_IPCKIT" cache "$n" set greeting bye --xx
expect_eq "xx" "$(ipc get greeting)" "bye"

# incr, negative amounts after --, a non-integer refused
expect_eq "incr" "$(ipc incr hits)" 1
expect_eq "incr 41" "$(ipc incr hits 41)" 42
expect_eq "incr -50" "$(ipc incr hits -- -50)" -8
expect_status 1 "$IKT_IPCKIT" cache "$n" incr greeting
grep -q "not an integer" "$ikt_tmp/err" || fail "incr text: $(cat "$ikt_tmp/err")"

# four shells incrementing at once: the total is exact (under a wrapper
# such as valgrind, where each command takes a second or more, 4 x 5)
rounds=50
[ -n "${IKT_WRAP:-}" ] && rounds=5
for w in 1 2 3 4; do
	(for i in $(seq $rounds); do ipc incr shared >/dev/null || exit 1; done) &
	ikt_pids="$ikt_pids $!"
done
for p in $ikt_pids; do wait "$p" || fail "an incr loop failed"; done
ikt_pids=""
expect_eq "concurrent incr total" "$(ipc get shared)" $((4 * rounds))

# del prints a count
expect_eq "del" "$(ipc del greeting)" 1
expect_eq "del again" "$(ipc del greeting)" 0

# TTL: present at once, gone later (polled, bounded)
expect_status 0 "$IKT_IPCKIT" cache "$n" set brief v --ttl 300ms
gone() { ! ipc get brief >/dev/null 2>&1; }
wait_for gone

# dump escapes tabs and newlines; TTL column
ipc set 'tab	key' 'line
two' >/dev/null
ipc set timed v --ttl 1h >/dev/null
ipc dump | sort >"$ikt_tmp/dump"
grep -qx 'tab\\tkey	line\\ntwo	-1' "$ikt_tmp/dump" || fail "dump: $(cat "$ikt_tmp/dump")"
grep -Eq '^timed	v	[0-9]{7}$' "$ikt_tmp/dump" || fail "dump ttl: $(cat "$ikt_tmp/dump")"
expect_eq "dump lines" "$(wc -l <"$ikt_tmp/dump")" 4

# stats, text and JSON
expect_status 0 "$IKT_IPCKIT" cache "$n" stats
grep -Eq '^keys +4$' "$ikt_tmp/out" || fail "stats: $(cat "$ikt_tmp/out")"
grep -Eq '^mem_limit +2097152$' "$ikt_tmp/out" || fail "stats limit"
expect_status 0 "$IKT_IPCKIT" cache "$n" stats --json
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["keys"]==4 and d["hits"]>0 and d["mem_used"]<=d["mem_limit"], d' <"$ikt_tmp/out" ||
		fail "stats --json: $(cat "$ikt_tmp/out")"
else
	grep -q '"keys": 4' "$ikt_tmp/out" || fail "stats --json"
fi
expect_status 0 "$IKT_IPCKIT" cache "$n" check
expect_eq "check" "$(cat "$ikt_tmp/out")" consistent

# usage errors: exit 2
expect_status 2 "$IKT_IPCKIT" cache
expect_status 2 "$IKT_IPCKIT" cache "$n"
expect_status 2 "$IKT_IPCKIT" cache "$n" frobnicate
expect_status 2 "$IKT_IPCKIT" cache "$n" get
expect_status 2 "$IKT_IPCKIT" cache "$n" set onlykey
expect_status 2 "$IKT_IPCKIT" cache "$n" set k v --ttl soon
expect_status 2 "$IKT_IPCKIT" cache "$n" set k v --nx --xx
expect_status 2 "$IKT_IPCKIT" cache "$n" incr k notanumber
expect_status 2 "$IKT_IPCKIT" cache "$n" stats --bogus
expect_status 2 "$IKT_IPCKIT" cache other-$$ create --size 1K
expect_status 0 "$IKT_IPCKIT" help cache
grep -q '^usage: ipckit cache NAME create' "$ikt_tmp/out" || fail "help cache"

# runtime errors: exit 1, one line naming it
expect_status 1 "$IKT_IPCKIT" cache "ikt-$$-none" get k
expect_eq "no cache" "$(cat "$ikt_tmp/err")" "ipckit cache: /ikt-$$-none: No such file or directory"

# another format: a plain shm object of the right size is refused
head -c 65536 /dev/zero | tr '\0' 'x' >"/dev/shm/ikt-$$-notcache"
expect_status 1 "$IKT_IPCKIT" cache "ikt-$$-notcache" get k
rm -f "/dev/shm/ikt-$$-notcache"
grep -q "another format" "$ikt_tmp/err" || fail "format: $(cat "$ikt_tmp/err")"

expect_status 0 "$IKT_IPCKIT" cache "$n" destroy
[ -e "/dev/shm/$n" ] && fail "destroy left /dev/shm/$n"
expect_status 1 "$IKT_IPCKIT" cache "$n" destroy
echo "cache cli ok"
