# ipckit fanout: --ordered output equals the sequential `CMD < input` for
# record-local commands; a large input through cat workers in bounded memory;
# a failing worker's status and message; `| head -1` ends quietly; -0 and
# --block; SIGTERM/SIGINT stop every worker; --stats; usage errors.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
F="$IKT_IPCKIT"
t=$ikt_tmp

# ---- ordered == sequential ----------------------------------------------
# varied lines: numbers, words, empty lines, long lines, no final newline
awk 'BEGIN { for (i = 0; i < 40000; i++) {
	if (i % 101 == 0) print "";
	else if (i % 977 == 0) { s = ""; for (j = 0; j < 3000; j++) s = s "w" j; print s }
	else print i, "The Quick brown fox", i * 7 % 13 } }' >"$t/in"
printf 'last line without newline' >>"$t/in"
check_ordered() { # WORKERS CMD...
	j=$1
	shift
	"$@" <"$t/in" >"$t/want"
	expect_status 0 "$F" fanout -j "$j" --ordered --batch 4K -- "$@" <"$t/in"
	cmp -s "$ikt_tmp/out" "$t/want" || fail "fanout -j $j --ordered $* differs from $*"
}
check_ordered 3 tr a-z A-Z
check_ordered 4 sed -e 's/fox/cat/' -e 's/^/> /'
check_ordered 2 awk '{ print NF, length($0) }'
check_ordered 1 cut -c1-10
# unordered: the same multiset of lines
expect_status 0 "$F" fanout -j 4 --batch 1K -- tr a-z A-Z <"$t/in"
sort "$ikt_tmp/out" >"$t/got.sorted"
tr a-z A-Z <"$t/in" | sort >"$t/want.sorted"
cmp -s "$t/got.sorted" "$t/want.sorted" || fail "unordered tr: not the same lines"

# ---- -0 and --block --------------------------------------------------------
printf 'one\ntwo\0three\0\0four' >"$t/nul"
expect_status 0 "$F" fanout -j 2 -0 --ordered -- tr a-z A-Z <"$t/nul"
tr a-z A-Z <"$t/nul" >"$t/want"
cmp -s "$ikt_tmp/out" "$t/want" || fail "-0 --ordered: $(od -c "$ikt_tmp/out")"
head -c 1000123 /dev/urandom >"$t/bin"
expect_status 0 "$F" fanout -j 3 --block 4096 --ordered -- cat <"$t/bin"
cmp -s "$ikt_tmp/out" "$t/bin" || fail "--block --ordered cat: bytes differ"
# unordered blocks: each 4096-byte output block is one of the input's
expect_status 0 "$F" fanout -j 3 --block 4096 -- cat <"$t/bin"
expect_eq "--block size" "$(wc -c <"$ikt_tmp/out")" 1000123
# the output must be the input's blocks, each intact, in any order; the
# short last block may land anywhere, so walk the output block by block
python3 - "$t/bin" "$ikt_tmp/out" <<'PY' || fail "--block unordered: output is not the input's blocks"
import collections, sys
data = open(sys.argv[1], "rb").read()
out = open(sys.argv[2], "rb").read()
blocks = collections.Counter(data[i:i + 4096] for i in range(0, len(data), 4096))
pos = 0
while pos < len(out):
    for size in (4096, len(data) % 4096):
        b = out[pos:pos + size]
        if size and blocks[b] > 0:
            blocks[b] -= 1
            pos += size
            break
    else:
        sys.exit("no input block at output offset %d" % pos)
sys.exit(0 if sum(blocks.values()) == 0 else "blocks missing")
PY
rm -f "$t"/inb.* "$t"/outb.*

# ---- a large input through cat, in bounded memory -----------------------------
# 1 GiB (256 MiB under the sanitizers, which are several times slower)
big=1073741824
rss_max=65536 # KiB: buffers are a few MiB whatever the input size
if [ -n "${IKT_SANITIZE:-}" ]; then
	big=268435456
	rss_max=262144
fi
# under memcheck (IKT_WRAP) 64 MiB: memcheck moves a few MB/s, and its own
# RSS is the tool's; bounded memory is the plain run's to show
if [ -n "${IKT_WRAP:-}" ]; then
	big=67108864
	rss_max=4194304
fi
yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c $big |
	timeout "$IKT_T" "$F" fanout -j 2 --stats -- cat 2>"$t/stats" |
	wc -c >"$t/count"
expect_eq "bytes out of $big through cat" "$(cat "$t/count")" "$big"
rss=$(sed -n 's/^ipckit fanout: max RSS \([0-9]*\) KiB$/\1/p' "$t/stats")
[ -n "$rss" ] || fail "--stats printed no max RSS: $(cat "$t/stats")"
note "max RSS of fanout over $big bytes: $rss KiB"
[ "$rss" -lt $rss_max ] || fail "max RSS $rss KiB over $big bytes (limit $rss_max)"
lines=$(((big + 54) / 55)) # the last, cut short, is a record too
grep -q "^ipckit fanout: total: $lines records, $big bytes in, $big bytes out" "$t/stats" ||
	fail "--stats total: $(cat "$t/stats")"
grep -q '^ipckit fanout: worker 1 (pid [0-9]*): [0-9]* records, .*records/s, .* MB/s in$' "$t/stats" ||
	fail "--stats per worker: $(cat "$t/stats")"
# an independent look at the same figure where GNU time is installed
if [ -x /usr/bin/time ] && [ -z "${IKT_SANITIZE:-}" ] && [ -z "${IKT_WRAP:-}" ]; then
	yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c 268435456 |
		/usr/bin/time -f %M -o "$t/rss" "$F" fanout -j 2 -- cat >/dev/null
	[ "$(cat "$t/rss")" -lt $rss_max ] || fail "GNU time: max RSS $(cat "$t/rss") KiB"
fi

# ---- failures ---------------------------------------------------------------------
expect_status 3 "$F" fanout -j 3 -- sh -c 'read x; exit 3' <"$t/in"
grep -Eq "^ipckit fanout: worker [0-2] \(pid [0-9]+, sh\) exited with status 3$" "$ikt_tmp/err" ||
	fail "worker failure message: $(cat "$ikt_tmp/err")"
expect_status $((128 + 9)) "$F" fanout -j 2 -- sh -c 'read x; kill -KILL $$' <"$t/in"
grep -q "killed by signal KILL" "$ikt_tmp/err" || fail "killed worker: $(cat "$ikt_tmp/err")"
expect_status 1 "$F" fanout -j 2 --ordered -- sed p <"$t/in"
grep -q "answered more records than it was given" "$ikt_tmp/err" || fail "sed p: $(cat "$ikt_tmp/err")"
expect_status 127 "$F" fanout -j 2 -- ikt-no-such-command </dev/null
grep -q "cannot start 'ikt-no-such-command'" "$ikt_tmp/err" || fail "missing command: $(cat "$ikt_tmp/err")"
# --keep-going: the other workers finish the input; the failure still counts
awk 'BEGIN { for (i = 0; i < 3000; i++) print (i == 1000 ? "boom" : "r" i) }' >"$t/boom"
expect_status 4 "$F" fanout -j 3 --keep-going --batch 64 -- \
	sh -c 'while read -r x; do [ "$x" = boom ] && exit 4; echo "$x"; done' <"$t/boom"
n=$(wc -l <"$ikt_tmp/out")
[ "$n" -gt 1000 ] && [ "$n" -lt 3000 ] || fail "--keep-going: $n lines out"
grep -q boom "$ikt_tmp/out" && fail "--keep-going: boom came out"

# ---- | head -1: quiet, status 0 -----------------------------------------------------
{ set +e; yes | timeout "$IKT_T" "$F" fanout -j 2 -- cat 2>"$t/err"; echo $? >"$t/st"; } | head -1 >"$t/first"
expect_eq "first line" "$(cat "$t/first")" y
expect_eq "status under | head -1" "$(cat "$t/st")" 0
[ ! -s "$t/err" ] || fail "| head -1 printed: $(cat "$t/err")"

# ---- SIGTERM and SIGINT stop every worker ----------------------------------------------
for sig in TERM INT; do
	mkfifo "$t/fifo"
	"$F" fanout -j 3 -- cat <"$t/fifo" >"$t/sig.out" 2>"$t/sig.err" &
	pid=$!
	ikt_pids="$ikt_pids $pid"
	exec 3>"$t/fifo" # the input stays open: only the signal ends the run
	echo hello >&3
	wait_for grep -q hello "$t/sig.out"
	# one worker answering does not mean all three are up yet (memcheck
	# starts them slowly): wait for three children, then look at them
	wait_for sh -c "[ \$(pgrep -P $pid | wc -l) -eq 3 ]"
	workers=$(pgrep -P "$pid" | tr '\n' ' ')
	expect_eq "workers running" "$(echo $workers | wc -w)" 3
	kill -s $sig "$pid"
	set +e
	wait "$pid"
	st=$?
	set -e
	exec 3>&-
	rm -f "$t/fifo"
	want=143
	[ $sig = INT ] && want=130
	expect_eq "status after SIG$sig" "$st" "$want"
	for w in $workers; do
		kill -0 "$w" 2>/dev/null && fail "worker $w still runs after SIG$sig"
	done
	[ ! -s "$t/sig.err" ] || fail "SIG$sig: $(cat "$t/sig.err")"
done

# ---- usage ------------------------------------------------------------------------------
expect_status 0 "$F" help fanout
grep -q -- '--ordered' "$ikt_tmp/out" || fail "help fanout lacks --ordered"
expect_status 2 "$F" fanout
expect_status 2 "$F" fanout -j 0 cat
expect_status 2 "$F" fanout -j x cat
expect_status 2 "$F" fanout -j 2
expect_status 2 "$F" fanout --block 0 cat
expect_status 2 "$F" fanout --block 12Q cat
expect_status 2 "$F" fanout -0 --block 4K cat
expect_status 2 "$F" fanout --bogus cat
grep -q "^ipckit fanout: " "$ikt_tmp/err" || fail "usage error message: $(cat "$ikt_tmp/err")"
echo "fanout ok"
