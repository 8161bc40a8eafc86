# ipckit chat from scripts: two clients on plain standard input, the first
# starting the room's server; /me, /nick, /who, a line longer than one
# record, a client killed, end of input, a stale room, a --group room, and
# usage errors. Every wait is on a condition (grep of an output file).
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
room=ikt-$$-cli
dir="$IPCKIT_RUNTIME_DIR/chat-$room"
ts='^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] '

expect_status 2 "$IKT_IPCKIT" chat ../etc
expect_status 2 "$IKT_IPCKIT" chat "$room" --name "two words"
expect_status 2 "$IKT_IPCKIT" chat "$room" --group no-such-group-here
expect_status 0 "$IKT_IPCKIT" help chat
grep -q '/nick NAME' "$ikt_tmp/out" || fail "help chat lists no commands"

# start_client NAME: stdin from a FIFO held open on fd 3/4/5..., output file
mkfifo "$ikt_tmp/in.alice" "$ikt_tmp/in.bob" "$ikt_tmp/in.carol"
"$IKT_IPCKIT" chat "$room" --name alice <"$ikt_tmp/in.alice" >"$ikt_tmp/alice" 2>&1 &
alice=$!
ikt_pids="$ikt_pids $alice"
exec 3>"$ikt_tmp/in.alice"
wait_for grep -q "you joined room $room as alice" "$ikt_tmp/alice"
[ "$(stat -c %a "$dir")" = 700 ] || fail "room directory is not 0700"
[ "$(stat -c %a "$dir/server")" = 600 ] || fail "server FIFO is not 0600"
"$IKT_IPCKIT" chat "$room" --name bob <"$ikt_tmp/in.bob" >"$ikt_tmp/bob" 2>&1 &
bob=$!
ikt_pids="$ikt_pids $bob"
exec 4>"$ikt_tmp/in.bob"
wait_for grep -q -- '-- bob joined' "$ikt_tmp/alice"

echo "hello bob" >&3
wait_for grep -q '<alice> hello bob' "$ikt_tmp/bob"
echo "/me waves" >&4
wait_for grep -q '\* bob waves' "$ikt_tmp/alice"
echo "/nick robert" >&4
wait_for grep -q -- '-- bob is now known as robert' "$ikt_tmp/alice"
echo "/who" >&3
wait_for grep -q -- '-- here: alice robert' "$ikt_tmp/alice"
echo "/bogus" >&3
wait_for grep -q '!! unknown command /bogus' "$ikt_tmp/alice"
# 10000 characters: several records, none lost, none mixed up
long=$(head -c 10000 /dev/zero | tr '\0' 'x')
echo "$long" >&3
echo "after the long line" >&3
wait_for grep -q '<alice> after the long line' "$ikt_tmp/bob"
got=$(sed -n 's/^[0-9:]* <alice> \(x*\)$/\1/p' "$ikt_tmp/bob" | tr -d '\n' | wc -c)
expect_eq "long line length at bob" "$got" 10000

# a third client killed: the others hear it is gone and go on
"$IKT_IPCKIT" chat "$room" --name carol <"$ikt_tmp/in.carol" >"$ikt_tmp/carol" 2>&1 &
carol=$!
exec 5>"$ikt_tmp/in.carol"
wait_for grep -q -- '-- carol joined' "$ikt_tmp/alice"
kill -9 $carol
wait $carol 2>/dev/null || true
exec 5>&-
wait_for grep -q -- '-- carol left (gone)' "$ikt_tmp/alice"
echo "still there" >&4
wait_for grep -q '<robert> still there' "$ikt_tmp/alice"

# end of input: robert leaves, exit 0; /quit: alice leaves, exit 0
exec 4>&-
wait $bob || fail "bob exited $?"
wait_for grep -q -- '-- robert left (quit)' "$ikt_tmp/alice"
echo "/quit" >&3
wait $alice || fail "alice exited $?"
exec 3>&-
# every line has a timestamp; nothing shows a control character
bad=$(grep -cv "$ts" "$ikt_tmp/alice" || true)
expect_eq "lines without timestamp" "$bad" 0
# the server left with the last client, and took the room with it
wait_for test ! -e "$dir"

# a script: lines sent just before end of input are seen back first
printf 'one\ntwo\n' | timeout "$IKT_T" "$IKT_IPCKIT" chat "$room" --name solo >"$ikt_tmp/solo"
grep -q '<solo> one' "$ikt_tmp/solo" || fail "solo: $(cat "$ikt_tmp/solo")"
grep -q '<solo> two' "$ikt_tmp/solo" || fail "solo: $(cat "$ikt_tmp/solo")"
wait_for test ! -e "$dir"

# a stale room: its server killed, the next client replaces it
"$IKT_IPCKIT" chat --serve "$room" &
srv=$!
wait_for test -p "$dir/server"
kill -9 $srv
wait $srv 2>/dev/null || true
[ -p "$dir/server" ] || fail "the killed server's FIFO should still be there"
echo "new server" | timeout "$IKT_T" "$IKT_IPCKIT" chat "$room" --name phoenix >"$ikt_tmp/phoenix"
grep -q '<phoenix> new server' "$ikt_tmp/phoenix" || fail "stale room: $(cat "$ikt_tmp/phoenix")"
wait_for test ! -e "$dir"

# a second server for a live room is refused
"$IKT_IPCKIT" chat --serve "$room" &
srv=$!
ikt_pids="$ikt_pids $srv"
wait_for test -p "$dir/server"
# a client holds the room, so the server cannot leave idle (10 s without
# clients) before the second one tries, however slowly that one starts
mkfifo "$ikt_tmp/in.hold"
"$IKT_IPCKIT" chat "$room" --name holder <"$ikt_tmp/in.hold" >"$ikt_tmp/hold" 2>&1 &
hold=$!
ikt_pids="$ikt_pids $hold"
exec 5>"$ikt_tmp/in.hold"
wait_for grep -q "you joined room $room as holder" "$ikt_tmp/hold"
expect_status 1 "$IKT_IPCKIT" chat --serve "$room"
grep -q 'already has a server' "$ikt_tmp/err" || fail "second server: $(cat "$ikt_tmp/err")"
exec 5>&-
wait $hold || fail "holder exited $?"
# the server may already have left with its last client: both end with 0
kill $srv 2>/dev/null || true
wait $srv || fail "server exited $? (SIGTERM or last client gone)"
wait_for test ! -e "$dir"

# --group: a shared room, 02770 with the group, FIFOs 0620
g=$(id -gn)
gdir="/tmp/ipckit-chat-g$(id -g)/$room"
"$IKT_IPCKIT" chat --serve --group "$g" "$room" &
srv=$!
ikt_pids="$ikt_pids $srv"
wait_for test -p "$gdir/server"
expect_eq "shared room mode" "$(stat -c '%a %g' "$gdir")" "2770 $(id -g)"
expect_eq "shared FIFO mode" "$(stat -c '%a %g' "$gdir/server")" "620 $(id -g)"
echo "shared" | timeout "$IKT_T" "$IKT_IPCKIT" chat "$room" --group "$g" --name gina >"$ikt_tmp/gina" &
gpid=$!
wait $gpid || fail "group client exited $?"
grep -q '<gina> shared' "$ikt_tmp/gina" || fail "group room: $(cat "$ikt_tmp/gina")"
wait_for test ! -e "$gdir"
echo "chat ok"
