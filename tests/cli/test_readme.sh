# The README's tour is a real program: extract it, build it against this
# build's library, run it, check what it prints (docs kept honest).
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
src="$ikt_tmp/tour.c"
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' \
	"$IKT_SRC_DIR/README.md" >"$src"
[ -s "$src" ] || fail "no C block in README.md"
# names carry our pid, as every test's do
sed -i "s|/tour|/ikt-$$-tour|g" "$src"
san=""
[ -n "$IKT_SANITIZE" ] && san="-fsanitize=$IKT_SANITIZE"
# shellcheck disable=SC2086
"$IKT_CC" -std=c11 -D_GNU_SOURCE -Wall -Werror $san -I"$IKT_SRC_DIR/include" \
	-o "$ikt_tmp/tour" "$src" "$IKT_BUILD_DIR/libipckit.a" -lpthread -lrt ||
	fail "the README tour does not compile"
expect_status 0 "$ikt_tmp/tour"
expect_eq "tour output" "$(cat "$ikt_tmp/out")" "received: Hello"
echo "readme tour ok"
