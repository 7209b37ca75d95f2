#!/usr/bin/env bash
# run-local.sh - the `make run` supervisor: starts the recorder, one
# dsp-worker host and the gateway as separate processes talking over ipc://
# in ./run, with data under ./data; restarts one that crashes; prints the
# URLs; Ctrl-C or SIGTERM stops them all cleanly.
#
# NOTES: usage: scripts/run-local.sh [BUILD_DIR] (default: build, or
# $PYC_BUILD_DIR). Every setting has a default (common/pyc_config.c); any
# variable set in the environment is passed through. A process that exits
# is restarted after a short, growing delay (a crash loop backs off up to
# 10 s). On INT/TERM each process gets SIGTERM (the gateway first, so
# sessions end and recordings are finalised while the workers and the
# recorder are still up), then SIGKILL after a bounded wait. If
# frontend/dist exists it is served at /; otherwise / says where the
# dashboard will be. The gateway serves the dashboard, the API and the
# WebSocket on one port, BACKEND_PORT (default 8000), any number; unless
# FRONTEND_URL is set, the dashboard's own origins on that port are the
# allowed browser origins (with the Vite dev server's and the docker
# frontend's :3000).
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-${PYC_BUILD_DIR:-build}}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

GATEWAY="$BUILD/gateway/pyc-gateway"
WORKER="$BUILD/dsp-worker/pyc-dsp-worker"
RECORDER="$BUILD/recorder/pyc-recorder"
for b in "$GATEWAY" "$WORKER" "$RECORDER"; do
  if [ ! -x "$b" ]; then
    echo "run-local: $b is missing; build first (make build)" >&2
    exit 1
  fi
done

cd "$ROOT" || exit 1
export DATA_DIR="${DATA_DIR:-$ROOT/data}"
export RUN_DIR="${RUN_DIR:-$ROOT/run}"
mkdir -p "$DATA_DIR" "$RUN_DIR"
if [ -z "${FRONTEND_DIR:-}" ] && [ -f "$ROOT/frontend/dist/index.html" ]; then
  export FRONTEND_DIR="$ROOT/frontend/dist"
fi
HTTP_PORT="${BACKEND_PORT:-8000}"
if [ -z "${FRONTEND_URL:-}" ]; then
  export FRONTEND_URL="http://localhost:$HTTP_PORT,http://127.0.0.1:$HTTP_PORT,http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173"
fi

NAMES=(recorder dsp-worker gateway)
BINS=("$RECORDER" "$WORKER" "$GATEWAY")
declare -A PID=() STARTED=() DELAY=()
STOPPING=0

start() {
  local i=$1
  "${BINS[$i]}" &
  PID[$i]=$!
  STARTED[$i]=$(date +%s)
}

stop_all() {
  STOPPING=1
  echo
  echo "run-local: stopping..."
  # gateway first: it ends the sessions (recordings finalised), then the
  # workers, then the recorder
  for i in 2 1 0; do
    local p=${PID[$i]:-}
    [ -n "$p" ] || continue
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 100); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$p" 2>/dev/null; then
      echo "run-local: ${NAMES[$i]} did not stop in 10 s, killing it" >&2
      kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
  done
  echo "run-local: stopped"
  exit 0
}
trap stop_all INT TERM

for i in 0 1 2; do
  DELAY[$i]=1
  start "$i"
done

cat <<EOF

  Pycoustics is running (Ctrl-C stops it)
    dashboard   http://localhost:$HTTP_PORT/
    API docs    http://localhost:$HTTP_PORT/docs
    health      http://localhost:$HTTP_PORT/health
    WebSocket   ws://localhost:$HTTP_PORT/ws/audio?session_id=...
    data        $DATA_DIR
EOF
[ -n "${FRONTEND_DIR:-}" ] || echo "    (no frontend/dist yet: / shows where the dashboard will be)"
echo

while :; do
  # wait -n returns when any child exits (or a trapped signal arrives)
  wait -n 2>/dev/null
  [ "$STOPPING" = 1 ] && break
  for i in 0 1 2; do
    p=${PID[$i]}
    if ! kill -0 "$p" 2>/dev/null; then
      wait "$p" 2>/dev/null
      rc=$?
      now=$(date +%s)
      if [ $((now - STARTED[$i])) -ge 30 ]; then
        DELAY[$i]=1
      fi
      echo "run-local: ${NAMES[$i]} exited (status $rc); restarting in ${DELAY[$i]} s" >&2
      sleep "${DELAY[$i]}"
      [ "$STOPPING" = 1 ] && break
      d=$((DELAY[$i] * 2))
      [ "$d" -gt 10 ] && d=10
      DELAY[$i]=$d
      start "$i"
    fi
  done
done
