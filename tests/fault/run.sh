#!/bin/sh
# The long fault run (make fault): every scenario program, every call it
# makes, every errno, REPEAT times (the number of calls varies a little
# with timing: repeats reach the sites one run misses), then the distinct
# library call sites reached, by source line. Usage: run.sh BUILD_DIR
set -u
build=${1:-build}
dir=$build/tests/fault
repeat=${IKF_REPEAT:-10}
log=$(mktemp)
: "${TMPDIR:=/tmp}"
export TMPDIR
start=$(date +%s)
status=0
for r in $(seq "$repeat"); do
	for prog in "$dir"/fault_*; do
		[ -x "$prog" ] || continue
		IKF_VERBOSE=1 LD_PRELOAD="$dir/libikfault.so" \
			IKF_ERRNOS=EINTR,EAGAIN,ENOMEM,ENOSPC,EMFILE,EPIPE,SHORT \
			"$prog" >>"$log" 2>&1 || status=1
	done
done
grep -E '^(FAIL |FINDING|ikt_wait)' "$log"
grep -E '^[a-z_]+ +[0-9]+ calls' "$log" | awk '
	{ runs += $4; ret += $6; retr += $8; abs += $10; nf += $12; fail += $(NF-1) }
	END { printf "runs %d: %d returned an error, %d retried (EINTR/short), %d absorbed, %d not reached, %d FAILED\n", runs, ret, retr, abs, nf, fail }'
# distinct call sites in the library, by file:line (addr2line), x errnos
grep '^site ' "$log" | while read -r _ sc fn where outcome rc; do
	obj=${where%+*}
	off=${where##*+}
	case $obj in */fault_*|./fault_*) ;; *) echo "libc $fn"; continue ;; esac
	echo "$(addr2line -e "$dir/$(basename "$obj")" "$(printf '0x%x' $((off - 1)))") $fn $outcome"
done | sort | uniq -c | sort -rn >"$log.sites"
echo "distinct (call site, errno outcome) pairs: $(wc -l <"$log.sites")"
echo "distinct call sites: $(awk '{print $2, $3}' "$log.sites" | sort -u | wc -l)"
echo "sites by file:"
awk '{print $2}' "$log.sites" | sed 's/:.*//' | sort | uniq -c | sort -rn | sed 's|/.*/||'
echo "duration: $(($(date +%s) - start)) s"
rm -f "$log" "$log.sites"
exit $status
