# redis-benchmark -t set,get,incr,mset -n 100000 against ipckit serve (two
# workers, Unix socket), plain and pipelined (-P 16): every test completes
# with no error line, and the keys it wrote are there afterwards.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
command -v redis-benchmark >/dev/null || fail "no redis-benchmark (scripts/deps.sh test installs it)"
n="ikt-$$-rbench"
sock="$ikt_tmp/b.sock"
ikt_serve_cache "$n" 32M --listen "unix:$sock" --workers 2
up() { timeout 5 redis-cli -s "$sock" ping 2>/dev/null | grep -q PONG; }
wait_for up
for P in 1 16; do
	timeout 300 redis-benchmark -s "$sock" -t set,get,incr,mset -n 100000 \
		-P "$P" -q >"$ikt_tmp/b$P" 2>&1 || fail "redis-benchmark -P $P: $(cat "$ikt_tmp/b$P")"
	tr '\r' '\n' <"$ikt_tmp/b$P" | grep -E '^[A-Z]+.*requests per second' >"$ikt_tmp/rps$P" || true
	[ "$(wc -l <"$ikt_tmp/rps$P")" = 4 ] || fail "-P $P: not 4 results: $(cat "$ikt_tmp/b$P")"
	grep -qi 'error' "$ikt_tmp/b$P" && fail "-P $P: errors: $(cat "$ikt_tmp/b$P")"
	note "$(cat "$ikt_tmp/rps$P")"
done
expect_eq "counter" "$(redis-cli -s "$sock" get counter:__rand_int__)" 200000
[ -n "$(redis-cli -s "$sock" get key:__rand_int__)" ] || fail "no key written"
kill -TERM "$srv"
wait "$srv" || fail "serve exited $?: $(cat "$ikt_tmp/log")"
grep -q "error\|dropped" "$ikt_tmp/log" && fail "server logged errors: $(cat "$ikt_tmp/log")"
echo "redis-benchmark ok"
