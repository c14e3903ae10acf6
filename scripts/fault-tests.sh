#!/usr/bin/env bash
# The fault tests (docs/faults.md) alone, and the long outage at full size:
#
#   scripts/fault-tests.sh [ISSUES]
#
# Builds build/ if needed, runs every test labelled "fault" (they also run in
# the README's test command, the backlog there with 20,000 issues), then the
# backlog test with ISSUES issues (500,000 by default: about 10 minutes on
# 2 cores) and prints its JSON line. Needs root for the disk-full test's
# private tmpfs, and faketime (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
issues="${1:-500000}"
[[ -x build/bin/backlog_test ]] || scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
export SWITCHBOARD_REQUIRE_FAULT_TOOLS=1
ctest --test-dir build --output-on-failure -L fault -j "$(nproc)"
ctest --test-dir build --output-on-failure -R DiskFullTest
echo "==> the backlog test with ${issues} issues"
log="$(mktemp)"
if ! SWITCHBOARD_BACKLOG_ISSUES="${issues}" SWITCHBOARD_BIN_DIR="$PWD/build/bin" \
  build/bin/backlog_test >"${log}" 2>&1; then
  grep -v '^{"time"' "${log}" | tail -40
  exit 1
fi
grep '^{"issues"' "${log}"
rm -f "${log}"
