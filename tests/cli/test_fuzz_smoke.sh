# Every libFuzzer target runs ~2 s from its seed corpus (copied, so the
# source tree is not written): each must exist, have seeds, run at least
# all of them and find nothing. The binaries come from the fuzz build
# (make build-fuzz), found through IKT_FUZZ_DIR; they carry ASan+UBSan
# themselves, so only the plain suite registers this test. Without a fuzz
# build it is skipped (exit 77); make test always builds one.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e

secs=${IKT_FUZZ_SECONDS:-2}
dir=${IKT_FUZZ_DIR:-}
if [ -z "$dir" ] || ! ls "$dir"/fuzz_* >/dev/null 2>&1; then
	echo "skipped: no fuzzers in '$dir' (make build-fuzz)"
	exit 77
fi

n=0
for src in "$IKT_SRC_DIR"/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$dir/$name
	seeds=$IKT_SRC_DIR/fuzz/corpus/$name
	[ -x "$bin" ] || fail "$name: not built in $dir (stale fuzz build?)"
	nseeds=$(find "$seeds" -type f 2>/dev/null | wc -l)
	[ "$nseeds" -gt 0 ] || fail "$name: no seed corpus in $seeds"
	corpus=$ikt_tmp/corpus-$name
	mkdir -p "$corpus" "$ikt_tmp/t-$name"
	cp "$seeds"/* "$corpus"/
	set +e
	(cd "$ikt_tmp" && TMPDIR=$ikt_tmp/t-$name timeout "$IKT_T" "$bin" \
		-max_total_time="$secs" -timeout=10 -max_len=10000 \
		-print_final_stats=1 -artifact_prefix="$ikt_tmp/$name-" \
		"$corpus") >"$ikt_tmp/log" 2>&1
	rc=$?
	set -e
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$ikt_tmp/log")
	if [ "$rc" != 0 ] || [ -z "$runs" ]; then
		tail -n 40 "$ikt_tmp/log" >&2
		ls "$ikt_tmp/$name-"* 2>/dev/null >&2 || true
		fail "$name exited $rc"
	fi
	[ "$runs" -ge "$nseeds" ] || fail "$name: only $runs runs for $nseeds seeds"
	# a fuzzer must clean up its own files (notify's runtime directory)
	left=$(find "$ikt_tmp/t-$name" -mindepth 1 | head -n 3)
	[ -z "$left" ] || fail "$name left files behind: $left"
	note "$name: $runs runs"
	n=$((n + 1))
done
[ "$n" -ge 8 ] || fail "only $n fuzz targets found"
echo "fuzz smoke ok: $n targets"
