#!/usr/bin/env bash
# scripts/fuzz.sh - builds every libFuzzer target of tests/fuzz (clang,
# ASan + UBSan) and runs each for a bounded time on a scratch copy of its
# committed seed corpus and crashers.
#
# NOTES: the committed corpus (tests/fuzz/corpus/<target>) is never written:
# each run copies it, with tests/fuzz/crashers/<target>, into
# BUILD_DIR/fuzz-run/<target>/corpus and lets libFuzzer add to the copy.
# One line per target gives the executions (libFuzzer's
# stat::number_of_executed_units, from -print_final_stats=1), the corpus
# size and the coverage; a crash, a leak, a slow input (-timeout) or an
# out-of-memory fails the script, naming the reproducer libFuzzer saved in
# BUILD_DIR/fuzz-run/<target>/ (commit it under tests/fuzz/crashers/<target>/
# once the bug is fixed). Every step is bounded by timeout(1).
#
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS]    (SECONDS per target, default 60)
#        scripts/fuzz.sh --seeds BUILD_DIR      (regenerates tests/fuzz/corpus with
#                                                fuzz_seeds of a normal gcc build dir)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_src=$root/tests/fuzz

if [ "${1:-}" = "--seeds" ]; then
	bdir=${2:?usage: scripts/fuzz.sh --seeds BUILD_DIR}
	timeout 600 cmake --build "$bdir" -j"${JOBS:-2}" --target fuzz_seeds
	timeout 120 "$bdir/tests/fuzz_seeds" "$fuzz_src/corpus"
	echo "fuzz: seeds written to $fuzz_src/corpus"
	exit 0
fi

bdir=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
case $secs in
'' | *[!0-9]*)
	echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2
	exit 2
	;;
esac
case $bdir in
/*) ;;
*) bdir=$PWD/$bdir ;;
esac

# Every file that defines the entry point is a target.
targets=$(grep -l '^int LLVMFuzzerTestOneInput' "$fuzz_src"/fuzz_*.c |
	sed 's|.*/fuzz_\(.*\)\.c$|\1|' | sort)

# Inputs longer than this are not tried (sizes the parsers meet in practice,
# with room: a text command, a few binary frames, a WAV header and some data).
max_len() {
	case $1 in
	ws_command) echo 4096 ;;
	ws_binary) echo 65536 ;;
	wire) echo 16384 ;;
	http_route) echo 2048 ;;
	wav_repair) echo 16384 ;;
	*) echo 8192 ;;
	esac
}

echo "fuzz: configuring $bdir (clang, PYC_FUZZ)"
cfg_log=$(mktemp)
CC=clang timeout 600 cmake -S "$root" -B "$bdir" -DCMAKE_C_COMPILER=clang -DPYC_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=Debug >"$cfg_log" 2>&1 || {
	cat "$cfg_log" >&2
	rm -f "$cfg_log"
	exit 1
}
mv "$cfg_log" "$bdir/fuzz-configure.log"
build_targets=
for t in $targets; do
	build_targets="$build_targets fuzz_$t"
done
echo "fuzz: building$build_targets"
# shellcheck disable=SC2086
timeout 1200 cmake --build "$bdir" -j"${JOBS:-2}" --target $build_targets

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=()
for t in $targets; do
	run=$bdir/fuzz-run/$t
	rm -rf "$run"
	mkdir -p "$run/corpus" "$run/seeds"
	cp -r "$fuzz_src/corpus/$t/." "$run/seeds/" 2>/dev/null || true
	if [ -d "$fuzz_src/crashers/$t" ]; then
		cp -r "$fuzz_src/crashers/$t/." "$run/seeds/"
	fi
	seeds=$(find "$run/seeds" -type f | wc -l)
	dict=()
	if [ -f "$fuzz_src/$t.dict" ]; then
		dict=(-dict="$fuzz_src/$t.dict")
	fi
	echo "fuzz: $t for ${secs}s from $seeds seeds"
	rc=0
	# -timeout: one input taking over 10 s is a finding; the outer timeout
	# only catches libFuzzer itself hanging.
	timeout --kill-after=10 $((secs + 120)) "$bdir/tests/fuzz_$t" \
		-max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$run/" "$run/corpus" "$run/seeds" >"$run/log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$run/log" |
		tail -1 || true)
	cov=$( (grep -o 'cov: [0-9]*' "$run/log" || true) | tail -1 | sed 's/cov: //')
	size=$(find "$run/corpus" -type f | wc -l)
	line="fuzz $t: ${execs:-?} executions, corpus $size files (from $seeds seeds), cov ${cov:-?}"
	if [ "$rc" -ne 0 ]; then
		failed=1
		line="$line: FAILED (exit $rc)"
		echo "fuzz: $t failed (exit $rc); the end of $run/log:" >&2
		tail -40 "$run/log" >&2
		found=0
		for a in "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* "$run"/slow-unit-*; do
			if [ -e "$a" ]; then
				echo "fuzz: $t: reproducer saved in $a" >&2
				found=1
			fi
		done
		if [ "$found" -eq 0 ]; then
			echo "fuzz: $t: no reproducer file (see $run/log)" >&2
		fi
	fi
	summary+=("$line")
	echo "$line"
done
echo "fuzz: summary"
printf '  %s\n' "${summary[@]}"
exit "$failed"
