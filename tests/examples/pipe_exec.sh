# pipe_exec: the seed's `ls -l | wc -l`, compared with the shell's own
# pipeline on a directory this test fills, on the current directory, on a
# missing directory, and with programs that cannot be found.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e

dir="$ikt_tmp/dir"
mkdir "$dir"
i=0
while [ $i -lt 37 ]; do
	echo "$i" >"$dir/file $i"
	i=$((i + 1))
done
mkdir "$dir/sub"

# the expected count is "count", not "want": lib.sh's expect_status sets that
count=$(ls -l "$dir" | wc -l)
expect_eq "shell count" "$count" 39 # "total" + 37 files + sub
expect_status 0 "$IKT_EXAMPLES/pipe_exec" "$dir"
expect_eq "pipe_exec $dir" "$(cat "$ikt_tmp/out")" "$count"
expect_eq "pipe_exec stderr" "$(cat "$ikt_tmp/err")" ""

# no argument: ls lists the current directory
count=$(cd "$dir/sub" && ls -l | wc -l)
out=$(cd "$dir/sub" && timeout "$IKT_T" "$IKT_EXAMPLES/pipe_exec")
expect_eq "pipe_exec in an empty directory" "$out" "$count"

# ls fails: wc still counts (nothing), the failure is reported, exit 1
expect_status 1 "$IKT_EXAMPLES/pipe_exec" "$dir/missing"
expect_eq "missing dir count" "$(cat "$ikt_tmp/out")" "$(ls -l "$dir/missing" 2>/dev/null | wc -l)"
grep -q '^pipe_exec: ls exited with status 2$' "$ikt_tmp/err" ||
	fail "no ls status report: $(cat "$ikt_tmp/err")"

# programs not found: named, not a silent exit 127, and no hang
expect_status 1 env PATH=/nonexistent "$IKT_EXAMPLES/pipe_exec" "$dir"
grep -q '^pipe_exec: ls: No such file or directory$' "$ikt_tmp/err" ||
	fail "ls not reported: $(cat "$ikt_tmp/err")"
grep -q '^pipe_exec: wc: No such file or directory$' "$ikt_tmp/err" ||
	fail "wc not reported: $(cat "$ikt_tmp/err")"

expect_status 2 "$IKT_EXAMPLES/pipe_exec" a b
echo "pipe_exec ok"
