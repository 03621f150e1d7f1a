#!/bin/sh
# Installs the containerd-store server's packages: sshd and tools from the base release, and
# Docker (docker.io, docker-cli, containerd) from trixie, whose dockerd can use the containerd
# image store. Everything else stays on the base release (APT::Default-Release).
# Usage: install-packages.sh <base-release> <docker-release>   e.g. bookworm trixie
set -eu
[ "$#" -eq 2 ] || { echo "usage: $0 <base-release> <docker-release>" >&2; exit 2; }
base_release=$1
docker_release=$2

# The same mirror the base image already uses.
mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)
[ -n "$mirror" ] || { echo "no 'deb' line in /etc/apt/sources.list to take the mirror from" >&2; exit 1; }
printf 'deb %s %s main\n' "$mirror" "$docker_release" > "/etc/apt/sources.list.d/$docker_release.list"
printf 'APT::Default-Release "%s";\n' "$base_release" > /etc/apt/apt.conf.d/90default-release

# Package scripts must not try to start services while building.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  openssh-server procps ca-certificates docker-registry apache2-utils
apt-get install -y --no-install-recommends -t "$docker_release" docker.io docker-cli iptables
rm -rf /var/lib/apt/lists/*
# No curl on purpose, as on the classic server: health gates must work without it.
rm -f /usr/bin/curl
