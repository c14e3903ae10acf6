#!/usr/bin/env bash
# The README's test command: installs what is missing, checks formatting,
# builds, runs every test, then builds again under ASan+UBSan and runs the
# unit and integration tests there, fuzzes, runs the concurrency tests under
# TSan, and last builds and tests the container images. Exits non-zero if
# anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
# Fault tests that need root (a private tmpfs to fill, docs/faults.md) fail
# rather than skip here, so that this run cannot pass without them.
export SWITCHBOARD_REQUIRE_FAULT_TOOLS=1

# Each step prints how long the run has taken so far, so a slow step shows.
started=$SECONDS
step() { printf '\n==> [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

step "installing dependencies"
scripts/install-deps.sh

step "checking formatting (clang-format)"
scripts/lint.sh format

# Release with the default options, exactly as a packager or newcomer builds
# it; the other builds below treat warnings as errors.
step "building (Release, as a user builds it) in build/"
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release

step "running the test suite"
ctest --test-dir build --output-on-failure --timeout 300 -j "$jobs" -LE images

step "static analysis (clang-tidy)"
scripts/lint.sh tidy build

# The sanitizer build uses clang, which also checks Abseil's thread-safety
# annotations (-Wthread-safety; GCC ignores them) across every target, with
# warnings as errors. -O1 -g1 is what ASan recommends: it compiles about
# three times faster than -O2 -g and keeps line numbers in every report.
step "building with clang, ASan+UBSan and -Wthread-safety in build-asan/"
CC=clang CXX=clang++ scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DSWITCHBOARD_SANITIZER=address -DSWITCHBOARD_WERROR=ON

step "running unit and integration tests under ASan+UBSan"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0" \
  ctest --test-dir build-asan --output-on-failure --timeout 600 -j "$jobs" -L 'unit|integration|concurrency'

# libFuzzer with ASan+UBSan: each target for a bounded time from its
# committed corpus (the corpus itself is replayed in every build above).
step "building the fuzzers (clang, libFuzzer + ASan/UBSan) in build-fuzz/"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSWITCHBOARD_FUZZ=ON -DSWITCHBOARD_FUZZ_SECONDS="${SWITCHBOARD_FUZZ_SECONDS:-30}" \
  -DSWITCHBOARD_WERROR=ON >/dev/null
cmake --build build-fuzz --parallel "$jobs" --target fuzzers

step "fuzzing each target for ${SWITCHBOARD_FUZZ_SECONDS:-30}s"
ctest --test-dir build-fuzz --output-on-failure -j "$jobs" -L fuzz

# ThreadSanitizer cannot see inside Debian's uninstrumented gRPC and Abseil,
# so it runs the tests of our own concurrent code (label "concurrency"),
# which synchronise only through common/sync.h and RocksDB.
step "building the concurrency tests with TSan in build-tsan/"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_SANITIZER=thread \
  -DSWITCHBOARD_WERROR=ON
cmake --build build-tsan --parallel "$jobs" --target concurrency_tests

step "running the concurrency tests under TSan"
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure --timeout 600 -j "$jobs" -L concurrency

# The container images, built from docker/Dockerfile and run as containers
# (docs/containers.md). The test reads the containers' /proc and volumes from
# the host, so it needs root.
if [ "$(id -u)" -eq 0 ]; then
  step "building and testing the container images (scripts/test-images.sh)"
  ctest --test-dir build --output-on-failure -L images
else
  step "skipping the container images: scripts/test-images.sh needs root"
fi

step "all tests passed"
