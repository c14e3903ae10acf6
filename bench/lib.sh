# Shared by the bench/*.sh scripts: the stack on loopback ports
# 46051-46053 (metrics 46091-46093), or a partitioned cluster on 46052 and
# 46054-46059 (metrics 4609x), on fresh data directories; the disk probe,
# per-process CPU and memory, and medians over JSON result lines.
# Source it after `cd` to the repository root; set `out` to the results file.
#
# From the environment, optionally:
#   SERVICE_FLAGS  more flags for every service ("--max_concurrent_streams=0")
#   SERVICE_CPUS   CPUs the services run on, as taskset takes them ("0")
#   CLIENT_CPUS    CPUs the load client runs on ("1"), so that it cannot take
#                  the services' CPU

bin="$PWD/build/bin"
for binary in switchboard-intake switchboard-routing switchboard-notification switchboard submit_load; do
  [ -x "$bin/$binary" ] || { echo "bench: $bin/$binary missing; run scripts/build.sh" >&2; exit 1; }
done

work="$(mktemp -d /tmp/switchboard_bench.XXXXXX)"
mkdir -p bench/results
declare -A pid_of=()
pids=()
stop_stack() {
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  pids=()
  pid_of=()
}
trap 'stop_stack; rm -rf "$work"' EXIT

# The disk: milliseconds per synced 1 KiB append, over 2,000 of them.
fsync_probe() {
  local seconds
  seconds=$(dd if=/dev/zero of="$work/probe" bs=1k count=2000 oflag=dsync 2>&1 | awk '/copied/ {print $(NF-3)}')
  rm -f "$work/probe"
  awk -v s="$seconds" 'BEGIN { printf "%.3f", s * 1000 / 2000 }'
}

# The intake address(es) measure() sends to.
target=127.0.0.1:46051

# NAME is the service, with a partition number after it in a cluster
# (intake0, intake1, …); gRPC on 4605<PORT-SUFFIX>, metrics on 4609<…>.
start_service() {  # NAME PORT-SUFFIX flags...
  local name=$1 port=$2
  shift 2
  local pin=()
  [ -n "${SERVICE_CPUS:-}" ] && pin=(taskset -c "$SERVICE_CPUS")
  # shellcheck disable=SC2086  # SERVICE_FLAGS is a list of words
  "${pin[@]}" "$bin/switchboard-${name%%[0-9]*}" --grpc_listen="127.0.0.1:4605$port" \
    --metrics_listen="127.0.0.1:4609$port" "$@" ${SERVICE_FLAGS:-} 2>>"$work/$name.log" &
  pids+=($!)
  pid_of[$name]=$!
}

# Starts routing, notification and intake (full, or intake with
# --noop_submit) on a fresh data directory and waits until all serve.
start_stack() {  # MODE: full | noop
  local data="$work/data-$RANDOM$RANDOM"
  mkdir -p "$data"
  start_service routing 2 --data_dir="$data/routing" --ruleset_file=config/sample-ruleset.yaml
  start_service notification 3 --data_dir="$data/notification"
  local noop=()
  [ "$1" = noop ] && noop=(--noop_submit)
  start_service intake 1 --data_dir="$data/intake" --routing_target=127.0.0.1:46052 \
    --notification_target=127.0.0.1:46053 "${noop[@]}"
  target=127.0.0.1:46051
  for _ in $(seq 1 300); do
    if "$bin/switchboard" health --intake=127.0.0.1:46051 --routing=127.0.0.1:46052 \
        --notification=127.0.0.1:46053 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "bench: the stack did not start; see $work/*.log" >&2
  exit 1
}

# Starts routing on 46052, P intake partitions on 46054… and P notification
# partitions after them (P ≤ 3), as docs/scale-out.md wires them, on a fresh
# data directory, and waits until every process serves. Sets `target` (the
# intake partitions, which measure() balances over) and
# `notification_targets` (the notification partitions), both comma-separated
# in partition order.
start_cluster() {  # P
  local p=$1 data="$work/data-$RANDOM$RANDOM" i
  mkdir -p "$data"
  local intakes=() notifications=()
  for ((i = 0; i < p; ++i)); do
    intakes+=("127.0.0.1:4605$((4 + i))")
    notifications+=("127.0.0.1:4605$((4 + p + i))")
  done
  local intake_list notification_list
  intake_list=$(IFS=,; echo "${intakes[*]}")
  notification_list=$(IFS=,; echo "${notifications[*]}")
  start_service routing 2 --data_dir="$data/routing" --ruleset_file=config/sample-ruleset.yaml
  for ((i = 0; i < p; ++i)); do
    start_service "notification$i" "$((4 + p + i))" --data_dir="$data/notification$i" \
      --partition="$i" --partition_addresses="$notification_list"
    start_service "intake$i" "$((4 + i))" --data_dir="$data/intake$i" \
      --partition="$i" --partition_addresses="$intake_list" \
      --routing_target=127.0.0.1:46052 --notification_target="$notification_list"
  done
  target=$intake_list
  notification_targets=$notification_list
  for _ in $(seq 1 300); do
    local up=0
    for ((i = 0; i < p; ++i)); do
      "$bin/switchboard" health --intake="${intakes[$i]}" --routing=127.0.0.1:46052 \
        --notification="${notifications[$i]}" >/dev/null 2>&1 && up=$((up + 1))
    done
    [ "$up" = "$p" ] && return 0
    sleep 0.1
  done
  echo "bench: the cluster did not start; see $work/*.log" >&2
  exit 1
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {  # PID
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# Peak resident size of a process so far, in MiB.
peak_rss_mib() {  # PID
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

# Runs submit_load against the stack; while it measures (after its warm-up)
# samples each process's CPU, and after it appends to its JSON line the CPU
# microseconds each service spent per accepted call (summed over its
# partitions), all services together, and each service's peak RSS (the
# largest of its partitions); submit_load reports its own CPU per call.
measure() {  # LABEL WARMUP DURATION submit_load-flags...
  local label=$1 warm=$2 duration=$3
  shift 3
  local pin=()
  [ -n "${CLIENT_CPUS:-}" ] && pin=(taskset -c "$CLIENT_CPUS")
  "${pin[@]}" "$bin/submit_load" --target="$target" --warmup="$warm" --duration="$duration" \
    --label="$label" "$@" >"$work/line" &
  local load=$!
  sleep "$(awk -v w="$warm" 'BEGIN { sub(/s$/, "", w); print w + 0 }')"
  declare -A before=()
  local name
  for name in "${!pid_of[@]}"; do before[$name]=$(cpu_seconds "${pid_of[$name]}"); done
  sleep "$(awk -v d="$duration" 'BEGIN { sub(/s$/, "", d); print d + 0 }')"
  declare -A used=()
  for name in "${!pid_of[@]}"; do
    used[$name]=$(awk -v a="$(cpu_seconds "${pid_of[$name]}")" -v b="${before[$name]}" 'BEGIN { print a - b }')
  done
  wait "$load"
  local line ok extra=""
  line=$(cat "$work/line")
  ok=$(sed -E 's/.*"ok":([0-9]+).*/\1/' <<<"$line")
  local service total=0
  for service in intake routing notification; do
    local cpu=0 rss=0 this
    for name in "${!pid_of[@]}"; do
      [ "${name%%[0-9]*}" = "$service" ] || continue
      cpu=$(awk -v a="$cpu" -v b="${used[$name]}" 'BEGIN { print a + b }')
      this=$(peak_rss_mib "${pid_of[$name]}")
      ((this > rss)) && rss=$this
    done
    total=$(awk -v a="$total" -v b="$cpu" 'BEGIN { print a + b }')
    extra+=$(awk -v n="$service" -v c="$cpu" -v ok="$ok" \
      'BEGIN { printf ",\"%s_cpu_us_per_call\":%.0f", n, (ok > 0 ? c * 1e6 / ok : 0) }')
    extra+=",\"${service}_peak_rss_mib\":$rss"
  done
  extra+=$(awk -v c="$total" -v ok="$ok" \
    'BEGIN { printf ",\"services_cpu_us_per_call\":%.0f", (ok > 0 ? c * 1e6 / ok : 0) }')
  echo "${line%\}}$extra}" | tee -a "$out"
}

# The cumulative buckets of a service's grpc_server_handling_seconds for one
# method, "le count" per line, from its metrics port.
handling_buckets() {  # METRICS-ADDRESS METHOD
  curl -sf "http://$1/metrics" |
    awk -v m="grpc_method=\"$2\"" 'index($0, "grpc_server_handling_seconds_bucket") == 1 && index($0, m) {
      match($0, /le="[^"]*"/); print substr($0, RSTART + 4, RLENGTH - 5), $NF }'
}

# The upper edge, in ms, of the bucket holding the 99th percentile of the
# calls counted between two handling_buckets snapshots: the time from the
# call's start in the server to its status, so without the client's and
# the kernel's queues.
handling_p99_ms() {  # BEFORE-FILE AFTER-FILE
  paste -d ' ' "$1" "$2" | awk '{ le[NR] = $1; n[NR] = $4 - $2 } END {
    total = n[NR]; for (i = 1; i <= NR; ++i) if (n[i] >= 0.99 * total) {
      printf "%s", (le[i] == "+Inf" ? "inf" : le[i] * 1000); exit } }'
}

# Median of a numeric JSON field over the result lines with a label.
median() {  # LABEL FIELD
  grep -F "\"label\":\"$1\"" "$out" | sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# "min–max" of a numeric JSON field over the result lines with a label.
spread() {  # LABEL FIELD
  grep -F "\"label\":\"$1\"" "$out" | sed -E "s/.*\"$2\":([0-9.]+).*/\\1/" | sort -g |
    awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'
}
