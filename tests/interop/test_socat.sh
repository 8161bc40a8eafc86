# socat(1) and ipckit send/recv --raw on the same unix: and tcp: sockets,
# both directions and both roles (ipckit listening, socat listening): bytes
# pass unchanged (a binary file compared with cmp), end of stream ends
# the reader cleanly.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
trap 'set +e; ikt_term_all' EXIT INT TERM
command -v socat >/dev/null || fail "socat not installed (scripts/deps.sh test installs it)"
ik=$IKT_IPCKIT
d=$ikt_tmp
head -c 300000 /dev/urandom >"$d/blob"

start_in() { # start_bg, with standard input from $d/blob
	ikt_in=$d/blob
	start_bg "$@"
	ikt_in=
}

# socat -> ipckit recv (ipckit listens), unix
start_bg r "$ik" recv --raw --listen -v "unix:$d/u1"
wait_for test -S "$d/u1"
timeout "$IKT_T" socat -u "OPEN:$d/blob" "UNIX-CONNECT:$d/u1"
finish r 0
cmp -s "$d/blob" "$d/r.out" || fail "socat -> recv (unix): bytes differ"
[ ! -e "$d/u1" ] || fail "socket file left"

# ipckit send -> socat (ipckit listens), unix
start_in s "$ik" send --raw --listen -v "unix:$d/u2"
wait_for test -S "$d/u2"
timeout "$IKT_T" socat -u "UNIX-CONNECT:$d/u2" "CREATE:$d/got2"
finish s 0
cmp -s "$d/blob" "$d/got2" || fail "send -> socat (unix): bytes differ"

# ipckit send dials socat's listener, unix
start_bg l socat -u "UNIX-LISTEN:$d/u3" "CREATE:$d/got3"
wait_for test -S "$d/u3"
timeout "$IKT_T" "$ik" send --raw "unix:$d/u3" <"$d/blob" || fail "send into socat"
finish l 0
cmp -s "$d/blob" "$d/got3" || fail "send -> socat listener (unix): bytes differ"

# ipckit recv dials socat's listener, unix (socat sends, then closes)
start_bg l socat -u "OPEN:$d/blob" "UNIX-LISTEN:$d/u4"
wait_for test -S "$d/u4"
expect_status 0 "$ik" recv --raw "unix:$d/u4"
cmp -s "$d/blob" "$ikt_tmp/out" || fail "socat listener -> recv (unix): bytes differ"
finish l 0

# tcp, both directions, ipckit listening on a free port
start_bg r "$ik" recv --raw --listen -v tcp:127.0.0.1:0
wait_for grep -q 'listening on' "$d/r.err"
timeout "$IKT_T" socat -u "OPEN:$d/blob" "TCP:127.0.0.1:$(port_of r)"
finish r 0
cmp -s "$d/blob" "$d/r.out" || fail "socat -> recv (tcp): bytes differ"
start_in s "$ik" send --raw --listen -v tcp:127.0.0.1:0
wait_for grep -q 'listening on' "$d/s.err"
timeout "$IKT_T" socat -u "TCP:127.0.0.1:$(port_of s)" "CREATE:$d/got5"
finish s 0
cmp -s "$d/blob" "$d/got5" || fail "send -> socat (tcp): bytes differ"

# lines from socat arrive as written; recv --hex shows each read's bytes
start_bg r "$ik" recv --raw --listen -v "unix:$d/u6"
wait_for test -S "$d/u6"
printf 'hello\nworld\n' | timeout "$IKT_T" socat -u - "UNIX-CONNECT:$d/u6"
finish r 0
expect_eq "socat text" "$(cat "$d/r.out")" "hello
world"
echo "socat interop ok"
