# sigmask_demo: SIGINT blocked, pending, then delivered on unblock; raised by
# the program itself (default), sent by us once it says it waits (-w), or
# never sent (-w 0). Usage errors exit 2.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
ex="$IKT_EXAMPLES/sigmask_demo"

expect_status 0 "$ex"
sed 1d "$ikt_tmp/out" >"$ikt_tmp/body"
printf '%s\n' "Blocking SIGINT..." \
	"Raising SIGINT while it is blocked (it is queued)" \
	"SIGINT is pending!" "Unblocking SIGINT..." \
	"SIGINT unblocked. Signal delivered now." >"$ikt_tmp/want"
cmp -s "$ikt_tmp/body" "$ikt_tmp/want" || fail "raise mode: $(cat "$ikt_tmp/out")"

# -w: we send SIGINT once it says it waits
fifo=$ikt_tmp/fifo
mkfifo "$fifo"
timeout "$IKT_T" "$ex" -w 60 >"$fifo" 2>"$ikt_tmp/err" &
job=$!
ikt_pids=$job
exec 3<"$fifo"
IFS= read -r l <&3 || fail "no PID line"
pid=${l#Process PID: }
case $pid in '' | *[!0-9]*) fail "bad PID line [$l]" ;; esac
IFS= read -r l <&3 && expect_eq blocking "$l" "Blocking SIGINT..."
IFS= read -r l <&3 && expect_eq prompt "$l" "Send SIGINT within 60 s (it will be queued)"
kill -INT "$pid"
IFS= read -r l <&3 || fail "nothing after SIGINT; stderr: $(cat "$ikt_tmp/err")"
expect_eq pending "$l" "SIGINT is pending!"
IFS= read -r l <&3 && expect_eq unblocking "$l" "Unblocking SIGINT..."
IFS= read -r l <&3 || fail "no delivery line"
expect_eq delivered "$l" "SIGINT unblocked. Signal delivered now."
exec 3<&-
set +e
wait "$job"
st=$?
set -e
ikt_pids=""
expect_eq "-w exit status" "$st" 0

# -w 0 and nobody sends: nothing pending, nothing delivered
expect_status 0 "$ex" -w 0
grep -qx "SIGINT is not pending." "$ikt_tmp/out" || fail "-w 0: $(cat "$ikt_tmp/out")"
grep -qx "SIGINT unblocked. Nothing to deliver." "$ikt_tmp/out" || fail "-w 0: $(cat "$ikt_tmp/out")"

expect_status 2 "$ex" -w abc
expect_status 2 "$ex" -w -1
expect_status 2 "$ex" extra
grep -q '^usage: sigmask_demo' "$ikt_tmp/err" || fail "no usage message"
echo "sigmask_demo ok"
