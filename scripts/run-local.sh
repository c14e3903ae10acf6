#!/usr/bin/env bash
# The README's run command: builds what is missing and runs the whole system
# on loopback — routing (with the sample ruleset in config/), notification
# and intake, each with its own RocksDB under one data directory — until
# Ctrl-C or SIGTERM, which stops all three cleanly. Running it again keeps the
# data.
#
# Environment (all optional):
#   SWITCHBOARD_DATA_DIR   data and logs (default: ./var)
#   SWITCHBOARD_BUILD_DIR  build directory (default: ./build)
#   SWITCHBOARD_HOST       loopback address to listen on (default: 127.0.0.1)
#   SWITCHBOARD_SKIP_BUILD set to 1 to use the binaries as they are
#   SWITCHBOARD_BASE_PORT  gRPC ports: intake here, routing +1, notification +2
#                          (default: 50051)
#   SWITCHBOARD_METRICS_BASE_PORT  the same for /metrics (default: 9091)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
data_dir="$(realpath -m "${SWITCHBOARD_DATA_DIR:-var}")"
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
host="${SWITCHBOARD_HOST:-127.0.0.1}"
base="${SWITCHBOARD_BASE_PORT:-50051}"
metrics_base="${SWITCHBOARD_METRICS_BASE_PORT:-9091}"

if [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ]; then
  started=$SECONDS
  echo "run-local: [1/3] installing what is missing (a minute or two on a fresh machine)" >&2
  scripts/install-deps.sh
  echo "run-local: [2/3] building into $build_dir/ (15-25 minutes on a fresh 2-core machine;" \
    "seconds once built); ninja shows [done/total]" >&2
  # Ninja's progress lines, one per finished step; the compiler's own output
  # only if a step fails.
  if ! scripts/build.sh "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo 2>&1 |
    { grep --line-buffered -E '^\[[0-9]+/[0-9]+\]|FAILED|error' >&2 || true; }; then
    echo "run-local: the build failed (above)" >&2
    exit 1
  fi
  echo "run-local: built in $((SECONDS - started)) s; [3/3] starting the services" >&2
fi
bin="$(realpath -m "$build_dir")/bin"
mkdir -p "$data_dir/log"

# name grpc_port metrics_port extra flags...
services=(
  "routing $((base + 1)) $((metrics_base + 1)) --ruleset_file=$root/config/sample-ruleset.yaml"
  "notification $((base + 2)) $((metrics_base + 2))"
  "intake $base $metrics_base --routing_target=$host:$((base + 1)) --notification_target=$host:$((base + 2))"
)

source scripts/lib/services.sh
trap stop_services INT TERM

for spec in "${services[@]}"; do
  read -r name grpc_port metrics_port extra <<<"$spec"
  # shellcheck disable=SC2086
  start_service "switchboard-$name" "$data_dir/log/$name.log" "$grpc_port" \
    "$bin/switchboard-$name" --grpc_listen="$host:$grpc_port" \
    --metrics_listen="$host:$metrics_port" --data_dir="$data_dir/$name" $extra
  log="$data_dir/log/$name.log"
  printf '  %-13s gRPC %s:%s   metrics http://%s:%s/metrics   log %s\n' \
    "$name" "$host" "$grpc_port" "$host" "$metrics_port" "$log"
done

cat <<EOT

Switchboard is running (data in $data_dir). Press Ctrl-C to stop.
EOT
if [ "$host:$base" != 127.0.0.1:50051 ]; then
  cat <<EOT

The client's defaults are the standard ports; point it at these:
  export SWITCHBOARD_INTAKE=$host:$base SWITCHBOARD_ROUTING=$host:$((base + 1)) \\
    SWITCHBOARD_NOTIFICATION=$host:$((base + 2))
EOT
fi
cat <<EOT

Try ($build_dir/bin/switchboard --help lists every command):
  $build_dir/bin/switchboard demo
  $build_dir/bin/switchboard issue submit --title "Blob writes fail with 503" --customer contoso \\
    --tier strategic --product azure-storage --severity critical --source crm --wait 5s
  $build_dir/bin/switchboard issue list
  $build_dir/bin/switchboard notifications watch teams/storage-oncall
  $build_dir/bin/switchboard ruleset show
  curl -s http://$host:$metrics_base/metrics | grep switchboard_intake
  tail -f $data_dir/log/intake.log
EOT

wait -n "${pids[@]}" || true
echo "a service exited unexpectedly; see $data_dir/log/" >&2
stop_services
