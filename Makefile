# Front door for ipckit. The build itself is CMake (+ Ninja); this file only
# chains the steps a newcomer needs, each target doing its own set-up:
#   make test    install missing packages, build, run the suite, then again
#                under ASan+UBSan, the ring's tests under TSan, the examples'
#                and the command's tests under valgrind memcheck, and check
#                that clang, and gcc at -O3 (Release), build clean too
#   make demo    build and run every example program of the seed
#   make bench   install the peers (ZeroMQ, nng, iceoryx, gnuplot), build, and
#                measure every mechanism (about a minute; BENCH_ARGS=--full)
#   make bench-plot  the same run, kept in bench.txt, and bench.png drawn by
#                gnuplot: latency by mechanism, throughput by size
#   make fault   fault injection at every library call site with every errno,
#                ten times over, with the call sites reached (docs/FAULTS.md)
#   make load    ipckit serve under load: 5,000 checked connections with a
#                slow client, then redis-benchmark -c 1000 -n 200000
#   make soak    10 minutes (SOAK_SECONDS) of serve, ring and chat load, RSS
#                and descriptors sampled into build/soak.csv, a verdict
#   make install install library, headers, pkg-config file, command, man pages
#   make fuzz    run every libFuzzer target FUZZ_SECONDS, or FUZZ_RUNS times
#                (docs/FUZZ.md has the figures of the 10 M run)
#   make lint    cppcheck and clang-tidy over lib/ cmd/ examples/
#   make valgrind  the examples' and the command's tests under memcheck
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# the tests ThreadSanitizer runs: those of the lock-free shared structures
TSAN_TESTS ?= ^test_ring|^test_cache
CLANG_BUILD ?= build-clang
RELEASE_BUILD ?= build-release
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
PREFIX     ?= /usr/local

.PHONY: all deps build build-asan build-tsan test-tsan test test-unit test-asan \
	check-clang check-release demo bench bench-deps bench-plot install fault load soak \
	build-fuzz fuzz lint valgrind format format-check clean

all: build

deps:
	@scripts/deps.sh build test

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) \
		-DIKT_FUZZ_DIR=$(CURDIR)/$(FUZZ_BUILD)/fuzz >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The clang build comes first (compile only), then the static analysis
# (make lint: cppcheck, clang-tidy), then the suites: plain, ASan+UBSan,
# TSan, and memcheck (make valgrind); the last line adds them all up
# ("tests: N passed, M failed"). The fuzzers are built
# too: the plain suite's cli/test_fuzz_smoke runs each for two seconds.
test: check-clang check-release build lint build-asan build-tsan build-fuzz
	@VALGRIND='$(VALGRIND)' VALGRIND_EXCLUDE='$(VALGRIND_EXCLUDE)' \
		JOBS=$(JOBS) scripts/ctest-summary.sh $(BUILD) $(ASAN_BUILD) \
		'$(TSAN_BUILD):$(TSAN_TESTS)' 'valgrind:$(BUILD):$(VALGRIND_TESTS)'

test-tsan: build-tsan
	@JOBS=$(JOBS) scripts/ctest-summary.sh '$(TSAN_BUILD):$(TSAN_TESTS)'

build-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DIK_SANITIZE=thread >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)

test-unit: build
	@JOBS=$(JOBS) scripts/ctest-summary.sh $(BUILD)

test-asan: build-asan
	@JOBS=$(JOBS) scripts/ctest-summary.sh $(ASAN_BUILD)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DIK_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

check-clang: deps
	@CC=clang cmake -S . -B $(CLANG_BUILD) $(CMAKE_GEN) \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(CLANG_BUILD) -j $(JOBS)
	@echo "clang build: clean"

# -O3 finds what -O2 does not (maybe-uninitialized, format-truncation):
# a user's Release build must be as clean as ours (compile only).
check-release: deps
	@cmake -S . -B $(RELEASE_BUILD) $(CMAKE_GEN) \
		-DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_BUILD) -j $(JOBS)
	@echo "release build: clean"

# Fault injection, the long run (make test runs a short one): IKF_REPEAT
# passes over every scenario, call and errno, then the figures.
fault: build
	@sh tests/fault/run.sh $(BUILD)

# Fuzz every parser: FUZZ_SECONDS each (default 60), or FUZZ_RUNS
# executions each (the issue #9 run: FUZZ_RUNS=10000000, docs/FUZZ.md),
# FUZZ_JOBS targets side by side, at nice 19 and SCHED_IDLE (they take only
# CPU time nothing else wants); FUZZ_TARGETS picks some.
# Corpora in fuzz/corpus/ grow in place: commit what is worth keeping,
# after -merge=1. The fuzzers are built -O1 (libFuzzer's advice) with
# ASan+UBSan and assertions on; -O0 ran them three to five times slower.
# The last lines are a table of figures for docs/FUZZ.md.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_JOBS ?= 1
FUZZ_FLAGS ?= -max_len=10000 -timeout=60
FUZZ_TARGETS ?= $(basename $(notdir $(wildcard fuzz/fuzz_*.c)))
build-fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG='-g -O1' \
		-DIK_SANITIZE=address,undefined -DIK_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)

fuzz: build-fuzz
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_RUNS='$(FUZZ_RUNS)' \
		FUZZ_JOBS='$(FUZZ_JOBS)' FUZZ_FLAGS='$(FUZZ_FLAGS)' \
		nice -n 19 fuzz/run.sh $(CURDIR)/$(FUZZ_BUILD)/fuzz $(FUZZ_TARGETS)

# Static analysis (cppcheck, clang-tidy with .clang-tidy) over lib/ cmd/
# examples/; needs the build's compile_commands.json.
lint: build
	@scripts/lint.sh $(BUILD)

# Memcheck over every program the example and command tests run (the
# tests go through IKT_WRAP, tests/lib.sh; one log per process in
# $(BUILD)/valgrind/). Nothing is skipped: valgrind 3.19 has no pidfd_open
# (ENOSYS), so spawn, fanout, notify, ring and the loop take their no-pidfd
# fallbacks here (tested in the plain suite too: tests/test_nopidfd.c), and
# the cache test runs fewer concurrent commands and the fanout test a 64 MiB
# stream instead of 1 GiB under a wrapper. Leaks still
# reachable at exit are not errors (stdio buffers); lost ones are, and any
# process with an error fails the run. --vgdb=no: no FIFOs in TMPDIR.
# It takes about 5 minutes (27 tests, ~1,100 processes, -j2 on two CPUs;
# 287 s in a CI run); cli/test_chat is the longest, ~100 s.
VALGRIND_TESTS ?= ^(examples|cli)/
VALGRIND_EXCLUDE ?=
VALGRIND ?= valgrind --quiet --error-exitcode=99 --leak-check=full --vgdb=no \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
valgrind: build
	@VALGRIND='$(VALGRIND)' VALGRIND_EXCLUDE='$(VALGRIND_EXCLUDE)' \
		JOBS=$(JOBS) scripts/ctest-summary.sh \
		'valgrind:$(BUILD):$(VALGRIND_TESTS)'

demo: build
	@scripts/demo.sh $(BUILD)

# Release build of the command, linked with every peer library found.
BENCH_ARGS ?=
bench-deps:
	@scripts/deps.sh build bench

bench: bench-deps build
	@$(BUILD)/ipckit bench $(BENCH_ARGS)

bench-plot: bench-deps build
	@st=0; $(BUILD)/ipckit bench --plot bench.png $(BENCH_ARGS) >bench.txt || \
		st=$$?; cat bench.txt; exit $$st

install: build
	cmake --install $(BUILD)

# The full load test (docs/SOAK.md); the suite runs a short one (1,000).
LOAD_CONNS ?= 5000
RB_REQUESTS ?= 200000
load: bench-deps build
	@IKT_SRC_DIR=$(CURDIR) IKT_IPCKIT=$(CURDIR)/$(BUILD)/ipckit \
		IKT_LOAD=$(CURDIR)/$(BUILD)/tests/ik_load IKT_T=120 \
		LOAD_CONNS=$(LOAD_CONNS) RB_CLIENTS=1000 RB_REQUESTS=$(RB_REQUESTS) \
		sh tests/load/serve_load.sh

SOAK_SECONDS ?= 600
soak: build
	@SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh $(BUILD)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(CLANG_BUILD) $(RELEASE_BUILD) $(FUZZ_BUILD)
