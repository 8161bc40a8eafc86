# ipckit chat on a real terminal, driven through tmux: a line being typed
# stays whole on the screen while another client's lines arrive above it;
# backspace edits; /who and /quit work; the screen shows timestamps.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
if ! command -v tmux >/dev/null 2>&1; then
	echo "SKIP: tmux is not installed (scripts/deps.sh test installs it)"
	exit 0
fi
room=ikt-$$-tty
dir="$IPCKIT_RUNTIME_DIR/chat-$room"
sock="$ikt_tmp/tmux.sock"
tm() { tmux -S "$sock" -f /dev/null "$@"; }
screen() { tm capture-pane -p -t chat; }
# on_screen REGEX: the pane shows a line matching REGEX
on_screen() { screen | grep -q -- "$1"; }
stop_tmux() { tm kill-server 2>/dev/null || true; ikt_cleanup; }
trap stop_tmux EXIT INT TERM

# the terminal's client runs with this test's environment, explicitly
cat >"$ikt_tmp/run.sh" <<EOS
export IPCKIT_RUNTIME_DIR='$IPCKIT_RUNTIME_DIR' TMPDIR='$TMPDIR'
export ASAN_OPTIONS='${ASAN_OPTIONS:-}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-}'
export TERM=screen
exec '$IKT_IPCKIT' chat '$room' --name tina
EOS
tm new-session -d -s chat -x 100 -y 20 "sh $ikt_tmp/run.sh"
wait_for on_screen "you joined room $room as tina"

# a second client on plain input
mkfifo "$ikt_tmp/in.sam"
"$IKT_IPCKIT" chat "$room" --name sam <"$ikt_tmp/in.sam" >"$ikt_tmp/sam" 2>&1 &
sam=$!
ikt_pids="$ikt_pids $sam"
exec 3>"$ikt_tmp/in.sam"
wait_for on_screen '-- sam joined'

# type half a line, then sam speaks: his line goes above, ours stays whole
tm send-keys -t chat -l 'hello wor'
wait_for on_screen '^tina> hello wor$'
echo "incoming while you type" >&3
wait_for on_screen '<sam> incoming while you type$'
screen | grep -q '^tina> hello wor$' || fail "input line garbled: $(screen)"
tm send-keys -t chat -l 'ld'
tm send-keys -t chat Enter
wait_for grep -q '<tina> hello world$' "$ikt_tmp/sam"
wait_for on_screen '<tina> hello world$'

# editing: backspace erases a character, Ctrl-U the line
tm send-keys -t chat -l 'abcx'
tm send-keys -t chat BSpace
tm send-keys -t chat -l 'd'
wait_for on_screen '^tina> abcd$'
tm send-keys -t chat Enter
wait_for grep -q '<tina> abcd$' "$ikt_tmp/sam"
tm send-keys -t chat -l 'never sent'
tm send-keys -t chat C-u
wait_for on_screen '^tina> *$'
tm send-keys -t chat -l '/who'
tm send-keys -t chat Enter
wait_for on_screen '-- here: tina sam'
# every chat line on the screen has a timestamp
n=$(screen | grep -E -c '^[0-9]{2}:[0-9]{2}:[0-9]{2} (<|--|\*)' || true)
[ "$n" -ge 5 ] || fail "lines with timestamps: $n; screen: $(screen)"
grep -q 'never sent' "$ikt_tmp/sam" && fail "a killed line was sent"

tm send-keys -t chat -l '/quit'
tm send-keys -t chat Enter
wait_for grep -q -- '-- tina left (quit)' "$ikt_tmp/sam"
wait_for sh -c "! tmux -S '$sock' has-session -t chat 2>/dev/null"
exec 3>&-
wait $sam || fail "sam exited $?"
wait_for test ! -e "$dir"
echo "chat tmux ok"
