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
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
data_dir="$(realpath -m "${SWITCHBOARD_DATA_DIR:-var}")"
build_dir="${SWITCHBOARD_BUILD_DIR:-build}"
host="${SWITCHBOARD_HOST:-127.0.0.1}"

if [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ]; then
  scripts/install-deps.sh
  scripts/build.sh "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
bin="$root/$build_dir/bin"
mkdir -p "$data_dir/log"

# name grpc_port metrics_port extra flags...
services=(
  "routing 50052 9092 --ruleset_file=$root/config/sample-ruleset.yaml"
  "notification 50053 9093"
  "intake 50051 9091 --routing_target=$host:50052 --notification_target=$host:50053"
)

pids=()
stop() {
  trap - INT TERM
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  echo "stopped (data kept in $data_dir)"
  exit "$status"
}
trap stop INT TERM

for spec in "${services[@]}"; do
  read -r name grpc_port metrics_port extra <<<"$spec"
  log="$data_dir/log/$name.log"
  # shellcheck disable=SC2086
  "$bin/switchboard-$name" --grpc_listen="$host:$grpc_port" --metrics_listen="$host:$metrics_port" \
    --data_dir="$data_dir/$name" $extra >>"$log" 2>&1 &
  pids+=($!)
  # Wait for the "serving" line, or for the process to die.
  for _ in $(seq 1 300); do
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "switchboard-$name failed to start; the end of $log:" >&2
      tail -n 5 "$log" >&2
      stop
    fi
    if grep -q "\"msg\":\"serving\".*\"grpc_port\":$grpc_port" "$log" 2>/dev/null; then break; fi
    sleep 0.1
  done
  printf '  %-13s gRPC %s:%s   metrics http://%s:%s/metrics   log %s\n' \
    "$name" "$host" "$grpc_port" "$host" "$metrics_port" "$log"
done

cat <<EOT

Switchboard is running (data in $data_dir). Press Ctrl-C to stop.

Try (build/bin/switchboard --help lists every command):
  build/bin/switchboard demo
  build/bin/switchboard issue submit --title "Blob writes fail with 503" --customer contoso \\
    --tier strategic --product azure-storage --severity critical --source crm --wait 5s
  build/bin/switchboard issue list
  build/bin/switchboard notifications watch teams/storage-oncall
  build/bin/switchboard ruleset show
  curl -s http://$host:9091/metrics | grep switchboard_intake
  tail -f $data_dir/log/intake.log
EOT

wait -n "${pids[@]}" || true
echo "a service exited unexpectedly; see $data_dir/log/" >&2
stop
