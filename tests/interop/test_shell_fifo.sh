# The shell's own FIFO use against ipckit on fifo: with --raw: `echo > fifo`
# into ipckit recv --listen (which made the FIFO, 0600, and removes it),
# and `cat < fifo` (a FIFO made by mkfifo) reading what ipckit send writes;
# a reader started before any writer waits for one instead of ending.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
trap 'set +e; ikt_term_all' EXIT INT TERM
ik=$IKT_IPCKIT
d=$ikt_tmp
head -c 150000 /dev/urandom >"$d/blob"

# echo > fifo -> ipckit recv --raw --listen
timeout "$IKT_T" "$ik" recv --raw --listen -v "fifo:$d/f" >"$d/out" 2>"$d/err" &
pr=$!
ikt_pids="$ikt_pids $pr"
wait_for test -p "$d/f"
expect_eq "FIFO mode" "$(stat -c %a "$d/f")" "600"
echo hello >"$d/f"
wait "$pr" || fail "recv: $(cat "$d/err")"
expect_eq "echo > fifo" "$(cat "$d/out")" "hello"
[ ! -e "$d/f" ] || fail "recv left its FIFO"

# a big binary write from the shell, in pieces as the pipe takes them
timeout "$IKT_T" "$ik" recv --raw --listen -v "fifo:$d/f" >"$d/out" 2>"$d/err" &
pr=$!
ikt_pids="$ikt_pids $pr"
wait_for test -p "$d/f"
cat "$d/blob" >"$d/f"
wait "$pr" || fail "recv: $(cat "$d/err")"
cmp -s "$d/blob" "$d/out" || fail "cat blob > fifo: bytes differ"

# ipckit send --raw -> cat < fifo
mkfifo -m 600 "$d/g"
timeout "$IKT_T" cat <"$d/g" >"$d/got" &
pc=$!
ikt_pids="$ikt_pids $pc"
timeout "$IKT_T" "$ik" send --raw "fifo:$d/g" <"$d/blob" || fail "send into cat's FIFO"
wait "$pc" || fail "cat < fifo failed"
cmp -s "$d/blob" "$d/got" || fail "send -> cat < fifo: bytes differ"

# lines, not raw: each argument is one write, cat sees them joined
timeout "$IKT_T" cat <"$d/g" >"$d/got" &
pc=$!
ikt_pids="$ikt_pids $pc"
timeout "$IKT_T" "$ik" send --raw "fifo:$d/g" 'a b' ' c' || fail "send args"
wait "$pc" || fail "cat < fifo failed"
expect_eq "args -> cat" "$(cat "$d/got")" "a b c"
echo "shell fifo interop ok"
