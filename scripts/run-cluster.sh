#!/usr/bin/env bash
# A Switchboard cluster on one machine (docs/scale-out.md): 3 intake
# partitions, 3 notification partitions, a routing writer with the sample
# ruleset and a routing replica that follows it, each a real process on
# loopback with its own data directory, wired as the Kubernetes manifests
# wire the pods. Any intake partition takes any call; the client's defaults
# reach partition 0, routing's writer and notification partition 0. Runs
# until Ctrl-C or SIGTERM; running it again keeps the data.
#
# Environment (all optional):
#   SWITCHBOARD_DATA_DIR   data and logs (default: ./var/cluster)
#   SWITCHBOARD_BUILD_DIR  built binaries (default: ./build; build with the
#                          README's command or scripts/run-local.sh first)
#   SWITCHBOARD_BASE_PORT  gRPC ports: intake partitions at base, base+1,
#                          base+2; routing writer and replica at base+10,
#                          base+11; notification partitions at base+20..22
#                          (default: 50051)
#   SWITCHBOARD_METRICS_BASE_PORT  /metrics, in the same layout (default: 9091)
#   SWITCHBOARD_PARTITIONS  intake and notification partitions (default: 3)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
data_dir="$(realpath -m "${SWITCHBOARD_DATA_DIR:-var/cluster}")"
bin="$(realpath -m "${SWITCHBOARD_BUILD_DIR:-build}")/bin"
host=127.0.0.1
base="${SWITCHBOARD_BASE_PORT:-50051}"
metrics_base="${SWITCHBOARD_METRICS_BASE_PORT:-9091}"
partitions="${SWITCHBOARD_PARTITIONS:-3}"
for binary in switchboard-intake switchboard-routing switchboard-notification; do
  [ -x "$bin/$binary" ] || { echo "run-cluster: $bin/$binary missing; build first" >&2; exit 1; }
done
mkdir -p "$data_dir/log"

list() {  # FIRST_PORT COUNT → host:port,host:port,...
  local out=() i
  for ((i = 0; i < $2; i++)); do out+=("$host:$(($1 + i))"); done
  (IFS=,; echo "${out[*]}")
}
intake_addresses=$(list "$base" "$partitions")
notification_addresses=$(list "$((base + 20))" "$partitions")
routing_addresses=$(list "$((base + 10))" 2)

# name binary grpc_port metrics_port flags...
specs=(
  "routing-0 routing $((base + 10)) $((metrics_base + 10)) --data_dir=$data_dir/routing-0 --ruleset_file=$root/config/sample-ruleset.yaml"
  "routing-1 routing $((base + 11)) $((metrics_base + 11)) --ruleset_source=$host:$((base + 10))"
)
for ((p = 0; p < partitions; p++)); do
  specs+=("notification-$p notification $((base + 20 + p)) $((metrics_base + 20 + p)) --data_dir=$data_dir/notification-$p --partition=$p --partition_addresses=$notification_addresses")
done
for ((p = 0; p < partitions; p++)); do
  specs+=("intake-$p intake $((base + p)) $((metrics_base + p)) --data_dir=$data_dir/intake-$p --partition=$p --partition_addresses=$intake_addresses --routing_target=$routing_addresses --notification_target=$notification_addresses")
done

source scripts/lib/services.sh
trap stop_services INT TERM

for spec in "${specs[@]}"; do
  read -r name service grpc_port metrics_port flags <<<"$spec"
  # shellcheck disable=SC2086
  start_service "$name" "$data_dir/log/$name.log" "$grpc_port" \
    "$bin/switchboard-$service" --grpc_listen="$host:$grpc_port" \
    --metrics_listen="$host:$metrics_port" $flags
  printf '  %-15s gRPC %s:%s   metrics http://%s:%s/metrics\n' "$name" "$host" "$grpc_port" \
    "$host" "$metrics_port"
done

cat <<EOT

A Switchboard cluster is running (data and logs in $data_dir). Ctrl-C stops it.
Every intake partition takes every call; so does every notification partition.
  export SWITCHBOARD_INTAKE=$host:$((base + 1)) SWITCHBOARD_ROUTING=$host:$((base + 11)) \\
    SWITCHBOARD_NOTIFICATION=$host:$((base + 22))
  $bin/switchboard demo
EOT
# If any of them exits, stop the rest.
wait -n "${pids[@]}" || true
echo "a process of the cluster exited; see $data_dir/log" >&2
stop_services
