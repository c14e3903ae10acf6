#!/usr/bin/env bash
# Installs what Switchboard needs to build, run and test on Debian 12: the
# -dev packages (apt) and the Node tools (npm, in tools/node). Skips what is
# already there, so it is cheap to run before every build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  librocksdb-dev prometheus-cpp-dev libre2-dev libspdlog-dev libyaml-cpp-dev libssl-dev
  golang-github-gogo-googleapis-dev
  # time zone data for business calendars (absl::LoadTimeZone reads /usr/share/zoneinfo)
  tzdata
  # tests, sanitizers, benchmarks, fuzzing
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # tools used by tests and scripts
  clang-format clang-tidy prometheus nghttp2-client openssl yamllint curl
  # the clock-step fault test runs the binaries under libfaketime
  faketime
)
# Node.js may come from elsewhere than apt (the base image has its own).
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm writes node_modules/.package-lock.json after every install: reinstall
# when it is missing or older than the lock file.
installed=tools/node/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ tools/node/package-lock.json -nt "$installed" ]; then
  echo "install-deps: npm install in tools/node" >&2
  # `npm ci` rejects this lock file (npm 11 omits other platforms' optional
  # packages from it); `npm install` honours the pinned versions all the same.
  (cd tools/node && npm install --no-audit --no-fund --loglevel=error)
fi

# deploy_test renders the Kubernetes manifests with `kubectl kustomize`
# (kustomize v5): kubectl is not a Debian 12 package, so it must come with the
# machine.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "install-deps: warning: kubectl not found; deploy_test needs it (https://kubernetes.io/docs/tasks/tools/)" >&2
fi
