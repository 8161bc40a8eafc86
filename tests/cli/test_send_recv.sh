# ipckit send and recv between real processes over every scheme: the
# matrix (recv --listen, send dials; and send --listen where queues and
# rings let either side create), standard input lines, --count, --raw
# chunks, --hex and --json output byte for byte, -n, --timeout, svmq types
# and pmq priorities, usage errors and bad addresses (exit 2).
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
trap 'set +e; ikt_term_all' EXIT INT TERM
ik=$IKT_IPCKIT
d=$ikt_tmp
key=$(printf '0x5e%06x' $(($$ & 0xffffff)))
key2=$(printf '0x5f%06x' $(($$ & 0xffffff)))

listening() { grep -q 'listening on' "$d/$1.err"; }

# ---- the matrix: recv --listen creates, send dials -------------------------
for a in "fifo:$d/f" "unix:$d/u" "unixgram:$d/g" "unixpacket:$d/p" \
	"abstract:ikt-$$-sr" "tcp:127.0.0.1:0" "udp:127.0.0.1:0" \
	"pmq:/ikt-$$-sr" "svmq:$key" "shm:/ikt-$$-sr"; do
	start_bg r "$ik" recv -v --listen "$a" -n 3
	wait_for listening r
	# the bound address (tcp/udp port 0 gets a port)
	to=$(sed -n 's/^ipckit recv: listening on //p' "$d/r.err")
	expect_status 0 "$ik" send "$to" a b c
	finish r 0
	expect_eq "$a" "$(cat "$d/r.out")" "a
b
c"
done

# ---- seqpacket: empty messages sent just before the end stay messages ------
for a in "unixpacket:$d/pe" "abstract:ikt-$$-pe?type=seqpacket"; do
	start_bg r "$ik" recv -v --listen "$a"
	wait_for listening r
	expect_status 0 "$ik" send "$a" a "" ""
	finish r 0
	expect_eq "$a: empties, then the end" \
		"$(od -An -c "$d/r.out" | tr -s ' ')" " a \n \n \n"
done

# ---- send --listen creates: queues and rings wait for the messages taken ---
for a in "pmq:/ikt-$$-sl" "svmq:$key" "shm:/ikt-$$-sl"; do
	start_bg s "$ik" send -v --listen "$a" one two three
	wait_for listening s
	expect_status 0 "$ik" recv "$a" -n 3
	expect_eq "$a (send listens)" "$(cat "$d/out")" "one
two
three"
	finish s 0
	grep -q "sent 3 messages (11 bytes)" "$d/s.err" || fail "send -v: $(cat "$d/s.err")"
done

# ---- standard input lines, --count, a last line without newline ------------
start_bg r "$ik" recv -v --listen "unix:$d/u" -n 8
wait_for listening r
printf 'first line\n\nthird\tline\nlast' |
	timeout "$IKT_T" "$ik" send --count 2 "unix:$d/u" ||
	fail "send from stdin"
finish r 0
expect_eq "stdin --count 2" "$(cat "$d/r.out")" "first line
first line


third	line
third	line
last
last"

# arguments repeat as a whole
start_bg r "$ik" recv -v --listen "pmq:/ikt-$$-c" -n 6
wait_for listening r
expect_status 0 "$ik" send --count 3 "pmq:/ikt-$$-c" x y
finish r 0
expect_eq "args --count 3" "$(tr '\n' ' ' <"$d/r.out")" "x y x y x y "

# ---- --raw chunks of --size, shown in hex ----------------------------------
start_bg r "$ik" recv -v --listen "svmq:$key" --hex -n 4
wait_for listening r
printf 'abcdefghij' | timeout "$IKT_T" "$ik" send --raw --size 3 "svmq:$key" ||
	fail "send --raw --size"
finish r 0
expect_eq "raw chunks --hex" "$(cat "$d/r.out")" "616263
646566
676869
6a"

# ---- --json: text escaped, binary as base64, svmq type, pmq priority ------
start_bg r "$ik" recv -v --listen "svmq:$key?type=0" --json -n 4
wait_for listening r
expect_status 0 "$ik" send --type 7 "svmq:$key" 'say "hi"\'
printf '\001\000\377' | timeout "$IKT_T" "$ik" send --raw --type 3 "svmq:$key"
expect_status 0 "$ik" send "svmq:$key" ''
printf 'caf\303\251\ttab' | timeout "$IKT_T" "$ik" send --raw --type 2 "svmq:$key"
finish r 0
expect_eq "json" "$(cat "$d/r.out")" '{"length": 9, "type": 7, "data": "say \"hi\"\\"}
{"length": 3, "type": 3, "base64": "AQD/"}
{"length": 0, "type": 1, "data": ""}
{"length": 9, "type": 2, "data": "café\ttab"}'

# ---- svmq: a receiver selecting one type leaves the others -----------------
start_bg r "$ik" recv -v --listen "svmq:$key?type=5" -n 1
wait_for listening r
expect_status 0 "$ik" send --type 4 "svmq:$key" not-me
expect_status 0 "$ik" send --type 5 "svmq:$key" me
finish r 0
expect_eq "svmq type selector" "$(cat "$d/r.out")" "me"

# ---- pmq: higher priority first, whatever the order sent -------------------
start_bg s "$ik" send -v --listen --priority 1 "pmq:/ikt-$$-prio" low
wait_for grep -q "sent 1 messages" "$d/s.err"
expect_status 0 "$ik" send --priority 9 "pmq:/ikt-$$-prio" high
expect_status 0 "$ik" send --priority 5 "pmq:/ikt-$$-prio" mid
expect_status 0 "$ik" recv --json -n 3 "pmq:/ikt-$$-prio"
expect_eq "pmq priorities" "$(cat "$d/out")" '{"length": 4, "priority": 9, "data": "high"}
{"length": 3, "priority": 5, "data": "mid"}
{"length": 3, "priority": 1, "data": "low"}'
finish s 0

# ---- end of stream: clean without -n, an error when -n wanted more ---------
start_bg r "$ik" recv -v --listen "tcp:127.0.0.1:0"
wait_for listening r
to=$(sed -n 's/^ipckit recv: listening on //p' "$d/r.err")
expect_status 0 "$ik" send "$to" only
finish r 0
expect_eq "eof" "$(cat "$d/r.out")" "only"
start_bg r "$ik" recv -v --listen "unix:$d/u" -n 5
wait_for listening r
expect_status 0 "$ik" send "unix:$d/u" one two
finish r 1
grep -q "end of stream after 2 of 5 messages" "$d/r.err" || fail "short -n: $(cat "$d/r.err")"

# ---- --timeout: exit 1 naming it, not before the deadline, nothing left ---
t0=$(date +%s%N)
expect_status 1 "$ik" recv --listen --timeout 300ms "pmq:/ikt-$$-t"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -ge 300 ] || fail "recv --timeout returned early"
grep -q "timed out waiting for a message (0 received)" "$ikt_tmp/err" ||
	fail "timeout message: $(cat "$ikt_tmp/err")"
expect_status 1 "$ik" send --timeout 200ms "fifo:$d/nobody" x
grep -q "nobody there" "$ikt_tmp/err" || fail "dial timeout: $(cat "$ikt_tmp/err")"
# a queue of its own that nobody reads: removed after the timeout
expect_status 1 "$ik" send --listen --timeout 200ms "svmq:$key2" lost
grep -q "1 messages not taken; removed" "$ikt_tmp/err" || fail "linger: $(cat "$ikt_tmp/err")"
awk -v k="$key2" 'NR > 1 && sprintf("0x%08x", $1) == k { exit 1 }' /proc/sysvipc/msg ||
	fail "svmq $key2 left behind"

# ---- SIGTERM while waiting: the object made is removed ---------------------
start_bg r "$ik" recv -v --listen "fifo:$d/sig"
wait_for listening r
[ -p "$d/sig" ] || fail "no FIFO while listening"
kill -TERM "$pid_r" # timeout(1) passes it on to ipckit
finish r 143	     # 128 + SIGTERM: it died of the signal, once clean
[ ! -e "$d/sig" ] || fail "FIFO left behind after SIGTERM"

# ---- errors: bad addresses exit 2 with the parser's line ------------------
expect_status 2 "$ik" send 'tcp:127.0.0.1:99999' x
expect_eq "bad port" "$(cat "$ikt_tmp/err")" \
	"ipckit send: tcp:127.0.0.1:99999: port '99999' is not a number in 0-65535"
expect_status 2 "$ik" recv 'nosuch:thing'
grep -q "^ipckit recv: nosuch:thing: unknown scheme 'nosuch' (valid: fifo, unix" "$ikt_tmp/err" ||
	fail "bad scheme: $(cat "$ikt_tmp/err")"
expect_status 2 "$ik" recv "pmq:/ikt-$$-o?color=blue"
grep -q "color" "$ikt_tmp/err" || fail "bad option: $(cat "$ikt_tmp/err")"
expect_status 2 "$ik" send
expect_status 2 "$ik" recv
expect_status 2 "$ik" recv -n 0 "pmq:/x"
expect_status 2 "$ik" send --timeout soon "pmq:/x" a
expect_status 2 "$ik" send --size 4 "pmq:/x" a
expect_status 2 "$ik" send --listen --type 3 "pmq:/ikt-$$-ty" a
grep -q -- "--type is for svmq" "$ikt_tmp/err" || fail "--type on pmq: $(cat "$ikt_tmp/err")"
# the wrong end of a FIFO, said so (and the FIFO it made is gone again)
expect_status 2 "$ik" send --listen "fifo:$d/wrong" x
grep -q "this end only receives" "$ikt_tmp/err" || fail "fifo direction: $(cat "$ikt_tmp/err")"
[ ! -e "$d/wrong" ] || fail "FIFO left after refusal"
# a message above the channel's largest
expect_status 0 true
start_bg r "$ik" recv -v --listen "pmq:/ikt-$$-big?msgsize=8" -n 1
wait_for listening r
expect_status 1 "$ik" send "pmq:/ikt-$$-big" 123456789
grep -q "above the channel's largest (8 bytes)" "$ikt_tmp/err" || fail "too big: $(cat "$ikt_tmp/err")"
expect_status 0 "$ik" send "pmq:/ikt-$$-big" 12345678
finish r 0
# a framed reader meeting a raw writer: malformed frame, exit 1
start_bg r "$ik" recv -v --listen "unix:$d/u"
wait_for listening r
printf '\377\377\377\377garbage' | timeout "$IKT_T" "$ik" send --raw "unix:$d/u"
finish r 1
grep -q "malformed frame" "$d/r.err" || fail "bad frame: $(cat "$d/r.err")"
# a reader that leaves (| head -1) ends recv quietly, status 0, and the
# messages sent after that stay in the queue (none taken for nowhere)
qid=$(ipcmk -Q -p 0600 | sed 's/[^0-9]//g')
[ -n "$qid" ] || fail "ipcmk -Q failed"
trap 'set +e; ipcrm -q "$qid" 2>/dev/null; ikt_term_all' EXIT INT TERM
qkey=$(awk -v id="$qid" '$2 == id { print $1 }' /proc/sysvipc/msg)
qkey=$(printf '0x%x' $((qkey & 0xffffffff)))
( timeout "$IKT_T" "$ik" recv "svmq:$qkey" 2>"$d/gone.err"; echo $? >"$d/gone.st" ) |
	(read -r first; echo "$first" >"$d/gone.first") &
gone=$!
expect_status 0 "$ik" send "svmq:$qkey" first
wait "$gone"
[ "$(cat "$d/gone.first")" = first ] || fail "first line: $(cat "$d/gone.first")"
[ "$(cat "$d/gone.st")" = 0 ] || fail "recv after its reader left: status $(cat "$d/gone.st"): $(cat "$d/gone.err")"
expect_status 0 "$ik" send "svmq:$qkey" second third
[ "$(timeout "$IKT_T" "$ik" recv -n 2 "svmq:$qkey" | tr '\n' ,)" = "second,third," ] ||
	fail "messages after the reader left were lost"
ipcrm -q "$qid"
qid=
echo "send/recv ok"
