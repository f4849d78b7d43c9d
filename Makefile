# stsd — the two set-up commands (make run, make test) and the other entry points.
#   make test         install dependencies, check formatting, build optimised and with ASan+UBSan
#                     (both -Werror), run every test (CTest), then each libFuzzer target briefly
#   make run          install dependencies, build, start a local three-replica cluster
#   make bench        build optimised and run the benchmarks (figures go to docs/benchmarks.md)
#   make build        optimised build into build/ (binaries in build/bin/)
#   make soak         long fault-injection runs (not part of make test)
#   make fuzz         build the libFuzzer targets (clang), run each FUZZ_SECONDS (default 300) and
#                     merge what adds coverage into tests/fuzz/corpus/ (commit it); make test runs
#                     them FUZZ_TEST_SECONDS (default 20) without touching the corpus
#   make format       reformat every C file with clang-format
#   make clean        remove build trees

BUILD      ?= build
TEST_BUILD ?= build/sanitize
JOBS       ?= $(shell nproc)
CTEST_ARGS ?=
FUZZ_BUILD ?= build/fuzz
FUZZ_TEST_SECONDS ?= 20
FUZZ_SECONDS ?= 300
C_FILES     = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all deps build test run bench soak fuzz format format-check clean

all: build

deps:
	@./scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTSD_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: deps format-check
	@# The optimised build warns where the debug build does not (-O2 flow analysis): compile it too.
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTSD_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSTSD_WERROR=ON -DSTSD_ASAN=ON \
		-DSTSD_UBSAN=ON -DSTSD_TEST_HOOKS=ON -DSTSD_BENCH=OFF >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		STSD_BIN=$(CURDIR)/$(TEST_BUILD)/bin \
		ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	@# libFuzzer targets, bounded: a crash fails the run and names its reproducer (006-fuzzing.md).
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) JOBS=$(JOBS) ./scripts/run-fuzz check

run: build
	@./scripts/run-local

bench: build
	@./scripts/run-bench $(BUILD)

soak: build
	@echo "make soak: no soak runs yet (they arrive with the consensus and controller issues)"

fuzz: deps
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) ./scripts/run-fuzz merge

format:
	@clang-format -i $(C_FILES)

format-check:
	@./scripts/check-format

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
