# netcat-openbsd and ipckit send/recv --raw over unix: (nc -U) and tcp:,
# both directions: nc -N shuts its side down at the end of its input, which
# ipckit recv takes as the end of the stream; nc -l listening for ipckit.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
trap 'set +e; ikt_term_all' EXIT INT TERM
command -v nc >/dev/null || fail "nc not installed (scripts/deps.sh test installs it)"
nc -h 2>&1 | grep -q OpenBSD || fail "nc is not netcat-openbsd"
ik=$IKT_IPCKIT
d=$ikt_tmp
head -c 200000 /dev/urandom >"$d/blob"

# nc -U -N -> ipckit recv --listen
start_bg r "$ik" recv --raw --listen -v "unix:$d/u1"
wait_for test -S "$d/u1"
timeout "$IKT_T" nc -U -N "$d/u1" <"$d/blob"
finish r 0
cmp -s "$d/blob" "$d/r.out" || fail "nc -> recv (unix): bytes differ"

# ipckit send --listen -> nc -U -d (reads until ipckit closes)
timeout "$IKT_T" "$ik" send --raw --listen -v "unix:$d/u2" <"$d/blob" 2>"$d/s.err" &
ps=$!
ikt_pids="$ikt_pids $ps"
wait_for test -S "$d/u2"
timeout "$IKT_T" nc -U -d "$d/u2" >"$d/got2"
wait "$ps" || fail "send --listen (unix) failed: $(cat "$d/s.err")"
cmp -s "$d/blob" "$d/got2" || fail "send -> nc (unix): bytes differ"

# nc -U -l listening; ipckit send dials it
start_bg l nc -U -l "$d/u3"
wait_for test -S "$d/u3"
printf 'one\ntwo\n' | timeout "$IKT_T" "$ik" send --raw "unix:$d/u3" || fail "send into nc -l"
finish l 0
expect_eq "send -> nc -l" "$(cat "$d/l.out")" "one
two"
rm -f "$d/u3" # nc -l leaves its socket file behind

# tcp: nc -N -> ipckit recv; ipckit send -> nc -d
start_bg r "$ik" recv --raw --listen -v tcp:127.0.0.1:0
wait_for grep -q 'listening on' "$d/r.err"
timeout "$IKT_T" nc -N 127.0.0.1 "$(port_of r)" <"$d/blob"
finish r 0
cmp -s "$d/blob" "$d/r.out" || fail "nc -> recv (tcp): bytes differ"
# emptied here, not by the redirection below: that happens in the child,
# after the wait_for may have read the unix step's line still in the file
: >"$d/s.err"
timeout "$IKT_T" "$ik" send --raw --listen -v tcp:127.0.0.1:0 <"$d/blob" 2>"$d/s.err" &
ps=$!
ikt_pids="$ikt_pids $ps"
wait_for grep -q 'listening on' "$d/s.err"
timeout "$IKT_T" nc -d 127.0.0.1 "$(port_of s)" >"$d/got5"
wait "$ps" || fail "send --listen (tcp) failed: $(cat "$d/s.err")"
cmp -s "$d/blob" "$d/got5" || fail "send -> nc (tcp): bytes differ"
echo "nc interop ok"
