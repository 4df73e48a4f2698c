# Glidepath — the commands the README gives. Every target installs what is missing first.
#
#   make          install dependencies, build build/glidepath
#   make test     the same, then the whole suite: a normal build and an ASan+UBSan build
#   make demo     build build/glidepath only, then run `glidepath demo`
#   make fuzz     run every fuzz target for FUZZ_SECONDS each (clang + libFuzzer)
#   make bench    the proxy benchmark against nginx and HAProxy, then the rollback benchmark
#                 (QUICK=1: smoke runs that leave docs/BENCHMARKS.md alone)
#   make bench-rollback  only the rollback benchmark: faulty canaries rolled back, healthy ones kept
#   make format   clang-format every source file

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
# Warnings are always on; CI (CI=true) also turns them into errors.
WERROR     := $(if $(CI),ON,OFF)
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DGLIDEPATH_WERROR=$(WERROR)

.PHONY: all deps build test test-release test-asan demo fuzz bench bench-rollback format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: test-release test-asan

test-release: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --no-tests=error --timeout 300

$(ASAN_BUILD)/build.ninja: | deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DGLIDEPATH_SANITIZE=ON

test-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure --no-tests=error --timeout 600

# Only the binary the demo runs, not the tests (`make build` builds everything for `make test`).
demo: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target glidepath
	$(BUILD)/glidepath demo

fuzz:
	@scripts/install-deps.sh --fuzz
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGLIDEPATH_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Installs nginx, HAProxy, wrk and h2load when missing, then measures direct / nginx /
# HAProxy / Glidepath and rewrites the proxy section of docs/BENCHMARKS.md (~5 minutes);
# then the rollback benchmark (bench-rollback below, ~3 minutes).
bench: build
	@bench/install-deps.sh
	build/bench/micro/access_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
	bench/proxy/run.sh
	bench/rollback/run.sh

# Needs only the gateway binary and python3: 10 faulty + 10 healthy deployments at 200 req/s
# against one `glidepath serve`; rewrites the rollback section of docs/BENCHMARKS.md.
bench-rollback: build
	bench/rollback/run.sh

format:
	find src tests bench -name '*.h' -o -name '*.cpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
