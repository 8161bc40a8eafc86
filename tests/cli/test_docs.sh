# Docs kept honest: every ipckit error code of <ipckit/error.h> is listed in
# ipckit(3), and every command of `ipckit --help` has a section in ipckit(1).
. "$IKT_SRC_DIR/tests/lib.sh"
set -e
hdr="$IKT_SRC_DIR/include/ipckit/error.h"
man3="$IKT_SRC_DIR/docs/ipckit.3.scd"
man1="$IKT_SRC_DIR/docs/ipckit.1.scd"
codes=$(sed -n 's/^[[:space:]]*X(\([A-Z_]*\),.*/\1/p' "$hdr")
[ -n "$codes" ] || fail "no codes found in error.h"
for c in $codes; do
	grep -q "^\*IK_$c\*\$" "$man3" || fail "ipckit(3) does not document IK_$c"
done
"$IKT_IPCKIT" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' |
	while read -r c; do
		grep -q "^\*$c\*" "$man1" || fail "ipckit(1) has no section for '$c'"
	done
echo "docs ok"
