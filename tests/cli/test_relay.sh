# ipckit relay between real processes: a FIFO into a Unix socket (one way:
# a FIFO listener only reads), and a System V queue exposed over TCP with
# messages passing both ways (requests as type 1, replies as type 2, a
# Python client speaking the 4-byte framing); the relay's end when a side
# closes, the objects it made removed; usage errors.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
trap 'set +e; ikt_term_all' EXIT INT TERM
ik=$IKT_IPCKIT
d=$ikt_tmp
key=$(printf '0x5d%06x' $(($$ & 0xffffff)))

# ---- fifo -> unix: one way, ends when the receiver hangs up -----------------
start_bg r "$ik" recv -v --listen "unix:$d/s" -n 3
wait_for grep -q 'listening on' "$d/r.err"
start_bg l "$ik" relay -v "listen:fifo:$d/f" "unix:$d/s"
wait_for grep -q ' -> ' "$d/l.err"
expect_status 0 "$ik" send "fifo:$d/f" one two three
finish r 0
expect_eq "fifo -> unix" "$(cat "$d/r.out")" "one
two
three"
finish l 0
grep -q "3 messages fifo:$d/f -> unix:$d/s, 0 " "$d/l.err" || fail "relay counts: $(cat "$d/l.err")"
[ ! -e "$d/f" ] || fail "relay left its FIFO"

# ---- svmq <-> tcp: both ways through one connection ------------------------
start_bg l "$ik" relay -v --listen tcp:127.0.0.1:0 "listen:svmq:$key?type=2" --type2 1
wait_for grep -q "listening on svmq:" "$d/l.err"
port=$(sed -n 's/^ipckit relay: listening on tcp:127\.0\.0\.1:\([0-9]*\)$/\1/p' "$d/l.err")
[ -n "$port" ] || fail "no port in: $(cat "$d/l.err")"
# the client: two framed requests out, then two framed replies in
start_bg c python3 -c '
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for m in (b"req one", b"req two"):
    s.sendall(struct.pack(">I", len(m)) + m)
def take(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: sys.exit("early end")
        b += c
    return b
for _ in range(2):
    n = struct.unpack(">I", take(4))[0]
    print(take(n).decode(), flush=True)
s.close()' "$port"
# the queue's server side: requests are type 1, replies go back as type 2
expect_status 0 "$ik" recv "svmq:$key?type=1" -n 2
expect_eq "tcp -> svmq" "$(cat "$d/out")" "req one
req two"
expect_status 0 "$ik" send --type 2 "svmq:$key" "reply one" "reply two"
finish c 0
expect_eq "svmq -> tcp" "$(cat "$d/c.out")" "reply one
reply two"
finish l 0
grep -q "2 messages tcp:127.0.0.1:0 -> svmq:$key?type=2, 2 " "$d/l.err" ||
	fail "relay counts: $(cat "$d/l.err")"
awk -v k="$key" 'NR > 1 && sprintf("0x%08x", $1) == k { exit 1 }' /proc/sysvipc/msg ||
	fail "relay left svmq $key"

# ---- SIGTERM: the relay removes what it made --------------------------------
start_bg l "$ik" relay -v "listen:unix:$d/t" "listen:pmq:/ikt-$$-rl"
wait_for grep -q "listening on pmq:" "$d/l.err"
[ -S "$d/t" ] || fail "no socket while listening"
kill -TERM "$pid_l"
finish l 143
[ ! -e "$d/t" ] || fail "relay left its socket file"
[ ! -e "/dev/mqueue/ikt-$$-rl" ] || fail "relay left its queue"

# ---- usage errors -----------------------------------------------------------
expect_status 2 "$ik" relay "unix:$d/x"
expect_status 2 "$ik" relay "unix:$d/x" 'tcp:nohost'
grep -q "tcp:nohost" "$ikt_tmp/err" || fail "bad address: $(cat "$ikt_tmp/err")"
expect_status 2 "$ik" relay "listen:fifo:$d/a" "listen:fifo:$d/b"
grep -q "nothing can flow" "$ikt_tmp/err" || fail "no direction: $(cat "$ikt_tmp/err")"
[ ! -e "$d/a" ] && [ ! -e "$d/b" ] || fail "FIFOs left after a refusal"
expect_status 2 "$ik" relay "listen:pmq:/ikt-$$-e" "listen:svmq:$key"
grep -q "would read back the type-1 messages" "$ikt_tmp/err" || fail "echo: $(cat "$ikt_tmp/err")"
expect_status 2 "$ik" relay --type1 3 "listen:pmq:/ikt-$$-e" "listen:svmq:$key?type=2"
expect_status 2 "$ik" relay -u -U "unix:$d/x" "unix:$d/y"
echo "relay ok"
