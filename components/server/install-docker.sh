#!/bin/bash
# Installs Docker CE from a package mirror unless `docker` is on PATH, applies registry mirrors
# (/etc/docker/daemon.json, only a file pydeploy wrote), and leaves dockerd enabled and answering
# `docker info`. Idempotent; runs as root or via `sudo -n`. Run by cloud-init on a new server
# (with --log) and by the deploy's host step over SSH (`bash -s -- ARGS` with this file on stdin).
# Usage: install-docker.sh [--log FILE] DOCKER_CE_MIRROR_URL [REGISTRY_MIRROR_URL...]
#   DOCKER_CE_MIRROR_URL  a mirror with Alibaba's layout <url>/linux/{ubuntu,debian,centos}
#   --log FILE            also append everything to FILE (cloud-init: /var/log/pydeploy-cloud-init.log)
# PYDEPLOY_FS_ROOT (tests only) prefixes every path it reads or writes.
set -euo pipefail
pydeploy_root="${PYDEPLOY_FS_ROOT:-}"

pydeploy_usage() {
  echo "usage: install-docker.sh [--log FILE] DOCKER_CE_MIRROR_URL [REGISTRY_MIRROR_URL...]" >&2
  exit 2
}
# An http(s) URL without a trailing slash; no whitespace, quotes or backslashes (it lands in
# apt/yum repo lines and in JSON).
pydeploy_url() {
  local url="$1"
  while [[ "$url" == */ ]]; do url="${url%/}"; done
  if ! [[ "$url" =~ ^https?://[^[:space:]\'\"\\]+$ ]]; then
    echo "pydeploy: error: expected an http(s) URL, got '$1'" >&2
    exit 2
  fi
  printf '%s' "$url"
}

pydeploy_log_file=""
if [ "${1:-}" = --log ]; then
  [ "$#" -ge 2 ] || pydeploy_usage
  pydeploy_log_file="$2"
  shift 2
fi
[ "$#" -ge 1 ] || pydeploy_usage
pydeploy_mirror="$(pydeploy_url "$1")"
shift
# The daemon.json pydeploy writes for the registry mirrors (empty: leave daemon.json alone).
pydeploy_daemon_json=""
if [ "$#" -gt 0 ]; then
  pydeploy_daemon_json=$'{\n  "registry-mirrors": ['
  pydeploy_separator=$'\n'
  for pydeploy_registry_mirror in "$@"; do
    pydeploy_daemon_json+="$pydeploy_separator    \"$(pydeploy_url "$pydeploy_registry_mirror")\""
    pydeploy_separator=$',\n'
  done
  pydeploy_daemon_json+=$'\n  ]\n}\n'
fi

if [ -n "$pydeploy_log_file" ]; then
  exec > >(tee -a "$pydeploy_root$pydeploy_log_file") 2>&1
  echo "pydeploy: install-docker started at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
fi
pydeploy_on_exit() {
  local status=$?
  [ "$status" -eq 0 ] || echo "pydeploy: install-docker failed (exit $status)" >&2
}
trap pydeploy_on_exit EXIT

pydeploy_restart_docker=0

pydeploy_log() { echo "pydeploy: $*"; }
pydeploy_die() { echo "pydeploy: error: $*" >&2; exit 1; }
# 9>&-: a daemon started from here (package postinst, service, dockerd) must not inherit the lock.
pydeploy_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@" 9>&-
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" 9>&-
  else
    pydeploy_die "$(id -un) is not root and has no sudo: cannot run '$*'"
  fi
}
# $1: a variable of /etc/os-release (ID, VERSION_ID, VERSION_CODENAME); empty when unset.
pydeploy_os_field() {
  local file="$pydeploy_root/etc/os-release"
  [ -r "$file" ] || file="$pydeploy_root/usr/lib/os-release"
  [ -r "$file" ] || return 0
  # shellcheck source=/dev/null
  ( . "$file" && printf '%s' "${!1:-}" )
}
pydeploy_systemd() { [ -d "$pydeploy_root/run/systemd/system" ]; }
# A docker-group user needs no root; only otherwise ask for it. A running daemon this user may
# not use is not a reason to start another one.
pydeploy_docker_up() {
  local out
  out="$(docker info 2>&1)" && return 0
  if [[ "$out" == *"permission denied"* ]] && [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    pydeploy_die "user $(id -un) cannot use Docker: add it to the docker group or connect as root"
  fi
  (pydeploy_as_root docker info) >/dev/null 2>&1
}

pydeploy_install_apt() {
  local distro="$1" codename arch keyring=/etc/apt/keyrings/docker.asc
  codename="$(pydeploy_os_field VERSION_CODENAME)"
  [ -n "$codename" ] || codename="$(pydeploy_os_field UBUNTU_CODENAME)"
  [ -n "$codename" ] || pydeploy_die "cannot tell the $distro release codename from /etc/os-release"
  # A fresh image may still be running apt-daily/unattended-upgrades: wait for the dpkg lock.
  # env: sudo would drop an exported DEBIAN_FRONTEND.
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600)
  pydeploy_as_root "${apt[@]}" update
  pydeploy_as_root "${apt[@]}" install ca-certificates curl
  pydeploy_as_root install -m 0755 -d "$pydeploy_root/etc/apt/keyrings" "$pydeploy_root/etc/apt/sources.list.d"
  pydeploy_as_root curl -fsSL --retry 5 "$pydeploy_mirror/linux/$distro/gpg" -o "$pydeploy_root$keyring"
  pydeploy_as_root chmod a+r "$pydeploy_root$keyring"
  arch="$(dpkg --print-architecture)"
  echo "deb [arch=$arch signed-by=$keyring] $pydeploy_mirror/linux/$distro $codename stable" |
    pydeploy_as_root tee "$pydeploy_root/etc/apt/sources.list.d/docker.list" >/dev/null
  pydeploy_as_root "${apt[@]}" update
  pydeploy_as_root "${apt[@]}" install docker-ce docker-ce-cli containerd.io
}

# $1: the Enterprise Linux major version whose docker-ce/linux/centos/<n> repo fits this OS.
pydeploy_install_rpm() {
  local el="$1" pm=yum
  command -v dnf >/dev/null 2>&1 && pm=dnf
  pydeploy_as_root install -m 0755 -d "$pydeploy_root/etc/yum.repos.d"
  printf '%s\n' \
    '[docker-ce-stable]' \
    "name=Docker CE Stable - \$basearch" \
    "baseurl=$pydeploy_mirror/linux/centos/$el/\$basearch/stable" \
    'enabled=1' \
    'gpgcheck=1' \
    "gpgkey=$pydeploy_mirror/linux/centos/gpg" |
    pydeploy_as_root tee "$pydeploy_root/etc/yum.repos.d/docker-ce.repo" >/dev/null
  pydeploy_as_root "$pm" -y install docker-ce docker-ce-cli containerd.io
}

pydeploy_install_docker() {
  local id version major
  id="$(pydeploy_os_field ID)"
  version="$(pydeploy_os_field VERSION_ID)"
  major="${version%%.*}"
  case "$id" in
    ubuntu | debian) pydeploy_install_apt "$id" ;;
    centos | rhel | rocky | almalinux | anolis)
      case "$major" in
        7 | 8 | 9 | 10) pydeploy_install_rpm "$major" ;;
        *) pydeploy_die "unsupported $id version '$version' for Docker CE (need 7, 8, 9 or 10)" ;;
      esac ;;
    alinux) # Alibaba Cloud Linux 2 is EL7-compatible, 3 is EL8-compatible.
      case "$major" in
        2) pydeploy_install_rpm 7 ;;
        3) pydeploy_install_rpm 8 ;;
        *) pydeploy_die "unsupported Alibaba Cloud Linux version '$version' for Docker CE" ;;
      esac ;;
    *) pydeploy_die "unsupported OS '${id:-unknown}' (ID in /etc/os-release): cannot install Docker CE automatically; supported: ubuntu, debian, centos, rhel, rocky, almalinux, anolis, alinux. Install Docker yourself or choose a supported image (pydeploy:server.imageNameRegex / pydeploy:server.imageId)" ;;
  esac
}

# Writes daemon.json only when it is absent or still exactly what pydeploy last wrote
# (tracked by a checksum file, since daemon.json can't hold a marker: dockerd rejects unknown keys).
pydeploy_configure_daemon() {
  [ -n "$pydeploy_daemon_json" ] || return 0
  local file="$pydeploy_root/etc/docker/daemon.json" sum="$pydeploy_root/etc/docker/.pydeploy-daemon-json.sha256"
  if [ -e "$file" ]; then
    if [ "$(cat "$file")"$'\n' = "$pydeploy_daemon_json" ]; then
      return 0
    fi
    if ! [ -f "$sum" ] || [ "$(sha256sum <"$file" | cut -d' ' -f1)" != "$(cat "$sum")" ]; then
      echo "pydeploy: warning: $file exists and was not written by pydeploy; leaving it as is (registry mirrors not applied)" >&2
      return 0
    fi
  fi
  pydeploy_as_root install -m 0755 -d "$pydeploy_root/etc/docker"
  printf '%s' "$pydeploy_daemon_json" | pydeploy_as_root tee "$file" >/dev/null
  printf '%s' "$pydeploy_daemon_json" | sha256sum | cut -d' ' -f1 | pydeploy_as_root tee "$sum" >/dev/null
  pydeploy_log "wrote $file"
  pydeploy_restart_docker=1
}

pydeploy_start_docker() {
  if pydeploy_systemd; then
    pydeploy_as_root systemctl is-enabled --quiet docker 2>/dev/null || pydeploy_as_root systemctl enable docker
    if [ "$pydeploy_restart_docker" = 1 ] && pydeploy_docker_up; then
      pydeploy_as_root systemctl restart docker
    elif ! pydeploy_docker_up; then
      pydeploy_as_root systemctl start docker
    fi
  elif [ "$pydeploy_restart_docker" = 1 ] && pydeploy_docker_up; then
    pydeploy_as_root service docker restart ||
      echo "pydeploy: warning: restart dockerd yourself to apply the registry mirrors" >&2
  elif ! pydeploy_docker_up; then
    if ! { command -v service >/dev/null 2>&1 && pydeploy_as_root service docker start; }; then
      pydeploy_log "no init system manages docker here; starting dockerd in the background"
      # shellcheck disable=SC2016 # $1 is expanded by the inner sh, which runs as root
      pydeploy_as_root sh -c 'nohup dockerd >"$1" 2>&1 &' sh "$pydeploy_root/var/log/pydeploy-dockerd.log"
    fi
  fi
  local waited=0
  until pydeploy_docker_up; do
    [ "$waited" -lt 60 ] || pydeploy_die "dockerd did not answer 'docker info' within 60 s"
    sleep 1
    waited=$((waited + 1))
  done
}

# Serialises the cloud-init run and an SSH deploy that races it on a fresh server. Opened
# read-only so root and a sudo-capable deploy user can share the file in sticky /tmp.
pydeploy_lock="$pydeploy_root/tmp/pydeploy-docker-install.lock"
if command -v flock >/dev/null 2>&1 && { [ -e "$pydeploy_lock" ] || : >>"$pydeploy_lock"; } 2>/dev/null && [ -r "$pydeploy_lock" ]; then
  exec 9<"$pydeploy_lock"
  flock -w 900 9 || pydeploy_die "another Docker install still holds $pydeploy_lock after 15 minutes"
fi

if command -v docker >/dev/null 2>&1; then
  pydeploy_log "docker is already installed ($(docker --version 2>/dev/null || echo 'version unknown'))"
else
  pydeploy_log "installing Docker CE from $pydeploy_mirror"
  pydeploy_install_docker
  command -v docker >/dev/null 2>&1 || pydeploy_die "docker is still not on PATH after installing Docker CE"
fi
pydeploy_configure_daemon
pydeploy_start_docker
pydeploy_log "docker is running"
[ -z "$pydeploy_log_file" ] || echo "pydeploy: install-docker finished at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
