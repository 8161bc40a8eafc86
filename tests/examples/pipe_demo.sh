# pipe_demo: the seed's parent-to-child pipe, output checked line by line.
. "$IKT_SRC_DIR/tests/lib.sh"
set -e

expect_status 0 "$IKT_EXAMPLES/pipe_demo"
expect_eq "pipe_demo output" "$(cat "$ikt_tmp/out")" "Parent sending: Hello through pipe!
Child received: Hello through pipe!"
expect_eq "pipe_demo stderr" "$(cat "$ikt_tmp/err")" ""
# the same when stdout is a pipe to a slow reader, not a file
out=$(timeout "$IKT_T" "$IKT_EXAMPLES/pipe_demo" | cat)
expect_eq "pipe_demo through a pipe" "$out" "Parent sending: Hello through pipe!
Child received: Hello through pipe!"
note "$out"
echo "pipe_demo ok"
