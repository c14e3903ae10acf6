#!/usr/bin/env bash
# Makes the base images docker/Dockerfile starts from, debian:12 and
# debian:12-slim, from the Debian archive with debootstrap, and imports them
# into the container engine: the way to build Switchboard's images where
# the public image registry cannot be reached (an air-gapped network with a
# Debian mirror). scripts/build-images.sh calls it when it cannot pull them.
#
#   scripts/make-base-images.sh
#
# Environment:
#   SWITCHBOARD_DEBIAN_MIRROR   the archive (default http://deb.debian.org/debian);
#                               security updates come from the same host's
#                               debian-security unless
#   SWITCHBOARD_DEBIAN_SECURITY says otherwise.
#   SWITCHBOARD_CONTAINER_ENGINE docker or podman (scripts/lib/containers.sh).
#
# Needs root (debootstrap makes device files and sets owners) and about
# 300 MB in $TMPDIR; takes about a minute. Both images are made from one
# minimal bootstrap (`--variant=minbase`, as Debian's official images are);
# the slim one also leaves out documentation, manual pages and translations
# and tells dpkg not to install them, as debian:12-slim does.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/containers.sh
source scripts/lib/containers.sh

if [[ "$(id -u)" -ne 0 ]]; then
  echo "make-base-images: run as root (debootstrap needs it)" >&2
  exit 1
fi
mirror=${SWITCHBOARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mirror=${mirror%/}
security=${SWITCHBOARD_DEBIAN_SECURITY:-${mirror%/debian}/debian-security}
container_engine
install_packages debootstrap

work=$(mktemp -d)
# debootstrap mounts /proc and /sys (and may bind /dev) inside the tree: if
# it dies half-way, unmount them before deleting, and never cross into them.
cleanup() {
  if [[ -d "$work/root" ]]; then
    findmnt -rn -o TARGET | grep "^$work/root/" | sort -r | xargs -r umount -l 2>/dev/null || true
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
root="$work/root"
echo "==> debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

# The archive the images install from: the release, its updates, and
# security fixes, as in the official image.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# No package cache or lists in an image: every RUN that installs fetches them.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* \
  "$root"/tmp/* "$root/etc/hostname" "$root/etc/resolv.conf"
: >"$root/etc/machine-id"

import() {
  local tag=$1
  tar --numeric-owner --xattrs -C "$root" -c . |
    "${engine[@]}" import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      - "$tag" >/dev/null
  echo "    $tag: $(($(image_bytes "$tag") / 1000000)) MB"
}
echo "==> importing"
import debian:12

# Slim: what dpkg should never unpack, and the same removed from what it did.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{groff,info,linda,lintian,locale,man}/*
import debian:12-slim
