#!/usr/bin/env bash
# soak.sh - the long forms of the load tests (make soak), each bounded in
# time: MINUTES of 50 sessions streaming and recording (soak), 5 000
# connect-stream-disconnect cycles (churn), a minute of wrk against the
# HTTP API while sessions stream (REST load). Prints the figures.
#
# usage: scripts/soak.sh BUILD_DIR [MINUTES]     (MINUTES defaults to 10)
#
# NOTES: the programs are the ctest entries of tests/load/ (label "load"),
# run with larger settings through their environment variables; each one
# starts its own system on free loopback ports in a temporary folder and
# stops it. Each run is under `timeout`, so a hang ends the script. Every
# part runs even when an earlier one failed; the exit status is non-zero
# if any failed. Full output goes to a log folder (printed at the end).
set -euo pipefail

build=${1:?usage: scripts/soak.sh BUILD_DIR [MINUTES]}
minutes=${2:-10}
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -lt 1 ]; then
  echo "soak.sh: MINUTES must be a whole number of minutes, at least 1 (got '$minutes')" >&2
  exit 2
fi
for t in load_soak load_churn load_rest; do
  if [ ! -x "$build/tests/$t" ]; then
    echo "soak.sh: $build/tests/$t is not built (make build)" >&2
    exit 2
  fi
done

logs=$(mktemp -d /tmp/pycoustics-soak-XXXXXX)
failed=()

# run NAME LIMIT_SECONDS VAR=value... : one program, bounded, output kept
run() {
  local name=$1 limit=$2
  shift 2
  echo "== $name ($*; at most ${limit} s)"
  local start=$SECONDS rc=0
  env "$@" timeout --kill-after=30 "$limit" "$build/tests/$name" >"$logs/$name.log" 2>&1 || rc=$?
  grep -E "^(soak|churn|rest):|^100%|^[0-9]+%: Checks|:F:|:E:|^status|^errors|^Requests/sec" \
    "$logs/$name.log" | grep -v "^soak: worker " || true
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && echo "$name: over its time limit of ${limit} s"
    echo "$name: FAILED (exit $rc; log $logs/$name.log)"
    failed+=("$name")
  else
    echo "$name: passed in $((SECONDS - start)) s"
  fi
}

soak_s=$((minutes * 60))
run load_soak $((soak_s + 600)) \
  PYC_SOAK_SESSIONS=50 PYC_SOAK_SECONDS="$soak_s" PYC_SOAK_RECORD_SECONDS=30 \
  PYC_SOAK_SAMPLE_SECONDS=10
run load_churn 1200 PYC_CHURN_CYCLES=5000 PYC_CHURN_PARALLEL=8
run load_rest 600 PYC_REST_SECONDS=60 PYC_REST_SESSIONS=50 PYC_REST_CONNECTIONS=8

echo "== logs in $logs"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "soak.sh: failed: ${failed[*]}"
  exit 1
fi
echo "soak.sh: all passed"
