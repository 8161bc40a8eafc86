# The ipckit command's skeleton: help, version, usage errors (exit 2).
. "$IKT_SRC_DIR/tests/lib.sh"
set -e

expect_status 0 "$IKT_IPCKIT" --help
grep -q '^usage: ipckit' "$ikt_tmp/out" || fail "--help has no usage line"
expect_status 0 "$IKT_IPCKIT" --version
grep -Eq '^ipckit [0-9]+\.[0-9]+\.[0-9]+ \(library [0-9.]+\)$' "$ikt_tmp/out" ||
	fail "--version: $(cat "$ikt_tmp/out")"
expect_status 0 "$IKT_IPCKIT" version
expect_status 0 "$IKT_IPCKIT" help
expect_status 2 "$IKT_IPCKIT"
expect_status 2 "$IKT_IPCKIT" no-such-command
expect_eq "unknown command message" "$(cat "$ikt_tmp/err")" \
	"ipckit: unknown command 'no-such-command' (see 'ipckit help')"
expect_status 2 "$IKT_IPCKIT" --no-such-option
expect_status 2 "$IKT_IPCKIT" help no-such-command
# every command listed in --help has help text of its own
"$IKT_IPCKIT" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' |
	while read -r c; do
		expect_status 0 "$IKT_IPCKIT" help "$c"
		[ -s "$ikt_tmp/out" ] || fail "help $c printed nothing"
	done
echo "skeleton ok"
