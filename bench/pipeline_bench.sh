#!/usr/bin/env bash
# The whole pipeline: SubmitIssue → stored → routed → published → delivered
# on the owning team's Subscribe stream, with every accepted issue checked
# to arrive exactly once (bench/submit_load --subscribe).
#
#   bench/pipeline_bench.sh [RUNS] [DURATION] [RATE]     (defaults: 3 60s 5000; whole seconds)
#
# Each run, on fresh data directories: a closed loop (4 × 16) for DURATION —
# the sustained rate — then an open loop at RATE issues/s for DURATION — the
# submit → delivery latency at a fixed offered load — then, as the baseline
# of the same session, intake with --noop_submit at 4 × 16. Every run's JSON
# line carries the CPU microseconds per issue and the peak RSS of each
# service. Needs the README's build; loopback ports 46051-46053 / 46091-46093.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
duration="${2:-60s}"
rate="${3:-5000}"
warmup=5s
out="bench/results/pipeline-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
source bench/lib.sh

pipeline=(--subscribe=teams/storage-oncall --notification=127.0.0.1:46053 --drain=120s)
echo "# fsync probe before: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"
for run in $(seq 1 "$runs"); do
  start_stack full
  measure "sustained 4x16" "$warmup" "$duration" --connections=4 --streams=16 "${pipeline[@]}"
  stop_stack
  start_stack full
  measure "open@$rate" "$warmup" "$duration" --connections=4 --rate="$rate" "${pipeline[@]}"
  stop_stack
  start_stack noop
  measure "noop 4x16" "$warmup" "$duration" --connections=4 --streams=16
  stop_stack
done
echo "# fsync probe after: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"

lost=$(grep -o '"lost":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
dups=$(grep -o '"duplicates":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
errors=$(grep -o '"errors":[0-9]*' "$out" | awk -F: '{ s += $2 } END { print s + 0 }')
echo
echo "Pipeline, median of $runs runs ($duration each, $warmup warm-up):"
echo "  sustained (4x16): $(median "sustained 4x16" delivered_per_s) issues/s delivered" \
  "(spread $(spread "sustained 4x16" delivered_per_s)); no-op SubmitIssue baseline" \
  "$(median "noop 4x16" throughput) calls/s"
echo "  open loop at $rate/s: submit→delivery p50 $(median "open@$rate" delivery_p50_ms) ms," \
  "p99 $(median "open@$rate" delivery_p99_ms) ms (spread $(spread "open@$rate" delivery_p99_ms))," \
  "p99.9 $(median "open@$rate" delivery_p999_ms) ms"
for label in "sustained 4x16" "open@$rate"; do
  echo "  $label: CPU µs per issue intake $(median "$label" intake_cpu_us_per_call)," \
    "routing $(median "$label" routing_cpu_us_per_call)," \
    "notification $(median "$label" notification_cpu_us_per_call)," \
    "client $(median "$label" client_cpu_us_per_call); peak RSS MiB intake" \
    "$(median "$label" intake_peak_rss_mib), routing $(median "$label" routing_peak_rss_mib)," \
    "notification $(median "$label" notification_peak_rss_mib)"
done
echo "accepted but never delivered: $lost; delivered twice: $dups; failed calls: $errors"
echo "every run: $out"
[ "$lost" = 0 ] && [ "$dups" = 0 ]
