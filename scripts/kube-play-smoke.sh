#!/usr/bin/env bash
# A smoke test of the Kubernetes manifests without a cluster: renders the
# dev overlay (deploy/k8s/overlays/dev), turns what podman 4.3 cannot run
# into what it can (scripts/lib/kube-play-pods.mjs: a Pod per StatefulSet
# replica, Secrets as ConfigMaps, fixed addresses and host aliases for the
# Services' names), adds the TLS Secrets cert-manager would make, and runs it
# all with `podman kube play`. Then checks that every pod serves with the
# manifests' arguments (health on its probe port), runs with their security
# context and has their mounts, and that an issue submitted over mutual TLS
# is routed and notified across the pods. What podman does and does not do
# with each of our objects is in docs/containers.md.
#
#   scripts/kube-play-smoke.sh [TAG]    images switchboard-*:TAG (default: the revision)
#
# Needs root, podman, kubectl (to render), tools/node's packages
# (scripts/install-deps.sh) and the images (scripts/build-images.sh TAG);
# tags them switchboard-*:dev, as the overlay names them. About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/containers.sh
source scripts/lib/containers.sh

for tool in kubectl node; do
  command -v "$tool" >/dev/null || { echo "kube-play-smoke: needs $tool" >&2; exit 1; }
done
[[ -d tools/node/node_modules/js-yaml ]] || { echo "kube-play-smoke: run scripts/install-deps.sh" >&2; exit 1; }
SWITCHBOARD_CONTAINER_ENGINE=podman container_engine
# Pods need an infra container; podman builds its image around catatonit.
install_packages catatonit
tag=${1:-$(source_revision)}
work=$(mktemp -d)
network="sbplay-$$"
# `kube play` takes no --ulimit: the same limits as containers.sh's run_flags,
# as this run's containers.conf.
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = [$podman_ulimits]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF="$work/containers.conf"
failures=0
# `kube down` leaves the volumes kube play made: remove those the converter
# listed (and only those).
cleanup() {
  if [[ -f "$work/play.yaml" ]]; then
    "${engine[@]}" kube down "$work/play.yaml" >/dev/null 2>&1 || true
  fi
  if [[ -f "$work/volumes" ]]; then
    xargs -r "${engine[@]}" volume rm >/dev/null 2>&1 <"$work/volumes" || true
  fi
  "${engine[@]}" network rm "$network" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The overlay names its images switchboard-*:dev.
for name in intake routing notification cli; do
  image_present "switchboard-$name:$tag" || {
    echo "switchboard-$name:$tag is not built (scripts/build-images.sh $tag)" >&2
    exit 1
  }
  if [[ "$tag" != dev ]]; then "${engine[@]}" tag "switchboard-$name:$tag" "switchboard-$name:dev"; fi
done

echo "==> rendering deploy/k8s/overlays/dev for podman"
# As docs/operations.md says the TLS Secrets hold: the Service's name (the
# principal), the headless Service's name and each pod's name under it
# (3 intake and 3 notification partitions, 1 routing writer, as in
# deploy/k8s/base). Not a wildcard: gRPC refuses *.switchboard-intake-pods.
pod_names() {  # pod_names SERVICE COUNT
  local names="switchboard-$1-pods" i
  for ((i = 0; i < $2; i++)); do names+=",switchboard-$1-$i.switchboard-$1-pods"; done
  echo "switchboard-$1=$names"
}
# And two callers of the base access policy: a CRM that submits, an operator.
scripts/gen-test-certs.sh "$work/certs" "$(pod_names intake 3)" "$(pod_names routing 1)" \
  "$(pod_names notification 3)" crm.clients.example.com sre-oncall >/dev/null
chmod a+r "$work"/certs/*.key
{
  echo '['
  first=1
  for name in intake routing notification; do
    ((first)) || echo ','
    first=0
    printf '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",'
    printf '"metadata":{"name":"switchboard-%s-tls"},"data":{' "$name"
    printf '"tls.crt":"%s",' "$(base64 -w0 "$work/certs/switchboard-$name.pem")"
    printf '"tls.key":"%s",' "$(base64 -w0 "$work/certs/switchboard-$name.key")"
    printf '"ca.crt":"%s"}}' "$(base64 -w0 "$work/certs/ca.pem")"
  done
  echo ']'
} >"$work/tls-secrets.json"
# A network of its own, with a free /24: the converter gives every pod a
# fixed address there and every pod's /etc/hosts the names it is dialled by.
created=""
for _ in 1 2 3 4 5; do
  subnet="10.89.$((RANDOM % 200 + 20))"
  if "${engine[@]}" network create --subnet "$subnet.0/24" "$network" >/dev/null 2>&1; then
    created=1
    break
  fi
done
[[ -n "$created" ]] || { echo "cannot create a container network" >&2; exit 1; }
kubectl kustomize deploy/k8s/overlays/dev |
  node scripts/lib/kube-play-pods.mjs "$work/tls-secrets.json" "$subnet" "$work/addresses" \
    "$work/volumes" >"$work/play.yaml"
addresses=()
while read -r address; do addresses+=(--ip "$address"); done <"$work/addresses"

echo "==> podman kube play"
"${engine[@]}" kube play --network "$network" "${addresses[@]}" "$work/play.yaml" \
  >"$work/play.log" 2>&1 || {
  cat "$work/play.log" >&2
  exit 1
}
mapfile -t pods < <("${engine[@]}" pod ps --format '{{.Name}}' --filter name=switchboard- | sort)
echo "    pods: ${pods[*]}"

check() {
  local description=$1 output
  shift
  if output=$("$@" 2>&1); then
    echo "ok    $description"
  else
    echo "FAIL  $description"
    tail -n 15 <<<"$output" | while IFS= read -r line; do echo "        $line"; done
    failures=$((failures + 1))
  fi
}

# The pod's one application container (kube play names it POD-CONTAINER).
app_container() {
  "${engine[@]}" ps -a --format '{{.Names}}' --filter "pod=$1" | grep -v -- '-infra$' | head -n 1
}
pod_ip() {
  "${engine[@]}" pod inspect --format '{{.InfraContainerID}}' "$1" |
    xargs "${engine[@]}" inspect --format "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}"
}
healthy() {
  local ip
  ip=$(pod_ip "$1")
  for _ in $(seq 1 60); do
    if "${engine[@]}" run --rm "${run_flags[@]}" --network "$network" "switchboard-cli:$tag" \
      --intake "$ip:8086" --routing "$ip:8086" --notification "$ip:8086" --timeout 2s \
      health >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  "${engine[@]}" logs --tail 10 "$(app_container "$1")" 2>&1 | cut -c1-300
  return 1
}
# The images have no shell: look at process 1 of the pod's container from
# the host.
locked_down() {
  local pid status mounts
  pid=$("${engine[@]}" inspect --format '{{.State.Pid}}' "$(app_container "$1")")
  status=$(cat "/proc/$pid/status")
  mounts=$(cat "/proc/$pid/mountinfo")
  grep -qE '^Uid:\s+10001\s' <<<"$status" || { echo "not uid 10001: $status"; return 1; }
  grep -qE '^CapEff:\s+0+$' <<<"$status" || { echo "has capabilities: $status"; return 1; }
  awk '$5 == "/" && $6 !~ /^ro/ { exit 1 }' <<<"$mounts" || { echo "/ is writable"; return 1; }
  # The manifests' mounts are there (every pod has the TLS and access ones).
  for mount in /var/run/switchboard/tls /var/run/switchboard/access /tmp; do
    awk -v m="$mount" '$5 == m { found = 1 } END { exit !found }' <<<"$mounts" ||
      { echo "$mount is not mounted"; return 1; }
  done
}

for pod in "${pods[@]}"; do
  check "$pod answers health on its probe port (8086, plaintext)" healthy "$pod"
  check "$pod runs as uid 10001, no capabilities, read-only root, the manifests' mounts" \
    locked_down "$pod"
done

# A caller of the Services' names, with one of the policy's certificates.
cli_as() {  # cli_as PRINCIPAL ARGS...
  local principal=$1
  shift
  "${engine[@]}" run --rm "${run_flags[@]}" --network "$network" \
    --add-host "switchboard-intake:$(pod_ip switchboard-intake-0)" \
    --add-host "switchboard-routing:$(pod_ip switchboard-routing-0)" \
    --add-host "switchboard-notification:$(pod_ip switchboard-notification-0)" \
    -v "$work/certs:/certs:ro" "switchboard-cli:$tag" \
    --ca /certs/ca.pem --cert "/certs/$principal.pem" --key "/certs/$principal.key" \
    --intake switchboard-intake:50051 --routing switchboard-routing:50051 \
    --notification switchboard-notification:50051 --timeout 10s "$@"
}
routed_across_pods() {
  local submitted issue listed
  submitted=$(cli_as crm.clients.example.com --json issue submit --title "Blob writes fail with 503" \
    --customer contoso --tier strategic --product azure-storage --severity critical \
    --source crm --wait 30s) || { echo "$submitted"; return 1; }
  grep -q STATE_ROUTED <<<"$submitted" || { echo "$submitted"; return 1; }
  issue=$(grep -o '"name": *"issues/[^"]*"' <<<"$submitted" | head -n 1 | cut -d'"' -f4) || true
  [[ -n "$issue" ]] || { echo "no issue name in: $submitted"; return 1; }
  for _ in $(seq 1 30); do
    listed=$(cli_as sre-oncall --json notifications list --all teams/storage-oncall 2>&1) || true
    if grep -q "$issue" <<<"$listed"; then
      echo "$issue routed and notified"
      return 0
    fi
    sleep 1
  done
  echo "$issue is not in teams/storage-oncall's log: $listed"
  return 1
}
check "an issue submitted over mutual TLS is routed and notified across the pods" \
  routed_across_pods

echo "==> $failures failed"
((failures == 0))
