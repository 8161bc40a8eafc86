#!/bin/sh
# make demo: run every example program of the seed, as the tests drive them,
# showing their output. Usage: scripts/demo.sh BUILD_DIR
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
export IKT_SRC_DIR="$PWD" IKT_BUILD_DIR="$PWD/$build"
export IKT_EXAMPLES="$PWD/$build/examples" IKT_IPCKIT="$PWD/$build/ipckit"
export IPCKIT_RUNTIME_DIR="$PWD/$build/demo-run" IKT_VERBOSE=1
mkdir -p "$IPCKIT_RUNTIME_DIR" && chmod 700 "$IPCKIT_RUNTIME_DIR"
status=0
for t in tests/examples/*.sh; do
	[ -e "$t" ] || continue
	echo "=== $(basename "$t" .sh)"
	if ! sh "$t"; then
		echo "*** $(basename "$t" .sh) failed"
		status=1
	fi
done
exit $status
