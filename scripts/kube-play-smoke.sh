#!/usr/bin/env bash
# A smoke test of the Kubernetes manifests without a cluster: renders the
# dev overlay (deploy/k8s/overlays/dev), turns what podman cannot run into
# what it can (scripts/lib/kube-play-pods.mjs: a Pod per StatefulSet replica,
# its volume claims as podman volumes), adds the TLS Secrets cert-manager
# would make, and runs it all with `podman kube play`. Then checks that
# every pod started with the manifests' command, arguments, mounts and
# security context, and answers health on its probe port. What podman does
# not do (Services and their DNS names, NetworkPolicies, StatefulSet
# identities, gRPC probes) is listed in docs/containers.md.
#
#   scripts/kube-play-smoke.sh [TAG]    images switchboard-*:TAG (default: the revision)
#
# Needs podman (root) and the images (scripts/build-images.sh TAG); about a
# minute.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/containers.sh
source scripts/lib/containers.sh

SWITCHBOARD_CONTAINER_ENGINE=podman container_engine
tag=${1:-$(source_revision)}
work=$(mktemp -d)
network="sbplay-$$"
failures=0
cleanup() {
  if [[ -f "$work/play.yaml" ]]; then
    "${engine[@]}" kube down "$work/play.yaml" >/dev/null 2>&1 || true
  fi
  "${engine[@]}" volume ls -q --filter name=data-switchboard- | while read -r volume; do
    "${engine[@]}" volume rm -f "$volume" >/dev/null 2>&1 || true
  done
  "${engine[@]}" network rm -f "$network" >/dev/null 2>&1 || true
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
scripts/gen-test-certs.sh "$work/certs" switchboard-intake switchboard-routing \
  switchboard-notification sre-oncall >/dev/null
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
kubectl kustomize deploy/k8s/overlays/dev |
  node scripts/lib/kube-play-pods.mjs "$work/tls-secrets.json" >"$work/play.yaml"

echo "==> podman kube play"
"${engine[@]}" network create "$network" >/dev/null
"${engine[@]}" kube play --network "$network" "$work/play.yaml" >"$work/play.log" 2>&1 || {
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
  "${engine[@]}" inspect --format "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" \
    "$(app_container "$1")"
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
locked_down() {
  local container status
  container=$(app_container "$1")
  status=$("${engine[@]}" exec "$container" cat /proc/1/status)
  grep -qE '^Uid:\s+10001\s' <<<"$status" || { echo "not uid 10001: $status"; return 1; }
  grep -qE '^CapEff:\s+0+$' <<<"$status" || { echo "has capabilities: $status"; return 1; }
  if "${engine[@]}" exec "$container" touch /etc/probe 2>/dev/null; then
    echo "the root file system is writable"
    return 1
  fi
}

for pod in "${pods[@]}"; do
  check "$pod answers health on its probe port (8086, plaintext)" healthy "$pod"
  check "$pod runs as uid 10001, no capabilities, read-only root" locked_down "$pod"
done

echo "==> $failures failed"
((failures == 0))
