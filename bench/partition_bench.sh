#!/usr/bin/env bash
# What partitioning costs: the whole pipeline (SubmitIssue → stored → routed
# → published → delivered on a Subscribe stream, every issue checked to
# arrive exactly once) on one partition of intake and notification (P = 1)
# against three of each (P = 3), on the same machine in the same session.
#
#   bench/partition_bench.sh [RUNS] [DURATION] [RATE]     (defaults: 3 30s 1500; whole seconds)
#
# Each run, on fresh data directories, for P = 1 and then P = 3: a closed
# loop (4 × 16) for DURATION, the sustained rate, then an open loop at RATE
# issues/s, a load both layouts carry, where CPU per issue compares like
# with like. At P = 3 the client balances its connections over the intake
# partitions (as a client of a headless Service does), so two submissions in
# three arrive at a partition that does not own their request_id and are
# forwarded, and the subscriber's stream is relayed from the partition that
# owns it: the cost measured is the cost of the real path. The figure of
# merit is the CPU of all services per delivered issue (target: P = 3 costs
# at most 25 % more than P = 1). A third layout, P = 3 with a
# partition-aware client (submit_load --direct: each SubmitIssue to the
# partition that owns its request_id, the subscriber at its own partition),
# separates what forwarding costs from what splitting the work costs. On
# one machine P = 3 cannot be faster:
# throughput here says only what the extra hops cost, not what more
# machines would give. Needs the README's build; loopback ports 46051-46059
# and 46091-46099.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
duration="${2:-30s}"
rate="${3:-1500}"
warmup=5s
out="bench/results/partition-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
source bench/lib.sh

subscriber=teams/storage-oncall
echo "# fsync probe before: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"
for _ in $(seq 1 "$runs"); do
  for layout in P=1 P=3 "P=3 direct"; do
    for mode in sustained open; do
      client=()
      case "$layout" in
        P=1)
          start_stack full
          client=(--notification=127.0.0.1:46053)
          ;;
        P=3)
          start_cluster 3
          client=(--notification="${notification_targets%%,*}")
          ;;
        *)
          start_cluster 3
          client=(--direct --notification="$notification_targets")
          ;;
      esac
      load=(--connections=4 --streams=16)
      [ "$mode" = open ] && load=(--connections=4 --rate="$rate")
      measure "$layout $mode" "$warmup" "$duration" "${load[@]}" \
        --subscribe="$subscriber" "${client[@]}" --drain=120s
      stop_stack
    done
  done
done
echo "# fsync probe after: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"

sum() {  # FIELD
  grep -o "\"$1\":[0-9]*" "$out" | awk -F: '{ s += $2 } END { print s + 0 }'
}
echo
echo "Partitioning, median of $runs runs ($duration each, $warmup warm-up):"
for mode in sustained open; do
  one=$(median "P=1 $mode" services_cpu_us_per_call)
  three=$(median "P=3 $mode" services_cpu_us_per_call)
  echo "  $mode: CPU µs per delivered issue, all services: P=1 $one, P=3 $three" \
    "($(awk -v a="$one" -v b="$three" 'BEGIN { printf "%+.0f %%", (b / a - 1) * 100 }'));" \
    "delivered/s P=1 $(median "P=1 $mode" delivered_per_s), P=3 $(median "P=3 $mode" delivered_per_s);" \
    "submit→delivery p99 ms P=1 $(median "P=1 $mode" delivery_p99_ms), P=3 $(median "P=3 $mode" delivery_p99_ms)"
  direct=$(median "P=3 direct $mode" services_cpu_us_per_call)
  echo "    P=3 with a partition-aware client (nothing forwarded): $direct" \
    "($(awk -v a="$one" -v b="$direct" 'BEGIN { printf "%+.0f %%", (b / a - 1) * 100 }') against P=1);" \
    "delivered/s $(median "P=3 direct $mode" delivered_per_s)"
  for layout in P=1 P=3 "P=3 direct"; do
    echo "    $layout: intake $(median "$layout $mode" intake_cpu_us_per_call)," \
      "routing $(median "$layout $mode" routing_cpu_us_per_call)," \
      "notification $(median "$layout $mode" notification_cpu_us_per_call) µs per issue;" \
      "peak RSS MiB of the largest partition: intake $(median "$layout $mode" intake_peak_rss_mib)," \
      "notification $(median "$layout $mode" notification_peak_rss_mib)"
  done
done
echo "accepted but never delivered: $(sum lost); delivered twice: $(sum duplicates);" \
  "failed calls: $(sum errors)"
echo "every run: $out"
[ "$(sum lost)" = 0 ] && [ "$(sum duplicates)" = 0 ]
