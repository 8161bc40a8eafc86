# ipckit bench, SHORT runs: the output contract (main table, reading,
# --json schema, --csv, --plot, progress only on a terminal, skipped peers),
# never a speed: the machine is shared and the figures are noise at these
# counts.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
Q="$IKT_IPCKIT bench --quick --rounds 60"
err=$ikt_tmp/err
no_stderr() { # WHAT: not a terminal, so nothing on standard error
	[ ! -s "$err" ] || fail "$1: stderr not empty: $(head -c 400 "$err")"
}

# 1. the whole --quick run as JSON: every mechanism, every key, every type
expect_status 0 $Q --sizes 64,4K,1M --json
no_stderr "--json"
cp "$ikt_tmp/out" "$ikt_tmp/all.json"
/usr/bin/python3 - "$ikt_tmp/all.json" "$ikt_tmp/names" <<'PY' || fail "--json schema check failed"
import json, sys
d = json.load(open(sys.argv[1]))
num = (int, float)
assert d["schema"] == 1
assert d["config"]["sizes"] == [64, 4096, 1048576], d["config"]
assert isinstance(d["clock_ns"], float) and d["clock_ns"] > 0, d["clock_ns"]
res = d["results"]
assert isinstance(res, list) and res
need = {"mechanism": str, "mech": str, "kind": str, "size": int, "state": str}
for r in res:
    for k, t in need.items():
        assert isinstance(r[k], t), (k, r)
    for k in ("note", "rtt_ns", "msgs_per_s", "bytes_per_s", "baseline",
              "ratio", "tput_ratio", "rtt_spread_pct", "setup_us"):
        assert k in r, (k, r)
    assert r["kind"] in ("floor", "sync", "raw", "ours", "peer", "ref"), r
    assert r["state"] in ("ok", "skipped", "failed"), r
    if r["rtt_ns"] is not None:
        q = r["rtt_ns"]
        assert all(isinstance(q[k], int) for k in ("p50", "p99", "p999", "max")), q
        assert 0 < q["p50"] <= q["p99"] <= q["p999"] <= q["max"], (r["mechanism"], q)
    for k in ("msgs_per_s", "bytes_per_s"):
        assert r[k] is None or (isinstance(r[k], num) and r[k] > 0), (k, r)
    if r["bytes_per_s"] is not None:
        # msgs_per_s is printed to 0.1 message
        assert abs(r["bytes_per_s"] - r["msgs_per_s"] * r["size"]) <= 1 + 0.05 * r["size"], r
    assert r["baseline"] is None or isinstance(r["baseline"], str), r
    assert (r["ratio"] is None) or (isinstance(r["ratio"], num) and r["ratio"] > 0), r
    if r["kind"] != "ours":
        assert r["baseline"] is None and r["ratio"] is None, r
    if r["state"] != "ok":
        assert r["note"] and r["rtt_ns"] is None, r
by = {}
for r in res:
    by.setdefault(r["mechanism"], {})[r["size"]] = r
# every mechanism of the seed and its baseline, each measured
for m in ("cache-line floor", "floor, a line per direction",
          "two-line floor, 64 B", "one-slot floor, 64 B",
          "futex", "eventfd", "System V semaphore",
          "POSIX semaphore", "real-time signal", "pipe (raw)", "fifo (raw)",
          "unix (raw)", "tcp (raw)", "pmq (raw)", "svmq (raw)",
          "pipe (ik_pipe)", "fifo (ik_chan)", "unix (ik_chan)",
          "tcp (ik_chan)", "pmq (ik_chan)", "svmq (ik_chan)",
          "ring, spinning", "ring, blocking", "ring, zero-copy"):
    assert m in by, ("missing", m)
    first = min(by[m])
    assert by[m][first]["state"] == "ok", by[m][first]
    assert by[m][first]["rtt_ns"] is not None, m
# our own rows and the baselines never fail; a peer may (reported)
for m, cells in by.items():
    for c in cells.values():
        if c["kind"] != "peer":
            assert c["state"] != "failed", c
# notification rows: one object of size 0; payload rows: 64, 4K, 1M
assert set(by["futex"]) == {0}, by["futex"].keys()
assert set(by["pipe (raw)"]) == {64, 4096, 1048576}
# baseline and ratio: ours against raw, the rings against floor and futex
u = by["unix (ik_chan)"][64]
assert u["baseline"] == "unix (raw)" and u["ratio"] > 0, u
assert by["ring, blocking"][64]["baseline"] == "futex"
assert by["ring, spinning"][64]["baseline"] == "cache-line floor"
assert by["pipe (raw)"][64]["baseline"] is None
# every ipckit row with a raw twin: its 64 B ratio from the paired run
# (both rows in the same two processes), the rows' own quotient beside it
for m in ("pipe", "fifo", "unix", "unixgram", "unixpacket", "abstract",
          "tcp", "udp", "pmq", "svmq"):
    c = [r for r in res if r["mech"] == m and r["kind"] == "ours"
         and r["size"] == 64]
    assert len(c) == 1 and c[0]["state"] == "ok", (m, c)
    c = c[0]
    assert c["baseline"] == m + " (raw)", c
    assert c["ratio_paired"] is True and c["ratio"] > 0, c
    assert c["ratio_unpaired"] > 0, c
# the rings and shm: paired with the floor, the blocking ring with futex
for m, base in (("ring, spinning", "cache-line floor"),
                ("ring, zero-copy", "cache-line floor"),
                ("shm (ik_chan)", "cache-line floor"),
                ("ring, blocking", "futex")):
    c = by[m][64]
    assert c["baseline"] == base and c["ratio_paired"] is True, c
    assert c["ratio"] > 0 and c["ratio_unpaired"] > 0, c
for r in res:
    assert isinstance(r["ratio_paired"], bool), r
    if r["ratio_paired"]:
        assert r["size"] == 64 and r["kind"] == "ours", r
    else:
        assert r["ratio"] == r["ratio_unpaired"], r
# throughput measured where it fits, a note where it does not
assert by["pipe (raw)"][4096]["msgs_per_s"] > 0
assert by["pmq (raw)"][1048576]["bytes_per_s"] is None
assert "largest message" in by["pmq (raw)"][1048576]["note"]
# the zero-copy ring's round trip at every size; the memcpy reference
for s in (64, 4096, 1048576):
    assert by["ring, zero-copy"][s]["rtt_ns"] is not None, s
    assert by["ring, spinning"][s]["rtt_ns"] is not None, s
mc = by["memcpy, one core"][1048576]
assert mc["kind"] == "ref" and mc["bytes_per_s"] > 0, mc
assert isinstance(d["skipped"], list)
assert isinstance(d["reading"], str) and d["reading"].startswith("Fastest here: ")
assert any(p["mech"] == "svmq" and "yes" in p["persist"] for p in d["probes"])
open(sys.argv[2], "w").write("\n".join(m for m in by if m != "memcpy, one core") + "\n")
PY

# 2. the text report of the whole run, zeromq disabled: every mechanism in
# the main table, sorted by RTT p50, the disabled peer reported as skipped
export IKB_DISABLE_PEERS=zeromq
expect_status 0 $Q --sizes 64,4K,1M
unset IKB_DISABLE_PEERS
no_stderr "text"
out=$ikt_tmp/out
sed -n '/^  Mechanism /,/^Baselines:/p' "$out" >"$ikt_tmp/main"
[ -s "$ikt_tmp/main" ] || fail "no main table"
while IFS= read -r m; do
	grep -Fq " $m " "$ikt_tmp/main" || fail "main table lacks '$m'"
done <"$ikt_tmp/names"
grep -Eq '^\^ cache-line floor +[0-9.]+ us' "$ikt_tmp/main" ||
	fail "floor row not marked"
grep -Eq '^= memcpy, one core' "$ikt_tmp/main" || fail "no memcpy reference row"
if grep -q '"zeromq PAIR ipc://"' "$ikt_tmp/all.json"; then
	grep -Eq '^\* zeromq PAIR ipc:// +skipped: disabled by IKB_DISABLE_PEERS' \
		"$ikt_tmp/main" || fail "disabled zeromq not reported as skipped"
else
	grep -Eq '^\* zeromq +skipped: not built' "$ikt_tmp/main" ||
		fail "zeromq not built and not reported"
fi
# sorted: the p50 column (us or ms) never decreases down the table
awk '/^[ ^*] / && ($0 ~ / us / || $0 ~ / ms /) {
	for (i = 2; i <= NF; i++) if ($(i + 1) == "us" || $(i + 1) == "ms") {
		v = $i * ($(i + 1) == "ms" ? 1000 : 1); break }
	if (n++ && v < last) { print "unsorted at: " $0; exit 1 }
	last = v }' "$ikt_tmp/main" || fail "main table not sorted by RTT p50"
grep -Eq '^  unix \(ik_chan\) .* [0-9]+\.[0-9]{2}x ' "$ikt_tmp/main" ||
	fail "no ratio for unix (ik_chan)"
grep -Eq '^  unix \(ik_chan\) vs raw unix \(RTT p50\) +[0-9]+\.[0-9]{2}x paired, [0-9]+\.[0-9]{2}x apart$' \
	"$out" || fail "no paired and unpaired ratio for unix (ik_chan)"
grep -Eq '^  ring spinning vs cache-line floor \(RTT p50\) +[0-9]+\.[0-9]{2}x paired, [0-9]+\.[0-9]{2}x apart$' \
	"$out" || fail "no paired and unpaired ratio for the spinning ring"
grep -Eq '^  pipe \(raw\) .* - +no \(no name\) +64 KiB buffered$' \
	"$ikt_tmp/main" || fail "pipe (raw): no '-' ratio, persistence, capacity"
grep -Eq '^ring, zero-copy +[0-9.]+ us +[0-9.]+ (us|ms)' "$out" ||
	fail "no zero-copy round trip by size"
for h in '^Details$' '^Round trip, 64 B' '^One-way throughput' '^Ratios' \
	'^Skipped or failed' '^Reading$'; do
	grep -Eq "$h" "$out" || fail "no section matching '$h'"
done
sed -n '/^Reading$/,$p' "$out" | tr '\n' ' ' >"$ikt_tmp/reading"
for w in 'Fastest here: ' 'slowest: ' 'Shared memory' \
	'ipckit over its raw system calls' "one core's memcpy"; do
	grep -Fq "$w" "$ikt_tmp/reading" || fail "reading lacks '$w'"
done

# 3. --csv: a header, then one line per mechanism and size, all as wide
expect_status 0 $Q --csv --only floor,pipe,pmq --sizes 64,4K,64K
no_stderr "--csv"
/usr/bin/python3 - "$ikt_tmp/out" <<'PY' || fail "--csv check failed"
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
assert head[:6] == ["mechanism", "mech", "kind", "size", "state", "rtt_p50_ns"], head
assert all(len(r) == len(head) == 15 for r in rows), [len(r) for r in rows]
got = {(r[0], r[3]) for r in rows[1:]}
for want in [("cache-line floor", "0"), ("pipe (raw)", "64"),
             ("pipe (ik_pipe)", "65536"), ("pmq (raw)", "65536"),
             ("memcpy, one core", "1048576")]:
    assert want in got, (want, got)
i = head.index
for r in rows[1:]:
    if (r[0], r[3]) == ("pipe (ik_pipe)", "64"):
        assert int(r[i("rtt_p50_ns")]) > 0 and r[i("baseline")] == "pipe (raw)"
        assert float(r[i("ratio")]) > 0
    if (r[0], r[3]) == ("pmq (raw)", "65536"):
        assert r[i("bytes_per_s")] == "" and "largest" in r[i("note")]
PY

# 4. --duration: a time budget per figure, counts calibrated by the run
expect_status 0 $IKT_IPCKIT bench --duration 0.02 --reps 1 \
	--only floor,pipe,ring-zc --sizes 64,64K --json
/usr/bin/python3 - "$ikt_tmp/out" <<'PY' || fail "--duration check failed"
import json, sys
d = json.load(open(sys.argv[1]))
assert abs(d["config"]["duration_s"] - 0.02) < 1e-9, d["config"]
by = {(r["mechanism"], r["size"]): r for r in d["results"]}
for k in (("cache-line floor", 0), ("pipe (raw)", 64), ("ring, zero-copy", 65536)):
    assert by[k]["state"] == "ok" and by[k]["rtt_ns"]["p50"] > 0, by[k]
assert by[("pipe (raw)", 65536)]["msgs_per_s"] > 0
PY

# 5. --plot: gnuplot through a pipe draws an SVG; without gnuplot, exit 1
if command -v gnuplot >/dev/null 2>&1; then
	expect_status 0 $Q --only floor,pipe,ring --sizes 64,4K --plot "$ikt_tmp/b.svg"
	grep -q '<svg' "$ikt_tmp/b.svg" || fail "--plot wrote no SVG"
	grep -q 'pipe (raw)' "$ikt_tmp/b.svg" || fail "SVG lacks the rows"
else
	note "gnuplot not installed (scripts/deps.sh test): --plot not drawn"
fi
if [ -z "${IKT_WRAP:-}" ]; then
	mkdir "$ikt_tmp/nogp"
	set +e
	timeout "$IKT_T" env PATH="$ikt_tmp/nogp" $Q --only floor \
		--plot "$ikt_tmp/c.svg" >"$ikt_tmp/out" 2>"$err"
	got=$?
	set -e
	expect_eq "bench --plot without gnuplot" "$got" 1
	grep -q 'gnuplot not found' "$err" || fail "no gnuplot: $(cat "$err")"
	[ ! -e "$ikt_tmp/c.svg" ] || fail "a plot without gnuplot"
fi

# 6. progress goes to a terminal (script(1) gives the run a pty)
if command -v script >/dev/null 2>&1 && [ -z "${IKT_WRAP:-}" ]; then
	timeout "$IKT_T" script -qec "$Q --only floor --sizes 64" /dev/null \
		>"$ikt_tmp/tty" 2>&1 </dev/null || fail "bench on a pty failed"
	grep -q 'repetition 1/1, round trips 1/[0-9]*: cache-line floor' "$ikt_tmp/tty" ||
		fail "no progress on a terminal: $(head -c 300 "$ikt_tmp/tty")"
fi

# a size above a mechanism's largest message: a note, not a failure
expect_status 0 $Q --only pmq --sizes 64K --quiet
grep -Eq '^ +pmq \(raw\) +65536 B not measured: above its largest message' \
	"$ikt_tmp/out" || fail "pmq 64 KiB not skipped with a note"

# --only an ipckit row: its baseline comes along, and nothing else
expect_status 0 $Q --only ring --sizes 64
grep -Eq '^\^ cache-line floor +[0-9.]+ us' "$ikt_tmp/out" ||
	fail "--only ring ran without the floor"
grep -Eq '^  ring spinning vs cache-line floor \(RTT p50\) +[0-9.]+x paired' \
	"$ikt_tmp/out" || fail "--only ring: no paired ratio"
grep -Eq '^  pipe|^  futex|two-line floor' "$ikt_tmp/out" &&
	fail "--only ring ran rows it did not need"

# usage errors: exit 2 with one line
expect_status 2 "$IKT_IPCKIT" bench --sizes 0
expect_status 2 "$IKT_IPCKIT" bench --reps 0
expect_status 2 "$IKT_IPCKIT" bench --cpus x
expect_status 2 "$IKT_IPCKIT" bench --duration 0
expect_status 2 "$IKT_IPCKIT" bench --duration 1x
expect_status 2 "$IKT_IPCKIT" bench --json --csv
expect_status 2 "$IKT_IPCKIT" bench --plot out.txt
expect_status 2 "$IKT_IPCKIT" bench extra
expect_status 1 "$IKT_IPCKIT" bench --cpus 0,1000 --quick
echo "bench ok"
