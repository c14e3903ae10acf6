#!/usr/bin/env bash
# The README's test command: installs what is missing, checks formatting,
# builds, runs every test, then builds again under ASan+UBSan and runs the
# unit and integration tests there. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

step() { printf '\n==> %s\n' "$*"; }

step "installing dependencies"
scripts/install-deps.sh

step "checking formatting (clang-format)"
scripts/lint.sh format

# Release with the default options, exactly as a packager or newcomer builds
# it; the other builds below treat warnings as errors.
step "building (Release, as a user builds it) in build/"
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release

step "running the test suite"
ctest --test-dir build --output-on-failure --timeout 300 -j "$jobs"

step "static analysis (clang-tidy)"
scripts/lint.sh tidy build

# GCC ignores Abseil's thread-safety annotations; clang checks them.
step "building the services and the concurrency tests with clang -Wthread-safety in build-clang/"
CC=clang CXX=clang++ cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DSWITCHBOARD_WERROR=ON >/dev/null
cmake --build build-clang --parallel "$jobs" \
  --target switchboard-intake switchboard-routing switchboard-notification concurrency_tests

step "building with ASan+UBSan in build-asan/"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_SANITIZER=address \
  -DSWITCHBOARD_WERROR=ON

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

step "all tests passed"
