#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, starting from its committed
# corpus, writing new inputs and any crash to a scratch directory (the
# committed corpus is never modified). Exits non-zero on a crash, a leak, a
# timeout or out-of-memory; the reproducer's path is printed.
#   scripts/run-fuzzer.sh FUZZER CORPUS_DIR SECONDS [NEW_INPUTS_DIR]
# With NEW_INPUTS_DIR the inputs it found are kept there (to merge into the
# corpus, see docs/operations.md); without, they are removed at the end.
set -euo pipefail
fuzzer="$1"
corpus="$2"
seconds="$3"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")"
if [ -n "${4:-}" ]; then
  new="$4"
else
  new="$scratch/new"
  trap 'rm -rf "$scratch/new"' EXIT
fi
mkdir -p "$new"
echo "fuzzing $(basename "$fuzzer") for ${seconds}s; new inputs in $new, artifacts in $scratch"
"$fuzzer" "$new" "$corpus" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$scratch/"
