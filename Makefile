# Pycoustics front door.
#   make run   - install what is missing, build everything, start the system locally
#   make test  - install what is missing, build everything, run every test (ctest),
#                then the C tests again under the sanitizers
#   make fuzz  - every libFuzzer target for FUZZ_SECONDS each (clang, ASan + UBSan)
#   make soak  - the long load forms (SOAK_MINUTES of 50 sessions, churn, REST load)
# Other targets: build, coverage, asan, bench, frontend, clean.

BUILD      ?= build
JOBS       ?= 2
CMAKE_ARGS ?=
CTEST_ARGS ?=
FUZZ_SECONDS ?= 60
SOAK_MINUTES ?= 10

.PHONY: all deps build frontend test run coverage asan fuzz soak bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DPYC_WERROR=ON $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)

frontend: deps
	@if [ -f frontend/package.json ]; then \
	  cd frontend && npm ci --no-audit --no-fund && npm run build; \
	fi

# Every test, then the C suites once more under ASan + UBSan + LeakSanitizer,
# then a short run of every fuzz target.
test: build frontend
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) $(CTEST_ARGS)
	$(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

run: build frontend
	scripts/run-local.sh $(BUILD)

# Line coverage of common/ and the DSP engine (target: at least 90 %).
coverage: deps
	cmake -S . -B build-cov -DPYC_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build build-cov -j$(JOBS)
	ctest --test-dir build-cov -LE frontend --output-on-failure -j$(JOBS)
	gcovr -r . build-cov --filter 'common/' --filter 'dsp-worker/dw_(pipeline|filter|fft|levels|spectrum|gain|waveform|smooth)' \
	  --exclude 'tests/' --print-summary --fail-under-line 90

# The whole C test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B build-asan -DPYC_SANITIZE=ON -DPYC_WERROR=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j$(JOBS) -LE frontend $(CTEST_ARGS)

# libFuzzer targets (build-fuzz, clang): each runs FUZZ_SECONDS on its
# committed corpus and prints how many executions it made.
fuzz: deps
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# The long forms of the load tests, each bounded in time.
soak: build
	scripts/soak.sh $(BUILD) $(SOAK_MINUTES)

bench: build
	@for b in $(BUILD)/bench/bench_*; do [ -x "$$b" ] && echo "== $$b" && "$$b"; done

clean:
	rm -rf $(BUILD) build-cov build-asan build-fuzz
