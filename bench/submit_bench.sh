#!/usr/bin/env bash
# SubmitIssue throughput and latency: the durable service against the same
# intake binary with --noop_submit (answers at once, stores nothing), run A B
# A B in one session on fresh data directories, as docs/operations.md
# asks. Shapes: 1 connection × 1 call (latency floor), 4 × 16 (saturation),
# and an open loop at half the no-op's 4 × 16 throughput.
#
#   bench/submit_bench.sh [PAIRS] [DURATION] [WARMUP]     (defaults: 3 30s 5s; whole seconds)
#
# Needs the README's build (build/bin). Runs all three services on loopback
# ports 46051-46053 (metrics 46091-46093). Writes every run as a JSON line
# under bench/results/ — with each process's CPU microseconds per accepted
# call and peak RSS — and prints medians, ratios and spread.
set -euo pipefail
cd "$(dirname "$0")/.."

pairs="${1:-3}"
duration="${2:-30s}"
warmup="${3:-5s}"
out="bench/results/submit-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
source bench/lib.sh

run() {  # MODE SHAPE-LABEL submit_load-flags...
  local mode=$1 shape=$2
  shift 2
  start_stack "$mode"
  measure "$mode $shape" "$warmup" "$duration" "$@"
  stop_stack
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
printf '%-12s %22s %22s %6s %9s %9s %9s %9s\n' shape "full/s (spread)" "noop/s (spread)" ratio \
  "full p50" "noop p50" "full p99" "noop p99"
for shape in 1x1 4x16 "open@$half"; do
  full=$(median "full $shape" throughput)
  noop=$(median "noop $shape" throughput)
  printf '%-12s %22s %22s %6.2f %7.2fms %7.2fms %7.2fms %7.2fms\n' "$shape" \
    "$full ($(spread "full $shape" throughput))" "$noop ($(spread "noop $shape" throughput))" \
    "$(awk -v a="$full" -v b="$noop" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(median "full $shape" p50_ms)" "$(median "noop $shape" p50_ms)" \
    "$(median "full $shape" p99_ms)" "$(median "noop $shape" p99_ms)"
done
echo
echo "CPU microseconds per accepted call at 4x16 (median): intake, routing, notification, load client"
for mode in full noop; do
  printf '%-5s %6s %6s %6s %6s\n' "$mode" "$(median "$mode 4x16" intake_cpu_us_per_call)" \
    "$(median "$mode 4x16" routing_cpu_us_per_call)" \
    "$(median "$mode 4x16" notification_cpu_us_per_call)" \
    "$(median "$mode 4x16" client_cpu_us_per_call)"
done
errors=$(grep -o '"errors":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
dropped=$(grep -o '"dropped":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
echo "calls that failed over all runs: $errors; open-loop calls not sent (client limit): $dropped"
echo "every run: $out"
