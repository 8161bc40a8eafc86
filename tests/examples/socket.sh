# socket_server / socket_client: the seed's flow. Several clients in turn
# over a Unix socket (file 0600, removed when SIGTERM stops the server),
# then over TCP on a port the kernel picks, the server leaving by itself
# after -n clients; and the errors a user meets: no server, a live path.
. "$IKT_SRC_DIR/tests/lib.sh"
# lib.sh's cleanup runs under our set -e: a kill or wait that "fails" (a
# killed server's status) would end it before the rm -rf
trap 'set +e; ikt_cleanup' EXIT INT TERM
set -e
srv=$IKT_EXAMPLES/socket_server
cli=$IKT_EXAMPLES/socket_client
sock=$ikt_tmp/srv.sock

# started directly (not under timeout) so that $! is the server: the EXIT
# trap kills it if a check fails; ctest's timeout bounds the whole script
"$srv" -u "$sock" >"$ikt_tmp/srv.out" 2>"$ikt_tmp/srv.err" &
spid=$!
ikt_pids="$ikt_pids $spid"
wait_for grep -q '^Server listening on ' "$ikt_tmp/srv.out"
[ -S "$sock" ] || fail "no socket file at $sock"
expect_eq "socket file mode" "$(stat -c %a "$sock")" 600

for i in 1 2 3; do
	expect_status 0 "$cli" -u "$sock"
	expect_eq "client $i" "$(cat "$ikt_tmp/out")" "Client received: Hi"
done
# a second server on the live path is refused, and harms nothing (its
# probe is a connection that says nothing: the server does not count it)
expect_status 1 "$srv" -u "$sock"
grep -q 'Address already in use' "$ikt_tmp/err" || fail "live path: $(cat "$ikt_tmp/err")"
expect_status 0 "$cli" -u "$sock" 'Hello again'
expect_eq "client 4" "$(cat "$ikt_tmp/out")" "Client received: Hi"

kill -TERM "$spid"
set +e
wait "$spid"
st=$?
set -e
ikt_pids="" # reaped: the EXIT trap must not kill -9 a recycled pid
expect_eq "server exit status" "$st" 0
[ -e "$sock" ] && fail "socket file left behind after SIGTERM"
printf '%s\n' "Server listening on $sock" "Server received: Hello" \
	"Server received: Hello" "Server received: Hello" \
	"Server received: Hello again" "Server stopped after 4 client(s)" \
	>"$ikt_tmp/want"
cmp -s "$ikt_tmp/want" "$ikt_tmp/srv.out" ||
	fail "server output: $(cat "$ikt_tmp/srv.out")"
[ -s "$ikt_tmp/srv.err" ] && fail "server stderr: $(cat "$ikt_tmp/srv.err")"

# no server any more: a clear error, exit 1
expect_status 1 "$cli" -u "$sock"
grep -q 'No such file or directory' "$ikt_tmp/err" || fail "no server: $(cat "$ikt_tmp/err")"

# TCP, port 0: the server says which port it got, and stops after -n 2
"$srv" -t 127.0.0.1:0 -n 2 >"$ikt_tmp/tcp.out" 2>&1 &
tpid=$!
ikt_pids="$ikt_pids $tpid"
wait_for grep -q '^Server listening on ' "$ikt_tmp/tcp.out"
addr=$(sed -n 's/^Server listening on \(127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' "$ikt_tmp/tcp.out")
[ -n "$addr" ] || fail "tcp address: $(cat "$ikt_tmp/tcp.out")"
expect_status 0 "$cli" -t "$addr" Bonjour
expect_eq "tcp client 1" "$(cat "$ikt_tmp/out")" "Client received: Hi"
expect_status 0 "$cli" -t "$addr"
expect_eq "tcp client 2" "$(cat "$ikt_tmp/out")" "Client received: Hi"
set +e
wait "$tpid"
st=$?
set -e
ikt_pids=""
expect_eq "tcp server exit status" "$st" 0
printf '%s\n' "Server listening on $addr" "Server received: Bonjour" \
	"Server received: Hello" "Server stopped after 2 client(s)" >"$ikt_tmp/want"
cmp -s "$ikt_tmp/want" "$ikt_tmp/tcp.out" || fail "tcp server output: $(cat "$ikt_tmp/tcp.out")"
expect_status 2 "$srv" -n zero
echo "socket ok"
