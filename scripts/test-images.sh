#!/usr/bin/env bash
# Tests Switchboard's container images as they would run in production:
# builds them (scripts/build-images.sh), runs intake, routing and
# notification as containers on a private network with the sample ruleset,
# mutual TLS with certificates made now, a read-only root file system, no
# capabilities and a volume per service, and checks through the images
# themselves (the CLI image is the client):
#
#   - each service answers health on its plaintext health port, and serves
#     gRPC only over mutual TLS (plaintext and a certificate-less client are
#     refused);
#   - an issue submitted through the CLI image is routed by the sample rules
#     and its events reach the owner's notification log;
#   - the processes run as uid 10001 with no capabilities and no way to gain
#     privileges; nothing but the data volume and /tmp is writable;
#   - `stop` (SIGTERM) ends each service with exit code 0 within its grace
#     period; intake's data survives removing and recreating its container
#     on the same volume;
#   - the runtime images hold the binary, the libraries it loads (with their
#     copyright files), trust roots, time zones and a user: no shell, no
#     package manager, no compiler.
#
#   scripts/test-images.sh [TAG]
#
# SWITCHBOARD_SKIP_IMAGE_BUILD=1 tests images already built with TAG. Needs
# root (it reads the containers' /proc and volumes from the host); about
# 20 s once the images are built. CTest runs it as the test
# `container_images` (label `images`), the last step of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/containers.sh
source scripts/lib/containers.sh

container_engine
tag=${1:-$(source_revision)}
if [[ "${SWITCHBOARD_SKIP_IMAGE_BUILD:-0}" != 1 ]]; then scripts/build-images.sh "$tag"; fi
started=$SECONDS

run_id="sbtest-$$"
work=$(mktemp -d)
failures=0
containers=()
volumes=()
network=""

cleanup() {
  local status=$?
  if ((status != 0 || failures != 0)); then
    for container in "${containers[@]}"; do
      echo "---- the end of $container's log:" >&2
      "${engine[@]}" logs --tail 15 "$container" 2>&1 | cut -c1-400 >&2 || true
    done
  fi
  for container in "${containers[@]}"; do "${engine[@]}" rm -f "$container" >/dev/null 2>&1 || true; done
  for volume in "${volumes[@]}"; do "${engine[@]}" volume rm -f "$volume" >/dev/null 2>&1 || true; done
  if [[ -n "$network" ]]; then "${engine[@]}" network rm "$network" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# check DESCRIPTION COMMAND...: runs COMMAND, says ok or FAIL with its output.
check() {
  local description=$1 output
  shift
  if output=$("$@" 2>&1); then
    echo "ok    $description${output:+ ($(head -n 1 <<<"$output"))}"
  else
    echo "FAIL  $description"
    tail -n 15 <<<"$output" | while IFS= read -r line; do echo "        $line"; done
    failures=$((failures + 1))
  fi
}

# --- certificates and the access policy, owned as the containers' user ---
echo "==> certificates and access policy"
scripts/gen-test-certs.sh "$work/certs" switchboard-intake switchboard-routing \
  switchboard-notification switchboard-operator >/dev/null
for name in intake routing notification operator; do
  mkdir -p "$work/tls-$name"
  cp "$work/certs/switchboard-$name.pem" "$work/tls-$name/tls.crt"
  cp "$work/certs/switchboard-$name.key" "$work/tls-$name/tls.key"
  cp "$work/certs/ca.pem" "$work/tls-$name/ca.crt"
done
mkdir -p "$work/access"
cat >"$work/access/policy.yaml" <<'EOF'
principals:
  - {name: switchboard-intake, roles: [service]}
  - {name: switchboard-routing, roles: [service]}
  - {name: switchboard-notification, roles: [service]}
  - {name: switchboard-operator, roles: [submitter, operator], sources: [crm]}
EOF
# As Kubernetes mounts Secrets: readable by the service's group only.
chown -R 10001:10001 "$work"/tls-* "$work/access"
chmod 0440 "$work"/tls-*/* "$work/access/policy.yaml"

# --- a private network with fixed addresses (no DNS plugin needed) ---
for _ in 1 2 3 4 5; do
  subnet="10.89.$((RANDOM % 200 + 20))"
  if "${engine[@]}" network create --subnet "$subnet.0/24" "$run_id" >/dev/null 2>&1; then
    network=$run_id
    break
  fi
done
[[ -n "$network" ]] || { echo "cannot create a container network" >&2; exit 1; }
declare -A address=([intake]="$subnet.11" [routing]="$subnet.12" [notification]="$subnet.13")
hosts=()
for name in intake routing notification; do hosts+=(--add-host "switchboard-$name:${address[$name]}"); done

# What Kubernetes' securityContext in deploy/k8s asks for.
locked_down=(--read-only --tmpfs "/tmp:rw,size=64m" --cap-drop ALL
  --security-opt no-new-privileges)
if [[ "$engine_name" == podman ]]; then locked_down+=(--read-only-tmpfs=false); fi

start_service() {
  local name=$1
  shift
  local container="$run_id-$name"
  "${engine[@]}" run -d "${run_flags[@]}" --name "$container" --hostname "switchboard-$name" \
    --network "$network" --ip "${address[$name]}" "${hosts[@]}" "${locked_down[@]}" \
    -v "$run_id-$name-data:/var/lib/switchboard" \
    -v "$work/tls-$name:/var/run/switchboard/tls:ro" \
    -v "$work/access:/var/run/switchboard/access:ro" \
    -v "$PWD/config/sample-ruleset.yaml:/etc/switchboard/sample-ruleset.yaml:ro" \
    "switchboard-$name:$tag" \
    --grpc_listen=0.0.0.0:50051 --metrics_listen=0.0.0.0:9090 --health_listen=0.0.0.0:8086 \
    --data_dir=/var/lib/switchboard \
    --tls_cert_file=/var/run/switchboard/tls/tls.crt \
    --tls_key_file=/var/run/switchboard/tls/tls.key \
    --tls_client_ca_file=/var/run/switchboard/tls/ca.crt \
    --access_policy_file=/var/run/switchboard/access/policy.yaml "$@" >/dev/null
  case " ${containers[*]} " in *" $container "*) ;; *) containers+=("$container") ;; esac
}

# The CLI image on the same network: `cli ARGS...` (as the operator, over
# mutual TLS) and `cli_plain ARGS...` (no TLS).
cli_plain() {
  "${engine[@]}" run --rm "${run_flags[@]}" --network "$network" "${hosts[@]}" "${locked_down[@]}" \
    -v "$work/tls-operator:/var/run/switchboard/tls:ro" "switchboard-cli:$tag" \
    --intake switchboard-intake:50051 --routing switchboard-routing:50051 \
    --notification switchboard-notification:50051 --timeout 5s "$@"
}
cli() {
  cli_plain --ca /var/run/switchboard/tls/ca.crt --cert /var/run/switchboard/tls/tls.crt \
    --key /var/run/switchboard/tls/tls.key "$@"
}
health_ports() {
  cli_plain --intake switchboard-intake:8086 --routing switchboard-routing:8086 \
    --notification switchboard-notification:8086 health
}
await_health() {
  for _ in $(seq 1 60); do
    if health_ports >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  health_ports
}

echo "==> starting the services (switchboard-*:$tag, $engine_name)"
for name in intake routing notification; do volumes+=("$run_id-$name-data"); done
start_service routing --ruleset_file=/etc/switchboard/sample-ruleset.yaml
start_service notification
intake_args=(--routing_target=switchboard-routing:50051
  --notification_target=switchboard-notification:50051)
start_service intake "${intake_args[@]}"
check "the three services answer health on their plaintext health ports" await_health

echo "==> calls"
check "gRPC over mutual TLS: health through the CLI image" cli health
expect_refused() { ! "$@"; }
# Each service alone (health fails if any of the three does).
only() { echo --intake "$1" --routing "$1" --notification "$1"; }
for name in intake routing notification; do
  # shellcheck disable=SC2046
  check "$name refuses plaintext on its gRPC port" \
    expect_refused cli_plain $(only "switchboard-$name:50051") health
  # shellcheck disable=SC2046
  check "$name refuses a TLS client without a certificate" \
    expect_refused cli_plain --ca /var/run/switchboard/tls/ca.crt $(only "switchboard-$name:50051") health
done

submitted=$(cli --json issue submit --title "Blob writes fail with 503 in a container" \
  --customer contoso --tier strategic --product azure-storage --severity critical \
  --source crm --request-id "$run_id-1" --wait 20s 2>&1) || true
issue=$(grep -o '"name": *"issues/[^"]*"' <<<"$submitted" | head -n 1 | cut -d'"' -f4) || true
routed() {
  if [[ -n "$issue" ]] && grep -q STATE_ROUTED <<<"$submitted" &&
    grep -q storage-oncall <<<"$submitted"; then
    return 0
  fi
  echo "$submitted"
  return 1
}
check "an issue submitted through the CLI image is routed to storage-oncall" routed
notified() {
  local listed
  [[ -n "$issue" ]] || { echo "no issue was submitted"; return 1; }
  for _ in $(seq 1 20); do
    listed=$(cli --json notifications list --all teams/storage-oncall 2>&1) || true
    if grep -q "$issue" <<<"$listed" && grep -q EVENT_TYPE_ROUTED <<<"$listed"; then return 0; fi
    sleep 1
  done
  echo "${issue:-no issue} not in teams/storage-oncall's log: $listed"
  return 1
}
check "its ROUTED event is in the owning team's notification log" notified

echo "==> the processes' privileges"
# The images have no shell or tools: look at each container's process 1 from
# the host, through /proc (root's view of every process).
process_file() {
  local pid
  pid=$("${engine[@]}" inspect --format '{{.State.Pid}}' "$1")
  cat "/proc/$pid/$2"
}
no_privileges() {
  grep -qE '^CapEff:\s+0+$' <<<"$1" && grep -qE '^CapBnd:\s+0+$' <<<"$1" &&
    grep -qE '^NoNewPrivs:\s+1$' <<<"$1"
}
# The mounts of a container's process 1 that are writable and not kernel or
# memory file systems: /var/lib/switchboard alone (and "/" read-only).
only_the_volume_writable() {
  local mounts writable
  mounts=$(process_file "$1" mountinfo)
  awk '$5 == "/" && $6 !~ /^ro/ { exit 1 }' <<<"$mounts" || { echo "/ is writable"; return 1; }
  writable=$(awk '{
      split($0, halves, " - "); split(halves[2], source, " ")
      if ($6 ~ /^rw/ && source[1] !~ /^(proc|sysfs|tmpfs|devpts|mqueue|cgroup2?|devtmpfs)$/) print $5
    }' <<<"$mounts")
  [[ "$writable" == /var/lib/switchboard ]] || { echo "writable: $writable"; return 1; }
}
# The service's files on its volume, as the host sees them: there, and the
# service's user's.
writes_its_volume() {
  local directory owners
  directory=$("${engine[@]}" volume inspect --format '{{.Mountpoint}}' "$1")
  owners=$(find "$directory" -mindepth 1 -printf '%U:%G\n' | sort | uniq -c)
  echo "$(find "$directory" -mindepth 1 | wc -l) files, owned by $(awk '{print $2}' <<<"$owners" | xargs)"
  [[ -n "$owners" ]] && ! grep -qv ' 10001:10001$' <<<"$owners"
}
for name in intake routing notification; do
  container="$run_id-$name"
  status=$(process_file "$container" status) || true
  check "$name runs as uid 10001" grep -qE '^Uid:\s+10001\s+10001\s+10001\s+10001' <<<"$status"
  check "$name has no capabilities and cannot gain any" no_privileges "$status"
  check "$name: the root file system is read-only, the data volume the only writable disk" \
    only_the_volume_writable "$container"
  check "$name keeps its data on its volume, as uid 10001" writes_its_volume "$run_id-$name-data"
done

echo "==> SIGTERM and restarts"
stop_within_grace() {
  local container=$1 begin=$SECONDS code
  "${engine[@]}" stop -t 40 "$container" >/dev/null
  code=$("${engine[@]}" inspect --format '{{.State.ExitCode}}' "$container")
  echo "exit code $code after $((SECONDS - begin)) s"
  [[ "$code" == 0 && $((SECONDS - begin)) -lt 40 ]]
}
check "intake stops on SIGTERM with exit code 0 within the grace period" \
  stop_within_grace "$run_id-intake"
"${engine[@]}" rm "$run_id-intake" >/dev/null
start_service intake "${intake_args[@]}"
check "intake recreated on its volume serves again" await_health
survived() {
  local got
  [[ -n "$issue" ]] || { echo "no issue was submitted"; return 1; }
  got=$(cli --json issue get "$issue" 2>&1) || { echo "$got"; return 1; }
  grep -q "Blob writes fail with 503 in a container" <<<"$got"
}
check "the issue submitted before survived the new container" survived
for name in routing notification intake; do
  check "$name stops on SIGTERM with exit code 0 within the grace period" \
    stop_within_grace "$run_id-$name"
done

echo "==> what the runtime images hold"
# Every file of the image, from an exported container of it.
image_files() {
  local container="$run_id-files"
  "${engine[@]}" create --name "$container" "$1" >/dev/null
  "${engine[@]}" export "$container" | tar -t
  "${engine[@]}" rm "$container" >/dev/null
}
nothing_but_the_binary_and_its_libraries() {
  local files unexpected
  files=$(image_files "$1")
  # The binary, the loader and libraries, time zones, trust roots, copyright
  # notices, the few files of /etc, the engine's own files (podman's
  # .containerenv; docker's .dockerenv, dev/console, etc/mtab), and
  # directories.
  unexpected=$(grep -vE '^(usr/local/bin/switchboard(-[a-z]+)?|(usr/)?lib(64|/x86_64-linux-gnu)?/.*\.so[.0-9]*|usr/share/zoneinfo/.*|usr/share/doc/[^/]+/copyright|etc/ssl/certs/ca-certificates\.crt|usr/share/grpc/roots\.pem|etc/(passwd|group|nsswitch\.conf|hosts|hostname|resolv\.conf|mtab)|run/\.containerenv|\.dockerenv|dev/console|.*/)$' <<<"$files" || true)
  echo "$(wc -l <<<"$files") entries"
  [[ -z "$unexpected" ]] || { echo "unexpected: $(head -n 20 <<<"$unexpected" | xargs)"; return 1; }
  for needed in etc/ssl/certs/ca-certificates.crt usr/share/doc/libc6/copyright \
    usr/share/doc/librocksdb7.8/copyright etc/passwd; do
    grep -qx "$needed" <<<"$files" || { echo "$needed is missing"; return 1; }
  done
  for tool in bin/sh usr/bin/apt usr/bin/dpkg usr/bin/gcc usr/bin/ld var/lib/apt/lists/ usr/include/; do
    if grep -qx "$tool" <<<"$files"; then echo "$tool is in the image"; return 1; fi
  done
}
# The binary starts: --help prints its usage (a missing library or loader
# fails before that).
loads_its_libraries() {
  local output
  output=$("${engine[@]}" run --rm "${run_flags[@]}" --network none "$1" --help 2>&1) || true
  if ! grep -qE '^switchboard' <<<"$output"; then echo "$output"; return 1; fi
  head -n 1 <<<"$output"
}
for name in intake routing notification cli; do
  image="switchboard-$name:$tag"
  check "$name: only the binary, its libraries, time zones and a user (no shell, package manager or compiler)" \
    nothing_but_the_binary_and_its_libraries "$image"
  check "$name: the binary finds every library it loads" loads_its_libraries "$image"
done

echo "==> $((failures == 0 ? 0 : failures)) failed; $((SECONDS - started)) s"
((failures == 0))
