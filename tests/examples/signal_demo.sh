# signal_demo: started, it says it waits; SIGINT is sent only then (we read
# its output through a FIFO, no sleep); it must report the signal from main
# and exit 0.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
fifo=$ikt_tmp/out
mkfifo "$fifo"
timeout "$IKT_T" "$IKT_EXAMPLES/signal_demo" >"$fifo" 2>"$ikt_tmp/err" &
job=$!
ikt_pids=$job
exec 3<"$fifo"
IFS= read -r l <&3 || fail "no PID line"
pid=${l#Process PID: }
case $pid in '' | *[!0-9]*) fail "bad PID line [$l]" ;; esac
IFS= read -r l <&3 || fail "no prompt"
expect_eq prompt "$l" "Press Ctrl+C to send SIGINT..."
IFS= read -r l <&3 || fail "no waiting line"
expect_eq waiting "$l" "Waiting for signal..."
kill -INT "$pid"
IFS= read -r l <&3 || fail "nothing after SIGINT; stderr: $(cat "$ikt_tmp/err")"
expect_eq received "$l" "Received signal 2"
IFS= read -r l <&3 || fail "no exit line"
expect_eq exiting "$l" "Signal handled, exiting."
if IFS= read -r l <&3; then fail "unexpected output [$l]"; fi
set +e
wait "$job"
st=$?
set -e
ikt_pids=""
expect_eq "exit status" "$st" 0
[ -s "$ikt_tmp/err" ] && fail "stderr: $(cat "$ikt_tmp/err")"
echo "signal_demo ok"
