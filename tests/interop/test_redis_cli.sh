# redis-cli (Debian redis-tools) against ipckit serve: set/get/incr/ttl/
# info/dbsize over a Unix socket and TCP, its own error lines, a value
# written by a local process through the library (ipckit cache) read back
# by redis-cli, and the other way round.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
command -v redis-cli >/dev/null || fail "no redis-cli (scripts/deps.sh test installs it)"
n="ikt-$$-rcli"
sock="$ikt_tmp/r.sock"
ikt_serve_cache "$n" 8M --listen "unix:$sock" --listen tcp:127.0.0.1:0
up() { grep -q "serving cache" "$ikt_tmp/log"; }
wait_for up
port=$(sed -n 's/.*tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ikt_tmp/log")
rc() { timeout "$IKT_T" redis-cli -s "$sock" "$@"; }

expect_eq "ping" "$(rc ping)" PONG
expect_eq "set" "$(rc set user:1 alice)" OK
expect_eq "get" "$(rc get user:1)" alice
expect_eq "get missing" "$(rc get nope)" ""
expect_eq "incr" "$(rc incr hits)" 1
expect_eq "incrby" "$(rc incrby hits 9)" 10
# the TTL counts down in real time: bound it by the seconds that really
# passed since the SET (a loaded machine may take several)
set_at=$(date +%s)
expect_eq "set ex" "$(rc set session x EX 100)" OK
ttl=$(rc ttl session)
lo=$((99 - ($(date +%s) - set_at)))
[ "$ttl" -ge "$lo" ] && [ "$ttl" -le 100 ] || fail "ttl $ttl (want $lo..100)"
expect_eq "ttl none" "$(rc ttl user:1)" -1
expect_eq "ttl missing" "$(rc ttl nope)" -2
expect_eq "nx on existing" "$(rc set user:1 bob NX)" ""
expect_eq "mget" "$(rc mget user:1 nope hits | tr '\n' ,)" "alice,,10,"
expect_eq "dbsize" "$(rc dbsize)" 3
expect_eq "incr text" "$(rc incr user:1)" "ERR value is not an integer or out of range"
rc nosuch a b >"$ikt_tmp/o"
grep -q "ERR unknown command 'nosuch'" "$ikt_tmp/o" || fail "unknown: $(cat "$ikt_tmp/o")"
rc info >"$ikt_tmp/info"
for f in redis_version used_memory maxmemory connected_clients \
	total_commands_processed keyspace_hits 'db0:keys=3,expires=1,'; do
	grep -q "^$f" "$ikt_tmp/info" || fail "INFO lacks $f"
done
ks=$(rc info keyspace | tr -d '\r' | tail -n 1)
avg=${ks#db0:keys=3,expires=1,avg_ttl=}
lo=$(((99 - ($(date +%s) - set_at)) * 1000))
case $avg in '' | *[!0-9]*) fail "info keyspace: $ks" ;; esac
[ "$avg" -ge "$lo" ] && [ "$avg" -le 100000 ] || fail "info keyspace: $ks (avg_ttl want $lo..100000)"
# TCP too, and a value in binary-safe form
expect_eq "tcp get" "$(timeout "$IKT_T" redis-cli -p "$port" get user:1)" alice
printf 'a\tb\nc' | timeout "$IKT_T" redis-cli -s "$sock" -x set blob >/dev/null
expect_eq "blob via cache" "$("$IKT_IPCKIT" cache "$n" dump | grep '^blob' | cut -f2)" 'a\tb\nc'
# library -> redis-cli, redis-cli -> library
"$IKT_IPCKIT" cache "$n" set fromlib "written by a local process"
expect_eq "lib to cli" "$(rc get fromlib)" "written by a local process"
rc set fromcli "written over the socket" >/dev/null
expect_eq "cli to lib" "$("$IKT_IPCKIT" cache "$n" get fromcli)" "written over the socket"
expect_eq "flushall" "$(rc flushall)" OK
expect_eq "dbsize 0" "$(rc dbsize)" 0
kill -TERM "$srv"
wait "$srv" || fail "serve exited $?"
echo "redis-cli ok"
