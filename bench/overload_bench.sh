#!/usr/bin/env bash
# Overload: the stack offered five times what it sustains, with its default
# capacity flags, and what that does to memory, latency and data.
#
#   bench/overload_bench.sh [RUNS] [DURATION] [FACTOR]     (defaults: 1 60s 5; whole seconds)
#
# Each run, on fresh data directories:
#   1. before: a closed loop (4 × 16) for 15 s, the pipeline checked end to
#      end: the sustainable rate S and the normal latency;
#   2. overload: an open loop at FACTOR × S for DURATION, in pipeline mode,
#      so every accepted issue is checked delivered exactly once; intake's
#      peak resident memory is read from the kernel (VmHWM) after it;
#   3. after: the closed loop again for 15 s, at once (SubmitIssue only):
#      back to normal?
# Reported per run: offered and accepted rates, the accepted calls' p99,
# the refused calls (all must carry RetryInfo) and their p99, intake's peak
# RSS, lost and duplicated issues, and before/after latency. Needs the
# README's build; loopback ports 46051-46053 / 46091-46093. SERVICE_CPUS and
# CLIENT_CPUS (bench/lib.sh) pin the services and the load client apart.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-1}"
duration="${2:-60s}"
factor="${3:-5}"
warmup=5s
out="bench/results/overload-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
source bench/lib.sh

field() {  # LINE FIELD
  sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" <<<"$1"
}
pipeline=(--subscribe=teams/storage-oncall --notification=127.0.0.1:46053 --drain=180s)
echo "# fsync probe before: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"
for _ in $(seq 1 "$runs"); do
  start_stack full
  measure "before 4x16" "$warmup" 15s --connections=4 --streams=16 "${pipeline[@]}"
  sustained=$(field "$(tail -1 "$out")" throughput)
  offered=$(awk -v s="$sustained" -v f="$factor" 'BEGIN { printf "%.0f", s * f }')
  handling_buckets 127.0.0.1:46091 SubmitIssue >"$work/handling.before"
  measure "overload ${factor}x" "$warmup" "$duration" --connections=8 --rate="$offered" \
    "${pipeline[@]}"
  handling_buckets 127.0.0.1:46091 SubmitIssue >"$work/handling.after"
  echo "{\"label\":\"in intake\",\"handling_p99_ms\":$(handling_p99_ms "$work/handling.before" \
    "$work/handling.after")}" | tee -a "$out"
  measure "after 4x16" 0s 15s --connections=4 --streams=16
  stop_stack
done
echo "# fsync probe after: $(fsync_probe) ms per synced 1 KiB append" | tee -a "$out"

sum() {  # LABEL FIELD
  grep -F "\"label\":\"$1\"" "$out" | sed -E "s/.*\"$2\":([0-9]+).*/\\1/" |
    awk '{ s += $1 } END { print s + 0 }'
}
over="overload ${factor}x"
echo
echo "Overload at ${factor}× the sustained rate, median of $runs runs ($duration each):"
echo "  before: $(median "before 4x16" throughput) calls/s sustained, p99 $(median "before 4x16" p99_ms) ms"
echo "  offered $(median "$over" rate)/s: accepted $(median "$over" throughput)/s," \
  "p99 of accepted $(median "$over" p99_ms) ms; refused $(sum "$over" refused) calls" \
  "(p99 $(median "$over" refused_p99_ms) ms), $(sum "$over" refused_without_retry_info) without RetryInfo;" \
  "not sent (client at 20,000 in flight): $(sum "$over" dropped)"
echo "  inside intake (from its start in the server to its status, accepted and refused" \
  "alike; a bucket's upper edge): p99 ≤ $(median "in intake" handling_p99_ms) ms"
echo "  intake peak RSS $(median "$over" intake_peak_rss_mib) MiB (whole run)," \
  "notification $(median "$over" notification_peak_rss_mib) MiB"
echo "  after: $(median "after 4x16" throughput) calls/s, p99 $(median "after 4x16" p99_ms) ms," \
  "errors $(sum "after 4x16" errors)"
echo "accepted but never delivered: $(sum "$over" lost); delivered twice: $(sum "$over" duplicates)"
echo "every run: $out"
[ "$(sum "$over" lost)" = 0 ] && [ "$(sum "$over" duplicates)" = 0 ] &&
  [ "$(sum "$over" refused_without_retry_info)" = 0 ]
