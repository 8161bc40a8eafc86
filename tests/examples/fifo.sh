# fifo_server + fifo_client: one server serves several clients in turn and
# at once, stops after -n COUNT, on "quit" or on SIGTERM, prints exactly what
# it received, and leaves no FIFO behind; clients fail cleanly without one.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
S="$IKT_EXAMPLES/fifo_server"
C="$IKT_EXAMPLES/fifo_client"
fifo="$ikt_tmp/demo.fifo"

# start_server OUT ARGS...: run the server in the background, wait for it
start_server() {
	out=$1
	shift
	timeout "$IKT_T" "$S" "$@" >"$out" 2>"$out.err" &
	spid=$!
	ikt_pids="$ikt_pids $spid"
	wait_for grep -q '^Listening on ' "$out"
}
# stop_server WANT: wait for the server, check its exit status
stop_server() {
	set +e
	wait "$spid"
	got=$?
	set -e
	# reaped: keep it out of ikt_cleanup, whose kill would fail under set -e
	ikt_pids=""
	[ "$got" = "$1" ] || fail "fifo_server exited $got, want $1: $(cat "$out.err")"
}
client() {
	expect_status 0 "$C" -p "$fifo" "$@"
}

# 1. three clients one after another, -n 3
start_server "$ikt_tmp/s1" -n 3 "$fifo"
[ -p "$fifo" ] || fail "no FIFO at $fifo"
expect_eq "FIFO mode" "$(stat -c %a "$fifo")" 600
client
expect_eq "client output" "$(cat "$ikt_tmp/out")" "Sent: Hello via FIFO!"
client "second message"
expect_eq "client output" "$(cat "$ikt_tmp/out")" "Sent: second message"
client "  third, with spaces  "
stop_server 0
expect_eq "server output (-n 3)" "$(cat "$ikt_tmp/s1")" "Listening on $fifo
Received: Hello via FIFO!
Received: second message
Received:   third, with spaces  
Served 3 messages"
[ ! -e "$fifo" ] || fail "the FIFO is still there after -n 3"

# 2. five clients at once, then "quit": every line whole, none lost
start_server "$ikt_tmp/s2" "$fifo"
cpids=""
for i in 1 2 3 4 5; do
	timeout "$IKT_T" "$C" -p "$fifo" "client $i says hello" >"$ikt_tmp/c$i" 2>&1 &
	cpids="$cpids $!"
done
for p in $cpids; do
	wait "$p" || fail "a concurrent client failed"
done
client quit
stop_server 0
expect_eq "concurrent lines" "$(sed -n '2,6p' "$ikt_tmp/s2" | sort)" "Received: client 1 says hello
Received: client 2 says hello
Received: client 3 says hello
Received: client 4 says hello
Received: client 5 says hello"
expect_eq "after the clients" "$(sed -n '7,$p' "$ikt_tmp/s2")" "Received: quit
Served 6 messages"
[ ! -e "$fifo" ] || fail "the FIFO is still there after quit"

# 3. default path in the runtime directory; SIGTERM stops it cleanly
start_server "$ikt_tmp/s3"
def="$IPCKIT_RUNTIME_DIR/fifo_demo"
expect_eq "default path" "$(head -n 1 "$ikt_tmp/s3")" "Listening on $def"
expect_status 0 "$C" "by default"
kill -TERM "$spid"
stop_server 0
expect_eq "server output (SIGTERM)" "$(sed -n '2,$p' "$ikt_tmp/s3")" "Received: by default
Served 1 messages"
[ ! -e "$def" ] || fail "the FIFO is still there after SIGTERM"

# 4. failures: no FIFO, no reader (bounded), a non-FIFO, bad usage
expect_status 1 "$C" -p "$fifo" -t 100 "nobody home"
grep -q "No such file" "$ikt_tmp/err" || fail "missing FIFO: $(cat "$ikt_tmp/err")"
mkfifo -m 600 "$fifo"
expect_status 1 "$C" -p "$fifo" -t 200 "nobody reading"
grep -q "timed out.*no server is reading" "$ikt_tmp/err" ||
	fail "no reader: $(cat "$ikt_tmp/err")"
expect_status 1 "$S" "$fifo"
grep -q "exists" "$ikt_tmp/err" || fail "server over an existing path: $(cat "$ikt_tmp/err")"
[ -p "$fifo" ] || fail "the server removed a FIFO it did not create"
rm -f "$fifo"
echo data >"$fifo"
expect_status 1 "$C" -p "$fifo" "to a file"
grep -q "not a FIFO" "$ikt_tmp/err" || fail "regular file: $(cat "$ikt_tmp/err")"
expect_eq "the file is untouched" "$(cat "$fifo")" data
rm -f "$fifo"
expect_status 2 "$S" -n 0 "$fifo"
expect_status 2 "$C" -p "$fifo" "two
lines"
[ ! -e "$fifo" ] || fail "a failed run left $fifo"
echo "fifo example ok"
