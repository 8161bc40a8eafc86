# ipckit notify: listen/send/ls/name end to end, --exec with and without a
# shell, a dead listener pruned and reported, EPERM (a sender running as
# nobody) and a full queue (a stopped listener) exit 1 naming the listener,
# SIGINT removes the registration, bad input exits 2 with one line.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
I=$IKT_IPCKIT
export IPCKIT_RUNTIME_DIR="$ikt_tmp/rt"
mkdir -m 700 "$IPCKIT_RUNTIME_DIR"
reg() { echo "$IPCKIT_RUNTIME_DIR/notify/$1/$2"; }

# start_listener VAR GROUP OUT [ARGS...]: its pid in VAR once registered
start_listener() {
	v=$1 g=$2 o=$3
	shift 3
	"$I" notify listen --group "$g" "$@" >"$o" 2>"$o.err" &
	eval "$v=$!"
	ikt_pids="$ikt_pids $!"
	wait_for test -e "$(reg "$g" $!)"
}
lines() { wc -l <"$1" | tr -d ' '; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

# -- print: lines in order, names, two listeners, groups apart
start_listener L1 g1 "$ikt_tmp/l1"
start_listener L2 g1 "$ikt_tmp/l2"
start_listener L3 g2 "$ikt_tmp/l3"
expect_status 0 "$I" notify name --group g1 build-done 7
expect_status 0 "$I" notify send --group g1 3 42
expect_eq "send output" "$(cat "$ikt_tmp/out")" "delivered to 2 listeners"
expect_status 0 "$I" notify send --group g1 build-done 16777215
expect_status 0 "$I" notify send --group g1 255
wait_for has_lines "$ikt_tmp/l1" 3
wait_for has_lines "$ikt_tmp/l2" 3
for f in l1 l2; do
	expect_eq "$f line 1" "$(sed -n 1p "$ikt_tmp/$f" | cut -d' ' -f1-2)" "3 42"
	expect_eq "$f line 2" "$(sed -n 2p "$ikt_tmp/$f" | cut -d' ' -f1-2)" "build-done 16777215"
	expect_eq "$f line 3" "$(sed -n 3p "$ikt_tmp/$f" | cut -d' ' -f1-2)" "255 0"
	grep -Eqv '^[^ ]+ [0-9]+ [0-9]+$' "$ikt_tmp/$f" && fail "$f: malformed line"
done
expect_status 0 "$I" notify send --group g2 1 1
expect_eq "send g2" "$(cat "$ikt_tmp/out")" "delivered to 1 listener"
wait_for has_lines "$ikt_tmp/l3" 1
expect_eq "g2 got only its own" "$(cut -d' ' -f1-2 "$ikt_tmp/l3")" "1 1"
expect_status 0 "$I" notify name --group g1
expect_eq "names" "$(cat "$ikt_tmp/out")" "build-done 7"

# -- ls: both listeners, JSON valid
expect_status 0 "$I" notify ls --group g1
expect_eq "ls rows" "$(awk -v a=$L1 -v b=$L2 '$1 == a || $1 == b { print $2 }' "$ikt_tmp/out" | tr '\n' ' ')" "yes yes "
expect_status 0 "$I" notify ls --group g1 --json
python3 -c "import json,sys
rows = json.load(open(sys.argv[1]))
assert sorted(r['pid'] for r in rows) == sorted([int(sys.argv[2]), int(sys.argv[3])]), rows
for r in rows:
    assert r['alive'] is True and r['pending'] is False and r['sigq_limit'] > 0, r
" "$ikt_tmp/out" "$L1" "$L2" || fail "ls --json"

# -- a dead listener is pruned and reported, not counted
kill -9 "$L2"
wait "$L2" 2>/dev/null || true
expect_status 0 "$I" notify send --group g1 4 4
expect_eq "after kill" "$(cat "$ikt_tmp/out")" "delivered to 1 listener"
grep -q "listener $L2 is gone: registration removed" "$ikt_tmp/err" || fail "prune not reported: $(cat "$ikt_tmp/err")"
[ ! -e "$(reg g1 "$L2")" ] || fail "dead registration kept"

# -- SIGINT: clean exit, registration gone
kill -INT "$L1"
wait "$L1" || fail "listener exited $? on SIGINT"
[ ! -e "$(reg g1 "$L1")" ] || fail "registration kept after SIGINT"
kill -TERM "$L3"
wait "$L3" || fail "listener exited $? on SIGTERM"
[ ! -e "$(reg g2 "$L3")" ] || fail "registration kept after SIGTERM"

# -- --exec: split at blanks (no shell), then a CMD that needs the shell
cat >"$ikt_tmp/hook" <<EOF
#!/bin/sh
echo "\$1|\$IPCKIT_EVENT|\$IPCKIT_VALUE|\$IPCKIT_SENDER|\$IPCKIT_GROUP" >>"$ikt_tmp/hook.out"
EOF
chmod 700 "$ikt_tmp/hook"
start_listener E1 ex "$ikt_tmp/e1" --exec "$ikt_tmp/hook arg1"
expect_status 0 "$I" notify send --group ex 5 500
expect_status 0 "$I" notify send --group ex 6 600
wait_for has_lines "$ikt_tmp/hook.out" 2
expect_eq "exec 1" "$(sed -n 1p "$ikt_tmp/hook.out" | cut -d'|' -f1-3,5)" "arg1|5|500|ex"
expect_eq "exec 2" "$(sed -n 2p "$ikt_tmp/hook.out" | cut -d'|' -f1-3,5)" "arg1|6|600|ex"
grep -Eq '^arg1\|5\|500\|[1-9][0-9]*\|ex$' "$ikt_tmp/hook.out" || fail "sender pid missing"
[ -s "$ikt_tmp/e1" ] && fail "--exec listener printed: $(cat "$ikt_tmp/e1")"
kill -TERM "$E1"
wait "$E1" || fail "exec listener exited $?"
start_listener E2 ex "$ikt_tmp/e2" --exec "echo \"got \$IPCKIT_EVENT=\$IPCKIT_VALUE\""
expect_status 0 "$I" notify send --group ex 9 99
wait_for has_lines "$ikt_tmp/e2" 1
expect_eq "exec via sh" "$(cat "$ikt_tmp/e2")" "got 9=99"
kill -TERM "$E2"
wait "$E2" || fail "exec listener exited $?"
# a command that cannot start ends the listener with one line, exit 1
start_listener E3 ex "$ikt_tmp/e3" --exec "$ikt_tmp/no-such-program"
expect_status 0 "$I" notify send --group ex 1
set +e
wait "$E3"
st=$?
set -e
expect_eq "exec failure status" "$st" 1
grep -q "no-such-program" "$ikt_tmp/e3.err" || fail "exec failure: $(cat "$ikt_tmp/e3.err")"
[ ! -e "$(reg ex "$E3")" ] || fail "registration kept after exec failure"

# -- full queue: a stopped listener with room for 4 signals
start_listener F1 full "$ikt_tmp/f1"
prlimit --sigpending=4 --pid "$F1"
kill -STOP "$F1"
ok=0
while "$I" notify send --group full --timeout 0 2 $ok >"$ikt_tmp/out" 2>"$ikt_tmp/err"; do
	ok=$((ok + 1))
	[ $ok -le 4 ] || fail "queue of 4 took $ok"
done
grep -q "^ipckit notify: listener $F1: receiver's signal queue is full" "$ikt_tmp/err" ||
	fail "full queue: $(cat "$ikt_tmp/err")"
expect_eq "full: delivered" "$(cat "$ikt_tmp/out")" "delivered to 0 listeners"
kill -CONT "$F1"
[ $ok -eq 0 ] || wait_for has_lines "$ikt_tmp/f1" $ok
expect_eq "full: what was accepted arrived" "$(lines "$ikt_tmp/f1")" "$ok"
kill -TERM "$F1"
wait "$F1" || true

# -- EPERM: the sender is nobody, the listener root (only root can test it)
if [ "$(id -u)" = 0 ]; then
	start_listener P1 perm "$ikt_tmp/p1"
	pd=$(mktemp -d /tmp/ikt-notify-XXXXXX)
	mkdir -p -m 700 "$pd/notify/perm"
	cp "$(reg perm "$P1")" "$pd/notify/perm/"
	chmod -R go-rwx "$pd"
	chown -R 65534:65534 "$pd"
	set +e
	IPCKIT_RUNTIME_DIR=$pd timeout "$IKT_T" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$I" notify send --group perm 1 \
		>"$ikt_tmp/out" 2>"$ikt_tmp/err"
	st=$?
	set -e
	rm -rf "$pd"
	expect_eq "EPERM exit status" "$st" 1
	grep -q "^ipckit notify: listener $P1: not permitted" "$ikt_tmp/err" ||
		fail "EPERM: $(cat "$ikt_tmp/err")"
	expect_eq "EPERM stderr lines" "$(lines "$ikt_tmp/err")" 1
	expect_eq "EPERM delivered" "$(cat "$ikt_tmp/out")" "delivered to 0 listeners"
	kill -TERM "$P1"
	wait "$P1" || fail "listener exited $?"
	[ ! -s "$ikt_tmp/p1" ] || fail "EPERM listener got: $(cat "$ikt_tmp/p1")"
fi

# -- bad input: exit 2, one line
for args in "send" "send 1 2 3" "send 256" "send -- -1" "send 1 16777216" \
	"send 1 x" "send nosuchname" "send --group ../x 1" "send --group .h 1" \
	"send --timeout soon 1" "listen extra" "listen --bogus" "ls extra" \
	"name 1abc 3" "name a 256" "name onlyname" "frobnicate" ""; do
	# shellcheck disable=SC2086
	expect_status 2 "$I" notify $args
	expect_eq "'$args': stderr lines" "$(wc -l <"$ikt_tmp/err" | tr -d ' ')" 1
done
expect_status 0 "$I" help notify
grep -q 'ipckit notify listen' "$ikt_tmp/out" || fail "help notify"
echo "notify ok"
