#!/usr/bin/env bash
# Style and static analysis for project C++ files.
#   scripts/lint.sh format          check clang-format (no changes made)
#   scripts/lint.sh fix             apply clang-format in place
#   scripts/lint.sh tidy BUILD_DIR  run clang-tidy with BUILD_DIR's compile_commands.json
set -euo pipefail
cd "$(dirname "$0")/.."

sources() { git ls-files -co --exclude-standard -- '*.cc' '*.h' | grep -v '^third_party/'; }

case "${1:-}" in
  format)
    sources | xargs clang-format --dry-run --Werror
    echo "lint: clang-format clean ($(sources | wc -l) files)"
    ;;
  fix)
    sources | xargs clang-format -i
    ;;
  tidy)
    build_dir="${2:?usage: lint.sh tidy BUILD_DIR}"
    sources | grep '\.cc$' | grep -v '_test\.cc$' | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build_dir" --quiet 2>/dev/null
    echo "lint: clang-tidy clean"
    ;;
  *)
    echo "usage: $0 format|fix|tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
