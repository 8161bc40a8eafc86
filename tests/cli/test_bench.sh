# ipckit bench, a SHORT run: tiny counts, checks the output's shape and that
# --json parses and holds real figures. Never a speed assertion: the machine
# is shared and the figures are noise at these counts.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
B="$IKT_IPCKIT bench --quick --quiet --rounds 60 --sizes 64,4K"
rows="floor,futex,eventfd,pipe,fifo,unix,pmq,svmq,ring,ring-zc"

expect_status 0 $B --only "$rows"
out=$ikt_tmp/out
for h in '^Mechanism +Speed' '^Round trip, 64 B' '^One-way throughput' \
	'^Ratios' '^Capacity and persistence' '^Skipped or failed'; do
	grep -Eq "$h" "$out" || fail "no section matching '$h'"
done
# measured rows have numbers in every latency column
for r in 'cache-line floor' 'futex' 'pipe \(raw\)' 'pipe \(ik_pipe\)' \
	'fifo \(ik_chan\)' 'pmq \(raw\)' 'svmq \(ik_chan\)' 'ring, spinning' \
	'ring, zero-copy'; do
	grep -Eq "^$r +[a-z]+ +[0-9]+\.[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ " \
		"$out" || fail "latency row '$r' missing or malformed"
done
grep -Eq '^ +pipe \(ik_pipe\) vs raw pipe \(RTT p50\) +[0-9.]+x$' "$out" ||
	fail "no ours-vs-raw ratio for pipe"
grep -q 'FAILED' "$out" && fail "a row failed: $(grep FAILED "$out")"
# the seed's table carries measured capacity and persistence
grep -Eq '^Msg Queue \(POSIX\) .*yes, data yes' "$out" ||
	fail "pmq persistence not measured"
grep -Eq '^Pipe .* 64 KiB buffered' "$out" || fail "pipe capacity not measured"

# --json: one object, parsed by a real JSON parser, figures in place
expect_status 0 $B --json --only floor,pipe,pmq,svmq,ring
cp "$ikt_tmp/out" "$ikt_tmp/bench.json"
/usr/bin/python3 - "$ikt_tmp/bench.json" <<'PY' || fail "--json check failed"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["name"]: r for r in d["rows"]}
for name in ("cache-line floor", "pipe (raw)", "pipe (ik_pipe)", "pmq (raw)",
             "svmq (ik_chan)", "ring, spinning"):
    r = rows[name]
    assert r["state"] == "ok", (name, r)
    lat = r["latency_us"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], (name, lat)
for name in ("pipe (raw)", "ring, spinning"):
    t = {x["size"]: x for x in rows[name]["throughput"]}
    assert t[64]["msgs_per_s"] > 0 and t[4096]["bytes_per_s"] > 0, (name, t)
assert d["config"]["sizes"] == [64, 4096], d["config"]
assert any(p["mech"] == "svmq" and "yes" in p["persist"] for p in d["probes"])
assert isinstance(d["ratios"], list) and d["ratios"], d["ratios"]
PY

# a size above a mechanism's largest message: a note, not a failure
expect_status 0 $B --only pmq --sizes 64K
grep -Eq '^ +pmq \(raw\) +65536 B not measured: above its largest message' \
	"$ikt_tmp/out" || fail "pmq 64 KiB not skipped with a note"

# usage errors: exit 2 with one line
expect_status 2 "$IKT_IPCKIT" bench --sizes 0
expect_status 2 "$IKT_IPCKIT" bench --reps 0
expect_status 2 "$IKT_IPCKIT" bench --cpus x
expect_status 2 "$IKT_IPCKIT" bench extra
expect_status 1 "$IKT_IPCKIT" bench --cpus 0,1000 --quick
echo "bench ok"
