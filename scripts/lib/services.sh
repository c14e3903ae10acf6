# shellcheck shell=bash
# Starting and stopping Switchboard's processes, for scripts/run-local.sh and
# scripts/run-cluster.sh. Source it; it keeps the started pids in `pids`.
#
#   start_service NAME LOG GRPC_PORT COMMAND [ARGS...]
#       starts COMMAND in the background, appending its output to LOG, and
#       waits (30 s at most) for its "serving" log line on GRPC_PORT; if it
#       dies or does not serve, shows the end of LOG and stops everything.
#   stop_services
#       SIGTERM to every started process, waits for them, exits with the
#       first failure's status. Mentions $data_dir, which the caller sets.

pids=()

stop_services() {
  trap - INT TERM
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  echo "stopped (data kept in ${data_dir:?})"
  exit "$status"
}

start_service() {
  local name=$1 log=$2 grpc_port=$3
  shift 3
  # Logs are appended across runs: look for "serving" only in this run's part.
  local offset
  offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
  "$@" >>"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "$name failed to start; the end of $log:" >&2
      tail -n 5 "$log" >&2
      stop_services
    fi
    if tail -c "+$((offset + 1))" "$log" 2>/dev/null |
      grep -q "\"msg\":\"serving\".*\"grpc_port\":$grpc_port"; then
      return 0
    fi
    sleep 0.1
  done
  echo "$name is not serving after 30s; the end of $log:" >&2
  tail -n 5 "$log" >&2
  stop_services
}
