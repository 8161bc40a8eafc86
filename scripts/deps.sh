#!/bin/sh
# Install the Debian packages that ipckit's build, tests and benchmark need,
# and only those that are missing. Idempotent; prints nothing when there is
# nothing to do. Usage: scripts/deps.sh [build|test|bench|all]...
set -eu

build="cmake ninja-build gcc clang pkg-config make scdoc"
test="libcmocka-dev socat netcat-openbsd util-linux procps psmisc python3 libclang-rt-14-dev tmux time python3-redis redis-tools redis-server clang-tidy cppcheck valgrind iproute2 gnuplot-nox"
bench="gnuplot-nox libzmq3-dev libnng-dev iceoryx libiceoryx-binding-c-dev redis-tools redis-server parallel"

want=""
[ $# -eq 0 ] && set -- build test
for group in "$@"; do
	case "$group" in
	build) want="$want $build" ;;
	test) want="$want $build $test" ;;
	bench) want="$want $build $bench" ;;
	all) want="$want $build $test $bench" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, bench, all)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
	command -v sudo >/dev/null 2>&1 || {
		echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
		exit 1
	}
else
	sudo=""
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
