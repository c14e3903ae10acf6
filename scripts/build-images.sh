#!/usr/bin/env bash
# Builds Switchboard's four container images from docker/Dockerfile with
# docker or podman (scripts/lib/containers.sh says which), tagged with the
# git revision, and reports their sizes:
#
#   switchboard-intake:REV  switchboard-routing:REV  switchboard-notification:REV
#   switchboard-cli:REV
#
#   scripts/build-images.sh [TAG]      TAG defaults to the revision (+"-dirty")
#
# The base images (debian:12, debian:12-slim) are used if the engine has
# them, pulled if it can, and otherwise made from the Debian archive by
# scripts/make-base-images.sh (the air-gapped way; needs root). The compile
# stage runs once and is shared by the four targets; the first build takes
# about 5 minutes on 2 cores, later ones reuse the engine's layer cache
# until a source file changes (docs/containers.md has the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/containers.sh
source scripts/lib/containers.sh

container_engine
tag=${1:-$(source_revision)}
targets=(intake routing notification cli)

for base in debian:12 debian:12-slim; do
  if image_present "$base"; then continue; fi
  echo "==> pulling $base"
  if ! timeout 300 "${engine[@]}" pull "docker.io/library/$base"; then
    echo "==> $base cannot be pulled; making it from the Debian archive"
    scripts/make-base-images.sh
    break
  fi
done

start=$SECONDS
for target in "${targets[@]}"; do
  echo "==> building switchboard-$target:$tag ($engine_name)"
  "${engine[@]}" build "${build_flags[@]}" -f docker/Dockerfile --target "$target" \
    --label "org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    -t "switchboard-$target:$tag" .
done
echo "==> built in $((SECONDS - start)) s"
for target in "${targets[@]}"; do
  printf '    switchboard-%s:%s  %d MB\n' "$target" "$tag" \
    $(($(image_bytes "switchboard-$target:$tag") / 1000000))
done
