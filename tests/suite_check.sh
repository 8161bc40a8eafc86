#!/bin/sh
# The suite's bookends. "begin" records which IPC objects exist before the
# tests run; "end" fails, listing them, if the suite left anything behind:
# System V queues, semaphore sets or segments, POSIX shared memory, semaphores
# or queues, files under /tmp or the runtime directory, abstract sockets,
# or processes still running from the build tree.
set -u
mode=${1:?begin or end}
base="$IKT_BUILD_DIR/ikt-baseline.txt"
now="$IKT_BUILD_DIR/ikt-now.txt"

snapshot() {
	for k in msg sem shm; do
		[ -r /proc/sysvipc/$k ] &&
			awk -v k=$k 'NR > 1 { print "sysv-" k, $2, "key=" $1 }' /proc/sysvipc/$k
	done
	ls -A /dev/shm 2>/dev/null | sed 's/^/devshm /'
	if mountpoint -q /dev/mqueue 2>/dev/null; then
		ls -A /dev/mqueue | sed 's/^/mqueue /'
	fi
	[ -d "$TMPDIR" ] && ls -A "$TMPDIR" | sed 's/^/tmp /'
	[ -d "$IPCKIT_RUNTIME_DIR" ] && ls -A "$IPCKIT_RUNTIME_DIR" | sed 's/^/rundir /'
	awk 'NR > 1 && $8 ~ /^@ikt-/ { print "abstract", $8 }' /proc/net/unix
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case "$exe" in
		"$IKT_BUILD_DIR"/*) echo "process ${p#/proc/} $exe" ;;
		esac
	done
}

case "$mode" in
begin)
	mkdir -p "$IPCKIT_RUNTIME_DIR" "$TMPDIR" &&
		chmod 700 "$IPCKIT_RUNTIME_DIR" "$TMPDIR"
	snapshot | sort -u >"$base"
	echo "baseline: $(wc -l <"$base") objects"
	;;
end)
	snapshot | sort -u >"$now"
	left=$(comm -13 "$base" "$now")
	if [ -n "$left" ]; then
		echo "the suite left these behind:"
		echo "$left"
		exit 1
	fi
	echo "nothing left behind"
	;;
*)
	echo "usage: suite_check.sh begin|end" >&2
	exit 2
	;;
esac
