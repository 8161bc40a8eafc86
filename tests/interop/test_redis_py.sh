# python3-redis against ipckit serve with two workers: pipelines (many
# commands, one round trip, replies in order), types as redis-py decodes
# them; then a worker SIGKILLed while a client INCRements in a loop: the
# client reconnects, the supervisor restarts the worker, and the counter
# holds every acknowledged INCR (plus at most the one in flight).
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
py=/usr/bin/python3
$py -c 'import redis' 2>/dev/null || fail "no python3-redis (scripts/deps.sh test installs it)"
n="ikt-$$-rpy"
sock="$ikt_tmp/p.sock"
ikt_serve_cache "$n" 16M --listen "unix:$sock" --workers 2
up() { [ "$(grep -c 'serving\|^' "$ikt_tmp/log")" -ge 1 ] && [ -S "$sock" ] &&
	timeout 5 redis-cli -s "$sock" ping 2>/dev/null | grep -q PONG; }
wait_for up

timeout "$IKT_T" $py - "$sock" <<'PY' || fail "pipelines"
import sys, redis
r = redis.Redis(unix_socket_path=sys.argv[1])
p = r.pipeline(transaction=False)
for i in range(1000):
    p.set("k%d" % i, "v%d" % i)
    p.incr("ctr")
for i in range(1000):
    p.get("k%d" % i)
res = p.execute()
assert res[:2000:2] == [True] * 1000, res[:4]
assert res[1:2000:2] == list(range(1, 1001)), res[1:6]
assert res[2000:] == [b"v%d" % i for i in range(1000)]
assert r.mget("k1", "nope", "k2") == [b"v1", None, b"v2"]
assert r.set("t", "x", px=50000) and 45 <= r.ttl("t") <= 50
assert r.set("t", "y", nx=True) is None
assert r.exists("k1", "k2", "nope") == 2 and r.delete("k1", "nope") == 1
assert r.dbsize() == 1001
assert r.client_setname("py") and r.client_getname() == "py"
info = r.info()
assert info["db0"]["keys"] == 1001 and "used_memory" in info, info.get("db0")
try:
    r.execute_command("NOSUCH")
    raise SystemExit("no error for an unknown command")
except redis.ResponseError as e:
    assert "unknown command" in str(e)
print("pipelines ok")
PY

# kill the worker serving the client while it INCRements
timeout "$IKT_T" $py - "$sock" "$ikt_tmp/victim" "$ikt_tmp/go" >"$ikt_tmp/py.out" <<'PY' &
import os, sys, time, redis
sock, victim, go = sys.argv[1:4]
r = redis.Redis(unix_socket_path=sock, retry_on_timeout=False)
acked = lost = 0
while acked < 4000:
    try:
        if acked == 500 and lost == 0 and not os.path.exists(victim):
            pid = r.info("server")["process_id"]
            with open(victim + ".tmp", "w") as f:
                f.write(str(pid))
            os.rename(victim + ".tmp", victim)
            while not os.path.exists(go):
                time.sleep(0.01)  # waits for the shell's kill, bounded by timeout
        r.incr("load")
        acked += 1
    except redis.ConnectionError:
        lost += 1
        r = redis.Redis(unix_socket_path=sock)
print(acked, lost)
PY
py_pid=$!
ikt_pids="$ikt_pids $py_pid"
have_victim() { [ -s "$ikt_tmp/victim" ]; }
wait_for have_victim
victim=$(cat "$ikt_tmp/victim")
pgrep -P "$srv" | grep -qx "$victim" || fail "pid $victim is not a worker of $srv"
kill -KILL "$victim"
touch "$ikt_tmp/go"
wait "$py_pid" || fail "load client failed: $(cat "$ikt_tmp/py.out")"
set -- $(cat "$ikt_tmp/py.out")
acked=$1 lost=$2
[ "$lost" -le 1 ] || fail "lost $lost connections (one worker was killed)"
got=$(timeout "$IKT_T" redis-cli -s "$sock" get load)
[ "$got" -ge "$acked" ] && [ "$got" -le $((acked + lost)) ] ||
	fail "counter $got, acknowledged $acked (lost $lost)"
"$IKT_IPCKIT" cache "$n" check >/dev/null || fail "cache inconsistent after the kill"
grep -q "killed by signal 9; restarting" "$ikt_tmp/log" || fail "no restart line: $(cat "$ikt_tmp/log")"
[ "$(pgrep -P "$srv" | wc -l)" = 2 ] || fail "the supervisor did not restart the worker"
kill -TERM "$srv"
wait "$srv" || fail "serve exited $?"
echo "redis-py ok"
