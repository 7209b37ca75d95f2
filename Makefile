# Pycoustics front door.
#   make run   - install what is missing, build everything, start the system locally
#   make test  - install what is missing, build everything, run every test (ctest),
#                then the C tests again under the sanitizers
# Other targets: build, coverage, asan, bench, frontend, clean.

BUILD      ?= build
JOBS       ?= 2
CMAKE_ARGS ?=
CTEST_ARGS ?=

.PHONY: all deps build frontend test run coverage asan bench clean

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

# Every test, then the C suites once more under ASan + UBSan + LeakSanitizer.
test: build frontend
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) $(CTEST_ARGS)
	$(MAKE) --no-print-directory asan

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

bench: build
	@for b in $(BUILD)/bench/bench_*; do [ -x "$$b" ] && echo "== $$b" && "$$b"; done

clean:
	rm -rf $(BUILD) build-cov build-asan
