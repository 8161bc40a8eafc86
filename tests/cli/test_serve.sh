# ipckit serve from the shell: usage errors, start/stop log lines, a cache
# created by --size, inline commands over nc, a value written with
# `ipckit cache` read over the socket and the other way round, SIGTERM and
# SIGINT giving exit 0, and nothing left in /dev/shm or the socket dir.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
n="ikt-$$-cliserve"
sock="$ikt_tmp/s.sock"
cleanup() {
	"$IKT_IPCKIT" cache "$n" destroy 2>/dev/null || true
	ikt_cleanup
}
trap cleanup EXIT INT TERM

expect_status 2 "$IKT_IPCKIT" serve
expect_status 2 "$IKT_IPCKIT" serve --cache "$n"
expect_status 2 "$IKT_IPCKIT" serve --cache "$n" --listen bogus:x
grep -q "bad address 'bogus:x'" "$ikt_tmp/err" || fail "bad address: $(cat "$ikt_tmp/err")"
expect_status 2 "$IKT_IPCKIT" serve --cache "$n" --listen "unix:$sock" --workers 0
expect_status 1 "$IKT_IPCKIT" serve --cache "$n" --listen "unix:$sock"
grep -q "No such file" "$ikt_tmp/err" || fail "missing cache: $(cat "$ikt_tmp/err")"
[ -e "$sock" ] && fail "a failed start left $sock"

# start with --size (creates the cache), on a unix socket and tcp port 0
"$IKT_IPCKIT" serve --cache "$n" --size 8M --listen "unix:$sock" \
	--listen tcp:127.0.0.1:0 2>"$ikt_tmp/log" &
srv=$!
ikt_pids="$ikt_pids $srv"
up() { grep -q "serving cache" "$ikt_tmp/log"; }
wait_for up
port=$(sed -n 's/.*tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ikt_tmp/log")
[ -n "$port" ] || fail "no tcp port in the start line: $(cat "$ikt_tmp/log")"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock")"
[ "$(stat -c %a "/dev/shm/$n")" = 600 ] || fail "cache mode"

# inline commands, as telnet or nc send them
out=$(printf 'PING\r\nSET greeting "hello world"\r\nGET greeting\r\nQUIT\r\n' |
	timeout "$IKT_T" nc -U "$sock" | tr -d '\r')
expect_eq "inline" "$out" "+PONG
+OK
\$11
hello world
+OK"
# the same cache from the library side, and back
expect_eq "cache get" "$("$IKT_IPCKIT" cache "$n" get greeting)" "hello world"
"$IKT_IPCKIT" cache "$n" set fromcli 42
out=$(printf 'INCR fromcli\r\nQUIT\r\n' | timeout "$IKT_T" nc -q 5 127.0.0.1 "$port" | tr -d '\r')
expect_eq "tcp incr" "$out" ":43
+OK"
expect_eq "cache sees incr" "$("$IKT_IPCKIT" cache "$n" get fromcli)" 43
# malformed: an error line and the connection closed
out=$(printf '*1\r\n+x\r\n' | timeout "$IKT_T" nc -U "$sock" | tr -d '\r')
expect_eq "protocol error" "$out" "-Protocol error: expected '\$', got '+'"

kill -TERM "$srv"
wait "$srv" || fail "serve exited $? on SIGTERM"
grep -q "SIGTERM: stopping" "$ikt_tmp/log" || fail "no stop line: $(cat "$ikt_tmp/log")"
grep -q "stopped (" "$ikt_tmp/log" || fail "no stopped line"
[ -e "$sock" ] && fail "socket file left behind"

# two workers; SIGINT stops the supervisor and both workers
"$IKT_IPCKIT" serve --cache "$n" --listen "unix:$sock" --workers 2 2>"$ikt_tmp/log" &
srv=$!
ikt_pids="$ikt_pids $srv"
pong() { [ "$(printf 'PING\r\nQUIT\r\n' | nc -U "$sock" | head -1 | tr -d '\r')" = "+PONG" ]; }
wait_for pong
kill -INT "$srv"
wait "$srv" || fail "serve --workers 2 exited $? on SIGINT: $(cat "$ikt_tmp/log")"
[ "$(grep -c 'stopped (' "$ikt_tmp/log")" = 2 ] || fail "workers did not both stop: $(cat "$ikt_tmp/log")"
[ -e "$sock" ] && fail "socket file left behind (workers)"
echo "serve cli ok"
