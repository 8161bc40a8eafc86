# Front door for ipckit. The build itself is CMake (+ Ninja); this file only
# chains the steps a newcomer needs, each target doing its own set-up:
#   make test    install missing packages, build, run the suite, then again
#                under ASan+UBSan, the ring's tests under TSan, and check
#                that clang builds clean too
#   make demo    build and run every example program of the seed
#   make bench   install the peers (ZeroMQ, nng, iceoryx, gnuplot), build, and
#                measure every mechanism (a few minutes; BENCH_ARGS=--full)
#   make bench-plot  the same run, then bench.png: latency by mechanism and
#                throughput by size
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
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
PREFIX     ?= /usr/local

.PHONY: all deps build build-asan build-tsan test-tsan test test-unit test-asan \
	check-clang demo bench bench-deps bench-plot install fault load soak \
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
# (make lint: cppcheck, clang-tidy), then the suites; the last line adds
# them up ("tests: N passed, M failed"). The fuzzers are built
# too: the plain suite's cli/test_fuzz_smoke runs each for two seconds.
test: check-clang build lint build-asan build-tsan build-fuzz
	@JOBS=$(JOBS) scripts/ctest-summary.sh $(BUILD) $(ASAN_BUILD) \
		'$(TSAN_BUILD):$(TSAN_TESTS)'

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

# Fault injection, the long run (make test runs a short one): IKF_REPEAT
# passes over every scenario, call and errno, then the figures.
fault: build
	@sh tests/fault/run.sh $(BUILD)

# Fuzz every parser: FUZZ_SECONDS each (default 60), or FUZZ_RUNS
# executions each (the issue #9 run: FUZZ_RUNS=10000000, docs/FUZZ.md),
# FUZZ_JOBS targets side by side, at nice 19; FUZZ_TARGETS picks some.
# Corpora in fuzz/corpus/ grow in place: commit what is worth keeping,
# after -merge=1. The fuzzers are built -O1 (libFuzzer's advice) with
# ASan+UBSan and assertions on; -O0 ran them three to five times slower.
# The last lines are a table of figures for docs/FUZZ.md.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_JOBS ?= 1
FUZZ_FLAGS ?= -max_len=10000 -timeout=20
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

# Memcheck over every program the example and command tests run: the tests
# go through IKT_WRAP (tests/lib.sh), logs in $(BUILD)/valgrind/. Leaks
# still reachable at exit are not errors (stdio buffers); lost ones are.
# Left out: fanout, notify and pipe_exec need pidfd_open, which valgrind
# 3.19 (Debian 12) does not implement (syscall 434, ENOSYS); the cache test's 200
# parallel invocations take ~1.5 s each under memcheck, past its 300 s
# timeout (its commands run clean under memcheck one by one), and the chat
# tests (20 clients, tmux) ran past it too. --vgdb=no: no FIFOs in TMPDIR.
VALGRIND_SKIP ?= ^(cli/test_(fanout|notify|cache|chat|chat_tmux)|examples/pipe_exec)$$
VALGRIND ?= valgrind --quiet --error-exitcode=99 --leak-check=full --vgdb=no \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--log-file=$(CURDIR)/$(BUILD)/valgrind/%p.log
valgrind: build
	@rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind
	@IKT_WRAP="$(VALGRIND)" IKT_T=600 ctest --test-dir $(BUILD) \
		--output-on-failure -j $(JOBS) -R '^(examples|cli)/|^suite_' \
		-E '$(VALGRIND_SKIP)'; st=$$?; \
	bad=$$(grep -l -E 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]|^==[0-9]+== [A-Z]' \
		$(BUILD)/valgrind/*.log 2>/dev/null); \
	if [ -n "$$bad" ]; then echo "valgrind: errors in:"; echo "$$bad"; exit 1; fi; \
	echo "valgrind: $$(ls $(BUILD)/valgrind | wc -l) processes checked, no errors"; \
	exit $$st

demo: build
	@scripts/demo.sh $(BUILD)

# Release build of the command, linked with every peer library found.
BENCH_ARGS ?=
bench-deps:
	@scripts/deps.sh build bench

bench: bench-deps build
	@$(BUILD)/ipckit bench $(BENCH_ARGS)

bench-plot: bench-deps build
	@scripts/bench.sh plot $(BUILD) $(BENCH_ARGS)

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
