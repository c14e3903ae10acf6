#!/usr/bin/env bash
# The README's demo command: a realistic batch of customer issues through the
# local stack (`switchboard demo`). Uses the stack if it is already running
# (scripts/run-local.sh); otherwise starts it for the demo, on the same data
# directory, and stops it afterwards.
#
# Environment: as scripts/run-local.sh (SWITCHBOARD_DATA_DIR,
# SWITCHBOARD_BUILD_DIR, SWITCHBOARD_SKIP_BUILD). Arguments go to
# `switchboard demo` (e.g. --wait=60s).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
data_dir="$(realpath -m "${SWITCHBOARD_DATA_DIR:-var}")"

if [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ]; then
  scripts/install-deps.sh
  scripts/build.sh "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cli="$build_dir/bin/switchboard"

if ! "$cli" health >/dev/null 2>&1; then
  mkdir -p "$data_dir/log"
  stack_log="$data_dir/log/demo-stack.log"
  echo "Starting the local stack for the demo (output in $stack_log)..."
  SWITCHBOARD_SKIP_BUILD=1 SWITCHBOARD_BUILD_DIR="$build_dir" SWITCHBOARD_DATA_DIR="$data_dir" \
    scripts/run-local.sh >"$stack_log" 2>&1 &
  stack=$!
  stop_stack() {
    kill -TERM "$stack" 2>/dev/null || true
    wait "$stack" 2>/dev/null || true
    echo
    echo "Stopped the stack started for the demo (data kept in $data_dir)."
    echo "Run scripts/run-local.sh to keep it running and explore with build/bin/switchboard."
  }
  trap stop_stack EXIT
  for _ in $(seq 1 150); do
    if "$cli" health >/dev/null 2>&1; then break; fi
    if ! kill -0 "$stack" 2>/dev/null; then
      echo "the local stack failed to start:" >&2
      tail -n 20 "$stack_log" >&2
      exit 1
    fi
    sleep 0.2
  done
fi

"$cli" demo "$@"
