#!/usr/bin/env bash
# SubmitIssue throughput and latency: the durable service against the same
# intake binary with --noop_submit (answers at once, stores nothing), run A B
# A B in one session on fresh data directories, as shared/design/BENCHMARKS.md
# asks. Shapes: 1 connection × 1 call (latency floor), 4 × 16 (saturation),
# and an open loop at half the no-op's 4 × 16 throughput.
#
#   bench/submit_bench.sh [PAIRS] [DURATION] [WARMUP]     (defaults: 3 30s 5s)
#
# Needs the README's build (build/bin). Runs all three services on loopback
# ports 46051-46053 (metrics 46091-46093). Writes every run as a JSON line
# under bench/results/ and prints medians, ratios and spread.
set -euo pipefail
cd "$(dirname "$0")/.."

pairs="${1:-3}"
duration="${2:-30s}"
warmup="${3:-5s}"
bin="$PWD/build/bin"
for binary in switchboard-intake switchboard-routing switchboard-notification switchboard submit_load; do
  [ -x "$bin/$binary" ] || { echo "submit_bench: $bin/$binary missing; run scripts/build.sh" >&2; exit 1; }
done

work="$(mktemp -d /tmp/submit_bench.XXXXXX)"
mkdir -p bench/results
out="bench/results/submit-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
pids=()
stop_stack() {
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  pids=()
}
trap 'stop_stack; rm -rf "$work"' EXIT

# The disk: 2,000 synced 1 KiB appends.
fsync_probe() {
  local seconds
  seconds=$(dd if=/dev/zero of="$work/probe" bs=1k count=2000 oflag=dsync 2>&1 | awk '/copied/ {print $(NF-3)}')
  rm -f "$work/probe"
  awk -v s="$seconds" 'BEGIN { printf "%.3f", s * 1000 / 2000 }'
}

start_stack() {  # MODE: full | noop
  local data="$work/data-$RANDOM$RANDOM"
  mkdir -p "$data"
  "$bin/switchboard-routing" --grpc_listen=127.0.0.1:46052 --metrics_listen=127.0.0.1:46092 \
    --data_dir="$data/routing" --ruleset_file=config/sample-ruleset.yaml 2>>"$work/routing.log" &
  pids+=($!)
  "$bin/switchboard-notification" --grpc_listen=127.0.0.1:46053 --metrics_listen=127.0.0.1:46093 \
    --data_dir="$data/notification" 2>>"$work/notification.log" &
  pids+=($!)
  local noop=()
  [ "$1" = noop ] && noop=(--noop_submit)
  "$bin/switchboard-intake" --grpc_listen=127.0.0.1:46051 --metrics_listen=127.0.0.1:46091 \
    --data_dir="$data/intake" --routing_target=127.0.0.1:46052 \
    --notification_target=127.0.0.1:46053 "${noop[@]}" 2>>"$work/intake.log" &
  pids+=($!)
  for _ in $(seq 1 300); do
    if "$bin/switchboard" health --intake=127.0.0.1:46051 --routing=127.0.0.1:46052 \
        --notification=127.0.0.1:46053 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "submit_bench: the stack did not start; see $work/*.log" >&2
  exit 1
}

run() {  # MODE SHAPE-LABEL submit_load-flags...
  local mode=$1 shape=$2
  shift 2
  start_stack "$mode"
  "$bin/submit_load" --target=127.0.0.1:46051 --warmup="$warmup" --duration="$duration" \
    --label="$mode $shape" "$@" | tee -a "$out"
  stop_stack
}

# Median of a JSON field over the runs with a label.
median() {  # LABEL FIELD
  grep -F "\"label\":\"$1\"" "$out" | sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# fsync probe before: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"
for pair in $(seq 1 "$pairs"); do
  run full 1x1 --connections=1 --streams=1
  run noop 1x1 --connections=1 --streams=1
done
for pair in $(seq 1 "$pairs"); do
  run full 4x16 --connections=4 --streams=16
  run noop 4x16 --connections=4 --streams=16
done
half=$(awk -v t="$(median "noop 4x16" throughput)" 'BEGIN { printf "%d", t / 2 }')
for pair in $(seq 1 "$pairs"); do
  run full "open@$half" --connections=4 --rate="$half"
  run noop "open@$half" --connections=4 --rate="$half"
done
echo "# fsync probe after: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"

echo
echo "SubmitIssue, full vs no-op, median of $pairs alternating pairs ($duration each, $warmup warm-up):"
printf '%-12s %12s %12s %8s %10s %10s %10s %10s\n' shape "full/s" "noop/s" ratio "full p50" "noop p50" "full p99" "noop p99"
for shape in 1x1 4x16 "open@$half"; do
  full=$(median "full $shape" throughput)
  noop=$(median "noop $shape" throughput)
  printf '%-12s %12.0f %12.0f %8.2f %9.2fms %9.2fms %9.2fms %9.2fms\n' "$shape" "$full" "$noop" \
    "$(awk -v a="$full" -v b="$noop" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(median "full $shape" p50_ms)" "$(median "noop $shape" p50_ms)" \
    "$(median "full $shape" p99_ms)" "$(median "noop $shape" p99_ms)"
done
errors=$(grep -o '"errors":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
dropped=$(grep -o '"dropped":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
echo "calls that failed over all runs: $errors; open-loop calls not sent (client limit): $dropped"
echo "every run: $out"
