# shellcheck shell=bash
# The container engine, for scripts/build-images.sh and scripts/test-images.sh.
# Source it, then call `container_engine`; it sets:
#
#   engine        the command, as an array: (docker) or (podman --runtime runc ...)
#   engine_name   docker or podman
#   build_flags   flags for `build` (an array)
#   run_flags     flags for `run` (an array)
#   podman_ulimits  for podman, the same limits as containers.conf's
#                 default_ulimits (`kube play` takes no --ulimit)
#
# Which engine: $SWITCHBOARD_CONTAINER_ENGINE if set (docker or podman), else
# docker when its daemon answers, else podman, installed from Debian (with
# runc) when neither is there. A docker client with no daemon behind it does
# not count.
#
# Podman is run with runc and the cgroupfs cgroup manager: Debian 12's
# default runtime, crun, fails on hosts with a hybrid cgroup layout, and the
# systemd manager needs a systemd session that CI machines lack. Podman as
# root asks for resource limits far above a sandboxed host's (1,048,576 open
# files, 4,194,304 processes) and fails to start a container where it may not
# raise them, so builds and runs get explicit limits within the host's: its
# open-file limit, and at most 32,768 processes (conmon's own limit).

container_engine() {
  local wanted=${SWITCHBOARD_CONTAINER_ENGINE:-}
  if [[ -z "$wanted" ]]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      wanted=docker
    else
      wanted=podman
    fi
  fi
  case "$wanted" in
    docker)
      engine=(docker)
      build_flags=()
      run_flags=()
      ;;
    podman)
      if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
        install_packages podman runc
      fi
      engine=(podman --runtime runc --cgroup-manager cgroupfs)
      local files processes
      files=$(ulimit -Hn)
      processes=$(ulimit -Hu)
      [[ "$files" == unlimited || "$files" -gt 65536 ]] && files=65536
      [[ "$processes" == unlimited || "$processes" -gt 32768 ]] && processes=32768
      build_flags=(--ulimit "nofile=$files:$files")
      run_flags=(--ulimit "nofile=$files:$files" --ulimit "nproc=$processes:$processes")
      podman_ulimits="\"nofile=$files:$files\", \"nproc=$processes:$processes\""
      ;;
    *)
      echo "SWITCHBOARD_CONTAINER_ENGINE must be docker or podman, not '$wanted'" >&2
      return 1
      ;;
  esac
  engine_name=$wanted
}

# Installs Debian packages that are missing (as root, or with sudo).
install_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]} from Debian" >&2
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then sudo=sudo; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# Whether the engine has `image` locally.
image_present() {
  "${engine[@]}" image inspect "$1" >/dev/null 2>&1
}

# The image's size in bytes, as the engine reports it (uncompressed).
image_bytes() {
  "${engine[@]}" image inspect --format '{{.Size}}' "$1"
}

# The repository's revision, for image tags: the short commit, with
# "-dirty" when the working tree has uncommitted changes.
source_revision() {
  local revision
  revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  if [[ "$revision" != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
    revision+=-dirty
  fi
  echo "$revision"
}
